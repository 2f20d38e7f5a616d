"""Logs and metrics in the postmortem: the ranking behind "where", the report (Python and CLI), redaction, Chromium.

Ground truth by construction: two simulated hours of the same system (seeds 3 and 4, the baseline moved one hour
earlier); in the incident hour every span of one service (``payments``) logs an ERROR naming a customer's e-mail and
its memory metric runs at 80 % instead of 10 %; every other span logs "handled request" on both sides.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.reporting import collect_report, render_markdown, render_report

from .browser import open_html

TARGET = "payments"
EMAIL = "ann.lee@example.com"
HOUR = pd.Timedelta("1h")


def _records(spans: pd.DataFrame, faulty: bool) -> dict:
    svc = spans["service"].astype(str).to_numpy()
    bad = faulty & (svc == TARGET)
    return {"time": spans["start"].to_numpy(), "trace_id": spans["trace_id"].astype(str).to_numpy(),
            "span_id": spans["span_id"].astype(str).to_numpy(), "service": svc,
            "body": np.where(bad, f"payment token rejected for {EMAIL}", "handled request"),
            "severity": np.where(bad, "ERROR", "INFO")}


@pytest.fixture(scope="module")
def signals():
    inc = tk.simulate.simulate("baseline", 200, seed=3).spans
    base = tk.simulate.simulate("baseline", 200, seed=4).spans
    base = base.assign(start=base["start"] - HOUR, end=base["end"] - HOUR)
    a, b = _records(inc, True), _records(base, False)
    logs = tk.logs_from_columns({k: np.concatenate([a[k], b[k]]) for k in a})
    # a point stamped t describes the minute before it (metric_series.described_times), as a scraped gauge does
    t = pd.date_range(base["start"].min().floor("1min"), inc["end"].max().ceil("1min") + pd.Timedelta("1min"), freq="1min")
    services = sorted(set(inc["service"].astype(str)))
    rows = [(ti, s, (80.0 if s == TARGET and ti > inc["start"].min().floor("1min") else 10.0) + i % 3)
            for i, ti in enumerate(t) for s in services]
    metrics = tk.metrics_from_columns({"time": [r[0] for r in rows], "name": "memory", "unit": "%",
                                       "value": [r[2] for r in rows], "service": [r[1] for r in rows]})
    return inc, base, logs, metrics


@pytest.fixture(scope="module")
def data(signals):
    inc, base, logs, metrics = signals
    return collect_report(inc, baseline=base, logs=logs, metrics=metrics, redact=["user.*"], worst=2)


def test_postmortem_ranks_with_every_signal_given(signals):
    inc, base, logs, metrics = signals
    plain = tk.postmortem(inc, base)
    pm = tk.postmortem(inc, base, logs=logs, metrics=metrics)
    top = pm.causes.iloc[0]
    assert top["service"] == TARGET and top["signals"] == "logs, metrics"  # the traces are the same two hours
    assert pm.params["signals"] == ["traces", "logs", "metrics"] and plain.params["signals"] == ["traces"]
    assert "signals" not in plain.causes.columns
    where = " ".join(pm.sentences("where"))
    assert TARGET in where and "ERROR records originate" in where and "memory" in where
    # the metric that moved at each component is named on its row; it moved at the target only
    rc, at = pm.causes, pm.causes["service"] == TARGET  # one row per operation (postmortem's level)
    assert (rc.loc[at, "metric_top_name"] == "memory").all() and (rc.loc[~at, "metrics"] == 0).all()


def test_report_data_carries_logs_metrics_and_redacts_records(data, signals):
    inc, _, logs, metrics = signals
    assert data.story.causes.iloc[0]["service"] == TARGET
    assert data.settings["signals"] == ["traces", "logs", "metrics"]
    assert data.settings["log_records"] == len(logs) and data.settings["metric_points"] == len(metrics)
    assert data.settings["log_records_on_incident_spans"] == len(inc)  # every incident span has its one record
    assert data.settings["log_records_on_baseline_spans"] == len(logs) - len(inc)
    assert data.settings["log_records_on_no_span"] == 0
    st = data.signals_timeline
    assert st is not None and TARGET in set(st["service"]) and "metric.memory" in st.columns
    assert st.attrs["metric_names"] == ["memory"]
    # the baseline hour just before is on the same axis, so the move is drawn: the target's memory under its requests
    # is 10-12 % in the baseline's buckets and 80-82 % in the incident's
    assert st.attrs["with_baseline"]
    part = st[(st["service"] == TARGET) & (st["requests"] > 0)]
    before = part["time"] < inc["start"].min().floor("1min")
    assert before.sum() > 10 and (~before).sum() > 10
    assert part.loc[before, "metric.memory"].between(10, 12).all() and part.loc[~before, "metric.memory"].between(80, 82).all()
    html, md = render_report(data), render_markdown(data)
    assert EMAIL not in html and EMAIL not in md  # redaction reaches the log records and the hypotheses
    assert "payment token rejected for" in html  # the record itself is shown, its e-mail replaced
    assert 'id="metrics-over-time"' in html and "Log records of this trace" in html


def test_report_counts_log_records_on_no_span_and_says_so(signals):
    """Records whose ids name no span are counted and said in the report, not dropped silently; a metric of a
    service the spans never name moves nothing drawn."""
    inc, base, logs, metrics = signals
    stray = tk.logs_from_columns({"time": [inc["start"].min()] * 3, "body": ["orphan record"] * 3,
                                  "trace_id": ["f" * 32] * 3, "span_id": ["e" * 16] * 3})
    other = tk.metrics_from_columns({"time": metrics["time"], "name": "cpu", "value": metrics["value"] * 0 + 5.0,
                                     "service": "no-such-service"})
    d = collect_report(inc, baseline=base, logs=pd.concat([logs, stray], ignore_index=True), metrics=other, worst=0)
    assert d.settings["log_records_on_no_span"] == 3 and d.signals_timeline is None
    # the incident against itself: its records are on the spans of both sides (counted on each), the baseline
    # hour's records and the 3 on none — counted once each, not clipped by the double count
    same = collect_report(inc, baseline=inc, logs=pd.concat([logs, stray], ignore_index=True), worst=0)
    assert same.settings["log_records_on_incident_spans"] == same.settings["log_records_on_baseline_spans"] == len(inc)
    assert same.settings["log_records_on_no_span"] == len(base) + 3
    html = render_report(d)
    assert "3 on no span of either" in html and 'id="metrics-read"' in html


def test_swapped_logs_and_metrics_arguments_are_named(signals):
    """postmortem(logs=metrics) said 'log_templates needs a frame with a 'body' column' (a function the caller never
    called); metrics=logs listed 20 missing columns. Both say which argument holds which frame now."""
    inc, base, logs, metrics = signals
    with pytest.raises(tk.ArgumentError, match=r"rank_causes: logs is not a logs frame .*a metrics frame: pass it as "
                                               r"metrics="):
        tk.postmortem(inc, base, logs=metrics)
    with pytest.raises(tk.ArgumentError, match=r"rank_causes: metrics is not a metrics frame.*a logs frame: pass it as "
                                               r"logs="):
        tk.rank_causes(inc, base, metrics=logs)
    with pytest.raises(tk.ArgumentError, match=r"attach_logs: logs is not a logs frame"):
        tk.attach_logs(inc, metrics)


def test_a_huge_log_body_is_shown_clipped_in_the_report_tables(signals):
    """A 1 MB log body (a stack trace, a dumped payload) on an example trace's span was written whole into the
    page's table cell of every row that showed it: 14 MB of cells for 14 records. A cell shows its first
    CELL_CHARS characters and says how many more there are."""
    from tracekit.reporting import CELL_CHARS, _cell

    text, _ = _cell("payment failed " + "E" * 1_000_000, "")
    assert text.count("<wbr>") <= CELL_CHARS // 48 + 1  # break points in the one long word (s39 views3), not text
    text = text.replace("<wbr>", "")
    assert len(text) < CELL_CHARS + 100 and text.startswith("payment failed EEE")
    assert text.endswith(f"… (+{1_000_015 - CELL_CHARS:,} characters)")
    assert _cell("<b>" * 2_000, "")[0].startswith("&lt;b&gt;")  # escaped after the cut: no half entity
    assert _cell("short", "") == ("short", False)


def _csv_downloads(html: str) -> dict[str, str]:
    import base64
    import re

    return {m.group(1): base64.b64decode(m.group(2)).decode()
            for m in re.finditer(r'download="([^"]*)" href="data:text/csv;base64,([^"]*)"', html)}


def test_csv_downloads_cap_values_as_the_table_cells_do():
    """The CSV behind a table's "download CSV" held whole values: a 1 MB log body made 1.3 MB of base64 per
    download on the page. A CSV value keeps its first CELL_CHARS characters (the cells' cap) and says how many
    characters were cut; containers are capped after their JSON; short values, numbers and missing stay as they are."""
    import io

    from tracekit.reporting import CELL_CHARS, _table

    big = "payment failed " + "E" * 1_000_000
    df = pd.DataFrame({"n": range(20), "body": pd.array(["ok"] * 19 + [big], dtype="string[pyarrow]"),
                       "note": ["x"] * 18 + [None, "é" * (CELL_CHARS + 5)],
                       "attributes": [{}] * 19 + [{"k": "v" * 3 * CELL_CHARS}]})
    (name, raw), = _csv_downloads(_table(df, name="t", max_rows=3)).items()
    back = pd.read_csv(io.StringIO(raw), keep_default_na=False)
    assert name == "t.csv" and len(raw) < 4 * CELL_CHARS + 2_000
    assert back["body"].iloc[19] == big[:CELL_CHARS] + f"… (+{len(big) - CELL_CHARS:,} characters)"
    assert back["note"].iloc[19] == "é" * CELL_CHARS + "… (+5 characters)" and back["note"].iloc[18] == ""
    text = json.dumps({"k": "v" * 3 * CELL_CHARS})
    assert back["attributes"].iloc[19] == text[:CELL_CHARS] + f"… (+{len(text) - CELL_CHARS:,} characters)"
    assert back["body"].iloc[0] == "ok" and back["n"].tolist() == list(range(20)) and back["attributes"].iloc[0] == "{}"


def test_a_huge_log_body_on_an_example_trace_is_capped_in_its_csv_download(data):
    """End to end: a 1 MB body on a record of an example trace reaches the page capped, table and CSV."""
    import dataclasses
    import io

    from tracekit.reporting import CELL_CHARS

    tid = data.worst[0][1]
    big = "payment failed " + "E" * 1_000_000
    spans = data.spans.copy()
    events = spans["events"].copy()
    row = next(i for i in np.flatnonzero((spans["trace_id"] == tid).to_numpy())
               if any(e.get("name") == "log" for e in events.iloc[i]))
    evs = [dict(e) for e in events.iloc[row]]
    k = next(j for j, e in enumerate(evs) if e.get("name") == "log")
    evs[k] = {**evs[k], "attributes": {**evs[k]["attributes"], "log.body": big}}
    events.iloc[row] = evs
    html = render_report(dataclasses.replace(data, spans=spans.assign(events=events)))
    assert "E" * (CELL_CHARS + 1) not in html and len(html) < 8_000_000
    csv = _csv_downloads(html)[f"logs-{tid}.csv"]
    bodies = pd.read_csv(io.StringIO(csv))["body"].tolist()
    assert big[:CELL_CHARS] + f"… (+{len(big) - CELL_CHARS:,} characters)" in bodies


def test_report_without_signals_is_unchanged_in_shape(signals):
    inc, base, _, _ = signals
    d = collect_report(inc, baseline=base, worst=0)
    assert d.signals_timeline is None and d.settings["signals"] == ["traces"]
    assert 'id="metrics-over-time"' not in render_report(d) and "signals" not in d.story.causes.columns


def _otlp_logs(logs: pd.DataFrame) -> str:
    """Collector-style OTLP logs JSON lines (one resourceLogs per service), written from the spec's field names."""
    lines = []
    for svc, g in logs.groupby("service"):
        recs = [{"timeUnixNano": str(int(t.value)), "severityText": sev, "body": {"stringValue": body},
                 "traceId": tid, "spanId": sid}
                for t, sev, body, tid, sid in zip(g["time"], g["severity_text"], g["body"], g["trace_id"], g["span_id"],
                                                  strict=True)]
        lines.append(json.dumps({"resourceLogs": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": svc}}]},
            "scopeLogs": [{"scope": {"name": "test"}, "logRecords": recs}]}]}))
    return "\n".join(lines) + "\n"


def _otlp_metrics(metrics: pd.DataFrame) -> str:
    lines = []
    for svc, g in metrics.groupby("service"):
        pts = [{"timeUnixNano": str(int(t.value)), "asDouble": float(v)} for t, v in zip(g["time"], g["value"], strict=True)]
        lines.append(json.dumps({"resourceMetrics": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": svc}}]},
            "scopeMetrics": [{"metrics": [{"name": "cpu", "unit": "%", "gauge": {"dataPoints": pts}}]}]}]}))
    return "\n".join(lines) + "\n"


@pytest.mark.slow  # two reads and a report in a subprocess
def test_cli_report_reads_logs_and_metrics_files(signals, tmp_path):
    inc, base, logs, metrics = signals
    tk.write_otlp(inc, tmp_path / "incident.jsonl")
    tk.write_otlp(base, tmp_path / "baseline.jsonl")
    (tmp_path / "logs.jsonl").write_text(_otlp_logs(logs))
    (tmp_path / "metrics.jsonl").write_text(_otlp_metrics(metrics))
    assert len(tk.read_logs(tmp_path / "logs.jsonl")) == len(logs)  # the files say what the frames say
    out = tmp_path / "r.html"
    run = subprocess.run([sys.executable, "-m", "tracekit", "report", str(tmp_path / "incident.jsonl"),
                          "--baseline", str(tmp_path / "baseline.jsonl"), "--logs", str(tmp_path / "logs.jsonl"),
                          "--metrics", str(tmp_path / "metrics.jsonl"), "--redact", "user.*", "--worst", "1",
                          "--no-progress", "-o", str(out)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    html = out.read_text()
    assert EMAIL not in html and EMAIL not in out.with_suffix(".md").read_text()
    assert 'id="metrics-over-time"' in html
    # the inputs table lists the logs and metrics files beside the traces
    for name in ("logs.jsonl", "metrics.jsonl", "incident.jsonl"):
        assert name in html
    md = out.with_suffix(".md").read_text()
    assert "Likely cause (ranked first" in md and TARGET in md.split("Likely cause (ranked first", 1)[1][:200]


def test_cli_report_names_a_missing_logs_file(signals, tmp_path):
    inc, _, _, _ = signals
    tk.write_otlp(inc.head(50), tmp_path / "incident.jsonl")
    run = subprocess.run([sys.executable, "-m", "tracekit", "report", str(tmp_path / "incident.jsonl"), "--logs",
                          str(tmp_path / "nope.jsonl"), "--no-progress", "-o", str(tmp_path / "r.html")],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode != 0 and "nope.jsonl" in run.stderr and not (tmp_path / "r.html").exists()


def test_cli_report_says_what_of_the_logs_and_metrics_it_did_not_read(signals, tmp_path):
    """A logs directory often holds plain-text files (app.log) beside JSON: they were passed over without a word
    (the traces' inputs say so), and bad records skipped with --errors skip came out as a Python warning."""
    inc, _, logs, _ = signals
    tk.write_otlp(inc.head(50), tmp_path / "incident.jsonl")
    d = tmp_path / "logs"
    d.mkdir()
    (d / "a.jsonl").write_text(_otlp_logs(logs.head(20)) + '{"resourceLogs": [{"scopeLogs": [{"logRecords": '
                               '[{"timeUnixNano": "soon"}]}]}]}\n')
    (d / "app.log").write_text("2024-01-01 00:00:00 ERROR plain text, not JSON\n")
    (tmp_path / "m.jsonl").write_text(json.dumps({"resourceSpans": []}) + "\n" + _otlp_metrics(_metrics_head(signals)))
    (d / "page.json").write_text(json.dumps({"events": [{"timestamp": 1, "message": "x"}], "nextToken": "t"}))
    run = subprocess.run([sys.executable, "-m", "tracekit", "report", str(tmp_path / "incident.jsonl"), "--logs", str(d),
                          "--metrics", str(tmp_path / "m.jsonl"), "--errors", "skip", "--worst", "0", "--no-progress",
                          "-o", str(tmp_path / "r.html")], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    err = run.stderr
    assert "ignored 1 file of the logs that is not log data: " in err and "app.log" in err
    assert "skipped 1 bad record of the logs; first: " in err and "timeUnixNano" in err
    assert "ignored 1 record of the metrics that is not metric data" in err
    assert "warning: the logs are incomplete: one page of a paginated AWS output (a NextToken)" in err
    assert "end early" not in err
    assert "Warning" not in err


def test_cli_report_says_a_cut_logs_file_is_cut_not_a_page(signals, tmp_path):
    """A gzip file cut short (a copy interrupted) read with --errors skip loads the records before the cut and sets
    attrs['truncated'], as a paginated output's first page does: the report's warning said 'one page of a paginated
    AWS output (a NextToken)' for both."""
    import gzip

    inc, _, logs, _ = signals
    tk.write_otlp(inc.head(50), tmp_path / "incident.jsonl")
    whole = gzip.compress(_otlp_logs(logs.head(200)).encode())
    (tmp_path / "logs.jsonl.gz").write_bytes(whole[: len(whole) * 2 // 3])
    run = subprocess.run([sys.executable, "-m", "tracekit", "report", str(tmp_path / "incident.jsonl"), "--logs",
                          str(tmp_path / "logs.jsonl.gz"), "--errors", "skip", "--worst", "0", "--no-progress",
                          "-o", str(tmp_path / "r.html")], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "warning: the logs are incomplete: 1 file ends early" in run.stderr and "logs.jsonl.gz" in run.stderr
    assert "NextToken" not in run.stderr


def _metrics_head(signals) -> pd.DataFrame:
    return signals[3].head(30)


@pytest.mark.browser
def test_report_with_signals_in_chromium(data, tmp_path):
    path = tmp_path / "report.html"
    path.write_text(render_report(data), encoding="utf-8")
    page = open_html(path, wait_for=".js-plotly-plot .main-svg", evaluate="""() => {
        const h = document.getElementById('metrics-over-time');
        let el = h && h.nextElementSibling, plot = null;
        while (el && !plot) { plot = el.querySelector ? el.querySelector('.js-plotly-plot') : null; el = el.nextElementSibling; }
        return {
            metricRows: plot ? [...plot.querySelectorAll('.gtitle, .annotation-text')].map(e => e.textContent) : [],
            causesHead: [...document.querySelectorAll('#causes-table thead th')].map(th => th.textContent),
            firstCause: [...(document.querySelector('#causes-table tbody tr') || document.createElement('tr'))
                         .querySelectorAll('td')].map(td => td.textContent),
            logTables: document.querySelectorAll('table[id^="logs-"]').length,
            text: document.body.innerText,
        };
    }""")
    assert page.errors == []
    v = page.value
    assert any("memory" in t for t in v["metricRows"])  # the metric row under the requests
    assert "signals" in v["causesHead"]
    first = dict(zip(v["causesHead"], v["firstCause"], strict=False))
    assert TARGET in first["component"] and first["signals"] == "logs, metrics"
    assert "ERROR logs" in first["evidence (score of each kind)"]
    assert v["logTables"] >= 1 and EMAIL not in v["text"]


def test_the_report_computes_from_redacted_metrics_too(signals, monkeypatch):
    """redact= reached the spans, the baseline and the logs but not the metrics: a metric's attributes and its
    exemplars' (an exemplar keeps the filtered attributes of the measurement: a user's id) went into the ranking
    as given. Nothing of them is drawn today; whatever is computed from them starts redacted."""
    import tracekit.investigate.postmortem as pm_module

    inc, base, logs, metrics = signals
    tagged = metrics.assign(
        attributes=[{"user.email": EMAIL, "pod": "p1"} for _ in range(len(metrics))],
        exemplars=[[{"time": 0, "value": 1.0, "trace_id": None, "span_id": None, "attributes": {"user.email": EMAIL}}]
                   for _ in range(len(metrics))])
    seen = []
    real = pm_module.postmortem

    def spy(*args, **kw):
        seen.append(kw.get("metrics"))
        return real(*args, **kw)

    monkeypatch.setattr(pm_module, "postmortem", spy)
    collect_report(inc, baseline=base, metrics=tagged, redact=["user.*"], worst=0)
    assert len(seen) == 1 and len(seen[0]) == len(metrics)
    cells = [d for d in seen[0]["attributes"]] + [e["attributes"] for x in seen[0]["exemplars"] for e in x]
    assert all(d["user.email"].startswith("hmac:") for d in cells) and seen[0]["attributes"].iloc[0]["pod"] == "p1"
    assert tagged["attributes"].iloc[0]["user.email"] == EMAIL  # the caller's frame is untouched
