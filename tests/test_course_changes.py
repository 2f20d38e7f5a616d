"""course_changes (where a component's requests changed course, right after which call) and the postmortem's
"or what X answered it": ground truth by construction and on the fault lab's wrong-answer faults."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.analysis.course_changes import COURSE_CHANGES, course_changes


def _requests(n: int, branch_share: float, seed: int = 0) -> pd.DataFrame:
    """``n`` requests: web calls db, then mail (usual) — or, for ``branch_share`` of them, cache instead of mail
    (the branch taken on db's answer); web calls auth first, whose answers never change its course."""
    rng = np.random.default_rng(seed)
    rows = {k: [] for k in ("trace_id", "span_id", "parent_id", "service", "name", "start", "end")}

    def add(tid, sid, parent, svc, name, start, end):
        for k, v in zip(rows, (tid, sid, parent, svc, name, start, end), strict=True):
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


@pytest.mark.parametrize(("seed", "kind"), [(301, "return"), (302, "return"), (303, "return")])
def test_the_postmortem_names_the_callee_whose_answers_the_top_acted_on(seed, kind):
    """Fault lab wrong-answer faults (nothing at the injected pod; its callers branch or raise): the ranking names a
    caller, and the "where" finding says that its requests changed course right after its calls to the injected
    service — the truth."""
    from tracekit.simulate_faults import fault_window, random_system

    w = fault_window(kind, seed, system=random_system(seed), status=seed % 2 == 0)
    pm = tk.postmortem(w.incident, w.baseline, level="service", logs=w.logs, n_boot=20)
    f = next(f for f in pm.findings if f.topic == "where" and "likely" in f.evidence)
    top = pm.causes["service"].iloc[0]
    assert top != w.truth.service  # the ranking reads each service's own spans: the caller acted
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


def _hosted(n: int, bad_share: float, good_share: float, seed: int) -> pd.DataFrame:
    """:func:`_requests` with db answering from two hosts, db-1 and db-2 in turn: web takes the cache branch after
    ``bad_share`` of db-2's answers and ``good_share`` of db-1's (web and the others on hosts of their own)."""
    rng = np.random.default_rng(seed)
    spans = _requests(n, 0.0, seed=seed)
    req = spans["trace_id"].map(lambda t: int(t, 16) - 1).to_numpy()
    branch = rng.random(n) < np.where(np.arange(n) % 2 == 1, bad_share, good_share)
    cols = {c: spans[c].astype(object).tolist() for c in ("trace_id", "span_id", "parent_id", "service", "name")}
    cols.update(start=spans["start"].astype("int64").tolist(), end=spans["end"].astype("int64").tolist())
    svc, name = np.array(cols["service"], dtype=object), np.array(cols["name"], dtype=object)
    swap = (svc == "mail") & branch[req]
    svc[swap], name[swap] = "cache", "get"
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


@pytest.mark.parametrize("seed", [1, 8])
def test_the_postmortem_names_the_pod_whose_answers_the_top_acted_on(seed):
    """Fault lab wrong answers from one pod of a service with three (seeds 1 and 8): the "where" finding names the
    injected pod — the caller's requests changed course after its answers, not after the service's other pods'."""
    from tracekit.simulate_faults import fault_window

    w = fault_window("return", seed)
    pm = tk.postmortem(w.incident, w.baseline, level="service", logs=w.logs, n_boot=20)
    f = next(f for f in pm.findings if f.topic == "where" and "likely" in f.evidence)
    assert f.evidence["answered_by"] == w.truth.service and f.evidence["answered_host"] == w.truth.pod
    assert f.evidence["answered_host_p_value"] <= 0.01
    assert f"It followed one of {w.truth.service}'s hosts: counting every step that went to one of those places, " \
           f"after {w.truth.pod}'s answers" in f.text
    assert f"look at {w.truth.pod} first." in f.text
