"""The spans store: a spans frame saved to Parquet and reopened without re-reading the JSON.

:func:`write_parquet` writes one Parquet file, or with ``partition_by="hour"`` / ``"day"`` a store
directory of one file per hour or day (a trace goes where its first span starts, so traces stay
whole in a file) with a ``_tracekit.json`` index. :func:`read_parquet` (and :func:`tracekit.read`,
which recognises a Parquet file or a store directory) reopens it; ``tk.dask.read_parquet`` reads the
same store with one partition per file.

**Layout.** Every column of the spans schema is one Arrow column of its type (text as strings,
times as ``timestamp[ns, UTC]``, ``Int64`` as nullable int64). ``attributes`` and ``resource`` are
stored column-wise and ``events``/``links`` as one msgpack cell per row
(:mod:`tracekit.io.containers`); extra columns go through Arrow's pandas conversion. The file's
metadata (key ``tracekit``) records the format, its :data:`VERSION`, how to read the container
columns, the frame's ``attrs`` (skipped and ignored records, unprocessed trace ids) and the row
order, so a partitioned store comes back in the order it was written. The index is not stored:
the frame comes back with a RangeIndex.

**Reopening is lazy.** The container columns come back as :class:`~tracekit.io.containers.LazyColumn`
(dtype ``tracekit.lazy``): real dicts and lists, each built the first time it is asked for, so
reopening costs what reading the Arrow columns costs, and one attribute key
(:func:`tracekit.attribute`, routes, callees) is read from its stored columns without building a
dict. ``materialize=True`` (or :func:`materialize` later) builds every cell at once and gives the
plain object columns of a reader's frame; ``pandas.testing.assert_frame_equal`` then holds exactly
against the frame that was written. Measured (``benchmarks/bench_store.py``, 340k OTLP / 412k X-Ray
simulator spans, CPU time): reopening takes 0.07–0.10x the JSON read and building every dict and
list as well 0.23x / 0.69x of it (X-Ray's JSON is quicker to read per span, its attribute dicts
bigger), so a frame that is only grouped, filtered and asked for a few keys never pays the rebuild.

**Bad input.** A file that is not Parquet or is truncated, a Parquet file that is not a spans
store (no ``tracekit`` metadata and not the schema's columns), a store of another version or with a
column missing or of the wrong type is a :class:`~tracekit.errors.TraceFormatError` naming the file
and the column; nothing is returned half-read. A store written by ``tk.dask.to_parquet`` before
version 1 (containers as JSON text, no metadata) is converted on reading. A ``.parquet`` file in a store
directory that its index does not list (put there after the store was written) is not read, and named in a
:class:`~tracekit.errors.TraceFormatWarning`. Writing goes to a
temporary file renamed into place, refuses to replace an existing path unless ``overwrite=True``,
and refuses always to replace a file the spans were read from that is not a store.

**Remote stores.** :func:`read_parquet` (and ``tk.dask.read_parquet``) reads a store at an fsspec
URL (``s3://…``, ``memory://…``; ``storage_options`` for the filesystem) by the same rules
(:func:`remote_store_files`); ``tk.dask.to_parquet`` writes one (:func:`remote_target`,
:func:`write_part` / :func:`write_index` with a ``filesystem``, :func:`publish_remote`), with the
atomicity an object store allows: see ``tk.dask.to_parquet``.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..core.files import target_path
from ..core.frame import require_columns
from ..errors import ArgumentError, SkippedRecord, TraceFormatError, TraceKitError, require
from ..schema import COLUMN_NAMES, SPAN_COLUMNS, STRING, TIMESTAMP, shared_attr
from ._copies import without_copies
from ._progress import Progress
from ._sources import STORE_INDEX, is_store_directory, naming_surrogates, short
from .containers import DictSource, LazyColumn, ListSource, encode_dicts, encode_lists

__all__ = ["write_parquet", "read_parquet", "materialize", "is_store", "store_files", "write_part", "write_index",
           "check_target", "replace", "remote_store_files", "store_meta", "remote_target", "publish_remote", "VERSION", "FORMAT", "INDEX_FILE"]

#: the store's format name and version, recorded in every file's metadata
FORMAT = "tracekit.spans"
VERSION = 1
#: the index file of a store directory
INDEX_FILE = STORE_INDEX
_META_KEY = b"tracekit"
_ROW = "tracekit:row"
DICT_COLUMNS = ("attributes", "resource")
LIST_COLUMNS = ("events", "links")
CONTAINERS = DICT_COLUMNS + LIST_COLUMNS
_DTYPES = {c.name: c.dtype for c in SPAN_COLUMNS}
_ARROW_TYPES: dict[str, pa.DataType] = {}
for _c in SPAN_COLUMNS:
    if _c.dtype is object:
        continue
    _ARROW_TYPES[_c.name] = (pa.string() if _c.dtype == STRING else pa.timestamp("ns", tz="UTC") if _c.dtype == TIMESTAMP
                             else pa.int64() if str(_c.dtype) == "Int64" else pa.bool_() if str(_c.dtype) == "bool"
                             else pa.float64())
_ROW_GROUP = 256_000


# ----------------------------------------------------------------------------------- writing


def _scalar_array(s: pd.Series, name: str) -> pa.Array:
    t = _ARROW_TYPES[name]
    try:
        if t == pa.string():
            arr = s.array
            if isinstance(arr, pd.arrays.ArrowStringArray):
                return arr._pa_array.combine_chunks() if hasattr(arr, "_pa_array") else pa.array(s, type=t)
            return pa.array(s.astype(STRING).array._pa_array.combine_chunks(), type=t)
        return pa.array(s.astype(_DTYPES[name]), type=t, from_pandas=True)
    except (TypeError, ValueError, pa.ArrowInvalid) as e:
        raise TraceKitError(f"write_parquet: column {name!r} cannot be stored as {t} ({e})") from None


def _attrs_meta(attrs: dict) -> dict:
    out: dict[str, Any] = {}
    for k, v in attrs.items():
        if isinstance(v, (tuple, list)) and v and all(isinstance(r, SkippedRecord) for r in v):
            out[k] = {"records": [[r.file, r.record, r.reason] for r in v]}
            continue
        if isinstance(v, tuple) and all(isinstance(x, str) for x in v):
            out[k] = {"strings": list(v)}
            continue
        try:
            text = orjson.dumps(v).decode()
        except TypeError:
            raise TraceKitError(f"write_parquet: spans.attrs[{k!r}] ({type(v).__name__}) cannot be stored; drop it "
                                "first (spans.attrs.pop(...)) or keep it another way") from None
        if json.loads(text) != v:
            raise TraceKitError(f"write_parquet: spans.attrs[{k!r}] would not come back equal from JSON; drop it "
                                "first (spans.attrs.pop(...)) or keep it another way")
        out[k] = {"json": text}
    return out


def _attrs_from_meta(meta: Any, file: str) -> dict:
    """The frame's ``attrs`` as :func:`_attrs_meta` stored them; anything else a TraceFormatError naming the key (a
    store whose metadata was edited gave a bare KeyError, AttributeError or RecursionError, or a skipped record
    whose file was a number, which failed later in ``skipped_records`` and ``report``)."""
    if type(meta) is not dict:
        raise TraceFormatError(f"tracekit metadata 'attrs' is not an object ({short(meta)})", file=file)
    out: dict[str, Any] = {}
    for k, v in meta.items():
        try:
            if type(v) is not dict:
                raise ValueError(f"an object is stored, got {short(v)}")
            if "records" in v:
                recs = []
                for rec in v["records"]:
                    f, r, why = rec
                    if not (f is None or type(f) is str) or not (r is None or type(r) is str) or type(why) is not str:
                        raise ValueError(f"a record is [file, record, reason] (texts), got {short(rec)}")
                    recs.append(SkippedRecord(f, r, why))
                out[k] = tuple(recs)
            elif "strings" in v:
                if type(v["strings"]) is not list or not all(type(x) is str for x in v["strings"]):
                    raise ValueError(f"'strings' is a list of texts, got {short(v['strings'])}")
                out[k] = tuple(v["strings"])
            elif "json" in v and type(v["json"]) is str:
                out[k] = json.loads(v["json"])
            else:
                raise ValueError(f"unknown encoding (keys {', '.join(map(str, v))}; records, strings or json)")
        except (ValueError, TypeError, RecursionError) as e:
            raise TraceFormatError(f"tracekit metadata 'attrs' entry {short(k)} is not valid ({short(str(e))})",
                                   file=file) from None
    return out


def _table(spans: pd.DataFrame, rows: np.ndarray | None, partition: str | None, attrs_meta: dict) -> pa.Table:
    """One file's table: ``spans`` (already cut to the file's rows; ``rows`` their original positions)."""
    arrays: dict[str, pa.Array] = {}
    containers: dict[str, dict] = {}
    columns: list[str] = []
    for c in COLUMN_NAMES:
        s = spans[c]
        if c in DICT_COLUMNS or c in LIST_COLUMNS:
            vals = s.to_numpy(dtype=object)
            enc, meta = (encode_dicts if c in DICT_COLUMNS else encode_lists)(vals, c, spans.index)
            arrays.update(enc)
            containers[c] = meta
        else:
            arrays[c] = _scalar_array(s, c)
        columns.append(c)
    extra = [c for c in spans.columns if c not in COLUMN_NAMES]
    extra_schema = None
    if extra:
        try:
            et = pa.Table.from_pandas(spans[extra], preserve_index=False)
        except (TypeError, ValueError, pa.ArrowInvalid, pa.ArrowTypeError) as e:
            raise TraceKitError(f"write_parquet: extra column(s) {extra} cannot be stored ({e})") from None
        for c in extra:
            if f"extra:{c}" in arrays or ":" in str(c):
                raise TraceKitError(f"write_parquet: extra column name {c!r} is not allowed (':' is reserved)")
            arrays[f"extra:{c}"] = et.column(str(c)).combine_chunks()
        extra_schema = et.schema.metadata.get(b"pandas", b"{}").decode() if et.schema.metadata else None
    if rows is not None:
        arrays[_ROW] = pa.array(rows, type=pa.int64())
    meta = {"format": FORMAT, "version": VERSION, "rows": len(spans), "columns": columns, "containers": containers,
            "extra": [str(c) for c in extra], "extra_pandas": extra_schema, "attrs": attrs_meta,
            "partition": partition, "row_column": _ROW if rows is not None else None}
    table = pa.table(arrays)
    return table.replace_schema_metadata({_META_KEY: orjson.dumps(meta)})


def _write_table(table: pa.Table, path: Any, progress: Progress | None = None) -> None:
    with pq.ParquetWriter(path, table.schema, compression="zstd", compression_level=3) as w:
        for start in range(0, max(table.num_rows, 1), _ROW_GROUP):
            w.write_table(table.slice(start, _ROW_GROUP), row_group_size=_ROW_GROUP)
            if progress is not None:
                progress.update(min(_ROW_GROUP, table.num_rows - start))


def _inputs_of(spans: pd.DataFrame) -> set[str]:
    if "source_file" not in spans.columns or not len(spans):
        return set()
    return {str(f) for f in pd.unique(spans["source_file"].dropna().to_numpy(dtype=object))}


def _check_target(path: Path, spans: pd.DataFrame, overwrite: bool) -> None:
    target = path.resolve()
    for f in _inputs_of(spans):
        p = Path(f)
        try:
            same = p.exists() and (p.resolve() == target or target in p.resolve().parents)
        except OSError:
            same = False
        if same and not is_store(p):
            raise TraceKitError(f"write_parquet: refusing to write over {path}: the spans were read from {f}")
    if path.exists() or path.is_symlink():
        if not overwrite:
            raise TraceKitError(f"write_parquet: {path} exists; pass overwrite=True to replace it")
        if path.is_dir() and any(path.iterdir()) and not is_store(path):
            raise TraceKitError(f"write_parquet: {path} is a directory that is not a spans store; refusing to replace it")
        if path.is_file() and not is_store(path):
            raise TraceKitError(f"write_parquet: {path} is not a spans store (not a tracekit Parquet file); refusing "
                                "to replace it")
    if not path.parent.is_dir():
        raise ArgumentError(f"write_parquet: cannot write {path}: its directory {path.parent} does not exist")


def _partition_keys(spans: pd.DataFrame, partition_by: str) -> np.ndarray:
    """Each row's partition: its trace's first start, cut to the hour or day (UTC)."""
    unit = {"hour": "h", "day": "D"}[partition_by]
    start = spans["start"].to_numpy(dtype="datetime64[ns]")
    first = pd.Series(start).groupby(spans["trace_id"].to_numpy(dtype=object), sort=False).transform("min")
    cut = first.to_numpy(dtype="datetime64[ns]").astype(f"datetime64[{unit}]")
    return np.datetime_as_string(cut, unit=unit)


def write_parquet(spans: pd.DataFrame, path: str | os.PathLike, *,
                  partition_by: Literal["hour", "day"] | None = None, overwrite: bool = False,
                  progress: bool | None = None) -> Path:
    """Save a spans frame as a spans store: one Parquet file, or a directory partitioned by time.

    Parameters
    ----------
    spans : DataFrame
        A spans frame (every column of the schema; extra columns are kept as Arrow stores them).
    path : str or PathLike
        The file (``partition_by=None``) or the directory to write.
    partition_by : {None, "hour", "day"}
        One file per hour or day of the traces' first start (UTC), in a directory with an index
        file; traces are never cut.
    overwrite : bool
        Replace an existing store at ``path``. A path that exists and is not a spans store, or a
        file the spans were read from, is never replaced.
    progress : bool or None
        A ``tqdm`` bar over the rows written (``None``: for big frames in an interactive session).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    TraceKitError
        When ``path`` exists (without ``overwrite``) or may not be replaced, or a value cannot be
        stored exactly (the message names the column, the row and the key).
    ArgumentError
        When ``partition_by`` is not one of the above.
    SpansSchemaError
        When ``spans`` is not a DataFrame or lacks a column of the spans schema.

    Examples
    --------
    >>> import tracekit as tk, tempfile, os
    >>> spans = tk.examples.load("checkout-small")
    >>> p = tk.write_parquet(spans, os.path.join(tempfile.mkdtemp(), "spans.parquet"))
    >>> back = tk.read(p)
    >>> back["attributes"].dtype.name, len(back) == len(spans)
    ('tracekit.lazy', True)
    >>> pd.testing.assert_frame_equal(tk.materialize(back), spans)
    """
    if partition_by not in (None, "hour", "day"):
        raise ArgumentError(f"write_parquet: partition_by must be None, 'hour' or 'day', not {partition_by!r}")
    require_columns(spans, COLUMN_NAMES, "write_parquet")
    path = target_path(path, "write_parquet", directory=True)  # (a directory: a partitioned store, checked below)
    _check_target(path, spans, overwrite)
    attrs_meta = _attrs_meta(dict(spans.attrs))
    parent = path.parent
    tmp = parent / f".{path.name}.{uuid.uuid4().hex[:8]}.tmp"
    with naming_surrogates("write_parquet", spans), \
            Progress(len(spans), str(path), progress, min_total=1_000_000, unit="span") as bar:
        try:
            if partition_by is None:
                _write_table(_table(spans, None, None, attrs_meta), str(tmp), bar)
            else:
                tmp.mkdir()
                keys = _partition_keys(spans, partition_by)
                order = np.argsort(keys, kind="stable")
                uniq, first = np.unique(keys[order], return_index=True)
                bounds = list(first[1:]) + [len(order)]
                files = []
                for i, (key, a, b) in enumerate(zip(uniq.tolist(), first.tolist(), bounds, strict=False)):
                    rows = order[a:b]
                    part = spans.iloc[rows]
                    name = f"part.{i}.parquet"
                    _write_table(_table(part, rows.astype(np.int64), key, attrs_meta if i == 0 else {}), str(tmp / name), bar)
                    files.append({"file": name, "partition": key, "rows": int(b - a)})
                index = {"format": FORMAT, "version": VERSION, "partition_by": partition_by, "rows": len(spans),
                         "files": files}
                (tmp / INDEX_FILE).write_text(json.dumps(index, indent=1))
            replace(tmp, path)
        except BaseException:
            if tmp.is_dir():
                shutil.rmtree(tmp, ignore_errors=True)
            elif tmp.exists():
                tmp.unlink()
            raise
    return path


def write_part(spans: pd.DataFrame, path: str | os.PathLike, attrs: bool = True, filesystem: Any = None) -> int:
    """Write one file of a store directory (``tk.dask.to_parquet`` writes one per partition); its row count.

    ``filesystem``: an fsspec filesystem that ``path`` (then a path of that filesystem) is written to.
    """
    table = _table(spans, None, None, _attrs_meta(dict(spans.attrs)) if attrs else {})
    if filesystem is None:
        _write_table(table, os.fspath(path))
    else:
        with filesystem.open(str(path), "wb") as fh:
            _write_table(table, fh)
    return len(spans)


def write_index(directory: str | os.PathLike, files: Sequence[tuple[str, int]], filesystem: Any = None) -> None:
    """The index file of a store directory of ``files`` (name, rows), in order (``filesystem``: fsspec)."""
    index = {"format": FORMAT, "version": VERSION, "partition_by": None, "rows": int(sum(n for _, n in files)),
             "files": [{"file": f, "partition": None, "rows": int(n)} for f, n in files]}
    text = json.dumps(index, indent=1)
    if filesystem is None:
        Path(os.fspath(directory), INDEX_FILE).write_text(text)
    else:
        filesystem.pipe_file(f"{str(directory).rstrip('/')}/{INDEX_FILE}", text.encode())


def check_target(path: str | os.PathLike, overwrite: bool) -> Path:
    """Check that a store may be written at ``path`` (see :func:`write_parquet`)."""
    p = Path(os.fspath(path))
    _check_target(p, pd.DataFrame(), overwrite)
    return p


def remote_target(url: str, storage_options: dict | None, overwrite: bool) -> tuple[Any, str, str]:
    """Check that a store may be written at the fsspec URL ``url``: (filesystem, its path, a temporary path beside it).

    The rules of :func:`write_parquet`: an existing path is replaced only with ``overwrite=True``
    and only when it is a spans store (a Parquet file, or a directory with an index or only
    ``*.parquet`` files; an empty directory may be replaced).
    """
    fsspec = require("fsspec", "dask")
    fs, root = fsspec.core.url_to_fs(url, **(storage_options or {}))
    root = root.rstrip("/")
    parent, _, name = root.rpartition("/")
    if not name or not parent:
        raise ArgumentError(f"to_parquet: {url!r} names no directory to write a store into (e.g. s3://bucket/store)")
    if fs.exists(root):
        if not overwrite:
            raise TraceKitError(f"to_parquet: {url} exists; pass overwrite=True to replace it")
        if not _remote_is_store(fs, root):
            raise TraceKitError(f"to_parquet: {url} exists and is not a spans store; refusing to replace it")
    return fs, root, f"{parent}/.{name}.{uuid.uuid4().hex[:8]}.tmp"


def _remote_is_store(fs: Any, root: str) -> bool:
    if fs.isfile(root):
        return bytes(fs.cat_file(root, start=0, end=4)) == b"PAR1"
    names = [p.rstrip("/").rsplit("/", 1)[-1] for p in fs.ls(root, detail=False)]
    names = [n for n in names if not n.startswith((".", "_"))]
    return fs.isfile(f"{root}/{INDEX_FILE}") or all(n.endswith(".parquet") for n in names)


def publish_remote(fs: Any, tmp: str, root: str) -> None:
    """Move a store written completely at ``tmp`` to ``root`` on an fsspec filesystem, replacing a store there.

    Not atomic (object stores have no directory rename): the old store is deleted, then the new
    one moved (on S3, copied object by object and the copies deleted); a reader in between sees
    no store, or a directory without its index.
    """
    if fs.exists(root):
        fs.rm(root, recursive=fs.isdir(root))
    fs.mv(tmp, root, recursive=True)


def replace(tmp: Path, path: Path) -> None:
    """Move ``tmp`` to ``path`` (an existing store there was checked replaceable)."""
    if path.exists() and (path.is_dir() or tmp.is_dir()) and not path.is_symlink():  # a store of the other kind too
        old = path.parent / f".{path.name}.{uuid.uuid4().hex[:8]}.old"
        path.rename(old)
        tmp.rename(path)
        shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink()
    else:
        os.replace(tmp, path)


# ----------------------------------------------------------------------------------- reading


def is_store(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a Parquet file or a spans-store directory (by content, not by name).

    >>> is_store("/nonexistent")
    False
    """
    p = Path(os.fspath(path))
    try:
        if p.is_file():
            with open(p, "rb") as f:
                return f.read(4) == b"PAR1"
        if p.is_dir():
            return is_store_directory(p)
    except OSError:
        return False
    return False


def store_files(path: str | os.PathLike) -> list[Path]:
    """The Parquet files of a store (a file: itself), in the store's order."""
    p = Path(os.fspath(path))
    if p.is_file():
        return [p]
    idx = p / INDEX_FILE
    if idx.is_file():
        files = [p / f for f in _index_names(idx.read_bytes(), str(idx))]
        missing = [str(f) for f in files if not f.is_file()]
        if missing:
            raise TraceFormatError(f"store file(s) listed in the index are missing: {', '.join(missing[:3])}",
                                   file=str(idx))
        _say_unlisted(_listed_parts(os.listdir(p)), [f.name for f in files], str(idx))
        return files
    names = _listed_parts(os.listdir(p))
    if not names:
        raise TraceFormatError("no Parquet files in the store directory", file=str(p))
    return [p / f for f in names]


def _index_names(raw: bytes, name: str) -> list[str]:
    """The file names an index lists, in order; a foreign or newer index is a TraceFormatError, and so is one that
    lists no file, a file twice, or a name that is not a file of the store's own directory (``../x.parquet``, an
    absolute path: a store handed over must not pull other files of the machine into a report).

    >>> _index_names(b'{"format": "tracekit.spans", "version": 1, "files": [{"file": "../a.parquet"}]}', "i")
    Traceback (most recent call last):
    ...
    tracekit.errors.TraceFormatError: i: store index lists '../a.parquet', which is not a file of the store's directory (a plain file name is)
    """
    try:
        index = orjson.loads(raw)  # (nesting past 1,024 levels: a JSONDecodeError, not a RecursionError)
        if type(index) is not dict:
            raise TraceFormatError(f"store index is not a JSON object (a {type(index).__name__})", file=name)
        if index.get("format") != FORMAT:
            raise TraceFormatError(f"not a spans store index (format {index.get('format')!r})", file=name)
        if not isinstance(index.get("version"), int) or index["version"] > VERSION:
            raise TraceFormatError(f"store version {index.get('version')!r}; this tracekit reads versions up to "
                                   f"{VERSION}: upgrade tracekit", file=name)
        files = index.get("files")
        if type(files) is not list or not all(type(f) is dict and "file" in f for f in files):
            raise TraceFormatError(f"store index 'files' is not a list of {{\"file\": …}} entries ({short(files)})",
                                   file=name)
        names = [f["file"] for f in files]
    except TraceFormatError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, orjson.JSONDecodeError) as e:
        raise TraceFormatError(f"store index is not valid ({short(str(e))})", file=name) from None
    if not names:
        raise TraceFormatError("store index lists no file", file=name)
    for f in names:
        if type(f) is not str or not f or f in (".", "..") or "/" in f or "\\" in f or "\x00" in f:
            raise TraceFormatError(f"store index lists {short(f)}, which is not a file of the store's directory (a "
                                   "plain file name is)", file=name)
    if len(set(names)) != len(names):
        import collections

        twice, n = collections.Counter(names).most_common(1)[0]
        raise TraceFormatError(f"store index lists {twice!r} {n} times (each file once)", file=name)
    return names


def _say_unlisted(present: list[str], listed: list[str], index: str) -> None:
    """Warn (:class:`~tracekit.errors.TraceFormatWarning`) of the Parquet files of a store directory its index does
    not list: they are not read (a part copied or written into the store after it was made was left out without a
    word)."""
    extra = sorted(set(present) - set(listed))
    if extra:
        import warnings

        from ..errors import TraceFormatWarning

        warnings.warn(f"{index}: {len(extra)} Parquet file(s) of the store are not in its index and are not read: "
                      f"{', '.join(extra[:5])}{' …' if len(extra) > 5 else ''} (the index lists {len(listed)}; write "
                      "the spans as a new store to read them all)", TraceFormatWarning, stacklevel=4)


def _listed_parts(names: Iterable[str]) -> list[str]:
    """The Parquet files of a directory without an index, in natural order (part.2 before part.10)."""
    import re

    num = re.compile(r"(\d+)")
    return sorted((f for f in names if f.endswith(".parquet") and not f.startswith(".")),
                  key=lambda f: [int(x) if x.isdigit() else x for x in num.split(f)])


def remote_store_files(url: str, storage_options: dict | None = None) -> tuple[Any, list[str]]:
    """The fsspec filesystem of a store URL (``s3://…``, ``memory://…``) and its files' paths, in order.

    The remote counterpart of :func:`store_files`: a Parquet file is itself; a directory is read
    through its index (every listed file must exist) or, without one, its ``*.parquet`` files.
    """
    fsspec = require("fsspec", "dask")
    fs, root = fsspec.core.url_to_fs(url, **(storage_options or {}))
    root = root.rstrip("/") or root
    if fs.isfile(root):
        return fs, [root]
    if not fs.isdir(root):
        raise TraceKitError(f"read_parquet: no such file or directory: {url!r}")
    idx = f"{root}/{INDEX_FILE}"
    if fs.isfile(idx):
        files = [f"{root}/{f}" for f in _index_names(fs.cat_file(idx), fs.unstrip_protocol(idx))]
        missing = [fs.unstrip_protocol(f) for f in files if not fs.isfile(f)]
        if missing:
            raise TraceFormatError(f"store file(s) listed in the index are missing: {', '.join(missing[:3])}",
                                   file=fs.unstrip_protocol(idx))
        _say_unlisted(_listed_parts(p.rstrip("/").rsplit("/", 1)[-1] for p in fs.ls(root, detail=False)),
                      [f.rsplit("/", 1)[-1] for f in files], fs.unstrip_protocol(idx))
        return fs, files
    names = _listed_parts(p.rstrip("/").rsplit("/", 1)[-1] for p in fs.ls(root, detail=False))
    if not names:
        raise TraceFormatError("no Parquet files in the store directory", file=url)
    return fs, [f"{root}/{f}" for f in names]


class _File:
    """One file of a store, opened and checked: its table and metadata."""

    def __init__(self, path: Path | str, filesystem: Any = None):
        if filesystem is None:
            self.name = str(path)
            self._open(path)
            return
        self.name = filesystem.unstrip_protocol(str(path))
        try:
            fh = filesystem.open(str(path), "rb")
        except OSError as e:
            raise TraceFormatError(f"cannot be opened ({e})", file=self.name) from None
        with fh:
            self._open(fh)

    def _open(self, path: Any) -> None:
        try:
            pf = pq.ParquetFile(path)
            schema = pf.schema_arrow
        except (pa.ArrowInvalid, OSError) as e:
            raise TraceFormatError(f"not a Parquet file, or truncated ({e})", file=self.name) from None
        raw = (schema.metadata or {}).get(_META_KEY)
        if raw is None:
            self.meta = self._legacy(schema)
        else:
            try:
                self.meta = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise TraceFormatError("tracekit metadata is not valid JSON", file=self.name) from None
            if type(self.meta) is not dict:  # (a list gave a bare AttributeError)
                raise TraceFormatError(f"tracekit metadata is not a JSON object ({short(self.meta)})",
                                       file=self.name)
            if self.meta.get("format") != FORMAT:
                raise TraceFormatError(f"metadata names format {self.meta.get('format')!r}, not {FORMAT!r}", file=self.name)
            v = self.meta.get("version")
            if not isinstance(v, int) or v > VERSION or v < 1:
                raise TraceFormatError(f"spans store version {v!r}; this tracekit reads versions 1 to {VERSION}"
                                       + (": upgrade tracekit" if isinstance(v, int) and v > VERSION else ""),
                                       file=self.name)
        try:
            self.table = pf.read()
        except (pa.ArrowInvalid, OSError) as e:
            raise TraceFormatError(f"Parquet data cannot be read, truncated or corrupt ({e})", file=self.name) from None
        if self.table.num_rows != self.meta.get("rows", self.table.num_rows):
            raise TraceFormatError(f"{self.table.num_rows} rows, the metadata says {self.meta['rows']}", file=self.name)

    def _legacy(self, schema: pa.Schema) -> dict:
        """A file without tracekit metadata: tk.dask.to_parquet before store version 1 (containers as JSON
        text) is converted; anything else is refused, naming what is missing."""
        names = set(schema.names)
        missing = [c for c in COLUMN_NAMES if c not in names]
        if missing:
            raise TraceFormatError(f"a Parquet file that is not a spans store: no tracekit metadata and no column(s) "
                                   f"{', '.join(missing[:6])}{' …' if len(missing) > 6 else ''}", file=self.name)
        for c in CONTAINERS:
            t = schema.field(c).type
            if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
                raise TraceFormatError(f"a Parquet file that is not a spans store: column {c!r} is {t}, neither a "
                                       "store's encoding nor JSON text (version 0)", file=self.name)
        return {"format": FORMAT, "version": 0, "columns": list(COLUMN_NAMES), "containers": {},
                "extra": [n for n in schema.names if n not in COLUMN_NAMES], "attrs": {}, "row_column": None,
                "extra_pandas": None}

    def column(self, name: str, types: Iterable[pa.DataType] | None = None) -> pa.ChunkedArray:
        try:
            col = self.table.column(name)
        except KeyError:
            raise TraceFormatError(f"column {name!r} is missing", file=self.name) from None
        if types is not None and not any(col.type == t for t in types):
            raise TraceFormatError(f"column {name!r} is {col.type}, expected {' or '.join(map(str, types))}", file=self.name)
        return col

    def scalar(self, name: str) -> pa.ChunkedArray:
        t = _ARROW_TYPES[name]
        alts = [t] + ([pa.large_string()] if t == pa.string() else []) + (
            [pa.timestamp("us", tz="UTC"), pa.timestamp("ns", tz="UTC")] if pa.types.is_timestamp(t) else [])
        if self.meta["version"] == 0 and t == pa.int64():
            alts += [pa.int32(), pa.float64()]
        return self.column(name, alts)

    def dict_source(self, name: str) -> DictSource:
        m = self.meta["containers"].get(name)
        if m is None or m.get("kind") != "dicts":
            raise TraceFormatError(f"column {name!r}: metadata does not describe a dict column", file=self.name)
        try:
            shapes = [(tuple(k), str(c)) for k, c in m["shapes"]]
            bad = [i for i, (k, c) in enumerate(shapes) if len(k) != len(c) or set(c) - set("sifbnx")]
            if bad:
                raise ValueError(f"shape {bad[0]} is malformed")
            sids = self.column(m["shape_column"], [pa.int32()]).to_numpy()
            if len(sids) and (sids.min() < -1 or sids.max() >= len(shapes)):
                raise ValueError("shape numbers out of range")
            cols = {(k, c): self.column(n, [{"s": pa.string(), "i": pa.int64(), "f": pa.float64(), "b": pa.bool_()}[c]])
                    for k, c, n in m["columns"]}
        except (ValueError, KeyError, TypeError) as e:
            raise TraceFormatError(f"column {name!r}: store metadata is not valid ({e})", file=self.name) from None
        counts = np.bincount(sids[sids >= 0], minlength=len(shapes)) if len(sids) else np.zeros(len(shapes), dtype=np.int64)
        # the values each typed column should hold: one pass over the shapes' keys (a scan of every shape per
        # column was columns x shapes: 1,000 keys in varying sets of 10 read at 55-141x read_otlp)
        wants: dict[tuple[str, str], int] = {}
        for (ks, cs), n_rows in zip(shapes, counts.tolist(), strict=True):
            for kc in set(zip(ks, cs, strict=False)):
                wants[kc] = wants.get(kc, 0) + n_rows
        for (k, c), col in cols.items():
            want = wants.get((k, c), 0)
            if len(col) - col.null_count != want:
                raise TraceFormatError(f"column {f'{name}:{c}:{k}'!r} holds "
                                       f"{len(col) - col.null_count} values, its shapes say {want}", file=self.name)
        fb = self.column(m["fallback_column"], [pa.binary()]) if m.get("fallback_column") else None
        if fb is None and any("x" in c for _, c in shapes):
            raise TraceFormatError(f"column {name!r}: a shape needs the fallback column, which is missing", file=self.name)
        return DictSource(shapes, sids, cols, fb, self.name, name)

    def list_source(self, name: str) -> ListSource:
        m = self.meta["containers"].get(name)
        if m is None or m.get("kind") != "lists":
            raise TraceFormatError(f"column {name!r}: metadata does not describe a list column", file=self.name)
        return ListSource(self.column(m["column"], [pa.binary()]), self.name, name)


def _scalars(table: pa.Table, name: str) -> Any:
    col = table.column(name)
    dt = _DTYPES[name]
    if dt == STRING:
        if col.type != pa.string():
            col = col.cast(pa.string())
        return pd.arrays.ArrowStringArray(col)
    if dt == TIMESTAMP:
        if col.type != pa.timestamp("ns", tz="UTC"):
            col = col.cast(pa.timestamp("ns", tz="UTC"))
        vals = col.to_numpy().astype("datetime64[ns]")
        return pd.DatetimeIndex(vals).tz_localize("UTC").array
    if str(dt) == "Int64":
        if col.type != pa.int64():
            col = col.cast(pa.int64())
        data = col.fill_null(0).to_numpy()
        mask = col.is_null().to_numpy(zero_copy_only=False)
        return pd.arrays.IntegerArray(np.asarray(data, dtype=np.int64), np.asarray(mask, dtype=bool))
    if str(dt) == "bool":
        if col.null_count:
            raise TraceFormatError(f"column {name!r} has {col.null_count} missing values")
        return col.to_numpy()
    return col.to_numpy()  # float64


def _merge_dicts(sources: list[DictSource], file: str, column: str) -> DictSource:
    if len(sources) == 1:
        return sources[0]
    shapes: list = []
    sids = []
    for s in sources:
        off = len(shapes)
        shapes += s.shapes
        sids.append(np.where(s.shape_ids >= 0, s.shape_ids + off, -1).astype(np.int32))
    keys = list(dict.fromkeys(k for s in sources for k in s.columns))
    cols = {}
    for kc in keys:
        t = {"s": pa.string(), "i": pa.int64(), "f": pa.float64(), "b": pa.bool_()}[kc[1]]
        cols[kc] = pa.chunked_array([c for s in sources for c in (s.columns[kc].chunks if kc in s.columns
                                                                  else [pa.nulls(s.n, type=t)])], type=t)
    fbs = [s.fallback for s in sources]
    fb = None
    if any(f is not None for f in fbs):
        fb = pa.chunked_array([c for s, f in zip(sources, fbs, strict=False) for c in (f.chunks if f is not None
                                                                         else [pa.nulls(s.n, type=pa.binary())])],
                              type=pa.binary())
    return DictSource(shapes, np.concatenate(sids), cols, fb, file, column)


def _json_column(file: _File, name: str) -> LazyColumn:
    """Version 0 (JSON text) containers, decoded at once (as the old reader did)."""
    text = file.column(name).to_pylist()
    try:
        vals = orjson.loads("[" + ",".join(text) + "]") if text else []
    except orjson.JSONDecodeError:
        try:
            vals = [json.loads(t) for t in text]
        except (ValueError, TypeError) as e:
            raise TraceFormatError(f"column {name!r}: not JSON text ({e})", file=file.name) from None
    out = np.empty(len(vals), dtype=object)
    out[:] = vals
    return LazyColumn(None, None, out)


def _extra_values(name: str, col: pa.ChunkedArray, pandas_meta: str | None) -> Any:
    """An extra (non-schema) column's values as :func:`read_parquet` puts them in the frame: text as Arrow strings,
    the rest by Arrow's pandas conversion with the pandas metadata written with the column, so an ``Int64`` column
    with a missing value stays ``Int64`` (it came back float64, 2**60 + 1 as 2**60) and a categorical stays one
    (it came back text)."""
    if col.type in (pa.string(), pa.large_string()):
        return pd.arrays.ArrowStringArray(col.cast(pa.string()))
    table = pa.table({name: col})
    if pandas_meta:
        try:
            info = json.loads(pandas_meta)
            info["columns"] = [c for c in info.get("columns", []) if c.get("name") == name]
            info["index_columns"], info["column_indexes"] = [], []
            table = table.replace_schema_metadata({b"pandas": json.dumps(info).encode()})
            return table.to_pandas()[name].array
        except (ValueError, TypeError, KeyError, AttributeError, pa.ArrowException):
            table = pa.table({name: col})  # metadata not usable: Arrow's own conversion
    return table.to_pandas()[name].array


def store_meta(path: str | os.PathLike, filesystem: Any = None) -> pd.DataFrame:
    """The zero-row frame that the store file ``path`` reads as (``tk.dask.read_parquet``'s meta), from its footer.

    The spans schema's columns (:func:`tracekit.empty_spans`) and then the file's extra columns, with the dtypes
    :func:`read_parquet` gives them. ``filesystem``: an fsspec filesystem ``path`` is on. A file whose footer cannot be
    read gives :func:`tracekit.empty_spans` (reading the file then raises the error naming it).
    """
    from ..schema import empty_spans

    meta = empty_spans()
    try:
        if filesystem is None:
            schema = pq.read_schema(os.fspath(path))
        else:
            with filesystem.open(str(path), "rb") as fh:
                schema = pq.read_schema(fh)
        raw = (schema.metadata or {}).get(_META_KEY)
        info = orjson.loads(raw) if raw is not None else None
    except (pa.ArrowInvalid, OSError, orjson.JSONDecodeError):
        return meta
    if info is None:  # version 0: every column that is not the schema's is an extra one
        extras = [(n, n) for n in schema.names if n not in COLUMN_NAMES]
    else:
        extras = [(str(e), f"extra:{e}") for e in info.get("extra") or []]
    for e, key in extras:
        if key in schema.names:
            meta[e] = _extra_values(e, pa.chunked_array([], type=schema.field(key).type),
                                    (info or {}).get("extra_pandas"))
    return meta


def read_parquet(path: str | os.PathLike | Sequence[str | os.PathLike], *, materialize: bool = False,
                 storage_options: dict | None = None) -> pd.DataFrame:
    """Reopen a spans store written by :func:`write_parquet` (a Parquet file or a store directory).

    Parameters
    ----------
    path : str, PathLike or list of them
        A store file or directory; several are read in order into one frame.
    materialize : bool
        Build every ``attributes``/``resource`` dict and ``events``/``links`` list now and return
        them as plain object columns (the frame a reader gives). Default: built on first use
        (dtype ``tracekit.lazy``; see the module docstring).
    storage_options : dict, optional
        For a path that is an fsspec URL (``s3://bucket/store``, ``memory://…``; needs ``fsspec``,
        installed with the ``dask`` extra): passed to the filesystem (credentials, endpoint…).

    Returns
    -------
    DataFrame
        The spans, in the order they were written, with their ``attrs`` (skipped records…).

    Raises
    ------
    TraceFormatError
        A file that is not Parquet or is truncated, is not a spans store, is of another store
        version, or has a column missing or of the wrong type (the message names the file and
        the column).
    ArgumentError
        When ``path`` is not a path, a URL or a list of them.

    Examples
    --------
    >>> import tracekit as tk, tempfile, os
    >>> spans = tk.examples.load("checkout-small")
    >>> p = tk.write_parquet(spans, os.path.join(tempfile.mkdtemp(), "s"), partition_by="hour")
    >>> back = tk.read_parquet(p, materialize=True)
    >>> back.equals(spans), back.attrs == spans.attrs
    (True, True)
    """
    if isinstance(path, (str, os.PathLike)):
        paths = [path]
    elif isinstance(path, (list, tuple)):
        paths = list(path)
    else:  # 5 or None was a bare TypeError ('int' object is not iterable)
        raise ArgumentError(f"read_parquet: path must be a store path, an fsspec URL or a list of them, not "
                            f"{type(path).__name__}")
    if not paths:
        raise ArgumentError("read_parquet: no path given")
    bad = [p for p in paths if not isinstance(p, (str, os.PathLike))]
    if bad:
        raise ArgumentError(f"read_parquet: path must be a store path, an fsspec URL or a list of them; the list "
                            f"holds a {type(bad[0]).__name__} ({bad[0]!r:.40})")
    opened: list[_File] = []
    stores: list[tuple[str, list[_File]]] = []  # each path given and its files, in order
    for p in paths:
        if isinstance(p, str) and "://" in p:
            fs, remote = remote_store_files(p, storage_options)
            stores.append((p, [_File(f, fs) for f in remote]))
        else:
            p = Path(os.fspath(p))
            if not p.exists():
                raise TraceKitError(f"read_parquet: no such file or directory: {p}")
            stores.append((str(p), [_File(f) for f in store_files(p)]))
        opened += stores[-1][1]
    name = str(paths[0]) if len(paths) == 1 else ", ".join(map(str, paths))
    scal = [c for c in COLUMN_NAMES if c not in CONTAINERS]
    tables = [pa.table({c: f.scalar(c) for c in scal}) for f in opened]
    table = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
    data: dict[str, Any] = {}
    for c in scal:
        try:
            data[c] = _scalars(table, c)
        except TraceFormatError as e:
            raise TraceFormatError(e.reason, file=name) from None
    for c in CONTAINERS:
        if all(f.meta["version"] == 0 for f in opened):
            parts = [_json_column(f, c) for f in opened]
            data[c] = LazyColumn._concat_same_type(parts)
            continue
        if any(f.meta["version"] == 0 for f in opened):
            raise TraceFormatError("a store mixes version 0 and later files", file=name)
        if c in DICT_COLUMNS:
            src: Any = _merge_dicts([f.dict_source(c) for f in opened], name, c)
        else:
            ls = [f.list_source(c) for f in opened]
            src = ls[0] if len(ls) == 1 else ListSource(pa.chunked_array([ch for s in ls for ch in s._blobs.chunks],
                                                                         type=pa.binary()), name, c)
        data[c] = LazyColumn(src, np.arange(len(table), dtype=np.int64))
    df = pd.DataFrame({c: data[c] for c in COLUMN_NAMES}, copy=False)
    extras = list(dict.fromkeys(e for f in opened for e in f.meta.get("extra", [])))
    for e in extras:
        chunks = []
        for f in opened:
            key = f"extra:{e}" if f.meta["version"] >= 1 else e
            if key not in f.table.column_names:
                raise TraceFormatError(f"extra column {e!r} is missing", file=f.name)
            chunks.append(f.table.column(key))
        pandas_meta = next((f.meta.get("extra_pandas") for f in opened if e in f.meta.get("extra", [])), None)
        if all(c.type == chunks[0].type for c in chunks):
            df[e] = _extra_values(e, pa.chunked_array([ch for c in chunks for ch in c.chunks], type=chunks[0].type),
                                  pandas_meta)
        else:  # files of one store (tk.dask.to_parquet: one per partition) or stores that hold it as different types
            # (int64 here, float64 with NaN there; a categorical beside text): each file's values as that file reads
            # them, joined as pandas joins them (it was pyarrow's bare 'Array chunks must all be same type')
            vals = [pd.Series(_extra_values(e, c, f.meta.get("extra_pandas")), copy=False) for f, c in zip(opened, chunks, strict=True)]
            df[e] = pd.concat(vals, ignore_index=True).array
    if any(f.meta.get("row_column") for f in opened):
        # each store's rows in the order written (a partitioned store numbers its rows 0 … n − 1 across its files),
        # the stores in the order given: two partitioned stores read together numbered rows twice (an error before)
        orders, offset = [], 0
        for store, files in stores:
            n = sum(f.table.num_rows for f in files)
            if all(f.meta.get("row_column") for f in files):
                order = np.concatenate([f.table.column(f.meta["row_column"]).to_numpy() for f in files]) \
                    if files else np.zeros(0, dtype=np.int64)
                if len(np.unique(order)) != len(order):
                    raise TraceFormatError(f"column {_ROW!r} numbers some row twice", file=store)
                # ranks within the store: one file of a partitioned store holds some of its numbers (dask reads
                # them a file at a time), not 0 … n − 1
                order = np.argsort(np.argsort(order, kind="stable"), kind="stable")
            else:
                order = np.arange(n, dtype=np.int64)
            orders.append(order.astype(np.int64) + offset)
            offset += n
        order = np.concatenate(orders) if orders else np.zeros(0, dtype=np.int64)
        if len(order) != len(df):
            raise TraceFormatError(f"column {_ROW!r} does not number every row", file=name)
        df = df.take(np.argsort(order, kind="stable")).reset_index(drop=True)
    attrs: dict[str, Any] = {}
    for f in opened:
        for k, v in _attrs_from_meta(f.meta.get("attrs") or {}, f.name).items():
            if k in attrs and isinstance(v, tuple) and isinstance(attrs[k], tuple):
                attrs[k] = attrs[k] + v
            else:
                attrs.setdefault(k, v)
    df.attrs.update({k: shared_attr(v) for k, v in attrs.items()})
    if len(stores) > 1:  # a span in two stores given together once, as in two JSON files (io._copies)
        df = without_copies(df)
    if materialize:
        df = globals()["materialize"](df)
    return df


def materialize(spans: pd.DataFrame) -> pd.DataFrame:
    """The frame with every lazy container column (``tracekit.lazy``) as a plain object column.

    A frame without lazy columns is returned as it is. The cells are the ones already built, so a
    dict changed before is kept changed.

    Parameters
    ----------
    spans : DataFrame
        A spans frame, e.g. from :func:`read_parquet`.

    Returns
    -------
    DataFrame
        A new frame (the same object when nothing is lazy).

    Examples
    --------
    >>> import tracekit as tk, tempfile, os
    >>> spans = tk.examples.load("checkout-small")
    >>> back = tk.read(tk.write_parquet(spans, os.path.join(tempfile.mkdtemp(), "s.parquet")))
    >>> str(back["attributes"].dtype), str(materialize(back)["attributes"].dtype)
    ('tracekit.lazy', 'object')
    """
    lazy = [c for c in spans.columns if isinstance(spans[c].array, LazyColumn)]
    if not lazy:
        return spans
    out = spans.copy(deep=False)
    for c in lazy:
        out[c] = pd.Series(spans[c].array.to_numpy(), index=spans.index, dtype=object, copy=False)
    return out

