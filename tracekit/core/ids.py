"""Trace ids at public entry points: canonical 32-hex, X-Ray ``1-xxxxxxxx-…`` and a UUID accepted.

The rule is :func:`tracekit.schema.canonical_id`'s, the one every reader applies to the ids it reads, so an id
a user types finds the spans (and log records) it names in whatever form their source wrote it.

>>> normalize_trace_id("1-5759E988-BD862E3FE1BE46A994272793")
'5759e988bd862e3fe1be46a994272793'
"""

from __future__ import annotations

from collections.abc import Container, Iterable
from typing import Any

import pandas as pd

from ..errors import ArgumentError
from ..schema import canonical_id

__all__ = ["normalize_trace_id", "normalize_trace_ids", "trace_id_of"]

def normalize_trace_id(trace_id: str) -> str:
    """The canonical form of a trace id given by a user: 32 lower-case hex digits.

    Parameters
    ----------
    trace_id : str
        32 hex digits in any case, an X-Ray id ``1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx`` (or the
        X-Amzn-Trace-Id header ``Root=1-…;Parent=…``), a UUID ``xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx``, or
        the id's 16 bytes base64-encoded; surrounding white space is ignored (the readers' rule,
        :func:`tracekit.schema.canonical_id`).

    Returns
    -------
    str
        32 lower-case hex digits, as in the spans ``trace_id`` column.

    Raises
    ------
    ArgumentError
        The value is none of those forms, or blank (a ``ValueError``).

    Examples
    --------
    >>> normalize_trace_id(" 5759E988BD862E3FE1BE46A994272793 ")
    '5759e988bd862e3fe1be46a994272793'
    >>> normalize_trace_id("5759e988-bd86-2e3f-e1be-46a994272793")
    '5759e988bd862e3fe1be46a994272793'
    """
    if isinstance(trace_id, str):
        try:
            t = canonical_id(trace_id, 32, xray=True, zero=False)  # all zeros: kept, as in the spans
        except ValueError:
            t = None
        if t is not None:
            return t
    raise ArgumentError(f"not a trace id (32 hex digits, X-Ray 1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx or a UUID "
                        f"xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx): {trace_id!r}")


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


def trace_id_of(spans: Any, trace_id: str) -> str:
    """``trace_id`` as the ``trace_id`` column of ``spans`` holds it: the id itself when a span has it, else its
    canonical form (:func:`normalize_trace_id`). A frame built with :func:`tracekit.spans_from_columns` keeps an id
    that is no hex id as given (``"t1"``): normalising every id given refused those traces, and
    :func:`tracekit.report` wrote no page for such a frame (its example traces' waterfalls and log records).

    Parameters
    ----------
    spans : pandas.DataFrame or container
        A frame with a ``trace_id`` column, or the frame's trace ids themselves (a set, a dict keyed by them).
    trace_id : str
        The trace.

    Returns
    -------
    str

    Raises
    ------
    ArgumentError
        No span has ``trace_id`` and it is not a trace id in any form :func:`normalize_trace_id` reads.

    Examples
    --------
    >>> import pandas as pd
    >>> spans = pd.DataFrame({"trace_id": ["t1", "5759e988bd862e3fe1be46a994272793"]})
    >>> trace_id_of(spans, "t1"), trace_id_of(spans, "1-5759e988-bd862e3fe1be46a994272793")
    ('t1', '5759e988bd862e3fe1be46a994272793')
    >>> trace_id_of({"t1": 0}, "t1")
    't1'
    """
    if isinstance(trace_id, str):
        if isinstance(spans, pd.DataFrame):
            if bool((spans["trace_id"] == trace_id).to_numpy(dtype=bool, na_value=False).any()):
                return trace_id
        elif isinstance(spans, Container) and trace_id in spans:
            return trace_id
    return normalize_trace_id(trace_id)
