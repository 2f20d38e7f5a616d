"""Orchestrators: investigations that run several analyses and weigh their evidence.

:func:`~tracekit.investigate.postmortem.postmortem` (what happened, when, where, why),
:func:`~tracekit.investigate.causes.rank_causes` (candidate causes ranked by evidence) and
:func:`~tracekit.investigate.peers.peer_outliers` (a host or version that differs from its peers) call
the analyses in :mod:`tracekit.analysis` through their public names; no analysis imports them
(LAYERS.md: a layer of their own above the analyses, below the figures).
"""
