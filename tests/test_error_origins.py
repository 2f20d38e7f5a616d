"""tk.error_origins and tk.top_exceptions: where errors start, and exceptions grouped by message template."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import tracekit as tk
from tracekit.analysis.error_origins import ERROR_ORIGIN_SPANS, ERROR_ORIGINS, TOP_EXCEPTIONS, message_template

from .conftest import REPO, read_dataset

DATA = REPO / "datasets"
MS = 1_000_000


def _chain(tid: str, statuses: list[str], services=("web", "api", "db", "disk")):
    """A chain web > api > db > disk (each the only child of the one above), with these statuses."""
    n = len(statuses)
    sid = [f"{tid[:12]}{i:04x}" for i in range(n)]
    return tk.spans_from_columns({
        "trace_id": [tid] * n, "span_id": sid, "parent_id": [None, *sid[:-1]],
        "service": list(services[:n]), "name": [f"op{i}" for i in range(n)],
        "start": [i * MS for i in range(n)], "end": [(100 - i) * MS for i in range(n)], "status": statuses})


def test_origin_is_the_deepest_failed_span_and_its_path_is_the_failed_ancestors():
    # web ✗ > api ✗ > db ✗ > disk ok: the error starts at db and reaches the root in 2 hops
    spans = _chain("a" * 32, ["error", "error", "error", "ok"])
    o = tk.error_origins(spans, per_span=True)
    assert list(o.columns) == ERROR_ORIGIN_SPANS.column_names
    assert o[["service", "propagated_to", "hops", "reached_root"]].values.tolist() == [
        ["db", "api:op1 < web:op0", 2, True]]
    assert o["call_path"].iloc[0] == "web:op0 > api:op1 > db:op2"


def test_an_error_caught_on_the_way_up_does_not_reach_the_root():
    # web ok > api ok > db ✗ : one origin, no hop, the request did not fail
    spans = _chain("b" * 32, ["ok", "ok", "error"])
    o = tk.error_origins(spans, per_span=True)
    assert o[["service", "hops", "reached_root"]].values.tolist() == [["db", 0, False]]


def test_client_errors_are_not_failures():
    # a 4xx (X-Ray error flag, status error) is a client error, not a failure: no origin
    spans = _chain("c" * 32, ["ok", "error"])
    spans["error"] = [False, True]
    assert tk.error_origins(spans, per_span=True).empty
    assert tk.error_origins(spans).empty


@pytest.mark.slow  # over 1.3 s in the fast lane at load 8 on 2 cores (issue 28)
def test_aggregate_on_the_incident_dataset_names_payments():
    """checkout-incident: payments' card-network failures (rate 8 % of checkouts) are the main origin."""
    spans = read_dataset("checkout-incident")
    before = spans.copy()
    eo = tk.error_origins(spans)
    pd.testing.assert_frame_equal(spans, before)  # not mutated
    assert list(eo.columns) == ["service", *ERROR_ORIGINS.column_names]
    assert eo["service"].iloc[0] == "payments"
    assert eo["share"].sum() == pytest.approx(1.0)
    per = tk.error_origins(spans, per_span=True)
    assert eo["origins"].sum() == len(per)
    # every origin failed and has no failed descendant: recheck on the raw flags
    fl = tk.core.failed(spans)
    origin_ids = set(zip(per["trace_id"].astype(str), per["span_id"].astype(str), strict=True))
    pid = spans["parent_id"].astype(object).to_numpy()
    failed_parents = set(zip(spans["trace_id"].astype(str).to_numpy()[fl], pid[fl], strict=True))
    for t, s in origin_ids:
        assert (t, s) not in failed_parents
    assert len(eo["example_trace_ids"].iloc[0]) == 3
    by_op = tk.error_origins(spans, by="operation")
    assert list(by_op.columns[:2]) == ["service", "name"]


def test_message_template_masks_numbers_ids_and_quoted_values():
    assert message_template("order 1234 not found for user 'bob'") == "order <num> not found for user '<str>'"
    assert message_template('timeout after 2.5 s calling "risk-api"') == "timeout after <num> s calling '<str>'"
    assert message_template("request 5f2b9c1e-0c2a-4d1f-9a3b-0123456789ab failed") == "request <uuid> failed"
    assert message_template("trace 1-5759e988-bd862e3fe1be46a994272793") == "trace <num>-<id>-<id>"
    assert message_template(None) is None


def test_top_exceptions_groups_by_template_with_first_and_last_seen():
    def ev(t, typ, msg):
        return [{"time": t, "name": "exception", "attributes": {"exception.type": typ, "exception.message": msg}}]

    spans = tk.spans_from_columns({
        "trace_id": ["1" * 32, "2" * 32, "3" * 32, "4" * 32], "span_id": ["a" * 16] * 4,
        "service": ["api"] * 4, "name": ["get"] * 4, "start": [0, 10 * MS, 20 * MS, 30 * MS],
        "end": [1 * MS, 11 * MS, 21 * MS, 31 * MS],
        "events": [ev(5, "KeyError", "item 12 missing"), ev(None, "KeyError", "item 7 missing"),
                   ev(25 * MS, "Timeout", "after 30 s"), [{"time": 1, "name": "log", "attributes": {}}]]})
    te = tk.top_exceptions(spans)
    assert list(te.columns) == ["service", *TOP_EXCEPTIONS.column_names]
    assert te[["exception_type", "template", "count", "traces"]].values.tolist() == [
        ["KeyError", "item <num> missing", 2, 2], ["Timeout", "after <num> s", 1, 1]]
    first = te.iloc[0]
    assert first["first_seen"] == pd.Timestamp(5, tz="UTC")
    assert first["last_seen"] == pd.Timestamp(10 * MS, tz="UTC")  # no event time: the span's start
    assert first["example_trace_ids"] == ("1" * 32, "2" * 32)
    assert len(tk.top_exceptions(spans, by=None).columns) == len(TOP_EXCEPTIONS.columns)


@pytest.mark.slow  # over 1.3 s in the fast lane at load 8 on 2 cores (issue 28)
def test_top_exceptions_on_the_incident_dataset():
    truth = json.loads((DATA / "truth" / "checkout-incident.json").read_text())
    spans = read_dataset("checkout-incident")
    te = tk.top_exceptions(spans)
    top = te.iloc[0]
    assert (top["service"], top["exception_type"], top["template"]) == ("payments", "CardNetworkError",
                                                                       "card network returned <num>")
    assert truth["config"]["payments_fault_rate"] > 0
    assert te["count"].sum() >= te["spans"].sum()


def test_bad_by_is_a_clear_error():
    spans = _chain("d" * 32, ["ok", "error"])
    with pytest.raises(tk.ArgumentError, match="not in the spans frame"):
        tk.error_origins(spans, by="pod")
    with pytest.raises(tk.ArgumentError, match="not in the spans frame"):
        tk.top_exceptions(spans, by="pod")


def test_real_xray_dynamodb_failure_origins_and_exception(real_traces):
    """A real Go SDK capture (SOURCES.md: ddbSample.txt): a PutItem fails with HTTP 400 inside nested
    subsegments. The origins are the failed spans with no failed child (the retry's `attempt` and `wait`),
    the error climbs dynamodb → the handler → the segment, and its exception is grouped by type."""
    spans = tk.read_xray(real_traces / "otel-contrib-awsxray-testdata" / "ddbSample.txt")
    agg = tk.error_origins(spans)
    row = agg.iloc[0]
    assert row["service"] == "DDB" and int(row["origins"]) == 2 and bool(row["reached_root"] == 1.0)
    assert row["top_path"].split(" < ")[:2] in (["DDB:attempt", "DDB:dynamodb"], ["DDB:wait", "DDB:dynamodb"])
    assert row["top_path"].endswith("DDB:DDB")
    ex = tk.top_exceptions(spans)
    assert ex["exception_type"].tolist() == ["dynamodb.ResourceNotFoundException"]
    assert int(ex["count"].iloc[0]) == 5 and ex["example_trace_ids"].iloc[0] == ("5f29ab21d4ebf299219a65bd5c31d6da",)


def test_an_absorbed_error_stops_at_the_retry_and_the_requests_own_failure_is_an_origin():
    """web ✗ > api ok (a retry that absorbed the error) > db ✗. Before: db was the only origin, its error
    'propagated' through the successful api span to web (hops 1, reached_root True), and web's own failure was
    never an origin (it had a failed descendant). Now db's chain stops at api, and web is an origin of its own."""
    spans = _chain("e" * 32, ["error", "ok", "error"])
    o = tk.error_origins(spans, per_span=True).sort_values("service").reset_index(drop=True)
    assert o[["service", "propagated_to", "hops", "reached_root"]].values.tolist() == [
        ["db", "", 0, False], ["web", "", 0, True]]
    agg = tk.error_origins(spans).set_index("service")
    assert agg.loc["web", "reached_root"] == 1.0 and agg.loc["db", "reached_root"] == 0.0
    # web ✗ > api ✗ > db ok > disk ✗: disk's error is absorbed at db; api's failure is its own and reaches web
    o2 = tk.error_origins(_chain("f" * 32, ["error", "error", "ok", "error"]), per_span=True)
    got = sorted(o2[["service", "propagated_to", "hops", "reached_root"]].values.tolist())
    assert got == [["api", "web:op0", 1, True], ["disk", "", 0, False]]
