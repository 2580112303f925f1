"""Reproducible benchmarks; results and the machine they ran on go to docs/benchmarks.md."""
