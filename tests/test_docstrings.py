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

#: Exports whose docstrings still lack sections, with what they lack: none since issue 28 (a new export
#: comes with its sections; the test fails while a listed name is already complete, so this list only shrinks).
KNOWN_MISSING: dict[str, set[str]] = {}

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
