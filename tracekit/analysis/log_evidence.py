"""Log evidence for root causes: which log statements each operation's spans emit, against a baseline.

Exception and return-value faults often leave spans unchanged in time and status (no status at all
in some exports) while the code takes another branch: a log statement appears that the baseline's
spans never emitted, or one they always emitted is gone, or ERROR records appear.
:func:`log_evidence` measures that per (service, operation):

- for every message template (:func:`tracekit.log_templates`), the **share of the operation's spans
  that emit it** (one or more records of the template joined to the span,
  :func:`tracekit.attach_logs`'s join), in the incident and in the baseline;
- the **share of spans where an ERROR (or FATAL) record originates**: a span with such a record none
  of whose descendants has one or failed (the error_origins idea over log records; descendants,
  not children, because the client spans between a caller and its callee carry no records of their
  own — a caller that logs its callee's failure is not where it began).

A change counts beyond what the two sample sizes allow: ``evidence`` is the end nearer 0 of the
Agresti–Caffo interval of the difference of the two shares (one emitting and one silent span added
to each side; ± ``z`` = 2 standard errors), 0 when the interval holds 0, so 20 of 20 spans against
0 of 1 is a weak change — 0.07 — and 19 of 20 against 0 of 7 a strong one — 0.56; with the sign of
the change. A message with a variable part the masking keeps (a station name) makes one template per
value, and operations with many templates have more chances of one moving: the bound keeps such a
change small where the spans are few.

The shares are compared **within the context the service was called in**
(:func:`tracekit.core.call_contexts`: the caller's operation, or the request's route where the
request entered), so a change in the mix of requests is not a change in a statement: a branch taken
by the bookings and not by the searches emits as often per booking on both sides however many
bookings there are. The contexts' differences are combined with Mantel–Haenszel's weights (a
context with ``n`` incident and ``n_b`` baseline spans weighs ``n·n_b / (n + n_b)``: one the baseline
saw once weighs little), the pseudo-spans spread over the contexts by the same weights (with one
context, the interval above exactly), and the variances summed with the squared weights; a context
the baseline never saw says nothing about a rate and is left out (as :func:`tracekit.rank_causes`'
per-unit call counts).

Both sides are measured on the traces whose first span started in a period the logs cover: from a
second before a record to the last record before a gap of more than a minute with none. Logs are
often kept for less time than traces or exported for a window, and a trace of a time without records
did not stop logging (with it, every statement would look rarer on its side).

A span given twice (as overlapping exports give it) counts once: the span tree's other copies are left out.

What an incident shows is what got worse; how exceptions and wrong returns show in logs gives these rules
(issue 30; each measured on the Nezha TrainTicket windows in ``benchmarks/bench_rank_causes.py``):

- an ERROR record of a span below which an error began in another service (a failed span, or an ERROR
  record, reached through a call into another service) retells that error: it is left out of the
  template counts (the caller's "call failed" is not its own statement; the error origin counts it);
- an ERROR statement whose share **fell** is a service logging fewer errors (it recovered): no evidence;
- a new ERROR statement counts only as far as the operation's spans log an ERROR more often (the
  stratified rise of the share of its spans with an ERROR record of their own): one that replaced another
  at the same rate (an exception's message naming another host) is the same failure;
- a statement whose share **rose** where the operation's invocations (its service's spans joined through
  same-service parents) logged an ERROR more often in the baseline is the code path the baseline's
  exceptions cut short, taken again: its evidence is reduced by that fall;
- a statement whose share **fell** where the operation's invocations relayed another service's error more
  often in the incident (a caller logging its callee's failure instead of its own success line) is the
  caller's path cut short by the callee: reduced by that rise (the callee's origin is the evidence);
- two templates whose texts have as many words and differ in one, and which no span emits both of, are **one
  statement logging different values** (the masking kept a station name, a train type: TrainTicket's station
  service logs 'Query for station id … StationName: nanjing' or '… suzhou' by the request's data): a template's
  evidence counts only as far as its statement's share (spans emitting any of its templates) moved the same way, so
  a change in the data the requests carry is not a change in the code path (TrainTicket 10:04, station's 'nanjing'
  0 → 14 of 36 spans and 'suzhou' 12 of 28 → 4 of 36 weighed 0.18; the statement did not move). A branch whose
  statement differs from the other branch's by one word is read as one statement too; it still shows in the
  statements and calls around it;
- a statement logged **fewer times** per span than its companion — the template the baseline's spans most often
  logged exactly as often, two or more times (one loop's statements), chosen on half the baseline's traces — is a
  loop an exception cut short, though every span still emits it (TrainTicket's travel service at 10:04, 10:12 and
  10:20: 'Calculate distance' fewer times than 'Get Rest tickets num' in 11 of 19, 13 of 13 and 10 of 10 queryInfo
  spans, 0 of the fault-free minute's): the rise of the share of spans that did, against the baseline's other half
  (:func:`_fewer`), is the template's evidence where larger than its share's change (``measure`` 'count'), reduced
  as a fall is;
- where an operation logged on every call on one side, a call on the other that left no record in its
  whole invocation lost its records (an export window, a pod's stream cut short: the Nezha fault-free
  minute lacks the user service's and part of the order service's records): template shares are compared
  without such calls (:func:`_collected`); an operation that logs only sometimes keeps its silent calls;
- ``log_errors`` — the rise of the share of spans where an ERROR originates — counts the excess of
  origins over what the baseline's rate gives by chance, beyond ``z`` standard errors **under no change**
  (:func:`_standardized`): the chance is what the incident's spans would show at the baseline's share of
  their context, each context's share by Laplace's rule (0 of 22 baseline spans is a chance of 1 in 24),
  and the spread is that of the null rate, not of the observed ones. A rare error that became common is
  far beyond its small null spread: 7 of 20 spans against 0 of 22 scores 0.185 and against 0 of 34 0.23,
  where the Agresti–Caffo bound (whose variance is taken at the observed 7 of 20 with a pseudo-span at
  one half) gave 0.10 and 0.12, below what other services' noise reaches; an error logged at the same rate
  in both periods stays within its wide null spread; 5 of 5 against 0 of 1 scores 0.

Per operation, ``log_templates`` is the largest ``|evidence|`` over its templates (a statement that
appeared or vanished), ``log_errors`` the rise in the share of spans where an ERROR originates
(0 when it fell). :func:`tracekit.rank_causes` adds them to its score when given ``logs=`` and says
in ``decided_by`` which evidence weighed most.

>>> import tracekit as tk
>>> ev = log_evidence(tk.empty_spans(), tk.empty_spans(), tk.empty_logs())
>>> list(ev.table.columns[:4])
['service', 'name', 'spans', 'baseline_spans']
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..core import call_contexts, failed, outcome_unknown, require_columns, result_table, span_tree
from ..core.naming import _text_codes
from ..errors import ArgumentError
from ..schema import STRING, known_service_column
from .logs import log_span_rows, log_templates

__all__ = ["log_evidence", "LogEvidence", "LOG_EVIDENCE", "LOG_EVIDENCE_TEMPLATES", "join_log_evidence", "log_hypotheses", "log_examples",
           "log_coverage"]

LOG_EVIDENCE = result_table("log_evidence", "one row per (service, operation) of the incident or baseline, largest change first", [
    ("spans", "int64", "spans", "spans of the operation in the incident"),
    ("baseline_spans", "int64", "spans", "spans of the operation in the baseline"),
    ("log_templates", "float64", "", "largest |evidence| over the operation's templates (LOG_EVIDENCE_TEMPLATES): a log statement its spans began or stopped emitting, or logged fewer times than the statements it always came with, beyond chance"),
    ("template_id", "string", "", "the template of that largest change"),
    ("template", "string", "", "its text (variable parts masked)"),
    ("error_share", "float64", "", "share of the incident's spans where an ERROR or FATAL record originates (no descendant with one, none failed), over its spans whose errors are known: a span still in progress with no status yet (core.outcome_unknown) and no ERROR record yet is left out (unknown)"),
    ("baseline_error_share", "float64", "", "the same share in the baseline"),
    ("unknown", "int64", "spans", "spans of the operation in the incident left out of error_share and log_errors: still in progress with no status and no ERROR record yet (service_graph's unknown)"),
    ("baseline_unknown", "int64", "spans", "the same in the baseline, left out of baseline_error_share"),
    ("log_errors", "float64", "", "rise of that share beyond the baseline's, within the contexts the service was called in: the excess of such spans over the baseline's rate per context (Laplace's rule), less z standard errors of it under no change, over the incident's spans; 0 when it did not rise beyond them"),
])

LOG_EVIDENCE_TEMPLATES = result_table("log_evidence_templates", "one row per (service, operation, template) emitted on either side", [
    ("template_id", "string", "", "16 hex digits (log_templates)"),
    ("template", "string", "", "the template text"),
    ("emitting", "int64", "spans", "incident spans of the operation with a record of the template"),
    ("spans", "int64", "spans", "incident spans of the operation"),
    ("baseline_emitting", "int64", "spans", "baseline spans of the operation with a record of the template"),
    ("baseline_spans", "int64", "spans", "baseline spans of the operation"),
    ("share", "float64", "", "emitting / spans (incident)"),
    ("baseline_share", "float64", "", "baseline_emitting / baseline_spans"),
    ("delta_share", "float64", "", "change of the share within the contexts the service was called in (core.call_contexts) that both sides have, each weighted n·n_b / (n + n_b) by its spans on the two sides (Mantel–Haenszel); share − baseline_share when all are in one context"),
    ("evidence", "float64", "", "delta_share less z standard errors of it towards 0 (Agresti–Caffo: one emitting and one silent span added to each side, spread over the contexts by their weights), 0 within them; signed; less what a baseline in worse health explains (module docstring); −fewer_evidence where that is larger (measure 'count')"),
    ("fewer", "int64", "spans", "incident spans of the operation that logged the template fewer times than its companion: the template one half of the baseline's traces (by a hash of the trace id) most often logged exactly as often, two or more times, and as often in more than half the spans logging both, beyond chance (one loop's statements)"),
    ("compared", "int64", "spans", "incident spans of the operation that logged the template and that companion"),
    ("baseline_fewer", "int64", "spans", "spans of the baseline's other half (not the one the companion was chosen on) that logged the template fewer times than that companion"),
    ("baseline_compared", "int64", "spans", "spans of the baseline's other half that logged the template and that companion"),
    ("companion", "string", "", "the companion's text"),
    ("fewer_evidence", "float64", "", "fewer / compared against baseline_fewer / baseline_compared, less z standard errors towards 0 within the contexts both sides have, as delta_share's; less what relayed errors explain (module docstring); 0 without a companion"),
    ("measure", "string", "", "what evidence is: 'share' (of spans emitting the template) or 'count' (records per span against its companion, when fewer_evidence is larger)"),
])


@dataclass(frozen=True)
class LogEvidence:
    """Log evidence per operation (``.table``) and per operation and template (``.templates``).

    Attributes
    ----------
    table : DataFrame
        :data:`LOG_EVIDENCE` with the key columns first.
    templates : DataFrame
        :data:`LOG_EVIDENCE_TEMPLATES` with the key columns first, largest ``|delta_share|`` first.
    records : tuple of int
        Log records joined to incident spans, to baseline spans.
    params : dict
        The arguments used.

    Examples
    --------
    >>> import tracekit as tk
    >>> log_evidence(tk.empty_spans(), tk.empty_spans(), tk.empty_logs()).records
    (0, 0)
    """

    table: pd.DataFrame
    templates: pd.DataFrame
    records: tuple[int, int]
    params: dict = field(default_factory=dict)


_ERROR = ("ERROR", "FATAL")


def _ac_part(c_a, c_b, pi, n_a, n_b) -> tuple[np.ndarray, np.ndarray]:
    """A context's part of a difference of two shares, weight ``pi``: ``pi`` emitting and ``pi`` silent spans added
    to each side (Agresti & Caffo 2000: one and one), the centre's part pi·(p̃_a − p̃_b) and its variance's."""
    pa, pb = (c_a + pi) / (n_a + 2 * pi), (c_b + pi) / (n_b + 2 * pi)
    return pi * (pa - pb), pi ** 2 * (pa * (1 - pa) / (n_a + 2 * pi) + pb * (1 - pb) / (n_b + 2 * pi))


def _bound(d: np.ndarray, var: np.ndarray, z: float) -> np.ndarray:
    """The end nearer 0 of ``d`` ± ``z`` standard errors, signed; 0 when the interval holds 0."""
    return np.sign(d) * np.maximum(np.abs(d) - z * np.sqrt(np.maximum(var, 0.0)), 0.0)


def _beyond_chance(c_a: np.ndarray, n_a: np.ndarray, c_b: np.ndarray, n_b: np.ndarray, z: float) -> np.ndarray:
    """The bound nearer 0 of the Agresti–Caffo interval of c_a / n_a − c_b / n_b (one success and one failure
    added to each side; centre ± ``z`` standard errors), signed; 0 when the interval holds 0 or a side has no span
    (:func:`_stratified` with one context)."""
    c_a, n_a, c_b, n_b = (np.asarray(x, dtype=float) for x in (c_a, n_a, c_b, n_b))
    d, var = _ac_part(c_a, c_b, 1.0, n_a, n_b)
    return np.where((n_a > 0) & (n_b > 0), _bound(d, var, z), 0.0)


#: a stretch of this long with no record from any service is a gap in the collection, not a quiet system
_GAP_NS = 60 * 10**9
#: a trace that started this long before a period's first record is in the period (its first record came later)
_LEAD_NS = 10**9


def record_times(logs: pd.DataFrame, *spans: pd.DataFrame) -> np.ndarray:
    """Each record's time (ns since the epoch; NaT's integer when unknown): its own, else — a record read without
    one (a JSON line with no time field, OTLP's time 0 with no observed time) — the start of its trace's first span
    among ``spans``, when it names one: it was written while that trace ran.

    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({"trace_id": ["a" * 32], "span_id": ["1" * 16], "start": ["2024-01-01 00:05"],
    ...                                "end": ["2024-01-01 00:06"]})
    >>> logs = tk.logs_from_columns({"time": [None, "2024-01-01 00:01", None], "trace_id": ["a" * 32, None, "b" * 32],
    ...                              "body": ["x", "y", "z"]})
    >>> t = record_times(logs, spans)
    >>> pd.to_datetime(t[:2], utc=True).strftime("%H:%M").tolist(), bool(t[2] == np.iinfo(np.int64).min)
    (['00:05', '00:01'], True)
    """
    nat = np.iinfo(np.int64).min
    t = logs["time"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    none = np.flatnonzero(t == nat)
    frames = [f for f in spans if f is not None and len(f)]
    if len(none) and frames:
        from ..core import ns

        both = pd.concat([pd.DataFrame({"trace_id": f["trace_id"].astype(object).to_numpy(), "start": ns(f["start"])})
                          for f in frames], ignore_index=True)
        first = both.groupby("trace_id", sort=False)["start"].min()
        got = first.reindex(logs["trace_id"].astype(object).to_numpy()[none]).to_numpy(dtype=float, na_value=np.nan)
        ok = ~np.isnan(got)
        t = t.copy()
        t[none[ok]] = got[ok].astype(np.int64)
    return t


def _log_periods(logs: pd.DataFrame, *spans: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The periods the logs frame covers (ns since the epoch): from a record to the last one before a gap of
    more than a minute with no record, (starts, ends); a period starts a second before its first record. A record
    with no time counts at its trace's start (:func:`record_times`)."""
    t = np.sort(record_times(logs, *spans))
    t = t[t != np.iinfo(np.int64).min]
    if not len(t):
        return t, t
    cut = np.flatnonzero(np.diff(t) > _GAP_NS)
    return t[np.r_[0, cut + 1]], t[np.r_[cut, len(t) - 1]]


def log_coverage(spans: pd.DataFrame, logs: pd.DataFrame) -> np.ndarray:
    """Which spans belong to a trace whose first span started in a period ``logs`` covers: from a second before a
    record to the last record before a gap of more than a minute without one. A span outside emits no record because
    none was collected, not because it logged nothing: compare what spans logged only where this is True (as
    :func:`log_evidence` does).

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame.
    logs : pandas.DataFrame
        A logs frame (:func:`~tracekit.read_logs`).

    Returns
    -------
    numpy.ndarray
        One bool per row of ``spans`` (whole traces; a span given twice is one span: its other copies are False).

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({"trace_id": ["a" * 32, "b" * 32], "span_id": ["1" * 16, "2" * 16],
    ...     "service": "pay", "name": "charge", "start": [0, 600 * 10**9], "end": [10**9, 601 * 10**9]})
    >>> logs = tk.logs_from_columns({"time": [10**8], "body": ["charge accepted"]})
    >>> log_coverage(spans, logs).tolist()
    [True, False]
    """
    if spans.empty:
        return np.zeros(0, dtype=bool)
    return _covered_rows(spans, _log_periods(logs, spans))


def _covered(spans: pd.DataFrame, periods: tuple[np.ndarray, np.ndarray]) -> pd.DataFrame:
    """The traces of ``spans`` whose first span started in a period the logs cover (whole traces): a span of a
    time the logs do not cover emits no record because none was collected, not because it logged nothing."""
    if spans.empty:
        return spans
    keep = _covered_rows(spans, periods)
    return spans if keep.all() else spans[keep].reset_index(drop=True)


def _covered_rows(spans: pd.DataFrame, periods: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """:func:`_covered`'s rows, as one bool per span."""
    from ..core import ns

    tree = span_tree(spans)
    st = ns(spans["start"])
    first = np.full(tree.n_traces, np.iinfo(np.int64).max)
    np.minimum.at(first, tree.trace, st)
    starts, ends = periods
    j = np.searchsorted(starts - _LEAD_NS, first, side="right") - 1
    keep = ((j >= 0) & (first <= ends[np.maximum(j, 0)]) if len(starts) else np.zeros(len(first), bool))[tree.trace]
    if _RULES["duplicates"]:
        keep &= ~tree.duplicate  # a span given twice (overlapping exports) is one span: other copies left out
    return keep


def _errors_below(spans: pd.DataFrame, has_error: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per span: some descendant has an ERROR record (``has_error``) or failed; some descendant **in another
    service** does (through spans of any service) — one pass up the tree per level, deepest first (linear in
    spans)."""
    tree = span_tree(spans)
    flag = has_error | failed(spans)
    below = np.zeros(len(spans), dtype=bool)  # some descendant is flagged
    other = np.zeros(len(spans), dtype=bool)  # some descendant in another service than the span's is flagged
    par, depth = tree.parent, tree.depth
    up = (par >= 0) & (depth > 0)
    if up.any():
        svc, _ = _text_codes(known_service_column(spans["service"]))
        order = np.flatnonzero(up)
        order = order[np.argsort(-depth[order], kind="stable")]
        levels = np.flatnonzero(np.diff(depth[order])) + 1
        for rows in np.split(order, levels):  # children of one depth at a time: their flags are final
            hit = rows[flag[rows] | below[rows]]
            below[par[hit]] = True
            cross = svc[rows] != svc[par[rows]]
            far = rows[np.where(cross, flag[rows] | below[rows], other[rows])]
            other[par[far]] = True
    return below, other


def _error_origins(spans: pd.DataFrame, has_error: np.ndarray) -> np.ndarray:
    """Per span: it has an ERROR record (``has_error``) and no descendant has one or failed (:func:`_errors_below`)."""
    return has_error & ~_errors_below(spans, has_error)[0]


def _in_invocation(spans: pd.DataFrame, flag: np.ndarray) -> np.ndarray:
    """Per span: ``flag`` holds for a span of its **invocation** — the spans of its service joined to it through
    parents in the same service (one call into the service, from its entry span down to its calls out). With
    ``flag`` an ERROR record: a framework logs an exception where it is caught, often on the entry span (a
    servlet's "threw exception"), while the statements the exception skipped belong to the spans below it: they
    are cut short with it."""
    tree = span_tree(spans)
    n = len(spans)
    if not n:
        return np.zeros(0, dtype=bool)
    svc, _ = _text_codes(known_service_column(spans["service"]))
    par, depth = tree.parent, tree.depth
    root = np.arange(n)
    same = (par >= 0) & (depth > 0)
    same[same] = svc[par[same]] == svc[same]
    rows = np.flatnonzero(same)
    rows = rows[np.argsort(depth[rows], kind="stable")]  # shallowest first: a parent's root is final before its child's
    for lv in np.split(rows, np.flatnonzero(np.diff(depth[rows])) + 1) if len(rows) else ():
        root[lv] = root[par[lv]]
    hit = np.zeros(n, dtype=bool)
    hit[root[flag]] = True
    return hit[root]


def _side(spans: pd.DataFrame, logs: pd.DataFrame, tid: np.ndarray, by: list[str]
          ) -> tuple[pd.DataFrame, pd.DataFrame, int, pd.DataFrame, pd.DataFrame]:
    """(per key and context: spans, spans where an error record originates), (per key, context and template:
    emitting spans), records joined, the (span row, template) pairs counted with their records (``n``), and each
    span's key and context. The context of a span is :func:`tracekit.core.call_contexts`'."""
    tree = span_tree(spans)
    keys = spans[by].astype(object).fillna("\x00<NA>").reset_index(drop=True)
    keys[_CTX] = call_contexts(spans, tree) if len(spans) else np.zeros(0, dtype=object)
    kc = [*by, _CTX]
    g = _group_codes(keys, kc)  # each span's (key, context) group, numbered by first appearance
    n_groups = int(g.max()) + 1 if len(g) else 0
    per_key = keys.iloc[_first_rows(g, n_groups)].reset_index(drop=True)
    per_key["spans"] = np.bincount(g, minlength=n_groups).astype(np.int64)
    row, _, _ = log_span_rows(spans, logs)
    ok = row >= 0
    err = logs["severity_text"].astype(STRING).isin(_ERROR).to_numpy(dtype=bool)
    pairs = pd.DataFrame({"row": row[ok], "template_id": tid[ok], "error": err[ok]})
    has_error = np.zeros(len(spans), dtype=bool)
    has_error[pairs.loc[pairs["error"], "row"].to_numpy(dtype=np.int64)] = True
    below, below_other = _errors_below(spans, has_error)
    origin = has_error & ~below
    emit = pairs.dropna(subset=["template_id"])
    if _RULES["propagated_errors"]:  # an ERROR record of a span below which another service's error began retells it
        emit = emit[~(emit["error"].to_numpy(dtype=bool) & below_other[emit["row"].to_numpy(dtype=np.int64)])]
    per_span = emit.groupby(["row", "template_id"], sort=False).size().rename("n").reset_index()
    emit = emit.drop_duplicates(["row", "template_id"])
    # per (key, context, template): the spans emitting it, numbered by first appearance as a groupby would
    e_rows = emit["row"].to_numpy(dtype=np.int64)
    e_tid = emit["template_id"].to_numpy(dtype=object)
    t_code, t_uniq = pd.factorize(e_tid, use_na_sentinel=False)
    pair, _ = pd.factorize(g[e_rows] * max(len(t_uniq), 1) + t_code, use_na_sentinel=False)
    first = _first_rows(pair, int(pair.max()) + 1 if len(pair) else 0)
    emitting = keys.iloc[e_rows[first]].reset_index(drop=True)
    emitting["template_id"] = e_tid[first]
    emitting["emitting"] = np.bincount(pair, minlength=len(first)).astype(np.int64)
    logged = np.zeros(len(spans), dtype=bool)
    logged[pairs["row"].to_numpy(dtype=np.int64)] = True
    # a span still in progress with no status and no ERROR record yet: whether an error originates in it is unknown
    # (core.outcome_unknown), so it is left out of the errors' population (``known``), not counted as error-free
    pending = outcome_unknown(spans) & ~has_error
    for col, rows in (("errors", np.flatnonzero(origin)), ("known", np.flatnonzero(~pending)),
                      ("cut", np.flatnonzero(_in_invocation(spans, has_error))),
                      ("erring", np.flatnonzero(has_error & ~below_other)),
                      ("relayed", np.flatnonzero(_in_invocation(spans, has_error & below_other))),
                      ("logged", np.unique(pairs["row"].to_numpy(dtype=np.int64))),
                      ("silent", np.flatnonzero(~_in_invocation(spans, logged)))):
        per_key[col] = np.bincount(g[rows], minlength=n_groups).astype(np.int64)
    return per_key, emitting, int(ok.sum()), per_span, keys


def _group_codes(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Each row's group of equal values in ``columns``, numbered 0, 1, … by first appearance (a groupby's
    ``sort=False`` order; missing values are a value)."""
    code = np.zeros(len(frame), dtype=np.int64)
    for c in columns:
        f, u = pd.factorize(frame[c].to_numpy(dtype=object), use_na_sentinel=False)
        code, _ = pd.factorize(code * max(len(u), 1) + f, use_na_sentinel=False)  # stays below the row count
    return code.astype(np.int64, copy=False)


def _first_rows(code: np.ndarray, n: int) -> np.ndarray:
    """The first row of each of the ``n`` groups of ``code`` (numbered by first appearance: increasing rows)."""
    first = np.full(n, len(code), dtype=np.int64)
    np.minimum.at(first, code, np.arange(len(code), dtype=np.int64))
    return first


_CTX = "\x00context"  # working column: the context a span is called in (core.call_contexts)


def _stratified(strata: pd.DataFrame, counts: pd.DataFrame, by: list[str], item: str, z: float) -> pd.DataFrame:
    """Per (key, item): the change of the share of spans with the item (a template, an error origin) within
    contexts, combined over the contexts both sides have (Mantel–Haenszel weights).

    ``strata``: per (key, context) ``n_a``, ``n_b`` (spans); ``counts``: per (key, context, item) ``c_a``, ``c_b``.
    A context weighs π = w / Σw with w = n_a·n_b / (n_a + n_b), so one the baseline saw once weighs little; each
    side gets π emitting and π silent pseudo-spans there (Agresti–Caffo's one and one, spread over the contexts as
    the weights are; with one context it is their interval exactly): d = Σ π (p̃_a − p̃_b), var = Σ π²
    (p̃_a(1 − p̃_a)/(n_a + 2π) + the same for b). A context with no span on one side says nothing about a change
    of rate: left out (as rank_causes' per-unit counts leave out what the baseline never saw).
    Contexts where an item has no span on either side count through a per-key sum, so the work is linear in
    the rows with counts. Returns columns ``[*by, item, "delta_share", "evidence"]``."""
    kc = [*by, _CTX]
    st = strata[(strata["n_a"] > 0) & (strata["n_b"] > 0)]
    na, nb = st["n_a"].to_numpy(float), st["n_b"].to_numpy(float)
    key = _group_codes(st, by)  # (strata are one row per key and context)
    w = na * nb / (na + nb)  # Mantel–Haenszel's weight of a difference
    pi = w / np.bincount(key, weights=w)[key] if len(st) else w
    d0, v0 = _ac_part(0.0, 0.0, pi, na, nb)
    n_keys = int(key.max()) + 1 if len(key) else 0
    base_d0, base_v0 = np.bincount(key, weights=d0, minlength=n_keys), np.bincount(key, weights=v0, minlength=n_keys)
    # each count's stratum (an inner join on key and context, in the counts' order)
    joint = _group_codes(pd.DataFrame({k: np.concatenate([st[k].to_numpy(dtype=object), counts[k].to_numpy(dtype=object)])
                                       for k in kc}), kc)
    where = np.full(int(joint.max()) + 1 if len(joint) else 0, -1, dtype=np.int64)
    where[joint[:len(st)]] = np.arange(len(st), dtype=np.int64)
    srow = where[joint[len(st):]]
    hit = srow >= 0
    s_ = srow[hit]
    ca, cb = counts["c_a"].to_numpy(float)[hit], counts["c_b"].to_numpy(float)[hit]
    pc, nca, ncb = pi[s_], na[s_], nb[s_]
    d, v = _ac_part(ca, cb, pc, nca, ncb)
    # per (key, item), numbered by first appearance
    items = counts[item].to_numpy(dtype=object)[hit]
    i_code, i_uniq = pd.factorize(items, use_na_sentinel=False)
    pair, _ = pd.factorize(key[s_] * max(len(i_uniq), 1) + i_code, use_na_sentinel=False)
    n_pairs = int(pair.max()) + 1 if len(pair) else 0
    first = _first_rows(pair, n_pairs)
    k_first = key[s_[first]]
    dd = np.bincount(pair, weights=d - d0[s_], minlength=n_pairs)
    dv = np.bincount(pair, weights=v - v0[s_], minlength=n_pairs)
    raw = np.bincount(pair, weights=pc * (ca / nca - cb / ncb), minlength=n_pairs)
    ev = _bound(base_d0[k_first] + dd, base_v0[k_first] + dv, z)
    return pd.DataFrame({**{k: st[k].to_numpy(dtype=object)[s_[first]] for k in by}, item: items[first],
                         "delta_share": raw.astype(float), "evidence": ev})


#: the rules of issue 30, each switchable for the benchmark's leave-one-out figures (all on by default)
_RULES = {"error_recovery": True, "cut_short": True, "standardized_errors": True, "propagated_errors": True,
          "duplicates": True, "same_failure": True, "relayed": True,
          "uncollected": True, "same_statement": True, "fewer": True}


def _towards_health(t: pd.DataFrame, st: pd.DataFrame, by: list[str], tm: pd.DataFrame, logs: pd.DataFrame,
                    z: float) -> np.ndarray:
    """Template evidence less what a baseline in worse health explains (the evidence of an incident is what got
    worse):

    - an ERROR (or FATAL) statement whose share fell is a service logging fewer errors: no evidence;
    - a statement whose share rose in an operation whose invocations (:func:`_in_invocation`) logged an ERROR
      more often in the baseline is the code path the baseline's exceptions cut short, taken again: its
      evidence is reduced by that fall of the share (within contexts, as the shares), never below 0;
    - a statement whose share fell in an operation whose invocations relayed another service's error (logged an
      ERROR with an error below them across a call) more often in the incident is the caller's path the callee's
      exception cut short: reduced by that rise (the callee's error origin is the evidence)."""
    ev = t["evidence"].to_numpy(float).copy()
    is_err = np.zeros(len(t), dtype=bool)
    if len(tm):  # an ERROR statement: most of the template's records are ERROR or FATAL
        err = logs["severity_text"].astype(STRING).isin(_ERROR).to_numpy(dtype=bool)
        tid = tm["template_id"].to_numpy(dtype=object, na_value=None)
        ok = pd.notna(tid)
        err_share = pd.Series(err[ok].astype(float)).groupby(tid[ok]).mean()
        is_err = err_share.reindex(t["template_id"].astype(object).to_numpy()).fillna(0.0).to_numpy() >= 0.5
    if _RULES["error_recovery"]:
        ev = np.where(is_err & (ev < 0), 0.0, ev)
    kc = [*by, _CTX]
    if _RULES["same_failure"]:
        rise = _stratified(st, st[kc].assign(_e="erring", c_a=st["erring"], c_b=st["erring_b"]), by, "_e", z)
        rise = t[by].merge(rise[[*by, "delta_share"]], how="left", on=by)["delta_share"].fillna(0.0).to_numpy(float)
        ev = np.where(is_err & (ev > 0), np.minimum(ev, np.maximum(rise, 0.0)), ev)
    if _RULES["cut_short"]:
        cut = _stratified(st, st[kc].assign(_e="cut", c_a=st["cut"], c_b=st["cut_b"]), by, "_e", z)
        fall = t[by].merge(cut[[*by, "delta_share"]], how="left", on=by)["delta_share"].fillna(0.0).to_numpy(float)
        fall = np.maximum(-fall, 0.0)
        ev = np.where(ev > 0, np.maximum(ev - fall, 0.0), ev)
    if _RULES["relayed"]:
        rel = _stratified(st, st[kc].assign(_e="relayed", c_a=st["relayed"], c_b=st["relayed_b"]), by, "_e", z)
        rise = t[by].merge(rel[[*by, "delta_share"]], how="left", on=by)["delta_share"].fillna(0.0).to_numpy(float)
        ev = np.where(ev < 0, np.minimum(ev + np.maximum(rise, 0.0), 0.0), ev)
    return ev


def _statements(text: pd.Series, pairs: tuple[pd.DataFrame, ...]) -> pd.Series:
    """Per template id (``text``'s index): its **statement** — templates whose texts have the same number of
    words and differ in one word (linked through chains of such pairs), and which no span emits two of, are one
    statement logging different values (the masking kept a station name, a train type); so are templates that are
    one text once each run of a repeated list item is one item (:func:`_without_repeats`: a list of 2 and of 3
    tickets), which no span emits two of; every other template is a statement of its own. Returns the statement's
    id (its first template's) by template id."""
    ids = text.index.to_numpy(dtype=object)
    parent = list(range(len(ids)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    # texts that differ in word j alone share (words, j, the words before j, the words after j): each side keyed by
    # a chained hash, so a text of w words costs O(w), not O(w²) joins (5,000 texts of 200 words: 4.4 s and
    # ~1.4 GB of keys as joined strings); texts are taken by length, one dict at a time; a key shared by chance
    # (a hash collision) is no match: every match is checked word by word
    text_words = [str(tx).split() if isinstance(tx, str) else [] for tx in text.to_numpy(dtype=object)]
    by_len: dict[int, list[int]] = {}
    for i, words in enumerate(text_words):
        if 2 <= len(words) <= _STATEMENT_WORDS:
            by_len.setdefault(len(words), []).append(i)
    for n_words, members in by_len.items():
        if len(members) < 2:
            continue
        seen: dict[int, int] = {}
        for i in members:
            words = text_words[i]
            before = [0] * (n_words + 1)  # before[j]: hash of words[:j]
            for j, wd in enumerate(words):
                before[j + 1] = hash((before[j], wd))
            after = 1  # hash of words[j + 1:], built from the end
            for j in range(n_words - 1, -1, -1):
                sig = hash((j, before[j], after))
                other = seen.setdefault(sig, i)
                if other != i and sum(a != b for a, b in zip(words, text_words[other], strict=True)) <= 1:
                    parent[root(i)] = root(other)
                after = hash((words[j], after))
    # a statement logging a list: one masked item per element ('Ticket(seatNo=<*>, …), Ticket(seatNo=<*>, …)'), so
    # each length was a template of its own and a longer list read as a new statement. Texts whose words are the
    # same once every run of a repeated item (a word sequence holding a masked value) is one copy, one of them holding
    # such a run, are one statement (a span that emits two of them still splits them: two statements, below)
    members: dict[tuple, list[int]] = {}
    with_run: set[tuple] = set()
    for i, tx in enumerate(text.to_numpy(dtype=object)):
        if isinstance(tx, str):
            key, had = _without_repeats(tx)
            members.setdefault(key, []).append(i)
            if had:
                with_run.add(key)
    for key in with_run:
        for j in members[key][1:]:
            parent[root(j)] = root(members[key][0])
    group = np.array([root(i) for i in range(len(ids))], dtype=np.int64)
    if (np.bincount(group, minlength=len(ids)) > 1).any():  # a span that emits two of a group: two statements
        pos = pd.Series(np.arange(len(ids)), index=ids)
        both = pd.concat(pairs, keys=range(len(pairs)), names=["side", None]).reset_index(level="side")
        both = both[both["template_id"].isin(pos.index)]
        both["g"] = group[pos.reindex(both["template_id"].to_numpy()).to_numpy(dtype=np.int64)]
        n = both.drop_duplicates(["side", "row", "template_id"]).groupby(["side", "row", "g"]).size()
        split = np.unique(n[n > 1].index.get_level_values("g").to_numpy(dtype=np.int64))
        group = np.where(np.isin(group, split), np.arange(len(ids)), group)
    return pd.Series(ids[group], index=ids, dtype=object)


_WORD = re.compile(r"<\*>|[^\W_]+|_+")  # a text's words for :func:`_without_repeats` (punctuation left out)

#: texts of more words are left as they are by :func:`_without_repeats` (a bound on its cost: 32 passes over the words)
_LIST_TEXT_WORDS = 20_000

#: the longest repeated word sequence (a list item) :func:`_without_repeats` takes as one
_ITEM_WORDS = 32


def _without_repeats(text: str) -> tuple[tuple, bool]:
    """``text``'s words (punctuation left out) with every run of a repeated sequence of up to :data:`_ITEM_WORDS`
    words holding a masked value (``<*>``: a list's item) kept once, and whether there was such a run: the key of a
    statement logging a list, whatever its length. A repeated constant ("very very") is no list.

    >>> _without_repeats("tickets: [T(seat=<*>), T(seat=<*>), T(seat=<*>)]")
    (('tickets', 'T', 'seat', '<*>'), True)
    >>> _without_repeats("tickets: [T(seat=<*>)]")
    (('tickets', 'T', 'seat', '<*>'), False)
    >>> _without_repeats("very very slow")
    (('very', 'very', 'slow'), False)
    """
    words = _WORD.findall(text)
    had = False
    n_item = 1
    while n_item <= min(_ITEM_WORDS, len(words) // 2) and len(words) <= _LIST_TEXT_WORDS:
        out, i, cut = [], 0, False
        while i < len(words):
            j = i + n_item
            if j + n_item <= len(words) and words[j] == words[i] and words[j:j + n_item] == words[i:j] \
                    and "<*>" in words[i:j]:
                while j + n_item <= len(words) and words[j:j + n_item] == words[i:i + n_item]:
                    j += n_item
                out.extend(words[i:i + n_item])
                i, cut = j, True
            else:
                out.append(words[i])
                i += 1
        if cut:
            words, had = out, True
        n_item += 1
    return tuple(words), had


#: texts longer than this many words are not matched as one statement's values (one key per word is kept while the
#: texts of one length are matched: a bound on memory)
_STATEMENT_WORDS = 200


def _same_statement(t: pd.DataFrame, te: pd.DataFrame, st: pd.DataFrame, by: list[str], stmt: pd.Series,
                    z: float) -> np.ndarray:
    """Template evidence no larger than its statement's (:func:`_statements`): a template whose share rose as much
    as another value of the same statement fell (the incident queried other stations) is the same code path logging
    other data, not a change in it. The statement's change is measured as a template's (:func:`_stratified`, on the
    spans emitting any of its templates — no span emits two); a template keeps its evidence as far as its statement
    moved the same way, and one that is its statement's only template is unchanged."""
    ev = t["evidence"].to_numpy(float).copy()
    sid = _statement_of(te["template_id"], stmt)
    if not (sid != te["template_id"].to_numpy(dtype=object)).any():
        return ev
    kc = [*by, _CTX]
    counts = te[kc].assign(_s=sid, c_a=te["emitting"], c_b=te["emitting_b"]).groupby(
        [*kc, "_s"], sort=False, dropna=False)[["c_a", "c_b"]].sum().reset_index()
    moved = _stratified(st, counts, by, "_s", z)
    cap = t[by].assign(_s=_statement_of(t["template_id"], stmt)).merge(moved[[*by, "_s", "evidence"]], how="left", on=[*by, "_s"])["evidence"] \
        .fillna(0.0).to_numpy(float)
    return np.sign(ev) * np.minimum(np.abs(ev), np.maximum(np.sign(ev) * cap, 0.0))


def _collected(st: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """``st`` with the span counts of a side less its silent invocations (no record in any span of the
    invocation) where every span of the operation logged on the other side: there the operation logs on every
    call, so a call that left no record at all lost its records (an export window or a pod's stream cut short);
    a code path that changed logs something else, and an exception that skipped every statement is logged where
    it is caught. Template shares are compared on the rest."""
    u = st.groupby(by, sort=False)[["n_a", "n_b", "logged", "logged_b"]].transform("sum")
    all_a = (u["logged"] == u["n_a"]).to_numpy() & (u["n_a"] > 0).to_numpy()
    all_b = (u["logged_b"] == u["n_b"]).to_numpy() & (u["n_b"] > 0).to_numpy()
    return st.assign(n_a=np.where(all_b, st["n_a"] - st["silent"], st["n_a"]),
                     n_b=np.where(all_a, st["n_b"] - st["silent_b"], st["n_b"]))


def _statement_of(template_id: pd.Series, stmt: pd.Series) -> np.ndarray:
    """Each template id's statement (``stmt``: :func:`_statements`' map), the template itself where it has none."""
    tid = template_id.astype(object).to_numpy(dtype=object)
    sid = stmt.reindex(tid).to_numpy(dtype=object)
    return np.where(pd.notna(sid), sid, tid)


def _as_statements(pairs: pd.DataFrame, stmt: pd.Series) -> pd.DataFrame:
    """(span row, template, records) pairs as (span row, statement, records): the records of a statement's templates
    (:func:`_statements`) summed per span."""
    return pairs.assign(template_id=_statement_of(pairs["template_id"], stmt)).groupby(["row", "template_id"], sort=False)["n"].sum().reset_index()


#: a baseline span's templates logged equally often (two times or more) that are paired as companion candidates, at
#: most: a bucket of more pairs none (work stays linear in the records however many templates a span repeats)
_BUCKET = 32
#: companion candidates of a template, at most: those a bucket put beside it in most spans of the choosing half
_CANDIDATES = 8


def _half(trace_id: pd.Series) -> np.ndarray:
    """Per span: its trace is in the half of the baseline companions are chosen on (by a hash of the trace id, so
    the same traces in any order or frame; the other half measures the baseline's rate)."""
    h = pd.util.hash_array(trace_id.astype(str).to_numpy(dtype=object), hash_key="tracekit-halves0")
    return (h & np.uint64(1)) == 0


def _fewer(pairs: tuple[pd.DataFrame, pd.DataFrame], keys: tuple[pd.DataFrame, pd.DataFrame], by: list[str],
           z: float, choose: np.ndarray) -> pd.DataFrame:
    """Per (key, template): the incident's spans that logged the template **fewer times than its companion** — the
    template the baseline's spans most often logged exactly as often, two or more times (the statements of one
    loop's body: an invariant of the baseline's counts in the manner of Lou et al.'s invariant mining, USENIX ATC
    2010) — among the spans that logged both, against the baseline's. An exception thrown inside a loop ends its
    iteration after the statements before it: those after are logged fewer times than those before, while each is
    still emitted by every span (TrainTicket's travel service, exception faults at 10:04, 10:12 and 10:20: 'Calculate
    distance' fewer times than 'Get Rest tickets num' in most queryInfo spans; in none of the fault-free minute's).

    The baseline's traces are split in two halves (``choose``: a hash of the trace id). On the first, a template's
    companion is chosen: of the templates some span logged as often as it, two or more times (one bucket per span and
    count, at most :data:`_BUCKET` templates), the one logged as often in most spans, if that is more than half of the
    spans that logged both beyond chance (equal > m/2 + z·√m/2). On the second the baseline's rate is measured, so
    choosing the pair that looked steadiest does not make the baseline look steadier than it is (on random counts,
    choosing and measuring on the same spans gave 0.16 of evidence where nothing changed). The change is a share's
    (:func:`_stratified`): fewer / compared in the incident against the second half's, within the contexts both
    have; a baseline that broke the pair now and then (its end holding the fault's start: TrainTicket 10:12, 10 of
    50 queryInfo spans) is measured at its own rate. Linear in the records: at most _BUCKET pairs per bucket record,
    :data:`_CANDIDATES` candidates and one companion per template. Returns ``[*by, "template_id", "fewer", "compared", "baseline_fewer",
    "baseline_compared", "companion_id", "fewer_evidence"]``."""
    ca, cb = pairs
    sides = pd.concat([keys[0][by], keys[1][by]], ignore_index=True)
    code = _group_codes(sides, by)  # one operation code over both sides
    ops = (code[:len(keys[0])], code[len(keys[0]):])
    out_cols = [*by, "template_id", "fewer", "compared", "baseline_fewer", "baseline_compared", "companion_id",
                "fewer_evidence"]
    empty = pd.DataFrame({c: pd.Series([], dtype=object) for c in out_cols})
    frames = []
    for (c, op, k) in ((ca, ops[0], keys[0]), (cb, ops[1], keys[1])):
        r = c["row"].to_numpy(dtype=np.int64)
        frames.append(pd.DataFrame({"row": r, "op": op[r], "t": c["template_id"].to_numpy(dtype=object),
                                    "n": c["n"].to_numpy(dtype=np.int64), _CTX: k[_CTX].to_numpy(dtype=object)[r]}))
    fa, fb = frames
    pick = np.asarray(choose, dtype=bool)[fb["row"].to_numpy(dtype=np.int64)]
    fs, fb = fb[pick], fb[~pick]  # the half companions are chosen on, the half the baseline's rate is measured on
    rep = fs[fs["n"] >= 2]
    size = rep.groupby(["row", "n"], sort=False)["t"].transform("size").to_numpy()
    rep = rep[(size >= 2) & (size <= _BUCKET)]
    if not len(rep) or not len(fa):
        return empty
    cand = rep[["row", "n", "op", "t"]].merge(rep[["row", "n", "t"]], on=["row", "n"], suffixes=("", "_c"))
    cand = cand[cand["t"] != cand["t_c"]].groupby(["op", "t", "t_c"], sort=False).size().rename("k").reset_index()
    cand = cand.sort_values(["op", "t", "k", "t_c"], ascending=[True, True, False, True], kind="stable")
    cand = cand[cand.groupby(["op", "t"], sort=False).cumcount().to_numpy() < _CANDIDATES][["op", "t", "t_c"]]
    k3 = ["op", "t", "t_c"]

    def both(f: pd.DataFrame, pairs_: pd.DataFrame) -> pd.DataFrame:
        """Per span that logged a pair's two templates: its counts, fewer and equal."""
        b = pairs_.merge(f, on=["op", "t"]).merge(f[["row", "t", "n"]].rename(columns={"t": "t_c", "n": "n_c"}),
                                                  on=["row", "t_c"])
        return b.assign(fewer=(b["n"] < b["n_c"]).astype(np.int64), equal=(b["n"] == b["n_c"]).astype(np.int64))

    # each candidate over the choosing half's spans that logged both: the companion is the one most often equal,
    # if more often than not beyond chance (a template's candidates are the _CANDIDATES a bucket put beside it
    # most often: the join is at most _CANDIDATES times the half's records)
    eq = both(fs, cand).groupby(k3, sort=False).agg(equal=("equal", "sum"), m=("equal", "size")).reset_index()
    m = eq["m"].to_numpy(float)
    eq = eq[eq["equal"].to_numpy(float) > m / 2 + z * np.sqrt(m) / 2]
    comp = eq.sort_values(["op", "t", "equal", "t_c"], ascending=[True, True, False, True], kind="stable") \
        .drop_duplicates(["op", "t"])[k3]
    both_a, both_b = both(fa, comp), both(fb, comp)
    if not len(both_a) or not both_a["fewer"].any():
        return empty
    # per pair and context, each side once: spans compared (n_a, n_b) and spans fewer (c_a, c_b)
    joint = pd.concat([b.groupby([*k3, _CTX], sort=False)["fewer"].agg(**{f"n_{x}": "size", f"c_{x}": "sum"})
                       for b, x in ((both_a, "a"), (both_b, "b"))], axis=1).fillna(0).reset_index()
    moved = _stratified(joint, joint.assign(_x="fewer"), k3, "_x", z)
    res = joint.groupby(k3, sort=False)[["c_a", "n_a", "c_b", "n_b"]].sum().reset_index().rename(columns={
        "c_a": "fewer", "n_a": "compared", "c_b": "baseline_fewer", "n_b": "baseline_compared"})
    res = res[res["fewer"] > 0].merge(moved[[*k3, "evidence"]], how="left", on=k3)
    op_keys = sides.iloc[_first_rows(code, int(code.max()) + 1)].reset_index(drop=True)
    out = pd.concat([op_keys.iloc[res["op"].to_numpy(dtype=np.int64)].reset_index(drop=True),
                     res.drop(columns="op").reset_index(drop=True)], axis=1).rename(
        columns={"t": "template_id", "t_c": "companion_id"})
    for c in ("baseline_fewer", "baseline_compared"):
        out[c] = out[c].fillna(0).astype(np.int64)
    out["fewer_evidence"] = np.maximum(out["evidence"].fillna(0.0).to_numpy(float), 0.0)
    return out[out_cols]


def _standardized(st: pd.DataFrame, col: str, by: list[str], z: float) -> pd.DataFrame:
    """Per key: the rise of the share of spans with ``col`` (error origins) beyond what the baseline's rate gives by
    chance, within contexts. The chance: the incident's spans at the baseline's share of their context (indirect
    standardisation), each context's share by Laplace's rule — (c_b + π) / (n_b + 2π), π the context's share of
    the incident's spans (one pseudo-span with it and one without, spread over the contexts), so 0 of 22 baseline
    spans is a chance of 1 in 24, not a certainty of none. The excess x − E counts beyond ``z`` standard errors
    of it under no change — at the chance rate p, n_a·p(1 − p) from the incident's draws plus n_a²·p(1 − p)/n_b
    from the baseline's estimate of p, summed over the contexts — over the incident's spans: a rare error
    that became common is far beyond its small null spread (7 of 20 against 0 of 22: 0.185), a noisy one whose
    rate did not move is within its wide one, and a baseline that barely saw the operation allows much.
    Contexts one side lacks are left out. Returns ``[*by, "evidence"]``."""
    s = st[(st["n_a"] > 0) & (st["n_b"] > 0)]
    n = s.groupby(by, sort=False)["n_a"].transform("sum").to_numpy(float)
    na, nb = s["n_a"].to_numpy(float), s["n_b"].to_numpy(float)
    pi = na / n
    p = (s[f"{col}_b"].to_numpy(float) + pi) / (nb + 2 * pi)
    g = pd.DataFrame({**{k: s[k] for k in by}, "x": s[col].to_numpy(float), "n": na, "e": na * p,
                      "v": na * p * (1 - p) * (1 + na / nb)}).groupby(by, sort=False)[["x", "n", "e", "v"]].sum(
                      ).reset_index()
    excess = g["x"].to_numpy(float) - g["e"].to_numpy(float) - z * np.sqrt(g["v"].to_numpy(float))
    return g[by].assign(evidence=np.maximum(excess, 0.0) / g["n"].to_numpy(float))


def log_evidence(spans: pd.DataFrame, baseline: pd.DataFrame, logs: pd.DataFrame, *, by: list[str] | None = None,
                 z: float = 2.0) -> LogEvidence:
    """Change, per operation, in the share of spans that emit each log template and in ERROR records.

    Parameters
    ----------
    spans : DataFrame
        Spans of the incident.
    baseline : DataFrame
        Spans to compare with.
    logs : DataFrame
        A logs frame holding the records of both (records are joined to each side by ids, as
        :func:`tracekit.attach_logs` joins them; records of neither are left out). Traces that started
        in a period without records are left out of both sides (module docstring).
    by : list of str, optional
        Grouping keys (default ``["service", "name"]``: an operation).
    z : float, default 2
        Standard errors a change of a share must exceed to count (module docstring).

    Returns
    -------
    LogEvidence
        ``.table`` per key, ``.templates`` per key and template.

    Raises
    ------
    ArgumentError
        ``z`` is negative or ``by`` names a column the spans lack.

    Examples
    --------
    >>> import tracekit as tk
    >>> def spans(n, t0):
    ...     return tk.spans_from_columns({"trace_id": [f"{t0 + i:032x}" for i in range(n)],
    ...         "span_id": ["1" * 16] * n, "service": ["pay"] * n, "name": ["charge"] * n,
    ...         "start": [0] * n, "end": [5] * n})
    >>> inc, base = spans(20, 1), spans(20, 101)  # (trace ids from 1: an all-zero id is no id)
    >>> logs = tk.logs_from_columns({"time": [1] * 40, "trace_id": [f"{1 + i:032x}" for i in range(20)]
    ...     + [f"{101 + i:032x}" for i in range(20)], "span_id": ["1" * 16] * 40,
    ...     "body": ["card declined: code 51"] * 20 + ["charged 12 EUR"] * 20,
    ...     "severity": ["ERROR"] * 20 + ["INFO"] * 20})
    >>> ev = log_evidence(inc, base, logs)
    >>> row = ev.table.iloc[0]
    >>> round(float(row["log_templates"]), 3), round(float(row["log_errors"]), 3), row["template"]
    (0.783, 0.823, 'card declined: code <*>')

    A loop cut short: each charge span logs 'reserved seat' then 'priced seat' per seat (3 seats); in the incident
    the last iteration throws between the two. Both statements are still logged by every span:

    >>> body = (["reserved seat", "priced seat"] * 3 * 20 + (["reserved seat", "priced seat"] * 2
    ...         + ["reserved seat"]) * 20)
    >>> ids = [f"{101 + i:032x}" for i in range(20) for _ in range(6)] + [f"{1 + i:032x}" for i in range(20) for _ in range(5)]
    >>> logs = tk.logs_from_columns({"time": [1] * len(body), "trace_id": ids, "span_id": ["1" * 16] * len(body),
    ...                              "body": body})
    >>> t = log_evidence(inc, base, logs).templates.iloc[0]
    >>> t["template"], t["measure"], t["companion"], int(t["fewer"]), int(t["compared"]), int(t["baseline_fewer"])
    ('priced seat', 'count', 'reserved seat', 20, 20, 0)
    """
    by = list(by) if by is not None else ["service", "name"]
    if not z >= 0:
        raise ArgumentError(f"log_evidence: z must be ≥ 0, got {z!r}")
    for side, frame in (("spans", spans), ("baseline", baseline)):
        require_columns(frame, ["trace_id", "span_id", "parent_id", "start", *by], f"log_evidence ({side})")
    tm = log_templates(logs)
    tid = tm["template_id"].to_numpy(dtype=object, na_value=None)
    text = pd.Series(tm["template"].to_numpy(dtype=object, na_value=None), index=tid).groupby(level=0).first() \
        if len(tm) else pd.Series([], dtype=object)
    covered = _log_periods(logs, spans, baseline)
    spans, baseline = _covered(spans, covered), _covered(baseline, covered)
    ka, ea, na, pa, keys_a = _side(spans, logs, tid, by)
    kb, eb, nb, pb, keys_b = _side(baseline, logs, tid, by)
    kc = [*by, _CTX]
    strata = ka.merge(kb, how="outer", on=kc, suffixes=("", "_b")).fillna(
        {c: 0 for c in ("spans", "spans_b", "errors", "errors_b", "known", "known_b", "cut", "cut_b", "erring", "erring_b", "relayed",
                        "relayed_b", "logged", "logged_b", "silent", "silent_b")})
    keys_ab = strata.groupby(by, sort=False)[["spans", "spans_b", "errors", "errors_b", "known", "known_b"]].sum(
        ).reset_index()
    st = strata.rename(columns={"spans": "n_a", "spans_b": "n_b"})
    te = ea.merge(eb, how="outer", on=[*kc, "template_id"], suffixes=("", "_b")).fillna({"emitting": 0, "emitting_b": 0})
    moved = _stratified(_collected(st, by) if _RULES["uncollected"] else st,
                        te.rename(columns={"emitting": "c_a", "emitting_b": "c_b"}), by, "template_id", z)
    t = te.groupby([*by, "template_id"], sort=False)[["emitting", "emitting_b"]].sum().reset_index()
    t = t.merge(keys_ab[[*by, "spans", "spans_b"]], how="left", on=by).merge(moved, how="left", on=[*by, "template_id"])
    n_a, n_b = t["spans"].to_numpy(float), t["spans_b"].to_numpy(float)
    c_a, c_b = t["emitting"].to_numpy(float), t["emitting_b"].to_numpy(float)
    share_b = np.where(n_b > 0, c_b / np.maximum(n_b, 1), 0.0)
    share_a = np.where(n_a > 0, c_a / np.maximum(n_a, 1), 0.0)
    t["share"], t["baseline_share"] = share_a, share_b
    t["delta_share"] = t["delta_share"].fillna(0.0).astype(np.float64)
    t["evidence"] = t["evidence"].fillna(0.0).astype(np.float64)
    if len(t):
        t["evidence"] = _towards_health(t, st, by, tm, logs, z)
    stmt = _statements(text, (pa, pb)) if len(t) and (_RULES["same_statement"] or _RULES["fewer"]) else None
    if len(t) and _RULES["same_statement"]:
        t["evidence"] = _same_statement(t, te, _collected(st, by) if _RULES["uncollected"] else st, by, stmt, z)
    fw = _fewer(tuple(_as_statements(p, stmt) for p in (pa, pb)), (keys_a, keys_b), by, z,
                _half(baseline["trace_id"])) if len(t) and _RULES["fewer"] else None
    if fw is not None and len(fw):  # a statement's evidence is each of its templates'
        fw = t[[*by, "template_id"]].assign(_s=_statement_of(t["template_id"], stmt)).merge(
            fw.rename(columns={"template_id": "_s"}), how="inner", on=[*by, "_s"]).drop(columns="_s")
    t = t.merge(fw, how="left", on=[*by, "template_id"]) if fw is not None and len(fw) else t.assign(
        fewer=0, compared=0, baseline_fewer=0, baseline_compared=0, companion_id=None, fewer_evidence=0.0)
    for c in ("fewer", "compared", "baseline_fewer", "baseline_compared"):
        t[c] = t[c].fillna(0).astype(np.int64)
    fe = t["fewer_evidence"].fillna(0.0).to_numpy(float)
    if len(t) and (fe > 0).any():  # fewer records is a fall: what relayed errors explain, and an ERROR statement's
        fe = -np.minimum(_towards_health(t.assign(evidence=-fe), st, by, tm, logs, z), 0.0)  # recovery, are not it
    count = fe > t["evidence"].abs().to_numpy(float)
    t["fewer_evidence"] = fe
    t["evidence"] = np.where(count, -fe, t["evidence"].to_numpy(float))
    t["measure"] = pd.array(np.where(count, "count", "share"), dtype=STRING)
    t["companion"] = pd.array(text.reindex(t["companion_id"].to_numpy(dtype=object)).to_numpy(dtype=object),
                              dtype=STRING) if len(t) else pd.array([], dtype=STRING)
    t["template"] = pd.array(text.reindex(t["template_id"].to_numpy()).to_numpy(dtype=object), dtype=STRING) \
        if len(t) else pd.array([], dtype=STRING)
    t = t.rename(columns={"emitting_b": "baseline_emitting", "spans_b": "baseline_spans"})
    for c in ("emitting", "spans", "baseline_emitting", "baseline_spans"):
        t[c] = t[c].astype(np.int64)
    t["template_id"] = t["template_id"].astype(STRING)
    # largest change first (to 12 digits: 20/30 and 1 - 10/30 are one change); ties: the larger plain change,
    # a template that appeared before one that vanished, then by key and id
    t = t.assign(_abs=t["evidence"].abs().round(12), _d=t["delta_share"].abs().round(12)).sort_values(
        ["_abs", "_d", "delta_share", *by, "template_id"], ascending=[False, False, False, *([True] * len(by)), True],
        kind="stable").drop(columns=["_abs", "_d"]).reset_index(drop=True)
    templates = t[[*by, *LOG_EVIDENCE_TEMPLATES.column_names]]
    # per key
    top = templates.drop_duplicates(by)[[*by, "evidence", "template_id", "template"]]
    k = keys_ab.merge(top, how="left", on=by)
    n_a, n_b = k["known"].to_numpy(float), k["known_b"].to_numpy(float)  # the spans whose errors are known
    e_a, e_b = k["errors"].to_numpy(float), k["errors_b"].to_numpy(float)
    es_b = np.where(n_b > 0, e_b / np.maximum(n_b, 1), 0.0)
    es_a = np.where(n_a > 0, e_a / np.maximum(n_a, 1), 0.0)
    sk = st.assign(n_a=st["known"], n_b=st["known_b"])  # the errors' population: the spans whose errors are known
    if _RULES["standardized_errors"]:
        err = _standardized(sk, "errors", by, z)
    else:
        err = _stratified(sk, sk[kc].assign(_e="errors", c_a=sk["errors"], c_b=sk["errors_b"]), by, "_e", z)
    rise = k[by].merge(err[[*by, "evidence"]], how="left", on=by)["evidence"].fillna(0.0).to_numpy(float)
    table = pd.DataFrame({
        **{c: pd.array(k[c].replace("\x00<NA>", None).to_numpy(dtype=object), dtype=STRING) for c in by},
        "spans": k["spans"].astype(np.int64), "baseline_spans": k["spans_b"].astype(np.int64),
        "log_templates": k["evidence"].abs().fillna(0.0).astype(np.float64),
        "template_id": pd.array(k["template_id"].to_numpy(dtype=object), dtype=STRING),
        "template": pd.array(k["template"].to_numpy(dtype=object), dtype=STRING),
        "error_share": es_a, "baseline_error_share": es_b,
        "unknown": (k["spans"] - k["known"]).astype(np.int64), "baseline_unknown": (k["spans_b"] - k["known_b"]).astype(np.int64),
        "log_errors": np.maximum(rise, 0.0)})
    table = table.sort_values(["log_templates", "log_errors", *by], ascending=[False, False, *([True] * len(by))],
                              kind="stable").reset_index(drop=True)
    for c in by:
        templates[c] = pd.array(templates[c].replace("\x00<NA>", None).to_numpy(dtype=object), dtype=STRING)
    return LogEvidence(table=table, templates=templates.reset_index(drop=True), records=(na, nb),
                       params=dict(by=by, z=z))


#: the log evidence rank_causes adds to its score (columns of LOG_EVIDENCE)
LOG_EVIDENCE_KINDS = ("log_templates", "log_errors")


def decided_by(table: pd.DataFrame, kinds: Sequence[str], weights: dict[str, float]) -> pd.api.extensions.ExtensionArray:
    """Per row of rank_causes' ``table``: the kind of evidence among ``kinds`` that weighed most (its column times its
    weight), as ``'traces: <kind>'`` or ``'logs: <kind>'`` (:data:`LOG_EVIDENCE_KINDS`), or ``'nothing (no evidence
    above zero)'``: rank_causes' ``decided_by``, one wording for logs= and metrics= (which then names a metric where
    the metrics weigh more).

    >>> t = pd.DataFrame({"slower": [0.4, 0.0], "errors": [0.1, 0.0], "log_errors": [0.6, 0.0]})
    >>> decided_by(t, ["slower", "errors", "log_errors"], {}).tolist()
    ['logs: log_errors', 'nothing (no evidence above zero)']
    """
    contrib = np.column_stack([table[c].to_numpy(float) * float(weights.get(c, 1.0)) for c in kinds]) if len(table) \
        else np.zeros((0, len(kinds)))
    best = contrib.argmax(axis=1) if len(table) else np.zeros(0, dtype=np.int64)
    return pd.array([("logs: " if kinds[i] in LOG_EVIDENCE_KINDS else "traces: ") + kinds[i]
                     if contrib[j, i] > 0 else "nothing (no evidence above zero)" for j, i in enumerate(best)],
                    dtype=STRING)


def join_log_evidence(table: pd.DataFrame, incident: pd.DataFrame, baseline: pd.DataFrame, logs: pd.DataFrame,
                      keys: list[str], evidence: tuple[str, ...], weights: dict, z: float = 2.0) -> pd.DataFrame:
    """``rank_causes``' table (evidence and score columns, before sorting) with the log evidence of its
    components joined, added to ``score``, and ``decided_by`` naming the evidence that weighed most.

    Per component at the level's ``keys``, the largest value over its operations.

    Parameters
    ----------
    table : DataFrame
        rank_causes' table so far.
    incident, baseline : DataFrame
        The two sides rank_causes compares (with the level's key columns).
    logs : DataFrame
        A logs frame.
    keys : list of str
        The level's key columns.
    evidence : tuple of str
        rank_causes' trace evidence columns.
    weights : dict
        Weight of each evidence (log evidence missing from it weighs 1).
    z : float
        As in :func:`log_evidence`.

    Returns
    -------
    DataFrame
        A new table.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.examples.load("checkout-small")
    >>> t = join_log_evidence(pd.DataFrame({"service": ["api"], "slower": [0.2], "score": [0.2]}), spans, spans,
    ...                       tk.empty_logs(), ["service"], ("slower",), {"slower": 1.0})
    >>> t["decided_by"].tolist()
    ['traces: slower']
    """
    by = keys if "name" in keys else [*keys, "name"]
    found = log_evidence(incident, baseline, logs, by=by, z=z)
    ev = found.table
    per = ev.groupby(keys, sort=False, dropna=False)[list(LOG_EVIDENCE_KINDS)].max().reset_index() if len(ev) else \
        pd.DataFrame({**{k: pd.Series([], dtype=STRING) for k in keys}, **{c: pd.Series([], dtype=float) for c in LOG_EVIDENCE_KINDS}})
    # the counts behind the words: the template change with the most evidence, and the operation whose ERROR
    # origins rose most (dropped by rank_causes with its other working columns)
    tt = found.templates.drop_duplicates(keys)
    top = pd.DataFrame({**{k: tt[k] for k in keys}, "log_template": tt["template"],
                        "_log_counts": [_count_words(r) for r in tt.itertuples(index=False)],
                        "_log_companion": tt["companion"].where(tt["measure"] == "count")})
    et = ev.sort_values("log_errors", ascending=False, kind="stable").drop_duplicates(keys)
    top = top.merge(pd.DataFrame({**{k: et[k] for k in keys}, "_log_error_counts": [
        f"{round(e * n) if n else 0} of {int(n)} {nm} spans"
        + (f" (of known outcome; {int(u):,} still in progress left out)" if u else "")
        + f" against {round(eb * nb) if nb else 0} of the baseline's {int(nb)}"
        for e, n, u, eb, nb, nm in zip(et["error_share"], et["spans"] - et["unknown"], et["unknown"],
                                       et["baseline_error_share"], et["baseline_spans"] - et["baseline_unknown"],
                                       et["name"], strict=True)]}),
        how="outer", on=keys)
    out = table.copy()
    for k in keys:
        out[k] = out[k].astype(STRING)
        per[k] = per[k].astype(STRING)
        top[k] = top[k].astype(STRING)
    out = out.merge(per, how="left", on=keys).merge(top, how="left", on=keys)
    for c in LOG_EVIDENCE_KINDS:
        out[c] = out[c].fillna(0.0).astype(np.float64)
        out["score"] = out["score"] + float(weights.get(c, 1.0)) * out[c]
    out["decided_by"] = decided_by(out, [*evidence, *LOG_EVIDENCE_KINDS], weights)
    # what the log evidence stands on: a table of zeros from logs that joined no span must not read as "no change"
    untimed = logs["time"].isna().to_numpy() if len(logs) else np.zeros(0, dtype=bool)
    placed = int(np.count_nonzero(untimed & (record_times(logs, incident, baseline) != np.iinfo(np.int64).min))) \
        if untimed.any() else 0
    out.attrs["log_records"] = dict(given=len(logs), incident=int(found.records[0]), baseline=int(found.records[1]),
                                    without_time=int(untimed.sum()), without_time_placed=placed)
    return out


def _short(text: object, n: int = 120) -> str:
    """A template's text cut to ``n`` characters with an ellipsis."""
    text = str(text)
    return text if len(text) <= n else text[:n - 3] + "…"


def _count_words(r) -> str:
    """What a template row of :data:`LOG_EVIDENCE_TEMPLATES` counted, as words following "'<template>' logged"."""
    if r.measure == "count":
        return (f"fewer times than {_short(r.companion, 80)!r} in {int(r.fewer)} of {int(r.compared)} {r.name} spans "
                f"that logged both, against {int(r.baseline_fewer)} of the {int(r.baseline_compared)} in half the "
                f"baseline's traces (the other half chose the pair)")
    return f"by {int(r.emitting)} of {int(r.spans)} {r.name} spans against {int(r.baseline_emitting)} of the " \
           f"baseline's {int(r.baseline_spans)}"


def log_examples(table: pd.DataFrame, incident: pd.DataFrame, logs: pd.DataFrame, keys: list[str]) -> list[str | None]:
    """Per row of ``rank_causes``' table, an incident trace that shows the log evidence that decided it, else None.

    A row decided by ERROR logs (``decided_by`` ``logs: log_errors``) gets the trace with most of the component's
    spans where an ERROR record originates (one with no erring descendant); a row decided by log statements
    (``logs: log_templates``) the trace with most of its spans that emit its ``log_template`` — that logged it
    fewer times than its companion, where a ``_log_companion`` column names one (the count's evidence). Ties go to the
    trace that started first. Other rows, and a template no incident span emits (a statement that fell silent),
    get None: the trace evidence's example stands. The trace evidence's example was shown before, and at
    TrainTicket 09:12 (basic's wrong return value, ranked by its ERROR logs) it held none of them.

    Parameters
    ----------
    table : DataFrame
        rank_causes' table with ``decided_by`` and ``log_template`` and the level's ``keys``.
    incident : DataFrame
        The incident's spans (with the level's key columns).
    logs : DataFrame
        A logs frame.
    keys : list of str
        The level's key columns.

    Returns
    -------
    list of str or None
        One trace id per row of ``table``.

    Examples
    --------
    >>> import tracekit as tk
    >>> inc = tk.spans_from_columns({"trace_id": ["a" * 32, "b" * 32], "span_id": ["1" * 16, "2" * 16],
    ...     "service": ["pay", "pay"], "name": ["charge", "charge"], "start": [0, 1], "end": [5, 6]})
    >>> logs = tk.logs_from_columns({"time": [2], "trace_id": ["b" * 32], "span_id": ["2" * 16],
    ...     "body": ["card declined"], "severity": ["ERROR"]})
    >>> t = pd.DataFrame({"service": ["pay"], "decided_by": ["logs: log_errors"], "log_template": [None]})
    >>> log_examples(t, inc, logs, ["service"]) == ["b" * 32]
    True
    """
    out: list[str | None] = [None] * len(table)
    decided = table["decided_by"].astype(object).tolist() if "decided_by" in table.columns else []
    wanted = [i for i, d in enumerate(decided) if d in ("logs: log_errors", "logs: log_templates")]
    if not wanted or not len(incident) or not len(logs):
        return out
    row, _, _ = log_span_rows(incident, logs)
    ok = row >= 0
    rows = row[ok]
    err = logs["severity_text"].astype(STRING).isin(_ERROR).to_numpy(dtype=bool)[ok]
    has_error = np.zeros(len(incident), dtype=bool)
    has_error[rows[err]] = True
    origin = _error_origins(incident, has_error)
    tm = log_templates(logs)
    text = tm["template"].to_numpy(dtype=object, na_value=None)[ok]
    # each span's key as a code, and each key's spans and each template's records grouped once: a row looks at its
    # own spans and records only (a pass over every span per row took 16 s for 800 rows of 200k spans)
    span_keys = incident[keys].astype(object).fillna("\x00<NA>").reset_index(drop=True)
    kcode = _group_codes(span_keys, keys)
    n_k = int(kcode.max()) + 1 if len(kcode) else 0
    key_of = {k: c for c, k in enumerate(span_keys.iloc[_first_rows(kcode, n_k)].itertuples(index=False, name=None))}
    by_key = np.argsort(kcode, kind="stable")
    k_end = np.cumsum(np.bincount(kcode, minlength=n_k))
    t_code, t_uniq = pd.factorize(pd.Series(text, dtype=object))  # a missing template: -1
    by_t = np.argsort(t_code, kind="stable")
    t_end = np.cumsum(np.bincount(t_code[t_code >= 0], minlength=len(t_uniq)))
    t_of = {t: c for c, t in enumerate(t_uniq)}
    n_miss = int((t_code < 0).sum())

    emitters: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def emitting_spans(template: str) -> tuple[np.ndarray, np.ndarray]:  # the spans emitting it, and how many times
        if template not in emitters:
            c = t_of.get(template)
            emitters[template] = np.unique(np.zeros(0, dtype=np.int64) if c is None else
                                           rows[by_t[n_miss + (t_end[c - 1] if c else 0):n_miss + t_end[c]]],
                                           return_counts=True)
        return emitters[template]

    tid = incident["trace_id"].to_numpy(dtype=object)
    first_start = incident.groupby("trace_id", sort=False, observed=True)["start"].transform("min").to_numpy(
        dtype="datetime64[ns]").view(np.int64)
    trace_code = pd.factorize(incident["trace_id"].astype(object).to_numpy())[0]
    for i in wanted:
        r = table.iloc[i]
        code = key_of.get(tuple("\x00<NA>" if r[k] is None or r[k] is pd.NA else r[k] for k in keys))
        if code is None:
            continue
        if decided[i] == "logs: log_errors":
            mine = by_key[(k_end[code - 1] if code else 0):k_end[code]]
            hit = np.sort(mine[origin[mine]])
        else:
            template = r.get("log_template")
            if not isinstance(template, str):
                continue
            emitting, n_t = emitting_spans(template)
            companion = r.get("_log_companion")
            if isinstance(companion, str):  # spans that logged it fewer times than its companion
                c_rows, c_n = emitting_spans(companion)
                at = np.minimum(np.searchsorted(c_rows, emitting), max(len(c_rows) - 1, 0))
                n_c = np.where((at < len(c_rows)) & (c_rows[at] == emitting), c_n[at], 0) if len(c_rows) else \
                    np.zeros(len(emitting), dtype=np.int64)
                emitting = emitting[n_t < n_c]
            hit = emitting[kcode[emitting] == code]
        if not len(hit):
            continue
        # the trace with most of them; ties: the one that started first, then the first met (hit is in row order)
        _, first_hit, n = np.unique(trace_code[hit], return_index=True, return_counts=True)
        best = np.lexsort((first_hit, first_start[hit[first_hit]], -n))[0]
        out[i] = str(tid[hit[first_hit[best]]])
    return out


def log_hypotheses(table: pd.DataFrame) -> pd.Series:
    """``rank_causes``' hypotheses with the log evidence said where it is above 0.05.

    Parameters
    ----------
    table : DataFrame
        rank_causes' table with ``hypothesis``, ``log_templates``, ``log_errors`` and ``log_template``.

    Returns
    -------
    Series
        The hypotheses (string).

    Examples
    --------
    >>> t = pd.DataFrame({"hypothesis": ["pay: nothing differs."], "log_templates": [0.6], "log_errors": [0.0],
    ...                   "log_template": ["card declined: code <*>"]})
    >>> log_hypotheses(t).iloc[0]
    "pay: nothing differs. Logs: the share of its spans emitting 'card declined: code <*>' changed, score 0.60."
    """
    out = []
    n = len(table)
    counts = table["_log_counts"].astype(object) if "_log_counts" in table.columns else pd.Series([None] * n)
    err_counts = table["_log_error_counts"].astype(object) if "_log_error_counts" in table.columns else pd.Series([None] * n)
    for h, lt, le, tmpl, c, ec in zip(table["hypothesis"].astype(object), table["log_templates"], table["log_errors"],
                                      table["log_template"].astype(object), counts, err_counts, strict=True):
        extra = []
        if lt > 0.05 and isinstance(tmpl, str):
            short = _short(tmpl)
            extra.append(f"{short!r} logged {c}, score {lt:.2f}" if isinstance(c, str)
                         else f"the share of its spans emitting {short!r} changed, score {lt:.2f}")
        if le > 0.05:
            extra.append(f"ERROR records originate in {ec}, score {le:.2f}" if isinstance(ec, str)
                         else f"the share of its spans where an ERROR record originates rose, score {le:.2f}")
        out.append(f"{h} Logs: " + "; ".join(extra) + "." if extra else h)
    return pd.Series(pd.array(out, dtype=STRING), index=table.index)
