"""TraceQL text -> a checked syntax tree (:func:`parse`), refusing what Tempo refuses.

The grammar (:mod:`.grammar`) is parsed by lark; this module turns lark's tree into the
frozen dataclasses below and checks them as Tempo's ``validate()`` does: a spanset filter is a
boolean (or a bare attribute), operands have types that go together (numbers and durations
mix; strings, booleans, statuses and kinds compare only with their own kind; ``status`` and
``kind`` only with ``=``/``!=``), regexes compile under RE2, aggregates and ``by`` read the
span, intrinsics are never compared with ``nil`` by ``=``. What Tempo parses but calls
unsupported (``parent`` and ``parent.`` attributes, aggregate-vs-aggregate scalar filters,
arithmetic on aggregates, compared scalar pipelines) and what tracekit does not run
(``compare()``) is refused with "... is not supported". Every refusal is a
:class:`~tracekit.errors.TraceQLError` pointing at the offending position.

>>> q = parse('{ resource.service.name = "orders" && duration > 100ms }')
>>> q.kind, type(q.body.stages[0]).__name__
('spans', 'Filter')
>>> parse('{ .a == 4 }')
Traceback (most recent call last):
...
tracekit.errors.TraceQLError: unexpected '=' (expected one of: ...) at position 7:
  { .a == 4 }
        ^
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from ...errors import TraceQLError
from .grammar import fast_parser, parser

__all__ = [
    "parse", "Query", "Static", "Attribute", "Intrinsic", "BinOp", "UnOp", "Filter", "SpansetOp", "Pipeline",
    "Aggregate", "ScalarFilter", "GroupBy", "Coalesce", "Select", "MetricsAgg", "MetricsPipeline", "MetricsMath",
    "INTRINSIC_TYPES", "duration_ns", "MAX_QUERY_CHARS", "anchored_regex",
]

NUMERIC = frozenset({"int", "float", "duration", "number"})

#: intrinsic -> value type
INTRINSIC_TYPES = {
    "duration": "duration", "name": "string", "status": "status", "statusMessage": "string", "kind": "kind",
    "traceDuration": "duration", "rootName": "string", "rootServiceName": "string", "traceID": "string",
    "spanID": "string", "parentID": "string", "childCount": "int", "eventName": "string",
    "eventTimeSinceStart": "duration", "linkTraceID": "string", "linkSpanID": "string",
    "instrumentationName": "string", "instrumentationVersion": "string", "nestedSetLeft": "int",
    "nestedSetRight": "int", "nestedSetParent": "int", "parent": "parent",
}

_SCOPED = {
    "trace": {"duration": "traceDuration", "rootName": "rootName", "rootService": "rootServiceName", "id": "traceID"},
    "span": {"duration": "duration", "name": "name", "kind": "kind", "status": "status",
             "statusMessage": "statusMessage", "id": "spanID", "parentID": "parentID", "childCount": "childCount"},
    "event": {"name": "eventName", "timeSinceStart": "eventTimeSinceStart"},
    "link": {"traceID": "linkTraceID", "spanID": "linkSpanID"},
    "instrumentation": {"name": "instrumentationName", "version": "instrumentationVersion"},
}

_UNITS_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9,
             "d": 86400 * 10**9, "w": 7 * 86400 * 10**9, "y": 365 * 86400 * 10**9}
_DUR_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h|d|w|y)")
#: the two duration forms Tempo's lexer takes (parseDuration: Prometheus' model.ParseDuration, then Go's
#: time.ParseDuration): whole numbers of y w d h m s ms in that order, or numbers with a fraction of ns us µs ms s m h
_PROM_DURATION = re.compile(r"(?:\d+y)?(?:\d+w)?(?:\d+d)?(?:\d+h)?(?:\d+m)?(?:\d+s)?(?:\d+ms)?")
_ANY_DURATION = re.compile(r"(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h|d|w|y))+")
_GO_DURATION = re.compile(r"(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+")
#: one part of a Go "..." string: an escape, a backslash that starts none (an error), or a run of plain text
_GO_PART = re.compile(r'\\(?:([abfnrtv\\"])|x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|([0-7]{3}))|\\|([^\\]+)')
_SIMPLE = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\", '"': '"'}
_INT_MAX = 2**63 - 1
#: most characters of one number in a duration: far past int64 nanoseconds in any unit, and under the 4,300 digits
#: Python reads into an integer (5,000 digits raised "Exceeds the limit (4300 digits) for integer string conversion")
_DURATION_DIGITS = 400
_SURROGATE = re.compile("[\ud800-\udfff]")
#: longest query parsed (a spanset query is parsed by LALR, about 0.015 ms a character; a metrics query or one with a
#: syntax error by Earley, about 0.3 ms a character: 2.5 s for 8 kB of operators; runs of '^' are read as repetitions
#: and runs of prefix '!'/'-' refused by the lexer, see _nest_powers, _prefix_run)
MAX_QUERY_CHARS = 8192
#: deepest syntax tree evaluated: deeper queries are refused whatever Python's recursion limit is
MAX_QUERY_DEPTH = 400


# ------------------------------------------------------------------------------------- the tree

@dataclass(frozen=True)
class Static:
    """A literal: ``type`` is int, float, duration (ns), string, bool, status, kind or nil."""

    type: str
    value: Any
    pos: int = 0


@dataclass(frozen=True)
class Attribute:
    """``.name`` (scope None: span, then resource), ``span.name``, ``resource.name``, ``event.name``,
    ``link.name`` or ``instrumentation.name``; ``text`` as written."""

    scope: str | None
    name: str
    text: str
    pos: int = 0
    parent: bool = False


@dataclass(frozen=True)
class Intrinsic:
    """An intrinsic field (canonical name, e.g. ``traceDuration`` for ``trace:duration``)."""

    name: str
    text: str
    pos: int = 0


@dataclass(frozen=True)
class BinOp:
    """``lhs op rhs`` on field values (arithmetic, comparison, regex, ``&&``/``||``)."""

    op: str
    lhs: Any
    rhs: Any
    pos: int = 0


@dataclass(frozen=True)
class UnOp:
    """``-x``, ``!x``, and ``x != nil`` (``exists``) / ``x = nil`` (``notexists``)."""

    op: str
    x: Any
    pos: int = 0


@dataclass(frozen=True)
class Filter:
    """``{ expr }``: the spans of each trace for which ``expr`` is true."""

    expr: Any
    pos: int = 0


@dataclass(frozen=True)
class SpansetOp:
    """Two spansets joined: ``&&``, ``||`` or a structural operator (``>``, ``!>>``, ``&~``...)."""

    op: str
    lhs: Any
    rhs: Any
    pos: int = 0


@dataclass(frozen=True)
class Pipeline:
    """Stages joined by ``|``."""

    stages: tuple


@dataclass(frozen=True)
class Aggregate:
    """``count()``, ``avg(x)``, ``min(x)``, ``max(x)``, ``sum(x)`` over a spanset."""

    fn: str
    expr: Any
    text: str
    pos: int = 0


@dataclass(frozen=True)
class ScalarFilter:
    """``aggregate op number``: keeps the spansets whose aggregate compares true."""

    op: str
    agg: Aggregate
    value: Static
    pos: int = 0


@dataclass(frozen=True)
class GroupBy:
    """``by(expr)``: splits each spanset by the value of ``expr``."""

    expr: Any
    text: str
    pos: int = 0


@dataclass(frozen=True)
class Coalesce:
    """``coalesce()``: merges the spansets of each trace back into one."""

    pos: int = 0


@dataclass(frozen=True)
class Select:
    """``select(a, b)``: adds these fields to the result."""

    fields: tuple
    pos: int = 0


@dataclass(frozen=True)
class MetricsAgg:
    """``rate()``, ``count_over_time()``, ``{min,max,avg,sum}_over_time(x)``,
    ``quantile_over_time(x, q...)``, ``histogram_over_time(x)``, each with an optional ``by(...)``."""

    fn: str
    field: Any = None
    quantiles: tuple = ()
    by: tuple = ()
    pos: int = 0


@dataclass(frozen=True)
class MetricsPipeline:
    """A spanset pipeline feeding a metrics function, then second stages: ``("topk", k)``,
    ``("bottomk", k)``, ``("filter", op, value)``."""

    pipeline: Pipeline
    agg: MetricsAgg
    second: tuple = ()


@dataclass(frozen=True)
class MetricsMath:
    """``lhs op rhs`` of metrics series and numbers (``+ - * /``), then second stages."""

    op: str
    lhs: Any
    rhs: Any
    second: tuple = ()


@dataclass(frozen=True)
class Query:
    """A parsed query: ``kind`` ``"spans"`` (body a :class:`Pipeline`) or ``"metrics"`` (body a
    :class:`MetricsPipeline` or :class:`MetricsMath`); ``hints`` from ``with(...)``."""

    kind: str
    body: Any
    text: str
    hints: dict = field(default_factory=dict)


# ------------------------------------------------------------------------------------- helpers

def _go_unquote(s: str, query: str, pos: int) -> str:
    """A Go string literal's text, as Tempo's lexer reads it (``strconv.Unquote``): in ``"..."`` the escapes
    ``\\a \\b \\f \\n \\r \\t \\v \\\\ \\"``, ``\\xNN`` and ``\\NNN`` (octal, at most 377) are bytes and ``\\uNNNN``
    / ``\\UNNNNNNNN`` characters (``"\\xc3\\xa9"`` is ``é``); ``\\'`` is no escape there. Bytes that make no UTF-8
    text are refused (Tempo would compare them, and no attribute's text holds them). A raw string is as written."""
    if s.startswith("`"):
        return s[1:-1]
    body = s[1:-1]
    out = bytearray()
    first_byte = None  # offset of the first \x / octal escape of a byte >= 0x80
    for m in _GO_PART.finditer(body):
        at = pos + 1 + m.start()
        simple, x, u4, u8, octal, text = m.groups()
        if text is not None:
            out += text.encode("utf-8")
        elif simple:
            out += _SIMPLE[simple].encode()
        elif x or octal:
            v = int(x, 16) if x else int(octal, 8)
            if v > 255:
                raise TraceQLError(f"octal escape {m.group()} is more than 255 (\\377)", query, at)
            if v >= 0x80 and first_byte is None:
                first_byte = at
            out.append(v)
        elif u4 or u8:
            code = int(u4 or u8, 16)
            if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:  # Go's strconv.Unquote refuses them too
                raise TraceQLError(f"escape {m.group()} names no character (a surrogate or beyond U+10FFFF)", query, at)
            out += chr(code).encode("utf-8")
        else:
            raise TraceQLError("invalid escape sequence in string", query, at)
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        raise TraceQLError("the string's \\x or octal escapes make bytes that are no UTF-8 text (write a character "
                           "as \\u00e9, or its UTF-8 bytes in order: \\xc3\\xa9)", query, first_byte) from None


def _attr_name(raw: str, query: str, pos: int) -> str:
    out, i = [], 0
    while i < len(raw):
        c = raw[i]
        if c != '"':
            out.append(c)
            i += 1
            continue
        i += 1
        while i < len(raw) and raw[i] != '"':
            if raw[i] == "\\":
                if i + 1 < len(raw) and raw[i + 1] in '"\\':
                    out.append(raw[i + 1])
                    i += 2
                    continue
                raise TraceQLError("invalid escape sequence in attribute name (only \\\" and \\\\)", query, pos + i)
            out.append(raw[i])
            i += 1
        i += 1
    return "".join(out)


def duration_ns(text: str, strict: bool = True) -> int:
    """Nanoseconds of a TraceQL duration (``"1h30m"``, ``"250ms"``, ``"1.5s"``, ``".5ms"``, ``"2d"``).

    Tempo reads a duration with Prometheus' ``model.ParseDuration`` (whole numbers of ``y w d h m s
    ms``, in that order) and else Go's ``time.ParseDuration`` (numbers with a fraction, units ``ns
    us µs ms s m h``); so does this, exactly (a fraction of a nanosecond is dropped, as in Go).

    Parameters
    ----------
    text : str
        The literal as written, without sign or white space.
    strict : bool, default True
        Take only what Tempo takes; ``False`` reads any run of numbers and units (``"1.5d"``, as a
        metrics ``step`` may be written).

    Returns
    -------
    int
        Nanoseconds.

    Raises
    ------
    ValueError
        When neither form reads ``text`` (``"1.5d"``, ``"1e3ms"``, ``"ms"``).

    Examples
    --------
    >>> duration_ns("1m30s"), duration_ns("1.5ms"), duration_ns("2d")
    (90000000000, 1500000, 172800000000000)
    """
    if not text or not (_PROM_DURATION.fullmatch(text) or _GO_DURATION.fullmatch(text)
                        or (not strict and _ANY_DURATION.fullmatch(text))):
        raise ValueError(f"{text!r} is not a duration (e.g. 1.5ms, 1h30m, 300us, 2d)")
    if any(len(num) > _DURATION_DIGITS for num, _ in _DUR_PART.findall(text)):  # Python reads <= 4,300 digits
        raise ValueError(f"duration {text[:20]}… has a number of more than {_DURATION_DIGITS} digits: out of range")
    return sum(int(Fraction(num) * _UNITS_NS[unit]) for num, unit in _DUR_PART.findall(text))


def _pos(meta_or_tok: Any) -> int:
    p = getattr(meta_or_tok, "start_pos", None)
    return int(p) if p is not None else 0


def _fold(op: str, a: Static, b: Static, query: str, pos: int) -> Static:
    """Constant arithmetic as Tempo folds it (Go's: int / int truncates toward zero, int % int takes the sign of the
    dividend, as math.Mod does for floats; a duration stays a duration, in nanoseconds, a fraction kept)."""
    x, y = a.value, b.value
    if op in "/%" and y == 0:
        raise TraceQLError("division by zero", query, pos)
    if op == "^" and isinstance(x, int) and isinstance(y, int) and y > 0 and abs(x) > 1 \
            and y * math.log2(abs(x)) > 63:  # before computing it: 2 ^ 999999999 is a 125 MB integer
        raise TraceQLError(f"integer {x} ^ {y} is out of range (int64)", query, pos)
    if op == "+":
        v = x + y
    elif op == "-":
        v = x - y
    elif op == "*":
        v = x * y
    elif op == "/":
        if isinstance(x, int) and isinstance(y, int):  # exactly, not through a float (int64 holds more than 2**53)
            v = abs(x) // abs(y) * (1 if (x < 0) == (y < 0) else -1)
        else:
            v = x / y
    elif op == "%":
        if isinstance(x, int) and isinstance(y, int):
            v = abs(x) % abs(y) * (1 if x >= 0 else -1)
        else:
            v = math.fmod(x, y)
    else:
        try:
            v = x ** y
        except OverflowError:
            raise TraceQLError(f"{x} ^ {y} is out of range", query, pos) from None
    if isinstance(v, complex):  # a negative base to a fractional power: no real number
        v = math.nan
    if isinstance(v, int) and not -(2**63) <= v <= _INT_MAX:
        raise TraceQLError(f"the integer result of {x} {op} {y} is out of range (int64)", query, pos)
    t = "duration" if "duration" in (a.type, b.type) else ("int" if isinstance(v, int) else "float")
    if t == "duration" and isinstance(v, float) and v.is_integer():
        v = int(v)
    return Static(t, v, a.pos)


# ------------------------------------------------------------------------------------- lark tree -> AST

class _Build:
    """Turns lark's tree into the dataclasses, checking each node on the way up."""

    def __init__(self, query: str):
        self.q = query

    def err(self, msg: str, pos: int) -> TraceQLError:
        return TraceQLError(msg, self.q, pos)

    def unsupported(self, what: str, pos: int) -> TraceQLError:
        return TraceQLError(f"{what} is not supported", self.q, pos)

    def text(self, node: Any) -> str:
        m = getattr(node, "meta", None)
        if m is not None and not m.empty:
            return self.q[m.start_pos:m.end_pos]
        return str(node)

    # ---- entry
    def build(self, tree: Any) -> Query:
        body = tree.children[0]
        hints = self.hints(tree.children[1]) if len(tree.children) > 1 else {}
        kind = body.data if hasattr(body, "data") else "pipeline"
        if kind == "pipeline":
            return Query("spans", self.pipeline(body), self.q, hints)
        if kind == "metrics":
            pipe, agg, *second = body.children
            mp = MetricsPipeline(self.pipeline(pipe), self.metrics_agg(agg), tuple(self.second(s) for s in second))
            return Query("metrics", mp, self.q, hints)
        if kind == "metrics_math":
            expr, *second = body.children
            node = self.marith(expr)
            if not self.has_metrics(node):
                raise self.err("a metrics expression needs a metrics query such as ({ } | rate())", _pos(body.meta))
            sec = tuple(self.second(s) for s in second)
            if isinstance(node, MetricsPipeline):
                node = MetricsPipeline(node.pipeline, node.agg, node.second + sec)
            elif isinstance(node, MetricsMath):
                node = MetricsMath(node.op, node.lhs, node.rhs, node.second + sec)
            else:
                raise self.err("a metrics expression needs a metrics query such as ({ } | rate())", _pos(body.meta))
            return Query("metrics", node, self.q, hints)
        if kind == "scalar_pipeline_filter":
            lhs, _op, rhs = body.children
            for side in (lhs, rhs):
                for sp in side.iter_subtrees() if hasattr(side, "iter_subtrees") else ():
                    if sp.data == "scalar_pipeline":
                        self.pipeline(sp.children[0])
                        self.aggregate(sp.children[1])
            raise self.unsupported("comparing scalar pipelines ((...| count()) > (...| count()))", _pos(body.meta))
        raise self.err("not a TraceQL query", 0)  # pragma: no cover - the grammar has no other roots

    def hints(self, node: Any) -> dict:
        out = {}
        for h in node.children:
            name, static = h.children
            out[str(name)] = self.static(static).value
        return out

    # ---- spanset level
    def pipeline(self, node: Any) -> Pipeline:
        if node.data != "pipeline":
            return Pipeline((self.stage(node),))
        stages = tuple(self.stage(c) for c in node.children)
        if isinstance(stages[0], Coalesce):
            raise self.err("a pipeline cannot start with coalesce()", stages[0].pos)
        return Pipeline(stages)

    def stage(self, node: Any) -> Any:
        d = node.data
        if d in ("filter", "spanset_op", "pipeline"):
            return self.spanset(node)
        if d == "scalar_filter":
            return self.scalar_filter(node)
        if d == "by_op":
            expr = self.field(node.children[0])
            self.check_type(expr)
            if not self.reads_span(expr):
                raise self.err("by() must read the span (an attribute or intrinsic)", _pos(node.meta))
            return GroupBy(expr, self.text(node.children[0]), _pos(node.meta))
        if d == "coalesce_op":
            return Coalesce(_pos(node.meta))
        if d == "select_op":
            fields = tuple(self.field(c) for c in node.children)
            for f in fields:
                self.check_type(f)
            return Select(fields, _pos(node.meta))
        raise self.err(f"unexpected {d}", _pos(node.meta))  # pragma: no cover

    def spanset(self, node: Any) -> Any:
        d = node.data
        if d == "filter":
            if not node.children:
                return Filter(Static("bool", True, _pos(node.meta)), _pos(node.meta))
            expr = self.field(node.children[0])
            t = self.check_type(expr)
            if t not in ("bool", "attr"):
                raise self.err(f"a spanset filter must be a condition (true or false), not {_a(t)}", _pos(node.meta) + 1)
            return Filter(expr, _pos(node.meta))
        if d == "spanset_op":
            lhs, op, rhs = node.children
            return SpansetOp(str(op.children[0]), self.spanset(lhs), self.spanset(rhs), _pos(op.meta))
        if d == "pipeline":
            return self.pipeline(node)
        raise self.err(f"expected a spanset, got {d}", _pos(node.meta))

    # ---- scalar filters
    def scalar_filter(self, node: Any) -> ScalarFilter:
        lhs, op, rhs = node.children
        op = str(op.children[0])
        aggs = [t for side in (lhs, rhs) for t in self._subtrees(side) if t.data == "aggregate"]
        if not aggs:
            raise self.err("a scalar filter compares an aggregate (count(), avg(x)...) with a number", _pos(node.meta))
        built = [self.aggregate(a) for a in aggs]
        if len(aggs) > 1:
            raise self.unsupported("comparing or combining two aggregates", _pos(node.meta))
        side_agg, side_num = (lhs, rhs) if aggs[0] in list(self._subtrees(lhs)) else (rhs, lhs)
        if getattr(side_agg, "data", None) != "aggregate":
            raise self.unsupported("arithmetic on an aggregate", _pos(node.meta))
        value = self.const(side_num)
        if side_agg is rhs:
            op = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op)
        return ScalarFilter(op, built[0], value, _pos(node.meta))

    @staticmethod
    def _subtrees(node: Any) -> list:
        return list(node.iter_subtrees_topdown()) if hasattr(node, "iter_subtrees_topdown") else []

    def aggregate(self, node: Any) -> Aggregate:
        fn = str(node.children[0])
        args = node.children[1:]
        pos = _pos(node.meta)
        if fn == "count":
            if args:
                raise self.err("count() takes no argument", pos)
            return Aggregate("count", None, self.text(node), pos)
        if not args:
            raise self.err(f"{fn}() needs a field", pos)
        expr = self.field(args[0])
        t = self.check_type(expr)
        if t not in NUMERIC and t != "attr":
            raise self.err(f"{fn}() needs a number, got {_a(t)}", _pos(args[0].meta) if hasattr(args[0], "meta") else pos)
        if not self.reads_span(expr):
            raise self.err(f"{fn}() must read the span (an attribute or intrinsic)", pos)
        if self._has_parent(expr):
            raise self.unsupported("parent.", pos)
        return Aggregate(fn, expr, self.text(node), pos)

    def const(self, node: Any) -> Static:
        """Fold a constant arithmetic tree of numbers."""
        if not hasattr(node, "data"):
            return self.number(node)
        d = node.data
        if d == "negate":
            v = self.const(node.children[0])
            return Static(v.type, -v.value, v.pos)
        if d == "arith":
            a, op, b = node.children
            return _fold(str(op.children[0]), self.const(a), self.const(b), self.q, _pos(op.meta))
        if d == "static":
            return self.static(node)
        raise self.err("expected a number", _pos(node.meta))

    def int_token(self, tok: Any) -> int:
        """An INT token's value, refused past int64 (before reading it: Python reads no more than 4,300 digits, and
        an integer of 5,000 digits raised its bare ValueError)."""
        s = str(tok)
        digits = s.lstrip("0")
        if len(digits) > len(str(_INT_MAX)) or int(digits or "0") > _INT_MAX:
            shown = s if len(s) <= 40 else f"{s[:20]}… ({len(s):,} digits)"
            raise self.err(f"integer {shown} is out of range", _pos(tok))
        return int(digits or "0")

    def number(self, tok: Any) -> Static:
        t, s, pos = tok.type, str(tok), _pos(tok)
        if t == "INT":
            return Static("int", self.int_token(tok), pos)
        if t == "FLOAT":
            return Static("float", float(s), pos)
        if t == "DURATION":
            try:
                return Static("duration", duration_ns(s), pos)
            except ValueError as e:
                raise self.err(str(e), pos) from None
        raise self.err(f"expected a number, got {s!r}", pos)

    # ---- metrics
    def metrics_agg(self, node: Any) -> MetricsAgg:
        pos = _pos(node.meta)
        if node.data == "compare":
            raise self.unsupported("compare()", pos)
        fn = str(node.children[0])
        fld, quantiles, by = None, (), ()
        for c in node.children[1:]:
            d = getattr(c, "data", None)
            if d == "by_list":
                # a field named twice groups as named once (one label column each): by (name, name) raised pandas'
                # ValueError "cannot insert name, already exists"
                named: dict[str, Any] = {}
                for a in c.children:
                    f = self.field(a)
                    named.setdefault(f.text, f)
                by = tuple(named.values())
                for b in by:
                    self.check_type(b)
            elif d == "numlist":
                quantiles = tuple(float(self.const(x).value) for x in c.children)
            else:
                fld = self.field(c)
                self.check_type(fld)
        if fn in ("rate", "count_over_time"):
            if fld is not None:
                raise self.err(f"{fn}() takes no argument", pos)
        elif fld is None:
            raise self.err(f"{fn}() needs a field", pos)
        if fn == "quantile_over_time":
            if not quantiles:
                raise self.err("quantile_over_time() needs quantiles: quantile_over_time(duration, 0.5, 0.99)", pos)
            if any(not 0 <= q <= 1 for q in quantiles):
                raise self.err("quantiles must be between 0 and 1", pos)
        elif quantiles:
            raise self.err(f"{fn}() takes one field", pos)
        return MetricsAgg(fn, fld, quantiles, by, pos)

    def second(self, node: Any) -> tuple:
        if node.data == "topk":
            fn, k = node.children
            count = self.int_token(k)
            if count <= 0:
                raise self.err(f"{fn}() needs a count above 0", _pos(k))
            return (str(fn), count)
        op, value = node.children
        v = self.const(value)
        if v.type == "duration" and getattr(value, "type", None) != "DURATION":
            raise self.err("duration arithmetic is not allowed in a metrics filter", _pos(value) if not hasattr(value, "meta") else _pos(value.meta))
        return ("filter", str(op.children[0]), v)

    def has_metrics(self, node: Any) -> bool:
        if isinstance(node, MetricsPipeline):
            return True
        if isinstance(node, MetricsMath):
            return self.has_metrics(node.lhs) or self.has_metrics(node.rhs)
        return False

    def marith(self, node: Any) -> Any:
        if not hasattr(node, "data"):
            v = self.number(node)
            return v
        d = node.data
        if d == "wrapped_metrics":
            pipe, agg, *second = node.children
            mp = MetricsPipeline(self.pipeline(pipe), self.metrics_agg(agg), tuple(self.second(s) for s in second))
            return mp
        if d == "negate":
            v = self.marith(node.children[0])
            if isinstance(v, Static):
                return Static(v.type, -v.value, v.pos)
            return MetricsMath("*", Static("int", -1), v)
        if d == "arith":
            a, op, b = node.children
            op = str(op.children[0])
            x, y = self.marith(a), self.marith(b)
            if isinstance(x, Static) and isinstance(y, Static):
                return _fold(op, x, y, self.q, _pos(node.meta))
            for v in (x, y):
                if isinstance(v, Static) and v.type == "duration":
                    raise self.err("a duration cannot be combined with a metrics series", v.pos)
            if op in "%^":
                raise self.err(f"operator {op} is not defined on metrics", _pos(node.meta))
            return MetricsMath(op, x, y)
        raise self.err("expected a metrics expression", _pos(node.meta))

    # ---- field expressions
    def field(self, node: Any) -> Any:
        if not hasattr(node, "data"):
            raise self.err(f"unexpected {node!s}", _pos(node))  # pragma: no cover
        d = node.data
        pos = _pos(node.meta)
        if d == "static":
            return self.static(node)
        if d == "attr":
            tok = node.children[0]
            raw = str(tok)
            par = raw.startswith("parent.")
            body = raw[len("parent."):] if par else raw
            scope = None
            for sc in ("resource.", "span.", "event.", "link.", "instrumentation."):
                if body.startswith(sc):
                    scope, body = sc[:-1], body[len(sc):]
                    break
            else:
                body = body[1:] if body.startswith(".") else body
            if not body:
                raise self.err("attribute name missing", pos)
            return Attribute(scope, _attr_name(body, self.q, _pos(tok) + len(raw) - len(body)), raw, pos, par)
        if d == "intrinsic":
            name = str(node.children[0])
            return Intrinsic(name, name, pos)
        if d == "scoped_intrinsic":
            raw = str(node.children[0])
            scope, name = raw.split(":", 1)
            canon = _SCOPED[scope].get(name)
            if canon is None:
                raise self.err(f"{scope}:{name} is not an intrinsic; {scope}: has "
                               + ", ".join(f"{scope}:{k}" for k in _SCOPED[scope]), pos)
            return Intrinsic(canon, raw, pos)
        if d == "binop":
            a, op, b = node.children
            op_s, lhs, rhs = str(op.children[0]), self.field(a), self.field(b)
            if op_s in "/%" and _is_int(lhs) and _is_int(rhs):  # Tempo's parser folds it (newBinaryOperation) in Go's
                return _fold(op_s, lhs, rhs, self.q, _pos(op.meta))  # integer arithmetic: 3 / 2 is 1, -7 % 3 is -1
            return BinOp(op_s, lhs, rhs, _pos(op.meta))
        if d == "not_":
            return UnOp("!", self.field(node.children[0]), pos)
        if d == "neg":
            x = self.field(node.children[0])
            if _is_number(x):
                return Static(x.type, -x.value, x.pos)
            return UnOp("-", x, pos)
        raise self.err(f"unexpected {d}", pos)  # pragma: no cover

    def static(self, node: Any) -> Static:
        tok = node.children[0]
        t, s, pos = tok.type, str(tok), _pos(tok)
        if t in ("INT", "FLOAT", "DURATION"):
            return self.number(tok)
        if t in ("STRING", "RAWSTRING"):
            return Static("string", _go_unquote(s, self.q, pos), pos)
        if t == "BOOL":
            return Static("bool", s == "true", pos)
        if t == "STATUS_KW":
            return Static("status", s, pos)
        if t == "KIND_KW":
            return Static("kind", s, pos)
        if t == "NIL":
            return Static("nil", None, pos)
        if s == "minInt":
            return Static("int", -(2**63), pos)
        if s == "maxInt":
            return Static("int", _INT_MAX, pos)
        raise self.err(f"unknown identifier {s!r} (an attribute needs a scope: .{s}, span.{s}, resource.{s})", pos)

    # ---- types
    def reads_span(self, e: Any) -> bool:
        if isinstance(e, (Attribute, Intrinsic)):
            return True
        if isinstance(e, BinOp):
            return self.reads_span(e.lhs) or self.reads_span(e.rhs)
        if isinstance(e, UnOp):
            return self.reads_span(e.x)
        return False

    def _has_parent(self, e: Any) -> bool:
        if isinstance(e, Attribute):
            return e.parent
        if isinstance(e, Intrinsic):
            return e.name == "parent"
        if isinstance(e, BinOp):
            return self._has_parent(e.lhs) or self._has_parent(e.rhs)
        if isinstance(e, UnOp):
            return self._has_parent(e.x)
        return False

    def check_type(self, e: Any) -> str:
        """The type of a field expression; raises on a type error."""
        if isinstance(e, Static):
            return e.type
        if isinstance(e, Attribute):
            if e.parent:
                raise self.unsupported("parent. (the parent's attributes)", e.pos)
            return "attr"
        if isinstance(e, Intrinsic):
            t = INTRINSIC_TYPES[e.name]
            if t == "parent":
                raise self.unsupported("the parent intrinsic", e.pos)
            return t
        if isinstance(e, UnOp):
            t = self.check_type(e.x)
            if e.op == "-":
                if t not in NUMERIC and t != "attr":
                    raise self.err(f"cannot negate {_a(t)}", e.pos)
                return t
            if e.op == "!":
                if t not in ("bool", "attr"):
                    raise self.err(f"cannot apply ! to {_a(t)}", e.pos)
                return "bool"
            return "bool"
        if isinstance(e, BinOp):
            return self._binop_type(e)
        raise self.err("unexpected expression", 0)  # pragma: no cover

    def _binop_type(self, e: BinOp) -> str:
        op = e.op
        if op in ("=", "!=") and (_is_nil(e.lhs) or _is_nil(e.rhs)):
            return "bool"  # checked in _nil
        lt, rt = self.check_type(e.lhs), self.check_type(e.rhs)
        if "nil" in (lt, rt):
            raise self.err("nil can only be compared with = or !=", e.pos)
        if op in ("+", "-", "*", "/", "%", "^"):
            for t in (lt, rt):
                if t not in NUMERIC and t != "attr":
                    raise self.err(f"operator {op} needs numbers, got {_a(t)}", e.pos)
            if "attr" in (lt, rt):
                return "number"
            return "duration" if "duration" in (lt, rt) else ("float" if "float" in (lt, rt) else "int")
        if op in ("&&", "||"):
            for t in (lt, rt):
                if t not in ("bool", "attr"):
                    raise self.err(f"operator {op} needs conditions, got {_a(t)}", e.pos)
            return "bool"
        if op in ("=~", "!~"):
            if lt not in ("string", "attr"):
                raise self.err(f"operator {op} matches text, got {_a(lt)}", e.pos)
            if not (isinstance(e.rhs, Static) and e.rhs.type == "string"):
                raise self.err(f"operator {op} needs a regular expression in quotes on its right", e.pos)
            check_regex(e.rhs.value, self.q, e.rhs.pos)
            return "bool"
        # comparisons
        if "attr" in (lt, rt):
            return "bool"
        if lt in NUMERIC and rt in NUMERIC:
            return "bool"
        if lt != rt:
            raise self.err(f"cannot compare {_a(lt)} with {_a(rt)}", e.pos)
        if lt in ("status", "kind", "bool") and op not in ("=", "!="):
            raise self.err(f"{_a(lt)} can only be compared with = or !=", e.pos)
        return "bool"


def _a(t: str) -> str:
    """A type named with its article (it said "cannot compare a string with a int").

    >>> _a("int"), _a("string")
    ('an int', 'a string')
    """
    return ("an " if t[:1] in "aeiou" else "a ") + t


def _is_number(e: Any) -> bool:
    return isinstance(e, Static) and e.type in ("int", "float", "duration")


def _is_int(e: Any) -> bool:
    return isinstance(e, Static) and e.type == "int"


def _is_nil(e: Any) -> bool:
    return isinstance(e, Static) and e.type == "nil"


def _resolve_nil(e: Any, b: _Build) -> Any:
    """``x = nil`` -> notexists, ``x != nil`` -> exists; intrinsics and resource.service.name are never nil."""
    if isinstance(e, BinOp):
        lhs, rhs = _resolve_nil(e.lhs, b), _resolve_nil(e.rhs, b)
        if e.op in ("=", "!=") and (_is_nil(lhs) or _is_nil(rhs)):
            if _is_nil(lhs) and _is_nil(rhs):
                return Static("bool", False, e.pos)
            other = rhs if _is_nil(lhs) else lhs
            if e.op == "=" and (isinstance(other, Intrinsic) or (
                    isinstance(other, Attribute) and other.scope == "resource" and other.name == "service.name")):
                raise b.err(f"{getattr(other, 'text', 'this field')} always has a value; it cannot be nil", e.pos)
            if not isinstance(other, (Attribute, Intrinsic)):
                raise b.err("only a field can be compared with nil", e.pos)
            return UnOp("exists" if e.op == "!=" else "notexists", other, e.pos)
        return BinOp(e.op, lhs, rhs, e.pos)
    if isinstance(e, UnOp):
        return UnOp(e.op, _resolve_nil(e.x, b), e.pos)
    return e


@functools.lru_cache(maxsize=256)
def _regex_ok(pattern: str) -> str | None:
    import pyarrow as pa
    import pyarrow.compute as pc

    try:  # the pattern on its own first, as Prometheus parses it before wrapping: "a)|(b" is no regex, though
        # "^(?s:a)|(b)$" would compile (and match any text starting with a)
        for p in (pattern, anchored_regex(pattern)):
            pc.match_substring_regex(pa.array([""], pa.string()), p)
    except pa.ArrowInvalid as exc:
        return str(exc).replace("Invalid regular expression: ", "")
    return None


def anchored_regex(pattern: str) -> str:
    """A TraceQL regex as Tempo matches it: Prometheus' ``FastRegexMatcher`` compiles
    ``^(?s:pattern)$``, fully anchored, with ``.`` matching a newline too.

    >>> anchored_regex("SELECT .*")
    '^(?s:SELECT .*)$'
    """
    return "^(?s:" + pattern + ")$"


def check_regex(pattern: str, query: str = "", pos: int | None = None) -> None:
    """Raise :class:`TraceQLError` unless ``pattern`` is a valid RE2 (Go) regular expression.

    Matching runs on RE2 (pyarrow's regex kernels), which never backtracks: linear in the text.

    >>> check_regex("GET /api/.*")
    >>> check_regex("(a)\\\\1", "{ .a =~ \\"(a)\\\\\\\\1\\" }", 9)
    Traceback (most recent call last):
    ...
    tracekit.errors.TraceQLError: invalid regular expression (RE2 syntax): invalid escape sequence: \\1 at position 10:
      { .a =~ "(a)\\\\1" }
               ^
    """
    why = _regex_ok(pattern)
    if why is not None:
        raise TraceQLError(f"invalid regular expression (RE2 syntax): {why}", query, pos)


# ------------------------------------------------------------------------------------- entry

def _lark_error(exc: Exception, query: str) -> TraceQLError:
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream
        ch = query[pos] if pos < len(query) else ""
        if ch == '"' or ch == "`":
            return TraceQLError("unterminated string", query, pos)
        opened = _NAME_QUOTE.match(query, pos) if ch == "." else None
        if opened is not None and not _QUOTED.match(query, opened.start(1)):  # span."a b = 1: it said "unexpected
            # character '.'", at the dot, which is no mistake
            return TraceQLError("unterminated quoted attribute name", query, opened.start(1))
        return TraceQLError(f"unexpected character {ch!r}", query, pos)
    if isinstance(exc, UnexpectedEOF):
        return TraceQLError("unexpected end of query", query, len(query))
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        if tok.type == "$END":
            return TraceQLError("unexpected end of query", query, len(query))
        names = _terminal_names()
        exp = sorted({names.get(t, t) for t in (exc.expected or ())})
        hint = f" (expected one of: {', '.join(exp[:10])}{', ...' if len(exp) > 10 else ''})" if exp else ""
        return TraceQLError(f"unexpected {str(tok)!r}{hint}", query, tok.start_pos)
    return TraceQLError(f"cannot parse: {exc}", query, None)


#: an attribute name from its dot up to a quote that opens a quoted part (``."a b`` of ``."a b = 1``), and a quoted
#: part closed (the lexer's rule for an attribute name, :data:`.grammar.GRAMMAR`'s ATTR)
_NAME_QUOTE = re.compile(r'\.(?:[^\s{}()=~!<>&|^,"]|"(?:[^"\\]|\\.)*")*(")')
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')


@functools.lru_cache(maxsize=1)
def _terminal_names() -> dict:
    out = {}
    for t in parser().terminals:
        v = t.pattern.value
        out[t.name] = repr(v) if t.pattern.type == "str" else t.name.lower()
    return out


@functools.lru_cache(maxsize=512)
def parse(query: str) -> Query:
    """Parse and check a TraceQL query.

    Parameters
    ----------
    query : str
        A TraceQL query, e.g. ``'{ span.http.method = "GET" } >> { status = error }'``.

    Returns
    -------
    Query
        ``kind`` ``"spans"`` (a spanset pipeline) or ``"metrics"``; ``hints`` from ``with(...)``.

    Raises
    ------
    TraceQLError
        On a syntax error, a type error, an invalid regex, or a construct that is not supported,
        with the position and a caret under the query.

    Examples
    --------
    >>> parse("{ } | count() > 2").body.stages[1].op
    '>'
    >>> parse("{ parent.a = 1 }")
    Traceback (most recent call last):
    ...
    tracekit.errors.TraceQLError: parent. (the parent's attributes) is not supported at position 3:
      { parent.a = 1 }
        ^
    """
    from lark.exceptions import LarkError

    if not isinstance(query, str):
        raise TraceQLError(f"a TraceQL query is a string, got {type(query).__name__}")
    if not query.strip():
        raise TraceQLError("empty query", query, 0)
    if len(query) > MAX_QUERY_CHARS:
        raise TraceQLError(f"query of {len(query):,} characters; at most {MAX_QUERY_CHARS:,} are parsed", query[:80] + " ...",
                           None)
    deep = _too_deep(query)
    if deep is not None:  # before the Earley parse, which took 11.7 s to reach the depth check on 4,000 brackets
        raise TraceQLError(f"query nested too deeply (more than {MAX_QUERY_DEPTH} brackets open)", query, deep)
    run = _prefix_run(query)
    if run is not None:  # before the Earley parse, which took 8.8 s on 8,000 '!' (1.1 ms a character) to refuse them
        raise TraceQLError(f"query nested too deeply (more than {MAX_QUERY_DEPTH} '!' or '-' in a row)", query, run)
    lone = _SURROGATE.search(query)
    if lone is not None:  # no UTF-8 text holds one: pyarrow's compare raised UnicodeEncodeError
        raise TraceQLError(f"the query holds a lone surrogate (U+{ord(lone.group()):04X}), which is not text",
                           query.encode("utf-8", "backslashreplace").decode(), lone.start())
    try:
        tree = _balance_chains(_nest_powers(_lark_tree(query)))
        depth, at = _tree_depth(tree)
        if depth > MAX_QUERY_DEPTH:  # the position where the limit is passed (it named none)
            raise TraceQLError(f"query nested too deeply ({depth} levels; at most {MAX_QUERY_DEPTH})", query, at)
        b = _Build(query)
        q = b.build(tree)
        return _resolve_query(q, b)
    except LarkError as exc:
        raise _lark_error(exc, query) from None
    except RecursionError:
        raise TraceQLError("query nested too deeply", query[:80] + (" ..." if len(query) > 80 else ""), None) from None


def _lark_tree(query: str) -> Any:
    """lark's tree of ``query``: the LALR parse when it reads it (spanset queries), else the Earley parse (metrics
    queries, and syntax errors, which it reports as before)."""
    from lark.exceptions import LarkError

    try:
        return fast_parser().parse(query)
    except LarkError:
        return parser().parse(query)


def _resolve_query(q: Query, b: _Build) -> Query:
    """Apply the nil rules through the whole tree."""

    def stage(s: Any) -> Any:
        if isinstance(s, Filter):
            return Filter(_resolve_nil(s.expr, b), s.pos)
        if isinstance(s, SpansetOp):
            return SpansetOp(s.op, stage(s.lhs), stage(s.rhs), s.pos)
        if isinstance(s, Pipeline):
            return Pipeline(tuple(stage(x) for x in s.stages))
        if isinstance(s, GroupBy):
            return GroupBy(_resolve_nil(s.expr, b), s.text, s.pos)
        if isinstance(s, ScalarFilter):
            return ScalarFilter(s.op, Aggregate(s.agg.fn, _resolve_nil(s.agg.expr, b), s.agg.text, s.agg.pos), s.value, s.pos)
        return s

    def metrics(m: Any) -> Any:
        if isinstance(m, MetricsPipeline):
            return MetricsPipeline(stage(m.pipeline), m.agg, m.second)
        if isinstance(m, MetricsMath):
            return MetricsMath(m.op, metrics(m.lhs), metrics(m.rhs), m.second)
        return m

    body = stage(q.body) if q.kind == "spans" else metrics(q.body)
    return Query(q.kind, body, q.text, q.hints)


_OPEN_CLOSE = re.compile(r'[(){}"`]')


def _too_deep(query: str) -> int | None:
    """Offset of the first ``(`` or ``{`` that opens more than :data:`MAX_QUERY_DEPTH` brackets (strings
    skipped), or None: one pass over the text."""
    depth, i, n = 0, 0, len(query)
    while True:
        m = _OPEN_CLOSE.search(query, i)
        if m is None:
            return None
        c, i = m.group(), m.end()
        if c in "({":
            depth += 1
            if depth > MAX_QUERY_DEPTH:
                return m.start()
        elif c in ")}":
            depth -= 1
        elif c == "`":
            j = query.find("`", i)
            i = n if j < 0 else j + 1
        else:  # a Go string: a backslash escapes the next character
            while i < n and query[i] != '"':
                i += 2 if query[i] == "\\" else 1
            i += 1


def _prefix_run(query: str) -> int | None:
    """Offset of the first ``!`` or ``-`` token past :data:`MAX_QUERY_DEPTH` + 1 in a row (white space between
    them allowed), or None: one pass of the lexer, linear. Each such token nests one level (all of them are
    prefix operators but a leading binary ``-``), so the query is too deep whatever follows; None too when the
    lexer stops (the parse then says where)."""
    from lark.exceptions import LarkError

    count = 0
    try:
        for tok in parser().lex(query):
            if tok in ("!", "-"):
                count += 1
                if count > MAX_QUERY_DEPTH + 1:
                    return tok.start_pos
            else:
                count = 0
    except LarkError:
        return None
    return None


def _balance_chains(tree: Any) -> Any:
    """Rebuild each run of one ``&&`` or ``||`` (in a filter or between spansets) as a balanced tree.

    The grammar reads ``a || b || c || d`` left-associatively, one tree level per operator, so 500
    alternatives (``{ span.id = "a" || span.id = "b" || ... }``) were refused as nested too deeply. Both
    operators are associative (a union; a conjunction; and a spanset ``&&`` keeps both sides where both
    have spans), so ``((a || b) || c) || d`` is ``(a || b) || (c || d)``: a run of n alternatives takes
    log2(n) levels. A chain mixing ``&&`` and ``||`` keeps its order (it still folds run by run, left to
    right); operands keep their order, so errors come in the same order. Walked with a stack."""
    from lark import Tree

    def is_chain(node: Any) -> bool:
        return (isinstance(node, Tree) and node.data in ("binop", "spanset_op") and len(node.children) == 3
                and isinstance(node.children[1], Tree) and node.children[1].data == "logic_op")

    made: set = set()  # ids of the nodes built here (walked into, not rebuilt again)

    def new(data: str, children: list, meta: Any) -> Any:
        t = Tree(data, children, meta)
        made.add(id(t))
        return t

    def balanced(items: list, op_tree: Any, data: str, meta: Any) -> Any:
        while len(items) > 1:
            nxt = [new(data, [items[i], op_tree, items[i + 1]], meta) for i in range(0, len(items) - 1, 2)]
            items = nxt + ([items[-1]] if len(items) % 2 else [])
        return items[0]

    root = Tree("root", [tree])
    stack = [root]
    while stack:
        node = stack.pop()
        for i, child in enumerate(node.children):
            if not isinstance(child, Tree):
                continue
            if id(child) not in made and is_chain(child) and is_chain(child.children[0]):
                spine, operands, ops = child, [], []
                while is_chain(spine) and spine.data == child.data:
                    operands.append(spine.children[2])
                    ops.append(spine.children[1])
                    spine = spine.children[0]
                operands.append(spine)
                operands.reverse()
                ops.reverse()
                acc, j = None, 0
                while j < len(ops):  # a run of one operator: balanced, then folded left to right
                    k = j
                    while k + 1 < len(ops) and str(ops[k + 1].children[0]) == str(ops[j].children[0]):
                        k += 1
                    if acc is None:
                        acc = balanced(operands[: k + 2], ops[j], child.data, child.meta)
                    else:
                        acc = new(child.data, [acc, ops[j], balanced(operands[j + 1:k + 2], ops[j], child.data,
                                                                     child.meta)], child.meta)
                    j = k + 1
                node.children[i] = child = acc
            stack.append(child)
    return root.children[0]


def _nest_powers(tree: Any) -> Any:
    """Rebuild each run of ``^`` (``a ^ b ^ -c``, read as a flat run) as the right-associative tree it is.

    The grammar reads a run of ``^`` as a repetition, as Earley parses it in linear time, and this pass
    nests it: ``a ^ (b ^ -(c))``, a minus before an operand applying to the rest of the run (as the
    grammar read it before). Written right-recursively (``fatom pow_op fright``), the rule made the Earley
    parse super-linear: 400 ``^`` took 11 s and the 2,000 of an 8 kB query 198 s before the depth
    check refused them. Walked with a stack."""
    from lark import Tree

    def node(data: str, a: Any, op: Any, b: Any) -> Any:
        t = Tree(data, [a, op, b])
        first, last = (a.meta if isinstance(a, Tree) else a), (b.meta if isinstance(b, Tree) else b)
        m = t.meta
        m.start_pos, m.line, m.column = first.start_pos, first.line, first.column
        m.end_pos, m.end_line, m.end_column = last.end_pos, last.end_line, last.end_column
        m.empty = False
        return t

    def nested(chain: Any) -> Any:
        kids = chain.children  # operand, op, operand, op, ..., operand
        data = "binop" if chain.data == "fpow_chain" else "arith"
        acc = kids[-1]
        for i in range(len(kids) - 3, -1, -2):
            operand = kids[i]
            negs = []  # an operand's leading minus signs (fpow_chain) wrap the rest of the run
            while i > 0 and isinstance(operand, Tree) and operand.data == "neg":
                negs.append(operand)
                operand = operand.children[0]
            acc = node(data, operand, kids[i + 1], acc)
            for n in reversed(negs):
                acc = Tree("neg", [acc], n.meta)
        return acc

    root = Tree("root", [tree])
    stack = [root]
    while stack:
        t = stack.pop()
        for i, child in enumerate(t.children):
            if isinstance(child, Tree):
                if child.data in ("fpow_chain", "sfpow_chain"):
                    t.children[i] = child = nested(child)
                stack.append(child)
    return root.children[0]


def _tree_depth(tree: Any) -> tuple[int, int | None]:
    """Depth of a lark tree and where its deepest path passes :data:`MAX_QUERY_DEPTH` (the start of its node
    one level deeper; None when it does not), walked with an explicit stack (no recursion)."""
    deepest, at, stack = 0, None, [(tree, 1, None)]
    while stack:
        node, d, past = stack.pop()
        if past is None and d > MAX_QUERY_DEPTH:
            past = _pos(node.meta) if not node.meta.empty else None
        if d > deepest:
            deepest, at = d, past
        stack.extend((c, d + 1, past) for c in getattr(node, "children", ()) if hasattr(c, "children"))
    return deepest, at
