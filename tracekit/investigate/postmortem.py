"""The incident's story: what, when, where, what changed, how sure — each a sentence with its numbers.

:func:`postmortem` runs the analyses a postmortem needs and reads one finding per question off their
results (it computes no statistic of its own):

- **what** — which requests were hurt and how much: the most significant change of request latency
  (p95) or error rate per route (:func:`~tracekit.detect_changes` with ``by="route"``), the requests
  in its window, before → during with an interval; with no change, the whole window's numbers;
- **when** — the change window (onset, recovery or "ongoing"), and the other routes that changed
  with it; or "no onset found: the whole window is the incident";
- **where** — the top of the ranking of causes against the baseline at the ``level`` asked for
  (:func:`~tracekit.compare` of the incident window against the baseline: the operation whose
  exclusive critical-path time per request grew most, with its callee, latency before → after and
  an example trace);
- **changed** — versions first seen in or just before the window (:func:`~tracekit.deployments`) or, against a
  baseline given, versions it never ran (then said first too: the ranking compares releases),
  call paths new or gone against the baseline, serverless cold starts (:func:`~tracekit.cold_starts`;
  with a baseline, a change only when more frequent than in it beyond chance);
- **sure** — what limits trust: the baseline's origin, the number of requests, sampling (the
  sampling-corrected error rate and p95 next to the naive ones when weights are known), and the
  health warnings (:func:`~tracekit.health_report`).

The **baseline** is the one given, else the normal period :func:`~tracekit.incident_periods` finds
around the detected change (the requests before the onset; before and after together when the period
before is not acceptable alone), else none. A found period is **acceptable** only with enough requests
(``min_baseline`` traces), enough time (requests in as many buckets as a change needs to be tested on)
and no change or abnormal bucket left in it; when none is, that is said first, nothing is ranked, and
"how sure" says the baseline is none. :attr:`Postmortem.baseline_source` says which, in words.

>>> import tracekit as tk
>>> pm = tk.postmortem(tk.read(tk.examples.path("checkout-small")))
>>> [f.topic for f in pm.findings][:2]
['what', 'when']
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..analysis.changes import clock_text, fast_failure_mirrors, period_text, window_text
from ..analysis.metric_evidence import MIN_BASELINE_POINTS, NEGLIGIBLE_EVIDENCE
from ..core import (
    DEFAULT_N_BOOT,
    callees,
    count_arg,
    failed_share,
    ns,
    percentile,
    request_routes,
    require_columns,
    result_table,
    share_arg,
    span_count,
    span_tree,
    span_window,
    status_recorded,
    trace_outcomes,
    unknown_outcomes,
)
from ..core.results import Result
from ..core.words import freq_text, ms_text, p_value_text, percent, points
from ..core.words import plural as _plural
from ..errors import ArgumentError, TraceKitError
from .causes import (
    CHANCE_MIN_TRACES,
    EVIDENCE,
    FANOUT_WORDS,
    SAID_EVIDENCE,
    SCORE_COLUMNS,
    chance_score,
    level_frame,
    rank_causes,
)
from .causes import LEVELS as CAUSE_LEVELS

__all__ = ["postmortem", "Postmortem", "Finding", "FINDINGS", "LEVELS"]

#: what ``level`` may be: the unit a cause is named at
LEVELS = ("service", "operation", "call_path", "host", "version")
#: the findings table (:meth:`Postmortem.table`), declared as data
FINDINGS = result_table("postmortem_findings", "one row per finding of the postmortem, in reading order", [
    ("topic", "string", "", "baseline (first, only when the baseline given holds some of the spans, is not comparable, or the "
                              "baseline compared with has too few traces for the incident's) / what / when / where / "
                              "changed / sure"),
    ("finding", "string", "", "the finding as one sentence, its numbers in it"),
    ("example_trace_ids", "object", "", "traces that show it (tuple of 32-hex ids; may be empty)"),
])
_TOPICS = ("baseline", "what", "when", "where", "changed", "sure")


@dataclass(frozen=True)
class Finding:
    """One finding: its ``topic`` (:data:`FINDINGS`), the ``text`` sentence, example trace ids and the
    numbers in it (``evidence``, plain floats and strings) for tests and tooling."""

    topic: str
    text: str
    trace_ids: tuple[str, ...] = ()
    evidence: dict = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Postmortem(Result):
    """What :func:`postmortem` found. Frames are new objects; the input is not modified.

    Attributes
    ----------
    findings : tuple of Finding
        In reading order: what, when, where, changed, sure (several per topic possible); first of all, a
        ``baseline`` finding for each of these, in this order: the baseline given holds some of the spans
        themselves (:func:`~tracekit.analysis.baseline_check.own_traces`: those traces are left out of it); the
        baseline given is not comparable with the spans
        (:func:`~tracekit.analysis.baseline_check.baseline_comparability`: then it is set aside); no baseline
        given and no acceptable one found around the change (:func:`~tracekit.incident_periods`' ``rejected``:
        then nothing is ranked); the baseline compared with (given, or the normal period found before the change) holds too few traces for the
        incident's (:func:`~tracekit.analysis.baseline_check.baseline_too_small`: then nothing ranked from it is
        called a likely cause).
    incident : pandas.DataFrame
        The spans of the incident: the traces in the change window, else every span.
    baseline : pandas.DataFrame or None
        The baseline spans (given, or the normal period before the change), or None.
    baseline_source : str
        Where the baseline came from, in words.
    window : tuple of pandas.Timestamp or None
        (onset, recovery) of the change the story is about (recovery NaT while ongoing).
    changes : pandas.DataFrame
        :func:`~tracekit.detect_changes` by route over the whole input.
    causes : pandas.DataFrame or None
        The ranking behind "where" (:func:`~tracekit.rank_causes` at ``level``), None without a baseline
        or at ``level="call_path"``.
    comparison : pandas.DataFrame or None
        :func:`~tracekit.compare` of the incident with the baseline at ``level`` (its table), None without a baseline.
    structure : pandas.DataFrame or None
        Call paths present in one set only (from the comparison).
    level : str
        The level causes are named at.
    freq : str
        The time bucket used.
    health : pandas.DataFrame
        :func:`~tracekit.health_report` of the spans (behind the "how sure" finding).
    params : dict
        The settings it was computed with (level, freq, alpha, min_baseline, n_boot).
    table : pandas.DataFrame
        The findings as a table (:data:`FINDINGS`), one row per finding in reading order.

    Examples
    --------
    >>> import tracekit as tk
    >>> pm = tk.postmortem(tk.examples.load("checkout-small"))
    >>> list(pm.table.columns), pm.baseline_source.startswith("none"), pm.params["level"]
    (['topic', 'finding', 'example_trace_ids'], True, 'operation')
    """

    findings: tuple[Finding, ...]
    incident: pd.DataFrame = field(repr=False)
    baseline: pd.DataFrame | None = field(repr=False)
    baseline_source: str
    window: tuple[pd.Timestamp, pd.Timestamp] | None
    changes: pd.DataFrame = field(repr=False)
    causes: pd.DataFrame | None = field(repr=False)
    comparison: pd.DataFrame | None = field(repr=False)
    structure: pd.DataFrame | None = field(repr=False)
    level: str
    freq: str
    health: pd.DataFrame = field(repr=False, default=None)
    params: dict = field(default_factory=dict)

    @property
    def table(self) -> pd.DataFrame:
        """The findings as a DataFrame (:data:`FINDINGS`)."""
        return pd.DataFrame([{"topic": f.topic, "finding": f.text, "example_trace_ids": f.trace_ids}
                             for f in self.findings], columns=FINDINGS.column_names).astype(
            {"topic": "string", "finding": "string"})

    def sentences(self, topic: str | None = None) -> list[str]:
        """The finding sentences (of one ``topic``)."""
        return [f.text for f in self.findings if topic is None or f.topic == topic]


# ---- formatting numbers in sentences ------------------------------------------------------------------
#: milliseconds as a person writes them (``0.42 ms``, ``12.3 ms``, ``846 ms``, ``1.8 s``): core.words' one rule
fmt_ms = ms_text


def _signed_ms(x: float) -> str:
    return ms_text(x, signed=True)


def _rate(x: float) -> str:
    """An error rate: NaN is a set where no span records a status (core.status_recorded), unknown, not n/a."""
    return "unknown" if x is None or not np.isfinite(x) else _pct(x)


def _pct(x: float) -> str:
    return percent(x, 1 if x is None or not np.isfinite(x) or x >= 0.001 or x == 0 else 2, unit=" %")


def _value(metric: str, x: float) -> str:
    return _pct(x) if metric == "error_rate" else (f"{x:,.0f}" if metric == "requests" else fmt_ms(x))


def _delta(metric: str, x: float) -> str:
    if metric == "error_rate":
        return points(x)
    if metric == "requests":
        return f"{x:+,.0f}"
    return _signed_ms(x)


# ---- the analysis ------------------------------------------------------------------------------------
def postmortem(
    spans: pd.DataFrame,
    baseline: pd.DataFrame | None = None,
    *,
    level: str = "operation",
    freq: str | None = None,
    alpha: float = 0.01,
    weights: Any = None,
    min_baseline: int = 30,
    n_boot: int = DEFAULT_N_BOOT,
    logs: pd.DataFrame | None = None,
    metrics: pd.DataFrame | None = None,
) -> Postmortem:
    """Answer the postmortem questions on ``spans``, each finding a sentence with its numbers.

    Parameters
    ----------
    spans : pandas.DataFrame
        The spans of the incident period (not modified).
    baseline : pandas.DataFrame, optional
        Spans of a normal period. ``None``: the normal period before the detected change. A baseline
        that is not comparable with ``spans`` (another format or system: see
        :func:`~tracekit.analysis.baseline_check.baseline_comparability`) is said first and set aside;
        against ``spans`` cut from the middle of their traces (none holds its root span), a baseline of whole
        traces is compared by its spans below the roots, said first.
    level : {"service", "operation", "call_path", "host", "version"}
        What a cause is named as.
    freq : str, optional
        Time bucket for the change detection (default: about 60 buckets over the data, rounded).
    alpha : float
        Family-wise false-positive rate of the change detection.
    weights : DataFrame, Series or float, optional
        Sampling weights (:func:`~tracekit.sampling_weights`); default: those the data carries, if any.
    min_baseline : int
        Fewest traces of a found baseline: fewer before the onset and the period after the recovery joins
        them; fewer in both and no baseline is acceptable (said first).
    n_boot : int
        Bootstrap draws of the comparison.
    logs : pandas.DataFrame, optional
        A logs frame (:func:`~tracekit.read_logs`) covering both periods: its evidence joins the
        traces' in the ranking behind "where" (``rank_causes(..., logs=)``: which log statements
        each operation's spans emit, where ERROR records originate).
    metrics : pandas.DataFrame, optional
        A metrics frame (:func:`~tracekit.read_metrics`; cumulative sums as rates,
        :func:`~tracekit.metric_rates`) covering both periods: metric evidence per service joins the
        ranking (``rank_causes(..., metrics=)``).

    Returns
    -------
    Postmortem

    Raises
    ------
    SpansSchemaError
        A needed column is missing.
    ArgumentError
        Bad ``level`` or ``alpha``.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.simulate.simulate("db-lock", 600, seed=11).spans
    >>> pm = tk.postmortem(spans)
    >>> print(pm.sentences("when")[0])  # doctest: +ELLIPSIS
    It started at 14:2... UTC and was over by 14:3... UTC (... min), ...
    """
    require_columns(spans, ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end"), "postmortem")
    if level not in LEVELS:
        raise ArgumentError(f"postmortem: level must be one of {', '.join(LEVELS)}; got {level!r}")
    alpha = share_arg(alpha, "alpha", "postmortem")
    min_baseline = count_arg(min_baseline, "min_baseline", "postmortem")
    n_boot = count_arg(n_boot, "n_boot", "postmortem", minimum=1)
    from ..analysis.baseline_check import (
        MAX_INCIDENT_PER_BASELINE,
        baseline_comparability,
        baseline_too_small,
        own_traces,
    )
    from ..analysis.metric_changes import metric_incident_periods
    from ..analysis.skew_story import skew_story

    # a baseline holding these spans themselves (a whole day given as its incident hour's baseline) compared the
    # incident partly with itself: those traces are left out of it, and said first (as read, before clocks are fixed)
    held = None
    if baseline is not None:
        own = own_traces(spans, baseline)
        n_given = baseline["trace_id"].nunique()
        if len(own) and len(own) < n_given:
            baseline = baseline[~baseline["trace_id"].isin(own).to_numpy(dtype=bool)]
            held = Finding("baseline", f"The baseline given holds {_plural(len(own), 'trace')} of these spans "
                                       f"themselves (the same spans: trace and span ids, start and end), of its "
                                       f"{_plural(n_given, 'trace')}; they are left out of it, so the incident is "
                                       f"compared with its other {_plural(n_given - len(own), 'trace')}.", (),
                           dict(own_traces=len(own), baseline_traces=n_given))
    # a skewed clock is named, and its offset taken off before anything is compared (it would read as a cause)
    skew = skew_story(spans)
    raw, spans = spans, skew.spans
    if baseline is not None and len(skew.skewed):
        baseline = skew_story(baseline).spans
    unlike = cut = None
    if baseline is not None:  # a baseline from another system or format: said first, nothing ranked from it
        check = baseline_comparability(spans, baseline)
        below = _below_roots(spans, baseline) if not check.comparable else None
        if below is not None and baseline_comparability(spans, below).comparable:
            # spans cut from the middle of their traces (no trace of them holds its root span) against a baseline
            # of whole traces: compared on the baseline's spans below its roots, not set aside (network_delay seed 0,
            # the incident's root spans dropped: nothing ranked -> the injected service, likely)
            cut = (int(spans["trace_id"].nunique()), int(baseline["trace_id"].nunique()), len(baseline) - len(below))
            baseline = below
        elif not check.comparable:
            unlike, baseline = check, None
    # sampling weights (given, or carried by the data): the change detection, "what happened" (corrected numbers
    # first, on either path) and "how sure" all weigh the requests by them
    w = _sample_weights(spans, weights)
    periods = metric_incident_periods(spans, baseline, freq=freq, alpha=alpha, weights=w, min_baseline=min_baseline,
                                      metrics=metrics)  # (incident_periods; where it finds no change, the metrics')
    freq, changes, head, window = periods.freq, periods.changes, periods.change, periods.window
    incident, base, source = periods.incident, periods.baseline, periods.source
    findings: list[Finding] = [held] if held is not None else []
    if cut is not None:
        findings.append(Finding("baseline", f"None of the {_plural(cut[0], 'trace')} of these spans holds its root span "
                                            f"(the request's own: spans cut from the middle of their traces), while "
                                            f"the baseline's {_plural(cut[1], 'trace')} do: its {cut[2]:,} root spans "
                                            "are left out, so both are compared on the spans below the roots (the "
                                            "requests' own latency and outcome are not compared).", (),
                                dict(comparable=True, roots_left_out=cut[2])))
    if unlike is not None:  # the periods were found without it: their words say "no baseline given"
        # ("none (no baseline given, and too little data ...)" right after "the baseline given is not comparable")
        instead = source.replace("no baseline given and ", "").replace("no baseline given, and ", "")
        source = f"{instead}; the baseline given was set aside as not comparable"
        findings.append(Finding("baseline", f"{unlike.reason} Compared instead with: {instead}.", (),
                                dict(comparable=False, operations=unlike.operations, services=unlike.services,
                                     shared_span_share=unlike.shared_span_share, formats=unlike.formats)))
    # no acceptable baseline found (incident_periods: too few traces, too short to be tested, or itself changed): said
    # first, and nothing is ranked against it — a period that may itself be abnormal is not "normal"
    if periods.rejected:
        findings.append(Finding("baseline", f"No acceptable baseline: {periods.rejected}. Nothing is compared with it, "
                                            "so no cause is ranked and what changed is not measured against a normal "
                                            "period; give a baseline= of a normal period to compare with.", (),
                                dict(acceptable=False, rejected=periods.rejected)))
    # a change found from the data's start and the baseline after it: which side is normal is not in the data, said first
    flip = _which_side_normal(spans, periods) if baseline is None else ""
    # said first where the period taken as normal fails clearly more than the window (the reading is then likely the
    # wrong way round); else a caveat in "how sure", after what the baseline is
    flip_first = bool(flip) and _fails_more(periods.baseline, periods.incident)
    if flip_first:
        findings.append(Finding("baseline", flip, (), dict(side_unknown=True, baseline_fails_more=True)))
    # a baseline given that holds a change of its own (a previous incident's minutes): said first, compared as given
    if periods.given_changed:
        findings.append(Finding("baseline", f"The baseline given is not all normal: {periods.given_changed}. It is "
                                            "compared as given, so what changed may be understated or misplaced; a "
                                            "baseline of a normal period compares cleaner.", (),
                                dict(given_changed=periods.given_changed)))
    # a baseline with too few traces for the incident's: said first (after a baseline set aside), and nothing ranked
    # from it is called a likely cause
    small = baseline_too_small(incident, base) if base is not None and len(base) and len(incident) else ""
    if small:
        n_a, n_b = int(incident["trace_id"].nunique()), int(base["trace_id"].nunique())
        findings.append(Finding("baseline", small, (), dict(too_small=True, incident_traces=n_a, baseline_traces=n_b,
                                                           max_incident_per_baseline=MAX_INCIDENT_PER_BASELINE)))
    # a baseline given that ran other versions than the incident (another release, another deployment): said first, as
    # what the ranking below compares — a deploy between the two periods is no new version *within* the data, and
    # "no new version" was said of a baseline on 1.0 against an incident on 2.0
    version_moves = _version_moves(incident, base) if baseline is not None and base is not None else []
    if version_moves:
        findings.append(Finding("baseline", "The baseline given ran other versions than the incident: "
                                + _listed([m["text"] for m in version_moves], "service") + ". What differs below may be the "
                                "release, not a fault in one period: the ranking compares the two versions.", (),
                                dict(versions_moved=[f"{m['service']}@{m['version']}" for m in version_moves])))
    # without a baseline, cold starts are a change only when their share moved within the data (a scale-out)
    moves = _cold_moves(spans, freq, alpha) if base is None else None
    # the baseline's route mix against the incident's: said in "what" and in "how sure", computed once
    mix = _route_mix(incident, base) if base is not None and len(base) and len(incident) else None
    findings += _what(spans, incident, base, head, changes, weights=w, mix=mix, source=source, alpha=alpha)
    findings += _when(spans, head, changes, alpha, freq, w, cold_moves=moves, rising_from=periods.rising_from,
                      given=baseline is not None, metric_change=periods.metric_change,
                      metric_changes=periods.metric_changes, incident=incident)
    if changes.attrs.get("no_data"):  # no span at all collected in some buckets: not a drop, not looked at
        findings.append(Finding("when", changes.attrs["no_data"], (), dict(
            no_data_windows=[(str(a), str(b)) for a, b in changes.attrs.get("no_data_windows", [])])))
    cmp = ranking = None
    caveats: list[str] = []
    if base is not None and len(base) and len(incident):
        cmp = _compare(incident, base, level, n_boot)
        if level in CAUSE_LEVELS:
            with warnings.catch_warnings(record=True) as caught:  # said in "how sure", not on stderr
                warnings.simplefilter("always", UserWarning)
                ranking = rank_causes(incident, base, level=level, comparison=cmp, lift_rows=1, window=None,
                                      alpha=alpha, logs=logs, metrics=metrics)
            caveats = [m for w in caught if (m := str(w.message).removeprefix("rank_causes: ")) != small]
            if len(ranking) and small and n_b >= 2 * CHANCE_MIN_TRACES:
                # said first; how high chance goes is not measured at this size (a baseline too few to split at all
                # is said so by _null_reference)
                ranking.attrs["null_reference"] = dict(
                    score=float("nan"), baseline_traces=n_b,
                    why=(f"the baseline's {_plural(n_b, 'trace')} are too few against the incident's {n_a:,} (more than "
                         f"{MAX_INCIDENT_PER_BASELINE} incident traces per baseline trace)"))
            elif len(ranking):
                compared = int((ranking.attrs.get("metric_coverage") or {}).get("compared", 0))
                ranking.attrs["null_reference"] = _null_reference(incident, base, level, logs, metrics,
                                                                  metric_series=compared,
                                                                  evidence=_standing_on(ranking.iloc[0]))
    route = head["route"] if head is not None and "route" in head.index and isinstance(head["route"], str) else None
    findings += [Finding("where", t, (), dict(skewed_clocks=skew.skewed.to_dict("records"))) for t in skew.sentences]
    findings += _where(incident, cmp, ranking, level, base is not None, route=route, base=base, alpha=alpha,
                       weights=w)
    if cmp is not None:  # a host unlike its peers inside the incident is evidence with a baseline too: said after it
        findings += _peer_findings(incident, base, ranking)
    findings += _changed(spans, window, cmp, freq, incident=incident, base=base, alpha=alpha, cold_moves=moves,
                         version_moves=version_moves)
    from ..analysis.health import health_report

    health = health_report(raw)  # as recorded: the skew stays a health warning
    clocks = tuple(c for c in dict.fromkeys(f"{r.service} host {r.host}" if isinstance(r.host, str)
                                            else f"service {r.service}" for r in skew.skewed.itertuples())
                   if c not in skew.delayed)
    findings += _sure(spans, incident, base, source, w, health, mix=mix, clocks=clocks)
    suspect = _baseline_suspect(next((f.evidence for f in findings if f.topic == "what"), {}))
    if suspect is not None:  # said in "how sure" too, right after the baseline's line: every comparison stands on it
        first_sure = next((i for i, f in enumerate(findings) if f.topic == "sure"), len(findings) - 1)
        findings.insert(first_sure + 1, suspect)
    if flip and not flip_first:
        first_sure = next((i for i, f in enumerate(findings) if f.topic == "sure"), len(findings) - 1)
        findings.insert(first_sure + 1, Finding("sure", flip, (), dict(side_unknown=True, baseline_fails_more=False)))
    findings += [Finding("sure", f"Baseline: {c}.") for c in caveats]
    if ranking is not None and "metric_coverage" in ranking.attrs:
        cov = _metric_coverage(ranking.attrs["metric_coverage"])
        first_sure = next((i for i, f in enumerate(findings) if f.topic == "sure"), len(findings) - 1)
        # metrics that could not be compared at all are said right after what was compared with what; else last
        findings.insert(first_sure + 1 if cov.evidence["metric_series_compared"] == 0 else len(findings), cov)
    if ranking is not None and "log_records" in ranking.attrs:
        cov = _log_records(ranking.attrs["log_records"])
        first_sure = next((i for i, f in enumerate(findings) if f.topic == "sure"), len(findings) - 1)
        # logs that joined no span are said right after what was compared with what; else last
        findings.insert(first_sure + 1 if not cov.evidence["log_records_joined"] else len(findings), cov)
    if not len(spans):  # "0 requests in an unknown window", "No baseline" beside the baseline given: said plainly
        findings = [_nothing_to_report(baseline)] + [f for f in findings if f.topic == "baseline"]
    return Postmortem(
        findings=tuple(findings), incident=incident, baseline=base, baseline_source=source, window=window,
        changes=changes, causes=ranking, comparison=None if cmp is None else cmp.table,
        structure=None if cmp is None else cmp.structure,
        level=level, freq=freq, health=health,
        params=dict(level=level, freq=freq, alpha=alpha, min_baseline=min_baseline, n_boot=n_boot,
                    signals=["traces", *(["logs"] if logs is not None else []), *(["metrics"] if metrics is not None else [])]),
    )


def _metric_onset_words(spans: pd.DataFrame, m: pd.Series, found: pd.DataFrame | None,
                        incident: pd.DataFrame | None, freq: str | None) -> tuple[str, dict]:
    """The "when" words for a window the metrics found where the requests showed none (``m``: the headline row of
    :func:`~tracekit.incident_periods`' metric search, ``found``: every series that changed), and its evidence."""
    from ..analysis.metric_evidence import unit_words
    from ..analysis.metric_evidence import value_text as _fmt

    onset, recovery = pd.Timestamp(m["onset"]), m["recovery"]
    first, last = spans["start"].min(), spans["start"].max()
    u = unit_words(m.get("unit"))
    u = f" {u}" if u else ""
    host, svc = m.get("host"), m.get("service")
    who = (f"{host} ({svc})" if isinstance(host, str) and isinstance(svc, str) and svc not in host else
           host if isinstance(host, str) else svc if isinstance(svc, str) else "a series with no service or host")
    since = (f"under way from the data's start ({clock_text(first)} UTC)" if onset <= first
             else f"from {clock_text(onset)} UTC")
    until = ("to the end of the data" if pd.isna(recovery) else f"until {clock_text(recovery)} UTC")
    n_found = len(found) if found is not None else 1
    bucket = freq_text(freq) if freq else "bucket"
    others = None
    if found is not None and len(found) > 1:  # the headline is the most significant, then the largest relative: not row 0
        others = found[~((found["name"].astype(object) == m["name"]) & (found["onset"] == m["onset"])
                         & (found["host"].astype(object).fillna("") == (host if isinstance(host, str) else ""))
                         & (found["service"].astype(object).fillna("") == (svc if isinstance(svc, str) else "")))]
    more = ""
    if others is not None and len(others):
        named_ = [f"{r.host if isinstance(r.host, str) else r.service} {r.name}" for r in others.head(2).itertuples()]
        more = (f"; {_plural(len(others), 'more series')} changed ({', '.join(named_)}"
                + (", …" if len(others) > 2 else "") + ")")
    n_inc = int(incident["trace_id"].nunique()) if incident is not None and len(incident) else 0
    end = recovery if not pd.isna(recovery) else last
    words = (f"The metrics beside them did change: {who} {m['name']} {_fmt(float(m['before']))} → "
             f"{_fmt(float(m['during']))}{u} {since} {until} (the mean of its {bucket} buckets outside the window → "
             f"inside it; Holm-adjusted permutation {p_value_text(float(m['p_value']))} over the metric series by "
             f"service and host){more}. The {_plural(n_inc, 'trace')} that started in {window_text(onset, end)} are "
             "taken as the incident and compared below with the baseline found outside that window (the report's header "
             "says which period; the change detection found no change in their requests on its own).")
    return words, dict(onset=onset, recovery=recovery, onset_from="metrics", metric_name=str(m["name"]),
                       metric_host=host if isinstance(host, str) else None,
                       metric_service=svc if isinstance(svc, str) else None,
                       metric_p_value=float(m["p_value"]), metric_series_changed=n_found)


def _which_side_normal(spans: pd.DataFrame, periods: Any) -> str:
    """Words for a change found under way from the data's start (its onset within a bucket of the first request),
    compared with the period after it: the data holds a step at its recovery and nothing says which side is normal.
    Fault lab, baseline and incident given as one frame (10 s buckets, seeds 0-39, five kinds): in 5 of 200 windows
    the headline was the lab's normal first 5 minutes, "slower" than the fault's (a return fault answers fast: return
    seed 7, /api/v1/auth/query p95 129 ms -> 67.5 ms and error rate 3.8 % -> 86 % at 14:05), and the fault's own
    minutes were the baseline, with nothing said ("" when the change is not of that shape). Said first where the
    baseline fails clearly more (:func:`_fails_more`), else in "how sure": a lock at the data's start is the same shape,
    read the right way round."""
    head, window, base = periods.change, periods.window, periods.baseline
    if head is None or window is None or base is None or not len(base) or pd.isna(window[1]):
        return ""
    try:
        step = pd.Timedelta(periods.freq)
    except (TypeError, ValueError):
        return ""
    first = spans["start"].min()
    if pd.isna(first) or window[0] > first + step or base["start"].min() < window[1]:
        return ""
    route = head["route"] if "route" in head.index and isinstance(head["route"], str) else "the requests"
    what = "p95 request latency" if head["metric"] == "p95_ms" else "error rate"
    more = "higher" if float(head["during"]) > float(head["before"]) else "lower"
    return (f"Which side of the change is normal is not in the data: {route} {what} was {more} from the data's start "
            f"to {clock_text(window[1])} UTC than after, and the same step read the other way is a change at "
            f"{clock_text(window[1])} UTC. The period after it is taken as the normal one below; if that is the "
            "incident, give baseline= the data before it.")


#: how much more the found baseline's requests must fail than the window's (both: at least twice, and this many
#: points more) for "which side is normal" to be said first: fault lab return seed 7, 86 % after the change against
#: 3.8 % in the window taken as the incident
FAILS_MORE_BY = 0.05


def _fails_more(base: pd.DataFrame | None, incident: pd.DataFrame) -> bool:
    """Whether the requests of ``base`` failed clearly more than those of ``incident`` (:func:`core.failed_share`:
    at least twice the share and :data:`FAILS_MORE_BY` more); False where either share is unknown."""
    if base is None or not len(base) or not len(incident):
        return False
    b, i = failed_share(trace_outcomes(base))[0], failed_share(trace_outcomes(incident))[0]
    return bool(np.isfinite(b) and np.isfinite(i) and b >= 2 * i and b - i >= FAILS_MORE_BY)


def _nothing_to_report(baseline: pd.DataFrame | None) -> Finding:
    """The finding of an incident frame with no span (a window or filter that matched nothing): the only one, beside
    what is said of the baseline. It read "0 requests in an unknown window (no start or end time recorded)", "No
    baseline and no critical path" beside the baseline given, and "With only 0 incident traces, intervals are wide"."""
    given = ""
    if baseline is not None and len(baseline):
        starts = trace_outcomes(baseline)["start"].dropna()  # the requests' starts, as the report's header says them
        when = f" (started {period_text(starts.min(), starts.max())})" if len(starts) else ""
        given = (f" The baseline given holds {_plural(int(baseline['trace_id'].nunique()), 'trace')}{when}; nothing is "
                 "compared with it.")
    return Finding("what", "No span to report on: the incident's frame is empty (0 spans, 0 traces), so nothing "
                           "can be said of what happened, when, where or why; the window or filter that selected it "
                           "matched nothing." + given, (), dict(requests=0, spans=0, empty=True))


def _metric_coverage(cov: dict) -> Finding:
    """How many metric series the ranking could compare, in which windows."""
    def when(w: tuple) -> str:
        return period_text(*w)

    per = f"per {cov['by']} and metric name"
    unranked = int(cov.get("unranked", 0))  # compared, of keys with no row in the ranking
    n_unranked_keys = int(cov.get("unranked_key_count", 0))
    where = (f"the baseline's period ({when(cov['baseline'])}) outside the incident's ({when(cov['incident'])})"
             if "incident" in cov and "baseline" in cov else "the baseline's period outside the incident's")
    if cov["compared"] == 0:
        text = (f"Metrics did not weigh in the ranking: none of the {_plural(cov['series'], 'series', 'series')} {per} "
                f"has 2 points in {where} and 1 in the incident's.")
    else:
        # a move whose evidence is negligible (metric_evidence.NEGLIGIBLE_EVIDENCE) is not said to have moved
        slight = int(cov.get("negligible", 0))
        capped = int(cov.get("capped", 0))  # of the slight ones, those small only because the key's own time held
        wide = int(cov.get("widened", 0))
        text = (f"Metrics: {cov['compared']:,} of {_plural(cov['series'], 'series', 'series')} {per} compared — 2 points "
                f"or more in {where}, 1 or more in the incident's (a point counts in the period holding the middle of "
                "the interval its value describes, not its time stamp: a scrape's interval before it, a CloudWatch "
                "period after it)"
                + (f" ({wide:,} of them had fewer than {MIN_BASELINE_POINTS} points in the baseline's period and were "
                   f"made up to {MIN_BASELINE_POINTS} with their latest points before it)" if wide else "")
                + f"; {cov['moved'] - slight:,} moved beyond the baseline's reach"
                + (f", most: {'; '.join(cov['top_moved'])}" + (
                    " (baseline mean → incident mean)" if any("observations above" not in t for t in cov["top_moved"])
                    else "") if cov.get("top_moved") else "")
                + (f"; {slight - capped:,} more went past it by a negligible margin, not said to have moved (evidence "
                   f"under {NEGLIGIBLE_EVIDENCE}: less than every point stepping 1 % past a flat baseline weighs): "
                   f"{'; '.join(cov.get('negligible_moved', []))}" + (" …" if slight - capped > 3 else "")
                   if slight - capped else "")
                + (f"; {capped:,} more moved while the service's own spans did not slow — the time it waits on its "
                   f"callees, weighed where they are, not here: {'; '.join(cov.get('capped_moved', []))}"
                   + (" …" if capped > 3 else "") if capped else "")
                + (f"; {unranked:,} of the series compared are of {cov['by']}s with no row in the ranking (no "
                   f"incident span names them: {', '.join(str(k) for k in cov.get('unranked_keys', []))}"
                   f"{' …' if n_unranked_keys > 3 else ''}), so their moves weigh on no component" if unranked else "")
                + ".")
    return Finding("sure", text, (), dict(metric_series=cov["series"], metric_series_compared=cov["compared"],
                                          metric_series_unranked=unranked,
                                          metric_series_moved=cov["moved"] - int(cov.get("negligible", 0)),
                                          metric_series_negligible=int(cov.get("negligible", 0))))


def _log_records(rec: dict) -> Finding:
    """How many log records the ranking's log evidence stands on."""
    joined = int(rec["incident"]) + int(rec["baseline"])
    untimed = int(rec.get("without_time", 0))
    timeless = (f" {untimed:,} had no time: {int(rec.get('without_time_placed', 0)):,} of them were placed at their "
                "trace's start, the rest name no trace of the incident or the baseline." if untimed else "")
    if not int(rec["given"]):  # "none of the 0 records names a span" (a logs frame cut to a window with none)
        text = "Logs did not weigh in the ranking: the logs given hold no record."
    elif not joined:
        text = (f"Logs did not weigh in the ranking: none of the {_plural(int(rec['given']), 'record', 'records')} "
                f"names a span or trace of the incident or the baseline (their trace ids are not these traces').")
    else:
        rest = int(rec["given"]) - joined  # "8,462 given; 4,464 … and 3,884 …" left 114 unsaid
        text = (f"Logs: {_plural(int(rec['given']), 'record', 'records')} given; {int(rec['incident']):,} joined the "
                f"incident's spans and {int(rec['baseline']):,} the baseline's (by trace and span id; a record naming its "
                "trace and no span, by trace id and its service, else on the trace's request root)"
                + (f"; the other {rest:,} joined neither (their traces are outside both periods, or not among the "
                   "traces given, or they name no trace)" if rest > 0 else "") + ".")
    return Finding("sure", text + timeless, (), dict(log_records=int(rec["given"]), log_records_joined=joined,
                                                     log_records_without_time=untimed))


def _route_requests(spans: pd.DataFrame, route: Any, window: tuple | None) -> pd.DataFrame:
    from ..analysis.timeline import select_requests

    return select_requests(spans, "route", key=route, time=None if window is None else window)


#: said instead of an error rate when no span carries a status (:func:`~tracekit.core.status_recorded`)
NO_STATUS = "error rate unknown (no span carries a status or an HTTP code, so failures cannot be counted)"


def _requests_of(n_a: int, n_b: int, where_a: str, where_b: str) -> str:
    """``n_a`` requests ``where_a`` and ``n_b`` ``where_b``, each said only when there are any ("" when none)."""
    return " and ".join(f"{_plural(n, 'request')} {where}".rstrip() for n, where in ((n_a, where_a), (n_b, where_b))
                        if n)


def _unknown_words(n_a: int, n_b: int, where_a: str, where_b: str) -> str:
    """Words for the requests of unknown outcome (in progress, no status yet: core.outcome_unknown) that an error
    rate left out, as core.failed_share leaves them out: ``n_a`` of one population, ``n_b`` of the other ("" when
    none)."""
    said = _requests_of(n_a, n_b, where_a, where_b)
    if not said:
        return ""
    return (said + f" still in progress (outcome unknown, neither failed nor ok) "
            f"{'is' if n_a + n_b == 1 else 'are'} left out of the error rate")


def _not_failures(requests: pd.DataFrame) -> tuple[int, int]:
    """The requests that ended in a client error (4xx) and those throttled (429): core.outcomes keeps them apart
    from failures, so the error rate does not count them (<NA>, an unknown outcome, counts as neither)."""
    return tuple(int(requests[c].fillna(False).to_numpy(dtype=bool).sum()) if c in requests.columns else 0
                 for c in ("client_error", "throttled"))  # type: ignore[return-value]


def _not_failure_words(n_client: int, n_throttled: int, n: int) -> str:
    """Words for the requests the error rate does not count as failed although they did not succeed: a client
    error (4xx: the caller's request was wrong) or a throttle (429), of ``n`` requests. A file where every span
    said error read "error rate 99.5 %" with no word of the 200th request, a 404."""
    parts = ([f"{n_client:,} ended in a client error (4xx: the caller's request was refused)"] if n_client else []) + (
        [f"{n_throttled:,} {'was' if n_throttled == 1 else 'were'} throttled (429: a rate limit)"] if n_throttled else [])
    k = n_client + n_throttled
    return (f"of the {n:,} requests, " + " and ".join(parts)
            + f": {'it is' if k == 1 else 'they are'} not counted as failed, so not in the error rate")


def _no_latency_words(n_a: int, n_b: int, where_a: str, where_b: str) -> str:
    """Words for the requests with no request latency (still in progress, or no start or end recorded) that the
    percentiles beside a request count left out (core.percentile drops NaN): ``n_a`` of one population, ``n_b`` of
    the other ("" when none). "40 requests …: p50 request latency 50.0 ms, p95 50.0 ms" said nothing of the 5 of
    them that had no latency."""
    said = _requests_of(n_a, n_b, where_a, where_b)
    if not said:
        return ""
    return f"p50 and p95 leave out {said} with no request latency: still in progress, or no start or end recorded"


def _split_requests(incident: pd.DataFrame, outcomes: pd.DataFrame) -> tuple[set[str], str]:
    """Traces that are the callee's half of a request whose caller dropped the trace context (the ``continues``
    column of :func:`~tracekit.core.trace_outcomes`, which counts them in their caller's request, not as requests of
    their own: broken-context, 541 traces, 500 requests, the truth file's). Said beside the count, with the hops
    (:func:`~tracekit.reconnect`'s pairs, the same rule), so a reader who counts traces knows why they differ.
    Returns their trace ids and the words; nothing when there are none."""
    from ..analysis.reconnect import reconnect

    cont = outcomes[outcomes["continues"].notna().to_numpy(dtype=bool)]
    if not len(cont):
        return set(), ""
    ids = set(cont["trace_id"].astype(str))
    try:
        pairs = reconnect(incident)
    except TraceKitError:
        pairs = None
    where = ""
    if pairs is not None:
        d = pairs[(pairs["case"] == "dropped_context") & pairs["root_trace_id"].astype(str).isin(ids)]
        hops = (d["client_service"].astype(object).fillna("?") + " → " + d["root_service"].astype(object).fillna("?"))
        where = " — " + "; ".join(f"{h}: {n:,}" for h, n in hops.value_counts().head(3).items()) + " —" if len(d) else ""
    return ids, (f"and {len(ids):,} more trace{'' if len(ids) == 1 else 's'}, each the callee's half of one of these requests: they "
                 f"started where a caller dropped the trace context{where} and are counted in their caller's request; "
                 "tk.reconnect(spans) pairs them")


def _sample_weights(spans: pd.DataFrame, weights: Any) -> Any:
    """The sampling weights to correct with: ``weights`` when given, else those the data carries
    (:func:`~tracekit.sampling_weights`) when any trace's weight differs from 1; None when there are none."""
    from ..analysis.sampling import sampling_weights
    from ..core.weights import trace_weights

    if weights is not None:  # checked here, so that a bad one is said as postmortem's, not as an inner step's
        trace_weights(spans["trace_id"].unique(), weights, "postmortem")
        return weights
    try:
        w = sampling_weights(spans)
    except TraceKitError:
        return None
    if not ("weight" in w and w["weight"].notna().any() and (w["weight"].dropna() != 1).any()):
        return None
    return w


def _what_weighted(req: pd.DataFrame, incident: pd.DataFrame, spans: pd.DataFrame, weights: Any,
                   known: bool) -> tuple[str, str, dict] | None:
    """``1,075 sampled requests in 14:00–14:59 UTC, standing for about 2,962: corrected for sampling, p50 …``, the
    note ``as sampled, biased by the sampler: …`` and the evidence: the numbers of a weighted sample are said corrected first — the sampled ones are biased
    wherever the sampler kept some requests more than others (sampled-errors: p95 91.3 ms as sampled, 196 ms
    corrected, 183 ms in the population). None when the weights cover no incident trace."""
    from ..analysis.sampling import weighted_summary

    try:
        ws = weighted_summary(incident, weights)
    except TraceKitError:
        return None
    if not len(ws) or not np.isfinite(float(ws.iloc[0]["est_requests"])):
        return None
    s = ws.iloc[0]
    known = known and bool(ws.attrs.get("status_recorded", True))
    n_failed = s["n_failed"]
    er = (f"error rate {_pct(s['error_rate'])} [{_pct(s['error_rate_lo'])}, {_pct(s['error_rate_hi'])}]"
          + ((" with no failed request kept" if n_failed == 0 else
              f" from only {_plural(n_failed, 'failed request')} kept") if pd.notna(n_failed) and n_failed < 10 else "")
          if known else NO_STATUS)
    text = (f"{_plural(len(req), 'sampled request')} in {window_text(*span_window(spans))}, "
            f"standing for about {s['est_requests']:,.0f}: corrected for sampling, p50 request latency "
            f"{fmt_ms(s['p50_ms'])}, p95 {fmt_ms(s['p95_ms'])} [{fmt_ms(s['p95_ms_lo'])}, {fmt_ms(s['p95_ms_hi'])}], "
            f"{er}")
    # the first of the notes after the numbers (postmortem's "what"), in their one parenthesis
    sampled = (f"as sampled, biased by the sampler: p50 {fmt_ms(s['naive_p50_ms'])}, p95 {fmt_ms(s['naive_p95_ms'])}"
               + (f", error rate {_rate(s['naive_error_rate'])}" if known else ""))
    ev = dict(requests=len(req), est_requests=float(s["est_requests"]), p50_ms=float(s["p50_ms"]),
              p95_ms=float(s["p95_ms"]), error_rate=float(s["error_rate"]) if known else np.nan,
              sampled_p50_ms=float(s["naive_p50_ms"]), sampled_p95_ms=float(s["naive_p95_ms"]),
              sampled_error_rate=float(s["naive_error_rate"]) if known else np.nan, weighted=True)
    return text, sampled, ev


def _weighted_sides(spans: pd.DataFrame, ids_in: np.ndarray, ids_out: np.ndarray,
                    weights: Any, before: pd.DataFrame | None = None) -> tuple[pd.Series, pd.Series] | None:
    """The weighted summaries (:func:`~tracekit.weighted_summary`, the one the no-change path says) of the requests
    inside a change window (of ``spans``) and of those it is compared with (of ``before``, else of ``spans``); None
    when either side is empty or the weights cover neither."""
    from ..analysis.sampling import weighted_summary

    if not len(ids_in) or not len(ids_out):
        return None
    out = []
    for frame, ids in ((spans, ids_in), (spans if before is None else before, ids_out)):
        tid = frame["trace_id"].astype(str)
        try:
            ws = weighted_summary(frame[tid.isin(set(ids)).to_numpy()], weights)
        except TraceKitError:
            return None
        if not len(ws) or not np.isfinite(float(ws.iloc[0]["est_requests"])):
            return None
        out.append(ws.iloc[0])
    return out[0], out[1]


def _by_chance(count: int, n: int, base: np.ndarray, threshold: float, side: str) -> tuple[float, float, int]:
    """How many of ``n`` requests would by chance fall above (``side="above"``) or below a ``threshold`` that is one
    of the baseline's own values (its p95, p50, p5: ``base``), and the one-sided p-value of ``count`` or more: the
    requests and the baseline's exchangeable, the count is beta-binomial (:func:`~tracekit.core.distributions.
    betabinom_sf`) with the baseline's values beyond the threshold, ``j``: ``n (j + 1) / (N + 1)`` expected. A
    fixed 5 % held the p95 of 8 baseline requests (their largest, exceeded by a new one 1 time in 9) as exact:
    8 of 12 fault-free windows against 8-trace baselines were called slower or faster, 5 at p < 0.001 (fault lab
    seeds 401-412). Also the least p-value any count could reach (all ``n``), to tell "not beyond chance" from
    "too few to tell". Returns (expected, p, least p)."""
    from ..core.distributions import betabinom_sf

    big_n = len(base)
    j = int((base > threshold).sum()) if side == "above" else int((base < threshold).sum())
    a, b = j + 1.0, float(big_n - j)
    expected = n * a / (big_n + 1.0)
    p = betabinom_sf(count - 1, n, a, b) if count > expected else 1.0
    return expected, float(p), float(betabinom_sf(n - 1, n, a, b))


def _sound(rows: pd.DataFrame, known: bool) -> np.ndarray:
    """trace_outcomes rows holding no failed span (``any_failed`` not True), every row where status is unknown."""
    if not known or "any_failed" not in rows.columns:
        return np.ones(len(rows), dtype=bool)
    return ~(rows["any_failed"].to_numpy(dtype=float, na_value=np.nan) == 1)


def _lat_of(rows: pd.DataFrame, keep: np.ndarray) -> np.ndarray:
    """The request latencies (ms) of the rows kept, NaN left out."""
    x = rows["request_ms"].to_numpy(dtype=float)[keep]
    return x[~np.isnan(x)]


def _with_routes(spans: pd.DataFrame) -> pd.DataFrame:
    """:func:`~tracekit.core.trace_outcomes` with each request's ``route`` (:func:`~tracekit.core.request_routes`,
    the key :func:`~tracekit.request_rows` gives ``by="route"``: one route per request across the report — the
    within-route faster count keyed requests by root service and operation while the traffic mix and the timeline
    keyed them by ``http.route``)."""
    return trace_outcomes(spans).assign(route=request_routes(spans))


def _below_within_routes(req: pd.DataFrame, ob: pd.DataFrame, q: float, min_baseline: int = 5) -> float:
    """One-sided p-value that more of the window's requests fall below their own route's baseline ``q`` quantile than
    chance would put there: per route (``route``, :func:`_with_routes`: the route the traffic mix and the timeline
    count) with at least ``min_baseline`` baseline requests,
    the count is beta-binomial (:func:`_by_chance`); their sum against a normal of the summed means and variances
    (continuity-corrected) — or, where one route alone moved (a fault held in the baseline on a service some routes
    call: fault lab 407, cpu_consumed at cancel-service), its own beta-binomial p-value times the routes tested
    (Bonferroni; the exact tail of the 20 routes furthest above their means), whichever is lower. 1.0 when no route
    is on both sides. Vectorised over routes: root names holding ids make thousands of them."""
    from ..core.distributions import betabinom_sf, normal_sf

    def side(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        key = rows["route"].astype(object).fillna("(no route)").to_numpy(dtype=object)
        ms = rows["request_ms"].to_numpy(dtype=float)
        ok = ~np.isnan(ms)
        return key[ok], ms[ok]

    ki, li = side(req)
    kb, lb = side(ob)
    if not len(ki) or not len(kb):
        return 1.0
    codes, uniq = pd.factorize(np.concatenate([kb, ki]))
    cb, ci = codes[:len(kb)], codes[len(kb):]
    r = len(uniq)
    n_b = np.bincount(cb, minlength=r)
    n_i = np.bincount(ci, minlength=r)
    # each route's baseline quantile (inverted cdf, as core.percentile): the ceil(q N)-th of its sorted values
    order = np.lexsort((lb, cb))
    first = np.concatenate([[0], np.cumsum(n_b)[:-1]])
    at = first + np.maximum(np.ceil(q * n_b).astype(np.int64) - 1, 0)
    thr = np.full(r, np.nan)
    has = n_b > 0
    thr[has] = lb[order][at[has]]
    use = (n_b >= min_baseline) & (n_i > 0)
    if not use.any():
        return 1.0
    j = np.bincount(cb, weights=(lb < thr[cb]).astype(float), minlength=r)
    k = np.bincount(ci, weights=(li < thr[ci]).astype(float), minlength=r)
    a_, b_ = j + 1.0, n_b - j
    n_ = n_i.astype(float)
    mean = np.where(use, n_ * a_ / np.maximum(a_ + b_, 1), 0.0)
    var = np.where(use, n_ * a_ * b_ * (a_ + b_ + n_) / (np.maximum(a_ + b_, 1) ** 2 * (a_ + b_ + 1)), 0.0)
    if var.sum() <= 0:
        return 1.0
    pooled = float(normal_sf((k[use].sum() - mean.sum() - 0.5) / np.sqrt(var.sum())))
    z = np.where(use & (var > 0), (k - mean) / np.sqrt(np.where(var > 0, var, 1.0)), -np.inf)
    top = [i for i in np.argsort(-z)[:20] if use[i] and k[i] > mean[i]]
    each = min((betabinom_sf(k[i] - 1, int(n_[i]), a_[i], b_[i]) for i in top), default=1.0)
    return min(pooled, min(1.0, each * int(use.sum())))


def _about(x: float) -> str:
    """An expected count in words: "about 6", "about 0.3" (not "about 0" of 5 requests)."""
    return f"{x:,.0f}" if x >= 9.5 else f"{x:.1f}".removesuffix(".0")


def _against_baseline(req: pd.DataFrame, ob: pd.DataFrame, known: bool, alpha: float,
                      overall: bool = False) -> tuple[str, dict]:
    """Whether the incident's requests (``req``: trace_outcomes rows of requests) were slower or failed more often
    than the baseline's (``ob``), counted: how many took longer than the baseline's p95 against how many would by
    chance (:func:`_by_chance`, one-sided), and the failures against the baseline's (one-sided Fisher exact test),
    each at ``alpha``; the words (a sentence without its full stop, "" when neither side has requests) and the
    evidence. Network delay, fault lab seed 205, the incident window given with its baseline: "p50 174 ms, p95 209
    ms; against the p95 of the baseline's 300 requests, 142 ms" and, next, "no change in the requests was detected
    beyond chance" (of the window's own time) — 90 of its 120 requests were above that p95. ``overall``: the
    failures differ by where they come from (:func:`_failure_sources`), so "not failing more often" is said of all
    requests together ("overall"), not of every source."""
    from ..core.distributions import fisher_exact_greater

    lat = req["request_ms"].to_numpy(dtype=float)
    bl = ob["request_ms"].to_numpy(dtype=float)
    lat, bl = lat[~np.isnan(lat)], bl[~np.isnan(bl)]
    if not len(lat) or not len(bl):
        return "", {}
    b95, b50 = float(percentile(bl, 0.95)), float(percentile(bl, 0.5))
    n, above = len(lat), int((lat > b95).sum())
    chance, p_slow, least_slow = _by_chance(above, n, bl, b95, "above")
    ev: dict[str, Any] = dict(requests_above_baseline_p95=above, requests_with_latency=n,
                              above_baseline_p95_by_chance=chance, slower_p_value=p_slow, baseline_p50_ms=b50,
                              baseline_requests_with_latency=len(bl))
    slower = p_slow <= alpha
    counted = (f"{above:,} of the {_plural(n, 'request')} took longer than the baseline's p95, where about "
               f"{_about(chance)} would by chance (one-sided {_fmt_p(p_slow)}); the baseline's p50 was {fmt_ms(b50)}")
    fail_words, failing, fail_tested = "", False, False
    if known:
        fi, fb = (x["failed"].to_numpy(dtype=float, na_value=np.nan) for x in (req, ob))
        fi, fb = fi[~np.isnan(fi)], fb[~np.isnan(fb)]
        if len(fi) and len(fb):
            ki, kb = int(fi.sum()), int(fb.sum())
            p_fail = fisher_exact_greater([[ki, len(fi) - ki], [kb, len(fb) - kb]]) if ki / len(fi) > kb / len(fb) else 1.0
            failing, fail_tested = p_fail <= alpha, True
            ev.update(failed=ki, failed_baseline=kb, failing_p_value=p_fail)
            fail_words = (f"{ki:,} of {len(fi):,} failed against {kb:,} of the baseline's {len(fb):,} (one-sided "
                          f"Fisher exact {_fmt_p(p_fail)})")
    # the other way: a window faster than its baseline beyond chance — the baseline may itself be an incident (Nezha
    # OnlineBoutique 04:18:35: the baseline given was the previous fault's window, p50 1.1 s against the window's
    # 134 ms, and only "neither slower nor failing more often" was said). Counted below the baseline's p5 and below
    # its p50, each at half the level: a delay on one dependency slows most requests but not the fastest 5 % (fault
    # lab 406, a baseline delayed throughout: 112 of 120 requests under its p50, 2 under its p5)
    # Of the requests holding no failed span only (where status is known): a fault that throws or returns early makes
    # its requests fast (fault lab 452, a clean baseline: 31 requests holding the caught exception, p50 20.7 ms
    # against 44.7 ms) and the baseline was blamed. And within routes as well as over all: a route mix that moved
    # towards a fast route (fault lab 427, no fault, drift: 5 % -> 17 % of requests) read as a faster window.
    sound_i, sound_b = (_sound(x, known) for x in (req, ob))
    lat_f, bl_f = _lat_of(req, sound_i), _lat_of(ob, sound_b)
    n_f = len(lat_f)
    b05 = float(percentile(bl_f, 0.05)) if len(bl_f) else np.nan
    b50_f = float(percentile(bl_f, 0.5)) if len(bl_f) else np.nan
    below, below50 = int((lat_f < b05).sum()), int((lat_f < b50_f).sum())
    if n_f and len(bl_f):
        chance5, p_fast5, _ = _by_chance(below, n_f, bl_f, b05, "below")
        chance50, p_fast50, _ = _by_chance(below50, n_f, bl_f, b50_f, "below")
        strat5, strat50 = (_below_within_routes(req[sound_i], ob[sound_b], q) for q in (0.05, 0.5))
    else:
        chance5 = chance50 = 0.0
        p_fast5 = p_fast50 = strat5 = strat50 = 1.0
    p_fast = min(max(p_fast5, strat5), max(p_fast50, strat50))
    faster = not slower and p_fast <= alpha / 2
    ev.update(slower_than_baseline=slower, failing_more_than_baseline=failing, faster_than_baseline=faster,
              requests_below_baseline_p5=below, requests_below_baseline_p50=below50, faster_p_value=p_fast5,
              faster_p50_p_value=p_fast50, faster_within_routes_p_value=strat5, faster_p50_within_routes_p_value=strat50,
              requests_tested_faster=n_f)
    if faster:
        at, k_at, ch, pf, t = (("p5", below, chance5, p_fast5, b05)
                               if max(p_fast5, strat5) <= max(p_fast50, strat50) else
                               ("p50", below50, chance50, p_fast50, b50_f))
        whose = " holding no failed span" if known and n_f < n else ""
        fast_words = (f"Faster than the baseline, which may itself hold an incident: {k_at:,} of the "
                      f"{_plural(n_f, 'request')}{whose} took less than the baseline's {at} ({fmt_ms(t)}), where about "
                      f"{_about(ch)} would by chance (one-sided {_fmt_p(pf)}, and within each route too; counted below "
                      f"its p5 and its p50, each at {alpha / 2:g}); "
                      + (f"their p50 was {fmt_ms(b50_f)} in the baseline against {fmt_ms(float(percentile(lat_f, 0.5)))} "
                         "in the window" if whose else f"the baseline's p50 was {fmt_ms(b50)} against the window's "
                         f"{fmt_ms(float(percentile(lat, 0.5)))}"))
        if failing:
            return f"{fast_words}; yet failing more often than the baseline: {fail_words}", ev
        return fast_words + (f"; {fail_words}" if fail_words else
                             "" if fail_tested else "; whether more requests failed cannot be told: no failure could "
                             "be counted on both sides"), ev
    if slower or failing:
        lead = " and ".join(w for w, ok in (("Slower", slower), ("failing more often", failing)) if ok)
        lead = lead[0].upper() + lead[1:]
        parts = [counted] if slower else []
        parts += [fail_words] if failing and fail_words else []
        return f"{lead} than the baseline: {'; '.join(parts)}", ev
    few = least_slow > alpha  # even every request above the baseline's p95 would not pass: no test, not "neither"
    ev["too_few_to_test"] = few
    if few:
        counted = (f"too few to tell slower: even all {_plural(n, 'request')} above the baseline's p95 (of "
                   f"{_plural(len(bl), 'request')}) would be one-sided {_fmt_p(least_slow)}; {above:,} "
                   f"{'was' if above == 1 else 'were'}, the baseline's p50 was {fmt_ms(b50)}")
        return (f"Not tested against the baseline: {counted}"
                + (f"; {fail_words}" if fail_words else "; whether more requests failed cannot be told: no failure "
                   "could be counted on both sides" if not fail_tested else "")), ev
    if not fail_tested:
        # no failure was counted on either side (no status, or no request of known outcome): "neither ... nor failing
        # more often" cleared an exception fault of failures its ERROR logs showed (Nezha TrainTicket 09:25:39)
        return (f"Not slower than the baseline beyond chance (at {alpha:g}): {counted}; whether more requests failed "
                "cannot be told: no failure could be counted on both sides"), ev
    if overall:
        return (f"Not slower, nor failing more often overall, than the baseline beyond chance (at {alpha:g}): "
                f"{counted}" + (f"; {fail_words}" if fail_words else "")), ev
    return (f"Neither slower nor failing more often than the baseline beyond chance (at {alpha:g}): {counted}"
            + (f"; {fail_words}" if fail_words else "")), ev


def _hidden_failures(req: pd.DataFrame, ob: pd.DataFrame | None) -> tuple[str, dict]:
    """Requests holding a failed span that did not fail (trace_outcomes' ``any_failed`` and not ``failed``: caught,
    retried or ignored on the way up), said where they are 5 or more and at least as many as the failed requests:
    the error rate counts the requests that failed and read "0.0 %" of a window where 26 of 120 requests held
    the injected SQLException (fault lab 418, caught upstream); with the baseline's count when one is given."""
    def count(rows: pd.DataFrame) -> tuple[int, int, int]:
        f = rows["failed"].to_numpy(dtype=float, na_value=np.nan)
        anyf = rows["any_failed"].to_numpy(dtype=float, na_value=np.nan)
        return int(((anyf == 1) & (f == 0)).sum()), int((f == 1).sum()), int((~np.isnan(f)).sum())

    k, failed, n = count(req)
    ev = dict(requests_with_failed_span_not_failed=k)
    if k < 5 or k < failed or not n:
        return "", ev
    side = ""
    if ob is not None:
        kb, _, nb = count(ob[ob["request"].to_numpy(dtype=bool)])
        ev["baseline_requests_with_failed_span_not_failed"] = kb
        side = f", against {kb:,} of the baseline's {nb:,}" if nb else ""
    return (f"{k:,} of the {_plural(n, 'request')} hold a failed span though the request did not fail (caught, "
            f"retried or ignored on the way up){side}"), ev


def _orphans_inside_calls(spans: pd.DataFrame, names: set[str]) -> set[str]:
    """Of the services ``names`` (seen only as callees), those inside whose calls most orphan spans lie: an orphan
    (core.span_tree) starting and ending within a client span of its trace whose callee (core.callees) is the
    service, at least half of all orphans."""
    tree = span_tree(spans)
    orph = np.flatnonzero(tree.orphan)
    if not len(orph) or not names:
        return set()
    to = callees(spans)
    calls = np.flatnonzero(np.isin(to.astype(str), list(names)) & pd.notna(to))
    if not len(calls):
        return set()
    start, end = ns(spans["start"]), ns(spans["end"])
    o = pd.DataFrame({"t": tree.trace[orph], "o": orph, "s": start[orph], "e": end[orph]})
    c = pd.DataFrame({"t": tree.trace[calls], "to": to[calls].astype(str), "cs": start[calls], "ce": end[calls]})
    m = o.merge(c, on="t")
    m = m[(m["s"] >= m["cs"]).to_numpy() & (m["e"] <= m["ce"]).to_numpy()]
    inside = m.groupby("to")["o"].nunique()
    return {str(k) for k, v in inside.items() if 2 * int(v) >= len(orph)}


def _baseline_suspect(ev: dict) -> Finding | None:
    """"Baseline: it may itself hold an incident — …" for "how sure", where "what happened" found the window faster
    than the baseline, a source of most of the baseline's failures that ended, or a baseline failing
    :data:`BASELINE_FAILING_SHARE` of its requests itself (its evidence ``ev``): said at the end of a long paragraph,
    it stayed unsaid where the reader weighs the comparisons (fault lab 408, a baseline failing from
    security-service throughout: "How sure: Baseline: the baseline given", nothing more)."""
    why = []
    if ev.get("faster_than_baseline"):
        why.append("the window's requests were faster than the baseline's beyond chance")
    if ev.get("ended_failure_source"):
        why.append(f"most of its failures came from {ev['ended_failure_source']}, which failed far fewer of the "
                   "window's requests")
    elif ev.get("baseline_failing_source"):
        why.append(f"it failed {_rate(ev['baseline_error_rate'])} of its requests itself, "
                   f"{ev['baseline_failing_source_requests']:,} of its {ev['baseline_failed_requests']:,} failed ones "
                   f"at {ev['baseline_failing_source']}")
    if not why:
        return None
    return Finding("sure", "Baseline: it may itself hold an incident — " + "; ".join(why) + " (what happened): each "
                   "comparison below is against it, so what it held is missed and what ended reads as a change.", (),
                   dict(baseline_suspect=True))


#: a request rate this many times the other side's (or under its inverse) is said: another request rate
LOAD_RATIO = 1.5


#: a pause between two requests' starts longer than this many times the median pause, and 30 s, is a gap in the
#: data (a collector or an export that skipped minutes), not a quiet time: left out of the time a rate is over
GAP_PAUSES = 20


def _per_second(starts: pd.Series) -> float:
    """Requests a second over the time the data covers: ``(n - 1)`` over the pauses between their starts, less the
    gaps (:data:`GAP_PAUSES`). Nezha TrainTicket's baselines hold minutes without a trace (10:00:30-10:03:00 of
    the 10:04:34 window's): over the whole span each read as half the window's load ("0.4 a second against 0.82"),
    over the minutes covered as the same. NaN under 10 requests or no time covered."""
    t = np.sort(pd.to_datetime(starts.dropna(), utc=True).to_numpy(dtype="datetime64[ns]").astype(np.int64))
    if len(t) < 10:
        return float("nan")
    d = np.diff(t) / 1e9
    gap = max(30.0, GAP_PAUSES * float(percentile(d, 0.5)))
    covered = float(d[d <= gap].sum())
    return (len(t) - 1 - int((d > gap).sum())) / covered if covered > 0 else float("nan")


def _load_words(req: pd.DataFrame, ob: pd.DataFrame, sampled: bool = False) -> tuple[str, dict]:
    """The two sides' request rates (over the time each side's data covers: :func:`_per_second`), said where one is
    :data:`LOAD_RATIO` times the other: a baseline of 5 requests a second against a window of 1 was said only as "the
    baseline's 1,500 requests" (fault lab 412, baseline at five times the rate). A closed-loop client sends fewer
    while answers are slow: Nezha OnlineBoutique 05:18:09, 8.53 a second before a CPU fault and 2.0 during it (p50
    153 ms -> 6.1 s). ``sampled``: the rates are of the requests kept."""
    ri, rb = _per_second(req["start"]), _per_second(ob["start"])
    ev = dict(requests_per_second=ri, baseline_requests_per_second=rb)
    if not (np.isfinite(ri) and np.isfinite(rb) and ri > 0 and rb > 0) or 1 / LOAD_RATIO < ri / rb < LOAD_RATIO:
        return "", ev
    kept = " kept by the sampler" if sampled else ""
    why = ("more traffic, or retries" if ri > rb else
           "less traffic, or clients waiting on slower answers sending fewer")
    return (f"; another request rate: the window's requests{kept} came at {ri:,.3g} a second, the baseline's at "
            f"{rb:,.3g} ({'more' if ri > rb else 'fewer'}: {ri / rb:,.2g} times the baseline's rate — {why})"), ev


#: the baseline's failed share from which its failures are said with where they come from (a baseline failing 38 %
#: of its requests from one operation passed as normal: fault lab 401, a fault throughout the baseline)
BASELINE_FAILING_SHARE = 0.05
#: a source of the baseline's failures "ended" when the window's requests fail from it at most this part as often
ENDED_FACTOR = 1 / 3


def _failure_sources(incident: pd.DataFrame, base: pd.DataFrame, req: pd.DataFrame, ob: pd.DataFrame,
                     alpha: float) -> tuple[list[str], dict]:
    """Where the failed requests' failures come from on each side — a source is the ``service: operation`` of a
    span where a failure reaching the request originates (:func:`~tracekit.error_origins`, status only), counted in
    failed requests — and what the pooled test cannot say: a source new in the window (its requests fail from it
    beyond chance, one-sided Fisher exact at ``alpha``, where none of the baseline's did), a source of most of the
    baseline's failures that ended (the window's requests fail from it at most :data:`ENDED_FACTOR` as often,
    beyond chance), and a baseline failing :data:`BASELINE_FAILING_SHARE` of its requests or more. Fault lab 410, an
    exception fault throughout the baseline at rate-service: "neither slower nor failing more often: 4 of 120 failed
    against 27 of the baseline's 300", the window's 4 failures from train-service (0 in the baseline), 25 of the
    baseline's 27 from rate-service (1 in the window). Returns the clauses and the evidence."""
    from ..analysis.error_origins import error_origins
    from ..core.distributions import fisher_exact_greater

    def sources(frame: pd.DataFrame, rows: pd.DataFrame) -> tuple[pd.Series, int, int]:
        f = rows["failed"].to_numpy(dtype=float, na_value=np.nan)
        known_n, failed = int((~np.isnan(f)).sum()), set(rows.loc[f == 1, "trace_id"].astype(str))
        if not failed:
            return pd.Series(dtype="int64"), known_n, 0
        eo = error_origins(frame, per_span=True)
        eo = eo[eo["trace_id"].astype(str).isin(failed).to_numpy() & (eo["decided_by"] == "status").to_numpy()]
        key = eo["service"].astype(str) + ": " + eo["name"].astype(str)
        counts = pd.Series(eo["trace_id"].astype(str).to_numpy()).groupby(key.to_numpy()).nunique()
        return counts.sort_values(ascending=False, kind="stable"), known_n, len(failed)

    si, ni, fi = sources(incident, req)
    sb, nb, fb = sources(base, ob)
    out: list[str] = []
    ev: dict[str, Any] = dict(baseline_failed_requests=fb)
    if not ni or not nb:
        return out, ev
    new = [(k, int(c)) for k, c in si.items() if not sb.get(k, 0)]
    if new:
        k, c = new[0]
        p = fisher_exact_greater([[c, ni - c], [0, nb]])
        if p <= alpha:
            out.append(f"yet {c:,} of the window's {fi:,} failed requests failed at {k} (where their failure "
                       f"originates), where none of the baseline's {_plural(nb, 'request')} failed (one-sided Fisher "
                       f"exact {_fmt_p(p)})")
            ev.update(new_failure_source=k, new_failure_source_requests=c, new_failure_source_p_value=p)
    if len(sb):
        k, c = str(sb.index[0]), int(sb.iloc[0])
        ci = int(si.get(k, 0))
        if 2 * c >= fb and c >= 5 and ci / ni <= ENDED_FACTOR * c / nb:
            p = fisher_exact_greater([[c, nb - c], [ci, ni - ci]])
            if p <= alpha:
                out.append(f"the baseline's failures came mostly from {k} ({c:,} of its {fb:,} failed requests "
                           f"failed there), where {ci:,} of the window's {_plural(ni, 'request')} failed (one-sided "
                           f"Fisher exact {_fmt_p(p)}): the baseline may itself hold an incident that ended")
                ev.update(ended_failure_source=k, ended_failure_source_requests=c, ended_failure_source_p_value=p)
                return out, ev
        # concentrated at one source, as a fault is (fault lab null windows with 1 % background errors: 18 of 300
        # failed over 14 operations, 2 at the top one — not a held incident, and "most at" it was false)
        if fb >= 5 and fb / nb >= BASELINE_FAILING_SHARE and 2 * c >= fb:
            out.append(f"the baseline itself failed {fb:,} of its {_plural(nb, 'request')} ({_rate(fb / nb)}), "
                       f"{c:,} of them at {k}: where that is not normal here, the baseline holds an incident too")
            ev.update(baseline_failing_source=k, baseline_failing_source_requests=c)
    return out, ev


def _what(spans: pd.DataFrame, incident: pd.DataFrame, base: pd.DataFrame | None, head: pd.Series | None,
          changes: pd.DataFrame, weights: Any = None, mix: Finding | None = None, source: str = "",
          alpha: float = 0.01) -> list[Finding]:
    if head is not None:
        route, metric = head["route"], head["metric"]
        onset, recovery = head["onset"], head["recovery"]
        end = recovery if not pd.isna(recovery) else spans["start"].max()
        rows = _route_requests(spans, route, None)
        # an ongoing change runs to the end of the data: its last request is in it (``< end`` with end the last
        # start counted the latest request of the window among the normal ones)
        inside = ((rows["time"] >= onset) & ((rows["time"] < recovery) if not pd.isna(recovery) else True)
                  ).to_numpy(dtype=bool)
        # the "before" side is the baseline the ranking and "how sure" compare with (incident_periods' one rule: the
        # normal period before the change less other change windows, or the baseline given), this route's requests
        # in it; the route's other requests of the data only where that baseline holds none. "Every request outside
        # the window" held the requests after it, a later fault's among them (Nezha OnlineBoutique 05:15–05:29:
        # p95 6.1 s → 33 s "against the other 1,152 requests", 1,086 of them after the window)
        rows_b = _route_requests(base, route, None) if base is not None and len(base) else None
        on_base = rows_b is not None and len(rows_b) > 0
        lat_in = rows["latency_ms"].to_numpy(dtype=float)[inside]
        lat_out = (rows_b if on_base else rows[~inside])["latency_ms"].to_numpy(dtype=float)
        # <NA>: a request in progress with no outcome yet (or no span records a status): left out of the rates,
        # as core.failed_share leaves it out, and said
        fl = rows["failed"].to_numpy(dtype=float, na_value=np.nan)
        fail_in = fl[inside]
        fail_out = rows_b["failed"].to_numpy(dtype=float, na_value=np.nan) if on_base else fl[~inside]
        n_in, n_out = int(inside.sum()), len(lat_out)
        where_out = "in the baseline" if on_base else "outside the window"
        p95_out, p95_in = (float(percentile(x, 0.95)) if len(x) else np.nan for x in (lat_out, lat_in))
        p50_out, p50_in = (float(percentile(x, 0.5)) if len(x) else np.nan for x in (lat_out, lat_in))
        er_out, er_in = (float(x[~np.isnan(x)].mean()) if (~np.isnan(x)).any() else np.nan for x in (fail_out, fail_in))
        unk_out, unk_in = (int(np.isnan(x).sum()) for x in (fail_out, fail_in))
        known_status = status_recorded(spans)
        left_out = (_unknown_words(unk_out, unk_in, where_out, "in the window")
                    if known_status and (unk_out or unk_in) else "")
        no_lat = _no_latency_words(int(np.isnan(lat_out).sum()), int(np.isnan(lat_in).sum()), where_out, "in the window")
        left_out = "; ".join(w for w in (no_lat, left_out) if w)
        ids = rows["trace_id"].astype(str).to_numpy(dtype=object)
        ids_out = rows_b["trace_id"].astype(str).to_numpy(dtype=object) if on_base else ids[~inside]
        sides = (_weighted_sides(spans, ids[inside], ids_out, weights, before=base if on_base else None)
                 if weights is not None else None)
        sampled = ""
        if sides is not None:  # the sample's own numbers are biased by the sampler: the corrected ones are said
            sampled = (f"; as sampled, biased by the sampler: p95 {fmt_ms(p95_out)} → {fmt_ms(p95_in)}, p50 "
                       f"{fmt_ms(p50_out)} → {fmt_ms(p50_in)}"
                       + (f", error rate {_rate(er_out)} → {_rate(er_in)}" if status_recorded(spans) else ""))
            s_in, s_out = sides
            p95_out, p95_in, p50_out, p50_in = s_out["p95_ms"], s_in["p95_ms"], s_out["p50_ms"], s_in["p50_ms"]
            er_out, er_in = s_out["error_rate"], s_in["error_rate"]
        n_out_words = _plural(n_out, f"{route} request" if sides is None else f"sampled {route} request")
        worse = "slower" if metric != "error_rate" else "failing more often"
        if metric == "p95_ms" and head["delta"] < 0:
            worse = "faster"
        who = (f"{_plural(n_in, f'sampled {route} request')}, standing for about {sides[0]['est_requests']:,.0f}, "
               f"were {worse}: corrected for sampling, " if sides is not None else
               f"{route} requests were {worse}: ")  # not "47 /checkout requests were slower": not each one was
        if sides is None and on_base and metric == "p95_ms" and np.isfinite(p95_in - p95_out) \
                and np.sign(p95_in - p95_out) != np.sign(float(head["delta"])):
            # the change found in the data and the baseline disagree (a baseline holding its own incident): "95
            # /checkout requests were slower: p95 request latency 649 ms → 576 ms" said both at once
            who = (f"{route} requests were {worse} than before the change in the data (p95 request "
                   f"latency {fmt_ms(float(head['before']))} → {fmt_ms(float(head['during']))}), but not than the "
                   "baseline's: ")
        # how many of the window's requests the change touched, as a count: "47 /checkout requests were slower" said
        # every one was, where a p95 can rise with a few
        n_above = int(np.sum(lat_in > p95_out)) if np.isfinite(p95_out) else 0
        above = ""
        if sides is None and metric == "p95_ms" and worse == "slower" and np.isfinite(p95_out):
            above = (f", {n_above:,} of them slower than " + (f"the baseline's p95 of {fmt_ms(p95_out)}" if on_base
                                                            else f"the p95 of {fmt_ms(p95_out)} outside it"))
        lo, hi = float(head["delta_lo"]), float(head["delta_hi"])
        if metric in ("p95_ms", "error_rate") and np.isfinite(lo) and np.isfinite(hi) and lo <= 0 <= hi:
            # the window passed the timing test (ranks of the minutes' values) while the size of the change holds
            # no change (a fault-free simulated hour, seed 9: "/products requests were slower: p95 68.7 ms → 69.6 ms",
            # +0.9 ms [-1.2, +6.3]): said first, before the numbers read as a finding
            what = "p95 request latency" if metric == "p95_ms" else "error rate"
            ci_pct = f"{100 * float((changes.attrs.get('params') or {}).get('ci', 0.95)):g}"
            who = (f"Weak evidence: the change of the {route} {what} over the window, {_delta(metric, head['delta'])}, "
                   f"has a {ci_pct} % interval of {_delta(metric, lo)} to {_delta(metric, hi)}, which holds no change. "
                   + who)
        text = (who + f"p95 request latency {fmt_ms(p95_out)} → {fmt_ms(p95_in)}"
                + (f" ({_delta('p95_ms', head['delta'])} [{_delta('p95_ms', head['delta_lo'])}, "
                   f"{_delta('p95_ms', head['delta_hi'])}])" if metric == "p95_ms" and not on_base else "")
                + f", p50 {fmt_ms(p50_out)} → {fmt_ms(p50_in)}, "
                + (f"error rate {_rate(er_out)} → {_rate(er_in)}" if known_status else NO_STATUS)
                + (f" ({_delta('error_rate', head['delta'])} [{_delta('error_rate', head['delta_lo'])}, "
                   f"{_delta('error_rate', head['delta_hi'])}])" if metric == "error_rate" and not on_base else "")
                + (f" ({left_out})" if left_out else "")
                + f" (the window's {_plural(n_in, 'request')}{above}, {window_text(onset, end)}, against "
                + (f"the baseline's {n_out_words} — {source}" if on_base else
                   f"the other {n_out_words} of the data, outside it")
                + (f", standing for about {sides[1]['est_requests']:,.0f}" if sides is not None else "") + f"{sampled}).")
        sel = rows[inside]
        slow = sel.sort_values("latency_ms", ascending=False)["trace_id"].astype(str).head(3)
        ev = dict(route=str(route), metric=str(metric), requests_hurt=n_in, p95_before_ms=p95_out, p95_during_ms=p95_in,
                  p50_before_ms=p50_out, p50_during_ms=p50_in, error_rate_before=er_out, error_rate_during=er_in,
                  delta=float(head["delta"]), delta_lo=float(head["delta_lo"]), delta_hi=float(head["delta_hi"]),
                  requests_above_p95_before=n_above, weighted=sides is not None, unknown_before=unk_out, unknown_during=unk_in,
                  before="baseline" if on_base else "outside the window", requests_before=n_out)
        if sides is not None:
            ev.update(est_requests_hurt=float(sides[0]["est_requests"]), est_requests_outside=float(sides[1]["est_requests"]))
        out = [Finding("what", text, tuple(slow), ev)]
        return out
    out_inc = _with_routes(incident)
    req = out_inc[out_inc["request"].to_numpy(dtype=bool)]
    # the callee's half of a request whose caller dropped the context: in its caller's request (one definition,
    # trace_outcomes), said beside the count
    split, split_words = _split_requests(incident, out_inc)
    lat = req["request_ms"].to_numpy(dtype=float)
    p50, p95 = (float(percentile(lat, q)) if len(lat) else np.nan for q in (0.5, 0.95))
    er = failed_share(out_inc)[0]
    known = status_recorded(incident) or (base is not None and status_recorded(base))
    if not known:
        er = np.nan
    # the incident's own window: the whole data, but where the metrics found the window (incident_periods) its traces'
    # ("120 requests in 14:00:02–14:06:58 UTC" of the 120 that started from 14:05:00)
    when = window_text(*span_window(incident if len(incident) else spans))
    rootless = int((~out_inc["has_root"].to_numpy(dtype=bool)).sum())
    if len(out_inc) and rootless == len(out_inc):
        # no root span at all (only child spans exported, or every root lost): said first, as what the data is — it
        # read "0 requests in 14:07–14:59 UTC: p50 request latency n/a", the missing roots said only in "how sure"
        # a span naming itself (or a descendant) as its parent is on a parent loop, not a child whose root was lost
        looped = int((span_tree(incident).per_trace(span_tree(incident).cycle) > 0).sum())
        why = ("only child spans were recorded or exported" if not looped else
               f"{('its' if looped == 1 else 'their') if looped == len(out_inc) else f'in {looped:,} of them the'} "
               "spans' parent ids form a loop, a span "
               "naming itself or a descendant as its parent" + ("" if looped == len(out_inc) else
                                                                 "; in the others only child spans were recorded"))
        text = (f"No root span at all: none of the {_plural(len(out_inc), 'trace')} in {when} holds its request's "
                f"root span ({why}), so no request latency, request count or "
                "error rate can be measured; every number below is about child spans (trace extents, operations, "
                "calls), not about what the callers waited for.")
        return [Finding("what", text, (), dict(requests=0, rootless_traces=rootless, no_root_at_all=True, looped_traces=looped,
                                               p50_ms=np.nan, p95_ms=np.nan, error_rate=np.nan,
                                               split_traces=len(split)))]
    text = (f"{_plural(len(req), 'request')} in {when}: "
            f"p50 request latency {fmt_ms(p50)}, p95 {fmt_ms(p95)}, " + (f"error rate {_rate(er)}" if known else NO_STATUS))
    n_unknown = unknown_outcomes(out_inc) if status_recorded(incident) else 0  # left out of er (core.failed_share)
    ev: dict[str, Any] = dict(requests=len(req), p50_ms=p50, p95_ms=p95, error_rate=er, split_traces=len(split))
    # what the numbers leave out or count once, in one parenthesis after them ("… pairs them) (of the 500 requests, 2
    # ended in a client error …)" read as two afterthoughts); the sampling-corrected numbers replace the head only
    notes: list[str] = [split_words] if split else []
    many, roots, copied, records, given = _several_roots(incident)
    if many:  # said where the count is: each trace is one request, by its first root
        notes.append(f"{_plural(many, 'trace')} of {len(out_inc):,} {'holds' if many == 1 else 'hold'} more than one "
                     f"root span, {roots:,} roots in {'it' if many == 1 else 'them'}: trace ids reused, or a service "
                     "starting new roots; each trace counts as one request, by its earliest root")
        ev.update(traces_with_several_roots=many, roots_in_them=roots)
    if copied:  # one root span given more than once (the same span id): a record repeated, not another root
        notes.append(f"the root span of {_plural(copied, 'trace')} of {len(out_inc):,} is in the data more than once: "
                     f"{records:,} records of {_plural(given, 'span')} (one span id each), exported or read twice; each "
                     "span counts once, by its first record")
        ev.update(traces_with_repeated_root=copied, repeated_root_records=records)
    corrected = _what_weighted(req, incident, spans, weights, known) if weights is not None and len(req) else None
    if corrected is not None:  # (it replaced the whole text and evidence: a sampled file's split traces went unsaid)
        text, ev = corrected[0], {**ev, **corrected[2]}
        notes.insert(0, corrected[1])
    if n_unknown:  # the requests the error rate left out (as sampled and corrected alike: weighted_summary too)
        notes.append(_unknown_words(n_unknown, 0, "", ""))
    if known:  # failed spans that did not fail the request: "error rate 0.0 %" of 120 requests, 26 holding one
        hidden = _hidden_failures(req, None if base is None or not len(base) else trace_outcomes(base))
        if hidden[0]:
            notes.append(hidden[0])
        ev.update(hidden[1])
    n_client, n_throttled = _not_failures(req) if known else (0, 0)
    if n_client or n_throttled:  # "error rate 99.5 %" of 200 requests that all said error: the 200th was a 4xx
        notes.append(_not_failure_words(n_client, n_throttled, len(req)))
    ev["client_errors"], ev["throttled"] = n_client, n_throttled
    n_no_lat = int(np.isnan(lat).sum())  # left out of p50 / p95 (core.percentile drops NaN)
    if n_no_lat:
        notes.append(_no_latency_words(n_no_lat, 0, "", ""))
    if notes:
        text += f" ({'; '.join(notes)})"
    ev["unknown_outcomes"] = n_unknown
    ev["no_latency"] = n_no_lat
    if base is not None and len(base):
        ob = _with_routes(base)
        ob = ob[ob["request"].to_numpy(dtype=bool)]
        bl = ob["request_ms"].to_numpy(dtype=float)
        b95 = float(percentile(bl, 0.95)) if len(bl) else np.nan
        ber = failed_share(ob)[0] if known else np.nan
        b_unknown = unknown_outcomes(ob) if status_recorded(base) else 0  # left out of ber (core.failed_share)
        # the baseline's numbers with their window, said here, first: a baseline from another hour or day (given
        # as such) was said only in "how sure", below the ranking that compared with it
        bs = ob["start"].dropna()
        b_when = ""
        if len(bs):
            same_day = len(req) and pd.Timestamp(bs.min()).date() == pd.Timestamp(req["start"].min()).date() \
                and pd.Timestamp(bs.min()).date() == pd.Timestamp(bs.max()).date()
            b_when = f" (started {window_text(bs.min(), bs.max()) if same_day else period_text(bs.min(), bs.max())})"
        b_notes = ([_unknown_words(b_unknown, 0, "of the baseline", "")] if known and b_unknown else []) + (
            [_no_latency_words(int(np.isnan(bl).sum()), 0, "of the baseline", "")] if np.isnan(bl).any() else [])
        text += (f"; against the p95 of the baseline's {_plural(len(bl), 'request')}{b_when}"
                 f"{', as sampled' if corrected is not None else ''}, {fmt_ms(b95)}"
                 + (f", and its error rate {_rate(ber)}" if known else "")
                 + (f" ({'; '.join(b_notes)})" if b_notes else "")
                 + (" — but the baseline is another mix of routes, so these overall numbers compare mixes (how sure: "
                    "traffic mix)" if mix is not None else ""))
        load = _load_words(req, ob, sampled=corrected is not None)
        text += load[0]
        ev.update(baseline_p95_ms=b95, baseline_error_rate=ber, baseline_other_mix=mix is not None,
                  baseline_unknown_outcomes=b_unknown, **load[1])
        if corrected is None:  # the verdict, counted: "p95 209 ms; against the baseline's 142 ms" left it to the reader
            src, s_ev = _failure_sources(incident, base, req, ob, alpha) if known else ([], {})
            verdict, v_ev = _against_baseline(req, ob, known, alpha, overall="new_failure_source" in s_ev)
            if src and verdict and not v_ev.get("failing_more_than_baseline"):
                verdict += "; " + "; ".join(src)
            elif src and verdict:  # failing more often: the new source is the finding's, the baseline's said
                verdict += "".join(f"; {c}" for c in src if not c.startswith("yet "))
            text += f". {verdict}" if verdict else ""
            ev.update(v_ev)
            ev.update(s_ev)
    text += "."
    slow = req.sort_values("request_ms", ascending=False)["trace_id"].astype(str).head(3)
    return [Finding("what", text, tuple(slow), ev)]


#: a baseline whose requests differ in route mix by at least this total variation (the share of requests that
#: would have to change route to match), beyond chance, compares mixes in every overall number
MIX_TVD = 0.15


def _route_mix(incident: pd.DataFrame, base: pd.DataFrame) -> Finding | None:
    """``Traffic mix: …`` when the baseline's requests are another mix of routes than the incident's (total
    variation ≥ :data:`MIX_TVD` and a chi-square test of the two mixes' counts at p < 0.01), else None: the overall
    percentiles and error rates then compare mixes, not the same requests."""
    from ..analysis.timeline import request_rows
    from ..core.distributions import chi2_contingency_p

    a, b = (request_rows(x, "route")["route"].astype(object).fillna("(no route)").value_counts() for x in (incident, base))
    keys = a.index.union(b.index)
    a, b = a.reindex(keys, fill_value=0), b.reindex(keys, fill_value=0)
    if len(keys) < 2 or not a.sum() or not b.sum():
        return None
    # routes whose expected count on either side is under 5 are pooled (Pearson's test is too eager on tiny
    # expectations: a long tail of rare routes and 20 incident requests alarmed 4.5 % of like baselines)
    both = (a + b) / (a.sum() + b.sum())
    rare = (both * min(a.sum(), b.sum())) < 5
    if rare.sum() > 1:
        a = pd.concat([a[~rare], pd.Series({"(rare routes)": a[rare].sum()})])
        b = pd.concat([b[~rare], pd.Series({"(rare routes)": b[rare].sum()})])
    if len(a) < 2:
        return None
    pa, pb = a / a.sum(), b / b.sum()
    tvd = float(0.5 * (pa - pb).abs().sum())
    p = chi2_contingency_p(np.vstack([a.to_numpy(), b.to_numpy()]))
    if tvd < MIX_TVD or not p < 0.01:
        return None
    top = (pa - pb).abs().sort_values(ascending=False).index[:2]
    words = "; ".join(f"{k} is {percent(pa[k])} of the incident's requests and {percent(pb[k])} of the baseline's" for k in top)
    return Finding("sure", f"Traffic mix: the baseline's requests are another mix of routes — {words} "
                           f"({percent(tvd)} of the requests would have to change route to match; chi-square {_fmt_p(p)}), "
                           "so overall percentiles and error rates compare mixes, not the same requests: compare per "
                           "route (the ranking below compares each operation with itself).", (),
                   dict(route_mix_tvd=tvd, route_mix_p=p))


def _several_roots(spans: pd.DataFrame) -> tuple[int, int, int, int, int]:
    """Traces holding more than one root span and the roots in them, then traces whose root span is given more than
    once (the same span id), the records of those roots and the root spans they are: zeros when none. A root given
    twice is one root (the kernel tree's ``duplicate``): exports read together repeat it (otel-contrib's X-Ray test
    files), and it was said as "holds more than one root span" of a trace with one."""
    if not len(spans):
        return 0, 0, 0, 0, 0
    tree = span_tree(spans)
    root = tree.is_root
    per = tree.per_trace(root & ~tree.duplicate)
    many = per > 1
    given = root & tree.duplicated  # every record of a root span given more than once
    return (int(many.sum()), int(per[many].sum()), int((tree.per_trace(given) > 0).sum()), int(given.sum()),
            span_count(spans, given))


#: with no change found at ``alpha``, the strongest candidate up to this Holm-adjusted p-value is named, as not
#: significant: a short change at an edge of the data, or on a few requests a minute, can be real and missed
NEAR_ALPHA = 0.5


def _cold_moves(spans: pd.DataFrame, freq: str | None, alpha: float) -> pd.DataFrame:
    """The functions whose share of cold invocations rose within the data beyond chance (Holm-adjusted p < ``alpha``:
    :func:`~tracekit.analysis.attribution.lambdas.cold_start_changes`), by function; empty when none or no Lambda."""
    from ..analysis.attribution.lambdas import COLD_START_CHANGES, cold_start_changes

    try:
        ch = cold_start_changes(spans, freq=freq or "1min")
    except TraceKitError:
        return pd.DataFrame(columns=COLD_START_CHANGES.column_names)
    return ch[ch["p_value"] < alpha].set_index("function", drop=False)


def _cold_window_words(m: pd.Series) -> str:
    """``44 of its 98 invocations in 14:30–14:50 UTC were cold (45%), against 2 of 165 (1%) outside`` (a row of
    cold_start_changes)."""
    end = m["recovery"] if not pd.isna(m["recovery"]) else None
    when = window_text(m["onset"], end) if end is not None else f"from {clock_text(m['onset'])} UTC to the end of the data"
    return (f"{m['cold_inside']:,} of its {_plural(m['invocations_inside'], 'invocation')} in {when} were cold "
            f"({percent(m['cold_inside'] / m['invocations_inside'])}), against {m['cold_outside']:,} of "
            f"{m['invocations_outside']:,} ({percent(m['cold_outside'] / max(m['invocations_outside'], 1))}) outside")


def _when(spans: pd.DataFrame, head: pd.Series | None, changes: pd.DataFrame, alpha: float, freq: str | None = None,
          weights: Any = None, cold_moves: pd.DataFrame | None = None,
          rising_from: pd.Timestamp | None = None, given: bool = False, metric_change: pd.Series | None = None,
          metric_changes: pd.DataFrame | None = None, incident: pd.DataFrame | None = None) -> list[Finding]:
    if head is None:
        t0, t1 = span_window(spans)
        # "the whole window an unknown window" where no span records a start or an end (an unset OTLP start)
        window = window_text(t0, t1) if not (pd.isna(t0) and pd.isna(t1)) else "of the data (no start or end time recorded)"
        n_req = int(trace_outcomes(spans)["request"].sum())
        params = changes.attrs.get("params", {}) if changes is not None else {}
        # "too few to look" only where nothing was looked at: 15 requests of the shop were tested on 2 routes (and a
        # change there would have been the onset), yet this said "Too few requests (15) to look for an onset"
        if n_req == 0 and len(spans) and not params.get("n_series"):
            # "Too few requests (0)" of 120 traces cut below their roots: there are requests, none with its root span
            return [Finding("when", f"No request to look for an onset in: no trace holds its request's root span, "
                                    f"so no request latency or outcome is known over time; the whole window {window} is "
                                    "treated as the incident.", (), dict(onset=None, recovery=None, no_root=True))]
        if n_req < 20 and not params.get("n_series"):
            return [Finding("when", f"Too few requests ({n_req}) to look for an onset: the whole window {window} is "
                                    "treated as the incident.", (), dict(onset=None, recovery=None))]
        # no series was tested (detect_changes' n_series 0): each route's requests fall in fewer buckets than a change
        # is looked for over, or never vary. Then no p-value exists: "none comes near: every Holm-adjusted p-value is
        # above 0.5" was said of 7 minutes of TrainTicket's traces at freq="1h" (one bucket)
        untested = params.get("n_series") == 0
        if untested:
            need = int(params["fewest_buckets"])  # detect_changes says what it needed
            step = pd.Timedelta(pd.tseries.frequencies.to_offset(params.get("freq") or freq or "1min")).value
            req = trace_outcomes(spans)
            starts = ns(req["start"][req["request"].to_numpy(dtype=bool)])
            k = int(len(np.unique(starts[starts != np.iinfo(np.int64).min] // step)))
            if k < need:
                bucket = params.get("freq") or freq
                return [Finding("when", f"Too few time buckets to look for an onset: the {_plural(n_req, 'request')} "
                                        f"started in {_plural(k, 'bucket')} of {bucket}, and a change is looked for "
                                        f"over at least {need}; the whole window {window} is treated as the incident. "
                                        "A finer freq looks closer.", (),
                                dict(onset=None, recovery=None, buckets=k, buckets_needed=need))]
        from ..analysis.changes import UNTESTED_WARNING, detect_changes

        near = None
        if alpha < NEAR_ALPHA:
            try:  # "no series could be tested" is said in the finding's own words below, not as a stray warning
                with warnings.catch_warnings():
                    warnings.filterwarnings("ignore", message=UNTESTED_WARNING, category=UserWarning)
                    near = detect_changes(spans, by="route", metric=("p95_ms", "error_rate"), freq=freq or "1min",
                                          alpha=NEAR_ALPHA, weights=weights)
            except TraceKitError:
                near = None
        # with a baseline given, the window is the user's: "No onset found: no change in the requests was detected"
        # led the finding and read as "nothing happened" beside an incident whose every request was slower than the
        # baseline (fault lab network_delay 205: 90 of 120 above the baseline's p95) — it is of the window's own time
        lead = (f"No onset within the window: its requests did not change over its own time beyond chance (no route's "
                f"p95 request latency or error rate changed at a family-wise false-positive rate of {alpha:g}"
                if given else
                f"No onset found{' in the requests' if metric_change is not None else ''}: no change in the requests "
                f"was detected beyond chance (no route's p95 request latency or error rate changed over time at a "
                f"family-wise false-positive rate of {alpha:g}")
        ev: dict[str, Any] = dict(onset=None, recovery=None)
        if near is not None:  # a candidate that made things better is no candidate for an incident
            near = near[(near["during"].astype(float) > near["before"].astype(float)).to_numpy(dtype=bool)]
        near_words = ""
        if near is not None and len(near):  # said after the finding, as what it is: short of the rate asked for
            r = near.iloc[0]
            end = r["recovery"] if not pd.isna(r["recovery"]) else spans["start"].max()
            edge = ("at the start of the data; " if r["onset"] <= spans["start"].min() + pd.Timedelta(freq or "1min")
                    else "to the end of the data; " if pd.isna(r["recovery"]) else "")
            name = "p95 request latency" if r["metric"] == "p95_ms" else "error rate"
            lead += ")"
            # "within chance" was said of p = 0.02: the plain words are the rate it fell short of, with its p
            near_words = (f" The candidate nearest to passing was {r['route']} {name} "
                          f"{_value(r['metric'], r['before'])} → {_value(r['metric'], r['during'])} in "
                          f"{window_text(r['onset'], end)} ({edge}Holm-adjusted {_p_above(float(r['p_value']), alpha, near)}, "
                          f"above {alpha:g}): a short "
                          "change, or one on few requests, can be real and still not pass.")
            ev.update(candidate_route=str(r["route"]), candidate_metric=str(r["metric"]), candidate_onset=r["onset"],
                      candidate_recovery=r["recovery"], candidate_p_value=float(r["p_value"]),
                      candidate_before=float(r["before"]), candidate_during=float(r["during"]))
        else:
            lead += (f"; none comes near: every Holm-adjusted p-value is above {NEAR_ALPHA:g})" if near is not None
                     and not untested else "; no route's series could be tested: each holds too few buckets with "
                     "requests, or never varies)" if untested else ")")
        cold_words = ""
        if cold_moves is not None and len(cold_moves):  # the cold starts are the change found: when they were
            m = cold_moves.iloc[0]
            cold_words = (f" What did change is {m['function']}'s cold starts: {_cold_window_words(m)} (beyond chance: "
                          f"Holm-adjusted permutation {_fmt_p(float(m['p_value']))}).")
            ev.update(cold_function=str(m["function"]), cold_onset=m["onset"], cold_recovery=m["recovery"])
        # the shortest change the detection can see at this bucket (changes.SHORTEST_CHANGE): a spike of a few
        # buckets is not found however large, so "no onset" is said with it
        res = changes.attrs.get("resolution", "") if changes is not None else ""
        # with a baseline given, "no change … beyond chance" read as the contradiction of "error rate 100 % against
        # 0.7 %" said just before it: it is of change over the incident's own time, and says so
        against = (" Against the baseline given, whatever differs was so from the window's first request or grew too "
                   "gradually to show an onset: the comparisons below are of the whole window." if given else "")
        if metric_change is not None:  # the metrics beside the requests changed: their window is the incident
            words, m_ev = _metric_onset_words(spans, metric_change, metric_changes, incident, freq)
            ev.update(m_ev)
            return [Finding("when", f"{lead}.{cold_words} {words}" + near_words + (f" {res}" if res else ""), (), ev)]
        whole = (f" The whole window {window} is the incident, compared with the baseline given." if given else
                 f" The whole window {window} is treated as the incident.")
        return [Finding("when", f"{lead}.{cold_words}{whole}" + against + near_words + (f" {res}" if res else ""),
                        (), ev)]
    onset, recovery = head["onset"], head["recovery"]
    clock = _clock_for(onset, recovery)
    first = spans["start"].min()
    # a change whose first bucket holds the data's first request was under way by the data's first minute: whether
    # it began then (40 s in) or before the data is not in the data, so neither is said
    used = changes.attrs.get("params", {}).get("freq")  # the bucket length detect_changes used
    step = freq_text(used) if used else "bucket"
    # the caveat is a sentence of its own, after the detection: "…: whether it began before the data or within its
    # first 1 min is not in the data and was over by 14:08 UTC" made the caveat the subject of "was over"
    started = (f"It was under way from the data's start ({clock(first)} UTC)" if onset <= first
               else f"It started at {clock(onset)} UTC")
    caveat = (f" Whether it began before the data or within its first {step} is not in the data." if onset <= first
              else "")
    # a window next to buckets where no span at all was collected (detect_changes' no_data_windows): its onset is where
    # spans came back, its recovery where they came back after it — when it began or ended in the gap is not in the data
    gaps = changes.attrs.get("no_data_windows", [])
    gap_before = next((g for g in gaps if g[1] == onset), None) if onset > first else None
    gap_after = None if pd.isna(recovery) else next((g for g in gaps if g[1] == recovery), None)
    if gap_before is not None:
        started = (f"It was under way when spans were collected again at {clock(onset)} UTC, after none at all in "
                   f"{window_text(*gap_before)}")
        caveat = " Whether it began in that gap is not in the data."
    if pd.isna(recovery):
        span = f"{started} and was still going at the end of the data ({clock(spans['start'].max())} UTC)"
        minutes = (spans["start"].max() - onset) / pd.Timedelta("1min")
    else:
        minutes = (recovery - onset) / pd.Timedelta("1min")
        length = f"{60 * minutes:,.0f} s" if minutes < 2 else f"{minutes:,.0f} min"
        # its length: exact, or a bound where an end is not in the data (the data's start, a gap); none when both
        least, most = onset <= first or gap_before is not None, gap_after is not None
        bound = "" if least and most else f" ({'at least ' if least else 'at most ' if most else ''}{length})"
        span = f"{started} and was over by {clock(recovery)} UTC{bound}"
        if most:
            span += (f", when spans were collected again after none at all in {window_text(*gap_after)}: it ended in "
                     "that gap or before")
    together = _seen_together(spans, changes, head)
    is_head = ((changes["route"] == head["route"]) & (changes["metric"] == head["metric"])).to_numpy(dtype=bool)
    others = changes[together & ~is_head]
    # the detected route's other metric is its own, not a route "changed at the same time" as itself
    own = others[(others["route"] == head["route"]).to_numpy(dtype=bool)]
    other_routes = [str(r) for r in dict.fromkeys(others["route"]) if r != head["route"]]
    text = (f"{span}, detected on {head['route']} {'p95 request latency' if head['metric'] == 'p95_ms' else 'error rate'} "
            f"(Holm-adjusted {_change_p(float(head['p_value']), changes.attrs.get('params', {}))})")
    if len(own):
        text += (f", its {'p95 request latency' if own['metric'].iloc[0] == 'p95_ms' else 'error rate'} changing "
                 "with it")
    if other_routes:
        text += "; " + ", ".join(other_routes[:4]) + (" …" if len(other_routes) > 4 else "") + " changed at the same time"
        if (others["onset"] != onset).any():  # a route asked seldom shows it at its first request after the onset
            text += " (as soon as their requests could show it: none came between)"
    dep = head.get("deployment")
    if dep is not None and not pd.isna(dep):
        text += f"; {dep} was first seen at the onset"
    if rising_from is not None and rising_from < onset:
        # a change that grew into its onset (incident_periods' rising_from): "It started at 14:30" alone was said of a
        # lock growing 50 ms every 5 minutes from 14:20, in 10 of 10 seeds
        worse = "failing more often" if head["metric"] == "error_rate" else "slower"
        text += (f"; it began before that, gradually: {head['route']} requests were already {worse} than earlier from "
                 f"{_clock_for(rising_from, onset)(rising_from)} UTC, rising into it (left out of the baseline)")
    text += "." + caveat
    rest = changes[~together]
    out = [Finding("when", text, (), dict(onset=onset, recovery=recovery, minutes=float(minutes),
                                         after_gap=gap_before is not None, before_gap=gap_after is not None,
                                         rising_from=rising_from if rising_from is not None and rising_from < onset
                                         else None))]
    mirror = fast_failure_mirrors(changes, step if step != "bucket" else "1min", spans)
    mirrors = changes.index[mirror]
    if len(rest) and rest.index.isin(mirrors).all():
        # the latency of the normal traffic beside requests that failed fast: said as what it is, not as a change
        r = rest.iloc[0]
        clock = _clock_for(r["onset"], r["recovery"])
        where = (f"in {clock(r['onset'])}–{clock(r['recovery'])} UTC" if not pd.isna(r["recovery"])
                 else f"from {clock(r['onset'])} UTC")
        out.append(Finding("when", f"Not a change of its own: {r['route']} p95 request latency was "
                                   f"{_value(r['metric'], r['during'])} {where} against {_value(r['metric'], r['before'])} "
                                   "outside it, where its requests failed (the error rate's change) and returned fast.",
                           ()))
    elif len(rest):
        rest = rest[~rest.index.isin(mirrors)]
        r = rest.iloc[0]
        out.append(Finding("when", f"A separate change: {r['route']} "
                                   f"{'p95 request latency' if r['metric'] == 'p95_ms' else 'error rate'} "
                                   f"{_value(r['metric'], r['before'])} → {_value(r['metric'], r['during'])} from "
                                   f"{_clock_for(r['onset'], r['recovery'])(r['onset'])} UTC"
                                   + ("" if pd.isna(r['recovery']) else
                                      f" to {_clock_for(r['onset'], r['recovery'])(r['recovery'])} UTC")
                                   + f" ({_plural(len(rest), 'change')} besides the one above).", ()))
    return out


def _seen_together(spans: pd.DataFrame, changes: pd.DataFrame, head: pd.Series) -> np.ndarray:
    """Per row of ``changes``: whether it is the head's change as far as the requests can tell — the same onset, or
    an onset the later of the two routes had no request before (none between the two onsets: it could show the change
    no earlier). A route asked every 20 s showed a failure of every request from 14:05:00 at 14:05:20, and the story
    said "A separate change" of it (fault lab null, every root failing from the onset: 4 of seeds 0-4)."""
    onset = head["onset"]
    together = np.array(changes["onset"] == onset, dtype=bool)
    if together.all():
        return together
    from ..analysis.timeline import request_rows

    rows = request_rows(spans, "route")
    route = rows["route"].astype(object).to_numpy()
    t = ns(rows["time"])
    at = ns(changes["onset"])
    for i in np.flatnonzero(~together):
        later = changes["route"].iloc[i] if at[i] > onset.value else head["route"]
        lo, hi = min(at[i], onset.value), max(at[i], onset.value)
        together[i] = not bool(((route == later) & (t >= lo) & (t < hi)).any())
    return together


def _clock_for(*times: Any) -> Any:
    """How the times of one sentence are said: ``14:27`` (clock_text) when each is on a whole minute, else all with
    seconds (``10:13:00``, ``10:13:30``) — a change found in buckets under a minute said as "10:13 … 10:13 (0 min)"
    (TrainTicket 10:12) told nothing."""
    whole = all(t is None or pd.isna(t) or pd.Timestamp(t).floor("1min") == pd.Timestamp(t) for t in times)
    return clock_text if whole else (lambda t: "n/a" if t is None or pd.isna(t) else f"{pd.Timestamp(t):%H:%M:%S}")


def _compare(incident: pd.DataFrame, base: pd.DataFrame, level: str, n_boot: int):
    from ..analysis.comparison import compare

    a, keys = level_frame(incident, level)
    b, _ = level_frame(base, level)
    return compare(a, b, by=keys, n_boot=n_boot)


def _key_label(row: pd.Series, level: str) -> str:
    if level == "operation":
        return f"{row['service']}: {row['name']}"
    if level in ("host", "version"):
        return f"{row['service']} {level} {row[level]}"
    return str(row[level])


def _weighted_cp_shares(cp: pd.DataFrame, weights: Any) -> tuple[pd.Series, float] | None:
    """Each service's share of the requests' critical-path time with every request weighted by its sampling weight
    (:func:`tracekit.core.weights.trace_weights`; requests of unknown weight left out), largest first, and the
    estimated number of requests they stand for; None when no request has a known weight.
    The per-request contributions are :func:`~tracekit.critical_path_breakdown`'s (by service and trace)."""
    from ..analysis.critical_paths import critical_path_breakdown
    from ..core.weights import trace_weights

    per = critical_path_breakdown(cp, by=["service", "trace_id"])
    if not len(per):
        return None
    w = trace_weights(per["trace_id"].to_numpy(dtype=object), weights, "postmortem")
    known = np.isfinite(w)
    if not known.any():
        return None
    per = per[known].assign(w_ms=per["cp_ms"].to_numpy(dtype=float)[known] * w[known])
    total = float(per["w_ms"].sum())
    if total <= 0:
        return None
    shares = (per.groupby("service", sort=True)["w_ms"].sum() / total).sort_values(ascending=False, kind="stable")
    first = ~per["trace_id"].duplicated().to_numpy()
    return shares, float(w[known][first].sum())


def _where(incident: pd.DataFrame, cmp: Any, ranking: pd.DataFrame | None, level: str, has_base: bool,
           route: str | None = None, base: pd.DataFrame | None = None, alpha: float = 0.01,
           weights: Any = None) -> list[Finding]:
    if cmp is not None and ranking is not None:
        on_route = None
        if route is not None and base is not None and len(ranking):
            on_route = _on_route(ranking.iloc[0], incident, base, route, level)
        answer = _answered_by(ranking.iloc[0], incident, base, alpha) if base is not None and len(ranking) else None
        return _where_ranked(ranking, cmp.table, level, on_route, ranking.attrs.get("null_reference"), answer)
    if cmp is None:
        from ..analysis.critical_paths import critical_path, critical_path_breakdown

        out = _peer_findings(incident)
        cp = critical_path(incident)
        bd = critical_path_breakdown(cp, by="service")
        if not len(bd):
            return out or [Finding("where", "No baseline and no critical path: where the time went cannot be said.")]
        top = bd.iloc[0]
        lead = "No baseline to compare with, so no cause can be ranked; " if not out else ""
        weighted = _weighted_cp_shares(cp, weights) if weights is not None else None
        if weighted is not None:
            # a weighted sample: the sampled requests' shares are the sampler's route mix, not the system's
            # (sampled-errors: inventory 36 % as sampled, payments 48 % weighted — products kept at 1/2, checkout 1/16)
            shares, est = weighted
            svc, share = str(shares.index[0]), float(shares.iloc[0])
            as_sampled = (f"as sampled, unweighted: {top.iloc[0]} {percent(top['share'])}" if str(top.iloc[0]) != svc
                          else f"{percent(top['share'])} as sampled, unweighted")
            return out + [Finding("where", f"{lead}{svc} holds the largest share of the requests' critical-path time "
                                           f"({percent(share)} of the summed latency of the {bd.attrs['traces']:,} sampled "
                                           f"requests weighted by sampling to an estimated {est:,.0f}; {as_sampled}) — "
                                           "where the time goes, not what changed.", (), dict(service=svc))]
        return out + [Finding("where", f"{lead}{top.iloc[0]} holds the largest share of the requests' critical-path time "
                                       f"({percent(top['share'])}) — where the time goes, not what changed.", (),
                              dict(service=str(top.iloc[0])))]
    t = cmp.table
    grew = t[(t["delta_cp_ms"] > 0)].sort_values("delta_cp_ms", ascending=False)
    if grew.empty or not (grew["delta_cp_ms_lo"] > 0).any():
        return [Finding("where", f"No {level} takes significantly more critical-path time per request than in the "
                                 "baseline (every 95 % interval includes zero): the change is not in one place the "
                                 "traces can see (look at the health findings and at what changed).")]
    sig = grew[grew["delta_cp_ms_lo"] > 0]
    out = []
    names = []
    for _, r in sig.head(3).iterrows():
        label = _key_label(r, level)
        callee = _callee_of(incident, r, level)
        names.append(label + (f" (calls {callee})" if callee else ""))
    top = sig.iloc[0]
    lead = names[0]
    more = ""
    if len(names) > 1:
        more = "; then " + "; ".join(
            f"{n}: {_signed_ms(float(r['delta_cp_ms']))}" for n, (_, r) in zip(names[1:], sig.iloc[1:3].iterrows(), strict=False))
    ex = _example(incident, top, level)
    lat = ""
    if "p50_ms_a" in top.index and np.isfinite(top.get("p50_ms_b", np.nan)):
        lat = f", its calls' p50 {fmt_ms(top['p50_ms_b'])} → {fmt_ms(top['p50_ms_a'])}"
    text = (f"Most of the added time is in {lead}: {_signed_ms(float(top['delta_cp_ms']))} of critical path per request "
            f"[{_signed_ms(float(top['delta_cp_ms_lo']))}, {_signed_ms(float(top['delta_cp_ms_hi']))}]{lat}{more}.")
    ev = {"key": names[0], "delta_cp_ms": float(top["delta_cp_ms"]), "delta_cp_ms_lo": float(top["delta_cp_ms_lo"]),
          "delta_cp_ms_hi": float(top["delta_cp_ms_hi"]), "keys": names}
    out.append(Finding("where", text, tuple(ex), ev))
    return out


#: a component "stands out" from its peers when its spans are slower than a peer's span of the same
#: operation in at least this share of pairs (a large effect: Cohen's d ≈ 1) and the test says so at 1 %
PEER_SLOWER, PEER_ALPHA = 0.75, 0.01


def _peer_hits(po: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The rows of a :func:`~tracekit.peer_outliers` table that stand out (in its order, most unlike first), and for
    each whether by its time (slower than a peer's span in :data:`PEER_SLOWER` of pairs and p < :data:`PEER_ALPHA`) and
    whether by its errors (more error origins than its peers', Holm-adjusted Fisher p < :data:`PEER_ALPHA`)."""
    timing = ((po["p_value"] < PEER_ALPHA) & (po["slower"] >= PEER_SLOWER)).to_numpy(dtype=bool)
    errors = (po["error_p_value"] < PEER_ALPHA).to_numpy(dtype=bool, na_value=False)
    hit = timing | errors
    return po[hit], timing[hit], errors[hit]


PEERS_ = "its peers' "


def _origins(k: Any, n: Any, whose: str = "its ") -> str:
    """``k of its n spans (share)``: failure origins with their population (peer_outliers' counts)."""
    k, n = int(k), int(n)
    return f"{k:,} of {whose}{_plural(n, 'span')}" + (f" ({percent(k / n)})" if n else "")


def _peer_words(r: pd.Series, level: str, timing: bool, errors: bool) -> str:
    """What makes one component unlike its peers, with its numbers: its time, its errors, or both."""
    parts = []
    if timing:
        parts.append(f"its {r['operation']} spans take {fmt_ms(r['self_p50_ms'])} (median exclusive time) against "
                     f"{fmt_ms(r['peer_self_p50_ms'])} on the others, slower than a peer's in {percent(r['slower'])} of "
                     f"pairs (Holm-adjusted {_fmt_p(float(r['p_value']))})")
    if errors:
        # counts with their populations: "15% of its spans … against 0% of its peers'" said neither
        parts.append(f"a failure originates in {_origins(r['origin_spans'], r['outcome_spans'])} of known outcome "
                     f"against {_origins(r['peer_origin_spans'], r['peer_outcome_spans'], PEERS_)} (Fisher "
                     f"exact, Holm-adjusted {_fmt_p(float(r['error_p_value']))})")
    return "; and ".join(parts)


def _peer_findings(incident: pd.DataFrame, base: pd.DataFrame | None = None,
                   ranking: pd.DataFrame | None = None) -> list[Finding]:
    """The first host, else version, that :func:`~tracekit.peer_outliers` finds unlike its peers inside the incident
    (most unlike first: by its time or by its errors, :func:`_peer_hits`), else nothing.

    A host unlike the same service's other hosts in the same period is evidence with or without a baseline. Without
    one it is said as the lead of "where". With one it is said as a finding of its own right after the ranking's,
    and weighs nothing in it (the ranking's "likely" is the chance check's alone): beside it, whether the component
    was as unlike its peers in the baseline (then it is no change: a pod that is always slower), and where
    rank_causes puts its service. Fault lab, cpu_consumed seed 2: the ranking's top, 0.19, is within chance (0.33
    between parts of the baseline), and the injected pod's reserve spans take 10.3 ms against 3.2 ms on its 2 peers
    (slower in 100 % of pairs, p = 0.0018): with a baseline that was not said. Fault lab (review s36), the incident
    window's peer check: nothing injected, seeds 0-59, said in 0 of 60 windows (before: 0 of 60 without a baseline,
    never with one); seeds 0-14, the injected pod named (and no other) in 8 of 15 cpu_consumed, 8 of 15
    cpu_contention and 7 of 15 exception windows (before: 8, 8 and 0 without a baseline — an exception shows in the
    pod's errors, not its time — and none with one), 0 of 15 network_delay (the delay is outside the pod's own
    spans); the rest have the injected service on one pod (7 seeds of 15: no peers), or evidence above the 1 % level
    (seed 14's 14 spans of the operation, all slower, p = 0.022)."""
    from .peers import peer_outliers

    for level in ("host", "version"):
        po = peer_outliers(incident, level=level)
        hit, timing, errors = _peer_hits(po)
        if not len(hit):
            continue
        r = hit.iloc[0]
        peers = int(r["peers"])
        who = f"{r['service']} {level} {r[level]}"
        said = _peer_words(r, level, bool(timing[0]), bool(errors[0]))
        ev = {"level": level, "service": str(r["service"]), "key": str(r[level]),
              "operation": str(r["operation"]) if isinstance(r["operation"], str) else None,
              "slower": float(r["slower"]), "p_value": float(r["p_value"]),
              "error_p_value": float(r["error_p_value"]), "by_time": bool(timing[0]), "by_errors": bool(errors[0]),
              "peer": True}
        if base is None:
            text = (f"No baseline to compare with, but {who} stands out from its {peers} peer{'s' if peers != 1 else ''} "
                    f"in the same period: {said}.")
        else:
            text = (f"Inside the incident alone (no baseline needed): {who} stands out from its {peers} "
                    f"peer{'s' if peers != 1 else ''} (the service's other {level}s, in the incident's own traces): "
                    f"{said}.{_peer_in_baseline(r, level, base, bool(timing[0]), bool(errors[0]), ev)}"
                    f"{_peer_rank(r, ranking, ev)}")
        # the other hits, less the named one's only peer: of two hosts each is the other's one peer, so the healthy one
        # "stands out" from the one that fails fast (fault lab exception 313: wkq25, 0 errors in 160 spans, slower only
        # than ww44m whose calls failed in 3 ms; an SRE would have drained both pods)
        others = hit.iloc[1:]
        alone = ((others["service"].astype(str) == str(r["service"])) & (others["peers"] == 1)).to_numpy(dtype=bool)
        others = others[~alone]
        if len(others):
            more = ", ".join(f"{x['service']} {level} {x[level]}" for _, x in others.iloc[:3].iterrows())
            text += f" Also unlike their peers: {more}."
        ex = (str(r["example_trace_id"]),) if timing[0] and isinstance(r["example_trace_id"], str) else ()
        if not ex and errors[0]:  # unlike its peers by its errors: a trace where one of its failures originates
            ex = _origin_example(incident, level, r)
        return [Finding("where", text, ex, ev)]
    return []


def _origin_example(incident: pd.DataFrame, level: str, r: pd.Series) -> tuple[str, ...]:
    """The trace of the component's first span (by start) where a failure originates (error_origins' rule), as a
    1-tuple; () when none. A host unlike its peers only by its errors was said with no example trace: the table's
    ``example_trace_id`` is its slowest span's, of its timing operation."""
    from ..analysis.error_origins import is_origin
    from ..core import hosts, versions

    comp = np.asarray(hosts(incident) if level == "host" else versions(incident), dtype=object)
    mine = (is_origin(incident) & (comp == r[level])
            & (incident["service"] == r["service"]).to_numpy(dtype=bool, na_value=False))
    if not mine.any():
        return ()
    rows = np.flatnonzero(mine)
    first = rows[int(np.argmin(incident["start"].to_numpy()[rows]))]
    return (str(incident["trace_id"].iloc[first]),)


def _peer_in_baseline(r: pd.Series, level: str, base: pd.DataFrame, timing: bool, errors: bool, ev: dict) -> str:
    """Whether the component was as unlike its peers in the baseline (:func:`_peer_findings`), in words."""
    from .peers import peer_outliers

    po = peer_outliers(base, level=level)
    mine = po[(po["service"] == r["service"]).to_numpy(dtype=bool, na_value=False)
              & (po[level] == r[level]).to_numpy(dtype=bool, na_value=False)]
    if not len(mine):
        ev["in_baseline"] = None
        return (f" The baseline has no {level} {r[level]} of {r['service']} beside peers to compare, so whether it "
                "was so before is not known.")
    b = mine.iloc[0]
    was_t = bool(b["p_value"] < PEER_ALPHA and b["slower"] >= PEER_SLOWER)
    was_e = bool(b["error_p_value"] < PEER_ALPHA)
    was = (timing and was_t) or (errors and was_e)
    ev["in_baseline"] = was
    if was:
        return (f" It was so in the baseline too ({_peer_words(b, level, timing and was_t, errors and was_e)}): "
                "unlike its peers before the incident as well, so not a change.")
    parts = []
    if timing:
        p_words = f"slower than a peer's in {percent(b['slower'])} of pairs, Holm-adjusted {_fmt_p(float(b['p_value']))}"
        if isinstance(b["operation"], str) and b["operation"] != r["operation"]:
            # the baseline's row names its most significant slower operation, another one: said as that, not as if
            # it answered for the incident's operation ("its spans of its GET /api/stock/{sku} slower … in 50 %")
            parts.append(f"its most unlike operation there was another, {b['operation']}: {p_words}")
        else:
            parts.append(f"its spans {p_words}")
    if errors:
        parts.append("failures originating in " + (f"{_origins(b['origin_spans'], b['outcome_spans'])} against "
                                                    f"{_origins(b['peer_origin_spans'], b['peer_outcome_spans'], PEERS_)}"
                                                    if np.isfinite(b["error_origins"]) else "unknown shares"))
    return f" In the baseline it was like them ({'; '.join(parts)}), so this is new in the incident."


def _peer_rank(r: pd.Series, ranking: pd.DataFrame | None, ev: dict) -> str:
    """Where rank_causes puts the peer outlier's service (:func:`_peer_findings`), in words; "" without a ranking."""
    if ranking is None or not len(ranking):
        return ""
    at = np.flatnonzero((ranking["service"].astype(object) == r["service"]).to_numpy(dtype=bool))
    if not len(at):
        ev["ranked"] = None
        return f" rank_causes has no row of {r['service']}."
    ev["ranked"] = int(at[0]) + 1
    return (" rank_causes ranks its service first too." if at[0] == 0 else
            f" rank_causes' highest row of {r['service']} is ranked {int(at[0]) + 1:,} of {len(ranking):,} "
            f"(score {float(ranking['score'].iloc[at[0]]):.2f}): the ranking, against the baseline, and this "
            "comparison with its peers, inside the incident, disagree.")


def _fmt_p(p: float) -> str:
    """A p-value in a finding, one way everywhere (:func:`tracekit.core.words.p_value_text`)."""
    return p_value_text(p)


def _p_above(p: float, alpha: float, changes: pd.DataFrame) -> str:
    """:func:`_change_p` of a candidate that did not pass ``alpha``, with a third digit where two would read as
    ``alpha`` itself ("p = 0.01, above 0.01" for 0.0102)."""
    text = _change_p(p, changes.attrs.get("params", {}))
    return f"p = {p:.3g}" if text == f"p = {alpha:g}" else text


def _change_p(p: float, params: dict) -> str:
    """A Holm-adjusted p-value of :func:`~tracekit.analysis.changes.detect_changes`, said as what it is
    (:func:`tracekit.core.words.p_value_text`: at the shuffles' floor, the bound it is)."""
    return p_value_text(p, params)


def _ranked_label(r: pd.Series, level: str) -> str:
    label = _key_label(r, level)
    callee = r.get("callee")
    if level == "operation" and isinstance(callee, str) and callee and callee != r["service"]:
        label += f" (calls {callee})"
    return label


#: a top score is called a likely cause only when it is at least this many times the score the same ranking gives
#: with nothing injected (:func:`_null_reference`). Fault lab, operation level, every signal, seeds 200-211 (looked
#: at while choosing it): null windows' top score / reference 0.4-1.17 (and 4.4 where a noisy neighbour really was
#: slower); the faults ranked right 1.57-5.0
CLEAR_OVER_NULL = 1.5
#: ... and at least this much above it: a ratio of two small scores is noise (simulated baseline against another
#: seed's baseline, nothing injected: 0.109 against 0.064 was a "likely cause"; 1 of 12 seeds). Fault lab seeds
#: 300-302, every signal, every fault called likely: 0.167 or more above the reference; bundled incidents 0.5 or more
CLEAR_MARGIN = 0.1
#: ... or its own evidence alone (the kinds its score stands on: :func:`_standing_on`) at least CLEAR_OVER_NULL times
#: what those kinds score between parts of the baseline and this much above it. The kinds differ in how much chance
#: moves them (a normal period's error origins are few; a few calls of a small operation above their pair's p95 make
#: a waiting share of 0.25), and against every kind's top an exception's error origins met another component's
#: waiting: fault lab, exception in order-service (seed 4), 17 of the 19 error origins in it, errors 0.30 against
#: 0.015 on chance, score 0.35 was "less than 1.5 times 0.27" (rate-service's waiting, 9 of its 19 calls above the
#: p95 of 22). One kind of several chosen by the top is a smaller population than the top score's, so its margin is
#: wider: fault lab null windows (seeds 0-39, operation level, traces), a top's own evidence stood up to 0.10 above
#: its kinds' chance level (seed 6: slower 0.197 against 0.096; seed 12: shape 0.108 against 0.026), which
#: CLEAR_MARGIN would have called a likely cause
CLEAR_MARGIN_OWN = 0.2


def _standing_on(row: pd.Series) -> list[str]:
    """The kinds of evidence a ranked row's score stands on: its score columns (:data:`~tracekit.investigate.causes.
    SCORE_COLUMNS`) above :data:`~tracekit.investigate.causes.SAID_EVIDENCE` (those its hypothesis names), and those
    below 0 (``answers`` moved to the callee's host: the row's score is what is left), metrics left out (they have a
    chance level of their own when the baseline's parts compare none). Fault lab, return in coupon-service (seed 18):
    wallet-service's waiting and extra summed 0.43, its score 0.30 after 0.13 of its changed course moved to
    coupon-service's host."""
    return [c for c in SCORE_COLUMNS if c != "metrics" and c in row.index and pd.notna(row[c])
            and (float(row[c]) > SAID_EVIDENCE or float(row[c]) < 0)]


def _own_score(row: pd.Series, kinds: list[str]) -> float:
    """``row``'s score on ``kinds`` alone (the sum of those columns)."""
    return float(sum(float(row[c]) for c in kinds if c in row.index and pd.notna(row[c])))


def _null_reference(incident: pd.DataFrame, base: pd.DataFrame, level: str, logs: pd.DataFrame | None,
                    metrics: pd.DataFrame | None, metric_series: int = 0,
                    evidence: list[str] | None = None) -> dict | None:
    """What the top of :func:`~tracekit.rank_causes` scores here with nothing injected
    (:func:`~tracekit.chance_score`: a block of the baseline's traces as many as the incident has, its last, then
    its first, ranked against the rest of it, with the same level and signals): the higher of the two blocks' top
    scores. When the baseline is too small to split, or its parts had nothing to rank, the score is NaN and ``why``
    says so: the top of the ranking is then called a likely cause by nothing.

    When the ranking compared ``metric_series`` metric series but the parts of the baseline compared none (a baseline a
    few scrape intervals long: its parts hold no metric point), that score is the traces' (and logs') alone, and the
    metrics get a chance level of their own (:func:`~tracekit.analysis.metric_evidence.metric_chance_score`: the same
    metrics between an incident-long stretch at the baseline's end and a baseline-long stretch before it):
    ``metric_score`` (NaN when not measurable), ``metric_key``. Nezha TrainTicket 14:23 (a CPU fault), operation level:
    the top score 0.57 (traces 0.36 + metrics 0.21: CpuUsage 2.64 → 430 m) was said to be "no higher than" 0.60, a
    score of traces alone.

    ``evidence`` (:func:`_standing_on` of the incident's top): ``own_score`` is the top of those kinds' sum between the
    same parts (:func:`~tracekit.chance_score` with ``evidence=``), ``own_key`` its component, ``evidence`` the kinds
    (:data:`CLEAR_MARGIN_OWN`)."""
    ni = int(incident["trace_id"].nunique())
    cs = chance_score(base, ni, level=level, logs=logs, metrics=metrics, evidence=evidence)
    if cs.empty:
        nb = int(base["trace_id"].nunique())
        how = (f"for the chance check (a block of the baseline, as many traces as the incident, ranked against the "
               f"rest of it: at least {CHANCE_MIN_TRACES} traces on each side)")
        if ni < CHANCE_MIN_TRACES:
            why = f"the incident's {_plural(ni, 'trace')} {'is' if ni == 1 else 'are'} too few {how}"
        elif nb < 2 * CHANCE_MIN_TRACES:
            why = f"the baseline's {_plural(nb, 'trace')} {'is' if nb == 1 else 'are'} too few {how}"
        else:
            why = ("how high the ranking's top score goes on chance could not be measured (ranking a block of the "
                   f"baseline's {_plural(nb, 'trace')} against the rest of it found nothing to compare)")
        return dict(score=float("nan"), why=why, baseline_traces=nb)
    top = cs.iloc[int(np.argmax(cs["top_score"].to_numpy(dtype=float)))]
    ref = dict(score=float(top["top_score"]), later_traces=int(top["block_traces"]),
               earlier_traces=int(top["rest_traces"]), key=str(top["top"]) if evidence is None else None)
    if evidence is not None:  # the kinds the incident's top stands on, alone (and the top of every kind: score)
        own = cs.iloc[int(np.argmax(cs["score"].to_numpy(dtype=float)))]
        ref.update(evidence=list(evidence), own_score=float(own["score"]), own_key=str(own["top"]))
    if metrics is not None and metric_series > 0 and not (cs["metric_series"].to_numpy() > 0).any():
        from ..analysis.metric_evidence import metric_chance_score

        mc = metric_chance_score(metrics, incident, base, by="host" if level == "host" else "service")
        ref.update(metric_score=float(mc["metric_score"].iloc[0]) if len(mc) else float("nan"),
                   metric_key=str(mc.iloc[0, 0]) if len(mc) else None)
    return ref


def _baseline_unquiet(top: pd.Series, ref: dict) -> str:
    """Words for a chance level raised by the top's own service: between the two parts of the baseline, the component
    that scored highest on the kinds of evidence the top stands on (``own_key``, :func:`_null_reference`) is of the
    same service — it changed inside the baseline's period too (an earlier incident there, or its usual noise), so the
    baseline is no normal reference for it. ``""`` otherwise. Nezha TrainTicket 2023-01-29 09:25:39 (ts-basic-service
    exception, its ERROR records in 8 of 12 spans against 0 of 46): "not clearly beyond chance" against 0.85, with no
    word that the baseline held ts-basic-service's fault of 09:21:39, its own part scoring 0.68 on the same evidence."""
    key, own = ref.get("own_key"), float(ref.get("own_score", np.nan))
    if not isinstance(key, str) or not np.isfinite(own) or own < 0.1:
        return ""
    service = key.split(" / ", 1)[0]
    if service != str(top["service"]):
        return ""
    kinds = _listed_words([_KIND_WORDS.get(k, k.replace("_", " ")) for k in (ref.get("said") or ref.get("evidence") or [])])
    return (f" The baseline is not quiet there: between its two parts, {key.replace(' / ', ': ', 1)} scored "
            f"{own:.2f} on the same {kinds} evidence — {service} changed inside the baseline's own period too (an "
            f"earlier incident, or its usual noise), so that period is no normal reference for it: compare with a "
            f"quieter baseline before calling it or ruling it out.")


def _listed_words(words: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1] if words else ""


def _own_words(own: float, ref: dict) -> str:
    """The top's own evidence (:data:`CLEAR_MARGIN_OWN`) against what its kinds score between parts of the baseline."""
    said = ref.get("said") or ref["evidence"]
    kinds = " and ".join(k.replace("_", " ") for k in said)
    return (f"beyond chance on its {kinds} evidence alone: {own:.2f} against {ref['own_score']:.2f}, the top "
            f"{kinds} score between {ref['later_traces']:,} of the baseline's own traces and its other "
            f"{ref['earlier_traces']:,}")


def _per_signal_words(t_score: float, m_score: float, ref: dict, own: float | None = None) -> str:
    """Each signal's score against its own chance level (:func:`_null_reference` with ``metric_score``); ``own``: the
    traces' own evidence cleared its kinds' chance level (:func:`_own_words`)."""
    def how(x: float, r: float, where: str) -> str:
        if not np.isfinite(r):
            return "its chance level could not be measured (no metric point in both stretches)"
        if x >= CLEAR_OVER_NULL * r and x - r >= CLEAR_MARGIN:
            return f"beyond chance (against {r:.2f}, {where})"
        rel = ("no higher than" if x <= r else f"less than {CLEAR_OVER_NULL:g} times" if x < CLEAR_OVER_NULL * r
               else f"only {x - r:.2f} above")
        return f"within chance ({rel} {r:.2f}, {where})"

    traces = how(t_score, ref["score"], f"between {ref['later_traces']:,} of the baseline's own traces and its other "
                                        f"{ref['earlier_traces']:,}, parts too short to compare metrics")
    if own is not None and not traces.startswith("beyond"):
        traces = f"{_own_words(own, ref)} (every kind: {traces})"
    metrics = how(m_score, ref["metric_score"], "the top metric score of the same metrics between a stretch as long as "
                                                "the incident at the baseline's end and one as long as the baseline "
                                                "before it")
    return f"its traces' evidence scores {t_score:.2f}, {traces}; its metrics score {m_score:.2f}, {metrics}"


def _null_words(ref: dict) -> str:
    return (f"{ref['score']:.2f}, the top score of the same ranking between {ref['later_traces']:,} of the baseline's "
            f"own traces and its other {ref['earlier_traces']:,}: two parts of the baseline, so what chance, drift "
            "and the system's own noise score when no incident separates them")


#: changed steps (beyond the baseline's prediction less two standard errors) the "or what … answered it" alternative
#: needs: at a next-step rate near 0 the normal approximation's two standard errors pass on one or two steps (a
#: baseline without /checkout: "1 more than the baseline predicts", a fresh reader's D5). In the fault lab (seeds
#: 300-339, every kind, 240 windows: 15 named, 13 the truth) none that named the truth had fewer than 3.6.
MIN_ANSWERED_STEPS = 3.0


def _answered_by(top: pd.Series, incident: pd.DataFrame, base: pd.DataFrame, alpha: float = 0.01) -> dict | None:
    """The other service after whose answers most of the top component's requests changed course
    (:func:`~tracekit.analysis.course_changes.course_changes`: at least half of its changed steps, and
    :data:`MIN_ANSWERED_STEPS`),
    else None: a wrong answer from it would look the same as a change in the top component's own code. ``host``: the
    callee's host after whose answers alone the steps changed course (``host_p_value`` ≤ ``alpha``), else None."""
    from ..analysis.course_changes import course_changes

    svc = str(top["service"])
    cc = course_changes(incident, base)
    mine = cc[(cc["caller"] == svc).to_numpy(dtype=bool, na_value=False)]
    total = float(mine["changed"].sum())
    other = mine[(mine["callee"] != svc).to_numpy(dtype=bool, na_value=False)
                 & (mine["changed"] >= MIN_ANSWERED_STEPS).to_numpy()]
    if not len(other) or float(other["changed"].iloc[0]) < total / 2:
        return None
    y = other.iloc[0]
    on_host = pd.notna(y["callee_host"]) and float(y["host_p_value"]) <= alpha
    return dict(service=svc, callee=str(y["callee"]), changed=float(y["changed"]), steps=float(y["steps"]),
                changed_total=total, host=str(y["callee_host"]) if on_host else None,
                **{c: float(y[c]) for c in ("host_steps", "host_changed", "other_hosts_steps", "other_hosts_changed",
                                            "host_p_value")})


def _answer_marks(rc: pd.DataFrame, callee: str, level: str) -> str:
    """How the "or what … answered it" alternative ends: a wrong or unexpected answer leaves no mark on the callee's
    own spans — unless the ranking finds errors originating in them (its ``errors`` evidence), when the answers the
    top acted on were failures the callee's spans show. "Leaves no mark on payments's own spans" was said of a
    payments whose charges failed at 50 % (card network 503s from 14:30; its POST /v1/charges ranked second, errors
    originating in it): a retry storm read as a silent wrong answer."""
    mine = rc[(rc["service"].astype(object) == callee).to_numpy(dtype=bool)] if "service" in rc.columns else rc.iloc[:0]
    failing = mine[(mine["errors"].to_numpy(dtype=float) > 0)] if "errors" in mine.columns else mine.iloc[:0]
    if not len(failing):
        return (f"a wrong or unexpected answer leaves no mark on {callee}'s own spans and would look the same: check "
                f"what {callee} returned.")
    r = failing.iloc[0]
    return (f"and {callee}'s own spans do show it: errors originate in {_ranked_label(r, level)} (ranked "
            f"{int(r['rank'])} of {len(rc)}, its error rate {points(float(r['delta_error_rate']))} against the "
            f"baseline): its answers were failures, not a silent wrong value — check {callee}'s errors first.")


def _below_roots(spans: pd.DataFrame, baseline: pd.DataFrame) -> pd.DataFrame | None:
    """``baseline`` without its root spans (those without a parent id) when no trace of ``spans`` holds one and some
    of the baseline's do, else None: spans cut from the middle of their traces compared with what they can be."""
    if not len(spans) or spans["parent_id"].isna().any():
        return None
    root = baseline["parent_id"].isna().to_numpy(dtype=bool)
    return baseline[~root] if root.any() and not root.all() else None


def _tied(rc: pd.DataFrame, level: str) -> list[str]:
    """The labels of the first two rows of :func:`~tracekit.rank_causes` below its top scored within 0.02 of it, when
    the top scores 0.1 or more (scores within 0.02 "changed alike" only where they changed: under 0.1 a service of
    score 0.00 was "tied with" one whose critical path grew 2 ms a request beyond chance). The rows are found first,
    then labelled: iterrows over every row cost 6 s on 44,000 ranked rows."""
    top = float(rc["score"].iloc[0])
    if not top >= 0.1:
        return []
    near = np.flatnonzero(np.abs(rc["score"].to_numpy(dtype=float)[1:] - top) < 0.02)[:2] + 1
    return [_ranked_label(rc.iloc[i], level) for i in near]


def _where_ranked(rc: pd.DataFrame, cmp: pd.DataFrame, level: str, on_route: dict | None = None,
                  null: dict | None = None, answer: dict | None = None) -> list[Finding]:
    """The top of :func:`~tracekit.rank_causes`: its hypothesis, the interval of its critical-path change,
    ties and the next candidates; little evidence is said as such. ``on_route`` (:func:`_on_route`): the
    cause's time per request of the affected route, said first. ``null`` (:func:`_null_reference`): the top score
    with nothing injected; a top score no higher is said first, as chance, and the component is not called likely."""
    top = rc.iloc[0]
    label = _ranked_label(top, level)
    n = len(rc)
    lo, hi, d = (float(top[c]) for c in ("delta_cp_ms_lo", "delta_cp_ms_hi", "delta_cp_ms"))
    ev = {"key": label, "keys": [_ranked_label(r, level) for _, r in rc.head(3).iterrows()],
          "score": float(top["score"]), "delta_cp_ms": d, "delta_cp_ms_lo": lo, "delta_cp_ms_hi": hi,
          "baseline_trace_id": top["baseline_trace_id"] if isinstance(top["baseline_trace_id"], str) else None}
    ex = tuple(t for t in (top["example_trace_id"],) if isinstance(t, str))
    if float(top["score"]) < 0.1 and not (np.isfinite(lo) and lo > 0):
        ev["likely"] = False
        return [Finding("where", f"No {level} stands out against the baseline: the highest ranked of {n}, {label}, "
                                 f"scores {float(top['score']):.2f} (little of its spans differs) and no {level} takes "
                                 "significantly more critical-path time per request — look at the health findings "
                                 "and at what changed.", (), ev)]
    tied = _tied(rc, level)
    hyp = str(top["hypothesis"])
    # the hypothesis names the component by its key (and callee); the finding names it once, before
    key = _key_label(top, level) if level != "service" else str(top["service"])
    first = hyp[len(key):] if hyp.startswith(key) else hyp
    if first.startswith(" (calls "):
        first = first[first.index(")") + 1:]
    first = first.removeprefix(": ")
    keys = [c for c in ("service", "name", "host", "version", "call_path") if c in rc.columns and c in cmp.columns]
    row = cmp
    for c in keys:
        row = row[row[c].astype(object) == top[c]]
    if (level == "operation" and int(top["baseline_spans"]) >= 20 and len(row)
            and {"p50_ms_a", "p50_ms_b"} <= set(row.columns) and np.isfinite(row["p50_ms_b"].iloc[0])):
        first = first.rstrip(".") + f"; its calls' p50 {fmt_ms(row['p50_ms_b'].iloc[0])} → {fmt_ms(row['p50_ms_a'].iloc[0])}."
    if on_route is not None:
        ev.update(on_route)
        first = f"{_route_text(on_route)}{_carried_elsewhere(on_route, cmp, top, keys)}. {first[:1].upper()}{first[1:]}"
    first = _decided_words(top) + first
    score = float(top["score"])
    # a score above 1 beside per-kind scores of 0.96 read as a slip (deploy-regression with logs and metrics: "top
    # score 1.68"): where it is first shown, it says it is a sum
    # the kinds the score adds up (over 0.005 each): "score 0.36" in the words, then "top score 0.39" beside it, with
    # nothing to say the other 0.03 was own work slower (Nezha OnlineBoutique 2022-08-22 05:52:54, paymentservice)
    parts = _score_parts(top)
    summed = f", {SCORE_SUM_WORDS}" + (f": {parts}" if parts else "") + "," if score > 1 else ""
    paren = f" ({parts})" if parts and not summed else ""
    colon = f": {parts}" if parts and not summed else ""  # inside a parenthesis of its own: "(top score 0.39: …)"
    measured = null is not None and bool(np.isfinite(null["score"]))  # how high a score goes on chance is known
    # the chance level of the traces (and logs) alone, and the metrics' own (_null_reference): each signal's score
    # against its own, the top beyond chance when one of them is
    apart = measured and "metric_score" in null
    m_score = float(top["metrics"]) if apart and "metrics" in top.index and pd.notna(top["metrics"]) else 0.0
    t_score = score - m_score

    def clears(x: float, ref: float) -> bool:
        return bool(np.isfinite(ref) and x >= CLEAR_OVER_NULL * ref and x - ref >= CLEAR_MARGIN)

    by_traces = clears(t_score, null["score"]) if measured else False
    # or its own kinds of evidence against what those kinds alone score on chance (CLEAR_MARGIN_OWN)
    kinds = null.get("evidence") if measured else None
    own = _own_score(top, kinds) if kinds else float("nan")
    if kinds:  # the words name the kinds it scores on (not a share of its evidence moved away: answers < 0)
        null = {**null, "said": [k for k in kinds if float(top[k]) > SAID_EVIDENCE]}
    by_own = bool(kinds) and _clears_own(own, float(null.get("own_score", np.nan)))
    own_only = by_own and not by_traces  # said: the summed score alone did not clear
    by_traces = by_traces or by_own
    by_metrics = clears(m_score, null["metric_score"]) if apart else False
    beyond = by_traces or by_metrics
    # many components beyond chance alike, in several services (every span failed: a dozen services' operations
    # scored 0.94-0.98 as error origins, and the first was called "Likely cause"): no single one is the cause
    alike = _alike(rc, score, null, apart) if beyond else pd.DataFrame()
    spread = len(alike) and alike["service"].nunique() >= SPREAD_SERVICES
    ev["likely"] = beyond and not spread  # the finding calls its component a likely cause (the headings follow it)
    if measured:
        ev.update(null_score=null["score"], null_later_traces=null["later_traces"],
                  null_earlier_traces=null["earlier_traces"], beyond_null=beyond)
        if kinds:
            ev.update(own_evidence=list(kinds), own_score=own, null_own_score=null["own_score"], beyond_null_own=by_own)
    if apart:
        ev.update(traces_score=t_score, metrics_score=m_score, metric_null_score=null["metric_score"],
                  beyond_null_traces=by_traces, beyond_null_metrics=by_metrics)
        signals = " and ".join(w for w, ok in (("traces", by_traces), ("metrics", by_metrics)) if ok)
        per_signal = _per_signal_words(t_score, m_score, null, own if own_only else None)
    if answer is not None:
        # the alternative is said where the cause is named, not only after the numbers: fault lab, return kind, seeds
        # 0-19 — in the 10 windows whose top was the injected service's caller, the "or what … answered it" words
        # named the injected service every time, after some 600-1,000 characters of the caller's own evidence
        label = f"{label} (or a wrong answer from {answer['callee']} that it acted on: see below)"
    if spread:
        ev.update(alike=len(alike), alike_services=int(alike["service"].nunique()))
        text = (f"No single {level} stands out: {len(alike):,} of the {n:,} ranked, in "
                f"{alike['service'].nunique():,} services, score within {CLEAR_MARGIN:.2f} of the top "
                f"({score:.2f}{paren}{summed}) and beyond chance alike (against {_null_words(null)}): the "
                "change is spread over them (a shared dependency, the network, a change everywhere at once) rather "
                f"than in one. Highest ranked of {n:,} by rank_causes, with that caveat: {label} — {first}")
    elif apart and beyond:
        text = (f"Likely cause (ranked first of {n} by rank_causes, beyond chance by its {signals}: {per_signal}): "
                f"{label} — {first}")
    elif apart:
        text = (f"No {level} stands out clearly beyond chance, signal by signal: {per_signal}. Highest ranked of {n} "
                f"by rank_causes, with that caveat: {label} — {first}")
    elif own_only:
        text = (f"Likely cause (ranked first of {n} by rank_causes, {_own_words(own, null)}; its score of every "
                f"kind, {score:.2f}{paren}{summed or ','} is {_how_near(score, null['score'])} theirs, {null['score']:.2f}): "
                f"{label} — {first}")
    elif beyond:
        text = f"Likely cause (ranked first of {n} by rank_causes): {label} — {first}"
    elif not measured:
        why = null["why"] if null is not None else "how high the ranking's top score goes on chance was not measured"
        ev.update(null_score=None, beyond_null=None)
        text = (f"No {level} can be called a likely cause: {why}, so a top score of {score:.2f}{paren}{summed} cannot be "
                f"told from chance. Highest ranked of {n} by rank_causes, with that caveat: {label} — {first}")
    else:
        how = _how_near(score, null["score"])
        text = (f"No {level} stands out clearly beyond chance: the top score, {score:.2f}{paren}{summed or ','} is {how} "
                f"{_null_words(null)}. Highest ranked of {n} by rank_causes, with that caveat: {label} — {first}")
    unquiet = _baseline_unquiet(top, null) if measured and not beyond else ""
    if unquiet:
        text = text.rstrip() + unquiet
        ev.update(baseline_changed_there=str(null["own_key"]))
    if answer is not None:
        ev.update(answered_by=answer["callee"], answered_changed=answer["changed"], answered_steps=answer["steps"],
                  changed_steps=answer["changed_total"])
        text += (f" Or what {answer['callee']} answered it: {answer['service']}'s requests changed course right after "
                 f"its calls to {answer['callee']} (after its {answer['steps']:,.0f} calls to {answer['callee']}, "
                 f"{answer['changed']:,.0f} more than the baseline predicts went where the baseline's seldom did, "
                 f"beyond two standard errors; {percent(answer['changed'] / answer['changed_total'])}"
                 f" of its changed steps) — " + _answer_marks(rc, answer["callee"], level))
        if answer["host"] is not None:  # the change followed one pod's answers: a bad pod, not the caller's code
            ev.update(answered_host=answer["host"], answered_host_p_value=answer["host_p_value"])
            text += (f" It followed one of {answer['callee']}'s hosts: counting every call after which a request "
                     f"went to one of those places, {answer['host_changed']:,.0f} of the "
                     f"{answer['host_steps']:,.0f} calls {answer['host']} answered did, "
                     f"{answer['other_hosts_changed']:,.0f} of the {answer['other_hosts_steps']:,.0f} its other "
                     f"hosts answered "
                     f"(Fisher exact, Bonferroni over its hosts: {_fmt_p(answer['host_p_value'])}) — a change in "
                     f"{answer['service']}'s own code would not follow one host of its callee: look at "
                     f"{answer['host']} first.")
    if tied:
        text += (f" {'Equally likely' if ev['likely'] else 'Tied with it'}: {' and '.join(tied)} (scores within 0.02: they "
                 "changed alike).")
    rest = [f"{_ranked_label(r, level)} ({float(r['score']):.2f})" for _, r in rc.iloc[1 + len(tied):4].iterrows()
            if float(r["score"]) >= 0.1]
    vs_null = f"; {null['score']:.2f} between parts of the baseline" if beyond and not apart and not own_only else ""
    first_shown = (beyond and not own_only) or apart  # the branches above that did not show the top score
    if rest:
        text += f" Next: {'; '.join(rest)} (top score {score:.2f}{colon + summed.rstrip(',') if first_shown else ''}{vs_null})."
    elif vs_null:
        text += f" Top score {score:.2f}{paren + summed if first_shown else ''} against {_null_words(null)}."
    if isinstance(top["lift"], str) and top["lift"]:
        text += f" Its incident spans share {top['lift']}."
    return [Finding("where", text, ex, ev)]


def _how_near(x: float, ref: float) -> str:
    """How a score that does not clear the chance level ``ref`` stands to it (words)."""
    return ("no higher than" if x <= ref else f"less than {CLEAR_OVER_NULL:g} times" if x < CLEAR_OVER_NULL * ref
            else f"only {x - ref:.2f} above")


def _clears_own(x: Any, ref: float) -> Any:
    """A row's own evidence ``x`` beyond what its kinds score on chance (``ref``): :data:`CLEAR_OVER_NULL` times it and
    :data:`CLEAR_MARGIN_OWN` above it."""
    x = np.asarray(x, dtype=float)
    out = bool(np.isfinite(ref)) & (x >= CLEAR_OVER_NULL * ref) & (x - ref >= CLEAR_MARGIN_OWN)
    return bool(out) if out.ndim == 0 else out


#: services whose components all score beyond chance and within :data:`CLEAR_MARGIN` of the top that make the top
#: one of many: no single component is called the likely cause (two are said as a tie)
SPREAD_SERVICES = 3


def _alike(rc: pd.DataFrame, score: float, null: dict, apart: bool) -> pd.DataFrame:
    """The rows of ``rc`` scoring within :data:`CLEAR_MARGIN` of the top ``score`` that are beyond chance themselves
    (their traces' score, or their metrics' when ``apart``, clears the chance level of ``null`` as the top's must)."""
    near = rc[rc["score"].to_numpy(dtype=float) >= score - CLEAR_MARGIN]
    m = (near["metrics"].fillna(0.0).to_numpy(dtype=float) if apart and "metrics" in near.columns
         else np.zeros(len(near)))
    t = near["score"].to_numpy(dtype=float) - m

    def clears(x: np.ndarray, ref: float) -> np.ndarray:
        return (x >= CLEAR_OVER_NULL * ref) & (x - ref >= CLEAR_MARGIN) if np.isfinite(ref) else np.zeros(len(x), bool)

    ok = clears(t, float(null["score"]))
    kinds = null.get("evidence")
    if kinds:  # or its own evidence, where it stands on no kind the top does not (what those kinds score on chance)
        inside = np.array([set(_standing_on(r)) <= set(kinds) for _, r in near.iterrows()], dtype=bool)
        own = np.array([_own_score(r, kinds) for _, r in near.iterrows()], dtype=float)
        ok |= inside & _clears_own(own, float(null["own_score"])) if len(near) else ok
    if apart:
        ok |= clears(m, float(null["metric_score"]))
    return near[ok]


#: what a rank_causes score is, said where a score above 1 is first shown (beside per-kind scores of 0 to 1)
SCORE_SUM_WORDS = "a sum over its kinds of evidence, each scored 0 to 1"
#: rank_causes' kinds of log evidence as the where finding says them
_LOG_KIND_WORDS = {"log_errors": "ERROR records", "log_templates": "log statements"}
#: each kind of evidence rank_causes sums into a score (SCORE_COLUMNS), named as the where finding lists them
_KIND_WORDS = {"slower": "own work slower", "waiting": "waiting outside it", "extra": "extra calls",
               "vanished": "missing calls", "shape": "call pattern", "errors": "errors", "answers": "answers",
               **_LOG_KIND_WORDS, "metrics": "metrics"}


def _score_parts(top: pd.Series) -> str:
    """``waiting outside it 0.36 + own work slower 0.03``: the kinds of evidence a score sums, largest first, each
    that shows at two decimals; ``""`` when one kind or none makes it (the words beside it already say that one).
    A share of evidence moved to another host (``answers`` < 0) is said with its sign."""
    kinds = [(float(top[k]), k) for k in SCORE_COLUMNS if k in top.index and pd.notna(top[k])]
    kinds = sorted(((v, k) for v, k in kinds if abs(v) >= 0.005), key=lambda x: -x[0])
    if len(kinds) < 2:
        return ""
    said = f"{_KIND_WORDS.get(kinds[0][1], kinds[0][1])} {kinds[0][0]:.2f}"
    for v, k in kinds[1:]:
        word = "changed course moved to its callee's host" if k == "answers" and v < 0 else _KIND_WORDS.get(k, k)
        said += f" {'+' if v > 0 else '−'} {word} {abs(v):.2f}"
    return said


def _decided_words(top: pd.Series) -> str:
    """``ranked by its logs (ERROR records, score 0.49; its traces' best evidence scores 0.06): `` when logs or metrics,
    not the traces, weighed most in the top row (rank_causes' ``decided_by``), else ``""``. The hypothesis says the
    traces' evidence first; TrainTicket 09:25 led with "its own work got slower (… score 0.06; self time -0.28 ms …)"
    where ERROR records (0.49) had ranked it."""
    decided = top.get("decided_by")
    if not isinstance(decided, str) or decided.startswith("traces") or ": " not in decided:
        return ""
    signal, kind = decided.split(": ", 1)
    if signal == "logs" and kind in _LOG_KIND_WORDS:
        what, value = _LOG_KIND_WORDS[kind], float(top[kind])
    elif signal == "metrics" and "metrics" in top.index:
        what, value = kind, float(top["metrics"])
    else:
        return ""
    traces = max(float(top[e]) for e in EVIDENCE if e in top.index)
    fan = float(top.get("delta_fanout", np.nan))
    # a changed number of calls is said by the hypothesis (rank_causes' FANOUT_WORDS): not "nothing clear" before it
    rest = (f"its traces' best evidence scores {traces:.2f}" if traces > 0.05 else
            "its traces' evidence scores 0.05 or less" if np.isfinite(fan) and abs(fan) >= FANOUT_WORDS else
            "its traces show nothing clear")
    return f"ranked by its {signal} ({what}, score {value:.2f}; {rest}): "


def _route_cp(spans: pd.DataFrame, route: str, row: pd.Series, level: str) -> tuple[int, float, float, float, float]:
    """(requests of ``route``; per such request on average: the critical-path ms at the key, at and below
    it (the sections whose call path passes through it), the whole request latency, and the callers' waits for it:
    the critical-path ms of the other services' client spans whose child is one of its spans — the time a call to
    it spends outside its own spans, where a network delay or a slow answer at its pod shows)."""
    from ..analysis.critical_paths import critical_path

    ids = _route_requests(spans, route, None)["trace_id"]
    sub = spans[spans["trace_id"].isin(ids)]
    n = len(ids)
    if not len(sub):
        return 0, np.nan, np.nan, np.nan, np.nan
    cp = critical_path(sub)
    key_rows = _rows_of(sub, row, level)
    callers = sub.loc[key_rows, ["trace_id", "parent_id"]].dropna()
    is_wait = pd.MultiIndex.from_arrays([cp["trace_id"], cp["span_id"]]).isin(
        pd.MultiIndex.from_arrays([callers["trace_id"], callers["parent_id"]]))
    is_wait &= (cp["kind"].astype(object) == "client").to_numpy(dtype=bool) & \
        (cp["service"].astype(object) != row["service"]).to_numpy(dtype=bool)
    ms = cp["duration_ms"].to_numpy(dtype=float, na_value=0.0)
    if level == "operation":
        label = f"{row['service']}:{row['name']}"
        own = ((cp["service"] == row["service"]) & (cp["name"] == row["name"])).to_numpy(dtype=bool, na_value=False)

        def through(path: str) -> bool:
            return label in path.split(" > ")
    else:
        head = f"{row['service']}:"
        own = (cp["service"] == row["service"]).to_numpy(dtype=bool, na_value=False)

        def through(path: str) -> bool:
            return any(op.startswith(head) for op in path.split(" > "))
    codes, uniq = pd.factorize(cp["call_path"].astype(object).fillna(""))
    below = np.fromiter((through(p) for p in uniq), dtype=bool, count=len(uniq))[codes] if len(uniq) else own
    return (n, float(ms[own].sum()) / n, float(ms[below | own].sum()) / n, float(ms.sum()) / n,
            float(ms[is_wait & ~(below | own)].sum()) / n)


def _on_route(top: pd.Series, incident: pd.DataFrame, base: pd.DataFrame, route: str, level: str) -> dict | None:
    """The cause's critical-path ms per request of the affected ``route``, at it and at and below it,
    baseline → incident, and that route's mean latency (rank_causes counts per request of every route; the
    question is how much of the slower ``route`` requests the cause explains). None at levels other than
    service and operation."""
    if level not in ("service", "operation"):
        return None
    n_b, own_b, below_b, lat_b, wait_b = _route_cp(base, route, top, level)
    n_a, own_a, below_a, lat_a, wait_a = _route_cp(incident, route, top, level)
    if not (n_a and n_b) or not np.isfinite(below_a - below_b):
        return None
    out = dict(route=route, route_cp_ms_before=own_b, route_cp_ms_during=own_a, route_below_ms_before=below_b,
               route_below_ms_during=below_a, route_latency_before_ms=lat_b, route_latency_during_ms=lat_a,
               route_requests=n_a, route_baseline_requests=n_b, route_wait_ms_before=wait_b, route_wait_ms_during=wait_a)
    if level == "operation" and below_a == below_b == wait_a == wait_b == 0:
        # the operation is on none of the route's requests, but its service may be, through another operation (a fault
        # at a pod slows each of them: network_delay seed 3, GET /api/v1/ticket/list ranked first, 0.70, beside PUT
        # /api/v1/ticket/update, 0.62, the one the slower route calls)
        _, _, s_below_b, _, s_wait_b = _route_cp(base, route, top, "service")
        _, _, s_below_a, _, s_wait_a = _route_cp(incident, route, top, "service")
        if s_below_a + s_wait_a > 0:
            out.update(route_service_ms_before=s_below_b + s_wait_b, route_service_ms_during=s_below_a + s_wait_a)
    return out


#: below this share of the detected route's latency rise at and below the ranked component, the components whose
#: critical-path time rose beyond chance are named beside it (:func:`_carried_elsewhere`)
CARRIED_ELSEWHERE_SHARE = 0.25


def _carried_elsewhere(r: dict, cmp: pd.DataFrame, top: pd.Series, keys: list[str]) -> str:
    """Where the ranked component holds under :data:`CARRIED_ELSEWHERE_SHARE` of the detected route's latency rise, the
    comparison's components whose critical-path time per request rose beyond chance (its interval above 0), largest
    first: Nezha TrainTicket 09:42:26 named a component worth "<1% of the +164 ms rise" and the key findings never
    said that ts-travel-service's HTTP POST (+36.5 ms) and ts-order-service's SELECT (+21.2 ms) carried it. "" else."""
    d_lat = float(r["route_latency_during_ms"] - r["route_latency_before_ms"])
    # what :func:`_route_text` credits to it: at and below it, its callers' waits for it, or its service's part
    credited = [float(r["route_below_ms_during"] - r["route_below_ms_before"]),
                float(r.get("route_wait_ms_during", 0.0)) - float(r.get("route_wait_ms_before", 0.0))]
    if "route_service_ms_during" in r:
        credited.append(float(r["route_service_ms_during"]) - float(r["route_service_ms_before"]))
    if not (d_lat > 0) or max(credited) >= CARRIED_ELSEWHERE_SHARE * d_lat or cmp is None or not len(cmp) \
            or not {"delta_cp_ms", "delta_cp_ms_lo", "delta_cp_ms_hi"} <= set(cmp.columns):
        return ""
    rose = cmp[(cmp["delta_cp_ms_lo"] > 0).to_numpy(dtype=bool, na_value=False)]
    if len(keys):
        same = np.ones(len(rose), dtype=bool)
        for c in keys:
            same &= (rose[c].astype(object) == top[c]).to_numpy(dtype=bool)
        rose = rose[~same]
    rose = rose.sort_values("delta_cp_ms", ascending=False, kind="stable").head(3)
    if not len(rose):
        return ""
    names = [c for c in ("service", "name", "host", "version") if c in rose.columns]
    said = ", ".join(f"{': '.join(str(x[c]) for c in names if isinstance(x[c], str))} {_signed_ms(float(x['delta_cp_ms']))} "
                     f"[{_signed_ms(float(x['delta_cp_ms_lo']))}, {_signed_ms(float(x['delta_cp_ms_hi']))}]"
                     for _, x in rose.iterrows())
    return (f"; the rise is carried elsewhere — critical-path time per request rose beyond chance at {said} (all "
            "routes, the comparison below)")


def _share_of_rise(d: float, d_lat: float) -> str:
    """": 61 % of the +85 ms rise of their mean latency" for a critical-path rise ``d`` within a latency rise ``d_lat``."""
    if not (d_lat > 0 and d > 0):
        return ""
    return (f": {percent(d / d_lat)} of the {_signed_ms(d_lat)} rise of their mean latency" if d <= d_lat
            else f": more than the {_signed_ms(d_lat)} rise of their mean latency, as other parts got faster")


def _route_text(r: dict) -> str:
    d_lat = r["route_latency_during_ms"] - r["route_latency_before_ms"]
    counts = f"{r['route_requests']:,} incident and {r['route_baseline_requests']:,} baseline requests"
    wait_b, wait_a = float(r.get("route_wait_ms_before", 0.0)), float(r.get("route_wait_ms_during", 0.0))
    off = r["route_below_ms_during"] == 0 and r["route_below_ms_before"] == 0  # none of it on the route's path
    if off and (wait_a > 0 or wait_b > 0):
        return (f"its own spans are on none of the {r['route']} requests' critical path, but their calls to it wait on "
                f"it: the callers' waits for it (their client spans' time outside it) went {fmt_ms(wait_b)} → "
                f"{fmt_ms(wait_a)} of that critical path per request on average ({_signed_ms(wait_a - wait_b)}"
                f"{_share_of_rise(wait_a - wait_b, d_lat)}; {counts})")
    if off and "route_service_ms_during" in r:
        sb, sa = float(r["route_service_ms_before"]), float(r["route_service_ms_during"])
        return (f"this operation is on none of the {r['route']} requests' critical path, but its service is, through "
                f"another operation: at and below the service, with its callers' waits for it, that critical path went "
                f"{fmt_ms(sb)} → {fmt_ms(sa)} per request on average ({_signed_ms(sa - sb)}{_share_of_rise(sa - sb, d_lat)}; "
                f"{counts})")
    if off:
        # not on those requests' critical path at all: "went 0.00 ms → 0.00 ms per request (+0.00 ms)" said nothing
        return (f"it holds up none of the {r['route']} requests whose change was detected (0 ms of their critical path "
                f"at and below it in {r['route_requests']:,} incident and {r['route_baseline_requests']:,} baseline "
                "requests), so it does not explain that change")
    d_below = r["route_below_ms_during"] - r["route_below_ms_before"]
    d_own = r["route_cp_ms_during"] - r["route_cp_ms_before"]
    share = _share_of_rise(d_below, d_lat)
    own = "" if abs(d_below - d_own) < max(1.0, 0.05 * abs(d_below)) else f", {_signed_ms(d_own)} in its own spans"
    # the callers' waits for it, where they moved more than its own part did (a delay outside its spans)
    d_wait = wait_a - wait_b
    waits = (f"; its callers' waits for it (their client spans' time outside it) went {fmt_ms(wait_b)} → {fmt_ms(wait_a)} "
             f"({_signed_ms(d_wait)}{_share_of_rise(d_wait, d_lat)})"
             if abs(d_wait) >= max(1.0, 0.05 * abs(d_lat), abs(d_below)) else "")
    return (f"on {r['route']} requests the critical path at and below it went {fmt_ms(r['route_below_ms_before'])} → "
            f"{fmt_ms(r['route_below_ms_during'])} per request on average ({_signed_ms(d_below)}{share}{own}{waits}; "
            f"{counts})")


def _rows_of(spans: pd.DataFrame, row: pd.Series, level: str) -> np.ndarray:
    if level == "operation":
        return ((spans["service"] == row["service"]) & (spans["name"] == row["name"])).to_numpy(dtype=bool, na_value=False)
    if level == "service":
        return (spans["service"] == row["service"]).to_numpy(dtype=bool, na_value=False)
    if level in ("host", "version"):
        frame, _ = level_frame(spans, level)
        return ((frame["service"] == row["service"]) & (frame[level] == row[level])).to_numpy(dtype=bool, na_value=False)
    return np.zeros(len(spans), dtype=bool)


def _callee_of(spans: pd.DataFrame, row: pd.Series, level: str) -> str | None:
    if level != "operation":
        return None
    rows = np.flatnonzero(_rows_of(spans, row, level))
    if not len(rows):
        return None
    names = [c for c in callees(spans, rows[:200]) if c]
    if not names:
        return None
    best = pd.Series(names).value_counts().index[0]
    return None if best == row["service"] else str(best)


def _example(spans: pd.DataFrame, row: pd.Series, level: str) -> list[str]:
    """The traces where the key's spans took longest (an example of the cause)."""
    rows = _rows_of(spans, row, level)
    if not rows.any():
        return []
    sub = spans.loc[rows, ["trace_id", "duration_ms"]]
    return list(sub.sort_values("duration_ms", ascending=False)["trace_id"].astype(str).drop_duplicates().head(2))


def _listed(items: list[str], noun: str, most: int = 5) -> str:
    """The first ``most`` items joined with "; ", and how many more (``noun``) there are.

    >>> _listed(["a", "b", "c"], "service", most=2)
    'a; b; and 1 more service'
    """
    more = len(items) - most
    return "; ".join(items[:most]) + (f"; and {_plural(more, 'more ' + noun)}" if more > 0 else "")


def _version_moves(incident: pd.DataFrame, base: pd.DataFrame) -> list[dict]:
    """Per service of both periods whose incident ran a version the baseline never did (:func:`tracekit.core.versions`;
    spans of unknown version left out): its service, versions before and after, and the words."""
    from ..core import versions

    def per_service(spans: pd.DataFrame) -> dict:
        d = pd.DataFrame({"s": spans["service"].astype(object).to_numpy(), "v": versions(spans)}).dropna()
        return {s: sorted(map(str, g.unique())) for s, g in d.groupby("s", sort=True)["v"]}

    vi, vb = per_service(incident), per_service(base)
    out = []
    for svc, now in vi.items():
        new = [v for v in now if v not in vb.get(svc, [])]
        if svc in vb and new:
            out.append(dict(service=str(svc), version=", ".join(new),
                            text=f"{svc} {' / '.join(vb[svc])} in the baseline, {' / '.join(now)} in the incident"))
    return out


def _changed(spans: pd.DataFrame, window: tuple | None, cmp: Any, freq: str, *, incident: pd.DataFrame | None = None,
             base: pd.DataFrame | None = None, alpha: float = 0.01, cold_moves: pd.DataFrame | None = None,
             version_moves: list[dict] | None = None) -> list[Finding]:
    from ..analysis.timeline import deployments

    out = []
    dep = deployments(spans)
    new = dep[dep["previous"].notna()] if len(dep) else dep
    if window is not None and len(new):
        onset, recovery = window
        slack = pd.Timedelta(freq) * 5
        near = new[(new["first_seen"] >= onset - slack) & ((new["first_seen"] <= recovery) if not pd.isna(recovery) else True)]
    else:
        near = new
    # versions the given baseline never ran (postmortem's _version_moves) that no deploy within the data shows
    seen_here = set(near["service"].astype(str)) if len(near) else set()
    against = [m for m in (version_moves or []) if m["service"] not in seen_here]
    if against:
        out.append(Finding("changed", "New versions against the baseline given: " + _listed([m["text"] for m in against],
                                                                                            "service")
                           + ".", (), dict(versions=[f"{m['service']}@{m['version']}" for m in against])))
    if len(near):
        # a version that replaced its predecessor (a deploy) or runs beside it (a canary, a mixed fleet):
        # side by side when both were seen together for more than five buckets
        last = {(r.service, r.version): r.last_seen for r in dep.itertuples()}
        spans_of = {(r.service, r.version): int(r.spans) for r in dep.itertuples()}
        overlap = pd.Timedelta(freq) * 5
        parts, side = [], []
        for r in near.itertuples():
            prev_last = last.get((r.service, r.previous))
            if prev_last is not None and prev_last > r.first_seen + overlap:
                since = "from the start of the data" if r.first_seen <= spans["start"].min() + overlap else \
                    f"since {clock_text(r.first_seen)} UTC"
                # deployments' spans are the entry spans each version served: calls, not all of its spans
                side.append(f"{r.service} runs {r.version} ({_plural(spans_of[(r.service, r.version)], 'call')} "
                            f"served) beside {r.previous} ({_plural(spans_of.get((r.service, r.previous), 0), 'call')} "
                            f"served) {since}")
            else:
                parts.append(f"{r.service} {r.previous} → {r.version} first seen at {clock_text(r.first_seen)} UTC")
        if parts:
            out.append(Finding("changed", "New versions: " + "; ".join(parts) + ".", (),
                               dict(versions=[f"{r.service}@{r.version}" for r in near.itertuples()])))
        if side:
            out.append(Finding("changed", "Versions side by side: " + "; ".join(side) + " — compare them with "
                               "rank_causes(level=\"version\") or bubble_up.", (),
                               dict(side_by_side=[f"{r.service}@{r.version}" for r in near.itertuples()])))
    if cmp is not None and cmp.structure is not None and len(cmp.structure):
        bits, ev = _structural(cmp)
        if bits:
            out.append(Finding("changed", "; ".join(bits) + ".", (), ev))
    cold, usual, seen = _cold(spans, incident, base, alpha, cold_moves)
    if cold:
        out.append(cold)
    if not out:
        if usual is not None:
            out.append(Finding("changed", "No new version and no new or vanished call path; cold starts no more "
                               f"frequent than in the baseline{_beyond(usual)} — {usual.text}.", (), usual.evidence))
        else:
            # cold starts at their usual share are no change: not said here (those holding up requests: "where")
            out.append(Finding("changed", "No new version and no new or vanished call path were seen." if
                               cold_moves is not None and _has_cold(spans) else
                               "No new version, no new or vanished call path and no cold start were seen."))
    elif usual is not None:
        out.append(Finding("changed", f"Cold starts no more frequent than in the baseline{_beyond(usual)} — "
                                      f"{usual.text}.", (), usual.evidence))
    if seen is not None:  # cold starts at their usual share that hold up requests: where the time goes, not a change
        out.append(seen)
    return out


def _beyond(usual: Finding) -> str:
    """`` beyond chance (one-sided exact test at 0.01)`` when a function's cold-start share is above the baseline's
    but not beyond chance: "no more frequent" alone contradicted its own "2% against 1%"."""
    if not usual.evidence.get("higher_within_chance"):
        return ""
    return f" beyond chance (a higher share here, but not at a one-sided exact test's {usual.evidence['alpha']:g})"


def _has_cold(spans: pd.DataFrame) -> bool:
    from ..analysis.attribution import lambda_invocations

    inv = lambda_invocations(spans)
    return bool(len(inv) and inv["cold"].to_numpy(dtype=bool).any())


def _short_path(path: str, hops: int = 3) -> str:
    parts = str(path).split(" > ")
    return " > ".join(parts) if len(parts) <= hops else "… > " + " > ".join(parts[-hops:])


def _structural(cmp: Any) -> tuple[list[str], dict]:
    """Call paths in one set only whose absence from the other is not chance: a path seen in k of
    n traces of one set is expected in m·k/n traces of the other (m traces); it is reported when that
    expectation is at least 3 (seeing none then has a Poisson probability below 5 %)."""
    st = cmp.structure
    whole = cmp.params.get("structure_traces", cmp.n_traces)  # the traces whose call paths were counted
    n = {"a": float(whole[0]), "b": float(whole[1])}
    bits: list[str] = []
    ev: dict[str, Any] = {}
    for side, other, words in (("a only", "b", "appear only in the incident"), ("b only", "a", "of the baseline are gone")):
        sub = st[st["side"] == side]
        mine = "a" if other == "b" else "b"
        if n[mine] > 0 and n[other] > 0:
            sub = sub[sub["traces"] * n[other] / n[mine] >= 3]
        if not len(sub):
            continue
        top = sub.sort_values("traces", ascending=False).iloc[0]
        verb = words if len(sub) > 1 else words.replace("appear", "appears").replace("are gone", "is gone")
        bits.append(f"{_plural(len(sub), 'call path')} {verb} (most common: {_short_path(top['call_path'])}, "
                    f"{_plural(top['traces'], 'trace')})")
        ev["new_paths" if side == "a only" else "gone_paths"] = len(sub)
    return bits, ev


def _cold_starts(spans: pd.DataFrame | None) -> pd.DataFrame:
    from ..analysis.attribution import cold_starts

    if spans is None or not len(spans):
        return pd.DataFrame()
    try:
        return cold_starts(spans, n_boot=200)
    except TraceKitError:  # no serverless function in the data
        return pd.DataFrame()


def _cold(spans: pd.DataFrame, incident: pd.DataFrame | None = None, base: pd.DataFrame | None = None,
          alpha: float = 0.01, cold_moves: pd.DataFrame | None = None
          ) -> tuple[Finding | None, Finding | None, Finding | None]:
    """(cold starts that changed, cold starts as in the baseline, cold starts as usual on the requests' critical
    path — a "where" finding), each None when there are none.

    With a baseline, a function's cold starts in the incident are a change when their share of its
    invocations is higher than in the baseline beyond chance: given the k cold starts of both
    periods, the incident's count is binomial with the incident's share of the invocations under
    equal rates (one-sided exact test at ``alpha``); a function the baseline never invoked has
    changed. Without a baseline, a function's cold starts are a change only when their share rose within the data
    beyond chance (``cold_moves``: :func:`_cold_moves`, a scale-out); cold starts at their usual share are not "what
    changed" (async-workflows, sampled-errors, clock-skew: ~2 % of fulfillment's invocations all hour were said
    there) — they are said under "where" when they hold up requests (on the critical path), else left out."""
    from ..core.distributions import binom_test_greater

    compared = base is not None and incident is not None
    cs = _cold_starts(incident if compared else spans)
    cb = _cold_starts(base) if compared else pd.DataFrame()
    seen_b = {r.function: (int(r.cold_starts), int(r.invocations)) for r in cb.itertuples()} if len(cb) else {}
    # the functions with a cold start in either period (one that went cold only in the baseline is
    # said as usual, with its incident invocations)
    cold_b = [f for f, (k, _) in seen_b.items() if k > 0]
    if len(cs):
        cs = cs[(cs["cold_starts"] > 0) | cs["function"].isin(cold_b)]
    if not len(cs):
        return None, None, None
    moved = cold_moves if cold_moves is not None else pd.DataFrame(columns=["function"])
    changed, usual, as_usual = [], [], []
    for r in cs.sort_values(["cold_starts", "invocations"], ascending=False).itertuples():
        if not compared:
            (changed if r.function in set(moved["function"]) else as_usual).append((r, None))
            continue
        k_b, n_b = seen_b.get(r.function, (0, 0))
        k_a, n_a = int(r.cold_starts), int(r.invocations)
        p = 0.0 if n_b == 0 else 1.0 if k_a == 0 else \
            binom_test_greater(k_a, k_a + k_b, n_a / (n_a + n_b))
        (changed if p < alpha else usual).append((r, (k_b, n_b)))

    # when each function's cold starts were (cold-starts: all 46 in 14:30–14:50, which no sentence said)
    from ..analysis.attribution import lambda_invocations

    inv = lambda_invocations(incident if compared else spans)
    cold_t = inv[inv["cold"].to_numpy(dtype=bool)] if len(inv) else inv
    cold_at = {f: np.sort(g["start"].to_numpy()) for f, g in cold_t.groupby("function", sort=False)} if len(cold_t) else {}

    def said(r: Any, b: tuple[int, int] | None) -> str:
        seen = (f"{_plural(r.cold_starts, 'cold start')}" if r.cold_starts else "no cold start") + \
            f" in {_plural(r.invocations, 'invocation')} ({percent(r.cold_share)})"
        if not compared and r.function in set(moved["function"]):  # the window where the share rose, said first
            return f"{r.function}: {seen}; {_cold_window_words(moved.loc[r.function])}"
        t = cold_at.get(r.function)
        if t is not None and len(t):  # when: first to last, and the middle half (where most of them fell)
            seen += (f", at {clock_text(t[0])} UTC" if len(t) == 1 else f", {window_text(t[0], t[-1])}"
                     + (f", half of them {window_text(t[len(t) // 4], t[(3 * len(t)) // 4])}" if len(t) >= 8 else ""))
        if b is not None:
            seen += ("; the baseline never invoked it" if b[1] == 0 else
                     f" against {b[0]:,} in {b[1]:,} ({percent(b[0] / b[1])}) in the baseline")
        return f"{r.function}: {seen}"

    def cost(r: Any) -> str:
        where = ("on the request's critical path " + _signed_ms(r.cp_added_ms) + " each" if r.cp_added_ms > 0
                 else "off the critical path (asynchronous)")
        return (f", initialisation p50 {fmt_ms(r.init_p50_ms)}, "
                + ((f"{_signed_ms(r.added_ms)} per cold invocation [{_signed_ms(r.added_ms_lo)}, "
                    f"{_signed_ms(r.added_ms_hi)}] against warm ones, " if np.isfinite(r.added_ms_lo) else
                    f"{_signed_ms(r.added_ms)} for its one cold invocation against the warm ones' mean (one "
                    "cold start: no interval), " if r.cold_starts == 1 else
                    f"{_signed_ms(r.added_ms)} per cold invocation against warm ones (too few to draw an "
                    "interval), ") if np.isfinite(r.added_ms) else "")
                + where)

    seen_usual = None
    on_path = [(r, b) for r, b in as_usual if r.cp_added_ms > 0]
    if on_path:
        # no baseline says what is usual: only that the share did not move within the data (a fresh reader: "usual"
        # of 1 cold start in 1 invocation)
        seen_usual = Finding("where", "Cold starts whose share did not move within the data beyond chance (no baseline "
                                      "to say what their usual share is), on the requests' critical path: "
                             + "; ".join(said(r, b) + cost(r) for r, b in on_path[:3]) + ".", (),
                             dict(usual_cold_starts_on_path=[str(r.function) for r, _ in on_path]))
    cold = None
    if changed:
        parts = []
        for r, b in changed[:3]:
            parts.append(said(r, b) + cost(r))
        lead = "Cold starts, more frequent than in the baseline: " if compared else \
            "Cold starts rose within the data (no baseline to compare with): "
        cold = Finding("changed", lead + "; ".join(parts) + ".", (),
                       dict(functions=[str(r.function) for r, _ in changed]))
    same = None
    if usual:
        # a share above the baseline's that the test does not call beyond chance (deploy-regression against its own
        # first half: 4 cold starts in 186 invocations (2%) against 1 in 174 (1%) was said "no more frequent")
        higher = any(b is not None and b[1] > 0 and float(r.cold_share) > b[0] / b[1] for r, b in usual[:3])
        same = Finding("changed", "; ".join(said(r, b) for r, b in usual[:3]), (),
                       dict(usual_cold_starts=[str(r.function) for r, _ in usual], higher_within_chance=higher,
                            alpha=alpha))
    return cold, same, seen_usual


#: how incident_periods names a baseline the caller gave (its period is said in "how sure": :func:`_given_period`)
_GIVEN = "the baseline given"


def _span_words(d: pd.Timedelta) -> str:
    m = d / pd.Timedelta("1min")
    return (f"{60 * m:,.0f} s" if m < 2 else f"{m:,.0f} min" if m < 120 else f"{m / 60:,.1f} h" if m < 48 * 60
            else f"{m / 1440:,.1f} days")


def _given_period(incident: pd.DataFrame, base: pd.DataFrame, spans: pd.DataFrame) -> str:
    """``, which started 2023-01-29 08:42:09–08:51:04 UTC (40 of them after the incident's first request)`` or
    ``(ending 6 min before …)`` or ``(all of them after the incident, starting 2.1 h after its last request)``: a
    baseline given is said with its period and where it lies against the incident
    (Nezha's reports said "the baseline given" of baselines holding the previous fault's minutes, or a minute after
    the incident). A baseline most of whose traces started within the data's own period (``spans``: the bundled
    baseline is the incident hour's counterfactual twin) is said to be of the same period: "672 of them after the
    incident's first request" read as an overlap to fix. A baseline none of whose traces started on the incident's day
    of the week says its days (``on Saturday, the incident on Monday``). Traces by the start of their request
    (trace_outcomes)."""
    b = trace_outcomes(base)["start"].dropna()
    i = trace_outcomes(incident)["start"].dropna()
    if not len(b) or not len(i):
        return ""
    t0, t1, first = b.min(), b.max(), i.min()
    whole = trace_outcomes(spans)["start"].dropna()
    d0, d1 = (whole.min(), whole.max()) if len(whole) else (first, i.max())
    period = period_text(t0, t1)
    after = int((b >= first).sum())
    within = int(((b >= d0) & (b <= d1)).sum())
    if after and within >= len(b) / 2:  # recorded beside the incident (another region, a control group), not before
        # "the same period" only when every trace is in it (a fresh reader: "3 of its 5" is not the same period)
        where = (("the same period as the data" if within == len(b) else "mostly the data's own period")
                 + f": {within:,} of its {len(b):,} traces started between the data's first and last request")
    elif t0 > i.max():  # wholly after the incident (a recovery, or a later hour): said as "ending … before" is
        # (Nezha TrainTicket 13:31 against the 15:41 minutes read "149 of them after the incident's first request")
        where = f"all of them after the incident, starting {_span_words(t0 - i.max())} after its last request"
    else:
        where = (f"{after:,} of them after the incident's first request" if after else
                 f"ending {_span_words(first - t1)} before the incident's first request")
    # traffic of another day of the week (a weekend against a Monday) is said: the dates alone do not show it
    days = list(dict.fromkeys(pd.DatetimeIndex(b.sort_values()).day_name()))
    if first.day_name() not in days:
        where += f"; on {' and '.join(days) if len(days) <= 2 else f'{len(days)} other days'}, the incident on {first.day_name()}"
    return f", which started {period} ({where})"


def _sure(spans: pd.DataFrame, incident: pd.DataFrame, base: pd.DataFrame | None, source: str, weights: Any,
          health: pd.DataFrame, mix: Finding | None = None, clocks: tuple[str, ...] = ()) -> list[Finding]:
    from ..analysis.sampling import weighted_summary

    out = []
    n_inc = incident["trace_id"].nunique()
    n_base = 0 if base is None else base["trace_id"].nunique()
    n_all = spans["trace_id"].nunique()
    part = (f"{_plural(n_inc, 'trace')} of the {_plural(n_all, 'trace')} in the data" if n_inc != n_all
            else _plural(n_inc, "trace"))
    if base is not None:
        text = (f"Baseline: {source}. The incident (compared with the baseline) has {part}, the baseline "
                f"{_plural(n_base, 'trace')}{_given_period(incident, base, spans) if source == _GIVEN else ''}.")
    else:
        text = f"Baseline: {source}. The incident has {part}."
    oc = trace_outcomes(incident)
    n_req = int(oc["request"].sum())
    no_root = int((~oc["has_root"].to_numpy(dtype=bool)).sum())
    if no_root and no_root == n_inc:  # "so request latency and error rate count the 0 requests whose root was"
        text += (f" {'It has no' if no_root == 1 else f'None of its {no_root:,} has a'} root span (only fragments: the "
                 "requests' own spans were not recorded), so there is no request to count.")
    elif no_root:
        text += (f" {_plural(no_root, 'incident trace')} {'has' if no_root == 1 else 'have'} no root span (a fragment: "
                 f"the request's own span was not recorded), so request latency and error rate count the "
                 f"{_plural(n_req, 'request')} whose root was.")
    # not the callee's half of a dropped-context request (``continues``: counted in its caller's request, said so in
    # "what happened"), which would be called asynchronous work here (broken-context: 41 such traces, no queue)
    n_async = int((oc["has_root"].to_numpy(dtype=bool) & ~oc["request"].to_numpy(dtype=bool)
                   & oc["continues"].isna().to_numpy(dtype=bool)).sum())
    if n_async:  # async-workflows: "400 requests" above "515 traces" with nothing on the other 115
        text += (f" {_plural(n_async, 'incident trace')} {'is' if n_async == 1 else 'are'} asynchronous work, not "
                 "requests (the root is a consumer span or carries a span link: a queue consumer's own trace), so "
                 "request latency and error rate leave "
                 f"{'it' if n_async == 1 else 'them'} out.")
    if n_inc < 30:
        text += f" With only {_plural(n_inc, 'incident trace')}, intervals are wide and small effects cannot be seen."
    out.append(Finding("sure", text, (), dict(incident_traces=n_inc, baseline_traces=n_base, requests=n_req,
                                              rootless_traces=no_root)))
    if mix is not None:
        out.append(mix)
    if not status_recorded(incident):
        out.append(Finding("sure", "Status: no incident span carries a status, an HTTP code or a fault flag, so no request "
                                   "is marked failed — its error rates below are unknown, not 0 %, and errors weigh in the "
                                   "ranking only through ERROR log records, when logs are given (a span's name, as an error "
                                   "handler's, may still show a failure: search them by name).", (),
                           dict(status_recorded=False)))
    elif base is not None and len(base) and not status_recorded(base):
        # the other way round was said only in a note under the headline table (fault lab 416, the baseline exported
        # without status): "errors originate in it (14 of its 32 spans ...)" weighed against a baseline of none
        out.append(Finding("sure", "Status: no baseline span carries a status, an HTTP code or a fault flag, so none of "
                                   "its requests is marked failed — its error rate is unknown, not 0 %, and the "
                                   "incident's errors are weighed against none: errors the system always has count as "
                                   "new in the ranking.", (), dict(status_recorded=True, baseline_status_recorded=False)))
    w = weights  # resolved by the caller (_sample_weights): given, or carried by the data, or None
    if w is not None:
        ws = weighted_summary(spans, w)
        s = ws.iloc[0]
        rates = (f"the error rate is {_pct(s['error_rate'])} [{_pct(s['error_rate_lo'])}, {_pct(s['error_rate_hi'])}] "
                 f"(naive {_pct(s['naive_error_rate'])}), the share of traces with a failed span anywhere "
                 f"{_pct(s['any_failed_rate'])} [{_pct(s['any_failed_rate_lo'])}, "
                 f"{_pct(s['any_failed_rate_hi'])}] (naive {_pct(s['naive_any_failed_rate'])})"
                 ) if ws.attrs["status_recorded"] else "the error rate is unknown (no span records a status)"
        out.append(Finding("sure", f"Sampling: the traces are a weighted sample ({_plural(s['n_traces'], 'trace')} standing "
                                   f"for about {s['est_requests']:,.0f} requests); corrected for it, {rates} and p95 "
                                   f"request latency {fmt_ms(s['p95_ms'])} (naive {fmt_ms(s['naive_p95_ms'])})."
                                   + (f" {s['warning'][:1].upper()}{s['warning'][1:]}." if isinstance(s.get('warning'), str) and s['warning'] else ""),
                           (), dict(error_rate=float(s["error_rate"]), naive_error_rate=float(s["naive_error_rate"]),
                                    any_failed_rate=float(s["any_failed_rate"]),
                                    naive_any_failed_rate=float(s["naive_any_failed_rate"]))))
    else:
        out.append(Finding("sure", "Sampling: no sampling probabilities in the data (no OTel th: thresholds, no X-Ray "
                                   "sampling statistics given), so the numbers describe the sampled traces; if the "
                                   "sampler kept errors or slow requests preferentially, rates and percentiles are biased."))
    bad = health[health["severity"].isin(["error", "warning"])]
    if len(bad):
        parts = []
        n_all = int(spans["trace_id"].nunique())  # health_report's population: every trace of the input
        for _, r in bad.head(3).iterrows():
            subj = f" ({r['subject']})" if isinstance(r["subject"], str) and r["subject"] else ""
            # the check's own name (health_report names a dropped context dropped_context, not an uninstrumented hop)
            share = f" ({percent(float(r['share']))})" if np.isfinite(r["share"]) else ""  # no trace: unsaid
            # the share's population said: "in 1 trace (1%)" did not say 1% of what
            parts.append(f"{r['check'].replace('_', ' ')}{subj} in {int(r['traces_affected']):,} of the "
                         f"{_plural(n_all, 'trace')}{share}")
        # "33 warnings limit trust" listed three: which three said
        first = "the first 3 of them (health_report lists all): " if len(bad) > 3 else ""
        # orphans beside a service seen only as a callee: the spans it would have sent are what the orphans' parents
        # were ("orphan spans in 87 of the 120 traces" of fault lab 416, route-service uninstrumented, read as data
        # lost anywhere; health_report's info rows named route-service)
        dark = health[(health["check"] == "callee_only_services").to_numpy(dtype=bool)
                      & (health["traces_affected"].to_numpy(dtype=float) > 0)]
        orphans = (bad["check"] == "orphan_spans").to_numpy(dtype=bool).any()
        if orphans and len(dark) and "subject" in dark:
            # only a service whose calls hold most of the orphans (each inside a client span to it, in its trace):
            # a database or a third party is seen only as a callee in every report (the bundled checkout's
            # DynamoDB, card-network and orders-db were named beside one orphan of 2,000 traces)
            names = _orphans_inside_calls(spans, set(dark["subject"].dropna().astype(str)))
            dark = dark[dark["subject"].astype(str).isin(names).to_numpy()]
        if orphans and len(dark):
            who = _listed_words([str(x) for x in dark["subject"].dropna().astype(str)][:3]) if "subject" in dark else ""
            its, it = ("its", "it") if len(dark) == 1 else ("their", "they")
            parts.append(f"{who} sent no spans of {its} own (seen only as a callee): spans {it} called would be "
                         f"orphans, naming {its} missing spans as parents, and {its} errors and time show only on "
                         f"{its} callers' client spans" if who else "")
            parts = [x for x in parts if x]
        out.append(Finding("sure", f"Trace health: {_plural(len(bad), 'warning')} {'limits' if len(bad) == 1 else 'limit'} trust — " + first + "; ".join(parts) + ".",
                           tuple(str(t) for t in (list(bad.iloc[0]["example_trace_ids"] or [])[:1])),
                           dict(health_warnings=len(bad))))
    else:
        # a child outside a parent of its own service is an info row (fire-and-forget work, or two hosts of the
        # service whose clocks differ): then the clocks are not known to agree
        same = health[health["check"] == "child_outside_parent"]
        n_same = int(same["spans_affected"].sum())
        # a clock the story named under "where" (skew_story: skewed, or without one offset) is no clock that agrees:
        # "clocks agree" was said below "rate-service host …'s clock did not keep one offset" (fault lab network_delay)
        but = (f" except {_listed_words(list(clocks))}'s (said under where: skewed or without one offset)"
               if clocks else "")
        out.append(Finding("sure", "Trace health: no warnings — traces are whole, parents resolve, " + (
            f"clocks agree{but}." if not n_same else
            f"clocks agree across services{but}; {_plural(n_same, 'span')} {'starts' if n_same == 1 else 'start'} before or "
            f"{'ends' if n_same == 1 else 'end'} after a parent of its own service (work after the parent returned, or two hosts of the service whose "
            "clocks differ).")))
    return out


__all__ += ["fmt_ms"]
