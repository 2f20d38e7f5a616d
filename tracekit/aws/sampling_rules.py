"""X-Ray sampling rules and per-rule sampling statistics (``GetSamplingRules``, ``GetSamplingStatisticSummaries``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..core.args import count_arg
from ..core.results import result_table
from ..errors import ArgumentError
from .cache import jsonable
from .client import follow_pages, is_botocore_error, make_client, translate_error
from .times import epoch, to_utc

__all__ = ["RULES_TABLE", "STATS_TABLE", "SamplingInfo", "fetch_xray_sampling", "sampling_rules_frame",
           "sampling_stats_frame"]

# --------------------------------------------------------------------------------------------- sampling


@dataclass(frozen=True)
class SamplingInfo:
    """Sampling rules and per-rule statistics; unpacks as ``rules, stats = fetch_xray_sampling(...)``."""

    rules: pd.DataFrame
    stats: pd.DataFrame

    def __iter__(self) -> Iterator[pd.DataFrame]:
        yield self.rules
        yield self.stats


#: the columns of ``fetch_xray_sampling(...).rules``, declared as data (``tracekit.core.results``)
RULES_TABLE = result_table("fetch_xray_sampling.rules", "one row per X-Ray sampling rule, in priority order", [
    ("rule_name", "string", "", "RuleName"),
    ("rule_arn", "string", "", "RuleARN"),
    ("priority", "Int64", "", "Priority: X-Ray applies the matching rule of lowest priority"),
    ("fixed_rate", "float64", "fraction", "FixedRate: share of requests sampled beyond the reservoir"),
    ("reservoir_size", "Int64", "requests/s", "ReservoirSize: requests per second sampled before fixed_rate applies"),
    ("service_name", "string", "", "ServiceName the rule matches (may be a * pattern)"),
    ("service_type", "string", "", "ServiceType the rule matches"),
    ("host", "string", "", "Host the rule matches"),
    ("http_method", "string", "", "HTTPMethod the rule matches"),
    ("url_path", "string", "", "URLPath the rule matches"),
    ("resource_arn", "string", "", "ResourceARN the rule matches"),
    ("version", "Int64", "", "Version of the rule format"),
    ("attributes", "object", "", "Attributes the rule matches (dict)"),
    ("created_at", "datetime64[ns, UTC]", "", "CreatedAt"),
    ("modified_at", "datetime64[ns, UTC]", "", "ModifiedAt"),
])
#: the columns of ``fetch_xray_sampling(...).stats``
STATS_TABLE = result_table("fetch_xray_sampling.stats", "one row per sampling rule per 10-second window", [
    ("rule_name", "string", "", "RuleName"),
    ("timestamp", "datetime64[ns, UTC]", "", "start of the window"),
    ("request_count", "Int64", "requests", "requests the rule matched in the window"),
    ("sampled_count", "Int64", "requests", "requests the rule sampled (traced)"),
    ("borrow_count", "Int64", "requests", "requests sampled by borrowing from the reservoir"),
    ("sampled_fraction", "float64", "fraction", "sampled_count / request_count (NaN without requests)"),
])
_RULE_COLUMNS = RULES_TABLE.column_names
_RULE_KEYS = ["RuleName", "RuleARN", "Priority", "FixedRate", "ReservoirSize", "ServiceName", "ServiceType",
              "Host", "HTTPMethod", "URLPath", "ResourceARN", "Version", "Attributes"]
_STAT_COLUMNS = STATS_TABLE.column_names


def sampling_rules_frame(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """``SamplingRuleRecords`` → one row per rule, sorted by priority (the order X-Ray applies them).

    Parameters
    ----------
    records : iterable of dict
        ``SamplingRuleRecords`` of ``GetSamplingRules``.

    Returns
    -------
    pandas.DataFrame
        The columns of ``RULES_TABLE``.

    Examples
    --------

    >>> rec = {"SamplingRule": {"RuleName": "Default", "Priority": 10000, "FixedRate": 0.05,
    ...        "ReservoirSize": 1, "ServiceName": "*"}, "CreatedAt": 0.0}
    >>> sampling_rules_frame([rec])[["rule_name", "fixed_rate", "reservoir_size"]].values.tolist()
    [['Default', 0.05, 1]]
    """
    rows = []
    for r in records:
        rule = r.get("SamplingRule") or {}
        row = {c: rule.get(k) for c, k in zip(_RULE_COLUMNS[:len(_RULE_KEYS)], _RULE_KEYS, strict=True)}
        row["attributes"] = dict(rule.get("Attributes") or {})
        row["created_at"] = epoch(r.get("CreatedAt"))
        row["modified_at"] = epoch(r.get("ModifiedAt"))
        rows.append(row)
    df = pd.DataFrame(rows, columns=_RULE_COLUMNS)
    for c in ("rule_name", "rule_arn", "service_name", "service_type", "host", "http_method", "url_path",
              "resource_arn"):
        df[c] = df[c].astype("string[pyarrow]")
    for c in ("priority", "reservoir_size", "version"):
        df[c] = pd.array(df[c], dtype="Int64")
    df["fixed_rate"] = df["fixed_rate"].astype("float64")
    for c in ("created_at", "modified_at"):
        df[c] = pd.to_datetime(df[c], utc=True).astype("datetime64[ns, UTC]")
    return df.sort_values(["priority", "rule_name"], kind="stable").reset_index(drop=True)


def sampling_stats_frame(summaries: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """``SamplingStatisticSummaries`` → one row per rule per window; ``sampled_fraction`` = sampled / requests.

    Parameters
    ----------
    summaries : iterable of dict
        ``SamplingStatisticSummaries`` of ``GetSamplingStatisticSummaries``.

    Returns
    -------
    pandas.DataFrame
        The columns of ``STATS_TABLE``, sorted by rule and time.

    Examples
    --------

    >>> s = {"RuleName": "base", "Timestamp": 1530923100.0, "RequestCount": 40, "SampledCount": 6,
    ...      "BorrowCount": 1}
    >>> sampling_stats_frame([s])[["request_count", "sampled_fraction"]].values.tolist()
    [[40, 0.15]]
    """
    rows = [{"rule_name": s.get("RuleName"), "timestamp": epoch(s.get("Timestamp")),
             "request_count": s.get("RequestCount"), "sampled_count": s.get("SampledCount"),
             "borrow_count": s.get("BorrowCount")} for s in summaries]
    df = pd.DataFrame(rows, columns=_STAT_COLUMNS[:-1])
    df["rule_name"] = df["rule_name"].astype("string[pyarrow]")
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True).astype("datetime64[ns, UTC]")
    for c in ("request_count", "sampled_count", "borrow_count"):
        df[c] = pd.array(df[c], dtype="Int64")
    req = df["request_count"].astype("float64")
    df["sampled_fraction"] = (df["sampled_count"].astype("float64") / req.where(req > 0)).astype("float64")
    return df.sort_values(["rule_name", "timestamp"], kind="stable").reset_index(drop=True)


def fetch_xray_sampling(start: Any = None, end: Any = None, *, client: Any = None, session: Any = None,
                        region: str | None = None, profile: str | None = None,
                        endpoint_url: str | None = None, max_attempts: int = 8) -> SamplingInfo:
    """X-Ray sampling rules (``GetSamplingRules``) and per-rule 10-s statistics (``GetSamplingStatisticSummaries``).

    X-Ray keeps statistics for recent windows only and the API takes no time range, so ``start``/``end``
    (optional) filter the returned windows client-side (``start <= timestamp < end``).

    Parameters
    ----------
    start, end : datetime, Timestamp, ISO string or epoch seconds, optional
        Keep the statistics windows in ``[start, end)``.
    client, session, region, profile, endpoint_url
        AWS access, as for :func:`tracekit.aws.fetch_xray`.
    max_attempts : int
        botocore's adaptive retry budget of a made client, as for :func:`tracekit.aws.fetch_xray` (a throttled
        call's error says to raise it).

    Returns
    -------
    SamplingInfo
        ``rules`` (columns of ``RULES_TABLE``) and ``stats`` (``STATS_TABLE``); unpacks as ``rules, stats``.

    Raises
    ------
    tracekit.errors.ArgumentError
        A ``start``/``end`` that is not a time, or ``end`` not after ``start``, before any request.
    XRayFetchError
        AWS failed (:class:`XRayRegionError` for a bad region, before any request).

    Examples
    --------

    >>> from tracekit.aws import fetch_xray_sampling
    >>> fetch_xray_sampling(region="moon-base-1")
    Traceback (most recent call last):
    ...
    tracekit.aws.client.XRayRegionError: 'moon-base-1' is not an AWS region name (expected e.g. 'eu-west-1').
    """
    t0 = to_utc(start, "start") if start is not None else None  # bad times fail before any request
    t1 = to_utc(end, "end") if end is not None else None
    if t0 is not None and t1 is not None and t1 <= t0:
        raise ArgumentError(f"end ({t1.isoformat()}) must be after start ({t0.isoformat()})")
    max_attempts = count_arg(max_attempts, "max_attempts", "fetch_xray_sampling")
    client = make_client("xray", client=client, session=session, region=region, profile=profile,
                          endpoint_url=endpoint_url, max_attempts=max_attempts)
    try:
        records = [r for page in follow_pages(client.get_paginator("get_sampling_rules").paginate(),
                                              operation="GetSamplingRules")
                   for r in page.get("SamplingRuleRecords") or []]
        stats = [s for page in follow_pages(client.get_paginator("get_sampling_statistic_summaries").paginate(),
                                            operation="GetSamplingStatisticSummaries")
                 for s in page.get("SamplingStatisticSummaries") or []]
    except Exception as exc:
        if is_botocore_error(exc):
            raise translate_error(exc, client=client, region=region, endpoint_url=endpoint_url) from None
        raise
    rules_df = sampling_rules_frame(jsonable(records))
    stats_df = sampling_stats_frame(jsonable(stats))
    if t0 is not None:
        stats_df = stats_df[stats_df["timestamp"] >= t0]
    if t1 is not None:
        stats_df = stats_df[stats_df["timestamp"] < t1]
    return SamplingInfo(rules_df, stats_df.reset_index(drop=True))

