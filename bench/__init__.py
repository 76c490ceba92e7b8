"""Benchmarks. Each script measures a figure and a raw baseline in the same run and
prints their ratio (machines are shared and noisy: absolute times mean little)."""
