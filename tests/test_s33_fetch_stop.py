"""fetch_xray's retry waits end when the fetch stops (session 33): a chunk waiting to re-ask its unprocessed ids
woke only after its whole backoff, then asked again, after another chunk had failed or the user pressed Ctrl-C."""

from __future__ import annotations

import pytest

pytest.importorskip("boto3")

from botocore.exceptions import ClientError  # noqa: E402

import tracekit as tk  # noqa: E402
from tracekit.aws import fetch_xray  # noqa: E402

from . import test_xray_live as _live  # noqa: E402

fake_credentials = _live.fake_credentials  # (autouse there: never a real profile)


@pytest.mark.parametrize("failure", ["denied", "interrupt"])
def test_a_chunk_waiting_to_retry_does_not_ask_again_after_another_chunk_failed(real_traces, failure):
    """Two chunks of 5 ids, two workers, each chunk holding an id X-Ray leaves unprocessed: the first call answers
    and its chunk waits 5 s (backoff) to re-ask; the second call fails (AccessDenied, or a KeyboardInterrupt as
    Ctrl-C raises). Before: the waiting chunk slept its 5 s and asked again (3 calls); now it wakes and stops
    (2 calls), and the failure is raised."""
    traces = _live._real_traces_dict(real_traces, 10)
    ids = list(traces)
    err = (ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}}, "BatchGetTraces")
           if failure == "denied" else KeyboardInterrupt())
    fake = _live.LimitedXRay(traces, never=[ids[0], ids[5]], fail_on_call=2, fail_with=err)
    with pytest.raises(tk.TraceKitError if failure == "denied" else KeyboardInterrupt):
        fetch_xray("2019-09-18T19:00Z", "2019-09-18T20:00Z", client=fake, max_workers=2, progress=False,
                   unprocessed_retries=3, backoff=5.0)
    assert len(fake.batch_calls) == 2, fake.batch_calls
    assert sorted(map(tuple, fake.batch_calls)) == [tuple(ids[:5]), tuple(ids[5:])]
