"""Copies of one span read twice: which rows the readers drop (one rule for X-Ray and OTLP).

Among rows of one ``(trace_id, span_id)``: a complete span replaces in-progress copies; copies equal in every
column but ``source_file`` / ``source_record`` (the same document read twice, from one file or two: overlapping
exports, a collector's retry, a folder read beside a copy of itself) collapse to the first; different complete
copies of one id are all kept (the health check reports duplicate ids, the critical path says which copy is
unknown). The readers count the copies they drop in ``attrs["copies_dropped"]``.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..core.nested import kept
from ._sources import is_pathlike

__all__ = ["duplicate_candidates", "duplicates_to_drop", "without_copies"]

_DUMP = orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def duplicate_candidates(ids: pa.Array | pa.ChunkedArray, id_bytes: np.ndarray | None = None) -> np.ndarray | None:
    """Rows whose span id (as given) occurs more than once; None when every id is unique (usual).

    When every id is 16 characters and none is missing (the usual case; ``id_bytes``, their bytes, may be
    given), a 64-bit hash of each id's bytes, sorted, shows most often that no two are equal (equal ids have equal
    hashes; equal hashes go to the exact test): ~0.06 s per million ids, chunk by chunk.

    >>> duplicate_candidates(pa.array(["a", "b", "a"], pa.large_string())).tolist()
    [0, 2]
    >>> ids = pa.chunked_array([pa.array(["00f067aa0ba902b7"], pa.large_string()),
    ...                         pa.array(["00f067aa0ba902b8", "00f067aa0ba902b7"], pa.large_string())])
    >>> duplicate_candidates(ids).tolist(), duplicate_candidates(ids[:2]) is None
    ([0, 2], True)
    """
    chunks = ids.chunks if isinstance(ids, pa.ChunkedArray) else [ids]
    if not ids.null_count:
        parts = [id_bytes] if id_bytes is not None and len(chunks) == 1 else [_bytes16(c) for c in chunks]
        if all(p is not None for p in parts):
            pairs = np.concatenate(parts).view(np.uint64).reshape(-1, 2) if parts else np.zeros((0, 2), np.uint64)
            h = pairs[:, 0] ^ (pairs[:, 1] * np.uint64(0x9E3779B97F4A7C15))
            h.sort()
            if not (h[1:] == h[:-1]).any():
                return None
    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks()
    if len(pc.unique(ids, memory_pool=pa.system_memory_pool())) == len(ids):
        return None
    counts = pc.value_counts(ids)
    dup = counts.field("values").filter(pc.greater(counts.field("counts"), 1))
    return np.flatnonzero(pc.is_in(ids, value_set=dup).to_numpy(zero_copy_only=False))


def _bytes16(arr: pa.Array) -> np.ndarray | None:
    """The bytes of a null-free ``large_string`` array whose every value is 16 bytes long, else None."""
    if not len(arr):
        return np.zeros(0, dtype=np.uint8)
    offs = np.frombuffer(arr.buffers()[1], dtype=np.int64, count=len(arr) + 1, offset=arr.offset * 8)
    if offs[-1] - offs[0] != 16 * len(arr) or (np.diff(offs) != 16).any():
        return None
    return np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offs[0]:offs[-1]]


def duplicates_to_drop(df: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """Rows to drop among same-(trace_id, span_id) rows: in-progress copies of a complete span,
    and copies equal in every column but source_file/source_record (e.g. one document read twice).

    Column-wise over the candidate rows only (reading one file twice makes every row a candidate): each column
    factorized (object cells by a canonical JSON fingerprint, computed once per distinct object), the codes
    combined into one key per row; the first row of each key is kept.

    >>> import tracekit as tk
    >>> df = tk.spans_from_columns({"trace_id": ["a"] * 3, "span_id": ["b"] * 3, "name": ["x", "x", "y"],
    ...                             "start": [0, 0, 0], "end": [1, 1, 1], "attributes": [{"k": 1}, {"k": 1}, {}]})
    >>> duplicates_to_drop(df, np.arange(3)).tolist()
    [False, True, False]
    """
    sub = df.iloc[rows]
    codes = column_codes(sub, ("source_file", "source_record", "duration_ms"))  # where it came from; derived
    span = _combined([codes["trace_id"], codes["span_id"]])
    inprog = sub["in_progress"].to_numpy(dtype=bool, na_value=False)
    complete = np.bincount(span, weights=~inprog, minlength=int(span.max(initial=-1)) + 1) > 0
    drop_sub = inprog & complete[span]  # an in-progress copy of a span that has a complete one
    left = np.flatnonzero(~drop_sub)
    key = _combined(list(codes.values()))[left]
    first = np.zeros(len(left), dtype=bool)
    first[np.unique(key, return_index=True)[1]] = True
    drop_sub[left[~first]] = True  # another copy equal in every column
    drop = np.zeros(len(df), dtype=bool)
    drop[rows[drop_sub]] = True
    return drop


def column_codes(frame: pd.DataFrame, skip: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Each column but ``skip`` as codes 0 .. k − 1 (equal values, equal codes; a missing value is one value): dict
    and list cells (an object or lazy column) by a canonical JSON fingerprint, computed once per distinct object (a
    document's resource is shared by its rows)."""
    codes = {}
    for c in frame.columns:
        if c in skip:
            continue
        s = frame[c]
        if s.dtype == object or s.dtype.name == "tracekit.lazy":
            memo: dict[int, bytes] = {}
            prints = [memo[id(v)] if id(v) in memo else memo.setdefault(id(v), _fingerprint(v)) for v in s]
            codes[c] = pd.factorize(np.asarray(prints + [b""], dtype=object)[:-1])[0]
        else:
            codes[c] = pd.factorize(s, use_na_sentinel=False)[0]
    return codes


def _combined(codes: list[np.ndarray]) -> np.ndarray:
    """One code per row for the tuple of its codes (each in 0..n-1)."""
    key = codes[0].astype(np.int64)
    for c in codes[1:]:
        key = pd.factorize(key * (int(c.max(initial=0)) + 1) + c)[0].astype(np.int64)  # < n² < 2**63
    return key


def _fingerprint(v: Any) -> bytes:
    try:
        out = kept(orjson.dumps(v, option=_DUMP))  # a key per cell: orjson's buffer is 4 KB
        if b"null" not in out:
            return out
        # orjson writes NaN, +Inf and -Inf as null, like None: two spans apart only in those are not copies
        # (Python's json writes NaN, Infinity, -Infinity; rare, so only where a null was written)
        return json.dumps(v, sort_keys=True, default=repr, allow_nan=True).encode("utf-8", "surrogatepass")
    except (TypeError, ValueError):  # an integer beyond 64 bits, nesting beyond 255, keys json cannot sort
        try:
            return repr(v).encode("utf-8", "surrogatepass")
        except RecursionError:  # too deep to compare: treated as distinct (both copies kept)
            return b"\0deep" + str(id(v)).encode()


def copies_read_again(df: pd.DataFrame, prefilter: tuple[str, ...]) -> np.ndarray:
    """Rows of a logs or metrics frame that are copies read again: of the rows equal in every column but
    ``source_file`` / ``source_record``, as many are kept as the one file holding the most of them holds (the first
    in read order), whatever order the files were named in: a log statement written twice in one millisecond is
    two records, which nothing but their place tells apart, and a file beside a copy of itself holds them twice
    too, not four times (a file named twice is read once: the readers' part lists hold each path once).

    ``prefilter``: scalar columns (time, ids…) whose joint value a copy shares with its original; only rows whose
    value occurs more than once are compared in full (a frame read once pays one ``duplicated`` over them).

    >>> import tracekit as tk
    >>> logs = tk.logs_from_columns({"time": [1, 1, 1, 1, 1, 1], "body": ["a", "a", "a", "a", "b", "a"],
    ...     "source_file": ["x.json", "x.json", "y.json", "y.json", "y.json", "z.json"],
    ...     "source_record": [1, 2, 1, 2, 3, 1]})
    >>> copies_read_again(logs, ("time",)).tolist()
    [False, False, True, True, False, True]
    """
    n = len(df)
    drop = np.zeros(n, dtype=bool)
    if n < 2 or "source_file" not in df.columns:
        return drop
    fcode = pd.factorize(df["source_file"], use_na_sentinel=False)[0].astype(np.int64)
    nf = int(fcode.max()) + 1
    if nf < 2:  # one file: nothing in it was read again (its repeats are its own records)
        return drop
    # a copy read again shares its first prefilter value (the time) with a row of another file: only rows whose
    # value is in two files or more are compared (files of different windows pay one factorize of that column)
    first = pd.factorize(df[prefilter[0]], use_na_sentinel=False)[0].astype(np.int64)
    pairs = pd.unique(first * nf + fcode)
    cand = np.flatnonzero(np.bincount(pairs // nf, minlength=int(first.max()) + 1)[first] > 1)
    if not len(cand):
        return drop
    cand = cand[df[list(prefilter)].iloc[cand].duplicated(keep=False).to_numpy()]
    if not len(cand):
        return drop
    # only values seen in two files or more can be a copy read again (the rest stay, unread)
    pre = _combined([pd.factorize(df[c].iloc[cand], use_na_sentinel=False)[0] for c in prefilter])
    fcode = pd.factorize(df["source_file"].iloc[cand], use_na_sentinel=False)[0]
    files = pd.Series(fcode).groupby(pre).nunique().to_numpy()
    cand = cand[files[pre] > 1]
    if not len(cand):
        return drop
    sub = df.iloc[cand]
    key = _combined(list(column_codes(sub, ("source_file", "source_record")).values()))
    file = pd.factorize(sub["source_file"], use_na_sentinel=False)[0]
    per_file = pd.Series(1, index=pd.MultiIndex.from_arrays([key, file])).groupby(level=[0, 1]).size()
    keep = per_file.groupby(level=0).max().reindex(key).to_numpy()  # per value, the most rows one file holds
    rank = pd.Series(key).groupby(key).cumcount().to_numpy()  # 0, 1, … in read order within each value
    drop[cand[rank >= keep]] = True
    return drop


def each_path_once(parts: list) -> list:
    """A reader's parts with each file once: a path named twice (a file and the folder holding it, or the same
    path twice in a list) is read once, its first time; anything that is not a path is kept as it is.

    >>> each_path_once(["a.json", "./a.json", {"doc": 1}, "b.json", "a.json"])
    ['a.json', {'doc': 1}, 'b.json']
    """
    import os

    seen: set[str] = set()
    out = []
    for p in parts:
        if is_pathlike(p):  # (a str of JSON text is a source, not a path)
            try:
                key = os.path.realpath(os.fspath(p))
            except (OSError, ValueError, UnicodeError):  # a name no file system takes: read as given
                key = None
            if key is not None:
                if key in seen:
                    continue
                seen.add(key)
        out.append(p)
    return out


def without_copies(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` (frames of several inputs, concatenated) without the copies :func:`duplicates_to_drop` drops, their
    number added to ``attrs["copies_dropped"]``: the readers' rule across inputs of which some are spans stores (a
    store read beside the JSON it was converted from gave every span twice and ``copies_dropped`` 0)."""
    col = df["span_id"].array
    chunked = getattr(col, "_pa_array", None)  # Arrow-backed text (the readers' and the store's): no Python objects
    ids = chunked.cast(pa.large_string()) if chunked is not None \
        else pa.array(df["span_id"].astype(object).to_numpy(), type=pa.large_string(), from_pandas=True)
    rows = duplicate_candidates(ids)
    if rows is None or len(rows) < 2:
        return df
    drop = duplicates_to_drop(df, rows)
    n = int(np.count_nonzero(drop))
    if not n:
        return df
    attrs = dict(df.attrs)
    out = df.loc[~drop].reset_index(drop=True)
    out.attrs = attrs
    out.attrs["copies_dropped"] = int(attrs.get("copies_dropped", 0) or 0) + n
    return out
