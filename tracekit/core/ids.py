"""Trace ids at public entry points: canonical 32-hex, X-Ray ``1-xxxxxxxx-…`` accepted.

>>> normalize_trace_id("1-5759E988-BD862E3FE1BE46A994272793")
'5759e988bd862e3fe1be46a994272793'
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..errors import ArgumentError

__all__ = ["normalize_trace_id", "normalize_trace_ids"]

_HEX32 = re.compile(r"[0-9a-fA-F]{32}")
_XRAY = re.compile(r"1-([0-9a-fA-F]{8})-([0-9a-fA-F]{24})")


def normalize_trace_id(trace_id: str) -> str:
    """The canonical form of a trace id given by a user: 32 lower-case hex digits.

    Parameters
    ----------
    trace_id : str
        32 hex digits in any case, or an X-Ray id ``1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx``;
        surrounding white space is ignored.

    Returns
    -------
    str
        32 lower-case hex digits, as in the spans ``trace_id`` column.

    Raises
    ------
    ArgumentError
        The value is neither form (a ``ValueError``).

    Examples
    --------
    >>> normalize_trace_id(" 5759E988BD862E3FE1BE46A994272793 ")
    '5759e988bd862e3fe1be46a994272793'
    """
    if isinstance(trace_id, str):
        t = trace_id.strip()
        if _HEX32.fullmatch(t):
            return t.lower()
        m = _XRAY.fullmatch(t)
        if m:
            return (m.group(1) + m.group(2)).lower()
    raise ArgumentError(f"not a trace id (32 hex digits, or X-Ray 1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx): {trace_id!r}")


def normalize_trace_ids(trace_ids: str | Iterable[str]) -> list[str]:
    """:func:`normalize_trace_id` of one id or of each id of an iterable.

    Examples
    --------
    >>> normalize_trace_ids(["1-5759e988-bd862e3fe1be46a994272793"])
    ['5759e988bd862e3fe1be46a994272793']
    """
    if isinstance(trace_ids, str):
        return [normalize_trace_id(trace_ids)]
    return [normalize_trace_id(t) for t in trace_ids]
