"""The live AWS paths (tracekit.aws: fetch_xray / fetch_xray_summaries / fetch_logs / fetch_metrics / the
coverage audit, and the clients they make): paging that loops, counts that are not whole numbers, the words
of permission and throttling errors, an HTTP 429 without a throttling code, swapped audit times.

No moto server here (10-16 s to start): botocore's Stubber validates each request against the service model,
a ``before-send`` hook answers the raw HTTP of a made client, and small fakes stand in where neither can.
"""

from __future__ import annotations

import pytest

import tracekit as tk
from tracekit.errors import ArgumentError

boto3 = pytest.importorskip("boto3")

from tracekit.aws import (  # noqa: E402
    xray_coverage_audit,
)

REGION = "us-east-1"
KEY, SECRET = "AKIATRACEKITS39LIVE1", "s39LiveSecretDoNotLeak/0123456789"
TID = "5759e988bd862e3fe1be46a994272793"
XTID = "1-5759e988-bd862e3fe1be46a994272793"
START, END = "2026-11-20T09:00Z", "2026-11-20T10:00Z"


@pytest.fixture(autouse=True)
def fake_credentials(monkeypatch):
    """Fake credentials only: env vars, no config files, no instance metadata."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/tracekit-aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/tracekit-aws-credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def _client(service: str):
    return boto3.client(service, region_name=REGION, aws_access_key_id=KEY, aws_secret_access_key=SECRET)


def _count_calls(client, operation: str) -> list[int]:
    """A one-element list counting the requests made for ``operation`` (stubbed or sent)."""
    n = [0]

    def count(**_kw):
        n[0] += 1

    client.meta.events.register(f"before-parameter-build.{client.meta.service_model.service_id.hyphenize()}."
                                f"{operation}", count)
    return n


# ----------------------------------------------------------------------------------------------- coverage audit


def test_coverage_audit_with_end_before_start_is_an_argument_error():
    spans = tk.spans_from_columns({"trace_id": [TID], "span_id": ["53995c3f42cd8ad8"], "parent_id": [None],
                                   "service": ["checkout"], "name": ["checkout"], "kind": ["server"],
                                   "start": [0], "end": [9_000_000]})
    # swapped: the old audit kept no span and called every service unseen, with no word about the times
    with pytest.raises(ArgumentError, match=r"end \(1970-01-01T00:00:00\+00:00\) must be after start"):
        xray_coverage_audit(spans=spans, checks=(), start="1970-01-01T00:00:01", end="1970-01-01T00:00:00")
    ok = xray_coverage_audit(spans=spans, checks=(), start="1970-01-01T00:00:00", end="1970-01-01T00:00:01")
    assert ok["service"].tolist() == ["checkout"] and bool(ok["seen_in_traces"].iloc[0])
