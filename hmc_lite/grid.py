"""Grids of sampler settings run as a few large batches.

:func:`run_grid` runs HMC for every pair of a step-size grid and a grid of
numbers of leapfrog steps, all from the same starting positions: one batch per
number of steps, in which every step size and chain runs together.
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Sequence

import numpy as np

from ._validation import (
    check_float_array,
    check_int,
    check_n_steps,
    check_positions,
    check_rng,
)
from .kernel import HMCInfo, sample
from .potential import Potential

__all__ = ["GridResult", "run_grid"]


class GridResult(NamedTuple):
    """HMC runs over a grid of step sizes and numbers of steps.

    Attributes
    ----------
    step_sizes:
        Shape ``(S,)``.
    n_steps:
        Shape ``(K,)``.
    positions:
        Shape ``(S, K, chains, draws, dim)``.
    accept_prob, is_accepted, is_divergent, energy_error:
        Shape ``(S, K, chains, draws)``: the fields of
        :class:`~hmc_lite.HMCInfo`, one entry per transition.
    """

    step_sizes: np.ndarray
    n_steps: np.ndarray
    positions: np.ndarray
    accept_prob: np.ndarray
    is_accepted: np.ndarray
    is_divergent: np.ndarray
    energy_error: np.ndarray


def run_grid(
    potential: Potential,
    initial_position: np.ndarray,
    step_sizes: Sequence[float],
    n_steps: Sequence[int],
    n_samples: int,
    *,
    rng: np.random.Generator,
    progress: Callable[[int], object] | None = None,
) -> GridResult:
    """Sample from ``initial_position`` (shape ``(chains, dim)``) with every
    ``(eps, L)`` pair.

    Every setting starts from the same ``chains`` positions, so settings differ
    only in the sampler, not in where the chains begin. The cost is
    ``n_samples * sum(n_steps)`` batched gradient evaluations.

    ``progress``, if given, is called after every transition of every batch
    with the number of chain-gradient evaluations it cost (they add up to
    ``len(step_sizes) * chains * n_samples * sum(n_steps)``).
    """
    check_rng(rng)
    start = check_positions(initial_position, "initial_position", potential.dim)
    n_samples = check_int(n_samples, "n_samples")
    eps = check_float_array(step_sizes, "step_sizes").ravel()
    steps = np.asarray(n_steps).ravel()
    if eps.size < 1 or steps.size < 1:
        raise ValueError("step_sizes and n_steps must each hold at least one value")
    if not np.all(np.isfinite(eps)) or np.any(eps <= 0):
        raise ValueError(f"step_sizes must be positive and finite; got {step_sizes!r}")
    steps = check_n_steps(steps, steps.size)
    chains, dim = start.shape
    S, K = eps.size, steps.size
    positions = np.empty((S, K, chains, n_samples, dim))
    info = {name: None for name in HMCInfo._fields}
    batch_start = np.tile(start, (S, 1))
    batch_eps = np.repeat(eps, chains)
    for k, L in enumerate(steps):
        cost = S * chains * int(L)
        tick = None if progress is None else (lambda i, cost=cost: progress(cost))
        res = sample(
            potential, batch_start, batch_eps, int(L), n_samples, rng=rng, callback=tick
        )
        positions[:, k] = res.positions.reshape(S, chains, n_samples, dim)
        for name, value in res.info._asdict().items():
            if info[name] is None:
                info[name] = np.empty((S, K, chains, n_samples), dtype=value.dtype)
            info[name][:, k] = value.reshape(S, chains, n_samples)
    return GridResult(eps, steps.astype(int), positions, **info)
