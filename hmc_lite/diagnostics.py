"""Convergence and efficiency diagnostics for arrays of shape ``(chains, draws, ...)``.

The effective sample size and split R-hat follow the formulas used by Stan and
ArviZ (Geyer's initial monotone sequence on split chains; Gelman et al.'s
potential scale reduction). The test suite checks them against ArviZ, which is
not imported here so that the package stays light.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["ess", "rhat", "AcceptanceSummary", "acceptance_summary", "mcse_mean"]


def _as_draws(x: np.ndarray, name: str = "x") -> np.ndarray:
    arr = np.asarray(x, dtype=float)
    if arr.ndim < 2:
        raise ValueError(f"{name} must have shape (chains, draws, ...); got {arr.shape}")
    if arr.shape[1] < 4:
        raise ValueError(f"{name} needs at least 4 draws per chain; got {arr.shape[1]}")
    return arr


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
    arr = _split(_as_draws(x))
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


def rhat(x: np.ndarray) -> np.ndarray:
    """Split R-hat: close to 1 when the chains agree; shape as for :func:`ess`."""
    arr = _split(_as_draws(x))
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
    if a.ndim != 2:
        raise ValueError(f"accept_prob must have shape (chains, draws); got {a.shape}")
    per_chain = a.mean(axis=1)
    chains = per_chain.shape[0]
    sd = float(per_chain.std(ddof=1)) if chains > 1 else float("nan")
    return AcceptanceSummary(float(per_chain.mean()), sd, sd / np.sqrt(chains))
