"""Review s35 (reader2): the postmortem report as an SRE reads it — counts said in the number they take ("1 trace",
not "1 traces") wherever the report, the findings and the command line write one; a baseline's count said once;
the headline table's population naming a baseline only when the table has its row.

Every frame is built here (a one-route shop, one request a minute), its truth known by construction; each test
failed on the code before its fix.
"""

from __future__ import annotations

import dataclasses
import re
import warnings

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.reporting import _baseline_words, _headline_population, collect_report, render_markdown, render_report

MS = 1_000_000
T0 = pd.Timestamp("2026-03-02T14:00:00Z").value


def _shop(n: int, offset_s: int) -> pd.DataFrame:
    """``n`` requests one minute apart from 14:00 UTC + ``offset_s``: gw ``GET /a`` (20–22 ms) calling ``SELECT x``
    (14 ms) as a client span; request ``i``'s trace id is its start second in hex, so two shops never share one."""
    rows = []
    for i in range(n):
        tid = f"{T0 // 10**9 + offset_s + 60 * i:032x}"
        s = T0 + (offset_s + 60 * i) * 10**9
        rows.append((tid, "a" * 15 + "1", None, "gw", "GET /a", "server", s, s + (20 + i % 3) * MS))
        rows.append((tid, "b" * 15 + "2", "a" * 15 + "1", "gw", "SELECT x", "client", s + MS, s + (15 + i % 3) * MS))
    c = list(zip(*rows, strict=True))
    return tk.spans_from_columns({"trace_id": c[0], "span_id": c[1], "parent_id": c[2], "service": c[3],
                                  "name": c[4], "kind": c[5], "start": np.array(c[6]), "end": np.array(c[7])})


INCIDENT = 20  # requests of the incident, 15:00–15:19 UTC


@pytest.fixture(scope="module")
def one_trace_baseline():
    """The incident (20 traces) against a baseline given of exactly one trace (14:00 UTC)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = collect_report(_shop(INCIDENT, 3600), baseline=_shop(1, 0))
    return data, render_report(data), render_markdown(data)


@pytest.fixture(scope="module")
def no_baseline():
    """The same incident, no baseline given (and no change in it: one steady route)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return collect_report(_shop(INCIDENT, 3600))


def _text(html: str) -> str:
    """The page's words: tags, scripts and styles out."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_one_trace_baseline_is_said_as_one_trace_everywhere(one_trace_baseline):
    """The header said "the baseline given (1 traces, …)", "What changed" "against the baseline given (1 traces)" and
    "How sure" "the baseline's 1 traces are too few": three hand-made plurals beside core.words.plural."""
    data, html, md = one_trace_baseline
    assert data.story.baseline["trace_id"].nunique() == 1  # the precondition, by construction
    assert _baseline_words(data).startswith("the baseline given (1 trace, ")
    text = _text(html)
    assert f"The incident ({INCIDENT} traces) against the baseline given (1 trace), by operation" in text
    assert "the baseline's 1 trace is too few for the chance check" in md
    for words in (text, md):
        assert not re.search(r"(?<![\d,.])1 (traces|spans|records|points|requests)\b", words), \
            re.search(r".{80}(?<![\d,.])1 (traces|spans|records|points|requests)\b.{40}", words)


def test_a_baseline_whose_words_say_its_count_gets_no_second_count(one_trace_baseline):
    """"What changed" added the baseline's count unless its words held the text "traces)": a normal period found
    with another change left out of it ends "… (/checkout p95_ms))", so it read "(…, 300 traces; left out: …)
    (300 traces)". Only the baseline given, whose words hold no count, gets one."""
    data, _, _ = one_trace_baseline
    source = ("the normal period before the change (14:00–14:27 UTC, 300 traces; left out: 14:10–14:15 UTC, 30 traces "
              "of another change (/a p95_ms))")
    story = dataclasses.replace(data.story, baseline_source=source)
    html = render_report(dataclasses.replace(data, story=story,
                                             counts={**data.counts, "baseline_traces": 300}))
    para = _text(html.split('id="what-changed"', 1)[1].split("</p>", 1)[0])
    assert para.count("300 traces") == 1, para[:400]
    assert f"against {source}, by operation" in para


def test_the_headline_population_names_a_baseline_only_with_its_row(no_baseline, one_trace_baseline):
    """Without a baseline the headline table has one row, and its sentence said "and of the baseline (none (no
    baseline given and no change over time found)), not only the incident window" — a baseline it does not count,
    and an incident window there is not (the whole input is the incident)."""
    assert no_baseline.headline["estimate"].tolist() == ["as sampled"]
    said = _headline_population(no_baseline)
    assert "baseline" not in said and "incident window" not in said
    assert said.startswith("Over every trace of the input (") and said.endswith(f", {INCIDENT} traces).")
    data, _, md = one_trace_baseline  # with its row: named, as before
    assert "baseline, as sampled" in data.headline["estimate"].tolist()
    assert "and of the baseline (the baseline given)" in _headline_population(data)
    assert _headline_population(data) in md.replace("\\", "")
