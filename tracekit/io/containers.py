"""Dict and list columns stored column-wise, and read back lazily: the spans store's containers.

The spans schema keeps ``attributes`` and ``resource`` as one dict per span and ``events`` and
``links`` as one list per span. Building a million dicts costs about as much as parsing the JSON
they came from, so the store (:mod:`tracekit.io.parquet`) keeps them column-wise and a reopened
frame holds them in a :class:`LazyColumn`: a pandas extension array whose cells are real
``dict``/``list`` objects, built from the stored columns the first time they are asked for.

**Encoding a dict column** (:func:`encode_dicts`). Every distinct *shape* — the keys of a dict in
their order, with each value's type code — is listed once; each row stores its shape number.
Values go to one typed column per (key, type) present: ``s`` text, ``i`` integer (within int64),
``f`` float (NaN and ±inf as they are), ``b`` bool; ``n`` is a key whose value is None (no column).
Everything else — nested dicts and lists, bytes, integers beyond int64, and keys beyond the
:data:`MAX_TYPED` most frequent — goes, in shape order, to one per-row fallback cell (a msgpack
array, ``msgspec``): bytes stay bytes, nested values stay nested with their types, an integer beyond
msgpack's 64 bits is an extension holding its decimal digits (read back as the same int). A value that
msgpack cannot hold exactly (a tuple, a set, a numpy scalar, a dict key that is not text) is an
error naming the column, the row and the key, never a silent change. A row's dict is rebuilt in
its original key order. **Lists** (``events``, ``links``) are one msgpack cell per row (an empty
list is a null cell).

**Reading one key** (:meth:`LazyColumn.key_values`) takes the key's typed columns and, only for
rows that hold the key in the fallback, their fallback cells: no dict is built. ``tk.attribute``,
``routes`` and ``callees`` use it when the frame came from a store.

**Readers' lazy columns.** ``read_metrics`` and ``read_logs`` (their typed fast paths) return
``attributes``, ``resource`` (and metrics' ``exemplars``, ``buckets``) as lazy columns too, over
sources built from what they decoded, everything checked at read time so that building a cell
cannot fail: :func:`attribute_source` (OTLP KeyValue lists kept as raw JSON bytes, deduplicated
column-wise, each distinct list decoded once; the one kernel both readers use) and
:class:`SharedDictSource` (cells that are copies of a few dicts: attribute sets, a scope's
resource), :class:`BuiltSource` (cells made by a reader's builder from column-wise data).
``pd.concat`` of lazy columns of different sources stays lazy (:class:`ConcatSource`); with a
plain object column it gives an object column.

**Honest cells.** A cell, once built, is kept (built at most once per stored row, so a dict you
change stays changed and a later key read sees the change: key reads use the stored columns only
for rows never built). ``to_numpy()``, ``tolist()``, iteration and ``np.asarray`` give real dicts
and lists, so code that reads them in C (orjson, ``dict.get`` mapped over the column) sees exactly
what a reader would have given; ``df.astype({"attributes": object})`` or
:func:`tracekit.io.parquet.materialize` turns the column into a plain object column. The dtype
(``tracekit.lazy``) says that a column is lazy.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from typing import Any

import msgspec
import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.api.extensions import ExtensionArray, ExtensionDtype, register_extension_dtype

from ..core.nested import map_leaves
from ..errors import TraceFormatError, TraceKitError

__all__ = ["LazyColumn", "LazyDtype", "encode_dicts", "encode_lists", "DictSource", "ListSource", "MAX_TYPED",
           "SharedDictSource", "BuiltSource", "ObjectSource", "ConcatSource", "attribute_source", "NotCovered",
           "concat_parts", "join_raws", "exact_problem"]

#: at most this many typed (key, type) columns per dict column; rarer keys go to the fallback
MAX_TYPED = 512
_CODES = {str: "s", int: "i", float: "f", bool: "b", type(None): "n"}
_ARROW = {"s": pa.string(), "i": pa.int64(), "f": pa.float64(), "b": pa.bool_()}
_ENC = msgspec.msgpack.Encoder()


#: msgpack extension type of an integer beyond msgpack's 64 bits (below -2**63 or above 2**64 - 1, which readers
#: keep exactly: X-Ray numbers, OTLP ``intValue`` strings): its decimal digits in ASCII
_EXT_WIDE_INT = 1


def _wide_ints(v: Any) -> Any:
    """A copy of ``v`` with every integer msgpack cannot hold as an :class:`msgspec.msgpack.Ext` of its digits
    (containers rebuilt by :func:`tracekit.core.nested.map_leaves`, iterative)."""
    return map_leaves(v, lambda x: msgspec.msgpack.Ext(_EXT_WIDE_INT, str(x).encode())
                      if type(x) is int and not -(2**63) <= x < 2**64 else x)


def _ext_hook(code: int, data: memoryview) -> Any:
    if code == _EXT_WIDE_INT:
        try:
            return int(bytes(data).decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            pass
    raise msgspec.DecodeError(f"unknown msgpack extension {code} ({bytes(data)[:40]!r})")


def _encode(v: Any, column: str, row: Any, key: Any = None) -> bytes:
    """One stored cell as msgpack; an integer beyond msgpack's 64 bits as an extension of its decimal digits (read back
    as the same int); a value nested past what the encoder reaches (it recurses: ~1,000 levels, which the readers
    take) a clear error naming the cell, not a bare RecursionError."""
    try:
        try:
            return _ENC.encode(v)
        except OverflowError:
            return _ENC.encode(_wide_ints(v))
    except RecursionError:
        where = f"column {column!r} row {row!r}" + (f" key {key!r}" if key is not None else "")
        raise TraceKitError(f"write_parquet: {where}: nested too deep to store (msgpack's encoder recurses, about "
                            f"{sys.getrecursionlimit():,} levels); flatten it, or keep these spans as JSON "
                            "(tk.write_otlp)") from None
_DEC = msgspec.msgpack.Decoder(ext_hook=_ext_hook)
_EXACT = (str, int, float, bool, type(None), bytes)


# --------------------------------------------------------------------------------- encoding


def exact_problem(value: Any, *, wide_ints: bool = False) -> str | None:
    """What msgpack would not give back exactly in ``value`` (None: nothing). Walks without recursion.

    The one definition of a container value the store (and ``tk.dask``'s shuffle) keeps exactly: str, int, float,
    bool, None, bytes, lists and dicts with text keys; a tuple, a datetime, a dict key that is not text are not.
    ``wide_ints=False`` refuses an integer beyond 64 bits too (for JSON that orjson would read back as a double);
    the store keeps it (a msgpack extension of its digits), and so does ``tk.dask``'s shuffle (msgspec's JSON).

    >>> exact_problem({"a": [1, "x", None]}) is None, exact_problem({"t": (1, 2)})
    (True, 'a value of type tuple ((1, 2))')
    """
    stack = [value]
    while stack:
        v = stack.pop()
        t = type(v)
        if t is dict:
            for k in v:
                if type(k) is not str:
                    return f"a dict key of type {type(k).__name__} ({k!r:.40}); keys must be text"
            stack.extend(v.values())
        elif t is list:
            stack.extend(v)
        elif t is int:
            if not wide_ints and not -(2**63) <= v < 2**64:
                return f"an integer beyond 64 bits ({v!r:.40})"
        elif t not in _EXACT:
            return f"a value of type {t.__name__} ({v!r:.60})"
    return None


def _check_exact(value: Any, column: str, row: Any, key: str) -> None:
    why = exact_problem(value, wide_ints=True)
    if why is not None:
        raise TraceKitError(f"write_parquet: column {column!r} row {row!r} key {key!r}: cannot be stored exactly: {why}; "
                            "use str, int, float, bool, None, bytes, list and dict with text keys")


def encode_dicts(values: np.ndarray, column: str, index: pd.Index) -> tuple[dict[str, pa.Array], dict]:
    """A column of dicts → Arrow columns (named ``column:…``) and the metadata that reads them back.

    ``values`` is the object array of the column; ``index`` names rows in errors.
    """
    n = len(values)
    shape_of: dict[tuple, int] = {}
    rows_by: list[list[int]] = []
    vals_by: list[list[tuple]] = []
    sids = np.empty(n, dtype=np.int32)
    for i, d in enumerate(values):
        if type(d) is not dict:
            if d is None:
                sids[i] = -1
                continue
            if not isinstance(d, dict):
                raise TraceKitError(f"write_parquet: column {column!r} row {index[i]!r}: expected a dict, got "
                                    f"{type(d).__name__}")
        vs = tuple(d.values())
        key = (tuple(d), tuple(map(type, vs)))
        s = shape_of.get(key)
        if s is None:
            s = shape_of[key] = len(rows_by)
            rows_by.append([])
            vals_by.append([])
        sids[i] = s
        rows_by[s].append(i)
        vals_by[s].append(vs)
    shapes = list(shape_of)
    count: dict[tuple[str, str], int] = {}
    for s, (keys, types) in enumerate(shapes):
        for k, t in zip(keys, types, strict=False):
            if type(k) is not str:
                raise TraceKitError(f"write_parquet: column {column!r} row {index[rows_by[s][0]]!r}: a key of type "
                                    f"{type(k).__name__} ({k!r:.40}); keys must be text")
            c = _CODES.get(t, "x")
            if c in _ARROW:
                count[(k, c)] = count.get((k, c), 0) + len(rows_by[s])
    typed = sorted(count, key=lambda kc: (-count[kc], kc))[:MAX_TYPED]
    cols: dict[tuple[str, str], np.ndarray] = {kc: np.full(n, None, dtype=object) for kc in typed}
    for s, (keys, types) in enumerate(shapes):
        rows = np.asarray(rows_by[s], dtype=np.int64)
        for j, (k, t) in enumerate(zip(keys, types, strict=False)):
            kc = (k, _CODES.get(t, "x"))
            if kc in cols:
                tmp = np.empty(len(rows), dtype=object)
                tmp[:] = [v[j] for v in vals_by[s]]
                cols[kc][rows] = tmp
    arrays: dict[str, pa.Array] = {}
    columns_meta = []
    demoted: set[tuple[str, str]] = set()
    for (k, c), obj in cols.items():
        try:
            arr = pa.array(obj, type=_ARROW[c])
        except (OverflowError, pa.ArrowInvalid):  # an integer beyond int64: to the fallback
            demoted.add((k, c))
            continue
        name = f"{column}:{c}:{k}"
        arrays[name] = arr
        columns_meta.append([k, c, name])
    kept = {(k, c) for k, c, _ in columns_meta}
    # shapes in codes; type shapes that map to one code shape are merged
    code_shape_of: dict[tuple, int] = {}
    remap = np.empty(len(shapes) + 1, dtype=np.int32)
    remap[-1] = -1
    fallback: list[Any] = [None] * n
    any_fb = False
    for s, (keys, types) in enumerate(shapes):
        codes = []
        for k, t in zip(keys, types, strict=False):
            c = _CODES.get(t, "x")
            codes.append(c if c == "n" or (k, c) in kept else "x")
        cs = (keys, "".join(codes))
        remap[s] = code_shape_of.setdefault(cs, len(code_shape_of))
        xs = [j for j, c in enumerate(codes) if c == "x"]
        if xs:
            any_fb = True
            for r, vs in zip(rows_by[s], vals_by[s], strict=False):
                cell = [vs[j] for j in xs]
                for j, v in zip(xs, cell, strict=False):
                    if type(v) not in (str, float, bool):
                        _check_exact(v, column, index[r], keys[j])
                fallback[r] = _encode(cell, column, index[r], keys[xs[0]] if len(xs) == 1 else None)
    arrays[f"{column}:shape"] = pa.array(remap[sids], type=pa.int32())
    if any_fb:
        arrays[f"{column}:fallback"] = pa.array(fallback, type=pa.binary())
    meta = {"kind": "dicts", "shapes": [[list(k), c] for k, c in code_shape_of], "columns": columns_meta,
            "shape_column": f"{column}:shape", "fallback_column": f"{column}:fallback" if any_fb else None}
    return arrays, meta


def encode_lists(values: np.ndarray, column: str, index: pd.Index) -> tuple[dict[str, pa.Array], dict]:
    """A column of lists (events, links) → one msgpack cell per row (null: an empty list)."""
    out: list[Any] = [None] * len(values)
    for i, v in enumerate(values):
        if type(v) is list and not v:
            continue
        if type(v) is not list and v is not None:
            raise TraceKitError(f"write_parquet: column {column!r} row {index[i]!r}: expected a list, got {type(v).__name__}")
        why = exact_problem(v, wide_ints=True)
        if why is not None:
            raise TraceKitError(f"write_parquet: column {column!r} row {index[i]!r}: cannot be stored exactly: {why}; "
                                "use str, int, float, bool, None, bytes, list and dict with text keys")
        out[i] = _encode(v, column, index[i])
    name = f"{column}:msgpack"
    return {name: pa.array(out, type=pa.binary())}, {"kind": "lists", "column": name}


# --------------------------------------------------------------------------------- sources


class _Source:
    """Stored cells of one container column (one file or several merged) and the cells built so far."""

    file: str
    column: str
    n: int

    def __init__(self) -> None:
        self._cells = np.empty(self.n, dtype=object)
        self._built = np.zeros(self.n, dtype=bool)

    def cells(self, rows: np.ndarray) -> np.ndarray:
        """The cells of ``rows`` (source positions), built once each."""
        need = rows[~self._built[rows]]
        if len(need):
            from .otlp import gc_paused  # the readers' pause: many small containers, no cycles

            if len(need) * 64 < self.n:  # a few rows (a cell at a time): no pass over the whole source
                need = np.unique(need)
            else:
                mask = np.zeros(self.n, dtype=bool)  # unique, sorted: O(n), no sort
                mask[need] = True
                need = np.flatnonzero(mask)
            with gc_paused():
                self._cells[need] = self._build(need)
            self._built[need] = True
        return self._cells[rows]

    def _build(self, rows: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def preset(self, rows: np.ndarray, values: Sequence) -> None:
        """Give ``rows`` their cells now (a reader's rows that are built at read time anyway)."""
        rows = np.asarray(rows, dtype=np.int64)
        self._cells[rows] = _obj(list(values))
        self._built[rows] = True

    # column-wise reads, without building cells (None: this source cannot; the caller builds)
    def key_values(self, key: str, rows: np.ndarray) -> tuple[list, np.ndarray] | None:
        """``key``'s value at each of ``rows`` as stored (cells built or not) and a mask of rows holding it."""
        return None

    def heads_mask(self, heads: Sequence[str], rows: np.ndarray) -> np.ndarray | None:
        """Mask of ``rows`` whose first of ``heads`` present holds a nested value (as stored)."""
        return None

    def missing(self, rows: np.ndarray) -> np.ndarray | None:
        """Mask of ``rows`` whose cell is None (as stored)."""
        return None

    def read_key(self, key: str, rows: np.ndarray) -> tuple[list, np.ndarray] | None:
        """:meth:`key_values` with the cells already built read from their dicts (a changed dict counts)."""
        got = self.key_values(key, rows)
        if got is None:
            return None
        vals, has = got
        built = self._built[rows]
        if built.any():
            for p, d in zip(np.flatnonzero(built).tolist(), self._cells[rows[built]], strict=False):
                vals[p] = d.get(key) if isinstance(d, dict) else None
                has[p] = isinstance(d, dict) and key in d
        return vals, has

    def read_heads(self, heads: Sequence[str], rows: np.ndarray) -> np.ndarray | None:
        """:meth:`heads_mask` with the cells already built read from their dicts."""
        out = self.heads_mask(heads, rows)
        if out is None:
            return None
        built = self._built[rows]
        if built.any():
            out[built] = [isinstance(d, dict) and not set(heads).isdisjoint(d) for d in self._cells[rows[built]]]
        return out

    def read_missing(self, rows: np.ndarray) -> np.ndarray | None:
        """:meth:`missing` with the cells already built read as they are."""
        out = self.missing(rows)
        if out is None:
            return None
        built = self._built[rows]
        if built.any():
            out[built] = [d is None for d in self._cells[rows[built]]]
        return out

    def _bad(self, what: str, row: int | None = None) -> TraceFormatError:
        return TraceFormatError(f"column {self.column!r}: {what}", file=self.file,
                                record=None if row is None else f"row {row}")


def _obj(values: list) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


class ListSource(_Source):
    """``events`` / ``links``: one msgpack cell per row."""

    def __init__(self, blobs: pa.ChunkedArray, file: str, column: str):
        self.n, self.file, self.column = len(blobs), file, column
        self._blobs = blobs
        self._np: np.ndarray | None = None
        super().__init__()

    def _build(self, rows: np.ndarray) -> np.ndarray:
        if self._np is None:
            self._np = self._blobs.to_numpy(zero_copy_only=False)
            self._valid = self._blobs.is_valid().to_numpy(zero_copy_only=False)
        valid = self._valid[rows]
        out = _obj([[] for _ in range(len(rows))])  # a null cell is an empty list
        pos = np.flatnonzero(valid)
        if len(pos):
            try:
                out[pos] = _obj(list(map(_DEC.decode, self._np[rows[pos]])))
            except (msgspec.DecodeError, RecursionError):  # (a cell nested past the stack: a tampered store)
                for r in rows[pos].tolist():  # name the row
                    try:
                        _DEC.decode(self._np[r])
                    except msgspec.DecodeError as e:
                        raise self._bad(f"stored value is not valid msgpack ({e})", r) from None
                    except RecursionError:
                        raise self._bad("stored value is nested too deep to decode (no writer nests so)", r) from None
                raise
        return out


class DictSource(_Source):
    """``attributes`` / ``resource``: shapes, typed columns and a fallback column (see the module docstring)."""

    def __init__(self, shapes: list[tuple[tuple[str, ...], str]], shape_ids: np.ndarray,
                 columns: dict[tuple[str, str], pa.ChunkedArray], fallback: pa.ChunkedArray | None,
                 file: str, column: str):
        self.n, self.file, self.column = len(shape_ids), file, column
        self.shapes, self.shape_ids, self.columns, self.fallback = shapes, shape_ids, columns, fallback
        self._np: dict[tuple[str, str], np.ndarray] = {}
        self._fb: np.ndarray | None = None
        self._where: dict[str, list[tuple[str, list[int]]]] = {}
        super().__init__()

    def _column(self, kc: tuple[str, str]) -> np.ndarray:
        a = self._np.get(kc)
        if a is None:
            col = self.columns[kc]
            if kc[1] == "s":
                a = col.to_numpy(zero_copy_only=False)
            else:
                a = col.fill_null({"i": 0, "f": 0.0, "b": False}[kc[1]]).to_numpy()
            self._np[kc] = a
        return a

    def _fallback(self, rows: np.ndarray) -> list:
        if self._fb is None:
            if self.fallback is None:
                raise self._bad("a shape needs the fallback column, which is missing")
            self._fb = self.fallback.to_numpy(zero_copy_only=False)
        out = []
        for r, b in zip(rows.tolist(), self._fb[rows], strict=False):
            try:
                v = _DEC.decode(b)
            except (msgspec.DecodeError, TypeError) as e:
                raise self._bad(f"fallback cell is not valid msgpack ({e})", r) from None
            except RecursionError:
                raise self._bad("fallback cell is nested too deep to decode (no writer nests so)", r) from None
            if type(v) is not list:
                raise self._bad("fallback cell is not a list", r)
            out.append(v)
        return out

    def _values(self, keys: tuple[str, ...], codes: str, rows: np.ndarray) -> list[list]:
        """Per position of the shape, the values of ``rows`` (all of that shape)."""
        fb = self._fallback(rows) if "x" in codes else None
        cols: list[list] = []
        x = 0
        for k, c in zip(keys, codes, strict=False):
            if c == "n":
                cols.append([None] * len(rows))
            elif c == "x":
                j = x
                try:
                    cols.append([v[j] for v in fb])  # type: ignore[union-attr]
                except IndexError:
                    raise self._bad(f"fallback cell is shorter than its shape (key {k!r})") from None
                x += 1
            else:
                cols.append(self._column((k, c))[rows].tolist())
        return cols

    def _build(self, rows: np.ndarray) -> np.ndarray:
        sid = self.shape_ids[rows]
        out = np.empty(len(rows), dtype=object)
        order = np.argsort(sid, kind="stable")
        bounds = np.flatnonzero(np.diff(sid[order])) + 1
        for grp in np.split(order, bounds):
            if not len(grp):
                continue
            s = int(sid[grp[0]])
            if s < 0:
                continue  # None cells
            keys, codes = self.shapes[s]
            if not keys:
                out[grp] = _obj([{} for _ in range(len(grp))])
                continue
            cols = self._values(keys, codes, rows[grp])
            out[grp] = _obj([dict(zip(keys, t, strict=False)) for t in zip(*cols, strict=False)])
        return out

    def where(self, key: str) -> list[tuple[int, int, str]]:
        """(shape, position, code) of every shape holding ``key``."""
        w = self._where.get(key)
        if w is None:
            w = self._where[key] = [(s, keys.index(key), codes[keys.index(key)])
                                    for s, (keys, codes) in enumerate(self.shapes) if key in keys]
        return w  # type: ignore[return-value]

    def heads_mask(self, heads: Sequence[str], rows: np.ndarray) -> np.ndarray:
        ok = []
        for keys, codes in self.shapes:
            pos = {k: i for i, k in enumerate(keys)}
            first = next((h for h in heads if h in pos), None)
            ok.append(first is not None and codes[pos[first]] == "x")
        return np.array(ok + [False], dtype=bool)[self.shape_ids[rows]]

    def missing(self, rows: np.ndarray) -> np.ndarray:
        return self.shape_ids[rows] < 0

    def key_values(self, key: str, rows: np.ndarray) -> tuple[list, np.ndarray]:
        """``key``'s value at each of ``rows`` (None where absent) and a mask of rows holding the key."""
        vals: list = [None] * len(rows)
        has = np.zeros(len(rows), dtype=bool)
        w = self.where(key)
        if not w:
            return vals, has
        sid = self.shape_ids[rows]
        shp = np.array([s for s, _, _ in w], dtype=np.int32)
        has = np.isin(sid, shp)
        codes = {c for _, _, c in w}
        for c in codes & set(_ARROW):
            mask = np.isin(sid, np.array([s for s, _, cc in w if cc == c], dtype=np.int32))
            pos = np.flatnonzero(mask)
            got = self._column((key, c))[rows[pos]].tolist()
            for p, v in zip(pos.tolist(), got, strict=False):
                vals[p] = v
        if "x" in codes:
            for s, j, c in w:
                if c != "x":
                    continue
                pos = np.flatnonzero(sid == s)
                if not len(pos):
                    continue
                keys, scodes = self.shapes[s]
                xi = scodes[:j].count("x")
                for p, cell in zip(pos.tolist(), self._fallback(rows[pos]), strict=False):
                    vals[p] = cell[xi]
        return vals, has


class SharedDictSource(_Source):
    """Dict cells that are each a copy of one of a few distinct dicts: ``templates[index[row]]``
    (index -1: a None cell). A reader's attribute sets and resources repeat: each distinct one is
    decoded (and checked) once at read time; a row's dict is a copy made when first asked for
    (a deep copy where the template holds a list or dict, so rows never share a mutable value)."""

    def __init__(self, templates: Sequence[dict | None], index: np.ndarray, file: str, column: str):
        self.n, self.file, self.column = len(index), file, column
        self.templates = list(templates) + [None]  # index -1: None
        self.index = np.asarray(index, dtype=np.int64)
        self._deep_: list[bool] | None = None
        super().__init__()

    @property
    def _deep(self) -> list[bool]:
        """Per template: holds a list or dict (its copies are deep). Found when first building."""
        if self._deep_ is None:
            deep: dict[int, bool] = {}  # by identity: a reader's templates repeat (one resource per scope)
            for t in self.templates:
                if id(t) not in deep:
                    deep[id(t)] = t is not None and any(type(v) is dict or type(v) is list for v in t.values())
            self._deep_ = [deep[id(t)] for t in self.templates]
        return self._deep_

    @classmethod
    def merge(cls, sources: Sequence[SharedDictSource], file: str, column: str) -> SharedDictSource:
        """One source of the rows of ``sources`` one after the other (their templates side by side)."""
        templates: list = []
        index = []
        for src in sources:
            idx = src.index
            index.append(np.where(idx < 0, -1, idx + len(templates)))
            templates.extend(src.templates[:-1])
        return cls(templates, np.concatenate(index) if index else np.empty(0, np.int64), file, column)

    def _build(self, rows: np.ndarray) -> np.ndarray:
        idx = self.index[rows].tolist()
        t = self.templates
        if not any(self._deep) and -1 not in idx:
            return _obj(list(map(dict.copy, map(t.__getitem__, idx))))
        from copy import deepcopy

        deep = self._deep
        return _obj([None if (d := t[i]) is None else deepcopy(d) if deep[i] else d.copy() for i in idx])

    def key_values(self, key: str, rows: np.ndarray) -> tuple[list, np.ndarray]:
        has_t = np.array([d is not None and key in d for d in self.templates], dtype=bool)
        idx = self.index[rows]
        has = has_t[idx]
        if not has.any():
            return [None] * len(rows), has
        per = [d.get(key) if d is not None else None for d in self.templates]
        vals = _obj(per)[idx].tolist()
        nested = [i for i, v in enumerate(per) if type(v) is dict or type(v) is list]
        if nested:  # a row's own copy of a nested value
            from copy import deepcopy

            for p in np.flatnonzero(np.isin(idx, nested)).tolist():
                vals[p] = deepcopy(vals[p])
        return vals, has

    def heads_mask(self, heads: Sequence[str], rows: np.ndarray) -> np.ndarray:
        ok = []
        for d in self.templates:
            first = None if d is None else next((h for h in heads if h in d), None)
            ok.append(first is not None and (type(d[first]) is dict or type(d[first]) is list))  # type: ignore[index]
        return np.array(ok, dtype=bool)[self.index[rows]]

    def missing(self, rows: np.ndarray) -> np.ndarray:
        return self.index[rows] < 0


def attribute_source(raws: Sequence[Any], file: str, column: str,
                     decode: Any = None, colons: list[int] | None = None) -> SharedDictSource:
    """The source of a dict column read from OTLP ``KeyValue`` lists given as raw JSON bytes (one
    per row; None or empty: no attributes; or, as :func:`join_raws` gives them, all of them joined
    and their lengths): the readers' one way to keep attributes without a dict per row.

    Identical byte strings are found column-wise (one Arrow dictionary encoding over the joined
    bytes, no Python object per row) and each distinct list is decoded, and so checked, here by
    ``decode`` (bytes → dict; default: the spans fast path's ``KeyValue`` decoding, as
    :func:`tracekit.io.otlp.decode_attributes` reads the same lists). A list ``decode`` does not
    take raises :class:`NotCovered` now, at read time: a cell built later cannot fail. ``colons``: a list,
    given, gets the colons of each distinct text (in the order of the source's templates: the keys and the
    colons in strings a reader's repeated-key check counts, once per distinct list).

    >>> cl = []
    >>> src = attribute_source([b'[{"key": "a", "value": {"intValue": 1}}]', None, b'[]'], "f", "attributes", colons=cl)
    >>> cl, src.index.tolist()
    ([3, 0, 0], [0, 1, 2])
    """
    joined_pair = (isinstance(raws, tuple) and len(raws) == 2 and isinstance(raws[0], (bytes, bytearray))
                   and isinstance(raws[1], np.ndarray))
    joined, lens = raws if joined_pair else join_raws(raws)  # a tuple of raw lists is rows, not a pair
    n = len(lens)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lens, out=offsets[1:])
    arr = pa.LargeBinaryArray.from_buffers(pa.large_binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(joined)])
    enc = arr.dictionary_encode()
    index = enc.indices.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    dec = decode or _otlp_attributes
    templates = []
    for b in enc.dictionary.to_pylist():
        if colons is not None:
            colons.append(b.count(b":"))
        if not b.strip():
            templates.append({})
            continue
        try:
            d = dec(b)
        except Exception as e:  # noqa: BLE001 - whatever the typed decode refuses: the reader's checked walk
            raise NotCovered(f"column {column!r}: {type(e).__name__}: {e}") from None
        if type(d) is not dict:
            raise NotCovered(f"column {column!r}: decoded to {type(d).__name__}, not a dict")
        templates.append(d)
    return SharedDictSource(templates, index, file, column)


def join_raws(raws: Sequence[Any]) -> tuple[bytes, np.ndarray]:
    """Raw byte strings (None: empty) as one ``bytes`` and their lengths: what
    :func:`attribute_source` takes (a reader may join each document's while they are in the CPU
    caches and give the pieces joined again)."""
    n = len(raws)
    try:
        lens = np.fromiter(map(len, raws), np.int64, n)
    except TypeError:  # rows without attributes (None)
        raws = [b"" if r is None else r for r in raws]
        lens = np.fromiter(map(len, raws), np.int64, n)
    return b"".join(raws), lens


class NotCovered(ValueError):
    """A raw value the typed decode does not take: the reader reads it with its checked walk."""


_KV_DECODE: Any = None


def _otlp_attributes(raw: bytes) -> dict:
    """OTLP KeyValue list (JSON bytes) → dict, by the spans fast path's Structs."""
    global _KV_DECODE
    from .otlp_fast import KeyValue, struct_attributes

    if _KV_DECODE is None:
        _KV_DECODE = msgspec.json.Decoder(list[KeyValue]).decode
    return struct_attributes(_KV_DECODE(raw))


class BuiltSource(_Source):
    """Cells built by a reader's ``build`` (``build(rows) -> list`` of new objects, from column-wise
    data it holds: a picklable object, not a closure); ``missing`` marks the None cells (none when
    not given)."""

    def __init__(self, n: int, build: Any, file: str, column: str, missing: np.ndarray | None = None):
        self.n, self.file, self.column = n, file, column
        self.build, self._missing = build, missing
        super().__init__()

    def _build(self, rows: np.ndarray) -> np.ndarray:
        return _obj(list(self.build(rows)))

    def missing(self, rows: np.ndarray) -> np.ndarray:
        return np.zeros(len(rows), dtype=bool) if self._missing is None else self._missing[rows]


class ObjectSource(_Source):
    """Cells given as objects (every cell built): plain cells beside lazy ones in one column."""

    def __init__(self, values: np.ndarray, file: str = "<object>", column: str = ""):
        self.n, self.file, self.column = len(values), file, column
        super().__init__()
        self._cells[:] = values
        self._built[:] = True

    def key_values(self, key: str, rows: np.ndarray) -> tuple[list, np.ndarray]:
        return [None] * len(rows), np.zeros(len(rows), dtype=bool)  # read_key reads the (built) dicts

    def heads_mask(self, heads: Sequence[str], rows: np.ndarray) -> np.ndarray:
        return np.zeros(len(rows), dtype=bool)

    def missing(self, rows: np.ndarray) -> np.ndarray:
        return np.zeros(len(rows), dtype=bool)


class ConcatSource(_Source):
    """Rows of several sources one after the other (``pd.concat`` of lazy columns read apart): cells
    are the parts' cells (built there, once), key reads are the parts' key reads."""

    def __init__(self, parts: Sequence[tuple[_Source, np.ndarray]]):
        self.parts = [(s, np.asarray(r, dtype=np.int64)) for s, r in parts]
        self.bounds = np.cumsum([0] + [len(r) for _, r in self.parts])
        self.n = int(self.bounds[-1])
        self.file = parts[0][0].file if parts else "<object>"
        self.column = parts[0][0].column if parts else ""
        super().__init__()

    def _each(self, rows: np.ndarray):
        part = np.searchsorted(self.bounds, rows, side="right") - 1
        for k in np.unique(part).tolist():
            at = np.flatnonzero(part == k)
            src, prow = self.parts[k]
            yield at, src, prow[rows[at] - self.bounds[k]]

    def _build(self, rows: np.ndarray) -> np.ndarray:
        out = np.empty(len(rows), dtype=object)
        for at, src, sub in self._each(rows):
            out[at] = src.cells(sub)
        return out

    def _gather(self, rows: np.ndarray, read: Any, dtype: Any) -> Any:
        out = np.zeros(len(rows), dtype=dtype)
        for at, src, sub in self._each(rows):
            got = read(src, sub)
            if got is None:
                return None
            out[at] = got
        return out

    def key_values(self, key: str, rows: np.ndarray) -> tuple[list, np.ndarray] | None:
        vals: list = [None] * len(rows)
        has = np.zeros(len(rows), dtype=bool)
        for at, src, sub in self._each(rows):
            got = src.read_key(key, sub)
            if got is None:
                return None
            for p, v in zip(at.tolist(), got[0], strict=False):
                vals[p] = v
            has[at] = got[1]
        return vals, has

    def heads_mask(self, heads: Sequence[str], rows: np.ndarray) -> np.ndarray | None:
        return self._gather(rows, lambda src, sub: src.read_heads(heads, sub), bool)

    def missing(self, rows: np.ndarray) -> np.ndarray | None:
        return self._gather(rows, lambda src, sub: src.read_missing(sub), bool)




def concat_parts(frames: Sequence[pd.DataFrame], columns: Sequence[str]) -> pd.DataFrame:
    """``pd.concat`` of a reader's parts (``ignore_index``), ``columns`` kept lazy where a part has
    them lazy: the object columns of the other parts (the checked walk's rows) join as plain cells
    instead of turning every lazy cell into an object."""
    if len(frames) == 1:
        return frames[0]
    lazy = [c for c in columns if any(isinstance(f[c].dtype, LazyDtype) for f in frames)]
    if lazy:
        frames = [f.assign(**{c: LazyColumn(None, None, f[c].to_numpy(dtype=object)) for c in lazy
                              if not isinstance(f[c].dtype, LazyDtype)}) for f in frames]
    return pd.concat(frames, ignore_index=True)

# --------------------------------------------------------------------------------- the array


@register_extension_dtype
class LazyDtype(ExtensionDtype):
    """dtype of a container column read lazily from the spans store (cells are dicts or lists)."""

    name = "tracekit.lazy"
    type = object
    kind = "O"
    na_value = None

    @classmethod
    def construct_array_type(cls) -> type[LazyColumn]:
        return LazyColumn


class LazyColumn(ExtensionArray):
    """Cells of a stored container column, built on first use (see the module docstring).

    Either lazy (a source and the source rows of this array's cells) or plain (an object array of
    its own, after a cell was assigned or when made from a sequence).
    """

    _dtype = LazyDtype()

    def __init__(self, source: _Source | None, rows: np.ndarray | None, objs: np.ndarray | None = None):
        self._src = source
        self._rows = rows
        self._objs = objs

    # --- construction
    @classmethod
    def _from_sequence(cls, scalars: Sequence, *, dtype: Any = None, copy: bool = False) -> LazyColumn:
        if isinstance(scalars, LazyColumn):
            return scalars.copy() if copy else scalars
        return cls(None, None, _obj(list(scalars)))

    @classmethod
    def _from_factorized(cls, values: np.ndarray, original: LazyColumn) -> LazyColumn:
        return cls(None, None, _obj(list(values)))

    @classmethod
    def _concat_same_type(cls, to_concat: Sequence[LazyColumn]) -> LazyColumn:
        srcs = {id(a._src) for a in to_concat}
        if len(srcs) == 1 and to_concat[0]._src is not None and all(a._objs is None for a in to_concat):
            return cls(to_concat[0]._src, np.concatenate([a._rows for a in to_concat]))  # type: ignore[misc]
        if not to_concat or all(a._objs is not None for a in to_concat):
            return cls(None, None, np.concatenate([a._objs for a in to_concat]) if to_concat else _obj([]))
        # lazy columns of different sources (and plain ones): still lazy, the parts' cells built there
        parts = [(a._src, a._rows) if a._objs is None else (ObjectSource(a._objs), np.arange(len(a._objs)))
                 for a in to_concat if len(a)]
        src = ConcatSource(parts)
        return cls(src, np.arange(src.n, dtype=np.int64))

    # --- state
    @property
    def is_lazy(self) -> bool:
        """True while no cell of this array was assigned (cells come from the store)."""
        return self._objs is None

    def _materialized(self) -> np.ndarray:
        if self._objs is not None:
            return self._objs
        return self._src.cells(self._rows)  # type: ignore[union-attr,arg-type]

    def built(self) -> np.ndarray:
        """Mask of cells already built (always all for a plain array)."""
        if self._objs is not None:
            return np.ones(len(self._objs), dtype=bool)
        return self._src._built[self._rows]  # type: ignore[union-attr,index]

    def with_cells(self, positions: np.ndarray, values: np.ndarray) -> LazyColumn:
        """A new array: these cells, with those at ``positions`` replaced by ``values`` (an object array
        of the new cells); the other cells stay lazy (built from this array's source when first asked
        for) and this array is unchanged.

        >>> col = LazyColumn(ObjectSource(_obj([[1], [2], [3]])), np.arange(3))
        >>> new = col.with_cells(np.array([1]), _obj([["x"]]))
        >>> new.is_lazy, new.tolist(), col.tolist()
        (True, [[1], ['x'], [3]], [[1], [2], [3]])
        """
        positions = np.asarray(positions, dtype=np.int64)
        if self._objs is not None:
            objs = self._objs.copy()
            objs[positions] = values
            return LazyColumn(None, None, objs)
        where = np.arange(len(self), dtype=np.int64)
        where[positions] = len(self) + np.arange(len(positions), dtype=np.int64)
        src = ConcatSource([(self._src, self._rows), (ObjectSource(values, self._src.file, self._src.column),  # type: ignore[union-attr]
                                                      np.arange(len(positions), dtype=np.int64))])
        return LazyColumn(src, where)

    def key_values(self, key: str) -> tuple[list, np.ndarray] | None:
        """``key`` of every cell read from the stored columns (cells never built), or None when this
        array cannot (not a dict column, or plain). Built cells are read from their dicts."""
        if self._objs is not None:
            return None
        return self._src.read_key(key, self._rows)  # type: ignore[union-attr,arg-type]

    def heads_present(self, heads: Sequence[str]) -> np.ndarray:
        """Mask of cells where a dotted key may resolve through nested values: the first of
        ``heads`` (longest first, as :func:`~tracekit.core.naming.get_attribute` tries them) that
        the dict holds is a nested value (stored in the fallback), or the cell was built."""
        out = None if self._objs is not None else self._src.read_heads(heads, self._rows)  # type: ignore[union-attr,arg-type]
        if out is None:
            return np.fromiter((isinstance(d, dict) and not set(heads).isdisjoint(d) for d in self._materialized()),
                               dtype=bool, count=len(self))
        return out

    # --- the ExtensionArray interface
    @property
    def dtype(self) -> LazyDtype:
        return self._dtype

    def __len__(self) -> int:
        return len(self._objs) if self._objs is not None else len(self._rows)  # type: ignore[arg-type]

    def __getitem__(self, item: Any) -> Any:
        if isinstance(item, (int, np.integer)):
            if self._objs is not None:
                return self._objs[item]
            return self._src.cells(self._rows[[item]])[0]  # type: ignore[union-attr,index]
        if isinstance(item, tuple) and len(item) == 1:
            item = item[0]
        if not isinstance(item, slice):
            item = pd.api.indexers.check_array_indexer(self, item)
        if self._objs is not None:
            return LazyColumn(None, None, self._objs[item])
        return LazyColumn(self._src, self._rows[item])  # type: ignore[index]

    def __setitem__(self, key: Any, value: Any) -> None:
        objs = self._materialized().copy()  # this array's own cells from now on (same dict objects)
        if not isinstance(key, slice) and not isinstance(key, (int, np.integer)):
            key = pd.api.indexers.check_array_indexer(self, key)
        if isinstance(key, (int, np.integer)):
            objs[key] = value
        elif isinstance(value, (dict, list)) or value is None:
            idx = np.arange(len(objs))[key]
            for i in idx:
                objs[i] = value
        else:
            objs[key] = _obj(list(value))
        self._objs, self._src, self._rows = objs, None, None

    def isna(self) -> np.ndarray:
        if self._objs is None:
            got = self._src.read_missing(self._rows)  # type: ignore[union-attr,arg-type]
            if got is not None:
                return got
        return np.fromiter((v is None for v in self._materialized()), dtype=bool, count=len(self))

    def take(self, indices: Sequence[int], *, allow_fill: bool = False, fill_value: Any = None) -> LazyColumn:
        idx = np.asarray(indices, dtype=np.int64)
        if allow_fill and (idx < 0).any():
            from pandas.api.extensions import take

            return LazyColumn(None, None, take(self._materialized(), idx, allow_fill=True, fill_value=fill_value))
        if self._objs is not None:
            return LazyColumn(None, None, self._objs.take(idx))
        return LazyColumn(self._src, self._rows.take(idx))  # type: ignore[union-attr]

    def copy(self) -> LazyColumn:
        if self._objs is not None:
            return LazyColumn(None, None, self._objs.copy())
        return LazyColumn(self._src, self._rows.copy())  # type: ignore[union-attr]

    @property
    def nbytes(self) -> int:
        return int(self._objs.nbytes if self._objs is not None else self._rows.nbytes)  # type: ignore[union-attr]

    def to_numpy(self, dtype: Any = None, copy: bool = False, na_value: Any = None) -> np.ndarray:
        out = self._materialized()
        if copy or self._objs is None:
            out = out.copy() if self._objs is not None else out
        if dtype is not None and np.dtype(dtype) != object:
            return np.asarray(out, dtype=dtype)
        return out

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.to_numpy(dtype=dtype)

    def __arrow_array__(self, type: Any = None) -> pa.Array:
        """The cells as Arrow (``df.to_parquet``, ``pa.array``): as an object column of them converts."""
        return pa.array(self._materialized(), type=type, from_pandas=True)

    def __iter__(self):
        return iter(self._materialized())

    def __eq__(self, other: Any) -> np.ndarray:  # type: ignore[override]
        mine = self._materialized()
        if isinstance(other, (LazyColumn, np.ndarray, list, pd.Series)) and not isinstance(other, dict):
            theirs = np.asarray(other, dtype=object) if not isinstance(other, LazyColumn) else other._materialized()
            return np.fromiter((_same(a, b) for a, b in zip(mine, theirs, strict=False)), dtype=bool, count=len(mine))
        return np.fromiter((_same(a, other) for a in mine), dtype=bool, count=len(mine))

    def _cast_pointwise_result(self, values: Any) -> Any:
        """What ``Series.map`` gives: the values' own type (bools, numbers, text…), as for an object
        column; never a lazy column of mapped values."""
        from pandas._libs import lib

        if not (isinstance(values, np.ndarray) and values.dtype == object):
            values = _obj(list(values))
        return lib.maybe_convert_objects(values, convert_non_numeric=True)

    def _values_for_factorize(self) -> tuple[np.ndarray, Any]:
        raise TypeError("tracekit.lazy cells are dicts or lists: unhashable")

    def astype(self, dtype: Any, copy: bool = True) -> Any:
        if isinstance(dtype, LazyDtype):
            return self.copy() if copy else self
        if not isinstance(dtype, ExtensionDtype) and not (isinstance(dtype, str) and dtype == "tracekit.lazy"):
            try:
                plain = np.dtype(dtype) == object
            except TypeError:
                plain = False
            if plain:
                return self._materialized().copy()
        return super().astype(dtype, copy=copy)

    def _formatter(self, boxed: bool = False):
        return repr


def _same(a: Any, b: Any) -> bool:
    if a is b:
        return True
    try:
        r = a == b
    except Exception:  # noqa: BLE001 - comparison of foreign objects
        return False
    if isinstance(r, bool):
        return r or (type(a) is float and type(b) is float and math.isnan(a) and math.isnan(b))
    return False

