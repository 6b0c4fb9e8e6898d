"""Acceptance against network size, shallow and deep (chapter 7, experiment 2; the
paper's Figure 3).

For each activation, shallow networks ``[1, n_1, 1]`` and deep networks ``[1, w, ..., w,
1]`` of matching numbers of parameters are equilibrated at several modes; HMC then runs
from every chain at one common step size and at a fraction of each chain's own stability
limit, both at a fixed path length, and one more trajectory from each final state counts
the kink surfaces ``z_ij = 0`` it crosses.
"""

from __future__ import annotations

import os
import pathlib
from typing import Any, Callable, NamedTuple

import numpy as np

from ..integrators import leapfrog_path
from ..kernel import sample
from ._shared import (
    CHAPTER7_EQUILIBRIUM_FIELDS,
    CHAPTER7_RESULT_FIELDS,
    SYNTHETIC_MODELS,
    check_counts,
    chapter7_equilibration_cost,
    check_positive,
    check_models,
    divergent,
    equilibrate_chapter7,
    per_transition,
    steps_for,
    synthetic_potential,
)
from .runner import Piece, run_pieces, start_run
from .store import load_result, save_result

__all__ = [
    "FIG3_SCALES",
    "Fig3Settings",
    "Fig3Result",
    "fig3_networks",
    "fig3_cost",
    "run_fig3",
    "save_fig3",
    "load_fig3",
]

DEPTHS = ("shallow", "deep")


class Fig3Settings(NamedTuple):
    """Everything that defines one run of the Figure 3 experiment.

    Attributes
    ----------
    models:
        Activation labels (see :data:`~hmc_lite.experiments.fig2.Fig2Settings`).
    shallow_widths:
        Hidden widths ``n_1`` of the shallow networks ``[1, n_1, 1]``.
    deep_widths, deep_layers:
        Widths ``w`` of the deep networks and their number of hidden layers; as many
        deep as shallow networks (the ``i``-th of each have similar sizes).
    step_size, limit_fraction:
        The two settings: one step size for every network, and this fraction of each
        chain's own stability limit.
    path_length:
        Integration time ``eps * L`` (``L`` rounded, at least 1).
    n_modes, chains_per_mode, n_samples:
        Modes per network, chains per mode, HMC transitions per chain and setting.
    n_adam, n_adam_retry, n_lbfgs, eq_path_length, target_accept, block, max_blocks,
    n_lanczos:
        The equilibration and the stability limits, as in :class:`~.fig2.Fig2Settings`.
    seed:
        Seed of every random number. Network ``k`` of :func:`fig3_networks` draws from
        ``default_rng([seed, s, k])`` with ``s`` = 1 (equilibration), 2 (stability
        limit), 4 (measurements): chapter 7's numbering.
    """

    models: tuple[str, ...] = ("sigmoid", "relu")
    shallow_widths: tuple[int, ...] = (17, 34, 56)
    deep_widths: tuple[int, ...] = (4, 6, 8)
    deep_layers: int = 3
    step_size: float = 5e-4
    limit_fraction: float = 0.5
    path_length: float = 0.05
    n_modes: int = 8
    chains_per_mode: int = 1
    n_samples: int = 20
    n_adam: int = 3000
    n_adam_retry: int = 10000
    n_lbfgs: int = 500
    eq_path_length: float = 0.3
    target_accept: float = 0.8
    block: int = 15
    max_blocks: int = 10
    n_lanczos: int = 50
    seed: int = 0

    @property
    def chains(self) -> int:
        """Chains per network, ``n_modes * chains_per_mode``."""
        return int(self.n_modes) * int(self.chains_per_mode)


def fig3_networks(
    settings: Fig3Settings,
) -> list[tuple[str, str, int, tuple[int, ...]]]:
    """The networks of a run, in stream order: ``(model, depth, index, widths)``.

    Per model, the shallow networks then the deep ones (chapter 7's order).
    """
    s = settings
    nets = []
    for m in s.models:
        for i, n1 in enumerate(s.shallow_widths):
            nets.append((m, "shallow", i, (1, int(n1), 1)))
        for i, w in enumerate(s.deep_widths):
            nets.append((m, "deep", i, (1,) + (int(w),) * int(s.deep_layers) + (1,)))
    return nets


#: Named scales. ``book`` is chapter 7's experiment 2 (sigmoid and ReLU; ``[1, n_1, 1]``
#: with ``n_1`` = 17, 34, 56 and ``[1, w, w, w, 1]`` with ``w`` = 4, 6, 8, i.e. 52-53,
#: 103 and 169 parameters; ``eps = 5e-4`` and ``eps = 0.5 eps_stab``, ``T = 0.05``, 8
#: modes, 20 transitions; the chapter's random numbers). The paper's Figure 3 has three
#: activations but gives no sizes (``/work/shared/PAPER.md``): ``paper`` is our choice,
#: adding leaky ReLU and two larger sizes (298 and 526 parameters), 16 modes of 2 chains
#: and 100 transitions. ``tiny`` is for tests.
FIG3_SCALES: dict[str, Fig3Settings] = {
    "tiny": Fig3Settings(
        ("sigmoid", "relu"),
        (3, 5),
        (2, 3),
        deep_layers=2,
        step_size=2e-3,
        path_length=0.01,
        n_modes=2,
        n_samples=3,
        n_adam=30,
        n_adam_retry=60,
        n_lbfgs=10,
        eq_path_length=0.02,
        block=3,
        max_blocks=3,
        n_lanczos=5,
    ),
    "book": Fig3Settings(),
    "paper": Fig3Settings(
        ("sigmoid", "relu", "leaky_relu"),
        (17, 34, 56, 99, 175),
        (4, 6, 8, 11, 15),
        n_modes=16,
        chains_per_mode=2,
        n_samples=100,
        n_adam=5000,
        n_lbfgs=1000,
        block=20,
        max_blocks=20,
    ),
}


class Fig3Result(NamedTuple):
    """Output of :func:`run_fig3`: plain numpy arrays (saved and loaded without pickle).

    ``A`` models, ``D = 2`` depths (shallow, deep), ``W`` sizes per depth, ``C`` chains
    (``M`` modes), ``N`` transitions; setting 0 is the common step size, 1 the fraction
    of each chain's stability limit.

    Attributes
    ----------
    models, depths:
        ``(A,)`` and ``(D,)`` labels.
    hidden_width:
        ``(D, W)``: ``n_1`` of the shallow networks, ``w`` of the deep ones.
    hidden_layers:
        ``(D,)``: 1 and ``deep_layers``.
    dim:
        ``(D, W)``: number of parameters of each network.
    step_sizes, n_steps:
        ``(A, D, W, 2, C)``: per chain and setting.
    accept_prob, divergent:
        ``(A, D, W, 2, C, N)``.
    crossings:
        ``(A, D, W, C)``: kink surfaces crossed by one trajectory (common step size,
        ``path_length``) from each chain's final state of setting 0
        (:meth:`hmc_lite.MLPPotential.kink_crossings`, summed over the path).
    final_position:
        ``(A, D, W, C, P)``: each chain's final state of setting 0 (where the crossing
        trajectory starts); ``P`` is the largest number of parameters, and a smaller
        network's positions are padded with NaN (its first ``dim`` entries are its own).
    mode, stability_limit, start_potential:
        ``(A, D, W, C)``. ``mode_potential``: ``(A, D, W, M)``.
    equilibrium_transitions, equilibrium_converged, equilibrium_retried,
    equilibrium_reoptimised:
        ``(A, D, W)``.
    step_size, limit_fraction, path_length, seed, n_modes, chains, n_samples:
        Scalars (0-d arrays).
    """

    models: np.ndarray
    depths: np.ndarray
    hidden_width: np.ndarray
    hidden_layers: np.ndarray
    dim: np.ndarray
    step_sizes: np.ndarray
    n_steps: np.ndarray
    accept_prob: np.ndarray
    divergent: np.ndarray
    crossings: np.ndarray
    final_position: np.ndarray
    mode: np.ndarray
    stability_limit: np.ndarray
    start_potential: np.ndarray
    mode_potential: np.ndarray
    equilibrium_transitions: np.ndarray
    equilibrium_converged: np.ndarray
    equilibrium_retried: np.ndarray
    equilibrium_reoptimised: np.ndarray
    step_size: np.ndarray
    limit_fraction: np.ndarray
    path_length: np.ndarray
    seed: np.ndarray
    n_modes: np.ndarray
    chains: np.ndarray
    n_samples: np.ndarray


def _check_settings(s: Fig3Settings) -> None:
    if not isinstance(s, Fig3Settings):
        raise TypeError(f"settings must be a Fig3Settings; got {type(s).__name__}")
    check_models(s, SYNTHETIC_MODELS)
    for label in ("shallow_widths", "deep_widths"):
        v = getattr(s, label)
        if len(v) < 1 or any(isinstance(w, bool) or int(w) != w or w < 1 for w in v):
            raise ValueError(f"settings.{label} must be positive integers; got {v!r}")
    if len(s.shallow_widths) != len(s.deep_widths):
        raise ValueError(
            "settings.shallow_widths and settings.deep_widths must have the same "
            "length; "
            f"got {s.shallow_widths!r} and {s.deep_widths!r}"
        )
    check_positive(s, ("step_size", "limit_fraction", "path_length", "eq_path_length"))
    check_counts(
        s,
        (
            "deep_layers",
            "n_modes",
            "chains_per_mode",
            "n_samples",
            "block",
            "max_blocks",
            "n_lanczos",
        ),
        ("n_adam", "n_adam_retry", "n_lbfgs"),
    )
    if not 0 < s.target_accept < 1:
        raise ValueError(
            f"settings.target_accept must lie in (0, 1); got {s.target_accept!r}"
        )


def fig3_cost(settings: Fig3Settings) -> int:
    """Chain-transitions of the measurements (what the progress bar counts).

    Two settings per network, ``C`` chains, ``N`` transitions, plus the crossing
    trajectory counted as one transition per chain, plus each network's equilibration
    at its upper bound (it stops when ``U`` levels off; the bar moves during it and
    jumps to the bound at its end).
    """
    s = settings
    per_network = s.chains * (2 * int(s.n_samples) + 1) + chapter7_equilibration_cost(s)
    return len(fig3_networks(s)) * per_network


def _equilibrium_piece(
    s: Fig3Settings, model: str, widths: tuple[int, ...], stream: int, *, progress=None
) -> dict[str, np.ndarray]:
    return equilibrate_chapter7(s, model, widths, stream, progress)


def _size_piece(
    s: Fig3Settings,
    model: str,
    widths: tuple[int, ...],
    stream: int,
    start: np.ndarray,
    limits: np.ndarray,
    *,
    progress=None,
) -> dict[str, np.ndarray]:
    """Chapter 7, experiment 2: both settings from every chain, then the crossings."""
    pot = synthetic_potential(model, widths)
    C, N = s.chains, int(s.n_samples)
    eps = np.concatenate(
        [np.full(C, float(s.step_size)), float(s.limit_fraction) * limits]
    )
    steps = steps_for(s.path_length, eps)
    rng = np.random.default_rng([int(s.seed), 4, int(stream)])
    run = sample(
        pot,
        np.tile(start, (2, 1)),
        step_size=eps,
        n_steps=steps,
        n_samples=N,
        rng=rng,
        callback=per_transition(progress, 2 * C),
    )
    q = run.final_state.position[:C]
    path = leapfrog_path(
        pot,
        q,
        rng.standard_normal(q.shape),
        float(s.step_size),
        int(steps_for(s.path_length, s.step_size)),
    )
    if progress is not None:
        progress(C)
    return {
        "step_sizes": eps.reshape(2, C),
        "n_steps": steps.reshape(2, C),
        "accept_prob": run.accept_prob.reshape(2, C, N),
        "divergent": divergent(run).reshape(2, C, N),
        "crossings": pot.kink_crossings(path.positions).sum(axis=1),
        "final_position": q,
    }


_SIZE_FIELDS = (
    "step_sizes",
    "n_steps",
    "accept_prob",
    "divergent",
    "crossings",
    "final_position",
)


def _padded(size: dict[str, dict[str, np.ndarray]]) -> dict[str, dict[str, Any]]:
    """The pieces' final positions padded with NaN to the largest dimension."""
    width = max(v["final_position"].shape[1] for v in size.values())
    out = {}
    for name, v in size.items():
        q = v["final_position"]
        pad = np.full((q.shape[0], width - q.shape[1]), np.nan)
        out[name] = {"final_position": np.concatenate([q, pad], axis=1)}
    return out


def run_fig3(
    settings: Fig3Settings,
    *,
    seed: int | None = None,
    progress: Callable[[int], object] | None = None,
    parts: str | os.PathLike | None = None,
    client: Any | None = None,
) -> Fig3Result:
    """Run the network-size experiment of chapter 7 (Figure 3).

    One piece per network equilibrates it and computes the stability limit at every
    chain; a second piece per network runs both settings and counts kink crossings.
    Parameters as in :func:`~.fig2.run_fig2`; ``progress`` counts chain-transitions
    (:func:`fig3_cost`).
    """
    _check_settings(settings)
    s, run = start_run(
        "fig3", settings, seed=seed, parts=parts, client=client, progress=progress
    )
    nets = fig3_networks(s)
    name = {net: f"{net[0]}-{net[1]}{net[2]}" for net in nets}
    eq = run_pieces(
        [
            Piece(
                f"equilibrium-{name[net]}",
                _equilibrium_piece,
                (s, net[0], net[3], k),
                CHAPTER7_EQUILIBRIUM_FIELDS,
                chapter7_equilibration_cost(s),
            )
            for k, net in enumerate(nets)
        ],
        **run,
    )
    cost = s.chains * (2 * int(s.n_samples) + 1)
    size = run_pieces(
        [
            Piece(
                f"size-{name[net]}",
                _size_piece,
                (
                    s,
                    net[0],
                    net[3],
                    k,
                    eq[f"equilibrium-{name[net]}"]["position"],
                    eq[f"equilibrium-{name[net]}"]["stability_limit"],
                ),
                _SIZE_FIELDS,
                cost,
            )
            for k, net in enumerate(nets)
        ],
        **run,
    )
    A, W = len(s.models), len(s.shallow_widths)

    def table(source: dict, prefix: str, key: str) -> np.ndarray:  # (A, D, W, ...)
        return np.stack(
            [
                np.stack(
                    [
                        np.stack(
                            [source[f"{prefix}-{m}-{d}{i}"][key] for i in range(W)]
                        )
                        for d in DEPTHS
                    ]
                )
                for m in s.models
            ]
        )

    dims = np.array(
        [
            [
                synthetic_potential("relu", net[3]).dim
                for net in nets[: 2 * W]
                if net[1] == d
            ]
            for d in DEPTHS
        ],
        dtype=int,
    )
    return Fig3Result(
        models=np.array(s.models, dtype=str),
        depths=np.array(DEPTHS, dtype=str),
        hidden_width=np.array([s.shallow_widths, s.deep_widths], dtype=int),
        hidden_layers=np.array([1, int(s.deep_layers)], dtype=int),
        dim=dims,
        **{key: table(size, "size", key) for key in _SIZE_FIELDS[:-1]},
        final_position=table(_padded(size), "size", "final_position"),
        **{key: table(eq, "equilibrium", key) for key in CHAPTER7_RESULT_FIELDS},
        step_size=np.array(float(s.step_size)),
        limit_fraction=np.array(float(s.limit_fraction)),
        path_length=np.array(float(s.path_length)),
        seed=np.array(int(s.seed)),
        n_modes=np.array(int(s.n_modes)),
        chains=np.array(s.chains),
        n_samples=np.array(int(s.n_samples)),
    )


def save_fig3(result: Fig3Result, path: str | os.PathLike) -> pathlib.Path:
    """Write ``result`` to ``path`` (``.npz``) atomically (:func:`.save_result`)."""
    return save_result(result, path, Fig3Result)


def load_fig3(path: str | os.PathLike) -> Fig3Result:
    """Read a file written by :func:`save_fig3` (or the CLI), without pickle."""
    return load_result(path, Fig3Result, "a Figure 3 result file")
