"""The one rule that masks the variable parts of a text (ids, numbers, addresses, times): a log message's template
(:func:`tracekit.log_templates`) and a span name's (the ``high_cardinality_span_name`` health check) are the same
text with the same parts replaced by ``<*>``.

The rule is :data:`MASKS`, RE2 regexes run column-wise by Arrow: linear time in the text (RE2 never backtracks, so a
200 KB text costs what its length costs).

>>> text_templates(["GET /users/81723", "GET /users/9", "order-3f2a9c1b", "checkout"]).tolist()
['GET /users/<*>', 'GET /users/<*>', 'order-<*>', 'checkout']
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["MASKS", "mask_variable_parts", "text_templates"]

#: (RE2 pattern, replacement) applied in order; linear-time patterns only
MASKS: tuple[tuple[str, str], ...] = (
    (r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", "<*>"),  # UUID
    (r"\b(?:0[xX])?[0-9a-fA-F]{16,}\b", "<*>"),  # hex ids
    # IPv6: eight groups, or groups around one "::" (with a %zone), between non-word characters that are not ":" or ".";
    # its groups without a digit (fe80::dead:beef) were left, one template per address. A "::" between hex-only words
    # (dead::beef) is read as one too; std::vector and Foo::Bar are not
    (r"(^|[^\w:.])((?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}|(?:[0-9a-fA-F]{1,4}:){1,7}:(?:[0-9a-fA-F]{1,4}"
     r"(?::[0-9a-fA-F]{1,4}){0,6})?|::(?:[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{1,4}){0,6})?)(%[\w.]+)?([^\w:]|$)", r"\1<*>\4"),
    (r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b", "<*>"),  # IPv4[:port]
    (r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?", "<*>"),  # ISO time
    (r"\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b", "<*>"),  # clock time
    (r"=[^\s,;)\]}&\"']+", "=<*>"),  # key=value
    # words holding digits (numbers, ids), digits of any script too (full-width ４５, Arabic-Indic ٤٥: RE2's \d and \w
    # are ASCII); a word is a run of ASCII word characters and digits, so a CJK text keeps its letters (注文<*>件)
    (r"[\w\p{Nd}]*\p{Nd}[\w\p{Nd}]*", "<*>"),
    (r"(^|[\s(\[{:,])-<\*>", r"\1<*>"),  # a negative number: its sign too ("offset -3 ms" is "offset 4 ms"'s statement)
    (r"<\*>(?:[\s.,:;/_-]*<\*>)+", "<*>"),  # runs of masks: one mask
)


def mask_variable_parts(texts: pa.Array) -> pa.Array:
    """``texts`` (an Arrow string array) with every variable part replaced by ``<*>`` (:data:`MASKS`) and the
    ends trimmed; a missing text stays missing.

    >>> mask_variable_parts(pa.array(["took 35 ms ", None])).to_pylist()
    ['took <*> ms', None]
    """
    for pattern, repl in MASKS:
        texts = pc.replace_substring_regex(texts, pattern=pattern, replacement=repl)
    return pc.utf8_trim_whitespace(texts)


def text_templates(texts: Iterable[str]) -> np.ndarray:
    """The template (:func:`mask_variable_parts`) of each text, as an object array; each distinct text is masked
    once. A text Arrow cannot hold (a lone surrogate) is its own template; a missing one's is None.

    >>> text_templates(["a 1", "a 22", "b", None]).tolist()
    ['a <*>', 'a <*>', 'b', None]
    """
    vals = np.fromiter((None if x is None or x is pd.NA or (isinstance(x, float) and x != x) else str(x) for x in texts),
                       dtype=object)
    codes, uniq = pd.factorize(vals)  # a missing text: code -1
    if not len(codes):
        return np.zeros(0, dtype=object)
    uniq = np.asarray(uniq, dtype=object)
    ok = np.ones(len(uniq), dtype=bool)
    for i, u in enumerate(uniq):
        try:
            u.encode()
        except UnicodeEncodeError:
            ok[i] = False
    out = uniq.copy()
    if ok.any():
        out[ok] = np.asarray(mask_variable_parts(pa.array(uniq[ok].tolist(), pa.large_string())).to_pylist(), dtype=object)
    return np.where(codes >= 0, out[np.maximum(codes, 0)] if len(out) else None, None)
