"""Counts and shares in words: one rule for "1 trace" / "2 traces" and one for "12%" / "<1%" in every sentence tracekit
writes (reports, the command line, findings, figure labels).

>>> plural(1, "trace"), plural(1200, "span"), plural(2, "query", "queries")
('1 trace', '1,200 spans', '2 queries')
>>> percent(3 / 5000), percent(4997 / 5000), percent(0.25)
('<1%', '>99%', '25%')
"""

from __future__ import annotations

import math

__all__ = ["percent", "plural"]


def plural(n: float, one: str, many: str | None = None) -> str:
    """``n`` (rounded to a whole number, with thousands separators) and the noun in the number it takes.

    Parameters
    ----------
    n : float
        The count.
    one : str
        The noun for one.
    many : str, optional
        The noun for any other count (default ``one + "s"``).

    Returns
    -------
    str

    Examples
    --------
    >>> plural(0, "request"), plural(1.0, "request")
    ('0 requests', '1 request')
    """
    n = int(round(n))
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def percent(share: float | None, digits: int = 0, unit: str = "%") -> str:
    """A share (a fraction, 0.25 for a quarter) as a percentage that never rounds a part to nothing or to the whole.

    3 failed traces of 5,000 are not "0%", and 4,997 of 5,000 are not "100%": a share above 0 that would round to 0
    reads ``<1%`` (``<0.1%`` with one digit), one below 1 that would round to 100 reads ``>99%``. Exactly 0 and 1, and
    shares above 1 or below 0 (a change, a size against another), are written as they round.

    Parameters
    ----------
    share : float or None
        The fraction; None or NaN reads ``n/a``.
    digits : int, default 0
        Digits after the decimal point.
    unit : str, default "%"
        What follows the number (the report writes ``" %"``).

    Returns
    -------
    str

    Examples
    --------
    >>> percent(0.0004, 1), percent(0.9996, 1), percent(0.0), percent(1.0), percent(1.643, 1)
    ('<0.1%', '>99.9%', '0%', '100%', '164.3%')
    >>> percent(float("nan")), percent(0.123, 1, unit=" %")
    ('n/a', '12.3 %')
    """
    if share is None or not math.isfinite(share):
        return "n/a"
    x = 100 * float(share)
    step = 10.0 ** -digits
    if 0 < x and round(x, digits) == 0:
        return f"<{step:.{digits}f}{unit}"
    if x < 100 and round(x, digits) >= 100:
        return f">{100 - step:.{digits}f}{unit}"
    return f"{x:.{digits}f}{unit}"
