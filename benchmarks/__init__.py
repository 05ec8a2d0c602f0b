"""Reproducible accuracy and speed benchmarks on public data sets, run through the project's own
code paths (``helpdesk bench …``). Results are written to ``benchmarks/results/*.json``."""
