"""Readers: X-Ray and OTLP files (and parsed JSON) → the canonical spans DataFrame."""
