"""Session 55: a fresh reader's hostile inputs (findings in the session's note). Each test says what the code before
it did."""

from __future__ import annotations

import gzip
import json

import pytest

import tracekit as tk


@pytest.mark.parametrize("kind, read", [("trace", tk.read), ("logs", tk.read_logs), ("metrics", tk.read_metrics)])
def test_a_gzip_file_of_several_members_whose_first_is_large_reads_whole(tmp_path, real_traces, kind, read):
    # `cat a.gz b.gz`: a valid gzip file of two members. Where the first decompressed to more than the reader's 16 MiB
    # chunk, every reader hung (the end of a member left its follower in unconsumed_tail, decompressed again to
    # nothing, forever). The real OTLP example as one line, then 17 MiB of blanks, in the first member; the
    # same line again, of another trace, in the second
    line = json.dumps(json.loads((real_traces / "opentelemetry-proto" / f"{kind}.json").read_bytes())).encode()
    one = read(_write(tmp_path / f"one-{kind}.jsonl.gz", gzip.compress(line + b"\n")))
    other = line.replace(b"5B8EFFF7", b"6B8EFFF7")  # another trace (a span read twice is one span)
    data = gzip.compress(line + b" " * (17 << 20) + b"\n") + gzip.compress(other + b"\n")
    two = read(_write(tmp_path / f"two-{kind}.jsonl.gz", data))
    assert len(one) > 0 and len(two) == 2 * len(one)
    assert len(read(data)) == 2 * len(one)  # bytes too


def _write(path, data: bytes):
    path.write_bytes(data)
    return path
