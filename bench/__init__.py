"""Benchmarks: ``make bench`` runs every ``bench_*.py``; ``make bench ONLY=<name>`` runs one.

Each benchmark module has ``run() -> Iterator[Figure]``; every figure prints on its own line
as ``BENCH <figure>: <number> <unit>``.
"""
