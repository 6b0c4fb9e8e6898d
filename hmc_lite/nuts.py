"""The No-U-Turn sampler (NUTS), multinomial, vectorised over chains.

Plain HMC needs a number of leapfrog steps ``L``; NUTS chooses the length of
every trajectory on the fly. One transition from ``q`` with a fresh momentum
``p ~ N(0, M)``:

1. **Doubling.** The trajectory starts as the single point ``z0 = (q, p)``. At
   depth ``d = 0, 1, 2, ...`` a fair coin picks a direction, and a new
   *subtree* of ``2^d`` leapfrog steps is integrated from the end of the
   trajectory that lies in that direction (backwards in time means leapfrog
   with ``-eps``). The trajectory doubles: after depth ``d`` it holds
   ``2^(d+1)`` points. It never grows beyond ``2^max_tree_depth`` points.
2. **Weights.** Every point ``z`` carries the weight ``exp(H(z0) - H(z))``: the
   target density of phase space, relative to the start. The next state is
   drawn among the points of the trajectory with probabilities proportional
   to these weights (multinomial sampling), so no Metropolis test is needed.
3. **Sampling as the tree grows.** The draw is made progressively. Inside a
   subtree, when two halves of equal size are joined, the candidate of the
   second half replaces that of the first with probability ``w2 / (w1 + w2)``
   (the halves' total weights): a uniform multinomial draw. At the top level,
   the candidate of a new subtree replaces the current state with probability
   ``min(1, w_new / w_old)``: *biased* progressive sampling, which favours
   points far from ``z0`` and still leaves the target invariant.
4. **Stopping.** The trajectory stops growing when it starts to turn back on
   itself. With ``rho`` the sum of the momenta of a stretch of trajectory and
   ``p_a``, ``p_b`` the momenta at its two ends, the stretch *makes a U-turn*
   unless ``(M^-1 p_a) . rho > 0`` and ``(M^-1 p_b) . rho > 0`` (Betancourt's
   generalised criterion, which uses momenta only and holds for any metric).
   The criterion is applied to every pair of joined halves, in subtrees and at
   the top level, and, as Stan does, twice more across the join: to the first
   half extended by the first point of the second, and to the second half
   extended by the last point of the first. These extra checks catch
   trajectories that have turned around entirely within one half's span (for
   instance a full period of an oscillation). A subtree that makes a U-turn
   somewhere inside is discarded whole and the transition ends; a full tree
   that makes a U-turn is kept, and the transition ends.
5. **Divergences.** A point whose energy error ``H(z) - H(z0)`` exceeds
   ``divergence_threshold``, or is not finite, is a divergence: its subtree
   is discarded and the transition ends, as in :func:`~hmc_lite.hmc_step`.
   The state is always a point of a valid subtree, so it is always finite.

Why this is exact: the set of points a transition can end with is built in the
same way from any of its members, given the right coin flips (each point sees
the same dyadic blocks, and the stopping checks depend on a block's two halves
only, not on where the build started). Leapfrog preserves volume, so drawing a
member with probability proportional to its density leaves the target
invariant. Subtrees that made a U-turn inside are discarded precisely because
they could not have been built from their own points.

The acceptance statistic reported per transition is the mean over all points
integrated (discarded ones included) of ``min(1, exp(H(z0) - H(z)))``; dual
averaging drives its mean to a target, as for Stan.

**Chains in lockstep.** Chains are the leading axis. All chains grow their
trees together: at depth ``d`` every chain still going builds its own subtree of
``2^d`` steps, in its own direction, from its own end point; a chain that has
stopped (U-turn, divergence) idles while the others finish. A leapfrog step
evaluates the gradient only on the chains still building, so the gradient
evaluations reported for a chain are the ones made for it, and each costs one
evaluation (the gradient at the end of a step is reused by the next).

:func:`adapt` tunes the step size and a diagonal mass matrix in Stan's windows
(:func:`~hmc_lite.adaptation.adaptation_windows`) with the package's dual
averaging.

References: Hoffman and Gelman (2014), *The No-U-Turn sampler*; Betancourt
(2017), *A conceptual introduction to Hamiltonian Monte Carlo*, appendix A;
Stan's ``base_nuts``.
"""

from __future__ import annotations

from typing import Callable, NamedTuple, TypeVar

import numpy as np

from ._validation import (
    check_int,
    check_inverse_mass,
    check_positive_float,
    check_probability,
    check_rng,
    check_state,
    check_step_size,
)
from .adaptation import (
    _check_dual_averaging_settings,
    _regularised_variance,
    adaptation_windows,
    dual_averaging_init,
    dual_averaging_update,
)
from .integrators import kinetic_energy, leapfrog, leapfrog_steps, with_rows
from .kernel import HMCState, init_state
from .potential import Potential, ValueAndGrad

__all__ = [
    "NUTSInfo",
    "NUTSTree",
    "NUTSSampleResult",
    "NUTSAdaptationResult",
    "build_tree",
    "nuts_step",
    "sample",
    "adapt",
]

#: Stan's threshold for the acceptance statistic in the initial step-size search.
_SEARCH_ACCEPT = 0.8


class NUTSInfo(NamedTuple):
    """What happened in one transition; every field has shape ``(chains,)``.

    Attributes
    ----------
    tree_depth:
        Number of doublings kept (``0 .. max_tree_depth``); the final
        trajectory has ``2^tree_depth`` points.
    n_grad_evals:
        Number of leapfrog steps, i.e. gradient evaluations, made for the
        chain (those of a discarded subtree included).
    accept_prob:
        Mean over those steps of ``min(1, exp(H(z0) - H(z)))``: the acceptance
        statistic that step-size adaptation targets.
    is_divergent:
        Whether the transition ended on a divergence.
    energy:
        The Hamiltonian ``H = U + p^T M^-1 p / 2`` at the new state (with its
        momentum), Stan's ``energy__``.
    """

    tree_depth: np.ndarray
    n_grad_evals: np.ndarray
    accept_prob: np.ndarray
    is_divergent: np.ndarray
    energy: np.ndarray


class NUTSTree(NamedTuple):
    """The trajectory one transition built (output of :func:`build_tree`).

    ``left_*`` is the earliest point in time, ``right_*`` the latest; the
    trajectory is the ``2^info.tree_depth`` leapfrog points between them.
    """

    state: HMCState
    info: NUTSInfo
    left_position: np.ndarray
    left_momentum: np.ndarray
    right_position: np.ndarray
    right_momentum: np.ndarray


class NUTSSampleResult(NamedTuple):
    """Output of :func:`sample`.

    Attributes
    ----------
    positions:
        Shape ``(chains, n_samples, dim)``: the state after each transition.
    info:
        A :class:`NUTSInfo` whose fields have shape ``(chains, n_samples)``.
    final_state:
        The :class:`~hmc_lite.HMCState` after the last transition.
    """

    positions: np.ndarray
    info: NUTSInfo
    final_state: HMCState


class NUTSAdaptationResult(NamedTuple):
    """Output of :func:`adapt`; chains are the leading axis.

    Attributes
    ----------
    state:
        The state after the last adaptation transition; start sampling there.
    step_size:
        The adapted step size (the dual-averaging average of the final
        interval), shape ``(chains,)``, equal for all chains.
    inverse_mass:
        The adapted diagonal inverse mass, shape ``(dim,)`` (all ones with
        ``adapt_mass=False``).
    windows:
        The slow windows, shape ``(n_windows, 2)`` (see
        :func:`~hmc_lite.adaptation.adaptation_windows`).
    step_size_trace:
        The step size of each adaptation transition, shape ``(n_adapt,)``.
    info:
        A :class:`NUTSInfo` of the adaptation transitions, fields of shape
        ``(chains, n_adapt)``. The gradient evaluations of the step-size
        searches (a few per window) are not included.
    """

    state: HMCState
    step_size: np.ndarray
    inverse_mass: np.ndarray
    windows: np.ndarray
    step_size_trace: np.ndarray
    info: NUTSInfo


# ---------------------------------------------------------------------------
# Building blocks: points of phase space and runs of points
# ---------------------------------------------------------------------------


class _Point(NamedTuple):
    """A point of phase space with its potential and gradient; rows are chains."""

    position: np.ndarray
    momentum: np.ndarray
    potential_energy: np.ndarray
    gradient: np.ndarray


class _Span(NamedTuple):
    """A run of consecutive trajectory points, kept in the order it was built.

    ``p_first`` and ``p_last`` are the momenta of the first and last point
    built, ``rho`` the sum of all momenta, ``log_weight`` the log of the summed
    weights ``exp(H(z0) - H(z))``; the candidate for the next state (drawn
    among the points in proportion to their weights) is ``position``,
    ``potential_energy``, ``gradient``, with Hamiltonian ``energy``.
    """

    p_first: np.ndarray
    p_last: np.ndarray
    rho: np.ndarray
    log_weight: np.ndarray
    position: np.ndarray
    potential_energy: np.ndarray
    gradient: np.ndarray
    energy: np.ndarray


_T = TypeVar("_T", _Point, _Span)


def _where(mask: np.ndarray, a: _T, b: _T) -> _T:
    """Field by field, ``a`` for the chains where ``mask`` holds and ``b`` elsewhere.

    When ``mask`` holds everywhere (or nowhere) ``a`` (or ``b``) itself is
    returned: no array of a point or span is ever modified in place, so
    sharing them is safe, and it saves a copy per field.
    """
    if mask.all():
        return a
    if not mask.any():
        return b
    column = mask[:, None]
    return type(a)(
        *(np.where(column if x.ndim == 2 else mask, x, y) for x, y in zip(a, b))
    )


def _reversed(span: _Span, mask: np.ndarray) -> _Span:
    """The same span read in the opposite order, for the chains where ``mask`` holds."""
    if not mask.any():
        return span
    first = np.where(mask[:, None], span.p_last, span.p_first)
    last = np.where(mask[:, None], span.p_first, span.p_last)
    return span._replace(p_first=first, p_last=last)


def _no_u_turn(
    first: _Span, second: _Span, rho: np.ndarray, inv_mass: np.ndarray | None
) -> np.ndarray:
    """Betancourt's criterion for the three stretches checked when ``first`` and
    ``second`` are joined: the whole span (momentum sum ``rho``), ``first`` plus the
    first point of ``second``, and the last point of ``first`` plus ``second``.

    True (keep going) for the chains where, for all three stretches, both ends
    still move along the stretch's momentum sum: the velocities ``M^-1 p`` at
    the two ends have a positive inner product with it. The six inner products
    are one ``einsum`` over rows of length ``dim`` (each row summed exactly as
    a separate ``einsum`` of that row would be), with the ends and sums copied
    into two buffers.
    """
    chains, dim = rho.shape
    ends = np.empty((6, chains, dim))
    sums = np.empty((6, chains, dim))
    ends[0] = ends[1] = first.p_first
    ends[2] = first.p_last
    ends[3] = ends[5] = second.p_last
    ends[4] = second.p_first
    sums[0] = sums[3] = rho
    np.add(first.rho, second.p_first, out=sums[1])
    np.add(second.rho, first.p_last, out=sums[2])
    sums[4], sums[5] = sums[1], sums[2]
    if inv_mass is not None:
        np.multiply(inv_mass, ends, out=ends)
    dots = np.einsum("ij,ij->i", ends.reshape(-1, dim), sums.reshape(-1, dim))
    return (dots.reshape(6, chains) > 0).all(axis=0)


def _join(first: _Span, second: _Span, u: np.ndarray, biased: bool,
          inv_mass: np.ndarray | None) -> tuple[_Span, np.ndarray]:
    """Join two adjacent spans of equal size, ``second`` built after ``first``.

    The candidate of ``second`` replaces that of ``first`` with probability
    ``w2 / (w1 + w2)``, or ``min(1, w2 / w1)`` when ``biased`` (the top level);
    ``u`` holds one uniform number per chain. Returns the joined span and, per
    chain, whether it passes the three U-turn checks (whole span; ``first``
    plus the first point of ``second``; the last point of ``first`` plus
    ``second``).
    """
    log_weight = np.logaddexp(first.log_weight, second.log_weight)
    log_ratio = second.log_weight - (first.log_weight if biased else log_weight)
    take_second = u < np.exp(np.minimum(log_ratio, 0.0))
    rho = first.rho + second.rho
    ok = _no_u_turn(first, second, rho, inv_mass)
    if take_second.all() or not take_second.any():  # one side for every chain
        side = second if take_second[0] else first
        position, potential_energy = side.position, side.potential_energy
        gradient, energy = side.gradient, side.energy
    else:
        column = take_second[:, None]
        position = np.where(column, second.position, first.position)
        potential_energy = np.where(
            take_second, second.potential_energy, first.potential_energy
        )
        gradient = np.where(column, second.gradient, first.gradient)
        energy = np.where(take_second, second.energy, first.energy)
    joined = _Span(
        first.p_first,
        second.p_last,
        rho,
        log_weight,
        position,
        potential_energy,
        gradient,
        energy,
    )
    return joined, ok


class _Steps(NamedTuple):
    """What the leapfrog steps of one subtree did, per chain."""

    n_steps: np.ndarray
    sum_accept: np.ndarray
    divergent: np.ndarray


def _step(potential: Potential, z: _Point, sign: np.ndarray, eps: np.ndarray,
          half_eps: np.ndarray, inv_mass: np.ndarray | None,
          rows: np.ndarray | None) -> _Point:
    """One leapfrog step for the chains ``rows`` (``None``: all chains), forwards or
    backwards in time; other rows unchanged.

    ``sign`` (shape ``(chains, 1)``) is ``1.0`` for the chains stepping forwards,
    ``-1.0`` for those stepping backwards; ``eps`` has shape ``(chains, 1)``
    and ``half_eps`` is ``0.5 * eps``. A backward step is a forward step with
    the momentum flipped, flipped back (leapfrog is time-reversible, and
    exactly so in floating point, since rounding is symmetric in sign). Only
    ``rows`` are evaluated. The step is the integrator's own
    (:func:`~hmc_lite.integrators.leapfrog_steps`), so the points are those of
    :func:`~hmc_lite.leapfrog` to the last bit. Like :func:`_leaf` and
    :func:`_join`, it runs inside the error state :func:`build_tree` sets.
    """
    q, p, u, g = z
    if rows is not None:
        q, p, u, g, sign = q[rows], p[rows], u[rows], g[rows], sign[rows]
        eps, half_eps = eps[rows], half_eps[rows]
        if inv_mass is not None:
            inv_mass = inv_mass[rows]
    q_new, p_new, u_new, g_new = leapfrog_steps(
        potential, q, sign * p, u, g, eps, half_eps, inv_mass, 1
    )
    p_new = sign * p_new
    if rows is None:
        return _Point(q_new, p_new, u_new, g_new)
    return _Point(*with_rows(z, rows, (q_new, p_new, u_new, g_new)))


def _leaf(z: _Point, h0: np.ndarray, inv_mass: np.ndarray | None,
          threshold: float) -> tuple[_Span, np.ndarray, np.ndarray]:
    """The one-point span at ``z``, whether it is sound (not divergent), and its
    acceptance statistic."""
    h = z.potential_energy + kinetic_energy(z.momentum, inv_mass)
    finite = (np.isfinite(h) & np.isfinite(z.position).all(axis=1)
              & np.isfinite(z.gradient).all(axis=1))
    log_weight = np.where(finite, h0 - h, -np.inf)
    sound = finite & (-log_weight <= threshold)
    accept = np.where(finite, np.exp(np.minimum(log_weight, 0.0)), 0.0)
    span = _Span(
        z.momentum,
        z.momentum,
        z.momentum,
        log_weight,
        z.position,
        z.potential_energy,
        z.gradient,
        h,
    )
    return span, sound, accept


def _build_subtree(
    potential: Potential,
    start: _Point,
    depth: int,
    forward: np.ndarray,
    building: np.ndarray,
    h0: np.ndarray,
    eps: np.ndarray,
    inv_mass: np.ndarray | None,
    threshold: float,
    rng: np.random.Generator,
) -> tuple[_Span, _Point, np.ndarray, _Steps]:
    """Integrate ``2^depth`` steps from ``start`` for the chains ``building`` and join
    them into one span.

    The recursion of NUTS (build two halves, join them) is run as a binary
    counter: after leaf ``i`` (counting from 0), each trailing 1-bit of ``i``
    completes a block, which is joined with the block of the same size
    waiting on the ``pending`` stack. Every chain follows the same schedule;
    a chain drops out (``alive`` false) at its first divergence or U-turn and
    takes no further steps. Returns the span, the last point integrated (the
    new end of the trajectory), which chains completed a valid subtree, and
    the step counts.
    """
    chains = start.position.shape[0]
    alive = building.copy()
    counts = _Steps(
        np.zeros(chains, dtype=int), np.zeros(chains), np.zeros(chains, dtype=bool)
    )
    sign = np.where(forward, 1.0, -1.0)[:, None]
    eps = eps[:, None]
    half_eps = 0.5 * eps
    pending: list[_Span] = []
    z, span = start, None
    for i in range(2**depth):
        rows = np.flatnonzero(alive)
        if rows.size == 0:
            break
        if rows.size == chains:  # every chain steps: whole arrays, no indexing
            z = _step(potential, z, sign, eps, half_eps, inv_mass, None)
            span, sound, accept = _leaf(z, h0, inv_mass, threshold)
            counts.n_steps[:] += 1
            counts.sum_accept[:] += accept
            counts.divergent[:] |= ~sound
        else:
            z = _step(potential, z, sign, eps, half_eps, inv_mass, rows)
            span, sound, accept = _leaf(z, h0, inv_mass, threshold)
            counts.n_steps[rows] += 1
            counts.sum_accept[rows] += accept[rows]
            counts.divergent[rows] |= ~sound[rows]
        alive &= sound
        level = 0
        while (i >> level) & 1:
            span, ok = _join(pending.pop(), span, rng.random(chains), False, inv_mass)
            alive &= ok
            level += 1
        pending.append(span)
    assert span is not None
    return span, z, alive, counts


def build_tree(
    potential: Potential,
    state: HMCState,
    momentum: np.ndarray,
    step_size: np.ndarray,
    forward: np.ndarray,
    *,
    rng: np.random.Generator,
    inverse_mass: np.ndarray | None = None,
    divergence_threshold: float = 1000.0,
) -> NUTSTree:
    """Build one NUTS trajectory per chain and draw the next state from it.

    The arguments are used as given (checked by the callers): ``state`` as
    from :func:`~hmc_lite.init_state`; ``momentum`` of shape
    ``(chains, dim)``; ``step_size`` of shape ``(chains,)``; ``forward`` a
    boolean array of shape ``(chains, max_tree_depth)``, the direction of each
    doubling (true: forwards in time); ``inverse_mass`` ``None`` or of shape
    ``(chains, dim)``. ``rng`` draws the multinomial choices only.

    :func:`nuts_step` draws the momenta and directions and calls this; it is
    public so that tests and figures can build a trajectory from chosen
    directions (e.g. to check that a trajectory is rebuilt from any of its
    points).
    """
    chains, max_depth = forward.shape
    start = _Point(state.position, momentum, state.potential_energy, state.gradient)
    h0 = state.potential_energy + kinetic_energy(momentum, inverse_mass)
    # overflow and -inf weights are expected inside a trajectory (divergences,
    # chains that stopped): the error state is set once for the whole tree, not in
    # every step, leaf and join
    with np.errstate(all="ignore"):
        tree, _, _ = _leaf(start, h0, inverse_mass, divergence_threshold)
        left = right = start
        going = np.ones(chains, dtype=bool)
        depth = np.zeros(chains, dtype=int)
        totals = _Steps(
            np.zeros(chains, dtype=int), np.zeros(chains), np.zeros(chains, dtype=bool)
        )
        for d in range(max_depth):
            if not going.any():
                break
            fwd = forward[:, d]
            sub, end, valid, counts = _build_subtree(
                potential,
                _where(fwd, right, left),
                d,
                fwd,
                going,
                h0,
                step_size,
                inverse_mass,
                divergence_threshold,
                rng,
            )
            for total, count in zip(totals, counts):
                total += count
            grown = going & valid
            # join in build order (the old tree first), then back to time order
            joined, no_turn = _join(
                _reversed(tree, ~fwd), sub, rng.random(chains), True, inverse_mass
            )
            tree = _where(grown, _reversed(joined, ~fwd), tree)
            right = _where(grown & fwd, end, right)
            left = _where(grown & ~fwd, end, left)
            depth += grown
            going = grown & no_turn
    with np.errstate(invalid="ignore"):
        mean_accept = totals.sum_accept / totals.n_steps
    info = NUTSInfo(depth, totals.n_steps, mean_accept, totals.divergent, tree.energy)
    # _where may hand back its inputs: copies, so that no output shares memory with
    # the arguments (state, momentum) or with another output
    new_state = HMCState(
        tree.position.copy(), tree.potential_energy.copy(), tree.gradient.copy()
    )
    return NUTSTree(
        new_state,
        info,
        left.position.copy(),
        left.momentum.copy(),
        right.position.copy(),
        right.momentum.copy(),
    )


# ---------------------------------------------------------------------------
# Transitions and the sampling loop
# ---------------------------------------------------------------------------


def _draw_momentum(rng: np.random.Generator, shape: tuple[int, int],
                   inv_mass: np.ndarray | None) -> np.ndarray:
    """Momenta ``p ~ N(0, M)`` with ``M = diag(1 / inv_mass)`` (unit mass for ``None``).
    """
    p = rng.standard_normal(shape)
    # sd sqrt(M) = 1 / sqrt(M^-1)
    return p if inv_mass is None else p / np.sqrt(inv_mass)


def _transition(
    rng: np.random.Generator,
    state: HMCState,
    potential: Potential,
    eps: np.ndarray,
    max_depth: int,
    inv_mass: np.ndarray | None,
    threshold: float,
) -> tuple[HMCState, NUTSInfo]:
    """:func:`nuts_step` with checked arguments."""
    chains = state.position.shape[0]
    p = _draw_momentum(rng, state.position.shape, inv_mass)
    forward = rng.random((chains, max_depth)) < 0.5
    tree = build_tree(potential, state, p, eps, forward, rng=rng, inverse_mass=inv_mass,
                      divergence_threshold=threshold)
    return tree.state, tree.info


def nuts_step(
    state: HMCState,
    potential: Potential,
    step_size: float | np.ndarray,
    *,
    rng: np.random.Generator,
    max_tree_depth: int = 10,
    inverse_mass: np.ndarray | None = None,
    divergence_threshold: float = 1000.0,
) -> tuple[HMCState, NUTSInfo]:
    """One NUTS transition for every chain (see the module docstring).

    ``step_size`` is a scalar or one value per chain; ``inverse_mass`` the
    diagonal of ``M^-1``, shape ``(dim,)`` or ``(chains, dim)``, or ``None``
    (unit mass). A chain costs between 1 and ``2^max_tree_depth - 1``
    gradient evaluations, reported in ``info.n_grad_evals``.
    """
    check_rng(rng)
    chains = check_state(state, potential.dim)
    return _transition(
        rng,
        state,
        potential,
        check_step_size(step_size, chains),
        check_int(max_tree_depth, "max_tree_depth"),
        check_inverse_mass(inverse_mass, chains, state.position.shape[1]),
        check_positive_float(divergence_threshold, "divergence_threshold"),
    )


def sample(
    potential: Potential,
    initial_position: np.ndarray,
    step_size: float | np.ndarray,
    n_samples: int,
    *,
    rng: np.random.Generator,
    max_tree_depth: int = 10,
    inverse_mass: np.ndarray | None = None,
    divergence_threshold: float = 1000.0,
    callback: Callable[[int], object] | None = None,
) -> NUTSSampleResult:
    """Run ``n_samples`` NUTS transitions on every chain.

    Parameters
    ----------
    potential:
        The potential energy ``U = -log pi``.
    initial_position:
        Shape ``(chains, dim)``; one row per chain.
    step_size:
        Leapfrog step size ``eps > 0``, a scalar or one per chain (e.g. from
        :func:`adapt`).
    n_samples:
        Number of transitions (each is recorded).
    rng:
        The only source of randomness.
    max_tree_depth:
        At most ``2^max_tree_depth - 1`` leapfrog steps per transition.
    inverse_mass:
        Diagonal of the inverse mass matrix, shape ``(dim,)`` or
        ``(chains, dim)``; ``None`` is unit mass.
    divergence_threshold:
        Energy errors above this count as divergences.
    callback:
        Called after every transition with its index (e.g. to move a progress
        bar), as in :func:`hmc_lite.sample`.

    Examples
    --------
    >>> import autograd.numpy as anp
    >>> gauss = Potential(lambda q: 0.5 * anp.sum(q**2, axis=1))
    >>> res = sample(gauss, np.zeros((4, 2)), 0.5, 100, rng=np.random.default_rng(1))
    >>> res.positions.shape, res.info.tree_depth.shape
    ((4, 100, 2), (4, 100))
    """
    check_rng(rng)
    n_samples = check_int(n_samples, "n_samples")
    max_depth = check_int(max_tree_depth, "max_tree_depth")
    threshold = check_positive_float(divergence_threshold, "divergence_threshold")
    state = init_state(potential, initial_position)
    chains, dim = state.position.shape
    eps = check_step_size(step_size, chains)
    inv_mass = check_inverse_mass(inverse_mass, chains, dim)

    positions = np.empty((chains, n_samples, dim))
    infos = []
    for i in range(n_samples):
        state, info = _transition(
            rng, state, potential, eps, max_depth, inv_mass, threshold
        )
        positions[:, i] = state.position
        infos.append(info)
        if callback is not None:
            callback(i)
    return NUTSSampleResult(positions, _stack(infos), state)


def _stack(infos: list[NUTSInfo]) -> NUTSInfo:
    """Per-transition infos as one :class:`NUTSInfo` with fields of shape
    ``(chains, n)``."""
    return NUTSInfo(*(np.stack(field, axis=1) for field in zip(*infos)))


# ---------------------------------------------------------------------------
# Window adaptation
# ---------------------------------------------------------------------------


def _search_step_size(
    rng: np.random.Generator,
    state: HMCState,
    potential: Potential,
    eps: float,
    inv_mass: np.ndarray | None,
) -> float:
    """Stan's heuristic for a starting step size, shared by all chains.

    One leapfrog step from the current positions with fresh momenta; the step
    size is doubled while the mean acceptance ``min(1, exp(-dH))`` over chains
    stays above 0.8, or halved while it stays below; the first step size on
    the other side of 0.8 is returned (after at most 100 tries).
    """
    chains = state.position.shape[0]
    initial = ValueAndGrad(state.potential_energy, state.gradient)

    def mean_accept(e: float) -> float:
        p = _draw_momentum(rng, state.position.shape, inv_mass)
        end = leapfrog(
            potential, state.position, p, e, 1, initial=initial, inverse_mass=inv_mass
        )
        with np.errstate(all="ignore"):
            dh = end.potential_energy + kinetic_energy(end.momentum, inv_mass) - (
                state.potential_energy + kinetic_energy(p, inv_mass))
            return float(
                np.sum(np.where(np.isfinite(dh), np.exp(-np.clip(dh, 0.0, None)), 0.0))
                / chains
            )

    up = mean_accept(eps) > _SEARCH_ACCEPT
    for _ in range(100):
        eps = eps * 2.0 if up else eps / 2.0
        if (mean_accept(eps) > _SEARCH_ACCEPT) != up:
            break
    return eps


def adapt(
    potential: Potential,
    initial_position: np.ndarray,
    *,
    rng: np.random.Generator,
    n_adapt: int = 1000,
    step_size: float = 1.0,
    target_accept: float = 0.8,
    max_tree_depth: int = 10,
    adapt_mass: bool = True,
    init_buffer: int = 75,
    term_buffer: int = 50,
    base_window: int = 25,
    gamma: float = 0.05,
    t0: float = 10.0,
    kappa: float = 0.75,
    divergence_threshold: float = 1000.0,
    callback: Callable[[int], object] | None = None,
) -> NUTSAdaptationResult:
    """Stan's window adaptation of the step size and a diagonal mass for NUTS.

    All chains share one step size (adapted on their mean acceptance
    statistic) and one inverse mass (estimated from their pooled draws). The
    ``n_adapt`` transitions are split as in Stan:

    1. a fast interval (``init_buffer`` transitions) that adapts only the step
       size, by dual averaging towards ``target_accept``, while the chains
       reach the typical set;
    2. slow windows of doubling length (``base_window``, twice that, ...; the
       last one stretched to the final interval). At the end of each window the
       inverse mass is set to the regularised variance of the window's draws
       (:func:`~hmc_lite.adapt_diagonal_mass` explains the shrinkage), a new
       starting step size is searched for (Stan's heuristic: double or halve
       until the one-step acceptance crosses 0.8) and dual averaging restarts
       from it, because the new mass changes the scale;
    3. a final fast interval (``term_buffer`` transitions) that adapts the step
       size to the last mass.

    The returned step size is the dual-averaging average of the last interval.
    With ``adapt_mass=False`` the mass stays the identity and dual averaging
    runs throughout. The adaptation transitions are not draws from the
    target: sample afterwards with :func:`sample` from ``state.position``.
    ``callback``, if given, is called after every transition with its index.

    Examples
    --------
    >>> from hmc_lite.models import gaussian_potential
    >>> pot = gaussian_potential(np.diag([0.25, 4.0]))
    >>> res = adapt(pot, np.zeros((4, 2)), rng=np.random.default_rng(0), n_adapt=200)
    >>> res.inverse_mass.shape, res.windows.tolist()
    ((2,), [[75, 100], [100, 150]])
    """
    check_rng(rng)
    n_adapt = check_int(n_adapt, "n_adapt")
    eps = check_positive_float(step_size, "step_size")
    delta = check_probability(target_accept, "target_accept")
    max_depth = check_int(max_tree_depth, "max_tree_depth")
    threshold = check_positive_float(divergence_threshold, "divergence_threshold")
    _check_dual_averaging_settings(gamma, t0, kappa)
    windows = adaptation_windows(n_adapt, init_buffer, term_buffer, base_window)
    if not adapt_mass:
        windows = windows[:0]
    state = init_state(potential, initial_position)
    chains, dim = state.position.shape
    inverse_mass = np.ones(dim)
    inv_mass = None  # unit mass until the first window closes

    da = dual_averaging_init(_search_step_size(rng, state, potential, eps, inv_mass))
    draws = np.empty((chains, int(np.diff(windows, axis=1).max(initial=0)), dim))
    eps_trace = np.empty(n_adapt)
    infos = []
    w = 0  # the current or next slow window
    for m in range(n_adapt):
        eps_trace[m] = np.exp(da.log_step_size[0])
        state, info = _transition(
            rng,
            state,
            potential,
            np.full(chains, eps_trace[m]),
            max_depth,
            inv_mass,
            threshold,
        )
        infos.append(info)
        da = dual_averaging_update(
            da, np.array([info.accept_prob.mean()]), delta, gamma, t0, kappa
        )
        if w < len(windows) and windows[w, 0] <= m < windows[w, 1]:
            draws[:, m - windows[w, 0]] = state.position
            # end of a slow window: a new mass, a new start for the step size
            if m == windows[w, 1] - 1:
                inverse_mass = _regularised_variance(
                    draws[:, : m + 1 - windows[w, 0]].reshape(-1, dim)
                )
                inv_mass = np.broadcast_to(inverse_mass, (chains, dim))
                current = float(np.exp(da.log_step_size[0]))
                da = dual_averaging_init(
                    _search_step_size(rng, state, potential, current, inv_mass)
                )
                w += 1
        if callback is not None:
            callback(m)
    final = np.exp(da.log_step_size_avg if da.iteration > 0 else da.log_step_size)
    return NUTSAdaptationResult(
        state,
        np.full(chains, final[0]),
        inverse_mass,
        windows,
        eps_trace,
        _stack(infos),
    )
