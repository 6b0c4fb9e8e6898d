"""Start chains in equilibrium: optimise to several modes, then run HMC until ``U``
levels off.

Chains started at a mode are not yet in the typical set: at a mode of a
``d``-dimensional posterior the potential is at its minimum, while in
equilibrium it is about ``d / 2`` higher (exactly so for a Gaussian). Measuring
acceptance rates or step-size limits before the chains have climbed there
measures the optimiser, not the posterior. :func:`equilibrate` therefore

1. optimises from ``n_modes`` independent starting points (Adam, then
   L-BFGS-B one mode at a time);
2. starts ``chains / n_modes`` chains at each mode;
3. runs HMC with long trajectories (integration time ``path_length``) at a
   safe step size, in blocks, until the potential energy has levelled off
   (see :func:`levelled_off`).

It supersedes :func:`hmc_lite.warmup.shared_warmup`, which spreads all chains
from one mode with a fixed, short run.
"""

from __future__ import annotations

import warnings
from typing import Callable, NamedTuple

import numpy as np
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

from .adaptation import dual_averaging_init, dual_averaging_update
from .diagnostics import rhat, stability_limit
from ._validation import (
    check_int,
    check_positions,
    check_positive_float,
    check_probability,
    check_rng,
)
from .kernel import hmc_step, init_state
from .potential import Potential
from .warmup import adam

__all__ = ["EquilibriumResult", "equilibrate", "levelled_off", "find_modes"]


class EquilibriumResult(NamedTuple):
    """Output of :func:`equilibrate`; chains are the leading axis.

    Attributes
    ----------
    position:
        Final positions, shape ``(chains, dim)``: start the measurements here.
    mode:
        The mode each chain started from, integer labels ``0..n_modes-1``,
        shape ``(chains,)``; each label holds ``chains / n_modes`` chains.
    mode_position:
        The optimised modes, shape ``(n_modes, dim)``.
    potential_trace:
        ``U`` after every HMC transition (adaptation included), shape
        ``(chains, n_transitions)``.
    step_size:
        The frozen step size of each chain, shape ``(chains,)`` (equal within
        a mode group).
    converged:
        Whether the stop rule of :func:`levelled_off` was met.
    n_transitions:
        Number of HMC transitions run.
    """

    position: np.ndarray
    mode: np.ndarray
    mode_position: np.ndarray
    potential_trace: np.ndarray
    step_size: np.ndarray
    converged: bool
    n_transitions: int


def levelled_off(
    potential_trace: np.ndarray, block: int, rhat_threshold: float | None = None
) -> bool:
    """The stop rule of :func:`equilibrate`, applied to the last two blocks of a trace.

    With ``u`` the last ``2 * block`` columns of ``potential_trace`` (shape
    ``(chains, n)``), split into a previous and a last block, and ``d_c`` the
    last-block mean minus the previous-block mean of chain ``c``, the chains
    have levelled off when

    (a) *no trend*: ``|mean(d)| < 2 se`` with ``se = sd(d) / sqrt(chains)``,
        the standard error across chains (chains are independent, successive
        blocks of one chain are not). An upward trend means the chains are
        still climbing from their modes, a downward one that they started
        above the typical set; and, if ``rhat_threshold`` is given,
    (b) *mixing*: split R-hat of ``U`` over the last two blocks, chains as
        chains (:func:`~hmc_lite.diagnostics.rhat`), is below ``rhat_threshold``.

    Check (b) is off by default: it asks every chain to explore the whole
    distribution of ``U`` within ``2 * block`` transitions. On Bayesian
    networks ``U`` mixes slowly (with trajectories of length 0.3 on the
    book's ``[1, 50, 1]`` networks its R-hat over 40 transitions stays
    between 1.3 and 1.8 long after the mean has levelled off), so (b) measures
    the mixing time of ``U``, not whether the chains have left their modes.

    Check (a) has little power when the chains move at very different speeds, as they do
    when they start far *above* the typical set: the spread of ``d`` then hides a trend
    shared by every chain. On the book's ``[1, 50, 1]`` ReLU network (chapter 6's
    equilibration settings, seed 0), 8 chains started from Laplace draws around their
    modes passed it after 45 transitions with all 8 still descending (``d`` from -21 to
    -57000, mean -9800, standard error 6900) and 7 of them still 250 to 38000 above the
    mode, where chains climbing from the modes level off about 64 above it. Chains
    started at the modes, as :func:`equilibrate` does, climb by similar amounts; there
    the check failed at 45 transitions and passed at 60.

    Nor does it see a slow climb, as with short trajectories: the trend of one block
    is then smaller than its spread. Chapter 7's twelve networks of experiment 2 (8
    chains, blocks of 15, seed 0), equilibrated with ``path_length=0.1``, passed it
    after 50 to 125 transitions; over the next 120 transitions (same step sizes and
    path length) their mean ``U`` rose by a further 5 to 18 in 10 of the 12 networks
    (2.2 to 10.7 standard errors across chains). With ``path_length=0.3`` (the
    default) it passed after 50 to 65, and the later change was between -5.5 and
    +4.5, within 2.4 standard errors: long trajectories finish the climb within the
    transitions the check needs anyway.

    Needs at least two chains and ``2 * block`` transitions (``False`` otherwise).
    """
    u = np.asarray(potential_trace, dtype=float)
    if u.ndim != 2:
        raise ValueError(f"potential_trace must have shape (chains, n); got {u.shape}")
    block = check_int(block, "block", 2)
    if rhat_threshold is not None:
        rhat_threshold = check_positive_float(rhat_threshold, "rhat_threshold")
    if u.shape[0] < 2 or u.shape[1] < 2 * block:
        return False
    last_two = u[:, -2 * block:]
    if not np.all(np.isfinite(last_two)):
        return False
    d = last_two[:, block:].mean(axis=1) - last_two[:, :block].mean(axis=1)
    se = d.std(ddof=1) / np.sqrt(d.size)
    no_trend = bool(abs(d.mean()) < 2.0 * se) if se > 0 else bool(d.mean() == 0)
    if rhat_threshold is None:
        return no_trend
    return no_trend and bool(rhat(last_two) < rhat_threshold)


def find_modes(
    potential: Potential,
    initial_position: np.ndarray,
    *,
    n_adam: int = 1000,
    learning_rate: float = 0.01,
    n_lbfgs: int = 2000,
) -> np.ndarray:
    """Optimise every row of ``initial_position``: Adam, then L-BFGS-B row by row.

    Adam (:func:`~hmc_lite.warmup.adam`, ``n_adam`` iterations, all rows in
    one batch) gets through the rough early landscape; L-BFGS-B
    (:func:`scipy.optimize.minimize`, at most ``n_lbfgs`` iterations, exact
    gradients) then converges to the mode. On a potential with kinks the line
    search may stop early; the best point found is kept. Returns an array of
    the shape of ``initial_position``.
    """
    q = adam(potential, initial_position, check_int(n_adam, "n_adam", 0), learning_rate)
    n_lbfgs = check_int(n_lbfgs, "n_lbfgs", 0)
    if n_lbfgs == 0:
        return q

    def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
        u, g = potential.value_and_grad(x[None, :], check=False)
        if not (np.isfinite(u[0]) and np.all(np.isfinite(g))):
            return np.inf, np.zeros_like(x)
        return float(u[0]), g[0]

    out = q.copy()
    for i, row in enumerate(q):
        # L-BFGS-B's many tiny BLAS calls are several times slower with a threaded BLAS.
        with threadpool_limits(1, user_api="blas"):
            res = minimize(
                fun, row, jac=True, method="L-BFGS-B", options={"maxiter": n_lbfgs}
            )
        if np.all(np.isfinite(res.x)) and res.fun <= fun(row)[0]:
            out[i] = res.x
    return out


def equilibrate(
    potential: Potential,
    chains: int,
    *,
    rng: np.random.Generator,
    n_modes: int = 4,
    initial_position: np.ndarray | None = None,
    prior_scale: float = 0.5,
    n_adam: int = 1000,
    learning_rate: float = 0.01,
    n_lbfgs: int = 2000,
    step_size: float | None = None,
    target_accept: float = 0.9,
    n_adapt: int = 20,
    path_length: float = 0.3,
    max_n_steps: int = 2000,
    block: int = 20,
    max_blocks: int = 10,
    rhat_threshold: float | None = None,
    divergence_threshold: float = 1000.0,
    callback: Callable[[int], object] | None = None,
) -> EquilibriumResult:
    """Optimise to ``n_modes`` modes, split the chains among them, and run HMC to
    equilibrium.

    Parameters
    ----------
    potential:
        The potential energy ``U = -log pi``.
    chains:
        Number of chains, a multiple of ``n_modes``; ``chains / n_modes``
        chains start at each mode.
    rng:
        The only source of randomness.
    n_modes:
        Number of independent optimisations.
    initial_position:
        Starting points of the optimisations, shape ``(n_modes, dim)``.
        Required unless the potential has a ``prior_draw(n, rng=rng)`` method
        (e.g. :class:`~hmc_lite.MLPPotential`); then the default is
        ``prior_scale * potential.prior_draw(n_modes, rng=rng)``.
    prior_scale:
        Shrinks the prior draws (0.5: large random networks start in regions
        of huge misfit, where Adam is slow).
    n_adam, learning_rate, n_lbfgs:
        Adam iterations and rate, then at most ``n_lbfgs`` L-BFGS-B
        iterations per mode (see :func:`find_modes`); 0 skips a stage.
    step_size:
        The leapfrog step size, or ``None`` to adapt it (see Notes).
    target_accept:
        The acceptance probability the adapted step size aims at.
    n_adapt:
        Number of transitions during which the step size is adapted (0 when
        ``step_size`` is given).
    path_length:
        Integration time ``T`` of every trajectory; ``n_steps =
        ceil(T / step_size)``, at most ``max_n_steps``.
    block, max_blocks, rhat_threshold:
        After adaptation, HMC runs in blocks of ``block`` transitions, at
        most ``max_blocks`` of them (so at least two are needed to
        converge), until :func:`levelled_off` holds (with ``rhat_threshold``).
    divergence_threshold:
        Passed to :func:`~hmc_lite.hmc_step`.
    callback:
        Called after every HMC transition with its index (e.g. to move a
        progress bar); there are at most ``n_adapt + block * max_blocks``.

    Returns
    -------
    EquilibriumResult
        Final positions, mode labels, modes, the ``U`` trace, step sizes and
        whether the stop rule was met. A :class:`RuntimeWarning` is issued
        when it was not.

    Notes
    -----
    **Step size.** The typical set is stiffer than the mode: on ReLU networks
    the leapfrog stability limit at equilibrium is about half of that at the
    mode, so a step size fitted at the mode is unsafe. Each mode group
    therefore adapts its own step size by dual averaging
    (:mod:`~hmc_lite.adaptation`) towards the high acceptance
    ``target_accept`` during the first ``n_adapt`` transitions, while the
    chains climb away from the mode; the averaged step size is then frozen.
    Dual averaging starts from a quarter of the linear stability limit at the
    mode (:func:`~hmc_lite.diagnostics.stability_limit`), that is half the
    limit expected at equilibrium, and shrinks towards that value (``mu``).

    **Stop rule.** After each block following adaptation, the last two blocks
    of the ``U`` trace are tested with :func:`levelled_off`: no trend in the
    mean ``U`` (up or down) beyond two standard errors across chains, and, if
    ``rhat_threshold`` is given, split R-hat of ``U`` over those two blocks
    below it (off by default, see :func:`levelled_off`). The run stops at the first
    block that passes, or after ``max_blocks`` blocks (``converged=False``).

    Examples
    --------
    >>> from hmc_lite.models import gaussian_potential
    >>> pot = gaussian_potential(np.eye(2))
    >>> res = equilibrate(pot, 8, rng=np.random.default_rng(0), n_modes=2,
    ...                   initial_position=np.ones((2, 2)), step_size=0.5, block=10)
    >>> res.position.shape, res.mode.tolist(), res.converged
    ((8, 2), [0, 0, 0, 0, 1, 1, 1, 1], True)
    """
    check_rng(rng)
    if not isinstance(potential, Potential):
        raise TypeError(
            f"potential must be a hmc_lite.Potential; got {type(potential).__name__}"
        )
    chains = check_int(chains, "chains")
    n_modes = check_int(n_modes, "n_modes")
    if chains % n_modes:
        raise ValueError(
            f"chains must be a multiple of n_modes = {n_modes}; got {chains}"
        )
    target_accept = check_probability(target_accept, "target_accept")
    if not target_accept < 1:
        raise ValueError(
            f"target_accept must lie strictly between 0 and 1; got {target_accept!r}"
        )
    path_length = check_positive_float(path_length, "path_length")
    max_n_steps = check_int(max_n_steps, "max_n_steps")
    block = check_int(block, "block", 2)
    max_blocks = check_int(max_blocks, "max_blocks")
    n_adapt = check_int(n_adapt, "n_adapt", 0)
    if step_size is None and n_adapt == 0:
        raise ValueError(
            "n_adapt must be positive when step_size is None (the step size is adapted)"
        )
    if step_size is not None:
        step_size = check_positive_float(step_size, "step_size")
        n_adapt = 0
    check_positive_float(divergence_threshold, "divergence_threshold")

    if initial_position is None:
        if not callable(getattr(potential, "prior_draw", None)):
            raise ValueError("initial_position (shape (n_modes, dim)) is required: "
                             "the potential has no prior_draw method")
        start = check_positive_float(prior_scale, "prior_scale") * potential.prior_draw(
            n_modes, rng=rng
        )
    else:
        start = check_positions(initial_position, "initial_position", potential.dim)
        if start.shape[0] != n_modes:
            raise ValueError(
                f"initial_position must have n_modes = {n_modes} rows; got "
                f"{start.shape[0]}"
            )

    modes = find_modes(
        potential, start, n_adam=n_adam, learning_rate=learning_rate, n_lbfgs=n_lbfgs
    )
    label = np.repeat(np.arange(n_modes), chains // n_modes)
    state = init_state(potential, modes[label])

    if step_size is None:
        eps0 = 0.25 * stability_limit(potential, modes, n_iter=20)
        # no curvature: one step per path
        eps0 = np.where(np.isfinite(eps0), eps0, path_length)
        da = dual_averaging_init(eps0, mu=np.log(eps0))
        eps = eps0[label]
    else:
        eps = np.full(chains, step_size)

    total = n_adapt + block * max_blocks
    trace = np.empty((chains, total))
    counts = np.full(n_modes, chains // n_modes)
    converged = False
    m = 0
    while m < total:
        n_steps = np.clip(np.ceil(path_length / eps), 1, max_n_steps).astype(int)
        state, info = hmc_step(state, potential, eps, n_steps, rng=rng,
                               divergence_threshold=divergence_threshold)
        trace[:, m] = state.potential_energy
        if callback is not None:
            callback(m)
        m += 1
        if m <= n_adapt:
            group_accept = (
                np.bincount(label, weights=info.accept_prob, minlength=n_modes) / counts
            )
            da = dual_averaging_update(da, group_accept, target_accept)
            eps = np.exp(da.log_step_size_avg if m == n_adapt else da.log_step_size)[
                label
            ]
        elif (m - n_adapt) % block == 0 and m - n_adapt >= 2 * block:
            if levelled_off(trace[:, n_adapt:m], block, rhat_threshold):
                converged = True
                break
    if not converged:
        warnings.warn(
            "equilibrate: the potential energy did not level off within max_blocks = "
            f"{max_blocks} "
            f"blocks of {block} transitions; increase max_blocks or check the step "
            "size",
            RuntimeWarning,
            stacklevel=2,
        )
    return EquilibriumResult(
        state.position, label, modes, trace[:, :m].copy(), eps.copy(), converged, m
    )
