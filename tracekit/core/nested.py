"""Nested attribute values (dicts and lists inside dicts, to any depth) walked without recursion.

Readers accept nested values as deep as the input nests them (X-Ray metadata, OTLP kvlists: 1,000
levels is valid JSON); Python's recursion limit (and ``repr``, ``json.dumps``, ``orjson``'s 255
levels) is not. Every helper that visits user data goes through these, which use an explicit
stack, so depth costs memory, never the call stack:

- :func:`walk` yields ``(path, key, value)`` of every leaf and every dict key;
- :func:`map_leaves` rebuilds a value with a function applied to leaves (and optionally keys);
- :func:`to_text` renders a value as compact JSON-like text (``limit`` characters at most);
- :func:`dumps` is ``orjson.dumps`` with an iterative fall-back for values nested past its limit.

>>> v = {"a": [1, {"b": "x"}]}
>>> [(p, x) for p, is_key, x in walk(v) if not is_key]
[('a', 1), ('a.b', 'x')]
>>> map_leaves(v, lambda x: x * 2)
{'a': [2, {'b': 'xx'}]}
>>> to_text(v)
'{"a": [1, {"b": "x"}]}'
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

__all__ = ["walk", "map_leaves", "to_text", "dumps", "kept", "depth", "safe_str", "safe_repr", "PathState",
           "ROOT_PATH", "below", "PATH_LEVELS", "ELIDED"]

_SEQ = (list, tuple, np.ndarray)

#: a key path of more dict levels than this is written with its first :data:`_HEAD` levels, :data:`ELIDED` and its
#: last :data:`_TAIL` levels: built whole, the paths of a value nested 30,000 deep took 1.1 GB (each level's path a
#: copy of its parent's, quadratic in the depth) and 100,000 levels ran out of memory (an 800 KB file); elided, the
#: work is linear. Key globs match from the top and from the last 32 levels (:mod:`tracekit.analysis.pii`), which
#: an elided path keeps
PATH_LEVELS = 64
_HEAD, _TAIL = 16, 48
#: the level written in place of the levels an elided path leaves out
ELIDED = "…"
#: (path, dict levels, the path of the first _HEAD levels, the keys of the last levels past them) of a place in a
#: nested value: :func:`below` steps one dict level down
PathState = tuple[str, int, str, tuple]
ROOT_PATH: PathState = ("", 0, "", ())


def below(state: PathState, key: Any, sep: str = ".") -> PathState:
    """The path state one dict level below ``state``, under ``key``: its path joins the keys with ``sep`` up to
    :data:`PATH_LEVELS` levels, then keeps the first 16 and the last 48 with :data:`ELIDED` between (linear work
    at any depth).

    >>> s = ROOT_PATH
    >>> for i in range(70):
    ...     s = below(s, f"k{i}")
    >>> s[0].split(".")[15:18], len(s[0].split(".")), s[1]
    (['k15', '…', 'k22'], 65, 70)
    """
    p, n, head, tail = state
    k = key if type(key) is str else str(key)
    n += 1
    if n <= _HEAD:
        q = f"{p}{sep}{k}" if p else k
        return q, n, q if n == _HEAD else head, tail
    tail = (*tail[-(_TAIL - 1):], k) if len(tail) >= _TAIL else (*tail, k)
    if n <= PATH_LEVELS:
        return f"{p}{sep}{k}", n, head, tail
    return f"{head}{sep}{ELIDED}{sep}{sep.join(tail)}", n, head, tail


def _items(v: Any) -> Iterator[tuple[Any, Any]] | None:
    if isinstance(v, dict):
        return iter(v.items())
    if isinstance(v, _SEQ):
        return iter((None, x) for x in (v.tolist() if isinstance(v, np.ndarray) else v))
    return None


def walk(value: Any, path: str = "") -> Iterator[tuple[str, bool, Any]]:
    """``(dotted path, is_key, value)`` for every dict key (``is_key`` True, value = the key) and
    every leaf (lists add no path part), depth first, in order; iterative (a path past :data:`PATH_LEVELS`
    levels is elided: :func:`below`)."""
    it = _items(value)
    if it is None:
        yield path, False, value
        return
    stack = [(it, (path, 1 if path else 0, "", ()))]
    while stack:
        it, st = stack[-1]
        for k, x in it:
            if k is not None:
                sub_st = below(st, k)
                yield sub_st[0], True, k
            else:
                sub_st = st
            sub = _items(x)
            if sub is None:
                yield sub_st[0], False, x
            else:
                stack.append((sub, sub_st))
                break
        else:
            stack.pop()


def map_leaves(value: Any, leaf: Callable[[Any], Any], key: Callable[[Any], Any] | None = None,
               at: Callable[[str, Any], tuple[bool, Any]] | None = None, sep: str = ".") -> Any:
    """A copy of ``value`` with ``leaf`` applied to every leaf and ``key`` to every dict key;
    dicts, lists and tuples are rebuilt (numpy arrays become lists); iterative.

    ``at(path, value)`` is asked first for every value under a dict key or list item: ``(True, new)``
    replaces it whole (not descended into). The path joins the keys of nested levels with ``sep`` (lists add
    no part; past :data:`PATH_LEVELS` levels it is elided: :func:`below`); without ``at`` no path is made."""
    def open_(x: Any) -> tuple[Any, Iterator] | None:
        if isinstance(x, dict):
            return {}, iter(x.items())
        if isinstance(x, _SEQ):
            return [], iter((None, y) for y in (x.tolist() if isinstance(x, np.ndarray) else x))
        return None

    top = open_(value)
    if top is None:
        return leaf(value)
    root: list = [None]
    # frame: out container, iterator, path, is tuple, parent out, slot in parent
    stack = [(top[0], top[1], ROOT_PATH, isinstance(value, tuple), root, 0)]
    while stack:
        out, it, p, is_tuple, parent, slot = stack[-1]
        for k, x in it:
            q = p if k is None or at is None else below(p, k, sep)
            if at is not None:
                done, new = at(q[0], x)
                if done:
                    if k is None:
                        out.append(new)
                    else:
                        out[key(k) if key else k] = new
                    continue
            sub = open_(x)
            val = leaf(x) if sub is None else sub[0]
            if k is None:
                out.append(val)
                s = len(out) - 1
            else:
                s = key(k) if key else k
                out[s] = val
            if sub is not None:
                stack.append((sub[0], sub[1], q, isinstance(x, tuple), out, s))
                break
        else:
            stack.pop()
            if is_tuple:
                parent[slot] = tuple(out)
            elif parent is root:
                root[0] = out
    return root[0]


def _scalar(v: Any) -> str:
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if v is None:
        return "null"
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return repr(f) if math.isfinite(f) else json.dumps(str(f))
    if isinstance(v, (bytes, bytearray)):
        return json.dumps(bytes(v).hex())
    return json.dumps(f"<{type(v).__name__}>" if isinstance(v, (dict, list, tuple)) else str(v), ensure_ascii=False)


def to_text(value: Any, limit: int | None = None, *, sort_keys: bool = False) -> str:
    """Compact JSON-style text of a nested value (non-JSON leaves as their ``str``), at most
    ``limit`` characters (then cut and marked with ``…``); iterative, and stops early at the limit."""
    parts: list[str] = []
    size = 0
    it0 = _items(value)
    if it0 is None:
        s = value if isinstance(value, str) else _scalar(value)
        return s if limit is None or len(s) <= limit else s[:limit] + "…"

    def opener(v: Any) -> tuple[Iterator, str]:
        if isinstance(v, dict):
            items = sorted(v.items(), key=lambda kv: str(kv[0])) if sort_keys else v.items()
            return iter(items), "}"
        return iter((None, x) for x in (v.tolist() if isinstance(v, np.ndarray) else v)), "]"

    it, close = opener(value)
    parts.append("{" if close == "}" else "[")
    size = 1
    stack = [[it, close, True]]
    while stack:
        frame = stack[-1]
        it, close, first = frame
        pushed = False
        for k, x in it:
            piece = ("" if first else ", ") + (json.dumps(str(k), ensure_ascii=False) + ": " if k is not None else "")
            first = frame[2] = False
            sub = _items(x)
            if sub is None:
                piece += _scalar(x)
                parts.append(piece)
                size += len(piece)
            else:
                nit, nclose = opener(x)
                piece += "{" if nclose == "}" else "["
                parts.append(piece)
                size += len(piece)
                stack.append([nit, nclose, True])
                pushed = True
            if limit is not None and size > limit:
                return "".join(parts)[:limit] + "…"
            if pushed:
                break
        if not pushed:
            stack.pop()
            parts.append(close)
            size += 1
    return "".join(parts)


def safe_str(value: Any, limit: int | None = None) -> str:
    """``str(value)``, or :func:`to_text` when the value is nested too deep for ``str``.

    >>> safe_str([1, "a"])
    "[1, 'a']"
    """
    try:
        return str(value)
    except RecursionError:
        return to_text(value, limit)


def safe_repr(value: Any, limit: int | None = None) -> str:
    """``repr(value)``, or :func:`to_text` when the value is nested too deep for ``repr``."""
    try:
        return repr(value)
    except RecursionError:
        return to_text(value, limit)


def depth(value: Any) -> int:
    """Nesting depth of containers (0 for a scalar); iterative."""
    best = 0
    stack = [(value, 0)]
    while stack:
        v, d = stack.pop()
        it = _items(v)
        if it is None:
            continue
        best = max(best, d + 1)
        stack.extend((x, d + 1) for _, x in it)
    return best


def kept(data: bytes) -> bytes:
    """``data`` copied into a buffer of its own size, for JSON bytes that are **kept** (one per row: a
    fingerprint, a group key) rather than written and let go.

    ``orjson.dumps`` returns bytes whose buffer it never shrinks: 4,097 bytes held for the 7-byte
    ``b'{"a":0}'`` with orjson 3.13 (tracemalloc; ``sys.getsizeof`` says 40), so a key per row cost 4 KB a
    row (the X-Ray reader's duplicate check held 9 GB for 248k spans read twice). The copy costs a
    fraction of the dump.

    >>> import orjson
    >>> kept(orjson.dumps({"a": 0}))
    b'{"a":0}'
    """
    return bytes(memoryview(data))


def dumps(value: Any, *, indent: bool = False, sort_keys: bool = False) -> bytes:
    """``orjson.dumps`` (with ``OPT_INDENT_2``/``OPT_SORT_KEYS`` on request), falling back to an
    iterative encoder (compact, same JSON values) for a value nested past orjson's 255 levels or
    holding an integer beyond 64 bits."""
    import orjson

    opt = (orjson.OPT_INDENT_2 if indent else 0) | (orjson.OPT_SORT_KEYS if sort_keys else 0)
    try:
        return orjson.dumps(value, option=opt)
    except orjson.JSONEncodeError as exc:
        if "ecursion" not in str(exc) and "64-bit" not in str(exc):
            raise
    return to_text(value, sort_keys=sort_keys).encode("utf-8", "surrogatepass")
