"""Experiments that combine models with the sampler core.

It builds on :func:`hmc_lite.grid.run_grid` (re-exported here). This module is
not imported by ``hmc_lite`` itself, so that ``python -m hmc_lite.experiments``
runs it exactly once.

:func:`run_fig1` is the acceptance-rate experiment of chapter 6 (the paper's
Figure 1) at a named scale; it also runs from the command line::

    python -m hmc_lite.experiments fig1 --scale book --out results/fig1_book.npz
    python -m hmc_lite.experiments fig1 --scale paper --out results/fig1.npz

The result is saved with :func:`numpy.savez` and read back with
:func:`load_fig1` (no pickle).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import zlib
from typing import Callable, NamedTuple, Sequence

import numpy as np

from .datasets import synthetic
from .diagnostics import stability_limit
from .grid import GridResult, run_grid
from .models import MLPPotential, mlp_potential
from .potential import Potential, check_positions
from .warmup import shared_warmup

__all__ = [
    "GridResult",
    "run_grid",
    # chapter 6 (Figure 1) and the command line
    "FIG1_MODELS",
    "FIG1_SCALES",
    "Fig1Settings",
    "Fig1Result",
    "fig1_potential",
    "fig1_cost",
    "linear_stability_limit",
    "run_fig1",
    "save_fig1",
    "load_fig1",
    "main",
]


# ---------------------------------------------------------------------------
# The acceptance-rate experiment of chapter 6 (the paper's Figure 1) and its CLI
# ---------------------------------------------------------------------------

#: Networks of the Figure 1 experiment: a label for each activation setting.
#: ``leaky_relu`` has negative slope 0.01; ``leaky_relu_0.1`` has slope 0.1.
FIG1_MODELS = ("sigmoid", "relu", "leaky_relu", "leaky_relu_0.1")


class Fig1Settings(NamedTuple):
    """Everything that defines one run of the Figure 1 experiment.

    Attributes
    ----------
    models:
        Labels from :data:`FIG1_MODELS`.
    step_sizes, n_steps:
        The grid of leapfrog step sizes ``eps`` and numbers of steps ``L``.
    chains, n_samples:
        Chains per setting and HMC transitions per chain.
    scan_step_sizes, scan_n_steps, scan_samples:
        A separate, cheap scan over larger step sizes that locates where
        trajectories start to diverge.
    n_optim, warmup_step_size, warmup_n_steps, warmup_hmc:
        Settings of :func:`hmc_lite.warmup.shared_warmup`.
    n_hessian:
        Warm-up points at which the linear stability limit is computed.
    seed:
        Seed of every random number used.
    """

    models: tuple[str, ...]
    step_sizes: tuple[float, ...]
    n_steps: tuple[int, ...]
    chains: int
    n_samples: int
    scan_step_sizes: tuple[float, ...]
    scan_n_steps: int
    scan_samples: int
    n_optim: int = 10000
    warmup_step_size: float = 5e-4
    warmup_n_steps: int = 40
    warmup_hmc: int = 40
    n_hessian: int = 8
    seed: int = 0


_BOOK_EPS = (2.5e-4, 5e-4, 1e-3, 1.25e-3, 1.5e-3, 2e-3, 3e-3)
_SCAN_EPS = tuple(float(e) for e in np.round(np.geomspace(1e-3, 6e-3, 9), 6))

#: Named scales of the experiment. ``book`` is what chapter 6 runs (about
#: 0.75 million chain-gradients, half a minute); ``paper`` has a finer and
#: wider grid, four times the chains and ten times the transitions, and adds
#: leaky ReLU with slope 0.1 (about 95 million chain-gradients, an hour or
#: more on a laptop); ``tiny`` is for tests.
FIG1_SCALES: dict[str, Fig1Settings] = {
    "tiny": Fig1Settings(("sigmoid", "relu"), (5e-4, 2e-3), (2, 4), chains=3, n_samples=2,
                         scan_step_sizes=(1e-3, 3e-3), scan_n_steps=3, scan_samples=1,
                         n_optim=20, warmup_n_steps=3, warmup_hmc=2, n_hessian=1),
    "book": Fig1Settings(FIG1_MODELS[:3], _BOOK_EPS, (5, 25, 50, 100, 200), chains=16, n_samples=5,
                         scan_step_sizes=_SCAN_EPS, scan_n_steps=20, scan_samples=3),
    "paper": Fig1Settings(FIG1_MODELS,
                          (1.25e-4, 2.5e-4, 5e-4, 7.5e-4, 1e-3, 1.25e-3, 1.5e-3, 2e-3, 3e-3),
                          (1, 5, 10, 25, 50, 100, 200, 400), chains=64, n_samples=50,
                          scan_step_sizes=tuple(float(e) for e in np.round(np.geomspace(5e-4, 8e-3, 17), 6)),
                          scan_n_steps=50, scan_samples=10, n_optim=20000, warmup_hmc=200,
                          n_hessian=16),
}


class Fig1Result(NamedTuple):
    """Output of :func:`run_fig1`; every field is a plain numpy array so that it
    saves with :func:`numpy.savez` and loads without pickle.

    ``A`` models, ``S`` step sizes, ``K`` numbers of steps, ``C`` chains,
    ``N`` transitions.

    Attributes
    ----------
    models:
        Shape ``(A,)``, the labels.
    step_sizes, n_steps:
        Shapes ``(S,)`` and ``(K,)``.
    accept_prob, energy_error, divergent:
        Shape ``(A, S, K, C, N)``: per transition, as in :class:`GridResult`.
    warmup_accept:
        Shape ``(A,)``: mean acceptance of the spreading run of the warm-up.
    warmup_position:
        Shape ``(A, C, dim)``: where every setting's chains start.
    stability_limit:
        Shape ``(A, n_hessian)``: ``2 / sqrt(lambda_max)`` of the Hessian of the
        potential at warm-up points (see :func:`linear_stability_limit`).
    scan_step_sizes:
        Shape ``(S2,)``.
    scan_divergent:
        Shape ``(A, S2, C, scan_samples)``: divergences of the stability scan.
    pred_x:
        Shape ``(P,)``: inputs at which the sampled networks are evaluated.
    pred_f:
        Shape ``(A, C, N, P)``: outputs of the networks sampled with the
        smallest step size and the largest number of steps.
    seed, chains, n_samples:
        Scalars (0-d arrays) recording the settings.
    """

    models: np.ndarray
    step_sizes: np.ndarray
    n_steps: np.ndarray
    accept_prob: np.ndarray
    energy_error: np.ndarray
    divergent: np.ndarray
    warmup_accept: np.ndarray
    warmup_position: np.ndarray
    stability_limit: np.ndarray
    scan_step_sizes: np.ndarray
    scan_divergent: np.ndarray
    pred_x: np.ndarray
    pred_f: np.ndarray
    seed: np.ndarray
    chains: np.ndarray
    n_samples: np.ndarray


def fig1_potential(model: str, n_data: int = 100, data_seed: int = 0) -> MLPPotential:
    """The posterior of a ``[1, 50, 1]`` network on the synthetic data.

    ``model`` is a label from :data:`FIG1_MODELS`. Prior ``N(0, 1)`` on every
    weight and bias, Gaussian noise with standard deviation 0.1.
    """
    if model not in FIG1_MODELS:
        raise ValueError(f"model must be one of {FIG1_MODELS}; got {model!r}")
    data = synthetic(n=n_data, seed=data_seed)
    name, _, slope = model.partition("_0.")
    options = {"slope": float("0." + slope)} if slope else {}
    return mlp_potential(data.x_train, data.y_train, [1, 50, 1], name, noise_sd=0.1,
                         prior_sd=1.0, **options)


def linear_stability_limit(potential: Potential, position: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Largest stable leapfrog step size ``2 / sqrt(lambda_max)`` at each row of ``position``.

    A thin alias of :func:`hmc_lite.diagnostics.stability_limit`, kept for the
    chapters that import it from here: it runs ``dim`` Hessian-vector products
    per row, enough for the exact largest eigenvalue of the finite-difference
    Hessian (difference step ``h``, one-sided away from kinks).
    """
    q = check_positions(position, "position", potential.dim)
    return stability_limit(potential, q, n_iter=q.shape[1], h=h)


def _model_rng(seed: int, model: str) -> np.random.Generator:
    # One stream per model, so a model's results do not depend on which others run.
    return np.random.default_rng([int(seed), zlib.crc32(model.encode())])


def fig1_cost(settings: Fig1Settings) -> int:
    """Chain-gradient evaluations that :func:`run_fig1` will make (roughly)."""
    s = settings
    per_model = (
        s.n_optim
        + s.chains * s.warmup_hmc * s.warmup_n_steps
        + len(s.scan_step_sizes) * s.chains * s.scan_samples * s.scan_n_steps
        + len(s.step_sizes) * s.chains * s.n_samples * sum(s.n_steps)
    )
    return int(len(s.models) * per_model)


def _check_settings(s: Fig1Settings) -> None:
    if not isinstance(s, Fig1Settings):
        raise TypeError(f"settings must be a Fig1Settings; got {type(s).__name__}")
    if not s.models or any(m not in FIG1_MODELS for m in s.models):
        raise ValueError(f"settings.models must be labels from {FIG1_MODELS}; got {s.models!r}")
    for label in ("step_sizes", "scan_step_sizes"):
        v = np.asarray(getattr(s, label), dtype=float)
        if v.size < 1 or not np.all(np.isfinite(v)) or np.any(v <= 0):
            raise ValueError(f"settings.{label} must be positive step sizes; got {v!r}")
    if len(s.n_steps) < 1 or any(int(L) != L or L < 1 for L in s.n_steps):
        raise ValueError(f"settings.n_steps must be positive integers; got {s.n_steps!r}")
    for label in ("chains", "n_samples", "scan_n_steps", "scan_samples", "warmup_n_steps",
                  "warmup_hmc", "n_hessian"):
        v = getattr(s, label)
        if isinstance(v, bool) or int(v) != v or v < 1:
            raise ValueError(f"settings.{label} must be a positive integer; got {v!r}")
    if s.n_hessian > s.chains:
        raise ValueError(f"settings.n_hessian must be at most chains={s.chains}; got {s.n_hessian}")


def run_fig1(
    settings: Fig1Settings,
    progress: Callable[[int], object] | None = None,
    n_pred: int = 101,
) -> Fig1Result:
    """Run the acceptance-rate experiment of chapter 6 (the paper's Figure 1).

    For each model: a shared warm-up (:func:`hmc_lite.warmup.shared_warmup`)
    of ``settings.chains`` chains; the linear stability limit at a few
    warm-up points; a stability scan over ``settings.scan_step_sizes``; then
    the whole ``(eps, L)`` grid with :func:`run_grid`, one batch per ``L``.

    ``progress``, if given, is called with the number of chain-gradient
    evaluations done after each piece of work (the CLI feeds a tqdm bar);
    the total is :func:`fig1_cost`.
    """
    _check_settings(settings)
    s = settings
    tick = progress if progress is not None else (lambda n: None)
    A, S, K = len(s.models), len(s.step_sizes), len(s.n_steps)
    C, N = int(s.chains), int(s.n_samples)
    shape = (A, S, K, C, N)
    accept, error, divergent = np.empty(shape), np.empty(shape), np.empty(shape, dtype=bool)
    scan_div = np.empty((A, len(s.scan_step_sizes), C, int(s.scan_samples)), dtype=bool)
    limits = np.empty((A, int(s.n_hessian)))
    warm_acc = np.empty(A)
    warm_pos = np.empty((A, C, fig1_potential(s.models[0]).dim))
    pred_x = np.linspace(-0.5, 4.5, int(n_pred))
    pred_f = np.empty((A, C, N, pred_x.size))
    for a, model in enumerate(s.models):
        rng = _model_rng(s.seed, model)
        pot = fig1_potential(model)
        warm = shared_warmup(pot, 0.5 * pot.prior_draw(rng, 1), chains=C, rng=rng,
                             n_optim=int(s.n_optim), step_size=float(s.warmup_step_size),
                             n_steps=int(s.warmup_n_steps), n_hmc=int(s.warmup_hmc))
        warm_acc[a] = warm.accept_rate
        warm_pos[a] = warm.position
        limits[a] = linear_stability_limit(pot, warm.position[: int(s.n_hessian)])
        tick(int(s.n_optim) + C * int(s.warmup_hmc) * int(s.warmup_n_steps))
        scan = run_grid(pot, warm.position, s.scan_step_sizes, [int(s.scan_n_steps)],
                        int(s.scan_samples), rng)
        scan_div[a] = scan.divergent[:, 0]
        tick(len(s.scan_step_sizes) * C * int(s.scan_samples) * int(s.scan_n_steps))
        for k, L in enumerate(s.n_steps):
            grid = run_grid(pot, warm.position, s.step_sizes, [int(L)], N, rng)
            accept[a, :, k] = grid.accept_prob[:, 0]
            error[a, :, k] = grid.energy_error[:, 0]
            divergent[a, :, k] = grid.divergent[:, 0]
            if k == K - 1:
                pred_f[a] = pot.predict(grid.positions[0, 0], pred_x)
            tick(S * C * N * int(L))
    return Fig1Result(
        models=np.array(s.models, dtype=str),
        step_sizes=np.asarray(s.step_sizes, dtype=float),
        n_steps=np.asarray(s.n_steps, dtype=int),
        accept_prob=accept,
        energy_error=error,
        divergent=divergent,
        warmup_accept=warm_acc,
        warmup_position=warm_pos,
        stability_limit=limits,
        scan_step_sizes=np.asarray(s.scan_step_sizes, dtype=float),
        scan_divergent=scan_div,
        pred_x=pred_x,
        pred_f=pred_f,
        seed=np.array(int(s.seed)),
        chains=np.array(C),
        n_samples=np.array(N),
    )


def save_fig1(result: Fig1Result, path: str | os.PathLike) -> pathlib.Path:
    """Write ``result`` to ``path`` (an ``.npz`` file) with :func:`numpy.savez`."""
    if not isinstance(result, Fig1Result):
        raise TypeError(f"result must be a Fig1Result; got {type(result).__name__}")
    path = pathlib.Path(path)
    if path.suffix != ".npz":
        raise ValueError(f"path must end in .npz; got {str(path)!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:  # an open file keeps numpy from renaming the path
        np.savez(fh, **result._asdict())
    return path


def load_fig1(path: str | os.PathLike) -> Fig1Result:
    """Read a file written by :func:`save_fig1` (or the CLI), without pickle.

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        If the file lacks an array of :class:`Fig1Result` or needs pickle.
    """
    with np.load(pathlib.Path(path), allow_pickle=False) as npz:
        missing = [f for f in Fig1Result._fields if f not in npz.files]
        if missing:
            raise ValueError(f"{path} is not a Figure 1 result file; missing {missing}")
        return Fig1Result(**{f: npz[f] for f in Fig1Result._fields})


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m hmc_lite.experiments fig1 --scale paper --out results/fig1.npz``.

    Runs :func:`run_fig1` at a named scale from :data:`FIG1_SCALES` with a
    progress bar on stderr and saves the result with :func:`save_fig1`.
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
        "ReLU and leaky ReLU activations over a grid of step sizes and numbers of steps.",
    )
    fig1.add_argument("--scale", choices=sorted(FIG1_SCALES), default="book",
                      help="'book' reproduces chapter 6; 'paper' is the larger grid (default: book)")
    fig1.add_argument("--out", required=True, help="output file, must end in .npz")
    fig1.add_argument("--seed", type=int, default=None, help="override the seed of the scale")
    fig1.add_argument("--no-progress", action="store_true", help="do not show a progress bar")
    args = parser.parse_args(argv)
    if not args.out.endswith(".npz"):
        parser.error(f"--out must end in .npz; got {args.out!r}")
    settings = FIG1_SCALES[args.scale]
    if args.seed is not None:
        if args.seed < 0:
            parser.error(f"--seed must be non-negative; got {args.seed}")
        settings = settings._replace(seed=args.seed)
    from tqdm import tqdm  # only the CLI shows progress

    with tqdm(total=fig1_cost(settings), unit="grad", unit_scale=True, file=sys.stderr,
              disable=args.no_progress, desc=f"fig1 ({args.scale})") as bar:
        result = run_fig1(settings, progress=bar.update)
    path = save_fig1(result, args.out)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
