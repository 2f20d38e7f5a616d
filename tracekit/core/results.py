"""Result tables declared as data: every column of every analysis result, with dtype, unit and meaning.

Like the spans schema (:mod:`tracekit.schema`), each analysis declares the columns of the table it
returns once, with :func:`result_table`; the tables in docs/reference.md are generated from the declarations
(:func:`results_markdown`) and a test keeps them equal, and another checks that each analysis
returns exactly the declared columns.

>>> t = result_table("example_result", "what the example returns", [
...     ("trace_id", "string", "", "32-hex trace id"),
...     ("request_ms", "float64", "ms", "request latency")])
>>> print(t.markdown())
| column | dtype | unit | meaning |
|---|---|---|---|
| `trace_id` | string |  | 32-hex trace id |
| `request_ms` | float64 | ms | request latency |
<BLANKLINE>
>>> _ = RESULT_TABLES.pop("example_result")
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..errors import TraceKitError

__all__ = ["ResultColumn", "ResultTable", "result_table", "RESULT_TABLES", "results_markdown"]


@dataclass(frozen=True)
class ResultColumn:
    """One column of a result table: name, dtype, unit (``""`` when none) and meaning."""

    name: str
    dtype: str
    unit: str
    meaning: str


@dataclass(frozen=True)
class ResultTable:
    """The declared columns of one analysis result (``name`` is the function, e.g. ``trace_summary``)."""

    name: str
    doc: str
    columns: tuple[ResultColumn, ...]

    @property
    def column_names(self) -> list[str]:
        """Column names in order."""
        return [c.name for c in self.columns]

    def markdown(self) -> str:
        """The table as Markdown (column, dtype, unit, meaning)."""
        lines = ["| column | dtype | unit | meaning |", "|---|---|---|---|"]
        lines += [f"| `{c.name}` | {c.dtype} | {c.unit} | {c.meaning} |" for c in self.columns]
        return "\n".join(lines) + "\n"

    def typed(self, df: pd.DataFrame) -> pd.DataFrame:
        """``df`` with each declared column in its declared dtype (a new frame; other columns as they are).

        A frame built from rows of Python values gets whatever pandas infers: ``str`` or ``object`` for text,
        ``object`` for every column when there are no rows, or for times with a missing one.

        Examples
        --------
        >>> t = ResultTable("x", "one row per x", (ResultColumn("a", "string", "", "an a"),
        ...                                        ResultColumn("n", "float64", "", "an n")))
        >>> t.typed(pd.DataFrame(columns=["a", "n"])).dtypes.astype(str).tolist()
        ['string', 'float64']
        """
        from ..schema import STRING

        want = {c.name: (STRING if c.dtype == "string" else c.dtype) for c in self.columns if c.name in df.columns}
        return df.astype({k: v for k, v in want.items() if str(df[k].dtype) != str(v)})

    def check(self, df: pd.DataFrame, *, key_columns: Iterable[str] = ()) -> None:
        """Raise :class:`TraceKitError` unless ``df`` has the declared columns (plus ``key_columns``) in order."""
        want = [*key_columns, *self.column_names]
        got = list(df.columns)
        if got != want:
            raise TraceKitError(f"{self.name}: result columns {got} differ from the declared {want}")


#: every declared result table, by analysis name
RESULT_TABLES: dict[str, ResultTable] = {}


def result_table(name: str, doc: str, columns: Iterable[tuple[str, str, str, str]]) -> ResultTable:
    """Declare (and register) the result table of analysis ``name``.

    Parameters
    ----------
    name : str
        The analysis (function) name.
    doc : str
        One line: what one row is.
    columns : iterable of (name, dtype, unit, meaning)
        The columns in order.

    Returns
    -------
    ResultTable

    Examples
    --------
    >>> t = result_table("tmp_result", "one row per x", [("x", "int64", "", "an x")])
    >>> t.column_names
    ['x']
    >>> _ = RESULT_TABLES.pop("tmp_result")
    """
    table = ResultTable(name, doc, tuple(ResultColumn(*c) for c in columns))
    RESULT_TABLES[name] = table
    return table


def results_markdown(names: Iterable[str] | None = None) -> str:
    """Markdown of the declared result tables (all, or ``names``), each under a ``####`` heading.

    Examples
    --------
    >>> results_markdown([]) == ""
    True
    """
    out = []
    for n in (sorted(RESULT_TABLES) if names is None else names):
        t = RESULT_TABLES[n]
        out.append(f"#### `{t.name}` — {t.doc}\n\n{t.markdown()}")
    return "\n".join(out)


class Result:
    """The shape every result object shares: a frozen dataclass with ``.table`` (its main table, a
    DataFrame) and ``.params`` (the settings it was computed with, a dict).

    A subclass names the field holding its main table in ``TABLE`` (``table`` itself when it is a
    field) and keeps its settings in a ``params`` field.

    Examples
    --------
    >>> from dataclasses import dataclass, field
    >>> import pandas as pd
    >>> @dataclass(frozen=True)
    ... class Tally(Result):
    ...     TABLE = "counts"
    ...     counts: pd.DataFrame
    ...     params: dict = field(default_factory=dict)
    >>> r = Tally(pd.DataFrame({"n": [1]}), {"by": ["service"]})
    >>> r.table is r.counts, r.params
    (True, {'by': ['service']})
    """

    TABLE: str = "table"

    def __getattr__(self, name: str) -> Any:
        # only reached when normal lookup fails: ``table`` of a result whose main table has another name
        # (a property here would shadow a subclass' ``table`` field)
        if name == "table" and type(self).TABLE != "table":
            return getattr(self, type(self).TABLE)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
