"""The simulator's ground truth, checked by construction, and the writers' output formats.

Incident scenarios draw the same random numbers as the baseline (one stream per component), so a
scenario run and the baseline run with the same seed differ exactly where the incident was injected.
"""

from __future__ import annotations

import gzip
import json
import math
import re

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.errors import TraceKitError
from tracekit.io.write import to_otlp, to_xray, write_otlp, xray_segment_documents
from tracekit.simulate import SCENARIOS, AppConfig, simulate, threshold_for

N = 1500
SEED = 7


@pytest.fixture(scope="module")
def base():
    return simulate("baseline", n_traces=N, seed=SEED).spans


def _by_id(df):
    return df.set_index("span_id")


def _children(spans, parent_mask, child_mask):
    """Count of child rows (child_mask) per parent row (parent_mask), keyed by parent span_id."""
    kids = spans[child_mask].groupby("parent_id").size()
    return spans.loc[parent_mask, "span_id"].map(kids).fillna(0).astype(int)


# --- general properties --------------------------------------------------------------------------

def test_every_scenario_gives_a_valid_frame_on_whole_microseconds():
    for sc in SCENARIOS:
        sp = simulate(sc, n_traces=60, seed=1).spans
        tk.validate_spans(sp)
        assert set(sp["source"]) == {"simulated"}, sc
        ns = np.concatenate([sp["start"].array.asi8, sp["end"].array.asi8])
        assert (ns % 1000 == 0).all(), sc
        assert (sp["end"] >= sp["start"]).all(), sc


def test_deterministic_by_seed():
    a = simulate("db-lock", n_traces=200, seed=3).spans
    b = simulate("db-lock", n_traces=200, seed=3).spans
    pd.testing.assert_frame_equal(a, b)
    c = simulate("db-lock", n_traces=200, seed=4).spans
    assert not set(a["trace_id"]) & set(c["trace_id"])


def test_tree_is_complete_with_one_root_per_request(base):
    assert base["trace_id"].nunique() == N
    roots = base[base["parent_id"].isna()]
    assert len(roots) == N and set(roots["service"]) == {"api-gateway"}
    key = set(zip(base["trace_id"], base["span_id"], strict=False))
    assert len(key) == len(base)
    kids = base[base["parent_id"].notna()]
    assert all((t, p) in key for t, p in zip(kids["trace_id"], kids["parent_id"], strict=False))
    # children start no earlier than their parent (no skew in the baseline); consumers start after it ends
    par = base.set_index(["trace_id", "span_id"])
    ps = par.loc[list(zip(kids["trace_id"], kids["parent_id"], strict=False)), "start"].to_numpy()
    assert (kids["start"].to_numpy() >= ps).all()


def test_trace_id_prefix_is_the_request_second(base):
    roots = base[base["parent_id"].isna()]
    secs = roots["start"].array.asi8 // 10**9
    assert [int(t[:8], 16) for t in roots["trace_id"]] == secs.tolist()


def test_status_follows_http_status(base):
    hs = base["http_status"].fillna(0).astype(int)
    assert ((base["status"] == "error") == (hs >= 400)).all()
    assert (base.loc[hs < 400, "status"] == "ok").all()
    assert (base["fault"] == (hs >= 500)).all() and (base["throttle"] == (hs == 429)).all()
    assert (base["error"] == ((hs >= 400) & (hs < 500))).all()


def test_n_plus_one_loop_makes_exactly_n_inventory_calls(base):
    cat = base["service"].eq("catalog") & base["kind"].eq("server")
    calls = base["service"].eq("catalog") & base["name"].eq("GET /api/stock/{sku}")
    n = _children(base, cat, calls)
    items = base.loc[cat, "attributes"].map(lambda a: a["app.item_count"])
    assert (n.to_numpy() == items.to_numpy()).all()
    assert items.min() == 2 and items.max() == 12
    # the calls run one after another: each starts at or after the previous one ends
    c = base[calls].sort_values(["parent_id", "start"])
    prev_end = c.groupby("parent_id")["end"].shift()
    assert (c["start"][prev_end.notna()] >= prev_end.dropna()).all()


def _binomial_ok(k: int, n: int, p: float) -> bool:
    # within 4 binomial standard deviations: a false alarm has probability < 1e-4
    return abs(k - n * p) <= 4 * math.sqrt(n * p * (1 - p))


def test_error_rates_match_the_configuration(base):
    cfg = AppConfig()
    pay = base[(base["service"] == "payments") & (base["kind"] == "server")]
    assert _binomial_ok(int(pay["fault"].sum()), len(pay), cfg.payments_fault_rate)
    ddb = base[base["name"].str.startswith("DynamoDB.")]
    first = ddb[~ddb["attributes"].map(lambda a: "http.request.resend_count" in a)]
    assert _binomial_ok(int(first["throttle"].sum()), len(first), cfg.dynamodb_throttle_rate)
    cart_route = base[base["parent_id"].isna() & (base["name"] == "GET /cart")]["trace_id"]
    cart = base[(base["service"] == "cart") & (base["kind"] == "server") & base["trace_id"].isin(cart_route)]
    assert _binomial_ok(int((cart["http_status"] == 404).sum()), len(cart), cfg.cart_not_found_rate)
    inv = base[(base["service"] == "inventory") & (base["kind"] == "server")]
    assert _binomial_ok(int(inv["fault"].sum()), len(inv), cfg.inventory_fault_rate)
    # a fault carries an exception event whose message is the status message
    f = pay[pay["fault"]]
    assert all(ev[0]["name"] == "exception" and ev[0]["attributes"]["exception.message"] == m
               for ev, m in zip(f["events"], f["status_message"], strict=False))


def test_failed_payment_is_retried_once_and_502_only_when_both_fail(base):
    calls = base[(base["service"] == "checkout") & (base["name"] == "POST /api/charge")]
    g = calls.sort_values("start").groupby("parent_id")
    for _parent, c in g:
        codes = c["http_status"].tolist()
        assert codes[0] == 200 and len(c) == 1 or codes[0] == 503 and len(c) == 2, codes
        if len(c) == 2:
            assert c["attributes"].iloc[1]["http.request.resend_count"] == 1
            assert c["start"].iloc[1] > c["end"].iloc[0]
    chk = base[(base["service"] == "checkout") & (base["kind"] == "server")].set_index("span_id")
    both_failed = g["http_status"].agg(lambda s: (s == 503).sum() == 2)
    assert ((chk.loc[both_failed.index, "http_status"] == 502) == both_failed).all()
    assert both_failed.any()  # the case occurs with this seed


def test_throttled_dynamodb_call_is_retried(base):
    ddb = base[base["name"].str.startswith("DynamoDB.")]
    thr = ddb[ddb["throttle"]]
    assert len(thr) > 0
    retries = ddb[ddb["attributes"].map(lambda a: a.get("http.request.resend_count") == 1)]
    assert len(retries) == len(thr)
    assert set(retries["parent_id"]) == set(thr["parent_id"])
    assert (retries["http_status"] == 200).all()


def test_async_consumer_follows_its_producer(base):
    prod = _by_id(base[base["kind"] == "producer"])
    cons = base[base["kind"] == "consumer"]
    assert len(cons) == len(prod) > 0
    assert (cons["start"].to_numpy() > prod.loc[cons["parent_id"], "end"].to_numpy()).all()
    assert set(cons["service"]) == {"fulfillment"}
    assert cons["attributes"].map(lambda a: isinstance(a["faas.coldstart"], bool)).all()


def test_resource_and_attributes_present(base):
    r = base["resource"].iloc[0]
    assert {"service.name", "service.version", "host.name", "cloud.region", "deployment.environment"} <= set(r)
    assert (base["resource"].map(lambda r: r["service.name"]) == base["service"]).all()
    cl = base[base["kind"] == "client"]
    assert cl["attributes"].map(lambda a: "peer.service" in a).all()
    db = base[base["attributes"].map(lambda a: a.get("db.system") == "postgresql")]
    assert set(db["name"]) == {"SELECT orders", "INSERT orders"} and set(db["service"]) == {"checkout"}
    assert db["attributes"].map(lambda a: a["db.statement"].startswith(a["db.operation"])).all()


# --- incidents against the baseline ------------------------------------------------------------

def test_db_lock_slows_checkout_db_calls_by_exactly_the_injected_amount(base):
    sim = simulate("db-lock", n_traces=N, seed=SEED, extra_ms=300)
    t = sim.truth
    inc = sim.spans
    assert sorted(inc["span_id"]) == sorted(base["span_id"])
    b, i = _by_id(base), _by_id(inc)
    db = inc["attributes"].map(lambda a: a.get("db.system") == "postgresql").to_numpy()
    ids = inc.loc[db, "span_id"]
    diff = (i.loc[ids, "duration_ms"] - b.loc[ids, "duration_ms"]).round(6)
    root_start = inc[inc["parent_id"].isna()].set_index("trace_id")["start"]
    in_window = i.loc[ids, "trace_id"].map(root_start).between(t.window_start, t.window_end, inclusive="left")
    assert (diff[in_window] == 300.0).all() and in_window.any()
    assert (diff[~in_window] == 0.0).all()
    # other checkout-DB-free spans keep their durations (payments, catalog...)
    other = inc.loc[inc["service"].isin(["catalog", "inventory", "cart"]), "span_id"]
    assert (i.loc[other, "duration_ms"] == b.loc[other, "duration_ms"]).all()
    aff = inc[inc["trace_id"].isin(i.loc[ids[in_window.to_numpy()], "trace_id"])]["trace_id"].nunique()
    assert aff == t.n_affected_traces


def test_slow_deploy_changes_version_and_adds_one_call_after_the_deploy(base):
    sim = simulate("slow-deploy", n_traces=N, seed=SEED)
    t, sp = sim.truth, sim.spans
    assert set(base["span_id"]) < set(sp["span_id"])
    added = sp[~sp["span_id"].isin(base["span_id"])]
    assert set(added["name"]) == {t.added_span} and set(added["service"]) == {t.service}
    pay = sp[(sp["service"] == "payments") & (sp["kind"] == "server")]
    after = pay["start"] >= t.deploy_time
    ver = pay["resource"].map(lambda r: r["service.version"])
    assert (ver[after] == t.new_version).all() and (ver[~after] == t.old_version).all()
    n = _children(sp, (sp["service"] == "payments") & (sp["kind"] == "server"), sp["name"] == t.added_span)
    assert (n.to_numpy() == after.to_numpy().astype(int)).all()
    med = added["duration_ms"].median()
    assert 0.8 * t.added_ms_median < med < 1.2 * t.added_ms_median


def test_context_drop_starts_new_traces_at_the_callee():
    sim = simulate("context-drop", n_traces=N, seed=SEED, share=0.2)
    t, sp = sim.truth, sim.spans
    assert sp["trace_id"].nunique() == N + t.n_dropped
    assert _binomial_ok(t.n_dropped, N, 0.2)
    roots = sp[sp["parent_id"].isna()]
    assert (roots["service"] == t.callee).sum() == t.n_dropped
    by_trace = sp.groupby("trace_id")["service"].agg(lambda x: set(x))
    for orig, new in t.dropped:
        assert set(by_trace[orig]) == {t.caller}  # the gateway's spans stay behind
        assert t.caller not in set(by_trace[new]) and t.callee in set(by_trace[new])
        assert new[:8] >= orig[:8]


def test_context_drop_orphans_keep_the_trace_but_lose_the_parent():
    plain = simulate("context-drop", n_traces=N, seed=SEED, share=0.2)
    sim = simulate("context-drop", n_traces=N, seed=SEED, share=0.2, orphan_share=0.1)
    t, sp = sim.truth, sim.spans
    assert t.dropped == plain.truth.dropped  # the drop decisions do not move
    assert t.n_orphaned == len(t.orphaned) > 0 and _binomial_ok(t.n_orphaned, N - t.n_dropped, 0.1)
    # exactly the lost client spans are missing, nothing else
    assert len(sp) == len(plain.spans) - t.n_orphaned
    assert set(plain.spans["span_id"]) - set(sp["span_id"]) == {p for _, p in t.orphaned}
    key = set(zip(sp["trace_id"], sp["span_id"], strict=False))
    kids = sp[sp["parent_id"].notna()]
    missing = kids[[(a, b) not in key for a, b in zip(kids["trace_id"], kids["parent_id"], strict=False)]]
    assert sorted(zip(missing["trace_id"], missing["parent_id"], strict=False)) == sorted(t.orphaned)
    assert set(missing["service"]) == {t.callee} and set(missing["kind"]) == {"server"}


def test_clock_skew_shifts_one_host_by_the_offset(base):
    sim = simulate("clock-skew", n_traces=N, seed=SEED, offset_ms=-80)
    t, sp = sim.truth, sim.spans
    b, s = _by_id(base), _by_id(sp)
    host = sp["resource"].map(lambda r: r["host.name"]).to_numpy()
    on = sp.loc[(host == t.host) & (sp["service"] == t.service).to_numpy(), "span_id"]
    off = sp.loc[~sp["span_id"].isin(on), "span_id"]
    assert len(on) > 0
    shift = (s.loc[on, "start"] - b.loc[on, "start"]).dt.total_seconds() * 1e3
    assert (shift.round(6) == -80.0).all()
    assert (s.loc[on, "duration_ms"] == b.loc[on, "duration_ms"]).all()
    assert (s.loc[off, "start"] == b.loc[off, "start"]).all()


def test_bad_host_is_slow_and_runs_the_bad_version(base):
    sim = simulate("bad-host", n_traces=N, seed=SEED)
    t, sp = sim.truth, sim.spans
    b, s = _by_id(base), _by_id(sp)
    cat = sp[sp["service"] == t.service]
    host = cat["resource"].map(lambda r: r["host.name"])
    ver = cat["resource"].map(lambda r: r["service.version"])
    assert (ver[host == t.host] == t.bad_version).all() and (ver[host != t.host] == t.good_version).all()
    load = cat[cat["name"] == t.slow_span]
    bad = load["span_id"][(host == t.host)[load.index]]
    good = load["span_id"][(host != t.host)[load.index]]
    extra = s.loc[bad, "duration_ms"] - b.loc[bad, "duration_ms"]
    assert (extra > 0).all() and 0.8 * t.extra_ms_median < extra.median() < 1.2 * t.extra_ms_median
    assert (s.loc[good, "duration_ms"] == b.loc[good, "duration_ms"]).all()


def test_cold_starts_burst_after_scale_out():
    sim = simulate("cold-starts", n_traces=3000, seed=SEED)
    t, sp = sim.truth, sim.spans
    cons = sp[(sp["service"] == t.service) & (sp["kind"] == "consumer")]
    cold = cons["attributes"].map(lambda a: a["faas.coldstart"])
    init = sp[sp["name"] == "Initialization"]
    assert len(init) == t.n_cold_starts == int(cold.sum())
    assert set(init["parent_id"]) == set(cons.loc[cold, "span_id"])
    end = t.scale_out_time + pd.Timedelta(seconds=t.window_s)
    inw = cons["start"].between(t.scale_out_time, end, inclusive="left")
    p_in = 1 - (1 - t.burst_rate) * (1 - t.config.coldstart_rate)
    assert _binomial_ok(int(cold[inw].sum()), int(inw.sum()), p_in)
    assert _binomial_ok(int(cold[~inw].sum()), int((~inw).sum()), t.config.coldstart_rate)
    # a cold environment is new: its host is used by no earlier invocation
    env = cons["resource"].map(lambda r: r["host.name"])
    assert env[cold].is_unique and not env[cold].isin(env[~cold]).any()


def test_error_undersampling_follows_the_threshold_rule():
    sim = simulate("error-undersampling", n_traces=4000, seed=SEED)
    t, sp, pop = sim.truth, sim.spans, sim.population
    inc = t.inclusion
    assert len(inc) == t.n_population == pop["trace_id"].nunique() == 4000
    T = {r: threshold_for(p)[0] for r, p in t.probabilities}
    rand = inc["trace_id"].map(lambda x: int(x[-14:], 16))
    assert (inc["sampled"] == (rand >= inc["route"].map(T))).all()
    assert set(sp["trace_id"]) == set(inc.loc[inc["sampled"], "trace_id"])
    th = dict(zip(inc["trace_id"], "ot=th:" + inc["th"], strict=False))
    assert (sp["trace_state"] == sp["trace_id"].map(th)).all()
    assert dict(zip(inc["route"], inc["th"], strict=False)) == {"products": "8", "cart": "8", "checkout": "f"}
    for route, p in t.probabilities:
        r = inc[inc["route"] == route]
        assert _binomial_ok(int(r["sampled"].sum()), len(r), p), route
    # errors are under-represented: the naive share is below the population's, and weighting by 1/p fixes it
    s = inc[inc["sampled"]]
    ht = (s["has_error"] / s["probability"]).sum() / (1 / s["probability"]).sum()
    assert t.error_share_sampled < t.error_share_population
    assert abs(ht - t.error_share_population) < abs(t.error_share_sampled - t.error_share_population)
    # sampled spans are exactly the population's spans of the kept traces
    kept = pop[pop["trace_id"].isin(s["trace_id"])]
    assert sorted(kept["span_id"]) == sorted(sp["span_id"])


def test_threshold_for_matches_the_spec_examples():
    assert threshold_for(1.0) == (0, "0")
    assert threshold_for(0.25)[1] == "c"
    assert threshold_for(0.5)[1] == "8"
    with pytest.raises(TraceKitError):
        threshold_for(0)


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(TraceKitError, match="unknown scenario 'nope'"):
        simulate("nope")
    with pytest.raises(TraceKitError, match="does not take share"):
        simulate("baseline", n_traces=5, share=0.5)
    with pytest.raises(TraceKitError, match="n_traces"):
        simulate("baseline", n_traces=0)


# --- writers ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small():
    return simulate("context-drop", n_traces=80, seed=2, share=0.3).spans


def test_xray_output_follows_the_format(small):
    before = small.copy(deep=True)
    out = to_xray(small, indexed=("app.customer_tier",))
    pd.testing.assert_frame_equal(small, before)  # input untouched
    assert out["UnprocessedTraceIds"] == []
    assert len(out["Traces"]) == small["trace_id"].nunique()
    idre, sidre = re.compile(r"^1-[0-9a-f]{8}-[0-9a-f]{24}$"), re.compile(r"^[0-9a-f]{16}$")
    n_entities = 0
    for tr in out["Traces"]:
        assert idre.match(tr["Id"])
        for seg in tr["Segments"]:
            assert isinstance(seg["Document"], str)
            d = json.loads(seg["Document"])
            assert d["id"] == seg["Id"] and sidre.match(d["id"]) and d["trace_id"] == tr["Id"]
            stack = [d]
            while stack:
                e = stack.pop()
                assert sidre.match(e["id"]) and isinstance(e["start_time"], float) and e["end_time"] >= e["start_time"]
                n_entities += not e.get("inferred", False)
                stack += e.get("subsegments", [])
    assert n_entities == len(small)
    docs = xray_segment_documents(small, indexed=("app.customer_tier",))
    gw = [d for d in docs if d["name"] == "api-gateway"]
    assert all(d["annotations"]["app_customer_tier"] in {"free", "pro", "enterprise"} for d in gw)
    assert all(d["origin"] == "AWS::ECS::Container" for d in gw)


def test_xray_maps_namespaces_sql_errors_and_inferred_segments():
    spans = tk.spans_from_columns({
        "trace_id": ["5759e988bd862e3fe1be46a994272793"] * 5,
        "span_id": ["a" * 16, "b" * 16, "c" * 16, "d" * 16, "e" * 16],
        "parent_id": [None, "a" * 16, "a" * 16, "a" * 16, "f" * 16],
        "service": ["svc"] * 5, "name": ["GET /", "SELECT t", "DynamoDB.GetItem", "work", "orphan call"],
        "kind": ["server", "client", "client", "internal", "client"],
        "start": [1_000_000, 2_000_000, 3_000_000, 4_000_000, 5_000_000],
        "end": [9_000_000, 2_500_000, 3_500_000, None, 6_000_000],
        "http_status": [503, None, 429, None, None],
        "fault": [True, False, False, False, False], "throttle": [False, False, True, False, False],
        "error": [False, False, True, False, False],
        "status_message": ["boom", None, None, None, None],
        "attributes": [{"annotation.Team": "a", "x": [1, 2]}, {"db.system": "postgresql", "db.statement": "SELECT 1"},
                       {"rpc.system": "aws-api", "rpc.service": "DynamoDB", "rpc.method": "GetItem",
                        "aws.dynamodb.table_names": ["t1"]}, {}, {}],
    })
    docs = xray_segment_documents(spans)
    seg, indep, inferred = docs
    assert seg["fault"] is True and seg["cause"]["exceptions"][0]["message"] == "boom"
    assert seg["annotations"] == {"Team": "a"} and seg["metadata"] == {"default": {"x": [1, 2]}}
    assert seg["http"]["response"]["status"] == 503
    sub = {s["name"]: s for s in seg["subsegments"]}
    assert sub["SELECT t"]["namespace"] == "remote" and sub["SELECT t"]["sql"]["sanitized_query"] == "SELECT 1"
    assert sub["DynamoDB.GetItem"]["namespace"] == "aws" and sub["DynamoDB.GetItem"]["throttle"] is True
    assert sub["work"]["in_progress"] is True and "namespace" not in sub["work"] and "end_time" not in sub["work"]
    assert indep["type"] == "subsegment" and indep["parent_id"] == "f" * 16 and indep["trace_id"].startswith("1-")
    assert inferred["inferred"] is True and inferred["parent_id"] == "c" * 16 and inferred["throttle"] is True
    assert inferred["origin"] == "AWS::DynamoDB::Table" and inferred["aws"]["table_name"] == "t1"
    assert xray_segment_documents(spans, inferred=False)[-1]["name"] == "orphan call"


def test_otlp_output_follows_the_format(small, tmp_path):
    before = small.copy(deep=True)
    req = to_otlp(small)
    pd.testing.assert_frame_equal(small, before)
    n = 0
    for rs in req["resourceSpans"]:
        keys = {kv["key"] for kv in rs["resource"]["attributes"]}
        assert "service.name" in keys
        for ss in rs["scopeSpans"]:
            for sp in ss["spans"]:
                n += 1
                assert re.fullmatch(r"[0-9a-f]{32}", sp["traceId"]) and re.fullmatch(r"[0-9a-f]{16}", sp["spanId"])
                assert isinstance(sp["startTimeUnixNano"], str) and isinstance(sp["endTimeUnixNano"], str)
                assert sp["kind"] in range(6) and sp["status"]["code"] in (1, 2)
                for kv in sp["attributes"]:
                    v = kv["value"]
                    assert len(v) == 1
                    if "intValue" in v:
                        assert isinstance(v["intValue"], str)
    assert n == len(small)
    p = write_otlp(small, tmp_path / "x.jsonl.gz", batch=50)
    lines = gzip.decompress(p.read_bytes()).decode().splitlines()
    counts = [sum(len(ss["spans"]) for rs in json.loads(ln)["resourceSpans"] for ss in rs["scopeSpans"]) for ln in lines]
    assert counts == [50] * (len(small) // 50) + ([len(small) % 50] if len(small) % 50 else [])
    one = write_otlp(small, tmp_path / "one.json", lines=False)
    assert len(one.read_text().strip().splitlines()) == 1


def test_otlp_any_value_encodings():
    from tracekit.io.write import otlp_any_value

    assert otlp_any_value({"a": [1, "x"]}) == {"kvlistValue": {"values": [
        {"key": "a", "value": {"arrayValue": {"values": [{"intValue": "1"}, {"stringValue": "x"}]}}}]}}
    assert otlp_any_value(b"\x00\x01") == {"bytesValue": "AAE="}
    assert otlp_any_value(float("nan")) == {"doubleValue": "NaN"}
    assert otlp_any_value(2**63 - 1) == {"intValue": "9223372036854775807"}
    assert otlp_any_value(np.int64(5)) == {"intValue": "5"} and otlp_any_value(np.bool_(True)) == {"boolValue": True}


def test_writers_reject_frames_without_the_schema():
    with pytest.raises(TraceKitError, match="missing columns"):
        to_otlp(pd.DataFrame({"trace_id": ["0" * 32]}))
    with pytest.raises(TraceKitError, match="expected a spans DataFrame"):
        to_xray([1, 2])


# --- the shipped datasets ------------------------------------------------------------------------

from .conftest import REPO  # noqa: E402

DATASETS = REPO / "datasets"


def test_datasets_are_what_the_generator_writes(tmp_path):
    from tracekit.simulate import write_datasets

    written = write_datasets(tmp_path, only=["clock-skew"])
    assert {p.relative_to(tmp_path).as_posix() for p in written} == {"clock-skew/spans.jsonl.gz", "truth/clock-skew.json"}
    for p in written:
        assert p.read_bytes() == (DATASETS / p.relative_to(tmp_path)).read_bytes(), p
    readme = (DATASETS / "README.md").read_text()
    from tracekit.simulate import DATASETS as SPEC

    for name in SPEC:
        assert f"`{name}/`" in readme and (DATASETS / "truth" / f"{name}.json").is_file(), name


def test_checkout_incident_files_differ_from_baseline_only_by_the_lock():
    from tracekit.io.readers import read_xray
    inc = read_xray(DATASETS / "checkout-incident")
    base = read_xray(DATASETS / "checkout-baseline")
    t = json.loads((DATASETS / "truth" / "checkout-incident.json").read_text())
    inc, base = inc[~inc["inferred"]].set_index("span_id"), base[~base["inferred"]].set_index("span_id")
    assert len(inc) == len(base) and set(inc.index) == set(base.index)
    base = base.loc[inc.index]
    sql = inc["attributes"].map(lambda a: "sql.sanitized_query" in a)
    assert set(inc.loc[sql, "name"]) == {"SELECT orders", "INSERT orders"}
    root_start = inc[inc["parent_id"].isna()].groupby("trace_id")["start"].min()
    in_win = inc["trace_id"].map(root_start).between(pd.Timestamp(t["window_start"]), pd.Timestamp(t["window_end"]),
                                                     inclusive="left")
    diff = (inc["duration_ms"] - base["duration_ms"]).round(6)
    assert (diff[sql & in_win] == t["extra_ms"]).all() and (sql & in_win).any()
    assert (diff[sql & ~in_win] == 0).all()
    assert inc.loc[sql & in_win, "trace_id"].nunique() == t["n_affected_traces"]
    assert (inc.loc[~in_win.to_numpy(), "start"] == base.loc[~in_win.to_numpy(), "start"]).all()


def test_broken_context_and_sampled_files_hold_their_truth():
    from tracekit.io.readers import read_otlp
    t = json.loads((DATASETS / "truth" / "broken-context.json").read_text())
    df = read_otlp(DATASETS / "broken-context")
    assert df["trace_id"].nunique() == t["n_traces"] + t["n_dropped"] == t["n_traces"] + len(t["dropped"])
    roots = df[df["parent_id"].isna()]
    assert sorted(roots.loc[roots["service"] == "frontend", "trace_id"]) == sorted(new for _, new in t["dropped"])
    t = json.loads((DATASETS / "truth" / "sampled-errors.json").read_text())
    inc = pd.read_csv(DATASETS / "truth" / "sampled-errors.inclusion.csv.gz", dtype={"trace_id": str, "th": str})
    df = read_otlp(DATASETS / "sampled-errors")
    assert len(inc) == t["n_population"] and inc["sampled"].sum() == t["n_sampled"] == df["trace_id"].nunique()
    assert set(df["trace_id"]) == set(inc.loc[inc["sampled"], "trace_id"])
    assert inc["has_error"].mean() == pytest.approx(t["error_share_population"])
    th = df.groupby("trace_id")["trace_state"].first()
    assert (th == "ot=th:" + inc.set_index("trace_id").loc[th.index, "th"]).all()


def test_db_lock_makes_checkout_dominate_the_critical_path():
    import tracekit.analysis.critical_paths as cp_mod
    sim = simulate("db-lock", n_traces=1200, seed=SEED)
    t, sp = sim.truth, sim.spans
    roots = sp[sp["parent_id"].isna()].set_index("trace_id")
    chk = sp.loc[(sp["service"] == "checkout") & (sp["kind"] == "server"), "trace_id"].unique()
    start = roots.loc[chk, "start"]
    inside = start.index[(start >= t.window_start) & (start < t.window_end)]
    outside = start.index[(start < t.window_start) | (start >= t.window_end)]

    def top(ids):
        bd = cp_mod.critical_path_breakdown(cp_mod.critical_path(sp[sp["trace_id"].isin(ids)]))
        return bd.iloc[0]["service"], float(bd.set_index("service").loc["checkout", "share"])

    top_in, share_in = top(inside)
    top_out, share_out = top(outside)
    assert top_in == "checkout" and share_in > 0.5
    assert top_out != "checkout" and share_out < 0.3


def test_xray_writer_names_the_row_with_a_bad_trace_id():
    spans = tk.spans_from_columns({"trace_id": ["0" * 32], "span_id": ["a" * 16], "service": ["s"], "name": ["n"],
                                   "start": [0], "end": [1000]})
    spans["trace_id"] = spans["trace_id"].str.replace("0", "x")  # not hex any more
    with pytest.raises(TraceKitError, match=r"span 'aaaaaaaaaaaaaaaa' \(row 0\): not a 32-hex trace id"):
        to_xray(spans)
