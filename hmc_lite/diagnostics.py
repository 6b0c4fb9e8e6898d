"""Convergence and efficiency diagnostics for arrays of shape ``(chains, draws, ...)``.

The effective sample size and split R-hat follow the formulas used by Stan and
ArviZ (Geyer's initial monotone sequence on split chains; Gelman et al.'s
potential scale reduction). The test suite checks them against ArviZ, which is
not imported here so that the package stays light.

For replicated runs, :func:`t_interval`, :func:`mode_summary` (the mode, not the
chain, as the unit of replication), :func:`paired_difference` and :func:`holm`
use Student's t distribution from :mod:`scipy.stats`.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np
from scipy import stats

from ._validation import (
    check_int,
    check_positions,
    check_positive_float,
    check_probability,
    check_rng,
)
from .potential import Potential

__all__ = [
    "ess",
    "ess_per_gradient",
    "rhat",
    "AcceptanceSummary",
    "acceptance_summary",
    "mcse_mean",
    "stability_limit",
    "t_interval",
    "ModeSummary",
    "mode_summary",
    "PairedDifference",
    "paired_difference",
    "HolmComparison",
    "holm_comparisons",
    "HolmResult",
    "holm",
    "verdict",
    "mean_pm_se",
]


def _as_draws(x: np.ndarray, name: str = "x") -> np.ndarray:
    arr = np.asarray(x, dtype=float)
    if arr.ndim < 2:
        raise ValueError(
            f"{name} must have shape (chains, draws, ...); got {arr.shape}"
        )
    if arr.shape[0] < 1:
        raise ValueError(f"{name} needs at least one chain; got {arr.shape}")
    if arr.shape[1] < 4:
        raise ValueError(f"{name} needs at least 4 draws per chain; got {arr.shape[1]}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; it contains NaN or infinite values")
    return arr


def _unit_scale(x: np.ndarray) -> np.ndarray:
    """Divide each coordinate by its largest absolute value (ESS and R-hat do not
    change, and huge values such as 1e200 no longer overflow when squared)."""
    scale = np.abs(x).max(axis=(0, 1))
    return x / np.where(scale > 0, scale, 1.0)


def _split(x: np.ndarray) -> np.ndarray:
    """Split each chain in two halves (dropping the middle draw if odd)."""
    n = x.shape[1] // 2
    return np.concatenate([x[:, :n], x[:, -n:]], axis=0)


def _autocovariance(x: np.ndarray) -> np.ndarray:
    """Biased autocovariance of each chain along axis 1, by FFT."""
    n = x.shape[1]
    centred = x - x.mean(axis=1, keepdims=True)
    size = 2 ** int(np.ceil(np.log2(2 * n)))
    f = np.fft.rfft(centred, n=size, axis=1)
    acov = np.fft.irfft(f * np.conj(f), n=size, axis=1)[:, :n]
    return acov / n


def ess(x: np.ndarray) -> np.ndarray:
    """Effective sample size of the mean, from split chains.

    Parameters
    ----------
    x:
        Draws of shape ``(chains, draws)`` or ``(chains, draws, k)``.

    Returns
    -------
    numpy.ndarray
        A scalar array, or one value per trailing coordinate.
    """
    arr = _split(_unit_scale(_as_draws(x)))
    m, n = arr.shape[:2]
    acov = _autocovariance(arr)
    chain_mean = arr.mean(axis=1)
    chain_var = acov[:, 0] * n / (n - 1)
    mean_var = chain_var.mean(axis=0)
    var_plus = mean_var * (n - 1) / n + chain_mean.var(axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = 1.0 - (mean_var - acov.mean(axis=0)) / var_plus  # (n, ...)
    rho[0] = 1.0
    n_pairs = n // 2
    pairs = rho[: 2 * n_pairs].reshape((n_pairs, 2) + rho.shape[1:]).sum(axis=1)
    # Geyer: keep the initial positive sequence, made monotone.
    positive = np.cumprod(pairs > 0, axis=0).astype(bool)
    pairs = np.where(positive, pairs, 0.0)
    pairs = np.minimum.accumulate(np.where(positive, pairs, np.inf), axis=0)
    pairs = np.where(positive, pairs, 0.0)
    tau = -1.0 + 2.0 * pairs.sum(axis=0)
    tau = np.maximum(tau, 1.0 / np.log10(m * n))
    out = m * n / tau
    return np.where(np.isfinite(var_plus) & (var_plus > 0), out, np.nan)


def ess_per_gradient(x: np.ndarray, n_gradients: float, per: float = 1000.0) -> float:
    """Effective samples per ``per`` gradient evaluations:
    ``per * mean(ess(x)) / n_gradients``.

    ``x`` holds draws of shape ``(chains, draws)`` or ``(chains, draws, k)`` (the
    ESS is averaged over the ``k`` quantities); ``n_gradients`` is the number of
    gradient evaluations spent drawing them, over all their chains. This is
    the efficiency the book compares samplers by: the cost of an effective
    sample in the unit that dominates the run time.
    """
    n_gradients = check_positive_float(n_gradients, "n_gradients")
    per = check_positive_float(per, "per")
    return float(per * ess(x).mean() / n_gradients)


def rhat(x: np.ndarray) -> np.ndarray:
    """Split R-hat: close to 1 when the chains agree; shape as for :func:`ess`."""
    arr = _split(_unit_scale(_as_draws(x)))
    n = arr.shape[1]
    chain_mean = arr.mean(axis=1)
    within = arr.var(axis=1, ddof=1).mean(axis=0)
    between = n * chain_mean.var(axis=0, ddof=1)
    var_plus = (n - 1) / n * within + between / n
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt(var_plus / within)


def mcse_mean(x: np.ndarray) -> np.ndarray:
    """Monte Carlo standard error of the mean: ``sd / sqrt(ess)``."""
    arr = _as_draws(x)
    sd = arr.reshape((-1,) + arr.shape[2:]).std(axis=0, ddof=1)
    return sd / np.sqrt(ess(arr))


class AcceptanceSummary(NamedTuple):
    """Mean acceptance probability and its spread across chains."""

    mean: float
    chain_sd: float
    standard_error: float


def acceptance_summary(accept_prob: np.ndarray) -> AcceptanceSummary:
    """Summarise ``accept_prob`` of shape ``(chains, draws)``.

    The standard error treats chain means as independent replicates, which is
    valid because chains share nothing but the starting point distribution.
    """
    a = np.asarray(accept_prob, dtype=float)
    if a.ndim != 2 or a.shape[0] < 1 or a.shape[1] < 1:
        raise ValueError(
            "accept_prob must have shape (chains, draws) with at least one chain and "
            f"one draw; got {a.shape}"
        )
    if not np.all((a >= 0) & (a <= 1)):  # also refuses NaN
        raise ValueError("accept_prob must lie in [0, 1] (no NaN)")
    per_chain = a.mean(axis=1)
    chains = per_chain.shape[0]
    sd = float(per_chain.std(ddof=1)) if chains > 1 else float("nan")
    return AcceptanceSummary(float(per_chain.mean()), sd, sd / np.sqrt(chains))


def _hessian_vector(
    potential: Potential, q: np.ndarray, grad: np.ndarray, v: np.ndarray, h: float
) -> np.ndarray:
    """Finite-difference Hessian-vector products ``H(q_c) v_c`` for every chain ``c``.

    A kink of the potential (a ReLU network) closer than ``h`` would turn a
    difference across it into a huge, spurious curvature. A kink lies on one
    side only, almost surely, so the smaller of the forward and the backward
    difference is used; where the two disagree (a kink on each side), both
    are recomputed with a step 1000 times smaller and the smallest of the four
    is used.
    """
    def one_sided(step: float) -> tuple[np.ndarray, np.ndarray]:
        g = potential.value_and_grad(
            np.concatenate([q + step * v, q - step * v]), check=False
        ).gradient
        return (g[: len(q)] - grad) / step, (grad - g[len(q):]) / step

    candidates = list(one_sided(h))
    norms = [np.linalg.norm(c, axis=1) for c in candidates]
    disagree = np.linalg.norm(
        candidates[0] - candidates[1], axis=1
    ) > 1e-2 * np.maximum(*norms)
    if np.any(disagree):
        candidates += one_sided(1e-3 * h)
        norms += [
            np.where(disagree, np.linalg.norm(c, axis=1), np.inf)
            for c in candidates[2:]
        ]
    best = np.argmin(np.stack(norms), axis=0)
    return np.stack(candidates)[best, np.arange(len(q))]


def stability_limit(
    potential: Potential,
    position: np.ndarray,
    *,
    n_iter: int = 50,
    rng: np.random.Generator | None = None,
    h: float = 1e-6,
) -> np.ndarray:
    """Leapfrog linear stability limit ``2 / sqrt(lambda_max)`` at each row of
    ``position``.

    Near a point where the Hessian of ``U`` has largest eigenvalue
    ``lambda_max``, leapfrog on the locally quadratic problem is stable only
    for ``eps < 2 / sqrt(lambda_max)``; beyond it, errors grow exponentially
    along the stiffest direction.

    ``lambda_max`` is found from Hessian-vector products alone (finite differences of
    the gradient with step ``h``, one-sided away from kinks, see below): power iteration
    builds the Krylov space ``v, Hv, H^2 v, ...``, and the Lanczos method takes the best
    estimate in that space, the largest eigenvalue of the projected tridiagonal matrix
    (with full reorthogonalisation). This is never worse than the Rayleigh quotient of
    power iteration, finds the largest *algebraic* eigenvalue even when a negative one
    is larger in magnitude, and with ``n_iter >= dim`` it is the exact eigenvalue of the
    (finite-difference) Hessian. The estimate of ``lambda_max`` can only err low, so the
    limit can only err high.

    Parameters
    ----------
    potential:
        The potential energy ``U``.
    position:
        Shape ``(chains, dim)``; one estimate per row, computed in one batch.
    n_iter:
        Hessian-vector products per row (capped at ``dim``); each costs two
        batched gradient evaluations.
    rng:
        Draws the random start vectors; ``None`` uses a fixed start (the same
        at every call), so the result is deterministic.
    h:
        Finite-difference step.

    Returns
    -------
    numpy.ndarray
        Shape ``(chains,)``; ``inf`` where no curvature is positive.

    Examples
    --------
    >>> from hmc_lite.models import gaussian_potential
    >>> pot = gaussian_potential(np.diag([4.0, 1.0, 0.25]))
    >>> stability_limit(pot, np.zeros((2, 3))).round(6).tolist()
    [1.0, 1.0]
    """
    q = check_positions(position, "position", potential.dim)
    chains, dim = q.shape
    n_iter = check_int(n_iter, "n_iter")
    if rng is not None:
        check_rng(rng)
    h = check_positive_float(h, "h")
    rng = np.random.default_rng(0) if rng is None else rng
    k = min(int(n_iter), dim)
    grad = potential.value_and_grad(q).gradient
    basis = np.zeros((chains, k, dim))  # Lanczos vectors, rows orthonormal per chain
    alpha, beta = np.zeros((chains, k)), np.zeros((chains, k))
    v = rng.standard_normal((chains, dim))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    for j in range(k):
        basis[:, j] = v
        w = _hessian_vector(potential, q, grad, v, h)
        alpha[:, j] = np.einsum("cd,cd->c", w, v)
        # full reorthogonalisation (twice is enough) against all vectors so far
        for _ in range(2):
            w -= np.einsum(
                "cj,cjd->cd",
                np.einsum("cjd,cd->cj", basis[:, : j + 1], w),
                basis[:, : j + 1],
            )
        norm = np.linalg.norm(w, axis=1)
        if j + 1 == k:
            break
        scale = np.maximum(np.abs(alpha[:, : j + 1]).max(axis=1), 1e-300)
        # an invariant subspace: restart with a fresh direction
        stuck = norm <= 1e-10 * scale
        if np.any(stuck):
            fresh = rng.standard_normal((chains, dim))
            for _ in range(2):
                fresh -= np.einsum(
                    "cj,cjd->cd",
                    np.einsum("cjd,cd->cj", basis[:, : j + 1], fresh),
                    basis[:, : j + 1],
                )
            w = np.where(stuck[:, None], fresh, w)
            norm = np.where(stuck, np.linalg.norm(w, axis=1), norm)
        beta[:, j] = np.where(stuck, 0.0, norm)
        v = w / norm[:, None]
    tri = np.zeros((chains, k, k))
    i = np.arange(k)
    tri[:, i, i] = alpha
    tri[:, i[:-1], i[1:]] = tri[:, i[1:], i[:-1]] = beta[:, : k - 1]
    lam = np.linalg.eigvalsh(tri)[:, -1]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(lam > 0, 2.0 / np.sqrt(np.maximum(lam, 0.0)), np.inf)


# ---------------------------------------------------------------------------
# Statistics of replicates
# ---------------------------------------------------------------------------


def _replicates(values: np.ndarray, name: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"{name} must be a numeric array; got {type(values).__name__}"
        ) from err
    if arr.ndim != 1 or arr.size < 1:
        raise ValueError(
            f"{name} must be a non-empty one-dimensional array; got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; it contains NaN or infinite values")
    return arr


def t_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Student-t confidence interval ``mean -+ t_{n-1} sd / sqrt(n)`` for the mean.

    ``values`` are ``n`` independent replicates, shape ``(n,)``. Returns
    ``(low, high)``; both are NaN when ``n = 1``.

    Examples
    --------
    >>> low, high = t_interval([1.0, 2.0, 3.0])
    >>> round(low, 3), round(high, 3)
    (-0.484, 4.484)
    """
    x = _replicates(values, "values")
    level = check_probability(level, "level")
    n = x.size
    if n < 2:
        return float("nan"), float("nan")
    half = (
        float(stats.t.ppf(0.5 + level / 2, n - 1)) * float(x.std(ddof=1)) / np.sqrt(n)
    )
    return float(x.mean() - half), float(x.mean() + half)


class ModeSummary(NamedTuple):
    """Output of :func:`mode_summary`: a mean over modes with its uncertainty.

    Attributes
    ----------
    mean:
        The mean over modes of the per-mode means.
    standard_error:
        ``sd / sqrt(n_modes)`` of the per-mode means (NaN for one mode).
    n_modes:
        The number of modes (the replicates).
    low, high:
        The Student-t confidence interval (with ``n_modes - 1`` degrees of
        freedom) at ``level``.
    level:
        Its confidence level.
    mode_means:
        The per-mode means, shape ``(n_modes,)``, in the order of the sorted
        labels.
    """

    mean: float
    standard_error: float
    n_modes: int
    low: float
    high: float
    level: float
    mode_means: np.ndarray


def mode_summary(
    values: np.ndarray, mode: np.ndarray, level: float = 0.95
) -> ModeSummary:
    """Average per-chain ``values`` within each mode, then summarise over modes.

    Chains started around the same mode share its basin and are not
    independent replicates of a posterior-wide quantity; the modes, found
    from independent starting points, are. So the unit of replication is the
    mode: ``values`` (shape ``(chains,)``) are averaged within each label of
    ``mode`` (shape ``(chains,)``, e.g. :attr:`~hmc_lite.EquilibriumResult.mode`),
    and the mean, standard error and t interval are those of the per-mode
    means.

    Examples
    --------
    >>> s = mode_summary([1.0, 3.0, 5.0, 7.0], [0, 0, 1, 1])
    >>> s.mean, s.n_modes, s.mode_means.tolist()
    (4.0, 2, [2.0, 6.0])
    """
    x = _replicates(values, "values")
    labels = np.asarray(mode)
    if labels.shape != x.shape:
        raise ValueError(
            f"mode must have the shape of values {x.shape}; got {labels.shape}"
        )
    _, index = np.unique(labels, return_inverse=True)
    index = index.reshape(x.shape)
    means = np.bincount(index, weights=x) / np.bincount(index)
    level = check_probability(level, "level")
    k = means.size
    se = float(means.std(ddof=1) / np.sqrt(k)) if k > 1 else float("nan")
    low, high = t_interval(means, level)
    return ModeSummary(float(means.mean()), se, int(k), low, high, level, means)


class PairedDifference(NamedTuple):
    """Output of :func:`paired_difference`, the paired t test of ``a - b``.

    Attributes
    ----------
    mean:
        Mean of the differences ``a - b``.
    standard_error:
        ``sd(a - b) / sqrt(n)``.
    t:
        ``mean / standard_error``.
    p_value:
        Two-sided p value of ``t`` under Student's t with ``n - 1`` degrees of
        freedom (the null hypothesis: mean difference 0).
    low, high:
        The t confidence interval of the mean difference at ``level``.
    level:
        Its confidence level.
    n:
        The number of pairs.
    """

    mean: float
    standard_error: float
    t: float
    p_value: float
    low: float
    high: float
    level: float
    n: int


def paired_difference(
    a: np.ndarray, b: np.ndarray, level: float = 0.95
) -> PairedDifference:
    """Paired comparison of ``a`` and ``b``, shape ``(n,)`` each (e.g. one value per
    mode).

    Same statistic and p value as :func:`scipy.stats.ttest_rel`, with the
    interval and the standard error alongside. Needs at least two pairs.

    Examples
    --------
    >>> d = paired_difference([2.0, 3.0, 5.0], [1.0, 1.0, 2.0])
    >>> d.mean, round(d.t, 3)
    (2.0, 3.464)
    """
    x = _replicates(a, "a")
    y = _replicates(b, "b")
    if x.shape != y.shape:
        raise ValueError(f"b must have the shape of a {x.shape}; got {y.shape}")
    if x.size < 2:
        raise ValueError(f"a and b need at least 2 pairs; got {x.size}")
    level = check_probability(level, "level")
    d = x - y
    n = d.size
    mean = float(d.mean())
    se = float(d.std(ddof=1) / np.sqrt(n))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = mean / se if se > 0 else (0.0 if mean == 0 else np.copysign(np.inf, mean))
    p = float(2 * stats.t.sf(abs(t), n - 1))
    low, high = t_interval(d, level)
    return PairedDifference(mean, se, float(t), p, low, high, level, int(n))


class HolmResult(NamedTuple):
    """Output of :func:`holm`; both fields have the shape of the p values.

    Attributes
    ----------
    adjusted:
        Holm-adjusted p values (compare them with ``alpha``).
    reject:
        Which null hypotheses are rejected at family-wise error rate ``alpha``.
    """

    adjusted: np.ndarray
    reject: np.ndarray


def holm(p_values: np.ndarray, alpha: float = 0.05) -> HolmResult:
    """Holm-Bonferroni step-down correction for ``m`` tests.

    With the p values sorted, ``p_(1) <= ... <= p_(m)``, the adjusted values
    are ``max_{j <= i} min(1, (m - j + 1) p_(j))``; the hypotheses whose
    adjusted p value is at most ``alpha`` are rejected, which keeps the
    family-wise error rate at ``alpha`` under any dependence between the tests.

    Examples
    --------
    >>> res = holm([0.01, 0.04, 0.03])
    >>> res.adjusted.round(2).tolist(), res.reject.tolist()
    ([0.03, 0.06, 0.06], [True, False, False])
    """
    p = _replicates(p_values, "p_values")
    if np.any((p < 0) | (p > 1)):
        raise ValueError(f"p_values must lie in [0, 1]; got {p_values!r}")
    if (
        isinstance(alpha, bool)
        or not isinstance(alpha, (int, float, np.integer, np.floating))
        or not 0 < alpha < 1
    ):
        raise ValueError(f"alpha must lie strictly between 0 and 1; got {alpha!r}")
    m = p.size
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.maximum.accumulate(scaled)
    return HolmResult(adjusted, adjusted <= alpha)


class HolmComparison(NamedTuple):
    """One member of a family of paired comparisons (:func:`holm_comparisons`).

    Attributes
    ----------
    difference:
        The paired comparison itself.
    p_holm:
        Its Holm-adjusted p value within the family.
    reject:
        Whether the family rejects "no difference" for it at level ``alpha``.
    """

    difference: PairedDifference
    p_holm: float
    reject: bool


def holm_comparisons(
    differences: Sequence[PairedDifference], alpha: float = 0.05
) -> list[HolmComparison]:
    """Correct a family of paired comparisons together with :func:`holm`.

    Returns one :class:`HolmComparison` per entry of ``differences``, in order.

    Examples
    --------
    >>> a = np.array([1.0, 1.2, 0.9, 1.1])
    >>> family = holm_comparisons([paired_difference(a + 1, a + [0, .1, -.1, 0]),
    ...                            paired_difference(a, a + [.1, -.1, 0, 0])])
    >>> [m.reject for m in family]
    [True, False]
    """
    differences = list(differences)
    if not all(isinstance(d, PairedDifference) for d in differences):
        raise TypeError(
            f"differences must be PairedDifference results; got {differences!r}"
        )
    if not differences:
        raise ValueError("differences must hold at least one comparison; got none")
    result = holm(np.array([d.p_value for d in differences]), alpha)
    return [
        HolmComparison(d, float(p), bool(r))
        for d, p, r in zip(differences, result.adjusted, result.reject)
    ]


def verdict(
    difference: PairedDifference, resolved: bool, higher: str, lower: str
) -> str:
    """Which way a paired comparison points, if a test resolved it.

    ``"unresolved"`` unless ``resolved`` (e.g. a ``reject`` of :func:`holm`);
    otherwise ``higher`` where ``difference.mean > 0`` and ``lower`` where not.

    Examples
    --------
    >>> d = paired_difference(np.array([2.0, 3.0, 2.5]), np.array([1.0, 1.5, 1.0]))
    >>> verdict(d, True, "a better", "b better"), verdict(d, False, "a", "b")
    ('a better', 'unresolved')
    """
    if not resolved:
        return "unresolved"
    return higher if difference.mean > 0 else lower


def mean_pm_se(values: np.ndarray, scale: float = 1.0, digits: int = 2) -> str:
    """``"mean ± standard error"`` of one value per mode (each value is a replicate).

    The values are multiplied by ``scale`` first; both numbers are written with
    ``digits`` decimals. The standard error is that of :func:`mode_summary`
    (the sample standard deviation over ``sqrt(n)``).

    Examples
    --------
    >>> mean_pm_se([0.5, 0.7, 0.6])
    '0.60 ± 0.06'
    """
    digits = check_int(digits, "digits", 0)
    v = float(scale) * np.asarray(values, dtype=float)
    s = mode_summary(v, np.arange(v.size))
    return f"{s.mean:.{digits}f} ± {s.standard_error:.{digits}f}"
