"""rank_causes, its log and metric evidence and the postmortem's naming of the top cause, on small frames whose truth
is known by construction (session 42, area causes): call patterns without client spans, components whose calls
vanished or are new, ``prior=0``."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

import tracekit as tk

MS = 1_000_000
T0 = pd.Timestamp("2026-03-02T14:00:00Z").value


def _calls(counts: list[int], offset: int = 0, client: bool = False, version: str | None = None) -> pd.DataFrame:
    """Requests entering ``web: GET /x`` (http.route ``/x``), request i calling ``db: query`` ``counts[i]`` times one
    after the other: server spans only (the root's children are db's spans), or with ``web: query`` client spans
    between (``client``). Nothing but the number of calls differs between requests; every span runs ``version``."""
    rng = np.random.default_rng(offset)
    rows, sid = [], (offset + 1) * 1000
    for i, c in enumerate(counts):
        tid, t0 = f"{offset + i + 1:032x}", T0 + (offset + i) * 100 * MS
        root, sid = f"{sid:016x}", sid + 1
        t = t0 + MS
        for _ in range(c):
            work = int(rng.lognormal(np.log(5.0), 0.2) * MS)
            parent = root
            if client:
                parent, sid = f"{sid:016x}", sid + 1
                rows.append(dict(trace_id=tid, span_id=parent, parent_id=root, service="web", name="query",
                                 kind="client", start=t, end=t + work + 2 * MS))
                t += MS
            rows.append(dict(trace_id=tid, span_id=f"{sid:016x}", parent_id=parent, service="db", name="query",
                             kind="server", start=t, end=t + work))
            sid += 1
            t += work + (2 if client else 1) * MS
        rows.append(dict(trace_id=tid, span_id=root, parent_id=None, service="web", name="GET /x", kind="server",
                         start=t0, end=t + MS + int(rng.lognormal(np.log(2.0), 0.2) * MS)))
    f = pd.DataFrame(rows)
    f["attributes"] = [{"http.route": "/x"} if pd.isna(p) else {} for p in f["parent_id"]]
    if version is not None:
        f["resource"] = [{"service.version": version}] * len(f)
    return tk.spans_from_columns({c: f[c].tolist() for c in f.columns})


def test_a_changed_call_pattern_counts_without_client_spans():
    # baseline: web calls db once or three times (alternately), incident: always twice — the same 2 calls per request
    # (no extra or vanished calls), a number of children the baseline never showed. With web's client spans between,
    # web's GET /x scored shape 0.91; with server spans only (every GET /x span has a child in another service, so
    # slower leaves its own time out) 0.00: shape's population was slower's, and the operation was never compared
    for client in (True, False):
        base, inc = _calls([1, 3] * 100, client=client), _calls([2] * 100, offset=5000, client=client)
        rc = tk.rank_causes(inc, base, window=None, level="operation", n_boot=20, lift_rows=0)
        top = rc.iloc[0]
        assert (top["service"], top["name"]) == ("web", "GET /x"), (client, rc[["service", "name", "score"]])
        assert top["shape"] > 0.8 and top["extra"] == 0.0 and top["vanished"] == 0.0
        assert "100 of its 100 spans with a number of children the baseline never showed" in top["hypothesis"]


def test_a_component_whose_calls_all_vanished_is_not_noted_low_evidence():
    # every request called db once in the baseline and never in the incident (server spans only): db's 100 expected
    # calls are all missing, its vanished score high — noted "low evidence (0 spans)" before, as a component of 0 spans
    base, inc = _calls([1] * 100), _calls([0] * 100, offset=5000)
    rc = tk.rank_causes(inc, base, window=None, n_boot=20, lift_rows=0).set_index("service")
    db = rc.loc["db"]
    assert db["spans"] == 0 and db["vanished"] > 0.5
    assert "0 calls where the baseline's rate per request predicts 100" in db["hypothesis"]
    assert "low evidence" not in db["note"], db["note"]
    # one that lost few calls is still low evidence, said with the calls it rests on: 8 requests, prior 1
    rc = tk.rank_causes(_calls([0] * 8, offset=5000), _calls([1] * 8), window=None, n_boot=20, lift_rows=0, prior=1)
    db = rc.set_index("service").loc["db"]
    assert db["vanished"] > 0.1 and db["note"] == "low evidence (0 spans, 8 calls expected)", (db["vanished"], db["note"])


def test_prior_zero_gives_a_new_or_vanished_component_its_score():
    # prior=0 is allowed (no shrinking). A service the baseline never called (db: 100 new calls) had extra 0.86 and
    # score NaN (its vanished share 0 expected / 0 + prior 0), ranked below web's 0.0; one whose calls all vanished
    # (0 spans) likewise. Now each scores its share, no score is NaN and nothing divides by zero on the way
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        new = tk.rank_causes(_calls([1] * 100, offset=5000), _calls([0] * 100), window=None, n_boot=20, lift_rows=0,
                             prior=0)
        gone = tk.rank_causes(_calls([0] * 100, offset=5000), _calls([1] * 100), window=None, n_boot=20,
                              lift_rows=0, prior=0)
    for rc, ev in ((new, "extra"), (gone, "vanished")):
        assert not rc["score"].isna().any(), rc[["service", "score"]]
        db = rc.set_index("service").loc["db"]
        assert db[ev] > 0.8 and db["score"] == db[ev], db
    assert new["service"].iloc[0] == "db"


def test_a_baseline_of_another_release_is_said_first_and_is_a_new_version():
    # the same requests, nothing slower: the baseline ran 1.0 everywhere, the incident 2.0. Before, nothing said so and
    # "changed" read "No new version, no new or vanished call path and no cold start were seen"
    base, inc = _calls([1] * 150, version="1.0"), _calls([1] * 100, offset=5000, version="2.0")
    pm = tk.postmortem(inc, base, level="service", n_boot=20)
    first = pm.findings[0]
    assert first.topic == "baseline" and first.evidence["versions_moved"] == ["db@2.0", "web@2.0"], first
    assert "db 1.0 in the baseline, 2.0 in the incident; web 1.0 in the baseline, 2.0 in the incident" in first.text
    changed = [f.text for f in pm.findings if f.topic == "changed"]
    assert changed[0].startswith("New versions against the baseline given: db 1.0"), changed
    assert not any("No new version" in t for t in changed)
    # the same release on both sides: nothing said of versions
    same = tk.postmortem(_calls([1] * 100, offset=5000, version="1.0"), base, level="service", n_boot=20)
    assert not any("versions" in f.text for f in same.findings if f.topic in ("baseline", "changed"))


def _slower_db(n: int, offset: int, factor: float) -> pd.DataFrame:
    """``web: GET /x`` → ``web: q`` (client) → ``db: q``; db's work lognormal (median 20 ms, sigma 1) times ``factor``."""
    rng = np.random.default_rng(offset)
    rows, sid = [], (offset + 1) * 10
    for i in range(n):
        tid, t0 = f"{offset + i + 1:032x}", T0 + (offset + i) * 50 * MS
        ids = [f"{sid + k:016x}" for k in range(3)]
        sid += 3
        w = int(rng.lognormal(np.log(20.0), 1.0) * factor * MS)
        rows += [dict(trace_id=tid, span_id=ids[0], parent_id=None, service="web", name="GET /x", kind="server",
                      start=t0, end=t0 + w + 4 * MS, attributes={"http.route": "/x"}),
                 dict(trace_id=tid, span_id=ids[1], parent_id=ids[0], service="web", name="q", kind="client",
                      start=t0 + MS, end=t0 + w + 3 * MS, attributes={}),
                 dict(trace_id=tid, span_id=ids[2], parent_id=ids[1], service="db", name="q", kind="server",
                      start=t0 + 2 * MS, end=t0 + w + 2 * MS, attributes={})]
    f = pd.DataFrame(rows)
    return tk.spans_from_columns({c: f[c].tolist() for c in f.columns})


def test_a_critical_path_that_moved_beyond_chance_is_not_called_nothing():
    # every db call 10 % slower in a wide distribution: few spans pass the baseline's p95 (slower 0.016, under the
    # 0.05 the words need), yet db's critical path grew by ~6 ms a request, its interval above 0. The hypothesis read
    # "nothing in its spans' timing, calls or errors differs clearly from the baseline" and the postmortem put web
    # (score 0.00) "tied with it ... they changed alike"
    base, inc = _slower_db(1000, 1, 1.0), _slower_db(1000, 100_000, 1.1)
    pm = tk.postmortem(inc, base, level="service", n_boot=200)
    rc = pm.causes.set_index("service")
    db = rc.loc["db"]
    assert db[list(tk.investigate.causes.EVIDENCE)].max() <= 0.05 and db["delta_cp_ms_lo"] > 0, db
    assert "nothing" not in db["hypothesis"] and "critical path moved beyond chance" in db["hypothesis"]
    assert f"[{tk.core.words.ms_text(db['delta_cp_ms_lo'], signed=True)}," in db["hypothesis"]
    assert rc.loc["web", "hypothesis"].startswith("web: nothing in its spans' timing")  # web did not move at all
    where = next(f.text for f in pm.findings if f.topic == "where")
    assert "Tied with it" not in where and "changed alike" not in where, where
