"""Step-size adaptation by dual averaging, vectorised over chains.

Hoffman and Gelman (2014, section 3.2) tune the leapfrog step size ``eps`` so
that the mean Metropolis acceptance probability reaches a target ``delta``.
Write ``alpha_m`` for the acceptance probability of transition ``m`` and
``H_m = delta - alpha_m``; the aim is ``E[H] = 0``. Nesterov's (2009)
primal-dual averaging gives the updates

    Hbar_m       = (1 - 1/(m + t0)) Hbar_{m-1} + (delta - alpha_m) / (m + t0)
    log eps_m    = mu - sqrt(m) / gamma * Hbar_m
    log epsbar_m = m^(-kappa) log eps_m + (1 - m^(-kappa)) log epsbar_{m-1}

with ``Hbar_0 = 0`` and ``log epsbar_0 = 0``. The iterate ``eps_m`` is used for
the next transition and wanders (it is driven by noisy acceptances); its
weighted average ``epsbar_m`` settles, and is the step size used after
adaptation. ``mu`` is the point the iterates are shrunk towards, by default
``log(10 eps0)`` (a bias towards step sizes larger than the initial guess);
``gamma`` sets how strongly; ``t0 > 0`` damps the first iterations; and
``kappa`` in ``(1/2, 1]`` sets how quickly the average forgets early iterates.

Chains can share one step size, adapted on their mean acceptance, or each
have its own, or be split into groups that share one; see
:func:`adapt_step_size`.

:func:`adapt_diagonal_mass` adds a diagonal mass matrix, estimated in Stan's
windows (Stan Development Team, *Stan Reference Manual*, "HMC algorithm
parameters"): a fast interval that adapts the step size only, slow windows of
doubling length at the end of each of which the inverse mass is set to the
regularised variance of the positions drawn in it, and a final fast interval.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from ._validation import (
    check_int,
    check_n_steps,
    check_per_chain,
    check_positive_float,
    check_rng,
)
from .kernel import HMCState, hmc_step, init_state
from .potential import Potential

__all__ = [
    "DualAveragingState",
    "AdaptationResult",
    "dual_averaging_init",
    "dual_averaging_update",
    "adapt_step_size",
    "MassAdaptationResult",
    "adaptation_windows",
    "adapt_diagonal_mass",
]

# log-step sizes are kept in this range so that exp() stays finite even when a
# target accepts everything whatever the step size (e.g. a linear potential).
_LOG_EPS_BOUND = 200.0


class DualAveragingState(NamedTuple):
    """The state of dual averaging, one entry per independently adapted step size.

    Attributes
    ----------
    log_step_size:
        ``log eps_m``, the iterate used for the next transition, shape ``(k,)``.
    log_step_size_avg:
        ``log epsbar_m``, the averaged iterate, shape ``(k,)``.
    error_avg:
        ``Hbar_m``, the running average of ``delta - alpha``, shape ``(k,)``.
    mu:
        The shrinkage point ``mu``, shape ``(k,)``.
    iteration:
        ``m``, the number of updates made so far.
    """

    log_step_size: np.ndarray
    log_step_size_avg: np.ndarray
    error_avg: np.ndarray
    mu: np.ndarray
    iteration: int


class AdaptationResult(NamedTuple):
    """Output of :func:`adapt_step_size`; chains are the leading axis.

    Attributes
    ----------
    state:
        The :class:`~hmc_lite.HMCState` after the last adaptation transition.
    step_size:
        The adapted step size ``epsbar`` of each chain, shape ``(chains,)``
        (equal within a group of chains that share a step size).
    n_steps:
        The number of leapfrog steps to use with ``step_size``, shape
        ``(chains,)``: the fixed ``n_steps``, or ``round(path_length /
        step_size)`` clipped to ``[1, max_n_steps]``.
    step_size_trace:
        The step size ``eps_m`` used at each adaptation transition, shape
        ``(chains, n_adapt)``.
    step_size_avg_trace:
        The averaged step size ``epsbar_m`` after each transition, shape
        ``(chains, n_adapt)``; its last column is ``step_size``.
    n_steps_trace:
        The number of leapfrog steps of each transition, shape
        ``(chains, n_adapt)``; its sum over transitions is the number of
        gradient evaluations a chain spent adapting.
    accept_prob:
        The Metropolis acceptance probability of each transition, shape
        ``(chains, n_adapt)``.
    is_divergent:
        Whether each transition diverged, shape ``(chains, n_adapt)``.
    """

    state: HMCState
    step_size: np.ndarray
    n_steps: np.ndarray
    step_size_trace: np.ndarray
    step_size_avg_trace: np.ndarray
    n_steps_trace: np.ndarray
    accept_prob: np.ndarray
    is_divergent: np.ndarray


def _check_dual_averaging_settings(gamma: float, t0: float, kappa: float) -> None:
    check_positive_float(gamma, "gamma")
    check_positive_float(t0, "t0")
    k = check_positive_float(kappa, "kappa")
    if not 0.5 < k <= 1.0:
        raise ValueError(f"kappa must lie in (0.5, 1]; got {kappa!r}")


def dual_averaging_init(
    step_size: float | np.ndarray, mu: float | np.ndarray | None = None
) -> DualAveragingState:
    """Start dual averaging from the initial step size(s) ``eps0``.

    ``mu`` defaults to ``log(10 eps0)``. Both may be scalars or arrays of the
    same shape ``(k,)``, one entry per independently adapted step size.
    """
    eps0 = np.atleast_1d(np.asarray(step_size, dtype=float))
    if eps0.ndim != 1 or not np.all(np.isfinite(eps0)) or np.any(eps0 <= 0):
        raise ValueError(f"step_size must be positive and finite; got {step_size!r}")
    if mu is None:
        mu_arr = np.log(10.0 * eps0)
    else:
        mu_arr = np.broadcast_to(np.asarray(mu, dtype=float), eps0.shape).copy()
        if not np.all(np.isfinite(mu_arr)):
            raise ValueError(f"mu must be finite; got {mu!r}")
    zeros = np.zeros_like(eps0)
    return DualAveragingState(np.log(eps0), zeros.copy(), zeros.copy(), mu_arr, 0)


def dual_averaging_update(
    state: DualAveragingState,
    accept_prob: np.ndarray,
    target_accept: float | np.ndarray,
    gamma: float = 0.05,
    t0: float = 10.0,
    kappa: float = 0.75,
) -> DualAveragingState:
    """One dual-averaging update after observing the acceptance probabilities.

    Parameters
    ----------
    state:
        The current :class:`DualAveragingState` (``k`` step sizes).
    accept_prob:
        The acceptance probability ``alpha_m`` observed with each of the
        ``k`` current step sizes, shape ``(k,)``.
    target_accept:
        ``delta``, a scalar or shape ``(k,)``.
    gamma, t0, kappa:
        The settings of the update (see the module docstring).

    Returns
    -------
    DualAveragingState
        The state after iteration ``m + 1``.
    """
    _check_dual_averaging_settings(gamma, t0, kappa)
    alpha = np.asarray(accept_prob, dtype=float)
    if alpha.shape != state.log_step_size.shape:
        raise ValueError(
            f"accept_prob must have shape {state.log_step_size.shape}; got "
            f"{alpha.shape}"
        )
    if not np.all((alpha >= 0) & (alpha <= 1)):  # also refuses NaN
        raise ValueError(f"accept_prob must lie in [0, 1]; got {accept_prob!r}")
    delta = np.asarray(target_accept, dtype=float)
    if not np.all((delta > 0) & (delta < 1)):
        raise ValueError(f"target_accept must lie in (0, 1); got {target_accept!r}")
    m = state.iteration + 1
    w = 1.0 / (m + t0)
    error_avg = (1.0 - w) * state.error_avg + w * (delta - alpha)
    log_eps = np.clip(
        state.mu - np.sqrt(m) / gamma * error_avg, -_LOG_EPS_BOUND, _LOG_EPS_BOUND
    )
    eta = m ** (-kappa)
    log_eps_avg = eta * log_eps + (1.0 - eta) * state.log_step_size_avg
    return DualAveragingState(log_eps, log_eps_avg, error_avg, state.mu, m)


def _group_index(groups, chains: int) -> np.ndarray:
    """Map the ``groups`` argument to a group index ``0..k-1`` for every chain."""
    if isinstance(groups, str):
        if groups == "shared":
            return np.zeros(chains, dtype=int)
        if groups == "per_chain":
            return np.arange(chains)
        raise ValueError(
            "groups must be 'shared', 'per_chain' or an array of labels; got "
            f"{groups!r}"
        )
    labels = np.asarray(groups)
    if labels.shape != (chains,):
        raise ValueError(
            f"groups must have shape ({chains},) when given as labels; got "
            f"{labels.shape}"
        )
    return np.unique(labels, return_inverse=True)[1].reshape(chains)


def _one_per_group(
    values: np.ndarray, index: np.ndarray, k: int, name: str
) -> np.ndarray:
    """The value of each group; refuses values that differ within a group."""
    out = np.empty(k)
    out[index] = values
    if not np.array_equal(out[index], values):
        raise ValueError(
            f"{name} must be the same for all chains that share a step size"
        )
    return out


def _steps_for(
    step_size: np.ndarray,
    path_length: np.ndarray | None,
    fixed: np.ndarray | None,
    max_n_steps: int,
) -> np.ndarray:
    if fixed is not None:
        return fixed
    return np.clip(np.rint(path_length / step_size), 1, max_n_steps).astype(int)


def _check_schedule(
    step_size: float | np.ndarray,
    target_accept: float | np.ndarray,
    n_steps: int | np.ndarray | None,
    path_length: float | np.ndarray | None,
    max_n_steps: int,
    chains: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None, int]:
    """The checked per-chain settings of :func:`adapt_step_size` and
    :func:`adapt_diagonal_mass`.

    Returns ``(eps0, delta, fixed_steps, lengths, max_n_steps)``, each of the
    first four of shape ``(chains,)`` (``fixed_steps`` or ``lengths`` is
    ``None``: exactly one of ``n_steps`` and ``path_length`` is given).
    """
    eps0 = check_per_chain(step_size, "step_size", chains)
    if not np.all(np.isfinite(eps0)) or np.any(eps0 <= 0):
        raise ValueError(f"step_size must be positive and finite; got {step_size!r}")
    delta = check_per_chain(target_accept, "target_accept", chains)
    if not np.all((delta > 0) & (delta < 1)):
        raise ValueError(
            f"target_accept must lie strictly between 0 and 1; got {target_accept!r}"
        )
    if (n_steps is None) == (path_length is None):
        raise ValueError(
            "give exactly one of n_steps (fixed L) and path_length (fixed T = L * eps)"
        )
    fixed_steps = None if n_steps is None else check_n_steps(n_steps, chains)
    lengths = None
    if path_length is not None:
        lengths = check_per_chain(path_length, "path_length", chains)
        if not np.all(np.isfinite(lengths)) or np.any(lengths <= 0):
            raise ValueError(
                f"path_length must be positive and finite; got {path_length!r}"
            )
        max_n_steps = check_int(max_n_steps, "max_n_steps")
    return eps0, delta, fixed_steps, lengths, max_n_steps


def adapt_step_size(
    potential: Potential,
    initial_position: np.ndarray,
    *,
    rng: np.random.Generator,
    step_size: float | np.ndarray,
    n_adapt: int,
    target_accept: float | np.ndarray = 0.65,
    n_steps: int | np.ndarray | None = None,
    path_length: float | np.ndarray | None = None,
    groups: str | np.ndarray = "shared",
    max_n_steps: int = 1000,
    gamma: float = 0.05,
    t0: float = 10.0,
    kappa: float = 0.75,
    mu: float | np.ndarray | None = None,
    divergence_threshold: float = 1000.0,
    callback: Callable[[int], object] | None = None,
) -> AdaptationResult:
    """Run ``n_adapt`` HMC transitions while tuning the step size by dual averaging.

    Parameters
    ----------
    potential:
        The potential energy ``U = -log pi``.
    initial_position:
        Shape ``(chains, dim)``.
    rng:
        The only source of randomness.
    step_size:
        Initial step size ``eps0 > 0``: a scalar or one per chain (equal
        within a group).
    n_adapt:
        Number of adaptation transitions, at least 1.
    target_accept:
        Target mean acceptance probability ``delta`` in ``(0, 1)``: a scalar
        or one per chain (equal within a group), so that several targets can
        be tuned in one batch.
    n_steps, path_length:
        Give exactly one. ``n_steps``: a fixed number of leapfrog steps ``L``
        (scalar or per chain). ``path_length``: a fixed integration time ``T``
        (scalar or per chain); the number of steps is then recomputed as
        ``L = round(T / eps)`` (clipped to ``[1, max_n_steps]``) every time the
        step size changes, so that the trajectory keeps its length.
    groups:
        Which chains share a step size. ``"shared"`` (the default): one step
        size for all chains, adapted on the acceptance probability averaged
        over chains. ``"per_chain"``: every chain adapts its own step size on
        its own acceptance. An array of ``chains`` labels: chains with the same
        label share a step size, adapted on their mean acceptance.
    max_n_steps:
        Upper bound on ``L`` when ``path_length`` is given.
    gamma, t0, kappa, mu:
        Dual-averaging settings; ``mu`` defaults to ``log(10 eps0)``.
    divergence_threshold:
        Passed to :func:`~hmc_lite.hmc_step`; a divergence has acceptance 0.
    callback:
        Called after every transition with its index ``0 .. n_adapt - 1`` (e.g.
        to move a progress bar); its return value is ignored.

    Returns
    -------
    AdaptationResult
        The final state, the adapted step size and number of steps per chain,
        and the traces of step sizes, steps, acceptance and divergences.

    Notes
    -----
    **Why a shared step size is the default.** Chains that sample the same
    target want the same step size: it is a property of the target, not of a
    chain. Averaging the acceptance over ``C`` chains divides the variance of
    the noise driving dual averaging by about ``C``, so the shared step size
    settles faster and closer to the one that meets the target; a per-chain
    step size is adapted on one noisy acceptance per transition, so its
    iterates wander widely and their average ends up scattered and, on
    average, on the cautious side: fresh transitions then accept more than
    the target (by about 0.05-0.1 on the Gaussians of the test suite). Use
    ``"per_chain"`` (or group labels) when chains sample different targets or
    are meant to reach different acceptance rates.

    **What is matched.** Dual averaging makes the mean acceptance *over the
    adaptation transitions*, whose iterates fluctuate, equal to the target;
    the acceptance at the averaged step size can differ. Where the acceptance
    falls off a cliff at the leapfrog stability limit (as on Bayesian neural
    networks), the target is met by mixing divergent transitions with
    well-accepted ones, and fresh transitions at the averaged step size accept
    far more than a moderate target. Start adaptation from chains near
    equilibrium: the stability limit in the typical set can be much smaller
    than at a mode.

    Adaptation changes the kernel as it goes, so the adaptation transitions
    are not draws from the target: discard them and sample afterwards with
    ``step_size`` and ``n_steps`` held fixed (e.g. with :func:`~hmc_lite.sample`
    started from ``state.position``).

    Examples
    --------
    >>> import autograd.numpy as anp
    >>> gauss = Potential(lambda q: 0.5 * anp.sum(q**2, axis=1), dim=2)
    >>> res = adapt_step_size(gauss, np.zeros((8, 2)), rng=np.random.default_rng(0),
    ...                       step_size=0.1, n_adapt=50, n_steps=5)
    >>> res.step_size.shape, res.accept_prob.shape
    ((8,), (8, 50))
    """
    check_rng(rng)
    n_adapt = check_int(n_adapt, "n_adapt")
    _check_dual_averaging_settings(gamma, t0, kappa)
    check_positive_float(divergence_threshold, "divergence_threshold")
    state = init_state(potential, initial_position)
    chains = state.position.shape[0]

    eps0, delta, fixed_steps, lengths, max_n_steps = _check_schedule(
        step_size, target_accept, n_steps, path_length, max_n_steps, chains
    )

    index = _group_index(groups, chains)
    k = int(index.max()) + 1
    counts = np.bincount(index, minlength=k)
    group_eps0 = _one_per_group(eps0, index, k, "step_size")
    group_delta = _one_per_group(delta, index, k, "target_accept")
    group_mu = None
    if mu is not None:
        group_mu = _one_per_group(check_per_chain(mu, "mu", chains), index, k, "mu")
    da = dual_averaging_init(group_eps0, group_mu)

    eps_trace = np.empty((chains, n_adapt))
    eps_avg_trace = np.empty((chains, n_adapt))
    steps_trace = np.empty((chains, n_adapt), dtype=int)
    accept = np.empty((chains, n_adapt))
    divergent = np.empty((chains, n_adapt), dtype=bool)
    for m in range(n_adapt):
        eps = np.exp(da.log_step_size)[index]
        steps = _steps_for(eps, lengths, fixed_steps, max_n_steps)
        state, info = hmc_step(state, potential, eps, steps, rng=rng,
                               divergence_threshold=divergence_threshold)
        group_accept = (
            np.bincount(index, weights=info.accept_prob, minlength=k) / counts
        )
        da = dual_averaging_update(da, group_accept, group_delta, gamma, t0, kappa)
        eps_trace[:, m] = eps
        eps_avg_trace[:, m] = np.exp(da.log_step_size_avg)[index]
        steps_trace[:, m] = steps
        accept[:, m] = info.accept_prob
        divergent[:, m] = info.is_divergent
        if callback is not None:
            callback(m)

    final_eps = eps_avg_trace[:, -1].copy()
    final_steps = _steps_for(final_eps, lengths, fixed_steps, max_n_steps)
    return AdaptationResult(state, final_eps, final_steps, eps_trace, eps_avg_trace,
                            steps_trace, accept, divergent)


# ---------------------------------------------------------------------------
# A diagonal mass matrix, adapted in Stan's windows
# ---------------------------------------------------------------------------


class MassAdaptationResult(NamedTuple):
    """Output of :func:`adapt_diagonal_mass`; chains are the leading axis.

    Attributes
    ----------
    state:
        The :class:`~hmc_lite.HMCState` after the last adaptation transition.
    step_size:
        The adapted step size of each chain, shape ``(chains,)`` (equal within
        a group).
    n_steps:
        The number of leapfrog steps to use with it, shape ``(chains,)`` (as in
        :class:`AdaptationResult`).
    inverse_mass:
        The adapted diagonal inverse mass of each chain, shape
        ``(chains, dim)`` (equal within a group); pass it to
        :func:`~hmc_lite.sample` as ``inverse_mass``.
    windows:
        The slow windows, shape ``(n_windows, 2)``: the first and one past the
        last transition of each (see :func:`adaptation_windows`).
    step_size_trace:
        The step size of each transition, shape ``(chains, n_adapt)``.
    accept_prob:
        The acceptance probability of each transition, shape ``(chains, n_adapt)``.
    is_divergent:
        Whether each transition diverged, shape ``(chains, n_adapt)``.
    """

    state: HMCState
    step_size: np.ndarray
    n_steps: np.ndarray
    inverse_mass: np.ndarray
    windows: np.ndarray
    step_size_trace: np.ndarray
    accept_prob: np.ndarray
    is_divergent: np.ndarray


def adaptation_windows(n_adapt: int, init_buffer: int = 75, term_buffer: int = 50,
                       base_window: int = 25) -> np.ndarray:
    """Stan's slow windows for ``n_adapt`` adaptation transitions, shape
    ``(n_windows, 2)``.

    The first ``init_buffer`` transitions adapt the step size only; then come
    windows of ``base_window``, ``2 base_window``, ``4 base_window``, ...
    transitions, the last one stretched to end ``term_buffer`` transitions
    before ``n_adapt`` (a window is stretched whenever the next, twice as
    long, would not fit). If the three do not fit in ``n_adapt``, Stan's
    fallback is used: 15% initial buffer, 10% terminal buffer, one window in
    between. Each row is ``(start, stop)``, transitions ``start..stop-1``.

    Examples
    --------
    >>> adaptation_windows(1000).tolist()
    [[75, 100], [100, 150], [150, 250], [250, 450], [450, 950]]
    """
    n_adapt = check_int(n_adapt, "n_adapt")
    init_buffer = check_int(init_buffer, "init_buffer", 0)
    term_buffer = check_int(term_buffer, "term_buffer", 0)
    base_window = check_int(base_window, "base_window")
    if init_buffer + base_window + term_buffer > n_adapt:
        init_buffer = int(0.15 * n_adapt)
        term_buffer = int(0.1 * n_adapt)
        base_window = n_adapt - init_buffer - term_buffer
        if base_window < 1:
            raise ValueError(f"n_adapt is too small for a slow window; got {n_adapt}")
    end = n_adapt - term_buffer
    windows, start, size = [], init_buffer, base_window
    while start < end:
        stop = start + size
        if stop + 2 * size > end:
            stop = end
        windows.append((start, stop))
        start, size = stop, 2 * size
    return np.array(windows, dtype=int).reshape(-1, 2)


def _regularised_variance(x: np.ndarray) -> np.ndarray:
    """Stan's regularised variance of ``n`` draws ``x`` (shape ``(n, dim)``), per
    coordinate: ``n / (n + 5) var + 1e-3 * 5 / (n + 5)``, which shrinks towards a small
    constant when there are few draws."""
    n = x.shape[0]
    var = x.var(axis=0, ddof=1) if n > 1 else np.zeros(x.shape[1])
    return (n / (n + 5.0)) * var + 1e-3 * (5.0 / (n + 5.0))


def adapt_diagonal_mass(
    potential: Potential,
    initial_position: np.ndarray,
    *,
    rng: np.random.Generator,
    step_size: float | np.ndarray,
    n_adapt: int = 1000,
    target_accept: float | np.ndarray = 0.8,
    n_steps: int | np.ndarray | None = None,
    path_length: float | np.ndarray | None = None,
    groups: str | np.ndarray = "shared",
    init_buffer: int = 75,
    term_buffer: int = 50,
    base_window: int = 25,
    max_n_steps: int = 1000,
    gamma: float = 0.05,
    t0: float = 10.0,
    kappa: float = 0.75,
    divergence_threshold: float = 1000.0,
    callback: Callable[[int], object] | None = None,
) -> MassAdaptationResult:
    """Adapt a diagonal inverse mass and the step size together, as Stan's warm-up does.

    The ``n_adapt`` transitions are split by :func:`adaptation_windows`:

    1. an initial fast interval (``init_buffer`` transitions) where only the
       step size is adapted, by dual averaging towards ``target_accept``, while
       the chains find the typical set;
    2. slow windows of doubling length (``base_window``, then twice as long,
       ...). The positions drawn in a window are pooled over the chains of a
       group (all chains by default, or each chain alone with
       ``groups="per_chain"``), and at the end of the window the inverse mass
       of the group is set to their regularised variance,
       ``n / (n + 5) var + 1e-3 * 5 / (n + 5)`` with ``n`` pooled draws (the
       regularisation Stan uses). The step size keeps adapting; after each
       window, dual averaging restarts from the current step size (``mu =
       log(10 eps)``), because the new mass changes the scale;
    3. a final fast interval (``term_buffer`` transitions) that adapts the
       step size to the last mass.

    Parameters
    ----------
    potential, initial_position, rng:
        As in :func:`adapt_step_size`; ``initial_position`` has shape
        ``(chains, dim)``.
    step_size:
        The initial step size (scalar or per chain, equal within a group).
    n_adapt:
        Number of adaptation transitions (Stan's default is 1000).
    target_accept:
        Target mean acceptance probability (Stan's default 0.8).
    n_steps, path_length:
        Give exactly one, as in :func:`adapt_step_size`. ``path_length`` is
        measured in the units of the current mass: with the inverse mass equal
        to the variances, a path length of about 1.5 is a quarter turn of
        every Gaussian coordinate.
    groups:
        ``"shared"``, ``"per_chain"`` or labels: chains of a group share a step
        size and an inverse mass, estimated from all their draws.
    init_buffer, term_buffer, base_window:
        The window schedule (Stan's defaults 75, 50, 25).
    max_n_steps, gamma, t0, kappa, divergence_threshold, callback:
        As in :func:`adapt_step_size`.

    Returns
    -------
    MassAdaptationResult
        The final state, step size, number of steps, inverse mass and traces.
        The adaptation transitions are not draws from the target: sample
        afterwards with :func:`~hmc_lite.sample` and these settings.

    Examples
    --------
    >>> from hmc_lite.models import gaussian_potential
    >>> pot = gaussian_potential(np.diag([0.01, 100.0]))
    >>> res = adapt_diagonal_mass(pot, np.zeros((4, 2)), rng=np.random.default_rng(0),
    ...                           step_size=0.1, n_adapt=300, n_steps=5)
    >>> res.inverse_mass.shape, res.windows.tolist()
    ((4, 2), [[75, 100], [100, 150], [150, 250]])
    """
    check_rng(rng)
    n_adapt = check_int(n_adapt, "n_adapt")
    windows = adaptation_windows(n_adapt, init_buffer, term_buffer, base_window)
    _check_dual_averaging_settings(gamma, t0, kappa)
    check_positive_float(divergence_threshold, "divergence_threshold")
    state = init_state(potential, initial_position)
    chains, dim = state.position.shape

    eps0, delta, fixed_steps, lengths, max_n_steps = _check_schedule(
        step_size, target_accept, n_steps, path_length, max_n_steps, chains
    )

    index = _group_index(groups, chains)
    k = int(index.max()) + 1
    counts = np.bincount(index, minlength=k)
    group_delta = _one_per_group(delta, index, k, "target_accept")
    da = dual_averaging_init(_one_per_group(eps0, index, k, "step_size"))
    inverse_mass = np.ones((chains, dim))
    window_draws = np.empty((chains, int(np.diff(windows, axis=1).max()), dim))

    eps_trace = np.empty((chains, n_adapt))
    accept = np.empty((chains, n_adapt))
    divergent = np.empty((chains, n_adapt), dtype=bool)
    w = 0  # the current or next slow window
    for m in range(n_adapt):
        eps = np.exp(da.log_step_size)[index]
        steps = _steps_for(eps, lengths, fixed_steps, max_n_steps)
        state, info = hmc_step(state, potential, eps, steps, rng=rng,
                               divergence_threshold=divergence_threshold,
                               inverse_mass=inverse_mass)
        group_accept = (
            np.bincount(index, weights=info.accept_prob, minlength=k) / counts
        )
        da = dual_averaging_update(da, group_accept, group_delta, gamma, t0, kappa)
        eps_trace[:, m], accept[:, m], divergent[:, m] = (
            eps,
            info.accept_prob,
            info.is_divergent,
        )
        if w < len(windows) and windows[w, 0] <= m < windows[w, 1]:
            window_draws[:, m - windows[w, 0]] = state.position
            # end of a slow window: a new mass, a fresh dual averaging
            if m == windows[w, 1] - 1:
                n = windows[w, 1] - windows[w, 0]
                for g in range(k):
                    members = index == g
                    draws = window_draws[members, :n].reshape(-1, dim)
                    inverse_mass[members] = _regularised_variance(draws)
                da = dual_averaging_init(np.exp(da.log_step_size))
                w += 1
        if callback is not None:
            callback(m)

    final_eps = (
        np.exp(da.log_step_size_avg)[index]
        if da.iteration > 0
        else np.exp(da.log_step_size)[index]
    )
    final_steps = _steps_for(final_eps, lengths, fixed_steps, max_n_steps)
    return MassAdaptationResult(
        state,
        final_eps,
        final_steps,
        inverse_mass,
        windows,
        eps_trace,
        accept,
        divergent,
    )
