"""Times for the live X-Ray queries: UTC timestamps from what a user types, and query windows.

>>> [(a.isoformat(), b.isoformat()) for a, b in time_windows("2026-11-20T09:00Z", "2026-11-20T21:00Z", window="6h")]
[('2026-11-20T09:00:00+00:00', '2026-11-20T15:00:00+00:00'), ('2026-11-20T15:00:00+00:00', '2026-11-20T21:00:00+00:00')]
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ArgumentError

__all__ = ["DEFAULT_WINDOW", "time_windows", "to_utc", "to_delta", "epoch"]

# Query windows. The GetTraceSummaries API reference
# (https://docs.aws.amazon.com/xray/latest/api/API_GetTraceSummaries.html, read via the docs search) documents
# StartTime/EndTime as "Unix time seconds" with no stated maximum range, and FORMATS.md §1.3 lists the maximum
# window as not verified; X-Ray keeps trace data 30 days. We found no AWS page stating an API limit, so the
# 6 h default is our conservative choice, not a documented limit (change it with ``window=``); smaller windows
# also mean smaller units to resume from and the first page of each is "closest to the end of the time frame".
DEFAULT_WINDOW = pd.Timedelta(hours=6)
#: the most query windows one range may be cut into (a window given in the wrong unit would otherwise make
#: billions of queries: pandas reads a bare number as nanoseconds)
MAX_WINDOWS = 100_000


# --------------------------------------------------------------------------------------------- time


def to_utc(t: Any, name: str) -> pd.Timestamp:
    """A datetime, Timestamp, ISO string or epoch seconds given as argument ``name`` → a UTC Timestamp.

    >>> to_utc("2026-11-20T09:00", "start").isoformat()
    '2026-11-20T09:00:00+00:00'

    A numpy number is epoch seconds too (pandas reads a bare ``np.int64`` as nanoseconds: 1970); a number past
    year 5000 is refused (epoch milliseconds, read as seconds, is the year 55,840):

    >>> to_utc(np.int64(1700000000), "start").isoformat()
    '2023-11-14T22:13:20+00:00'
    >>> to_utc(1700000000000, "end")
    Traceback (most recent call last):
    ...
    tracekit.errors.ArgumentError: end=1700000000000 is not epoch seconds (as seconds it is the year 55840; epoch milliseconds? divide by 1000)
    """
    if t is None:
        raise ArgumentError(f"{name} is required (a datetime, pandas Timestamp, ISO string or epoch seconds)")
    number = isinstance(t, (int, float, np.integer, np.floating)) and not isinstance(t, (bool, np.bool_))
    if number and not np.isfinite(float(t)):
        raise ArgumentError(f"{name}={t!r} is not a time")
    if number and abs(float(t)) >= _MAX_EPOCH_SECONDS:
        raise ArgumentError(f"{name}={t!r} is not epoch seconds (as seconds it is the year "
                            f"{int(1970 + float(t) / 31_556_952)}; epoch milliseconds? divide by 1000)")
    try:
        if number:
            ts = pd.Timestamp(float(t), unit="s")
        else:
            ts = pd.Timestamp(t)
    except (ValueError, TypeError) as exc:
        raise ArgumentError(f"{name}={t!r} is not a time: {exc}") from None
    if ts is pd.NaT:
        raise ArgumentError(f"{name} is NaT")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


#: epoch seconds of the year ~5000: a larger number is a time in milliseconds (or less) given as seconds
_MAX_EPOCH_SECONDS = 1e11


def to_delta(w: Any, name: str = "window") -> pd.Timedelta:
    """A positive query window (``"6h"``, a Timedelta …); a number without a unit is refused (pandas would read
    it as nanoseconds). Errors name the argument ``name`` (``--window`` for the command line).

    >>> to_delta("90min")
    Timedelta('0 days 01:30:00')
    >>> to_delta("6")
    Traceback (most recent call last):
    ...
    tracekit.errors.ArgumentError: window='6' has no unit: give a duration such as '6h' or '90min'
    """
    text = w.strip() if isinstance(w, str) else None
    if isinstance(w, (int, float, np.number)) or (text is not None and _BARE_NUMBER.fullmatch(text)):
        raise ArgumentError(f"{name}={w!r} has no unit: give a duration such as '6h' or '90min'")
    try:
        d = pd.Timedelta(w)
    except (ValueError, TypeError, OverflowError) as exc:
        raise ArgumentError(f"{name}={w!r} is not a duration such as '6h' or '90min' ({exc})") from None
    if d is pd.NaT or pd.isna(d):
        raise ArgumentError(f"{name}={w!r} is not a duration such as '6h' or '90min'")
    if d <= pd.Timedelta(0):
        raise ArgumentError(f"{name} must be positive, got {w!r}")
    return d


_BARE_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def time_windows(start: Any, end: Any, *, window: Any = DEFAULT_WINDOW) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Cut ``[start, end)`` into consecutive windows of at most ``window`` (naive times are UTC).

    Parameters
    ----------
    start, end : datetime, Timestamp, ISO string or epoch seconds
        The range.
    window : str or Timedelta
        The longest window.

    Returns
    -------
    list of (Timestamp, Timestamp)
        UTC windows covering the range exactly.

    Raises
    ------
    tracekit.errors.ArgumentError
        A missing or unparseable time, ``end <= start``, or a window that is not positive.

    Examples
    --------

    >>> len(time_windows("2026-11-20T00:00Z", "2026-11-20T13:00Z", window="6h"))
    3
    >>> time_windows("2026-11-20T00:00Z", "2026-11-20T00:10Z")[0][1].isoformat()
    '2026-11-20T00:10:00+00:00'
    """
    s, e, w = to_utc(start, "start"), to_utc(end, "end"), to_delta(window)
    if e <= s:
        raise ArgumentError(f"end ({e.isoformat()}) must be after start ({s.isoformat()})")
    n = -((s - e) // w)  # ceil((e - s) / w) without a float
    if n > MAX_WINDOWS:
        raise ArgumentError(f"window={window!r} cuts {s.isoformat()} .. {e.isoformat()} into {n:,} queries (at most "
                            f"{MAX_WINDOWS:,}); give a longer window such as '6h'")
    out = []
    while s < e:
        nxt = min(s + w, e)
        out.append((s, nxt))
        s = nxt
    return out


def epoch(x: Any) -> pd.Timestamp:
    """Epoch seconds as sent by AWS → a UTC timestamp (NaT for None), to the microsecond.

    >>> epoch(1530923100.5).isoformat(), epoch(None) is pd.NaT
    ('2018-07-07T00:25:00.500000+00:00', True)
    """
    if x is None:
        return pd.NaT
    return pd.Timestamp(round(float(x) * 1_000_000), unit="us", tz="UTC")
