"""Benchmarks: each module runs with `python -m bench.<name> --json` and prints one JSON object.

Speed is measured here, never asserted by wall clock in the test suite.
"""
