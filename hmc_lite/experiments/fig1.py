"""The acceptance-rate experiment of chapter 6 (the paper's Figure 1) at a named scale.

Science only: settings, the run and its cost. Saving and loading results is
:mod:`hmc_lite.experiments.store`, the command line
:mod:`hmc_lite.experiments.__main__`.
"""

from __future__ import annotations

import os
import pathlib
import zlib
from typing import Any, Callable, NamedTuple

import numpy as np

from .._validation import check_int
from ..datasets import synthetic
from ..diagnostics import stability_limit
from ..equilibrium import equilibrate
from ..grid import run_grid
from ..models import MLPPotential, mlp_potential
from .runner import Piece, run_pieces, start_run
from .store import load_result, save_result

__all__ = [
    "FIG1_MODELS",
    "FIG1_SCALES",
    "Fig1Settings",
    "Fig1Result",
    "fig1_potential",
    "fig1_cost",
    "run_fig1",
    "save_fig1",
    "load_fig1",
]


#: Networks of the Figure 1 experiment: a label for each activation setting.
#: ``leaky_relu`` has negative slope 0.01; ``leaky_relu_0.1`` has slope 0.1.
FIG1_MODELS = ("sigmoid", "relu", "leaky_relu", "leaky_relu_0.1")


class Fig1Settings(NamedTuple):
    """Everything that defines one run of the Figure 1 experiment.

    The run has three stages per network: equilibration
    (:func:`hmc_lite.equilibrate`), the linear stability limit at the
    equilibrium positions (:func:`hmc_lite.diagnostics.stability_limit`),
    and the measurements (the acceptance grid and a stability scan), all
    started from the equilibrium positions.

    Attributes
    ----------
    models:
        Labels from :data:`FIG1_MODELS`, one network per label.
    step_sizes:
        Absolute leapfrog step sizes ``eps`` of the acceptance grid, the same
        for every network (the comparison "at equal ``eps``").
    n_steps:
        Numbers of leapfrog steps ``L`` of the acceptance grid.
    n_modes:
        Independent optimisations per network (:func:`hmc_lite.equilibrate`);
        the mode is the unit of replication of every summary.
    chains_per_mode:
        Chains started at (and equilibrated from) each mode; the run has
        ``chains = n_modes * chains_per_mode`` chains per network and setting.
    n_samples:
        HMC transitions per chain and grid setting, each chain continuing
        from its own equilibrium position.
    limit_fractions:
        A second grid of step sizes, ``fraction * eps_stab`` with ``eps_stab``
        the network's own median stability limit at equilibrium (the
        comparison "at equal ``eps / eps_stab``"), run with the same ``L``.
    scan_step_sizes, scan_n_steps, scan_samples:
        A cheap scan locating where trajectories start to diverge: these step
        sizes, ``scan_n_steps`` leapfrog steps, ``scan_samples`` transitions.
    n_adam, n_lbfgs:
        Optimiser iterations per mode (Adam, then at most ``n_lbfgs`` L-BFGS-B
        iterations), see :func:`hmc_lite.equilibrium.find_modes`.
    path_length, target_accept, n_adapt, block, max_blocks:
        Equilibration HMC: integration time of each trajectory, acceptance
        targeted by the adapted step size, adaptation transitions, block
        length and maximum number of blocks of the stop rule
        (:func:`hmc_lite.equilibrium.levelled_off`).
    n_lanczos:
        Hessian-vector products per chain for the stability limit.
    seed:
        Seed of every random number of the run (each network has its own
        stream derived from it and its label, so a network's results do not
        depend on which other networks run with it).
    """

    models: tuple[str, ...]
    step_sizes: tuple[float, ...]
    n_steps: tuple[int, ...]
    n_modes: int
    chains_per_mode: int
    n_samples: int
    limit_fractions: tuple[float, ...]
    scan_step_sizes: tuple[float, ...]
    scan_n_steps: int
    scan_samples: int
    n_adam: int = 1000
    n_lbfgs: int = 1000
    path_length: float = 0.3
    target_accept: float = 0.8
    n_adapt: int = 15
    block: int = 15
    max_blocks: int = 10
    n_lanczos: int = 30
    seed: int = 0

    @property
    def chains(self) -> int:
        """Chains per network and setting, ``n_modes * chains_per_mode``."""
        return int(self.n_modes) * int(self.chains_per_mode)


def _geom(lo: float, hi: float, n: int) -> tuple[float, ...]:
    return tuple(float(e) for e in np.round(np.geomspace(lo, hi, n), 6))


#: Step sizes of the book's grid. At equilibrium the median stability limit is
#: about 3.5e-3 for sigmoid and 1.15e-3 for ReLU and leaky ReLU, so the grid
#: runs from about a fifth of the ReLU limit to beyond the sigmoid limit.
_BOOK_EPS = (2.5e-4, 5e-4, 7.5e-4, 1e-3, 1.5e-3, 2e-3, 3e-3, 4e-3)

#: Named scales of the experiment. ``book`` is what chapter 6 runs (8 modes
#: with one chain each per network; about 0.5 million chain-gradients of
#: measurements for the three networks plus their equilibrations, about a
#: minute of CPU); ``paper`` has all four networks, 16 modes with 4 chains each, a
#: finer and wider grid from ``L = 1`` to ``L = 400``, 20 transitions per
#: chain and setting and more limit fractions (about 76 million chain-gradients of
#: measurements plus the equilibrations, an hour or more on a laptop);
#: ``tiny`` is for tests.
FIG1_SCALES: dict[str, Fig1Settings] = {
    "tiny": Fig1Settings(
        ("sigmoid", "relu"),
        (5e-4, 2e-3),
        (2, 4),
        n_modes=2,
        chains_per_mode=2,
        n_samples=2,
        limit_fractions=(0.5,),
        scan_step_sizes=(1e-3, 3e-3),
        scan_n_steps=3,
        scan_samples=1,
        n_adam=20,
        n_lbfgs=10,
        path_length=0.02,
        n_adapt=3,
        block=2,
        max_blocks=50,
        n_lanczos=5,
    ),
    "book": Fig1Settings(
        FIG1_MODELS[:3],
        _BOOK_EPS,
        (5, 25, 50, 100, 200),
        n_modes=8,
        chains_per_mode=1,
        n_samples=5,
        limit_fractions=(0.25, 0.5, 0.75),
        scan_step_sizes=_geom(5e-4, 6e-3, 12),
        scan_n_steps=20,
        scan_samples=3,
    ),
    "paper": Fig1Settings(
        FIG1_MODELS,
        (
            1.25e-4,
            2.5e-4,
            5e-4,
            7.5e-4,
            1e-3,
            1.25e-3,
            1.5e-3,
            2e-3,
            2.5e-3,
            3e-3,
            3.5e-3,
            4e-3,
            5e-3,
        ),
        (1, 5, 10, 25, 50, 100, 200, 400),
        n_modes=16,
        chains_per_mode=4,
        n_samples=20,
        limit_fractions=(0.1, 0.25, 0.5, 0.75, 0.9),
        scan_step_sizes=_geom(2.5e-4, 8e-3, 21),
        scan_n_steps=50,
        scan_samples=10,
        n_adam=2000,
        n_lbfgs=2000,
        n_adapt=20,
        block=20,
        max_blocks=20,
        n_lanczos=60,
    ),
}


class Fig1Result(NamedTuple):
    """Output of :func:`run_fig1`; every field is a plain numpy array so that it
    saves with :func:`numpy.savez` and loads without pickle.

    ``A`` networks, ``S`` step sizes, ``F`` limit fractions, ``K`` numbers of
    steps, ``C`` chains (``M`` modes of ``C / M`` chains each), ``N``
    transitions, ``dim`` parameters.

    Attributes
    ----------
    models:
        Shape ``(A,)``, the labels.
    step_sizes, n_steps, limit_fractions:
        Shapes ``(S,)``, ``(K,)`` and ``(F,)``: the settings' grids.
    accept_prob, energy_error, divergent:
        Shape ``(A, S, K, C, N)``: Metropolis acceptance probability, energy
        error and divergence flag of every transition of the absolute grid
        (as in :class:`~hmc_lite.grid.GridResult`).
    rel_step_sizes:
        Shape ``(A, F)``: the step sizes of the relative grid,
        ``limit_fractions`` times the network's median ``stability_limit``.
    rel_accept_prob, rel_energy_error, rel_divergent:
        Shape ``(A, F, K, C, N)``: the same for the relative grid.
    mode:
        Shape ``(A, C)``: the mode label (``0..M-1``) of every chain; summarise
        over modes with :func:`hmc_lite.diagnostics.mode_summary`.
    start_position:
        Shape ``(A, C, dim)``: the equilibrium positions every setting starts from.
    start_potential:
        Shape ``(A, C)``: the potential energy ``U`` there.
    mode_potential:
        Shape ``(A, M)``: ``U`` at the optimised modes.
    stability_limit:
        Shape ``(A, C)``: ``2 / sqrt(lambda_max)`` of the Hessian of ``U`` at
        each equilibrium position (:func:`hmc_lite.diagnostics.stability_limit`).
    mode_stability_limit:
        Shape ``(A, M)``: the same at the optimised modes.
    equilibrium_step_size:
        Shape ``(A, C)``: the step size the equilibration adapted.
    equilibrium_transitions:
        Shape ``(A,)``: HMC transitions the equilibration ran.
    equilibrium_converged:
        Shape ``(A,)``, bool: whether its stop rule was met.
    scan_step_sizes:
        Shape ``(S2,)``.
    scan_divergent:
        Shape ``(A, S2, C, scan_samples)``: divergences of the stability scan.
    pred_x:
        Shape ``(P,)``: inputs at which the sampled networks are evaluated.
    pred_f:
        Shape ``(A, C, N, P)``: outputs of the networks sampled with the
        smallest step size and the largest number of steps.
    seed, n_modes, chains, n_samples:
        Scalars (0-d arrays) recording the settings.
    """

    models: np.ndarray
    step_sizes: np.ndarray
    n_steps: np.ndarray
    limit_fractions: np.ndarray
    accept_prob: np.ndarray
    energy_error: np.ndarray
    divergent: np.ndarray
    rel_step_sizes: np.ndarray
    rel_accept_prob: np.ndarray
    rel_energy_error: np.ndarray
    rel_divergent: np.ndarray
    mode: np.ndarray
    start_position: np.ndarray
    start_potential: np.ndarray
    mode_potential: np.ndarray
    stability_limit: np.ndarray
    mode_stability_limit: np.ndarray
    equilibrium_step_size: np.ndarray
    equilibrium_transitions: np.ndarray
    equilibrium_converged: np.ndarray
    scan_step_sizes: np.ndarray
    scan_divergent: np.ndarray
    pred_x: np.ndarray
    pred_f: np.ndarray
    seed: np.ndarray
    n_modes: np.ndarray
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


def fig1_cost(settings: Fig1Settings) -> int:
    """Chain-gradient evaluations of the measurements of :func:`run_fig1`.

    Counts the stability limits (two gradients per Hessian-vector product),
    the stability scan and both acceptance grids. The equilibration is not
    included: it stops when the potential energy has levelled off and adapts
    its step size, so its cost is known only afterwards (about ``chains *
    n_transitions * path_length / step_size``, from the result).
    """
    s = settings
    C, N, K = s.chains, int(s.n_samples), sum(int(L) for L in s.n_steps)
    per_model = (
        2 * int(s.n_lanczos) * (C + int(s.n_modes))
        + len(s.scan_step_sizes) * C * int(s.scan_samples) * int(s.scan_n_steps)
        + (len(s.step_sizes) + len(s.limit_fractions)) * C * N * K
    )
    return int(len(s.models) * per_model)


def _check_settings(s: Fig1Settings) -> None:
    if not isinstance(s, Fig1Settings):
        raise TypeError(f"settings must be a Fig1Settings; got {type(s).__name__}")
    if not s.models or any(m not in FIG1_MODELS for m in s.models):
        raise ValueError(
            f"settings.models must be labels from {FIG1_MODELS}; got {s.models!r}"
        )
    if len(set(s.models)) != len(s.models):
        raise ValueError(f"settings.models must not repeat a label; got {s.models!r}")
    for label in ("step_sizes", "scan_step_sizes", "limit_fractions"):
        v = np.asarray(getattr(s, label), dtype=float)
        if v.size < 1 or not np.all(np.isfinite(v)) or np.any(v <= 0):
            raise ValueError(f"settings.{label} must be positive numbers; got {v!r}")
    if len(s.n_steps) < 1 or any(
        isinstance(L, bool) or int(L) != L or L < 1 for L in s.n_steps
    ):
        raise ValueError(
            f"settings.n_steps must be positive integers; got {s.n_steps!r}"
        )
    for label in (
        "n_modes",
        "chains_per_mode",
        "n_samples",
        "scan_n_steps",
        "scan_samples",
        "n_adapt",
        "max_blocks",
        "n_lanczos",
    ):
        v = getattr(s, label)
        if isinstance(v, bool) or int(v) != v or v < 1:
            raise ValueError(f"settings.{label} must be a positive integer; got {v!r}")
    for label in ("n_adam", "n_lbfgs"):
        v = getattr(s, label)
        if isinstance(v, bool) or int(v) != v or v < 0:
            raise ValueError(
                f"settings.{label} must be a non-negative integer; got {v!r}"
            )
    if isinstance(s.block, bool) or int(s.block) != s.block or s.block < 2:
        raise ValueError(f"settings.block must be an integer >= 2; got {s.block!r}")
    if s.n_modes * s.chains_per_mode < 2:
        raise ValueError("settings need at least 2 chains (n_modes * chains_per_mode)")
    if not (np.isfinite(s.path_length) and s.path_length > 0):
        raise ValueError(
            f"settings.path_length must be positive; got {s.path_length!r}"
        )
    if not 0 < s.target_accept < 1:
        raise ValueError(
            f"settings.target_accept must lie in (0, 1); got {s.target_accept!r}"
        )


_EQUILIBRIUM_FIELDS = (
    "mode", "start_position", "start_potential", "mode_potential", "stability_limit",
    "mode_stability_limit", "equilibrium_step_size", "equilibrium_transitions",
    "equilibrium_converged", "scan_divergent",
)
# and "pred_f" for the last L
_GRID_FIELDS = ("accept_prob", "energy_error", "divergent")


def _piece_rng(seed: int, model: str, piece: int) -> np.random.Generator:
    # One stream per network and piece: a piece's result does not depend on which
    # other networks run, nor on where or in which order the pieces run.
    return np.random.default_rng([int(seed), zlib.crc32(model.encode()), int(piece)])


def _equilibrium_piece(
    s: Fig1Settings, model: str, *, progress=None
) -> dict[str, np.ndarray]:
    """Equilibrate one network, its stability limits and the stability scan."""
    tick = progress if progress is not None else (lambda n: None)
    rng = _piece_rng(s.seed, model, 0)
    pot = fig1_potential(model)
    M, C = int(s.n_modes), s.chains
    eq = equilibrate(
        pot,
        C,
        rng=rng,
        n_modes=M,
        n_adam=int(s.n_adam),
        n_lbfgs=int(s.n_lbfgs),
        path_length=float(s.path_length),
        target_accept=float(s.target_accept),
        n_adapt=int(s.n_adapt),
        block=int(s.block),
        max_blocks=int(s.max_blocks),
    )
    n_iter = int(s.n_lanczos)
    limit = stability_limit(pot, eq.position, n_iter=n_iter)
    mode_limit = stability_limit(pot, eq.mode_position, n_iter=n_iter)
    tick(2 * n_iter * (C + M))
    scan = run_grid(
        pot,
        eq.position,
        s.scan_step_sizes,
        [int(s.scan_n_steps)],
        int(s.scan_samples),
        rng=rng,
        progress=tick,
    )
    return {
        "mode": np.asarray(eq.mode, dtype=int),
        "start_position": eq.position,
        "start_potential": pot(eq.position),
        "mode_potential": pot(eq.mode_position),
        "stability_limit": limit,
        "mode_stability_limit": mode_limit,
        "equilibrium_step_size": np.asarray(eq.step_size, dtype=float),
        "equilibrium_transitions": np.array(int(eq.n_transitions)),
        "equilibrium_converged": np.array(bool(eq.converged)),
        "scan_divergent": scan.is_divergent[:, 0],
    }


def _grid_piece(
    s: Fig1Settings,
    model: str,
    k: int,
    start: np.ndarray,
    step_sizes: np.ndarray,
    pred_x: np.ndarray,
    *,
    progress=None,
) -> dict[str, np.ndarray]:
    """The acceptance grid of one network at its ``k``-th number of steps, both
    step-size sets."""
    pot = fig1_potential(model)
    grid = run_grid(pot, start, step_sizes, [int(s.n_steps[k])], int(s.n_samples),
                    rng=_piece_rng(s.seed, model, 1 + k), progress=progress)
    out = {
        "accept_prob": grid.accept_prob[:, 0],
        "energy_error": grid.energy_error[:, 0],
        "divergent": grid.is_divergent[:, 0],
    }
    if k == len(s.n_steps) - 1:  # predictions only from the longest trajectories
        # networks sampled with the smallest step size
        smallest = int(np.argmin(s.step_sizes))
        out["pred_f"] = pot.predict(grid.positions[smallest, 0], pred_x)
    return out


def run_fig1(
    settings: Fig1Settings,
    *,
    seed: int | None = None,
    progress: Callable[[int], object] | None = None,
    n_pred: int = 101,
    parts: str | os.PathLike | None = None,
    client: Any | None = None,
) -> Fig1Result:
    """Run the acceptance-rate experiment of chapter 6 (the paper's Figure 1).

    For each network of ``settings.models``:

    1. :func:`hmc_lite.equilibrate` optimises ``settings.n_modes`` modes from
       independent starts, puts ``settings.chains_per_mode`` chains at each
       and runs HMC until the potential energy levels off;
    2. the linear stability limit is computed at every equilibrium position
       (and at the modes), and a stability scan runs over
       ``settings.scan_step_sizes``;
    3. the acceptance grid: absolute step sizes ``settings.step_sizes`` and
       relative ones ``settings.limit_fractions`` times the network's median
       limit, with :func:`~hmc_lite.grid.run_grid`; every setting starts from
       the equilibrium positions, and all step sizes and chains of one ``L``
       form one batch.

    Steps 1-2 of a network are one piece of work, and each ``L`` of step 3
    another (:mod:`hmc_lite.experiments.runner`), each with random numbers of
    its own derived from the seed, the network and the piece.

    Parameters
    ----------
    settings:
        A scale from :data:`FIG1_SCALES` or your own :class:`Fig1Settings`.
    seed:
        Seed of all random numbers (default ``settings.seed``).
    progress:
        Called with numbers of chain-gradient evaluations of the measurements
        as they are done (the CLI feeds a tqdm bar); they add up to
        :func:`fig1_cost`. The equilibration is not counted.
    n_pred:
        Inputs at which the sampled networks are evaluated (``pred_f``).
    parts:
        A folder where each finished piece is saved; a run started again with
        the same folder, settings and seed reads those pieces back instead of
        recomputing them. ``None`` (the default) saves nothing.
    client:
        A :class:`distributed.Client`: the pieces run as tasks on its workers
        (the result is the same array for array as without it).

    The equilibration warns (``RuntimeWarning``) when its stop rule is not
    met within ``settings.max_blocks`` blocks.
    """
    _check_settings(settings)
    n_pred = check_int(n_pred, "n_pred")
    s, run = start_run("fig1", settings, seed=seed, parts=parts, client=client,
                       progress=progress, record={"n_pred": n_pred})
    A, S, K = len(s.models), len(s.step_sizes), len(s.n_steps)
    M, C, N = int(s.n_modes), s.chains, int(s.n_samples)
    fractions = np.asarray(s.limit_fractions, dtype=float)
    pred_x = np.linspace(-0.5, 4.5, n_pred)

    scan_cost = len(s.scan_step_sizes) * C * int(s.scan_samples) * int(s.scan_n_steps)
    eq = run_pieces(
        [
            Piece(
                f"equilibrium-{model}",
                _equilibrium_piece,
                (s, model),
                _EQUILIBRIUM_FIELDS,
                2 * int(s.n_lanczos) * (C + M) + scan_cost,
            )
            for model in s.models
        ],
        **run,
    )
    eq = [eq[f"equilibrium-{model}"] for model in s.models]
    rel = np.stack([fractions * float(np.median(e["stability_limit"])) for e in eq])
    both = [
        np.concatenate([np.asarray(s.step_sizes, dtype=float), rel[a]])
        for a in range(A)
    ]
    grids = run_pieces(
        [
            Piece(
                f"grid-{model}-L{int(L)}",
                _grid_piece,
                (s, model, k, eq[a]["start_position"], both[a], pred_x),
                _GRID_FIELDS + (("pred_f",) if k == K - 1 else ()),
                len(both[a]) * C * N * int(L),
            )
            for a, model in enumerate(s.models)
            for k, L in enumerate(s.n_steps)
        ],
        **run,
    )

    def grid(key: str, a: int) -> np.ndarray:  # (S + F, K, C, N) of network a
        return np.stack(
            [grids[f"grid-{s.models[a]}-L{int(L)}"][key] for L in s.n_steps], axis=1
        )

    out = {key: np.stack([e[key] for e in eq]) for key in _EQUILIBRIUM_FIELDS}
    for key in ("accept_prob", "energy_error", "divergent"):
        both_grids = np.stack([grid(key, a) for a in range(A)])
        out[key], out["rel_" + key] = both_grids[:, :S], both_grids[:, S:]
    last = f"L{int(s.n_steps[-1])}"
    return Fig1Result(
        models=np.array(s.models, dtype=str),
        step_sizes=np.asarray(s.step_sizes, dtype=float),
        n_steps=np.asarray(s.n_steps, dtype=int),
        limit_fractions=fractions,
        rel_step_sizes=rel,
        scan_step_sizes=np.asarray(s.scan_step_sizes, dtype=float),
        pred_x=pred_x,
        pred_f=np.stack(
            [grids[f"grid-{model}-{last}"]["pred_f"] for model in s.models]
        ),
        seed=np.array(int(s.seed)),
        n_modes=np.array(M),
        chains=np.array(C),
        n_samples=np.array(N),
        **out,
    )


def save_fig1(result: Fig1Result, path: str | os.PathLike) -> pathlib.Path:
    """Write ``result`` to ``path`` (an ``.npz`` file), atomically
    (:func:`~.store.save_result`)."""
    return save_result(result, path, Fig1Result)


def load_fig1(path: str | os.PathLike) -> Fig1Result:
    """Read a file written by :func:`save_fig1` (or the CLI), without pickle.

    Raises ``FileNotFoundError`` or ``ValueError`` as :func:`~.store.load_arrays` does.
    """
    return load_result(path, Fig1Result, "a Figure 1 result file")
