"""Session 42's trace-health review: health_report's checks and words, clock skew (detect / adjust), the
dropped-context kernel, reconnect and the X-Ray coverage audit, each defect pinned on a small frame whose truth is
known by construction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tracekit as tk

MS = 1_000_000


def _t(i: int) -> str:
    return f"{i:032x}"


def _s(i: int) -> str:
    return f"{i:016x}"


def _frame(rows: list[tuple], **extra) -> pd.DataFrame:
    """(trace, span, parent, service, name, kind, start ns, end ns[, resource]) → a spans frame."""
    cols = ["trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end"]
    data = {c: [r[i] for r in rows] for i, c in enumerate(cols)}
    data["trace_id"] = [_t(x) for x in data["trace_id"]]
    data["span_id"] = [_s(x) for x in data["span_id"]]
    data["parent_id"] = [None if x is None else _s(x) for x in data["parent_id"]]
    if any(len(r) > 8 for r in rows):
        data["resource"] = [r[8] if len(r) > 8 else {} for r in rows]
    data.update(extra)
    return tk.spans_from_columns(data)


# ------------------------------------------------------------------------------------------ clock skew


@pytest.fixture(scope="module")
def hostless_db_ahead() -> pd.DataFrame:
    """40 web → db calls; db answers on host d1 (odd traces, clock right) or on spans naming no host (even traces,
    clock 5 s ahead)."""
    rows = []
    for t in range(1, 41):
        b, t0 = t * 10, t * 10_000 * MS
        d1 = t % 2 == 1
        ahead = 0 if d1 else 5_000 * MS
        rows += [(t, b + 1, None, "web", "GET /", "server", t0, t0 + 100 * MS, {"host.name": "w1"}),
                 (t, b + 2, b + 1, "web", "call db", "client", t0 + 10 * MS, t0 + 90 * MS, {"host.name": "w1"}),
                 (t, b + 3, b + 2, "db", "query", "server", t0 + 20 * MS + ahead, t0 + 80 * MS + ahead,
                  {"host.name": "d1"} if d1 else {})]
    return _frame(rows)


def test_adjust_clock_skew_hostless_row_leaves_the_services_hosts_alone(hostless_db_ahead):
    spans = hostless_db_ahead
    skew = tk.detect_clock_skew(spans)
    est = {(r.service, None if pd.isna(r.host) else r.host): (r.estimate_ms, r.skewed) for r in skew.itertuples()}
    assert est[("db", None)] == (5000.0, True) and est[("db", "d1")] == (0.0, False)
    fixed = tk.adjust_clock_skew(spans, skew)
    host = spans["resource"].map(lambda r: r.get("host.name")).to_numpy(dtype=object)
    shift = fixed["clock_shift_ms"].to_numpy()
    # the 20 hostless db spans move back 5 s; d1's 20 (estimated 0) and web's 80 stay (d1's moved -5 s too)
    assert (shift[(spans["service"] == "db").to_numpy() & (host == None)] == -5000.0).all()  # noqa: E711
    assert (shift[host == "d1"] == 0.0).all() and (shift[host == "w1"] == 0.0).all()
    assert fixed.attrs["clock_shifts"] == [{"service": "db", "host": None, "shift_ms": -5000.0, "n_spans": 20}]
    # the same from the skewed rows alone (a table filtered by hand keeps whose clocks its rows are)
    again = tk.adjust_clock_skew(spans, skew[skew["skewed"]])
    assert (again["clock_shift_ms"].to_numpy() == shift).all()
    # clocks by service: the one db row is every db span's
    by_svc = tk.detect_clock_skew(spans, by="service")
    moved = tk.adjust_clock_skew(spans, by_svc, only_skewed=False)["clock_shift_ms"].to_numpy()
    db_est = float(by_svc.loc[by_svc["service"] == "db", "estimate_ms"].iloc[0])
    assert np.allclose(moved[(spans["service"] == "db").to_numpy()], -db_est)


def test_skew_on_a_frame_with_a_missing_kind_or_service():
    # web's client 10-90 ms, db's server 5 s ahead (5,020-5,080 ms), 12 traces; a frame edited by hand
    rows = []
    for t in range(1, 13):
        t0 = t * 10_000 * MS
        rows += [(t, t * 10 + 1, None, "web", "GET /", "server", t0, t0 + 100 * MS),
                 (t, t * 10 + 2, t * 10 + 1, "web", "call", "client", t0 + 10 * MS, t0 + 90 * MS),
                 (t, t * 10 + 3, t * 10 + 2, "db", "q", "server", t0 + 5_020 * MS, t0 + 5_080 * MS),
                 (t, t * 10 + 4, t * 10 + 3, "db", "read", "internal", t0 + 5_030 * MS, t0 + 5_070 * MS)]
    spans = _frame(rows)
    base = tk.detect_clock_skew(spans)
    assert base[["service", "estimate_ms", "skewed"]].values.tolist() == [["db", 5000.0, True], ["web", 0.0, False]]
    # a missing kind (the root's): a bare TypeError "boolean value of NA is ambiguous" before; the pairs are the same
    no_kind = spans.copy()
    no_kind["kind"] = no_kind["kind"].mask(no_kind["name"] == "GET /")
    pd.testing.assert_frame_equal(tk.detect_clock_skew(no_kind), base)
    assert tk.adjust_clock_skew(no_kind)["clock_shift_ms"].tolist() == [0.0, 0.0, -5000.0, -5000.0] * 12
    # a missing service: its clock is unknown_service (its NA code named it after the last service, "web")
    no_svc = spans.copy()
    no_svc["service"] = no_svc["service"].mask(no_svc["service"] == "db")
    got = tk.detect_clock_skew(no_svc)
    assert got[["service", "estimate_ms"]].values.tolist() == [["unknown_service", 5000.0], ["web", 0.0]]
    assert tk.adjust_clock_skew(no_svc, got)["clock_shift_ms"].tolist() == [0.0, 0.0, -5000.0, -5000.0] * 12


# ------------------------------------------------------------------------------------------ coverage audit


def test_coverage_audit_answered_call_is_no_uninstrumented_hop():
    from tracekit.aws import xray_coverage_audit

    # checkout's client span "GET /stock" is answered by inventory's server span: no hop is uninstrumented;
    # its "legacy" call is answered by nothing
    spans = _frame([(1, 1, None, "checkout", "POST /checkout", "server", 0, 9 * MS),
                    (1, 2, 1, "checkout", "GET /stock", "client", 1 * MS, 5 * MS),
                    (1, 3, 2, "inventory", "GET /stock", "server", 2 * MS, 4 * MS),
                    (1, 4, 1, "checkout", "legacy-pricing", "client", 5 * MS, 8 * MS)],
                   attributes=[{}, {"peer.service": "inventory"}, {}, {}])
    audit = xray_coverage_audit(spans=spans, checks=())
    hops = audit.loc[audit["finding"].str.contains("uninstrumented hop"), "service"].tolist()
    assert hops == ["legacy-pricing"]  # was ["GET /stock", "legacy-pricing"]
    assert set(audit["service"]) == {"checkout", "inventory", "legacy-pricing"}
    # a frame without the inferred column: no KeyError
    no_inferred = xray_coverage_audit(spans=spans.drop(columns=["inferred"]), checks=())
    assert no_inferred["service"].tolist() == audit["service"].tolist()


# ------------------------------------------------------------------------------------------ report


@pytest.fixture(scope="module")
def orphans_3_of_40() -> pd.DataFrame:
    """40 traces web → db; in traces 1-3 the db span names a parent that is not there (an orphan)."""
    rows = []
    for t in range(1, 41):
        b, t0 = t * 10, t * 1_000 * MS
        rows += [(t, b + 1, None, "web", "GET /", "server", t0, t0 + 100 * MS),
                 (t, b + 2, b + 1, "web", "call db", "client", t0 + 10 * MS, t0 + 90 * MS),
                 (t, b + 3, b + 2 if t > 3 else b + 9, "db", "query", "server", t0 + 20 * MS, t0 + 80 * MS)]
    return _frame(rows)


def test_report_health_findings_say_their_population(orphans_3_of_40):
    import re

    from tracekit.reporting import collect_report, render_report

    h = tk.health_report(orphans_3_of_40)
    orphan = h[h["check"] == "orphan_spans"].iloc[0]
    assert (orphan["traces_affected"], orphan["spans_affected"], orphan["share"]) == (3, 3, 3 / 40)
    page = render_report(collect_report(orphans_3_of_40))
    section = page[page.index('<section id="health">'):]
    table = section[section.index('id="health-table"'):section.index("</table>")]
    cells = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", table)]
    # the finding's share with its population: "3 of 40 traces (7.5 %)", not "3" beside "7.5 %"
    assert "3 of 40 traces (7.5&nbsp;%)" in cells
    assert "7.5&nbsp;%" not in cells and "7.5 %" not in cells


# ------------------------------------------------------------------------------------------ dropped context


def test_dropped_context_counts_the_callees_roots_during_the_calls_not_its_own_requests():
    # 5 gateway calls to frontend lose the context: frontend's answers start traces 101-105 during the calls;
    # frontend also serves 100 requests of its own (traces 200-299) at other times
    rows, attrs = [], []
    for t in range(1, 6):
        t0 = t * 1_000 * MS
        rows += [(t, t * 10 + 1, None, "gateway", "GET /", "server", t0, t0 + 100 * MS),
                 (t, t * 10 + 2, t * 10 + 1, "gateway", "GET /", "client", t0 + 10 * MS, t0 + 90 * MS),
                 (100 + t, t * 10 + 3, None, "frontend", "GET /", "server", t0 + 20 * MS, t0 + 80 * MS)]
        attrs += [{}, {"peer.service": "frontend"}, {}]
    for t in range(200, 300):
        rows.append((t, t * 10 + 1, None, "frontend", "GET /home", "server", t * 1_000 * MS, t * 1_000 * MS + 50 * MS))
        attrs.append({})
    spans = _frame(rows, attributes=attrs)
    row = tk.health_report(spans, checks=["dropped_context"]).iloc[0]
    assert (row["subject"], row["spans_affected"], row["traces_affected"]) == ("gateway → frontend", 5, 5)
    text = row["explanation"]
    assert "5 frontend root spans start traces of their own during these calls" in text  # was "105 … of their own"
    assert "105" not in text and "100 more frontend root spans start traces at other times" in text
    assert len(tk.reconnect(spans).query("case == 'dropped_context'")) == 5  # the pairs: the same 5


# ------------------------------------------------------------------------------------------ child outside parent


def test_child_outside_parent_leaves_out_the_later_copy_of_a_trace_exported_twice():
    # 10 traces web → web client → db; traces 1 and 2 were exported twice, the second copy 30 min later: every span
    # id of theirs twice. No clock disagrees (detect_clock_skew: no violation), and no child leaves its parent
    rows = []
    for t in range(1, 11):
        t0 = t * 1_000 * MS
        for shift in ((0, 1_800_000 * MS) if t <= 2 else (0,)):
            rows += [(t, 1, None, "web", "GET /", "server", t0 + shift, t0 + 100 * MS + shift),
                     (t, 2, 1, "web", "call", "client", t0 + 10 * MS + shift, t0 + 90 * MS + shift),
                     (t, 3, 2, "db", "q", "server", t0 + 20 * MS + shift, t0 + 80 * MS + shift)]
    spans = _frame(rows)
    h = tk.health_report(spans)
    dup = h[h["check"] == "duplicate_span_ids"].iloc[0]
    assert (dup["traces_affected"], dup["spans_affected"]) == (2, 12)
    assert not (h["check"] == "child_outside_parent").any()  # was web → db and web → web, 2 spans each
    assert (tk.detect_clock_skew(spans, min_pairs=1)["n_violations"] == 0).all()
    # a real early child is still found beside the copies: trace 3's db span 5 s ahead of its client
    moved = spans.copy()
    at = np.flatnonzero((moved["trace_id"] == _t(3)).to_numpy() & (moved["service"] == "db").to_numpy())
    moved.loc[moved.index[at], ["start", "end"]] += pd.Timedelta(seconds=5)
    row = tk.health_report(moved, checks=["child_outside_parent"])
    assert row[["subject", "spans_affected", "traces_affected"]].values.tolist() == [["web → db", 1, 1]]


def test_coverage_audit_names_a_missing_spans_column():
    from tracekit.aws import xray_coverage_audit
    from tracekit.schema import SpansSchemaError

    spans = _frame([(1, 1, None, "checkout", "POST /checkout", "server", 0, 9 * MS)])
    with pytest.raises(SpansSchemaError, match="xray_coverage_audit.*span_id"):  # was KeyError "Label(s) ['span_id']"
        xray_coverage_audit(spans=spans.drop(columns=["span_id"]), checks=())
    with pytest.raises(SpansSchemaError, match="xray_coverage_audit"):
        xray_coverage_audit(spans="spans.json", checks=())


def test_a_span_exported_twice_is_counted_once():
    # trace 1 read from two exports: every span twice. Its db span is an orphan (its parent 9 is not there) that
    # failed, its second root (4) starts a second request, db's other span (trace 2) is ok, and its root in trace 3
    # is still in progress
    once = [(1, 1, None, "web", "GET /", "server", 0, 10 * MS), (1, 2, 9, "db", "q", "server", MS, 5 * MS),
            (1, 4, None, "web", "GET /", "server", 0, 10 * MS), (2, 1, None, "db", "q", "server", 0, MS),
            (3, 1, None, "web", "GET /", "server", 0, None)]
    status = {(1, 2): "error", (3, 1): "unset"}
    rows = once + once[:3] + once[4:]
    spans = _frame(rows, status=[status.get((r[0], r[1]), "ok") for r in rows])
    h = tk.health_report(spans).set_index(["check", "subject"])
    assert h.loc[("duplicate_span_ids", ""), "spans_affected"] == 8
    assert h.loc[("orphan_spans", ""), "spans_affected"] == 1  # was 2
    assert "most in: db (1)" in h.loc[("orphan_spans", ""), "explanation"]
    assert h.loc[("multiple_roots", ""), "spans_affected"] == 2  # roots 1 and 4: was 3
    assert h.loc[("in_progress_spans", ""), "spans_affected"] == 1  # was 2
    db = h.loc[("span_error_rate", "db")]
    assert db["value"] == 0.5 and db["explanation"].startswith("50.0% of db's 2 spans failed")  # was 2 of 3
    assert h.loc[("span_error_rate", "web"), "explanation"].startswith("0.0% of web's 2 spans with a known outcome")
