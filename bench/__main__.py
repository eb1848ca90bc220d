"""``python -m bench`` runs the benchmarks; see bench/README.md."""

from bench.cli import main

main()
