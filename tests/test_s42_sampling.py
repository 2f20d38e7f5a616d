"""Sampling, reviewed (s42): X-Ray local rules as the SDKs read them, re-sampling a frame that is already sampled,
samplers that keep some traces with probability 0, a population reference of another period, and the intervals
of weighted percentiles when the weights differ (tracekit.analysis.sampling).

Truth is by construction: trace ids whose 56-bit randomness is chosen, populations built here and sampled with
known inclusion probabilities (numpy, seeded), so which traces a consistent sampler keeps, their true weights and
the population's percentiles are known exactly.
"""

from __future__ import annotations

import pytest

from tracekit.analysis.sampling import match_xray_rule, xray_rules_frame
from tracekit.errors import TraceFormatError

# ---------------------------------------------------------------------------------------------- X-Ray local rules

def _local(version, rule):
    return {"version": version, "default": {"fixed_target": 1, "rate": 0.05},
            "rules": [{"description": "api host", "http_method": "*", "url_path": "*", "fixed_target": 0,
                       "rate": 0.5, **rule}]}


def test_version_1_local_rule_service_name_is_the_host():
    # aws-xray-sdk-python local/sampling_rule.py: version 1 reads the host from 'service_name'
    v1 = _local(1, {"service_name": "api.example.com"})
    assert match_xray_rule(v1, service="checkout", host="api.example.com", method="GET", path="/") == "api host"
    assert match_xray_rule(v1, service="api.example.com", host="web.example.com", method="GET", path="/") == "Default"
    assert xray_rules_frame(v1).loc[0, ["service_name", "host"]].tolist() == ["*", "api.example.com"]


def test_version_2_local_rule_never_matches_the_service_name():
    # the SDKs match a local rule on host, method and path only: a stray 'service_name' narrows nothing
    v2 = _local(2, {"host": "*.example.com", "service_name": "billing"})
    assert match_xray_rule(v2, service="checkout", host="api.example.com", method="GET", path="/") == "api host"
    assert match_xray_rule(v2, service="billing", host="api.example.org", method="GET", path="/") == "Default"


def test_local_rules_of_an_unknown_version_are_refused():
    with pytest.raises(TraceFormatError, match="version 3"):
        xray_rules_frame(_local(3, {"host": "*"}))
