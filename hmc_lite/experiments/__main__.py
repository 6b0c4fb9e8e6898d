"""The command line of the experiments: ``python -m hmc_lite.experiments --help``."""

from __future__ import annotations

import argparse
import contextlib
import pathlib
import sys
from typing import Any, Callable, NamedTuple, Sequence

from .fig1 import FIG1_SCALES, fig1_cost, run_fig1, save_fig1
from .fig2 import FIG2_SCALES, fig2_cost, run_fig2, save_fig2
from .fig3 import FIG3_SCALES, fig3_cost, run_fig3, save_fig3
from .nuts_study import NUTS_SCALES, nuts_cost, run_nuts, save_nuts
from .runner import remove_parts
from .store import check_output_path
from .table1 import TABLE1_SCALES, run_table1, save_table1, table1_cost
from .tuning import TUNING_SCALES, run_tuning, save_tuning, tuning_cost

__all__ = ["main"]


class _Command(NamedTuple):
    """One experiment of the command line: scales, cost, run and save, help."""

    scales: dict[str, Any]
    cost: Callable[[Any], int]
    run: Callable[..., Any]
    save: Callable[[Any, str], pathlib.Path]
    unit: str
    help: str
    description: str
    aliases: tuple[str, ...] = ()


def _commands() -> dict[str, _Command]:
    # built when main runs, so that the functions are looked up then (tests replace
    # them)
    return {
        "fig1": _Command(
            FIG1_SCALES,
            fig1_cost,
            run_fig1,
            save_fig1,
            "grad",
            "acceptance rate against step size and number of leapfrog steps (chapter "
            "6)",
            "Acceptance rates of HMC on [1, 50, 1] Bayesian networks with sigmoid, "
            "ReLU and leaky "
            "ReLU activations over a grid of step sizes and numbers of steps, every "
            "chain started at "
            "equilibrium (hmc_lite.equilibrate) from one of several modes. The "
            "progress bar counts "
            "chain-gradient evaluations of the measurements (not the equilibrations).",
        ),
        "fig2": _Command(
            FIG2_SCALES,
            fig2_cost,
            run_fig2,
            save_fig2,
            "transition",
            "efficiency against acceptance on the synthetic data (chapter 7, "
            "experiment 1)",
            "HMC on [1, 56, 1] networks (book scale) at fractions of each network's "
            "stability "
            "limit and a fixed path length, from chains equilibrated at several modes: "
            "acceptance "
            "and the efficiency proxy a * eps. The real-data panel of Figure 2 is "
            "'table1'. The "
            "progress bar counts chain-transitions; each equilibration counts at its "
            "upper bound, reached when it ends.",
        ),
        "fig3": _Command(
            FIG3_SCALES,
            fig3_cost,
            run_fig3,
            save_fig3,
            "transition",
            "acceptance against network size, shallow and deep (chapter 7, experiment "
            "2)",
            "HMC on shallow [1, n1, 1] and deep [1, w, w, w, 1] networks of similar "
            "numbers of "
            "parameters at one common step size and at half of each chain's stability "
            "limit, and "
            "the kink surfaces one trajectory crosses. The progress bar counts "
            "chain-transitions; each equilibration counts at its upper bound, reached "
            "when it ends.",
        ),
        "table1": _Command(
            TABLE1_SCALES,
            table1_cost,
            run_table1,
            save_table1,
            "transition",
            "Table 1 and the real-data panel of Figure 2 (chapter 8)",
            "HMC on one-hidden-layer networks fitted to UTKFace if $UTKFACE_DIR names "
            "its folder, "
            "else to the diabetes data: a common grid of step sizes and numbers of "
            "steps, and "
            "fractions of each mode's own stability limit; acceptance, divergences and "
            "each "
            "mode's predictive mean on the test set. The progress bar counts "
            "chain-transitions; each equilibration counts at its upper bound, reached "
            "when it ends.",
            aliases=("fig2-real",),
        ),
        "tuning": _Command(
            TUNING_SCALES,
            tuning_cost,
            run_tuning,
            save_tuning,
            "transition",
            "dual averaging to several target acceptances, and a diagonal mass "
            "(chapter 9)",
            "Step sizes adapted by dual averaging to several target acceptances on [1, "
            "50, 1] "
            "networks (and a diagonal mass matrix for ReLU), then sampling: "
            "acceptance, "
            "divergences, ESS of the predictions per gradient, and acceptance against "
            "fractions "
            "of the stability limit. The progress bar counts chain-transitions of "
            "equilibration (at its upper bound, reached when it ends), adaptation and "
            "sampling.",
        ),
        "nuts": _Command(
            NUTS_SCALES,
            nuts_cost,
            run_nuts,
            save_nuts,
            "transition",
            "NUTS with window adaptation on ReLU and smooth networks (chapter 11)",
            "The No-U-Turn sampler with Stan's window adaptation on one-hidden-layer "
            "networks of several activations, equilibrated at several modes: adapted "
            "step sizes, tree depths, gradients, divergences, predictions at tracked "
            "inputs and each mode's test RMSE, with a diagonal or identity mass, "
            "targets 0.8 and 0.95, and plain HMC with a smaller step size as a remedy. "
            "Scales ending in '-real' use chapter 8's data. The progress bar counts "
            "chain-transitions of equilibration (at its upper bound, reached when it "
            "ends), adaptation and sampling.",
        ),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m hmc_lite.experiments NAME --scale paper --out F.npz``.

    ``NAME`` is ``fig1`` (chapter 6), ``fig2`` (chapter 7, efficiency), ``fig3``
    (chapter 7, network size), ``table1`` (chapter 8; also called ``fig2-real``),
    ``tuning`` (chapter 9) or ``nuts`` (chapter 11). Runs the experiment's ``run_*``
    function at a named scale (``book`` reproduces the chapter, ``paper`` is larger,
    ``tiny`` is for tests; with ``--seed``, another seed than the scale's) and saves the
    result with its ``save_*`` function; its ``load_*`` function reads it back.

    Each finished piece of the run is kept in ``--parts`` (default: the output path with
    ``.parts`` instead of ``.npz``), so that the same command, run again after an
    interruption, resumes where it stopped; the folder is removed once the result is
    saved. ``--workers N`` runs the pieces on a local Dask cluster of ``N`` processes,
    ``--scheduler ADDRESS`` on an existing Dask cluster (whose workers have ``hmc_lite``
    installed); the result is the same as without either. A progress bar with an ETA on
    stderr counts the work; it also moves during the equilibrations and adaptations,
    each equilibration counted at its upper bound (reached when it ends), except for
    ``fig1``, whose bar counts the gradients of the measurements only.
    """
    commands = _commands()
    parser = argparse.ArgumentParser(
        prog="python -m hmc_lite.experiments",
        description="Experiments of the book at a chosen scale.",
    )
    sub = parser.add_subparsers(dest="experiment", required=True)
    for name, cmd in commands.items():
        p = sub.add_parser(
            name, help=cmd.help, description=cmd.description, aliases=list(cmd.aliases)
        )
        p.add_argument(
            "--scale",
            choices=sorted(cmd.scales),
            default="book",
            help="'book' reproduces the chapter; 'paper' is the larger run "
            "(default: book)",
        )
        p.add_argument("--out", required=True, help="output file, must end in .npz")
        p.add_argument(
            "--seed", type=int, default=None, help="override the seed of the scale"
        )
        p.add_argument(
            "--no-progress", action="store_true", help="do not show a progress bar"
        )
        p.add_argument(
            "--parts",
            default=None,
            help="folder for finished pieces, to resume an interrupted run "
            "(default: OUT with .parts instead of .npz)",
        )
        where = p.add_mutually_exclusive_group()
        where.add_argument(
            "--workers",
            type=int,
            default=None,
            help="run the pieces on a local Dask cluster of this many processes",
        )
        where.add_argument(
            "--scheduler",
            default=None,
            help="address of a Dask scheduler (e.g. tcp://host:8786) to run the "
            "pieces on",
        )
    args = parser.parse_args(argv)
    name = next(n for n, c in commands.items() if args.experiment in (n,) + c.aliases)
    cmd = commands[name]
    settings = cmd.scales[args.scale]
    if args.seed is not None and not 0 <= args.seed < 2**63:
        parser.error(f"--seed must be an integer in [0, 2**63); got {args.seed}")
    try:  # before an hour of computing, not after
        check_output_path(args.out)
    except ValueError as err:
        parser.error(f"--out: {err}")
    if args.workers is not None and args.workers < 1:
        parser.error(f"--workers must be at least 1; got {args.workers}")
    parts = (
        pathlib.Path(args.parts)
        if args.parts
        else pathlib.Path(args.out).with_suffix(".parts")
    )
    from tqdm import tqdm  # only the CLI shows progress

    with (
        _dask_client(args.workers, args.scheduler) as client,
        tqdm(
            total=cmd.cost(settings),
            unit=cmd.unit,
            unit_scale=True,
            file=sys.stderr,
            disable=args.no_progress,
            desc=f"{name} ({args.scale})",
        ) as bar,
    ):
        result = cmd.run(
            settings, seed=args.seed, progress=bar.update, parts=parts, client=client
        )
    path = cmd.save(result, args.out)
    remove_parts(parts)
    print(f"wrote {path}")
    return 0


@contextlib.contextmanager
def _dask_client(workers: int | None, scheduler: str | None):
    """A Dask client for ``--workers`` or ``--scheduler``; ``None``: this process."""
    if workers is None and scheduler is None:
        yield None
        return
    from distributed import Client, LocalCluster

    if scheduler is not None:
        with Client(scheduler) as client:
            yield client
    else:
        with (
            LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client


if __name__ == "__main__":
    sys.exit(main())
