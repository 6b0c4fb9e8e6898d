"""The command line of the experiments: ``python -m hmc_lite.experiments --help``."""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from .fig1 import FIG1_SCALES, fig1_cost, run_fig1
from .store import check_output_path, save_fig1

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m hmc_lite.experiments fig1 --scale paper --out results/fig1.npz``.

    Runs :func:`run_fig1` at a named scale from :data:`FIG1_SCALES` (with
    ``--seed``, another seed than the scale's) with a progress bar of the
    measurements on stderr (the equilibration of each network runs before its
    measurements and is not counted) and saves the result with :func:`save_fig1`.
    Chapter 6 plots such a file when it is given one.
    """
    parser = argparse.ArgumentParser(
        prog="python -m hmc_lite.experiments",
        description="Experiments of the book at a chosen scale.",
    )
    sub = parser.add_subparsers(dest="experiment", required=True)
    fig1 = sub.add_parser(
        "fig1",
        help="acceptance rate against step size and number of leapfrog steps (chapter 6)",
        description="Acceptance rates of HMC on [1, 50, 1] Bayesian networks with sigmoid, "
        "ReLU and leaky ReLU activations over a grid of step sizes and numbers of steps, "
        "every chain started at equilibrium (hmc_lite.equilibrate) from one of several modes.",
    )
    fig1.add_argument("--scale", choices=sorted(FIG1_SCALES), default="book",
                      help="'book' reproduces chapter 6; 'paper' is the larger grid (default: book)")
    fig1.add_argument("--out", required=True, help="output file, must end in .npz")
    fig1.add_argument("--seed", type=int, default=None, help="override the seed of the scale")
    fig1.add_argument("--no-progress", action="store_true", help="do not show a progress bar")
    args = parser.parse_args(argv)
    settings = FIG1_SCALES[args.scale]
    if args.seed is not None and not 0 <= args.seed < 2**63:
        parser.error(f"--seed must be an integer in [0, 2**63); got {args.seed}")
    try:  # before an hour of computing, not after
        check_output_path(args.out)
    except ValueError as err:
        parser.error(f"--out: {err}")
    from tqdm import tqdm  # only the CLI shows progress

    with tqdm(total=fig1_cost(settings), unit="grad", unit_scale=True, file=sys.stderr,
              disable=args.no_progress, desc=f"fig1 ({args.scale})") as bar:
        result = run_fig1(settings, seed=args.seed, progress=bar.update)
    path = save_fig1(result, args.out)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
