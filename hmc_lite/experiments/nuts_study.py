"""NUTS on Bayesian networks (chapter 11): does the No-U-Turn sampler rescue ReLU?

Each network (an activation on one data set) is equilibrated at several modes as in
Part III; from those states NUTS runs with Stan's window adaptation
(:func:`hmc_lite.nuts.adapt`) in several *configurations*: a diagonal mass at the
target acceptance 0.8 for every network, and, for chosen networks, Stan's stricter
0.95, the identity mass, and plain HMC with a smaller step size and more steps (the
remedy the paper's analysis suggests). A configuration records every transition's
tree depth, gradient evaluations, acceptance statistic and divergence, the
predictions at a few tracked inputs (for the ESS of a predictive quantity), each
mode's test RMSE, and the linear stability limit of leapfrog with the configuration's
mass at the final positions.

The data set is one per run: ``"synthetic"`` (chapter 7's data) or ``"real"``
(chapter 8's: UTKFace when the reader has it, else the diabetes data). One piece per
network; the pieces are independent and run here or on a Dask cluster
(:mod:`.runner`).
"""

from __future__ import annotations

import math
import os
import pathlib
from typing import Any, Callable, NamedTuple

import numpy as np

from .. import nuts
from ..datasets import UTKFACE_ENV, synthetic
from ..diagnostics import stability_limit
from ..equilibrium import equilibrate
from ..kernel import sample
from ..models import ACTIVATIONS, MLPPotential
from ..potential import WhitenedPotential
from ._shared import (
    BoundedProgress,
    check_counts,
    equilibration_budget,
    problem_potential,
)
from .runner import Piece, run_pieces, start_run
from .store import load_result, save_result
from .table1 import Table1Settings, table1_problem

__all__ = [
    "NUTS_SCALES",
    "NutsSettings",
    "NutsConfig",
    "NutsResult",
    "nuts_configs",
    "nuts_problem",
    "nuts_potential",
    "nuts_cost",
    "run_nuts",
    "save_nuts",
    "load_nuts",
]

_PROBLEMS = ("synthetic", "real")


class NutsSettings(NamedTuple):
    """Everything that defines one run of the NUTS experiment.

    Attributes
    ----------
    problem:
        ``"synthetic"`` (100 points of ``datasets.synthetic(seed=0)``, noise sd 0.1)
        or ``"real"`` (chapter 8's data and noise level, see
        :func:`~.table1.table1_problem`; ``utkface`` as there).
    models:
        Activations (names of :data:`hmc_lite.ACTIVATIONS`); each runs NUTS with a
        diagonal mass at target acceptance 0.8.
    strict_models, identity_models, remedy_models:
        Members of ``models`` that also run NUTS at target ``strict_target``, NUTS
        with the identity mass (target 0.8), and plain HMC with the diagonal mass
        NUTS adapted, ``remedy_fraction`` times its step size and
        ``ceil((2^max_tree_depth - 1) / remedy_fraction)`` steps (the trajectory
        length of a NUTS transition at the depth cap), for ``n_draws`` transitions.
    beta:
        Sharpness of ``"softplus"``.
    hidden:
        Width of the one hidden layer.
    n_modes, chains_per_mode:
        Modes per network (the replicates; the ``k``-th optimisation of every
        network starts from the same point) and chains per mode.
    n_adam, n_lbfgs:
        Optimiser iterations per mode (:func:`hmc_lite.equilibrate`).
    eq_path_length, eq_n_adapt, block, max_blocks:
        The equilibration's ``path_length``, ``n_adapt``, ``block`` and
        ``max_blocks`` (:func:`hmc_lite.equilibrate`; the defaults are its own; the
        ``eq_`` prefix where NUTS has a field of that name).
    max_tree_depth, n_adapt, n_draws:
        NUTS's depth cap; window-adaptation transitions; sampling transitions.
    init_buffer, term_buffer, base_window:
        The windows of :func:`hmc_lite.nuts.adapt`.
    n_track:
        Tracked inputs whose predictions give the ESS: evenly spaced in ``[0, 4]``
        (synthetic) or the first ``n_track`` test points (real).
    thin:
        Every ``thin``-th draw enters the test RMSE.
    n_lanczos:
        Iterations of the stability-limit estimate.
    utkface:
        As :attr:`~.table1.Table1Settings.utkface` (``problem="real"`` only).
    seed:
        Seed of every random number: ``default_rng([seed, s, ...])`` with ``s`` = 0
        (the starting points of the optimisations), 1 (equilibration), 3
        (adaptation), 4 (sampling), 5 (stability limits), each stream also keyed by
        the configuration (the network's index in ``models``, plus 10 for the
        strict target, 20 for the identity mass, 30 for the remedy).
    """

    problem: str = "synthetic"
    models: tuple[str, ...] = (
        "sigmoid",
        "relu",
        "leaky_relu",
        "softplus",
        "silu",
        "gelu",
    )
    strict_models: tuple[str, ...] = ("sigmoid", "relu")
    identity_models: tuple[str, ...] = ("sigmoid", "relu")
    remedy_models: tuple[str, ...] = ("relu",)
    strict_target: float = 0.95
    remedy_fraction: float = 0.5
    beta: float = 5.0
    hidden: int = 20
    n_modes: int = 6
    chains_per_mode: int = 2
    n_adam: int = 1000
    n_lbfgs: int = 500
    eq_path_length: float = 0.3
    eq_n_adapt: int = 20
    block: int = 20
    max_blocks: int = 10
    max_tree_depth: int = 6
    n_adapt: int = 120
    n_draws: int = 80
    init_buffer: int = 25
    term_buffer: int = 25
    base_window: int = 25
    n_track: int = 3
    thin: int = 4
    n_lanczos: int = 30
    utkface: str | None = None
    seed: int = 0

    @property
    def chains(self) -> int:
        """Chains per network, ``n_modes * chains_per_mode``."""
        return int(self.n_modes) * int(self.chains_per_mode)


class NutsConfig(NamedTuple):
    """One configuration of a network: which sampler, which mass, which target."""

    model: str
    sampler: str  # "nuts" or "hmc"
    mass: str  # "diag" or "identity"
    target: float
    stream: int


def nuts_configs(settings: NutsSettings) -> list[NutsConfig]:
    """The configurations of a run, network by network, in the order of ``models``."""
    s, out = settings, []
    for i, m in enumerate(s.models):
        out.append(NutsConfig(m, "nuts", "diag", 0.8, i))
        if m in s.strict_models:
            out.append(NutsConfig(m, "nuts", "diag", float(s.strict_target), 10 + i))
        if m in s.identity_models:
            out.append(NutsConfig(m, "nuts", "identity", 0.8, 20 + i))
        if m in s.remedy_models:
            out.append(NutsConfig(m, "hmc", "diag", 0.8, 30 + i))
    return out


_ALL = ("sigmoid", "relu", "leaky_relu", "softplus", "tanh", "silu", "gelu")

#: Named scales. ``book`` is chapter 11's synthetic-data run: six activations (all but
#: tanh, for the time budget) with 20 hidden units, 6 modes of 2 chains, depth cap 6,
#: 120 adaptation and 80 sampling transitions; target 0.95 and the identity mass for
#: sigmoid and ReLU, the remedy for ReLU. ``book-real`` is its real-data run, sigmoid
#: against ReLU. The paper has no NUTS
#: experiment (``/work/shared/PAPER.md``): ``paper`` and ``paper-real`` are our larger
#: runs of the same design on 50 hidden units (the paper's ``[1, 50, 1]`` on the
#: synthetic data) with NUTS's usual depth cap 10, 16 modes of 4 chains, Stan's default
#: 1000 adaptation transitions and 1000 draws. ``tiny`` is for tests.
NUTS_SCALES: dict[str, NutsSettings] = {
    "tiny": NutsSettings(
        models=("sigmoid", "relu"),
        strict_models=("relu",),
        identity_models=("relu",),
        remedy_models=("relu",),
        hidden=3,
        n_modes=2,
        chains_per_mode=2,
        n_adam=20,
        n_lbfgs=10,
        eq_path_length=0.02,
        eq_n_adapt=3,
        block=3,
        max_blocks=20,
        max_tree_depth=3,
        n_adapt=12,
        n_draws=6,
        init_buffer=3,
        term_buffer=3,
        base_window=3,
        thin=2,
        n_lanczos=5,
    ),
    "book": NutsSettings(),
    "book-real": NutsSettings(
        problem="real",
        models=("sigmoid", "relu"),
        strict_models=(),
        identity_models=(),
        remedy_models=(),
    ),
}
_PAPER = dict(
    hidden=50,
    n_modes=16,
    chains_per_mode=4,
    n_adam=2000,
    n_lbfgs=2000,
    max_tree_depth=10,
    n_adapt=1000,
    n_draws=1000,
    init_buffer=75,
    term_buffer=50,
    base_window=25,
    thin=10,
    n_lanczos=50,
)
NUTS_SCALES["paper"] = NutsSettings(
    models=_ALL,
    strict_models=("sigmoid", "relu", "leaky_relu"),
    identity_models=("sigmoid", "relu", "leaky_relu"),
    remedy_models=("relu", "leaky_relu"),
    **_PAPER,
)
NUTS_SCALES["paper-real"] = NutsSettings(
    problem="real",
    models=("sigmoid", "relu", "leaky_relu", "softplus", "silu", "gelu"),
    strict_models=("sigmoid", "relu"),
    identity_models=("sigmoid", "relu"),
    remedy_models=("relu",),
    **_PAPER,
)


class _Problem(NamedTuple):
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    x_track: np.ndarray
    noise_sd: float


def nuts_problem(settings: NutsSettings) -> _Problem:
    """The data of a run, its noise level and the tracked inputs (no randomness)."""
    s = settings
    if s.problem == "synthetic":
        data = synthetic(n=100, seed=0)
        track = np.linspace(0.5, 3.5, int(s.n_track))[:, None]
        return _Problem(
            data.name, data.x_train, data.y_train, data.x_test, data.y_test, track, 0.1
        )
    real = table1_problem(Table1Settings(utkface=s.utkface))
    return _Problem(
        real.name,
        real.x_train,
        real.y_train,
        real.x_test,
        real.y_test,
        real.x_test[: int(s.n_track)],
        real.noise_sd,
    )


def nuts_potential(settings: NutsSettings, model: str) -> MLPPotential:
    """The posterior of activation ``model`` in a run with these settings."""
    return _potential(settings, nuts_problem(settings), model)


def _potential(s: NutsSettings, problem: _Problem, model: str) -> MLPPotential:
    options = {"beta": float(s.beta)} if model == "softplus" else {}
    return problem_potential(problem, s.hidden, model, **options)


class NutsResult(NamedTuple):
    """Output of :func:`run_nuts`: numpy arrays (saved and loaded without pickle).

    ``A`` networks, ``K`` configurations (:func:`nuts_configs`), ``C`` chains (``M``
    modes of ``C / M`` consecutive chains), ``N`` sampling transitions, ``T`` tracked
    inputs, ``D`` parameters.

    Attributes
    ----------
    problem, data_name:
        0-d strings.
    models:
        ``(A,)``. ``config_model``, ``config_sampler``, ``config_mass``: ``(K,)``
        strings; ``config_target``: ``(K,)``.
    step_size:
        ``(K,)``: the adapted step size (NUTS) or the remedy's (HMC).
    n_steps:
        ``(K,)``: the remedy's leapfrog steps per transition (0 for NUTS).
    inverse_mass:
        ``(K, D)``: the diagonal of ``M^-1`` used (ones for the identity mass).
    tree_depth, n_grad_evals, accept_prob, divergent:
        ``(K, C, N)``: every sampling transition (tree depth 0 for HMC; its
        acceptance statistic is the Metropolis probability).
    adapt_divergent, adapt_tree_depth:
        ``(K,)``: divergences and the mean tree depth in the second half of the
        adaptation (0 for HMC).
    tracked:
        ``(K, C, N, T)``: the predictions at ``x_track`` after every transition.
    rmse:
        ``(K, M)``: test RMSE of each mode's posterior mean prediction (every
        ``thin``-th draw of its chains).
    stability_limit:
        ``(K, C)``: leapfrog's linear stability limit with the configuration's mass
        at the final positions.
    final_position:
        ``(K, C, D)``.
    equilibrium_position:
        ``(A, C, D)``; ``equilibrium_converged``, ``equilibrium_transitions``:
        ``(A,)``.
    x_track:
        ``(T, d_in)``. ``y_test``: ``(P,)``. ``noise_sd``, ``dim``, ``seed``,
        ``n_modes``, ``chains``, ``max_tree_depth``, ``hidden``, ``n_adapt``: 0-d.
    """

    problem: np.ndarray
    data_name: np.ndarray
    models: np.ndarray
    config_model: np.ndarray
    config_sampler: np.ndarray
    config_mass: np.ndarray
    config_target: np.ndarray
    step_size: np.ndarray
    n_steps: np.ndarray
    inverse_mass: np.ndarray
    tree_depth: np.ndarray
    n_grad_evals: np.ndarray
    accept_prob: np.ndarray
    divergent: np.ndarray
    adapt_divergent: np.ndarray
    adapt_tree_depth: np.ndarray
    tracked: np.ndarray
    rmse: np.ndarray
    stability_limit: np.ndarray
    final_position: np.ndarray
    equilibrium_position: np.ndarray
    equilibrium_converged: np.ndarray
    equilibrium_transitions: np.ndarray
    x_track: np.ndarray
    y_test: np.ndarray
    noise_sd: np.ndarray
    dim: np.ndarray
    seed: np.ndarray
    n_modes: np.ndarray
    chains: np.ndarray
    max_tree_depth: np.ndarray
    hidden: np.ndarray
    n_adapt: np.ndarray


def _check_settings(s: NutsSettings) -> None:
    if not isinstance(s, NutsSettings):
        raise TypeError(f"settings must be a NutsSettings; got {type(s).__name__}")
    if s.problem not in _PROBLEMS:
        raise ValueError(
            f"settings.problem must be one of {_PROBLEMS}; got {s.problem!r}"
        )
    if s.utkface is not None and not isinstance(s.utkface, str):
        raise TypeError(
            f"settings.utkface must be a folder name, '' or None; got {s.utkface!r}"
        )
    models = tuple(s.models)
    if not models or any(m not in ACTIVATIONS for m in models):
        raise ValueError(
            f"settings.models must be names from {ACTIVATIONS}; got {s.models!r}"
        )
    if len(set(models)) != len(models):
        raise ValueError(f"settings.models has repeated names: {s.models!r}")
    for field in ("strict_models", "identity_models", "remedy_models"):
        extra = [m for m in getattr(s, field) if m not in models]
        if extra:
            raise ValueError(f"settings.{field} must be among settings.models; {extra}")
    if not 0 < s.strict_target < 1:
        raise ValueError(
            f"settings.strict_target must lie in (0, 1); got {s.strict_target!r}"
        )
    for field in ("remedy_fraction", "beta", "eq_path_length"):
        value = getattr(s, field)
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"settings.{field} must be positive; got {value!r}")
    check_counts(
        s,
        (
            "hidden",
            "n_modes",
            "chains_per_mode",
            "max_tree_depth",
            "n_adapt",
            "n_draws",
            "n_track",
            "thin",
            "n_lanczos",
            "eq_n_adapt",
            "max_blocks",
        ),
        ("n_adam", "n_lbfgs", "init_buffer", "term_buffer", "base_window"),
        at_least={"block": 2},  # the stop rule compares two blocks' means
    )


def _equilibration_cost(s: NutsSettings) -> int:
    return equilibration_budget(
        s.chains, int(s.block), int(s.max_blocks), int(s.eq_n_adapt)
    )


def _config_cost(s: NutsSettings, config: NutsConfig) -> int:
    """Chain-transitions of one configuration: adaptation (NUTS only), then sampling."""
    transitions = int(s.n_draws) + (int(s.n_adapt) if config.sampler == "nuts" else 0)
    return s.chains * transitions


def nuts_cost(settings: NutsSettings) -> int:
    """Chain-transitions of the run: adaptation and sampling of every configuration,
    plus each network's equilibration at its upper bound (see
    :class:`~._shared.BoundedProgress`). The remedy's transitions are longer: they
    count once each all the same."""
    s = settings
    return len(s.models) * _equilibration_cost(s) + sum(
        _config_cost(s, c) for c in nuts_configs(s)
    )


def _remedy_steps(s: NutsSettings) -> int:
    return math.ceil((2 ** int(s.max_tree_depth) - 1) / float(s.remedy_fraction))


def _run_config(
    s: NutsSettings,
    pot: MLPPotential,
    problem: _Problem,
    start: np.ndarray,
    config: NutsConfig,
    adapted: dict[str, Any],
    progress,
) -> dict[str, np.ndarray]:
    """Adapt and sample one configuration from the equilibrium positions ``start``."""
    C, N, M = s.chains, int(s.n_draws), int(s.n_modes)
    seed, k = int(s.seed), int(config.stream)
    bar = BoundedProgress(progress, _config_cost(s, config))
    tick = bar.per_transition(C)
    late = slice(int(s.n_adapt) // 2, None)
    if config.sampler == "nuts":
        ad = nuts.adapt(
            pot,
            start,
            rng=np.random.default_rng([seed, 3, k]),
            n_adapt=int(s.n_adapt),
            target_accept=float(config.target),
            max_tree_depth=int(s.max_tree_depth),
            adapt_mass=config.mass == "diag",
            init_buffer=int(s.init_buffer),
            term_buffer=int(s.term_buffer),
            base_window=int(s.base_window),
            callback=tick,
        )
        eps, inv_mass = float(ad.step_size[0]), np.asarray(ad.inverse_mass, float)
        run = nuts.sample(
            pot,
            ad.state.position,
            eps,
            N,
            rng=np.random.default_rng([seed, 4, k]),
            max_tree_depth=int(s.max_tree_depth),
            inverse_mass=None if config.mass == "identity" else inv_mass,
            callback=tick,
        )
        info = run.info
        depth, grads = info.tree_depth, info.n_grad_evals
        accept, div = info.accept_prob, info.is_divergent
        adapt_div = int(ad.info.is_divergent[:, late].sum())
        adapt_depth = float(ad.info.tree_depth[:, late].mean())
        n_steps = 0
        if config.stream < 10:  # the network's first configuration: diagonal, 0.8
            adapted.update(eps=eps, inv_mass=inv_mass, position=ad.state.position)
    else:  # the remedy: plain HMC with NUTS's mass, a smaller step, more steps
        n_steps = _remedy_steps(s)
        eps = float(s.remedy_fraction) * adapted["eps"]
        inv_mass = adapted["inv_mass"]
        run = sample(
            pot,
            adapted["position"],
            eps,
            n_steps,
            N,
            rng=np.random.default_rng([seed, 4, k]),
            inverse_mass=inv_mass,
            callback=tick,
        )
        depth = np.zeros((C, N), dtype=int)
        grads = np.full((C, N), n_steps)
        accept, div = run.accept_prob, run.is_divergent
        adapt_div, adapt_depth = 0, 0.0
    bar.finish()
    scale = np.sqrt(inv_mass)
    final = run.final_state.position
    limit = stability_limit(
        WhitenedPotential(pot, scale),
        final / scale,
        n_iter=int(s.n_lanczos),
        rng=np.random.default_rng([seed, 5, k]),
    )
    pred = pot.predict(run.positions[:, :: int(s.thin)], problem.x_test)  # (C, n, P)
    mode_mean = pred.reshape(M, -1, pred.shape[-1]).mean(axis=1)
    return {
        "step_size": np.array(eps),
        "n_steps": np.array(n_steps),
        "inverse_mass": inv_mass,
        "tree_depth": np.asarray(depth, dtype=int),
        "n_grad_evals": np.asarray(grads, dtype=int),
        "accept_prob": np.asarray(accept, dtype=float),
        "divergent": np.asarray(div, dtype=bool),
        "adapt_divergent": np.array(adapt_div),
        "adapt_tree_depth": np.array(adapt_depth),
        "tracked": pot.predict(run.positions, problem.x_track),
        "rmse": np.sqrt(np.mean((mode_mean - problem.y_test) ** 2, axis=1)),
        "stability_limit": limit,
        "final_position": final,
    }


_CONFIG_FIELDS = (
    "step_size",
    "n_steps",
    "inverse_mass",
    "tree_depth",
    "n_grad_evals",
    "accept_prob",
    "divergent",
    "adapt_divergent",
    "adapt_tree_depth",
    "tracked",
    "rmse",
    "stability_limit",
    "final_position",
)
_EQ_FIELDS = (
    "equilibrium_position",
    "equilibrium_converged",
    "equilibrium_transitions",
)


def _network_piece(
    s: NutsSettings, model: str, *, progress=None
) -> dict[str, np.ndarray]:
    """One network: equilibrate at ``n_modes`` modes, then run its configurations."""
    problem = nuts_problem(s)
    pot = _potential(s, problem, model)
    M, seed = int(s.n_modes), int(s.seed)
    # the k-th optimisation of every network starts from the same point: every
    # activation has the same parameters and prior, so the same draw
    inits = 0.5 * pot.prior_draw(M, rng=np.random.default_rng([seed, 0]))
    bar = BoundedProgress(progress, _equilibration_cost(s))
    eq = equilibrate(
        pot,
        s.chains,
        rng=np.random.default_rng([seed, 1]),
        n_modes=M,
        initial_position=inits,
        n_adam=int(s.n_adam),
        n_lbfgs=int(s.n_lbfgs),
        path_length=float(s.eq_path_length),
        n_adapt=int(s.eq_n_adapt),
        block=int(s.block),
        max_blocks=int(s.max_blocks),
        callback=bar.per_transition(s.chains),
    )
    bar.finish()
    adapted: dict[str, Any] = {}
    runs = [
        _run_config(s, pot, problem, eq.position, c, adapted, progress)
        for c in nuts_configs(s)
        if c.model == model
    ]
    out = {k: np.stack([r[k] for r in runs]) for k in _CONFIG_FIELDS}
    out.update(
        equilibrium_position=np.asarray(eq.position, dtype=float),
        equilibrium_converged=np.array(bool(eq.converged)),
        equilibrium_transitions=np.array(int(eq.n_transitions)),
    )
    return out


def run_nuts(
    settings: NutsSettings,
    *,
    seed: int | None = None,
    progress: Callable[[int], object] | None = None,
    parts: str | os.PathLike | None = None,
    client: Any | None = None,
) -> NutsResult:
    """Run chapter 11's experiment: one piece per network (:func:`_network_piece`).

    Parameters as in :func:`~.fig2.run_fig2`; ``progress`` counts chain-transitions
    (:func:`nuts_cost`).
    """
    _check_settings(settings)
    if settings.problem == "real" and settings.utkface is None:
        # resolved here, so that every worker loads the same data
        settings = settings._replace(utkface=os.environ.get(UTKFACE_ENV) or "")
    s, run = start_run(
        "nuts", settings, seed=seed, parts=parts, client=client, progress=progress
    )
    problem = nuts_problem(s)
    configs = nuts_configs(s)
    fields = _CONFIG_FIELDS + _EQ_FIELDS
    pieces = [
        Piece(
            f"network-{m}",
            _network_piece,
            (s, m),
            fields,
            _equilibration_cost(s)
            + sum(_config_cost(s, c) for c in configs if c.model == m),
        )
        for m in s.models
    ]
    done = run_pieces(pieces, **run)
    nets = [done[f"network-{m}"] for m in s.models]
    return NutsResult(
        problem=np.array(s.problem, dtype=str),
        data_name=np.array(problem.name, dtype=str),
        models=np.array(s.models, dtype=str),
        config_model=np.array([c.model for c in configs], dtype=str),
        config_sampler=np.array([c.sampler for c in configs], dtype=str),
        config_mass=np.array([c.mass for c in configs], dtype=str),
        config_target=np.array([c.target for c in configs], dtype=float),
        **{k: np.concatenate([n[k] for n in nets]) for k in _CONFIG_FIELDS},
        **{k: np.stack([n[k] for n in nets]) for k in _EQ_FIELDS},
        x_track=problem.x_track,
        y_test=problem.y_test,
        noise_sd=np.array(problem.noise_sd),
        dim=np.array(int(nets[0]["final_position"].shape[-1])),
        seed=np.array(int(s.seed)),
        n_modes=np.array(int(s.n_modes)),
        chains=np.array(s.chains),
        max_tree_depth=np.array(int(s.max_tree_depth)),
        hidden=np.array(int(s.hidden)),
        n_adapt=np.array(int(s.n_adapt)),
    )


def save_nuts(result: NutsResult, path: str | os.PathLike) -> pathlib.Path:
    """Write ``result`` to ``path`` (``.npz``) atomically (:func:`.save_result`)."""
    return save_result(result, path, NutsResult)


def load_nuts(path: str | os.PathLike) -> NutsResult:
    """Read a file written by :func:`save_nuts` (or the CLI), without pickle."""
    return load_result(path, NutsResult, "a NUTS result file")
