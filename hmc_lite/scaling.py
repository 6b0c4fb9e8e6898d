"""Optimal-scaling formulas: acceptance as a function of the energy-error scale.

If the energy error of a proposal is ``X ~ N(s^2/2, s^2)`` (the limit reached by
HMC on high-dimensional product targets), the mean acceptance probability is
``E[min(1, exp(-X))] = 2 Phi(-s/2)``. When ``Var(X)`` grows like ``l^(2k)`` in the
scaled step size ``l``, efficiency per gradient is proportional to
``l * a(l)``, and its maximiser ``a*`` solves ``Phi(-u) = k u phi(u)``,
``a* = 2 Phi(-u)``: ``k = 2`` for smooth targets, ``k = 1`` for kinked ones.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq
from scipy.special import ndtr, ndtri

__all__ = ["expected_acceptance", "optimal_acceptance", "efficiency_curve"]


def _norm_pdf(u):
    return np.exp(-0.5 * np.square(u)) / np.sqrt(2.0 * np.pi)


def expected_acceptance(s: float | np.ndarray) -> np.ndarray:
    """``E[min(1, exp(-X))]`` for ``X ~ N(s^2/2, s^2)``, that is ``2 Phi(-s/2)``."""
    s = np.asarray(s, dtype=float)
    if np.any(s < 0) or not np.all(np.isfinite(s)):
        raise ValueError("s must be non-negative and finite")
    return 2.0 * ndtr(-0.5 * s)


def optimal_acceptance(k: float) -> float:
    """Acceptance probability maximising ``l * a(l)`` when ``Var(dH) ~ l^(2k)``.

    Solves ``Phi(-u) = k u phi(u)`` for ``u > 0`` by bracketing root finding and
    returns ``2 Phi(-u)``. ``optimal_acceptance(1)`` is about 0.4522 (kinked
    targets), ``optimal_acceptance(2)`` about 0.6513 (smooth targets).
    """
    if not np.isfinite(k) or k <= 0:
        raise ValueError(f"k must be positive and finite; got {k!r}")
    u = brentq(lambda v: ndtr(-v) - k * v * _norm_pdf(v), 1e-12, 10.0, xtol=1e-14)
    return float(2.0 * ndtr(-u))


def efficiency_curve(acceptance: np.ndarray, k: float) -> np.ndarray:
    """Efficiency ``l * a`` as a function of the acceptance ``a``, up to a constant.

    With ``a = 2 Phi(-u)`` and ``l`` proportional to ``u^(1/k)``, this is
    ``a * (-Phi^{-1}(a/2))^(1/k)``, normalised to a maximum of 1.
    """
    a = np.asarray(acceptance, dtype=float)
    if np.any((a <= 0) | (a >= 1)):
        raise ValueError("acceptance values must lie strictly between 0 and 1")
    if not np.isfinite(k) or k <= 0:
        raise ValueError(f"k must be positive and finite; got {k!r}")
    eff = a * (-ndtri(a / 2.0)) ** (1.0 / k)
    a_star = optimal_acceptance(k)
    top = a_star * (-ndtri(a_star / 2.0)) ** (1.0 / k)
    return eff / top
