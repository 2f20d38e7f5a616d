"""Async workflows: follow work across traces through links and queues.

Messaging breaks one piece of work into several traces: a message sent to SQS, Kafka or SNS is
handled later by a consumer that often starts a trace of its own, *linked* to the span that
produced the message. :func:`stitch` finds these hops and groups the traces they join into
*workflows*; :func:`workflow_summary` gives each workflow's end-to-end time and the time its
messages spent waiting in queues; :func:`workflow_critical_path` (also
``critical_path(spans, across_links=True)``) continues the critical path through the hops, with
each queue wait as a section of its own.

How a hop is found (``via``, tried in this order; a consumer span matched by an earlier rule is
not matched again):

``"links"`` — explicit context, confidence 1:
    * rule ``parent``: a CONSUMER span whose parent (same trace) is a hand-off span (a PRODUCER
      span, a messaging span, an X-Ray SQS ``SendMessage`` / SNS ``Publish`` subsegment:
      :func:`tracekit.core.is_async_handoff`); or — X-Ray, where every segment is read as a server
      span — a segment of another service (not an inferred one) under a hand-off subsegment, or
      under the inferred ``SQS`` / ``SNS`` segment of one: SQS passes the sender's trace header
      (``AWSTraceHeader``) to the Lambda it triggers, whose segment then names the ``SendMessage``
      subsegment as its parent;
    * rule ``link``: a span carrying a link (``links`` column: OTLP span links, X-Ray segment
      ``links``) to a span in the data that is not its parent. The linked span is the producer,
      the linking span the consumer (OTel messaging: the consumer links to the message's creation
      context). Spans linking to each other, directly or round a cycle: a message cannot go round, so
      the link of the cycle pointing furthest back against time is refused (``link_back`` in
      ``Stitched.unresolved``), and then every other link that was on it and points back by more than
      ``tolerance_ms`` (two overlapping spans linking each other: both). Before: every link kept at
      confidence 1, one with a negative wait.
``"messaging"`` and ``"heuristic"`` take as producers hand-off spans that do not consume (a span with
``messaging.system`` whose ``messaging.operation`` is receive/process/… is a consumer, whatever its kind).

``"messaging"`` — rule ``message_id``: a hand-off span and a consumer span that carry the same
    message id (``messaging.message.id``, legacy ``messaging.message_id``, ``aws.sqs.message_id``;
    OTel messaging semantic conventions; ``aws.message_id``, the ``MessageId`` an X-Ray SDK records on
    an SQS ``SendMessage`` subsegment), or the same Kafka topic, partition
    (``messaging.destination.partition.id``, legacy ``messaging.kafka.partition``) and offset
    (``messaging.kafka.offset``, legacy ``messaging.kafka.message.offset``), which OTel's Kafka
    instrumentation sets on both the producer and the consumer span; the producer being the latest
    one to end before the consumer starts (``tolerance_ms`` after; when none did, its clock behind,
    the first to end after it), of the consumer's destination when one of that destination
    has the id (ids are unique within a queue, not across queues). Confidence 1 when one producer
    (of that destination) has the id, else 0.9.
``"heuristic"`` — rule ``heuristic``, last and documented: a consumer span with no parent in the
    data (a trace root, or an orphan), and no link that points only outside the data (its producer
    is then known to be a span not loaded), nor a child that took a message by a link, parent or message
    id (a batch ``receive`` span over its ``process`` spans: its messages are theirs), is matched to a hand-off span of the same *destination*
    (``messaging.destination.name``, legacy ``messaging.destination``, the last part of an SQS
    queue URL or SNS topic ARN — two queues of one name whose URLs or ARNs name two AWS regions or accounts
    are two queues, and so are they for a message id; before, a message sent to ``orders`` of one account
    was paired with a consumer of ``orders`` of the other —, else the destination in an OTel span name ``"<destination>
    <operation>"`` / ``"<operation> <destination>"`` with operation publish/send/create/receive/
    process/deliver/settle) that ended at most ``max_wait_ms`` before it started (``tolerance_ms``
    after, for clock skew), and of the same partition when every producer and consumer of that
    destination names one (a Kafka partition is a queue of its own). Among those the nearest in time
    that is still unmatched wins (each producer feeds one consumer of each consumer group, named by
    ``messaging.consumer.group.name``, legacy ``messaging.kafka.consumer.group``, or a subscription,
    ``messaging.destination.subscription.name``; last in, first out); with
    ``order="fifo"`` the first sent that is still unmatched wins (first in, first out). Confidence = 0.8 / k, k the number of
    producers of that destination that ended within twice the chosen wait before the consumer
    started, plus the number of other heuristic hops of that destination that *cross* this one (an
    older message consumed later, or a newer one earlier): a queue delivers in order, so of two
    crossing hops at least one is misread. A lone message in flight crossing nothing gives 0.8. And a tenth of
    that when the in-order reading (``order="fifo"``, run on the same queue) pairs the consumer with another
    producer (a consumer it leaves unpaired says nothing): over the queues measured below (3 seeds), 296 of the
    19,044 hops the two readings pair otherwise were right (1.6 %), against 9,307 of the other 10,582 (88 %)
    (before this tenth, 2,336 wrong hops of 29,626 reached 0.5; now 324).

    When it is wrong. Nearest-first is right while the queue drains between messages (consumers
    keep up), also with producers or consumers missing from the data (sampled out). It is wrong
    when the queue holds a backlog (producers faster than consumers): messages every 10 ms and one
    consumer taking 12 ms each (400 messages, true waits growing from 1 ms to 0.8 s, median 400 ms)
    pair 4 of 400 right and read a median wait of 4 ms. Those hops cross one another, so their
    confidence says so: median 0.02, and 1 of the 396 wrong hops at 0.5 or more (before crossings
    counted: all at 0.8). With one consumer in ten missing as well, 122 of 355 wrong hops reached
    0.5 (the producers left over are never matched, so cross nothing); the in-order reading pairs
    them otherwise, so now none does. With arrivals at
    random (Poisson, every 10 ms on average) and 3 ms of work it pairs 247 of 400 right (messages
    arriving close together are swapped; the swapped hops cross: confidence 0.27 median).
    Read heuristic hops below 0.5 as "a message went this way about then", not as pairs; message ids
    or links on the spans make the other rules exact.

    ``order="fifo"`` — declare a queue that delivers in order (an SQS FIFO queue with one message
    group, a Kafka partition). Consumers take the first-sent unmatched message, and the queue is
    replayed to find messages taken by consumers missing from the data (sampled out): with as many
    consumers at work as ever ran at once in the data, each taking the next message when free, a
    message one of them could have started before the next consumer in the data started, by more than
    half the time between two starts of busy consumers (a median job / consumers at once), was taken
    by one the data lacks (who then worked a median job), so it is skipped. What it
    cannot see is a *producer* missing while messages wait: the consumer of that message takes the
    next one, and the pairs after it shift until the queue drains. A consumer that picks messages up
    later than the time between two messages (polling) is read two ways, the delay bounded from below
    (time from the latest hand-over to a start) and from above (least wait of the in-order pairing
    without skips), and the reading that leaves fewer consumers without a message wins: messages every
    10 ms picked up 20 ms after hand-over, one consumer in ten missing, 90 of 90 right (before: 0 of
    89, 79 at 0.4). When both readings leave as many (a 15 ms delay with the last consumer missing;
    a first consumer missing under a 2 ms delay) time cannot tell them apart: the lower one is kept and
    the pairs the other reads otherwise get half the confidence.
    Its confidence is 0.8 / (1 + k + the messages skipped just before the pair), k the consumers left
    without a message (after the queue's first paired producer ended) in the pair's stretch of waiting
    messages and the next one, a stretch beginning at a message handed to an idle consumer (which no
    shift crosses: an older message waiting would have been taken first; such a pair counts none),
    plus, queue-wide, the lesser of the skips and the consumers left without a message (a queue read as
    missing consumers and producers at once, as two partitions read as one, is no in-order queue): a
    consumer left without a message is where a missing producer shows, a skip where a consumer was
    read as missing. Right pairs of 400 messages through one destination, producers
    every 10 ms (light: 3 ms of work; jitter: Poisson arrivals; busy: 8 ms of work; backlog: 12 ms of
    work; bursts: 20 messages at once every 0.2 s; 2 queues: two partitions of one topic, each with its
    consumer, the partition not named; 4 workers: four consumers in parallel, 45 ms each, Poisson
    arrivals), nearest | fifo, and in brackets the wrong hops at confidence 0.5 or more, nearest | fifo;
    spans missing at random (``benchmarks/stitch_reliability.py --seeds 1``, which also prints the
    reliability table: share right per confidence bin)::

        missing:       none                 10 % consumers       30 % consumers       10 % producers
        light          400 | 400 (0 | 0)    358 | 358 (0 | 0)    295 | 295 (0 | 0)    372 | 372 (0 | 0)
        light jitter   281 | 400 (0 | 0)    264 | 372 (0 | 0)    206 | 280 (0 | 0)    258 | 349 (6 | 4)
        busy jitter    169 | 400 (0 | 0)    157 | 372 (0 | 0)    125 | 280 (0 | 0)    153 | 289 (20 | 3)
        backlog          4 | 400 (0 | 0)      2 | 358 (0 | 0)      1 | 295 (0 | 0)      2 | 59 (0 | 0)
        bursts           0 | 400 (0 | 0)     11 | 303 (0 | 53)     7 | 155 (0 | 101)    4 | 159 (0 | 8)
        2 queues       107 | 150 (4 | 0)    106 | 139 (8 | 0)     89 | 110 (16 | 0)    99 | 127 (41 | 0)
        4 workers       33 | 400 (0 | 0)     33 | 369 (0 | 3)     23 | 263 (0 | 11)    30 | 80 (25 | 5)

    Reliability over 3 seeds of these (about 30,000 hops each order): nearest-first hops at 0.8 are 96.4 %
    right, at 0.4 60 %, below 0.1 2 % (before the in-order check: 0.8 → 79 %, 0.4 → 15 %, 0.2-0.3 → 8 %); fifo hops
    at 0.8 are 97.0 % right (19,290 hops), at 0.4 86 %, 0.2-0.3 58 %, 0.1-0.2 45 %, below 0.1 22 % (5,691 hops; most
    of those right are of two partitions read as one queue). Before the count was per stretch, one per queue:
    16,697 hops at 0.8, 0.4 92 %, below 0.1 47 % of 10,265 (a queue that drains between messages with one
    producer in ten missing put all its hops, all right, at 0.02); the wrong fifo hops at 0.5 or more went from
    520 to 578 (those of the producers-missing column).

    Median error of the waits read, backlog: 380 ms (nearest) and 0 (fifo) with nothing missing or
    consumers missing; 330 and 120 ms with producers missing. With producers missing every fifo hop
    is below 0.5, the right ones too (light: 359 right, all below 0.5). Consumers working in parallel,
    in order, under a backlog (messages at random every 10 ms on average, four consumers taking 45 ms
    each): 363 of 369 right with one consumer in ten missing (6 wrong hops at 0.5 or more), 269 of 290
    with three in ten (13). A consumer picking messages up late (polling) is allowed for: the 10th
    percentile of the time from the latest hand-over to a consumer's start is taken as that delay, or the
    least wait of the in-order pairing without skips when that reading leaves fewer consumers without a
    message (see above). Two order-preserving alignments with skips (least total change of
    wait between successive pairs; least distance to a rolling median wait) were measured too and
    were worse on several rows (busy jitter, bursts: under 20 of 400), so they are not offered.

``queue_wait_ms`` = consumer start − producer end (negative when clocks disagree; kept as is).

What was left unresolved. ``Stitched.unresolved`` has one row per message end without a partner, with
its ``reason`` (``UNRESOLVED_REASONS``): every link to a span not in the data (``link_outside``, with the
linked ids), to the linking span itself (``link_to_itself``) or back against time to a span that links to it
(``link_back``), every consumer span paired with no producer (its message id sent by no span of the data,
its queue without producers, its queue's producers all ending after it started, none within
``max_wait_ms``, all taken by other consumers, no queue named, under a parent that is no hand-off, or
no rule in ``via`` to try), and every hand-off span whose message no consumer took (no consumer of
its queue started within ``max_wait_ms`` after it: ``no_consumer``; or all those were paired with
other producers: ``consumers_taken``). So "no consumer in the data" and "not stitched" read apart.
A workflow is a connected set of traces joined by hops; its ``workflow_id`` is the trace id of
its *first request*: the earliest-starting trace that no hop from another trace leads into (the
earliest trace of all when every trace is fed, a cycle of hops). A trace without hops is a
workflow of its own, with its own id.

Skewed clocks. Traces of a workflow are timed by different hosts. A consumer whose clock is
behind may start, or even end, before its producer ended. With links, message ids or a parent the
hop is still found. By time alone (the heuristic) it is not, and queue timing cannot tell a clock
behind from a later pick-up: 100 messages every 10 ms taken 1 ms after hand-over by consumers whose
clock is 300 ms behind give 70 hops, each to the message sent 300 ms before the right one, at 0.8,
and 30 consumers left without a producer. Those 30 are listed in ``Stitched.unresolved`` with reason
``producers_after`` (their queue's producers all ended after they started), and the last 30 producers
with ``no_consumer``: consumers before the first producer of their queue and producers after the last
consumer, both at once, are the mark of a clock behind (or of the data's time window cutting a busy
queue at both ends). Then:

* it is still not the first request: the workflow starts with the request that sent the message;
* :func:`workflow_summary` measures ``end_to_end_ms`` from the first request's start to the last
  end of any span of the workflow, as recorded, and ``request_ms`` is that request's own latency;
* :func:`workflow_critical_path` starts a consumer's sections no earlier than its producer's end,
  by the recorded clocks (the time before belongs to the producer's side of the path); a consumer
  that ended before its producer ended (and before the rest of the workflow) is left off the path.

So the sections still tile ``[start, end]`` of the summary (their durations add up to
``end_to_end_ms``) whenever the workflow's last span end is on the path and the path goes back to
the first request, but the split between the two sides of a skewed hop follows the clocks, not
what happened. (A batch consumer fed by several requests follows the producer that ended last;
when that is not the first request's, the path starts at its request's start and adds up to less
than ``end_to_end_ms``, by the time from the first request's start to that one's.) Find skewed hosts with
:func:`tracekit.detect_clock_skew` and correct them with :func:`tracekit.adjust_clock_skew` first.
A span exported twice (an id repeated in a trace) is one span: its other copies feed and take no
message (the span tree's ``duplicate`` rows, as in every analysis).
Every function returns new objects and never modifies its input.

Speed: one pass over the link lists and the attribute dicts of candidate spans; everything else
is numpy (``benchmarks/bench_workflows.py``).
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from ..core import (
    get_attribute,
    is_async_handoff,
    ns,
    number_arg,
    percentile,
    require_columns,
    result_table,
    span_rows,
    span_tree,
    to_timestamps,
    trace_outcomes,
)
from ..core.results import Result
from ..errors import ArgumentError
from ..schema import STRING, canonical_ids
from .critical_path_walk import CRITICAL_PATH, walk_options
from .critical_path_walk import walk_critical_path as critical_path

__all__ = ["stitch", "workflow_summary", "workflow_critical_path", "Stitched", "VIA", "RULES"]

#: the hop-finding rule families, in the order they are tried
VIA = ("links", "messaging", "heuristic")
#: rule names in the ``rule`` column of the hops table
RULES = ("parent", "link", "message_id", "heuristic")

_NAT = np.iinfo(np.int64).min
_MESSAGE_ID_KEYS = ("messaging.message.id", "messaging.message_id", "aws.sqs.message_id", "aws.message_id")
#: a Kafka message is identified by its topic, partition and offset (OTel Kafka instrumentation sets them on the
#: producer span, from the broker's acknowledgement, and on the consumer span); a partition is delivered in order
_PARTITION_KEYS = ("messaging.destination.partition.id", "messaging.kafka.partition", "messaging.kafka.destination.partition")
_OFFSET_KEYS = ("messaging.kafka.offset", "messaging.kafka.message.offset")
#: consumers of one group (or subscription) share a destination's messages; every group receives each message
_GROUP_KEYS = ("messaging.consumer.group.name", "messaging.kafka.consumer.group", "messaging.destination.subscription.name",
               "messaging.eventhubs.consumer.group")
#: how the heuristic pairs a consumer with the producers of its destination
ORDERS = ("nearest", "fifo")
_MAX_WAIT_MS = 900_000.0  # stitch's default heuristic window (15 minutes)
_TOLERANCE_MS = 1.0  # stitch's default clock-skew tolerance
_DEST_KEYS = ("messaging.destination.name", "messaging.destination")
_URL_KEYS = ("aws.queue_url", "aws.sqs.queue_url", "messaging.url")
_TOPIC_KEYS = ("aws.topic_arn", "aws.sns.topic_arn", "messaging.destination.arn")
_MSG_OPS = frozenset({"publish", "send", "create", "receive", "process", "deliver", "settle"})
_CONSUME_OPS = frozenset({"receive", "process", "deliver", "settle"})

HOPS_TABLE = result_table("stitch", "one row per hop: a message from a producer span to the consumer span that handled it", [
    ("workflow_id", "string", "", "workflow the hop belongs to (trace id of the workflow's first request)"),
    ("producer_trace_id", "string", "", "trace of the producer span"),
    ("producer_span_id", "string", "", "span that handed the message over (producer, messaging or SQS/SNS send span)"),
    ("producer_service", "string", "", "service of the producer span"),
    ("producer_name", "string", "", "operation of the producer span"),
    ("consumer_trace_id", "string", "", "trace of the consumer span (the producer's trace for rule parent)"),
    ("consumer_span_id", "string", "", "span that handled the message"),
    ("consumer_service", "string", "", "service of the consumer span"),
    ("consumer_name", "string", "", "operation of the consumer span"),
    ("destination", "string", "", "queue or topic (messaging.destination.name, queue URL, topic ARN or span name); <NA> if unknown"),
    ("producer_end", "datetime64[ns, UTC]", "ns, UTC", "when the producer span ended (the message was handed over)"),
    ("consumer_start", "datetime64[ns, UTC]", "ns, UTC", "when the consumer span started"),
    ("queue_wait_ms", "float64", "ms", "consumer start − producer end: time the message waited (negative: clocks disagree)"),
    ("rule", "string", "", "rule that matched: parent / link (explicit context), message_id (messaging attributes), heuristic"),
    ("confidence", "float64", "", "1 for explicit context; 0.9–1 for a message id; heuristic: 0.8 / (competing producers + crossing hops), "
                                "a tenth of that where the in-order reading pairs the consumer otherwise; "
                                "order='fifo': 0.8 / (1 + consumers left without a message in its stretch of waiting messages "
                                "and the next + the lesser of the queue's skips and such consumers + messages skipped "
                                "before it), half that where a reading with another pick-up delay, as good, pairs it otherwise"),
])

WORKFLOW_TABLE = result_table("workflow_summary", "one row per workflow (traces joined by hops through queues)", [
    ("workflow_id", "string", "", "trace id of the workflow's first request (earliest trace no hop leads into)"),
    ("traces", "int64", "traces", "traces in the workflow"),
    ("hops", "int64", "hops", "hops (messages) in the workflow"),
    ("start", "datetime64[ns, UTC]", "ns, UTC", "first span start of the first request (workflow_id's trace); NaT when one of its spans has no start (a frame edited by hand)"),
    ("end", "datetime64[ns, UTC]", "ns, UTC", "last span end of any trace of the workflow (usually the last consumer)"),
    ("end_to_end_ms", "float64", "ms", "end − start: from the first request to the end of the last consumer; NaN when start is NaT"),
    ("request_ms", "float64", "ms", "request latency of the first request (its root span's duration, core.trace_outcomes)"),
    ("queue_ms", "float64", "ms", "time during which at least one message of the workflow waited in a queue (union of the known waits)"),
    ("queue_share", "float64", "", "queue_ms / end_to_end_ms"),
    ("max_wait_ms", "float64", "ms", "longest single queue wait (NaN without hops)"),
    ("queue_waits_ms", "object", "ms", "tuple of every hop's queue wait, in order of producer end"),
])

WORKFLOW_CP_TABLE = result_table(
    "workflow_critical_path",
    "one row per critical-path section of a workflow; queue waits are sections of kind 'queue'",
    [("workflow_id", "string", "", "workflow (trace id of its first request)"),
     *[(c.name, c.dtype, c.unit, c.meaning) for c in CRITICAL_PATH.columns],
     ("section", "string", "", "span (time held by a span) or queue (a message waiting: producer end → consumer start)")])


#: why a message end was left unresolved (the ``reason`` column of ``Stitched.unresolved``)
UNRESOLVED_REASONS = {
    "link_outside": "the linked span (its producer) is not in the data",
    "link_to_itself": "the span links to itself: the link names no producer",
    "link_back": "the span it links to links back to it, directly or round a cycle of links, and a message cannot go "
                 "round: the link of the cycle pointing furthest back against time (the span started before the linked "
                 "span ended) names no producer, and then every other link of the cycle pointing back by more than "
                 "tolerance_ms (two overlapping spans linking each other: both)",
    "id_not_sent": "no span in the data sent its message id",
    "no_queue": "it names no queue or topic, so it cannot be paired by time",
    "no_producer_of_queue": "no span in the data sends to its queue (other than those paired by a link, parent "
                            "or message id)",
    "producers_after": "its queue's producers in the data all ended after it started (by more than tolerance_ms): "
                       "its clock behind, or its message sent before the data begins",
    "none_in_reach": "no producer of its queue ended within max_wait_ms before it started",
    "all_taken": "every producer of its queue in reach was paired with another consumer",
    "not_a_root": "it has a parent in the data that is not a hand-off (only roots and orphans are paired by time)",
    "not_tried": "no rule in via could pair it (the heuristic was not asked for)",
    "id_not_taken": "no span in the data took its message id (and the heuristic was not asked for)",
    "no_consumer": "no consumer of its queue in the data (other than those paired by a link, parent or message id) "
                   "started within max_wait_ms after it ended: its consumer is not in the data",
    "consumers_taken": "the consumers of its queue that started within max_wait_ms after it ended were paired by time "
                       "with other producers: its consumer is missing from the data, or was paired with another "
                       "message (see their confidence)",
}

UNRESOLVED_TABLE = result_table(
    "stitch.unresolved",
    "one row per message end stitch left without a partner: a link to a span not in the data, a consumer span "
    "paired with no producer, or a hand-off span whose message no consumer took",
    [("trace_id", "string", "", "trace of the span"),
     ("span_id", "string", "", "the span (for a link: the linking span)"),
     ("service", "string", "", "service of the span"),
     ("name", "string", "", "operation of the span"),
     ("role", "string", "", "consumer (took a message from someone unknown) or producer (sent a message no one took)"),
     ("destination", "string", "", "its queue or topic; <NA> if it names none"),
     ("message_id", "string", "", "the message id it carries (messaging.message.id, …); <NA> if none"),
     ("linked_trace_id", "string", "", "for a link that names no producer (link_outside, link_to_itself, link_back): "
                                       "the linked trace id; else <NA>"),
     ("linked_span_id", "string", "", "for a link that names no producer (link_outside, link_to_itself, link_back): "
                                      "the linked span id; else <NA>"),
     ("reason", "string", "", "why: " + "; ".join(f"{k} ({v})" for k, v in UNRESOLVED_REASONS.items())),
     ])

@dataclass(frozen=True)
class Stitched(Result):
    """What :func:`stitch` returns: the spans with a ``workflow_id`` column, the hops table, and what was left
    unresolved.

    Attributes
    ----------
    spans : pandas.DataFrame
        A new frame: the input's columns plus ``workflow_id`` (string).
    hops : pandas.DataFrame
        One row per hop, columns of ``HOPS_TABLE`` (see the module docstring).
    unresolved : pandas.DataFrame
        One row per message end left without a partner, columns of ``UNRESOLVED_TABLE``: every link to a span not
        in the data, every consumer span paired with no producer, every hand-off span whose message no consumer
        took, each with its ``reason`` (``UNRESOLVED_REASONS``), so that "no consumer in the data" and "not
        stitched" read apart.
    """

    TABLE = "hops"  #: the field .table returns

    spans: pd.DataFrame
    hops: pd.DataFrame
    params: dict = field(default_factory=dict, compare=False)  #: the settings it was computed with
    #: message ends left without a partner, with the reason (columns of ``UNRESOLVED_TABLE``)
    unresolved: pd.DataFrame = field(default_factory=lambda: _empty_unresolved(), compare=False)

    @property
    def n_workflows(self) -> int:
        """Number of workflows."""
        return int(self.spans["workflow_id"].nunique()) if len(self.spans) else 0


@dataclass(frozen=True)
class _Hops:
    """Hops as row positions (internal to this module)."""

    producer: np.ndarray
    consumer: np.ndarray
    rule: np.ndarray  # object: rule names
    confidence: np.ndarray
    destination: np.ndarray  # object, None when unknown
    workflow: np.ndarray  # per row of spans: workflow trace code (trace code of its first request)
    tree: Any
    unresolved: pd.DataFrame | None = None  # UNRESOLVED_TABLE, when asked for


def _attrs(spans: pd.DataFrame) -> np.ndarray:
    if "attributes" in spans.columns:
        return spans["attributes"].to_numpy(dtype=object)
    return np.full(len(spans), None, dtype=object)


def destination(attributes: dict | None, name: str | None = None, kind: str | None = "producer") -> str | None:
    """The queue or topic a messaging span sends to or receives from; None if it names none.

    Parameters
    ----------
    attributes : dict or None
        The span's attributes.
    name : str, optional
        The span's name (OTel messaging names spans ``"<destination> <operation>"``).
    kind : str, optional
        The span's kind: the name is read only for producer and consumer spans (or spans with
        ``messaging.system``), so that e.g. an internal ``"process batch"`` names no queue.

    Returns
    -------
    str or None

    Examples
    --------
    >>> destination({"messaging.destination.name": "orders"})
    'orders'
    >>> destination({"aws.queue_url": "https://sqs.us-east-1.amazonaws.com/123456789012/orders"})
    'orders'
    >>> destination({}, "orders process"), destination({}, "GET /"), destination({}, "process batch", "internal")
    ('orders', None, None)
    """
    a = attributes if isinstance(attributes, dict) else {}
    for k in _DEST_KEYS:
        v = get_attribute(a, k)
        if isinstance(v, str) and v:
            return v
    for k in _URL_KEYS:
        v = get_attribute(a, k)
        if isinstance(v, str) and v.strip("/"):
            return v.rstrip("/").rsplit("/", 1)[-1]
    for k in _TOPIC_KEYS:
        v = get_attribute(a, k)
        if isinstance(v, str) and v:
            return v.rsplit(":", 1)[-1]
    if isinstance(name, str) and (kind in ("producer", "consumer") or "messaging.system" in a):
        parts = name.split()
        if len(parts) == 2:
            if parts[1].lower() in _MSG_OPS:
                return parts[0]
            if parts[0].lower() in _MSG_OPS:
                return parts[1]
    return None


#: an SQS queue URL's host names its region: sqs.<region>.amazonaws.com, <region>.queue.amazonaws.com (legacy), or
#: queue.amazonaws.com (legacy, us-east-1)
_SQS_HOST = re.compile(r"^(?:sqs\.([a-z0-9-]+)|([a-z0-9-]+)\.queue|queue)\.amazonaws\.com(?:\.cn)?$")


def _scope(attributes: Any, name: str) -> str | None:
    """Where the queue or topic ``name`` a span names lives, when its queue URL or topic ARN says: ``"<region>:<account>"``
    for AWS (an SQS queue URL and an ARN of one queue read alike), else the URL without its last part; None when the
    span gives neither (or one whose last part is not ``name``). Two queues of one name in two AWS accounts or regions
    are two queues."""
    a = attributes if isinstance(attributes, dict) else {}
    for k in _URL_KEYS:
        v = get_attribute(a, k)
        if isinstance(v, str) and v.strip("/"):
            u = urlsplit(v if "://" in v else "https://" + v)
            parts = [x for x in u.path.split("/") if x]
            if not parts or parts[-1] != name:
                return None
            host = (u.hostname or "").lower()
            m = _SQS_HOST.match(host)
            if m and len(parts) >= 2 and parts[-2].isdigit():
                return f"{m.group(1) or m.group(2) or 'us-east-1'}:{parts[-2]}"
            return host + "/" + "/".join(parts[:-1])
    for k in _TOPIC_KEYS:
        v = get_attribute(a, k)
        if isinstance(v, str) and v.startswith("arn:"):
            f = v.split(":", 5)
            if len(f) == 6 and f[5] == name:
                return f"{f[3]}:{f[4]}"
            return None
    return None


def _first(a: dict, keys: tuple[str, ...]) -> str | None:
    """The first of ``keys`` with a value, as text (5.0 as "5"); None, "", NaN and containers are no value."""
    for k in keys:
        v = a.get(k)
        if v is None or v == "" or isinstance(v, (dict, list, tuple)) or (isinstance(v, float) and v != v):
            continue
        return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)
    return None


def _partition(a: Any) -> str | None:
    """The partition a messaging span sends to or reads from (Kafka), None if it names none."""
    return _first(a, _PARTITION_KEYS) if isinstance(a, dict) else None


def _message_id(a: Any, dest: str | None = None) -> str | None:
    """A message's id: ``messaging.message.id`` (and its legacy / AWS names), else a Kafka message's topic,
    partition and offset."""
    if not isinstance(a, dict):
        return None
    m = _first(a, _MESSAGE_ID_KEYS)
    if m is not None:
        return m
    part, off = _partition(a), _first(a, _OFFSET_KEYS)
    if dest is not None and part is not None and off is not None:
        return f"kafka\x00{dest}\x00{part}\x00{off}"
    return None


def _is_consumer(kind: np.ndarray, attrs: np.ndarray) -> np.ndarray:
    """CONSUMER spans, and spans whose messaging operation consumes (or a pub/sub-triggered function)."""
    out = kind == "consumer"
    for i in np.flatnonzero(~out & np.isin(kind, ("server", "internal", "unspecified"))).tolist():
        a = attrs[i]
        if isinstance(a, dict) and a:
            op = a.get("messaging.operation.type", a.get("messaging.operation"))
            if (isinstance(op, str) and op.lower() in _CONSUME_OPS) or a.get("faas.trigger") == "pubsub":
                out[i] = True
    return out


def _validate_via(via: str | Iterable[str], func: str = "stitch") -> tuple[str, ...]:
    if isinstance(via, str):
        v: tuple = (via,)
    elif isinstance(via, Iterable) and not isinstance(via, (bytes, dict)):
        v = tuple(via)
    else:
        raise ArgumentError(f"{func}: via must be a rule family or a list of them, from {list(VIA)}, got {via!r}")
    bad = [x for x in v if not isinstance(x, str) or x not in VIA]
    if bad or not v:
        raise ArgumentError(f"{func}: unknown via rule(s) {bad}; use any of {list(VIA)}" if bad
                            else f"{func}: via names no rule family; use any of {list(VIA)}")
    return v


def _find_hops(spans: pd.DataFrame, via: Sequence[str], max_wait_ms: float, tolerance_ms: float,
               order: str = "nearest", report: bool = False) -> _Hops:
    n = len(spans)
    tree = span_tree(spans)
    kind = spans["kind"].to_numpy(dtype=object, na_value="unspecified")
    names = spans["name"].to_numpy(dtype=object, na_value="")
    attrs = _attrs(spans)
    start = ns(spans["start"])
    end = ns(spans["end"])
    end = np.where(end == _NAT, start, end)
    handoff = is_async_handoff(spans) if n else np.zeros(0, dtype=bool)
    # the windows in ns, no wider than the data's time span (a wider one, up to inf, reaches every span alike)
    known = np.concatenate([start[start != _NAT], end[end != _NAT]])
    reach = int(known.max()) - int(known.min()) + 1 if len(known) else 1
    max_wait_ns, tol_ns = (int(min(x * 1e6, reach)) for x in (max_wait_ms, tolerance_ms))
    consumer_like = _is_consumer(kind, attrs) if n else np.zeros(0, dtype=bool)
    # a span exported twice is one span: other copies of an id in a trace neither send nor take a message
    copy = tree.duplicate
    handoff = handoff & ~copy
    consumer_like = consumer_like & ~copy
    prod: list[np.ndarray] = []
    cons: list[np.ndarray] = []
    rule: list[np.ndarray] = []
    conf: list[np.ndarray] = []
    matched = np.zeros(n, dtype=bool)  # consumer rows already explained
    used_p = np.zeros(n, dtype=bool)  # producer rows already feeding a hop

    def add(p: np.ndarray, c: np.ndarray, name: str, cf: np.ndarray | float) -> None:
        p = np.asarray(p, dtype=np.int64)
        c = np.asarray(c, dtype=np.int64)
        prod.append(p)
        cons.append(c)
        rule.append(np.full(len(p), name, dtype=object))
        conf.append(np.broadcast_to(np.asarray(cf, dtype=np.float64), (len(p),)).copy())
        matched[c] = True
        used_p[p] = True

    parent = tree.parent
    link_i, link_j, link_t = _link_targets(spans)
    link_back = np.zeros(len(link_i), dtype=bool)  # links refused: the linked span links back (see "links" below)
    # spans whose every link points to a span not in the data: their producer is known to be elsewhere
    elsewhere = np.zeros(n, dtype=bool)
    elsewhere[link_i] = True
    elsewhere[link_i[link_j >= 0]] = False
    if "links" in via and n:
        # explicit context within a trace: a consumer under a hand-off span
        c = np.flatnonzero((parent >= 0) & (kind == "consumer") & ~copy)
        c = c[handoff[parent[c]]]
        add(parent[c], c, "parent", 1.0)
        # X-Ray: a (non-inferred) segment of another service under a hand-off subsegment, directly or
        # through the hand-off's inferred SQS/SNS segment (segments are read as server spans, never consumer)
        inferred = spans["inferred"].to_numpy(dtype=bool, na_value=False) if "inferred" in spans.columns \
            else np.zeros(n, dtype=bool)
        svc = spans["service"].to_numpy(dtype=object, na_value=None)
        pp = np.maximum(parent, 0)
        via_inferred = (parent >= 0) & inferred[pp] & (parent[pp] >= 0) & handoff[np.maximum(parent[pp], 0)]
        producer = np.where(via_inferred, parent[pp], parent)
        seg = np.flatnonzero((parent >= 0) & (kind == "server") & ~inferred & ~matched & ~copy
                             & (handoff[pp] | via_inferred))
        seg = seg[svc[seg] != svc[producer[seg]]]
        add(producer[seg], seg, "parent", 1.0)
        # span links to spans in the data
        i, j = link_i, link_j
        ok = (j >= 0) & (j != i) & (j != parent[i]) & ~copy[i]
        # spans that link to each other, directly or round a cycle of links: a message cannot go round. Per cycle
        # the link pointing furthest back against time (its span starting before the linked span ended) is
        # refused (link_back), until no cycle is left; then every other link that was on one and points back by more
        # than tolerance_ms too (two overlapping spans linking each other: neither sent the other's message).
        # Before: every link of the cycle kept at confidence 1, one with a negative wait (e.g. -40 ms)
        link_back[:] = _links_back(i, j, ok, start, end, tol_ns, n)
        ok &= ~link_back
        i, j = i[ok], j[ok]
        if len(i):
            _, first = np.unique(np.stack([i, j]), axis=1, return_index=True)  # one hop per (span, link target)
            first = np.sort(first)
            add(j[first], i[first], "link", 1.0)
    dest_cache: dict[int, str | None] = {}

    def dest(i: int) -> str | None:
        d = dest_cache.get(i)
        if d is None and i not in dest_cache:
            d = dest_cache[i] = destination(attrs[i], names[i], kind[i])
        return d

    # the queue a message end is paired in: its destination, and where that lives (region and account, from a queue
    # URL or topic ARN) when spans name two places for one name: "orders" of account 111 and "orders" of account 222
    # are two queues (before: one, and a message sent to one was paired with a consumer of the other); a span of such
    # a name that says not where is paired only with others that do not say either
    places: dict[str, set] = {}
    for r in np.flatnonzero(handoff | consumer_like).tolist():
        d = dest(r)
        if d is not None and (sc := _scope(attrs[r], d)) is not None:
            places.setdefault(d, set()).add(sc)
    split = {d for d, v in places.items() if len(v) > 1}

    def queue(i: int) -> str | None:
        d = dest(i)
        if d is None or d not in split:
            return d
        sc = _scope(attrs[i], d)
        return d if sc is None else f"{d}\x00{sc}"

    if "messaging" in via and n:
        p_rows = np.flatnonzero(handoff & ~consumer_like)  # a span that consumes a message did not send it
        c_rows = np.flatnonzero(consumer_like & ~matched)
        # producers per message id, and per (id, destination): each list in order of (end, row), so that the
        # latest one to end by a consumer's start is one binary search away (an id shared by every message, such as
        # a placeholder "0", cost a scan of all its producers per consumer: 8,000 messages took 21 s)
        pid: dict = {}
        for p in p_rows.tolist():
            m = _message_id(attrs[p], queue(p))
            if m is not None:
                pid.setdefault(m, []).append(p)
                pid.setdefault((m, queue(p)), []).append(p)
        pid = {k: np.asarray(sorted(v, key=lambda r: (end[r], r)), dtype=np.int64) for k, v in pid.items()}
        p_ends = {k: end[v] for k, v in pid.items()}
        mp, mc, mf = [], [], []
        for c in c_rows.tolist():
            m = _message_id(attrs[c], queue(c))
            if m is None or m not in pid:
                continue
            # an id is unique within its queue, not across them ("1", "2", ... in two queues): the producers of
            # the consumer's queue, when some have the id
            q = queue(c)
            key = (m, q) if q is not None and (m, q) in pid else m
            cands = pid[key]
            # the latest to end by the consumer's start (+ tolerance), else (its clock behind) the first to end after
            # it: the least skew that explains it (before: the latest of all, 3 s off for a clock 20 ms behind)
            k = int(np.searchsorted(p_ends[key], min(int(start[c]) + tol_ns, np.iinfo(np.int64).max), side="right")) - 1
            mp.append(int(cands[max(k, 0)]))
            mc.append(c)
            mf.append(1.0 if len(cands) == 1 else 0.9)
        if mp:
            add(np.asarray(mp), np.asarray(mc), "message_id", np.asarray(mf))
    # what is left to pair by time: consumers and producers no explicit rule (parent, link, message id) explained.
    # A consumer whose child took a message by explicit context (an OTel batch "receive" span over "process" spans
    # that link to their producers) took its messages through that child: it is not paired by time on its own
    # (before: it took a producer whose consumer was not in the data)
    below = np.zeros(n, dtype=bool)
    got = np.flatnonzero(matched & (parent >= 0))
    below[parent[got]] = True
    elsewhere = elsewhere | (below & ~matched)
    c_rows = np.flatnonzero(consumer_like & ~matched & (parent < 0) & ~elsewhere)
    p_rows = np.flatnonzero(handoff & ~used_p & ~consumer_like)
    if "heuristic" in via and n:
        if len(c_rows) and len(p_rows):
            hp, hc, hf = _heuristic(p_rows, c_rows, _queues(p_rows, c_rows, queue, attrs), start, end,
                                    max_wait_ns, tol_ns, order)
            if len(hp):
                add(hp, hc, "heuristic", hf)
    P = np.concatenate(prod) if prod else np.zeros(0, dtype=np.int64)
    C = np.concatenate(cons) if cons else np.zeros(0, dtype=np.int64)
    R = np.concatenate(rule) if rule else np.zeros(0, dtype=object)
    F = np.concatenate(conf) if conf else np.zeros(0, dtype=np.float64)
    D = np.asarray([dest(int(p)) or dest(int(c)) for p, c in zip(P.tolist(), C.tolist(), strict=True)], dtype=object)
    unresolved = None
    if report:
        inferred = spans["inferred"].to_numpy(dtype=bool, na_value=False) if "inferred" in spans.columns \
            else np.zeros(n, dtype=bool)
        unresolved = _unresolved(
            spans, via, dest, queue, attrs, start, end, max_wait_ns, tol_ns,
            producers=np.flatnonzero(handoff & ~consumer_like & ~used_p & ~inferred),
            consumers=np.flatnonzero(consumer_like & ~copy & ~matched & ~elsewhere),
            all_p=p_rows, all_c=c_rows,
            links=(link_i, link_j, link_t, copy, link_back), parent=parent, handoff=handoff)
    return _Hops(P, C, R, F, D, _workflows(tree, start, P, C), tree, unresolved)


def _links_back(i: np.ndarray, j: np.ndarray, ok: np.ndarray, start: np.ndarray, end: np.ndarray, tol: int,
                n: int) -> np.ndarray:
    """Which links (``i`` links to ``j``, those with ``ok``) close a cycle of links and point back against time:
    per strongly connected set of spans, the link with the most negative wait (``start[i] - end[j]``) is refused,
    round after round until no cycle is left, then every other link that was on a cycle with a wait below
    ``-tol``. One pass over all spans, then O(links on a cycle) per round; a cycle-free frame takes one pass."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    back = np.zeros(len(i), dtype=bool)
    w = start[i].astype(np.float64) - end[j].astype(np.float64)

    def on_cycle(keep: np.ndarray) -> np.ndarray:
        g = coo_matrix((np.ones(int(keep.sum())), (j[keep], i[keep])), shape=(n, n))
        comp = connected_components(g, directed=True, connection="strong")[1]
        return keep & (comp[j] == comp[i])

    cyc = on_cycle(ok) if ok.any() else ok
    was = cyc.copy()
    if cyc.any():
        # the rounds look at the links on a cycle only, over the spans they join, numbered 0..m-1: a link taken
        # away makes no new cycle, and a graph of every span per round cost O(spans) a round (64 rounds at most)
        nodes, inv = np.unique(np.concatenate([i[was], j[was]]), return_inverse=True)
        k = np.flatnonzero(was)
        ci, cj, m = np.full(len(i), -1), np.full(len(i), -1), len(nodes)
        ci[k], cj[k] = inv[:len(k)], inv[len(k):]

        def on_cycle(keep: np.ndarray) -> np.ndarray:  # noqa: F811 - the same answer on the links of `was`
            keep = keep & was
            g = coo_matrix((np.ones(int(keep.sum())), (cj[keep], ci[keep])), shape=(m, m))
            comp = connected_components(g, directed=True, connection="strong")[1]
            return keep & (comp[np.maximum(cj, 0)] == comp[np.maximum(ci, 0)])
    for _ in range(64):
        if not cyc.any():
            break
        e = np.flatnonzero(cyc)
        g = coo_matrix((np.ones(len(e)), (cj[e], ci[e])), shape=(m, m))
        lab = connected_components(g, directed=True, connection="strong")[1][ci[e]]  # the set of each link
        o = np.lexsort((w[e], lab))  # per set, the link pointing furthest back first
        firsts = o[np.r_[True, lab[o][1:] != lab[o][:-1]]]
        back[e[firsts]] = True
        cyc = on_cycle(ok & ~back)
    back |= cyc  # (a set still cyclic after 64 rounds: all its links)
    return back | (was & (w < -tol))


def _empty_unresolved() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=STRING) for c in UNRESOLVED_TABLE.column_names})


def _unresolved(spans, via, dest, queue, attrs, start, end, max_wait, tol, *, producers, consumers, all_p, all_c, links,
                parent, handoff) -> pd.DataFrame:
    """The message ends left without a partner (``UNRESOLVED_TABLE``), each with its reason: links to spans not in
    the data or to the linking span itself, ``consumers`` (rows paired with no producer, whose links do not all point outside the data) and
    ``producers`` (hand-off rows that fed no hop). ``all_p`` / ``all_c``: the producer / consumer rows no explicit
    rule explained (those left to pair by time), to tell "none in the data" from "paired with another". A consumer
    paired by its link, parent or message id took its own message, so it is no candidate for another's.
    O(n log n)."""
    link_i, link_j, link_t, copy, link_back = links
    rows, role, reason, lt = [], [], [], []
    out = (((link_j < 0) | (link_j == link_i)) & ~copy[link_i]) | link_back if len(link_i) else np.zeros(0, dtype=bool)
    if out.any():
        seen = set()
        for i, j, t in zip(link_i[out].tolist(), link_j[out].tolist(), link_t[out].tolist(), strict=True):
            if (i, t) not in seen:  # one row per (span, linked span)
                seen.add((i, t))
                rows.append(i)
                lt.append(t)
                role.append("consumer")
                reason.append("link_outside" if j < 0 else "link_to_itself" if j == i else "link_back")
    qp, qc, _ = _queues(all_p, np.concatenate([all_c, consumers]), queue, attrs)
    qc, qc_self = qc[:len(all_c)], qc[len(all_c):]
    p_end: dict = {}
    for q, r in zip(qp, all_p.tolist(), strict=True):
        p_end.setdefault(q, []).append(end[r])
    c_start: dict = {}
    for q, r in zip(qc, all_c.tolist(), strict=True):
        c_start.setdefault(q, []).append(start[r])
    p_end = {q: np.sort(np.asarray(v, dtype=np.int64)) for q, v in p_end.items()}
    c_start = {q: np.sort(np.asarray(v, dtype=np.int64)) for q, v in c_start.items()}
    sent = {m for m in (_message_id(attrs[r], queue(r)) for r in all_p.tolist()) if m is not None}
    taken = {m for m in (_message_id(attrs[r], queue(r)) for r in all_c.tolist()) if m is not None}
    heur, msg, lnk = "heuristic" in via, "messaging" in via, "links" in via
    for r, q in zip(consumers.tolist(), qc_self, strict=True):
        m = _message_id(attrs[r], queue(r))
        pe = p_end.get(q) if q is not None else None
        if m is not None and msg and m not in sent:
            why = "id_not_sent"
        elif not heur or (parent[r] >= 0 and handoff[parent[r]] and not lnk):
            why = "not_tried"
        elif parent[r] >= 0:
            why = "not_a_root"
        elif q is None:
            why = "no_queue"
        elif pe is None or not len(pe):
            why = "no_producer_of_queue"
        else:
            by = int(np.searchsorted(pe, start[r] + tol, side="right"))  # producers ended by its start (+ tol)
            since = int(np.searchsorted(pe, max(int(start[r]) - max_wait, _NAT), side="left"))
            why = "producers_after" if by == 0 else "none_in_reach" if by <= since else "all_taken"
        rows.append(r)
        role.append("consumer")
        reason.append(why)
        lt.append(None)
    qp_self = _queues(producers, np.zeros(0, dtype=np.int64), queue, attrs)[0]
    for r, q in zip(producers.tolist(), qp_self, strict=True):
        m = _message_id(attrs[r], queue(r))
        cs = c_start.get(q) if q is not None else None
        if not heur:
            why = "id_not_taken" if m is not None and msg and m not in taken else "not_tried"
        elif q is None:
            why = "no_queue"
        elif cs is None or not len(cs):
            why = "no_consumer"
        else:
            lo = int(np.searchsorted(cs, end[r] - tol, side="left"))
            hi = int(np.searchsorted(cs, min(int(end[r]) + max_wait, np.iinfo(np.int64).max), side="right"))
            why = "consumers_taken" if hi > lo else "no_consumer"
        rows.append(r)
        role.append("producer")
        reason.append(why)
        lt.append(None)
    if not rows:
        return _empty_unresolved()
    r = np.asarray(rows, dtype=np.int64)
    col = lambda c: spans[c].iloc[r].astype(object).to_numpy()  # noqa: E731

    def shown_id(i: int) -> str | None:
        a = attrs[i]
        m = _first(a, _MESSAGE_ID_KEYS) if isinstance(a, dict) else None
        if m is None and _message_id(a, dest(i)) is not None:  # a Kafka message: its partition and offset
            m = f"partition {_partition(a)} offset {_first(a, _OFFSET_KEYS)}"
        return m

    out = pd.DataFrame({
        "trace_id": col("trace_id"), "span_id": col("span_id"), "service": col("service"), "name": col("name"),
        "role": role, "destination": [dest(i) for i in rows], "message_id": [shown_id(i) for i in rows],
        "linked_trace_id": [t[0] if t is not None else None for t in lt],
        "linked_span_id": [t[1] if t is not None else None for t in lt],
        "reason": reason})
    out = out.astype(STRING).sort_values(["role", "trace_id", "span_id", "linked_trace_id", "linked_span_id"],
                                         kind="stable", na_position="first").reset_index(drop=True)
    return out


def _queues(p_rows: np.ndarray, c_rows: np.ndarray, dest, attrs: np.ndarray) -> tuple[list, list, list]:
    """The queue of each producer and consumer row: its destination (``dest``: :func:`_find_hops`' ``queue``, which
    also tells apart two queues of one name in two AWS accounts or regions), and its partition where every producer and
    consumer of that destination names one (a Kafka partition is a queue of its own: a message sent to partition
    3 is read from partition 3); None when the span names no destination. And per consumer row its consumer group
    (or subscription) where it names one, else None: each group takes every message of the queue."""
    pd_, cd_ = [dest(i) for i in p_rows.tolist()], [dest(i) for i in c_rows.tolist()]
    pp = [_partition(attrs[i]) for i in p_rows.tolist()]
    cp = [_partition(attrs[i]) for i in c_rows.tolist()]
    unsplit = {d for d, x in zip(pd_ + cd_, pp + cp, strict=True) if d is not None and x is None}
    key = lambda d, x: d if d is None or d in unsplit else f"{d}\x00{x}"  # noqa: E731
    groups = [_first(attrs[i], _GROUP_KEYS) if isinstance(attrs[i], dict) else None for i in c_rows.tolist()]
    return ([key(d, x) for d, x in zip(pd_, pp, strict=True)], [key(d, x) for d, x in zip(cd_, cp, strict=True)],
            groups)


def _link_targets(spans: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every well-formed link (a dict with a trace id and a span id) of the ``links`` column: the linking row, the
    linked row (-1 when that span is not in the data; of a span read twice the copy the span tree chose), and the linked (trace id,
    span id) in the id columns' form (:func:`tracekit.schema.canonical_ids`; a value that is no id, lower case)."""
    none = np.zeros(0, dtype=np.int64)
    if "links" not in spans.columns or not len(spans):
        return none, none, np.zeros(0, dtype=object)
    lk = spans["links"].to_numpy(dtype=object)
    li, lt = [], []
    for i, x in enumerate(lk.tolist()):
        if isinstance(x, (list, tuple, np.ndarray)) and len(x):
            for link in x:
                if isinstance(link, dict) and link.get("trace_id") and link.get("span_id"):
                    li.append(i)
                    lt.append((str(link["trace_id"]), str(link["span_id"])))
    if not li:
        return none, none, np.zeros(0, dtype=object)
    # a linked id in the form the id columns are in (canonical_ids, the readers' and spans_from_columns' rule): an X-Ray
    # trace id 1-5759e988-…, a UUID or base64 as its hex (before: lowered only, so a link written with the X-Ray id of
    # a span in the data read as link_outside); a value that is no id even so as before
    cols = []
    for w, pos in ((32, 0), (16, 1)):
        given = [t[pos] for t in lt]
        norm, bad = canonical_ids(given, w, xray=w == 32)
        ok = norm.notna().to_numpy() & ~bad
        cols.append([v if k else g.lower() for v, k, g in zip(norm.to_numpy(dtype=object), ok.tolist(), given,
                                                              strict=True)])
    lt = list(zip(*cols, strict=True))
    lt_arr = np.empty(len(lt), dtype=object)
    lt_arr[:] = lt
    # of a span read twice, the copy the tree chose (core.tree.span_rows), not the first row: a link to a producer
    # read twice fed its message from whichever copy was read first (a wait measured from the other copy's end)
    at = span_rows(spans, [t[0] for t in lt], [t[1] for t in lt])
    return np.asarray(li, dtype=np.int64), at, lt_arr


def _heuristic(p_rows, c_rows, queues, start, end, max_wait, tol, order="nearest"):
    """Per consumer (in start order), an unmatched producer of the same queue: the nearest in time (``order``
    "nearest"; confidence 0.8 / (competing producers + crossing hops)) or the first sent (``order`` "fifo", replaying the queue to skip messages taken by consumers missing from the data; confidence 0.8 / (1 +
    consumers left without a message in the pair's stretch of waiting messages and the next + the lesser of the
    queue's skips and such consumers + messages skipped just before the pair)); see the module docstring."""
    p_dest, c_dest, c_group = queues
    # producers sorted by (queue, end, row) and consumers by (queue, group, start, row) once, each queue (and group) a
    # slice: before, a pandas filter of every producer and two sorts per consumer group, 1.2 ms a queue (8,000
    # one-message queues, one reply queue per request: 9.5 s)
    pk = np.fromiter((d is not None for d in p_dest), dtype=bool, count=len(p_dest))
    ck = np.fromiter((d is not None for d in c_dest), dtype=bool, count=len(c_dest))
    pr, cr = np.asarray(p_rows, dtype=np.int64)[pk], np.asarray(c_rows, dtype=np.int64)[ck]
    names = np.asarray(list(p_dest) + list(c_dest), dtype=object)[np.r_[pk, ck]]
    code, uniq = pd.factorize(names)
    pc, cc = code[:len(pr)], code[len(pr):]
    gname = np.asarray([g if g is not None else "" for g in c_group], dtype=object)[ck]
    gc, guniq = pd.factorize(gname)
    pt_all, ct_all = end[pr], start[cr]
    po = np.lexsort((pr, pt_all, pc))
    pc_sorted = pc[po]
    p_lo = np.searchsorted(pc_sorted, np.arange(len(uniq)), side="left")
    p_hi = np.searchsorted(pc_sorted, np.arange(len(uniq)), side="right")
    co = np.lexsort((cr, ct_all, gc, cc))
    key_c = cc[co] * max(len(guniq), 1) + gc[co]
    cut = np.flatnonzero(np.r_[True, key_c[1:] != key_c[:-1], True]) if len(co) else np.zeros(1, dtype=np.int64)
    # each consumer group takes every message; groups in order of (queue, group) names, as before
    segs = sorted(((str(uniq[cc[co[a]]]), str(guniq[gc[co[a]]])), a, b)
                  for a, b in zip(cut[:-1].tolist(), cut[1:].tolist(), strict=True))
    out_p, out_c, out_f = [], [], []
    for _, a, b in segs:
        d = int(cc[co[a]])
        if p_hi[d] <= p_lo[d]:
            continue
        ps = po[p_lo[d]:p_hi[d]]
        pt = pt_all[ps]
        prow = pr[ps]
        cs_ = co[a:b]
        ct = ct_all[cs_]
        hi = np.searchsorted(pt, ct + tol, side="right")  # producers that ended by consumer start + tol
        lo = np.searchsorted(pt, ct - max_wait, side="left")
        ct_l = ct.tolist()
        crow = cr[cs_]
        fkp, fkc, ks, doubt, fresh = _in_order(pt, ct, end[crow], lo, hi)
        if order == "fifo":
            if len(fkp):
                out_p.append(prow[fkp])
                out_c.append(crow[fkc])
                # consumers of the queue left without a message after its first paired producer ended: a producer
                # missing from the data while messages waited shifts the pairs after it by one, and leaves a
                # consumer without a message where the queue next drains (or at the end)
                left_c = np.ones(len(ct), dtype=bool)
                left_c[fkc] = False
                left = np.flatnonzero(left_c & (ct >= pt[fkp[0]]))
                # counted per stretch of waiting messages: a shift runs only while messages wait, and stops at a
                # message handed over to an idle consumer ("fresh": an older message waiting would have been
                # taken first); a consumer left without a message marks the stretch it ends and the one before (a
                # shifted replay may read a message as handed to an idle consumer a stretch early), not the whole
                # queue (before: one per queue, so 10 % of producers missing put every hop of a queue that drains
                # between messages at 0.02, and all were right); a fresh pair itself counts none
                seg = np.cumsum(fresh)  # (0: pairs before the first fresh one)
                at = np.searchsorted(fkc, left, side="left") - 1  # the last pair before each such consumer
                per = np.bincount(seg[at[at >= 0]], minlength=len(fkc) + 2)
                k = (per[seg] + per[seg + 1]) * ~fresh + min(len(left), int(ks.sum()))
                # and the messages skipped just before a pair (read as taken by consumers the data lacks);
                # a half where a reading with another pick-up delay, as good, pairs the consumer otherwise
                out_f.append(0.8 / (1 + k + ks) / np.where(doubt, 2, 1))
            continue
        # "previous free" pointers: parent_free[k] == k while producer k is unmatched; a matched
        # producer points left, so the search for the nearest free one skips it (path-compressed)
        parent_free = list(range(len(pt)))
        hk, hc, hn = [], [], []
        for i, (a, b) in enumerate(zip(lo.tolist(), hi.tolist(), strict=True)):
            if b <= a:
                continue
            k = _find_free(parent_free, b - 1)
            if k < a:
                continue
            parent_free[k] = k - 1  # matched: the next search skips it
            hk.append(k)
            hc.append(i)
            # competitors: producers of this destination that ended as close to the consumer's start
            # as twice the chosen wait (a lone message in flight gives 0.8)
            hn.append(b - int(np.searchsorted(pt, ct_l[i] - 2 * (ct_l[i] - int(pt[k])), side="left")))
        if not hk:
            continue
        kp, kc = np.asarray(hk, dtype=np.int64), np.asarray(hc, dtype=np.int64)
        out_p.append(prow[kp])
        out_c.append(crow[kc])
        # plus every other hop of this destination that crosses it (an older message consumed later, or a newer one
        # earlier): a queue delivers in order, so crossings mean the nearest-producer reading is not what happened
        # and a tenth of that when the in-order reading (order="fifo") pairs the consumer with another producer:
        # over the measured queues (module docstring) 1.6 % of such hops were right, against 88 % of the others
        fifo_of = np.full(len(ct), -1, dtype=np.int64)
        fifo_of[fkc] = fkp
        other = (fifo_of[kc] >= 0) & (fifo_of[kc] != kp)  # (a consumer the in-order replay leaves unpaired says nothing)
        out_f.append(0.8 / np.maximum(1, np.asarray(hn, dtype=np.int64) + _crossings(kp, kc)) / np.where(other, 10, 1))
    if not out_p:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    return np.concatenate(out_p), np.concatenate(out_c), np.concatenate(out_f)


def _crossings(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per pair h: how many other pairs cross it (``a`` before and ``b`` after, or the reverse); ``a`` and ``b``
    each hold distinct positions. Bottom-up merge counting over ``a``'s order: O(n log² n) in numpy."""
    n = len(a)
    o = np.argsort(a, kind="stable")
    v = np.argsort(np.argsort(b[o], kind="stable"), kind="stable")  # b's rank, in a's order
    idx = np.arange(n, dtype=np.int64)
    greater_before = np.zeros(n, dtype=np.int64)
    size = 1
    while size < n:
        blk = idx // size
        key = np.sort(blk * n + v)  # values sorted within each block
        right = idx[(blk % 2) == 1]  # right child blocks: count the left sibling's values above theirs
        above = np.searchsorted(key, (blk[right] - 1) * n + v[right], side="right")
        greater_before[right] += np.searchsorted(key, blk[right] * n, side="left") - above
        size *= 2
    less_after = v - (idx - greater_before)  # values below v anywhere, less those below it before
    out = np.empty(n, dtype=np.int64)
    out[o] = greater_before + less_after
    return out


def _in_order(pt: np.ndarray, ct: np.ndarray, ce: np.ndarray, lo: np.ndarray,
              hi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First in, first out, replaying the queue: per consumer (in start order, ``ct``; ends ``ce``) the first-sent
    unmatched producer in ``[lo, hi)`` (``pt`` sorted ends), except those a consumer missing from the data took.

    The queue is replayed with as many consumers at work as ever ran at once in the data, each taking the next
    message when it is free, a pick-up delay after it was handed over: a message that one of them could have started
    before the next consumer in the data started, by more than half a median job / consumers at once, was taken by
    a consumer missing from the data, which then worked a median job. The delay is read twice (from below and from
    above, see the body) and the reading that pairs more consumers kept, the lower on a tie.
    Returns the producer and consumer positions of each pair, per pair how many messages were skipped just
    before it (taken by consumers missing from the data), whether the other reading, as good, pairs its consumer
    otherwise, and whether its message was handed to an idle consumer (a stretch of waiting messages begins).
    O(producers + consumers × log(consumers at once)): a heap of the consumers' free times."""
    n = len(ct)
    none = np.zeros(0, dtype=np.int64)
    if not n or not len(pt) or (n == 1 and hi[0] <= lo[0]):
        return none, none, none, np.zeros(0, dtype=bool), np.zeros(0, dtype=bool)
    if n == 1 and hi[0] - lo[0] == 1:  # one consumer, one message in reach: what the replay reads, without its cost
        return (np.asarray([lo[0]], dtype=np.int64), np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64),
                np.zeros(1, dtype=bool), np.ones(1, dtype=bool))
    ce = np.maximum(ce, ct)
    job = float(np.median(ce - ct))
    # consumers at work at once: ends sort before starts at the same instant
    t = np.concatenate([ct, ce])
    step = np.concatenate([np.ones(n, dtype=np.int64), -np.ones(n, dtype=np.int64)])
    o = np.lexsort((step, t))
    workers = max(1, int(np.cumsum(step[o]).max()))
    slack = 0.5 * job / workers  # half the time between two starts of busy consumers
    # the delay before a free consumer picks a message up (polling): the time from the latest message handed over
    # to a consumer's start is a lower bound of its wait; its 10th percentile (0 under a backlog, the delay when
    # consumers keep up)
    near = hi > lo
    low = max(0.0, float(percentile(ct[near] - pt[hi[near] - 1], 0.1))) if near.any() else 0.0
    best = _replay(pt, ct, ce, lo, hi, low, job, slack, workers)
    # that bound is the delay only while messages arrive less often than the delay: consumers picking up 20 ms after
    # hand-over, messages every 10 ms, find 3 waiting and the bound says 0, so the first messages were read as taken
    # by consumers missing from the data and every pair shifted by two (0 of 90 right). The in-order pairing without
    # skips gives a consumer an older message than its own when consumers are missing: its least wait is the other
    # end of the delay. The two readings differ by whole gaps between messages, which time alone cannot tell apart
    # (a first consumer missing shifts the second reading by one), so the reading that leaves fewer consumers
    # without a message wins, the lower bound on a tie
    plain, nxt = [], 0
    for a, b, c in zip(lo.tolist(), hi.tolist(), ct.tolist(), strict=True):
        nxt = max(nxt, a)
        if nxt < b:
            plain.append(c - int(pt[nxt]))
            nxt += 1
    doubt = np.zeros(len(best[0]), dtype=bool)
    if plain and min(plain) > low + slack:
        other = _replay(pt, ct, ce, lo, hi, float(min(plain)), job, slack, workers)
        if len(other[0]) > len(best[0]):
            best, doubt = other, np.zeros(len(other[0]), dtype=bool)
        elif len(other[0]) == len(best[0]):
            # as good a reading: a pair it reads otherwise is a guess between the two
            of = np.full(n, -1, dtype=np.int64)
            of[other[1]] = other[0]
            doubt = of[best[1]] != best[0]
    return best[0], best[1], best[2], doubt, best[3]


def _replay(pt, ct, ce, lo, hi, pickup: float, job: float, slack: float,
            workers: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_in_order`'s replay of the queue with a given pick-up delay: the pairs and the skips before each."""
    free = [-np.inf] * workers  # min-heap: when each consumer is free
    kp, kc, ks, fresh = [], [], [], []
    nxt = skipped = 0
    for j, (a, b, c, e) in enumerate(zip(lo.tolist(), hi.tolist(), ct.tolist(), ce.tolist(), strict=True)):
        nxt = max(nxt, a)
        while nxt < b:
            begin = max(float(pt[nxt]) + pickup, free[0])
            if begin + slack >= c:
                break
            heapq.heapreplace(free, begin + job)  # taken by a consumer the data does not hold
            nxt += 1
            skipped += 1
        if nxt < b:
            kp.append(nxt)
            kc.append(j)
            ks.append(skipped)
            fresh.append(free[0] <= float(pt[nxt]) + pickup)  # a consumer was idle when it could be taken
            nxt += 1
            skipped = 0
        heapq.heapreplace(free, float(e))
    return (np.asarray(kp, dtype=np.int64), np.asarray(kc, dtype=np.int64), np.asarray(ks, dtype=np.int64),
            np.asarray(fresh, dtype=bool))


def _find_free(parent_free: list[int], k: int) -> int:
    """Nearest unmatched producer index at or left of ``k`` (-1 when none), compressing the path."""
    path = []
    while k >= 0 and parent_free[k] != k:
        path.append(k)
        k = parent_free[k]
    for x in path:
        parent_free[x] = k
    return k


def _workflows(tree, start: np.ndarray, P: np.ndarray, C: np.ndarray) -> np.ndarray:
    """Per row: the trace code of its workflow's first request (traces joined by hops): the earliest-starting trace
    no hop from another trace leads into (a consumer trace whose clock is behind may start before it), else
    (every trace fed, a cycle) the earliest trace."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    nt = tree.n_traces
    if not nt:
        return np.zeros(0, dtype=np.int64)
    a, b = tree.trace[P], tree.trace[C]
    g = coo_matrix((np.ones(len(a)), (a, b)), shape=(nt, nt))
    _, label = connected_components(g, directed=False)
    first = pd.Series(start).groupby(tree.trace).min().reindex(range(nt)).to_numpy()
    fed = np.zeros(nt, dtype=bool)
    fed[b[a != b]] = True  # a trace a hop from another trace leads into: not where the workflow began
    rank = np.lexsort((tree.trace_rank, first, fed))  # traces by (fed, first start, trace id)
    pos = np.empty(nt, dtype=np.int64)
    pos[rank] = np.arange(nt)
    # per component: the trace with the smallest position
    best = pd.Series(pos).groupby(label).min()
    head = rank[best.reindex(label).to_numpy()]
    return head[tree.trace]


def _hops_frame(spans: pd.DataFrame, h: _Hops) -> pd.DataFrame:
    P, C = h.producer, h.consumer
    start = ns(spans["start"])
    end = ns(spans["end"])
    pe, cs = end[P], start[C]
    wait = np.where((pe == _NAT) | (cs == _NAT), np.nan, (cs - pe) / 1e6)
    col = lambda c, rows: spans[c].iloc[rows].reset_index(drop=True).astype(STRING)  # noqa: E731
    out = pd.DataFrame({
        "workflow_id": pd.Series(h.tree.trace_ids[h.workflow[P]] if len(P) else [], dtype=STRING),
        "producer_trace_id": col("trace_id", P), "producer_span_id": col("span_id", P),
        "producer_service": col("service", P), "producer_name": col("name", P),
        "consumer_trace_id": col("trace_id", C), "consumer_span_id": col("span_id", C),
        "consumer_service": col("service", C), "consumer_name": col("name", C),
        "destination": pd.Series(h.destination, dtype=object).astype(STRING),
        "producer_end": to_timestamps(pe), "consumer_start": to_timestamps(cs),
        "queue_wait_ms": wait.astype(np.float64),
        "rule": pd.Series(h.rule, dtype=object).astype(STRING),
        "confidence": h.confidence.astype(np.float64),
    })
    order = np.lexsort((out["consumer_span_id"].to_numpy(dtype=object), pe))
    return out.iloc[order].reset_index(drop=True)


def stitch(
    spans: pd.DataFrame,
    via: str | Iterable[str] = VIA,
    *,
    max_wait_ms: float = _MAX_WAIT_MS,
    tolerance_ms: float = _TOLERANCE_MS,
    order: str = ORDERS[0],
) -> Stitched:
    """Find the hops between producer and consumer spans and group traces into workflows.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame.
    via : str or iterable of str
        Rule families to use, from ``("links", "messaging", "heuristic")`` (see the module docstring).
    max_wait_ms : float
        Heuristic only: the longest queue wait considered (default 15 minutes).
    tolerance_ms : float
        Heuristic and message ids: how far a consumer may start *before* its producer ends (clock skew).
    order : {"nearest", "fifo"}
        Heuristic only: which unmatched producer of its queue a consumer takes, the nearest in time (default: right
        while the queue drains) or the first sent ("fifo": declare it for a queue that delivers in order, such as an
        SQS FIFO queue with one message group or a Kafka partition; messages taken by consumers missing from the
        data are skipped, producers missing while messages wait are not seen). See "When it is wrong" and
        ``order="fifo"`` in the module docstring for the measured share of right pairs of each.

    Returns
    -------
    Stitched
        ``spans`` (a new frame with a ``workflow_id`` column), ``hops`` (one row per hop) and ``unresolved`` (one
        row per link, consumer or hand-off span left without a partner, with the reason).

    Raises
    ------
    SpansSchemaError
        A needed column is missing.
    ArgumentError
        An unknown rule in ``via``, a negative window or an unknown ``order``.

    Examples
    --------
    >>> import tracekit as tk
    >>> sim = tk.simulate.simulate("async-links", n_traces=40, seed=1)
    >>> st = tk.stitch(sim.spans)
    >>> len(st.hops) == sim.truth.n_hops, set(st.hops["rule"])
    (True, {'link'})
    >>> st.n_workflows == 40, len(st.unresolved)
    (True, 0)

    Leave out the traces of two producers: their consumers' links now point outside the data, and say so

    >>> gone = set(st.hops["producer_trace_id"][:2])
    >>> part = tk.stitch(sim.spans[~sim.spans["trace_id"].isin(gone)])
    >>> len(part.hops), part.unresolved["reason"].tolist()
    (11, ['link_outside', 'link_outside'])
    """
    require_columns(spans, ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end"), "stitch")
    v = _validate_via(via)
    max_wait_ms = number_arg(max_wait_ms, "max_wait_ms", "stitch", low=0, allow_inf=True)
    tolerance_ms = number_arg(tolerance_ms, "tolerance_ms", "stitch", low=0, allow_inf=True)
    if not isinstance(order, str) or order not in ORDERS:
        raise ArgumentError(f"stitch: order must be one of {list(ORDERS)}, got {order!r}")
    h = _find_hops(spans, v, float(max_wait_ms), float(tolerance_ms), order, report=True)
    out = spans.copy()
    out["workflow_id"] = pd.Series(h.tree.trace_ids[h.workflow] if len(spans) else [], index=spans.index, dtype=STRING)
    hops = _hops_frame(spans, h)
    HOPS_TABLE.check(hops)
    UNRESOLVED_TABLE.check(h.unresolved)
    return Stitched(out, hops, params={"via": list(v), "max_wait_ms": float(max_wait_ms),
                                          "tolerance_ms": float(tolerance_ms), "order": order},
                    unresolved=h.unresolved)


def _as_stitched(spans: pd.DataFrame | Stitched, via) -> Stitched:
    v = _validate_via(via, "workflow_summary")
    if isinstance(spans, Stitched):
        return spans
    return stitch(spans, v)


def workflow_summary(spans: pd.DataFrame | Stitched, via: str | Iterable[str] = VIA) -> pd.DataFrame:
    """One row per workflow: end-to-end time, request latency, and the time spent in queues.

    Parameters
    ----------
    spans : pandas.DataFrame or Stitched
        A spans frame (stitched here with ``via``), or the result of :func:`stitch`.
    via : str or iterable of str
        Rule families for :func:`stitch` when ``spans`` is a frame.

    Returns
    -------
    pandas.DataFrame
        Columns of ``WORKFLOW_TABLE``, one row per workflow, in order of start. ``end_to_end_ms`` runs from the
        first request's start to the last span end of the workflow; ``request_ms`` is the first request's latency.
        With a consumer's clock behind its producer's both keep to the first request (see "Skewed clocks" in the
        module docstring; :func:`tracekit.detect_clock_skew`, :func:`tracekit.adjust_clock_skew`).

    Raises
    ------
    ArgumentError
        ``via`` is not a rule family or a list of them.
    SpansSchemaError
        A needed column is missing.

    Examples
    --------
    >>> import tracekit as tk
    >>> sim = tk.simulate.simulate("async-links", n_traces=40, seed=1)
    >>> ws = tk.workflow_summary(sim.spans)
    >>> int(ws["hops"].sum()) == sim.truth.n_hops, bool((ws["end_to_end_ms"] >= ws["request_ms"]).all())
    (True, True)
    """
    st = _as_stitched(spans, via)
    s = st.spans
    hops = st.hops
    # a span exported twice is one span, the copy the span tree keeps (core.span_rows): another copy read as 260..350
    # ms of a consumer kept as 200..300 put the workflow's end at 350 (end_to_end_ms 350, read once 300)
    one = ~span_tree(s).duplicate
    wid = s["workflow_id"].to_numpy(dtype=object)[one]
    start = ns(s["start"])[one]
    end = ns(s["end"])[one]
    end = np.where(end == _NAT, start, end)
    tid = s["trace_id"].to_numpy(dtype=object)[one]
    # start: the first request's (the workflow_id trace's) first start; end: the last end of any of its spans
    head = tid == wid
    head_start = np.where(head & (start != _NAT), start, np.iinfo(np.int64).max)
    # a head span without a start (schema-invalid: a frame edited by hand) leaves the workflow's start unknown (NaT,
    # end_to_end_ms NaN): its NaT read as -2**63 ns made end_to_end_ms -9.2e12
    g = pd.DataFrame({"w": wid, "s": head_start, "e": end, "t": tid, "u": head & (start == _NAT)}).groupby("w", sort=False)
    agg = g.agg(start=("s", "min"), end=("e", "max"), traces=("t", "nunique"), unknown=("u", "any"))
    agg.loc[agg["unknown"].to_numpy(dtype=bool) | (agg["start"] == np.iinfo(np.int64).max).to_numpy(), "start"] = _NAT
    outcomes = trace_outcomes(s[[c for c in s.columns if c != "workflow_id"]]).set_index("trace_id")["request_ms"]
    hw = hops["workflow_id"].to_numpy(dtype=object)
    a = hops["producer_end"].pipe(ns)
    b = hops["consumer_start"].pipe(ns)
    hw_df = pd.DataFrame({"w": hw, "a": a, "b": np.maximum(a, b), "wait": hops["queue_wait_ms"].to_numpy()})
    # the union of the known waits (a producer in progress, without an end, waited an unknown time: left out)
    kw = hw_df[(a != _NAT) & (b != _NAT)].sort_values(["w", "a"], kind="stable")
    cm = kw.groupby("w", sort=False)["b"].cummax().to_numpy(dtype=np.int64)  # latest consumer start so far
    # the one before, within the workflow, in int64 ns (before: a pandas shift made it float64, whose 256 ns steps at
    # today's epoch put queue_ms of a workflow of two hops of 20 and 30 ms at 29.999872)
    kwv = kw["w"].to_numpy(dtype=object)
    head_row = np.r_[True, kwv[1:] != kwv[:-1]] if len(kwv) else np.zeros(0, dtype=bool)
    prev = np.where(head_row, np.iinfo(np.int64).min, np.r_[np.iinfo(np.int64).min, cm[:-1]] if len(cm) else cm)
    u = np.maximum(0, kw["b"].to_numpy() - np.maximum(kw["a"].to_numpy(), prev)) / 1e6
    queue_ms = pd.Series(u, index=kw.index).groupby(kw["w"], sort=False).sum()
    hw_df = hw_df.sort_values(["w", "a"], kind="stable")
    hg = hw_df.groupby("w", sort=False)
    n_hops = hg.size()
    max_wait = hg["wait"].max()
    waits = hg["wait"].agg(lambda x: tuple(float(v) for v in x))
    agg = agg.sort_values(["start"], kind="stable")
    idx = agg.index
    known = (agg["start"] != _NAT).to_numpy() & (agg["end"] != _NAT).to_numpy()
    e2e = np.where(known, (agg["end"] - agg["start"].where(known, 0)).to_numpy(dtype=np.float64) / 1e6, np.nan)
    q = queue_ms.reindex(idx).fillna(0.0).to_numpy(dtype=np.float64)
    out = pd.DataFrame({
        "workflow_id": pd.Series(idx.to_numpy(dtype=object), dtype=STRING),
        "traces": agg["traces"].to_numpy(dtype=np.int64),
        "hops": n_hops.reindex(idx).fillna(0).to_numpy(dtype=np.int64),
        "start": to_timestamps(agg["start"].to_numpy()),
        "end": to_timestamps(agg["end"].to_numpy()),
        "end_to_end_ms": e2e,
        "request_ms": outcomes.reindex(idx).to_numpy(dtype=np.float64, na_value=np.nan),
        "queue_ms": q,
        "queue_share": np.divide(q, e2e, out=np.full(len(e2e), np.nan), where=e2e > 0),
        "max_wait_ms": max_wait.reindex(idx).to_numpy(dtype=np.float64),
        "queue_waits_ms": pd.Series([x if isinstance(x, tuple) else () for x in waits.reindex(idx).tolist()], dtype=object),
    })
    WORKFLOW_TABLE.check(out)
    return out


def workflow_critical_path(spans: pd.DataFrame | Stitched, via: str | Iterable[str] = VIA, **options: Any) -> pd.DataFrame:
    """Critical path of every workflow, continued through its hops; each queue wait is a section.

    Each consumer of a hop is walked as a root of its own (:func:`critical_path` with
    ``options``). A workflow's path is walked backwards from the root (request root or consumer)
    that ends last: that root's sections; if it is (or holds) a consumer, the queue wait (producer
    end → start of that root, ``section="queue"``, ``kind="queue"``, ``service`` = the destination) and
    then the sections of the root holding the producer that end by the producer's end (cut
    there), and so on back to a request that no hop leads into. When several producers feed one
    consumer (a batch), the one that ended last is followed. So the sections tile the workflow from
    the start of the request they reach to its end: from its first request's start (adding up to
    :func:`workflow_summary`'s ``end_to_end_ms``) unless a batch was fed last by a later request
    (three requests starting at 0, 100 and 200 ms into one batch: the path starts at 200 ms, 200 ms
    short of ``end_to_end_ms``). A consumer root that started before its producer ended (its
    clock behind) has its sections cut to start at the producer's end, so the tiling holds and
    adds up to :func:`workflow_summary`'s ``end_to_end_ms``; the split between the two sides then
    follows the recorded clocks (see "Skewed clocks" in the module docstring; correct them first
    with :func:`tracekit.adjust_clock_skew`). A producer without an end (in progress) is taken to
    hand its message over at its start (its hop's ``queue_wait_ms`` is NaN, and
    :func:`workflow_summary` leaves that wait out of ``queue_ms``).

    Parameters
    ----------
    spans : pandas.DataFrame or Stitched
        A spans frame (stitched here with ``via`` and :func:`stitch`'s defaults), or the result of :func:`stitch`,
        whose hops (found with its settings: ``via``, ``max_wait_ms``, ``tolerance_ms``, ``order``) the path
        follows, as :func:`workflow_summary` does.
    via : str or iterable of str
        Rule families for :func:`stitch` when ``spans`` is a frame.
    **options
        Passed to :func:`critical_path` (``adjacent_sequential``, ``nonblocking``, …).

    Returns
    -------
    pandas.DataFrame
        Columns of ``WORKFLOW_CP_TABLE``: ``workflow_id``, the :func:`critical_path` columns
        (``section_index`` counts within the workflow) and ``section`` (``span`` or ``queue``).
        ``attrs["late_start_ms"]`` maps each workflow whose path starts after the workflow's start (a batch fed
        last by a later request) to the ms between them: its sections add up to that much less than
        :func:`workflow_summary`'s ``end_to_end_ms``. Empty when every path starts with its workflow.

    Raises
    ------
    ArgumentError
        ``via`` is not a rule family or a list of them.
    SpansSchemaError
        A needed column is missing.

    Examples
    --------
    >>> import tracekit as tk
    >>> sim = tk.simulate.simulate("async-links", n_traces=40, seed=1)
    >>> cp = tk.critical_path(sim.spans, across_links=True)
    >>> ws = tk.workflow_summary(sim.spans).set_index("workflow_id")
    >>> total = cp.groupby("workflow_id")["duration_ms"].sum()
    >>> bool(((total - ws["end_to_end_ms"].reindex(total.index)).abs() < 1e-6).all())
    True
    >>> sorted(set(cp["section"]))
    ['queue', 'span']
    """
    v = _validate_via(via, "workflow_critical_path")
    walk_options(options, "workflow_critical_path", ("via",))
    settings = (_MAX_WAIT_MS, _TOLERANCE_MS, ORDERS[0])  # stitch's defaults
    if isinstance(spans, Stitched):
        p = spans.params
        v = tuple(p.get("via", v))
        settings = (p.get("max_wait_ms", settings[0]), p.get("tolerance_ms", settings[1]), p.get("order", settings[2]))
        spans = spans.spans.drop(columns="workflow_id")
    require_columns(spans, ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end"), "critical_path")
    h = _find_hops(spans, v, *settings)
    tree = h.tree
    n = len(spans)
    # detach every consumer whose parent is its producer: it becomes a root walked on its own
    detach = h.consumer[h.rule == "parent"]
    work = spans
    if len(detach):
        pid = spans["parent_id"].copy()
        pid.iloc[detach] = pd.NA
        work = spans.assign(parent_id=pid)
    cp = critical_path(work, **options)
    parent = tree.parent.copy()
    parent[detach] = -1
    # unit (walked root) of every row: the top of its parents, by pointer jumping (each pass doubles the
    # steps taken: log2(depth) passes over the rows, not one per level; a row on a parent cycle stays on it)
    cur = np.where(parent >= 0, parent, np.arange(n))
    for _ in range(max(n, 1).bit_length() + 1):
        nxt = cur[cur]
        if np.array_equal(nxt, cur):
            break
        cur = nxt
    unit = cur
    start = ns(spans["start"])
    end = ns(spans["end"])
    end = np.where(end == _NAT, start, end)  # a producer in progress (no end) handed its message over by its start
    # sections per unit root (critical_path reports the root span id; map it back to rows)
    root_row = span_rows(spans, cp["trace_id"], cp["root_span_id"], tree)  # the tree's copy of a root read twice
    cs = ns(cp["start"])
    ce = ns(cp["end"])
    by_unit: dict[int, np.ndarray] = {}
    if len(cp):
        o = np.argsort(root_row, kind="stable")
        r_sorted = root_row[o]
        bounds = np.flatnonzero(np.r_[True, r_sorted[1:] != r_sorted[:-1], True])
        for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            by_unit[int(r_sorted[a])] = o[a:b]
    # the hop feeding each consumer unit (latest producer end); a consumer inside its unit (e.g. an
    # X-Ray function segment under the Lambda service segment) feeds the unit it belongs to
    feed: dict[int, tuple[int, int, int]] = {}
    for k in np.argsort(end[h.producer], kind="stable").tolist():
        c = int(h.consumer[k])
        u = int(unit[c])
        if unit[int(h.producer[k])] != u:
            feed[u] = (int(h.producer[k]), c, k)
    wf = h.workflow
    unit_end = {u: int(ce[rows].max()) for u, rows in by_unit.items()}
    # terminal unit per workflow: the unit whose sections end last
    best: dict[int, int] = {}
    for u, e in unit_end.items():
        w = int(wf[u])
        b = best.get(w)
        if b is None or e > unit_end[b] or (e == unit_end[b] and start[u] < start[b]):
            best[w] = u
    pieces = []
    for w, u in best.items():
        T = np.iinfo(np.int64).max
        seen: set[int] = set()
        while u is not None and u not in seen:
            seen.add(u)
            rows = by_unit.get(u, np.zeros(0, dtype=np.int64))
            hop = feed.get(u)
            # a consumer unit begins no earlier than its message was handed over (its producer's end): with its
            # clock behind, its sections before that are cut, so the producer's unit takes the path up to there
            lo = int(end[hop[0]]) if hop is not None else np.iinfo(np.int64).min
            a_ns, e_ns = np.maximum(cs[rows], lo), np.minimum(ce[rows], T)
            keep = a_ns < e_ns
            if keep.any():
                pieces.append(("span", w, rows[keep], e_ns[keep], a_ns[keep]))
            if hop is None:
                break
            p, c, k = hop
            qa, qb = int(end[p]), min(int(start[u]), T)  # the wait until the consumer's unit began
            if qa < qb:
                pieces.append(("queue", w, np.asarray([k]), np.asarray([qb]), qa))
            T = qa
            u = int(unit[p])
    out = _assemble(spans, cp, h, pieces, cs)
    WORKFLOW_CP_TABLE.check(out)
    out.attrs["late_start_ms"] = _late_starts(spans, tree, out)
    return out


def _late_starts(spans: pd.DataFrame, tree: Any, cp: pd.DataFrame) -> dict[str, float]:
    """Workflow id -> ms from the workflow's start (its first request's first start, as :func:`workflow_summary`
    measures it) to its path's first section, for the workflows whose path starts later (a batch fed last by a later
    request): their sections add up to that much less than ``end_to_end_ms``."""
    if not len(cp):
        return {}
    one = ~tree.duplicate
    tid = spans["trace_id"].to_numpy(dtype=object)[one]
    start = ns(spans["start"])[one]
    unknown = np.iinfo(np.int64).max  # a head without a start: the workflow's start is unknown, nothing is said
    heads = pd.Series(np.where(start != _NAT, start, unknown), index=tid).groupby(level=0).min()
    first = pd.Series(ns(cp["start"]), index=cp["workflow_id"].to_numpy(dtype=object)).groupby(level=0).min()
    wf_start = heads.reindex(first.index, fill_value=unknown).to_numpy(dtype=np.int64)  # whole ns, as the sections
    f = first.to_numpy(dtype=np.int64)
    keep = (wf_start < unknown) & (f > wf_start)
    return {str(w): (a - b) / 1e6 for w, a, b in zip(first.index[keep], f[keep].tolist(), wf_start[keep].tolist(),
                                                     strict=True)}


def _assemble(spans, cp, h, pieces, cs) -> pd.DataFrame:
    """All pieces at once: span sections taken from ``cp`` (end cut), queue sections built from the hops."""
    cols = CRITICAL_PATH.column_names
    sp = [p for p in pieces if p[0] == "span"]
    qp = [p for p in pieces if p[0] == "queue"]
    frames = []
    if sp:
        rows = np.concatenate([p[2] for p in sp])
        e_ns = np.concatenate([p[3] for p in sp])
        s_ns = np.concatenate([p[4] for p in sp])
        wf = np.concatenate([np.full(len(p[2]), p[1], dtype=np.int64) for p in sp])
        f = cp.iloc[rows][cols].reset_index(drop=True)
        f["start"] = to_timestamps(s_ns)
        f["end"] = to_timestamps(e_ns)
        f["duration_ms"] = (e_ns - s_ns) / 1e6
        f.insert(0, "workflow_id", h.tree.trace_ids[wf])
        f["section"] = "span"
        frames.append(f)
    if qp:
        k = np.asarray([int(p[2][0]) for p in qp], dtype=np.int64)
        c = h.consumer[k]
        pr = h.producer[k]
        qa = np.asarray([p[4] for p in qp], dtype=np.int64)
        qb = np.asarray([int(p[3][0]) for p in qp], dtype=np.int64)
        d = h.destination[k]
        psvc = spans["service"].to_numpy(dtype=object)[pr]
        pname = spans["name"].to_numpy(dtype=object)[pr]
        csid = spans["span_id"].to_numpy(dtype=object)[c]
        f = pd.DataFrame({
            "workflow_id": h.tree.trace_ids[np.asarray([p[1] for p in qp], dtype=np.int64)],
            "trace_id": spans["trace_id"].to_numpy(dtype=object)[c], "span_id": csid,
            "service": [x if x is not None else "queue" for x in d],
            "name": [f"queue wait {x}" if x else "queue wait" for x in d],
            "kind": "queue", "start": to_timestamps(qa), "end": to_timestamps(qb), "duration_ms": (qb - qa) / 1e6,
            "section_index": 0, "depth": 0, "root_span_id": csid, "request": False,
            "call_path": [f"{a}:{b} > queue:{x}" for a, b, x in zip(psvc, pname, d, strict=True)],
            "in_progress": False, "inferred": False, "section": "queue"})
        frames.append(f)
    if not frames:
        empty = cp.iloc[0:0][cols].copy()
        empty.insert(0, "workflow_id", pd.Series([], dtype=STRING))
        empty["section"] = pd.Series([], dtype=STRING)
        return empty
    out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    out = out.sort_values(["workflow_id", "start", "end"], kind="stable").reset_index(drop=True)
    w = out["workflow_id"].to_numpy(dtype=object)
    first = np.r_[True, w[1:] != w[:-1]] if len(w) else np.zeros(0, dtype=bool)
    grp = np.maximum.accumulate(np.where(first, np.arange(len(out)), 0))
    out["section_index"] = (np.arange(len(out)) - grp).astype(np.int64)
    for c in ("workflow_id", "trace_id", "span_id", "service", "name", "kind", "root_span_id", "call_path", "section"):
        out[c] = out[c].astype(STRING)
    out["depth"] = out["depth"].astype(np.int64)
    for c in ("request", "in_progress", "inferred"):
        out[c] = out[c].astype(bool)
    return out[WORKFLOW_CP_TABLE.column_names]
