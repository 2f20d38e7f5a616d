"""Progress bars for long reads: ``tqdm.auto`` when installed and someone is watching.

``progress=None`` (the readers' default) shows a bar for a source of at least
:data:`MIN_BYTES` bytes when the session is interactive (a Jupyter kernel, or stderr is a
terminal); ``True`` always shows one (when tqdm is installed), ``False`` never. Without tqdm
(an optional dependency, in the ``aws`` extra) there is no bar and nothing else changes.
"""

from __future__ import annotations

import os
import sys
from types import TracebackType
from typing import Any

__all__ = ["Progress", "MIN_BYTES"]

#: sources smaller than this get no bar unless progress=True (they read in well under a second)
MIN_BYTES = 64 * 2**20


def _interactive() -> bool:
    if "ipykernel" in sys.modules:
        return True
    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _tqdm() -> Any:
    try:
        from tqdm.auto import tqdm
    except ImportError:  # optional dependency: no tqdm, no bar
        return None
    return tqdm


class Progress:
    """A bar over one source, counting bytes (or ``unit``s), a no-op when not shown."""

    def __init__(self, total: int, name: str, progress: bool | None, *, min_total: int = MIN_BYTES,
                 unit: str = "B"):
        self.bar = None
        show = progress if progress is not None else (total >= min_total and _interactive())
        if show:
            tqdm = _tqdm()
            if tqdm is not None:
                self.bar = tqdm(total=total, unit=unit, unit_scale=unit == "B", unit_divisor=1024, leave=False,
                                desc=f"reading {os.path.basename(name)}")

    def update(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        if self.bar is not None:
            self.bar.close()
