"""The tuning study of chapter 9: dual averaging to several target acceptances on
network posteriors.

For each network ``[1, 50, 1]`` on the synthetic data, chains equilibrated at several
modes adapt their step size by dual averaging (one step size per mode and target, fixed
path length), then sample; effective sample size per gradient of the network's
predictions at three inputs measures the efficiency of each target. For the networks in
``mass_models`` one more setting adapts a diagonal mass matrix (Stan's windows). A final
scan runs fractions of each mode's stability limit from the chains' last states (the
"cliff").
"""

from __future__ import annotations

import os
import pathlib
from typing import Any, Callable, NamedTuple

import numpy as np

from ..adaptation import adapt_diagonal_mass, adapt_step_size
from ..diagnostics import ess_per_gradient, rhat, stability_limit
from ..equilibrium import equilibrate
from ..kernel import sample
from ..potential import WhitenedPotential
from ._shared import (
    check_counts,
    check_models,
    check_positive,
    BoundedProgress,
    divergent,
    equilibration_budget,
    per_transition,
    synthetic_potential,
)
from .runner import Piece, run_pieces, start_run
from .store import load_result, save_result

__all__ = [
    "TUNING_MODELS",
    "TUNING_SCALES",
    "TuningSettings",
    "TuningResult",
    "tuning_cost",
    "run_tuning",
    "save_tuning",
    "load_tuning",
]

#: Activations in stream order: network ``i`` draws from ``default_rng([seed, s, i])``
#: (``s`` = 1 equilibration, 2 and 3 stability limits at equilibrium and at the modes,
#: 4 the experiment, 5 the cliff scan), chapter 9's numbering (ReLU 0, sigmoid 1).
TUNING_MODELS = ("relu", "sigmoid", "leaky_relu", "leaky_relu_0.1")


class TuningSettings(NamedTuple):
    """Everything that defines one run of the tuning study.

    Attributes
    ----------
    models:
        Labels from :data:`TUNING_MODELS`.
    mass_models:
        The models that also run the diagonal-mass setting.
    widths:
        Layer widths of the networks.
    targets:
        Target acceptances of dual averaging (identity mass).
    n_modes, chains_per_mode:
        Modes per network (the replicates) and chains per mode and setting.
    path_length, n_adapt, max_n_steps, n_draws:
        Integration time of every trajectory, adaptation transitions, cap on ``L``,
        transitions after adaptation.
    mass_target, n_adapt_mass, init_buffer, term_buffer, base_window:
        The diagonal-mass run (:func:`hmc_lite.adapt_diagonal_mass`); its ``L`` is that
        of the identity run at ``mass_target``, so a transition costs the same.
    n_adam, max_blocks:
        The equilibration (:func:`hmc_lite.equilibrate`, otherwise its defaults).
    n_lanczos:
        Hessian-vector products per chain for the stability limits.
    x_star:
        Inputs at which the predictions are tracked (ESS, R-hat).
    cliff_fractions, cliff_draws:
        The scan after the experiment: fractions of each mode's stability limit and
        transitions per chain.
    seed:
        Seed of every random number.
    """

    models: tuple[str, ...] = ("relu", "sigmoid")
    mass_models: tuple[str, ...] = ("relu",)
    widths: tuple[int, ...] = (1, 50, 1)
    targets: tuple[float, ...] = (0.45, 0.65, 0.8)
    n_modes: int = 4
    chains_per_mode: int = 4
    path_length: float = 0.03
    n_adapt: int = 60
    max_n_steps: int = 80
    n_draws: int = 120
    mass_target: float = 0.8
    n_adapt_mass: int = 150
    init_buffer: int = 20
    term_buffer: int = 30
    base_window: int = 25
    n_adam: int = 3000
    max_blocks: int = 15
    n_lanczos: int = 50
    x_star: tuple[float, ...] = (0.5, 2.0, 3.5)
    cliff_fractions: tuple[float, ...] = tuple(np.geomspace(0.35, 1.6, 12).tolist())
    cliff_draws: int = 24
    seed: int = 0

    @property
    def chains(self) -> int:
        """Equilibrated chains per network, ``n_modes * chains_per_mode``."""
        return int(self.n_modes) * int(self.chains_per_mode)


#: Named scales. ``book`` is chapter 9 (ReLU and sigmoid ``[1, 50, 1]``, targets 0.45,
#: 0.65, 0.8 and the diagonal mass for ReLU, 4 modes of 4 chains, 60 adaptation and 120
#: sampling transitions; the chapter's random numbers). The paper has no tuning study
#: (``/work/shared/PAPER.md``): ``paper`` is our choice of a larger run: four
#: activations (diagonal mass for every one), five targets, 16 modes of 4 chains, 200
#: adaptation and 1000 sampling transitions. ``tiny`` is for tests.
TUNING_SCALES: dict[str, TuningSettings] = {
    "tiny": TuningSettings(
        widths=(1, 5, 1),
        targets=(0.6, 0.8),
        n_modes=2,
        chains_per_mode=2,
        path_length=0.01,
        n_adapt=6,
        max_n_steps=10,
        n_draws=8,
        n_adapt_mass=12,
        init_buffer=3,
        term_buffer=3,
        base_window=3,
        n_adam=30,
        max_blocks=3,
        n_lanczos=5,
        cliff_fractions=(0.5, 1.5),
        cliff_draws=3,
    ),
    "book": TuningSettings(),
    "paper": TuningSettings(
        models=TUNING_MODELS,
        mass_models=TUNING_MODELS,
        targets=(0.45, 0.55, 0.65, 0.8, 0.9),
        n_modes=16,
        n_adapt=200,
        n_draws=1000,
        n_adapt_mass=500,
        init_buffer=75,
        term_buffer=50,
        n_adam=5000,
        max_blocks=20,
        cliff_fractions=tuple(np.geomspace(0.3, 1.6, 20).tolist()),
        cliff_draws=50,
    ),
}


class TuningResult(NamedTuple):
    """Output of :func:`run_tuning`: numpy arrays (saved and loaded without pickle).

    ``A`` networks, ``K`` targets, ``S = K + 1`` settings (the targets, then the
    diagonal mass at ``mass_target``; NaN for networks without it), ``M`` modes, ``C``
    equilibrated chains, ``G`` cliff fractions, ``T`` equilibration transitions (of the
    longest; NaN after the end of shorter ones).

    Attributes
    ----------
    models, targets, x_star, cliff_fractions:
        ``(A,)``, ``(K,)``, ``(3,)``, ``(G,)``. ``has_mass``: ``(A,)`` bool.
    step_size, n_steps, accept_prob, divergent, accept_prob_adapt, divergent_adapt, ess,
    rhat,
    stability_limit_setting, step_size_rel, u_start, u_end:
        ``(A, S, M)``, one value per mode and setting: adapted step size and ``L``;
        mean acceptance and fraction divergent after adaptation and over the second half
        of adaptation (the final window for the mass run); ESS of the predictions at
        ``x_star`` per 1000 gradients (mean over the inputs); the largest split R-hat
        within the mode; the stability limit (median over the mode's chains; of the
        preconditioned problem for the mass run) and the step size as a fraction of it;
        mean ``U`` before and after sampling.
    step_size_trace, step_size_avg_trace:
        ``(A, K, n_adapt)``: dual averaging's iterates and averages for the first chain
        of the first mode at each target.
    mass_sd:
        ``(A, M * chains_per_mode, dim)``: square root of the adapted inverse mass of
        every chain of the mass run (NaN without it).
    test_rmse:
        ``(A,)``: RMSE on the test set of the predictive mean over the identity settings
        (every tenth draw).
    cliff_accept, cliff_divergent:
        ``(A, G)``.
    mode:
        ``(A, C)``. ``stability_limit``, ``start_potential``: ``(A, C)`` at equilibrium;
        ``mode_stability_limit``, ``mode_potential``: ``(A, M)`` at the optimised modes.
    potential_trace:
        ``(A, M, T)``: mean ``U`` of each mode's chains after each equilibration
        transition.
    equilibrium_transitions, equilibrium_converged:
        ``(A,)``.
    mass_target, path_length, seed, n_modes, chains, n_draws:
        Scalars (0-d arrays).
    """

    models: np.ndarray
    targets: np.ndarray
    x_star: np.ndarray
    cliff_fractions: np.ndarray
    has_mass: np.ndarray
    step_size: np.ndarray
    n_steps: np.ndarray
    accept_prob: np.ndarray
    divergent: np.ndarray
    accept_prob_adapt: np.ndarray
    divergent_adapt: np.ndarray
    ess: np.ndarray
    rhat: np.ndarray
    stability_limit_setting: np.ndarray
    step_size_rel: np.ndarray
    u_start: np.ndarray
    u_end: np.ndarray
    step_size_trace: np.ndarray
    step_size_avg_trace: np.ndarray
    mass_sd: np.ndarray
    test_rmse: np.ndarray
    cliff_accept: np.ndarray
    cliff_divergent: np.ndarray
    mode: np.ndarray
    stability_limit: np.ndarray
    start_potential: np.ndarray
    mode_stability_limit: np.ndarray
    mode_potential: np.ndarray
    potential_trace: np.ndarray
    equilibrium_transitions: np.ndarray
    equilibrium_converged: np.ndarray
    mass_target: np.ndarray
    path_length: np.ndarray
    seed: np.ndarray
    n_modes: np.ndarray
    chains: np.ndarray
    n_draws: np.ndarray


def _check_settings(s: TuningSettings) -> None:
    if not isinstance(s, TuningSettings):
        raise TypeError(f"settings must be a TuningSettings; got {type(s).__name__}")
    check_models(s, TUNING_MODELS)
    if any(m not in s.models for m in s.mass_models):
        raise ValueError(
            f"settings.mass_models must be among settings.models; got {s.mass_models!r}"
        )
    if (
        len(s.widths) < 3
        or s.widths[0] != 1
        or s.widths[-1] != 1
        or any(int(w) != w or w < 1 for w in s.widths)
    ):
        raise ValueError(
            "settings.widths must be (1, ..., 1) with positive widths; got "
            f"{s.widths!r}"
        )
    for label in ("targets", "mass_target"):
        v = np.asarray(getattr(s, label), dtype=float)
        if v.size < 1 or not np.all((v > 0) & (v < 1)):
            raise ValueError(
                f"settings.{label} must lie in (0, 1); got {getattr(s, label)!r}"
            )
    if s.mass_models and s.mass_target not in s.targets:
        raise ValueError(
            "settings.mass_target must be one of settings.targets; got "
            f"{s.mass_target!r}"
        )
    if len(s.x_star) < 1:
        raise ValueError("settings.x_star must hold at least one input")
    check_positive(s, ("path_length", "cliff_fractions"))
    check_counts(
        s,
        (
            "n_modes",
            "chains_per_mode",
            "n_adapt",
            "max_n_steps",
            "n_draws",
            "n_adapt_mass",
            "init_buffer",
            "term_buffer",
            "base_window",
            "max_blocks",
            "n_lanczos",
            "cliff_draws",
        ),
        ("n_adam",),
    )
    if s.chains_per_mode < 2 or s.n_draws < 4:
        raise ValueError(
            "settings need at least 2 chains per mode and 4 draws (for R-hat and ESS); "
            f"got chains_per_mode={s.chains_per_mode!r}, n_draws={s.n_draws!r}"
        )


def tuning_cost(settings: TuningSettings) -> int:
    """Chain-transitions of equilibration, adaptation, sampling and the cliff scan.

    Each network's equilibration counts at its upper bound (it stops when ``U`` levels
    off; the bar moves during it and jumps to the bound at its end).
    """
    s = settings
    K, C = len(s.targets), s.chains
    per_model = K * C * (int(s.n_adapt) + int(s.n_draws) + int(s.cliff_draws))
    per_model += _equilibration_cost(s)
    per_mass = C * (int(s.n_adapt_mass) + int(s.n_draws))
    return len(s.models) * per_model + len(s.mass_models) * per_mass


def _equilibration_cost(s: TuningSettings) -> int:
    # equilibrate's defaults: n_adapt 20, block 20
    return equilibration_budget(s.chains, block=20, max_blocks=s.max_blocks)


def _equilibrium_piece(
    s: TuningSettings, model: str, *, progress=None
) -> dict[str, np.ndarray]:
    """Chapter 9: equilibrate one network, stability limits at equilibrium and modes."""
    i = TUNING_MODELS.index(model)
    pot = synthetic_potential(model, tuple(s.widths))
    M = int(s.n_modes)
    bar = BoundedProgress(progress, _equilibration_cost(s))
    e = equilibrate(
        pot,
        s.chains,
        rng=np.random.default_rng([int(s.seed), 1, i]),
        n_modes=M,
        n_adam=int(s.n_adam),
        max_blocks=int(s.max_blocks),
        callback=bar.per_transition(s.chains),
    )
    bar.finish()
    n = int(s.n_lanczos)
    lim_eq = stability_limit(
        pot, e.position, n_iter=n, rng=np.random.default_rng([int(s.seed), 2, i])
    )
    lim_mode = stability_limit(
        pot, e.mode_position, n_iter=n, rng=np.random.default_rng([int(s.seed), 3, i])
    )
    mode = np.asarray(e.mode, dtype=int)
    return {
        "position": np.asarray(e.position, dtype=float),
        "mode": mode,
        "equilibrium_step_size": np.asarray(e.step_size, dtype=float)
        * np.ones(s.chains),
        "stability_limit": lim_eq,
        "mode_stability_limit": lim_mode,
        "start_potential": pot(e.position),
        "mode_potential": pot(e.mode_position),
        "potential_trace": np.stack(
            [np.asarray(e.potential_trace)[mode == m].mean(axis=0) for m in range(M)]
        ),
        "equilibrium_transitions": np.array(int(e.n_transitions)),
        "equilibrium_converged": np.array(bool(e.converged)),
    }


_EQ_FIELDS = (
    "position",
    "mode",
    "equilibrium_step_size",
    "stability_limit",
    "mode_stability_limit",
    "start_potential",
    "mode_potential",
    "potential_trace",
    "equilibrium_transitions",
    "equilibrium_converged",
)
_SETTING_FIELDS = (
    "step_size",
    "n_steps",
    "accept_prob",
    "divergent",
    "accept_prob_adapt",
    "divergent_adapt",
    "ess",
    "rhat",
    "stability_limit_setting",
    "step_size_rel",
    "u_start",
    "u_end",
)
_EXP_FIELDS = _SETTING_FIELDS + (
    "step_size_trace",
    "step_size_avg_trace",
    "mass_sd",
    "test_rmse",
    "cliff_accept",
    "cliff_divergent",
)


def _experiment_piece(
    s: TuningSettings,
    model: str,
    position: np.ndarray,
    eq_mode: np.ndarray,
    eq_step_size: np.ndarray,
    lim_eq: np.ndarray,
    *,
    progress=None,
) -> dict[str, np.ndarray]:
    """Chapter 9: adapt and sample every setting, then the cliff scan (one network)."""
    i = TUNING_MODELS.index(model)
    pot = synthetic_potential(model, tuple(s.widths))
    targets = np.asarray(s.targets, dtype=float)
    K, M, n_per, n_adapt, n_draws = (
        len(targets),
        int(s.n_modes),
        int(s.chains_per_mode),
        int(s.n_adapt),
        int(s.n_draws),
    )
    with_mass = model in s.mass_models
    rng = np.random.default_rng([int(s.seed), 4, i])
    lim_mode = np.array([np.median(lim_eq[eq_mode == m]) for m in range(M)])
    S = K + int(with_mass)
    # chains ordered (mode, setting, j); chain j of every setting of a mode starts from
    # the same equilibrated chain, so settings are compared from common starting points
    mode = np.repeat(np.arange(M), S * n_per)
    setting = np.tile(np.repeat(np.arange(S), n_per), M)
    source = mode * n_per + np.tile(np.arange(n_per), M * S)
    start = position[source]
    ident = setting < K
    ad = adapt_step_size(
        pot,
        start[ident],
        rng=rng,
        step_size=eq_step_size[source][ident],
        n_adapt=n_adapt,
        target_accept=targets[setting[ident]],
        path_length=float(s.path_length),
        groups=(mode * S + setting)[ident],
        max_n_steps=int(s.max_n_steps),
        callback=per_transition(progress, int(ident.sum())),
    )
    eps, steps = np.empty(mode.size), np.empty(mode.size, dtype=int)
    pos, inv_mass = np.empty_like(start), np.ones_like(start)
    eps[ident], steps[ident], pos[ident] = ad.step_size, ad.n_steps, ad.state.position
    acc_adapt, div_adapt = np.empty(mode.size), np.empty(mode.size)
    acc_adapt[ident] = ad.accept_prob[:, n_adapt // 2 :].mean(axis=1)
    div_adapt[ident] = divergent(ad)[:, n_adapt // 2 :].mean(axis=1)
    mass_sd = np.full((M * n_per, pot.dim), np.nan)
    if with_mass:
        mass = ~ident
        same = ident & (setting == list(targets).index(float(s.mass_target)))
        mad = adapt_diagonal_mass(
            pot,
            start[mass],
            rng=rng,
            step_size=eps[same],
            n_adapt=int(s.n_adapt_mass),
            target_accept=float(s.mass_target),
            n_steps=steps[same],
            groups=mode[mass],
            init_buffer=int(s.init_buffer),
            term_buffer=int(s.term_buffer),
            base_window=int(s.base_window),
            callback=per_transition(progress, int(mass.sum())),
        )
        eps[mass], steps[mass], pos[mass] = (
            mad.step_size,
            mad.n_steps,
            mad.state.position,
        )
        inv_mass[mass] = mad.inverse_mass
        acc_adapt[mass] = mad.accept_prob[:, mad.windows[-1, 1] :].mean(axis=1)
        div_adapt[mass] = divergent(mad)[:, mad.windows[-1, 1] :].mean(axis=1)
        mass_sd = np.sqrt(inv_mass[mass])
    run = sample(
        pot,
        pos,
        step_size=eps,
        n_steps=steps,
        n_samples=n_draws,
        rng=rng,
        inverse_mass=inv_mass,
        callback=per_transition(progress, mode.size),
    )
    run_div = divergent(run)
    f = pot.predict(
        run.positions, np.asarray(s.x_star, dtype=float)[:, None]
    )  # (chains, draws, inputs)
    out = {key: np.full((K + 1, M), np.nan) for key in _SETTING_FIELDS}
    for k in range(S):
        for m in range(M):
            sel = (mode == m) & (setting == k)
            grads = sel.sum() * n_draws * steps[sel][0]
            out["step_size"][k, m], out["n_steps"][k, m] = eps[sel][0], steps[sel][0]
            out["accept_prob"][k, m] = run.accept_prob[sel].mean()
            out["divergent"][k, m] = run_div[sel].mean()
            out["accept_prob_adapt"][k, m] = acc_adapt[sel].mean()
            out["divergent_adapt"][k, m] = div_adapt[sel].mean()
            out["ess"][k, m] = ess_per_gradient(f[sel], grads)  # per 1000 gradients
            out["rhat"][k, m] = rhat(f[sel]).max()
            out["u_start"][k, m] = pot(start[sel]).mean()
            out["u_end"][k, m] = run.final_state.potential_energy[sel].mean()
            if k < K:
                out["stability_limit_setting"][k, m] = lim_mode[m]
            else:  # the stability limit of the preconditioned problem, in its own units
                sd = np.sqrt(inv_mass[sel][0])
                out["stability_limit_setting"][k, m] = np.median(
                    stability_limit(
                        WhitenedPotential(pot, sd),
                        pos[sel] / sd,
                        n_iter=int(s.n_lanczos),
                        rng=rng,
                    )
                )
    out["step_size_rel"] = out["step_size"] / out["stability_limit_setting"]
    data_x, data_y = _test_data()
    sub = run.positions[ident, ::10].reshape(-1, pot.dim)
    out["test_rmse"] = np.array(
        float(np.sqrt(np.mean((pot.predict(sub, data_x).mean(axis=0) - data_y) ** 2)))
    )
    first = np.arange(K) * n_per  # the first chain of each target, mode 0
    out["step_size_trace"] = np.asarray(ad.step_size_trace)[first]
    out["step_size_avg_trace"] = np.asarray(ad.step_size_avg_trace)[first]
    out["mass_sd"] = mass_sd
    # the cliff: fractions of each mode's limit from the final states (identity mass)
    fractions = np.asarray(s.cliff_fractions, dtype=float)
    chains = np.flatnonzero(ident)
    frac = fractions[np.arange(chains.size) % fractions.size]
    e_grid = frac * lim_mode[mode[chains]]
    g = sample(
        pot,
        run.final_state.position[chains],
        step_size=e_grid,
        n_steps=np.rint(float(s.path_length) / e_grid).astype(int),
        n_samples=int(s.cliff_draws),
        rng=np.random.default_rng([int(s.seed), 5, i]),
        callback=per_transition(progress, chains.size),
    )
    g_div = divergent(g)
    out["cliff_accept"] = np.array([g.accept_prob[frac == v].mean() for v in fractions])
    out["cliff_divergent"] = np.array([g_div[frac == v].mean() for v in fractions])
    return out


def _test_data() -> tuple[np.ndarray, np.ndarray]:
    from ..datasets import synthetic

    data = synthetic(n=100, seed=0)
    return data.x_test, data.y_test


def run_tuning(
    settings: TuningSettings,
    *,
    seed: int | None = None,
    progress: Callable[[int], object] | None = None,
    parts: str | os.PathLike | None = None,
    client: Any | None = None,
) -> TuningResult:
    """Run chapter 9's tuning study.

    One piece per network equilibrates it and computes the stability limits; a second
    piece per network adapts, samples and scans the cliff. Parameters as in
    :func:`~.fig2.run_fig2`; ``progress`` counts chain-transitions (:func:`tuning_cost`;
    each adaptation is counted when it ends, sampling after every transition).
    """
    _check_settings(settings)
    s, run = start_run(
        "tuning", settings, seed=seed, parts=parts, client=client, progress=progress
    )
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
    K, C = len(s.targets), s.chains

    def cost(m: str) -> int:
        total = K * C * (int(s.n_adapt) + int(s.n_draws) + int(s.cliff_draws))
        return total + (
            C * (int(s.n_adapt_mass) + int(s.n_draws)) if m in s.mass_models else 0
        )

    exp = run_pieces(
        [
            Piece(
                f"experiment-{m}",
                _experiment_piece,
                (
                    s,
                    m,
                    e["position"],
                    e["mode"],
                    e["equilibrium_step_size"],
                    e["stability_limit"],
                ),
                _EXP_FIELDS,
                cost(m),
            )
            for m, e in zip(s.models, eq)
        ],
        **run,
    )
    exp = [exp[f"experiment-{m}"] for m in s.models]
    T = max(e["potential_trace"].shape[1] for e in eq)
    trace = np.full((len(s.models), int(s.n_modes), T), np.nan)
    for a, e in enumerate(eq):
        trace[a, :, : e["potential_trace"].shape[1]] = e["potential_trace"]
    return TuningResult(
        models=np.array(s.models, dtype=str),
        targets=np.asarray(s.targets, dtype=float),
        x_star=np.asarray(s.x_star, dtype=float),
        cliff_fractions=np.asarray(s.cliff_fractions, dtype=float),
        has_mass=np.array([m in s.mass_models for m in s.models], dtype=bool),
        **{k: np.stack([x[k] for x in exp]) for k in _EXP_FIELDS},
        **{
            k: np.stack([e[k] for e in eq])
            for k in (
                "mode",
                "stability_limit",
                "start_potential",
                "mode_stability_limit",
                "mode_potential",
                "equilibrium_transitions",
                "equilibrium_converged",
            )
        },
        potential_trace=trace,
        mass_target=np.array(float(s.mass_target)),
        path_length=np.array(float(s.path_length)),
        seed=np.array(int(s.seed)),
        n_modes=np.array(int(s.n_modes)),
        chains=np.array(C),
        n_draws=np.array(int(s.n_draws)),
    )


def save_tuning(result: TuningResult, path: str | os.PathLike) -> pathlib.Path:
    """Write ``result`` to ``path`` (``.npz``) atomically (:func:`.save_result`)."""
    return save_result(result, path, TuningResult)


def load_tuning(path: str | os.PathLike) -> TuningResult:
    """Read a file written by :func:`save_tuning` (or the CLI), without pickle."""
    return load_result(path, TuningResult, "a tuning-study result file")
