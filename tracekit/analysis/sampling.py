"""Sampling: inclusion probabilities, corrected estimates, bias checks and sampler simulation.

Traces are sampled (head sampling at a few percent, X-Ray's reservoir of N requests a second
plus a fixed rate, tail sampling that keeps errors). Numbers quoted from sampled traces are
biased unless each trace is weighted by 1 / its inclusion probability. This module

* works out each trace's inclusion probability from what the data carries
  (:func:`sampling_weights`): OTel ``ot=th:`` thresholds, a SampleRate-style attribute, a
  user-given rate, or X-Ray sampling rules matched to the trace's root combined with the
  per-window statistics (which capture reservoir saturation). Unknown probabilities stay NaN
  with ``weight_source == 'unknown'`` and a note saying why; they are never guessed;
* estimates request counts, error rates and root-latency percentiles with intervals
  (:func:`weighted_summary`: Horvitz–Thompson / Hájek estimators, weighted quantiles, a seeded
  Poisson bootstrap over traces);
* checks whether a sample is representative of a population reference (:func:`sampling_bias`:
  G-test or chi-square per dimension, Cramér's V, Kolmogorov–Smirnov on latency, reservoir
  saturation windows, collection gaps, missing services) and says so in plain language;
* applies X-Ray rules, a consistent probability sampler or a tail rule to a full population
  (:func:`simulate_sampling`) and reports what is kept, the resulting bias and the cost.

Definitions used throughout: a trace's *root* is its span without a parent (the earliest one
if there are several; else the earliest span whose parent is absent from the trace). A trace
*failed* when any of its spans has ``status == 'error'`` or ``fault``; ``root_failed`` looks at
the root only. Root latency is the root's ``duration_ms``.

Why a Poisson bootstrap rather than resampling a fixed number of traces: under threshold or
fixed-rate sampling the number of sampled traces is itself random, so a fixed-size resample
gives a zero-width interval for the estimated request count whenever all weights are equal.
Giving every trace an independent Poisson(1) multiplicity (one integer matrix per stratum,
resamples × traces) keeps that variance, and reduces to the ordinary bootstrap for ratios and
quantiles.

>>> import tracekit as tk
>>> spans = tk.spans_from_columns({
...     "trace_id": ["%032x" % i for i in (1, 2)], "span_id": ["a" * 16, "b" * 16],
...     "service": ["api", "api"], "name": ["GET /", "GET /"], "start": [0, 0],
...     "end": [10_000_000, 30_000_000], "trace_state": ["ot=th:c", "ot=th:0"]})
>>> tk.sampling_weights(spans)[["probability", "weight", "weight_source"]].values.tolist()
[[0.25, 4.0, 'otel_threshold'], [1.0, 1.0, 'otel_threshold']]
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from ..errors import TraceFormatError, TraceKitError
from ..schema import STRING, TIMESTAMP

__all__ = [
    "sampling_weights",
    "weighted_summary",
    "sampling_bias",
    "simulate_sampling",
    "SamplingBias",
    "SimulatedSampling",
    "TailRule",
    "parse_ot_threshold",
    "threshold_probability",
    "threshold_adjusted_count",
    "probability_to_threshold",
    "trace_randomness",
    "xray_rules_frame",
    "xray_stats_frame",
    "match_xray_rule",
    "weighted_quantile",
    "g_test",
    "chi2_test",
]

#: 2**56: thresholds and randomness values are 56-bit integers (OTel tracestate spec).
MAX_THRESHOLD = 1 << 56
WEIGHT_SOURCES = ("otel_threshold", "attribute", "user", "xray_rule", "unknown")
#: X-Ray prices in USD per million traces (recorded; retrieved or scanned).
DEFAULT_PRICES = {"recorded": 5.00, "scanned": 0.50}
#: root-span attributes read as a SampleRate (1-in-N) or adjusted count.
SAMPLE_RATE_KEYS = ("SampleRate", "sample_rate", "sampling.sample_rate", "sampling.adjusted_count",
                    "sampler.adjusted_count")

# ============================================================================ OTel thresholds

_OT_MEMBER = re.compile(r"(?:^|,)[ \t]*ot=([^,]*)")
_HEX = re.compile(r"[0-9a-f]{1,14}")


def _ot_subkey(trace_state: Any, key: str) -> str | None:
    if trace_state is None or (not isinstance(trace_state, str) and pd.isna(trace_state)):
        return None
    m = _OT_MEMBER.search(str(trace_state))
    if not m:
        return None
    for part in m.group(1).strip().split(";"):
        k, sep, v = part.partition(":")
        if sep and k == key:
            return v
    return None


def parse_ot_threshold(trace_state: str | None) -> int | None:
    """The rejection threshold ``T`` (a 56-bit int) of a W3C tracestate's ``ot=th:`` value, or None.

    ``th`` is 1–14 lower-case hex digits, right-padded with zeros to 14 digits. Raises
    :class:`TraceFormatError` for a malformed ``th``.

    >>> parse_ot_threshold("ot=th:fd70a4")
    71337018784743424
    >>> parse_ot_threshold("vendor=x,ot=rv:0123456789abcd;th:0"), parse_ot_threshold(None)
    (0, None)
    """
    th = _ot_subkey(trace_state, "th")
    if th is None:
        return None
    if not _HEX.fullmatch(th):
        raise TraceFormatError(f"ot=th:{th!r} is not 1-14 lower-case hex digits (tracestate {trace_state!r})")
    return int(th.ljust(14, "0"), 16)


def _threshold_int(th: int | str) -> int:
    if isinstance(th, str):
        if not _HEX.fullmatch(th):
            raise TraceFormatError(f"th value {th!r} is not 1-14 lower-case hex digits")
        return int(th.ljust(14, "0"), 16)
    if not 0 <= int(th) < MAX_THRESHOLD:
        raise TraceKitError(f"threshold {th} is outside [0, 2**56)")
    return int(th)


def threshold_probability(th: int | str) -> float:
    """Sampling probability ``(2**56 - T) / 2**56`` of a threshold (int, or ``th`` hex string).

    >>> threshold_probability("c"), threshold_probability("0"), threshold_probability("aab")
    (0.25, 1.0, 0.333251953125)
    """
    t = _threshold_int(th)
    return (MAX_THRESHOLD - t) / MAX_THRESHOLD


def threshold_adjusted_count(th: int | str) -> float:
    """Adjusted count ``2**56 / (2**56 - T)`` (= 1 / probability) of a threshold.

    >>> threshold_adjusted_count("fd70a4")
    100.00009536752259
    """
    t = _threshold_int(th)
    return MAX_THRESHOLD / (MAX_THRESHOLD - t)


def probability_to_threshold(probability: float, precision: int | None = None) -> str:
    """The ``th`` value (trailing zeros removed) for a sampling probability in [2**-56, 1].

    ``precision`` = hex digits kept, raised by one per leading ``f`` as in the spec's algorithm
    (``None``: exact, 14 digits).

    >>> probability_to_threshold(0.01, 5), probability_to_threshold(0.25), probability_to_threshold(1.0)
    ('fd70a4', 'c', '0')
    """
    p = float(probability)
    if not (2.0 ** -56 <= p <= 1.0):
        raise TraceKitError(f"sampling probability must be in [2**-56, 1], got {probability!r}")
    if p == 1.0:
        return "0"
    t = MAX_THRESHOLD - round(p * MAX_THRESHOLD)
    if precision is not None:
        _, exp = math.frexp(p)
        digits = max(1, min(14, int(precision) + exp // -4))
        unit = 16 ** (14 - digits)
        t = min(((t + unit // 2) // unit) * unit, MAX_THRESHOLD - unit)
    if t == 0:
        return "0"
    return format(t, "014x").rstrip("0") or "0"


def trace_randomness(trace_ids: Sequence[str] | pd.Series,
                     trace_states: Sequence[Any] | pd.Series | None = None) -> np.ndarray:
    """56-bit randomness per trace as uint64: ``ot=rv:`` when present, else the trace id's last 14 hex digits.

    >>> trace_randomness(["0" * 18 + "ffffffffffffff"]).tolist()
    [72057594037927935]
    """
    ids = trace_ids if isinstance(trace_ids, pd.Series) else pd.Series(list(trace_ids), dtype=object)
    ids = ids.astype(STRING).reset_index(drop=True)
    if not len(ids):
        return np.zeros(0, dtype=np.uint64)
    bad = ~ids.str.fullmatch(r"[0-9a-fA-F]{14,}").fillna(False).to_numpy(dtype=bool)
    if bad.any():
        raise TraceKitError(f"trace id {ids[int(np.flatnonzero(bad)[0])]!r} has no 14 hex digits of randomness")
    tails = ids.str[-14:]
    if trace_states is not None:
        ts = trace_states if isinstance(trace_states, pd.Series) else pd.Series(list(trace_states), dtype=object)
        ts = ts.astype(STRING).reset_index(drop=True)
        rv = ts.str.extract(r"(?:^|,)[ \t]*ot=(?:[^,;]*;)*rv:([0-9a-f]{14})(?:[;,]|$)", expand=False)
        tails = rv.fillna(tails)
    tails = tails.to_numpy(dtype=object)
    raw = np.frombuffer(bytes.fromhex("".join(tails)), dtype=np.uint8).reshape(-1, 7).astype(np.uint64)
    shifts = np.arange(48, -1, -8, dtype=np.uint64)
    return np.bitwise_or.reduce(raw << shifts, axis=1)


def _thresholds(trace_states: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised ``th`` parsing: (probability float array, NaN where absent/bad; note object array)."""
    ts = trace_states.astype(STRING)
    member = ts.str.extract(r"(?:^|,)[ \t]*ot=([^,]*)", expand=False)
    th = member.str.extract(r"(?:^|;)th:([^;]*)", expand=False)
    prob = np.full(len(ts), np.nan)
    note = np.full(len(ts), None, dtype=object)
    present = th.notna().to_numpy()
    if present.any():
        uniq = pd.unique(th[present])
        table = {}
        for u in uniq:
            table[u] = threshold_probability(u) if _HEX.fullmatch(u) else np.nan
        vals = th[present].map(table).to_numpy(dtype=float)
        prob[present] = vals
        bad = np.zeros(len(ts), dtype=bool)
        bad[present] = np.isnan(vals)
        note[bad] = "malformed ot=th value in tracestate"
    return prob, note


# ============================================================================ per-trace table

_NEEDED = ("trace_id", "span_id", "parent_id", "service", "name", "start", "duration_ms", "status", "fault")


def _check_spans(spans: Any, what: str = "spans") -> None:
    if not isinstance(spans, pd.DataFrame):
        raise TraceKitError(f"{what} must be a spans DataFrame, got {type(spans).__name__}")
    missing = [c for c in _NEEDED if c not in spans.columns]
    if missing:
        raise TraceKitError(f"{what} DataFrame is missing columns needed here: {', '.join(missing)}")


def _as_list(by: Any) -> list[str]:
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    return list(by)


def _status_class(http_status: pd.Series, failed: np.ndarray) -> pd.Series:
    hs = pd.array(http_status, dtype="Int64")
    cls = pd.Series((hs // 100).astype("string"), dtype=STRING) + "xx"
    fallback = np.where(failed, "error", "ok")
    return cls.fillna(pd.Series(fallback, index=cls.index, dtype=STRING)).astype(STRING)


def _dict_get(values: Iterable[Any], keys: Sequence[str]) -> list[Any]:
    out = []
    for d in values:
        v = None
        if type(d) is dict or (d is not None and isinstance(d, Mapping)):
            for k in keys:
                v = d.get(k)
                if v is not None:
                    break
        out.append(v)
    return out


def _isin(values: pd.Series | np.ndarray, among: pd.Series | np.ndarray) -> np.ndarray:
    """Fast membership for text (hash table over object arrays; Arrow-string ``isin`` loops in Python)."""
    a = np.asarray(values, dtype=object)
    b = np.asarray(among, dtype=object)
    return pd.Index(a, dtype=object).isin(b)


def _trace_table(spans: pd.DataFrame, by: Sequence[str] = (), what: str = "spans") -> pd.DataFrame:
    """One row per trace: root span fields, ``failed``, ``root_failed``, ``n_spans`` and the ``by`` keys."""
    _check_spans(spans, what)
    cols = ["trace_id", "span_id", "service", "name", "start", "duration_ms"]
    extra = [c for c in ("http_status", "trace_state", "attributes", "resource") if c in spans.columns]
    for b in by:
        if b not in ("status_class", "route") and b not in cols + extra:
            if b not in spans.columns:
                raise TraceKitError(f"cannot stratify by {b!r}: not a column of {what} and not one of "
                                    "'status_class', 'route'")
            extra.append(b)
    if len(spans) == 0:
        out = pd.DataFrame({c: spans[c].iloc[:0] for c in cols + extra})
        out["failed"] = np.zeros(0, bool)
        out["root_failed"] = np.zeros(0, bool)
        out["n_spans"] = np.zeros(0, np.int64)
        for b in by:
            if b in ("status_class", "route"):
                out[b] = pd.Series([], dtype=STRING)
        return out
    tcode, tuniq = pd.factorize(spans["trace_id"], sort=True)  # codes in trace-id order
    n_tr = len(tuniq)
    failed = ((spans["status"] == "error").fillna(False).to_numpy(dtype=bool)
              | spans["fault"].fillna(False).to_numpy(dtype=bool))
    is_root = spans["parent_id"].isna().to_numpy()
    # orphans (parent id not a span id of the same trace) only matter in traces without a true root
    orphan = np.zeros(len(spans), dtype=bool)
    rootless = (np.bincount(tcode, weights=is_root, minlength=n_tr) == 0)[tcode]
    if rootless.any():
        sub = spans.loc[rootless, ["span_id", "parent_id"]]
        m = len(sub)
        idcode, _ = pd.factorize(pd.concat([sub["span_id"], sub["parent_id"]], ignore_index=True))
        width = np.int64(idcode.max() + 2)
        tc = tcode[rootless].astype(np.int64)
        orphan[rootless] = ~pd.Series(tc * width + idcode[m:]).isin(tc * width + idcode[:m]).to_numpy()
    rank = np.where(is_root, 0, np.where(orphan, 1, 2))
    start_ns = spans["start"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    order = np.lexsort((start_ns, rank, tcode))
    sc = tcode[order]
    first = order[np.r_[True, sc[1:] != sc[:-1]]]  # root row position per trace, by trace code
    any_failed = np.bincount(tcode, weights=failed, minlength=n_tr) > 0
    n_spans = np.bincount(tcode, minlength=n_tr)
    out_order = np.lexsort((tcode[first], start_ns[first]))  # by root start, then trace id
    rows = first[out_order]
    out = spans[cols + extra].iloc[rows].reset_index(drop=True)
    out["trace_id"] = out["trace_id"].astype(STRING)
    out["root_failed"] = failed[rows]
    out["failed"] = any_failed[tcode[rows]]
    out["n_spans"] = n_spans[tcode[rows]].astype(np.int64)
    if "status_class" in by:
        hs = out["http_status"] if "http_status" in out.columns else pd.Series([pd.NA] * len(out))
        out["status_class"] = _status_class(hs.reset_index(drop=True), out["root_failed"].to_numpy())
    if "route" in by:
        attrs = out["attributes"] if "attributes" in out.columns else [None] * len(out)
        route = pd.Series(_dict_get(attrs, ("http.route",)), dtype=STRING)
        out["route"] = route.fillna(out["name"].astype(STRING)).astype(STRING)
    return out


# ============================================================================ X-Ray rules and statistics

_RULE_FIELDS = {  # canonical (snake_case, as tk.fetch_xray_sampling) <- API name
    "rule_name": "RuleName", "priority": "Priority", "fixed_rate": "FixedRate",
    "reservoir_size": "ReservoirSize", "service_name": "ServiceName", "service_type": "ServiceType",
    "host": "Host", "http_method": "HTTPMethod", "url_path": "URLPath", "resource_arn": "ResourceARN",
    "attributes": "Attributes",
}
_MATCHERS = ("service_name", "service_type", "host", "http_method", "url_path", "resource_arn")
_STAT_FIELDS = {"rule_name": "RuleName", "timestamp": "Timestamp", "request_count": "RequestCount",
                "sampled_count": "SampledCount", "borrow_count": "BorrowCount"}


def _load_json(obj: Any) -> tuple[Any, str | None]:
    if isinstance(obj, (str, Path)):
        path = Path(obj)
        try:
            text = path.read_text()
        except OSError as exc:
            raise TraceKitError(f"cannot read {path}: {exc}") from None
        try:
            return json.loads(text), str(path)
        except json.JSONDecodeError as exc:
            raise TraceFormatError(f"not JSON: {exc.msg} at line {exc.lineno}", file=str(path)) from None
    return obj, None


def _local_rule(rule: Mapping[str, Any], i: int, file: str | None, where: str) -> dict:
    if not isinstance(rule, Mapping):
        raise TraceFormatError("a local sampling rule must be a JSON object", file=file, record=where)
    for k in ("fixed_target", "rate"):
        if k not in rule:
            raise TraceFormatError(f"local sampling rule has no {k!r}", file=file, record=where)
    return {"rule_name": rule.get("description") or where, "priority": i,
            "fixed_rate": rule["rate"], "reservoir_size": rule["fixed_target"],
            "service_name": rule.get("service_name", "*"), "service_type": "*",
            "host": rule.get("host", "*"), "http_method": rule.get("http_method", "*"),
            "url_path": rule.get("url_path", "*"), "resource_arn": "*", "attributes": {}}


def xray_rules_frame(rules: Any) -> pd.DataFrame:
    """Normalise X-Ray sampling rules to one row per rule, in the order X-Ray applies them.

    Accepts a DataFrame (API field names such as ``RuleName``/``FixedRate`` or the snake_case
    columns of ``tk.fetch_xray_sampling``), a GetSamplingRules response (``SamplingRuleRecords``),
    a list of rules or rule records, an SDK local rules file (``version``/``rules``/``default`` with
    ``fixed_target``/``rate``; its rules apply in file order, then the default), an object with a
    ``rules`` attribute, or a path to a JSON file. Matchers that are absent match anything (``*``).
    Sorted by priority, then rule name.

    >>> r = xray_rules_frame({"version": 2, "default": {"fixed_target": 1, "rate": 0.05}, "rules": []})
    >>> r[["rule_name", "priority", "reservoir_size", "fixed_rate"]].values.tolist()
    [['Default', 10000, 1, 0.05]]
    """
    if hasattr(rules, "rules") and not isinstance(rules, (pd.DataFrame, Mapping)):
        rules = rules.rules
    obj, file = _load_json(rules)
    rows: list[dict]
    if isinstance(obj, pd.DataFrame):
        df = obj.rename(columns={v: k for k, v in _RULE_FIELDS.items()})
        if "rule_name" not in df.columns:
            raise TraceKitError("sampling rules DataFrame needs a RuleName (or rule_name) column")
        rows = df.to_dict("records")
        for i, r in enumerate(rows):
            for k in ("fixed_rate", "reservoir_size", "priority"):
                if k not in r or r[k] is None or (not isinstance(r[k], str) and pd.isna(r[k])):
                    raise TraceKitError(f"sampling rule {r.get('rule_name')!r} (row {i}) has no {_RULE_FIELDS[k]}")
    elif isinstance(obj, Mapping) and "SamplingRuleRecords" in obj:
        rows = _api_rules(obj["SamplingRuleRecords"], file, "SamplingRuleRecords")
    elif isinstance(obj, Mapping) and ("default" in obj or "rules" in obj):
        rows = []
        for i, rule in enumerate(obj.get("rules") or []):
            rows.append(_local_rule(rule, i + 1, file, f"rules[{i}]"))
        if "default" in obj:
            d = dict(obj["default"])
            d.setdefault("description", "Default")
            rows.append(_local_rule(d, 10000, file, "default"))
    elif isinstance(obj, Mapping) and "RuleName" in obj:
        rows = _api_rules([obj], file, "rule")
    elif isinstance(obj, (list, tuple)):
        rows = _api_rules(obj, file, "rules")
    else:
        raise TraceFormatError("not X-Ray sampling rules (expected SamplingRuleRecords, a local rules file "
                               f"with version/rules/default, or a DataFrame); got {type(obj).__name__}",
                               file=file)
    def missing(v: Any) -> bool:
        return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA

    n = len(rows)
    try:
        prio = [int(r.get("priority")) for r in rows]
        rate = [float(r.get("fixed_rate")) for r in rows]
        res = [int(r.get("reservoir_size")) for r in rows]
    except (TypeError, ValueError) as exc:
        raise TraceFormatError(f"sampling rules need numeric Priority, FixedRate and ReservoirSize ({exc})",
                               file=file) from None
    names = [str(r.get("rule_name")) for r in rows]
    for i in range(n):
        if not (0 <= rate[i] <= 1) or res[i] < 0:
            raise TraceFormatError(f"sampling rule {names[i]!r} has FixedRate {rate[i]} / ReservoirSize {res[i]} "
                                   "(need 0 <= FixedRate <= 1, ReservoirSize >= 0)", file=file)
    order = sorted(range(n), key=lambda i: (prio[i], names[i]))
    data: dict[str, Any] = {
        "rule_name": pd.array([names[i] for i in order], dtype=STRING),
        "priority": np.array([prio[i] for i in order], dtype=np.int64),
        "fixed_rate": np.array([rate[i] for i in order], dtype=np.float64),
        "reservoir_size": np.array([res[i] for i in order], dtype=np.int64)}
    for k in _MATCHERS:
        vals = [rows[i].get(k) for i in order]
        data[k] = pd.array(["*" if missing(v) else str(v) for v in vals], dtype=STRING)
    data["attributes"] = [dict(rows[i]["attributes"]) if isinstance(rows[i].get("attributes"), Mapping) else {}
                          for i in order]
    out = pd.DataFrame(data)
    return out[list(_RULE_FIELDS)]


def _api_rules(records: Any, file: str | None, where: str) -> list[dict]:
    rows = []
    if not isinstance(records, (list, tuple)):
        raise TraceFormatError(f"{where} must be a list", file=file)
    for i, rec in enumerate(records):
        rec_where = f"{where}[{i}]"
        rule = rec.get("SamplingRule", rec) if isinstance(rec, Mapping) else None
        if not isinstance(rule, Mapping):
            raise TraceFormatError("a sampling rule must be a JSON object", file=file, record=rec_where)
        for k in ("RuleName", "Priority", "FixedRate", "ReservoirSize"):
            if k not in rule and k != "RuleName" or (k == "RuleName" and not (rule.get("RuleName") or rule.get("RuleARN"))):
                raise TraceFormatError(f"sampling rule has no {k}", file=file, record=rec_where)
        rows.append({k: rule.get(v) for k, v in _RULE_FIELDS.items()}
                    | {"rule_name": rule.get("RuleName") or str(rule.get("RuleARN")).rsplit("/", 1)[-1]})
    return rows


def xray_stats_frame(stats: Any) -> pd.DataFrame:
    """Normalise GetSamplingStatisticSummaries to rule_name, timestamp (UTC), request/sampled/borrow counts.

    Accepts a DataFrame (API or snake_case names), the response (``SamplingStatisticSummaries``),
    a list of summaries, an object with a ``stats`` attribute, or a path to a JSON file.
    ``Timestamp`` is the start of the window; epoch seconds or datetimes.

    >>> s = xray_stats_frame([{"RuleName": "Default", "Timestamp": 1530923100.0,
    ...                        "RequestCount": 40, "SampledCount": 6, "BorrowCount": 0}])
    >>> s[["rule_name", "request_count", "sampled_count"]].values.tolist(), str(s.loc[0, "timestamp"])
    ([['Default', 40, 6]], '2018-07-07 00:25:00+00:00')
    """
    if hasattr(stats, "stats") and not isinstance(stats, (pd.DataFrame, Mapping)):
        stats = stats.stats
    obj, file = _load_json(stats)
    if isinstance(obj, Mapping) and "SamplingStatisticSummaries" in obj:
        obj = obj["SamplingStatisticSummaries"]
    if isinstance(obj, (list, tuple)):
        obj = pd.DataFrame(list(obj))
    if not isinstance(obj, pd.DataFrame):
        raise TraceFormatError("not X-Ray sampling statistics (expected SamplingStatisticSummaries or a "
                               f"DataFrame); got {type(obj).__name__}", file=file)
    df = obj.rename(columns={v: k for k, v in _STAT_FIELDS.items()})
    missing = [_STAT_FIELDS[k] for k in ("rule_name", "timestamp", "request_count", "sampled_count")
               if k not in df.columns]
    if missing:
        raise TraceFormatError(f"sampling statistics lack {', '.join(missing)}", file=file)
    out = pd.DataFrame({"rule_name": df["rule_name"].astype(STRING)})
    ts = df["timestamp"]
    if pd.api.types.is_numeric_dtype(ts):
        out["timestamp"] = pd.to_datetime(ts.astype("float64") * 1e9, unit="ns", utc=True).astype(TIMESTAMP)
    else:
        out["timestamp"] = pd.to_datetime(ts, utc=True).astype(TIMESTAMP)
    for k in ("request_count", "sampled_count", "borrow_count"):
        col = df[k] if k in df.columns else 0
        out[k] = pd.to_numeric(pd.Series(col, index=df.index)).fillna(0).astype("int64")
    bad = out[(out["sampled_count"] > out["request_count"]) | (out["request_count"] < 0)]
    if len(bad):
        r = bad.iloc[0]
        raise TraceFormatError(f"sampling statistics for rule {r['rule_name']!r} at {r['timestamp']} have "
                               f"SampledCount {r['sampled_count']} > RequestCount {r['request_count']}", file=file)
    return out.sort_values(["rule_name", "timestamp"], kind="stable").reset_index(drop=True)


def _wildcard_regex(pattern: str) -> str:
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in str(pattern))


def _wild_match(pattern: Any, values: pd.Series) -> np.ndarray:
    """Case-insensitive X-Ray wildcard match (``*`` any run, ``?`` one character); a missing value
    matches only a pattern made of ``*``."""
    pattern = "*" if pattern is None or (not isinstance(pattern, str) and pd.isna(pattern)) else str(pattern)
    if set(pattern) <= {"*"}:
        return np.ones(len(values), dtype=bool)
    rx = re.compile(_wildcard_regex(pattern), re.IGNORECASE | re.DOTALL)
    return values.astype(STRING).str.fullmatch(rx).fillna(False).to_numpy(dtype=bool)


def _needed_fields(rules: pd.DataFrame) -> set[str]:
    need = {m for m in _MATCHERS
            if any(not (p is None or p is pd.NA or set(str(p)) <= {"*"}) for p in rules[m].tolist())}
    if any(bool(a) for a in rules["attributes"].tolist()):
        need.add("_attrs")
    return need


def _request_fields(roots: pd.DataFrame, need: set[str] | None = None) -> pd.DataFrame:
    """What X-Ray rules match on, read from each trace's root span (only the ``need``-ed fields)."""
    n = len(roots)
    if need is not None and not need - {"service_name"}:
        # only ServiceName (or nothing) is matched: the other fields are never read
        return pd.DataFrame({"service_name": roots["service"].astype(STRING).reset_index(drop=True)})
    attrs = roots["attributes"].tolist() if "attributes" in roots.columns else [None] * n
    res = roots["resource"].tolist() if "resource" in roots.columns else [None] * n
    method = _dict_get(attrs, ("http.request.method", "http.method"))
    url = _dict_get(attrs, ("http.request.url", "url.full", "http.url"))
    path = _dict_get(attrs, ("url.path", "http.target"))
    host = _dict_get(attrs, ("server.address", "http.host", "net.host.name"))
    for i in range(n):
        if (path[i] is None or host[i] is None) and isinstance(url[i], str) and url[i]:
            parts = urlsplit(url[i])
            path[i] = path[i] if path[i] is not None else (parts.path or "/")
            host[i] = host[i] if host[i] is not None else parts.hostname
    stype = _dict_get(res, ("origin", "cloud.platform"))
    stype = [s if s is not None else a for s, a in zip(stype, _dict_get(attrs, ("origin",)), strict=True)]
    arn = _dict_get(attrs, ("resource_arn", "aws.resource_arn", "cloud.resource_id"))
    arn = [a if a is not None else r for a, r in zip(arn, _dict_get(res, ("resource_arn", "cloud.resource_id")), strict=True)]

    def s(v: list) -> pd.Series:
        return pd.Series([None if x is None else str(x) for x in v], dtype=STRING)

    return pd.DataFrame({"service_name": roots["service"].astype(STRING).reset_index(drop=True),
                         "service_type": s(stype), "host": s(host), "http_method": s(method),
                         "url_path": s(path), "resource_arn": s(arn), "_attrs": attrs})


def _match_rules(rules: pd.DataFrame, fields: pd.DataFrame) -> np.ndarray:
    """Index (into ``rules``) of the first matching rule per request, -1 when none matches."""
    n = len(fields)
    out = np.full(n, -1, dtype=np.int64)
    for i, rule in enumerate(rules.itertuples(index=False)):
        todo = out < 0
        if not todo.any():
            break
        ok = todo.copy()
        for m in _MATCHERS:
            pat = getattr(rule, m)
            if ok.any() and not (pat is None or pat is pd.NA or set(str(pat)) <= {"*"}):
                ok &= _wild_match(pat, fields[m])
        for k, pat in (rule.attributes or {}).items():
            vals = pd.Series([a.get(k) if isinstance(a, Mapping) else None for a in fields["_attrs"]], dtype=object)
            vals = vals.map(lambda v: None if v is None else str(v)).astype(STRING)
            ok &= _wild_match(pat, vals)
        out[ok] = i
    return out


def match_xray_rule(rules: Any, *, service: str | None = None, host: str | None = None,
                    method: str | None = None, path: str | None = None, service_type: str | None = None,
                    resource_arn: str | None = None, attributes: Mapping[str, Any] | None = None) -> str | None:
    """Name of the X-Ray sampling rule that applies to one request, or None when no rule matches.

    Rules are tried in priority order (then by name); every matcher must match, with ``*`` for any
    run of characters and ``?`` for one, ignoring case. A request field that is unknown (None)
    only matches ``*``.

    >>> rules = [{"RuleName": "polling", "Priority": 5000, "FixedRate": 0.003, "ReservoirSize": 0,
    ...           "ServiceName": "Scorekeep", "HTTPMethod": "GET", "URLPath": "/api/state/*"},
    ...          {"RuleName": "Default", "Priority": 10000, "FixedRate": 0.05, "ReservoirSize": 1}]
    >>> match_xray_rule(rules, service="Scorekeep", method="get", path="/api/state/42")
    'polling'
    >>> match_xray_rule(rules, service="Scorekeep", method="POST", path="/api/state/42")
    'Default'
    """
    rf = xray_rules_frame(rules)
    roots = pd.DataFrame({"service": pd.Series([service], dtype=STRING)})
    fields = pd.DataFrame({"service_name": pd.Series([service], dtype=STRING),
                           "service_type": pd.Series([service_type], dtype=STRING),
                           "host": pd.Series([host], dtype=STRING), "http_method": pd.Series([method], dtype=STRING),
                           "url_path": pd.Series([path], dtype=STRING),
                           "resource_arn": pd.Series([resource_arn], dtype=STRING), "_attrs": [attributes or {}]})
    del roots
    idx = int(_match_rules(rf, fields)[0])
    return None if idx < 0 else str(rf.loc[idx, "rule_name"])


def _window_length(times: pd.Series, default: pd.Timedelta) -> pd.Timedelta:
    u = np.unique(times.to_numpy(dtype="datetime64[ns]"))
    if len(u) < 2:
        return default
    d = np.diff(u).min()
    return pd.Timedelta(int(d.astype("int64")), unit="ns")


# ============================================================================ sampling_weights

def sampling_weights(spans: pd.DataFrame, *, rules: Any = None, stats: Any = None, rate: Any = None,
                     by: str | Sequence[str] | None = None, stats_window: str | pd.Timedelta = "10s") -> pd.DataFrame:
    """Per-trace inclusion probability and weight (1 / probability), with where each came from.

    Sources, first that applies wins (``weight_source``):

    1. ``otel_threshold``: the root span's tracestate ``ot=th:`` (else another span's);
    2. ``attribute``: a SampleRate-style root attribute (``SampleRate`` = 1-in-N, ``sampling.adjusted_count``);
    3. ``user``: ``rate`` — a probability for every trace, a mapping ``{stratum: probability}``
       over the ``by`` key, or a DataFrame with the ``by`` columns and ``probability``;
    4. ``xray_rule``: the X-Ray rule matched to the trace's root (``rules``); the probability is
       SampledCount / RequestCount of that rule in the window of ``stats`` holding the root's start
       (this is what catches reservoir saturation), or FixedRate for a rule without reservoir;
    5. ``unknown``: probability and weight NaN, ``note`` says why.

    Returns one row per trace: trace_id, service, name, start (root), probability, weight,
    weight_source, rule, note.

    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({"trace_id": ["%032x" % i for i in (1, 2)],
    ...     "span_id": ["a" * 16, "b" * 16], "service": ["api", "web"], "name": ["GET /"] * 2,
    ...     "start": [0, 0], "end": [1, 1]})
    >>> w = sampling_weights(spans, rate={"api": 0.1}, by="service")
    >>> w[["service", "weight", "weight_source"]].values.tolist()
    [['api', 10.0, 'user'], ['web', nan, 'unknown']]
    """
    keys = _as_list(by)
    tt = _trace_table(spans, keys)
    n = len(tt)
    prob = np.full(n, np.nan)
    source = np.full(n, "unknown", dtype=object)
    note = np.full(n, None, dtype=object)
    rule_col = np.full(n, None, dtype=object)

    # 1. OTel thresholds, root first, then any span of the trace
    if "trace_state" in spans.columns and n:
        p_root, note_root = _thresholds(tt["trace_state"]) if "trace_state" in tt.columns else (prob.copy(), note.copy())
        missing_root = np.isnan(p_root) & (note_root == None)  # noqa: E711
        if missing_root.any():
            has = spans["trace_state"].notna()
            if has.any():
                sub = spans.loc[has, ["trace_id", "trace_state"]]
                p_any, _ = _thresholds(sub["trace_state"])
                lowest = pd.Series(p_any, index=sub.index).groupby(sub["trace_id"].astype(STRING)).min()
                fill = tt["trace_id"].map(lowest).to_numpy(dtype=float)
                use = missing_root & ~np.isnan(fill)
                p_root = np.where(use, fill, p_root)
                note_root[use] = "threshold from a non-root span"
        got = ~np.isnan(p_root)
        prob[got] = p_root[got]
        source[got] = "otel_threshold"
        note[got] = note_root[got]
        bad = (note_root == "malformed ot=th value in tracestate") & ~got
        note[bad] = note_root[bad]

    # 2. SampleRate-style attributes
    todo = np.isnan(prob)
    if todo.any() and "attributes" in tt.columns:
        for key in SAMPLE_RATE_KEYS:
            vals = pd.to_numeric(pd.Series(_dict_get(tt["attributes"], (key,)), dtype=object),
                                 errors="coerce").to_numpy(dtype=float)
            ok = todo & np.isfinite(vals) & (vals >= 1)
            prob[ok] = 1.0 / vals[ok]
            source[ok] = "attribute"
            note[ok] = f"root attribute {key}"
            todo &= ~ok

    # 3. user-given rates
    todo = np.isnan(prob)
    if rate is not None and todo.any():
        p_user = _user_rates(tt, rate, keys)
        ok = todo & ~np.isnan(p_user)
        prob[ok] = p_user[ok]
        source[ok] = "user"
        note[ok] = None

    # 4. X-Ray rules (+ statistics)
    todo = np.isnan(prob)
    if rules is not None and todo.any():
        rf = xray_rules_frame(rules)
        sub = tt.loc[todo].reset_index(drop=True)
        idx = _match_rules(rf, _request_fields(sub, _needed_fields(rf)))
        p_x = np.full(len(sub), np.nan)
        n_x = np.full(len(sub), None, dtype=object)
        names = np.where(idx >= 0, rf["rule_name"].to_numpy(dtype=object)[np.maximum(idx, 0)], None)
        n_x[idx < 0] = "no X-Ray rule matches the root"
        fixed = rf["fixed_rate"].to_numpy()[np.maximum(idx, 0)]
        reservoir = rf["reservoir_size"].to_numpy()[np.maximum(idx, 0)]
        pure = (idx >= 0) & (reservoir == 0)
        p_x[pure] = fixed[pure]
        n_x[pure & (fixed == 0)] = "matched rule has FixedRate 0 and no reservoir (trace should not exist)"
        p_x[pure & (fixed == 0)] = np.nan
        need = (idx >= 0) & ~pure
        if need.any():
            if stats is None:
                n_x[need] = "matched rule has a reservoir; its inclusion probability depends on traffic (pass stats=)"
            else:
                st = xray_stats_frame(stats)
                p_w, n_w = _window_ratio(sub.loc[need, "start"], names[need], st, pd.Timedelta(stats_window))
                p_x[need] = p_w
                n_x[need] = n_w
        pos = np.flatnonzero(todo)
        ok = ~np.isnan(p_x)
        prob[pos[ok]] = p_x[ok]
        source[pos[ok]] = "xray_rule"
        note[pos] = np.where(ok, None, n_x)
        rule_col[pos] = names
    still = np.isnan(prob)
    note[still & (note == None)] = "no sampling information (no ot=th, SampleRate, user rate or X-Ray rule)"  # noqa: E711
    out = pd.DataFrame({
        "trace_id": tt["trace_id"].astype(STRING), "service": tt["service"].astype(STRING),
        "name": tt["name"].astype(STRING), "start": tt["start"]})
    for k in keys:
        if k not in out.columns:
            out[k] = tt[k].to_numpy()
    out["probability"] = prob
    out["weight"] = 1.0 / prob
    out["weight_source"] = pd.Series(source, dtype=STRING)
    out["rule"] = pd.Series(rule_col, dtype=STRING)
    out["note"] = pd.Series(note, dtype=STRING)
    return out


def _user_rates(tt: pd.DataFrame, rate: Any, keys: list[str]) -> np.ndarray:
    n = len(tt)

    def check(p: np.ndarray, what: str) -> np.ndarray:
        bad = ~np.isnan(p) & ((p <= 0) | (p > 1))
        if bad.any():
            raise TraceKitError(f"user sampling rate {p[bad][0]!r} ({what}) is not a probability in (0, 1]")
        return p

    if isinstance(rate, (int, float, np.floating, np.integer)) and not isinstance(rate, bool):
        return check(np.full(n, float(rate)), "rate")
    if not keys:
        raise TraceKitError("a per-stratum rate needs by= naming the stratum column(s)")
    if isinstance(rate, pd.DataFrame):
        if "probability" not in rate.columns or any(k not in rate.columns for k in keys):
            raise TraceKitError(f"rate DataFrame needs columns {keys + ['probability']}")
        m = tt[keys].merge(rate[keys + ["probability"]].drop_duplicates(keys), on=keys, how="left")
        return check(m["probability"].to_numpy(dtype=float), "rate DataFrame")
    if isinstance(rate, Mapping):
        if len(keys) == 1:
            lookup = tt[keys[0]].astype(object)
        else:
            lookup = pd.Series(list(zip(*(tt[k].astype(object) for k in keys), strict=True)), dtype=object)
        p = lookup.map(lambda v: rate.get(v, np.nan)).to_numpy(dtype=float)
        return check(p, "rate mapping")
    raise TraceKitError(f"rate must be a probability, a mapping or a DataFrame, got {type(rate).__name__}")


def _window_ratio(starts: pd.Series, rule_names: np.ndarray, st: pd.DataFrame,
                  default_len: pd.Timedelta) -> tuple[np.ndarray, np.ndarray]:
    n = len(starts)
    p = np.full(n, np.nan)
    note = np.full(n, "no sampling statistics window of the matched rule covers the trace's start", dtype=object)
    q = pd.DataFrame({"start": starts.to_numpy(), "rule_name": pd.Series(rule_names, dtype=STRING).to_numpy(),
                      "_i": np.arange(n)})
    for rule, grp in q.groupby("rule_name", sort=False):
        srule = st[st["rule_name"] == rule]
        if srule.empty:
            note[grp["_i"].to_numpy()] = f"no sampling statistics for rule {rule!r}"
            continue
        length = _window_length(srule["timestamp"], default_len)
        t = srule["timestamp"].to_numpy(dtype="datetime64[ns]")
        s = grp["start"].to_numpy(dtype="datetime64[ns]")
        pos = np.searchsorted(t, s, side="right") - 1
        inside = (pos >= 0) & (s < t[np.maximum(pos, 0)] + length.to_timedelta64())
        req = srule["request_count"].to_numpy(dtype=float)[np.maximum(pos, 0)]
        smp = srule["sampled_count"].to_numpy(dtype=float)[np.maximum(pos, 0)]
        ok = inside & (req > 0) & (smp > 0)
        ii = grp["_i"].to_numpy()
        p[ii[ok]] = smp[ok] / req[ok]
        note[ii[ok]] = None
        zero = inside & ~ok
        note[ii[zero]] = "the rule's statistics window says nothing was sampled there"
    return p, note


# ============================================================================ weighted estimates

def weighted_quantile(values: Any, weights: Any, q: float | Sequence[float]) -> np.ndarray | float:
    """Weighted quantile (inverse of the weighted empirical CDF; numpy's ``inverted_cdf``); NaNs dropped.

    >>> weighted_quantile([1.0, 2.0, 3.0], [1.0, 1.0, 8.0], 0.5)
    3.0
    """
    x = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    ok = ~np.isnan(x) & ~np.isnan(w) & (w > 0)
    scalar = np.ndim(q) == 0
    if not ok.any():
        return float("nan") if scalar else np.full(len(q), np.nan)
    r = np.quantile(x[ok], q, weights=w[ok], method="inverted_cdf")
    return float(r) if scalar else np.asarray(r, dtype=float)


_QS = (0.5, 0.95, 0.99)


def _bootstrap(w: np.ndarray, y1: np.ndarray, y2: np.ndarray, d: np.ndarray, n_boot: int,
               rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Poisson bootstrap of totals, two weighted means and weighted root-latency quantiles.

    Traces are put in latency order first (missing latencies last, ``np.argsort``), so every
    resample's weighted CDF is one ``cumsum`` over a contiguous block; the multiplicity matrix
    (resamples × traces, drawn in that order) is processed in blocks of ≤ 2 million cells.
    """
    n = len(w)
    res = {k: np.full(n_boot, np.nan) for k in ("total", "m1", "m2", *(f"q{q}" for q in _QS))}
    if n == 0 or n_boot == 0:
        return res
    order = np.argsort(d, kind="stable")
    w, y1, y2, d = w[order], y1[order], y2[order], d[order]
    n_valid = int((~np.isnan(d)).sum())
    block = max(1, int(2_000_000 // max(n, 1)))
    for b0 in range(0, n_boot, block):
        b1 = min(n_boot, b0 + block)
        mw = rng.poisson(1.0, size=(b1 - b0, n)) * w
        tot = mw.sum(axis=1)
        res["total"][b0:b1] = tot
        with np.errstate(invalid="ignore", divide="ignore"):
            res["m1"][b0:b1] = np.where(tot > 0, mw @ y1 / tot, np.nan)
            res["m2"][b0:b1] = np.where(tot > 0, mw @ y2 / tot, np.nan)
        if n_valid:
            cum = np.cumsum(mw[:, :n_valid], axis=1)
            totd = cum[:, -1]
            for q in _QS:
                k = (cum < (q * totd)[:, None]).sum(axis=1)
                vals = d[np.minimum(k, n_valid - 1)]
                res[f"q{q}"][b0:b1] = np.where(totd > 0, vals, np.nan)
    return res


def _jeffreys_by_weight_class(w: np.ndarray, y: np.ndarray, ci: float, rng: np.random.Generator,
                              draws: int = 4000, max_classes: int = 50) -> tuple[float, float] | None:
    """Interval of a weighted proportion treating each distinct weight as a stratum: the stratum's
    share is drawn from its Jeffreys posterior Beta(x + ½, n − x + ½) and the draws are combined with
    the strata's estimated sizes (Σ weights). Exact Beta quantiles for a single stratum; None when there
    are more than ``max_classes`` distinct weights (e.g. per-window X-Ray ratios over a long period)."""
    from scipy import stats as sst

    if len(w) == 0:
        return None
    cls, inv = np.unique(np.round(w, 9), return_inverse=True)
    if len(cls) > max_classes:
        return None
    n_h = np.bincount(inv).astype(float)
    x_h = np.bincount(inv, weights=y)
    size_h = np.bincount(inv, weights=w)
    a = (1 - ci) / 2
    if len(cls) == 1:
        lo = 0.0 if x_h[0] == 0 else float(sst.beta.ppf(a, x_h[0] + 0.5, n_h[0] - x_h[0] + 0.5))
        hi = 1.0 if x_h[0] == n_h[0] else float(sst.beta.ppf(1 - a, x_h[0] + 0.5, n_h[0] - x_h[0] + 0.5))
        return lo, hi
    r = rng.beta(x_h + 0.5, n_h - x_h + 0.5, size=(draws, len(cls))) @ size_h / size_h.sum()
    return float(np.quantile(r, a)), float(np.quantile(r, 1 - a))


def _kg_interval(w: np.ndarray, y: np.ndarray, ci: float) -> tuple[float, float]:
    """Korn–Graubard interval of a weighted proportion: Clopper–Pearson on the effective sample size
    ``p(1-p) / var`` (linearised variance of the ratio; Kish's size when p is 0 or 1), capped at n."""
    from scipy import stats as sst

    n = len(w)
    if n == 0:
        return float("nan"), float("nan")
    tot = w.sum()
    p = float(w @ y / tot)
    var = float((w ** 2) @ ((y - p) ** 2) / tot ** 2)
    if 0 < p < 1 and var > 0:
        n_eff = min(float(n), p * (1 - p) / var)
    else:
        n_eff = min(float(n), float(tot ** 2 / (w ** 2).sum()))
    x = p * n_eff
    a = (1 - ci) / 2
    lo = 0.0 if x <= 0 else float(sst.beta.ppf(a, x, n_eff - x + 1))
    hi = 1.0 if x >= n_eff else float(sst.beta.ppf(1 - a, x + 1, n_eff - x))
    return lo, hi


def _weights_for(tt: pd.DataFrame, weights: Any) -> np.ndarray:
    if isinstance(weights, pd.DataFrame):
        if "trace_id" not in weights.columns or not ({"weight", "probability"} & set(weights.columns)):
            raise TraceKitError("weights DataFrame needs trace_id and weight (or probability) columns, "
                                "as returned by sampling_weights()")
        col = weights["weight"] if "weight" in weights.columns else 1.0 / weights["probability"]
        s = pd.Series(col.to_numpy(dtype=float), index=weights["trace_id"].astype(STRING).to_numpy())
        s = s[~s.index.duplicated()]
        w = tt["trace_id"].map(s).to_numpy(dtype=float)
    elif isinstance(weights, pd.Series):
        s = weights[~weights.index.duplicated()].astype(float)
        w = tt["trace_id"].map(s).to_numpy(dtype=float)
    elif isinstance(weights, (int, float, np.integer, np.floating)) and not isinstance(weights, bool):
        w = np.full(len(tt), float(weights))
    else:
        raise TraceKitError("weights must be the DataFrame of sampling_weights(), a Series of weights indexed "
                            f"by trace_id, or one number; got {type(weights).__name__}")
    bad = ~np.isnan(w) & ~(w > 0) | np.isinf(w)
    if bad.any():
        raise TraceKitError(f"weights must be positive and finite (1 / inclusion probability); trace "
                            f"{tt['trace_id'].iloc[int(np.flatnonzero(bad)[0])]} has {w[bad][0]!r}")
    return w


def _group_codes(tt: pd.DataFrame, keys: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    if not keys:
        return np.zeros(len(tt), dtype=np.int64), pd.DataFrame(index=[0])
    g = tt.groupby(keys, sort=True, dropna=False)
    codes = g.ngroup().to_numpy()
    labels = g.size().reset_index()[keys]
    return codes, labels


def weighted_summary(spans: pd.DataFrame, weights: Any, by: str | Sequence[str] | None = None, *,
                     ci: float = 0.95, n_boot: int = 400, seed: int = 0, min_traces: int = 30) -> pd.DataFrame:
    """Sampling-corrected request counts, error rates and root-latency percentiles, with intervals.

    ``weights``: the frame of :func:`sampling_weights` (or a Series of weights by trace_id, or one
    number). ``by``: stratum key(s) read at each trace's root — a spans column (``service``,
    ``name``…) or ``status_class`` / ``route``. Without ``by``, one overall row.

    Estimators: ``est_requests`` = Σ weights (Horvitz–Thompson); ``error_rate`` (share of traces
    with any failed span) and ``root_error_rate`` = weighted means (Hájek); ``p50_ms``/``p95_ms``/
    ``p99_ms`` = weighted quantiles of root duration. Each has ``_lo``/``_hi`` columns: percentile
    intervals at level ``ci`` from a seeded Poisson bootstrap over traces (``n_boot`` resamples).
    Error-rate intervals are widened to include a Jeffreys interval by weight class (each distinct
    weight a stratum, its failure share drawn from Beta(x + ½, n − x + ½), combined by estimated
    size; Korn–Graubard when there are more than 50 classes): with few sampled failed traces a
    percentile bootstrap under-covers, and with none it collapses to [0, 0]. On the simulator's
    error-undersampling scenario (1000 traces, 40 seeds) this took the coverage of the population
    error rate from 80 % (bootstrap alone) to 100 %, mean width 0.065 → 0.081.
    ``naive_*`` columns give the unweighted numbers of the same sample; traces with unknown weight
    are counted in ``n_unknown`` and left out of the corrected numbers. ``warning`` says when a
    stratum has too few sampled traces for a number it quotes.

    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({"trace_id": ["%032x" % i for i in range(1, 5)],
    ...     "span_id": ["%016x" % i for i in range(1, 5)], "service": ["api"] * 4,
    ...     "name": ["GET /"] * 4, "start": [0] * 4, "end": [10e6, 20e6, 30e6, 40e6],
    ...     "status": ["ok", "ok", "ok", "error"]})
    >>> w = pd.Series([10.0, 10.0, 10.0, 1.0], index=spans["trace_id"])
    >>> row = weighted_summary(spans, w, n_boot=50).iloc[0]
    >>> float(row["est_requests"]), round(float(row["error_rate"]), 4), float(row["naive_error_rate"])
    (31.0, 0.0323, 0.25)
    """
    keys = _as_list(by)
    if not 0 < ci < 1:
        raise TraceKitError(f"ci must be in (0, 1), got {ci!r}")
    tt = _trace_table(spans, keys)
    w_all = _weights_for(tt, weights)
    codes, labels = _group_codes(tt, keys)
    rng = np.random.default_rng(seed)
    a = (1 - ci) / 2
    failed_all = tt["failed"].to_numpy(dtype=float)
    rfailed_all = tt["root_failed"].to_numpy(dtype=float)
    d_all = tt["duration_ms"].to_numpy(dtype=float)
    rows = []
    for gi in range(len(labels)):
        sel = codes == gi
        known = sel & ~np.isnan(w_all)
        w = w_all[known]
        y1, y2, d = failed_all[known], rfailed_all[known], d_all[known]
        row: dict[str, Any] = {}
        row["n_traces"] = int(sel.sum())
        row["n_unknown"] = int(sel.sum() - known.sum())
        row["n_failed"] = int(failed_all[sel].sum())
        tot = float(w.sum()) if len(w) else float("nan")
        boot = _bootstrap(w, y1, y2, d, n_boot, rng)

        def put(name: str, value: float, samples: np.ndarray, row: dict[str, Any] = row) -> None:
            row[name] = value
            fin = samples[~np.isnan(samples)]
            row[f"{name}_lo"] = float(np.quantile(fin, a)) if len(fin) else float("nan")
            row[f"{name}_hi"] = float(np.quantile(fin, 1 - a)) if len(fin) else float("nan")

        put("est_requests", tot if len(w) else 0.0, boot["total"])
        put("error_rate", float(w @ y1 / tot) if len(w) else float("nan"), boot["m1"])
        put("root_error_rate", float(w @ y2 / tot) if len(w) else float("nan"), boot["m2"])
        for name, y in (("error_rate", y1), ("root_error_rate", y2)):  # widen for rare failures
            if not len(w):
                continue
            lo, hi = _jeffreys_by_weight_class(w, y, ci, rng) or _kg_interval(w, y, ci)
            row[f"{name}_lo"] = float(np.nanmin([row[f"{name}_lo"], lo]))
            row[f"{name}_hi"] = float(np.nanmax([row[f"{name}_hi"], hi]))
        qs = weighted_quantile(d, w, list(_QS)) if len(w) else np.full(3, np.nan)
        for q, v in zip(_QS, qs, strict=True):
            put(f"p{int(q * 100)}_ms", float(v), boot[f"q{q}"])
        ds = d_all[sel]
        row["naive_error_rate"] = float(failed_all[sel].mean()) if sel.any() else float("nan")
        row["naive_root_error_rate"] = float(rfailed_all[sel].mean()) if sel.any() else float("nan")
        nq = np.quantile(ds[~np.isnan(ds)], _QS, method="inverted_cdf") if (~np.isnan(ds)).any() else [np.nan] * 3
        for q, v in zip(_QS, nq, strict=True):
            row[f"naive_p{int(q * 100)}_ms"] = float(v)
        row["warning"] = _summary_warning(len(w), int((~np.isnan(d)).sum()), int(y1.sum()), row["n_unknown"],
                                          min_traces)
        rows.append(row)
    out = pd.DataFrame(rows)
    if keys:
        out = pd.concat([labels.reset_index(drop=True), out], axis=1)
    out["warning"] = out["warning"].astype(STRING) if len(out) else pd.Series([], dtype=STRING)
    return out


def _summary_warning(n: int, n_dur: int, n_failed: int, n_unknown: int, min_traces: int) -> str | None:
    msgs = []
    if n == 0:
        msgs.append("no sampled traces with a known inclusion probability: nothing can be estimated")
    else:
        if n < min_traces:
            msgs.append(f"only {n} sampled traces (< {min_traces}): every number here is rough")
        if n_dur < 100:
            msgs.append(f"p99 rests on {n_dur} sampled latencies (< 100)")
        if n_dur < 20:
            msgs.append(f"p95 rests on {n_dur} sampled latencies (< 20)")
        if n_failed < 5:
            msgs.append(f"only {n_failed} sampled failed traces: the error-rate interval is unreliable")
    if n_unknown:
        msgs.append(f"{n_unknown} traces with unknown inclusion probability left out of the corrected numbers")
    return "; ".join(msgs) or None


# ============================================================================ statistics

def g_test(observed: Any, expected: Any, ddof: int = 0) -> tuple[float, float]:
    """G-test of goodness of fit: ``G = 2 Σ O ln(O / E)`` and its chi-square p-value (k - 1 - ddof dof).

    >>> g, p = g_test([10, 20, 30], [20, 20, 20])
    >>> round(g, 4), round(p, 4)
    (10.465, 0.0053)
    """
    from scipy import stats

    o = np.asarray(observed, dtype=float)
    e = np.asarray(expected, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(o > 0, o * np.log(o / e), 0.0)
    g = float(2.0 * terms.sum())
    dof = len(o) - 1 - ddof
    return g, float(stats.chi2.sf(g, dof)) if dof > 0 else float("nan")


def chi2_test(observed: Any, expected: Any, ddof: int = 0) -> tuple[float, float]:
    """Pearson chi-square goodness of fit: ``Σ (O - E)² / E`` and its p-value.

    >>> round(chi2_test([10, 20, 30], [20, 20, 20])[0], 4)
    10.0
    """
    from scipy import stats

    o = np.asarray(observed, dtype=float)
    e = np.asarray(expected, dtype=float)
    x = float(((o - e) ** 2 / e).sum())
    dof = len(o) - 1 - ddof
    return x, float(stats.chi2.sf(x, dof)) if dof > 0 else float("nan")


# ============================================================================ sampling_bias

@dataclass(frozen=True)
class SamplingBias:
    """Result of :func:`sampling_bias`.

    ``tests``: one row per test (dimension, test, statistic, dof, p_value, effect_size,
    effect_name, n_sample, n_population, biased). ``strata``: one row per dimension × stratum
    (sample and population counts and shares, ratio of shares, z, p_value, representation, error
    rates). ``windows``: one row per time window examined (source, rule, start, end, requested,
    sampled, ratio, baseline_ratio, flag). ``findings``: plain-language rows (kind, severity,
    dimension, subject, start, end, value, message).
    """

    tests: pd.DataFrame
    strata: pd.DataFrame
    windows: pd.DataFrame
    findings: pd.DataFrame

    @property
    def biased(self) -> bool:
        """True when any finding has severity ``high``."""
        return bool((self.findings["severity"] == "high").any()) if len(self.findings) else False


_FINDING_COLUMNS = ["kind", "severity", "dimension", "subject", "start", "end", "value", "message"]
_TEST_COLUMNS = ["dimension", "test", "statistic", "dof", "p_value", "effect_size", "effect_name",
                 "n_sample", "n_population", "biased"]
_WINDOW_COLUMNS = ["source", "rule", "start", "end", "requested", "sampled", "ratio", "baseline_ratio", "flag"]
_TIME_COLUMNS = ("time", "timestamp", "minute", "window_start", "start")


def _finding(kind: str, severity: str, message: str, *, dimension: Any = None, subject: Any = None,
             start: Any = None, end: Any = None, value: float = float("nan")) -> dict:
    return {"kind": kind, "severity": severity, "dimension": dimension, "subject": subject,
            "start": start, "end": end, "value": value, "message": message}


def _pct(x: float) -> str:
    if not np.isfinite(x):
        return "n/a"
    return f"{100 * x:.3g}%"


def _population_frame(population: Any, keys: list[str]) -> tuple[str, pd.DataFrame | None]:
    """('spans', trace table) or ('metrics', DataFrame with requests[, errors][, time])."""
    if population is None:
        return "none", None
    if not isinstance(population, pd.DataFrame):
        raise TraceKitError(f"population must be a spans DataFrame or a DataFrame of counts, got "
                            f"{type(population).__name__}")
    if {"trace_id", "span_id"} <= set(population.columns):
        return "spans", _trace_table(population, [k for k in keys if k in population.columns
                                                  or k in ("status_class", "route")], what="population")
    pop = population.copy()
    if "requests" not in pop.columns:
        for alt in ("count", "request_count", "RequestCount"):
            if alt in pop.columns:
                pop = pop.rename(columns={alt: "requests"})
                break
        else:
            raise TraceKitError("population counts need a 'requests' (or 'count') column; optional "
                                "'errors' and a time column (" + ", ".join(_TIME_COLUMNS) + ")")
    if "errors" not in pop.columns:
        for alt in ("errors_5xx", "5xx", "faults"):
            if alt in pop.columns:
                pop = pop.rename(columns={alt: "errors"})
                break
    vals = pd.to_numeric(pop["requests"], errors="coerce")
    if vals.isna().any() or (vals < 0).any():
        bad = int(np.flatnonzero((vals.isna() | (vals < 0)).to_numpy())[0])
        raise TraceKitError(f"population 'requests' must be non-negative numbers (row {bad}: "
                            f"{pop['requests'].iloc[bad]!r})")
    return "metrics", pop


def _pop_time(pop: pd.DataFrame) -> str | None:
    for c in _TIME_COLUMNS:
        if c in pop.columns:
            return c
    return None


def sampling_bias(spans: pd.DataFrame, population: Any = None, *, by: str | Sequence[str] = ("service",),
                  weights: Any = None, latency: Any = None, stats: Any = None,
                  window: str | pd.Timedelta = "1min", test: str = "g", alpha: float = 0.01,
                  ratio_tolerance: float = 1.25, saturation_drop: float = 0.5) -> SamplingBias:
    """Is this sample of traces representative? Tests, effect sizes and plain-language findings.

    ``population`` is the reference: the full spans DataFrame (e.g. a simulator's population),
    or counts per stratum — a DataFrame with the ``by`` columns, ``requests``, optionally
    ``errors`` (e.g. 5xx) and a time column (``time``/``timestamp``/``minute``) as from
    load-balancer or CloudWatch metrics. Per dimension in ``by`` (read at each trace's root:
    a spans column, ``status_class`` or ``route``): a goodness-of-fit test of the sample's trace
    counts against the population shares (``test="g"`` G-test or ``"chi2"``), Cramér's V, and
    per stratum the ratio of shares with a z-test; errors: binomial test of the sample's root
    error share against the population's; latency: Kolmogorov–Smirnov of root durations against
    the population's (two-sample) or against ``latency`` (a histogram DataFrame with ``le`` upper
    bounds in ms and ``count``, tested at the bin edges; or an array of durations). Time:
    windows where sampled/requested fell well below its usual level (reservoir saturation) and
    windows with no traces at all although some were expected (collection gaps), from the
    population's time column or from X-Ray ``stats`` (per rule); without either, gaps are judged
    from the sample's own rate. Services present in the population but absent from the sample are
    reported. ``weights`` (from :func:`sampling_weights`) add corrected shares and error rates.

    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({"trace_id": ["%032x" % i for i in range(1, 41)],
    ...     "span_id": ["%016x" % i for i in range(1, 41)], "service": ["api"] * 30 + ["web"] * 10,
    ...     "name": ["GET /"] * 40, "start": [0] * 40, "end": [1] * 40})
    >>> pop = pd.DataFrame({"service": ["api", "web", "db"], "requests": [500, 500, 10]})
    >>> b = sampling_bias(spans, pop, by="service")
    >>> b.findings["kind"].tolist()
    ['over_represented', 'under_represented', 'missing_service']
    """
    keys = _as_list(by)
    if test not in ("g", "chi2"):
        raise TraceKitError(f"test must be 'g' or 'chi2', got {test!r}")
    tt = _trace_table(spans, keys)
    kind, pop = _population_frame(population, keys)
    w = _weights_for(tt, weights) if weights is not None else None
    pop_services: set = set()
    if kind == "spans":
        pop_services = set(population["service"].dropna().astype(str))
    elif kind == "metrics" and "service" in pop.columns:
        pop_services = set(pop.loc[pd.to_numeric(pop["requests"]) > 0, "service"].dropna().astype(str))
    return _bias_core(tt, kind, pop, set(spans["service"].dropna().astype(str)), pop_services, keys, w,
                      latency, stats, pd.Timedelta(window), test, alpha, ratio_tolerance, saturation_drop)


def _bias_core(tt: pd.DataFrame, kind: str, pop: pd.DataFrame | None, sample_services: set, pop_services: set,
               keys: list[str], w: np.ndarray | None, latency: Any, stats: Any, window: pd.Timedelta,
               test: str, alpha: float, ratio_tolerance: float, saturation_drop: float) -> SamplingBias:
    tests: list[dict] = []
    strata: list[pd.DataFrame] = []
    findings: list[dict] = []
    windows: list[pd.DataFrame] = []
    n = len(tt)

    # ---- strata per dimension
    for dim in keys:
        if pop is None:
            break
        if dim not in pop.columns:
            findings.append(_finding("not_tested", "info", f"population has no {dim!r} column; "
                                     f"{dim} was not tested", dimension=dim))
            continue
        s_counts = tt.groupby(dim, dropna=False).size()
        if kind == "spans":
            p_counts = pop.groupby(dim, dropna=False).size().astype(float)
            p_err = pop.groupby(dim, dropna=False)["root_failed"].sum().astype(float)
        else:
            p_counts = pop.groupby(dim, dropna=False)["requests"].sum().astype(float)
            p_err = pop.groupby(dim, dropna=False)["errors"].sum().astype(float) if "errors" in pop.columns else None
        s_counts.index = s_counts.index.astype(object)
        p_counts.index = p_counts.index.astype(object)
        allv = pd.Index(p_counts.index).union(pd.Index(s_counts.index), sort=False)
        o = s_counts.reindex(allv, fill_value=0).to_numpy(dtype=float)
        pc = p_counts.reindex(allv, fill_value=0).to_numpy(dtype=float)
        s_err = tt.groupby(dim, dropna=False)["root_failed"].sum()
        s_err.index = s_err.index.astype(object)
        s_err = s_err.reindex(allv, fill_value=0).to_numpy(dtype=float)
        in_pop = pc > 0
        n_in = o[in_pop].sum()
        share_pop = np.where(in_pop, pc / pc[in_pop].sum() if in_pop.any() else np.nan, 0.0)
        e = n_in * share_pop
        with np.errstate(divide="ignore", invalid="ignore"):
            share_s = o / n_in if n_in else np.full(len(o), np.nan)
            ratio = np.where(in_pop, share_s / share_pop, np.inf)
            z = (o - e) / np.sqrt(e * (1 - share_pop))
        from scipy import stats as sst

        pz = 2 * sst.norm.sf(np.abs(z))
        rep = np.where(~in_pop, "not_in_population",
                       np.where((pz < alpha) & (ratio > ratio_tolerance), "over",
                                np.where((pz < alpha) & (ratio < 1 / ratio_tolerance), "under", "ok")))
        st = pd.DataFrame({"dimension": dim, "stratum": list(allv), "sample_traces": o.astype(np.int64),
                           "population": pc, "expected": e, "sample_share": share_s, "population_share": share_pop,
                           "ratio": ratio, "z": z, "p_value": pz, "representation": rep,
                           "sample_error_rate": np.where(o > 0, s_err / np.maximum(o, 1), np.nan)})
        if p_err is not None:
            p_err.index = p_err.index.astype(object)
            pe = p_err.reindex(allv, fill_value=0).to_numpy(dtype=float)
            st["population_error_rate"] = np.where(pc > 0, pe / np.maximum(pc, 1), np.nan)
        if w is not None:
            known = ~np.isnan(w)
            ws = pd.Series(w[known]).groupby(tt.loc[known, dim].reset_index(drop=True), dropna=False).sum()
            ws.index = ws.index.astype(object)
            wv = ws.reindex(allv, fill_value=0).to_numpy(dtype=float)
            st["weighted_share"] = wv / wv[in_pop].sum() if wv[in_pop].sum() > 0 else np.nan
            st["weighted_ratio"] = np.where(in_pop, st["weighted_share"] / share_pop, np.nan)
        strata.append(st)
        k = int(in_pop.sum())
        if k >= 2 and n_in > 0:
            stat, p = (g_test if test == "g" else chi2_test)(o[in_pop], e[in_pop])
            v = math.sqrt(stat / (n_in * (k - 1)))
            biased = bool(p < alpha)
            tests.append({"dimension": dim, "test": "G-test" if test == "g" else "chi-square", "statistic": stat,
                          "dof": k - 1, "p_value": p, "effect_size": v, "effect_name": "Cramér's V",
                          "n_sample": int(n_in), "n_population": float(pc.sum()), "biased": biased})
        for i, val in enumerate(allv):
            if rep[i] in ("over", "under"):
                findings.append(_finding(
                    f"{rep[i]}_represented", "high" if (ratio[i] > 2 or ratio[i] < 0.5) else "medium",
                    f"{dim} {val!r} is {rep[i]}-represented: {_pct(share_s[i])} of sampled traces vs "
                    f"{_pct(share_pop[i])} of requests (×{ratio[i]:.2f}, p={pz[i]:.2g})"
                    + (f"; weighting restores ×{st['weighted_ratio'].iloc[i]:.2f}" if w is not None else ""),
                    dimension=dim, subject=val, value=float(ratio[i])))
            elif rep[i] == "not_in_population":
                findings.append(_finding("unexpected_stratum", "medium",
                                         f"{dim} {val!r} has {int(o[i])} sampled traces but no requests in the "
                                         "population reference", dimension=dim, subject=val))
        if dim != "service":
            missing = [(v, c) for v, c, oo in zip(allv, pc, o, strict=True) if c > 0 and oo == 0]
            for v, c in missing:
                findings.append(_finding("missing_stratum", "medium" if c * n_in / max(pc.sum(), 1) < 5 else "high",
                                         f"{dim} {v!r} has {c:g} requests in the population but no sampled traces "
                                         f"(about {c * n_in / max(pc.sum(), 1):.1f} expected)",
                                         dimension=dim, subject=v, value=float(c)))

    # ---- services missing
    missing_services = sorted(pop_services - sample_services)
    for sv in missing_services:
        findings.append(_finding("missing_service", "high",
                                 f"service {sv!r} appears in the population but in none of the sampled spans",
                                 dimension="service", subject=sv))

    # ---- errors
    # population spans: share of traces with any failed span; counts: errors / requests vs failed roots
    pop_rate = np.nan
    err_col = "failed" if kind == "spans" else "root_failed"
    if kind == "spans" and len(pop):
        pop_rate = float(pop["failed"].mean())
    elif kind == "metrics" and "errors" in pop.columns and pop["requests"].sum() > 0:
        pop_rate = float(pd.to_numeric(pop["errors"]).sum() / pd.to_numeric(pop["requests"]).sum())
    if np.isfinite(pop_rate) and n:
        from scipy import stats as sst

        k_err = int(tt[err_col].sum())
        s_rate = k_err / n
        if 0 < pop_rate < 1:
            p = float(sst.binomtest(k_err, n, pop_rate).pvalue)
        else:
            p = 0.0 if (k_err > 0) != (pop_rate > 0) else 1.0
        ratio = s_rate / pop_rate if pop_rate > 0 else (np.inf if s_rate > 0 else 1.0)
        biased = bool(p < alpha and (ratio > ratio_tolerance or ratio < 1 / ratio_tolerance))
        tests.append({"dimension": "errors", "test": "binomial", "statistic": s_rate, "dof": np.nan,
                      "p_value": p, "effect_size": ratio, "effect_name": "ratio of error shares",
                      "n_sample": n, "n_population": float(len(pop)) if kind == "spans" else float(pop["requests"].sum()),
                      "biased": biased})
        if biased:
            corrected = ""
            if w is not None:
                known = ~np.isnan(w)
                if known.any():
                    wr = float(w[known] @ tt[err_col].to_numpy(dtype=float)[known] / w[known].sum())
                    corrected = f"; weighted by inclusion probability: {_pct(wr)}"
            word = "under" if ratio < 1 else "over"
            findings.append(_finding(
                f"errors_{word}_sampled", "high",
                f"errors are {word}-sampled: {_pct(s_rate)} of sampled traces failed"
                + (" at the root" if err_col == "root_failed" else "") + f" vs {_pct(pop_rate)} "
                f"of requests (×{ratio:.2f}, p={p:.2g}); uncorrected error rates from this sample are biased"
                + corrected, dimension="errors", value=float(ratio)))

    # ---- latency
    _latency_test(tt, kind, pop, latency, w, alpha, tests, findings)

    # ---- time windows
    if kind in ("spans", "metrics"):
        tw = _population_windows(tt, kind, pop, window)
        if tw is not None:
            windows.append(_flag_windows(tw, alpha, saturation_drop))
    if stats is not None:
        windows.append(_stats_windows(stats, alpha, saturation_drop))
    if not windows or all(x is None for x in windows):
        if n:
            windows.append(_sample_gaps(tt, window, alpha))
    windows = [x for x in windows if x is not None]
    wdf = pd.concat(windows, ignore_index=True) if windows else pd.DataFrame(columns=_WINDOW_COLUMNS)
    findings.extend(_window_findings(wdf))

    tests_df = pd.DataFrame(tests, columns=_TEST_COLUMNS)
    strata_df = pd.concat(strata, ignore_index=True) if strata else pd.DataFrame(
        columns=["dimension", "stratum", "sample_traces", "population", "expected", "sample_share",
                 "population_share", "ratio", "z", "p_value", "representation"])
    findings_df = pd.DataFrame(findings, columns=_FINDING_COLUMNS)
    return SamplingBias(tests_df, strata_df, wdf.reset_index(drop=True), findings_df)


def _latency_test(tt: pd.DataFrame, kind: str, pop: Any, latency: Any, w: Any, alpha: float,
                  tests: list, findings: list) -> None:
    from scipy import stats as sst

    d = tt["duration_ms"].to_numpy(dtype=float)
    d = d[~np.isnan(d)]
    if not len(d):
        return
    ref: np.ndarray | None = None
    if isinstance(latency, pd.DataFrame):
        if not {"le", "count"} <= set(latency.columns):
            raise TraceKitError("a latency histogram needs columns 'le' (upper bound, ms) and 'count'")
        h = latency.sort_values("le")
        le = h["le"].to_numpy(dtype=float)
        cnt = h["count"].to_numpy(dtype=float)
        f_pop = np.cumsum(cnt) / cnt.sum()
        f_s = np.searchsorted(np.sort(d), le, side="right") / len(d)
        diff = f_s - f_pop
        i = int(np.argmax(np.abs(diff)))
        stat = float(abs(diff[i]))
        p = float(sst.kstwo.sf(stat, len(d)))
        tests.append({"dimension": "latency", "test": "KS vs histogram (at bin edges)", "statistic": stat,
                      "dof": np.nan, "p_value": p, "effect_size": stat, "effect_name": "KS D",
                      "n_sample": len(d), "n_population": float(cnt.sum()), "biased": bool(p < alpha)})
        if p < alpha:
            word = "faster" if diff[i] > 0 else "slower"
            findings.append(_finding("latency_shift", "high",
                                     f"sampled traces are {word} than the population: {_pct(f_s[i])} of them finish "
                                     f"within {le[i]:g} ms vs {_pct(f_pop[i])} of requests (KS D={stat:.3f}, p={p:.2g})",
                                     dimension="latency", value=stat))
        return
    if latency is not None:
        ref = np.asarray(latency, dtype=float)
    elif kind == "spans":
        ref = pop["duration_ms"].to_numpy(dtype=float)
    if ref is None:
        return
    ref = ref[~np.isnan(ref)]
    if not len(ref):
        return
    r = sst.ks_2samp(d, ref)
    stat, p = float(r.statistic), float(r.pvalue)
    tests.append({"dimension": "latency", "test": "KS two-sample", "statistic": stat, "dof": np.nan,
                  "p_value": p, "effect_size": stat, "effect_name": "KS D", "n_sample": len(d),
                  "n_population": float(len(ref)), "biased": bool(p < alpha)})
    if p < alpha:
        s95, r95 = np.quantile(d, 0.95), np.quantile(ref, 0.95)
        word = "slower" if s95 > r95 else "faster"
        extra = ""
        if w is not None:
            dd = tt["duration_ms"].to_numpy(dtype=float)
            extra = f"; weighted p95 {weighted_quantile(dd, w, 0.95):.4g} ms"
        findings.append(_finding("latency_shift", "high",
                                 f"sampled traces are {word} than the population: p95 {s95:.4g} ms vs {r95:.4g} ms "
                                 f"(KS D={stat:.3f}, p={p:.2g}){extra}", dimension="latency", value=stat))


def _assign(starts: np.ndarray, window_starts: np.ndarray, length: np.timedelta64) -> np.ndarray:
    pos = np.searchsorted(window_starts, starts, side="right") - 1
    ok = (pos >= 0) & (starts < window_starts[np.maximum(pos, 0)] + length)
    return np.where(ok, pos, -1)


def _population_windows(tt: pd.DataFrame, kind: str, pop: pd.DataFrame, window: pd.Timedelta) -> pd.DataFrame | None:
    if kind == "metrics":
        tcol = _pop_time(pop)
        if tcol is None:
            return None
        times = pd.to_datetime(pop[tcol], utc=True)
        req = pd.to_numeric(pop["requests"]).groupby(times.to_numpy()).sum()
        length = _window_length(pd.Series(req.index), window)
        wstart = pd.DatetimeIndex(req.index).tz_localize(None).to_numpy(dtype="datetime64[ns]") \
            if pd.DatetimeIndex(req.index).tz is not None else req.index.to_numpy(dtype="datetime64[ns]")
        requested = req.to_numpy(dtype=float)
    else:
        if not len(pop):
            return None
        ps = pop["start"].dt.floor(window)
        req = ps.groupby(ps).size()
        wstart = pd.DatetimeIndex(req.index).tz_convert("UTC").tz_localize(None).to_numpy(dtype="datetime64[ns]")
        requested = req.to_numpy(dtype=float)
        length = window
        full = np.arange(wstart.min(), wstart.max() + length.to_timedelta64(), length.to_timedelta64())
        requested = pd.Series(requested, index=wstart).reindex(full, fill_value=0).to_numpy(dtype=float)
        wstart = full
    s = tt["start"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")
    idx = _assign(s, wstart, length.to_timedelta64())
    sampled = np.bincount(idx[idx >= 0], minlength=len(wstart)).astype(float)
    return pd.DataFrame({"source": "population", "rule": None, "start": pd.to_datetime(wstart, utc=True),
                         "end": pd.to_datetime(wstart + length.to_timedelta64(), utc=True),
                         "requested": requested, "sampled": sampled})


def _stats_windows(stats: Any, alpha: float, drop: float) -> pd.DataFrame:
    st = xray_stats_frame(stats)
    parts = []
    for rule, g in st.groupby("rule_name", sort=True):
        length = _window_length(g["timestamp"], pd.Timedelta("10s"))
        parts.append(_flag_windows(pd.DataFrame({
            "source": "xray_stats", "rule": rule, "start": g["timestamp"].to_numpy(),
            "end": (g["timestamp"] + length).to_numpy(),
            "requested": g["request_count"].to_numpy(dtype=float),
            "sampled": g["sampled_count"].to_numpy(dtype=float)}), alpha, drop))
    if not parts:
        return pd.DataFrame(columns=_WINDOW_COLUMNS)
    return pd.concat(parts, ignore_index=True)


def _flag_windows(tw: pd.DataFrame, alpha: float, drop: float) -> pd.DataFrame:
    """Flag saturation (ratio fell below ``drop`` × its median, significantly) and gaps (none sampled
    though some were expected)."""
    from scipy import stats as sst

    tw = tw.copy()
    req = tw["requested"].to_numpy(dtype=float)
    smp = tw["sampled"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(req > 0, smp / req, np.nan)
    base = float(np.nanmedian(ratio)) if np.isfinite(ratio).any() else float("nan")
    base = min(base, 1.0)
    tw["ratio"] = ratio
    tw["baseline_ratio"] = base
    flag = np.full(len(tw), None, dtype=object)
    if np.isfinite(base) and base > 0:
        low_p = sst.binom.cdf(smp, np.maximum(req, 0).astype(np.int64), base)
        low = (req > 0) & (ratio < drop * base) & (low_p < alpha)
        flag[low & (smp > 0)] = "saturation"
        flag[low & (smp == 0)] = "gap"
    tw["flag"] = pd.Series(flag, dtype=STRING).to_numpy()
    tw["flag"] = tw["flag"].astype(STRING)
    tw["rule"] = tw["rule"].astype(STRING)
    tw["source"] = tw["source"].astype(STRING)
    return tw[_WINDOW_COLUMNS]


def _sample_gaps(tt: pd.DataFrame, window: pd.Timedelta, alpha: float) -> pd.DataFrame:
    """Without a population: empty windows between the first and last sampled trace, judged against
    the sample's own mean rate."""
    s = tt["start"].dt.floor(window)
    counts = s.groupby(s).size()
    idx = pd.date_range(counts.index.min(), counts.index.max(), freq=window)
    c = counts.reindex(idx, fill_value=0).to_numpy(dtype=float)
    lam = c.sum() / len(c)
    empty = c == 0
    flag = np.full(len(c), None, dtype=object)
    # a run of k empty windows is a gap when exp(-lam * k) < alpha
    run_id = np.cumsum(~empty)
    for r in np.unique(run_id[empty]):
        members = empty & (run_id == r)
        if math.exp(-lam * members.sum()) < alpha:
            flag[members] = "gap"
    return pd.DataFrame({"source": pd.Series("sample", index=range(len(c)), dtype=STRING),
                         "rule": pd.Series([None] * len(c), dtype=STRING), "start": idx,
                         "end": idx + window, "requested": np.nan, "sampled": c, "ratio": np.nan,
                         "baseline_ratio": np.nan, "flag": pd.Series(flag, dtype=STRING)})


def _window_findings(wdf: pd.DataFrame) -> list[dict]:
    out: list[dict] = []
    if wdf.empty:
        return out
    flagged = wdf["flag"].notna().to_numpy()
    if not flagged.any():
        return out
    # merge consecutive flagged windows with the same source, rule and flag
    key = [f"{a}|{b}|{c}" for a, b, c in zip(wdf["source"].astype(object).fillna(""),
                                               wdf["rule"].astype(object).fillna(""),
                                               wdf["flag"].astype(object).fillna(""), strict=True)]
    starts = wdf["start"].to_numpy()
    ends = wdf["end"].to_numpy()
    i = 0
    m = len(wdf)
    while i < m:
        if not flagged[i]:
            i += 1
            continue
        j = i
        while j + 1 < m and flagged[j + 1] and key[j + 1] == key[i] and starts[j + 1] <= ends[j]:
            j += 1
        seg = wdf.iloc[i:j + 1]
        req, smp = float(seg["requested"].sum()), float(seg["sampled"].sum())
        base = float(seg["baseline_ratio"].iloc[0])
        rule = seg["rule"].iloc[0]
        flag = seg["flag"].iloc[0]
        t0, t1 = seg["start"].iloc[0], seg["end"].iloc[-1]
        span = f"from {pd.Timestamp(t0):%Y-%m-%d %H:%M:%S} to {pd.Timestamp(t1):%H:%M:%S} UTC"
        who = f"rule {rule!r}: " if isinstance(rule, str) else ""
        if flag == "saturation":
            r = smp / req if req else float("nan")
            out.append(_finding(
                "reservoir_saturation", "high",
                f"{who}sampled/requested fell to {_pct(r)} (usually {_pct(base)}) {span} over {req:g} requests — "
                f"the reservoir was saturated; traces from this window are under-represented about "
                f"×{base / r:.1f} in the sample" if r > 0 else f"{who}sampled/requested fell {span}",
                subject=rule if isinstance(rule, str) else None, start=t0, end=t1,
                value=float(r)))
        else:
            if np.isfinite(req) and req > 0:
                msg = (f"{who}no traces {span} although {req:g} requests arrived (about {base * req:.1f} sampled "
                       "traces expected): a collection gap")
            else:
                msg = f"no traces at all {span} although the sample's rate predicts some: a collection gap"
            out.append(_finding("collection_gap", "high", msg, subject=rule if isinstance(rule, str) else None,
                                start=t0, end=t1, value=0.0))
        i = j + 1
    return out


# ============================================================================ simulate_sampling

@dataclass(frozen=True)
class TailRule:
    """A simple tail-sampling rule: keep every failed trace (``keep_errors``) and every trace whose root
    took at least ``slow_ms``; keep the rest with ``probability`` (consistent, by trace-id randomness)."""

    keep_errors: bool = True
    slow_ms: float | None = None
    probability: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= float(self.probability) <= 1.0:
            raise TraceKitError(f"TailRule probability must be in [0, 1], got {self.probability!r}")


@dataclass(frozen=True)
class SimulatedSampling:
    """Result of :func:`simulate_sampling`.

    ``traces``: one row per population trace (trace_id, start, the ``by`` keys, failed,
    root_failed, duration_ms, kept, probability, reason, rule). ``spans``: the kept spans (for the
    probability and tail samplers with their ``ot=th:`` tracestate set). ``strata``: per stratum
    population and kept counts, kept fraction, error rates and p95 (population, kept, weighted).
    ``bias``: :func:`sampling_bias` of the kept sample against the population. ``cost``: recorded
    and scanned traces and their price, with what keeping everything would cost.
    """

    sampler: str
    traces: pd.DataFrame
    spans: pd.DataFrame
    strata: pd.DataFrame
    cost: pd.DataFrame
    _bias_args: tuple = field(default=(), repr=False, compare=False)

    @cached_property
    def bias(self) -> SamplingBias:
        """:func:`sampling_bias` of the kept traces against the population (computed on first use)."""
        return _bias_core(*self._bias_args)

    @property
    def weights(self) -> pd.DataFrame:
        """trace_id, probability, weight, weight_source of the kept traces (for :func:`weighted_summary`)."""
        k = self.traces[self.traces["kept"]]
        src = "xray_rule" if self.sampler == "xray_rules" else "otel_threshold"
        return pd.DataFrame({"trace_id": k["trace_id"].to_numpy(), "probability": k["probability"].to_numpy(),
                             "weight": 1.0 / k["probability"].to_numpy(),
                             "weight_source": pd.Series([src] * len(k), dtype=STRING)})


def simulate_sampling(spans: pd.DataFrame, sampler: Any = None, *, rules: Any = None, probability: float | None = None,
                      tail: TailRule | Mapping[str, Any] | None = None, by: str | Sequence[str] = "service",
                      prices: Mapping[str, float] | None = None, scans_per_trace: float = 1.0, seed: int = 0,
                      alpha: float = 0.01, window: str | pd.Timedelta = "1min") -> SimulatedSampling:
    """What would a sampler keep from this full population of traces, how biased, at what cost?

    The sampler is one of (positionally or by keyword): X-Ray ``rules`` (anything
    :func:`xray_rules_frame` accepts; per rule a reservoir of ReservoirSize traces per second,
    first come first served, then FixedRate of the rest, rules matched at the root in priority
    order); a ``probability`` (an OTel consistent probability sampler: keep when the trace's 56-bit
    randomness ≥ the threshold); or a ``tail`` rule (:class:`TailRule` or a mapping of its fields).
    Each trace gets its exact inclusion probability (for the reservoir:
    (min(n, R) + FixedRate · max(n − R, 0)) / n with n requests of its rule in its second).
    ``prices``: USD per million traces, default ``{"recorded": 5.00, "scanned": 0.50}``;
    ``scans_per_trace``: how often each recorded trace is scanned by queries.

    >>> import tracekit as tk
    >>> ids = ["0" * 18 + "40000000000000", "0" * 18 + "f0000000000000"]  # randomness 0.25, 0.94 of 2**56
    >>> spans = tk.spans_from_columns({"trace_id": ids, "span_id": ["a" * 16, "b" * 16],
    ...     "service": ["api"] * 2, "name": ["GET /"] * 2, "start": [0] * 2, "end": [1] * 2})
    >>> sim = simulate_sampling(spans, 0.25)  # threshold c0000000000000: keep randomness >= 0.75
    >>> sim.traces["kept"].tolist(), sim.spans["trace_state"].tolist()
    ([False, True], ['ot=th:c'])
    >>> round(float(sim.cost.set_index("item").loc["total", "usd"]) * 1e6, 6)  # $5 + $0.50 per million
    5.5
    """
    given = [x for x in (sampler, rules, probability, tail) if x is not None]
    if len(given) != 1:
        raise TraceKitError("simulate_sampling needs exactly one sampler: X-Ray rules, a probability or a tail rule")
    s = given[0]
    keys = _as_list(by)
    tt = _trace_table(spans, keys)
    n = len(tt)
    rng = np.random.default_rng(seed)
    rule_col = np.full(n, None, dtype=object)
    th_str: np.ndarray | None = None
    if isinstance(s, (int, float, np.floating, np.integer)) and not isinstance(s, bool):
        kind = "probability"
        th = probability_to_threshold(float(s))
        t = _threshold_int(th)
        rnd = trace_randomness(tt["trace_id"], tt["trace_state"] if "trace_state" in tt.columns else None)
        kept = rnd >= np.uint64(t)
        prob = np.full(n, threshold_probability(t))
        reason = np.where(kept, "probability", None)
        th_str = np.full(n, th, dtype=object)
    elif isinstance(s, (TailRule, Mapping)) and not (isinstance(s, Mapping) and _looks_like_rules(s)):
        kind = "tail"
        rule = s if isinstance(s, TailRule) else TailRule(**dict(s))
        forced_err = tt["failed"].to_numpy(dtype=bool) if rule.keep_errors else np.zeros(n, bool)
        dur = tt["duration_ms"].to_numpy(dtype=float)
        forced_slow = (dur >= rule.slow_ms) if rule.slow_ms is not None else np.zeros(n, bool)
        forced_slow = np.nan_to_num(forced_slow, nan=0).astype(bool) & ~forced_err
        forced = forced_err | forced_slow
        if rule.probability > 0:
            thb = probability_to_threshold(rule.probability)
            rnd = trace_randomness(tt["trace_id"], tt["trace_state"] if "trace_state" in tt.columns else None)
            base_keep = rnd >= np.uint64(_threshold_int(thb))
            p_base = threshold_probability(thb)
        else:
            thb, base_keep, p_base = None, np.zeros(n, bool), 0.0
        kept = forced | base_keep
        prob = np.where(forced, 1.0, p_base)
        reason = np.where(forced_err, "error", np.where(forced_slow, "slow", np.where(base_keep, "probability", None)))
        th_str = np.where(forced, "0", thb if thb is not None else None).astype(object)
    else:
        kind = "xray_rules"
        rf = xray_rules_frame(s)
        idx = _match_rules(rf, _request_fields(tt, _needed_fields(rf)))
        rule_col = np.where(idx >= 0, rf["rule_name"].to_numpy(dtype=object)[np.maximum(idx, 0)], None)
        res = rf["reservoir_size"].to_numpy(dtype=float)[np.maximum(idx, 0)]
        fr = rf["fixed_rate"].to_numpy(dtype=float)[np.maximum(idx, 0)]
        sec = tt["start"].dt.floor("1s").astype("int64").to_numpy()
        order = np.lexsort((tt["start"].astype("int64").to_numpy(), sec, idx))
        grp = pd.DataFrame({"r": idx[order], "s": sec[order]})
        rank = np.empty(n, dtype=np.int64)
        rank[order] = grp.groupby(["r", "s"], sort=False).cumcount().to_numpy()
        cnt = np.empty(n, dtype=float)
        cnt[order] = grp.groupby(["r", "s"], sort=False)["r"].transform("size").to_numpy(dtype=float)
        matched = idx >= 0
        in_res = matched & (rank < res)
        u = rng.random(n)
        by_rate = matched & ~in_res & (u < fr)
        kept = in_res | by_rate
        prob = np.where(matched, (np.minimum(cnt, res) + fr * np.maximum(cnt - res, 0)) / cnt, 0.0)
        reason = np.where(in_res, "reservoir", np.where(by_rate, "fixed_rate", np.where(matched, None, "no rule")))
        reason = np.where(kept | ~matched, reason, None)
    traces = pd.DataFrame({"trace_id": tt["trace_id"].astype(STRING), "start": tt["start"]})
    for k in keys:
        traces[k] = tt[k].to_numpy()
    traces["failed"] = tt["failed"].to_numpy(dtype=bool)
    traces["root_failed"] = tt["root_failed"].to_numpy(dtype=bool)
    traces["duration_ms"] = tt["duration_ms"].to_numpy(dtype=float)
    traces["kept"] = np.asarray(kept, dtype=bool)
    traces["probability"] = np.asarray(prob, dtype=float)
    traces["reason"] = pd.Series(reason, dtype=STRING)
    traces["rule"] = pd.Series(rule_col, dtype=STRING)
    kept_ids = traces.loc[traces["kept"], "trace_id"]
    mask = _isin(spans["trace_id"].to_numpy(dtype=object), kept_ids.to_numpy(dtype=object))
    kept_spans = spans.loc[mask].copy()
    if th_str is not None and len(kept_spans):
        pos = pd.Index(tt["trace_id"].to_numpy(dtype=object)).get_indexer(
            kept_spans["trace_id"].to_numpy(dtype=object))
        per_span = pd.Series(th_str[pos], index=kept_spans.index, dtype=object).astype(STRING)
        old = kept_spans["trace_state"].astype(STRING) if "trace_state" in kept_spans.columns else None
        new = ("ot=th:" + per_span.astype(STRING)).astype(STRING)
        if old is not None:
            stripped = old.str.replace(r"(?:^|,)[ \t]*ot=[^,]*", "", regex=True).str.strip(", ")
            new = new.where(stripped.isna() | (stripped == ""), new + "," + stripped)
        kept_spans["trace_state"] = new.astype(STRING).to_numpy()
        kept_spans["trace_state"] = kept_spans["trace_state"].astype(STRING)
    strata = _sim_strata(traces, keys)
    kept_mask = traces["kept"].to_numpy()
    bias_args = (tt.loc[kept_mask].reset_index(drop=True), "spans", tt,
                 set(kept_spans["service"].dropna().astype(str)), set(spans["service"].dropna().astype(str)),
                 keys, None, None, None, pd.Timedelta(window), "g", alpha, 1.25, 0.5)
    pr = dict(DEFAULT_PRICES)
    pr.update(prices or {})
    rec = float(traces["kept"].sum())
    scanned = rec * float(scans_per_trace)
    cost = pd.DataFrame({
        "item": ["recorded", "scanned", "total"],
        "traces": [rec, scanned, np.nan],
        "usd_per_million": [pr["recorded"], pr["scanned"], np.nan],
        "usd": [rec * pr["recorded"] / 1e6, scanned * pr["scanned"] / 1e6,
                rec * pr["recorded"] / 1e6 + scanned * pr["scanned"] / 1e6],
        "usd_if_all_kept": [n * pr["recorded"] / 1e6, n * scans_per_trace * pr["scanned"] / 1e6,
                            n * (pr["recorded"] + scans_per_trace * pr["scanned"]) / 1e6]})
    return SimulatedSampling(kind, traces, kept_spans, strata, cost, bias_args)


def _looks_like_rules(m: Mapping[str, Any]) -> bool:
    return bool({"SamplingRuleRecords", "rules", "default", "RuleName"} & set(m))


def _sim_strata(traces: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    rows = []
    groups = traces.groupby(keys, sort=True, dropna=False) if keys else [((), traces)]
    for label, g in groups:
        k = g[g["kept"]]
        w = 1.0 / k["probability"].to_numpy(dtype=float)
        kf = k["failed"].to_numpy(dtype=float)
        row = dict(zip(keys, label if isinstance(label, tuple) else (label,), strict=True))
        row.update({
            "population_traces": len(g), "kept_traces": len(k), "kept_fraction": len(k) / len(g) if len(g) else np.nan,
            "population_error_rate": float(g["failed"].mean()) if len(g) else np.nan,
            "kept_error_rate": float(kf.mean()) if len(k) else np.nan,
            "weighted_error_rate": float(w @ kf / w.sum()) if len(k) else np.nan,
            "population_p95_ms": float(np.nanquantile(g["duration_ms"], 0.95)) if len(g) else np.nan,
            "kept_p95_ms": float(np.nanquantile(k["duration_ms"], 0.95)) if len(k) else np.nan,
            "weighted_p95_ms": weighted_quantile(k["duration_ms"], w, 0.95) if len(k) else np.nan,
        })
        rows.append(row)
    return pd.DataFrame(rows)
