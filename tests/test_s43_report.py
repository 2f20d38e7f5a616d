"""Session 43, report: the HTML postmortem report as an SRE reads it (reporting.py, investigate/postmortem.py).

Truth by construction: small frames whose answer is known before any analysis runs.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

import tracekit as tk

MS = 1_000_000
T0 = pd.Timestamp("2026-03-02T14:00:00Z").value


def _text(page: str) -> str:
    """The page's words without its scripts, tags and entities."""
    import html

    page = re.sub(r"<script.*?</script>", "", page, flags=re.S)
    page = re.sub(r"<style.*?</style>", "", page, flags=re.S)
    page = page.replace("<wbr>", "")
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def _sampled_two_routes() -> pd.DataFrame:
    """30 /a requests kept at 1/2 (weight 2): api alone, 100 ms each; 10 /b requests kept at 1/16 (weight 16):
    api 110 ms around a db query of 100 ms. As sampled api holds 3,100 of 4,100 ms (76 %); weighted, db holds
    16 x 1,000 = 16,000 of 2 x 3,000 + 16 x 1,100 = 23,600 ms (68 %), api 32 %; 30 x 2 + 10 x 16 = 220 requests."""
    cols: dict[str, list] = {k: [] for k in ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start",
                                             "end", "trace_state")}

    def add(tid, sid, parent, svc, name, kind, t0, t1, th):
        for k, v in zip(cols, (tid, sid, parent, svc, name, kind, t0, t1, th), strict=True):
            cols[k].append(v)

    for i in range(40):
        tid = f"{i + 1:08x}" + "f" * 24  # randomness (low 56 bits) above every threshold: kept
        t = T0 + i * 60_000 * MS
        if i % 4 != 3:  # 30 of /a
            add(tid, f"{2 * i + 1:016x}", None, "api", "GET /a", "server", t, t + 100 * MS, "ot=th:8")
        else:  # 10 of /b
            add(tid, f"{2 * i + 1:016x}", None, "api", "GET /b", "server", t, t + 110 * MS, "ot=th:f")
            add(tid, f"{2 * i + 2:016x}", f"{2 * i + 1:016x}", "db", "query", "client", t + 5 * MS, t + 105 * MS,
                "ot=th:f")
    return tk.spans_from_columns(cols)


def test_where_the_time_goes_weighted_by_sampling():
    """A weighted sample's key finding names the service holding the largest share of the population's critical-path
    time (db, 68 % by construction), not the sampler's route mix (api, 76 % of the sampled requests' time), and says
    the population (an estimated 220 requests from 40 sampled). Old code: 'api holds the largest share … (76%)'."""
    from tracekit.reporting import collect_report, render_markdown, render_report

    spans = _sampled_two_routes()
    w = tk.sampling_weights(spans)
    assert sorted(set(w["weight"].round(6))) == [2.0, 16.0]  # the construction: two sampling rates
    data = collect_report(spans, worst=0)
    where = [f.text for f in data.story.findings if f.topic == "where"]
    said = " ".join(where)
    assert "db holds the largest share" in said, said
    assert "(68% of" in said and "estimated 220" in said and "40 sampled requests" in said, said
    assert "api 76%" in said, said  # the as-sampled answer is still said, as what it is
    for page in (_text(render_report(data)), render_markdown(data)):
        assert "db holds the largest share of the requests' critical-path time" in page
        assert "api holds the largest share" not in page
    assert "The requests as sampled, not weighted by their sampling" in _text(render_report(data))


def test_where_the_time_goes_unweighted_control():
    """Control: the same requests without sampling thresholds are the population; api holds 3,100 of 4,100 ms (76 %),
    said without any weighting words, and the critical-path table says nothing of sampling."""
    from tracekit.reporting import collect_report, render_report

    spans = _sampled_two_routes().drop(columns=["trace_state"])
    data = collect_report(spans, worst=0)
    said = " ".join(f.text for f in data.story.findings if f.topic == "where")
    assert "api holds the largest share of the requests' critical-path time (76%)" in said, said
    assert "weighted" not in said
    assert "not weighted by their sampling" not in _text(render_report(data))


def _lambda_hour(cold: set[int], seed: int) -> pd.DataFrame:
    """40 requests a minute apart: api (50 ms) calling the function fn (30 ms); invocation i is cold (an
    Initialization span of 20 ms under it) when i is in ``cold``."""
    cols: dict[str, list] = {k: [] for k in ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start",
                                             "end", "attributes")}

    def add(*v):
        for k, x in zip(cols, v, strict=True):
            cols[k].append(x)

    for i in range(40):
        tid, t = f"{seed:04x}{i + 1:028x}", T0 + i * 60_000 * MS
        a, f, z = f"{seed:04x}{3 * i + 1:012x}", f"{seed:04x}{3 * i + 2:012x}", f"{seed:04x}{3 * i + 3:012x}"
        add(tid, a, None, "api", "GET /x", "server", t, t + 50 * MS, {})
        add(tid, f, a, "fn", "fn", "server", t + 10 * MS, t + 40 * MS, {"origin": "AWS::Lambda::Function"})
        if i in cold:
            add(tid, z, f, "fn", "Initialization", "internal", t + 10 * MS, t + 30 * MS, {})
    return tk.spans_from_columns(cols)


def test_cold_starts_more_often_but_within_chance_say_so():
    """4 cold of 40 invocations (10%) against 2 of 40 (5%) in the baseline is a higher share, not beyond chance
    (one-sided exact: P(X >= 4 | 6, 1/2) = 22/64): the words must not say 'no more frequent' alone. Old code:
    'Cold starts no more frequent than in the baseline — fn: 4 cold starts in 40 invocations (10%) … against 2 in 40
    (5%)'."""
    inc, base = _lambda_hour({3, 13, 23, 33}, 1), _lambda_hour({5, 25}, 2)
    said = " ".join(tk.postmortem(inc, base, n_boot=50).sentences("changed"))
    assert "4 cold starts in 40 invocations (10%)" in said and "against 2 in 40 (5%)" in said, said
    assert "Cold starts, more frequent" not in said, said
    assert "no more frequent than in the baseline beyond chance" in said, said


def test_cold_starts_less_often_control():
    """Control: 1 cold of 40 against 2 of 40 is no more frequent, said plainly (no 'beyond chance')."""
    inc, base = _lambda_hour({3}, 1), _lambda_hour({5, 25}, 2)
    said = " ".join(tk.postmortem(inc, base, n_boot=50).sentences("changed"))
    assert "1 cold start in 40 invocations" in said and "against 2 in 40 (5%)" in said, said
    assert "no more frequent than in the baseline —" in said and "beyond chance" not in said, said


@pytest.fixture(scope="module")
def db_lock_pair():
    """A db-lock hour (checkout's orders-db calls 250 ms slower in a window) and a baseline hour of the same shop."""
    return (tk.simulate.simulate("db-lock", 300, seed=3).spans, tk.simulate.simulate("baseline", 300, seed=4).spans)


def test_baseline_with_roots_against_incident_without_is_said_first(db_lock_pair):
    """The incident's traces exported without their root spans (the entry service's spans lost), the baseline's whole:
    every root operation of the baseline reads as vanished. Old code ranked that artefact as the cause ('Likely cause
    … api-gateway: POST /checkout — calls it usually makes or serves are missing'); the truth is checkout's orders-db
    calls. s43: the baseline was said not comparable first, with the counts, and no cause was ranked from it. s46: it is
    compared by its spans below the roots, said first with the counts; the artefact is still not ranked first, and
    the highest ranked is checkout's orders-db call (not called likely: the hour holds the fault for minutes)."""
    from tracekit.reporting import collect_report, render_markdown

    inc, base = db_lock_pair
    noroot = inc[inc["parent_id"].notna()].reset_index(drop=True)
    n = noroot["trace_id"].nunique()
    n_b = base["trace_id"].nunique()
    assert n == 300 and base.loc[base["parent_id"].isna(), "trace_id"].nunique() == n_b  # the construction
    md = render_markdown(collect_report(noroot, baseline=base, worst=0))
    keys = md.split("## Key findings", 1)[1]
    first = keys.split("**", 2)[1]
    assert first == "Baseline", keys[:300]
    assert f"None of the {n} traces of these spans holds its root span" in keys
    assert f"the baseline's {n_b} traces do: its {n_b} root spans are left out" in keys
    where = keys.split("**Where**", 1)[1]
    assert "Likely cause" not in where
    assert re.search(r"Highest ranked of \d+ by rank\\_causes, with that caveat: checkout: (SELECT|INSERT) orders", where), where[:600]


def test_baseline_with_roots_control(db_lock_pair):
    """Control: the same incident with its roots is comparable with the baseline and its likely cause is checkout's
    orders-db call (the injected one)."""
    from tracekit.analysis.baseline_check import baseline_comparability

    inc, base = db_lock_pair
    c = baseline_comparability(inc, base)
    assert c.comparable, c.reason
    said = " ".join(tk.postmortem(inc, base, n_boot=50).sentences("where"))
    assert "Likely cause" in said and re.search(r"checkout: (SELECT|INSERT) orders", said), said
