"""Benchmarks: run each script directly; results go to docs/benchmarks.md."""
