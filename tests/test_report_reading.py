"""The report read as an SRE reads it, on data nobody wrote it for.

Each test here pins a defect found by reading reports of real fault-injection windows (Nezha's OnlineBoutique
2022-08-22 and TrainTicket 2023-01-29, in ``../shared/real-traces``): the defect is rebuilt on generated data whose
truth is known by construction, and, where it needs the real data, read from that folder at test time (skipped with
the reason when it is absent).
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

import tracekit as tk

from .browser import open_html
from .nezha import nezha_window

#: the page's width in the tests that read the layout (tests/test_report_story.py reads the bundled report at it too)
VIEWPORT = (1200, 900)

_TABLES = r"""() => {
  const vw = document.documentElement.clientWidth;
  const visible = el => el.checkVisibility ? el.checkVisibility() : el.offsetParent !== null;
  return {vw, page: document.documentElement.scrollWidth,
          tables: [...document.querySelectorAll('table')].filter(visible)
              .map(t => ({id: t.id, width: t.scrollWidth, right: t.getBoundingClientRect().right}))};
}"""


def _long_names(spans: pd.DataFrame) -> pd.DataFrame:
    """Operations named as gRPC services name them (``grpc.hipstershop.CurrencyService/GetSupportedCurrencies``):
    one token of 40-60 characters with no space, as on OnlineBoutique."""
    out = spans.copy()
    out["name"] = ("grpc.hipstershop." + out["service"].astype(str).str.title().str.replace("-", "") + "Service/"
                   + out["name"].astype(str).str.replace(r"\W", "", regex=True))
    return out


@pytest.mark.browser
def test_tables_fit_the_page_when_operation_names_are_long_tokens(tmp_path):
    """OnlineBoutique's reports (2022-08-22, every window read) were 1,427-1,496 px wide at a 1,280 px window: the
    likely-causes and comparison tables held ``grpc.hipstershop.CurrencyService/GetSupportedCurrencies`` as one
    unbreakable token, so the page scrolled sideways and the causes' example traces were off screen. Generated: the
    simulated db-lock with gRPC-style names (truth: the names are 40-60 characters with no space)."""
    inc = _long_names(tk.simulate.simulate("db-lock", 300, seed=3).spans)
    base = _long_names(tk.simulate.simulate("baseline", 300, seed=4).spans)
    assert inc["name"].str.len().max() >= 40 and not inc["name"].str.contains(" ").any()
    out = tk.report(inc, tmp_path / "long.html", baseline=base, markdown=False)
    page = open_html(out, evaluate=_TABLES, viewport=VIEWPORT)
    v = page.value
    assert page.errors == []
    assert {"causes-table", "compare-table"} <= {t["id"] for t in v["tables"]}
    too_wide = [t for t in v["tables"] if t["width"] > v["vw"] or t["right"] > v["vw"] + 1]
    assert too_wide == [], v
    assert v["page"] <= v["vw"], v  # no sideways scrolling
    # the names are still there, whole, for a reader who copies them (breaks are <wbr>, not characters)
    text = out.read_text()
    assert "grpc.hipstershop." in text.replace("<wbr>", "")


# ---- the example trace's waterfall ---------------------------------------------------------------------------------
#: every trace or span id in a table cell: how many lines it takes, where its cell is, and the page's width
_IDS_IN_CELLS = r"""() => {
  const vw = document.documentElement.clientWidth;
  const visible = el => el.checkVisibility ? el.checkVisibility() : el.offsetParent !== null;
  const ids = [];
  for (const td of [...document.querySelectorAll('td')].filter(visible)) {
    const walk = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      for (const m of n.data.matchAll(/(?<![0-9a-z])(?:[0-9a-f]{32}|[0-9a-f]{16})(?![0-9a-z])/g)) {
        const r = document.createRange();
        r.setStart(n, m.index); r.setEnd(n, m.index + m[0].length);
        const tops = new Set([...r.getClientRects()].map(x => Math.round(x.top)));
        ids.push({id: m[0], lines: tops.size, table: td.closest('table').id});
      }
    }
  }
  return {vw, page: document.documentElement.scrollWidth, ids,
          tables: [...document.querySelectorAll('table')].filter(visible)
              .map(t => ({id: t.id, width: t.scrollWidth, right: t.getBoundingClientRect().right}))};
}"""


@pytest.mark.browser
def test_trace_ids_in_table_cells_stay_on_one_line_and_tables_still_fit(db_lock_report):
    """The bundled incident's report at a 1,000 px window: the likely causes' example trace read "69a5a00b8bfaf7" over
    "2a" and the health table's example ids broke after 18 characters (cells may break anywhere, as a last resort, so
    long names fit). An id is one token a reader copies or searches for: each now stays on one line, and the tables
    still fit the page. Generated: simulated db-lock against its baseline (ids of 32 and 16 hex by construction; the
    module's one report of it)."""
    page = open_html(db_lock_report, evaluate=_IDS_IN_CELLS, viewport=(1000, 900))
    v = page.value
    assert page.errors == []
    tables = {i["table"] for i in v["ids"]}
    assert {"causes-table", "health-table"} <= tables, tables
    broken = [i for i in v["ids"] if i["lines"] != 1]
    assert broken == [], broken
    too_wide = [t for t in v["tables"] if t["width"] > v["vw"] or t["right"] > v["vw"] + 1]
    assert too_wide == [], v["tables"]
    assert v["page"] <= v["vw"], v["page"]


#: every place a cell's text wraps: the two characters around each line break inside one text node (a break at a
#: ``<wbr>`` or between elements is between two nodes), each table's width against the box it sits in, the page's
_WRAPS_IN_CELLS = r"""() => {
  const vw = document.documentElement.clientWidth;
  const visible = el => el.checkVisibility ? el.checkVisibility() : el.offsetParent !== null;
  const breaks = [];
  for (const cell of [...document.querySelectorAll('td, th')].filter(visible)) {
    const walk = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      let prevTop = null;
      for (let i = 0; i < n.data.length; i++) {
        const r = document.createRange(); r.setStart(n, i); r.setEnd(n, i + 1);
        const rects = r.getClientRects();
        if (/\s/.test(n.data[i]) || !rects.length) { prevTop = null; continue; }
        const top = Math.round(rects[0].top);
        if (prevTop !== null && top > prevTop + 2)
          breaks.push({table: cell.closest('table').id, before: n.data.slice(0, i), after: n.data.slice(i)});
        prevTop = top;
      }
    }
  }
  const tables = [...document.querySelectorAll('table')].filter(visible).map(t => {
    const box = t.parentElement;
    return {id: t.id, width: t.scrollWidth, box: box.clientWidth, scrolls: getComputedStyle(box).overflowX,
            boxRight: box.getBoundingClientRect().right};
  });
  return {vw, page: document.documentElement.scrollWidth, breaks, tables};
}"""


@pytest.fixture(scope="module")
def db_lock_report(tmp_path_factory):
    """The simulated db-lock against its baseline (health, causes, comparison, inputs and settings tables)."""
    inc = tk.simulate.simulate("db-lock", 300, seed=3).spans
    base = tk.simulate.simulate("baseline", 300, seed=4).spans
    return tk.report(inc, tmp_path_factory.mktemp("words") / "words.html", baseline=base, markdown=False)


@pytest.mark.browser
@pytest.mark.parametrize("width", [700, 1000])
def test_cells_wrap_between_words_only_and_a_wide_table_scrolls_in_its_own_box(db_lock_report, width):
    """Every bundled report read "evidenc" over "e", "checkou" over "t", "uninstru" over "mented_hop" in narrow cells
    (``td`` had ``overflow-wrap:anywhere``, which lets the table shrink a column below its longest word): 71 words
    broken on checkout-incident at a 1,000 px window, 351 over the nine datasets, and at 700 px the page still
    scrolled sideways (checkout-incident 959 px wide). A cell now wraps only where text may wrap (spaces, hyphens,
    slashes, the ``<wbr>`` after a long name's separators); a table wider than the page scrolls inside its own box.
    Generated: the simulated db-lock against its baseline."""
    page = open_html(db_lock_report, evaluate=_WRAPS_IN_CELLS, viewport=(width, 900))
    v = page.value
    assert page.errors == []
    assert {"causes-table", "compare-table", "health-table"} <= {t["id"] for t in v["tables"]}
    inside_a_word = [b for b in v["breaks"] if not re.search(r"[\s\-/]$", b["before"])]
    assert inside_a_word == [], inside_a_word[:10]
    assert v["page"] <= v["vw"], v["page"]  # the page itself never scrolls sideways
    for t in v["tables"]:
        assert t["boxRight"] <= v["vw"] + 1, t
        assert t["width"] <= t["box"] or t["scrolls"] == "auto", t  # too wide: it scrolls in its box


#: the lines each trace id of the key findings and the example traces' headings takes
_IDS_IN_TEXT = r"""() => [...document.querySelectorAll('#key-findings code, #worst-traces h3 code')].map(c => ({
  id: c.textContent, lines: new Set([...c.getClientRects()].map(r => Math.round(r.top))).size}))"""


@pytest.mark.browser
@pytest.mark.parametrize("width", [300, 700, 1000])
def test_trace_ids_in_the_key_findings_and_headings_stay_whole(db_lock_report, width):
    """The key findings' example traces (``<a><code>id</code></a>`` under "What happened", "Where") and the example
    traces' headings had ``code{overflow-wrap:anywhere}``: an id broke wherever the line ended when it did not fit a
    line of its own (at a 300 px window, 6 of 6 key-findings ids on checkout-incident in two pieces). An id is one
    token a reader copies or searches for: each stays on one line (``class="id"``, ``white-space:nowrap``)."""
    page = open_html(db_lock_report, evaluate=_IDS_IN_TEXT, viewport=(width, 900))
    ids = page.value
    assert page.errors == []
    assert len(ids) >= 3 and all(re.fullmatch(r"[0-9a-f]{32}", i["id"]) for i in ids), ids
    split = [i for i in ids if i["lines"] != 1]
    assert split == [], split


def _many_services(n_services: int = 20, depth: int = 8) -> pd.DataFrame:
    """One request through ``n_services`` services, ``depth`` nested spans each (161 spans with the defaults: more
    than the waterfall labels, as TrainTicket's 200-span requests through 20 services). No span records a status."""
    t0 = pd.Timestamp("2026-11-25 09:26:32", tz="UTC").value
    rows = [dict(span_id=f"{1:016x}", parent_id=None, service="ts-gateway-service", name="/*", start=t0,
                 end=t0 + 400_000_000)]
    sid = 2
    for i in range(n_services):
        parent = f"{1:016x}"
        for j in range(depth):
            rows.append(dict(span_id=f"{sid:016x}", parent_id=parent, service=f"ts-service-number-{i:02d}-service",
                             name=f"Controller.op{j}", start=t0 + (i * 15 + j) * 1_000_000,
                             end=t0 + (i * 15 + j + 5) * 1_000_000))
            parent, sid = f"{sid:016x}", sid + 1
    df = pd.DataFrame(rows)
    return tk.spans_from_columns({"trace_id": ["ab" * 16] * len(df), **{c: df[c] for c in df.columns}})


_BOXES = r"""() => {
  const box = el => { if (!el) return null; const r = el.getBoundingClientRect();
                      return {l: r.left, r: r.right, t: r.top, b: r.bottom}; };
  const gd = document.querySelector('.js-plotly-plot');
  return {title: box(gd.querySelector('.gtitle')), legend: box(gd.querySelector('.legend .bg')),
          plot: box(gd.querySelector('.nsewdrag')), title_text: gd.querySelector('.gtitle').textContent};
}"""


def _overlap(a: dict, b: dict) -> bool:
    return min(a["r"], b["r"]) - max(a["l"], b["l"]) > 1 and min(a["b"], b["b"]) - max(a["t"], b["t"]) > 1


@pytest.mark.browser
@pytest.mark.parametrize("width", [700, 1100])
def test_waterfall_legend_of_many_services_does_not_cover_the_title(tmp_path, width):
    """TrainTicket's example traces (200 spans, 20 services, every report read): the legend of 22 entries wrapped
    to four rows upwards from the plot and was drawn over the title and its line "request 394.3 ms · started … ·
    200 spans". Generated: 161 spans through 21 services (truth: more spans than labels, so the plot starts at the
    left edge, under the title)."""
    spans = _many_services()
    fig = tk.plot_waterfall(spans, critical_path=True)
    path = tmp_path / "waterfall.html"
    fig.write_html(path, include_plotlyjs=True, full_html=True, default_width="100%", config={"responsive": True})
    page = open_html(path, wait_for=".js-plotly-plot .legend", evaluate=_BOXES, viewport=(width, 900))
    v = page.value
    assert page.errors == []
    assert "request 400.0 ms" in v["title_text"]
    assert not _overlap(v["title"], v["legend"]), v
    assert not _overlap(v["legend"], v["plot"]), v
    assert v["legend"]["t"] >= v["title"]["b"] - 1, v


def test_waterfall_of_spans_without_status_says_status_unknown_not_ok():
    """TrainTicket's spans carry no status, no HTTP code, no fault flag: the report's first screen says failures
    cannot be counted, yet every example trace's heading line said "· ok ·". Generated: a trace whose spans record no
    status (truth: nothing is known about failure); with a status recorded on one span, "ok" stands."""
    spans = _many_services(3, 2)
    data = tk.waterfall_data(spans, critical_path=False)
    assert data.attrs["status_recorded"] is False
    title = tk.plot_waterfall(spans).layout.title.text
    assert "status unknown" in title and " ok " not in title, title
    known = spans.assign(status=["ok"] + ["unset"] * (len(spans) - 1))
    assert tk.waterfall_data(known).attrs["status_recorded"] is True
    assert " ok " in tk.plot_waterfall(known).layout.title.text


# ---- the metrics of the likely cause -------------------------------------------------------------------------------
def _shop_with_memory_step(unit: str | None, later: str = "2h") -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A simulated shop hour and one ``later``; one point a minute per service of ``MemoryUsage`` (in ``unit``), flat
    at 10-12 but for cart's, 80 higher in the later hour (truth: cart's memory moved, in that unit)."""
    import numpy as np

    base = tk.simulate.simulate("baseline", 150, seed=1).spans
    inc = tk.simulate.simulate("baseline", 150, seed=2).spans
    inc = inc.assign(start=inc["start"] + pd.Timedelta(later), end=inc["end"] + pd.Timedelta(later))
    parts = []
    for svc in sorted(set(base["service"]) | set(inc["service"])):
        for side in (base, inc):
            t = pd.date_range(side["start"].min().ceil("1min"), side["end"].max().floor("1min"), freq="1min")
            mem = 10.0 + np.arange(len(t)) % 3 + (80.0 if side is inc and svc == "cart" else 0.0)
            parts.append(tk.metrics_from_columns({"time": t, "name": "MemoryUsage", "value": mem, "service": svc,
                                                  **({"unit": unit} if unit else {})}))
    return inc, base, pd.concat(parts, ignore_index=True)


def test_the_cause_s_metric_is_said_with_its_unit():
    """OnlineBoutique / TrainTicket with metrics: the likely cause's words read "Metrics: PodServerLatencyP90 0.092 →
    6.03" and "Metrics: CpuUsage 4.92 → 500" — no unit — while the "how sure" sentence said the same move as "0.092 →
    6.03 s". Generated: cart's memory steps from 11 to 91 Mi (truth by construction); a dimensionless unit ("1")
    stays unsaid, as in the how-sure sentence."""
    inc, base, metrics = _shop_with_memory_step("Mi")
    rc = tk.rank_causes(inc, base, level="service", n_boot=20, lift_rows=0, window=None, metrics=metrics)
    top = rc.iloc[0]
    assert top["service"] == "cart"
    assert top["metric_top"].startswith("MemoryUsage ") and top["metric_top"].endswith(" Mi"), top["metric_top"]
    assert "Metrics: MemoryUsage mean 11 → 91 Mi." in top["hypothesis"], top["hypothesis"]
    assert top["metric_top_name"] == "MemoryUsage"
    inc, base, metrics = _shop_with_memory_step("1")
    rc = tk.rank_causes(inc, base, level="service", n_boot=20, lift_rows=0, window=None, metrics=metrics)
    assert rc.iloc[0]["metric_top"] == "MemoryUsage mean 11 → 91", rc.iloc[0]["metric_top"]


def test_a_huge_rise_within_the_baseline_s_own_range_is_not_called_a_negligible_change():
    """TrainTicket 10:04 with metrics: "4 more changed by a negligible amount …: ts-security-service
    PodClientLatencyP90 (rose 77319.4 %, evidence 0.006); ts-notification-service PodClientLatencyP90 (rose
    412943.5 %, …)". A 4,000-fold rise is not a negligible change: what was negligible is how far its points went
    past the baseline's own points, which reached 14-20 s (the series jumps between 0.004 s and 18-156 s all day).
    And "evidence 0.010" was listed as under 0.01. Generated: notify's latency sits at 0.0046 s with a spike to 20 s
    every sixth minute of the baseline hour; the incident has three points, 0.0046 s twice and 25.87 s (truth: the
    mean rose ~1,900-fold, its one high point 5.87 s past the baseline's largest; evidence 0.00997, which ".3f" said as
    0.010 and two significant digits, rounded, as 0.01)."""
    import numpy as np

    inc, base, metrics = _shop_with_memory_step("Mi")
    t = pd.date_range(base["start"].min().ceil("1min"), base["end"].max().floor("1min"), freq="1min")
    v = np.full(len(t), 0.0046)
    v[5::6] = 20.0
    t_inc = pd.date_range(inc["start"].min().ceil("1min"), periods=3, freq="1min")
    parts = [metrics, *(tk.metrics_from_columns({"time": tt, "name": "PodClientLatencyP90", "value": vv,
                                                 "service": "notify", "unit": "s"})
                        for tt, vv in ((t, v), (t_inc, [0.0046, 0.0046, 25.87])))]
    pm = tk.postmortem(inc, base, level="service", metrics=pd.concat(parts, ignore_index=True))
    text = next(s for s in pm.sentences("sure") if s.startswith("Metrics:"))
    assert "notify PodClientLatencyP90" in text, text
    assert "changed by a negligible amount" not in text and "went past it by a negligible margin" in text, text
    item = text[text.index("notify PodClientLatencyP90"):]
    item = item[:item.index(")") + 1]
    # like with like: the mean of the baseline window's points (0.0046 s, every sixth 20 s) → the incident's
    assert "mean 3.11 → 8.63 s, yet the baseline itself reaches 20 s" in item, item
    ev = float(item.rsplit("evidence ", 1)[1].rstrip(")"))
    assert ev < 0.01, item  # said with the digits that show it is under the bar


# ---- when ----------------------------------------------------------------------------------------------------------
def _requests_with_a_short_slow_spell(seconds: int = 30) -> pd.DataFrame:
    """Two minutes of one route, 6 requests a second, each a server root span and a database call; for ``seconds``
    from 10:13:00 every request takes 5 times as long (truth: onset 10:13:00, recovery 10:13:``seconds``)."""
    import numpy as np

    rng = np.random.default_rng(7)
    t0 = pd.Timestamp("2026-11-25 10:12:00", tz="UTC")
    starts = t0 + pd.to_timedelta(np.sort(rng.uniform(0, 120, 720)), unit="s")
    slow = (starts >= t0 + pd.Timedelta("60s")) & (starts < t0 + pd.Timedelta(seconds=60 + seconds))
    ms = rng.gamma(9.0, 10.0, len(starts)) * np.where(slow, 5.0, 1.0)
    n = len(starts)
    tid = [f"{i:032x}" for i in range(1, n + 1)]
    root = [f"{2 * i + 1:016x}" for i in range(n)]
    db = [f"{2 * i + 2:016x}" for i in range(n)]
    end = starts + pd.to_timedelta(ms, unit="ms")
    return tk.spans_from_columns({
        "trace_id": tid + tid, "span_id": root + db, "parent_id": [None] * n + root,
        "service": ["travel"] * n + ["travel"] * n, "name": ["GET /trips/left"] * n + ["SELECT trips"] * n,
        "kind": ["server"] * n + ["client"] * n,
        "start": list(starts) + list(starts + pd.Timedelta("1ms")), "end": list(end) + list(end - pd.Timedelta("1ms"))})


def test_a_change_shorter_than_a_minute_is_said_in_seconds():
    """TrainTicket 10:12 (the travel exception the ranking misses): the report's header said "incident window
    10:13:00–10:13:30 UTC" and its "When" said "It started at 10:13 UTC and was over by 10:13 UTC (0 min)". A
    30-second change is said with seconds and its length in seconds. Generated: 30 s of requests five times slower
    from 10:13:00 (truth by construction)."""
    spans = _requests_with_a_short_slow_spell(30)
    pm = tk.postmortem(spans)
    assert pm.window is not None
    when = pm.sentences("when")[0]
    assert "(0 min)" not in when, when
    onset, recovery = pm.window
    assert abs((onset - pd.Timestamp("2026-11-25 10:13:00", tz="UTC")).total_seconds()) <= 5, pm.window
    assert f"It started at {onset:%H:%M:%S} UTC and was over by {recovery:%H:%M:%S} UTC" in when, when
    assert f"({(recovery - onset).total_seconds():.0f} s)" in when, when


# ---- how sure: what the baseline given is ----------------------------------------------------------------------------
def test_a_baseline_given_is_said_with_its_period_and_where_it_lies():
    """Every Nezha report said "Baseline: the baseline given." and "against the baseline's p95 723 ms" — not which
    requests, from when. TrainTicket's baselines (the 10 minutes before plus the fault-free minute 08:50) held the
    previous fault's minutes and, at 08:43, a minute after the incident. Generated: a baseline hour ending an hour
    before the incident hour, then the same baseline with 40 of its traces moved after the incident's first request
    (truth by construction)."""
    inc = tk.simulate.simulate("baseline", 150, seed=2).spans
    base = tk.simulate.simulate("baseline", 150, seed=1).spans
    inc = inc.assign(start=inc["start"] + pd.Timedelta("2h"), end=inc["end"] + pd.Timedelta("2h"))
    b_start = base.groupby("trace_id")["start"].transform("min")
    first, last = b_start.min(), b_start.max()
    i_first = inc.groupby("trace_id")["start"].min().min()
    pm = tk.postmortem(inc, base, level="service")
    sure, what = pm.sentences("sure")[0], pm.sentences("what")[0]
    assert sure.startswith("Baseline: the baseline given"), sure
    assert f"{first:%Y-%m-%d %H:%M}" in sure and f"{last:%H:%M}" in sure, sure
    gap = (i_first - last) / pd.Timedelta("1min")
    assert f"ending {gap:,.0f} min before the incident's first request" in sure, sure
    assert "of the baseline's 150 requests" in what, what

    later = sorted(b_start.drop_duplicates().nlargest(40).index)
    moved = base["trace_id"].isin(base.loc[later, "trace_id"])
    shift = i_first - first + pd.Timedelta("1min")
    base2 = base.assign(start=base["start"].where(~moved, base["start"] + shift),
                        end=base["end"].where(~moved, base["end"] + shift))
    sure2 = tk.postmortem(inc, base2, level="service").sentences("sure")[0]
    assert "40 of them after the incident's first request" in sure2, sure2
    assert "same period" not in sure2, sure2

    # a baseline recorded beside the incident (the bundled one is the same hour's counterfactual twin): said so,
    # not as "672 of them after the incident's first request", which read as an overlap to fix
    twin = base.assign(start=base["start"] + (i_first - first), end=base["end"] + (i_first - first))
    sure3 = tk.postmortem(inc, twin, level="service").sentences("sure")[0]
    i_last = inc.groupby("trace_id")["start"].min().max()
    n_within = int(((b_start.drop_duplicates() + (i_first - first)) <= i_last).sum())
    lead = "the same period as the data" if n_within == 150 else "mostly the data's own period"
    assert f"{lead}: {n_within:,} of its 150 traces started between" in sure3, sure3
    # "the same period" only when all are in it (a fresh reader: 3 of 5 was said so)
    assert ("same period" in sure3) == (n_within == 150)


# ---- the lifted attribute beside the cause ---------------------------------------------------------------------------
def test_a_log_template_lift_compares_only_spans_whose_period_the_logs_cover():
    """TrainTicket 10:04 with logs (the incident's minutes and the fault-free minute; the 10 minutes before have no
    log file): "Its incident spans share log_template=…[Get Sold Ticket]…: 100% of incident spans vs 37% of
    baseline" — every baseline span the logs cover logged it too; the 63 % without it were spans no record was
    collected for. Generated: every payments span logs "charge accepted" in both hours, and the logs given cover the
    incident hour and the last 20 minutes of the baseline's (truth: the template is as common in both)."""
    import numpy as np

    inc = tk.simulate.simulate("baseline", 200, seed=2).spans
    base = tk.simulate.simulate("baseline", 200, seed=1).spans
    inc = inc.assign(start=inc["start"] + pd.Timedelta("2h"), end=inc["end"] + pd.Timedelta("2h"))
    cut = base["start"].min() + pd.Timedelta("40min")
    first = base.groupby("trace_id")["start"].transform("min")
    said = pd.concat([inc[inc["service"] == "payments"],
                      base[(base["service"] == "payments") & (first >= cut)]], ignore_index=True)
    logs = tk.logs_from_columns({"time": said["start"] + pd.Timedelta("1ms"), "body": ["charge accepted"] * len(said),
                                 "trace_id": said["trace_id"], "span_id": said["span_id"], "service": said["service"],
                                 "severity": ["INFO"] * len(said)})
    a, b = tk.attach_logs(inc, logs).spans, tk.attach_logs(base, logs).spans
    rc = tk.rank_causes(a, b, level="operation", n_boot=20, lift_rows=60, window=None, logs=logs)
    pay = rc[rc["service"] == "payments"]
    assert len(pay) and np.isfinite(pay["log_templates"]).all()
    lifts = [x for x in pay["lift"].dropna().astype(str) if "charge accepted" in x]
    assert lifts == [], lifts
    # a template the incident's spans began to log is still lifted, compared on the covered spans, and says so
    new = inc[inc["service"] == "payments"]
    more = tk.logs_from_columns({"time": new["start"] + pd.Timedelta("2ms"), "body": ["fraud check slow"] * len(new),
                                 "trace_id": new["trace_id"], "span_id": new["span_id"], "service": new["service"],
                                 "severity": ["WARN"] * len(new)})
    logs = pd.concat([logs, more], ignore_index=True)
    a, b = tk.attach_logs(inc, logs).spans, tk.attach_logs(base, logs).spans
    rc = tk.rank_causes(a, b, level="operation", n_boot=20, lift_rows=60, window=None, logs=logs)
    lifts = rc.loc[rc["service"] == "payments", "lift"].dropna().astype(str).tolist()
    # with counts and their populations (session 52): the baseline's are the covered spans (its last 20 minutes'),
    # fewer than the operation's baseline spans
    found = [m for x in lifts if (m := re.search(r"=(?:fraud check slow|WARN): (\d+) of its \1 incident spans \(100%\) "
                                                 r"vs 0 of its (\d+) baseline spans \(0%\) \(spans of periods the logs "
                                                 r"cover\)", x))]
    assert found, lifts
    n_pay = int((b["service"] == "payments").sum())
    assert all(0 < int(m.group(2)) < n_pay for m in found), (lifts, n_pay)


# ---- where: the evidence that decided, first -------------------------------------------------------------------------
def test_a_cause_ranked_by_its_logs_says_so_before_its_weak_trace_evidence():
    """TrainTicket 09:25 (basic's exception, ranked first with logs): "ts-basic-service: BasicController.queryForTravel
    — its own work got slower (2 of its 12 spans above the p95 …, score 0.06; self time -0.28 ms per request …) …
    Logs: … ERROR records originate in 8 of 12 … spans against 0 of the baseline's 28, score 0.49". The rank came
    from the logs; the sentence led with a trace claim scoring 0.06 and a self time that fell. Generated: two hours of
    the simulated shop; in the later one, half of payments' spans log an ERROR the earlier never did (truth: the logs
    decide, the traces hardly differ)."""
    inc = tk.simulate.simulate("baseline", 200, seed=2).spans
    base = tk.simulate.simulate("baseline", 200, seed=1).spans
    inc = inc.assign(start=inc["start"] + pd.Timedelta("2h"), end=inc["end"] + pd.Timedelta("2h"))
    pay = inc[(inc["service"] == "payments") & (inc["kind"] == "server")].iloc[::2]
    quiet = pd.concat([inc, base], ignore_index=True)
    quiet = quiet[quiet["kind"] == "server"].iloc[::7]  # INFO records on both sides, so both periods are covered
    rows = [(pay, "card declined: issuer unavailable", "ERROR"), (quiet, "request handled", "INFO")]
    logs = pd.concat([tk.logs_from_columns({
        "time": s["start"] + pd.Timedelta("1ms"), "body": [body] * len(s), "trace_id": s["trace_id"],
        "span_id": s["span_id"], "service": s["service"], "severity": [sev] * len(s)}) for s, body, sev in rows],
        ignore_index=True)
    pm = tk.postmortem(inc, base, level="service", logs=logs)
    rc = pm.causes
    assert str(rc.iloc[0]["service"]) == "payments" and str(rc.iloc[0]["decided_by"]).startswith("logs"), rc.head()
    where = next(f.text for f in pm.findings if f.topic == "where")
    lead = where.index("payments — ") + len("payments — ")
    assert where[lead:].startswith("ranked by its logs (ERROR records"), where
    traces = float(rc.iloc[0][["slower", "waiting", "extra", "vanished", "shape", "errors"]].max())
    if traces > 0.05:  # a trace claim said beside it carries the score it has
        assert f"its traces' best evidence scores {traces:.2f}" in where, where


# ---- an example trace's log records --------------------------------------------------------------------------------
def test_an_example_trace_shows_its_error_records_among_the_rows_shown():
    """TrainTicket 09:25: the cause's example trace had 111 log records; the page showed the first 12 in time order,
    all INFO, and the 'catch price exception' ERROR records that ranked basic first were behind "full table (99 more
    rows)". Generated: the slowest simulated request gets 30 INFO records and, after them, 2 ERROR records (truth:
    the two errors are what a reader needs first)."""
    import re

    spans = tk.simulate.simulate("baseline", 60, seed=5).spans
    tid = str(tk.trace_summary(spans).nlargest(1, "request_ms")["trace_id"].iloc[0])
    tr = spans[spans["trace_id"] == tid]
    s0, sid, svc = tr["start"].min(), str(tr["span_id"].iloc[0]), str(tr["service"].iloc[0])
    n = 32
    logs = tk.logs_from_columns({
        "time": [s0 + pd.Timedelta(microseconds=10 * i) for i in range(n)],
        "body": [f"step {i} done" for i in range(30)] + ["charge failed: <b>issuer</b> down", "rollback"],
        "trace_id": [tid] * n, "span_id": [sid] * n, "service": [svc] * n,
        "severity": ["INFO"] * 30 + ["ERROR", "ERROR"]})
    from tracekit.reporting import collect_report, render_report

    html = render_report(collect_report(spans, logs=logs, worst=1))
    part = html[html.index(f'id="logs-{tid}"'):]
    rows = re.findall(r"<tr>(.*?)</tr>", part[:part.index("</table>")])
    shown = [c for c in (re.findall(r"<td[^>]*>(.*?)</td>", r) for r in rows) if c]
    assert [r[3] for r in shown[:2]] == ["ERROR", "ERROR"], shown[:3]
    assert "charge failed: &lt;b&gt;issuer&lt;/b&gt; down" in shown[0][4].replace("<wbr>", "")  # escaped
    caption = html[:html.index(f'id="logs-{tid}"')].rsplit("<p>", 1)[1]
    assert "its 2 ERROR or FATAL records first, then the rest in time order" in caption, caption


def test_a_lifted_value_is_cut_as_the_log_sentence_cuts_a_template():
    """TrainTicket 10:04, once the lift compared covered spans: its "Where" finding ended with a 13,000-character
    template (…Ticket(seatNo=<*>, startStation=<*>, destStation=<*>) … a hundred times), the first screen one
    paragraph of it. Generated: payments' spans in the incident log one record of 3,000 characters (truth: the value
    is over-represented; it is said cut to the 120 characters the Logs sentence keeps)."""
    inc = tk.simulate.simulate("baseline", 150, seed=2).spans
    base = tk.simulate.simulate("baseline", 150, seed=1).spans
    inc = inc.assign(start=inc["start"] + pd.Timedelta("2h"), end=inc["end"] + pd.Timedelta("2h"))
    pay = inc[inc["service"] == "payments"]
    body = "tickets: " + ", ".join(f"Ticket(seat{chr(65 + i % 26)})" for i in range(200))
    logs = tk.logs_from_columns({"time": pay["start"] + pd.Timedelta("1ms"), "body": [body] * len(pay),
                                 "trace_id": pay["trace_id"], "span_id": pay["span_id"], "service": pay["service"],
                                 "severity": ["INFO"] * len(pay)})
    a, b = tk.attach_logs(inc, logs).spans, tk.attach_logs(base, logs).spans
    rc = tk.rank_causes(a, b, level="operation", n_boot=20, lift_rows=60, window=None)
    lifts = [x for x in rc["lift"].dropna().astype(str) if "Ticket(seat" in x]
    assert lifts, rc["lift"].dropna().tolist()
    assert all(len(x) <= 220 and "…" in x for x in lifts), [len(x) for x in lifts]


# ---- the real windows these defects were found on (read in place; skipped where the folder is absent) ---------------
@pytest.mark.slow
def test_real_trainticket_1004_window_reads_honestly(real_traces):
    """TrainTicket 2023-01-29 10:04:34 (travel's exception; the ranking misses it, docs/guide.md): with logs and
    metrics, the postmortem says first that nothing stands out beyond chance, that logs ranked its top row, the
    lifted template compared on covered spans only and cut, the baseline's period, and no metric's huge rise as a
    negligible change — each a defect this window showed."""
    import re

    inc, base, logs, metrics = nezha_window(real_traces, "2023-01-29", "10:04:34", logs=True)
    a, b = tk.attach_logs(inc, logs).spans, tk.attach_logs(base, logs).spans
    pm = tk.postmortem(a, b, logs=logs, metrics=metrics)
    where = next(f.text for f in pm.findings if f.topic == "where")
    assert where.startswith("No operation stands out clearly beyond chance"), where[:300]
    assert "ranked by its logs (" in where, where[:600]
    assert len(where) < 3_000, len(where)
    if "Its incident spans share log_template" in where:
        assert where.rstrip(".").endswith("(spans of periods the logs cover)"), where[-300:]
    sure = pm.sentences("sure")
    assert "which started 2023-01-29 " in sure[0] and "before the incident's first request" in sure[0], sure[0]
    text = next(s for s in sure if s.startswith("Metrics:"))
    assert "changed by a negligible amount" not in text, text
    assert all(float(x) < 0.01 for x in re.findall(r"evidence (\d\.\d+)\)", text)), text


@pytest.mark.slow
@pytest.mark.browser
def test_real_onlineboutique_cpu_window_report_fits_and_says_units(real_traces, tmp_path):
    """OnlineBoutique 2022-08-22 05:18:09 (currency's CPU contention, ranked first with metrics): the report is no
    wider than a 1,200 px window (it was 1,496 px at 1,280) and the cause's metric carries its unit."""
    inc, base, _, metrics = nezha_window(real_traces, "2022-08-22", "05:18:09", logs=False)
    out = tk.report(inc, tmp_path / "ob-cpu.html", baseline=base, metrics=metrics, markdown=False)
    page = open_html(out, evaluate=_TABLES, viewport=VIEWPORT)
    v = page.value
    assert page.errors == []
    assert [t for t in v["tables"] if t["width"] > v["vw"] or t["right"] > v["vw"] + 1] == [], v
    assert v["page"] <= v["vw"], v
    html = out.read_text()
    assert "Metrics: PodServerLatencyP90 mean 0.122 → 6.03 s" in html  # the baseline's mean → the incident's


# ---- time axes ---------------------------------------------------------------------------------------------------------
def test_the_timeline_says_how_long_its_bucket_is():
    """Every report's "Over time" figure titled its first row "requests per bucket" and its metric rows "(mean per
    bucket)": a count per an unnamed length of time (TrainTicket's 2-minute windows are cut in 5 s buckets, the
    bundled hour in 1 min ones). Generated: 2 minutes of requests drawn in 5 s buckets."""
    spans = _requests_with_a_short_slow_spell(30)
    titles = [a.text for a in tk.plot_timeline(spans, freq="5s", by="route").layout.annotations]
    assert "requests per 5 s bucket" in titles, titles


def test_the_metrics_section_says_when_the_incident_began_to_the_second():
    """TrainTicket 13:31:54 (contacts' CPU fault): the metrics section said the incident ran "from 2023-01-29 13:31
    UTC", 54 s before its first request. Generated: the second of two simulated hours back to back starts at
    15:00:02 (truth), with metrics."""
    from tracekit.reporting import collect_report, render_report

    inc, base, metrics = _shop_with_memory_step("Mi", later="1h")
    data = collect_report(inc, baseline=base, metrics=metrics)
    start = data.signals_timeline.attrs["incident_start"]
    assert start.second != 0, start  # the case: not on a whole minute
    html = render_report(data)
    assert f"from {start:%Y-%m-%d %H:%M:%S} UTC" in html, html[html.index('id="metrics-over-time"'):][:600]


# ---- the header: which baseline -------------------------------------------------------------------------------------
def test_the_header_names_the_baseline_files_traces_and_period(tmp_path):
    """The header said "baseline: the baseline given": no file, no count, no period a reader could check. Now it
    names the folder given, its traces and when they started (truth: the generated baseline's own outcomes)."""
    inc = tk.simulate.simulate("baseline", 120, seed=2).spans
    base = tk.simulate.simulate("baseline", 100, seed=1).spans
    inc = inc.assign(start=inc["start"] + pd.Timedelta("2h"), end=inc["end"] + pd.Timedelta("2h"))
    from tracekit.reporting import collect_report, render_markdown, render_report

    path = tk.write_xray(base, tmp_path / "normal-hour" / "base.json")
    data = collect_report(inc, baseline=base, baseline_inputs=[path])
    starts = tk.core.trace_outcomes(base)["start"]
    html_text = render_report(data)
    header = html_text.split("<h1>", 1)[1].split("</p>", 1)[0]
    assert "baseline: the baseline given (" in header, header
    assert "100 traces" in header and f"{starts.min():%Y-%m-%d %H:%M}" in header, header
    assert f"{starts.max():%H:%M}" in header and str(path) in header, header
    md = render_markdown(data)
    assert "Baseline: the baseline given (" in md and "100 traces" in md, md[:600]
