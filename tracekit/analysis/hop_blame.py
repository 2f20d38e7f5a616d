"""Which end of a slow hop is to blame: the shared end of the slow hops, not a neighbour of it.

A hop is one call from a component into another (a client span and the callee's server span under it); it is
slow when the time the caller waited outside the callee grew (:func:`tracekit.rank_causes`' ``waiting``). A
delay on a component's interface (a network delay on its pod, a queue in front of it) slows the hops into it
from **every** caller; a starved caller (CPU contention) slows its hops into **every** callee. Each slow hop
therefore has two suspects, and the hops around it say which: the callee when its other callers' hops are slow
too, the caller when its hops into other callees are. :func:`shared_end_weights` gives each hop a weight for each
end:

- ``c_callee``: the share of the callee's other incoming hops (from other callers) that are slow beyond their
  chance rate; ``c_caller``: the same over the caller's outgoing hops into other callees (0 when there are none:
  a single caller, a single callee corroborates nothing);
- the callee's weight is ``1 − max(c_caller − c_callee, 0)``, the caller's ``1 − max(c_callee − c_caller, 0)``:
  an end keeps the hop unless the opposite end is corroborated more than it is. A delay on one link only (no
  other hop slow) keeps both ends at 1, as before; a delay on a callee called by three callers leaves each caller
  with 1 − (about 1) of the hop; a starved caller leaves each of its callees with 1 − (its other hops' share).

A slow hop counts on an end by its weight; the end's hops that are not slow count whole, so the share of an
end's hops that are slow *and its to blame* is what rank_causes scores.

>>> import numpy as np
>>> # caller 0 calls callees 1 and 2; caller 3 calls 1. Every hop into 1 is slow, the hops 0 → 2 are not.
>>> caller, callee = np.array([0, 0, 3, 0, 0]), np.array([1, 1, 1, 2, 2])
>>> slow = np.array([1.0, 1.0, 1.0, 0.0, 0.0])
>>> w_caller, w_callee = shared_end_weights(caller, callee, slow, np.full(5, 0.05), 4)
>>> w_callee.round(2).tolist()[:3]  # callee 1 keeps its slow hops: its other caller waits too
[1.0, 1.0, 1.0]
>>> w_caller.round(2).tolist()[:3]  # the callers keep 5 %: 1's other callers are slow (95 % beyond chance)
[0.05, 0.05, 0.05]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ArgumentError

__all__ = ["shared_end_weights"]


def _values(x: Any, name: str, *, whole: bool = False, high: float | None = None) -> np.ndarray:
    """``x`` as a flat float array (int64 for ``whole``) of finite values >= 0 (and <= ``high``), else ArgumentError
    naming the argument and the first value that is not."""
    try:
        v = np.asarray(x, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise ArgumentError(f"shared_end_weights: {name} must be numbers, got {x!r:.80}") from None
    bad = ~np.isfinite(v) | (v < 0) | ((v > high) if high is not None else False) | ((v != np.round(v)) if whole else False)
    if bad.any():
        what = "whole numbers >= 0" if whole else f"finite numbers in [0, {high:g}]" if high is not None else "finite numbers >= 0"
        raise ArgumentError(f"shared_end_weights: {name} must be {what}; value {int(np.argmax(bad))} is {v[np.argmax(bad)]!r}")
    return v.astype(np.int64) if whole else v


def shared_end_weights(caller: Any, callee: Any, slow: Any, chance: Any, n_components: int,
                       weights: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Per hop: how much of it counts as evidence on its caller and on its callee (module docstring).

    Parameters
    ----------
    caller, callee : array-like of int
        Component code (0 .. n_components − 1) of each hop's two ends.
    slow : array-like of float
        1 where the hop is slow (its wait above the baseline's limit), else 0.
    chance : array-like of float
        Each hop's chance of being slow with nothing changed (:func:`tracekit.core.exceed_chance`).
    n_components : int
        Number of component codes.
    weights : array-like of float, optional
        Sampling weight of each hop (1 each by default).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The caller's and the callee's weight of each hop, in [0, 1].

    Raises
    ------
    ArgumentError
        Arrays of different lengths, a code outside [0, n_components) or not a whole number, a ``slow`` or
        ``chance`` outside [0, 1], a negative weight, or a value that is not a finite number.

    Examples
    --------
    >>> import numpy as np
    >>> w_caller, w_callee = shared_end_weights([0], [1], [1.0], [0.05], 2)  # one hop: no one corroborates
    >>> w_caller.tolist(), w_callee.tolist()
    ([1.0], [1.0])
    """
    # codes whole numbers, the rest finite and within their range: a code 0.5 read as 0, a NaN slow flag made the
    # weights of every hop sharing an end NaN, and text raised a bare ValueError
    cr, ce = _values(caller, "caller", whole=True), _values(callee, "callee", whole=True)
    sl, ch = _values(slow, "slow", high=1.0), _values(chance, "chance", high=1.0)
    w = np.ones(len(cr)) if weights is None else _values(weights, "weights")
    if not (len(cr) == len(ce) == len(sl) == len(ch) == len(w)):
        raise ArgumentError("shared_end_weights: caller, callee, slow, chance and weights must have one value per hop")
    if len(cr) and (min(cr.min(), ce.min()) < 0 or max(cr.max(), ce.max()) >= n_components):
        raise ArgumentError(f"shared_end_weights: component codes must be in [0, {n_components})")
    n = max(int(n_components), 1)
    pair = cr * n + ce
    # per (caller, callee) pair, per caller (outgoing) and per callee (incoming): hops, slow hops, expected slow
    def sums(code: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (np.bincount(code, weights=w, minlength=size), np.bincount(code, weights=w * sl, minlength=size),
                np.bincount(code, weights=w * ch, minlength=size))

    upair, pinv = np.unique(pair, return_inverse=True)
    pn, px, pe = sums(pinv, len(upair))
    on, ox, oe = sums(cr, n)
    inn, ix, ie = sums(ce, n)

    def excess(x: np.ndarray, e: np.ndarray, m: np.ndarray) -> np.ndarray:
        """Slow share beyond chance over the hops left (0 with none left), in [0, 1]."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.clip(np.where(m > 1e-12, (x - e) / m, 0.0), 0.0, 1.0)

    # the other hops of each end: all its hops less those of this pair
    c_caller = excess(ox[cr] - px[pinv], oe[cr] - pe[pinv], on[cr] - pn[pinv])
    c_callee = excess(ix[ce] - px[pinv], ie[ce] - pe[pinv], inn[ce] - pn[pinv])
    w_callee = 1.0 - np.maximum(c_caller - c_callee, 0.0)
    w_caller = 1.0 - np.maximum(c_callee - c_caller, 0.0)
    return w_caller, w_callee
