"""The README's code stays true: every python block marked ``<!-- readme-test -->`` runs as it is, and the
``>>>`` examples run as doctests (the README is not collected by --doctest-modules)."""

from __future__ import annotations

import doctest
import os
import re

import pytest

import tracekit as tk

from .conftest import REPO

README = REPO / "README.md"
MARKED = re.compile(r"<!-- readme-test -->\s*```python\n(.*?)```", re.S)


def marked_blocks(text: str) -> list[str]:
    """Python blocks of the README marked to run, in order."""
    return MARKED.findall(text)


def test_marker_finds_the_blocks():
    text = "a\n<!-- readme-test -->\n```python\nx = 1\n```\n```python\ny = 2\n```\n"
    assert marked_blocks(text) == ["x = 1\n"]  # an unmarked block is not run


@pytest.mark.slow  # reads 3 × 1,200 traces (one with logs and metrics) and writes a report (~20 s)
def test_readme_notebook_snippet_runs_on_the_bundled_data(tmp_path, capsys):
    blocks = marked_blocks(README.read_text())
    assert blocks, "README.md has no block marked <!-- readme-test -->"
    (tmp_path / "datasets").symlink_to(REPO / "datasets")  # the snippet's relative paths, written files in tmp
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        ns: dict = {}
        for i, block in enumerate(blocks):
            exec(compile(block, f"README.md readme-test block {i + 1}", "exec"), ns)  # a NameError fails here
    finally:
        os.chdir(cwd)
    # what the snippet computes is the bundled incident's truth: orders-db calls of checkout, from 14:27
    assert (ns["top"]["service"], ns["top"]["name"]) in {("checkout", "SELECT orders"), ("checkout", "INSERT orders")}
    assert f"{ns['window'].onset:%H:%M}" == "14:27"
    assert "from 14:27" in capsys.readouterr().out
    assert (tmp_path / "report.html").stat().st_size > 100_000
    # the logs-and-metrics block: payments first on the bundled deploy, from its traces and its logs
    top_signals = ns["by_service"].causes.iloc[0]
    assert top_signals["service"] == "payments" and top_signals["signals"].startswith("traces, logs")


def test_readme_doctests():
    parser = doctest.DocTestParser()
    # a code fence right after an expected output would be read as part of it: blank the fence lines
    text = re.sub(r"^```\w*$", "", README.read_text(), flags=re.M)
    test = parser.get_doctest(text, {"tk": tk}, "README.md", str(README), 0)
    assert test.examples, "README.md has no >>> examples"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.failures == 0, f"{runner.failures} README doctest(s) failed (output above)"


LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("doc", ["README.md", "docs/guide.md", "docs/reference.md", "docs/benchmarks.md", "LAYERS.md"])
def test_relative_links_resolve_inside_the_repository(doc):
    page = REPO / doc
    targets = [t for t in LINK.findall(page.read_text()) if "://" not in t]
    assert doc != "README.md" or targets, "README.md links no file"
    for target in targets:
        path = (page.parent / target).resolve()
        assert path.is_relative_to(REPO), f"{doc} links {target}, outside the repository"
        assert path.exists(), f"{doc} links {target}, which does not exist"


def test_readme_stands_alone_in_at_most_300_lines():
    text = README.read_text()
    assert len(text.splitlines()) <= 300
    # the reference tables live in docs/, generated; the README points there
    assert "<!-- result-tables:start -->" not in text and "docs/reference.md" in text
