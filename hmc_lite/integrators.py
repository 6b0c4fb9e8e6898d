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
stays where it is, at no further cost, while the others finish. Large batches are
integrated in blocks of chains (see :data:`BLOCK_NUMBERS`). Chains never interact:
for the package's network and product potentials, whose rows are computed
independently, a chain's numbers are the same to the last bit whatever the batch (a
potential built on matrix products may round a row differently in a batch of another
size).
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Sequence

import numpy as np

from ._validation import (
    check_inverse_mass,
    check_n_steps,
    check_positions,
    check_step_size,
)
from .potential import Potential, ValueAndGrad

__all__ = [
    "BLOCK_NUMBERS",
    "LeapfrogPoint",
    "LeapfrogPath",
    "leapfrog",
    "leapfrog_path",
    "kinetic_energy",
    "energy_error",
]


#: Numbers per ``(chains, dim)`` array of one block of chains: :func:`leapfrog`,
#: :func:`energy_error` and :func:`~hmc_lite.hmc_step` integrate ``max(1,
#: BLOCK_NUMBERS // dim)`` chains at a time, so that the arrays of a step (256 kB each
#: by default) stay in the processor's cache from one pass over them to the next. On
#: 1000 chains of a 1600-dimensional product target, 40 steps took 0.62 s instead of
#: 1.38 s for the whole batch at once (2-core machine, December 2026). The results do
#: not depend on it (see the module notes): change it to tune for another processor.
BLOCK_NUMBERS = 1 << 15


class LeapfrogPoint(NamedTuple):
    """One point of a leapfrog trajectory (:func:`leapfrog` returns the last one).

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


class LeapfrogPath(NamedTuple):
    """Every point of a leapfrog trajectory, stacked (from :func:`leapfrog_path`), for
    figures and error analysis.

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


class _Arguments(NamedTuple):
    """The checked arguments of :func:`leapfrog`, in the order :func:`_integrate`
    takes them."""

    potential: Potential
    q: np.ndarray
    p: np.ndarray
    eps: np.ndarray
    steps: np.ndarray
    initial: ValueAndGrad
    inv_mass: np.ndarray | None


def _checked_arguments(
    potential: Potential,
    q: np.ndarray,
    p: np.ndarray,
    step_size: float | np.ndarray,
    n_steps: int | np.ndarray,
    initial: ValueAndGrad | None,
    inverse_mass: np.ndarray | None = None,
) -> _Arguments:
    """Check the arguments of :func:`leapfrog` (raising errors that name them); return
    them in the form :func:`_integrate` takes."""
    q = check_positions(q, "q", potential.dim)
    p = check_positions(p, "p", q.shape[1])
    if p.shape != q.shape:
        raise ValueError(f"p must have the same shape as q {q.shape}; got {p.shape}")
    chains = q.shape[0]
    eps = check_step_size(step_size, chains)
    steps = check_n_steps(n_steps, chains)
    inv_mass = check_inverse_mass(inverse_mass, chains, q.shape[1])
    if initial is None:
        initial = potential.value_and_grad(q)
    u, g = np.asarray(initial.value, dtype=float), np.asarray(
        initial.gradient, dtype=float
    )
    if u.shape != (chains,) or g.shape != q.shape:
        raise ValueError(
            "initial must hold the potential (chains,) and gradient (chains, dim) at q"
        )
    return _Arguments(potential, q, p, eps, steps, ValueAndGrad(u, g), inv_mass)


def _integrate(
    potential: Potential,
    q: np.ndarray,
    p: np.ndarray,
    eps: np.ndarray,
    steps: np.ndarray,
    initial: ValueAndGrad,
    inv_mass: np.ndarray | None,
    path: list[LeapfrogPoint] | None = None,
) -> LeapfrogPoint:
    """Integrate every chain for its number of steps; return the end point.

    The arguments are already checked: ``q`` and ``p`` of shape
    ``(chains, dim)``, ``eps`` and ``steps`` of shape ``(chains,)``,
    ``inv_mass`` ``None`` or of shape ``(chains, dim)``, ``initial`` the
    potential and gradient at ``q``. :func:`hmc_step` calls this directly so
    that a transition does not check its arguments twice. When ``path`` is a
    list, the starting point and the state after every step are appended to it;
    otherwise batches of more than one block of chains (:data:`BLOCK_NUMBERS`) are
    integrated block by block.
    """
    chains, dim = q.shape
    block = max(1, BLOCK_NUMBERS // dim)
    if path is None and chains > block:
        ends = [
            _integrate(
                potential,
                q[rows],
                p[rows],
                eps[rows],
                steps[rows],
                ValueAndGrad(initial.value[rows], initial.gradient[rows]),
                None if inv_mass is None else inv_mass[rows],
            )
            for rows in (slice(i, i + block) for i in range(0, chains, block))
        ]
        return LeapfrogPoint(*(np.concatenate(field) for field in zip(*ends)))
    eps = eps[:, None]
    half_eps = 0.5 * eps
    u, g = initial
    record = (  # appends a point of the trajectory to path
        None if path is None else (lambda *point: path.append(LeapfrogPoint(*point)))
    )
    if record is not None:
        record(q.copy(), p.copy(), u, g)
    # Overflow inside a trajectory is expected for too large step sizes; the caller
    # sees it as a non-finite energy and treats it as a divergence. The loop hands
    # nothing back before it ends, so the error state never leaks into the caller.
    with np.errstate(all="ignore"):
        done = 0
        for level in np.unique(steps):  # the chains' step counts, ascending
            # Steps done + 1 .. level move the chains with more than `done` steps,
            # on arrays of their rows alone; the others keep their state. A row's
            # arithmetic is unchanged (see the module notes).
            if done == 0:
                q, p, u, g = leapfrog_steps(
                    potential, q, p, u, g, eps, half_eps, inv_mass, int(level), record
                )
            else:
                rows, whole = np.flatnonzero(steps > done), (q, p, u, g)
                part = leapfrog_steps(
                    potential, q[rows], p[rows], u[rows], g[rows], eps[rows],
                    half_eps[rows], None if inv_mass is None else inv_mass[rows],
                    int(level) - done,
                    None if record is None
                    else (lambda *point: record(*with_rows(whole, rows, point))),
                )
                q, p, u, g = with_rows(whole, rows, part)
            done = int(level)
    return LeapfrogPoint(q, p, u, g)


def leapfrog_steps(
    potential: Potential,
    q: np.ndarray,
    p: np.ndarray,
    u: np.ndarray,
    g: np.ndarray,
    eps: np.ndarray,
    half_eps: np.ndarray,
    inv_mass: np.ndarray | None,
    n: int,
    record: Callable[..., object] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``n`` leapfrog steps of every row; return ``(q, p, u, g)`` at the end.

    The arithmetic of every integrator of the package (:func:`leapfrog` and its
    relatives, :mod:`~hmc_lite.nuts`). The arguments are used as given, unchecked:
    ``q``, ``p``, ``g`` and ``inv_mass`` (or ``None``) of shape ``(chains, dim)``,
    ``u`` of shape ``(chains,)``, ``eps`` and ``half_eps = 0.5 * eps`` of shape
    ``(chains, 1)``; ``g`` and ``u`` are the gradient and potential at ``q``. No
    array is modified; every step makes new ones. ``record``, if given, is called
    with ``(q, p, u, g)`` after every step.
    """
    for _ in range(n):
        p_half = p - half_eps * g
        q = q + eps * (p_half if inv_mass is None else inv_mass * p_half)
        u_new, g_new = potential.value_and_grad(q, check=False)
        p = p_half - half_eps * g_new
        u, g = np.asarray(u_new, dtype=float), np.asarray(g_new, dtype=float)
        if record is not None:
            record(q, p, u, g)
    return q, p, u, g


def with_rows(
    whole: Sequence[np.ndarray], rows: np.ndarray, part: Sequence[np.ndarray]
) -> list[np.ndarray]:
    """Copies of the arrays ``whole`` (chains along the first axis) in which the rows
    ``rows`` are replaced by the arrays ``part``: the state of a batch of which only
    some chains moved."""
    out = [np.array(a, dtype=float) for a in whole]
    for a, value in zip(out, part):
        a[rows] = value
    return out


def leapfrog(
    potential: Potential,
    q: np.ndarray,
    p: np.ndarray,
    step_size: float | np.ndarray,
    n_steps: int | np.ndarray,
    initial: ValueAndGrad | None = None,
    inverse_mass: np.ndarray | None = None,
) -> LeapfrogPoint:
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
    LeapfrogPoint
        The end point with its potential energy and gradient. Non-finite
        values are returned as they are (they signal a divergence).
    """
    return _integrate(
        *_checked_arguments(potential, q, p, step_size, n_steps, initial, inverse_mass)
    )


def energy_error(
    potential: Potential,
    q: np.ndarray,
    p: np.ndarray,
    step_size: float | np.ndarray,
    n_steps: int | np.ndarray,
    initial: ValueAndGrad | None = None,
    inverse_mass: np.ndarray | None = None,
) -> np.ndarray:
    """The energy error ``dH = H(end) - H(start)`` of each chain's leapfrog trajectory.

    Same arguments as :func:`leapfrog`; returns shape ``(chains,)``. Where the
    trajectory overflowed the result is not finite (``inf`` or ``nan``), as
    :func:`~hmc_lite.kernel.hmc_step` sees it before counting a divergence.

    Examples
    --------
    >>> import autograd.numpy as anp
    >>> osc = Potential(lambda q: 0.5 * anp.sum(q**2, axis=1), dim=1)
    >>> dh = energy_error(osc, np.array([[1.0]]), np.array([[0.0]]), 0.1, 1)
    >>> f"{dh[0]:.4e}"
    '-1.2469e-05'
    """
    args = _checked_arguments(
        potential, q, p, step_size, n_steps, initial, inverse_mass
    )
    end = _integrate(*args)
    with np.errstate(all="ignore"):
        h0 = args.initial.value + kinetic_energy(args.p, args.inv_mass)
        return end.potential_energy + kinetic_energy(end.momentum, args.inv_mass) - h0


def leapfrog_path(
    potential: Potential,
    q: np.ndarray,
    p: np.ndarray,
    step_size: float | np.ndarray,
    n_steps: int | np.ndarray,
    initial: ValueAndGrad | None = None,
    inverse_mass: np.ndarray | None = None,
) -> LeapfrogPath:
    """Like :func:`leapfrog`, but return every point of the trajectory.

    A chain with fewer steps than the longest one repeats its end point. With
    ``inverse_mass``, ``hamiltonian`` uses the kinetic energy of that mass.
    """
    points: list[LeapfrogPoint] = []
    _integrate(
        *_checked_arguments(potential, q, p, step_size, n_steps, initial, inverse_mass),
        path=points,
    )
    positions = np.stack([t.position for t in points], axis=1)
    momenta = np.stack([t.momentum for t in points], axis=1)
    u = np.stack([t.potential_energy for t in points], axis=1)
    inv_mass = check_inverse_mass(inverse_mass, *positions[:, 0].shape)
    with np.errstate(all="ignore"):
        h = u + kinetic_energy(
            momenta, None if inv_mass is None else inv_mass[:, None, :]
        )
    return LeapfrogPath(positions, momenta, u, h)
