"""Live AWS X-Ray: fetch traces, sampling rules and coverage with boto3 (extra ``aws``).

Raw responses are handed to the one X-Ray reader, :func:`tracekit.io.readers.read_xray`. By job:

- :mod:`~tracekit.aws.client` — sessions, clients (adaptive retries), endpoints, errors with secrets scrubbed;
- :mod:`~tracekit.aws.times` — UTC times and query windows;
- :mod:`~tracekit.aws.cache` — the raw-response cache (atomic pages, manifest, cut pages found);
- :mod:`~tracekit.aws.fetch` — :func:`fetch_xray`, :func:`fetch_xray_summaries` (windows, paging, batches, resume);
- :mod:`~tracekit.aws.sampling_rules` — :func:`fetch_xray_sampling`;
- :mod:`~tracekit.aws.coverage` — :func:`xray_coverage_audit`.

``import tracekit.aws`` does not import boto3; the functions import it when called.

>>> from tracekit.aws import fetch_xray, IAM_PERMISSIONS
>>> IAM_PERMISSIONS["fetch_xray"]
('xray:GetTraceSummaries', 'xray:BatchGetTraces')
"""

from .cache import MANIFEST_NAME
from .client import (
    IAM_PERMISSIONS,
    FetchInterrupted,
    XRayAuthError,
    XRayConnectionError,
    XRayFetchError,
    XRayPermissionError,
    XRayRegionError,
    XRayRequestError,
    XRayThrottledError,
)
from .coverage import AUDIT_COLUMNS, IAM_PERMISSIONS_BY_CHECK, xray_coverage_audit
from .fetch import BATCH_MAX_IDS, TIME_RANGE_TYPES, fetch_xray, fetch_xray_summaries, summaries_frame
from .sampling_rules import SamplingInfo, fetch_xray_sampling, sampling_rules_frame, sampling_stats_frame
from .times import DEFAULT_WINDOW, time_windows

__all__ = [
    "fetch_xray",
    "fetch_xray_summaries",
    "fetch_xray_sampling",
    "xray_coverage_audit",
    "summaries_frame",
    "sampling_rules_frame",
    "sampling_stats_frame",
    "time_windows",
    "SamplingInfo",
    "XRayFetchError",
    "FetchInterrupted",
    "XRayAuthError",
    "XRayPermissionError",
    "XRayRegionError",
    "XRayThrottledError",
    "XRayConnectionError",
    "XRayRequestError",
    "MANIFEST_NAME",
    "IAM_PERMISSIONS",
    "IAM_PERMISSIONS_BY_CHECK",
    "AUDIT_COLUMNS",
    "BATCH_MAX_IDS",
    "TIME_RANGE_TYPES",
    "DEFAULT_WINDOW",
]
