"""Gradient evaluations per second of the Bayesian-network potential.

Usage::

    python benchmarks/bench_potential.py             # full table, about 15 s
    python benchmarks/bench_potential.py --quick     # a few milliseconds per row
    python benchmarks/bench_potential.py --json out.json

Times batched value-and-gradient calls of ``hmc_lite.mlp_potential`` on the
synthetic data (100 points) for networks ``[1, H, 1]`` with H = 50 and 200,
ReLU and sigmoid activations, and 1, 16 and 256 chains per batch. The numbers
depend on the machine; the versions and the machine are printed with them.
This is a benchmark, not a test: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import json
import sys

from hmc_lite.benchmark import environment, markdown_table, throughput_table

ACTIVATIONS = ("relu", "sigmoid")
HIDDEN = (50, 200)
CHAINS = (1, 16, 256)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="time each row briefly (for smoke tests; numbers are rough)")
    parser.add_argument("--min-time", type=float, default=None,
                        help="seconds per timed round (default 0.2, or 0.01 with --quick)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed rounds per row, the fastest is reported (default 5, or 1 with --quick)")
    parser.add_argument("--json", metavar="PATH", default=None,
                        help="also write the results and the environment to this JSON file")
    args = parser.parse_args(argv)
    min_time = args.min_time if args.min_time is not None else (0.01 if args.quick else 0.2)
    repeats = args.repeats if args.repeats is not None else (1 if args.quick else 5)
    if min_time < 0:
        parser.error("--min-time must be non-negative")
    if repeats < 1:
        parser.error("--repeats must be at least 1")

    results = throughput_table(ACTIVATIONS, HIDDEN, CHAINS, min_time=min_time,
                               min_calls=1 if args.quick else 3, repeats=repeats)
    env = environment()
    print("Gradient throughput of hmc_lite.mlp_potential (synthetic data, 100 points)\n")
    print(markdown_table(results))
    print()
    for key, value in env.items():
        print(f"{key:>15}: {value}")
    if args.json:
        payload = {"min_time": min_time, "repeats": repeats, "environment": env,
                   "results": [r._asdict() for r in results]}
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, indent=2)
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
