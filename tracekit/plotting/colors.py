"""Colours and text conventions shared by every figure.

One colour per service, stable across figures (:func:`service_colors` hashes each name onto
:data:`PALETTE`); errors in :data:`ERROR_COLOR`, the critical path in :data:`CRITICAL_COLOR`; and the
helpers every figure uses for text: :func:`esc` (everything from a trace is HTML-escaped before it
reaches plotly), :func:`key_text`, :func:`fmt_ms`, :func:`log_ticks`.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from ..core.words import HOVER_CHARS as _HOVER_CHARS
from ..core.words import ms_label, ms_text, plotly_text, short_name

__all__ = ["PALETTE", "ERROR_COLOR", "CRITICAL_COLOR", "service_colors", "result_colors", "bar_colors"]

#: Qualitative palette of 20 colours: Kelly's colours of maximum contrast without white, black, red
#: (red marks errors) and grey (grey marks the baseline), plus cyan and indigo; the four that were
#: hard to tell from a neighbour (two yellows, two violets, two teals: CIELAB distance 13–19) replaced
#: by violet, pink, magenta and green, and the light blue that looked like the baseline grey (22) by
#: periwinkle, so any two, and each against red, grey and the critical-path black, are at least 25
#: apart (a test measures it).
#: :func:`service_colors` hashes a service's name onto it.
PALETTE: tuple[str, ...] = (
    "#0067A5", "#F38400", "#008856", "#875692", "#F3C300", "#E68FAC", "#654522", "#6B6ECF", "#8DB600", "#AB63FA",
    "#F99379", "#C2B280", "#B3446C", "#17BECF", "#FF97FF", "#2B3D26", "#CF1C90", "#2CA02C", "#6B6B1E", "#332288",
)
#: Outline of error spans and colour of error markers.
ERROR_COLOR = "#D62728"
#: Critical-path overlay colour.
CRITICAL_COLOR = "#111111"

#: names and messages from traces as plotly text (tracekit.core.words.plotly_text: no tag drawn, quotes kept)
esc = plotly_text


def key_text(values: pd.Series) -> pd.Series:
    """A key column as text, missing values as ``<NA>`` (``astype(str)`` alone keeps them as floats)."""
    return values.astype(object).where(values.notna(), "<NA>").astype(str)


#: most characters of a name drawn as a label (tick, node): a 236-character SQL statement as an operation's name left
#: the comparison's bars 64 of 1,100 px and cut its service off the page's left edge; a 10 KB service name did the same
#: to every figure naming it
LABEL_CHARS = 60
#: most characters of a name in a hover box (the label's full text, up to this): the kernel's one limit
HOVER_CHARS = _HOVER_CHARS


def short_text(text: str, limit: int = LABEL_CHARS) -> str:
    """``text`` as a label writes it: :func:`tracekit.core.words.short_name` (the one rule of cutting a name: its
    middle cut to one ``…``, its start, which says what it is, and its end, which says which one, kept) at a label's
    ``limit``. Plain text: escape after (:func:`esc`).

    >>> short_text("checkout · SELECT o.id, o.customer_id, o.status FROM orders o WHERE o.id = ? LIMIT 50", 40)
    'checkout · SELECT o.id, o.… = ? LIMIT 50'
    >>> short_text("cart · GET /api/cart", 40)
    'cart · GET /api/cart'
    """
    return short_name(text, limit)


def legend_text(name: Any) -> str:
    """A name from a trace as a legend entry or a panel title: cut by :func:`short_text` (:data:`LABEL_CHARS`) and
    escaped (:func:`esc`). plotly sizes the plot by its legend: a 1,000-character service name left the latency
    histogram's plot 60 of 1,300 px wide in headless Chromium (the timeline's the same), the name running off the page.

    >>> len(legend_text("svc-" + "x" * 1000)), legend_text("<b>api</b>")
    (60, '&lt;b&gt;api&lt;/b&gt;')
    """
    return esc(short_text(str(name)))


def category_ticks(labels: list[str]) -> dict[str, Any]:
    """Axis settings that draw the categories ``labels`` (plain text; the axis' categories are their escaped full
    text, so two long names alike at both ends stay two bars) with tick labels cut by :func:`short_text`; ``{}``
    when every label fits.

    >>> category_ticks(["a", "b"])
    {}
    >>> t = category_ticks(["a", "x" * 100])
    >>> t["tickvals"][1] == "x" * 100, len(t["ticktext"][1])
    (True, 60)
    """
    if all(len(x) <= LABEL_CHARS for x in labels):
        return {}
    return dict(tickmode="array", tickvals=[esc(x) for x in labels], ticktext=[esc(short_text(x)) for x in labels])


def _palette_slot(name: str) -> int:
    """The palette slot a name prefers: a CRC-32 of its UTF-8 bytes (stable across runs and machines)."""
    return zlib.crc32(name.encode("utf-8")) % len(PALETTE)


def result_colors(result: pd.DataFrame, drawn: Iterable[Any]) -> dict[str, str]:
    """The colours of the services ``drawn`` from an analysis ``result``: by every service of the frame it was computed
    from (``result.attrs["services"]``, which the analyses set), the drawn ones not among those after them, so a flame
    graph, a breakdown or a comparison of fewer services colours each as the waterfall and the map of the same spans.

    >>> import pandas as pd
    >>> r = pd.DataFrame({"service": ["b"]})
    >>> r.attrs["services"] = ("a", "b", "c")
    >>> result_colors(r, r["service"])["b"] == service_colors(["a", "b", "c"])["b"]
    True
    """
    drawn = [d for d in drawn if d is not None and not (isinstance(d, float) and d != d)]
    return service_colors(result.attrs.get("services") or drawn, others=drawn, drawn=drawn)


def service_colors(services: Iterable[Any], others: Iterable[Any] = (), *, drawn: Iterable[Any] | None = None) -> dict[str, str]:
    """One colour per service, the same in every figure: each name hashed onto :data:`PALETTE`.

    A service's colour depends on its name only, not on which other services are present or
    in what order, except when two names of one call hash to the same slot: then the names are
    taken in sorted order and a later one moves to the next free slot (so the colours of one
    call are distinct as long as there are at most ``len(PALETTE)`` services; beyond that they
    repeat). Missing values (None, NaN) are skipped; names are compared as text. ``others`` (names that are not
    services of the spans, such as the uninstrumented peers of a service map) take free slots after every service
    has its own, so they never move a service's colour away from the one it has in the other figures. ``drawn`` (the
    names one figure draws): beyond ``len(PALETTE)`` names two drawn ones could share a colour, the legend their only
    key (a frame of 30 services drew three of a timeline's 8 lines in one pink); a drawn name whose colour an earlier
    drawn name (sorted) has moves to the next colour no drawn name has, while at most ``len(PALETTE)`` are drawn.

    Parameters
    ----------
    services : iterable
        Service names (repeats allowed).
    others : iterable, optional
        Further names (peers) coloured after the services, without displacing any.
    drawn : iterable, optional
        The names the figure draws (among ``services`` and ``others``, or coloured after them): each its own colour
        when there are at most ``len(PALETTE)``.

    Returns
    -------
    dict of str to str
        Service name → ``#RRGGBB``, in sorted name order.

    Examples
    --------
    >>> c = service_colors(["db", "api", "db"])
    >>> sorted(c), c["api"] == service_colors(["api", "checkout", "payments"])["api"]
    (['api', 'db'], True)
    >>> len(set(service_colors(f"svc-{i}" for i in range(20)).values()))
    20
    >>> many = [f"svc-{i:02d}" for i in range(30)]
    >>> len(set(service_colors(many).values())), len(set(service_colors(many, drawn=many[10:]).values()))
    (20, 20)
    """
    def names_of(values: Iterable[Any]) -> list[str]:
        return sorted({str(s) for s in values if s is not None and not (isinstance(s, float) and np.isnan(s)) and s is not pd.NA})

    names = names_of(services)
    shown = names_of(drawn) if drawn is not None else []
    extra = [s for s in names_of([*others, *shown]) if s not in set(names)]
    k = len(PALETTE)
    taken: set[int] = set()
    out: dict[str, str] = {}
    for s in [*names, *extra]:
        slot = _palette_slot(s)
        if len(taken) < k:
            while slot in taken:
                slot = (slot + 1) % k
            taken.add(slot)
        out[s] = PALETTE[slot]
    if 1 < len(shown) <= k:  # the drawn names apart: one sharing an earlier drawn one's colour takes a free one
        used: set[str] = set()
        moved = []
        for s in shown:
            if out[s] in used:
                moved.append(s)
            else:
                used.add(out[s])
        for s in moved:
            slot = PALETTE.index(out[s])
            while PALETTE[slot] in used:
                slot = (slot + 1) % k
            out[s] = PALETTE[slot]
            used.add(PALETTE[slot])
    return dict(sorted(out.items()))


def bar_colors(trace: Any) -> list[str]:
    """The colour each bar of a bar trace is drawn in (a list, also when one colour is set for all).

    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({"trace_id": ["ab" * 16] * 2, "span_id": ["a" * 16, "b" * 16],
    ...     "parent_id": [None, "a" * 16], "service": ["web", "auth"], "name": ["x", "y"],
    ...     "start": [0, 1], "end": [5, 3]})
    >>> c = service_colors(["web", "auth"])
    >>> bar_colors(tk.plot_waterfall(spans).data[0]) == [c["web"], c["auth"]]
    True
    """
    color = trace.marker.color
    return [color] * len(trace.x) if isinstance(color, str) else [str(c) for c in color]


def label_colors(fills: Iterable[str]) -> list[str]:
    """The text colour for a label on each fill: white or near-black, whichever contrasts more (WCAG relative
    luminance). Plotly picks white or dark for most tiles of an icicle but draws the root's label in the template's
    dark blue (#2a3f5f): a flame graph rooted in a service drawn brown (#654522) had its root label at contrast
    1.2:1, unreadable (now white, 8.7:1); on the palette's green, white was 3.4:1 and is now near-black, 4.8:1.
    A colour it cannot read (a name) gets near-black.

    >>> label_colors(["#654522", "#2CA02C", "#FFFFFF", "rgb(5, 48, 97)", "grey"])
    ['#ffffff', '#1f1f1f', '#1f1f1f', '#ffffff', '#1f1f1f']
    """
    out = []
    for c in fills:
        rgb = _rgb(str(c))
        if rgb is None:
            out.append("#1f1f1f")
            continue
        lin = [v / 255 / 12.92 if v / 255 <= 0.04045 else ((v / 255 + 0.055) / 1.055) ** 2.4 for v in rgb]
        lum = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
        dark = 0.0123  # #1f1f1f's luminance
        out.append("#ffffff" if 1.05 / (lum + 0.05) >= (lum + 0.05) / (dark + 0.05) else "#1f1f1f")
    return out


def _rgb(color: str) -> tuple[float, float, float] | None:
    """``#rgb``, ``#rrggbb`` or ``rgb(r, g, b)`` / ``rgba(...)`` as three 0-255 numbers; None otherwise."""
    c = color.strip()
    if c.startswith("#") and len(c) in (4, 7):
        h = c[1:] if len(c) == 7 else "".join(ch * 2 for ch in c[1:])
        try:
            return tuple(int(h[i:i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]
        except ValueError:
            return None
    if c.startswith(("rgb(", "rgba(")) and c.endswith(")"):
        try:
            parts = [float(x) for x in c[c.index("(") + 1:-1].split(",")[:3]]
        except ValueError:
            return None
        return tuple(parts) if len(parts) == 3 else None  # type: ignore[return-value]
    return None


def log_ticks(values: Iterable[float]) -> dict[str, Any]:
    """Tick values 1-2-5 per decade over the positive values, labelled in ms (plotly's default log
    ticks label the minor digits only, "2 3 4 … 100") by the one duration rule (:func:`tracekit.core.words.ms_label`,
    the unit said by the axis title) less the ``.0`` a round tick does not need: ``,.4g`` labelled the ticks of a
    heatmap of 40 ns requests ``2e-05`` and ``5e-05``.

    >>> log_ticks([0.00004, 2500])["ticktext"][:3], log_ticks([0.00004, 2500])["ticktext"][-3:]
    (['0.00005', '0.0001', '0.0002'], ['500', '1,000', '2,000'])
    """
    v = np.asarray([x for x in values if np.isfinite(x) and x > 0], dtype=float)
    if not len(v):
        return {}
    lo, hi = np.floor(np.log10(v.min())), np.ceil(np.log10(v.max()))
    ticks = [m * 10.0 ** e for e in np.arange(lo, hi + 1) for m in (1, 2, 5) if v.min() / 1.5 <= m * 10.0 ** e <= v.max() * 1.5]
    if len(ticks) < 2:
        return {}
    return dict(tickmode="array", tickvals=ticks, ticktext=[ms_label(t, unit=False).removesuffix(".0") for t in ticks])


#: a duration on a figure (legend, hover, label): core.words' one rule
fmt_ms = ms_text


def say_empty(fig: Any, text: str) -> Any:
    """Write ``text`` (escaped) in the middle of a figure that has nothing to draw, so an empty figure says why
    instead of showing blank axes; returns ``fig``."""
    fig.add_annotation(text=esc(text), xref="paper", yref="paper", x=0.5, y=0.5, showarrow=False,
                       font=dict(size=14, color="#444444"), name="empty")
    return fig


def population_text(n: int, noun: str, t0: Any, t1: Any, *, estimated: float | None = None, left_out: int = 0,
                    left_out_why: str = "") -> str:
    """A figure title's population and window: ``1,234 requests, 08:43–10:22 UTC`` (core.words: plural,
    window_text); with sampling weights the estimate first (``≈2,468 requests (Σ weights) from 1,234 sampled``); the
    rows of the population left out of the figure said with why (``; 3 without a positive latency not drawn``).
    Without times at all (``t0`` and ``t1`` None: latencies given as numbers) no window is said.

    >>> population_text(2, "request", "2026-03-02T14:27Z", "2026-03-02T14:36Z")
    '2 requests, 14:27:00–14:36:00 UTC'
    >>> population_text(1, "span", "2026-03-02T14:27Z", "2026-03-02T14:27Z", estimated=10.0, left_out=3,
    ...                 left_out_why="without a duration")
    '≈10 spans (Σ weights) from 1 sampled, 14:27:00 UTC; 3 without a duration not drawn'
    """
    from ..core.words import plural, window_text

    head = (f"≈{plural(estimated, noun)} (Σ weights) from {int(n):,} sampled" if estimated is not None
            else plural(n, noun))
    out = f"{head}, {window_text(t0, t1)}" if n and not (t0 is None and t1 is None) else head
    if left_out:
        out += f"; {int(left_out):,} {left_out_why} not drawn".replace("  ", " ")
    return out


def population_title(title: str, population: str) -> str:
    """A figure's title (escaped) with its population and window (:func:`population_text`, escaped) on a second,
    smaller line: under a title the caller gave too, so every such figure says what it counts and when.

    >>> population_title("latency <p95>", "2 requests, 14:27:00 UTC")
    'latency &lt;p95&gt;<br><sup>2 requests, 14:27:00 UTC</sup>'
    """
    return f"{esc(title)}<br><sup>{esc(population)}</sup>"
