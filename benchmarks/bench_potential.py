"""Gradient throughput of the Bayesian-network potential, side by side with JAX.

Usage::

    python benchmarks/bench_potential.py # full comparison, about a minute python
    benchmarks/bench_potential.py --quick # a few milliseconds per row python
    benchmarks/bench_potential.py --no-jax # hmc_lite alone python
    benchmarks/bench_potential.py --json out.json # also save results and machine

``make bench`` runs the full comparison and saves it to
``results/bench_potential.json``, which the book's appendix reads.

Times batched value-and-gradient calls of ``hmc_lite.mlp_potential`` on the
synthetic data (100 points) and, when JAX is installed (``pip install
'hmc_lite[jax]'``), JAX's ``jax.jit(jax.vmap(jax.value_and_grad(U)))`` of the
same potential in float64, in interleaved rounds in one process (fastest round
of each: many short rounds, so that a quiet moment of a shared machine is likely
to be caught by both). Networks: ``[1, 50, 1]`` for 1 to 512 chains per call (how the
cost per chain scales with the batch), and the other shapes the book uses at 16 and 112
chains; ReLU and sigmoid. NumPy's BLAS runs with one thread, as in the book; JAX keeps
its default threads. The goal line is the geometric mean of hmc_lite's throughput over
JAX's on ``[1, 50, 1]`` at 16 and 112 chains (the goal is at least 1.5). The numbers
depend on the machine; the versions, the machine and its load are printed with them.
This is a benchmark, not a test: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys

from hmc_lite.benchmark import (
    compare_with_jax,
    comparison_table,
    environment,
    speedup_goal,
)

ACTIVATIONS = ("relu", "sigmoid")
SCALING_WIDTHS = (1, 50, 1)
SCALING_CHAINS = (1, 4, 16, 32, 64, 112, 256, 512)
OTHER_WIDTHS = ((1, 200, 1), (1, 20, 20, 1), (1, 20, 20, 20, 1))
OTHER_CHAINS = (16, 112)
GOAL = 1.5


def configurations() -> list[tuple[str, tuple[int, ...], int]]:
    """Every ``(activation, widths, chains)`` the benchmark times, in order."""
    return [
        (a, w, c)
        for w, chains in [(SCALING_WIDTHS, SCALING_CHAINS)]
        + [(w, OTHER_CHAINS) for w in OTHER_WIDTHS]
        for a in ACTIVATIONS
        for c in chains
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="time each row briefly (for smoke tests; numbers are rough)",
    )
    parser.add_argument("--no-jax", action="store_true", help="time hmc_lite only")
    parser.add_argument(
        "--min-time",
        type=float,
        default=None,
        help="seconds per timed round (default 0.1, or 0.01 with --quick)",
    )
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed rounds per row and engine, the fastest is reported "
                             "(default 10, or 1 with --quick)")
    parser.add_argument(
        "--json",
        metavar="PATH",
        default=None,
        help="also write the results and the environment to this JSON file",
    )
    args = parser.parse_args(argv)
    min_time = (
        args.min_time if args.min_time is not None else (0.01 if args.quick else 0.1)
    )
    repeats = args.repeats if args.repeats is not None else (1 if args.quick else 10)
    if min_time < 0:
        parser.error("--min-time must be non-negative")
    if repeats < 1:
        parser.error("--repeats must be at least 1")

    env = environment()
    rows = compare_with_jax(
        configurations(),
        use_jax=not args.no_jax,
        min_time=min_time,
        min_calls=1 if args.quick else 3,
        repeats=repeats,
    )
    print(
        "µs per chain-gradient: hmc_lite.mlp_potential and JAX "
        "jit(vmap(value_and_grad)), float64,"
    )
    print("synthetic data (100 points); NumPy's BLAS with 1 thread\n")
    print(comparison_table(rows))
    goal = speedup_goal(rows, SCALING_WIDTHS, ACTIVATIONS, OTHER_CHAINS)
    print()
    if args.no_jax:
        print("JAX not timed (--no-jax).")
    elif all(r.jax_us is None for r in rows):
        print("JAX is not installed (or cannot be imported), so its column is empty: "
              "pip install 'hmc_lite[jax]' (or jax) to compare.")
    else:
        print(
            f"Goal: hmc_lite's throughput over JAX's on {list(SCALING_WIDTHS)}, ReLU "
            "and sigmoid, "
            f"{' and '.join(map(str, OTHER_CHAINS))} chains (geometric mean): "
            f"{goal:.2f} "
            f"({'met' if goal >= GOAL else 'not met'}; goal {GOAL})"
        )
    print()
    for key, value in env.items():
        print(f"{key:>15}: {value}")
    if args.json:
        payload = {
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(
                timespec="seconds"
            ),
            "min_time": min_time,
            "repeats": repeats,
            "blas_threads": 1,
            "environment": env,
            "load_average_after": (
                " ".join(f"{x:.2f}" for x in os.getloadavg())
                if hasattr(os, "getloadavg")
                else "n/a"
            ),
            "goal": {
                "widths": list(SCALING_WIDTHS),
                "activations": list(ACTIVATIONS),
                "chains": list(OTHER_CHAINS),
                "target": GOAL,
                "geometric_mean_speedup": goal,
            },
            "results": [{**r._asdict(), "widths": list(r.widths)} for r in rows],
        }
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, indent=2)
            fh.write("\n")
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
