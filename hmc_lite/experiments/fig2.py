"""Efficiency against step size on the synthetic data (chapter 7, experiment 1; the
paper's Figure 2).

For each network, chains equilibrated at several modes run HMC at step sizes that are
fractions of the network's own median stability limit, at a fixed path length; the
acceptance ``a`` at each fraction gives the efficiency proxy ``a * eps`` (accepted path
per gradient) plotted against ``a``. The real-data panel of Figure 2 is computed by
:mod:`.table1` (chapter 8), from the same run as Table 1.
"""

from __future__ import annotations

import os
import pathlib
from typing import Any, Callable, NamedTuple

import numpy as np

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
    "FIG2_SCALES",
    "Fig2Settings",
    "Fig2Result",
    "fig2_cost",
    "run_fig2",
    "save_fig2",
    "load_fig2",
]


class Fig2Settings(NamedTuple):
    """Everything that defines one run of the Figure 2 (synthetic data) experiment.

    Attributes
    ----------
    models:
        Activation labels (``sigmoid``, ``relu``, ``leaky_relu``, ``leaky_relu_0.1``).
    streams:
        One number per model: the network's random numbers are
        ``default_rng([seed, 1, stream])`` (equilibration), ``[seed, 2, stream]``
        (stability limits); chapter 7 numbers its networks so (2, 8, 12 for the
        ``[1, 56, 1]`` networks), and the book scale uses its numbers.
    widths:
        Layer widths of every network, e.g. ``(1, 56, 1)``.
    fractions:
        Step sizes as fractions of the network's median stability limit.
    path_length:
        Integration time ``eps * L`` of every measurement (``L`` rounded, at least 1).
    n_modes, chains_per_mode:
        Modes per network (the replicates) and chains equilibrated at each.
    n_samples:
        HMC transitions per chain and fraction.
    n_adam, n_adam_retry, n_lbfgs, eq_path_length, target_accept, block, max_blocks:
        The equilibration (:func:`hmc_lite.equilibrate`; see
        :func:`hmc_lite.experiments._shared.equilibrate_chapter7` for the retries).
    n_lanczos:
        Hessian-vector products per chain for the stability limit.
    seed:
        Seed of every random number of the run.
    """

    models: tuple[str, ...]
    streams: tuple[int, ...]
    widths: tuple[int, ...] = (1, 56, 1)
    fractions: tuple[float, ...] = tuple(
        np.round(np.arange(0.4, 1.25, 0.1), 2).tolist()
    )
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


#: Named scales. ``book`` is chapter 7's experiment 1 (``[1, 56, 1]``, 8 modes of one
#: chain, fractions 0.4 ... 1.2 of the stability limit, ``T = 0.05``, 20 transitions;
#: the same random numbers as the chapter). The paper gives no sizes for Figure 2
#: (``/work/shared/PAPER.md``): ``paper`` is our choice of a larger run of the same
#: design: four activations, 16 modes of 4 chains, fractions 0.2 ... 1.3 in steps of
#: 0.05, 200 transitions, a longer equilibration. ``tiny`` is for tests.
FIG2_SCALES: dict[str, Fig2Settings] = {
    "tiny": Fig2Settings(
        ("sigmoid", "relu"),
        (2, 5),
        widths=(1, 5, 1),
        fractions=(0.5, 1.0),
        path_length=0.01,
        n_modes=2,
        chains_per_mode=1,
        n_samples=3,
        n_adam=30,
        n_adam_retry=60,
        n_lbfgs=10,
        eq_path_length=0.02,
        block=3,
        max_blocks=3,
        n_lanczos=5,
    ),
    "book": Fig2Settings(("sigmoid", "relu", "leaky_relu"), (2, 8, 12)),
    "paper": Fig2Settings(
        SYNTHETIC_MODELS,
        (2, 8, 12, 13),
        fractions=tuple(np.round(np.arange(0.2, 1.301, 0.05), 2).tolist()),
        n_modes=16,
        chains_per_mode=4,
        n_samples=200,
        n_adam=5000,
        n_lbfgs=1000,
        block=20,
        max_blocks=20,
    ),
}


class Fig2Result(NamedTuple):
    """Output of :func:`run_fig2`: plain numpy arrays (saved and loaded without pickle).

    ``A`` networks, ``F`` fractions, ``C`` chains (``M`` modes), ``N`` transitions.

    Attributes
    ----------
    models:
        ``(A,)`` labels. ``widths``: ``(layers,)``. ``fractions``: ``(F,)``.
    step_sizes, n_steps:
        ``(A, F)``: ``fractions`` times the network's median stability limit, and
        ``path_length / step_size`` rounded.
    accept_prob, divergent:
        ``(A, F, C, N)``: acceptance probability and divergence flag of every
        transition.
    mode:
        ``(A, C)``: mode label (``0..M-1``) of each chain, for
        :func:`hmc_lite.diagnostics.mode_summary`.
    stability_limit, start_potential:
        ``(A, C)``: at each equilibrium position.
    mode_potential:
        ``(A, M)``: ``U`` at the optimised modes.
    equilibrium_transitions, equilibrium_converged, equilibrium_retried,
    equilibrium_reoptimised:
        ``(A,)``: HMC transitions, whether the stop rule was met, whether the
        equilibration was repeated with more blocks, and how often re-optimised.
    path_length, seed, n_modes, chains, n_samples:
        Scalars (0-d arrays).
    """

    models: np.ndarray
    widths: np.ndarray
    fractions: np.ndarray
    step_sizes: np.ndarray
    n_steps: np.ndarray
    accept_prob: np.ndarray
    divergent: np.ndarray
    mode: np.ndarray
    stability_limit: np.ndarray
    start_potential: np.ndarray
    mode_potential: np.ndarray
    equilibrium_transitions: np.ndarray
    equilibrium_converged: np.ndarray
    equilibrium_retried: np.ndarray
    equilibrium_reoptimised: np.ndarray
    path_length: np.ndarray
    seed: np.ndarray
    n_modes: np.ndarray
    chains: np.ndarray
    n_samples: np.ndarray


def _check_settings(s: Fig2Settings) -> None:
    if not isinstance(s, Fig2Settings):
        raise TypeError(f"settings must be a Fig2Settings; got {type(s).__name__}")
    check_models(s, SYNTHETIC_MODELS)
    if len(s.streams) != len(s.models) or len(set(s.streams)) != len(s.streams):
        raise ValueError(
            f"settings.streams must be one distinct number per model; got {s.streams!r}"
        )
    if (
        len(s.widths) < 3
        or any(int(w) != w or w < 1 for w in s.widths)
        or s.widths[0] != 1
        or s.widths[-1] != 1
    ):
        raise ValueError(
            "settings.widths must be (1, ..., 1) with positive widths; got "
            f"{s.widths!r}"
        )
    check_positive(s, ("fractions", "path_length", "eq_path_length"))
    check_counts(
        s,
        ("n_modes", "chains_per_mode", "n_samples", "block", "max_blocks", "n_lanczos"),
        ("n_adam", "n_adam_retry", "n_lbfgs"),
    )
    if not 0 < s.target_accept < 1:
        raise ValueError(
            f"settings.target_accept must lie in (0, 1); got {s.target_accept!r}"
        )


def fig2_cost(settings: Fig2Settings) -> int:
    """Chain-transitions of the run (the progress bar): ``A * F * C * N`` of the
    measurements, plus each network's equilibration at its upper bound (it stops
    when ``U`` levels off; the bar moves during it and jumps to the bound at its end).
    """
    s = settings
    measured = len(s.models) * len(s.fractions) * s.chains * int(s.n_samples)
    return measured + len(s.models) * chapter7_equilibration_cost(s)


def _equilibrium_piece(
    s: Fig2Settings, model: str, stream: int, *, progress=None
) -> dict[str, np.ndarray]:
    return equilibrate_chapter7(s, model, tuple(s.widths), stream, progress)


def _efficiency_piece(
    s: Fig2Settings, model: str, start: np.ndarray, limits: np.ndarray, *, progress=None
) -> dict[str, np.ndarray]:
    """Chapter 7, experiment 1: every fraction from every chain, one batch."""
    pot = synthetic_potential(model, tuple(s.widths))
    F, C, N = len(s.fractions), s.chains, int(s.n_samples)
    eps_f = np.asarray(s.fractions, dtype=float) * float(np.median(limits))
    eps = np.repeat(eps_f, C)  # chains ordered (fraction, chain)
    rng = np.random.default_rng([int(s.seed), 3, SYNTHETIC_MODELS.index(model)])
    run = sample(
        pot,
        np.tile(start, (F, 1)),
        step_size=eps,
        n_steps=steps_for(s.path_length, eps),
        n_samples=N,
        rng=rng,
        callback=per_transition(progress, F * C),
    )
    return {
        "step_sizes": eps_f,
        "n_steps": steps_for(s.path_length, eps_f),
        "accept_prob": run.accept_prob.reshape(F, C, N),
        "divergent": divergent(run).reshape(F, C, N),
    }


def run_fig2(
    settings: Fig2Settings,
    *,
    seed: int | None = None,
    progress: Callable[[int], object] | None = None,
    parts: str | os.PathLike | None = None,
    client: Any | None = None,
) -> Fig2Result:
    """Run the efficiency experiment of chapter 7 (Figure 2, synthetic data).

    One piece per network equilibrates it (:func:`hmc_lite.equilibrate`) and computes
    the stability limit at every chain; a second piece per network runs the fractions of
    its median limit (:func:`hmc_lite.sample`). Each piece draws from its own streams
    (seed, stage, network), so the result does not depend on where or in which order
    pieces run.

    Parameters
    ----------
    settings:
        A scale from :data:`FIG2_SCALES` or your own :class:`Fig2Settings`.
    seed:
        Seed of all random numbers (default ``settings.seed``).
    progress:
        Called with numbers of chain-transitions as they are done; they add up to
        :func:`fig2_cost`.
    parts:
        Folder where each finished piece is saved; a rerun with the same folder and
        settings reads them back instead of recomputing them.
    client:
        A :class:`distributed.Client`: run the pieces as tasks on its workers (same
        result).
    """
    _check_settings(settings)
    s, run = start_run(
        "fig2", settings, seed=seed, parts=parts, client=client, progress=progress
    )
    eq = run_pieces(
        [
            Piece(
                f"equilibrium-{m}",
                _equilibrium_piece,
                (s, m, k),
                CHAPTER7_EQUILIBRIUM_FIELDS,
                chapter7_equilibration_cost(s),
            )
            for m, k in zip(s.models, s.streams)
        ],
        **run,
    )
    eq = [eq[f"equilibrium-{m}"] for m in s.models]
    cost = len(s.fractions) * s.chains * int(s.n_samples)
    grid = run_pieces(
        [
            Piece(
                f"efficiency-{m}",
                _efficiency_piece,
                (s, m, e["position"], e["stability_limit"]),
                ("step_sizes", "n_steps", "accept_prob", "divergent"),
                cost,
            )
            for m, e in zip(s.models, eq)
        ],
        **run,
    )
    grid = [grid[f"efficiency-{m}"] for m in s.models]
    return Fig2Result(
        models=np.array(s.models, dtype=str),
        widths=np.asarray(s.widths, dtype=int),
        fractions=np.asarray(s.fractions, dtype=float),
        **{
            key: np.stack([g[key] for g in grid])
            for key in ("step_sizes", "n_steps", "accept_prob", "divergent")
        },
        **{key: np.stack([e[key] for e in eq]) for key in CHAPTER7_RESULT_FIELDS},
        path_length=np.array(float(s.path_length)),
        seed=np.array(int(s.seed)),
        n_modes=np.array(int(s.n_modes)),
        chains=np.array(s.chains),
        n_samples=np.array(int(s.n_samples)),
    )


def save_fig2(result: Fig2Result, path: str | os.PathLike) -> pathlib.Path:
    """Write ``result`` to ``path`` (``.npz``) atomically (:func:`.save_result`)."""
    return save_result(result, path, Fig2Result)


def load_fig2(path: str | os.PathLike) -> Fig2Result:
    """Read a file written by :func:`save_fig2` (or the CLI), without pickle."""
    return load_result(path, Fig2Result, "a Figure 2 result file")
