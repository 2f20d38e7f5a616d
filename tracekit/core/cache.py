"""Per-frame caches: a result computed once per spans frame and settings (the span tree among them).

A report runs a dozen analyses on the same two frames; the expensive shared steps (the span tree,
trace outcomes, the critical path) are computed once per frame and taken from here afterwards.
An entry is held weakly (it goes when the frame goes) and checked against a fingerprint of the
columns the computation reads (ids, times, status, names …: Arrow buffers, hashed once per array
object since Arrow arrays never change, and int64 arrays; no per-row Python), so a frame whose columns were replaced or edited in place is computed
again. The content of columns of dicts and lists (``attributes``, ``links``) is not hashed (a frame of a million spans
would pay a Python walk of them at every lookup): edit those in place and the result is not refreshed — analyses
never mutate their input, and a new frame is a new entry. A computation that reads them lists them all the same:
a new frame served from another's result (below) must hold equal values in every column read, these included
(``spans.assign(links=…)`` is computed afresh; equal cells are the same objects in a cut, so comparing them is cheap).

A frame that holds whole traces of a frame already cached (``spans[spans["trace_id"].isin(ids)]``,
``spans.copy()``, ``spans.assign(x=…)``: same index labels, same values in the fingerprinted columns,
every row of each of its traces) takes a per-trace result from that frame's, filtered to its
traces (``by_trace=``), instead of computing it again: a report that cuts the incident window and
each route's requests out of its input walks the critical path once per input. A result with one
row per input row (``by_rows=``: the message templates of a logs frame) is taken the same way for
any rows cut from a cached frame (a time window of the logs), whole traces or not.

Callers get a shallow copy of the cached frame (pandas Copy-on-Write: editing it never reaches
the cache). ``cache_stats()`` counts computations and hits per name, for tests and benchmarks.

>>> import tracekit as tk
>>> from tracekit.core.cache import CacheStats, cache_stats, clear_cache
>>> clear_cache()  # what earlier calls cached (of equal frames too) is not reused below
>>> spans = tk.examples.load("checkout-small")
>>> computed = lambda: cache_stats().get("trace_outcomes", CacheStats()).computed
>>> before = computed()
>>> _ = tk.core.trace_outcomes(spans); _ = tk.core.trace_outcomes(spans)
>>> computed() - before
1
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ..schema import SpansSchemaError, repeated_column

__all__ = ["frame_cached", "fingerprint", "cache_stats", "clear_cache", "CacheStats"]


@dataclass
class CacheStats:
    """How often a cached computation ran (``computed``) and was taken from the cache (``hits``)."""

    computed: int = 0
    hits: int = 0


_LOCK = threading.RLock()
#: id(frame) -> (weak reference, {(name, key): (fingerprint, value)})
_FRAMES: dict[int, tuple[weakref.ref, dict[tuple[str, Hashable], tuple[bytes, Any]]]] = {}
_STATS: dict[str, CacheStats] = {}
#: id(ChunkedArray) -> (weak reference, digest of its values): Arrow columns are immutable
_ARROW_DIGESTS: dict[int, tuple[weakref.ref, bytes]] = {}


def fingerprint(spans: pd.DataFrame, columns: Iterable[str]) -> bytes:
    """A 16-byte hash of the length and of the given columns' data (absent columns hashed as absent).

    Arrow-backed columns are hashed by their buffers, datetime and numeric columns by their
    values' bytes; anything else by pandas' row hash.

    >>> import tracekit as tk
    >>> s = tk.examples.load("checkout-small")
    >>> fingerprint(s, ["trace_id"]) == fingerprint(s.copy(), ["trace_id"])
    True
    """
    h = hashlib.blake2b(digest_size=16)
    h.update(str(len(spans)).encode())
    for col in columns:
        h.update(col.encode())
        if col not in spans.columns:
            h.update(b"-")
            continue
        arr = _column_values(spans, col)
        if hasattr(arr, "_pa_array"):
            h.update(_arrow_digest(arr._pa_array))
        elif hasattr(arr, "asi8"):
            h.update(_numeric_digest(arr.asi8))
        elif isinstance(arr, pd.arrays.NumpyExtensionArray | np.ndarray) and arr.dtype.kind in "biuf":
            h.update(_numeric_digest(np.asarray(arr)))
        elif isinstance(arr, pd.arrays.BooleanArray | pd.arrays.IntegerArray | pd.arrays.FloatingArray):
            h.update(_numeric_digest(arr._data))
            h.update(_numeric_digest(arr._mask))
        else:
            try:
                h.update(_object_digest(arr))
            except TypeError:  # cells that are dicts or lists (attributes, links): their content is not hashed
                h.update(b"containers")
    return h.digest()


def _object_digest(values: Any) -> bytes:
    """pandas' row hash of a column's values (``frame[col].array``; what ``hash_pandas_object(frame[col],
    index=False)`` gives, without building the Series) as bytes. A string holding a lone surrogate (not Unicode text: a
    hand-made frame can hold one, the readers and builders replace or refuse them) is hashed by its
    ``surrogatepass`` bytes written out (``\\xed\\xa0\\x80``), where pandas' hash raised UnicodeEncodeError."""
    try:
        return pd.util.hash_array(values).view(np.uint8).tobytes()
    except UnicodeEncodeError:
        col = pd.Series(values, dtype=values.dtype, copy=False)

        def text(x: Any) -> Any:
            if type(x) is str:
                try:
                    x.encode()
                except UnicodeEncodeError:
                    return x.encode("utf-8", "surrogatepass").decode("utf-8", "backslashreplace")
            return x
        return pd.util.hash_pandas_object(col.map(text).astype(object), index=False).to_numpy().view(np.uint8).tobytes()


#: odd 64-bit multipliers of :func:`_numeric_digest`: two rows of one per position within a block of ``_BLOCK``
#: words, and two rows of one per block (grown as longer arrays come, each block's drawn from its own seed, so the
#: first never change): 1 MiB, whatever the frame's length
_BLOCK = 1 << 16
_IN_BLOCK = np.random.default_rng([0x7ACE, 0]).integers(0, np.iinfo(np.uint64).max, size=(2, _BLOCK), dtype=np.uint64,
                                                        endpoint=True) | np.uint64(1)
_PER_BLOCK = np.zeros((2, 0), dtype=np.uint64)


def _numeric_digest(values: np.ndarray) -> bytes:
    """A 128-bit hash of a numeric array's bytes: per block of ``_BLOCK`` 64-bit words, the sum of its words times
    per-position odd multipliers, and the sum of those times per-block odd multipliers (mod 2**64), twice with other
    multipliers. Any one changed word changes both sums (an odd multiplier is invertible mod 2**64); two words
    swapped go unseen with probability about 2**-57. Ten times blake2b's speed (40 against 400 µs for 30k
    timestamps), which a cache hit pays for each of its numeric columns. Edits, not adversaries, are what it finds."""
    global _PER_BLOCK
    raw = np.ascontiguousarray(values).view(np.uint8).ravel()
    pad = (-len(raw)) % 8
    words = (np.concatenate([raw, np.zeros(pad, np.uint8)]) if pad else raw).view(np.uint64)
    n = len(words)
    full, blocks = n // _BLOCK * _BLOCK, -(-n // _BLOCK)
    with _LOCK:
        if _PER_BLOCK.shape[1] < blocks:
            more = np.random.default_rng([0x7ACE, 1, _PER_BLOCK.shape[1]]).integers(
                0, np.iinfo(np.uint64).max, size=(2, blocks - _PER_BLOCK.shape[1]), dtype=np.uint64, endpoint=True)
            _PER_BLOCK = np.concatenate([_PER_BLOCK, more | np.uint64(1)], axis=1)
        per_block = _PER_BLOCK[:, :blocks]
    if n <= _BLOCK:  # one block (every frame a test or a notebook makes): both sums in one pass, the same words
        sums = (words * _IN_BLOCK[:, :n]).sum(axis=1, dtype=np.uint64) * (per_block[:, 0] if blocks else np.uint64(0))
        return values.dtype.str.encode() + str(len(raw)).encode() + sums.tobytes()
    sums = np.zeros(2, dtype=np.uint64)
    for r in range(2):
        s = (words[:full].reshape(-1, _BLOCK) * _IN_BLOCK[r]).sum(axis=1, dtype=np.uint64)
        if n > full:
            s = np.append(s, (words[full:] * _IN_BLOCK[r, : n - full]).sum(dtype=np.uint64))
        sums[r] = (s * per_block[r]).sum(dtype=np.uint64)
    return values.dtype.str.encode() + str(len(raw)).encode() + sums.tobytes()


def _column_values(frame: pd.DataFrame, col: str) -> Any:
    """``frame[col].array`` without building the Series (pandas' column access makes a Series and deep-copies the
    frame's ``attrs`` into it: 50 µs a column of a read frame, a third of a cache hit's cost); the Series' array
    where pandas lacks the private accessor. A label held twice is a SpansSchemaError naming it."""
    loc = frame.columns.get_loc(col)
    if not isinstance(loc, int):
        raise SpansSchemaError(f"the frame's {repeated_column(frame.columns, [col])}")
    get = getattr(frame, "_get_column_array", None)
    return get(loc) if get is not None else frame[col].array


def _arrow_digest(chunked: pa.ChunkedArray) -> bytes:
    """The hash of an Arrow column's values, computed once per ChunkedArray object.

    Arrow arrays are immutable (pandas replaces a column's ChunkedArray when a cell is set, it never
    writes into one), so while the object lives its digest cannot change: a report fingerprints the
    same columns of the same frames dozens of times (a lab window's ranking with every signal: ~50
    fingerprints), each hashing megabytes of string buffers.
    """
    key = id(chunked)
    with _LOCK:
        hit = _ARROW_DIGESTS.get(key)
        if hit is not None and hit[0]() is chunked:
            return hit[1]
    h = hashlib.blake2b(digest_size=16)
    for chunk in chunked.chunks:
        if chunk.get_total_buffer_size() > 2 * chunk.nbytes + 4096:
            # a slice (iloc, groupby) shares its parent's buffers: hash a copy of its own values, not
            # the parent's bytes (an 8-span trace cut from 29,596 spans hashed 1.2 MB per string column)
            chunk = pa.concat_arrays([chunk])
        # type, offset and length with the buffers determine the values: a slice shares its parent's buffers, so
        # without its length [A[:3], B[:2]] and [A[:2], B[:3]] hashed equal (a baseline's cached course_changes
        # answered another baseline of the same length)
        h.update(f"{chunk.type}|{chunk.offset}|{len(chunk)}|".encode())
        for b in chunk.buffers():
            if b is not None:
                h.update(memoryview(b))
    digest = h.digest()
    try:
        # the callback holds what it calls: at interpreter exit a column freed after this module's globals were
        # cleared would otherwise call None ("Exception ignored in: <function _arrow_digest.<locals>.<lambda>")
        ref = weakref.ref(chunked, lambda r, key=key, forget=_forget_digest: forget(key, r))
    except TypeError:  # pragma: no cover - pyarrow arrays support weak references
        return digest
    with _LOCK:
        _ARROW_DIGESTS[key] = (ref, digest)
    return digest


def _forget_digest(key: int, ref: weakref.ref, lock: threading.RLock = _LOCK, digests: dict = _ARROW_DIGESTS) -> None:
    with lock:
        hit = digests.get(key)
        if hit is not None and hit[0] is ref:
            del digests[key]


def _forget(key: int, ref: weakref.ref, lock: threading.RLock = _LOCK, frames: dict = _FRAMES) -> None:
    with lock:
        hit = frames.get(key)
        if hit is not None and hit[0] is ref:
            del frames[key]


def frame_cached(spans: pd.DataFrame, name: str, key: Hashable, columns: Iterable[str],
                 compute: Callable[[], Any], by_trace: Callable[[Any, pd.Index], Any] | None = None,
                 by_rows: Callable[[Any, np.ndarray], Any] | None = None) -> Any:
    """``compute()``'s result for this frame and ``key`` (the settings), computed once.

    Parameters
    ----------
    spans : pandas.DataFrame
        The frame the result belongs to (held weakly).
    name : str
        What is cached (``"critical_path"``, ``"trace_outcomes"``): counted in :func:`cache_stats`.
    key : hashable
        The settings the result depends on.
    columns : iterable of str
        The columns the computation reads (fingerprinted).
    compute : callable
        Computes the result (no arguments).
    by_trace : callable, optional
        For a per-trace result: ``by_trace(result, trace_ids)`` is the result of the frame holding
        only those (whole) traces. Given, a frame holding whole traces of a cached frame is served
        from that frame's result (counted as a hit).
    by_rows : callable, optional
        For a result with one row per row of ``spans``: ``by_rows(result, positions)`` is the
        result of the frame holding only the rows at those positions. Given, a frame whose rows
        are rows of a cached frame (same index labels, in its order, same values in ``columns``)
        is served from that frame's result (counted as a hit).

    Returns
    -------
    object
        The result; a DataFrame comes back as a shallow copy (Copy-on-Write), with its ``attrs``.

    Examples
    --------
    >>> import tracekit as tk
    >>> s = tk.examples.load("checkout-small")
    >>> a = frame_cached(s, "doc-example", 1, ["trace_id"], lambda: len(s))
    >>> b = frame_cached(s, "doc-example", 1, ["trace_id"], lambda: -1)
    >>> a == b == len(s)
    True
    """
    columns = tuple(columns)
    fp = fingerprint(spans, columns)
    fid = id(spans)
    with _LOCK:
        stats = _STATS.setdefault(name, CacheStats())
        entry = _FRAMES.get(fid)
        if entry is not None and entry[0]() is spans:
            hit = entry[1].get((name, key))
            if hit is not None and hit[0] == fp:
                stats.hits += 1
                return _out(hit[1])
    value = _derived(spans, name, key, columns, by_trace, by_rows) \
        if by_trace is not None or by_rows is not None else None
    if value is not None:
        with _LOCK:
            stats.hits += 1
    else:
        value = compute()
        with _LOCK:
            stats.computed += 1
    with _LOCK:
        entry = _FRAMES.get(fid)
        if entry is None or entry[0]() is not spans:
            try:
                ref = weakref.ref(spans, lambda r, fid=fid, forget=_forget: forget(fid, r))
            except TypeError:  # pragma: no cover - DataFrames support weak references
                return _out(value)
            entry = (ref, {})
            _FRAMES[fid] = entry
        entry[1][(name, key)] = (fp, value)
    return _out(value)


def _derived(spans: pd.DataFrame, name: str, key: Hashable, columns: tuple[str, ...],
             by_trace: Callable[[Any, pd.Index], Any] | None, by_rows: Callable[[Any, np.ndarray], Any] | None) -> Any:
    """The result of a cached frame of which ``spans`` holds rows (``by_rows``) or whole traces
    (``by_trace``), cut to them; else None."""
    with _LOCK:
        candidates = [(ref(), *entries[(name, key)]) for ref, entries in _FRAMES.values() if (name, key) in entries]
    n = len(spans)
    if not n or (by_rows is None and "trace_id" not in spans.columns):
        return None
    # every cached frame alive is a candidate (a test session's fixtures, a notebook's frames): the checks that reject
    # another frame's rows cheaply come first, the parent's fingerprint last (each cost ~1 ms a candidate: a miss
    # of critical_path and trace_outcomes with 80 frames alive took 128 ms, against 20 ms with none)
    for parent, parent_fp, value in candidates:
        if parent is None or parent is spans or len(parent) < n or not parent.index.is_unique:
            continue
        pos = parent.index.get_indexer(spans.index)
        if (pos < 0).any() or (n > 1 and (np.diff(pos) <= 0).any()):
            continue  # not a row subset in the parent's order
        cols = [c for c in columns if c in spans.columns]
        if [c for c in columns if c in parent.columns] != cols:
            continue
        if cols and _first_cells_differ(spans, parent, cols[0], int(pos[0])):
            continue  # another frame's rows (what every other frame alive is): said by one cell
        if not all(spans[c].reset_index(drop=True).equals(parent[c].take(pos).reset_index(drop=True)) for c in cols):
            continue
        if fingerprint(parent, columns) != parent_fp:
            continue  # the parent was edited in place since: its result is stale
        if by_rows is not None:
            return by_rows(value, pos)
        counts = spans["trace_id"].value_counts(dropna=False)
        if not parent["trace_id"].value_counts(dropna=False).reindex(counts.index).eq(counts).all():
            continue  # some trace is not whole
        return by_trace(value, pd.Index(counts.index))
    return None


def _first_cells_differ(spans: pd.DataFrame, parent: pd.DataFrame, col: str, at: int) -> bool:
    """``spans``' first cell of ``col`` and ``parent``'s at row ``at`` are two different strings, or a string and a
    missing value: then the column differs whatever pandas' equality (checked next) says of the others. Read without
    building a Series (which deep-copies the frame's ``attrs``); anything but text or a missing value is left to
    that check."""
    x, y = _column_values(spans, col)[0], _column_values(parent, col)[at]
    x_na, y_na = x is None or x is pd.NA, y is None or y is pd.NA
    if x_na or y_na:
        return x_na != y_na and (x_na or type(y) is str) and (y_na or type(x) is str)
    return type(x) is str and type(y) is str and x != y


def _out(value: Any) -> Any:
    if isinstance(value, pd.DataFrame):
        out = value.copy(deep=False)
        out.attrs = dict(value.attrs)
        return out
    return value


def cache_stats() -> dict[str, CacheStats]:
    """Computations and hits per cached name since the process started (copies).

    Examples
    --------
    >>> isinstance(cache_stats(), dict)
    True
    """
    with _LOCK:
        return {k: CacheStats(v.computed, v.hits) for k, v in _STATS.items()}


def clear_cache() -> None:
    """Forget every cached result of every frame: span trees, trace outcomes, critical paths, changed course, log
    templates (the statistics stay). Time an analysis cold after it.

    Examples
    --------
    >>> clear_cache()
    """
    with _LOCK:
        _FRAMES.clear()
