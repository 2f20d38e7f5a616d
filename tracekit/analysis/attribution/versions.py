"""Per service and version: latency, errors and critical path against the previous version (:func:`version_regressions`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ...core import (
    DEFAULT_N_BOOT,
    VERSION_KEYS,
    boot_args,
    duration_arg,
    failed,
    interval_ends,
    outcome_unknown,
    quantile_draws,
    require_columns,
    result_table,
    status_recorded,
)
from ...core.deprecation import renamed
from ...errors import ArgumentError
from ...schema import shared_attr
from ..critical_paths import critical_path
from .common import boot_mean, entry_rows, lookup_keys, usort, value_label

#: public names; the other module-level names are helpers shared within the package
__all__ = ["version_regressions", "VERSION_REGRESSIONS"]

#: the columns of :func:`version_regressions`
VERSION_REGRESSIONS = result_table("version_regressions", "one row per service and deploy period of a version (a version rolled back to has two: deploy_periods), in order of first appearance", [
    ('service', 'string', '', 'service'),
    ('version', 'string', '', 'its version'),
    ('previous_version', 'string', '', 'the version of the row before: the deploy period first seen just before, which this one replaced (<NA> for the first)'),
    ('first_seen', 'datetime64[ns, UTC]', 'ns, UTC', "start of the version's first call (a deploy marker)"),
    ('last_seen', 'datetime64[ns, UTC]', 'ns, UTC', 'start of its last call'),
    ('calls', 'int64', 'spans', 'entry spans of the service in this version'),
    ('traces', 'int64', 'traces', 'traces those calls belong to'),
    ('p50_ms', 'float64', 'ms', 'median call duration (core.percentile)'),
    ('p95_ms', 'float64', 'ms', 'p95 call duration (core.percentile)'),
    ('error_rate', 'float64', '', 'share of calls that failed (core.failed) over the calls of known outcome (a call '
                                  'still in progress with no status yet, core.outcome_unknown, is neither failed nor '
                                  'ok: left out); NaN (unknown, not 0) when no call of the '
                                  'table records a status (core.status_recorded; attrs status_recorded), or when every '
                                  'call of the row is in progress'),
    ('unknown', 'int64', 'spans', 'calls of the row still in progress with no status yet (core.outcome_unknown), left '
                                  'out of error_rate: service_graph\'s unknown'),
    ('cp_ms', 'float64', 'ms', 'critical-path ms of the service per trace it served'),
    ('delta_p50_ms', 'float64', 'ms', "p50_ms minus the previous version's"),
    ('delta_p50_ms_lo', 'float64', 'ms', 'lower bound of the bootstrap interval of delta_p50_ms'),
    ('delta_p50_ms_hi', 'float64', 'ms', 'upper bound of the bootstrap interval of delta_p50_ms'),
    ('delta_p95_ms', 'float64', 'ms', "p95_ms minus the previous version's"),
    ('delta_p95_ms_lo', 'float64', 'ms', 'lower bound of the bootstrap interval of delta_p95_ms'),
    ('delta_p95_ms_hi', 'float64', 'ms', 'upper bound of the bootstrap interval of delta_p95_ms'),
    ('delta_error_rate', 'float64', '', "error_rate minus the previous version's; NaN (unknown) as error_rate"),
    ('delta_error_rate_lo', 'float64', '', 'lower bound of the bootstrap interval of delta_error_rate'),
    ('delta_error_rate_hi', 'float64', '', 'upper bound of the bootstrap interval of delta_error_rate'),
    ('delta_cp_ms', 'float64', 'ms', "cp_ms minus the previous version's"),
    ('delta_cp_ms_lo', 'float64', 'ms', 'lower bound of the bootstrap interval of delta_cp_ms'),
    ('delta_cp_ms_hi', 'float64', 'ms', 'upper bound of the bootstrap interval of delta_cp_ms'),
    ('regression', 'bool', '', 'some delta interval lies above 0'),
    ('in_incident', 'boolean', '', 'first seen inside the incident window (<NA> without one, or for a first version)'),
])


#: family-wise chance of splitting a version's calls into two deploy periods when its calls were interleaved with the
#: other versions' at random (:func:`deploy_periods`)
PERIOD_ALPHA = 0.01


def deploy_periods(service: np.ndarray, version: np.ndarray, start: np.ndarray, trace: np.ndarray) -> np.ndarray:
    """Per call, the deploy period of its version (0, 1, …): a version deployed, replaced and deployed again (a
    rollback, v1 → v2 → v1) has two periods, each compared with the version it replaced.

    The unit is a request: a trace's calls of a service in one version, placed at the first of them (a request's calls
    go to one pod together, so calls are not drawn one by one). In the service's requests ordered so, a version's
    period ends where a run of consecutive requests of other versions is longer than chance allows had its requests
    been interleaved at random at its share ``p`` of the ``n`` requests from its first to its last: a run of ``L`` or
    more starts at a given request with chance ``(1 − p)^L``, and a run breaks the period when ``n · (1 − p)^L`` <
    :data:`PERIOD_ALPHA`. A canary or a rolling deploy interleaves versions (runs of a few requests); a rollback leaves
    a run of the replacing version's every request. Aligned arrays in, an int64 array out.
    """
    n = len(service)
    if not n:
        return np.zeros(0, dtype=np.int64)
    calls = pd.DataFrame({"s": pd.Series(service, dtype=object), "v": pd.Series(version, dtype=object),
                          "t": np.asarray(trace), "at": np.asarray(start)})
    units = calls.groupby(["s", "t", "v"], sort=False, dropna=False)["at"].min().reset_index()
    # requests starting at one instant in order of version (of one version their order changes no run): not in the
    # frame's row order
    units = units.sort_values(["s", "at", "v"], kind="stable").reset_index(drop=True)
    period = np.zeros(len(units), dtype=np.int64)
    svc_u = units["s"].to_numpy(dtype=object)
    bounds = np.flatnonzero(np.r_[True, svc_u[1:] != svc_u[:-1], True])
    ver_u = units["v"].to_numpy(dtype=object)
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        codes = pd.factorize(pd.Series(ver_u[a:b], dtype=object))[0]
        for v in range(int(codes.max()) + 1):
            at = np.flatnonzero(codes == v)
            span = at[-1] - at[0] + 1
            share = len(at) / span
            if share >= 1.0:
                continue
            others = np.diff(at) - 1  # requests of other versions between two consecutive requests of this one
            brk = span * (1.0 - share) ** others.astype(float) < PERIOD_ALPHA
            period[a + at] = np.r_[0, np.cumsum(brk)]
    units["period"] = period
    return calls.merge(units[["s", "t", "v", "period"]], on=["s", "t", "v"], how="left")["period"].to_numpy(np.int64)


@renamed(incident="window")
def version_regressions(
    spans: pd.DataFrame,
    attribute: str = "service.version",
    *,
    window: tuple[Any, Any] | None = None,
    tolerance: str | pd.Timedelta = "15min",
    n_boot: int = DEFAULT_N_BOOT,
    ci: float = 0.95,
    seed: int = 0,
    **critical_path_kwargs: Any,
) -> pd.DataFrame:
    """Per service and version: how the version behaved and how it changed from the previous one.

    The version of a span is ``attribute`` in its resource (else its attributes); for
    ``"service.version"`` also ``faas.version`` and Elastic Beanstalk's ``version_label``. The
    *calls* of a service are its entry spans (a root, or a span whose parent is in another
    service). A version deployed again after another replaced it (a rollback, v1 → v2 → v1) has a row
    per deploy period (:func:`deploy_periods`), each compared with the row before it in time. Columns:
    ``service``, ``version``, ``previous_version`` (the version of the period first seen just
    before, <NA> for the first), ``first_seen``/``last_seen`` (start of its first/last call — the
    first is a deploy marker), ``calls``, ``traces``, ``p50_ms``, ``p95_ms`` (inverted-cdf),
    ``error_rate``, ``cp_ms`` (critical-path ms of the service's spans per trace it served whose
    critical path did not fail), and
    for each of those ``delta_<m>`` with ``delta_<m>_lo``/``_hi`` (percentile bootstrap, seeded:
    calls resampled for latency and errors, traces for ``cp_ms``); ``regression`` (some interval of
    p50, p95, error rate or cp_ms lies above 0) and ``in_incident`` (first seen inside
    ``window = (start, end)`` widened by ``tolerance`` before the start; <NA> without an incident
    and for the first version of a service, whose first call only marks the start of the data).

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame (one row per span, tracekit.schema).
    attribute : str, default 'service.version'
        The version attribute (resource, else span attributes).
    window : tuple[Any, Any] | None, default None
        The incident ``(start, end)``: versions first seen in it (widened by ``tolerance``) are flagged ``in_incident``.
    tolerance : str | pd.Timedelta, default '15min'
        How far before the incident's start a deploy still counts as inside it.
    n_boot : int, default 1000
        Bootstrap resamples for the intervals (default :data:`tracekit.core.DEFAULT_N_BOOT`).
    ci : float, default 0.95
        Confidence level of the intervals, in (0, 1).
    seed : int, default 0
        Seed of the bootstrap's random generator (results are reproducible).
    **critical_path_kwargs : Any
        Settings passed to :func:`tracekit.critical_path`.

    Returns
    -------
    pandas.DataFrame
        Per service and version: how the version behaved and how it changed from the previous one (columns
        :data:`VERSION_REGRESSIONS`). ``attrs["status_recorded"]``: whether some call counted records a status
        (:func:`tracekit.core.status_recorded`); when none does, ``error_rate`` and ``delta_error_rate`` (with
        its interval) are NaN: unknown, not 0.

    Examples
    --------
    >>> import tracekit as tk
    >>> ms = 1_000_000
    >>> spans = tk.spans_from_columns({
    ...     "trace_id": [f"{i:032x}" for i in range(1, 7)], "span_id": [f"{i:016x}" for i in range(1, 7)],
    ...     "service": ["pay"] * 6, "name": ["charge"] * 6,
    ...     "start": [i * 1000 * ms for i in range(6)],
    ...     "end": [i * 1000 * ms + d * ms for i, d in enumerate([10, 12, 11, 50, 52, 51])],
    ...     "resource": [{"service.version": v} for v in ["1.0"] * 3 + ["1.1"] * 3]})
    >>> r = tk.version_regressions(spans, n_boot=200)
    >>> r[["version", "previous_version", "p50_ms", "delta_p50_ms", "regression"]].values.tolist()
    [['1.0', <NA>, 11.0, nan, False], ['1.1', '1.0', 51.0, 40.0, True]]
    """
    incident = window  # the old name, kept in the body
    require_columns(spans, ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end"), "version_regressions")
    n_boot, ci = boot_args(n_boot, ci, "version_regressions", min_boot=1)
    tol = duration_arg(tolerance, "tolerance", "version_regressions", zero_ok=True)
    keys = (attribute,) + (VERSION_KEYS[1:] if attribute == "service.version" else ())
    ver = lookup_keys(spans, keys)
    ver = np.array([None if v is None else value_label(v) for v in ver], dtype=object)
    entry, tree = entry_rows(spans)
    svc = spans["service"].to_numpy(dtype=object, na_value=None)
    use = entry & (ver != None) & (svc != None)  # noqa: E711
    known = bool(status_recorded(spans[[c for c in ("status", "http_status", "fault", "error", "throttle")
                                        if c in spans.columns]].iloc[np.flatnonzero(use)]))
    cols = ["service", "version", "previous_version", "first_seen", "last_seen", "calls", "traces", "p50_ms", "p95_ms",
            "error_rate", "unknown", "cp_ms"]
    metrics = ("p50_ms", "p95_ms", "error_rate", "cp_ms")
    rng = np.random.default_rng(seed)
    calls = pd.DataFrame({
        "service": svc[use], "version": ver[use], "trace": tree.trace[use],
        "start": spans["start"].to_numpy()[use],
        "dur": spans["duration_ms"].to_numpy(dtype=np.float64, na_value=np.nan)[use],
        "err": failed(spans)[use],
        # a call still in progress with no outcome yet: neither failed nor ok, left out of the error rate
        "known": ~outcome_unknown(spans)[use],
    })
    # critical-path ms per (service, version, trace)
    cp = critical_path(spans, **critical_path_kwargs)
    rowkey = pd.DataFrame({"trace_id": spans["trace_id"].astype(object).to_numpy(),
                           "span_id": spans["span_id"].astype(object).to_numpy(), "version": ver,
                           "trace": tree.trace})[~tree.duplicate]  # a span read twice: core.tree's copy (not the first row)
    cpv = pd.DataFrame({"trace_id": cp["trace_id"].astype(object).to_numpy(), "span_id": cp["span_id"].astype(object).to_numpy(),
                        "service": cp["service"].astype(object).to_numpy(), "ms": cp["duration_ms"].to_numpy(np.float64)})
    cpv = cpv.merge(rowkey, on=["trace_id", "span_id"], how="left")
    cp_sum = cpv.dropna(subset=["version"]).groupby(["service", "version", "trace"], sort=False)["ms"].sum()
    # traces with a critical path: one whose path failed has no cp time to average (not 0 ms)
    has_cp = np.zeros(len(tree.trace_ids), dtype=bool)
    has_cp[cpv["trace"].dropna().to_numpy(dtype=np.int64)] = True
    calls["period"] = deploy_periods(calls["service"].to_numpy(dtype=object), calls["version"].to_numpy(dtype=object),
                                     calls["start"].to_numpy(), calls["trace"].to_numpy())
    trace_text = np.asarray(tree.trace_ids, dtype=object).astype(str)
    rows = []
    draws: list[dict[str, np.ndarray]] = []
    for (s, v, _), g in calls.groupby(["service", "version", "period"], sort=True):
        dur = np.sort(g["dur"].dropna().to_numpy())
        e = g["err"].to_numpy()[g["known"].to_numpy()]  # the calls of known outcome: the error rate's population
        tr = usort(g["trace"].to_numpy())
        # the traces in order of their ids, not of the tree's codes (first appearance in the frame): the bootstrap
        # draws by position, so the same spans in another row order drew other samples (delta_cp_ms_lo 128 ms, NaN)
        tr_cp = tr[has_cp[tr]]
        tr_cp = tr_cp[np.argsort(trace_text[tr_cp], kind="stable")]
        cpt = cp_sum.get(s, None)
        per_trace = np.zeros(len(tr_cp))
        if cpt is not None and v in cpt.index.get_level_values(0):
            sub = cpt.loc[v]
            per_trace = sub.reindex(tr_cp).fillna(0.0).to_numpy(np.float64)
        p50, d50 = quantile_draws(dur, 0.5, rng.random(n_boot))
        p95, d95 = quantile_draws(dur, 0.95, rng.random(n_boot))
        er = float(e.mean()) if len(e) else np.nan
        dre = rng.binomial(len(e), er, n_boot) / len(e) if len(e) else np.full(n_boot, np.nan)
        cpm = float(per_trace.mean()) if len(per_trace) else np.nan
        rows.append({"service": s, "version": v, "first_seen": g["start"].min(), "last_seen": g["start"].max(),
                     "calls": len(g), "traces": len(tr), "p50_ms": p50, "p95_ms": p95, "error_rate": er,
                     "unknown": len(g) - len(e), "cp_ms": cpm})
        draws.append({"p50_ms": d50, "p95_ms": d95, "error_rate": dre, "cp_ms": boot_mean(per_trace, n_boot, rng)})
    out = pd.DataFrame(rows, columns=[c for c in cols if c != "previous_version"])
    out["_draw"] = np.arange(len(out))
    if not len(out):
        out["previous_version"] = pd.Series([], dtype=object)
        for mname in metrics:
            for suf in ("", "_lo", "_hi"):
                out[f"delta_{mname}{suf}"] = pd.Series([], dtype=np.float64)
        out["regression"] = pd.Series([], dtype=bool)
        out["in_incident"] = pd.Series([], dtype="boolean")
        out.attrs["status_recorded"] = known
        return out[cols + [c for c in out.columns if c not in cols and c != "_draw"]]
    out["first_seen"] = pd.to_datetime(out["first_seen"], utc=True)
    out["last_seen"] = pd.to_datetime(out["last_seen"], utc=True)
    out = out.sort_values(["service", "first_seen", "version"], kind="stable").reset_index(drop=True)
    # each period of a version against the period it replaced: the row before it in the service's time order (a
    # rollback v1 → v2 → v1 is three rows; pooled, the second v1 was compared with nothing and v2 with both v1s)
    prev_row = out.groupby("service").cumcount().to_numpy() > 0
    prev = out.groupby("service")["version"].shift(1)
    out.insert(2, "previous_version", prev.astype(object).where(prev.notna(), pd.NA))
    draw_of = out["_draw"].to_numpy()
    for mname in metrics:
        dv, dl, dh = np.full(len(out), np.nan), np.full(len(out), np.nan), np.full(len(out), np.nan)
        vals = out[mname].to_numpy(dtype=np.float64)
        for i in np.flatnonzero(prev_row):
            dv[i] = vals[i] - vals[i - 1]
            diff = draws[draw_of[i]][mname] - draws[draw_of[i - 1]][mname]
            if not np.isnan(diff).all():
                dl[i], dh[i] = interval_ends(diff, ci)
        out[f"delta_{mname}"], out[f"delta_{mname}_lo"], out[f"delta_{mname}_hi"] = dv, dl, dh
    out["regression"] = np.zeros(len(out), bool)
    for mname in metrics:
        out["regression"] |= (out[f"delta_{mname}_lo"] > 0).to_numpy()
    # no call counted records a status (core.status_recorded): nothing could be recorded as failed, so the error
    # rates are unknown, not 0. Blanked after the draws (the other intervals keep their seeded values) and after
    # the regression flag, to which a rate of nothing recorded (every draw 0) never contributed. Pooled over every
    # version's calls, not per version: OTel leaves a healthy call's status unset, so a version with no failure
    # and no HTTP code is not unknown while the others record status.
    if not known:
        out[["error_rate", "delta_error_rate", "delta_error_rate_lo", "delta_error_rate_hi"]] = np.nan
    if incident is not None:
        try:
            a, b = (pd.Timestamp(x) for x in incident)
            a = a.tz_localize("UTC") if a.tzinfo is None else a
            b = b.tz_localize("UTC") if b.tzinfo is None else b
        except (TypeError, ValueError) as ex:
            raise ArgumentError(f"version_regressions: incident must be (start, end) timestamps, got {incident!r}: {ex}") from ex
        hit = ((out["first_seen"] >= a - tol) & (out["first_seen"] <= b)).astype("boolean")
        out["in_incident"] = hit.where(out["previous_version"].notna(), pd.NA)  # a first version is no deploy
    else:
        out["in_incident"] = pd.array([pd.NA] * len(out), dtype="boolean")
    out = out.drop(columns="_draw")
    out.attrs["params"] = shared_attr({"attribute": attribute, "n_boot": n_boot, "ci": ci, "seed": seed, **critical_path_kwargs})
    out.attrs["status_recorded"] = known
    return out
