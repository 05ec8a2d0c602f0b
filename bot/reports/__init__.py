"""Reports: metrics queries, digests and their schedule."""
