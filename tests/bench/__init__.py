"""Benchmarks: `make bench` (python -m tests.bench); see tests/bench/__main__.py and
docs/performance.md. Speed is printed next to baselines measured in the same run."""
