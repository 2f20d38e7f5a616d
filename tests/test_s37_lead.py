"""Session 37, the lead's own fixes: card numbers are not read inside UUIDs (PII)."""

from __future__ import annotations

import pandas as pd
import pytest

import tracekit as tk

from .nezha import bench

#: a UUID whose digits hold a Luhn-valid run with a card prefix ("24-84406405948", 13 digits): Nezha's order id
_ORDER = "7e5a01bd-f3c7-42d2-8b24-84406405948e"


def _logs(*bodies: str) -> pd.DataFrame:
    return tk.logs_from_columns({"time": pd.array(range(len(bodies)), dtype="Int64"), "body": list(bodies)})


def test_a_uuid_is_no_card_number_but_a_card_beside_it_is():
    found = tk.find_pii(_logs(f"[Order Create Success][OrderId:{_ORDER},Price: 350.0]",
                              f"orderId={_ORDER.upper()} paid with 4111 1111 1111 1111",
                              "card 4111-1111-1111-1111 ok", "x4111111111111111y"))
    cards = found[found["kind"] == "card"]
    assert len(cards) == 3  # the three written cards; nothing in either UUID


def test_a_uuid_is_redacted_whole_or_not_at_all():
    text = f"OrderId:{_ORDER}"
    assert tk.redact_text(text, patterns=["card"]) == text
    assert tk.redact_text(f"{text} card 4111111111111111", patterns=["card"], method="mask") == f"{text} card ****"


def test_nezha_trainticket_order_ids_are_no_cards(real_traces):
    path = real_traces / "nezha" / "fault-days" / "rca_data" / "2023-01-29" / "log" / "09_03_log.csv.gz"
    if not path.exists():
        pytest.skip(f"Nezha TrainTicket log minute {path} not found (see SOURCES.md)")
    logs = bench().read_nezha_logs([path])
    assert logs["body"].str.contains(_ORDER, regex=False).sum() >= 4  # the texts that read as cards before
    found = tk.find_pii(logs)
    assert (found["kind"] == "card").sum() == 0
