"""Session 44, signals: defects found in log evidence, each pinned by construction."""

from __future__ import annotations

import numpy as np
import pytest

import tracekit as tk
from tracekit.analysis.log_evidence import log_evidence

from .test_log_evidence_rules import _chain, _logs, _rec


def _tickets(k: int) -> str:
    """A statement that logs a list: TrainTicket's 'Left ticket info' logs every sold ticket (Nezha 2023-01-29)."""
    return "got sold tickets: [" + ", ".join(f"Ticket(seatNo={i}, startStation=s{i}, destStation=d{i + 5})"
                                             for i in range(k)) + "]"


@pytest.mark.parametrize(("k_base", "k_inc"), [(2, 3), (1, 4), (3, 1)])
def test_a_statement_logging_a_longer_list_is_the_same_statement(k_base, k_inc):
    """api's work span logs the tickets sold so far on every request: k_base tickets in 30 of 40 baseline requests
    (k_inc in the other 10), the mix reversed in the incident. Each list length masked to another template (one
    'Ticket(seatNo=<*>, …)' per item), so the longer list read as a new statement in 30 of 40 spans against 10 of
    40 (log_templates 0.28, and rank_causes named api from its logs while nothing in its spans moved). The list's
    length is a value the statement logs, as a station name is (test_a_statement_that_logs_another_value_is_the_same
    _statement): its share (40 of 40 on both sides) did not move, so no evidence. A new statement in the same spans
    still counts (control)."""
    inc, base = _chain(40, 0), _chain(40, 1000)
    parts = [_rec(base, 2, _tickets(k_base), rows=slice(0, 30)), _rec(base, 2, _tickets(k_inc), rows=slice(30, 40)),
             _rec(inc, 2, _tickets(k_base), rows=slice(0, 10)), _rec(inc, 2, _tickets(k_inc), rows=slice(10, 40))]
    ev = log_evidence(inc, base, _logs(*parts))
    assert ev.templates["template"].nunique() == 2  # two templates (the masking keeps a list's items)...
    assert (ev.templates["evidence"] == 0).all()  # ...of one statement whose share did not move
    assert (ev.table["log_templates"] == 0).all()
    rc = tk.rank_causes(inc, base, logs=_logs(*parts), window=None)
    assert (rc["score"] == 0).all(), rc[["service", "score", "hypothesis"]]
    # control: a new statement in the same spans is evidence
    new = _rec(inc, 2, "no seats left for the trip", rows=slice(0, 30))
    ev = log_evidence(inc, base, _logs(*parts, new))
    assert ev.templates.set_index("template").loc["no seats left for the trip", "evidence"] > 0.2


def test_two_lists_logged_by_one_span_are_two_statements():
    """Control: a span that logs both a one-ticket and a three-ticket list (two calls) emits two statements; the
    three-ticket line vanishing from 30 of 40 incident spans is still evidence (the span-emits-two rule)."""
    inc, base = _chain(40, 0), _chain(40, 1000)
    logs = _logs(*(_rec(s, 2, _tickets(1)) for s in (inc, base)), _rec(base, 2, _tickets(3)),
                 _rec(inc, 2, _tickets(3), rows=slice(0, 10)))
    e = log_evidence(inc, base, logs).templates
    assert e["evidence"].min() < -0.4 and np.isclose(e["evidence"].max(), 0)
