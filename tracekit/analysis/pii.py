"""Personal data in traces: find it, redact it before sharing.

:func:`find_pii` scans attribute values (span ``attributes``, ``resource``, event and link
attributes, and ``status_message``), recursing into nested dicts and lists, for the built-in
:data:`PATTERNS` — ``email``, ``card`` (13–19 digits with a card-network prefix, Luhn-checked),
``bearer`` (``Authorization: Bearer …`` tokens), ``jwt``, ``aws_access_key`` (``AKIA…``/``ASIA…``),
``api_key`` (``api_key=…``/``x-api-key: …`` style secrets), ``ipv4``, ``ipv6`` (validated with
:mod:`ipaddress`) — and for user ids by key name (:data:`USER_KEYS`, e.g. ``enduser.id``,
``user``, ``user.id``).

:func:`redact` returns a copy where values under matching keys (glob patterns over the dotted
key path) are replaced whole, and pattern matches inside text values are replaced, by a stable
hash (``sha256:`` + 12 hex digits of SHA-256 over salt + value, so equal values still join) or a
mask (``****``).

>>> import tracekit as tk
>>> spans = tk.spans_from_columns({
...     "trace_id": ["0" * 31 + "1"], "span_id": ["a" * 16], "service": ["api"], "name": ["GET /"],
...     "start": [0], "end": [1], "attributes": [{"user.email": "ann@example.com", "n": 3}]})
>>> tk.find_pii(spans)[["key", "kind", "excerpt"]].to_dict("records")
[{'key': 'user.email', 'kind': 'user_key', 'excerpt': 'an…om'}, {'key': 'user.email', 'kind': 'email', 'excerpt': 'an…om'}]
>>> tk.redact(spans, keys=["user.email"]).loc[0, "attributes"]
{'user.email': 'sha256:71d4f55f72fa', 'n': 3}
"""

from __future__ import annotations

import fnmatch
import hashlib
import ipaddress
import re
from collections.abc import Iterable, Iterator
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..errors import TraceKitError

__all__ = ["find_pii", "redact", "PATTERNS", "USER_KEYS", "PII_COLUMNS"]

_CARD_PREFIX = re.compile(r"^(?:4|5[1-5]|2[2-7]|3[47]|3[068]|35|6(?:011|5|4[4-9]|22))")


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _card_ok(m: str) -> bool:
    d = re.sub(r"[ -]", "", m)
    return 13 <= len(d) <= 19 and bool(_CARD_PREFIX.match(d)) and _luhn(d)


def _ipv6_ok(m: str) -> bool:
    try:
        return ipaddress.ip_address(m).version == 6
    except ValueError:
        return False


#: built-in pattern name → (regex, validator of a match or None)
PATTERNS: dict[str, tuple[str, Any]] = {
    "email": (r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}", None),
    "card": (r"(?<![\d.])\d(?:[ -]?\d){12,18}(?![\d.])", _card_ok),
    "bearer": (r"(?i:\bbearer)\s+[A-Za-z0-9\-._~+/]{8,}=*", None),
    "jwt": (r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}", None),
    "aws_access_key": (r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", None),
    "api_key": (r"(?i:\b(?:x-)?api[_-]?key|\bapikey|\baccess[_-]?token|\bsecret)[\"']?\s*[:=]\s*[\"']?[A-Za-z0-9\-._~+/]{8,}", None),
    "ipv4": (r"(?<![\d.])(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}(?![\d.])", None),
    "ipv6": (r"(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![0-9A-Fa-f:])", _ipv6_ok),
}

_DIGITS4 = re.compile(r"\d{4}")

#: cheap test a text must pass before a built-in pattern's regex runs on it
_PREFILTER: dict[str, Any] = {
    "email": lambda v: "@" in v,
    "card": lambda v: _DIGITS4.search(v) is not None,
    "bearer": lambda v: "earer" in v or "EARER" in v,
    "jwt": lambda v: "eyJ" in v,
    "aws_access_key": lambda v: "AKIA" in v or "ASIA" in v,
    "api_key": lambda v: "=" in v or ":" in v,
    "ipv4": lambda v: v.count(".") >= 3,
    "ipv6": lambda v: v.count(":") >= 2,
}

#: keys (glob patterns over the dotted key path) whose values identify a user
USER_KEYS: tuple[str, ...] = (
    "enduser.id", "enduser.*", "user", "user.id", "user.name", "user.email", "user_id", "userid", "userId",
    "username", "user.full_name", "customer.id", "customer_id", "*.user_id", "*.userId", "*.user.id",
    "*.user.email", "*.user.name",
)

PII_COLUMNS = ("trace_id", "span_id", "service", "location", "key", "kind", "excerpt")

def _compile(patterns: Iterable[str] | None) -> list[tuple[str, re.Pattern, Any, Any]]:
    """(name, regex, validator or None, prefilter or None) per pattern."""
    out = []
    for p in PATTERNS if patterns is None else patterns:
        if p in PATTERNS:
            rx, check = PATTERNS[p]
            out.append((p, re.compile(rx), check, _PREFILTER.get(p)))
        else:
            try:
                out.append((p, re.compile(p), None, None))
            except re.error as exc:
                raise TraceKitError(f"pattern {p!r} is neither a built-in ({', '.join(PATTERNS)}) nor a valid regex: {exc}") from exc
    return out


def _mask_excerpt(s: str) -> str:
    return s[:2] + "…" + s[-2:] if len(s) > 6 else "…"


def _walk(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            p = f"{path}.{k}" if path else str(k)
            if isinstance(v, (dict, list, tuple)):
                yield from _walk(v, p)
            else:
                yield p, v
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _walk(v, path)
    else:
        yield path, value


class _KeyMatcher:
    """Glob patterns over dotted key paths, compiled once, answers cached per path."""

    def __init__(self, globs: tuple[str, ...]):
        self.rx = re.compile("|".join(f"(?:{fnmatch.translate(g)})" for g in globs)) if globs else None
        self.seen: dict[str, bool] = {}

    def __call__(self, path: str) -> bool:
        hit = self.seen.get(path)
        if hit is None:
            hit = self.seen[path] = bool(self.rx is not None and path and self.rx.match(path))
        return hit


def find_pii(
    spans: pd.DataFrame,
    *,
    patterns: Iterable[str] | None = None,
    keys: Iterable[str] | None = USER_KEYS,
) -> pd.DataFrame:
    """Find personal data in attribute values; one row per (span, location, key, kind).

    ``patterns``: built-in names of :data:`PATTERNS` or regexes (default all built-ins);
    ``keys``: glob patterns over dotted key paths whose values are user ids (default
    :data:`USER_KEYS`; kind ``user_key``). Columns: ``trace_id``, ``span_id``, ``service``,
    ``location`` (``attributes``, ``resource``, ``events[i]``, ``links[i]``,
    ``status_message``), ``key`` (dotted path), ``kind`` (pattern name or ``user_key``),
    ``excerpt`` (the first match, masked: never the value itself). Only text values are
    scanned for patterns (numbers are not: nanosecond timestamps pass the Luhn check one time
    in ten). The input is not modified.

    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({
    ...     "trace_id": ["0" * 31 + "1"], "span_id": ["a" * 16], "service": ["api"], "name": ["GET /"],
    ...     "start": [0], "end": [1], "attributes": [{"http.request.header.authorization": "Bearer abcdef123456",
    ...     "card": "4111 1111 1111 1111", "client.address": "10.1.2.3"}]})
    >>> tk.find_pii(spans)["kind"].tolist()
    ['bearer', 'card', 'ipv4']
    """
    _need(spans)
    compiled = _compile([patterns] if isinstance(patterns, str) else patterns)
    globs = tuple([keys] if isinstance(keys, str) else (keys or ()))
    rows: list[tuple] = []
    tids = spans["trace_id"].to_numpy(dtype=object)
    sids = spans["span_id"].to_numpy(dtype=object)
    svcs = spans["service"].to_numpy(dtype=object)
    memo: dict[tuple[int, str], list[tuple[str, str, str]]] = {}

    key_match = _KeyMatcher(globs)
    text_hits: dict[str, list[tuple[str, str]]] = {}  # repeated values are scanned once

    def scan(container: Any) -> list[tuple[str, str, str]]:
        found: list[tuple[str, str, str]] = []
        for path, v in _walk(container, ""):
            if globs and v is not None and v != "" and key_match(path):
                found.append((path, "user_key", _mask_excerpt(str(v))))
            if type(v) is str and len(v) >= 6:
                hits = text_hits.get(v)
                if hits is None:
                    hits = []
                    for name, rx, check, pre in compiled:
                        if pre is not None and not pre(v):
                            continue
                        for m in rx.finditer(v):
                            if check is None or check(m.group(0)):
                                hits.append((name, _mask_excerpt(m.group(0))))
                                break
                    if len(text_hits) > 200_000:
                        text_hits.clear()
                    text_hits[v] = hits
                for name, excerpt in hits:
                    found.append((path, name, excerpt))
        return found

    for i, (where, container) in _containers(spans):
        key = (id(container), where)
        hits = memo.get(key)
        if hits is None:
            hits = memo[key] = scan(container)
        for path, kind, excerpt in hits:
            rows.append((tids[i], sids[i], svcs[i], where, path, kind, excerpt))
    out = pd.DataFrame(rows, columns=list(PII_COLUMNS))
    for c in PII_COLUMNS:
        out[c] = out[c].astype("string[pyarrow]")
    return out


def _need(spans: pd.DataFrame) -> None:
    if not isinstance(spans, pd.DataFrame):
        raise TraceKitError(f"expected a spans DataFrame, got {type(spans).__name__}")
    missing = [c for c in ("trace_id", "span_id", "service") if c not in spans.columns]
    if missing:
        raise TraceKitError(f"spans DataFrame is missing columns {', '.join(missing)}")


def _containers(spans: pd.DataFrame) -> Iterator[tuple[int, tuple[str, Any]]]:
    cols = {c: spans[c].to_numpy(dtype=object) for c in ("attributes", "resource", "events", "links", "status_message") if c in spans.columns}
    for i in range(len(spans)):
        for c in ("attributes", "resource"):
            if c in cols:
                d = cols[c][i]
                if d:
                    yield i, (c, d)
        for c in ("events", "links"):
            if c in cols:
                lst = cols[c][i]
                if isinstance(lst, (list, tuple, np.ndarray)):
                    for j, e in enumerate(lst):
                        if isinstance(e, dict) and e.get("attributes"):
                            yield i, (f"{c}[{j}]", e["attributes"])
        if "status_message" in cols:
            m = cols["status_message"][i]
            if isinstance(m, str) and m:
                yield i, ("status_message", m)  # the str itself: alive in cols, so its id() is not reused


def _token(value: Any, method: str, salt: str) -> str:
    if method == "mask":
        return "****"
    text = value if isinstance(value, str) else repr(value)
    return "sha256:" + hashlib.sha256((salt + text).encode("utf-8", "surrogatepass")).hexdigest()[:12]


def redact(
    spans: pd.DataFrame,
    keys: Iterable[str] | None = None,
    patterns: Iterable[str] | None = None,
    *,
    method: Literal["hash", "mask"] = "hash",
    salt: str = "",
) -> pd.DataFrame:
    """Return a copy of ``spans`` with personal data replaced by a stable hash or a mask.

    ``keys``: glob patterns over dotted key paths (``"user.email"``, ``"http.request.header.*"``);
    a matching value is replaced whole (a nested dict or list too). ``patterns``: built-in
    names of :data:`PATTERNS` or regexes; each match inside a text value is replaced (also in
    ``status_message``). With neither given, everything :func:`find_pii` finds by default is
    redacted (:data:`USER_KEYS` and all built-in patterns). ``method="hash"`` writes
    ``sha256:`` + the first 12 hex digits of SHA-256(``salt`` + value), the same for equal
    values, so joins and group-bys still work; ``"mask"`` writes ``****``. Applies to
    ``attributes``, ``resource``, event and link attributes. What was done is recorded in
    ``attrs["redaction"]`` (keys, pattern names, method, number of values replaced; never the
    salt). The input is not modified.

    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({
    ...     "trace_id": ["0" * 31 + "1"], "span_id": ["a" * 16], "service": ["api"], "name": ["GET /"],
    ...     "start": [0], "end": [1], "attributes": [{"http.request.header.cookie": "s=1",
    ...     "msg": "mail bob@example.org now"}]})
    >>> tk.redact(spans, keys=["http.request.header.*"], patterns=["email"], method="mask").loc[0, "attributes"]
    {'http.request.header.cookie': '****', 'msg': 'mail **** now'}
    """
    _need(spans)
    if method not in ("hash", "mask"):
        raise TraceKitError(f"method must be 'hash' or 'mask', got {method!r}")
    if keys is None and patterns is None:
        keys, patterns = USER_KEYS, list(PATTERNS)
    globs = tuple([keys] if isinstance(keys, str) else (keys or ()))
    plist = [patterns] if isinstance(patterns, str) else list(patterns or ())
    compiled = _compile(plist) if plist else []
    key_match = _KeyMatcher(globs)
    count = [0]

    def tok(v: Any) -> str:
        count[0] += 1
        return _token(v, method, salt)

    done: dict[str, tuple[str, int]] = {}  # repeated texts are rewritten once

    def sub_text(s: str) -> str:
        hit = done.get(s)
        if hit is not None:
            count[0] += hit[1]
            return hit[0]
        before = count[0]
        new = _sub(s)
        if len(done) > 200_000:
            done.clear()
        done[s] = (new, count[0] - before)
        return new

    def _sub(s: str) -> str:
        for _, rx, check, pre in compiled:
            if pre is not None and not pre(s):
                continue
            s = rx.sub(lambda m, check=check: tok(m.group(0)) if check is None or check(m.group(0)) else m.group(0), s)
        return s

    def fix(value: Any, path: str) -> Any:
        if path and globs and key_match(path):
            return tok(value) if value not in (None, "") else value
        if isinstance(value, dict):
            return {k: fix(v, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [fix(v, path) for v in value]
        if isinstance(value, tuple):
            return tuple(fix(v, path) for v in value)
        if type(value) is str and len(value) >= 6:
            return sub_text(value)
        return value

    out = spans.copy()
    memo: dict[int, Any] = {}

    def fix_dict(d: Any) -> Any:
        if not isinstance(d, dict):
            return d
        if not d:
            return {}  # a new dict: the result shares no container with the input
        k = id(d)
        if k not in memo:
            if not compiled and not any(key_match(str(x)) for x in d) and not any(type(v) in (dict, list, tuple) for v in d.values()):
                memo[k] = dict(d)  # nothing to replace: a plain copy (the C-level fast path)
            else:
                memo[k] = fix(d, "")
        return memo[k]

    for c in ("attributes", "resource"):
        if c in out.columns:
            out[c] = pd.Series([fix_dict(d) for d in spans[c]], index=spans.index, dtype=object)
    for c in ("events", "links"):
        if c in out.columns:
            out[c] = pd.Series(
                [
                    [({**e, "attributes": fix_dict(e["attributes"])} if "attributes" in e else dict(e)) if isinstance(e, dict) else e
                     for e in lst]
                    if isinstance(lst, (list, tuple, np.ndarray)) else lst
                    for lst in spans[c]
                ],
                index=spans.index, dtype=object,
            )
    if "status_message" in out.columns and compiled:
        sm = spans["status_message"]
        out["status_message"] = pd.Series(
            [sub_text(m) if isinstance(m, str) else m for m in sm.to_numpy(dtype=object, na_value=None)],
            index=spans.index, dtype=object,
        ).astype(sm.dtype)
    out.attrs = {**spans.attrs, "redaction": {"keys": list(globs), "patterns": [p for p in plist], "method": method,
                                               "values_replaced": count[0]}}
    return out
