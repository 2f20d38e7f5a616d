"""Tempo's own TraceQL examples (pkg/traceql/test_examples.yaml, read from a local copy, never
committed): valid queries parse, failing ones are refused, unsupported ones said "not supported".

The file is found as benchmarks/traceql_conformance.py finds it ($TRACEKIT_TEMPO_EXAMPLES, or a
git mirror of github:grafana/tempo at $TRACEKIT_TEMPO_MIRROR); the tests skip when it is absent.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("yaml", reason="PyYAML reads Tempo's examples file")

pytestmark = pytest.mark.slow  # ~460 queries through the Earley parser: 10-20 s

_SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "traceql_conformance.py"
_spec = importlib.util.spec_from_file_location("traceql_conformance", _SCRIPT)
conformance = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(conformance)


@pytest.fixture(scope="module")
def results():
    found = conformance.load_examples()
    if found is None:
        pytest.skip("Tempo's pkg/traceql/test_examples.yaml not found: set TRACEKIT_TEMPO_EXAMPLES to its path "
                    "or TRACEKIT_TEMPO_MIRROR to a git mirror of github:grafana/tempo")
    examples, _ = found
    assert len(examples["valid"]) > 100 and len(examples["parse_fails"]) > 30  # the real file, not a stub
    return conformance.outcomes(examples)


def test_at_least_95_percent_of_valid_queries_parse(results):
    good, total, bad = results["valid"]
    assert good >= 0.95 * total, bad


@pytest.mark.parametrize("section", ["parse_fails", "validate_fails", "unsupported"])
def test_every_failing_query_is_refused(results, section):
    good, total, bad = results[section]
    assert good == total, bad
