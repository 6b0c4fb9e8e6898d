"""The leapfrog (Stormer-Verlet) integrator, vectorised over chains.

With unit mass the Hamiltonian is ``H(q, p) = U(q) + |p|^2 / 2`` and one
leapfrog step of size ``eps`` is the composition

    p <- p - (eps / 2) grad U(q)     (half kick)
    q <- q + eps p                   (drift)
    p <- p - (eps / 2) grad U(q)     (half kick)

With a diagonal mass matrix ``M = diag(1 / inverse_mass)`` the kinetic energy
is ``p^T M^-1 p / 2`` and the drift is ``q <- q + eps M^-1 p``; the default
``inverse_mass=None`` is unit mass (and the very same arithmetic). Preconditioning
with ``inverse_mass`` equal to the variances of the target is the same as
running unit-mass HMC on the standardised coordinates ``q / sqrt(inverse_mass)``.

Consecutive half kicks are merged, so ``L`` steps cost ``L`` gradient
evaluations when the gradient at the starting point is already known (it is
passed in as ``initial`` and the gradient at the end point is returned).

Every chain may have its own step size and its own number of steps, so a grid
of settings runs as one batch of chains. A chain that has taken all its steps
stays where it is while the others finish.
"""

from __future__ import annotations

from typing import Iterator, NamedTuple

import numpy as np

from .potential import Potential, ValueAndGrad, check_positions

__all__ = [
    "Trajectory",
    "Path",
    "leapfrog",
    "leapfrog_path",
    "kinetic_energy",
    "check_step_size",
    "per_chain",
    "check_n_steps",
    "check_inverse_mass",
]


class Trajectory(NamedTuple):
    """End point of a leapfrog trajectory.

    Attributes
    ----------
    position, momentum:
        Shape ``(chains, dim)``.
    potential_energy:
        ``U(position)``, shape ``(chains,)``.
    gradient:
        ``grad U(position)``, shape ``(chains, dim)``; reused by the next
        transition so that it is not computed twice.
    """

    position: np.ndarray
    momentum: np.ndarray
    potential_energy: np.ndarray
    gradient: np.ndarray


class Path(NamedTuple):
    """Every point of a leapfrog trajectory, for figures and error analysis.

    Attributes
    ----------
    positions, momenta:
        Shape ``(chains, L + 1, dim)``; index 0 is the starting point.
    potential_energy:
        Shape ``(chains, L + 1)``.
    hamiltonian:
        ``U + |p|^2 / 2`` along the path, shape ``(chains, L + 1)``.
    """

    positions: np.ndarray
    momenta: np.ndarray
    potential_energy: np.ndarray
    hamiltonian: np.ndarray


def kinetic_energy(p: np.ndarray, inverse_mass: np.ndarray | None = None) -> np.ndarray:
    """Kinetic energy of the momenta ``p`` (shape ``(..., dim)``), one value per row.

    ``|p|^2 / 2`` for unit mass (``inverse_mass=None``), otherwise
    ``sum(inverse_mass * p^2) / 2``, with ``inverse_mass`` broadcast against ``p``.
    """
    if inverse_mass is None:
        return 0.5 * np.sum(np.square(p), axis=-1)
    return 0.5 * np.sum(inverse_mass * np.square(p), axis=-1)


def check_inverse_mass(inverse_mass: np.ndarray | None, chains: int, dim: int) -> np.ndarray | None:
    """Return the diagonal inverse mass as an array of shape ``(chains, dim)``, or ``None``.

    ``inverse_mass`` is ``None`` (unit mass), shape ``(dim,)`` (shared by all
    chains) or shape ``(chains, dim)``; its entries must be positive and
    finite. Errors name the argument.
    """
    if inverse_mass is None:
        return None
    if isinstance(inverse_mass, bool):
        raise TypeError(f"inverse_mass must be an array of numbers or None; got {inverse_mass!r}")
    try:
        arr = np.asarray(inverse_mass, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(f"inverse_mass must be an array of numbers or None; got {inverse_mass!r}") from err
    if arr.shape not in ((dim,), (chains, dim)):
        raise ValueError(f"inverse_mass must have shape ({dim},) or ({chains}, {dim}); got {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError("inverse_mass must be positive and finite")
    return np.broadcast_to(arr, (chains, dim)).copy()


def per_chain(value: float | np.ndarray, name: str, chains: int) -> np.ndarray:
    """A number or one number per chain, as a float array of shape ``(chains,)``.

    Raises ``TypeError`` for non-numbers (booleans included) and ``ValueError``
    for a wrong shape, naming the argument ``name``.
    """
    if isinstance(value, (bool, np.bool_)) or np.asarray(value).dtype.kind not in "iufO":
        raise TypeError(f"{name} must be a number or an array of numbers; got {value!r}")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be a number or an array of numbers; got {value!r}") from err
    if arr.ndim > 1 or (arr.ndim == 1 and arr.shape[0] != chains):
        raise ValueError(f"{name} must be a scalar or have shape ({chains},); got shape {arr.shape}")
    return np.broadcast_to(arr, (chains,)).copy()


def check_step_size(step_size: float | np.ndarray, chains: int) -> np.ndarray:
    """Return the step size as an array of shape ``(chains,)`` or raise ``ValueError``."""
    eps = per_chain(step_size, "step_size", chains)
    if not np.all(np.isfinite(eps)) or np.any(eps <= 0):
        raise ValueError(f"step_size must be positive and finite; got {step_size!r}")
    return eps


#: Largest accepted number of leapfrog steps per trajectory (far beyond any run's budget).
MAX_N_STEPS = 10**12


def check_n_steps(n_steps: int | np.ndarray, chains: int) -> np.ndarray:
    """Return the number of steps as an integer array of shape ``(chains,)`` or raise."""
    arr = np.asarray(n_steps)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"n_steps must be an integer or an array of integers, got {n_steps!r}")
    if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
        raise TypeError(f"n_steps must be an integer or an array of integers, got {n_steps!r}")
    if arr.ndim > 1 or (arr.ndim == 1 and arr.shape[0] != chains):
        raise ValueError(f"n_steps must be a scalar or have shape ({chains},); got {arr.shape}")
    if np.any(arr < 1):
        raise ValueError(f"n_steps must be at least 1; got {n_steps!r}")
    if np.any(arr > MAX_N_STEPS):  # larger values would wrap around in a 64-bit integer
        raise ValueError(f"n_steps must be at most {MAX_N_STEPS:.0e}; got {n_steps!r}")
    return np.broadcast_to(arr.astype(int), (chains,)).copy()


def _steps(
    potential: Potential,
    q: np.ndarray,
    p: np.ndarray,
    step_size: float | np.ndarray,
    n_steps: int | np.ndarray,
    initial: ValueAndGrad | None,
    inverse_mass: np.ndarray | None = None,
) -> Iterator[Trajectory]:
    """Yield the starting point, then the state after each leapfrog step."""
    q = check_positions(q, "q", potential.dim)
    p = check_positions(p, "p", q.shape[1])
    if p.shape != q.shape:
        raise ValueError(f"p must have the same shape as q {q.shape}; got {p.shape}")
    chains = q.shape[0]
    eps = check_step_size(step_size, chains)[:, None]
    steps = check_n_steps(n_steps, chains)
    inv_mass = check_inverse_mass(inverse_mass, chains, q.shape[1])
    if initial is None:
        initial = potential.value_and_grad(q)
    u, g = np.asarray(initial.value, dtype=float), np.asarray(initial.grad, dtype=float)
    if u.shape != (chains,) or g.shape != q.shape:
        raise ValueError("initial must hold the potential (chains,) and gradient (chains, dim) at q")
    q, p = q.copy(), p.copy()
    yield Trajectory(q, p, u, g)
    for i in range(int(steps.max())):
        active = (i < steps)[:, None]
        # Overflow inside a trajectory is expected for too large step sizes;
        # the caller sees it as a non-finite energy and treats it as a
        # divergence. The error state is set per step (not around ``yield``)
        # so that it never leaks into the caller's code.
        with np.errstate(all="ignore"):
            p_half = p - 0.5 * eps * g
            q_new = q + eps * (p_half if inv_mass is None else inv_mass * p_half)
            u_new, g_new = potential.value_and_grad(q_new, check=False)
            p_new = p_half - 0.5 * eps * g_new
        q = np.where(active, q_new, q)
        p = np.where(active, p_new, p)
        g = np.where(active, g_new, g)
        u = np.where(active[:, 0], u_new, u)
        yield Trajectory(q, p, u, g)


def leapfrog(
    potential: Potential,
    q: np.ndarray,
    p: np.ndarray,
    step_size: float | np.ndarray,
    n_steps: int | np.ndarray,
    initial: ValueAndGrad | None = None,
    inverse_mass: np.ndarray | None = None,
) -> Trajectory:
    """Integrate Hamilton's equations with ``n_steps`` leapfrog steps.

    Parameters
    ----------
    potential:
        The potential energy ``U``.
    q, p:
        Starting positions and momenta, shape ``(chains, dim)``.
    step_size:
        ``eps > 0``, a scalar or one value per chain.
    n_steps:
        ``L >= 1``, an integer or one integer per chain.
    initial:
        Value and gradient of ``U`` at ``q`` if already known (saves one
        gradient evaluation).
    inverse_mass:
        Diagonal of the inverse mass matrix ``M^-1``, shape ``(dim,)`` or
        ``(chains, dim)``; ``None`` (the default) is unit mass.

    Returns
    -------
    Trajectory
        The end point with its potential energy and gradient. Non-finite
        values are returned as they are (they signal a divergence).
    """
    last = None
    for last in _steps(potential, q, p, step_size, n_steps, initial, inverse_mass):
        pass
    assert last is not None
    return last


def leapfrog_path(
    potential: Potential,
    q: np.ndarray,
    p: np.ndarray,
    step_size: float | np.ndarray,
    n_steps: int | np.ndarray,
    initial: ValueAndGrad | None = None,
    inverse_mass: np.ndarray | None = None,
) -> Path:
    """Like :func:`leapfrog`, but return every point of the trajectory.

    A chain with fewer steps than the longest one repeats its end point. With
    ``inverse_mass``, ``hamiltonian`` uses the kinetic energy of that mass.
    """
    points = list(_steps(potential, q, p, step_size, n_steps, initial, inverse_mass))
    positions = np.stack([t.position for t in points], axis=1)
    momenta = np.stack([t.momentum for t in points], axis=1)
    u = np.stack([t.potential_energy for t in points], axis=1)
    inv_mass = check_inverse_mass(inverse_mass, *positions[:, 0].shape)
    with np.errstate(all="ignore"):
        h = u + kinetic_energy(momenta, None if inv_mass is None else inv_mass[:, None, :])
    return Path(positions, momenta, u, h)
