"""Scale out on Dask: the same readers and analyses over trace sets larger than one machine.

Reached as ``tk.dask`` (extra ``dask``); importing :mod:`tracekit` never imports dask. Point it
at a ``dask.distributed`` cluster (``Client(...)``) or let Dask use its local scheduler.

**Reading.** :func:`read_otlp`, :func:`read_xray` and :func:`read` take a path, a directory, a
glob (``"traces/*.jsonl.gz"``, ``**`` allowed) or a list of those; fsspec URLs
(``s3://bucket/*.json.gz``, ``gcs://…``) are read through fsspec with ``storage_options``. Each
file is one input partition, read by the single-machine reader (``tk.read_otlp`` …) unchanged;
the frame's meta is :func:`tracekit.empty_spans`. A folder is walked as the pandas readers walk it
(:func:`tracekit.io._sources.walk`); the files it does not read (a README, a ``.DS_Store``, a CSV) are named in one
:class:`~tracekit.errors.TraceFormatWarning`, as a Dask frame keeps no ``attrs["ignored"]``.

**Traces kept whole.** Every per-trace analysis here needs all spans of a trace in one
partition. Collector JSON lines routinely split a trace across files, so the readers *always
shuffle on trace_id* by default (``shuffle=True``: hash partitioning; the dict/list columns
travel as JSON text so a distributed cluster uses Dask's disk-backed p2p shuffle;
``npartitions`` defaults to the number of files; a span found in two files, as overlapping exports or a
collector's retry give, is then kept once by the pandas readers' rule, :mod:`tracekit.io._copies`). Pass
``shuffle=False`` only when each trace is known to sit in one file (e.g. X-Ray BatchGetTraces
exports of whole traces); a store read by :func:`read_parquet` has traces whole when it was
written from a shuffled frame or partitioned by time;
:func:`split_traces` checks that claim (it lists trace ids found in more than one partition) and
:func:`keep_traces_whole` shuffles any spans frame. Where a caller dropped the trace context, the callee's half
of its request is a trace of its own (:mod:`tracekit.core.dropped_context`), which the pandas functions count as
part of the caller's request: :func:`keep_requests_whole` moves it beside its caller, and traces linked to each
other (a queue's producer and consumer) into one partition (two more passes, one shuffle only when such a pair
crosses partitions), and :func:`from_pandas` partitions that way from the start. Without it, a pair across
partitions counts the callee's half as a request of its own, and the service graph misses the link's
asynchronous hop.

**Parquet.** :func:`to_parquet` writes a Dask *or* a pandas spans frame as a spans store
directory (:mod:`tracekit.io.parquet`, the same format as :func:`tracekit.write_parquet`: one
format for pandas and Dask), one ``part.N.parquet`` per partition, and :func:`read_parquet`
reads a store (any, including one partitioned by hour or day) with one partition per file, so
traces stay whole as they were when written; ``lazy=False`` gives one pandas frame. Dtypes and
dict/list values come back exactly (bytes stay bytes; a value the store cannot hold exactly is an
error naming the column, row and key). The index is not stored (a pandas round trip returns a
RangeIndex). Both take fsspec URLs (``s3://bucket/store`` with ``storage_options``) as well as local
paths; a local store is renamed into place atomically, a remote one is written to a temporary
prefix and moved, which object stores cannot do atomically (see :func:`to_parquet`).

**Analyses.** :func:`critical_path`, :func:`self_time` and :func:`find_repeated_calls` run the
single-machine function on each partition (``map_partitions``) and return Dask frames.
Aggregations combine partial results exactly:

* :func:`critical_path_breakdown` → a ``dask.delayed`` object; ``.compute()`` gives the pandas
  frame. Each partition reduces its critical path to one row per (key, trace) (the trace's
  contribution); the combine step runs :func:`tracekit.critical_path_breakdown` on those rows,
  so totals, shares and the p50/p95 of per-trace contributions are **exact** (two-pass: the
  combine task holds one row per (key, trace) pair).
* :func:`service_graph` → the same ``networkx.DiGraph`` as :func:`tracekit.service_graph`.
  Each partition runs service_graph's own call-edge function (so calls and flags are its);
  counts and sums are added up; edge percentiles are **exact** (:func:`tracekit.core.percentile`,
  inverted_cdf, as everywhere): every call (source, target, duration) is shuffled by edge and
  each edge's quantiles are taken over all its calls (memory: the calls of the largest edge on one worker).
* :func:`health_report` → the findings frame of :func:`tracekit.health_report`: counts, shares
  and values exact for every check (``span_error_rate`` rebuilt from counts of failed spans,
  :func:`tracekit.core.failed`, over the spans of known outcome, :func:`tracekit.core.outcome_unknown`, NaN with ``failed_request_ratio``'s value where no span of any partition records a
  status, :func:`tracekit.core.status_recorded`; ``p95_request_latency_ms`` from every request's latency
  ``request_ms`` by :func:`tracekit.core.percentile`, ``top_call_path`` counted over all paths
  and cut to the top ``top_call_paths`` afterwards; ``high_cardinality_span_name`` from every partition's
  :func:`tracekit.analysis.health.span_name_counts` added up, then, only when some service's names carry ids, a
  second pass counting those names' spans and traces; ``high_cardinality_attribute`` from every partition's
  :func:`tracekit.analysis.health.attribute_cardinality` added up, an upper bound that screens the keys, then the
  candidate keys' distinct values, :func:`tracekit.analysis.health.attribute_values`, put together on the workers:
  memory, a candidate key's distinct values on one worker). Example trace ids are the
  first found in partition order and the explanation text of a multi-partition finding quotes
  the figures of the first partition that reported it (except the rebuilt metric rows).

Floating-point sums are added in a different order than pandas adds them, so totals can differ
from the pandas result in the last bits (tests compare with a relative tolerance of 1e-9).

**Measured** (``benchmarks/bench_dask.py --spans 200000 800000``, files of 50,000 spans, a
2-core machine shared with other jobs, single-threaded workers): reading, shuffling and writing
the Parquet cache, then breakdown and service graph from the cache. Peak RSS per worker went
from 874 to 1,140 MB (1 worker) and 715 to 888 MB (2 workers) for 4x the spans, against 776 to
2,619 MB for the pandas process; the peak is in the read+shuffle step. At 2,000,000 spans
(40 files, Dask only) 2 workers peaked at 915 MB each and ran at 9,800 spans/s (204 s in all):
memory per worker stays flat while the input grows 10x. Throughput was 3,700 to
10,000 spans/s per run (pandas 15,000 to 22,000 on one core: Dask adds the shuffle, JSON
encoding of the container columns and the Parquet round trip).

**Sizing 500 million spans** (extrapolated from those figures, not measured): about 25 worker-hours
for the read+shuffle+cache pass at ~6,000 spans/s per worker (≈ 15 min on 100 workers), then
about 14 worker-hours for breakdown and service graph together over the cache at ~10,000
spans/s per worker (≈ 8 min on 100 workers); 2 GB of memory
per worker with 50,000-span partitions, and local disk for the p2p shuffle of about the size of
the Parquet cache. The combine steps are single tasks and grow with the data: the breakdown's
one row per (key, trace) (≈ 150 M rows, several GB, for 25 M traces), the p95 trace latency of
the health report (one duration per trace) and the calls of the busiest graph edge; give the
worker that runs them 8 to 16 GB, or reduce the data first (e.g. one day at a time).
"""

from __future__ import annotations

import glob as _glob
import json
import os
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
import numpy as np
import orjson
import pandas as pd

from .core import (
    QUANTILES,
    bool_column,
    failed,
    outcome_unknown,
    percentile,
    require_columns,
    span_count,
    span_tree,
    status_recorded,
    trace_outcomes,
    unknown_outcomes,
)
from .core.calls import edge_kind
from .core.deprecation import renamed
from .core.dropped_context import new_root_starts
from .core.keys import by_keys
from .core.outcomes import _OUTCOME_INPUTS
from .errors import ArgumentError, TraceFormatError, TraceKitError, require
from .io._copies import without_copies
from .io._sources import ignored_file_records, walk
from .io.containers import exact_problem
from .schema import COLUMN_NAMES, SPAN_COLUMNS, empty_spans

if TYPE_CHECKING:  # dask is optional (the [dask] extra): imported where a function runs
    import dask.dataframe as dd
    import networkx as nx
    from dask.delayed import Delayed

__all__ = [
    "read",
    "read_otlp",
    "read_xray",
    "from_pandas",
    "keep_traces_whole",
    "keep_requests_whole",
    "split_traces",
    "to_parquet",
    "read_parquet",
    "critical_path",
    "critical_path_breakdown",
    "self_time",
    "find_repeated_calls",
    "service_graph",
    "health_report",
    "JSON_COLUMNS",
]

#: container columns moved as JSON text in a shuffle
JSON_COLUMNS = ("attributes", "resource", "events", "links")
_DTYPES = {c.name: c.dtype for c in SPAN_COLUMNS}


def _dd():
    return require("dask.dataframe", "dask")


def _no_string_conversion():
    """Dask would turn the object (dict/list) columns into strings; keep them objects."""
    dask = require("dask", "dask")
    return dask.config.set({"dataframe.convert-string": False})


def _check_npartitions(n: Any, what: str) -> None:
    """``npartitions`` is None (the default) or a whole number >= 1 (-1 was a bare OverflowError from the shuffle,
    0 silently the default)."""
    if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1):
        raise ArgumentError(f"{what}: npartitions must be a whole number >= 1 (or None: the default), got {n!r}")


def _check_frame(spans: Any, what: str) -> pd.DataFrame:
    """A Dask frame with a ``trace_id`` column, or an ArgumentError naming ``what``; its meta."""
    meta = getattr(spans, "_meta", None)
    if meta is None or not hasattr(spans, "to_delayed"):  # a pandas frame or None was a bare AttributeError
        raise ArgumentError(f"{what}: expected a Dask spans frame, got {type(spans).__name__}"
                            + (": tk.dask.from_pandas(spans, npartitions) makes one of a pandas frame (or run the "
                               "pandas function on it)" if isinstance(spans, pd.DataFrame) else ""))
    if "trace_id" not in meta.columns:  # (a bare KeyError from Dask's shuffle)
        raise ArgumentError(f"{what}: the frame has no 'trace_id' column: not a spans frame")
    return meta


def _check_containers(spans: Any, what: str) -> None:
    """Refuse a Dask frame whose dict/list columns Dask turned into text (``dataframe.convert-string``, on by
    default, makes ``str(dict)`` of them when a frame is built with ``dd.from_pandas`` and the like): every
    analysis would read the text as no attributes and answer wrongly without a word."""
    meta = _check_frame(spans, what)
    for c in JSON_COLUMNS:
        if c in meta.columns and meta[c].dtype != object:
            raise ArgumentError(
                f"{what}: column {c!r} holds text (dtype {meta[c].dtype}), not the dicts/lists of a spans frame: Dask "
                "turned it into strings when the frame was made (its 'dataframe.convert-string' option, on by "
                "default), which loses its values. Make the frame with tk.dask.from_pandas(spans, npartitions) or a "
                "tk.dask reader, or build it inside `with dask.config.set({'dataframe.convert-string': False}):`")


# ------------------------------------------------------------------------------------ reading


def _expand(source: Any, storage_options: dict | None) -> list[str]:
    items = [source] if isinstance(source, (str, os.PathLike)) else list(source)
    if not items:
        raise ArgumentError("tk.dask: no paths given")
    out: list[str] = []
    folders: list[Path] = []
    for item in items:
        if not isinstance(item, (str, os.PathLike)):
            raise ArgumentError(f"tk.dask: expected paths, globs or URLs, got {type(item).__name__}")
        s = os.fspath(item)
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", s) and not s.startswith("file://"):
            fsspec = require("fsspec", "dask")
            fs, _, paths = fsspec.core.get_fs_token_paths(s, mode="rb", storage_options=storage_options or {})
            found = sorted(fs.unstrip_protocol(p) for p in paths if not fs.isdir(p))
            if not found:
                raise TraceKitError(f"tk.dask: no files match {s!r}")
            out += found
            continue
        s = s[len("file://"):] if s.startswith("file://") else s
        p = Path(s)
        if p.is_dir():
            found = [str(f) for f in walk(p).files]
            folders.append(p)
        elif any(ch in s for ch in "*?["):
            found = sorted(f for f in _glob.glob(s, recursive=True) if os.path.isfile(f))
        elif p.is_file():
            found = [s]
        else:
            raise TraceKitError(f"tk.dask: no such file or directory: {s!r}")
        if not found:
            raise TraceKitError(f"tk.dask: no trace files in {s!r}")
        out += found
    _say_not_read(folders)
    return out


def _say_not_read(folders: list[Path]) -> None:
    """The files of the folders given that are not read, named as the pandas readers name them in
    ``attrs["ignored"]`` (one walk, :func:`tracekit.io._sources.walk`); a Dask frame keeps no ``attrs``, so they are
    said in one :class:`~tracekit.errors.TraceFormatWarning` when the read is set up."""
    import warnings

    from .errors import TraceFormatWarning

    records = ignored_file_records(folders)
    if records:
        shown = "; ".join(f"{r.file} ({r.reason})" for r in records[:5])
        warnings.warn(f"tk.dask: {len(records)} file(s) of the folders given are not read: {shown}"
                      + (f"; and {len(records) - 5} more" if len(records) > 5 else ""), TraceFormatWarning,
                      stacklevel=5)


def _read_file(path: str, fmt: str, errors: str, storage_options: dict | None) -> pd.DataFrame:
    from .io.readers import read_otlp as r_otlp
    from .io.readers import read_xray as r_xray
    from .io.sniff import read as r_any

    reader = {"otlp": r_otlp, "xray": r_xray, "any": r_any}[fmt]
    if "://" not in path:
        df = reader(path, errors=errors)
    else:
        fsspec = require("fsspec", "dask")
        with fsspec.open(path, "rb", **(storage_options or {})) as f:
            data = f.read()
        try:
            df = reader(data, errors=errors)
        except TraceFormatError as e:
            raise TraceFormatError(e.reason, file=path, record=e.record) from e
        df["source_file"] = pd.array([path] * len(df), dtype=_DTYPES["source_file"])
    return df


def _read(fmt: str, source: Any, errors: str, shuffle: bool, npartitions: int | None,
          storage_options: dict | None):
    dd = _dd()
    if errors not in ("raise", "skip"):
        raise ArgumentError(f"errors must be 'raise' or 'skip', not {errors!r}")
    _check_npartitions(npartitions, f"read_{fmt}" if fmt != "any" else "read")
    if fmt == "any" and isinstance(source, (str, os.PathLike)) and "://" not in os.fspath(source):
        from .io.parquet import is_store

        if is_store(source):  # a spans store: its own reader, one partition per file
            ddf = read_parquet(source)
            return keep_traces_whole(ddf, npartitions=npartitions) if shuffle and npartitions is not None else ddf
    paths = _expand(source, storage_options)
    with _no_string_conversion():
        ddf = dd.from_map(_read_file, paths, fmt=fmt, errors=errors, storage_options=storage_options,
                          meta=empty_spans(), label=f"tracekit-read-{fmt}", enforce_metadata=False)
    if shuffle:
        ddf = keep_traces_whole(ddf, npartitions=npartitions)
        # a span in two files (overlapping exports, a collector's retry) once, as the pandas readers read a folder
        # (io._copies): each file's reader saw one copy; after the shuffle both sit in one partition
        with _no_string_conversion():
            ddf = ddf.map_partitions(without_copies, meta=ddf._meta)
    elif npartitions is not None:
        raise ArgumentError("npartitions needs shuffle=True (without a shuffle there is one partition per file)")
    return ddf


def read_otlp(source: Any, *, errors: str = "raise", shuffle: bool = True, npartitions: int | None = None,
              storage_options: dict | None = None) -> dd.DataFrame:
    """OTLP/JSON files (paths, globs, directories, fsspec URLs) → Dask spans frame, traces whole.

    One input partition per file, read by :func:`tracekit.read_otlp`; then shuffled on
    ``trace_id`` into ``npartitions`` (default: one per file) unless ``shuffle=False`` (only when
    every trace sits in one file; see the module docstring). ``errors`` as in tk.read_otlp;
    with ``"skip"`` the skipped-record list (``attrs``) does not survive Dask: run
    :func:`tracekit.skipped_records` on ``tk.read_otlp(file, errors="skip")`` to see it.

    Parameters
    ----------
    source : str, path-like or list of them
        Files, directories (walked as the pandas readers walk them), globs (``**`` allowed) or fsspec URLs.
    errors : {"raise", "skip"}
        Bad records: an error naming the file and record, or skipped (the list does not survive Dask).
    shuffle : bool
        Shuffle on ``trace_id`` so every trace is whole in one partition (default); ``False`` only when each
        trace is known to sit in one file.
    npartitions : int, optional
        Partitions after the shuffle (default: one per file); needs ``shuffle=True``.
    storage_options : dict, optional
        Passed to fsspec for URLs (credentials, endpoint).

    Returns
    -------
    dask.dataframe.DataFrame
        The spans, meta :func:`tracekit.empty_spans`.

    Examples
    --------
    >>> import tracekit as tk, tempfile, os
    >>> from tracekit.io.write import write_otlp
    >>> spans = tk.simulate.simulate("baseline", n_traces=4, seed=0).spans
    >>> d = tempfile.mkdtemp()
    >>> _ = write_otlp(spans.iloc[:30], os.path.join(d, "a.jsonl")); _ = write_otlp(spans.iloc[30:], os.path.join(d, "b.jsonl"))
    >>> ds = tk.dask.read_otlp(os.path.join(d, "*.jsonl"))
    >>> ds.npartitions, len(ds.compute()) == len(spans)
    (2, True)
    """
    return _read("otlp", source, errors, shuffle, npartitions, storage_options)


def read_xray(source: Any, *, errors: str = "raise", shuffle: bool = True, npartitions: int | None = None,
              storage_options: dict | None = None) -> dd.DataFrame:
    """AWS X-Ray files → Dask spans frame, traces whole; as :func:`read_otlp` with :func:`tracekit.read_xray`.

    Parameters
    ----------
    source : str, path-like or list of them
        Files, directories (walked as the pandas readers walk them), globs (``**`` allowed) or fsspec URLs.
    errors : {"raise", "skip"}
        Bad records: an error naming the file and record, or skipped (the list does not survive Dask).
    shuffle : bool
        Shuffle on ``trace_id`` so every trace is whole in one partition (default); ``False`` only when each
        trace is known to sit in one file.
    npartitions : int, optional
        Partitions after the shuffle (default: one per file); needs ``shuffle=True``.
    storage_options : dict, optional
        Passed to fsspec for URLs (credentials, endpoint).

    Returns
    -------
    dask.dataframe.DataFrame
        The spans, meta :func:`tracekit.empty_spans`.

    Examples
    --------
    >>> import tracekit as tk, tempfile, os
    >>> from tracekit.io.write import write_xray
    >>> spans = tk.simulate.simulate("baseline", n_traces=3, seed=0).spans
    >>> p = write_xray(spans, os.path.join(tempfile.mkdtemp(), "t.json.gz"))
    >>> ds = tk.dask.read_xray(str(p), shuffle=False)
    >>> ds.compute()["trace_id"].nunique()
    3
    """
    return _read("xray", source, errors, shuffle, npartitions, storage_options)


def read(source: Any, *, errors: str = "raise", shuffle: bool = True, npartitions: int | None = None,
         storage_options: dict | None = None) -> dd.DataFrame:
    """Files of either format (sniffed per document by :func:`tracekit.read`) → Dask spans frame.

    A spans store (a local Parquet file or store directory) is read by :func:`read_parquet`, one
    partition per file (traces as whole as they were written; shuffled only when ``npartitions``
    is given).

    Parameters
    ----------
    source : str, path-like or list of them
        Files, directories (walked as the pandas readers walk them), globs (``**`` allowed) or fsspec URLs.
    errors : {"raise", "skip"}
        Bad records: an error naming the file and record, or skipped (the list does not survive Dask).
    shuffle : bool
        Shuffle on ``trace_id`` so every trace is whole in one partition (default); ``False`` only when each
        trace is known to sit in one file.
    npartitions : int, optional
        Partitions after the shuffle (default: one per file); needs ``shuffle=True``.
    storage_options : dict, optional
        Passed to fsspec for URLs (credentials, endpoint).

    Returns
    -------
    dask.dataframe.DataFrame
        The spans, meta :func:`tracekit.empty_spans`.

    Examples
    --------
    >>> import tracekit as tk, tempfile, os
    >>> from tracekit.io.write import write_otlp, write_xray
    >>> spans = tk.simulate.simulate("baseline", n_traces=3, seed=0).spans
    >>> d = tempfile.mkdtemp()
    >>> _ = write_otlp(spans, os.path.join(d, "a.jsonl")); _ = write_xray(spans, os.path.join(d, "b.json"))
    >>> sorted(tk.dask.read(d)["source"].unique().compute())
    ['otlp', 'xray']
    """
    return _read("any", source, errors, shuffle, npartitions, storage_options)


@renamed(dspans="spans")
def keep_traces_whole(spans: dd.DataFrame, npartitions: int | None = None) -> dd.DataFrame:
    """Shuffle a Dask spans frame on ``trace_id`` so every trace is inside one partition.

    Hash partitioning (deterministic). The container columns are encoded as JSON text (as in
    :func:`to_parquet`) for the move and decoded after it, so the frame is plain Arrow data and
    Dask can use its disk-backed peer-to-peer shuffle on a distributed cluster (memory per
    worker bounded; a task-based shuffle on the local scheduler). Frames with other object
    columns are moved as they are with a task-based shuffle. ``npartitions`` defaults to the
    input's.

    Parameters
    ----------
    spans : dask.dataframe.DataFrame
        A Dask spans frame, traces possibly cut across partitions.
    npartitions : int, optional
        Partitions of the result (default: the input's).

    Returns
    -------
    dask.dataframe.DataFrame
        The same spans, every trace in one partition.

    Examples
    --------
    >>> import tracekit as tk, dask.dataframe as dd
    >>> spans = tk.simulate.simulate("baseline", n_traces=20, seed=0).spans
    >>> import dask
    >>> with dask.config.set({"dataframe.convert-string": False}):    # Dask would make the dicts text
    ...     split = dd.from_pandas(spans, npartitions=4, sort=False)  # cuts traces
    >>> len(tk.dask.split_traces(split)) > 0, len(tk.dask.split_traces(tk.dask.keep_traces_whole(split)))
    (True, 0)
    """
    _dd()
    _check_npartitions(npartitions, "keep_traces_whole")
    _check_containers(spans, "keep_traces_whole")
    return _shuffle_on(spans, "trace_id", npartitions or spans.npartitions, spans._meta)


#: a column the request-keeping shuffle moves spans by, dropped after it
_REQUEST_KEY = "_tk_request_key"


def _shuffle_on(spans: dd.DataFrame, on: str, n: int, meta: pd.DataFrame) -> dd.DataFrame:
    """Hash-shuffle on column ``on``; the result has ``meta``'s columns and dtypes (``on`` dropped when not in it)."""
    other = [c for c in spans._meta.columns if spans._meta[c].dtype == object and c not in JSON_COLUMNS]
    with _no_string_conversion():
        if other:
            moved = spans.shuffle(on=on, npartitions=n, shuffle_method="tasks")
            return moved if on in meta.columns else moved.drop(columns=[on])
        enc = spans.map_partitions(_encode, meta=_encode(spans._meta))
        moved = enc.shuffle(on=on, npartitions=n)
        return moved.map_partitions(_decode_as, meta, meta=meta)


@renamed(dspans="spans")
def keep_requests_whole(spans: dd.DataFrame, npartitions: int | None = None) -> dd.DataFrame:
    """Move the callee's half of every request whose trace context was dropped into its caller's partition, and
    traces linked to each other into one partition.

    Where a caller dropped the trace context, its callee's server span started a new trace: the callee's half of
    the caller's request (:mod:`tracekit.core.dropped_context`; :func:`tracekit.core.trace_outcomes` counts it
    as part of the caller's request, not as a request of its own). A span linking to a span of another trace (a
    queue consumer and its producer: SQS → Lambda, Kafka) makes an asynchronous hop of the service graph and
    answers the producer's call (:func:`tracekit.analysis.graph.call_edges`), seen only with both traces in one
    partition. The pairs are found over all partitions — every partition's new-root start times and links, then
    its candidate spans and the linked traces it holds, two passes over the data (persist the frame first when it
    is expensive to compute) — and when a pair's two traces sit in different partitions the frame is shuffled on
    the group (traces joined by such pairs; the key is the group's smallest trace id), so every analysis here
    counts requests and hops as the pandas ones do. Traces must already be whole (:func:`keep_traces_whole`); a
    frame with no such pair across partitions comes back as it is. Memory on the client: the new roots' start times
    (8 bytes per trace rooted in a server or consumer span), the candidate spans of a dropped context and the two
    trace ids of every link between traces (about 190 bytes each: 1.9 GB for 10 million links).

    Parameters
    ----------
    spans : dask.dataframe.DataFrame
        A Dask spans frame (a ``tk.dask`` reader, :func:`from_pandas`), traces whole in partitions.
    npartitions : int, optional
        Partitions of the result when it is shuffled (default: the input's).

    Returns
    -------
    dask.dataframe.DataFrame
        The same spans, both halves of each such request, and traces linked to each other, in one partition.

    Examples
    --------
    >>> import dask, dask.dataframe as dd, tracekit as tk
    >>> sim = tk.simulate.simulate("context-drop", n_traces=80, seed=3)
    >>> with dask.config.set({"dataframe.convert-string": False}):  # Dask would make the dicts text
    ...     whole = tk.dask.keep_requests_whole(tk.dask.keep_traces_whole(dd.from_pandas(sim.spans, npartitions=3)))
    >>> parts = [set(p["trace_id"]) for p in dask.compute(*whole.to_delayed())]
    >>> all(any({a, b} <= p for p in parts) for a, b in sim.truth.dropped)
    True
    """
    dask = require("dask", "dask")
    from .core.dropped_context import pair_dropped_context

    _check_npartitions(npartitions, "keep_requests_whole")
    _check_containers(spans, "keep_requests_whole")

    parts = spans.to_delayed()
    first = dask.compute(*[dask.delayed(_first_pass)(d) for d in parts])
    rs = np.sort(np.concatenate([f[0] for f in first])) if first else np.zeros(0, dtype=np.int64)
    links = pd.concat([f[1].assign(_part=k) for k, f in enumerate(first)], ignore_index=True) if first else _NO_LINKS
    # one copy of the arrays for every task (given to each task as they are, each task carried them)
    rs_d, targets_d = dask.delayed(rs), dask.delayed(frozenset(links["linked"].tolist()))
    second = dask.compute(*[dask.delayed(_second_pass)(d, rs_d, targets_d, k) for k, d in enumerate(parts)])
    cands = [c for c, _ in second if len(c)]
    a, b, cross = [], [], False
    if cands:
        cand = pd.concat(cands, ignore_index=True)
        c, r, _ = pair_dropped_context(cand)
        part = cand["_part"].to_numpy()
        tid = cand["trace_id"].to_numpy(dtype=object)
        a, b, cross = tid[r].tolist(), tid[c].tolist(), bool((part[c] != part[r]).any())
    held = {t: k for k, (_, h) in enumerate(second) for t in h}  # the partition of each linked trace in the data
    if len(links):
        where = links["linked"].map(held)
        links = links[where.notna().to_numpy()]
        cross = cross or bool((links["_part"].to_numpy() != where.dropna().to_numpy()).any())
        a, b = a + links["trace_id"].tolist(), b + links["linked"].tolist()
    if not cross:
        return spans
    key_of = _group_keys(a, b)
    meta = spans._meta
    keyed = spans.map_partitions(_with_request_key, key_of, meta=_with_request_key(meta, {}))
    return _shuffle_on(keyed, _REQUEST_KEY, npartitions or spans.npartitions, meta)


_NO_LINKS = pd.DataFrame({"trace_id": pd.Series([], dtype=object), "linked": pd.Series([], dtype=object)})


def _link_pairs(part: pd.DataFrame) -> pd.DataFrame:
    """``trace_id``, ``linked``: every pair of a trace and another trace one of its spans links to (once each). The
    graph's link hops (:func:`tracekit.analysis.graph.call_edges`: producer → linked consumer, the producer answered)
    and health's answered calls need both traces in one partition."""
    if not len(part) or "links" not in part.columns:
        return _NO_LINKS
    lk = part["links"].to_numpy(dtype=object)
    has = np.flatnonzero([isinstance(x, (list, tuple, np.ndarray)) and len(x) > 0 for x in lk])
    if not len(has):
        return _NO_LINKS
    tid = part["trace_id"].to_numpy(dtype=object)
    pairs = [(tid[i], link.get("trace_id")) for i in has.tolist() for link in lk[i] if isinstance(link, dict)]
    pairs = [(t, u) for t, u in pairs if isinstance(u, str) and u != t]
    if not pairs:
        return _NO_LINKS
    return pd.DataFrame(pairs, columns=["trace_id", "linked"], dtype=object).drop_duplicates(ignore_index=True)


def _group_keys(a: list, b: list) -> dict:
    """Trace id → the key of its group: traces joined by the pairs ``a[i]``–``b[i]`` (a dropped context's two halves,
    traces linked to each other) form a group (connected components), whose key is its smallest trace id."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if not a:
        return {}
    codes, ids = pd.factorize(pd.Series(list(a) + list(b), dtype=object))
    n, m = len(ids), len(a)
    g = coo_matrix((np.ones(m, dtype=np.int8), (codes[:m], codes[m:])), shape=(n, n))
    _, comp = connected_components(g, directed=False)
    ids = np.asarray(ids, dtype=object)
    rep = pd.Series(ids).groupby(comp).transform("min").to_numpy(dtype=object)
    return dict(zip(ids.tolist(), rep.tolist(), strict=True))


def _first_pass(part: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    return new_root_starts(part), _link_pairs(part)


def _second_pass(part: pd.DataFrame, root_starts: np.ndarray, targets: frozenset, k: int) -> tuple[pd.DataFrame, list]:
    held = [t for t in pd.unique(part["trace_id"].to_numpy(dtype=object)) if t in targets] if targets and len(part) else []
    return _context_candidates(part, root_starts, k), held


def _context_candidates(part: pd.DataFrame, root_starts: np.ndarray, k: int) -> pd.DataFrame:
    from .core.dropped_context import dropped_context_candidates

    rows = dropped_context_candidates(part, root_starts=root_starts) if len(part) else np.zeros(0, dtype=np.int64)
    cols = [c for c in ("trace_id", "service", "name", "kind", "start", "end", "attributes") if c in part.columns]
    return part.iloc[rows][cols].reset_index(drop=True).assign(_part=k)


def _with_request_key(part: pd.DataFrame, key_of: dict) -> pd.DataFrame:
    tid = part["trace_id"]
    key = tid.map(key_of) if key_of else pd.Series(pd.NA, index=part.index, dtype=tid.dtype)
    return part.assign(**{_REQUEST_KEY: key.astype(tid.dtype).fillna(tid)})


def from_pandas(spans: pd.DataFrame, npartitions: int) -> dd.DataFrame:
    """A pandas spans frame → Dask frame of ``npartitions`` with traces kept whole, and requests: the callee's
    half of a request whose trace context was dropped sits beside its caller, and traces linked to each other
    share a partition (:func:`keep_requests_whole`).

    No more partitions than there are traces: each further one would be empty (and a shuffle into a million
    partitions of 40 traces ran for minutes).

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame.
    npartitions : int
        Partitions wanted (at most one per trace).

    Returns
    -------
    dask.dataframe.DataFrame
        The spans, traces and requests whole in partitions.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.simulate.simulate("baseline", n_traces=20, seed=0).spans
    >>> ds = tk.dask.from_pandas(spans, 3)
    >>> ds.npartitions, len(tk.dask.split_traces(ds)), tk.dask.from_pandas(spans, 1000).npartitions
    (3, 0, 20)
    """
    dd = _dd()
    if not isinstance(spans, pd.DataFrame):
        raise ArgumentError(f"from_pandas: expected a pandas DataFrame, got {type(spans).__name__}")
    if npartitions is None or isinstance(npartitions, bool) or not isinstance(npartitions, (int, np.integer)) \
            or npartitions < 1:
        raise ArgumentError(f"from_pandas: npartitions must be a whole number >= 1, got {npartitions!r}")
    require_columns(spans, ("trace_id",), "from_pandas")
    npartitions = int(min(npartitions, max(1, spans["trace_id"].nunique())))
    with _no_string_conversion():
        keyed = spans
        if len(spans):  # both halves of a request whose context was dropped go to one partition, and traces linked
            # to each other (keep_requests_whole)
            cont = trace_outcomes(spans).set_index("trace_id")["continues"].dropna()
            links = _link_pairs(spans)
            links = links[links["linked"].isin(spans["trace_id"]).to_numpy()]
            if len(cont) or len(links):
                keyed = _with_request_key(spans, _group_keys(cont.index.tolist() + links["trace_id"].tolist(),
                                                             cont.tolist() + links["linked"].tolist()))
        d = dd.from_pandas(keyed, npartitions=max(1, min(npartitions, max(len(spans), 1))), sort=False)
    if keyed is spans:
        return keep_traces_whole(d, npartitions=npartitions)
    return _shuffle_on(d, _REQUEST_KEY, npartitions, spans.iloc[:0])


@renamed(dspans="spans")
def split_traces(spans: dd.DataFrame) -> pd.DataFrame:
    """Trace ids found in more than one partition (computes): columns ``trace_id``, ``partitions``.

    Empty when traces are whole (:func:`keep_traces_whole`, :func:`from_pandas`).

    Parameters
    ----------
    spans : dask.dataframe.DataFrame
        A Dask spans frame.

    Returns
    -------
    pandas.DataFrame
        ``trace_id`` and ``partitions`` (how many partitions hold spans of it), one row per
        trace found in more than one partition; empty when traces are whole.

    Examples
    --------
    >>> import dask, dask.dataframe as dd, tracekit as tk
    >>> spans = tk.simulate.simulate("baseline", n_traces=20, seed=0).spans
    >>> with dask.config.set({"dataframe.convert-string": False}):
    ...     cut = dd.from_pandas(spans, npartitions=4, sort=False)  # cuts traces at row boundaries
    >>> found = tk.dask.split_traces(cut)
    >>> list(found.columns), bool((found["partitions"] >= 2).all()), len(tk.dask.split_traces(tk.dask.from_pandas(spans, 4)))
    (['trace_id', 'partitions'], True, 0)
    """
    dask = require("dask", "dask")
    _check_frame(spans, "split_traces")
    # each partition's trace ids once, counted on the workers (hash-partitioned: no task holds every id) and only the
    # ids found in more than one partition brought back (every id of every partition was: one per trace, to the client)
    with _no_string_conversion():
        ids = spans[["trace_id"]].map_partitions(_trace_ids, meta=pd.Series([], dtype=object, name="trace_id"))
        vc = ids.value_counts(split_out=max(1, spans.npartitions // 8))
        (vc,) = dask.compute(vc[vc > 1])
    vc = vc.sort_index()
    return pd.DataFrame({"trace_id": pd.array(vc.index.tolist(), dtype=_DTYPES["trace_id"]),
                         "partitions": vc.to_numpy(dtype=np.int64)})


def _trace_ids(part: pd.DataFrame) -> pd.Series:
    return pd.Series(pd.unique(part["trace_id"].to_numpy(dtype=object)), dtype=object, name="trace_id")


# ---------------------------------------------- shuffle transport (containers as JSON text)


def _dumps(value: Any, col: str, row: Any) -> str:
    # orjson writes a tuple as a list and a datetime, UUID or Enum as text, which would arrive changed without a
    # word; refuse what the store refuses (io.containers.exact_problem), naming the cell, as the store does. An
    # integer beyond 64 bits (a reader keeps it, the store keeps it) is written by msgspec (orjson refuses it) and
    # read back exactly by _loads_column
    why = exact_problem(value, wide_ints=True)
    if why is not None:
        raise TraceKitError(f"keep_traces_whole: column {col!r} row {row!r}: value cannot be moved exactly: {why}; "
                            "use str, int, float, bool, None, list and dict with text keys")
    try:
        b = orjson.dumps(value)
    except TypeError as e:
        try:
            b = msgspec.json.encode(value) if "64-bit" in str(e) else None
        except (TypeError, OverflowError, msgspec.EncodeError):
            b = None
        if b is None:
            raise TraceKitError(f"keep_traces_whole: column {col!r} row {row!r}: value cannot be moved as JSON ({e}); "
                                "use str, int, float, bool, None, list and dict with text keys") from None
    if b"null" in b:  # orjson writes NaN and ±Infinity as null: let json spell them out
        return json.dumps(value, allow_nan=True, ensure_ascii=False, separators=(",", ":"))
    return b.decode()


def _encode(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy(deep=False)
    for c in JSON_COLUMNS:
        if c in out.columns:
            vals = out[c].to_numpy(dtype=object)
            idx = out.index
            text = [_dumps(v, c, idx[i]) for i, v in enumerate(vals)]
            out[c] = pd.array(text, dtype=_DTYPES["trace_id"])
    return out.reset_index(drop=True)


def _loads_column(text: list) -> list:
    # msgspec: integers of any size exact (orjson reads one beyond 64 bits as a float), and as fast on these columns
    if not text:
        return []
    try:
        return msgspec.json.decode("[" + ",".join(text) + "]")
    except msgspec.DecodeError:
        return [json.loads(t) for t in text]  # NaN / Infinity spelled out


def _decode(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy(deep=False)
    for c in JSON_COLUMNS:
        if c in out.columns:
            s = out[c]
            if s.dtype == object and (not len(s) or not isinstance(s.iloc[0], str)):
                continue  # already decoded
            out[c] = pd.Series(_loads_column(s.tolist()), index=out.index, dtype=object)
    for c in COLUMN_NAMES:
        if c in out.columns and c not in JSON_COLUMNS and out[c].dtype != _DTYPES[c]:
            out[c] = out[c].astype(_DTYPES[c])
    return out


def _decode_as(df: pd.DataFrame, meta: pd.DataFrame) -> pd.DataFrame:
    """Decode and give every column ``meta``'s dtype (a shuffle may change string dtypes)."""
    out = _decode(df)
    for c in meta.columns:
        if c not in JSON_COLUMNS and out[c].dtype != meta[c].dtype:
            out[c] = out[c].astype(meta[c].dtype)
    return out[list(meta.columns)]


def to_parquet(spans: dd.DataFrame | pd.DataFrame, path: str | os.PathLike, *, overwrite: bool = False, storage_options: dict | None = None) -> str:
    """Write a Dask or pandas spans frame as a spans store directory, one ``part.N.parquet`` per partition.

    The store of :func:`tracekit.write_parquet` (:mod:`tracekit.io.parquet`: one format for pandas
    and Dask), with an index file listing the parts in order; a pandas frame is one part. Write a
    frame whose traces are whole in partitions (e.g. from :func:`keep_traces_whole`) and
    :func:`read_parquet` keeps them whole. ``overwrite=True`` replaces an existing store (never a
    path that is not a store). Returns the path.

    Local paths are written to a temporary directory beside the target, renamed into place when
    every part and the index are written (atomic on one filesystem: a reader sees the old store or
    the new one). An fsspec URL (``s3://bucket/store``, ``gcs://…``, ``memory://…``, with
    ``storage_options`` for credentials) is written the same way through fsspec: the parts and
    the index to a temporary prefix beside the target, then moved into place. That move is not
    atomic: object stores have no rename, so an existing store is deleted first and the new one
    moved (copied object by object) after it; a reader in between sees no store or one without
    its index, and a failure in between (rare: it is after every part was written) leaves the
    new store complete at the temporary prefix (``.NAME.XXXXXXXX.tmp`` beside the target), not
    at the target. A failure while parts are written leaves the old store untouched and removes
    what was written.

    Parameters
    ----------
    spans : pandas.DataFrame or dask.dataframe.DataFrame
        The spans to store.
    path : str or path-like
        The store directory, or an fsspec URL.
    overwrite : bool
        Replace an existing store (never a path that is not a store).
    storage_options : dict, optional
        Passed to fsspec for URLs.

    Returns
    -------
    str
        ``path``.

    Examples
    --------
    >>> import tracekit as tk, tempfile, os
    >>> spans = tk.simulate.simulate("baseline", n_traces=5, seed=0).spans
    >>> p = tk.dask.to_parquet(spans, os.path.join(tempfile.mkdtemp(), "cache"))
    >>> back = tk.dask.read_parquet(p, lazy=False)
    >>> back.equals(spans), sorted(os.listdir(p))
    (True, ['_tracekit.json', 'part.0.parquet'])
    """
    import uuid

    from .io import parquet as store

    if not isinstance(path, (str, os.PathLike)):  # 5 was a bare TypeError from Path()
        raise ArgumentError(f"to_parquet: path must be a store path or an fsspec URL, not {type(path).__name__}")
    if isinstance(path, str) and "://" in path:
        return _to_parquet_remote(spans, path, overwrite, storage_options)
    target = store.check_target(path, overwrite)
    tmp = target.parent / f".{target.name}.{uuid.uuid4().hex[:8]}.tmp"
    tmp.mkdir()
    try:
        if isinstance(spans, pd.DataFrame):
            files = [("part.0.parquet", store.write_part(spans, tmp / "part.0.parquet"))]
        else:
            dask = require("dask", "dask")
            if not hasattr(spans, "to_delayed"):
                raise ArgumentError(f"to_parquet: expected a pandas or Dask DataFrame, got {type(spans).__name__}")
            _check_containers(spans, "to_parquet")
            parts = spans.to_delayed()
            names = [f"part.{i}.parquet" for i in range(len(parts))]
            counts = dask.compute(*[dask.delayed(store.write_part)(d, str(tmp / n), False) for d, n in zip(parts, names, strict=False)])
            files = list(zip(names, counts, strict=False))
        store.write_index(tmp, files)
        store.replace(tmp, target)
    except BaseException:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return os.fspath(path)


def _parts(spans) -> list:
    if isinstance(spans, pd.DataFrame):
        return [spans]
    require("dask", "dask")
    if not hasattr(spans, "to_delayed"):
        raise ArgumentError(f"to_parquet: expected a pandas or Dask DataFrame, got {type(spans).__name__}")
    _check_containers(spans, "to_parquet")
    return spans.to_delayed()


def _to_parquet_remote(spans, url: str, overwrite: bool, storage_options: dict | None) -> str:
    """:func:`to_parquet` to an fsspec URL: parts and index to a temporary prefix, then moved (not atomic)."""
    from .io import parquet as store

    fs, root, tmp = store.remote_target(url, storage_options, overwrite)
    parts = _parts(spans)
    names = [f"part.{i}.parquet" for i in range(len(parts))]
    try:
        fs.makedirs(tmp, exist_ok=True)  # a directory on a local or hierarchical filesystem; no-op on object stores
        if isinstance(spans, pd.DataFrame):
            counts = [store.write_part(spans, f"{tmp}/{names[0]}", True, fs)]
        else:
            dask = require("dask", "dask")
            counts = dask.compute(*[dask.delayed(store.write_part)(d, f"{tmp}/{n}", False, fs)
                                    for d, n in zip(parts, names, strict=True)])
        store.write_index(tmp, list(zip(names, counts, strict=True)), fs)
    except BaseException:
        if fs.exists(tmp):
            fs.rm(tmp, recursive=True)
        raise
    store.publish_remote(fs, tmp, root)
    return url


def _read_part(file: str, storage_options: dict | None = None) -> pd.DataFrame:
    from .io.parquet import read_parquet as rp

    return rp(file, materialize=True, storage_options=storage_options)


def read_parquet(path: str | os.PathLike, *, lazy: bool = True, storage_options: dict | None = None) -> dd.DataFrame | pd.DataFrame:
    """Read a spans store (:func:`to_parquet`, :func:`tracekit.write_parquet`) into a spans frame.

    ``lazy=True``: a Dask frame with one partition per store file (files are never split, so
    traces stay as whole as they were when written: a store partitioned by hour or day keeps every
    trace in one file). ``lazy=False``: one pandas frame with plain dict/list columns
    (:func:`tracekit.read_parquet` with ``materialize=True``). Dtypes and values come back
    exactly, extra (non-schema) columns included: the Dask frame names them as well, taken from the first
    file's footer; see :func:`to_parquet` for an example. An fsspec URL (``s3://bucket/store``,
    ``memory://…``) is read through fsspec, with ``storage_options`` passed to its filesystem.

    Parameters
    ----------
    path : str or path-like
        A spans store (file or directory), or an fsspec URL.
    lazy : bool
        A Dask frame, one partition per store file (default); ``False``: one pandas frame.
    storage_options : dict, optional
        Passed to fsspec for URLs.

    Returns
    -------
    dask.dataframe.DataFrame or pandas.DataFrame
        The spans, dtypes and values as written.

    Examples
    --------
    >>> import tracekit as tk, tempfile, os
    >>> spans = tk.simulate.simulate("baseline", n_traces=6, seed=0).spans
    >>> store = tk.dask.to_parquet(tk.dask.from_pandas(spans, 2), os.path.join(tempfile.mkdtemp(), "store"))
    >>> ds = tk.dask.read_parquet(store)
    >>> ds.npartitions, len(tk.dask.split_traces(ds)), len(ds.compute()) == len(spans)
    (2, 0, True)
    """
    from .io.parquet import read_parquet as rp
    from .io.parquet import remote_store_files, store_files, store_meta

    if not isinstance(path, (str, os.PathLike)):  # a list or None was a bare TypeError from os.stat
        raise ArgumentError(f"read_parquet: path must be one store (a path or an fsspec URL), not "
                            f"{type(path).__name__}; tk.read_parquet reads several stores into one pandas frame")
    if not lazy:
        return rp(path, materialize=True, storage_options=storage_options)
    dd = _dd()
    if isinstance(path, str) and "://" in path:
        fs, remote = remote_store_files(path, storage_options)
        urls = [fs.unstrip_protocol(f) for f in remote]
        meta = store_meta(remote[0], fs)  # the store's extra columns too: a meta without them made ds["x"] a KeyError
        with _no_string_conversion():
            return dd.from_map(_read_part, urls, storage_options=storage_options, meta=meta,
                               label="tracekit-read-store", enforce_metadata=False)
    if not os.path.exists(path):
        raise TraceKitError(f"read_parquet: no such file or directory: {os.fspath(path)!r}")
    files = [str(f) for f in store_files(path)]
    meta = store_meta(files[0])  # the store's extra columns too: a meta without them made ds["x"] a KeyError
    with _no_string_conversion():
        return dd.from_map(_read_part, files, meta=meta, label="tracekit-read-store", enforce_metadata=False)


# ---------------------------------------------------------------------------------- analyses


def _map(spans: dd.DataFrame, fn: Callable, **kw: Any) -> dd.DataFrame:
    _check_containers(spans, fn.__name__)
    with _no_string_conversion():
        return spans.map_partitions(fn, **kw, meta=fn(spans._meta, **kw))


@renamed(dspans="spans")
def critical_path(spans: dd.DataFrame, **options: Any) -> dd.DataFrame:
    """Critical-path sections per partition with :func:`tracekit.critical_path` (traces must be whole).

    Options as in :func:`tracekit.critical_path`. Returns a Dask frame; ``attrs`` (failures,
    params) do not survive a Dask computation: run tk.critical_path on a computed partition
    to see why a trace was skipped.

    Parameters
    ----------
    spans : dask.dataframe.DataFrame
        A Dask spans frame (a ``tk.dask`` reader, :func:`from_pandas`), traces whole in partitions.
    **options
        As in :func:`tracekit.critical_path`.

    Returns
    -------
    dask.dataframe.DataFrame
        One row per critical-path section, as :func:`tracekit.critical_path`.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.simulate.simulate("baseline", n_traces=10, seed=0).spans
    >>> cp = tk.dask.critical_path(tk.dask.from_pandas(spans, 2)).compute()
    >>> len(cp) == len(tk.critical_path(spans))
    True
    """
    from .analysis.critical_paths import critical_path as cp_fn

    return _map(spans, cp_fn, **options)


@renamed(dspans="spans")
def self_time(spans: dd.DataFrame) -> dd.DataFrame:
    """``self_ms`` per span with :func:`tracekit.self_time` on each partition (traces must be whole).

    Parameters
    ----------
    spans : dask.dataframe.DataFrame
        A Dask spans frame (a ``tk.dask`` reader, :func:`from_pandas`), traces whole in partitions.

    Returns
    -------
    dask.dataframe.DataFrame
        The spans with ``self_ms``, as :func:`tracekit.self_time`.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.simulate.simulate("baseline", n_traces=10, seed=0).spans
    >>> st = tk.dask.self_time(tk.dask.from_pandas(spans, 2)).compute()
    >>> bool(round(st["self_ms"].sum(), 6) == round(tk.self_time(spans)["self_ms"].sum(), 6))
    True
    """
    from .analysis.structure import self_time as st_fn

    return _map(spans, st_fn)


@renamed(dspans="spans")
def find_repeated_calls(spans: dd.DataFrame, *, min_calls: int = 2) -> dd.DataFrame:
    """:func:`tracekit.find_repeated_calls` on each partition (sorted by cost within a partition only).

    Parameters
    ----------
    spans : dask.dataframe.DataFrame
        A Dask spans frame (a ``tk.dask`` reader, :func:`from_pandas`), traces whole in partitions.
    min_calls : int
        Fewest calls of one group counted as repeated.

    Returns
    -------
    dask.dataframe.DataFrame
        One row per group of repeated calls, as :func:`tracekit.find_repeated_calls`.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.simulate.simulate("baseline", n_traces=10, seed=0).spans
    >>> r = tk.dask.find_repeated_calls(tk.dask.from_pandas(spans, 2)).compute()
    >>> len(r) == len(tk.find_repeated_calls(spans))
    True
    """
    from .analysis.repeated import find_repeated_calls as fn

    return _map(spans, fn, min_calls=min_calls)


#: columns the per-partition critical path reads (selected first, so a Parquet source reads only these), with every
#: column its requests are told by (core.outcomes: a root carrying a span link is asynchronous work, not a request;
#: the callee's half of a dropped context is found by attributes; a start the reader flagged unset is in attributes):
#: without ``links`` a linked batch job read as a request and its time as request time
_CP_COLUMNS = tuple(dict.fromkeys(("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end",
                                   "duration_ms", "in_progress", "inferred", *_OUTCOME_INPUTS)))
#: columns service_graph reads
_GRAPH_COLUMNS = _CP_COLUMNS + ("status", "http_status", "error", "fault", "throttle", "attributes", "links")


def _project(spans: dd.DataFrame, columns: Iterable[str]) -> dd.DataFrame:
    keep = list(dict.fromkeys(c for c in columns if c in spans.columns))
    return spans[keep] if len(keep) < len(spans.columns) else spans


def _is_cp(frame) -> bool:
    return "section_index" in frame.columns and "root_span_id" in frame.columns


def _bd_partial(part: pd.DataFrame, k: int, keys: list[str], cp_options: dict) -> tuple[pd.DataFrame, float]:
    """One row per (key, trace) of the partition's request time, and the critical-path time left out of it (not a
    request's: asynchronous work, fragments; the breakdown's ``attrs["fragment_ms"]``)."""
    from .analysis.critical_paths import critical_path as cp_fn
    from .analysis.critical_paths import span_key_rows

    if _is_cp(part):
        cp = part
    else:
        cp = cp_fn(part, **cp_options)
    fragment_ms = 0.0
    if "request" in cp.columns:  # as the pandas breakdown: only request time counts, fragments apart
        req = cp["request"].to_numpy(dtype=bool, na_value=False)
        fragment_ms = float(cp["duration_ms"].to_numpy(dtype=np.float64)[~req].sum())
        cp = cp[req]
    if not _is_cp(part):
        missing = [c for c in keys if c not in cp.columns]
        if missing:  # the pandas breakdown's rows: named keys derived, of a span read twice the copy that is the span
            cp = cp[["trace_id", "span_id", "duration_ms", *[c for c in keys if c in cp.columns]]].merge(
                span_key_rows(part, missing), on=["trace_id", "span_id"], how="left")
    missing = [c for c in keys if c not in cp.columns]
    if missing:
        raise ArgumentError(f"critical_path_breakdown: {missing} are neither in the critical path nor in the spans")
    tcode, _ = pd.factorize(cp["trace_id"], sort=False)
    frame = cp[keys].reset_index(drop=True)
    frame["trace_id"] = (np.int64(k) << 32) + tcode.astype(np.int64)
    frame["duration_ms"] = cp["duration_ms"].to_numpy(dtype=np.float64)
    g = frame.groupby([*keys, "trace_id"], sort=False, dropna=False, observed=True)["duration_ms"].sum().reset_index()
    g["span_id"] = ""
    return g, fragment_ms


def _bd_combine(parts: list[tuple[pd.DataFrame, float]], keys: list[str], percentile_window) -> pd.DataFrame:
    from .analysis.critical_paths import critical_path_breakdown as bd_fn

    data = pd.concat([g for g, _ in parts], ignore_index=True)
    out = bd_fn(data, by=keys, percentile_window=percentile_window)
    # the rows hold request time only: what the partitions left out is theirs to say (it read 0 ms)
    out.attrs["fragment_ms"] = float(sum(f for _, f in parts))
    return out


@renamed(dspans="spans")
def critical_path_breakdown(spans: dd.DataFrame, by: str | Sequence[str] = "service", *,
                            percentile_window: tuple[float, float] | None = None, **cp_options: Any) -> Delayed:
    """Critical-path time per ``by`` key over all traces: a ``dask.delayed``; ``.compute()`` → the pandas frame.

    ``spans`` is a Dask spans frame (the critical path is computed per partition with
    ``cp_options``, and ``by`` keys that are not critical-path columns are taken from the spans)
    or the Dask frame of :func:`critical_path`. Exact: see the module docstring (two-pass, the
    p50/p95 of per-trace contributions over every trace).

    Parameters
    ----------
    spans : dask.dataframe.DataFrame
        A Dask spans frame (traces whole), or the frame of :func:`critical_path`.
    by : str or list of str
        Grouping keys, as in :func:`tracekit.critical_path_breakdown`.
    percentile_window : tuple of float, optional
        Only the traces between these percentiles of request latency.
    **cp_options
        Critical-path options, when ``spans`` is a spans frame.

    Returns
    -------
    dask.delayed.Delayed
        ``.compute()`` gives the frame of :func:`tracekit.critical_path_breakdown`.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.simulate.simulate("baseline", n_traces=30, seed=0).spans
    >>> bd = tk.dask.critical_path_breakdown(tk.dask.from_pandas(spans, 3), by="service").compute()
    >>> pd_bd = tk.critical_path_breakdown(tk.critical_path(spans), by="service")
    >>> bd["service"].tolist() == pd_bd["service"].tolist(), bool(abs(bd["p95_ms"] - pd_bd["p95_ms"]).max() < 1e-9)
    (True, True)
    """
    dask = require("dask", "dask")
    keys = by_keys(by, what="critical_path_breakdown")
    _check_containers(spans, "critical_path_breakdown")
    if not _is_cp(spans._meta) and all(k in spans.columns for k in keys):  # a named key (route, host...) is derived
        # from attributes and resource: read every column then
        spans = _project(spans, _CP_COLUMNS + tuple(keys))
    parts = [dask.delayed(_bd_partial)(d, k, keys, cp_options) for k, d in enumerate(spans.to_delayed())]
    return dask.delayed(_bd_combine)(parts, keys, percentile_window)


# ---------------------------------------------------------------------------- service graph


def _edge_rows(spans: pd.DataFrame, by: str) -> pd.DataFrame:
    """Every call of :func:`tracekit.service_graph` (one row per call: source, target and the
    statistics it contributes), computed by the very code service_graph uses."""
    from .analysis.graph import call_edges

    return call_edges(spans, by)[0]


_EDGE_META = pd.DataFrame({"source": pd.Series([], dtype=object), "target": pd.Series([], dtype=object),
                           "dur": pd.Series([], dtype="float64"), "err": pd.Series([], dtype=bool),
                           "unknown": pd.Series([], dtype=bool),
                           "fault": pd.Series([], dtype=bool), "throttle": pd.Series([], dtype=bool),
                           "async": pd.Series([], dtype=bool), "wait": pd.Series([], dtype="float64")})
_STAT_META = pd.DataFrame({"source": pd.Series([], dtype=object), "target": pd.Series([], dtype=object),
                           **{c: pd.Series([], dtype="int64") for c in ("calls", "errors", "unknown", "faults", "throttles",
                                                                      "async_calls")},
                           **{c: pd.Series([], dtype="float64") for c in ("mean_ms", "total_ms", "p50_ms", "p95_ms", "p99_ms",
                                                                          "wait_p50_ms", "wait_p95_ms", "wait_p99_ms")}})


def _edge_stats(edges: pd.DataFrame) -> pd.DataFrame:
    """Combine step of the graph: the calls of whole edges (shuffled by edge) → one row per edge;
    percentiles by :func:`tracekit.core.percentile` (inverted_cdf), as everywhere."""
    if not len(edges):
        return _STAT_META.copy()
    g = edges.groupby(["source", "target"], sort=True)
    stats = g.agg(calls=("dur", "size"), errors=("err", "sum"), unknown=("unknown", "sum"), faults=("fault", "sum"),
                  throttles=("throttle", "sum"), mean_ms=("dur", "mean"), total_ms=("dur", "sum"), async_calls=("async", "sum"))
    q = np.vstack([percentile(d.to_numpy(dtype=np.float64), QUANTILES) for _, d in g["dur"]])
    stats["p50_ms"], stats["p95_ms"], stats["p99_ms"] = q[:, 0], q[:, 1], q[:, 2]
    from .analysis.graph import wait_percentiles  # the graph's own definition of the wait columns

    w = np.asarray([wait_percentiles(d.to_numpy(dtype=np.float64)) for _, d in g["wait"]], dtype=np.float64).reshape(-1, 3)
    stats["wait_p50_ms"], stats["wait_p95_ms"], stats["wait_p99_ms"] = w[:, 0], w[:, 1], w[:, 2]
    stats = stats.reset_index()
    return stats.astype({c: _STAT_META[c].dtype for c in _STAT_META.columns})[list(_STAT_META.columns)]


def _node_partial(spans: pd.DataFrame, by: str) -> pd.DataFrame:
    """Partial of the graph's nodes: per node of this partition, counts and sums of the per-span
    arrays that service_graph's own call-edge function returns (so the flags are its flags)."""
    from .analysis.graph import call_edges
    from .analysis.structure import self_time as st_fn

    _, node, _, service, name, err, fault, dur, keep, unknown = call_edges(spans, by)
    self_ms = st_fn(spans)["self_ms"].to_numpy(dtype=np.float64, na_value=np.nan)[keep] if len(spans) else np.zeros(0)
    nd = pd.DataFrame({"node": node, "err": err, "unknown": unknown, "fault": fault, "self": self_ms, "dur": dur,
                       "service": service, "name": name})
    g = nd.groupby("node", sort=True)
    out = g.agg(spans=("err", "size"), errors=("err", "sum"), unknown=("unknown", "sum"), faults=("fault", "sum"), self_ms=("self", "sum"),
                duration_ms=("dur", "sum"), service=("service", "first"), name=("name", "first"))
    return out.reset_index()


def _scope_partial(part: pd.DataFrame) -> pd.Series:
    """The graph's population and window of the partition (:func:`tracekit.analysis.graph.graph_scope`), one object."""
    from .analysis.graph import graph_scope

    return pd.Series([graph_scope(part)], dtype=object)


def _status_partial(part: pd.DataFrame) -> pd.Series:
    """Whether some span of the partition records a status (core.status_recorded), as a one-row Series."""
    return pd.Series([bool(status_recorded(part))], dtype=bool)


@renamed(dspans="spans")
def service_graph(spans: dd.DataFrame, by: str = "service") -> nx.DiGraph:
    """The dependency graph of :func:`tracekit.service_graph` over a Dask spans frame (computes).

    Traces must be whole in partitions, and traces linked to each other in one partition (:func:`from_pandas`
    does it, :func:`keep_requests_whole` does it for a frame read): a link to a span of another partition is not
    followed, its asynchronous hop missing from the edge's calls. Edge percentiles are exact
    (calls shuffled by edge); see the module docstring.

    Parameters
    ----------
    spans : dask.dataframe.DataFrame
        A Dask spans frame (a ``tk.dask`` reader, :func:`from_pandas`), traces whole in partitions.
    by : {"service", "operation"}
        The nodes.

    Returns
    -------
    networkx.DiGraph
        The graph of :func:`tracekit.service_graph` (computed).

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.simulate.simulate("baseline", n_traces=20, seed=0).spans
    >>> G = tk.dask.service_graph(tk.dask.from_pandas(spans, 2))
    >>> H = tk.service_graph(spans)
    >>> sorted(G.edges) == sorted(H.edges), all(G.edges[e]["calls"] == H.edges[e]["calls"] for e in H.edges)
    (True, True)
    """
    nx = require("networkx", "core")
    dask = require("dask", "dask")
    if by not in ("service", "operation"):
        raise ArgumentError(f"service_graph: by must be 'service' or 'operation', got {by!r}")
    _check_containers(spans, "service_graph")
    require_columns(spans._meta, ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end", "duration_ms"), "service_graph")
    scols = [c for c in ("status", "http_status", "fault", "error", "throttle") if c in spans.columns]
    status = spans[scols].map_partitions(_status_partial, meta=pd.Series([], dtype=bool)) if scols else None
    spans = _project(spans, _GRAPH_COLUMNS)
    with _no_string_conversion():
        edges = spans.map_partitions(_edge_rows, by, meta=_EDGE_META)
        nparts = max(1, min(spans.npartitions, 64))
        stats = edges.shuffle(on=["source", "target"], npartitions=nparts, shuffle_method="tasks").map_partitions(_edge_stats, meta=_STAT_META)
        nodes = spans.map_partitions(_node_partial, by, meta=_node_partial(empty_spans(), by))
        peers = edges[["target"]].drop_duplicates()
        scope = spans.map_partitions(_scope_partial, meta=pd.Series([], dtype=object))
    stats, nodes, targets, status, scope = dask.compute(stats, nodes, peers, status, scope)
    from .analysis.graph import graph_scope

    G = nx.DiGraph(by=by, **graph_scope(None, list(scope)), status_recorded=bool(status is not None and status.any()))
    if len(nodes):
        ng = nodes.groupby("node", sort=True).agg(spans=("spans", "sum"), errors=("errors", "sum"),
                                                  unknown=("unknown", "sum"), faults=("faults", "sum"),
                                                  self_ms=("self_ms", "sum"), duration_ms=("duration_ms", "sum"),
                                                  service=("service", "first"), name=("name", "first"))
        for key, r in ng.iterrows():
            attrs = {"spans": int(r.spans), "errors": int(r.errors), "unknown": int(r.unknown), "faults": int(r.faults),
                     "self_ms": float(r.self_ms), "duration_ms": float(r.duration_ms), "instrumented": True}
            if by == "operation":
                attrs.update(service=r["service"], name=r["name"])
            G.add_node(key, **attrs)
    for p in sorted(set(targets["target"].tolist()) - set(G.nodes)):
        G.add_node(p, spans=0, errors=0, unknown=0, faults=0, self_ms=0.0, duration_ms=0.0, instrumented=False,
                   **({"service": p, "name": p} if by == "operation" else {}))
    for r in stats.sort_values(["source", "target"]).itertuples(index=False):
        G.add_edge(r.source, r.target, calls=int(r.calls), weight=int(r.calls), errors=int(r.errors),
                   unknown=int(r.unknown), faults=int(r.faults),
                   throttles=int(r.throttles), p50_ms=float(r.p50_ms), p95_ms=float(r.p95_ms), p99_ms=float(r.p99_ms),
                   mean_ms=float(r.mean_ms), total_ms=float(r.total_ms), async_calls=int(r.async_calls),
                   kind=edge_kind(int(r.calls), int(r.async_calls)), wait_p50_ms=float(r.wait_p50_ms),
                   wait_p95_ms=float(r.wait_p95_ms), wait_p99_ms=float(r.wait_p99_ms),
                   **{"async": bool(r.async_calls > 0)})
    return G


# ---------------------------------------------------------------------------- health report


def _health_partial(part: pd.DataFrame, names: list[str], options: dict) -> dict:
    from .analysis.health import NOT_ADDITIVE, example_ids, trace_weights
    from .analysis.health import health_report as hr

    additive = [n for n in names if n not in NOT_ADDITIVE and n not in _REBUILT]
    rep = hr(part, checks=additive, **options) if additive and len(part) else None
    out: dict = {"report": rep, "n_traces": int(part["trace_id"].nunique()) if len(part) else 0,
                 "n_requests": int(trace_outcomes(part)["request"].sum()) if len(part) else 0,
                 "status": bool(status_recorded(part)), "n_unknown": 0}
    if len(part):  # requests in progress with no outcome yet: left out of the failed share (core.failed_share)
        oc = trace_outcomes(part)
        if out["status"]:
            out["n_unknown"] = unknown_outcomes(oc)
        else:  # every row <NA> here; in the whole (some partition records a status) only the roots in progress are
            # of a root read twice, the copy that is the span (core.tree), as trace_outcomes' request root: the
            # first row made a root read in progress, then complete, a request of unknown outcome
            rows = part[["trace_id", "span_id"]].assign(
                ip=bool_column(part, "in_progress") | part["end"].isna().to_numpy())[~span_tree(part).duplicate]
            req = oc.loc[oc["request"].to_numpy(dtype=bool), ["trace_id", "root_span_id"]]
            ip = req.merge(rows, left_on=["trace_id", "root_span_id"], right_on=["trace_id", "span_id"], how="left")
            out["n_unknown"] = int(ip["ip"].fillna(False).astype(bool).sum())
    if "span_error_rate" in names and len(part):
        err = failed(part)  # the kernel's failed span (5xx or status error, not a 4xx client error)
        svc = part["service"].to_numpy(dtype=object)
        t = part["trace_id"].to_numpy(dtype=object)
        # another copy of a span exported twice is that span (core.tree), counted once as tk.health_report counts it
        # (every row was: a span read twice made 2 spans, a copy with another service a row of a service of no span)
        one = ~span_tree(part).duplicate
        # a span in progress with no outcome yet (core.outcome_unknown, a test of the span alone: exact per partition)
        df = pd.DataFrame({"svc": svc, "err": err, "unknown": outcome_unknown(part), "t": t})[one]
        out["svc"] = df.groupby("svc").agg(spans=("err", "size"), errors=("err", "sum"), unknown=("unknown", "sum"))
        e = df[df["err"]]
        out["svc_traces"] = e.groupby("svc")["t"].nunique()
        out["svc_examples"] = e.groupby("svc")["t"].apply(example_ids)
    if "p95_request_latency_ms" in names and len(part):
        o = trace_outcomes(part)  # request latency: the request root's duration
        dur = o[["trace_id", "request_ms"]].dropna(subset=["request_ms"]).reset_index(drop=True)
        out["dur"] = dur.assign(weight=trace_weights(part, dur["trace_id"].to_numpy(dtype=object)))
    if "high_cardinality_span_name" in names and len(part):
        from .analysis.health import span_name_counts

        out["span_names"] = span_name_counts(part)
    if "high_cardinality_attribute" in names and len(part):
        from .analysis.health import attribute_cardinality

        out["attr_keys"] = attribute_cardinality(part)
        out["n_spans"] = span_count(part)
    return out


#: checks tk.dask.health_report rebuilds over the whole data besides health.NOT_ADDITIVE: a key's distinct values
#: are not the sum of the partitions' (the largest partition's count, taken before, made the row vanish when no one
#: partition held cardinality_min_distinct values)
_REBUILT = ("high_cardinality_attribute",)


def _attribute_values_partial(part: pd.DataFrame, keys: list) -> dict:
    from .analysis.health import attribute_values

    return attribute_values(part, keys)


def _attribute_values_merge(parts: list[dict]) -> dict:
    """Partials of :func:`tracekit.analysis.health.attribute_values` put together, in partition order: distinct values
    of the union, spans and traces added up (traces are whole), examples those of the whole (example_ids)."""
    from .analysis.health import example_ids

    out: dict = {}
    for p in parts:
        for k, (values, missing, n_spans, n_traces, examples) in p.items():
            if k not in out:
                out[k] = [[values], missing, n_spans, n_traces, list(examples)]
            else:
                o = out[k]
                o[0].append(values)
                o[1] = o[1] or missing
                o[2] += n_spans
                o[3] += n_traces
                o[4] = example_ids(o[4] + list(examples))
    return {k: (pd.unique(np.concatenate(v[0])) if len(v[0]) > 1 else v[0][0], *v[1:]) for k, v in out.items()}


def _attribute_counts(parts: list[dict]) -> dict:
    """The last merge: per key, (distinct values, spans, traces, examples): numbers only go back to the client."""
    return {k: (len(values) + int(missing), n_spans, n_traces, examples)
            for k, (values, missing, n_spans, n_traces, examples) in _attribute_values_merge(parts).items()}


def _high_cardinality_rows(dask: Any, spans: dd.DataFrame, screens: list[pd.DataFrame], n_traces: int, n_spans: int,
                           options: dict) -> list[dict]:
    """The ``high_cardinality_attribute`` rows of the whole, exact: the partitions' per-key spans and distinct values
    added up screen the keys (a sum of distinct values is an upper bound of the whole's), then the candidate keys'
    distinct values are put together on the workers, a tree of merges of 8 (memory: a candidate key's distinct values
    on one worker), and only the counts come back."""
    from .analysis.health import HIGH_CARDINALITY_ATTRIBUTE_TODO, high_cardinality_words

    min_distinct = options.get("cardinality_min_distinct", 100)
    min_ratio = options.get("cardinality_min_ratio", 0.1)
    allk = pd.concat(screens, ignore_index=True)
    if not len(allk):
        return []
    per = allk.groupby("key", sort=False, dropna=False).agg(spans=("spans", "sum"), distinct=("distinct", "sum"))
    cand = per.index[(per["distinct"] >= min_distinct)
                     & (per["distinct"] / per["spans"].clip(lower=1) >= min_ratio)].tolist()
    if not cand:
        return []
    level = [dask.delayed(_attribute_values_partial)(d, cand) for d in spans.to_delayed()]
    while len(level) > 8:
        level = [dask.delayed(_attribute_values_merge)(level[i:i + 8]) for i in range(0, len(level), 8)]
    (found,) = dask.compute(dask.delayed(_attribute_counts)(level))
    hits = {k: v for k, v in found.items() if v[0] >= min_distinct and v[0] / max(v[1], 1) >= min_ratio}
    rows = []
    for k in sorted(hits, key=lambda k: (-hits[k][0], str(k))):
        distinct, n_with, traces, examples = hits[k]
        rows.append({
            "check": "high_cardinality_attribute", "severity": "info", "subject": str(k), "traces_affected": traces,
            "spans_affected": n_with, "share": traces / n_traces if n_traces else np.nan, "value": float(distinct),
            "example_trace_ids": list(examples), "explanation": high_cardinality_words(k, distinct, n_with, n_spans),
            "what_to_do": HIGH_CARDINALITY_ATTRIBUTE_TODO,
        })
    return rows


def _without_durations(partial: dict) -> dict:
    """A partition's health partial without its one row per request (``dur``: combined on a worker by
    :func:`_p95_row`) and its one row per distinct span name (``span_names``: added up on a worker by
    :func:`_id_named_hits`; ``has_span_names`` says it was there)."""
    out = {k: v for k, v in partial.items() if k not in ("dur", "span_names")}
    out["has_span_names"] = "span_names" in partial
    return out


def _id_named_hits(partials: list[dict]) -> pd.DataFrame:
    """The names that carry ids (:func:`tracekit.analysis.health.id_named_spans`) of the partitions' span name
    counts added up (on a worker: one row per distinct name, as many as spans where names carry ids)."""
    from .analysis.health import id_named_spans

    counts = [p["span_names"] for p in partials if "span_names" in p]
    allc = pd.concat(counts, ignore_index=True)
    whole = (allc.groupby(["service", "name"], sort=False).agg(spans=("spans", "sum"), pattern=("pattern", "first"))
             .reset_index())
    return id_named_spans(whole)


def _p95_row(partials: list[dict]) -> dict | None:
    """The ``p95_request_latency_ms`` row of the whole from every partition's request latencies (one task: memory,
    one latency per request), ``share`` left to the caller; None when no request finished."""
    from .analysis.health import N_EXAMPLES, p95_request_latency_words, request_weights, weighted_p95_of

    durs = [p["dur"] for p in partials if "dur" in p]
    if not durs:
        return None
    dur = pd.concat(durs, ignore_index=True)
    d = dur["request_ms"].to_numpy(dtype=np.float64)
    if not len(d):
        return None
    p95 = float(percentile(d, 0.95))
    w = request_weights(dur["weight"].to_numpy(dtype=np.float64))  # a weighted sample: said as sampled
    slow = dur[d >= p95].assign(_id=lambda f: f["trace_id"].astype(str))  # slowest first, ties by trace id
    slow = slow.sort_values(["request_ms", "_id"], ascending=[False, True], kind="stable")
    return {
        "check": "p95_request_latency_ms", "severity": "info", "subject": "", "traces_affected": int(len(slow)),
        "spans_affected": 0, "value": p95, "example_trace_ids": [str(t) for t in slow["trace_id"].head(N_EXAMPLES)],
        "explanation": p95_request_latency_words(p95, len(d), w is not None, weighted_p95_of(d, w)),
        "what_to_do": "Look at the critical path of the example traces.",
    }


def _id_named_partial(part: pd.DataFrame, hits: pd.DataFrame) -> pd.DataFrame:
    """Per service: the spans of ``part`` named as in ``hits`` (service, name), their traces, their example_ids."""
    from .analysis.health import example_ids

    if not len(part):
        return pd.DataFrame(columns=["service", "spans", "traces", "examples"])
    svc = part["service"].to_numpy(dtype=object, na_value=None)
    pair = pd.MultiIndex.from_arrays([svc, part["name"].to_numpy(dtype=object, na_value=None)])
    flagged = pair.isin(pd.MultiIndex.from_arrays([hits["service"].to_numpy(dtype=object),
                                                   hits["name"].to_numpy(dtype=object)]))
    df = pd.DataFrame({"service": svc[flagged], "t": part["trace_id"].to_numpy(dtype=object)[flagged]})
    g = df.groupby("service", sort=False)["t"]
    return pd.DataFrame({"spans": g.size(), "traces": g.nunique(),
                         "examples": g.apply(example_ids)}).reset_index()


def _id_named_rows(dask: Any, spans: dd.DataFrame, partials: list, n_traces: int) -> list[dict]:
    """The ``high_cardinality_span_name`` rows of the whole: the partitions' span name counts added up, the names
    that carry ids found on them (both on a worker, :func:`_id_named_hits`, from the persisted ``partials``), then
    their spans and traces counted in a second pass (only when there are such names; traces are whole in
    partitions, so their counts add up) and the rows made on a worker: only the rows come back to the client."""
    (hits,) = dask.persist(dask.delayed(_id_named_hits)(partials))
    (n_hits,) = dask.compute(dask.delayed(len)(hits))
    if not n_hits:
        return []
    per = [dask.delayed(_id_named_partial)(d, hits) for d in spans.to_delayed()]
    (rows,) = dask.compute(dask.delayed(_id_named_finish)(hits, per, n_traces))
    return rows


def _id_named_finish(hits: pd.DataFrame, per: list[pd.DataFrame], n_traces: int) -> list[dict]:
    from .analysis.health import (
        HIGH_CARDINALITY_SPAN_NAME_TODO,
        SPAN_NAME_MIN_DISTINCT,
        example_ids,
        high_cardinality_span_name_words,
    )

    found = pd.concat([p for p in per if len(p)] or [pd.DataFrame(columns=["service", "spans", "traces", "examples"])],
                      ignore_index=True)  # (none: the data changed between the two passes)
    rows = []
    for service, g in hits.groupby("service", sort=True):
        f = found[found["service"] == service]
        if f.empty:
            continue
        traces = int(f["traces"].sum())
        rows.append({
            "check": "high_cardinality_span_name", "severity": "warning", "subject": str(service),
            "traces_affected": traces, "spans_affected": int(f["spans"].sum()),
            "share": traces / n_traces if n_traces else np.nan, "value": float(len(g)),
            "example_trace_ids": example_ids(e for lst in f["examples"] for e in lst),
            "explanation": high_cardinality_span_name_words(str(service), g, SPAN_NAME_MIN_DISTINCT),
            "what_to_do": HIGH_CARDINALITY_SPAN_NAME_TODO,
        })
    return rows


@renamed(dspans="spans")
def health_report(spans: dd.DataFrame, *, checks: Iterable[str] | None = None, **options) -> pd.DataFrame:
    """:func:`tracekit.health_report` over a Dask spans frame (computes; traces must be whole).

    Options as in tk.health_report. Each partition runs the single-machine checks; the results
    are added up with :func:`tracekit.analysis.health.combine_findings`, and the metrics that do not add
    up are rebuilt from partial counts (see the module docstring for what is exact).

    Parameters
    ----------
    spans : dask.dataframe.DataFrame
        A Dask spans frame (a ``tk.dask`` reader, :func:`from_pandas`), traces whole in partitions.
    checks : iterable of str, optional
        The checks to run (default: all).
    **options
        As in :func:`tracekit.health_report`.

    Returns
    -------
    pandas.DataFrame
        The findings of :func:`tracekit.health_report` (computed).

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.simulate.simulate("context-drop", n_traces=50, seed=1).spans
    >>> r = tk.dask.health_report(tk.dask.from_pandas(spans, 2))
    >>> w = tk.health_report(spans)
    >>> key = lambda f: sorted(zip(f["check"], f["subject"], f["traces_affected"], f["value"].fillna(-1)))
    >>> key(r) == key(w)
    True
    """
    dask = require("dask", "dask")
    from .analysis.health import (
        CHECKS,
        FINDING_COLUMNS,
        SEVERITIES,
        combine_findings,
        example_ids,
        health_options,
        select_checks,
        span_error_rate_words,
        warn_split_checks,
    )

    names, implied = select_checks(checks)
    options = health_options("tk.dask.health_report", **options)
    _check_containers(spans, "health_report")
    top_n = int(options.get("top_call_paths", 5))
    part_opts = dict(options, top_call_paths=2**62)
    partials = [dask.delayed(_health_partial)(d, names, part_opts) for d in spans.to_delayed()]
    if "high_cardinality_span_name" in names:  # kept where computed for the names' second pass (_id_named_rows)
        partials = list(dask.persist(*partials))
    # every request's latency is combined on a worker (one task), not gathered here: the client gets the row
    p95_row = dask.delayed(_p95_row)(partials) if "p95_request_latency_ms" in names else None
    parts, p95_row = dask.compute([dask.delayed(_without_durations)(p) for p in partials], p95_row)
    n = sum(p["n_traces"] for p in parts)
    reps = [p["report"] for p in parts if p["report"] is not None]
    known = any(p["status"] for p in parts)  # some span of the whole data records a status (core.status_recorded)
    out = combine_findings(reps, n_traces=n, n_requests=sum(p["n_requests"] for p in parts),
                           status_known=known, n_unknown=sum(p["n_unknown"] for p in parts)
                           ) if reps else pd.DataFrame(columns=list(FINDING_COLUMNS))
    tp = out["check"] == "top_call_path"
    if tp.sum() > top_n:
        keep = out.index[tp][:top_n]
        out = out[~tp | out.index.isin(keep)].reset_index(drop=True)
    extra: list[dict] = []
    if "span_error_rate" in names and any("svc" in p for p in parts):
        svc = pd.concat([p["svc"] for p in parts if "svc" in p]).groupby(level=0).sum().sort_index()
        tr = pd.concat([p["svc_traces"] for p in parts if "svc" in p]).groupby(level=0).sum()
        ex = pd.concat([p["svc_examples"] for p in parts if "svc" in p])
        for name, r in svc.iterrows():
            n_known = int(r["spans"] - r["unknown"])  # spans in progress with no outcome yet are left out
            rate = float(r["errors"] / n_known) if known and n_known else np.nan  # no status recorded: unknown, not 0
            traces = int(tr.get(name, 0))
            exs = example_ids(e for lst in ex[ex.index == name] for e in lst) if name in ex.index else []
            extra.append({
                "check": "span_error_rate", "severity": "info", "subject": str(name), "traces_affected": traces,
                "spans_affected": int(r["errors"]), "share": traces / n if n and known else np.nan, "value": rate,
                "example_trace_ids": [str(e) for e in exs],
                "explanation": span_error_rate_words(str(name), int(r["spans"]), rate,
                                                     int(r["unknown"]) if known else 0),
                "what_to_do": "Start with the service whose own spans fail most (not the root that reports its failure).",
            })
    if p95_row is not None:
        extra.append(dict(p95_row, share=p95_row["traces_affected"] / n if n else np.nan))
    if "high_cardinality_span_name" in names and any(p["has_span_names"] for p in parts):
        extra += _id_named_rows(dask, spans, partials, n)
    if "high_cardinality_attribute" in names and any("attr_keys" in p for p in parts):
        extra += _high_cardinality_rows(dask, spans, [p["attr_keys"] for p in parts if "attr_keys" in p], n,
                                        sum(p["n_spans"] for p in parts if "n_spans" in p), options)
    if extra:
        rebuilt = pd.DataFrame(extra, columns=list(FINDING_COLUMNS))
        # with no other finding, `out` is an empty object frame: concatenated, it made the text columns of the
        # rebuilt rows object, where tk.health_report's are str
        out = pd.concat([out, rebuilt], ignore_index=True) if len(out) else rebuilt
        order = {c: i for i, c in enumerate(CHECKS)}
        sev = {s: i for i, s in enumerate(SEVERITIES)}
        key = np.lexsort((np.arange(len(out)), out["check"].map(order).to_numpy(), out["severity"].map(sev).to_numpy()))
        out = out.iloc[key].reset_index(drop=True)
    warn_split_checks(out, implied)
    return out.astype({"traces_affected": "int64", "spans_affected": "int64", "share": "float64", "value": "float64"})
