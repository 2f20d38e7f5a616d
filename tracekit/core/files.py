"""Writing a file whole or not at all: the one rule every writer of tracekit follows.

A file is written to a temporary file beside it and renamed over it once the last byte is written, so a reader (a
resumed fetch, ``tk.read``, a browser opening a report) sees the old file or the new one, never a shorter file that
reads as the whole. The span writers, the X-Ray page cache, ``tracekit fetch-xray --out`` and the HTML / Markdown
reports use it.

>>> import tempfile, pathlib
>>> with tempfile.TemporaryDirectory() as d:
...     p = pathlib.Path(d) / "out.json"
...     with replaced(p) as f:
...         _ = f.write(b"{}")
...     try:
...         with replaced(p) as f:
...             _ = f.write(b'{"half": ')
...             raise RuntimeError("the writer failed half way")
...     except RuntimeError:
...         pass
...     p.read_bytes(), sorted(q.name for q in pathlib.Path(d).iterdir())
(b'{}', ['out.json'])
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from ..errors import ArgumentError

__all__ = ["replaced", "target_path", "refuses_files"]

_COUNT = itertools.count()


def target_path(path: str | os.PathLike, writer: str, *, directory: bool = False) -> Path:
    """``path`` as the :class:`~pathlib.Path` a writer writes; an empty or blank path (``Path("")`` is the working
    directory: write_otlp said "IsADirectoryError: [Errno 21] Is a directory: '/home/me'", write_parquet "'.' exists;
    pass overwrite=True to replace it") or, for a writer of one file (``directory=False``), an existing directory is
    an :class:`~tracekit.errors.ArgumentError` naming the writer and the path.

    >>> target_path("", "write_otlp")
    Traceback (most recent call last):
    ...
    tracekit.errors.ArgumentError: write_otlp: path is empty: give the path of the file to write
    """
    if not os.fspath(path).strip():
        raise ArgumentError(f"{writer}: path is empty: give the path of the file to write")
    p = Path(path)
    if not directory and p.is_dir():
        raise ArgumentError(f"{writer}: path {os.fspath(path)!r} is a directory: give the path of a file to "
                            "write (one inside it, say)")
    return p


def refuses_files(directory: str | os.PathLike) -> str | None:
    """Why ``directory`` refuses a new file (the OS's words), or None when one can be made there: a hidden empty file
    made and removed, the check a writer's own step would make. ``os.access`` says yes to root everywhere (``/sys``,
    ``/proc``, a read-only mount), so a report found out after its whole analysis.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     refuses_files(d), sorted(os.listdir(d))
    (None, [])
    """
    import tempfile

    try:
        fd, probe = tempfile.mkstemp(prefix=".tracekit-", suffix=".probe", dir=directory)
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    os.close(fd)
    os.unlink(probe)
    return None


@contextlib.contextmanager
def replaced(path: str | os.PathLike, *, durable: bool = False, private: bool = False) -> Iterator[BinaryIO]:
    """A binary file to write ``path``'s new content to; it replaces ``path`` when the block ends without an error.

    The temporary file is ``.NAME.PID-N.tmp`` beside the target (hidden, so no reader of the folder takes it) and is
    removed when the block raises, Ctrl-C included. Through a symbolic link the link's target is replaced and the
    link kept. A path that exists and is not a regular file (a FIFO, ``/dev/stdout``) is written in place. A file
    that was there keeps its permission bits.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write; missing parent folders are made.
    durable : bool, default False
        Also fsync the file before the rename (survives a power cut, at the cost of a disk flush per file).
    private : bool, default False
        A new file is readable by its owner only (0600), as tracekit's own caches of fetched traces are; otherwise
        it gets the process' default permissions, like any file a user asks for.

    Yields
    ------
    typing.BinaryIO
        The open temporary file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     with replaced(pathlib.Path(d) / "sub" / "a.txt", private=True) as f:
    ...         _ = f.write(b"hi")
    ...     oct((pathlib.Path(d) / "sub" / "a.txt").stat().st_mode & 0o777)
    '0o600'
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    target = Path(os.path.realpath(p))
    if target.exists() and not target.is_file():
        with open(target, "wb") as f:
            yield f
        return
    tmp = target.with_name(f".{target.name}.{os.getpid()}-{next(_COUNT)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600 if private else 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            if durable:
                f.flush()
                os.fsync(f.fileno())
        if target.exists():
            with contextlib.suppress(OSError):
                shutil.copymode(target, tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise

