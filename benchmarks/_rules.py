"""``--rule-off NAME``: the rules ``rank_causes`` can switch off for side-by-side figures (docs/guide.md gives each
rule's figures with it off and on). Shared by ``bench_rank_causes.py`` and ``bench_fault_lab.py``.

The switches are the private ``_RULES`` tables of :mod:`tracekit.investigate.causes` (``abnormal_minutes``) and
:mod:`tracekit.analysis.log_evidence` (``same_statement``, ``fewer``, …); a benchmark run with a rule off scores the
code as it was without that rule, in the same session, on the same frames.
"""

from __future__ import annotations

import argparse


def rule_tables() -> dict[str, dict[str, bool]]:
    """Each switchable rule's name → the table that holds it."""
    from tracekit.analysis import log_evidence
    from tracekit.investigate import causes

    return {**{k: causes._RULES for k in causes._RULES}, **{k: log_evidence._RULES for k in log_evidence._RULES}}


def add_rule_option(ap: argparse.ArgumentParser) -> None:
    """Declare ``--rule-off NAME`` (repeatable) on a benchmark's parser."""
    ap.add_argument("--rule-off", action="append", default=[], metavar="NAME", choices=sorted(rule_tables()),
                    help="switch a rank_causes rule off for this run (repeatable): " + ", ".join(sorted(rule_tables())))


def rules_off(names: list[str]) -> list[str]:
    """Switch the named rules off (for the rest of the process); the names switched, as given."""
    tables = rule_tables()
    unknown = [n for n in names if n not in tables]
    if unknown:
        raise SystemExit(f"unknown rule(s) {unknown}; known: {', '.join(sorted(tables))}")
    for n in names:
        tables[n][n] = False
    return list(names)
