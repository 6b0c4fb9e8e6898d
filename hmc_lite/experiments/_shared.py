"""Science shared by the experiments of chapters 7-9: networks on the synthetic data,
their equilibration as chapter 7 does it, and small accessors.

Private: the public names are those of the experiment modules.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np

from .._validation import check_int
from ..datasets import synthetic
from ..diagnostics import stability_limit
from ..equilibrium import equilibrate
from ..models import MLPPotential, mlp_potential

#: Activation labels the synthetic-data experiments accept; ``leaky_relu`` has negative
#: slope 0.01 and ``leaky_relu_0.1`` slope 0.1 (as in :data:`~.fig1.FIG1_MODELS`).
SYNTHETIC_MODELS = ("sigmoid", "relu", "leaky_relu", "leaky_relu_0.1")


def synthetic_potential(model: str, widths: tuple[int, ...]) -> MLPPotential:
    """Posterior of a network ``widths``, activation ``model``, on the synthetic data.

    100 points of ``datasets.synthetic(seed=0)``, noise sd 0.1, prior ``N(0, 1)``.
    """
    if model not in SYNTHETIC_MODELS:
        raise ValueError(f"model must be one of {SYNTHETIC_MODELS}; got {model!r}")
    data = synthetic(n=100, seed=0)
    name, _, slope = model.partition("_0.")
    options = {"slope": float("0." + slope)} if slope else {}
    return mlp_potential(data.x_train, data.y_train, list(widths), name, **options)


def problem_potential(
    problem: Any, hidden: int, model: str, **options: Any
) -> MLPPotential:
    """Posterior of a network ``[d, hidden, 1]``, activation ``model``, on a regression
    problem with fields ``x_train``, ``y_train`` and ``noise_sd``; prior ``N(0, 1)``.

    ``options`` go to the activation (e.g. ``beta`` of softplus).
    """
    return mlp_potential(
        problem.x_train,
        problem.y_train,
        [problem.x_train.shape[1], int(hidden), 1],
        model,
        noise_sd=problem.noise_sd,
        prior_sd=1.0,
        **options,
    )


def divergent(result: Any) -> np.ndarray:
    """Divergence flags of a sampling or adaptation result.

    Its field ``is_divergent`` (called ``divergent`` before).
    """
    flags = getattr(result, "is_divergent", None)
    return np.asarray(result.divergent if flags is None else flags, dtype=bool)


def per_transition(
    progress: Callable[[int], object] | None, chains: int
) -> Callable[[int], object] | None:
    """A ``callback`` for :func:`hmc_lite.sample` calling ``progress(chains)``."""
    if progress is None:
        return None
    return lambda i: progress(chains)


class BoundedProgress:
    """Progress of a stage whose length is known only up to an upper bound.

    An equilibration stops when the potential energy levels off, so its number of
    transitions is known only afterwards; its budget is the upper bound
    ``chains * (n_adapt + block * max_blocks)``. :meth:`per_transition` gives a
    ``callback`` for :func:`hmc_lite.equilibrate` (and the adaptations) that moves
    ``progress`` by the chains of every transition, never beyond ``budget``;
    :meth:`finish` reports what is left, so the stage always adds up to ``budget``.
    """

    def __init__(self, progress: Callable[[int], object] | None, budget: int) -> None:
        self.progress, self.budget, self.done = progress, int(budget), 0

    def add(self, n: int) -> None:
        """Report ``n`` more units, clipped to what is left of the budget."""
        n = min(int(n), self.budget - self.done)
        if n > 0 and self.progress is not None:
            self.progress(n)
        self.done += max(n, 0)

    def per_transition(self, chains: int) -> Callable[[int], object] | None:
        """A ``callback`` adding ``chains`` units per transition (``None`` without
        progress)."""
        if self.progress is None:
            return None
        return lambda i: self.add(chains)

    def finish(self) -> None:
        """Report the rest of the budget (the stage stopped before its bound)."""
        self.add(self.budget - self.done)


def equilibration_budget(
    chains: int, block: int, max_blocks: int, n_adapt: int = 20
) -> int:
    """Upper bound on the chain-transitions of one :func:`hmc_lite.equilibrate` call
    (``n_adapt`` defaults to equilibrate's)."""
    return int(chains) * (int(n_adapt) + int(block) * int(max_blocks))


def describe_settings(settings: Any) -> dict[str, str]:
    """The fields of an experiment's settings NamedTuple as text, for a chapter's table.

    Tuples become comma-separated values, floats are shown to 3 significant digits;
    ``seed`` is left out (a chapter runs with its own ``SEED``).
    """
    if not hasattr(settings, "_asdict"):
        raise TypeError(
            f"settings must be a settings NamedTuple; got {type(settings).__name__}"
        )

    def shown(value: Any) -> str:
        items = value if isinstance(value, tuple) else (value,)
        return ", ".join(f"{x:.3g}" if isinstance(x, float) else str(x) for x in items)

    return {k: shown(v) for k, v in settings._asdict().items() if k != "seed"}


def check_models(settings: Any, allowed: tuple[str, ...]) -> None:
    """Check ``settings.models``: labels from ``allowed``, none repeated."""
    models = settings.models
    if (
        not models
        or any(m not in allowed for m in models)
        or len(set(models)) != len(models)
    ):
        raise ValueError(
            f"settings.models must be distinct labels from {allowed}; got {models!r}"
        )


def check_counts(
    settings: Any,
    positive: tuple[str, ...],
    non_negative: tuple[str, ...] = (),
    at_least: dict[str, int] | None = None,
) -> None:
    """Check integer fields of a settings NamedTuple, naming the field in the error:
    ``positive`` ones at least 1, ``non_negative`` ones at least 0, and the fields of
    ``at_least`` at least their given values."""
    minimum = {**dict.fromkeys(positive, 1), **dict.fromkeys(non_negative, 0),
               **(at_least or {})}
    for label, lowest in minimum.items():
        value = getattr(settings, label)
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"settings.{label} must be an integer; got {value!r}")
        check_int(int(value), f"settings.{label}", minimum=lowest)


def check_positive(settings: Any, labels: tuple[str, ...]) -> None:
    """Check that fields of a settings NamedTuple are positive finite numbers (or
    tuples of them)."""
    for label in labels:
        v = np.asarray(getattr(settings, label), dtype=float)
        if v.size < 1 or not np.all(np.isfinite(v)) or np.any(v <= 0):
            value = getattr(settings, label)
            raise ValueError(
                f"settings.{label} must be positive numbers; got {value!r}"
            )


def steps_for(path_length: float, step_size: np.ndarray) -> np.ndarray:
    """Leapfrog steps integrating for time ``path_length`` (at least 1, elementwise)."""
    return np.maximum(1, np.round(path_length / np.asarray(step_size))).astype(int)


#: The settings fields :func:`equilibrate_chapter7` reads.
_CHAPTER7_FIELDS = (
    "n_modes",
    "chains_per_mode",
    "n_adam",
    "n_adam_retry",
    "n_lbfgs",
    "eq_path_length",
    "target_accept",
    "block",
    "max_blocks",
    "n_lanczos",
    "seed",
)
#: Equilibria computed in this process, by network and settings (at most
#: ``_CHAPTER7_CACHE_SIZE``, oldest dropped first).
_CHAPTER7_CACHE: dict[tuple, dict[str, np.ndarray]] = {}
_CHAPTER7_CACHE_SIZE = 32


def equilibrate_chapter7(
    s: Any,
    model: str,
    widths: tuple[int, ...],
    stream: int,
    progress: Callable[[int], object] | None = None,
) -> dict[str, np.ndarray]:
    """Equilibrate one network as chapter 7 does, then its stability limits.

    The result depends only on the network, ``stream`` and the settings fields named
    in ``_CHAPTER7_FIELDS`` (``s`` has them, as
    :class:`~hmc_lite.experiments.fig2.Fig2Settings` does), so it is computed once per
    process: figures 2 and 3 share their ``[1, 56, 1]`` networks, and chapter 7 runs
    both. A repeated call returns copies of the first call's arrays (``progress`` then
    moves by the whole budget at once).

    Random numbers: ``default_rng([seed, 1, stream])`` for the equilibration and
    ``[seed, 2, stream]`` for the stability limits (chapter 7 numbers its networks this
    way). A run that does not level off is repeated once with twice the blocks; while a
    chain stays more than ``2 d`` above the best mode (an optimisation stuck on a
    plateau), the network is equilibrated afresh with ``n_adam_retry`` Adam iterations
    (chapter 7: 10000), at most three times. ``progress`` counts chain-transitions of
    the first equilibration, up to its bound (:func:`chapter7_equilibration_cost`);
    retries are not counted.
    """
    key = (str(model), tuple(int(w) for w in widths), int(stream),
           *(getattr(s, f) for f in _CHAPTER7_FIELDS))
    bar = BoundedProgress(progress, chapter7_equilibration_cost(s))
    if key not in _CHAPTER7_CACHE:
        if len(_CHAPTER7_CACHE) >= _CHAPTER7_CACHE_SIZE:
            del _CHAPTER7_CACHE[next(iter(_CHAPTER7_CACHE))]
        _CHAPTER7_CACHE[key] = _equilibrate_chapter7(s, model, widths, stream, bar)
    bar.finish()
    return {k: v.copy() for k, v in _CHAPTER7_CACHE[key].items()}


def _equilibrate_chapter7(
    s: Any, model: str, widths: tuple[int, ...], stream: int, bar: BoundedProgress
) -> dict[str, np.ndarray]:
    """The computation of :func:`equilibrate_chapter7`, moving ``bar``."""
    pot = synthetic_potential(model, widths)
    rng = np.random.default_rng([int(s.seed), 1, int(stream)])
    chains = int(s.n_modes) * int(s.chains_per_mode)
    base = dict(
        n_modes=int(s.n_modes),
        n_adam=int(s.n_adam),
        n_lbfgs=int(s.n_lbfgs),
        path_length=float(s.eq_path_length),
        target_accept=float(s.target_accept),
        block=int(s.block),
        max_blocks=int(s.max_blocks),
    )
    base["callback"] = bar.per_transition(chains)
    options, retried, reoptimised = base, False, 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # recorded as `converged`
        while True:
            e = equilibrate(pot, chains, rng=rng, **options)
            if not e.converged:
                retried = True
                e = equilibrate(
                    pot,
                    chains,
                    rng=rng,
                    **{**options, "max_blocks": 2 * int(s.max_blocks)},
                )
            on_plateau = pot(e.position) > pot(e.mode_position).min() + 2 * pot.dim
            if not np.any(on_plateau) or reoptimised == 3:
                break
            reoptimised += 1
            options = {**base, "n_adam": int(s.n_adam_retry)}
    limit = stability_limit(
        pot,
        e.position,
        n_iter=int(s.n_lanczos),
        rng=np.random.default_rng([int(s.seed), 2, int(stream)]),
    )
    return {
        "position": np.asarray(e.position, dtype=float),
        "mode": np.asarray(e.mode, dtype=int),
        "start_potential": pot(e.position),
        "mode_potential": pot(e.mode_position),
        "stability_limit": limit,
        "equilibrium_transitions": np.array(int(e.n_transitions)),
        "equilibrium_converged": np.array(bool(e.converged)),
        "equilibrium_retried": np.array(bool(retried)),
        "equilibrium_reoptimised": np.array(int(reoptimised)),
    }


def chapter7_equilibration_cost(s: Any) -> int:
    """Progress budget of :func:`equilibrate_chapter7` for one network: the bound of
    one :func:`hmc_lite.equilibrate` call (chain-transitions)."""
    chains = int(s.n_modes) * int(s.chains_per_mode)
    return equilibration_budget(chains, s.block, s.max_blocks)


#: Fields returned by :func:`equilibrate_chapter7`.
CHAPTER7_EQUILIBRIUM_FIELDS = (
    "position",
    "mode",
    "start_potential",
    "mode_potential",
    "stability_limit",
    "equilibrium_transitions",
    "equilibrium_converged",
    "equilibrium_retried",
    "equilibrium_reoptimised",
)

#: The fields of :func:`equilibrate_chapter7` that the results keep (all but positions).
CHAPTER7_RESULT_FIELDS = CHAPTER7_EQUILIBRIUM_FIELDS[1:]
