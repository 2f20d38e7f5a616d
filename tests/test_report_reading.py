"""The report read as an SRE reads it, on data nobody wrote it for.

Each test here pins a defect found by reading reports of real fault-injection windows (Nezha's OnlineBoutique
2022-08-22 and TrainTicket 2023-01-29, in ``../shared/real-traces``): the defect is rebuilt on generated data whose
truth is known by construction, and, where it needs the real data, read from that folder at test time (skipped with
the reason when it is absent).
"""

from __future__ import annotations

import pandas as pd
import pytest

import tracekit as tk

from .browser import open_html

#: the page's width in the tests that read the layout (tests/test_report_story.py reads the bundled report at it too)
VIEWPORT = (1200, 900)

_TABLES = r"""() => {
  const vw = document.documentElement.clientWidth;
  const visible = el => el.checkVisibility ? el.checkVisibility() : el.offsetParent !== null;
  return {vw, page: document.documentElement.scrollWidth,
          tables: [...document.querySelectorAll('table')].filter(visible)
              .map(t => ({id: t.id, width: t.scrollWidth, right: t.getBoundingClientRect().right}))};
}"""


def _long_names(spans: pd.DataFrame) -> pd.DataFrame:
    """Operations named as gRPC services name them (``grpc.hipstershop.CurrencyService/GetSupportedCurrencies``):
    one token of 40-60 characters with no space, as on OnlineBoutique."""
    out = spans.copy()
    out["name"] = ("grpc.hipstershop." + out["service"].astype(str).str.title().str.replace("-", "") + "Service/"
                   + out["name"].astype(str).str.replace(r"\W", "", regex=True))
    return out


@pytest.mark.browser
def test_tables_fit_the_page_when_operation_names_are_long_tokens(tmp_path):
    """OnlineBoutique's reports (2022-08-22, every window read) were 1,427-1,496 px wide at a 1,280 px window: the
    likely-causes and comparison tables held ``grpc.hipstershop.CurrencyService/GetSupportedCurrencies`` as one
    unbreakable token, so the page scrolled sideways and the causes' example traces were off screen. Generated: the
    simulated db-lock with gRPC-style names (truth: the names are 40-60 characters with no space)."""
    inc = _long_names(tk.simulate.simulate("db-lock", 300, seed=3).spans)
    base = _long_names(tk.simulate.simulate("baseline", 300, seed=4).spans)
    assert inc["name"].str.len().max() >= 40 and not inc["name"].str.contains(" ").any()
    out = tk.report(inc, tmp_path / "long.html", baseline=base, markdown=False)
    page = open_html(out, evaluate=_TABLES, viewport=VIEWPORT)
    v = page.value
    assert page.errors == []
    assert {"causes-table", "compare-table"} <= {t["id"] for t in v["tables"]}
    too_wide = [t for t in v["tables"] if t["width"] > v["vw"] or t["right"] > v["vw"] + 1]
    assert too_wide == [], v
    assert v["page"] <= v["vw"], v  # no sideways scrolling
    # the names are still there, whole, for a reader who copies them (breaks are <wbr>, not characters)
    text = out.read_text()
    assert "grpc.hipstershop." in text.replace("<wbr>", "")
