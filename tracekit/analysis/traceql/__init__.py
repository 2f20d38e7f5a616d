"""TraceQL (Grafana Tempo's query language) on the spans frame."""
