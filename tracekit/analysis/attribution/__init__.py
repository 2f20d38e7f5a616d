"""What distinguishes the slow and the failing traces: attribute correlation, version regressions,
cold starts.

:func:`bubble_up` — like Honeycomb's BubbleUp: every attribute, resource attribute, X-Ray
annotation (``annotation.*``) and a few derived dimensions (``service``, ``operation`` =
``service: name``, ``status_class`` = HTTP ``2xx``/``4xx``/``5xx``, ``host``, ``region``,
``version`` = ``service@version``; with log records attached by :func:`tracekit.attach_logs`,
``log_template`` and ``log_severity`` of the records a span emitted) is compared between a *selection* of traces (or spans) and a
*baseline* (the rest, or a given set).

* **Presence.** At ``level="trace"`` a trace *has* a value if any of its spans has it; at
  ``level="span"`` each span is a unit. A unit can have several values of one key (a trace runs
  several services); each (key, value) is one yes/no property of the unit.
* **Explosion.** The dict columns are exploded in one pass into (unit, key, value) triples —
  each distinct dict object is flattened once (resources are shared by many spans) and expanded
  with numpy — then every count is a ``bincount`` over codes: no per-key pass over the frame.
  Nested dicts (X-Ray ``metadata.<namespace>``) become dotted keys; lists are joined with ``,``.
* **Buckets.** A key with more than ``top_k`` distinct values keeps its ``top_k`` most frequent
  values and puts the rest in ``"other"``; a numeric key with more than ``top_k`` distinct values
  is cut at its quantiles (``bins`` buckets, labelled ``[lo, hi)``). Nothing is dropped for
  cardinality. Ids and timestamps are excluded by key name (trace/span/parent/request/invocation/
  message ids, bare ``id``/``uuid``, ``time``/``start_time``/``timestamp``…, and X-Ray's
  ``xray.trace.Duration``, which *is* the latency); ids that may explain a problem (account,
  instance, deployment, customer ids) are kept and bucketed;
  the excluded keys are listed in ``hits.attrs["excluded"]``.
* **Statistics** per (dimension, value), with ``a``/``b`` units having it in the selection /
  baseline out of ``n_sel``/``n_base``: ``share_selection`` = a/n_sel, ``share_baseline`` =
  b/n_base, ``diff`` (their difference, the effect size) with a Newcombe hybrid-score interval
  (``diff_lo``, ``diff_hi``; Wilson intervals combined — good coverage for small counts and
  shares near 0 or 1), ``lift`` (ratio of shares), ``odds_ratio`` (Haldane +0.5),
  ``p_value`` from Fisher's exact test (two-sided by doubling the smaller hypergeometric tail,
  capped at 1; vectorised with :func:`tracekit.core.distributions.hypergeom_cdf` and ``hypergeom_sf``) and ``q_value`` by Benjamini–Hochberg
  over every row of the table. ``latency_with_ms``/``latency_without_ms`` (mean unit duration of
  the selection ∪ baseline units with / without the value), ``delta_latency_ms`` and the same for
  ``error_rate`` (at ``level="trace"`` the request failed — :func:`tracekit.core.trace_outcomes`; at
  ``level="span"`` the span failed — :func:`tracekit.core.failed`; 4xx client errors are not failures).
* **Rank.** By ``score`` = the bound of the ``diff`` interval nearest to 0 (0 when the interval
  crosses 0): a large difference measured on few traces ranks below a slightly smaller one measured
  on many. Ties go to derived dimensions first (``host`` before ``resource.host.name``), then by name.

:func:`version_regressions` — per service and version: entry spans (the requests the service
handled), ``first_seen`` (a deploy marker), latency p50/p95, error rate, critical-path ms per
trace, each compared with the previous version (by first appearance) with percentile-bootstrap
intervals, a ``regression`` flag and whether the first appearance lines up with an incident window.

:func:`cold_starts` — serverless cold starts per function (from :func:`lambda_invocations`):
OTLP ``faas.coldstart``, X-Ray ``Initialization`` subsegments of a Lambda function segment
(``origin`` ``AWS::Lambda::Function``). Share of cold invocations, initialisation time, the
latency a cold start adds to an invocation (cold − warm mean, bootstrap interval), the
critical-path time of the initialisation and the share of the slowest traces that had one.

>>> import tracekit as tk
>>> spans = tk.examples.load("bad-host-small")
>>> hits = tk.bubble_up(spans, lambda t: t.request_ms > t.request_ms.quantile(0.8))
>>> hits.attrs["n_selection"], hits.attrs["n_baseline"]
(8, 32)
"""

from .bubble import DERIVED, bubble_up
from .lambdas import cold_starts, lambda_invocations
from .versions import version_regressions

__all__ = ["bubble_up", "version_regressions", "cold_starts", "lambda_invocations", "DERIVED"]
