"""Session 44, report3: the HTML postmortem report's words and counts, against truths built by construction."""
from __future__ import annotations

import html as _html
import json
import re

import pandas as pd

import tracekit as tk
from tracekit.reporting import collect_report, render_markdown, render_report

MS = 1_000_000


def _text(page: str) -> str:
    """The page's words without its scripts, styles, tags, <wbr> break points and entities."""
    page = re.sub(r"<script.*?</script>", "", page, flags=re.S)
    page = re.sub(r"<style.*?</style>", "", page, flags=re.S)
    page = page.replace("<wbr>", "")
    return re.sub(r"\s+", " ", _html.unescape(re.sub(r"<[^>]+>", " ", page)))


def _reexported(spans: pd.DataFrame, k: int) -> pd.DataFrame:
    """``spans`` with its first ``k`` rows read a second time (an exporter's retry: the same span ids twice)."""
    return pd.concat([spans, spans.iloc[:k]], ignore_index=True)


def test_report_header_counts_spans_not_rows():
    """checkout-small with 25 of its spans exported twice: the header said "N+25 spans" (rows); a span read twice is
    one span, as the kernel's span tree and ``tracekit query`` count it."""
    small = tk.examples.load("checkout-small")
    n_spans = int(small[["trace_id", "span_id"]].drop_duplicates().shape[0])
    assert n_spans == len(small)  # the example holds each span once
    data = collect_report(_reexported(small, 25), worst=0)
    head = _text(re.search(r'<p class="muted">.*?</p>', render_report(data), flags=re.S).group(0)).strip()
    md_head = next(line for line in render_markdown(data).splitlines() if " spans, " in line)
    assert head.startswith(f"40 traces, {n_spans:,} spans, ") and md_head.count(f"{n_spans:,} spans") == 1


def test_report_header_counts_spans_control():
    """Control: without re-exported spans the header's count is the number of rows, which is the number of spans."""
    small = tk.examples.load("checkout-small")
    head = _text(re.search(r'<p class="muted">.*?</p>', render_report(collect_report(small, worst=0)), flags=re.S).group(0)).strip()
    assert head.startswith(f"40 traces, {len(small):,} spans, ")


def test_big_example_trace_title_counts_spans_not_rows():
    """A 1,600-span trace (drawn on canvas above reporting.CANVAS_ABOVE) with 200 of its spans exported twice: its
    title said "1,800 spans"; it holds 1,600."""
    from tracekit.reporting import CANVAS_ABOVE

    n = 1600
    big = tk.spans_from_columns({
        "trace_id": ["b" * 32] * n, "span_id": [f"{i + 1:016x}" for i in range(n)],
        "parent_id": [None] + [f"{1:016x}"] * (n - 1), "service": ["api"] + ["db"] * (n - 1),
        "name": ["GET /"] + ["q"] * (n - 1), "kind": ["server"] + ["client"] * (n - 1),
        "start": [0] + [i * MS for i in range(n - 1)], "end": [n * MS + MS] + [i * MS + MS for i in range(n - 1)]})
    assert n > CANVAS_ABOVE
    page = render_report(collect_report(_reexported(big, 200), worst=1))
    titles = re.findall(r"trace b{32} · ([\d,]+) spans", _html.unescape(page))
    assert titles and set(titles) == {"1,600"}


def test_a_long_dict_cell_says_it_was_cut():
    """A dict cell longer than 300 characters was cut at 300 with no mark: a reader took the shortened attributes for
    all of them. The cell now ends saying how many characters were cut, and the kept part plus the cut ones is the
    whole."""
    from tracekit.reporting import _html_table

    value = {f"key{i:02d}": "v" * 20 for i in range(20)}
    whole = json.dumps(value)
    assert len(whole) > 300
    cell = _text(_html_table(pd.DataFrame({"attributes": [value]})))
    m = re.search(r"… \(\+([\d,]+) characters\)", cell)
    assert m, cell
    kept = cell[cell.index("{"):m.start()]
    assert whole.startswith(kept) and len(kept) + int(m.group(1).replace(",", "")) == len(whole)


def test_a_short_dict_cell_is_whole_control():
    """Control: a dict cell of fewer than 300 characters is shown whole, with no cut mark."""
    from tracekit.reporting import _html_table

    value = {"http.method": "GET", "http.status_code": 200}
    cell = _text(_html_table(pd.DataFrame({"attributes": [value]})))
    assert json.dumps(value) in cell and "characters)" not in cell


def _all_failed(kind: str = "network_delay", seed: int = 1):
    """A fault-lab window whose incident spans all failed (every span's status ``error``): every leaf of every request
    is where an error originates, in every service the requests reach: no one component is the cause."""
    w = tk.simulate_faults.fault_window(kind, seed=seed)
    inc = w.incident.copy()
    inc["status"] = "error"
    return inc, w.baseline


def test_errors_everywhere_name_no_single_likely_cause():
    """Every incident span failed: the where finding said "Likely cause (ranked first of 262 by rank_causes):
    train-service: GET /api/v1/train/validate — errors originate in it", one of a dozen services scoring 0.94-0.98
    alike. It now says first that no single operation stands out, how many score alike and in how many services,
    and the report does not call the top a likely cause."""
    inc, base = _all_failed()
    pm = tk.postmortem(inc, base)
    where = next(f for f in pm.findings if f.topic == "where")
    assert not where.text.startswith("Likely cause"), where.text[:200]
    m = re.match(r"No single operation stands out: (\d+) of the (\d+) ranked, in (\d+) services,", where.text)
    assert m, where.text[:300]
    # ground truth: the services whose operations fail in the incident and hold leaf spans (error origins), at least 3
    leaf = ~inc["span_id"].isin(inc["parent_id"])
    assert 3 <= int(m.group(3)) <= inc.loc[leaf, "service"].nunique()
    assert where.evidence["likely"] is False
    page = _text(render_report(collect_report(inc, baseline=base, worst=0)))
    assert "Likely cause (" not in page and "No single operation stands out" in page


def test_one_injected_cause_is_still_likely_control():
    """Control: network_delay on one pod (fault lab seed 3) is still called the likely cause, naming its service."""
    w = tk.simulate_faults.fault_window("network_delay", seed=3)
    where = next(f for f in tk.postmortem(w.incident, w.baseline).findings if f.topic == "where")
    assert where.text.startswith("Likely cause (ranked first of ") and f"): {w.truth.service}: " in where.text
