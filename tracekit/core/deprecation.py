"""Old keyword names kept working, with a DeprecationWarning, after a rename to the one vocabulary.

>>> import warnings
>>> @renamed(top="n")
... def f(spans=None, *, n: int = 3) -> int:
...     return n
>>> with warnings.catch_warnings(record=True) as w:
...     warnings.simplefilter("always")
...     f(top=5), str(w[0].message)
(5, 'f: top= is deprecated, use n=')
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from ..errors import ArgumentError

__all__ = ["renamed"]

F = TypeVar("F", bound=Callable[..., Any])


def renamed(**old_to_new: str) -> Callable[[F], F]:
    """Decorator: accept each old keyword name as its new one, warning (DeprecationWarning) when used.

    Parameters
    ----------
    **old_to_new : str
        Old keyword name = new keyword name.

    Returns
    -------
    callable
        The decorator; the wrapped function keeps its signature (``inspect.signature`` shows the new
        names) and lists the old ones in ``__renamed__``.

    Raises
    ------
    ArgumentError
        (from the wrapped function) both the old and the new name given.

    Examples
    --------
    >>> @renamed(b="baseline")
    ... def g(spans=None, baseline=None) -> Any:
    ...     return baseline
    >>> g.__renamed__
    {'b': 'baseline'}
    """

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            for old, new in old_to_new.items():
                if old in kwargs:
                    if new in kwargs:
                        raise ArgumentError(f"{fn.__name__}: pass {new}= only ({old}= is its old name)")
                    warnings.warn(f"{fn.__name__}: {old}= is deprecated, use {new}=", DeprecationWarning, stacklevel=2)
                    kwargs[new] = kwargs.pop(old)
            return fn(*args, **kwargs)

        wrapper.__renamed__ = dict(old_to_new)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate
