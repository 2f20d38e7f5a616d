"""Live AWS X-Ray: fetch traces, sampling rules and coverage with boto3 (extra ``aws``).

Raw responses are handed to the one X-Ray reader, :func:`tracekit.io.xray.read_xray`.
"""
