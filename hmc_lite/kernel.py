"""The HMC transition kernel and a vectorised sampling loop.

One transition from position ``q`` with potential ``U``:

1. draw a fresh momentum ``p ~ N(0, M)`` (``M = I`` unless a diagonal
   ``inverse_mass = diag(M^-1)`` is given);
2. run ``L`` leapfrog steps of size ``eps`` to ``(q*, p*)``;
3. propose ``(q*, -p*)`` and accept it with probability
   ``min(1, exp(-dH))``, where ``dH = H(q*, p*) - H(q, p)``;
4. keep ``q`` otherwise.

The momentum flip in step 3 makes the proposal an involution: leapfrog is
time-reversible, so integrating from ``(q*, -p*)`` lands on ``(q, -p)``, and
flipping again returns ``(q, p)``. Together with volume preservation this makes
the Metropolis ratio the ratio of densities alone, and the chain leaves the
target exactly invariant whatever the discretisation error. The flip has no
effect on the position chain because the momentum is redrawn at the next
transition, so it is not carried out explicitly.

Chains run in parallel along the leading axis. A trajectory whose energy error
is not finite, or larger than ``divergence_threshold``, is a *divergence*: it
is rejected (the chain keeps its last finite state) and counted.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from ._validation import (
    check_int,
    check_inverse_mass,
    check_n_steps,
    check_positions,
    check_positive_float,
    check_rng,
    check_state,
    check_step_size,
)
from .integrators import _integrate, kinetic_energy
from .potential import Potential, ValueAndGrad

__all__ = ["HMCState", "HMCInfo", "SampleResult", "init_state", "hmc_step", "sample"]


class HMCState(NamedTuple):
    """Where the chains are, with the potential and gradient cached there.

    ``position`` and ``gradient`` have shape ``(chains, dim)``;
    ``potential_energy`` has shape ``(chains,)``.
    """

    position: np.ndarray
    potential_energy: np.ndarray
    gradient: np.ndarray


class HMCInfo(NamedTuple):
    """What happened in one transition; every field has shape ``(chains,)``.

    Attributes
    ----------
    accept_prob:
        Metropolis acceptance probability ``min(1, exp(-dH))`` (0 for a
        divergence).
    is_accepted:
        Whether the proposal was accepted.
    is_divergent:
        Whether the trajectory diverged (non-finite or huge energy error).
    energy_error:
        ``dH = H(end) - H(start)``; ``inf`` where it is not finite.
    """

    accept_prob: np.ndarray
    is_accepted: np.ndarray
    is_divergent: np.ndarray
    energy_error: np.ndarray


class SampleResult(NamedTuple):
    """Output of :func:`sample`.

    Attributes
    ----------
    positions:
        Shape ``(chains, n_samples, dim)``: the state after each transition.
    accept_prob, is_accepted, is_divergent, energy_error:
        Shape ``(chains, n_samples)``, one entry per transition: the fields of
        :class:`HMCInfo`, in its order (:attr:`info` returns them as one
        stacked :class:`HMCInfo`).
    final_state:
        The :class:`HMCState` after the last transition, to continue sampling.
    """

    positions: np.ndarray
    accept_prob: np.ndarray
    is_accepted: np.ndarray
    is_divergent: np.ndarray
    energy_error: np.ndarray
    final_state: HMCState

    @property
    def info(self) -> HMCInfo:
        """The per-transition :class:`HMCInfo`, fields of shape ``(chains, n_samples)``.
        """
        return HMCInfo(*(getattr(self, name) for name in HMCInfo._fields))


def init_state(potential: Potential, position: np.ndarray) -> HMCState:
    """Evaluate the potential and its gradient at ``position`` (shape
    ``(chains, dim)``)."""
    # a copy: the state must not change when the caller later edits its array
    position = check_positions(position, "initial_position", potential.dim).copy()
    u, g = potential.value_and_grad(position)
    if not np.all(np.isfinite(u)) or not np.all(np.isfinite(g)):
        raise ValueError(
            "initial_position must have finite potential energy and gradient"
        )
    return HMCState(position, u, g)


def hmc_step(
    state: HMCState,
    potential: Potential,
    step_size: float | np.ndarray,
    n_steps: int | np.ndarray,
    *,
    rng: np.random.Generator,
    divergence_threshold: float = 1000.0,
    inverse_mass: np.ndarray | None = None,
) -> tuple[HMCState, HMCInfo]:
    """One HMC transition for every chain; costs ``max(n_steps)`` gradient evaluations.

    ``step_size`` and ``n_steps`` may be scalars or one value per chain.
    ``inverse_mass`` is the diagonal of ``M^-1``, shape ``(dim,)`` or
    ``(chains, dim)``: momenta are drawn from ``N(0, M)`` and the kinetic
    energy is ``p^T M^-1 p / 2``; ``None`` is unit mass.
    ``rng``, the only source of randomness, is passed by name.
    Returns the new state and an :class:`HMCInfo` whose fields always have
    shape ``(chains,)``.
    """
    check_rng(rng)
    threshold = check_positive_float(divergence_threshold, "divergence_threshold")
    chains = check_state(state, potential.dim)
    return _transition(
        rng,
        state,
        potential,
        check_step_size(step_size, chains),
        check_n_steps(n_steps, chains),
        threshold,
        check_inverse_mass(inverse_mass, chains, np.shape(state.position)[1]),
    )


def _transition(
    rng: np.random.Generator,
    state: HMCState,
    potential: Potential,
    eps: np.ndarray,
    steps: np.ndarray,
    divergence_threshold: float,
    inv_mass: np.ndarray | None,
) -> tuple[HMCState, HMCInfo]:
    """:func:`hmc_step` with checked arguments (``eps``, ``steps`` of shape
    ``(chains,)``)."""
    q = state.position
    chains = q.shape[0]
    p = rng.standard_normal(q.shape)
    if inv_mass is not None:
        p = p / np.sqrt(inv_mass)  # sd sqrt(M) = 1 / sqrt(M^-1)
    initial = ValueAndGrad(state.potential_energy, state.gradient)
    end = _integrate(potential, q, p, eps, steps, initial, inv_mass)
    with np.errstate(all="ignore"):
        h0 = state.potential_energy + kinetic_energy(p, inv_mass)
        h1 = end.potential_energy + kinetic_energy(end.momentum, inv_mass)
        dh = h1 - h0
        finite = (
            np.isfinite(dh)
            & np.all(np.isfinite(end.position), axis=1)
            & np.all(np.isfinite(end.gradient), axis=1)
        )
        divergent = ~finite | (dh > divergence_threshold)
        accept_prob = np.where(finite, np.exp(-np.clip(dh, 0.0, None)), 0.0)
    accept_prob = np.where(divergent, 0.0, accept_prob)
    accepted = rng.random(chains) < accept_prob
    keep = accepted[:, None]
    new_state = HMCState(
        np.where(keep, end.position, q),
        np.where(accepted, end.potential_energy, state.potential_energy),
        np.where(keep, end.gradient, state.gradient),
    )
    energy_error = np.where(finite, dh, np.inf)
    return new_state, HMCInfo(accept_prob, accepted, divergent, energy_error)


def sample(
    potential: Potential,
    initial_position: np.ndarray,
    step_size: float | np.ndarray,
    n_steps: int | np.ndarray,
    n_samples: int,
    *,
    rng: np.random.Generator,
    divergence_threshold: float = 1000.0,
    inverse_mass: np.ndarray | None = None,
    callback: Callable[[int], object] | None = None,
) -> SampleResult:
    """Run ``n_samples`` HMC transitions on every chain.

    Parameters
    ----------
    potential:
        The potential energy ``U = -log pi``.
    initial_position:
        Shape ``(chains, dim)``; one row per chain.
    step_size, n_steps:
        Leapfrog step size ``eps > 0`` and number of steps ``L >= 1``; scalars
        or one value per chain, so that a grid of settings is one batch.
    n_samples:
        Number of transitions (each is recorded).
    rng:
        The only source of randomness.
    divergence_threshold:
        Energy errors above this count as divergences.
    inverse_mass:
        Diagonal of the inverse mass matrix, shape ``(dim,)`` or
        ``(chains, dim)``, e.g. the variances of the target (see
        :func:`~hmc_lite.adaptation.adapt_diagonal_mass`); ``None`` (the
        default) is unit mass.
    callback:
        Called after every transition with its index ``0 .. n_samples - 1``
        (e.g. to move a progress bar); its return value is ignored.

    Returns
    -------
    SampleResult
        Chains along the leading axis of every array.

    Examples
    --------
    >>> import autograd.numpy as anp
    >>> gauss = Potential(lambda q: 0.5 * anp.sum(q**2, axis=1))
    >>> res = sample(gauss, np.zeros((4, 2)), 0.5, 5, 100, rng=np.random.default_rng(1))
    >>> res.positions.shape, res.accept_prob.shape
    ((4, 100, 2), (4, 100))
    """
    check_rng(rng)
    n_samples = check_int(n_samples, "n_samples")
    threshold = check_positive_float(divergence_threshold, "divergence_threshold")
    state = init_state(potential, initial_position)
    chains, dim = state.position.shape
    step_size = check_step_size(step_size, chains)
    n_steps = check_n_steps(n_steps, chains)
    inverse_mass = check_inverse_mass(inverse_mass, chains, dim)

    positions = np.empty((chains, n_samples, dim))
    info = HMCInfo(
        accept_prob=np.empty((chains, n_samples)),
        is_accepted=np.empty((chains, n_samples), dtype=bool),
        is_divergent=np.empty((chains, n_samples), dtype=bool),
        energy_error=np.empty((chains, n_samples)),
    )
    for i in range(n_samples):
        state, step_info = _transition(
            rng, state, potential, step_size, n_steps, threshold, inverse_mass
        )
        positions[:, i] = state.position
        for record, value in zip(info, step_info):
            record[:, i] = value
        if callback is not None:
            callback(i)
    return SampleResult(positions=positions, final_state=state, **info._asdict())
