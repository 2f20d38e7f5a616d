"""detect_clock_skew / adjust_clock_skew: literal pairs with known offsets, the clock-skew scenario."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tracekit as tk

from .test_structure import mk, snapshot

#: where the pairs start, ms since the epoch: room for a callee skewed back in time (no time is before 1970)
T0 = 100.0


def pairs(n, caller, callee, offset_ms, *, first_trace=1, callee_host=None, caller_host=None, jitter=None):
    """n traces (times from T0): caller client [1, 11] ms → callee server [3, 9] ms (+ offset): midpoints equal without skew."""
    rows, res = [], []
    for k in range(n):
        t = first_trace + k
        j = 0.0 if jitter is None else jitter[k]
        rows += [
            (t, 1, None, caller, "GET", "server", T0, T0 + 20),
            (t, 2, 1, caller, "call", "client", T0 + 1, T0 + 11),
            (t, 3, 2, callee, "serve", "server", T0 + 3 + offset_ms + j, T0 + 9 + offset_ms + j),
        ]
        res += [{"host.name": caller_host} if caller_host else {}] * 2 + [{"host.name": callee_host} if callee_host else {}]
    return rows, res


def test_single_skewed_service_estimate_and_shift():
    rows, res = pairs(12, "web", "inv", 50.0, jitter=np.linspace(-0.5, 0.5, 12))
    spans = mk(rows, resource=res)
    before = snapshot(spans)
    sk = tk.detect_clock_skew(spans)
    pd.testing.assert_frame_equal(spans, before)
    top = sk.iloc[0]
    assert (top["service"], pd.isna(top["host"]), top["n_pairs"], bool(top["skewed"])) == ("inv", True, 12, True)
    assert top["estimate_ms"] == pytest.approx(50.0, abs=1e-9)  # median of symmetric jitter
    assert top["n_violations"] == 12 and top["violation_share"] == 1.0
    # spread: 1.4826 x median |jitter| (jitter is linspace(-0.5, 0.5, 12))
    assert top["spread_ms"] == pytest.approx(1.4826 * np.median(np.abs(np.linspace(-0.5, 0.5, 12))), abs=1e-6)
    web = sk[sk["service"] == "web"].iloc[0]
    assert web["estimate_ms"] == 0.0 and not web["skewed"]

    fixed = tk.adjust_clock_skew(spans, sk)
    pd.testing.assert_frame_equal(spans, before)
    assert fixed.attrs["clock_shifts"] == [{"service": "inv", "host": None, "shift_ms": -50.0, "n_spans": 12}]
    inv = (fixed["service"] == "inv").to_numpy()
    assert (fixed.loc[inv, "start"] == spans.loc[inv, "start"] - pd.Timedelta(50, "ms")).all()
    assert (fixed.loc[~inv, "start"] == spans.loc[~inv, "start"]).all()
    assert fixed["clock_shift_ms"].tolist() == [0.0, 0.0, -50.0] * 12
    assert (fixed["duration_ms"] == spans["duration_ms"]).all()
    assert tk.health_report(fixed, checks=["child_outside_parent"]).empty
    assert not tk.detect_clock_skew(fixed)["skewed"].any()


def test_per_host_estimate_only_shifts_that_host():
    r1, s1 = pairs(10, "web", "inv", 0.0, callee_host="inv-1", caller_host="web-1")
    r2, s2 = pairs(10, "web", "inv", -30.0, first_trace=100, callee_host="inv-2", caller_host="web-1")
    r3, s3 = pairs(10, "web", "inv", 0.0, first_trace=200, callee_host="inv-3", caller_host="web-1")
    spans = mk(r1 + r2 + r3, resource=s1 + s2 + s3)
    sk = tk.detect_clock_skew(spans)
    assert sk[["service", "host", "estimate_ms", "skewed"]].iloc[0].tolist() == ["inv", "inv-2", -30.0, True]
    assert sk["skewed"].sum() == 1
    fixed = tk.adjust_clock_skew(spans)
    assert fixed.attrs["clock_shifts"] == [{"service": "inv", "host": "inv-2", "shift_ms": 30.0, "n_spans": 10}]
    by_service = tk.detect_clock_skew(spans, by="service")
    assert by_service["host"].isna().all() and len(by_service) == 2


def test_skew_propagates_through_a_chain_and_majority_is_reference():
    # web -> a (skew +20) -> b (no skew): b's pairs against a say -20, but b is anchored via a
    rows = []
    for t in range(1, 11):
        rows += [
            (t, 1, None, "web", "GET", "server", 0, 100),
            (t, 2, 1, "web", "call a", "client", 10, 90),
            (t, 3, 2, "a", "serve", "server", 40, 100),  # +20: centred would be 20..80
            (t, 4, 3, "a", "call b", "client", 50, 90),  # a's clock (true 30..70)
            (t, 5, 4, "b", "serve", "server", 40, 60),  # true clock, centred in the true 30..70
            (t, 6, 1, "web", "call c", "client", 91, 99),
            (t, 7, 6, "c", "serve", "server", 93, 97),
        ]
    sk = tk.detect_clock_skew(mk(rows), min_pairs=5).set_index("service")
    assert sk.loc["a", "estimate_ms"] == pytest.approx(20.0)
    assert sk.loc["b", "estimate_ms"] == pytest.approx(0.0)
    assert sk.loc["c", "estimate_ms"] == pytest.approx(0.0)
    assert sk["skewed"].to_dict() == {"a": True, "b": False, "c": False, "web": False}


def test_off_centre_but_inside_is_not_skew():
    # the server sits early inside its client span every time (client does work after the call)
    rows = []
    for t in range(1, 21):
        rows += [(t, 1, None, "web", "GET", "server", 0, 20), (t, 2, 1, "web", "call", "client", 1, 19),
                 (t, 3, 2, "inv", "serve", "server", 2, 6)]
    sk = tk.detect_clock_skew(mk(rows))
    inv = sk[sk["service"] == "inv"].iloc[0]
    assert inv["estimate_ms"] == pytest.approx(-6.0) and inv["n_violations"] == 0 and not inv["skewed"]
    assert tk.adjust_clock_skew(mk(rows)).attrs["clock_shifts"] == []


def test_too_few_pairs_or_no_pairs():
    rows, res = pairs(3, "web", "inv", 50.0)
    assert not tk.detect_clock_skew(mk(rows)).iloc[0]["skewed"]  # 3 < min_pairs=10
    assert tk.detect_clock_skew(mk(rows), min_pairs=3).iloc[0]["skewed"]
    assert tk.detect_clock_skew(mk([(1, 1, None, "a", "x", "server", 0, 1)])).empty
    with pytest.raises(tk.TraceKitError, match="by must be"):
        tk.detect_clock_skew(mk(rows), by="pod")
    with pytest.raises(tk.TraceKitError, match="no span's resource names a host"):
        tk.detect_clock_skew(mk(rows), by="host")
    with pytest.raises(tk.TraceKitError, match="missing columns"):
        tk.adjust_clock_skew(mk(rows), pd.DataFrame({"service": ["a"]}))


@pytest.mark.slow  # 1.5 s in the fast lane (2 loaded cores, issue 28)
def test_clock_skew_scenario_within_tolerance():
    sim = tk.simulate.simulate("clock-skew", n_traces=400, seed=11)
    truth = sim.truth
    sk = tk.detect_clock_skew(sim.spans)
    flagged = sk[sk["skewed"]]
    assert flagged[["service", "host"]].values.tolist() == [[truth.service, truth.host]]
    # tolerance: 1 ms (network latencies in the simulator are ~0.4 ms each way)
    assert flagged["estimate_ms"].iloc[0] == pytest.approx(truth.offset_ms, abs=1.0)
    assert flagged["n_pairs"].iloc[0] >= 50
    fixed = tk.adjust_clock_skew(sim.spans, sk)
    assert len(fixed.attrs["clock_shifts"]) == 1
    assert tk.health_report(fixed, checks=["child_outside_parent"]).empty
    base = tk.detect_clock_skew(tk.simulate.simulate("baseline", n_traces=400, seed=11).spans)
    assert not base["skewed"].any()
    assert base["estimate_ms"].abs().max() < 10.0


# ------------------------------------------------------------------------ issue 13 defects 4 and 5


def _ecs_shop(host_key: str, n: int = 24, skew_ms: float = 8.0):
    """web → inventory on two containers; inv-2's clock runs skew_ms ahead; inventory calls DynamoDB
    (an X-Ray inferred segment repeating its caller's times)."""
    ms = 1_000_000
    cols = {k: [] for k in ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end", "resource", "inferred", "attributes")}

    def add(t, s, p, svc, name, kind, a, b, res, inferred=False, attrs=None):
        cols["trace_id"].append(f"{t:032x}")
        cols["span_id"].append(f"{t:08x}{s:08x}")
        cols["parent_id"].append(None if p is None else f"{t:08x}{p:08x}")
        for k, v in (("service", svc), ("name", name), ("kind", kind), ("start", int(a * ms)), ("end", int(b * ms)),
                     ("resource", res), ("inferred", inferred), ("attributes", attrs or {})):
            cols[k].append(v)

    for t in range(1, n + 1):
        host = "inv-1" if t % 2 else "inv-2"
        off = skew_ms if host == "inv-2" else 0.0
        base = t * 1000
        add(t, 1, None, "web", "GET /", "server", base, base + 100, {host_key: "web-1"})
        add(t, 2, 1, "web", "GET /stock", "client", base + 10, base + 60, {host_key: "web-1"}, attrs={"peer.service": "inventory"})
        add(t, 3, 2, "inventory", "GET /stock", "server", base + 12 + off, base + 58 + off, {host_key: host})
        add(t, 4, 3, "inventory", "DynamoDB", "client", base + 20 + off, base + 30 + off, {host_key: host},
            attrs={"namespace": "aws", "aws.operation": "GetItem"})
        add(t, 5, 4, "DynamoDB", "DynamoDB", "server", base + 20 + off, base + 30 + off, {}, inferred=True)
    return tk.spans_from_columns(cols)


@pytest.mark.parametrize(("fmt", "host_key", "read_key"), [
    ("xray", "host.name", "aws.ecs.container"),   # the writer puts the host in the segment's aws.ecs context
    ("xray", "aws.eks.pod", "aws.eks.pod"),        # a frame read from X-Ray keeps its aws.eks context
    ("otlp", "host.name", "host.name"),
])
def test_one_skewed_container_is_found_in_both_formats(tmp_path, fmt, host_key, read_key):
    spans = _ecs_shop(host_key)
    if fmt == "otlp":  # inferred segments are X-Ray's: an OTLP export has only the SDK's client span
        spans = spans[~spans["inferred"]].reset_index(drop=True)
    if host_key.startswith("aws."):
        spans["source"] = "xray"
    path = tmp_path / ("t.json" if fmt == "xray" else "t.jsonl")
    (tk.write_xray if fmt == "xray" else tk.write_otlp)(spans, path)
    back = tk.read(path)
    assert {r.get(read_key) for r in back["resource"]} >= {"inv-1", "inv-2"}
    sk = tk.detect_clock_skew(back).set_index("host")
    assert {"inv-1", "inv-2"} <= set(sk.index.dropna())
    assert sk.loc["inv-2", "estimate_ms"] - sk.loc["inv-1", "estimate_ms"] == pytest.approx(8.0, abs=1e-6)
    # the inferred DynamoDB segment repeats its caller's times: it is not a clock of its own
    assert "DynamoDB" not in set(tk.detect_clock_skew(back)["service"])


def test_a_client_that_timed_out_is_not_a_clock_skew_suspect():
    # the client gives up at 250 ms (error) while the server, on the same clock, answers at 318 ms
    ms = 1_000_000
    spans = tk.spans_from_columns({
        "trace_id": ["1" * 32] * 3, "span_id": ["a" * 16, "b" * 16, "c" * 16], "parent_id": [None, "a" * 16, "b" * 16],
        "service": ["web", "web", "slow"], "name": ["GET /", "GET /slow", "GET /slow"], "kind": ["server", "client", "server"],
        "start": [0, 10 * ms, 12 * ms], "end": [300 * ms, 250 * ms, 318 * ms], "status": ["error", "error", "ok"],
        "status_message": [None, "deadline exceeded", None]})
    r = tk.health_report(spans, checks=["child_outside_parent"])
    assert not ((r["check"] == "child_outside_parent") & (r["severity"] == "warning")).any()
    # the same late end under a parent that did not fail is still a skew suspect
    ok = spans.assign(status=["ok", "ok", "ok"])
    r2 = tk.health_report(ok, checks=["child_outside_parent"])
    assert r2.loc[r2["check"] == "child_outside_parent", "subject"].tolist() == ["web → slow"]
