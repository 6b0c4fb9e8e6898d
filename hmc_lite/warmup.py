"""A shared warm-up: optimise to a mode, then spread the chains with HMC.

Acceptance rates measured during burn-in say little about the posterior, so
the experiments start every chain from a common warm-up: Adam descends the
potential from one starting point, the result is copied to every chain, and a
short run of HMC with a small step size lets the chains separate and settle
into the typical set around that mode.

:func:`hmc_lite.equilibrate` supersedes :func:`shared_warmup`: the short
spreading run here does not reach the typical set of a Bayesian network.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validation import check_positions, check_rng
from .kernel import sample
from .potential import Potential

__all__ = ["adam", "WarmupResult", "shared_warmup"]


def adam(
    potential: Potential,
    initial_position: np.ndarray,
    n_iter: int = 2000,
    learning_rate: float = 0.01,
    beta1: float = 0.9,
    beta2: float = 0.999,
) -> np.ndarray:
    """Minimise the potential of every row of ``initial_position`` with Adam.

    Parameters
    ----------
    potential:
        The potential energy to minimise.
    initial_position:
        Starting points, shape ``(n, dim)``; each row is optimised on its own.
    n_iter, learning_rate:
        Number of iterations (0 returns a copy of the start) and step size.
    beta1, beta2:
        Decay rates of the moment estimates, each in ``[0, 1)``.

    Returns
    -------
    numpy.ndarray
        The optimised positions, shape ``(n, dim)``.

    Raises
    ------
    ValueError
        For a bad argument (named), or if the iterates stop being finite (the
        potential or its gradient is not finite there: lower ``learning_rate``).
    """
    q = check_positions(initial_position, "initial_position", potential.dim).copy()
    if isinstance(n_iter, bool) or int(n_iter) != n_iter or n_iter < 0:
        raise ValueError(f"n_iter must be a non-negative integer; got {n_iter!r}")
    if not np.isfinite(learning_rate) or learning_rate <= 0:
        raise ValueError(
            f"learning_rate must be positive and finite; got {learning_rate!r}"
        )
    for name, beta in (("beta1", beta1), ("beta2", beta2)):
        if not (np.isfinite(beta) and 0 <= beta < 1):
            raise ValueError(f"{name} must be in [0, 1); got {beta!r}")
    m = np.zeros_like(q)
    v = np.zeros_like(q)
    for t in range(1, int(n_iter) + 1):
        with np.errstate(over="ignore", invalid="ignore"):  # reported below, not warned
            g = potential.value_and_grad(q, check=False).gradient
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g**2
            q = q - learning_rate * (m / (1 - beta1**t)) / (
                np.sqrt(v / (1 - beta2**t)) + 1e-8
            )
        if not np.all(np.isfinite(q)):
            raise ValueError(
                f"adam: the iterates became non-finite at iteration {t} (the potential "
                "or its "
                "gradient is not finite there); try a smaller learning_rate than "
                f"{learning_rate!r}"
            )
    return q


class WarmupResult(NamedTuple):
    """Positions after the shared warm-up, shape ``(chains, dim)``, and the
    mean acceptance probability of the spreading HMC run."""

    position: np.ndarray
    mean_accept_prob: float


def shared_warmup(
    potential: Potential,
    initial_position: np.ndarray,
    chains: int,
    *,
    rng: np.random.Generator,
    n_optim: int = 10000,
    learning_rate: float = 0.01,
    step_size: float = 0.001,
    n_steps: int = 50,
    n_hmc: int = 100,
) -> WarmupResult:
    """Start ``chains`` chains from one optimised point and spread them with HMC.

    Superseded by :func:`hmc_lite.equilibrate`, which optimises from several
    starting points and runs HMC until the potential energy has levelled off:
    the short, small-step run here leaves the chains near the mode, below the
    typical set. Kept so that existing chapters run unchanged.

    Parameters
    ----------
    initial_position:
        One starting point, shape ``(1, dim)`` or ``(dim,)``.
    chains:
        How many chains to return.
    n_optim, learning_rate:
        Adam iterations and step.
    step_size, n_steps, n_hmc:
        Settings of the HMC run that spreads the chains (a small step size
        keeps the acceptance high, whatever the activation).
    """
    check_rng(rng)
    start = np.atleast_2d(np.asarray(initial_position, dtype=float))
    if start.shape[0] != 1:
        raise ValueError(
            f"initial_position must be one point, shape (1, dim); got {start.shape}"
        )
    if isinstance(chains, bool) or int(chains) != chains or chains < 1:
        raise ValueError(f"chains must be a positive integer; got {chains!r}")
    mode = adam(potential, start, n_optim, learning_rate)
    spread = sample(
        potential,
        np.repeat(mode, int(chains), axis=0),
        step_size,
        n_steps,
        n_hmc,
        rng=rng,
    )
    return WarmupResult(spread.final_state.position, float(spread.accept_prob.mean()))
