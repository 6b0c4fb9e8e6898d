"""HMC on a real regression data set (chapter 8): the paper's Table 1 and the
real-data panel of Figure 2.

Networks with one hidden layer are fitted to UTKFace when the reader has it, otherwise
to the diabetes data (``/work/shared/PAPER.md``, "Real data"). Chains equilibrated at
several modes run HMC over a common grid of step sizes (fractions of the largest median
stability limit of the networks) and numbers of steps, and at fractions of each mode's
own limit; the result holds acceptance, divergences and the predictive mean of every
mode on the test set, from which Table 1 (acceptance averaged over the grid, test MSE
overall and at the best acceptance) and Figure 2's real-data panel (``a * eps`` against
``a``) follow.
"""

from __future__ import annotations

import os
import pathlib
from typing import Any, Callable, NamedTuple

import numpy as np

from ..datasets import UTKFACE_ENV, diabetes, load_real_data, standardize_y
from ..diagnostics import stability_limit
from ..equilibrium import equilibrate
from ..kernel import sample
from ..models import MLPPotential
from ._shared import (
    check_counts,
    check_models,
    check_positive,
    BoundedProgress,
    divergent,
    equilibration_budget,
    problem_potential,
    per_transition,
)
from .runner import Piece, run_pieces, start_run
from .store import load_result, save_result

__all__ = [
    "TABLE1_MODELS",
    "TABLE1_SCALES",
    "Table1Settings",
    "Table1Result",
    "RealProblem",
    "table1_problem",
    "table1_cost",
    "run_table1",
    "save_table1",
    "load_table1",
]

TABLE1_MODELS = ("sigmoid", "relu", "leaky_relu")


class Table1Settings(NamedTuple):
    """Everything that defines one run of the real-data experiment.

    Attributes
    ----------
    models:
        Activations, from :data:`TABLE1_MODELS`.
    utkface:
        The UTKFace folder, or ``""`` for the diabetes data. ``None`` (the default)
        means ``$UTKFACE_DIR`` if set, else diabetes; :func:`run_table1` resolves it
        once, before any piece runs, so every worker loads the same data.
    utkface_n, image_size:
        UTKFace only: number of images, side of the grey image in pixels.
    hidden:
        Width of the hidden layer.
    n_modes, chains_per_mode:
        Modes per network (the replicates; the ``k``-th mode of every activation starts
        from the same point) and chains per mode.
    n_adam, n_lbfgs, n_lanczos:
        Optimiser iterations per mode, Hessian-vector products per chain.
    fractions:
        The common grid: ``fractions`` times the largest median stability limit of the
        networks, rounded to 2 significant digits.
    n_steps:
        Numbers of leapfrog steps of the common grid.
    equal_fractions, equal_n_steps:
        Step sizes at these fractions of each mode's own limit (mean over its chains),
        with ``equal_n_steps`` steps.
    n_samples:
        HMC transitions per chain and setting.
    seed:
        Seed of every random number: ``default_rng([seed, s])`` with ``s`` = 0 (the
        starting points of the optimisations), 1 (equilibration), 2 (stability limits),
        3 (the common grid), 4 (the fractions of the own limit), as chapter 8.
    """

    models: tuple[str, ...] = TABLE1_MODELS
    utkface: str | None = None
    utkface_n: int = 1000
    image_size: int = 16
    hidden: int = 20
    n_modes: int = 8
    chains_per_mode: int = 2
    n_adam: int = 500
    n_lbfgs: int = 500
    n_lanczos: int = 30
    fractions: tuple[float, ...] = (1 / 12, 1 / 6, 1 / 3, 1 / 2, 2 / 3, 5 / 6, 1.0)
    n_steps: tuple[int, ...] = (10, 30)
    equal_fractions: tuple[float, ...] = (1 / 8, 1 / 4, 1 / 2)
    equal_n_steps: int = 30
    n_samples: int = 30
    seed: int = 0

    @property
    def chains(self) -> int:
        """Chains per network, ``n_modes * chains_per_mode``."""
        return int(self.n_modes) * int(self.chains_per_mode)


#: Named scales. ``book`` is chapter 8 (20 hidden units, 8 modes of 2 chains, 500 Adam
#: and at most 500 L-BFGS iterations, a grid of 7 step sizes by ``L`` = 10, 30, three
#: fractions of the own limit at ``L`` = 30, 30 transitions; the chapter's random
#: numbers). The paper gives no network size or grid for Table 1
#: (``/work/shared/PAPER.md``): ``paper`` is our choice of a larger run of the same
#: design: 50 hidden units, 16 modes of 4 chains, 12 step sizes by ``L`` = 10, 30, 100,
#: five fractions, 200 transitions and longer optimisations. ``tiny`` is for tests.
TABLE1_SCALES: dict[str, Table1Settings] = {
    "tiny": Table1Settings(
        ("sigmoid", "relu"),
        utkface="",
        hidden=3,
        n_modes=2,
        chains_per_mode=2,
        n_adam=20,
        n_lbfgs=10,
        n_lanczos=5,
        fractions=(0.25, 0.75),
        n_steps=(2, 3),
        equal_fractions=(0.5,),
        equal_n_steps=2,
        n_samples=3,
    ),
    "book": Table1Settings(),
    "paper": Table1Settings(
        hidden=50,
        n_modes=16,
        chains_per_mode=4,
        n_adam=2000,
        n_lbfgs=2000,
        n_lanczos=50,
        fractions=tuple(float(f) for f in np.round(np.geomspace(1 / 24, 1.25, 12), 4)),
        n_steps=(10, 30, 100),
        equal_fractions=(1 / 8, 1 / 4, 1 / 2, 3 / 4, 1.0),
        n_samples=200,
    ),
}


class RealProblem(NamedTuple):
    """The data and the networks' common noise level of a run (no randomness)."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    y_sd: float
    noise_sd: float
    linear_mse: float
    ols_mse: float
    null_mse: float


def table1_problem(settings: Table1Settings) -> RealProblem:
    """Load the data as chapter 8 does (seed 0, a quarter for testing, y standardised).

    The noise standard deviation of the networks is that of the least-squares residuals;
    ``linear_mse`` is the test MSE of Bayesian linear regression (prior ``N(0, 1)``,
    that noise), ``ols_mse`` that of least squares, ``null_mse`` that of the training
    mean.
    """
    path = settings.utkface
    if path is None:
        path = os.environ.get(UTKFACE_ENV) or ""
    if path:
        raw = load_real_data(
            path,
            seed=0,
            test_fraction=0.25,
            image_size=int(settings.image_size),
            n=int(settings.utkface_n),
        )
    else:  # "" means diabetes, whatever the environment says
        raw = diabetes(seed=0, test_fraction=0.25, standardize_target=False)
    data, _, y_sd = standardize_y(raw)
    x_train, y_train, x_test, y_test = (
        data.x_train,
        data.y_train,
        data.x_test,
        data.y_test,
    )
    n_train = x_train.shape[0]
    design_train = np.column_stack([np.ones(n_train), x_train])
    design_test = np.column_stack([np.ones(len(y_test)), x_test])
    coef, *_ = np.linalg.lstsq(design_train, y_train, rcond=None)
    residual = y_train - design_train @ coef
    noise_sd = float(np.sqrt(residual @ residual / (n_train - design_train.shape[1])))
    precision = design_train.T @ design_train / noise_sd**2 + np.eye(
        design_train.shape[1]
    )
    blr_mean = np.linalg.solve(precision, design_train.T @ y_train / noise_sd**2)
    return RealProblem(
        name=raw.name,
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        y_sd=float(y_sd),
        noise_sd=noise_sd,
        linear_mse=float(np.mean((y_test - design_test @ blr_mean) ** 2)),
        ols_mse=float(np.mean((y_test - design_test @ coef) ** 2)),
        null_mse=float(np.mean(y_test**2)),
    )


def _potential(s: Table1Settings, problem: RealProblem, model: str) -> MLPPotential:
    return problem_potential(problem, s.hidden, model)


class Table1Result(NamedTuple):
    """Output of :func:`run_table1`: numpy arrays (saved and loaded without pickle).

    ``A`` networks, ``S`` step sizes, ``K`` numbers of steps, ``E`` fractions of the own
    limit, ``C`` chains (``M`` modes of ``C / M`` consecutive chains), ``N``
    transitions, ``P`` test points.

    Attributes
    ----------
    models:
        ``(A,)``. ``data_name``: 0-d string (``UTKFace ...`` or ``diabetes ...``).
    step_sizes, n_steps, equal_fractions:
        ``(S,)``, ``(K,)``, ``(E,)``: the grids.
    accept_prob, divergent:
        ``(A, S, K, C, N)``: every transition of the common grid.
    pred_mean:
        ``(A, S, K, M, P)``: each mode's predictive mean on the test set (over its
        chains and transitions); the test MSE of a mode is
        ``mean((pred_mean - y_test)**2)``.
    equal_step_sizes:
        ``(A, E, C)``; ``equal_accept_prob``, ``equal_divergent``: ``(A, E, C, N)``;
        ``equal_pred_mean``: ``(A, E, M, P)``.
    stability_limit, start_potential:
        ``(A, C)`` at the equilibrium positions; ``mode_potential``: ``(A, M)``.
    start_position:
        ``(A, C, dim)``: the equilibrium positions every setting starts from.
    equilibrium_pred_mean:
        ``(A, M, P)``: each mode's mean prediction at its equilibrium positions.
    equilibrium_transitions, equilibrium_converged:
        ``(A,)``.
    y_test:
        ``(P,)``, standardised. ``y_sd``, ``noise_sd``, ``linear_mse``, ``ols_mse``,
        ``null_mse``: 0-d (see :func:`table1_problem`).
    dim, seed, n_modes, chains, n_samples:
        Scalars (0-d arrays).
    """

    models: np.ndarray
    data_name: np.ndarray
    step_sizes: np.ndarray
    n_steps: np.ndarray
    equal_fractions: np.ndarray
    accept_prob: np.ndarray
    divergent: np.ndarray
    pred_mean: np.ndarray
    equal_step_sizes: np.ndarray
    equal_accept_prob: np.ndarray
    equal_divergent: np.ndarray
    equal_pred_mean: np.ndarray
    stability_limit: np.ndarray
    start_potential: np.ndarray
    start_position: np.ndarray
    mode_potential: np.ndarray
    equilibrium_pred_mean: np.ndarray
    equilibrium_transitions: np.ndarray
    equilibrium_converged: np.ndarray
    y_test: np.ndarray
    y_sd: np.ndarray
    noise_sd: np.ndarray
    linear_mse: np.ndarray
    ols_mse: np.ndarray
    null_mse: np.ndarray
    dim: np.ndarray
    seed: np.ndarray
    n_modes: np.ndarray
    chains: np.ndarray
    n_samples: np.ndarray


def _check_settings(s: Table1Settings) -> None:
    if not isinstance(s, Table1Settings):
        raise TypeError(f"settings must be a Table1Settings; got {type(s).__name__}")
    check_models(s, TABLE1_MODELS)
    if s.utkface is not None and not isinstance(s.utkface, str):
        raise TypeError(
            f"settings.utkface must be a folder name, '' or None; got {s.utkface!r}"
        )
    check_positive(s, ("fractions", "equal_fractions"))
    if len(s.n_steps) < 1 or any(
        isinstance(L, bool) or int(L) != L or L < 1 for L in s.n_steps
    ):
        raise ValueError(
            f"settings.n_steps must be positive integers; got {s.n_steps!r}"
        )
    check_counts(
        s,
        (
            "utkface_n",
            "image_size",
            "hidden",
            "n_modes",
            "chains_per_mode",
            "n_lanczos",
            "equal_n_steps",
            "n_samples",
        ),
        ("n_adam", "n_lbfgs"),
    )


def table1_cost(settings: Table1Settings) -> int:
    """Chain-transitions of the run: ``A * (S * K + E) * C * N`` of the measurements,
    plus each network's equilibration at its upper bound (it stops when ``U`` levels
    off; the bar moves during it and jumps to the bound at its end).
    """
    s = settings
    measured = (len(s.fractions) * len(s.n_steps) + len(s.equal_fractions)) * s.chains
    return len(s.models) * (measured * int(s.n_samples) + _equilibration_cost(s))


def _equilibration_cost(s: Table1Settings) -> int:
    # equilibrate's defaults: n_adapt 20, block 20, max_blocks 10
    return equilibration_budget(s.chains, block=20, max_blocks=10)


def _per_mode(values: np.ndarray, s: Table1Settings) -> np.ndarray:
    """Mean over the chains of each mode, last axis ``C`` -> ``M``."""
    return values.reshape(
        values.shape[:-1] + (int(s.n_modes), int(s.chains_per_mode))
    ).mean(axis=-1)


def _equilibrium_piece(
    s: Table1Settings, model: str, *, progress=None
) -> dict[str, np.ndarray]:
    """Chapter 8: optimise from shared starts, equilibrate, stability limits."""
    problem = table1_problem(s)
    pot = _potential(s, problem, model)
    M = int(s.n_modes)
    # the k-th mode of every activation starts from the same point (the same draw for
    # every model: the prior of the sigmoid network has the same dimension and scale)
    inits = 0.5 * pot.prior_draw(chains=M, rng=np.random.default_rng([int(s.seed), 0]))
    bar = BoundedProgress(progress, _equilibration_cost(s))
    e = equilibrate(
        pot,
        s.chains,
        rng=np.random.default_rng([int(s.seed), 1]),
        n_modes=M,
        initial_position=inits,
        n_adam=int(s.n_adam),
        n_lbfgs=int(s.n_lbfgs),
        callback=bar.per_transition(s.chains),
    )
    bar.finish()
    limit = stability_limit(
        pot,
        e.position,
        n_iter=int(s.n_lanczos),
        rng=np.random.default_rng([int(s.seed), 2]),
    )
    pred = pot.predict(e.position, problem.x_test)  # (C, P)
    return {
        "position": np.asarray(e.position, dtype=float),
        "stability_limit": limit,
        "start_potential": pot(e.position),
        "mode_potential": pot(e.mode_position),
        "equilibrium_pred_mean": _per_mode(pred.T, s).T,
        "equilibrium_transitions": np.array(int(e.n_transitions)),
        "equilibrium_converged": np.array(bool(e.converged)),
    }


_EQ_FIELDS = (
    "position",
    "stability_limit",
    "start_potential",
    "mode_potential",
    "equilibrium_pred_mean",
    "equilibrium_transitions",
    "equilibrium_converged",
)


def _run_settings(
    s: Table1Settings,
    pot: MLPPotential,
    x_test: np.ndarray,
    start: np.ndarray,
    eps: np.ndarray,
    n_steps: int,
    rng: np.random.Generator,
    progress,
) -> dict[str, np.ndarray]:
    """HMC from ``start`` for every row of ``eps`` (settings, C) in one batch.

    As chapter 8 runs each group of settings.
    """
    n_set, C, N, M = eps.shape[0], s.chains, int(s.n_samples), int(s.n_modes)
    res = sample(
        pot,
        np.tile(start, (n_set, 1)),
        step_size=eps.ravel(),
        n_steps=n_steps,
        n_samples=N,
        rng=rng,
        callback=per_transition(progress, n_set * C),
    )
    pred = pot.predict(res.positions, x_test)  # (settings * C, N, P)
    pred = pred.reshape(n_set, M, int(s.chains_per_mode) * N, -1).mean(axis=2)
    return {
        "accept_prob": res.accept_prob.reshape(n_set, C, N),
        "divergent": divergent(res).reshape(n_set, C, N),
        "pred_mean": pred,
    }


def _grid_piece(
    s: Table1Settings,
    model: str,
    start: np.ndarray,
    limits: np.ndarray,
    step_sizes: np.ndarray,
    *,
    progress=None,
) -> dict[str, np.ndarray]:
    """One network: the common grid (one stream for all ``L``), then the fractions of
    the own limit."""
    problem = table1_problem(s)
    pot = _potential(s, problem, model)
    C = s.chains
    rng = np.random.default_rng(
        [int(s.seed), 3]
    )  # the same stream for every activation
    runs = [
        _run_settings(
            s,
            pot,
            problem.x_test,
            start,
            np.repeat(step_sizes[:, None], C, axis=1),
            int(L),
            rng,
            progress,
        )
        for L in s.n_steps
    ]
    mode = np.repeat(np.arange(int(s.n_modes)), int(s.chains_per_mode))
    eps_equal = (
        np.asarray(s.equal_fractions, dtype=float)[:, None]
        * _per_mode(limits, s)[mode][None, :]
    )
    equal = _run_settings(
        s,
        pot,
        problem.x_test,
        start,
        eps_equal,
        int(s.equal_n_steps),
        np.random.default_rng([int(s.seed), 4]),
        progress,
    )
    out = {k: np.stack([r[k] for r in runs], axis=1) for k in runs[0]}  # (S, K, ...)
    out.update({f"equal_{k}": v for k, v in equal.items()})
    out["equal_step_sizes"] = eps_equal
    return out


_GRID_FIELDS = (
    "accept_prob",
    "divergent",
    "pred_mean",
    "equal_accept_prob",
    "equal_divergent",
    "equal_pred_mean",
    "equal_step_sizes",
)


def run_table1(
    settings: Table1Settings,
    *,
    seed: int | None = None,
    progress: Callable[[int], object] | None = None,
    parts: str | os.PathLike | None = None,
    client: Any | None = None,
) -> Table1Result:
    """Run chapter 8's experiment (Table 1 and the real-data panel of Figure 2).

    One piece per network equilibrates it; after all of them, the common step sizes are
    fixed from the largest median stability limit, and one piece per network runs the
    grid and the fractions of its own limit. Parameters as in :func:`~.fig2.run_fig2`;
    ``progress`` counts chain-transitions (:func:`table1_cost`).
    """
    _check_settings(settings)
    if (
        settings.utkface is None
    ):  # resolved here, so that every worker loads the same data
        settings = settings._replace(utkface=os.environ.get(UTKFACE_ENV) or "")
    s, run = start_run(
        "table1", settings, seed=seed, parts=parts, client=client, progress=progress
    )
    problem = table1_problem(s)
    eq = run_pieces(
        [
            Piece(
                f"equilibrium-{m}",
                _equilibrium_piece,
                (s, m),
                _EQ_FIELDS,
                _equilibration_cost(s),
            )
            for m in s.models
        ],
        **run,
    )
    eq = [eq[f"equilibrium-{m}"] for m in s.models]
    eps_ref = max(float(np.median(e["stability_limit"])) for e in eq)
    step_sizes = np.array(
        [float(f"{e:.2g}") for e in eps_ref * np.asarray(s.fractions, dtype=float)]
    )
    cost = (
        (len(s.fractions) * len(s.n_steps) + len(s.equal_fractions))
        * s.chains
        * int(s.n_samples)
    )
    grid = run_pieces(
        [
            Piece(
                f"grid-{m}",
                _grid_piece,
                (s, m, e["position"], e["stability_limit"], step_sizes),
                _GRID_FIELDS,
                cost,
            )
            for m, e in zip(s.models, eq)
        ],
        **run,
    )
    grid = [grid[f"grid-{m}"] for m in s.models]
    return Table1Result(
        models=np.array(s.models, dtype=str),
        data_name=np.array(problem.name, dtype=str),
        step_sizes=step_sizes,
        n_steps=np.asarray(s.n_steps, dtype=int),
        equal_fractions=np.asarray(s.equal_fractions, dtype=float),
        **{k: np.stack([g[k] for g in grid]) for k in _GRID_FIELDS},
        **{k: np.stack([e[k] for e in eq]) for k in _EQ_FIELDS if k != "position"},
        start_position=np.stack([e["position"] for e in eq]),
        y_test=problem.y_test,
        y_sd=np.array(problem.y_sd),
        noise_sd=np.array(problem.noise_sd),
        linear_mse=np.array(problem.linear_mse),
        ols_mse=np.array(problem.ols_mse),
        null_mse=np.array(problem.null_mse),
        dim=np.array(int(eq[0]["position"].shape[1])),
        seed=np.array(int(s.seed)),
        n_modes=np.array(int(s.n_modes)),
        chains=np.array(s.chains),
        n_samples=np.array(int(s.n_samples)),
    )


def save_table1(result: Table1Result, path: str | os.PathLike) -> pathlib.Path:
    """Write ``result`` to ``path`` (``.npz``) atomically (:func:`.save_result`)."""
    return save_result(result, path, Table1Result)


def load_table1(path: str | os.PathLike) -> Table1Result:
    """Read a file written by :func:`save_table1` (or the CLI), without pickle."""
    return load_result(path, Table1Result, "a Table 1 result file")
