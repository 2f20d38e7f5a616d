"""course_changes (where a component's requests changed course, right after which call) and the postmortem's
"or what X answered it": ground truth by construction and on the fault lab's wrong-answer faults."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.analysis.course_changes import COURSE_CHANGES, course_changes, host_answers


def _requests(n: int, branch_share: float, seed: int = 0, clients: bool = False) -> pd.DataFrame:
    """``n`` requests: web calls db, then mail (usual) — or, for ``branch_share`` of them, cache instead of mail
    (the branch taken on db's answer); web calls auth first, whose answers never change its course. ``clients``:
    each call is a client span of web (named ``"<service> <operation>"``) around the callee's span, as OTLP has."""
    rng = np.random.default_rng(seed)
    rows = {k: [] for k in ("trace_id", "span_id", "parent_id", "service", "name", "start", "end", "kind")}

    def add(tid, sid, parent, svc, name, start, end):
        if clients and parent is not None:  # web's client span, the callee's span below it
            client = sid[:-2] + "c" + sid[-1]
            for k, v in zip(rows, (tid, client, parent, "web", f"{svc} {name}", start - 50_000, end + 50_000,
                                   "client"), strict=True):
                rows[k].append(v)
            parent = client
        for k, v in zip(rows, (tid, sid, parent, svc, name, start, end, "server"), strict=True):
            rows[k].append(v)

    for i in range(n):
        tid, root = f"{i + 1:032x}", f"{i + 1:012x}0000"
        t = i * 10_000_000
        add(tid, root, None, "web", "GET /", t, t + 9_000_000)
        add(tid, f"{i + 1:012x}0001", root, "auth", "check", t + 100_000, t + 900_000)
        add(tid, f"{i + 1:012x}0002", root, "db", "query", t + 1_000_000, t + 3_000_000)
        other = ("cache", "get") if rng.random() < branch_share else ("mail", "send")
        add(tid, f"{i + 1:012x}0003", root, other[0], other[1], t + 4_000_000, t + 5_000_000)
    return tk.spans_from_columns(rows)


def test_the_steps_after_the_call_whose_answers_changed_are_counted_there():
    base, inc = _requests(400, 0.05, seed=1), _requests(400, 0.6, seed=2)
    cc = course_changes(inc, base).set_index(["caller", "callee"])
    assert list(cc.reset_index().columns) == COURSE_CHANGES.column_names
    # web's steps right after db: 400; about 55 % of them went to cache beyond the 5 % the baseline predicts
    assert cc.loc[("web", "db"), "steps"] == 400
    assert 0.4 < cc.loc[("web", "db"), "share"] < 0.6
    assert cc.loc[("web", "auth"), "changed"] == 0.0  # the step after auth (to db) is as ever
    assert cc.index[0] == ("web", "db")  # most changed first
    # the same sets swapped: the change is now fewer cache calls — steps to mail beyond prediction, still after db
    back = course_changes(base, inc).set_index(["caller", "callee"])
    assert back.loc[("web", "db"), "changed"] > 100 and back.loc[("web", "auth"), "changed"] == 0.0
    # alike sets (other seeds, same shares): within two standard errors, nothing changed
    assert course_changes(_requests(400, 0.05, seed=3), base)["changed"].sum() == pytest.approx(0.0, abs=1e-9)


def test_each_call_is_one_step_where_client_spans_carry_the_calls():
    """The same requests with each call in a client span of web (as OTLP records it): web's step after the client
    span is the caller's choice; the client span's own step to its end after the call it carries is not counted
    (it never changes), so the steps, the changed steps and the share are those of the frames without client spans
    — one step per call, not two."""
    base, inc = _requests(400, 0.05, seed=1), _requests(400, 0.6, seed=2)
    plain = course_changes(inc, base).set_index(["caller", "callee"])
    wrapped = course_changes(_requests(400, 0.6, seed=2, clients=True), _requests(400, 0.05, seed=1, clients=True))
    wrapped = wrapped.set_index(["caller", "callee"])
    for col in ("steps", "changed", "share"):
        assert wrapped.loc[("web", "db"), col] == pytest.approx(plain.loc[("web", "db"), col]), col
    assert wrapped.loc[("web", "db"), "steps"] == 400
    # a client span whose kind is not said ("unspecified") is any span of web: its step after the call is counted
    unsaid = [_requests(400, share, seed=seed, clients=True).assign(kind="unspecified") for share, seed in
              ((0.6, 2), (0.05, 1))]
    assert course_changes(*unsaid).set_index(["caller", "callee"]).loc[("web", "db"), "steps"] == 800


def test_inputs_are_not_modified_and_a_missing_column_is_named():
    base, inc = _requests(50, 0.05), _requests(50, 0.5, seed=4)
    before = inc.copy()
    course_changes(inc, base)
    pd.testing.assert_frame_equal(inc, before)
    with pytest.raises(tk.SpansSchemaError, match="course_changes \\(baseline\\)"):
        course_changes(inc, base.drop(columns="parent_id"))
    # spans without calls, or none: no step to compare, an empty table with the declared columns
    lone = inc[inc["parent_id"].isna()].reset_index(drop=True)
    for a, b in ((lone, lone), (tk.empty_spans(), base)):
        out = course_changes(a, b)
        assert out.empty and list(out.columns) == COURSE_CHANGES.column_names


@pytest.mark.parametrize(("seed", "kind"), [(306, "return"), (308, "return"), (309, "return")])
def test_the_postmortem_names_the_callee_whose_answers_the_top_acted_on(seed, kind):
    """Fault lab wrong-answer faults (nothing at the injected pod; its callers branch or raise) on a service with one
    pod, where no host contrast can tell a wrong answer from a change in the caller's own code: the ranking names a
    caller, and the "where" finding says that its requests changed course right after its calls to the injected
    service — the truth."""
    from tracekit.simulate_faults import fault_window, random_system

    w = fault_window(kind, seed, system=random_system(seed), status=seed % 2 == 0)
    assert len(set(tk.core.hosts(w.incident[w.incident["service"] == w.truth.service]))) == 1
    pm = tk.postmortem(w.incident, w.baseline, level="service", logs=w.logs, n_boot=20)
    f = next(f for f in pm.findings if f.topic == "where" and "likely" in f.evidence)
    top = pm.causes["service"].iloc[0]
    assert top != w.truth.service  # the ranking reads each service's own spans: the caller acted
    assert (pm.causes["answers"] == 0).all()
    assert f.evidence["answered_by"] == w.truth.service
    assert f"Or what {w.truth.service} answered it: {top}'s requests changed course right after its calls to " \
           f"{w.truth.service}" in f.text
    assert f.evidence["answered_changed"] >= f.evidence["changed_steps"] / 2


@pytest.mark.parametrize(("seed", "kind"), [(302, "exception"), (303, "cpu_contention"), (301, "network_delay")])
def test_no_other_service_is_named_when_the_top_did_not_change_course_after_it(seed, kind):
    from tracekit.simulate_faults import fault_window, random_system

    w = fault_window(kind, seed, system=random_system(seed), status=seed % 2 == 0)
    pm = tk.postmortem(w.incident, w.baseline, level="service", logs=w.logs, n_boot=20)
    f = next(f for f in pm.findings if f.topic == "where" and "likely" in f.evidence)
    assert pm.causes["service"].iloc[0] == w.truth.service
    assert "answered_by" not in f.evidence and "answered it" not in f.text


def _hosted(n: int, bad_share: float, good_share: float, seed: int, clients: bool = False) -> pd.DataFrame:
    """:func:`_requests` with db answering from two hosts, db-1 and db-2 in turn: web takes the cache branch after
    ``bad_share`` of db-2's answers and ``good_share`` of db-1's (web and the others on hosts of their own)."""
    rng = np.random.default_rng(seed)
    spans = _requests(n, 0.0, seed=seed, clients=clients)
    req = spans["trace_id"].map(lambda t: int(t, 16) - 1).to_numpy()
    branch = rng.random(n) < np.where(np.arange(n) % 2 == 1, bad_share, good_share)
    cols = {c: spans[c].astype(object).tolist() for c in ("trace_id", "span_id", "parent_id", "service", "name",
                                                          "kind")}
    cols.update(start=spans["start"].astype("int64").tolist(), end=spans["end"].astype("int64").tolist())
    svc, name = np.array(cols["service"], dtype=object), np.array(cols["name"], dtype=object)
    swap = (svc == "mail") & branch[req]
    svc[swap], name[swap] = "cache", "get"
    name[(name == "mail send") & branch[req]] = "cache get"
    cols.update(service=svc.tolist(), name=name.tolist(),
                resource=[{"host.name": ("db-2" if r % 2 else "db-1") if s == "db" else f"{s}-1"} for s, r in zip(svc, req, strict=True)])
    return tk.spans_from_columns(cols)


def test_a_change_that_follows_one_host_of_the_callee_names_that_host():
    """web's requests take the cache branch after 70 % of db-2's answers and 5 % of db-1's (the baseline: 5 % after
    both): the row (web, db) names db-2, with the counts of steps after each host's answers and Fisher's p (with
    Bonferroni's × 2 hosts) — computed here from the counts. When the branch follows neither host (40 % after
    both), no host stands out; auth answers from one host: no host column."""
    from scipy.stats import hypergeom

    base = _hosted(400, 0.05, 0.05, seed=1)
    cc = course_changes(_hosted(400, 0.7, 0.05, seed=2), base).set_index(["caller", "callee"])
    r = cc.loc[("web", "db")]
    assert r["callee_host"] == "db-2" and r["host_steps"] == 200 and r["other_hosts_steps"] == 200
    assert r["host_changed"] > 100 and r["other_hosts_changed"] < 30
    k, n = r["host_changed"], r["host_steps"]
    total, changed = n + r["other_hosts_steps"], k + r["other_hosts_changed"]
    assert r["host_p_value"] == pytest.approx(min(2 * hypergeom.sf(k - 1, total, changed, n), 1.0))
    assert r["host_p_value"] < 1e-10
    assert pd.isna(cc.loc[("web", "auth"), "callee_host"]) and np.isnan(cc.loc[("web", "auth"), "host_p_value"])
    even = course_changes(_hosted(400, 0.4, 0.4, seed=3), base).set_index(["caller", "callee"]).loc[("web", "db")]
    assert even["changed"] > 50 and even["host_p_value"] > 0.05


def test_the_changed_course_of_a_pair_of_frames_is_computed_once():
    """A postmortem asks for the same table twice (rank_causes' host_answers, with the hosts it has, and the words'
    course_changes): the second is taken from the cache, hosts given or read alike. An edit of either frame's columns,
    other hosts or a new baseline is computed again; editing a returned table never reaches the cache."""
    from tracekit.core.cache import CacheStats, cache_stats

    def computed():
        return cache_stats().get("course_changes", CacheStats()).computed

    base, inc = _hosted(200, 0.05, 0.05, seed=1), _hosted(200, 0.7, 0.05, seed=2)
    n0 = computed()
    ha = host_answers(inc, base, host=tk.core.hosts(inc))
    first = course_changes(inc, base)
    assert computed() - n0 == 1
    pd.testing.assert_frame_equal(ha.table, first[first["host_p_value"] <= 0.01].reset_index(drop=True))
    first.loc[0, "steps"] = -1.0  # the caller's copy
    assert course_changes(inc, base.copy())["steps"].min() >= 0 and computed() - n0 == 1  # equal baseline: a hit
    # another baseline, an edited incident, other hosts: computed again, and what they say differs as it should
    other = course_changes(inc, _hosted(200, 0.7, 0.05, seed=3))
    assert computed() - n0 == 2 and other["changed"].sum() < first["changed"].sum() / 4
    moved = inc.copy()
    cache = (moved["service"] == "cache").to_numpy(dtype=bool)
    moved.loc[cache, "service"], moved.loc[cache, "name"] = "mail", "send"  # in place: the branch undone
    assert course_changes(moved, base)["changed"].sum() < first["changed"].sum() / 10 and computed() - n0 == 3
    one_host = course_changes(inc, base)
    assert computed() - n0 == 3 and one_host["callee_host"].iloc[0] == "db-2"
    one_host = host_answers(inc, base, host=np.where(tk.core.hosts(inc) == "db-2", "db-1", tk.core.hosts(inc)))
    assert computed() - n0 == 4 and one_host.table.empty  # db answers from one host: no host contrast


@pytest.mark.parametrize("seed", [1, 8])
def test_the_ranking_counts_a_caller_s_changed_course_at_the_pod_whose_answers_it_followed(seed):
    """Fault lab wrong answers from one pod of a service with three (seeds 1 and 8): the caller's requests changed
    course after that pod's answers, not after the service's other pods', so its evidence of a changed course is
    counted at the injected service (``answers``), which ranks first; the evidence moved is taken from the caller
    (the column sums to 0), and the words name the pod with the counts. With the rule off the caller ranked first
    and the postmortem said "Or what … answered it"."""
    from tracekit.investigate import causes
    from tracekit.simulate_faults import fault_window

    w = fault_window("return", seed)
    pm = tk.postmortem(w.incident, w.baseline, level="service", logs=w.logs, n_boot=20)
    rc = pm.causes
    top = rc.iloc[0]
    assert top["service"] == w.truth.service and top["decided_by"] == "traces: answers"
    assert top["answers"] > 0.3 and rc["answers"].sum() == pytest.approx(0.0, abs=1e-9)
    caller = rc[rc["answers"] < 0].iloc[0]
    assert caller["answers"] == pytest.approx(-top["answers"])
    assert f"after the answers of {w.truth.service}'s host {w.truth.pod}, {caller['service']}'s requests went where " \
        "the baseline's seldom did after " in top["hypothesis"]
    # the counts are calls: the caller's spans' calls the pod answered (its spans' parents are the caller's), and
    # those the callee's other hosts answered — one each, though each call is a client span and a server span
    inc = w.incident
    par = tk.core.span_tree(inc).parent
    svc, host = inc["service"].to_numpy(dtype=object), np.asarray(tk.core.hosts(inc), dtype=object)
    called = (par >= 0) & (svc == w.truth.service) & (svc[np.maximum(par, 0)] == caller["service"])
    n_pod, n_other = int((called & (host == w.truth.pod)).sum()), int((called & (host != w.truth.pod)).sum())
    assert f" of its {n_pod} calls there, after " in top["hypothesis"]
    assert f" of the {n_other} its other hosts answered (p = " in top["hypothesis"]
    assert f"{-caller['answers']:.2f} of its evidence of a changed course is counted at that host" in caller["hypothesis"]
    f = next(f for f in pm.findings if f.topic == "where" and "likely" in f.evidence)
    assert f.text.startswith(f"Likely cause (ranked first of {len(rc)} by rank_causes): {w.truth.service} — ")
    assert f"after the answers of {w.truth.service}'s host {w.truth.pod}, " in f.text and "answered_by" not in f.evidence
    kw = dict(window=None, n_boot=1, lift_rows=0, logs=w.logs)
    off = dict(causes._RULES, answers=False)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(causes, "_RULES", off)
        before = tk.rank_causes(w.incident, w.baseline, **kw)
    assert before["service"].iloc[0] == caller["service"] and (before["answers"] == 0).all()
    weighed = tk.rank_causes(w.incident, w.baseline, evidence_weights={"answers": 0}, **kw)
    assert weighed["service"].tolist() == before["service"].tolist()
    pd.testing.assert_series_equal(weighed["score"], before["score"])


def test_a_changed_course_that_follows_one_host_moves_to_that_host_at_every_level():
    """By construction (web takes the cache branch after 70 % of db-2's answers and 5 % of db-1's; baseline 5 % after
    both; each call a client span of web, as OTLP records it): web's evidence of a changed course (its extra cache
    calls, its vanished mail calls) moves to db — at service level to db, at host level to db-2, at operation level
    to db's query — and the amount moved is what web had: the column sums to 0 at each level. With the branch after
    40 % of both hosts' answers nothing moves."""
    base = _hosted(400, 0.05, 0.05, seed=1, clients=True)
    inc = _hosted(400, 0.7, 0.05, seed=2, clients=True)
    kw = dict(window=None, n_boot=1, lift_rows=0)
    for level, key, want in (("service", "service", "db"), ("host", "host", "db-2"), ("operation", "service", "db")):
        rc = tk.rank_causes(inc, base, level=level, **kw)
        assert rc[key].iloc[0] == want, (level, rc.head())
        assert rc["answers"].iloc[0] > 0.3 and rc["answers"].sum() == pytest.approx(0.0, abs=1e-9)
        assert set(rc.loc[rc["answers"] < 0, "service"]) == {"web"}
    even = tk.rank_causes(_hosted(400, 0.4, 0.4, seed=3, clients=True), base, **kw)
    assert (even["answers"] == 0).all() and even["service"].iloc[0] != "db"
    # the kernel: the steps after db-2's answers, each 1 if it went to a changed step less db-1's rate (9 of 400)
    ha = host_answers(inc, base)
    r = ha.table.iloc[0]
    assert len(ha.table) == 1 and (r["caller"], r["callee"], r["callee_host"]) == ("web", "db", "db-2")
    assert len(ha.rows) == r["host_steps"] and set(tk.core.hosts(inc)[ha.answer_rows]) == {"db-2"}
    assert ha.excess.sum() == pytest.approx(r["host_changed"] - r["host_steps"] * r["other_hosts_changed"]
                                            / r["other_hosts_steps"])
    assert len(ha.changed_rows) == r["host_changed"] + r["other_hosts_changed"]
    with pytest.raises(tk.SpansSchemaError, match="host_answers \\(spans\\)"):
        host_answers(inc.drop(columns="parent_id"), base)


def test_one_step_beyond_the_prediction_names_no_callee(monkeypatch):
    """A fresh reader's D5: against a baseline without /checkout (of another day), the postmortem offered "or what
    payments answered it" on 1 step beyond the baseline's prediction ("beyond two standard errors" at a rate near 0,
    where the normal approximation passes one or two steps). The alternative now needs MIN_ANSWERED_STEPS changed
    steps; in the fault lab every window it named the truth in had more."""
    import tracekit.investigate.postmortem as P

    inc = tk.simulate.simulate("db-lock", n_traces=800, seed=51).spans
    bb = tk.simulate.simulate("baseline", n_traces=800, seed=52).spans
    route = bb[bb["parent_id"].isna()].set_index("trace_id")["name"]
    base = bb[bb["trace_id"].isin(route[~route.str.contains("checkout")].index)].copy()
    for c in ("start", "end"):
        base[c] = base[c] - pd.Timedelta("3D")

    def where():
        return next(f for f in tk.postmortem(inc, baseline=base, n_boot=20).findings if f.topic == "where")

    assert "answered_by" not in where().evidence and "answered it" not in where().text
    # a looser rule (half a step; the old one was one whole step) names payments: the case is that one step (1.08
    # steps against the found baseline until it left out its minute before the onset, session 48: 0.96 since; the
    # baseline given is set aside as not comparable, so the found one is compared)
    monkeypatch.setattr(P, "MIN_ANSWERED_STEPS", 0.5)
    f = where()
    assert f.evidence["answered_by"] == "payments" and 0.5 <= f.evidence["answered_changed"] < 3
