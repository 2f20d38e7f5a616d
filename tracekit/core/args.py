"""Argument checks shared by every public function: one rule for a count, a number and the bootstrap.

Each raises :class:`~tracekit.errors.ArgumentError` naming the function, the argument, the value given and
what is accepted, never a bare ``TypeError`` / ``OverflowError`` from deeper down.

- a **count** (``n_boot``, ``min_calls``, ``min_spans``, ``n_perm``…) is a whole number: an ``int``, a numpy
  integer or a float with no fractional part (``1e3``); never a bool, NaN, inf, a string or ``None`` (unless the
  function gives ``None`` a meaning);
- a **number** (a window in ms, a tolerance, a bound) is a real number, never a bool or a string; NaN is never
  accepted, inf only where the function says so;
- a **duration** (``freq``, ``window``, ``step``, ``tolerance``) is a fixed pandas offset text (``"1min"``,
  ``"30s"``, ``"1h"``), a ``pandas.Timedelta``, a ``datetime.timedelta`` or a ``numpy.timedelta64``, longer than
  zero (:func:`duration_arg`); a bare number is refused (seconds or nanoseconds cannot be told), and a step that
  would cut the data into more than :data:`MAX_STEPS` bins is refused before anything is allocated
  (:func:`steps_arg`);
- a **flag** (``adjacent_sequential``, ``across_links``…) is ``True`` or ``False`` (a numpy bool too), never a
  string or a number whose truth Python would guess (``"no"`` is true) (:func:`flag_arg`);
- a **percentile window** (``percentile_window``) is ``None`` or a pair ``(lo, hi)`` of numbers in percent with
  ``0 <= lo < hi <= 100``; ``hi <= 1`` is refused as a window given as fractions (:func:`percentile_window_arg`);
- ``n_boot`` and ``ci`` are checked together (:func:`boot_args`): ``n_boot`` a count ≥ 0 (or ≥ 1), ``ci``
  strictly between 0 and 1; ``alpha`` likewise strictly between 0 and 1 (:func:`share_arg`).

>>> count_arg(3, "min_calls", "f", minimum=2)
3
>>> count_arg(2.5, "min_calls", "f", minimum=2)
Traceback (most recent call last):
...
tracekit.errors.ArgumentError: f: min_calls must be a whole number >= 2, got 2.5
"""

from __future__ import annotations

import datetime
import math
import numbers
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ArgumentError

__all__ = ["count_arg", "number_arg", "share_arg", "boot_args", "duration_arg", "steps_arg", "flag_arg",
           "percentile_window_arg", "MAX_STEPS"]

#: the most time bins a step may cut the data into (a day in 0.1 s bins; ``"1ns"`` over an hour would be 3.6e12)
MAX_STEPS = 1_000_000


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def count_arg(value: Any, name: str, func: str, *, minimum: int = 0, maximum: int | None = None,
              allow_none: bool = False) -> int | None:
    """``value`` as an ``int`` if it is a whole number in ``[minimum, maximum]``, else an ArgumentError.

    Parameters
    ----------
    value : Any
        What the caller gave.
    name : str
        The argument's name, as in the signature.
    func : str
        The public function, named first in the message.
    minimum : int, default 0
        Smallest accepted value.
    maximum : int, optional
        Largest accepted value (none when omitted).
    allow_none : bool, default False
        Accept ``None`` (returned as is) where the function gives it a meaning.

    Returns
    -------
    int or None

    Raises
    ------
    ArgumentError
        ``value`` is a bool, not a number, not whole, not finite, or out of range.

    Examples
    --------
    >>> count_arg(1e3, "n_boot", "compare")
    1000
    >>> count_arg(True, "n_boot", "compare")
    Traceback (most recent call last):
    ...
    tracekit.errors.ArgumentError: compare: n_boot must be a whole number >= 0, got True
    """
    if value is None and allow_none:
        return None
    accepted = f"a whole number >= {minimum}" + ("" if maximum is None else f" and <= {maximum}")
    accepted += " or None" if allow_none else ""
    ok = _is_real(value) and math.isfinite(float(value)) and float(value).is_integer()
    if ok:
        as_int = int(value)
        if as_int >= minimum and (maximum is None or as_int <= maximum):
            return as_int
    raise ArgumentError(f"{func}: {name} must be {accepted}, got {value!r}")


def number_arg(value: Any, name: str, func: str, *, low: float | None = None, high: float | None = None,
               low_open: bool = False, high_open: bool = False, allow_inf: bool = False,
               allow_none: bool = False) -> float | None:
    """``value`` as a ``float`` if it is a real number within the bounds, else an ArgumentError.

    Parameters
    ----------
    value : Any
        What the caller gave.
    name : str
        The argument's name.
    func : str
        The public function.
    low, high : float, optional
        Bounds (none when omitted).
    low_open, high_open : bool, default False
        Exclude the bound itself.
    allow_inf : bool, default False
        Accept ±inf (still within the bounds).
    allow_none : bool, default False
        Accept ``None`` (returned as is).

    Returns
    -------
    float or None

    Raises
    ------
    ArgumentError
        ``value`` is a bool, not a real number, NaN, infinite (unless allowed) or out of bounds.

    Examples
    --------
    >>> number_arg(0.5, "tolerance_ms", "f", low=0)
    0.5
    >>> number_arg(float("nan"), "tolerance_ms", "f", low=0)
    Traceback (most recent call last):
    ...
    tracekit.errors.ArgumentError: f: tolerance_ms must be a finite number >= 0, got nan
    """
    if value is None and allow_none:
        return None
    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '>='} {low:g}")
    if high is not None:
        parts.append(f"{'<' if high_open else '<='} {high:g}")
    accepted = ("a number" if allow_inf or (low is not None and high is not None) else "a finite number")
    accepted += (" " + " and ".join(parts)) if parts else ""
    accepted += " or None" if allow_none else ""
    if _is_real(value):
        v = float(value)
        ok = not math.isnan(v) and (allow_inf or math.isfinite(v))
        ok = ok and (low is None or (v > low if low_open else v >= low))
        ok = ok and (high is None or (v < high if high_open else v <= high))
        if ok:
            return v
    raise ArgumentError(f"{func}: {name} must be {accepted}, got {value!r}")


def share_arg(value: Any, name: str, func: str) -> float:
    """A probability such as ``ci`` or ``alpha``: a number strictly between 0 and 1.

    Parameters
    ----------
    value : Any
        What the caller gave.
    name : str
        The argument's name.
    func : str
        The public function.

    Returns
    -------
    float

    Raises
    ------
    ArgumentError
        Not a number strictly between 0 and 1 (``95`` for 95 % is refused: give ``0.95``).

    Examples
    --------
    >>> share_arg(0.95, "ci", "compare")
    0.95
    """
    return number_arg(value, name, func, low=0, high=1, low_open=True, high_open=True)


def flag_arg(value: Any, name: str, func: str) -> bool:
    """``value`` as a ``bool`` if it is ``True`` or ``False`` (Python's or numpy's), else an ArgumentError.

    Parameters
    ----------
    value : Any
        What the caller gave.
    name : str
        The argument's name.
    func : str
        The public function.

    Returns
    -------
    bool

    Raises
    ------
    ArgumentError
        ``value`` is not a bool (``"no"``, ``0``, ``None``: their truth would be a guess).

    Examples
    --------
    >>> flag_arg(False, "across_links", "critical_path")
    False
    >>> flag_arg("no", "across_links", "critical_path")
    Traceback (most recent call last):
    ...
    tracekit.errors.ArgumentError: critical_path: across_links must be True or False, got 'no'
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ArgumentError(f"{func}: {name} must be True or False, got {value!r}")


def percentile_window_arg(value: Any, func: str, name: str = "percentile_window") -> tuple[float, float] | None:
    """``None``, or ``(lo, hi)`` in percent with ``0 <= lo < hi <= 100`` as two floats, else an ArgumentError.

    ``hi <= 1`` is refused: ``(0.95, 1.0)`` is the slowest 5 % written as fractions, and would keep the fastest
    1 % at most.

    Parameters
    ----------
    value : Any
        What the caller gave.
    func : str
        The public function.
    name : str, default 'percentile_window'
        The argument's name.

    Returns
    -------
    tuple of (float, float) or None

    Raises
    ------
    ArgumentError
        Not a pair of real numbers, out of range or in the wrong order, or given as fractions.

    Examples
    --------
    >>> percentile_window_arg((95, 100), "critical_path_breakdown")
    (95.0, 100.0)
    >>> percentile_window_arg((95,), "critical_path_breakdown")
    Traceback (most recent call last):
    ...
    tracekit.errors.ArgumentError: critical_path_breakdown: percentile_window must be None or a pair (lo, hi) in percent with 0 <= lo < hi <= 100, got (95,)
    """
    if value is None:
        return None
    pair = None
    if not isinstance(value, (str, bytes, dict, set, frozenset)):
        try:
            pair = tuple(value)
        except TypeError:
            pair = None
    ok = pair is not None and len(pair) == 2 and all(_is_real(v) for v in pair)
    if ok:
        lo, hi = float(pair[0]), float(pair[1])
        ok = 0 <= lo < hi <= 100  # NaN fails every comparison
    if not ok:
        raise ArgumentError(f"{func}: {name} must be None or a pair (lo, hi) in percent with 0 <= lo < hi <= 100, "
                            f"got {value!r}")
    if hi <= 1:
        raise ArgumentError(f"{func}: {name} is in percent: {value!r} keeps the fastest 1 % at most; for the slowest "
                            "5 % pass (95, 100)")
    return lo, hi


def boot_args(n_boot: Any, ci: Any, func: str, *, min_boot: int = 0) -> tuple[int, float]:
    """``n_boot`` (a count ≥ ``min_boot``; 0: no intervals where allowed) and ``ci`` (strictly in (0, 1)).

    Parameters
    ----------
    n_boot : Any
        Bootstrap resamples, as given.
    ci : Any
        Interval coverage, as given.
    func : str
        The public function.
    min_boot : int, default 0
        Fewest resamples the function accepts.

    Returns
    -------
    tuple of (int, float)

    Raises
    ------
    ArgumentError
        Either is out of range or of the wrong type.

    Examples
    --------
    >>> boot_args(200, 0.9, "what_if")
    (200, 0.9)
    """
    return count_arg(n_boot, "n_boot", func, minimum=min_boot), share_arg(ci, "ci", func)


def duration_arg(value: Any, name: str, func: str, *, zero_ok: bool = False) -> pd.Timedelta:
    """A time step or window (``freq``, ``window``, ``step``, ``tolerance``) as a positive ``pandas.Timedelta``.

    Parameters
    ----------
    value : Any
        What the caller gave: a fixed pandas offset text (``"1min"``, ``"30s"``, ``"1h"``), a ``pandas.Timedelta``,
        a ``datetime.timedelta`` or a ``numpy.timedelta64``.
    name : str
        The argument's name.
    func : str
        The public function.
    zero_ok : bool
        Zero is accepted (a tolerance), not only longer durations (a step).

    Returns
    -------
    pandas.Timedelta
        Longer than zero (or zero, with ``zero_ok``).

    Raises
    ------
    ArgumentError
        Not one of those forms (a bare number: seconds or nanoseconds cannot be told; a calendar offset such as
        ``"1M"``, whose length varies), NaT, zero or negative.

    Examples
    --------
    >>> duration_arg("5min", "freq", "timeline")
    Timedelta('0 days 00:05:00')
    >>> duration_arg(0, "freq", "timeline")
    Traceback (most recent call last):
    ...
    tracekit.errors.ArgumentError: timeline: freq must be a duration such as '1min', '30s' or pd.Timedelta(minutes=5), got 0
    """
    accepted = "a duration such as '1min', '30s' or pd.Timedelta(minutes=5)"
    step = None
    if isinstance(value, str) and not value.strip().lstrip("+-").replace(".", "", 1).isdigit():  # ("5": no unit)
        try:
            step = pd.Timedelta(pd.tseries.frequencies.to_offset(value.strip()))
        except (ValueError, TypeError):
            try:
                step = pd.Timedelta(value.strip())
            except (ValueError, TypeError):
                step = None
    elif isinstance(value, (pd.Timedelta, datetime.timedelta, np.timedelta64)):
        try:
            step = pd.Timedelta(value)
        except (ValueError, TypeError, OverflowError):
            step = None
    elif isinstance(value, pd.offsets.Tick):
        step = pd.Timedelta(value)  # (any other pandas offset is a calendar one, months, business days: no length)
    if step is None or step is pd.NaT:
        raise ArgumentError(f"{func}: {name} must be {accepted}, got {value!r}")
    if step < pd.Timedelta(0) or step == pd.Timedelta(0) and not zero_ok:
        raise ArgumentError(f"{func}: {name} must be {'zero or longer' if zero_ok else 'longer than zero'}, got {value!r}")
    return step


def _when(t: Any) -> str:
    t = pd.Timestamp(t)
    return f"{t:%Y-%m-%d %H:%M:%S}" + (" UTC" if t.tzinfo is not None else "")


def steps_arg(step: pd.Timedelta, start: Any, end: Any, name: str, func: str, *, maximum: int = MAX_STEPS) -> int:
    """How many bins of ``step`` cover ``start`` to ``end``; an :class:`~tracekit.errors.ArgumentError` when more
    than ``maximum`` (``"1ns"`` over an hour of data asked for 3.6e12 bins: a MemoryError or an hour of work).

    Parameters
    ----------
    step : pandas.Timedelta
        From :func:`duration_arg`.
    start, end : timestamp-like
        The data's first and last time (NaT: no data, 0 bins).
    name : str
        The argument's name.
    func : str
        The public function.
    maximum : int
        The most bins allowed.

    Returns
    -------
    int

    Examples
    --------
    >>> steps_arg(pd.Timedelta("1min"), pd.Timestamp(0), pd.Timestamp(0) + pd.Timedelta("1h"), "freq", "timeline")
    61
    >>> steps_arg(pd.Timedelta("1ms"), pd.Timestamp(0), pd.Timestamp(0) + pd.Timedelta("1h"), "freq", "timeline")
    Traceback (most recent call last):
    ...
    tracekit.errors.ArgumentError: timeline: freq 0 days 00:00:00.001000 cuts the data's 0 days 01:00:00, 1970-01-01 00:00:00 to 1970-01-01 01:00:00, into 3,600,001 bins; at most 1,000,000: give a longer freq
    """
    if start is None or end is None or pd.isna(start) or pd.isna(end):
        return 0
    span = pd.Timestamp(end) - pd.Timestamp(start)
    n = int(span // step) + 1
    if n > maximum:
        far = ""
        if span > pd.Timedelta(days=366):  # no incident lasts years: a time of 0 (1970) or a clock far off
            far = (" (a time of 0, 1970, is an unset time: health_report lists such spans as bad_span_times; leave "
                   "them out, e.g. spans[spans['start'] > '2000-01-01'])")
        raise ArgumentError(f"{func}: {name} {step} cuts the data's {span}, {_when(start)} to {_when(end)}, into "
                            f"{n:,} bins; at most {maximum:,}: give a longer {name}{far}")
    return n
