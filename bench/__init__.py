"""Kesu benchmarks: `python -m bench all` runs every one (see bench/README.md)."""
