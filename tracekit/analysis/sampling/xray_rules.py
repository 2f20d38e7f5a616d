"""X-Ray sampling rules and statistics: normalise, match a request to its rule."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from ...errors import TraceFormatError, TraceKitError
from ...schema import STRING, TIMESTAMP
from .traces import dict_get

#: public names; the other module-level names are helpers shared within the package
__all__ = ["xray_rules_frame", "xray_stats_frame", "match_xray_rule"]

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


def _local_rule(rule: Mapping[str, Any], i: int, file: str | None, where: str, version: Any = 2) -> dict:
    """One rule of an SDK local rules file. The SDKs match a local rule on the request's host, method and URL path
    only, never on the service's name: the host is ``host`` in a version-2 file and ``service_name`` in a version-1
    file (aws-xray-sdk-python ``local/sampling_rule.py``: ``_host_key = SERVICE_NAME`` for version 1), so
    ``service_name`` is never the ServiceName matcher (it was: a version-1 rule for host ``api.example.com`` was
    matched against the service's name, and a version-2 rule's stray ``service_name`` narrowed it)."""
    if not isinstance(rule, Mapping):
        raise TraceFormatError("a local sampling rule must be a JSON object", file=file, record=where)
    for k in ("fixed_target", "rate"):
        if k not in rule:
            raise TraceFormatError(f"local sampling rule has no {k!r}", file=file, record=where)
    host_key = "service_name" if version == 1 else "host"
    return {"rule_name": rule.get("description") or where, "priority": i,
            "fixed_rate": rule["rate"], "reservoir_size": rule["fixed_target"],
            "service_name": "*", "service_type": "*",
            "host": rule.get(host_key, "*"), "http_method": rule.get("http_method", "*"),
            "url_path": rule.get("url_path", "*"), "resource_arn": "*", "attributes": {}}


def xray_rules_frame(rules: Any) -> pd.DataFrame:
    """Normalise X-Ray sampling rules to one row per rule, in the order X-Ray applies them.

    Accepts a DataFrame (API field names such as ``RuleName``/``FixedRate`` or the snake_case
    columns of ``tk.fetch_xray_sampling``), a GetSamplingRules response (``SamplingRuleRecords``),
    a list of rules or rule records, an SDK local rules file (``version``/``rules``/``default`` with
    ``fixed_target``/``rate``; its rules apply in file order, then the default, and match host, method and URL path
    only, the host being ``host`` in version 2 and ``service_name`` in version 1, as the SDKs read them), an object with a
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
        version = obj.get("version", 2)
        if version not in (1, 2):  # the SDKs refuse another version (a rule's fields mean what its version says)
            raise TraceFormatError(f"local sampling rules version {version!r} is not 1 or 2", file=file,
                                   record="version")
        for i, rule in enumerate(obj.get("rules") or []):
            rows.append(_local_rule(rule, i + 1, file, f"rules[{i}]", version))
        if "default" in obj:
            d = dict(obj["default"])
            d.setdefault("description", "Default")
            rows.append(_local_rule(d, 10000, file, "default", version))
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


def _glob_matcher(pattern: str) -> Any:
    """A case-insensitive X-Ray wildcard test, linear in the value: the pattern is split at its ``*``;
    the first piece must match at the start, the last at the end, the middle ones are found leftmost
    in order (``?`` is any one character). A regex ``.*a.*b`` backtracked over every split of the
    value (quadratic or worse in its length)."""
    pieces = str(pattern).split("*")
    rx = [re.compile("".join("." if c == "?" else re.escape(c) for c in p), re.IGNORECASE | re.DOTALL) for p in pieces]
    if len(pieces) == 1:
        return lambda v: rx[0].fullmatch(v) is not None
    head, tail, mids = rx[0], rx[-1], [r for r, p in zip(rx[1:-1], pieces[1:-1], strict=True) if p]
    nh, nt = len(pieces[0]), len(pieces[-1])

    def match(v: str) -> bool:
        n = len(v)
        if n < nh + nt or head.match(v, 0, nh) is None or tail.match(v, n - nt, n) is None:
            return False
        pos, end = nh, n - nt
        for r in mids:
            m = r.search(v, pos, end)
            if m is None:
                return False
            pos = m.end()
        return True

    return match


def _wild_match(pattern: Any, values: pd.Series) -> np.ndarray:
    """Case-insensitive X-Ray wildcard match (``*`` any run, ``?`` one character); a missing value
    matches only a pattern made of ``*``."""
    pattern = "*" if pattern is None or (not isinstance(pattern, str) and pd.isna(pattern)) else str(pattern)
    if set(pattern) <= {"*"}:
        return np.ones(len(values), dtype=bool)
    test = _glob_matcher(pattern)
    vals = values.astype(STRING).to_numpy(dtype=object, na_value=None)
    seen: dict[str, bool] = {}
    out = np.zeros(len(vals), dtype=bool)
    for i, v in enumerate(vals):
        if v is not None:
            hit = seen.get(v)
            if hit is None:
                hit = seen[v] = test(v)
            out[i] = hit
    return out


def needed_fields(rules: pd.DataFrame) -> set[str]:
    need = {m for m in _MATCHERS
            if any(not (p is None or p is pd.NA or set(str(p)) <= {"*"}) for p in rules[m].tolist())}
    if any(bool(a) for a in rules["attributes"].tolist()):
        need.add("_attrs")
    return need


def request_fields(roots: pd.DataFrame, need: set[str] | None = None) -> pd.DataFrame:
    """What X-Ray rules match on, read from each trace's root span (only the ``need``-ed fields)."""
    n = len(roots)
    if need is not None and not need - {"service_name"}:
        # only ServiceName (or nothing) is matched: the other fields are never read
        return pd.DataFrame({"service_name": roots["service"].astype(STRING).reset_index(drop=True)})
    attrs = roots["attributes"].tolist() if "attributes" in roots.columns else [None] * n
    res = roots["resource"].tolist() if "resource" in roots.columns else [None] * n
    method = dict_get(attrs, ("http.request.method", "http.method"))
    url = dict_get(attrs, ("http.request.url", "url.full", "http.url"))
    path = dict_get(attrs, ("url.path", "http.target"))
    host = dict_get(attrs, ("server.address", "http.host", "net.host.name"))
    # http.target is the path *and* query ('/api/items?id=3'); a rule's URLPath matches the path (as url.full's is
    # read): '/api/items' did not match a target with a query string, so the request fell to the Default rule
    path = [v.split("?", 1)[0].split("#", 1)[0] if isinstance(v, str) else v for v in path]
    for i in range(n):
        if (path[i] is None or host[i] is None) and isinstance(url[i], str) and url[i]:
            parts = urlsplit(url[i])
            path[i] = path[i] if path[i] is not None else (parts.path or "/")
            host[i] = host[i] if host[i] is not None else parts.hostname
    stype = dict_get(res, ("origin", "cloud.platform"))
    stype = [s if s is not None else a for s, a in zip(stype, dict_get(attrs, ("origin",)), strict=True)]
    arn = dict_get(attrs, ("resource_arn", "aws.resource_arn", "cloud.resource_id"))
    arn = [a if a is not None else r for a, r in zip(arn, dict_get(res, ("resource_arn", "cloud.resource_id")), strict=True)]

    def s(v: list) -> pd.Series:
        return pd.Series([None if x is None else str(x) for x in v], dtype=STRING)

    return pd.DataFrame({"service_name": roots["service"].astype(STRING).reset_index(drop=True),
                         "service_type": s(stype), "host": s(host), "http_method": s(method),
                         "url_path": s(path), "resource_arn": s(arn), "_attrs": attrs})


def match_rules(rules: pd.DataFrame, fields: pd.DataFrame) -> np.ndarray:
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
    idx = int(match_rules(rf, fields)[0])
    return None if idx < 0 else str(rf.loc[idx, "rule_name"])


def window_length(times: pd.Series, default: pd.Timedelta) -> pd.Timedelta:
    u = np.unique(times.to_numpy(dtype="datetime64[ns]"))
    if len(u) < 2:
        return default
    d = np.diff(u).min()
    return pd.Timedelta(int(d.astype("int64")), unit="ns")
