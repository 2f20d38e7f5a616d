"""Analyses: functions that take a spans DataFrame and return data.

Every analysis returns DataFrames, networkx graphs or frozen dataclasses; it never prints,
draws or mutates its input. Shared definitions (span tree, request latency, failed, percentiles,
callee, route, call path) come from :mod:`tracekit.core`, never from another analysis.
"""
