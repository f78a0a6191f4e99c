"""Benchmarks that measure each stage against a peer in the same run."""
