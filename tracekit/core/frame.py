"""Column checks and time conversions shared by every analysis (one message style).

>>> import tracekit as tk
>>> from tracekit.core import require_columns
>>> require_columns(tk.empty_spans(), ("trace_id", "span_id"), "my_analysis")
>>> try:
...     require_columns(tk.empty_spans()[["trace_id"]], ("trace_id", "span_id"), "my_analysis")
... except tk.SpansSchemaError as e:
...     print(e)
my_analysis: spans DataFrame is missing columns: span_id (expected the tracekit spans schema, see tk.SPAN_COLUMNS)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import ArgumentError
from ..schema import (
    STRING,
    TIME_MAX_NS,
    TIME_MIN_NS,
    TIME_RANGE,
    TIMESTAMP,
    SpansSchemaError,
    repeated_column,
    time_out_of_range,
)

__all__ = ["require_columns", "text_column", "ns", "to_timestamps", "bool_column", "NAT_NS", "ArgumentError",
           "TIME_PROBLEM", "TIME_MIN_NS", "TIME_MAX_NS", "TIME_RANGE", "time_out_of_range", "time_resolution_ns",
           "START_TIME_ZERO", "start_unknown", "span_window"]

#: int64 nanoseconds that stand for NaT in :func:`ns` arrays
NAT_NS = np.iinfo(np.int64).min
#: attribute key the readers set on a span whose times are not usable as given: ``"start_time_zero"`` (OTLP start 0
#: or absent, proto3's unset start: loaded at 1970-01-01 as given, read as unknown by :func:`start_unknown`), ``"end_time_zero"``
#: (OTLP end 0, proto3's unset end: loaded as in progress, end NaT) or ``"end_before_start"`` (kept as
#: given: a negative duration); health_report's ``bad_span_times`` lists them
TIME_PROBLEM = "tracekit.time_problem"
#: TIME_MIN_NS, TIME_MAX_NS, TIME_RANGE and time_out_of_range are declared in :mod:`tracekit.schema` (layer 0, so
#: that the ``*_from_columns`` builders accept exactly the readers' range) and re-exported here: one definition


def text_column(values: pd.Series, func: str, what: str) -> pd.Series:
    """``values`` as the Arrow string dtype the analyses compute with; a cell that is not Unicode text (a lone
    surrogate, which a hand-made frame can hold and Arrow cannot) raises an :class:`~tracekit.errors.ArgumentError`
    naming ``func``, the column (``what``) and the row label, not a bare UnicodeEncodeError.

    >>> text_column(pd.Series(["a", None], dtype=object), "f", "body").tolist()
    ['a', <NA>]
    >>> text_column(pd.Series(["ok", "a\\ud800"], dtype=object), "f", "body")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tracekit.errors.ArgumentError: f: body row 1: 'a\\ud800' is not Unicode text (a lone surrogate: ...
    """
    try:
        return values.astype(STRING)
    except UnicodeEncodeError:
        for label, x in values.items():
            if type(x) is str:
                try:
                    x.encode()
                except UnicodeEncodeError:
                    raise ArgumentError(f"{func}: {what} row {label!r}: {x[:80]!r} is not Unicode text (a lone surrogate: "
                                        "replace it, e.g. with s.encode('utf-8', 'surrogatepass').decode('utf-8', "
                                        "'replace'))") from None
        raise


def require_columns(spans: pd.DataFrame, needed: Sequence[str], func: str) -> None:
    """Raise :class:`~tracekit.schema.SpansSchemaError` unless ``spans`` is a DataFrame with ``needed``.

    Parameters
    ----------
    spans : pandas.DataFrame
        The frame to check.
    needed : sequence of str
        Columns the caller reads.
    func : str
        Name of the calling function, first in the message.

    Raises
    ------
    SpansSchemaError
        ``spans`` is not a DataFrame or lacks a column (a ``TraceKitError`` and a ``ValueError``).

    Examples
    --------
    >>> import tracekit as tk
    >>> require_columns(tk.empty_spans(), ("start", "end"), "f")
    """
    if not isinstance(spans, pd.DataFrame):
        raise SpansSchemaError(f"{func}: expected a spans DataFrame, got {type(spans).__name__}")
    missing = [c for c in needed if c not in spans.columns]
    if missing:
        raise SpansSchemaError(
            f"{func}: spans DataFrame is missing columns: {', '.join(missing)} "
            "(expected the tracekit spans schema, see tk.SPAN_COLUMNS)"
        )
    twice = repeated_column(spans.columns, needed)  # spans[c] would be a DataFrame: say which, not fail on it later
    if twice:
        raise SpansSchemaError(f"{func}: spans DataFrame: {twice}")


def ns(series: pd.Series) -> np.ndarray:
    """int64 nanoseconds since the epoch of a datetime column; NaT becomes :data:`NAT_NS`.

    Examples
    --------
    >>> import pandas as pd
    >>> ns(pd.Series(pd.to_datetime([0, None], utc=True))).tolist() == [0, NAT_NS]
    True
    """
    if not len(series):
        return np.zeros(0, dtype=np.int64)
    arr = series.array
    if hasattr(arr, "asi8"):
        if getattr(arr, "unit", "ns") != "ns":
            arr = arr.as_unit("ns")
        return np.asarray(arr.asi8, dtype=np.int64)
    return pd.to_datetime(series, utc=True).array.as_unit("ns").asi8


def to_timestamps(values: np.ndarray) -> pd.Series:
    """A UTC datetime Series from int64 nanoseconds (:data:`NAT_NS` becomes NaT).

    Examples
    --------
    >>> import numpy as np
    >>> to_timestamps(np.array([0, NAT_NS])).isna().tolist()
    [False, True]
    """
    v = np.asarray(values, dtype=np.int64)
    return pd.Series(pd.DatetimeIndex(v.view("M8[ns]")).tz_localize("UTC")).astype(TIMESTAMP)


def bool_column(spans: pd.DataFrame, col: str) -> np.ndarray:
    """A boolean column as a numpy array (missing values and a missing column are False).

    Examples
    --------
    >>> import tracekit as tk
    >>> bool_column(tk.empty_spans(), "fault").dtype
    dtype('bool')
    """
    if col not in spans.columns:
        return np.zeros(len(spans), dtype=bool)
    return spans[col].to_numpy(dtype=bool, na_value=False)


def time_resolution_ns(spans: pd.DataFrame) -> int:
    """The time resolution of a spans frame: the largest power of ten (1 ns to 1 s) that divides
    every start and end, in nanoseconds — 1,000 for X-Ray (float seconds read to the microsecond)
    and for OTLP stamped in microseconds, 1 for true nanosecond clocks.

    Two durations that differ by less than a few of these steps may differ by rounding alone: each
    timestamp is within half a step of the true instant.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame (``start``, ``end``; NaT ignored).

    Returns
    -------
    int
        Nanoseconds; 1 for an empty frame.

    Examples
    --------
    >>> import pandas as pd
    >>> spans = pd.DataFrame({"start": pd.to_datetime([1_000, 5_000], unit="ns", utc=True),
    ...                       "end": pd.to_datetime([3_000, None], unit="ns", utc=True)})
    >>> time_resolution_ns(spans)
    1000
    """
    vals = [v for c in ("start", "end") if c in spans.columns for v in [ns(spans[c])]]
    v = np.concatenate(vals) if vals else np.zeros(0, np.int64)
    v = v[v != NAT_NS]
    if not len(v):
        return 1
    step = 1
    for k in range(9, 0, -1):
        if not (v % (10 ** k)).any():
            step = 10 ** k
            break
    return step


#: the TIME_PROBLEM value of a start that was 0 or absent (OTLP's unset start), loaded at 1970-01-01 as given
START_TIME_ZERO = "start_time_zero"


def start_unknown(spans: pd.DataFrame) -> np.ndarray:
    """Per span: its start time is unknown — NaT (a frame edited by hand), or 1970-01-01 00:00 where the reader flagged
    it (``attributes[TIME_PROBLEM] == "start_time_zero"``: OTLP's start 0 or absent, proto3's unset start, loaded as
    given). Such a start is missing data, not 1970: the one test behind every request latency, trace extent and data
    window that leaves it out (:func:`tracekit.core.trace_outcomes`, :func:`span_window`). A start of 0 the reader did
    not flag (a frame built by hand from small integers) is a time like any other. Only the rows at 0 are looked at.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({"trace_id": ["1" * 32] * 2, "span_id": ["a" * 16, "b" * 16],
    ...     "parent_id": [None, "a" * 16], "service": ["api"] * 2, "name": ["GET /"] * 2, "start": [0, 0],
    ...     "end": [9, 5], "attributes": [{TIME_PROBLEM: "start_time_zero"}, {}]})
    >>> start_unknown(spans).tolist()
    [True, False]
    """
    start = ns(spans["start"])
    out = start == NAT_NS
    zero = np.flatnonzero(start == 0)
    if len(zero) and "attributes" in spans.columns:
        vals = spans["attributes"].to_numpy(dtype=object)[zero]
        out[zero] = [type(d) is dict and d.get(TIME_PROBLEM) == START_TIME_ZERO for d in vals]
    return out


def span_window(spans: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The data's window: the first known start (:func:`start_unknown` left out: an unset start read as 1970 put
    the window at "1970-01-01 00:00 – 2023-11-14 22:13 UTC") and the last end — or the last known start where a
    span still in progress started after every end ("10 requests in 14:00:00–14:00:06 UTC" of requests started up to
    14:00:09, the last three still in progress) — each NaT when no span has one.

    Examples
    --------
    >>> import tracekit as tk
    >>> span_window(tk.empty_spans())
    (NaT, NaT)
    """
    if not len(spans):
        return pd.NaT, pd.NaT
    start = ns(spans["start"])
    known = ~start_unknown(spans)
    t0 = pd.Timestamp(int(start[known].min()), tz="UTC") if known.any() else pd.NaT
    t1 = spans["end"].max()
    if known.any() and (pd.isna(t1) or int(start[known].max()) > pd.Timestamp(t1).value):
        t1 = pd.Timestamp(int(start[known].max()), tz="UTC")
    return t0, (pd.NaT if pd.isna(t1) else pd.Timestamp(t1))
