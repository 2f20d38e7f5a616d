"""``by``: grouping keys, one table of named keys and one function that normalises them.

Every analysis and figure that groups takes ``by`` and passes it through :func:`by_keys` (the
key columns) or :func:`key_frame` (the spans with any derived key column added), so the same word
means the same grouping everywhere:

======================  =========================  ================================================
``by``                  key columns                derived from
======================  =========================  ================================================
``"service"``           ``service``                the column
``"operation"``         ``service``, ``name``      the columns (an operation is a span name *of a
                                                   service*: two services' ``GET /`` differ)
``"route"``             ``route``                  :func:`tracekit.core.routes` (a route names its service)
``"host"``              ``service``, ``host``      :func:`tracekit.core.hosts` (resource keys)
``"version"``           ``service``, ``version``   :func:`tracekit.core.versions`
``"call_path"``         ``call_path``              :func:`tracekit.core.call_paths` (root down)
any other string        that column                the spans (``kind``, ``status``, …)
a list of the above     their columns, in order,   each as above
                        without repeats
======================  =========================  ================================================

``None`` means "no grouping" where a function documents it (``allow_none=True``); anything else
(an empty list, a number, a column that is not there) is an :class:`~tracekit.errors.ArgumentError`
naming the function.

>>> by_keys("operation")
['service', 'name']
>>> by_keys(["host", "kind"])
['service', 'host', 'kind']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import ArgumentError
from .naming import call_paths, routes
from .resources import hosts, versions
from .tree import span_tree

__all__ = ["ByKey", "BY_KEYS", "By", "by_keys", "key_frame", "joint_codes"]

#: what ``by`` accepts: a named key or a column, or a list of them
By = str | Sequence[str]


@dataclass(frozen=True)
class ByKey:
    """A named grouping key: the columns it stands for and the one of them derived from the spans."""

    name: str
    columns: tuple[str, ...]
    derived: str | None
    meaning: str


#: the named keys of ``by``, one table for every analysis and figure
BY_KEYS: dict[str, ByKey] = {k.name: k for k in (
    ByKey("service", ("service",), None, "the span's service"),
    ByKey("operation", ("service", "name"), None, "service and span name"),
    ByKey("route", ("route",), "route", "route (http.route, else the URL path templated, else the span name)"),
    ByKey("host", ("service", "host"), "host", "service and the host it ran on (resource keys, core.HOST_KEYS)"),
    ByKey("version", ("service", "version"), "version", "service and its version (resource keys, core.VERSION_KEYS)"),
    ByKey("call_path", ("call_path",), "call_path", "service:name of each span from the root down"),
)}


def by_keys(by: By | None, *, what: str = "by", allow_none: bool = False) -> list[str]:
    """The key columns ``by`` stands for (named keys expanded, repeats dropped, order kept).

    Parameters
    ----------
    by : str, list of str or None
        Named keys (:data:`BY_KEYS`) and/or column names.
    what : str
        The function asking, named in the error.
    allow_none : bool
        ``None`` (no grouping) gives ``[]`` instead of an error.

    Returns
    -------
    list of str
        Column names.

    Raises
    ------
    ArgumentError
        ``by`` is not a string or a list of strings, or is empty.

    Examples
    --------
    >>> by_keys("service"), by_keys(("operation", "service", "kind"))
    (['service'], ['service', 'name', 'kind'])
    >>> by_keys(None, allow_none=True)
    []
    """
    if by is None:
        if allow_none:
            return []
        raise ArgumentError(f"{what}: by is needed (a named key {', '.join(BY_KEYS)} or a column, or a list of them)")
    items = [by] if isinstance(by, str) else by
    if not isinstance(items, Sequence | np.ndarray | pd.Index) or isinstance(items, bytes):
        raise ArgumentError(f"{what}: by must be a string or a list of strings, got {type(by).__name__}")
    items = list(items)
    if not items:
        raise ArgumentError(f"{what}: by needs at least one key (a named key {', '.join(BY_KEYS)} or a column)")
    out: list[str] = []
    for k in items:
        if not isinstance(k, str) or not k:
            raise ArgumentError(f"{what}: every key of by must be a non-empty string, got {k!r}")
        for c in BY_KEYS[k].columns if k in BY_KEYS else (k,):
            if c not in out:
                out.append(c)
    return out


def key_frame(spans: pd.DataFrame, by: By | None, *, what: str = "by",
              allow_none: bool = False) -> tuple[pd.DataFrame, list[str]]:
    """``spans`` with every derived key column of ``by`` present, and the key columns.

    A derived column already in the frame is used as it is; otherwise it is added to a shallow copy
    (the input is never modified; with nothing to add, the frame itself comes back, so per-frame
    caches still apply).

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame.
    by : str, list of str or None
        As :func:`by_keys`.
    what : str
        The function asking, named in the error.
    allow_none : bool
        As :func:`by_keys`.

    Returns
    -------
    tuple of (pandas.DataFrame, list of str)

    Raises
    ------
    ArgumentError
        ``by`` is malformed, or names a column the spans do not have.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.simulate.simulate("baseline", 5, seed=1).spans
    >>> frame, keys = key_frame(spans, "version")
    >>> keys, "version" in spans.columns, frame["version"].notna().all()
    (['service', 'version'], False, np.True_)
    """
    keys = by_keys(by, what=what, allow_none=allow_none)
    add: dict[str, object] = {}
    for c in keys:
        if c in spans.columns:
            col = spans[c]
            if col.dtype == object and len(col):
                first = col.iloc[int(np.argmax(col.notna().to_numpy()))]
                if isinstance(first, (dict, list, tuple, set, np.ndarray)):
                    raise ArgumentError(
                        f"{what}: by column {c!r} holds {type(first).__name__} values (one per span), not a key to group "
                        f"by; take one key out of it as a column first (tk.attribute(spans, key, column=...))")
            continue
        if c == "route":
            add[c] = pd.array(routes(spans), dtype="string")
        elif c == "host":
            add[c] = pd.array(hosts(spans), dtype="string")
        elif c == "version":
            add[c] = pd.array(versions(spans), dtype="string")
        elif c == "call_path":
            paths = call_paths(spans, span_tree(spans), np.arange(len(spans)))
            add[c] = pd.array(paths, dtype="string")
        else:
            named = ", ".join(BY_KEYS)
            raise ArgumentError(f"{what}: by key {c!r} is not in the spans frame and is not a named key ({named})")
    return (spans.assign(**add) if add else spans), keys


def joint_codes(*arrays: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """One code per distinct combination of aligned arrays' values (a group by several keys), in order of first
    appearance, and each array's value per code.

    Each array is factorized alone and the codes combined pairwise (factorizing a tuple built per row cost 0.36 s of
    a 3.9 s postmortem of 30k spans). A missing value (None, NaN) is a value of its own.

    Parameters
    ----------
    *arrays : numpy.ndarray
        Arrays of one length.

    Returns
    -------
    codes : numpy.ndarray of int64
        Each row's code, 0 .. k − 1.
    values : list of numpy.ndarray
        Per array, its value for each code (object arrays of length k).

    Examples
    --------
    >>> codes, (svc, host) = joint_codes(np.array(["db", "web", "db"], dtype=object), np.array(["h1", "h1", "h1"]))
    >>> codes.tolist(), svc.tolist(), host.tolist()
    ([0, 1, 0], ['db', 'web'], ['h1', 'h1'])
    """
    code = np.zeros(len(arrays[0]) if arrays else 0, np.int64)
    for a in arrays:
        c, u = pd.factorize(a, sort=False, use_na_sentinel=False)
        code = pd.factorize(code * max(len(u), 1) + c, sort=False)[0].astype(np.int64)
    first = np.zeros(int(code.max()) + 1 if len(code) else 0, np.int64)
    first[code[::-1]] = np.arange(len(code) - 1, -1, -1)
    return code, [np.asarray(a, dtype=object)[first] for a in arrays]
