"""OTel consistent probability sampling: ``ot=th:`` thresholds, adjusted counts, trace randomness."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ...errors import ArgumentError, TraceFormatError, TraceKitError
from ...schema import STRING

#: public names; the other module-level names are helpers shared within the package
__all__ = ["MAX_THRESHOLD", "parse_ot_threshold", "threshold_probability", "threshold_adjusted_count", "probability_to_threshold", "trace_randomness"]

#: 2**56: thresholds and randomness values are 56-bit integers (OTel tracestate spec).
MAX_THRESHOLD = 1 << 56


_OT_MEMBER = re.compile(r"(?:^|,)[ \t]*ot=([^,]*)")
_HEX = re.compile(r"[0-9a-f]{1,14}")


def _ot_subkey(trace_state: Any, key: str) -> str | None:
    if trace_state is None or (not isinstance(trace_state, str) and pd.isna(trace_state)):
        return None
    m = _OT_MEMBER.search(str(trace_state))
    if not m:
        return None
    for part in m.group(1).strip().split(";"):
        k, sep, v = part.partition(":")
        if sep and k == key:
            return v
    return None


def parse_ot_threshold(trace_state: str | None) -> int | None:
    """The rejection threshold ``T`` (a 56-bit int) of a W3C tracestate's ``ot=th:`` value, or None.

    ``th`` is 1–14 lower-case hex digits, right-padded with zeros to 14 digits. Raises
    :class:`TraceFormatError` for a malformed ``th``.

    >>> parse_ot_threshold("ot=th:fd70a4")
    71337018784743424
    >>> parse_ot_threshold("vendor=x,ot=rv:0123456789abcd;th:0"), parse_ot_threshold(None)
    (0, None)
    """
    th = _ot_subkey(trace_state, "th")
    if th is None:
        return None
    if not _HEX.fullmatch(th):
        raise TraceFormatError(f"ot=th:{th!r} is not 1-14 lower-case hex digits (tracestate {trace_state!r})")
    return int(th.ljust(14, "0"), 16)


def threshold_int(th: int | str) -> int:
    if isinstance(th, str):
        if not _HEX.fullmatch(th):
            raise TraceFormatError(f"th value {th!r} is not 1-14 lower-case hex digits")
        return int(th.ljust(14, "0"), 16)
    # an integer or its th hex text: None was a bare TypeError, 1.5 was read as 1 and True as 1
    if isinstance(th, (bool, np.bool_)) or not isinstance(th, (int, np.integer, float, np.floating)) or (
            isinstance(th, (float, np.floating)) and not float(th).is_integer()):
        raise ArgumentError(f"a threshold is an integer in [0, 2**56) or its th hex text, got {th!r}"[:200])
    if not 0 <= int(th) < MAX_THRESHOLD:
        raise TraceKitError(f"threshold {th} is outside [0, 2**56)")
    return int(th)


def threshold_probability(th: int | str) -> float:
    """Sampling probability ``(2**56 - T) / 2**56`` of a threshold (int, or ``th`` hex string).

    >>> threshold_probability("c"), threshold_probability("0"), threshold_probability("aab")
    (0.25, 1.0, 0.333251953125)
    """
    t = threshold_int(th)
    return (MAX_THRESHOLD - t) / MAX_THRESHOLD


def threshold_adjusted_count(th: int | str) -> float:
    """Adjusted count ``2**56 / (2**56 - T)`` (= 1 / probability) of a threshold.

    >>> threshold_adjusted_count("fd70a4")
    100.00009536752259
    """
    t = threshold_int(th)
    return MAX_THRESHOLD / (MAX_THRESHOLD - t)


def probability_to_threshold(probability: float, precision: int | None = None) -> str:
    """The ``th`` value (trailing zeros removed) for a sampling probability in [2**-56, 1].

    ``precision`` = hex digits kept, raised by one per leading ``f`` as in the spec's algorithm
    (``None``: exact, 14 digits).

    >>> probability_to_threshold(0.01, 5), probability_to_threshold(0.25), probability_to_threshold(1.0)
    ('fd70a4', 'c', '0')
    """
    if isinstance(probability, (bool, np.bool_)) or not isinstance(probability, (int, float, np.integer, np.floating)):
        raise ArgumentError(f"sampling probability must be a number in [2**-56, 1], got {probability!r}"[:200])
    p = float(probability)
    if not (2.0 ** -56 <= p <= 1.0):
        raise ArgumentError(f"sampling probability must be in [2**-56, 1], got {probability!r}")
    if p == 1.0:
        return "0"
    t = MAX_THRESHOLD - round(p * MAX_THRESHOLD)
    if precision is not None:
        _, exp = math.frexp(p)
        digits = max(1, min(14, int(precision) + exp // -4))
        unit = 16 ** (14 - digits)
        t = min(((t + unit // 2) // unit) * unit, MAX_THRESHOLD - unit)
    if t == 0:
        return "0"
    return format(t, "014x").rstrip("0") or "0"


def trace_randomness(trace_ids: Sequence[str] | pd.Series,
                     trace_states: Sequence[Any] | pd.Series | None = None) -> np.ndarray:
    """56-bit randomness per trace as uint64: ``ot=rv:`` when present, else the trace id's last 14 hex digits.

    >>> trace_randomness(["0" * 18 + "ffffffffffffff"]).tolist()
    [72057594037927935]
    """
    if isinstance(trace_ids, (str, bytes)) or not isinstance(trace_ids, (Sequence, pd.Series, pd.Index, np.ndarray)):
        # one id was read as its characters ("trace id '0' has no 14 hex digits"); None was a bare TypeError
        raise ArgumentError(f"trace_randomness: trace_ids must be a sequence of trace ids (pass [trace_id] for one), "
                            f"got {type(trace_ids).__name__}")
    ids = trace_ids if isinstance(trace_ids, pd.Series) else pd.Series(list(trace_ids), dtype=object)
    ids = ids.astype(STRING).reset_index(drop=True)
    if not len(ids):
        return np.zeros(0, dtype=np.uint64)
    bad = ~ids.str.fullmatch(r"[0-9a-fA-F]{14,}").fillna(False).to_numpy(dtype=bool)
    if bad.any():
        raise TraceKitError(f"trace id {ids[int(np.flatnonzero(bad)[0])]!r} has no 14 hex digits of randomness")
    tails = ids.str[-14:]
    if trace_states is not None:
        ts = trace_states if isinstance(trace_states, pd.Series) else pd.Series(list(trace_states), dtype=object)
        ts = ts.astype(STRING).reset_index(drop=True)
        rv = ts.str.extract(r"(?:^|,)[ \t]*ot=(?:[^,;]*;)*rv:([0-9a-f]{14})(?:[;,]|$)", expand=False)
        tails = rv.fillna(tails)
    tails = tails.to_numpy(dtype=object)
    raw = np.frombuffer(bytes.fromhex("".join(tails)), dtype=np.uint8).reshape(-1, 7).astype(np.uint64)
    shifts = np.arange(48, -1, -8, dtype=np.uint64)
    return np.bitwise_or.reduce(raw << shifts, axis=1)


def with_threshold(trace_states: Any, th: Any) -> list[str]:
    """Each W3C tracestate with its ``ot`` member's ``th`` set to ``th`` (hex text), the member first; its other
    sub-keys (``rv:``…) and the other vendors' members kept in order.

    >>> with_threshold(["ot=rv:0123456789abcd;th:8,vendor=x", None], ["c", "0"])
    ['ot=th:c;rv:0123456789abcd,vendor=x', 'ot=th:0']
    """
    states = list(trace_states)
    ths = list(th)
    seen: dict[tuple[Any, str], str] = {}
    out = []
    for old, t in zip(states, ths, strict=True):
        old = None if old is None or (not isinstance(old, str) and pd.isna(old)) else str(old)
        key = (old, str(t))
        v = seen.get(key)
        if v is None:
            subkeys: list[str] | None = None
            others = []
            for member in (old or "").split(","):
                m = member.strip(" \t")
                if m.startswith("ot=") and subkeys is None:  # the first ot member is the one read (_OT_MEMBER)
                    subkeys = [x for x in m[3:].split(";") if x and not x.startswith("th:")]
                elif m:
                    others.append(m)
            ot = "ot=" + ";".join([f"th:{t}", *(subkeys or [])])
            v = seen[key] = ",".join([ot, *others])
        out.append(v)
    return out


def threshold_probabilities(trace_states: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised ``th`` parsing: (probability float array, NaN where absent/bad; note object array).

    Without ``th``, the legacy p-value of OTEP 168 (``ot=p:N``, the experimental spec ``th`` replaced: probability
    ``2**-N`` for N in 0..62, adjusted count ``2**N``; ``p:63`` is adjusted count 0, a span not sampled by probability)
    is read, its note naming it: it read as no sampling information at all. Beside ``th`` it is not read (``th`` is
    the spec's value), but a ``p`` saying another probability is named in the note.
    """
    ts = trace_states.astype(STRING)
    member = ts.str.extract(r"(?:^|,)[ \t]*ot=([^,]*)", expand=False)
    th = member.str.extract(r"(?:^|;)th:([^;]*)", expand=False)
    prob = np.full(len(ts), np.nan)
    note = np.full(len(ts), None, dtype=object)
    present = th.notna().to_numpy()
    if present.any():
        uniq = pd.unique(th[present])
        table = {}
        for u in uniq:
            table[u] = threshold_probability(u) if _HEX.fullmatch(u) else np.nan
        vals = th[present].map(table).to_numpy(dtype=float)
        prob[present] = vals
        bad = np.zeros(len(ts), dtype=bool)
        bad[present] = np.isnan(vals)
        note[bad] = "malformed ot=th value in tracestate"
    pv = member.str.extract(r"(?:^|;)p:([^;]*)", expand=False)
    has_p = pv.notna().to_numpy()
    if has_p.any():
        text = pv[has_p].astype(object).to_numpy()
        exp = np.array([int(x) if re.fullmatch(r"[0-9]{1,2}", x) else -1 for x in text], dtype=np.int64)
        p_legacy = np.where((exp >= 0) & (exp <= 62), np.exp2(-np.clip(exp, 0, 62).astype(float)), np.nan)
        rows = np.flatnonzero(has_p)
        for r, x, e, q in zip(rows.tolist(), text.tolist(), exp.tolist(), p_legacy.tolist(), strict=True):
            if present[r]:  # th read; a legacy p saying otherwise is named
                if not np.isnan(prob[r]) and not (e >= 0 and q == prob[r]):
                    said = f"probability {q:.6g}" if e >= 0 and not np.isnan(q) else "no probability"
                    note[r] = f"legacy ot=p:{x} in the tracestate says {said}: the th value is read"
            elif 0 <= e <= 62:
                prob[r] = q
                note[r] = f"legacy ot=p:{x} (OTEP 168 p-value, no th): probability 2**-{e}"
            elif e == 63:
                note[r] = "legacy ot=p:63 (OTEP 168): adjusted count 0, not sampled by probability: no weight"
            else:
                note[r] = f"malformed legacy ot=p:{x} value in tracestate (an integer 0-63)"
    # a W3C tracestate holds each key once: a second ot member (a merge gone wrong) was passed over in silence
    n_ot = ts.str.count(r"(?:^|,)[ \t]*ot=").fillna(0).to_numpy(dtype=np.int64)
    for r in np.flatnonzero((n_ot > 1) & ~np.isnan(prob)).tolist():
        said = f"the tracestate holds {n_ot[r]} ot members (a key is allowed once): the first is read"
        note[r] = said if note[r] is None else f"{note[r]}; {said}"
    return prob, note
