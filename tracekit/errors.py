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

from dataclasses import dataclass

__all__ = [
    "TraceKitError",
    "TraceFormatError",
    "TraceFormatWarning",
    "MissingExtraError",
    "ArgumentError",
    "SkippedRecord",
    "require",
]


class TraceKitError(Exception):
    """Base class of every error tracekit raises on purpose."""


class TraceFormatError(TraceKitError, ValueError):
    """Input that is not valid trace data.

    ``file`` and ``record`` say where (``record`` is e.g. ``"line 3"`` or
    ``"Traces[0].Segments[2]"``); the message says what is wrong.
    """

    def __init__(self, reason: str, *, file: str | None = None, record: str | None = None):
        self.reason = reason
        self.file = file
        self.record = record
        where = ", ".join(p for p in (file, record) if p)
        super().__init__(f"{where}: {reason}" if where else reason)


class ArgumentError(TraceKitError, ValueError):
    """An argument has a value the function cannot use (e.g. ``by="nope"``, ``n_boot=-1``)."""


class TraceFormatWarning(UserWarning):
    """Records were skipped in lenient mode (``errors="skip"``)."""


class MissingExtraError(TraceKitError, ImportError):
    """An optional feature was used without its extra installed."""


@dataclass(frozen=True)
class SkippedRecord:
    """One record a reader skipped in lenient mode: where it was and why."""

    file: str | None
    record: str | None
    reason: str

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
