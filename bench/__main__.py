"""Run the benchmarks and print one ``BENCH <figure>: <number> <unit>`` line per figure."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
from pathlib import Path


def main() -> int:
    """Run every benchmark, or the one named with --only."""
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--only", help="run only bench_<ONLY>.py")
    args = parser.parse_args()
    names = sorted(
        info.name.removeprefix("bench_")
        for info in pkgutil.iter_modules([str(Path(__file__).parent)])
        if info.name.startswith("bench_")
    )
    if args.only:
        if args.only not in names:
            print(f"No benchmark named {args.only!r}; there are: {', '.join(names)}")
            return 2
        names = [args.only]
    for name in names:
        started = time.perf_counter()
        module = importlib.import_module(f"bench.bench_{name}")
        for figure in module.run():
            print(f"BENCH {figure.name}: {figure.value:.6g} {figure.unit}", flush=True)
        print(f"# {name} took {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
