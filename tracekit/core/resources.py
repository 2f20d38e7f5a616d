"""Where a span ran: its host and its service version, read from the resource — one definition.

A **host** is the machine (or container, pod, function instance) whose clock stamped the span: the
first of :data:`HOST_KEYS` the span's resource names, most specific first. The X-Ray reader
flattens a segment's ``aws`` context into ``aws.ec2.*``, ``aws.ecs.*``, ``aws.eks.*`` keys; a
nested ``aws.ec2.instance_id`` is read too. A **version** is the first of :data:`VERSION_KEYS`.
Used by clock-skew detection (clocks are hosts), attribution (``host`` / ``version``
dimensions) and root-cause ranking (``level="host"`` / ``"version"``).

>>> import tracekit as tk
>>> spans = tk.spans_from_columns({"trace_id": ["a" * 32] * 2, "span_id": ["1" * 16, "2" * 16],
...     "service": ["api", "db"], "name": ["GET /", "q"], "start": [0, 1], "end": [5, 4],
...     "resource": [{"host.name": "h1", "service.version": "1.2"}, {"aws.ecs.container": "c-7"}]})
>>> hosts(spans).tolist(), versions(spans).tolist()
(['h1', 'c-7'], ['1.2', None])
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["HOST_KEYS", "VERSION_KEYS", "REGION_KEYS", "host_of", "hosts", "versions"]

#: resource keys naming the machine whose clock stamped a span, most specific first
HOST_KEYS = ("host.name", "aws.ec2.instance_id", "aws.ecs.container", "aws.ecs.container_id", "aws.eks.pod",
             "aws.eks.container_id", "faas.instance", "aws.lambda.instance", "k8s.pod.name", "container.id", "host.id")
#: resource keys naming the version of the service that ran a span, most specific first
VERSION_KEYS = ("service.version", "faas.version", "aws.elastic_beanstalk.version_label")
#: resource keys naming the cloud region
REGION_KEYS = ("cloud.region", "aws.region")


def host_of(resource: Any) -> str | None:
    """The host a resource dict names (:data:`HOST_KEYS`), or None.

    >>> host_of({"aws": {"ec2": {"instance_id": "i-1"}}}), host_of(None)
    ('i-1', None)
    """
    if not isinstance(resource, dict) or not resource:
        return None
    for k in HOST_KEYS:
        v = resource.get(k)
        if v not in (None, ""):
            return str(v)
    aws = resource.get("aws")
    if isinstance(aws, dict) and isinstance(aws.get("ec2"), dict) and aws["ec2"].get("instance_id"):
        return str(aws["ec2"]["instance_id"])
    return None


def _version_of(resource: Any) -> str | None:
    if not isinstance(resource, dict) or not resource:
        return None
    for k in VERSION_KEYS:
        v = resource.get(k)
        if v not in (None, ""):
            return str(v)
    return None


def _per_resource(spans: pd.DataFrame, fn) -> np.ndarray:
    """``fn`` of each span's resource, computed once per distinct resource object (readers share them)."""
    if "resource" not in spans.columns:
        return np.full(len(spans), None, dtype=object)
    col = spans["resource"].to_numpy(dtype=object)
    if not len(col):
        return np.full(0, None, dtype=object)
    # the distinct objects by identity (the column holds them, so no id is reused while this runs), fn once each
    _, first, inv = np.unique(np.fromiter(map(id, col), dtype=np.uint64, count=len(col)), return_index=True,
                              return_inverse=True)
    values = np.empty(len(first), dtype=object)
    values[:] = [fn(col[i]) for i in first]
    return values[inv.ravel()]


def hosts(spans: pd.DataFrame) -> np.ndarray:
    """Host of each span (:func:`host_of` of its resource), None when the resource names none."""
    return _per_resource(spans, host_of)


def versions(spans: pd.DataFrame) -> np.ndarray:
    """Service version of each span (:data:`VERSION_KEYS` of its resource), None when unnamed."""
    return _per_resource(spans, _version_of)
