"""The command line of the experiments: ``python -m hmc_lite.experiments --help``."""

from __future__ import annotations

import argparse
import contextlib
import pathlib
import sys
from typing import Sequence

from .fig1 import FIG1_SCALES, fig1_cost, run_fig1, save_fig1
from .runner import remove_parts
from .store import check_output_path

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m hmc_lite.experiments fig1 --scale paper --out results/fig1.npz``.

    Runs :func:`~hmc_lite.experiments.fig1.run_fig1` at a named scale from
    :data:`FIG1_SCALES` (with ``--seed``, another seed than the scale's) and
    saves the result with :func:`~hmc_lite.experiments.fig1.save_fig1`.
    Chapter 6 plots such a file when it is given one.

    Each finished piece of the run is kept in ``--parts`` (default: the
    output path with ``.parts`` instead of ``.npz``), so that the same
    command, run again after an interruption, resumes where it stopped; the
    folder is removed once the result is saved. ``--workers N`` runs the
    pieces on a local Dask cluster of ``N`` processes, ``--scheduler ADDRESS``
    on an existing Dask cluster (whose workers have ``hmc_lite`` installed);
    the result is the same as without either. A progress bar on stderr counts
    the chain-gradient evaluations of the measurements (not the equilibration).
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
    fig1.add_argument("--parts", default=None,
                      help="folder for finished pieces, to resume an interrupted run "
                      "(default: OUT with .parts instead of .npz)")
    where = fig1.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None,
                       help="run the pieces on a local Dask cluster of this many processes")
    where.add_argument("--scheduler", default=None,
                       help="address of a Dask scheduler (e.g. tcp://host:8786) to run the pieces on")
    args = parser.parse_args(argv)
    settings = FIG1_SCALES[args.scale]
    if args.seed is not None and not 0 <= args.seed < 2**63:
        parser.error(f"--seed must be an integer in [0, 2**63); got {args.seed}")
    try:  # before an hour of computing, not after
        check_output_path(args.out)
    except ValueError as err:
        parser.error(f"--out: {err}")
    if args.workers is not None and args.workers < 1:
        parser.error(f"--workers must be at least 1; got {args.workers}")
    parts = pathlib.Path(args.parts) if args.parts else pathlib.Path(args.out).with_suffix(".parts")
    from tqdm import tqdm  # only the CLI shows progress

    with _dask_client(args.workers, args.scheduler) as client, \
            tqdm(total=fig1_cost(settings), unit="grad", unit_scale=True, file=sys.stderr,
                 disable=args.no_progress, desc=f"fig1 ({args.scale})") as bar:
        result = run_fig1(settings, seed=args.seed, progress=bar.update, parts=parts, client=client)
    path = save_fig1(result, args.out)
    remove_parts(parts)
    print(f"wrote {path}")
    return 0


@contextlib.contextmanager
def _dask_client(workers: int | None, scheduler: str | None):
    """A Dask client for ``--workers`` or ``--scheduler``; ``None`` to run in this process."""
    if workers is None and scheduler is None:
        yield None
        return
    from distributed import Client, LocalCluster

    if scheduler is not None:
        with Client(scheduler) as client:
            yield client
    else:
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            yield client


if __name__ == "__main__":
    sys.exit(main())
