"""Every public function and class exported as ``tk.*`` has numpydoc sections (issue 13).

Required: ``Parameters`` when it takes any argument (for a class: its constructor's; a class may
say ``Attributes`` instead), ``Returns`` for a function, ``Examples`` always (the doctests run in
the suite, so an example is checked too).
"""

from __future__ import annotations

import inspect
import re

import pytest

import tracekit as tk

#: Exports whose docstrings still lack sections, with what they lack (found by this test when it was
#: written, on top of the issue-13 kernel commit). Each belongs to a file another engineer owned in
#: that round, so the lead fixes them after merging: fill the sections, then delete the line (the
#: test fails while a listed name is already complete, so this list only shrinks).
KNOWN_MISSING = {
    # schema
    "SpansSchemaError": {"Examples"},
    "empty_spans": {"Examples", "Returns"},
    "schema_markdown": {"Examples", "Returns"},
    "spans_from_columns": {"Examples", "Parameters", "Returns"},
    "trace_id_to_xray": {"Examples", "Parameters", "Returns"},
    "validate_spans": {"Examples", "Parameters", "Returns"},
    "xray_to_trace_id": {"Examples", "Parameters", "Returns"},
    # io
    "read": {"Examples", "Parameters", "Returns"},
    "read_otlp": {"Examples", "Parameters", "Returns"},
    "read_xray": {"Examples", "Parameters", "Returns"},
    "skipped_records": {"Examples", "Parameters", "Returns"},
    "write_otlp": {"Examples", "Parameters", "Returns"},
    "write_xray": {"Examples", "Parameters", "Returns"},
    # analysis
    "adjust_clock_skew": {"Examples", "Parameters", "Returns"},
    "bubble_up": {"Examples", "Parameters", "Returns"},
    "cold_starts": {"Examples", "Parameters", "Returns"},
    "compare": {"Examples", "Parameters", "Returns"},
    "critical_path": {"Examples", "Parameters", "Returns"},
    "critical_path_breakdown": {"Examples", "Parameters", "Returns"},
    "detect_clock_skew": {"Examples", "Parameters", "Returns"},
    "find_pii": {"Examples", "Parameters", "Returns"},
    "find_repeated_calls": {"Examples", "Parameters", "Returns"},
    "health_report": {"Examples", "Parameters", "Returns"},
    "lambda_invocations": {"Examples", "Parameters", "Returns"},
    "redact": {"Examples", "Parameters", "Returns"},
    "sampling_bias": {"Examples", "Parameters", "Returns"},
    "sampling_weights": {"Examples", "Parameters", "Returns"},
    "self_time": {"Examples", "Parameters", "Returns"},
    "service_graph": {"Examples", "Parameters", "Returns"},
    "simulate_sampling": {"Examples", "Parameters", "Returns"},
    "version_regressions": {"Examples", "Parameters", "Returns"},
    "waterfall_data": {"Examples", "Returns"},
    "weighted_summary": {"Examples", "Parameters", "Returns"},
    # live AWS
}

_SECTION = re.compile(r"^([A-Z][a-z]+)\n-{3,}[ \t]*$", re.M)


def _exports() -> list[str]:
    return sorted(n for n in tk.__all__ if inspect.isfunction(getattr(tk, n)) or inspect.isclass(getattr(tk, n)))


def sections(obj) -> set[str]:
    """The numpydoc section titles of ``obj``'s docstring."""
    return set(_SECTION.findall(inspect.getdoc(obj) or ""))


def missing_sections(obj) -> set[str]:
    """The required sections ``obj``'s docstring lacks."""
    have = sections(obj)
    try:
        params = [p for p in inspect.signature(obj).parameters.values() if p.name not in ("self", "cls")]
    except (TypeError, ValueError):  # builtin exception constructors
        params = []
    need = {"Examples"}
    if params:
        need.add("Parameters")
    if inspect.isfunction(obj):
        need.add("Returns")
    if inspect.isclass(obj) and "Attributes" in have:
        need.discard("Parameters")
    return need - have


def test_the_section_parser_finds_numpydoc_titles_only():
    def f(x: int) -> int:
        """Double.

        Parameters
        ----------
        x : int

        Returns
        -------
        int

        Examples
        --------
        >>> f(2)
        4
        """
        return 2 * x

    def g(x: int) -> int:
        """Double ``x``. Returns twice it; see Examples below: none."""
        return 2 * x

    assert sections(f) == {"Parameters", "Returns", "Examples"} and missing_sections(f) == set()
    assert missing_sections(g) == {"Parameters", "Returns", "Examples"}


@pytest.mark.parametrize("name", _exports())
def test_public_export_has_numpydoc_sections(name):
    missing = missing_sections(getattr(tk, name))
    if name in KNOWN_MISSING:
        assert missing, f"tk.{name} is complete now: remove it from KNOWN_MISSING"
        assert missing <= KNOWN_MISSING[name], f"tk.{name} lost sections: {sorted(missing - KNOWN_MISSING[name])}"
    else:
        assert not missing, f"tk.{name}: numpydoc sections missing: {sorted(missing)}"


def test_known_missing_names_are_exports():
    assert set(KNOWN_MISSING) <= set(_exports())
