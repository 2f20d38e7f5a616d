"""The JSON-parse floors the readers are measured against, defined once for every reader benchmark.

A reader of JSON lines can be no cheaper than parsing the lines; how much the parse costs depends on
what happens to the parsed objects:

* :func:`parse_dropped` — ``orjson.loads`` of every line, each result dropped once parsed (the
  cyclic GC paused, as the readers pause it). Its objects are freed while still in the CPU caches,
  which a reader that keeps what it read cannot do: the strict floor (``bench_read_otlp``,
  ``bench_logs`` and ``bench_read_metrics`` use it; ``lines=False`` parses one document).
* :func:`parse_kept` — the same with every parsed line kept (a list of them, as ``json.load`` of a
  document keeps its whole tree): the cost of having the file's JSON in memory as Python objects.

A reader's time is reported against both; a target "≤ k× the JSON parse" is met against the
strict floor, :func:`parse_dropped`.
"""

from __future__ import annotations

import gc

import orjson

__all__ = ["parse_dropped", "parse_kept"]


def _lines(data: bytes):
    view, pos = memoryview(data), 0
    while pos < len(data):
        nl = data.find(b"\n", pos)
        nl = len(data) if nl < 0 else nl
        if nl > pos and data[pos:nl].strip():
            yield view[pos:nl]
        pos = nl + 1


def parse_dropped(data: bytes, lines: bool = True) -> int:
    """Parse every line of ``data`` (or, ``lines=False``, ``data`` as one document) and drop it; returns
    the lines (documents) parsed."""
    was, n = gc.isenabled(), 0
    gc.disable()
    try:
        for line in (_lines(data) if lines else [data]):
            orjson.loads(line)
            n += 1
    finally:
        if was:
            gc.enable()
    return n


def parse_kept(data: bytes) -> list:
    """Parse every line of ``data`` and keep them all (returned)."""
    was = gc.isenabled()
    gc.disable()
    try:
        return [orjson.loads(line) for line in _lines(data)]
    finally:
        if was:
            gc.enable()
