"""Counts in words: one rule for "1 trace" / "2 traces" in every sentence tracekit writes (reports, the command line,
findings).

>>> plural(1, "trace"), plural(1200, "span"), plural(2, "query", "queries")
('1 trace', '1,200 spans', '2 queries')
"""

from __future__ import annotations

__all__ = ["plural"]


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
