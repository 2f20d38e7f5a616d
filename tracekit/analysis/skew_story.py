"""Clock skew in the story: the skewed clocks named with their offsets, and the spans corrected before
anything is compared (issue 29).

A clock that runs ahead moves its spans later: the caller's client span seems to wait for a server
span that starts after it ended, and every time measured across the two hosts is off by the offset.
Compared with a baseline, that shift reads as "its own work got slower" on the caller — a cause
invented by a clock. :func:`skew_story` finds the skewed clocks (:func:`~tracekit.detect_clock_skew`),
says each in one sentence (host, offset, spread, pairs, the traces they lie in and their window) and returns the spans corrected
(:func:`~tracekit.adjust_clock_skew`), which :func:`~tracekit.postmortem` analyses instead.

>>> import tracekit as tk
>>> spans = tk.simulate.simulate("clock-skew", 200, seed=15).spans
>>> st = skew_story(spans)
>>> print(st.sentences[0])  # doctest: +ELLIPSIS
inventory host inventory-2's clock runs 120 ms ahead of the others (median over ... client→server pairs in ... of 200 traces, 14:00–14:59 UTC, spread ... ms; ... of them have the server span outside its client span): times measured across it are shifted by its clock, not slow; corrected before comparing.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..core import require_columns
from ..core.words import ms_text, plural, window_text
from .skew import adjust_clock_skew, change_waits, detect_clock_skew

__all__ = ["skew_story", "SkewStory"]

_NEEDED = ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end")
#: a skewed clock whose offset moved by at most this share of it over the window, not stepped (detect_clock_skew's
#: ``stepped``: against most clocks it shares pairs with), runs that far off all along: said and corrected by its
#: median. Fault lab 420 (network delay on route-service pod kz5b5, both pods 300 ms ahead): kz5b5's offset read
#: 299.9 ms, every one of its 72 pairs outside, and moved 29 ms with the delay — not steady, so neither said nor
#: corrected, and its peer (corrected) made it "stand out: 4.8 ms against 0.59 ms" of self time (0.53 against 0.59)
SKEWED_DESPITE_MOVE = 0.25


@dataclass(frozen=True)
class SkewStory:
    """Skewed clocks found in some spans.

    Attributes
    ----------
    spans : pandas.DataFrame
        The spans with each skewed clock's offset taken off (the input itself when none is skewed).
    skewed : pandas.DataFrame
        The skewed rows of :func:`~tracekit.detect_clock_skew` (possibly empty).
    sentences : tuple of str
        One sentence per skewed clock: which, by how much, on how many pairs, in how many of the traces, over which window.
    delayed : tuple of str
        The clocks without one offset whose calls' waits grew at the change (:func:`~tracekit.analysis.skew.change_waits`): a delay in the network
        or in answering, said as such, not as a clock.
    """

    spans: pd.DataFrame
    skewed: pd.DataFrame
    sentences: tuple[str, ...]
    delayed: tuple[str, ...] = ()  #: the rows of ``skewed`` (said as "service host h") whose change is a delay, not a clock


def _ms(x: float) -> str:
    return ms_text(x, signed=True)


def skew_story(spans: pd.DataFrame) -> SkewStory:
    """Find the skewed clocks in ``spans``, say each, and correct the spans for them.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame (not modified).

    Returns
    -------
    SkewStory
        Corrected spans, the skewed clocks and a sentence for each.

    Raises
    ------
    SpansSchemaError
        A needed column is missing.

    Examples
    --------
    >>> import tracekit as tk
    >>> st = skew_story(tk.simulate.simulate("baseline", 100, seed=1).spans)
    >>> len(st.skewed), st.sentences
    (0, ())
    """
    # no pairs to estimate from (a single service, no parent links) is an empty table, not an error; a frame
    # without a needed column raises (it read as "no skewed clock" when 'kind' was missing)
    require_columns(spans, _NEEDED, "skew_story")
    skew = detect_clock_skew(spans)
    # a clock that stepped or drifted is said too, skewed by its median or not (60 ms ahead in 160 of 360 traces and
    # right in the others: median 0, never said), and not corrected (it has no one offset)
    bad = skew[skew["skewed"].to_numpy(dtype=bool) | ~skew["steady"].to_numpy(dtype=bool)].reset_index(drop=True)
    if bad.empty:
        return SkewStory(spans, bad, ())
    out = []
    delayed = []
    drop = []  # rows neither a clock nor a delay: not said
    steady_enough = []  # rows skewed far beyond how much they moved: corrected by the median (SKEWED_DESPITE_MOVE)
    n_all = int(spans["trace_id"].nunique())  # the population each clock's traces are counted against
    waits = change_waits(spans, bad, skew.attrs.get("clocks", "host")) if (~bad["steady"].astype(bool)).any() else {}
    for i, r in enumerate(bad.itertuples()):
        who = f"{r.service} host {r.host}" if isinstance(r.host, str) else f"service {r.service}"
        wait = waits.get(i)
        if wait is not None and wait[1] - wait[0] >= abs(r.change_ms):
            # a response delay D lengthens the client spans by D and moves their midpoints by D/2; a clock step moves
            # the server span inside its client span and lengthens nothing: the waits decide which (the fault lab's
            # network_delay was said as "its clock did not keep one offset … a clock stepped" of the injected pod,
            # 6 of 10 seeds with the baseline in the data)
            delayed.append(who)
            out.append(f"Calls to or from {who} wait longer outside it from {window_text(r.change_at, r.change_at)} on: "
                       f"the median time between each client span and its server span (both ends together) went "
                       f"{ms_text(wait[0])} → {ms_text(wait[1])} ({wait[2]:,} client→server pairs before, {wait[3]:,} "
                       "after): a delay in the network or in answering, not a clock (a clock that stepped moves the "
                       "server span inside its client span and lengthens no wait); not corrected.")
            continue
        moved_little = (not r.steady and not r.stepped and bool(r.skewed)
                        and abs(r.change_ms) <= SKEWED_DESPITE_MOVE * abs(r.estimate_ms))
        if moved_little:
            way = "ahead of" if r.estimate_ms > 0 else "behind"
            out.append(f"{who}'s clock runs {_ms(abs(r.estimate_ms))[1:]} {way} the others (median over "
                       f"{r.n_pairs:,} client→server pairs in {r.n_traces:,} of {plural(n_all, 'trace')}, "
                       f"{window_text(r.first_seen, r.last_seen)}; {r.n_violations:,} of them have the server span "
                       f"outside its client span; the offset moved {_ms(abs(r.change_ms))[1:]} over the window, under "
                       f"{SKEWED_DESPITE_MOVE:.0%} of it, as a delay in answering or its neighbours' mix moves it): "
                       "times measured across it are shifted by its clock, not slow; corrected by the median before "
                       "comparing.")
            steady_enough.append(i)
            continue
        if not r.steady and not r.stepped:
            # its estimate moved, its clock did not (against some of its neighbours alone: their mix, or one of them;
            # detect_clock_skew's stepped): no clock to name, and not corrected (fault lab network_delay seed 7,
            # incident alone: eleven clocks were said to have "not kept one offset", none had)
            drop.append(i)
            continue
        way = "ahead of" if r.estimate_ms > 0 else "behind"  # the word carries the sign: "-80 ms behind" read as ahead
        seen = (f"{r.n_pairs:,} client→server pairs in {r.n_traces:,} of {plural(n_all, 'trace')}, "
                f"{window_text(r.first_seen, r.last_seen)}")
        if not r.steady:
            now = "ahead of" if r.change_ms > 0 else "behind"
            # the median in words, its sign as a word ("median +0.0 ms" read as a measured offset), and no spread:
            # around the median of a stepped clock it is 0, read as pairs that agree while a part of them is off
            med = ("no median offset" if r.estimate_ms == 0
                   else f"median offset {_ms(abs(r.estimate_ms))[1:]} {'ahead' if r.estimate_ms > 0 else 'behind'}")
            # the split the change was measured across (detect_clock_skew's change_at: not the step's own time; "the
            # later half of the pairs", said before, was wrong when the split compared is near an end of the window)
            out.append(f"{who}'s clock did not keep one offset: its pairs from {window_text(r.change_at, r.change_at)} "
                       f"on read it {_ms(abs(r.change_ms))[1:]} further {now} the others than those before ({seen}; "
                       f"{med}; the change lies between its traces at {window_text(r.change_after, r.change_at)}, "
                       "the last before and the first after): a clock stepped or drifting; "
                       "not corrected, so times measured across it are off by a changing amount.")
            continue
        out.append(f"{who}'s clock runs {_ms(abs(r.estimate_ms))[1:]} {way} the others (median over {seen}, spread "
                   f"{abs(r.spread_ms):.2f} ms; {r.n_violations:,} of them have the server span outside "
                   "its client span): times measured across it are shifted by its clock, not slow; corrected before "
                   "comparing.")
    table = skew
    if steady_enough:  # adjust_clock_skew corrects steady rows only: these are taken as steady, on a copy
        fix = bad.loc[steady_enough, ["service", "host"]].astype(str).apply(tuple, axis=1)
        keys = skew[["service", "host"]].astype(str).apply(tuple, axis=1)
        table = skew.copy()
        table.loc[keys.isin(set(fix)).to_numpy(), "steady"] = True
        bad = bad.copy()
        bad.loc[steady_enough, "steady"] = True
    if drop:
        bad = bad.drop(index=drop).reset_index(drop=True)
    return SkewStory(adjust_clock_skew(spans, table), bad, tuple(out), tuple(delayed))

