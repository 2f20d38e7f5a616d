"""Exceptions and warnings raised by tracekit.

Every error a user can cause derives from :class:`TraceKitError`. Errors about the content
of trace files are :class:`TraceFormatError` (also a :class:`ValueError`) and name the file,
the record and what is wrong.

>>> from tracekit.errors import TraceFormatError
>>> err = TraceFormatError("segment has no start_time", file="a.json", record="line 3")
>>> str(err)
'a.json, line 3: segment has no start_time'
>>> isinstance(err, ValueError)
True
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

__all__ = [
    "TraceKitError",
    "TraceFormatError",
    "TraceFormatWarning",
    "MissingExtraError",
    "ArgumentError",
    "TraceQLError",
    "SkippedRecord",
    "require",
]


class TraceKitError(Exception):
    """Base class of every error tracekit raises on purpose.

    Examples
    --------
    >>> import tracekit as tk
    >>> try:
    ...     tk.core.normalize_trace_id("nope")
    ... except TraceKitError as e:
    ...     print(type(e).__name__)
    ArgumentError
    """


class TraceFormatError(TraceKitError, ValueError):
    """Input that is not valid trace data.

    ``file`` and ``record`` say where (``record`` is e.g. ``"line 3"`` or
    ``"Traces[0].Segments[2]"``); the message says what is wrong.

    Parameters
    ----------
    reason : str
        What is wrong.
    file : str, optional
        The file it is in.
    record : str, optional
        Where in the file.

    Examples
    --------
    >>> str(TraceFormatError("no traceId", file="a.json", record="line 3"))
    'a.json, line 3: no traceId'
    """

    def __init__(self, reason: str, *, file: str | None = None, record: str | None = None):
        self.reason = reason
        self.file = file
        self.record = record
        where = ", ".join(p for p in (file, record) if p)
        super().__init__(f"{where}: {reason}" if where else reason)


class ArgumentError(TraceKitError, ValueError):
    """An argument has a value the function cannot use (e.g. ``by="nope"``, ``n_boot=-1``).

    A :class:`ValueError`, so ``except ValueError`` catches it too.

    Examples
    --------
    >>> import tracekit as tk
    >>> try:
    ...     tk.core.percentile([1.0, 2.0], 95)
    ... except ValueError as e:
    ...     print(type(e).__name__)
    ArgumentError
    """


#: characters of a long query line shown on each side of a TraceQLError's caret
_AROUND = 60


class TraceQLError(ArgumentError):
    """A TraceQL query that cannot be run: a syntax error, a type error, or a construct Tempo
    marks unsupported (said as "not supported").

    The message gives the 1-based position and the query with a caret under that position (of a
    line longer than 120 characters, the 60 on each side of it; the whole query is ``.query``).

    Parameters
    ----------
    reason : str
        What is wrong.
    query : str
        The query.
    position : int, optional
        0-based offset of the offending character in ``query`` (``None``: the whole query).

    Examples
    --------
    >>> print(TraceQLError("unexpected '='", "{ .a == 4 }", 6))
    unexpected '=' at position 7:
      { .a == 4 }
            ^
    """

    def __init__(self, reason: str, query: str = "", position: int | None = None):
        self.reason = reason
        self.query = query
        self.position = position
        if position is None or not query:
            super().__init__(f"{reason}: {query}" if query else reason)
            return
        position = max(0, min(position, len(query)))
        start = query.rfind("\n", 0, position) + 1
        end = query.find("\n", position)
        line = query[start:] if end < 0 else query[start:end]
        col = position - start
        where = f"position {position + 1}"
        if len(line) > 2 * _AROUND:  # a long line: the characters around the caret (the query is .query)
            lo = max(0, col - _AROUND)
            hi = min(len(line), col + _AROUND)
            line, col = ("..." if lo else "") + line[lo:hi] + ("..." if hi < len(line) else ""), col - lo + (3 if lo else 0)
        pad = "".join(c if c == "\t" else " " for c in line[:col])
        if start:
            where += f" (line {query.count(chr(10), 0, position) + 1}, column {col + 1})"
        super().__init__(f"{reason} at {where}:\n  {line}\n  {pad}^")


class TraceFormatWarning(UserWarning):
    """Records were skipped in lenient mode (``errors="skip"``).

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     warnings.warn("1 record skipped", TraceFormatWarning)
    >>> w[0].category.__name__
    'TraceFormatWarning'
    """


class MissingExtraError(TraceKitError, ImportError):
    """An optional feature was used without its extra installed.

    An :class:`ImportError` too; the message names the ``pip install 'tracekit[extra]'`` to run.

    Examples
    --------
    >>> try:
    ...     require("no_such_module_xyz", "plot")
    ... except MissingExtraError as e:
    ...     print(str(e).split("; ")[1])
    install it with: pip install 'tracekit[plot]'
    """


@dataclass(frozen=True, slots=True)
class SkippedRecord:
    """One record a reader skipped in lenient mode: where it was and why.

    Attributes
    ----------
    file : str or None
        The file.
    record : str or None
        Where in the file (e.g. ``"line 4"``).
    reason : str
        What was wrong with it.

    Examples
    --------
    >>> SkippedRecord.from_error(TraceFormatError("bad id", file="t.jsonl", record="line 4"))
    SkippedRecord(file='t.jsonl', record='line 4', reason='bad id')
    """

    file: str | None
    record: str | None
    reason: str

    def __post_init__(self) -> None:
        # one copy of each reason and file name: a file of a million bad lines gives a million records of a few
        # reasons (a 400-character reason each cost ~950 bytes a record, ~300x a 3-byte line: a small gzip file of
        # such lines exhausted memory); slots drop each record's dict too
        if type(self.reason) is str:
            object.__setattr__(self, "reason", sys.intern(self.reason))
        if type(self.file) is str:
            object.__setattr__(self, "file", sys.intern(self.file))

    @classmethod
    def from_error(cls, err: TraceFormatError) -> SkippedRecord:
        return cls(err.file, err.record, err.reason)


def require(module: str, extra: str):
    """Import an optional dependency, or raise :class:`MissingExtraError` naming the extra.

    >>> require("json", "core").__name__
    'json'
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - exercised by the extras test
        raise MissingExtraError(
            f"{module!r} is not installed; install it with: pip install 'tracekit[{extra}]'"
        ) from exc
