"""The raw-response cache of a live X-Ray fetch: atomic page files, the manifest, and checks of both.

Cache layout::

    cache_dir/
      batch-<run>-<chunk>-a<attempt>-p<page>.json     raw BatchGetTraces responses (what read_xray reads)
      summaries/w<window>-p<page>.summary            raw GetTraceSummaries pages (JSON; suffix keeps readers off)
      fetch-manifest.tracekit                        JSON: what was asked, what came back, each run

Pages are written to a temp file and renamed, so a file is whole or absent; a page cut short anyway (a full
disk, a copy interrupted, a file edited by hand) is found by :func:`scan_cache`, which names it, and the
fetch re-asks its traces once and replaces it.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> atomic_write(d / "batch-x-00000-a0-p000.json", b'{"Traces": [{"Id": "1-5759e988-bd862e3fe1be46a994272793", "Segm')
>>> scan = scan_cache(d)
>>> sorted(scan.trace_ids), [(p.name, ids) for p, ids in scan.truncated.items()]
([], [('batch-x-00000-a0-p000.json', ['1-5759e988-bd862e3fe1be46a994272793'])])
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ..core.files import replaced
from ..errors import TraceFormatError
from ..io._sources import json_kind

__all__ = ["MANIFEST_NAME", "CacheScan", "scan_cache", "batch_files", "read_manifest", "check_page", "jsonable",
           "atomic_write", "dump_json", "drop_traces"]

MANIFEST_NAME = "fetch-manifest.tracekit"


def jsonable(x: Any) -> Any:
    """Response → plain JSON: datetimes as epoch seconds (as on the wire), no ResponseMetadata.

    >>> jsonable({"ResponseMetadata": {}, "T": [_dt.datetime(2026, 1, 1, tzinfo=_dt.UTC)]})
    {'T': [1767225600.0]}
    """
    if isinstance(x, dict):
        return {k: jsonable(v) for k, v in x.items() if k != "ResponseMetadata"}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, _dt.datetime):
        return x.timestamp()
    return x


def atomic_write(path: Path, data: bytes, *, durable: bool = False) -> None:
    """Write ``data`` to ``path`` whole or not at all (:func:`tracekit.core.files.replaced`): a reader (or a resumed
    fetch after an interrupted one) sees the whole file or none. A new file is its owner's only (0600): fetched
    traces carry user data. ``durable`` also fsyncs (survives a power cut); pages skip it because fsync per page made
    a cached fetch ~4x slower in bench_xray_live.py."""
    with replaced(path, durable=durable, private=True) as f:
        f.write(data)


def dump_json(obj: Any) -> bytes:
    """``obj`` as indented JSON bytes (how pages and the manifest are cached).

    >>> dump_json({"a": 1}).splitlines()
    [b'{', b'  "a": 1', b'}']
    """
    return orjson.dumps(obj, option=orjson.OPT_INDENT_2)


def batch_files(cache_dir: Path) -> list[Path]:
    """The cached BatchGetTraces pages of ``cache_dir``, sorted by name.

    >>> import tempfile, pathlib
    >>> batch_files(pathlib.Path(tempfile.mkdtemp()))
    []
    """
    return sorted(cache_dir.glob("batch-*.json"))


_XRAY_TRACE_ID_RE = re.compile(rb"1-[0-9a-f]{8}-[0-9a-f]{24}")


@dataclass(frozen=True)
class CacheScan:
    """What the cached BatchGetTraces pages hold: ``trace_ids`` of whole pages; ``truncated`` maps each page
    that is not whole JSON to the X-Ray trace ids still readable in it (in order); ``malformed`` maps each page
    that is JSON but fails :func:`check_page` (a Document that does not parse, kept as evidence when it
    arrived) to its trace ids and the reason."""

    trace_ids: set[str] = field(default_factory=set)
    truncated: dict[Path, list[str]] = field(default_factory=dict)
    malformed: dict[Path, tuple[list[str], str]] = field(default_factory=dict)
    #: trace id -> the whole pages holding it with a segment or subsegment still ``in_progress`` when cached
    in_progress: dict[str, list[Path]] = field(default_factory=dict)


def scan_cache(cache_dir: Path) -> CacheScan:
    """The trace ids in the cached pages (the truth for resuming), and the pages cut short.

    Parameters
    ----------
    cache_dir : Path
        A fetch cache folder.

    Returns
    -------
    CacheScan
        Trace ids of the whole pages; each truncated page with the trace ids readable in it; each malformed
        page with its trace ids and why; the traces that were still in progress, with their pages.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> scan_cache(pathlib.Path(tempfile.mkdtemp()))
    CacheScan(trace_ids=set(), truncated={}, malformed={}, in_progress={})
    """
    scan = CacheScan()
    for f in batch_files(cache_dir):
        data = f.read_bytes()
        try:
            page = orjson.loads(data)
        except orjson.JSONDecodeError:
            page = None
        if not isinstance(page, dict):
            scan.truncated[f] = list(dict.fromkeys(m.decode() for m in _XRAY_TRACE_ID_RE.findall(data)))
            continue
        traces = page.get("Traces") if isinstance(page.get("Traces"), list) else []
        ids = list(dict.fromkeys(t["Id"] for t in traces if isinstance(t, dict) and isinstance(t.get("Id"), str)
                                 and t["Id"]))
        running: set[str] = set()
        try:
            check_page(page, str(f), in_progress=running)
        except TraceFormatError as exc:  # its traces are not in the cache: asked again, not counted as fetched
            scan.malformed[f] = (ids, f"{exc.record}: {exc.reason}" if exc.record else str(exc.reason))
            continue
        # a trace cached without a segment holds no span: asked again, as a trace not returned is
        scan.trace_ids.update(t["Id"] for t in traces if isinstance(t, dict) and t.get("Id") in ids and t.get("Segments"))
        for tid in running:
            scan.in_progress.setdefault(tid, []).append(f)
    return scan


def drop_traces(path: Path, trace_ids: set[str]) -> None:
    """Rewrite the cached page ``path`` without the traces ``trace_ids`` (fetched again into a newer page), whole
    or not at all; a page left with no trace and no unprocessed id is removed.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "batch-x.json"
    >>> atomic_write(p, dump_json({"Traces": [{"Id": "a", "Segments": []}, {"Id": "b", "Segments": []}]}))
    >>> drop_traces(p, {"a"}); [t["Id"] for t in orjson.loads(p.read_bytes())["Traces"]]
    ['b']
    >>> drop_traces(p, {"b"}); p.exists()
    False
    """
    page = orjson.loads(path.read_bytes())
    page["Traces"] = [t for t in page.get("Traces") or [] if not (isinstance(t, dict) and t.get("Id") in trace_ids)]
    if not page["Traces"] and not page.get("UnprocessedTraceIds"):
        path.unlink()
    else:
        atomic_write(path, dump_json(page))


def _running_and_ended(doc: Any, running: set, ended: set) -> None:
    """Add the ids of a parsed Document's (sub)segments, at any depth, to ``running`` (``in_progress: true``) or
    ``ended`` (the others)."""
    stack = [doc]
    while stack:
        d = stack.pop()
        if not isinstance(d, dict):
            continue
        (running if d.get("in_progress") is True else ended).add(d.get("id"))
        subs = d.get("subsegments")
        if isinstance(subs, list):
            stack.extend(subs)


def read_manifest(cache_dir: Path) -> dict | None:
    """The fetch manifest of ``cache_dir`` (None when there is none); a TraceFormatError names a broken one.

    >>> import tempfile, pathlib
    >>> read_manifest(pathlib.Path(tempfile.mkdtemp())) is None
    True
    """
    p = cache_dir / MANIFEST_NAME
    if not p.exists():
        return None
    try:
        return orjson.loads(p.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise TraceFormatError(f"fetch manifest is not JSON ({exc}); delete it to start over",
                               file=str(p)) from None


def _document_value(doc: str) -> Any:
    """A Document parsed as the X-Ray reader will parse it: orjson first; what orjson refuses but the reader reads
    (a lone-surrogate escape such as ``\\ud83d`` from a string cut inside an emoji, Python's ``NaN``) by
    Python's json, silently (the reader says it once when it reads the page); JSON nested past Python's recursion
    limit is the reader's deep parser's to judge, so an object of it passes. ``ValueError`` when it is not JSON."""
    try:
        return orjson.loads(doc)
    except orjson.JSONDecodeError as first:
        try:
            return json.loads(doc)
        except RecursionError:
            if doc.lstrip().startswith("{"):
                return {}
            raise first from None
        except ValueError:
            raise first from None


def check_page(page: dict, file: str, *, in_progress: set[str] | None = None) -> int:
    """Validate a BatchGetTraces page as it arrives; return its segment count. The ids of the traces with a
    segment or subsegment still in progress are added to ``in_progress`` when it is given.

    >>> check_page({"Traces": [{"Id": "1-5759e988-bd862e3fe1be46a994272793", "Segments": [{"Document": "{}"}]}]}, "p")
    1
    """
    traces = page.get("Traces")
    if traces is None:
        traces = []
    if not isinstance(traces, list):
        raise TraceFormatError("Traces is not a list", file=file, record="Traces")
    n = 0
    for i, t in enumerate(traces):
        segs = t.get("Segments") if isinstance(t, dict) else None
        if not isinstance(segs, list):
            raise TraceFormatError("trace has no Segments list", file=file, record=f"Traces[{i}]")
        running: set = set()
        ended: set = set()
        for j, s in enumerate(segs):
            rec = f"Traces[{i}].Segments[{j}].Document"
            doc = s.get("Document") if isinstance(s, dict) else None
            if not isinstance(doc, str):
                raise TraceFormatError("Document is missing or not a JSON string", file=file, record=rec)
            try:
                val = _document_value(doc)
            except ValueError as exc:
                raise TraceFormatError(f"Document is not valid JSON ({exc})", file=file, record=rec) from None
            if not isinstance(val, dict):
                raise TraceFormatError(f"Document is a JSON {json_kind(val)}, not an object", file=file,
                                       record=rec)
            if in_progress is not None:
                _running_and_ended(val, running, ended)
            n += 1
        # a segment sent in progress and again complete (both copies kept) has ended, as the reader reads it
        if running - ended and isinstance(t.get("Id"), str):
            in_progress.add(t["Id"])
    return n

