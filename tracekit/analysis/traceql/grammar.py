"""TraceQL's grammar, for lark (an Earley parser over a basic lexer; most of it, :data:`FAST_GRAMMAR`, by LALR).

Written from Tempo's language reference (docs/sources/tempo/traceql) and its yacc grammar's
precedence table, lowest first: ``|``; ``&&`` and ``||`` (one level, left-associative, as in
Tempo); comparisons, regex matches and the structural operators; ``+ -``; ``!``; ``* / %``;
``^`` (right-associative); unary minus.

Tokens follow Tempo's lexer: an attribute name runs from its scope (``.``, ``span.``,
``resource.``, ``event.``, ``link.``, ``instrumentation.``, ``parent.``) up to a space or one of
``{ } ( ) = ~ ! < > & | ^ ,`` and may hold quoted parts (``."foo bar"``, escapes ``\\"`` and
``\\\\`` only); ``.5`` is a number, as in Go (so no attribute name starts with a digit); a number directly followed by a unit (``ns us µs ms s m h d w y``, combinable:
``1h30m``, with a fraction: ``1.5ms``, ``.5s``) is a duration: the DURATION token outranks FLOAT
and INT, as Tempo's lexer tries a duration before a number, and :func:`.parse.duration_ns` then
takes what Tempo's ``parseDuration`` takes (Go's ``time.ParseDuration`` or Prometheus' integer
``1d2h`` form). An exponent is never part of a duration (``1e3ms`` is refused, as by Go); strings are Go strings (``"..."``) or raw strings (backquotes).

The grammar accepts a little more than TraceQL where that keeps it unambiguous (e.g. any
arithmetic around aggregates); :mod:`.parse` then refuses what Tempo refuses, by the same rules.
"""

from __future__ import annotations

import functools

__all__ = ["GRAMMAR", "FAST_GRAMMAR", "parser", "fast_parser"]

GRAMMAR = r"""
start: query hints?

?query: pipeline
      | pipeline "|" metrics_agg second*          -> metrics
      | marith second*                            -> metrics_math
      | sparith cmp_op sparith                    -> scalar_pipeline_filter

hints: "with" "(" hint ("," hint)* ")"
hint: IDENT "=" static

// ---- spanset pipelines
pipeline: stage ("|" stage)*
?stage: sexpr
      | scalar_filter
      | "by" "(" fexpr ")"                        -> by_op
      | "coalesce" "(" ")"                        -> coalesce_op
      | "select" "(" attribute ("," attribute)* ")" -> select_op

?sexpr: sexpr logic_op sstruct                    -> spanset_op
      | sstruct
?sstruct: sstruct struct_op satom                 -> spanset_op
        | satom
?satom: filter
      | "(" pipeline ")"
filter: "{" fexpr? "}"

!logic_op: "&&" | "||"
!struct_op: ">" | ">>" | "<" | "<<" | "~" | "!>" | "!>>" | "!<" | "!<<" | "!~"
          | "&>" | "&>>" | "&<" | "&<<" | "&~"
!cmp_op: "=" | "!=" | "<" | "<=" | ">" | ">="

// ---- scalar filters: arithmetic over aggregates and numbers
scalar_filter: sfarith cmp_op sfarith
?sfarith: sfarith add_op sfterm                   -> arith
        | sfterm
?sfterm: sfterm mul_op sfpow                      -> arith
       | sfpow
?sfpow: sfunary (pow_op sfunary)+                 -> sfpow_chain
      | sfunary
?sfunary: "-" sfunary                             -> negate
        | sfatom
?sfatom: aggregate
       | number
       | "(" sfarith ")"
aggregate: AGG "(" fexpr? ")"
AGG.3: /(?:count|avg|min|max|sum)(?![A-Za-z0-9_])/

// ---- scalar pipelines compared (Tempo parses these and calls them unsupported)
?sparith: sparith (add_op | mul_op | pow_op) spatom -> arith
        | spatom
?spatom: "(" pipeline "|" aggregate ")"            -> scalar_pipeline
       | "(" sparith ")"
       | number

// ---- metrics
metrics_agg: METRIC_FN "(" (attribute ("," numlist)?)? ")" by_list?
           | "compare" "(" filter ("," INT)* ")"   -> compare
METRIC_FN.3: /(?:rate|count_over_time|min_over_time|max_over_time|avg_over_time|sum_over_time|quantile_over_time|histogram_over_time)(?![A-Za-z0-9_])/
by_list: "by" "(" attribute ("," attribute)* ")"
numlist: signed_num ("," signed_num)*
?signed_num: INT | FLOAT | "-" signed_num -> negate
second: "|" TOPK "(" INT ")"                       -> topk
      | cmp_op scalar                             -> metrics_filter
?scalar: scalar add_op sterm                      -> arith
       | sterm
?sterm: sterm smul_op sunary                      -> arith
      | sunary
?sunary: "-" sunary                               -> negate
       | INT | FLOAT | DURATION
       | "(" scalar ")"
!smul_op: "*" | "/"
TOPK.3: /(?:topk|bottomk)(?![A-Za-z0-9_])/

?marith: marith add_op mterm                      -> arith
       | mterm
?mterm: mterm smul_op mfactor                      -> arith
      | mfactor
?mfactor: "-" mfactor                             -> negate
        | matom
?matom: "(" pipeline "|" metrics_agg second* ")"  -> wrapped_metrics
      | "(" marith ")"
      | INT | FLOAT | DURATION

// ---- field expressions
?fexpr: fexpr logic_op fcmp                       -> binop
      | fcmp
?fcmp: fcmp fcmp_op fadd                          -> binop
     | fadd
!fcmp_op: "=" | "!=" | "<" | "<=" | ">" | ">=" | "=~" | "!~"
?fadd: fadd add_op funary                         -> binop
     | funary
?funary: "!" funary                               -> not_
       | "-" funary                               -> neg
       | fmul
?fmul: fmul mul_op fright                         -> binop
     | fpow
?fpow: fatom (pow_op fexp)+                       -> fpow_chain
     | fatom
?fright: "-" fright                               -> neg
       | fpow
?fexp: "-" fexp                                   -> neg
     | fatom
?fatom: "(" fexpr ")"
      | static
      | attribute
!add_op: "+" | "-"
!mul_op: "*" | "/" | "%"
!pow_op: "^"

?attribute: ATTR                                  -> attr
          | SCOPED                                -> scoped_intrinsic
          | INTRINSIC_KW                          -> intrinsic
INTRINSIC_KW.3: /(?:duration|name|statusMessage|status|kind|parent|rootServiceName|rootName|traceDuration|nestedSetLeft|nestedSetRight|nestedSetParent)(?![A-Za-z0-9_])/

static: STRING | RAWSTRING | number | BOOL | STATUS_KW | KIND_KW | NIL | IDENT
?number: INT | FLOAT | DURATION
BOOL.3: /(?:true|false)(?![A-Za-z0-9_])/
NIL.3: /nil(?![A-Za-z0-9_])/
STATUS_KW.3: /(?:ok|error|unset)(?![A-Za-z0-9_])/
KIND_KW.3: /(?:unspecified|internal|server|client|producer|consumer)(?![A-Za-z0-9_])/

ATTR.5: /(?:parent\.(?:resource\.|span\.)?|(?:resource|span|event|link|instrumentation)\.|\.)(?:[^\s{}()=~!<>&|^,"]|"(?:[^"\\]|\\.)*")+/
SCOPED.5: /(?:trace|span|event|link|instrumentation):[A-Za-z_]+/
DURATION.7: /(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h|d|w|y)(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h|d|w|y))*(?![A-Za-z0-9_.])/
FLOAT.6: /\d+\.\d*(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+|\.\d+(?:[eE][+-]?\d+)?/
INT.2: /\d+/
STRING: /"(?:[^"\\\n]|\\.)*"/
RAWSTRING: /`[^`]*`/
IDENT: /[A-Za-z_][A-Za-z0-9_]*/

%import common.WS
%ignore WS
"""


#: the alternatives of :data:`GRAMMAR` that LALR(1) cannot tell apart from the rest after one token (a query or a
#: scalar filter opening with numbers or brackets: metrics arithmetic, compared scalar pipelines, ``(count()) > 2``)
_NOT_LALR = ('      | marith second*                            -> metrics_math\n'
             '      | sparith cmp_op sparith                    -> scalar_pipeline_filter\n',
             '       | "(" sfarith ")"\n')


def _without(grammar: str, parts: tuple) -> str:
    for part in parts:
        assert part in grammar, part
        grammar = grammar.replace(part, "")
    return grammar


#: :data:`GRAMMAR` less the alternatives in ``_NOT_LALR``: LALR(1), with the same rules and so the same trees. It
#: also reads no metrics query (its one conflict, ``|`` after a stage, is resolved as the next stage's).
FAST_GRAMMAR = _without(GRAMMAR, _NOT_LALR)


@functools.lru_cache(maxsize=1)
def fast_parser():
    """The LALR parser of :data:`FAST_GRAMMAR` (built once): linear with a small constant, where the Earley parse of
    :func:`parser` took 1.5 ms a token (an 8 kB query of ``&&`` or ``|`` 1.4 to 3 s). A query it reads has one
    parse, the tree :func:`parser` gives it; any other (a metrics query, a syntax error) goes to :func:`parser`."""
    from lark import Lark

    return Lark(FAST_GRAMMAR, parser="lalr", lexer="basic", propagate_positions=True)


@functools.lru_cache(maxsize=1)
def parser():
    """The lark parser (built once; it keeps positions for error messages)."""
    from lark import Lark

    return Lark(GRAMMAR, parser="earley", lexer="basic", propagate_positions=True, ambiguity="resolve")
