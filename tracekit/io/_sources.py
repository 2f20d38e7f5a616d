"""Turn any kind of source into parsed JSON documents, with where each came from.

Shared by every reader. A *source* is a path (file or directory), a list of paths, a
file object (text or binary), ``bytes``, a JSON string, or already-parsed JSON (dict/list).
Files may be gzip-compressed (detected by magic bytes, not by name), a single JSON value,
or JSON lines.

Each document is yielded as a :class:`Document`: the parsed value, the file name and the
1-based line number for JSON lines (``None`` for a single-value file).
"""

from __future__ import annotations

import gzip
import io
import os
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ..errors import TraceFormatError

__all__ = ["Document", "iter_documents", "read_bytes", "parse_json", "is_pathlike", "Source", "list_files", "ignored_files"]

OnBadLine = Callable[[TraceFormatError], None] | None
Source = Any  # str | os.PathLike | bytes | IO | dict | list — documented in each reader

OBJECT = "<object>"
_SUFFIXES = (".json", ".jsonl", ".ndjson", ".txt", ".gz")


@dataclass(frozen=True)
class Document:
    value: Any
    file: str
    line: int | None  # 1-based line for JSON lines, None for a single JSON value


def is_pathlike(x: Any) -> bool:
    if isinstance(x, os.PathLike):
        return True
    return isinstance(x, str) and not x.lstrip().startswith(("{", "["))


def _candidates(path: Path) -> list[Path]:
    return [p for p in sorted(path.rglob("*")) if p.is_file()
            and not any(part.startswith(".") for part in p.relative_to(path).parts)  # .ipynb_checkpoints/, .git/
            and any(p.name.endswith(s) for s in _SUFFIXES)]


def _looks_like_json(p: Path) -> bool:
    """A ``.txt`` file is trace data only if it starts (after blanks, and gzip) with ``{`` or ``[``:
    ``LICENSE.txt`` or ``notes.txt`` beside the traces are not read."""
    if not p.name.endswith(".txt"):
        return True
    try:
        with open(p, "rb") as f:
            head = f.read(4096)
    except OSError:
        return True  # let the reader report it
    return head.lstrip()[:1] in (b"{", b"[")


def list_files(path: Path) -> list[Path]:
    """Files of a directory that look like trace files, sorted, recursively (hidden files and folders
    skipped; ``.txt`` files only when they start like JSON — see :func:`ignored_files`)."""
    return [p for p in _candidates(path) if _looks_like_json(p)]


def ignored_files(path: Path) -> list[Path]:
    """Files of a directory that :func:`list_files` leaves out although their name matched: ``.txt``
    files that do not start like JSON (``LICENSE.txt``). Not a directory: ``[]``.

    >>> ignored_files(Path("/nonexistent"))
    []
    """
    path = Path(path)
    if not path.is_dir():
        return []
    return [p for p in _candidates(path) if not _looks_like_json(p)]


def read_bytes(data: bytes, name: str) -> bytes:
    """Decompress gzip data (by magic number); raise a clear error on a truncated stream."""
    if data[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(data)
        except (EOFError, OSError, zlib.error) as exc:
            raise TraceFormatError(f"gzip data is truncated or corrupt ({exc})", file=name) from None
    return data


def parse_json(data: bytes, name: str, on_bad_line: OnBadLine = None) -> Iterator[Document]:
    """Parse one JSON value, or JSON lines when the whole is not one value.

    ``on_bad_line``: when given, a JSON-lines line that is not JSON is passed to it (as a
    TraceFormatError) and skipped instead of raised (lenient readers).
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not _NON_SPACE.search(data):  # (not data.strip(): that copied the whole file)
        raise TraceFormatError("file is empty", file=name)
    # JSON lines when the first line alone is a complete value and more follows it. Checked
    # first so that a big JSON-lines file is not parsed as one value (orjson's error would carry
    # a str copy of the whole file) and its lines are parsed from memoryview slices (no copies).
    nl = data.find(b"\n")
    first: Any = _NOT_JSON
    lead = _NON_SPACE.search(data)
    if nl >= 0 and _NON_SPACE.search(data, nl + 1) and lead and lead.group() in (b"{", b"["):
        try:
            first = orjson.loads(memoryview(data)[:nl])
        except orjson.JSONDecodeError:
            pass
    if first is _NOT_JSON:
        reason, err_pos = None, -1
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError as whole_err:
            reason = _json_reason(whole_err, data)  # keep no reference to the error (it holds the text)
            err_pos = whole_err.pos
        if reason is None:
            yield Document(value, name, None)
            return
        if nl >= 0 and lead and lead.group() == b"{" and 0 <= err_pos <= _next_object_line(data, nl):
            # JSON lines whose first line is bad (the error is before the next line, a complete
            # object; a truncated pretty-printed file fails at its end): report or skip line 1
            yield from _json_lines(data, name, _NOT_JSON, -1, on_bad_line)
            return
        raise TraceFormatError(reason, file=name) from None
    yield from _json_lines(data, name, first, nl, on_bad_line)


def _next_object_line(data: bytes, nl: int) -> int:
    """Offset of the first non-blank line after ``nl`` if it is a complete JSON object on its own, else -1."""
    pos = nl + 1
    while pos < len(data):
        nxt = data.find(b"\n", pos)
        stop = len(data) if nxt < 0 else nxt
        if _NON_SPACE.search(data, pos, stop):
            try:
                return pos if type(orjson.loads(memoryview(data)[pos:stop])) is dict else -1
            except orjson.JSONDecodeError:
                return -1
        pos = stop + 1
    return -1


_NOT_JSON = object()
_NON_SPACE = re.compile(rb"\S")


def _json_lines(data: bytes, name: str, first: Any, nl: int, on_bad_line: OnBadLine) -> Iterator[Document]:
    if first is not _NOT_JSON:
        yield Document(first, name, 1)
    view = memoryview(data)
    end = len(data)
    pos, i = nl + 1, (1 if first is not _NOT_JSON else 0)
    while pos < end:
        i += 1
        nxt = data.find(b"\n", pos)
        stop = end if nxt < 0 else nxt
        if _NON_SPACE.search(data, pos, stop):
            try:
                value = orjson.loads(view[pos:stop])
            except orjson.JSONDecodeError as exc:
                last = nxt < 0 or not _NON_SPACE.search(data, nxt + 1)
                truncated = last and not data.rstrip(b" \t\r").endswith(b"\n")
                what = "file is truncated: last line is incomplete JSON" if truncated else "line is not valid JSON"
                msg = f"{what} ({exc})"
                del exc
                if on_bad_line is None:
                    raise TraceFormatError(msg, file=name, record=f"line {i}") from None
                on_bad_line(TraceFormatError(msg, file=name, record=f"line {i}"))
            else:
                yield Document(value, name, i)
        pos = stop + 1


def _json_reason(err: orjson.JSONDecodeError, data: bytes) -> str:
    stripped = data.rstrip()
    if stripped[:1] in (b"{", b"[") and err.pos >= len(stripped) - 1:
        return f"file is truncated: JSON ends early ({err})"
    if stripped[:1] not in (b"{", b"["):
        return f"not JSON: file starts with {data[:20]!r}"
    return f"not valid JSON ({err})"


def iter_documents(source: Source, on_bad_line: OnBadLine = None) -> Iterator[Document]:
    """Yield every parsed JSON document of ``source`` (``on_bad_line``: see :func:`parse_json`).

    >>> [d.value for d in iter_documents(b'{"a": 1}\\n{"a": 2}\\n')]
    [{'a': 1}, {'a': 2}]
    >>> [d.line for d in iter_documents(b'{"a": 1}\\n{"a": 2}\\n')]
    [1, 2]
    """
    if isinstance(source, (dict,)):
        yield Document(source, OBJECT, None)
    elif isinstance(source, (list, tuple)):
        if source and all(is_pathlike(x) for x in source):
            for p in source:
                yield from iter_documents(p, on_bad_line)
        else:
            yield Document(list(source), OBJECT, None)
    elif isinstance(source, (bytes, bytearray, memoryview)):
        yield from parse_json(read_bytes(bytes(source), OBJECT), OBJECT, on_bad_line)
    elif isinstance(source, str) and not is_pathlike(source):
        yield from parse_json(source.encode(), OBJECT, on_bad_line)
    elif is_pathlike(source):
        path = Path(source)
        if path.is_dir():
            files = list_files(path)
            if not files:
                raise TraceFormatError("directory holds no .json, .jsonl, .txt or .gz files", file=str(path))
            for f in files:
                yield from iter_documents(f, on_bad_line)
        elif path.exists():
            yield from parse_json(read_bytes(path.read_bytes(), str(path)), str(path), on_bad_line)
        else:
            raise FileNotFoundError(f"no such file or directory: {str(path)!r}")
    elif hasattr(source, "read"):
        name = getattr(source, "name", OBJECT)
        name = str(name) if isinstance(name, (str, os.PathLike)) else OBJECT
        data = source.read()
        if isinstance(data, str):
            data = data.encode()
        yield from parse_json(read_bytes(data, name), name, on_bad_line)
    else:
        raise TypeError(f"cannot read traces from a {type(source).__name__}; give a path, a list of paths, "
                        "a file object, bytes or parsed JSON")


def gzip_bytes(data: bytes) -> bytes:  # small helper for tests and writers
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as f:
        f.write(data)
    return buf.getvalue()
