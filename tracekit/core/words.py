"""Counts, shares and times in words: one rule for "1 trace" / "2 traces", one for "12%" / "<1%", and one for a time of
day (:func:`clock_text`) and a window (:func:`window_text`) in every sentence tracekit writes (reports, the command
line, findings, figure labels).

>>> plural(1, "trace"), plural(1200, "span"), plural(2, "query", "queries")
('1 trace', '1,200 spans', '2 queries')
>>> percent(3 / 5000), percent(4997 / 5000), percent(0.25)
('<1%', '>99%', '25%')
"""

from __future__ import annotations

import html
import math
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["percent", "points", "plural", "p_value_text", "clock_text", "window_text", "utc_time", "unknown_outcome_words",
           "plotly_text", "bidi_visible", "terminal_text", "ms_number", "ms_label", "ms_text", "NAME_CHARS", "HOVER_CHARS", "HOVER_LINE_CHARS", "short_name", "hover_text", "hover_pair", "hover_pairs",
           "name_shortener", "freq_text", "extent_words"]


#: the bidirectional embedding, override and isolate controls (LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI: the
#: "Trojan Source" set) as their visible ``\u202e`` escapes; and the characters a page draws as nothing, which made
#: a service ``payments`` + NUL read as ``payments``: the C0 controls but tab, newline and carriage return, DEL, the C1
#: controls, the zero-width space, the word joiner and the BOM (not the zero-width (non-)joiners, which shape emoji
#: and Indic words)
_BIDI_VISIBLE = {cp: f"\\u{cp:04x}" for cp in (*range(0x202A, 0x202F), *range(0x2066, 0x206A),
                                              *(c for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)),
                                              *range(0x7F, 0xA0), 0x200B, 0x2060, 0xFEFF)}


def bidi_visible(text: Any) -> str:
    r"""``text`` (a name or message from a trace) with every bidirectional embedding, override or isolate control
    (U+202A–U+202E, U+2066–U+2069), and every character a page draws as nothing (C0 controls but tab, newline and
    carriage return; DEL; C1 controls; U+200B, U+2060, U+FEFF: ``payments`` + NUL read as ``payments``), written
    as its visible ``\u202e`` escape, so a name can neither hide a character nor reorder what a page
    or a figure shows: in headless Chromium a service ``inventory\u202egnp.exe`` was drawn ``inventoryexe.png``,
    and the rest of its label reversed with it (``DynamoDB.GetItem`` read ``metIteG.BDomanyD``). Letters of
    right-to-left scripts (Hebrew, Arabic) are kept: only the invisible controls are shown.

    Parameters
    ----------
    text : object
        The text (``str()`` of anything else).

    Returns
    -------
    str

    Examples
    --------
    >>> bidi_visible("inventory\u202egnp.exe · שירות")
    'inventory\\u202egnp.exe · שירות'
    """
    return str(text).translate(_BIDI_VISIBLE)


#: a name from a trace (service, operation, host, callee) longer than this many characters is shortened in a sentence
#: (:func:`short_name`): TrainTicket's longest real operation is 73 characters and is written whole
NAME_CHARS = 80
#: most characters of a name (service, operation, message) in a figure's hover box (:func:`short_name` at this limit):
#: plotly draws a hover box on one line, and a 2,015-character operation made a waterfall's 13,041 px wide, over the
#: whole figure, its duration and span id off the page
HOVER_CHARS = 300
#: most characters of a line of a name in a hover box (:func:`hover_text`): about 700 px of plotly's hover font
HOVER_LINE_CHARS = 100


def short_name(name: Any, limit: int = NAME_CHARS) -> str:
    """``name`` as a sentence writes it: whole up to ``limit`` characters, longer with its middle cut to one ``…``
    (the first two thirds and the last third of ``limit`` kept: a name's start says what it is, its end which one),
    so a 300-character SQL statement or pod name cannot bury the sentence it is in. The one rule of every prose
    line of a report (:func:`name_shortener`); tables keep names whole.

    Parameters
    ----------
    name : object
        The name (``str()`` of anything else).
    limit : int, default NAME_CHARS
        Most characters written, the ``…`` included.

    Returns
    -------
    str

    Examples
    --------
    >>> short_name("checkout"), len(short_name("x" * 500)), short_name("a" * 60 + "b" * 60)[-5:]
    ('checkout', 80, 'bbbbb')
    >>> short_name("SELECT id FROM orders WHERE tenant = ? AND created > ? ORDER BY created", 40)
    'SELECT id FROM orders WHER…ER BY created'
    """
    text = str(name)
    if len(text) <= limit:
        return text
    head = (limit - 1) * 2 // 3
    return text[:head] + "…" + text[len(text) - (limit - 1 - head):]


def hover_pair(service: Any, name: Any, *, bold: bool = False) -> str:
    """``service: name`` as a hover box's first line(s): each by :func:`hover_text`, the name on a line of its own
    when the two do not fit on one (:data:`HOVER_LINE_CHARS`), the service in bold with ``bold``.

    >>> hover_pair("api", "GET /", bold=True)
    '<b>api</b>: GET /'
    >>> hover_pair("a" * 60, "b" * 60).count("<br>")
    1
    """
    return hover_pairs([service], [name], bold=bold)[0]


def hover_pairs(services: Iterable[Any], names: Iterable[Any], *, bold: bool = False) -> list[str]:
    """:func:`hover_pair` of each (service, name), each distinct service and name cut and escaped once (a 50,000-span
    trace of distinct SQL statements called :func:`hover_text` 100,000 times, 8 services 50,000 times of them).

    Parameters
    ----------
    services, names : iterable
        The services and the names, as many of each (``str()`` of anything else).
    bold : bool, default False
        The service in bold.

    Returns
    -------
    list of str
        One hover head a pair, in order.

    Examples
    --------
    >>> hover_pairs(["api", "api"], ["GET /", "b" * 99], bold=True)[0]
    '<b>api</b>: GET /'
    >>> hover_pairs(["api", "api"], ["GET /", "b" * 99], bold=True)[1].startswith("<b>api</b>:<br>bbb")
    True
    """
    svc, nm = [str(s) for s in services], [str(n) for n in names]
    if len(svc) != len(nm):
        raise ValueError(f"hover_pairs: {len(svc)} services and {len(nm)} names")
    head = {s: (f"<b>{hover_text(s)}</b>" if bold else hover_text(s), len(s)) for s in dict.fromkeys(svc)}
    tail = {n: (hover_text(n), len(n)) for n in dict.fromkeys(nm)}
    out = []
    for s, n in zip(svc, nm, strict=True):
        (h, ls), (t, ln) = head[s], tail[n]
        out.append(h + (":<br>" if ls + ln + 2 > HOVER_LINE_CHARS else ": ") + t)
    return out


def hover_text(name: Any) -> str:
    """``name`` (from a trace) as a figure's hover box writes it: cut to :data:`HOVER_CHARS` (:func:`short_name`), on
    lines of at most :data:`HOVER_LINE_CHARS` characters (plotly draws a hover box's line whole, so 300 characters
    on one were a 2,000 px box on a 1,300 px page), each escaped (:func:`plotly_text`).

    Parameters
    ----------
    name : object
        The name (``str()`` of anything else).

    Returns
    -------
    str
        Plotly text, lines joined by ``<br>``.

    Examples
    --------
    >>> hover_text("<db>")
    '&lt;db&gt;'
    >>> [len(x) for x in hover_text("x" * 1000).split("<br>")]
    [100, 100, 100]
    """
    text = short_name(name, HOVER_CHARS)
    return "<br>".join(plotly_text(text[i:i + HOVER_LINE_CHARS]) for i in range(0, max(len(text), 1), HOVER_LINE_CHARS))


def name_shortener(names: Iterable[Any], *, html_out: bool = False, limit: int = NAME_CHARS) -> Callable[[Any], str]:
    """A writer of prose lines that shortens, by :func:`short_name`, every one of ``names`` (the services, operations,
    hosts a report's data holds) longer than ``limit`` wherever a line holds it; with ``html_out``, the line is
    escaped for HTML (bidirectional controls shown: :func:`bidi_visible`) and each shortened name is a
    ``<span title="…">`` holding the whole name (escaped, at most 2,000 characters), shown on hover.

    Parameters
    ----------
    names : iterable
        The names that may be long (others are ignored; ``str()`` of each).
    html_out : bool, default False
        Write escaped HTML (True) or plain text (False: Markdown escapes it after).
    limit : int, default NAME_CHARS
        As :func:`short_name`.

    Returns
    -------
    callable
        ``line -> str``.

    Examples
    --------
    >>> pod = "checkout-" + "x" * 100
    >>> write = name_shortener(["api", pod], limit=20)
    >>> write(f"{pod} calls api")
    'checkout-xxx…xxxxxxx calls api'
    >>> name_shortener([pod], html_out=True, limit=20)(f"<{pod}>")[:52]
    '&lt;<span class="name" title="checkout-xxxxxxxxxxxxx'
    """
    # names found by their first characters (a dict lookup per character of a line), not by one regex of every
    # name: for 100,000 distinct 100-character SQL statements that regex took 164 s to compile, this index 0.9 s
    key = min(16, limit + 1)  # every long name has more than limit characters
    index: dict[str, list[str]] = {}
    for n in sorted({str(n) for n in names if n is not None and len(str(n)) > limit}, key=len, reverse=True):
        index.setdefault(n[:key], []).append(n)

    def esc(t: str) -> str:
        return html.escape(bidi_visible(t), quote=True) if html_out else t

    def one(full: str) -> str:
        if not html_out:
            return short_name(full, limit)
        title = full if len(full) <= 2000 else full[:2000] + "…"
        return f'<span class="name" title="{esc(title)}">{esc(short_name(full, limit))}</span>'

    def write(line: Any) -> str:
        text = "" if line is None else str(line)
        if not index:
            return esc(text)
        out, pos, i = [], 0, 0
        while i <= len(text) - key:
            found = index.get(text[i:i + key])
            hit = next((n for n in found if text.startswith(n, i)), None) if found else None
            if hit is None:
                i += 1
                continue
            out += [esc(text[pos:i]), one(hit)]
            i = pos = i + len(hit)
        return "".join(out) + esc(text[pos:])

    return write


def plotly_text(text: Any) -> str:
    """``text`` (a name or message from a trace) for a plotly text field — labels, hover boxes, titles, legends —
    which plotly.js reads as a subset of HTML: ``&``, ``<`` and ``>`` as the entities it decodes, so no tag in a
    name is drawn as markup. Quotes stay as they are: plotly.js decodes no ``&quot;`` (html.escape's default drew a
    service ``pay"eu`` as ``pay&quot;eu`` on every figure) and, with no ``<`` left, they cannot open an attribute.
    Bidirectional controls are shown as escapes (:func:`bidi_visible`).

    Parameters
    ----------
    text : object
        The text (``str()`` of anything else).

    Returns
    -------
    str

    Examples
    --------
    >>> plotly_text('SELECT "users" <b>&</b>')
    'SELECT "users" &lt;b&gt;&amp;&lt;/b&gt;'
    """
    return html.escape(bidi_visible(text), quote=False)


def terminal_text(text: Any, newlines: bool = False) -> str:
    r"""``text`` (a name or message from a trace, a path) fit for a terminal: every control, format and separator
    character but the space (escape sequences, ``\r``, BEL, bidi overrides such as U+202E, line separators) written
    as its ``\x1b`` / ``\r`` / ``\u202e`` escape, so nothing a trace carries can move the cursor, recolour the
    terminal, reorder a line or forge one. The one escaper of every CLI command (``tracekit.cli.printable``,
    ``tracekit.cli_xray.printable``).

    Parameters
    ----------
    text : object
        The text (``str()`` of anything else).
    newlines : bool, default False
        Keep ``\n`` (a whole multi-line output made of escaped names); a name or a message keeps none: one line.

    Returns
    -------
    str

    Examples
    --------
    >>> terminal_text("checkout\x1b[2J\u202egnp.exe\nfake line")
    'checkout\\x1b[2J\\u202egnp.exe\\nfake line'
    >>> print(terminal_text("api\x1b[31m\tok\nnext", newlines=True))
    api\x1b[31m\tok
    next
    """
    return "".join(ch if ch == " " or (newlines and ch == "\n") or unicodedata.category(ch)[0] not in "CZ"
                   else ch.encode("unicode_escape").decode("ascii") for ch in str(text))


def _sub_ms(a: float) -> str:
    """``a`` (0 < a < 1, milliseconds) with the two significant digits that tell, never in exponent notation: a
    request of 4 µs is ``0.004``, not ``0.0`` (a latency of nothing) nor ``4e-03``; 1 ns is ``0.000001``."""
    return np.format_float_positional(a, precision=2, unique=False, fractional=False, trim="-")


def _ms_digits(v: float, sep: str) -> str:
    """``v`` ms with one decimal from 1 ms up (``sep`` the thousands separator: ``","`` or ``""``), below it the two
    significant digits that tell (:func:`_sub_ms`)."""
    if abs(v) >= 1 or v == 0 or not math.isfinite(v):
        return f"{v:{sep}.1f}"
    return ("-" if v < 0 else "") + _sub_ms(abs(v))


def ms_number(v: float) -> str:
    """A latency in milliseconds as a number in a list or a line of percentiles (the unit said once, beside the
    list): one decimal from 1 ms up, so a list's numbers share one unit and line up; below 1 ms the two significant
    digits that tell, as :func:`ms_label` and :func:`ms_text` say them (requests of a few microseconds read "0.0", a
    latency of nothing).

    >>> [ms_number(v) for v in (92.0, 1234.56, 0.005, 0.12, 0.0, 1e-6)]
    ['92.0', '1234.6', '0.005', '0.12', '0.0', '0.000001']
    """
    return _ms_digits(v, "")


def extent_words(extent_ms: float, in_progress: bool) -> str:
    """A trace's extent named: ``trace extent 1,150.0 ms``; ``trace extent at least 5.0 ms, a span still in progress``
    where the trace has a span not ended (:func:`tracekit.core.trace_in_progress`, trace_outcomes' ``in_progress``):
    the extent is then the last end so far, a lower bound. The one wording (the report's slowest requests and
    ``tracekit query``'s trace lines).

    Parameters
    ----------
    extent_ms : float
        The trace extent in ms (trace_outcomes' ``extent_ms``).
    in_progress : bool
        Whether a span of the trace has not ended.

    Returns
    -------
    str

    Examples
    --------
    >>> extent_words(1150.0, False), extent_words(5.0, True)
    ('trace extent 1,150.0 ms', 'trace extent at least 5.0 ms, a span still in progress')
    """
    if pd.isna(extent_ms) or not in_progress:
        return f"trace extent {ms_label(extent_ms)}"
    return f"trace extent at least {ms_label(extent_ms)}, a span still in progress"


def ms_label(ms: float | None, unit: bool = True) -> str:
    """One measured duration named in a header, a label or a line of one trace, beside a time axis in ms: in ms
    with one decimal and thousands separators (``request 27,625.9 ms``), below 1 ms the two significant digits
    that tell (``0.004 ms``: Jaeger's real traces hold requests of 1-7 µs), as in :func:`ms_text`'s sentences.

    Parameters
    ----------
    ms : float or None
        The duration in milliseconds; None or NaN reads ``n/a``.
    unit : bool, default True
        Write `` ms`` after the number (False: the first number of a range, ``50.0–80.0 ms``).

    Returns
    -------
    str

    Examples
    --------
    >>> [ms_label(v) for v in (0.004, 0.12, 7, 1234.5, 1e6, float("nan"))]
    ['0.004 ms', '0.12 ms', '7.0 ms', '1,234.5 ms', '1,000,000.0 ms', 'n/a']
    >>> ms_label(50, unit=False) + "–" + ms_label(80)
    '50.0–80.0 ms'
    """
    if ms is None or not math.isfinite(ms):
        return "n/a"
    return _ms_digits(float(ms), ",") + (" ms" if unit else "")


def ms_text(ms: float | None, signed: bool = False) -> str:
    """A duration in milliseconds as a person writes it in a sentence, one rule for every sentence, title, label
    and line tracekit writes: ``0.004 ms``, ``0.42 ms``, ``12.3 ms``, ``846 ms``, ``1.8 s``, ``25 s``.

    Below 1 ms the two significant digits that tell (Jaeger's real traces hold requests of 1-7 µs: "0.0 ms" said
    they took nothing); from 1 s up, seconds. A number in a list or a table cell whose unit is said once is
    :func:`ms_number`; one measured duration in a header or label beside a time axis in ms is :func:`ms_label`
    (``1,234.5 ms``, where a sentence says ``1.2 s``); below 100 ms the three agree.

    Parameters
    ----------
    ms : float or None
        The duration (or a change of one) in milliseconds; None or NaN reads ``n/a``.
    signed : bool, default False
        Write the sign of a change: ``+`` from 0 up, ``-`` below.

    Returns
    -------
    str

    Examples
    --------
    >>> [ms_text(v) for v in (0.004, 0.12, 7, 1234.5, 1e6, float("nan"))]
    ['0.004 ms', '0.12 ms', '7.0 ms', '1.2 s', '1,000 s', 'n/a']
    >>> ms_text(-0.004, signed=True), ms_text(250, signed=True), ms_text(-12.34)
    ('-0.004 ms', '+250 ms', '-12.3 ms')
    """
    if ms is None or not math.isfinite(ms):
        return "n/a"
    a = abs(float(ms))
    if a >= 10_000:
        body = f"{a / 1000:,.0f} s"
    elif a >= 1000:
        body = f"{a / 1000:,.1f} s"
    elif a >= 100:
        body = f"{a:,.0f} ms"
    elif a >= 1 or a == 0:
        body = f"{a:,.1f} ms"
    else:
        body = f"{_sub_ms(a)} ms"
    return ("-" if ms < 0 else "+" if signed else "") + body


def plural(n: float, one: str, many: str | None = None) -> str:
    """``n`` (rounded to a whole number, with thousands separators) and the noun in the number it takes.

    Parameters
    ----------
    n : float
        The count.
    one : str
        The noun for one.
    many : str, optional
        The noun for any other count (default ``one + "s"``).

    Returns
    -------
    str

    Examples
    --------
    >>> plural(0, "request"), plural(1.0, "request")
    ('0 requests', '1 request')
    """
    n = int(round(n))
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def p_value_text(p: float, params: dict | None = None) -> str:
    """A p-value as tracekit's sentences say it: ``p < 0.001``, else ``p = 0.005`` (two significant digits).

    Given :func:`~tracekit.detect_changes`' ``attrs["params"]`` (``n_perm`` shuffles, ``n_series`` tested), a
    Holm-adjusted permutation p-value at its floor is said as the bound it is: when no shuffled series reached the
    observed change, the raw p-value is the least the shuffles resolve, 1 / (shuffles + 1), and Holm's adjustment of
    it is ``series / (shuffles + 1)`` — an upper bound, not the p-value ("p = 2.5e-03" for 4 series and 1,600 shuffles).

    Parameters
    ----------
    p : float
        The p-value.
    params : dict, optional
        The settings of the permutation test behind it (``n_perm``, ``n_series``).

    Returns
    -------
    str

    Examples
    --------
    >>> p_value_text(0.0123), p_value_text(0.0004)
    ('p = 0.012', 'p < 0.001')
    >>> p_value_text(4 / 1601, {"n_perm": 1600, "n_series": 4})
    'p ≤ 0.0025: none of 1,600 shuffles reached it, 4 series tested'
    """
    params = params or {}
    n_perm, n_series = params.get("n_perm"), params.get("n_series")
    if n_perm and n_series:
        floor = n_series / (n_perm + 1)
        if p <= floor * (1 + 1e-9) and floor >= 0.001:
            return (f"p ≤ {floor:.2g}: none of {n_perm:,} shuffles reached it, "
                    f"{plural(n_series, 'series', 'series')} tested")
    return "p < 0.001" if p < 0.001 else f"p = {p:.2g}"


def unknown_outcome_words(n: int, noun: str = "span", many: str | None = None) -> str:
    """Words for the ``n`` spans (calls, requests) still in progress with no outcome yet
    (:func:`tracekit.core.outcome_unknown`) that a failed share left out; "" when none was.

    >>> unknown_outcome_words(3)
    '3 spans still in progress (outcome unknown, neither failed nor ok) are left out'
    >>> unknown_outcome_words(1, "call"), unknown_outcome_words(0)
    ('1 call still in progress (outcome unknown, neither failed nor ok) is left out', '')
    """
    if not n:
        return ""
    return (f"{plural(n, noun, many)} still in progress (outcome unknown, neither failed nor ok) "
            f"{'is' if n == 1 else 'are'} left out")


def percent(share: float | None, digits: int = 0, unit: str = "%") -> str:
    """A share (a fraction, 0.25 for a quarter) as a percentage that never rounds a part to nothing or to the whole.

    3 failed traces of 5,000 are not "0%", and 4,997 of 5,000 are not "100%": a share above 0 that would round to 0
    reads ``<1%`` (``<0.1%`` with one digit), one below 1 that would round to 100 reads ``>99%``. Exactly 0 and 1, and
    shares above 1 or below 0 (a change, a size against another), are written as they round.

    Parameters
    ----------
    share : float or None
        The fraction; None or NaN reads ``n/a``.
    digits : int, default 0
        Digits after the decimal point.
    unit : str, default "%"
        What follows the number (the report writes ``" %"``).

    Returns
    -------
    str

    Examples
    --------
    >>> percent(0.0004, 1), percent(0.9996, 1), percent(0.0), percent(1.0), percent(1.643, 1)
    ('<0.1%', '>99.9%', '0%', '100%', '164.3%')
    >>> percent(float("nan")), percent(0.123, 1, unit=" %")
    ('n/a', '12.3 %')
    """
    if share is None or not math.isfinite(share):
        return "n/a"
    x = 100 * float(share)
    step = 10.0 ** -digits
    if 0 < x and round(x, digits) == 0:
        return f"<{step:.{digits}f}{unit}"
    if x < 100 and round(x, digits) >= 100:
        return f">{100 - step:.{digits}f}{unit}"
    return f"{x:.{digits}f}{unit}"


def points(change: float | None, digits: int = 1) -> str:
    """A change of a share (a fraction: 0.004 for 0.4 percentage points) as signed percentage points, by
    :func:`percent`'s rule: a change that is not 0 never rounds to nothing.

    A rise of 0.0004 is not "+0.0 points" and a fall of 0.0004 not "-0.0 points": they read ``+<0.1 points`` and
    ``-<0.1 points``. Exactly no change reads ``0.0 points`` (no sign).

    Parameters
    ----------
    change : float or None
        The change of the share (a difference of two fractions); None or NaN reads ``n/a``.
    digits : int, default 1
        Digits after the decimal point.

    Returns
    -------
    str

    Examples
    --------
    >>> points(0.0004), points(-0.0004), points(0.0), points(-0.0), points(0.1234), points(-0.02)
    ('+<0.1 points', '-<0.1 points', '0.0 points', '0.0 points', '+12.3 points', '-2.0 points')
    >>> points(float("nan"))
    'n/a'
    """
    if change is None or not math.isfinite(change):
        return "n/a"
    x = 100 * float(change)
    if x == 0:
        return f"{0:.{digits}f} points"
    if round(x, digits) == 0:
        return f"{'+' if x > 0 else '-'}<{10.0 ** -digits:.{digits}f} points"
    return f"{x:+.{digits}f} points"


def utc_time(t: Any) -> pd.Timestamp:
    """``t`` as a UTC Timestamp: an aware time converted (its clock time in another zone is not UTC's), a naive one
    taken as UTC (as every tracekit time is).

    >>> str(utc_time("2026-03-29T03:30+02:00")), str(utc_time("2026-03-29T01:30"))
    ('2026-03-29 01:30:00+00:00', '2026-03-29 01:30:00+00:00')
    """
    t = pd.Timestamp(t)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def clock_text(t: Any) -> str:
    """``14:27`` (the UTC time of day of a timestamp: an aware time in another zone is converted), ``n/a`` for a
    missing one.

    >>> clock_text("2026-03-02T14:27:31Z"), clock_text("2026-03-02T15:27:31+01:00"), clock_text(None)
    ('14:27', '14:27', 'n/a')
    """
    if t is None or pd.isna(t):
        return "n/a"
    return f"{utc_time(t):%H:%M}"


_FREQ_UNITS = ((86_400_000_000_000, "day", "days"), (3_600_000_000_000, "h", "h"), (60_000_000_000, "min", "min"),
               (1_000_000_000, "s", "s"), (1_000_000, "ms", "ms"), (1_000, "µs", "µs"), (1, "ns", "ns"))


def freq_text(freq: Any) -> str:
    """A bucket length in words: ``"1min"`` → ``1 min``, ``"2D"`` → ``2 days``, ``"10s"`` → ``10 s``, in the largest
    unit that holds it whole (pandas' offset aliases read "400 buckets of 2D" in report prose). A calendar frequency
    (a month, a week anchored on a day) has no fixed length and is said as given.

    >>> freq_text("1min"), freq_text("2D"), freq_text("90s"), freq_text(pd.Timedelta("1h")), freq_text("250ms")
    ('1 min', '2 days', '90 s', '1 h', '250 ms')
    >>> freq_text("MS")
    'MS'
    """
    try:
        ns = int(pd.Timedelta(pd.tseries.frequencies.to_offset(freq)).value)
    except (TypeError, ValueError):
        return str(freq)
    if ns <= 0:
        return str(freq)
    for unit, one, many in _FREQ_UNITS:
        if ns % unit == 0:
            n = ns // unit
            return f"{n:,} {one if n == 1 else many}"
    return str(freq)  # pragma: no cover - 1 ns divides every length


def window_text(t0: Any, t1: Any) -> str:
    """``14:00–14:59 UTC``; with seconds when the window is under ten minutes; both ends dated when they fall on
    different days (the times of day alone read "21:02–17:26 UTC" for years of data, or a window backwards).

    >>> window_text("2026-03-02T14:27Z", "2026-03-02T14:36Z")
    '14:27:00–14:36:00 UTC'
    >>> window_text("2016-11-04T21:02Z", "2020-08-05T17:26Z")
    '2016-11-04 21:02 – 2020-08-05 17:26 UTC'

    Times in another zone are said in UTC (across a DST change too: an hour, not two):

    >>> window_text("2026-03-29T01:30+01:00", "2026-03-29T03:30+02:00")
    '00:30–01:30 UTC'

    One instant (a window of one request) is said once, and ends within one second with milliseconds (not
    "14:00:00–14:00:00 UTC"):

    >>> window_text("2026-03-02T14:00Z", "2026-03-02T14:00Z"), window_text("2026-03-02T14:00:00.1Z", "2026-03-02T14:00:00.25Z")
    ('14:00:00 UTC', '14:00:00.100–14:00:00.250 UTC')

    A missing end is said as such (it read "00:00–n/a UTC" for a span with OTLP's unset start, read as 1970, and no
    end; :func:`tracekit.core.span_window` leaves such a start out):

    >>> window_text("2026-03-02T14:00Z", None), window_text(None, None)
    ('2026-03-02 14:00:00 UTC – (no end recorded)', 'an unknown window (no start or end time recorded)')
    """
    missing0, missing1 = (t is None or pd.isna(t) for t in (t0, t1))
    if missing0 and missing1:
        return "an unknown window (no start or end time recorded)"
    if missing0 or missing1:
        known = utc_time(t1 if missing0 else t0).strftime("%Y-%m-%d %H:%M:%S")
        return f"(no start time recorded) – {known} UTC" if missing0 else f"{known} UTC – (no end recorded)"
    t0, t1 = utc_time(t0), utc_time(t1)
    if t0 == t1:
        return f"{t0.strftime('%H:%M:%S')} UTC"
    clock = "%H:%M:%S" if t1 - t0 < pd.Timedelta("10min") else "%H:%M"
    if t0.date() != t1.date():
        return f"{t0.strftime('%Y-%m-%d ' + clock)} – {t1.strftime('%Y-%m-%d ' + clock)} UTC"
    if t0.strftime(clock) == t1.strftime(clock):  # within one second: the ends differ in their milliseconds
        return f"{t0.strftime('%H:%M:%S.%f')[:-3]}–{t1.strftime('%H:%M:%S.%f')[:-3]} UTC"
    return f"{t0.strftime(clock)}–{t1.strftime(clock)} UTC"
