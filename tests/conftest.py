"""Shared fixtures: the real public traces in ../shared/real-traces (read in place, never copied)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
REAL_TRACES = Path(os.environ.get("TRACEKIT_REAL_TRACES", REPO.parent / "shared" / "real-traces"))


@pytest.fixture(scope="session")
def real_traces() -> Path:
    """Folder of real public traces; tests using it skip (with the reason) when it is absent."""
    if not REAL_TRACES.is_dir():
        pytest.skip(f"real public traces not found at {REAL_TRACES} (set TRACEKIT_REAL_TRACES)")
    return REAL_TRACES
