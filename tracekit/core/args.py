"""Argument checks shared by every public function: one rule for a count, a number and the bootstrap.

Each raises :class:`~tracekit.errors.ArgumentError` naming the function, the argument, the value given and
what is accepted, never a bare ``TypeError`` / ``OverflowError`` from deeper down.

- a **count** (``n_boot``, ``min_calls``, ``min_spans``, ``n_perm``…) is a whole number: an ``int``, a numpy
  integer or a float with no fractional part (``1e3``); never a bool, NaN, inf, a string or ``None`` (unless the
  function gives ``None`` a meaning);
- a **number** (a window in ms, a tolerance, a bound) is a real number, never a bool or a string; NaN is never
  accepted, inf only where the function says so;
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

import math
import numbers
from typing import Any

from ..errors import ArgumentError

__all__ = ["count_arg", "number_arg", "share_arg", "boot_args"]


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
