"""``spans.tk``: tracekit's pandas accessor on DataFrames (registered by ``import tracekit``).

A thin front on kernel functions, for method chains in notebooks:

>>> import tracekit as tk
>>> spans = tk.examples.load("checkout-small")
>>> spans.tk.attr("http.request.method").value_counts().index[0]
'GET'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

__all__ = ["TraceKitAccessor"]


@pd.api.extensions.register_dataframe_accessor("tk")
class TraceKitAccessor:
    """``spans.tk.attr(key)``: see :func:`tracekit.attribute`."""

    def __init__(self, spans: pd.DataFrame) -> None:
        self._spans = spans

    def attr(self, key: str | Sequence[str], *, column: str = "attributes", default: Any = None) -> pd.Series | pd.DataFrame:
        """One attribute of every span as a typed column: :func:`tracekit.attribute`.

        >>> import tracekit as tk
        >>> spans = tk.examples.load("checkout-small")
        >>> bool(spans.tk.attr("service.version", column="resource").notna().any())
        True
        """
        from .core.attributes import attribute

        return attribute(self._spans, key, column=column, default=default)

    def traceql(self, query: str) -> pd.DataFrame:
        """The spans a TraceQL query matches: :func:`tracekit.traceql`.

        >>> import tracekit as tk
        >>> spans = tk.examples.load("checkout-small")
        >>> len(spans.tk.traceql("{ status = error }")) == int((spans["status"] == "error").sum())
        True
        """
        import importlib

        # the public name, resolved at call time through the package's lazy exports: the accessor
        # (layer 2) imports nothing from the analyses above it (LAYERS.md)
        return importlib.import_module("tracekit").traceql(self._spans, query)
