"""Optimal-scaling formulas: acceptance as a function of the energy-error scale.

If the energy error of a proposal is ``X ~ N(s^2/2, s^2)`` (the limit reached by
HMC on high-dimensional product targets), the mean acceptance probability is
``E[min(1, exp(-X))] = 2 Phi(-s/2)``. When ``Var(X)`` grows like ``l^(2k)`` in the
scaled step size ``l``, efficiency per gradient is proportional to
``l * a(l)``, and its maximiser ``a*`` solves ``Phi(-u) = k u phi(u)``,
``a* = 2 Phi(-u)``: ``k = 2`` for smooth targets, ``k = 1`` for kinked ones.

For a product target ``pi(x) = prod_i exp(-V(x_i))`` whose one-dimensional
potential ``V`` is smooth except at kinks, where ``V'`` jumps by ``J_k``, HMC with
step size ``eps = l d^(-1/2)``, integration time ``T`` and unit mass has
``Var(dH) -> kappa l^2`` with the *kink variance constant*
``kappa = T sum_k J_k^2 pi(kink_k) E|v|^3 / 12`` (Rice's formula;
``E|v|^3 = 4 / sqrt(2 pi)`` for ``v ~ N(0, 1)``).
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import quad
from scipy.optimize import brentq
from scipy.special import ndtr, ndtri

from ._validation import check_positive_float

__all__ = [
    "NORMAL_ABS_THIRD_MOMENT",
    "expected_acceptance",
    "optimal_acceptance",
    "optimal_scale",
    "efficiency_curve",
    "kink_variance_constant",
    "predicted_acceptance",
    "one_step_acceptance",
]

#: ``E|v|^3`` for a standard normal ``v``: ``4 / sqrt(2 pi)``, about 1.596.
NORMAL_ABS_THIRD_MOMENT: float = float(4.0 / np.sqrt(2.0 * np.pi))


def _norm_pdf(u):
    return np.exp(-0.5 * np.square(u)) / np.sqrt(2.0 * np.pi)


def _as_float_array(x, name: str) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"{name} must be a number or an array of numbers; got {x!r}"
        ) from err
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; got {x!r}")
    return arr


def expected_acceptance(s: float | np.ndarray) -> np.ndarray:
    """``E[min(1, exp(-X))]`` for ``X ~ N(s^2/2, s^2)``, that is ``2 Phi(-s/2)``."""
    s = np.asarray(s, dtype=float)
    if np.any(s < 0) or not np.all(np.isfinite(s)):
        raise ValueError("s must be non-negative and finite")
    return 2.0 * ndtr(-0.5 * s)


def _optimal_u(k: float) -> float:
    """The positive root of ``Phi(-u) = k u phi(u)`` (it is unique)."""
    k = check_positive_float(k, "k")
    return float(
        brentq(lambda v: ndtr(-v) - k * v * _norm_pdf(v), 1e-12, 10.0, xtol=1e-14)
    )


def optimal_acceptance(k: float) -> float:
    """Acceptance probability maximising ``l * a(l)`` when ``Var(dH) ~ l^(2k)``.

    Solves ``Phi(-u) = k u phi(u)`` for ``u > 0`` by bracketing root finding and
    returns ``2 Phi(-u)``. ``optimal_acceptance(1)`` is about 0.4522 (kinked
    targets), ``optimal_acceptance(2)`` about 0.6513 (smooth targets).
    """
    return float(2.0 * ndtr(-_optimal_u(k)))


def optimal_scale(kappa: float, k: float = 1.0) -> float:
    """The scaled step size ``l*`` maximising ``l * 2 Phi(-sqrt(kappa l^(2k)) / 2)``.

    With ``Var(dH) = kappa l^(2k)`` the acceptance is ``a(l) = 2 Phi(-u)`` with
    ``u = sqrt(kappa) l^k / 2``, so ``l* = (2 u* / sqrt(kappa))^(1/k)`` where
    ``u*`` solves ``Phi(-u) = k u phi(u)``. For a kinked product target use
    ``k = 1`` and ``kappa`` from :func:`kink_variance_constant`; the step size is
    then ``eps = l* d^(-1/2)``.
    """
    kappa_arr = _as_float_array(kappa, "kappa")
    if kappa_arr.ndim != 0 or kappa_arr <= 0:
        raise ValueError(f"kappa must be a positive finite number; got {kappa!r}")
    k = check_positive_float(k, "k")
    return float((2.0 * _optimal_u(k) / np.sqrt(float(kappa_arr))) ** (1.0 / k))


def efficiency_curve(acceptance: np.ndarray, k: float) -> np.ndarray:
    """Efficiency ``l * a`` as a function of the acceptance ``a``, up to a constant.

    With ``a = 2 Phi(-u)`` and ``l`` proportional to ``u^(1/k)``, this is
    ``a * (-Phi^{-1}(a/2))^(1/k)``, normalised to a maximum of 1.
    """
    a = np.asarray(acceptance, dtype=float)
    if np.any((a <= 0) | (a >= 1)) or not np.all(np.isfinite(a)):
        raise ValueError("acceptance values must lie strictly between 0 and 1")
    k = check_positive_float(k, "k")
    eff = a * (-ndtri(a / 2.0)) ** (1.0 / k)
    a_star = optimal_acceptance(k)
    top = a_star * (-ndtri(a_star / 2.0)) ** (1.0 / k)
    return eff / top


def kink_variance_constant(
    jumps: float | np.ndarray,
    densities_at_kinks: float | np.ndarray,
    T: float = 1.0,
) -> float:
    """Variance constant ``kappa`` of the energy error on a kinked product target.

    ``kappa = T * sum_k J_k^2 pi(c_k) E|v|^3 / 12`` with ``E|v|^3 = 4/sqrt(2 pi)``,
    so that with unit mass, integration time ``T`` and step size
    ``eps = l d^(-1/2)``, ``Var(dH) -> kappa l^2`` as ``d -> infinity``.

    Parameters
    ----------
    jumps:
        The jumps ``J_k = V'(c_k+) - V'(c_k-)`` of the derivative of the
        one-dimensional potential at its kinks ``c_k`` (a scalar for one kink).
        Only ``J_k^2`` matters.
    densities_at_kinks:
        The normalised one-dimensional density ``pi(c_k)`` at each kink, same
        shape as ``jumps``.
    T:
        Integration time ``L * eps`` of a trajectory.

    Examples
    --------
    ``V(x) = x^2/2 + |x|`` has one kink at 0 with jump 2 and
    ``pi(0) = 1 / (sqrt(2 pi) e^(1/2) erfc(1/sqrt(2)))``:

    >>> import numpy as np
    >>> from scipy.special import erfc
    >>> pi0 = 1 / (np.sqrt(2 * np.pi) * np.exp(0.5) * erfc(1 / np.sqrt(2)))
    >>> round(kink_variance_constant(2.0, pi0), 4)
    0.4056
    """
    J = _as_float_array(jumps, "jumps")
    dens = _as_float_array(densities_at_kinks, "densities_at_kinks")
    if J.ndim > 1 or dens.ndim > 1:
        raise ValueError("jumps and densities_at_kinks must be scalars or 1-D arrays")
    if J.shape != dens.shape:
        raise ValueError(
            f"jumps and densities_at_kinks must have the same shape; got {J.shape} and "
            f"{dens.shape}"
        )
    if np.any(dens < 0):
        raise ValueError(
            f"densities_at_kinks must be non-negative; got {densities_at_kinks!r}"
        )
    T_arr = _as_float_array(T, "T")
    if T_arr.ndim != 0 or T_arr <= 0:
        raise ValueError(f"T must be a positive finite number; got {T!r}")
    return float(T_arr) * float(np.sum(J**2 * dens)) * NORMAL_ABS_THIRD_MOMENT / 12.0


def predicted_acceptance(ell: float | np.ndarray, kappa: float) -> np.ndarray:
    """Limiting mean acceptance ``2 Phi(-sqrt(kappa) l / 2)`` for ``eps = l d^(-1/2)``.

    This is :func:`expected_acceptance` at ``s = sqrt(kappa) l``: on a kinked
    product target, ``dH -> N(kappa l^2 / 2, kappa l^2)``.
    """
    ell_arr = _as_float_array(ell, "ell")
    if np.any(ell_arr < 0):
        raise ValueError(f"ell must be non-negative; got {ell!r}")
    kappa_arr = _as_float_array(kappa, "kappa")
    if kappa_arr.ndim != 0 or kappa_arr < 0:
        raise ValueError(f"kappa must be a non-negative finite number; got {kappa!r}")
    return expected_acceptance(np.sqrt(float(kappa_arr)) * ell_arr)


def one_step_acceptance(step_size: float) -> float:
    """Exact mean acceptance of one leapfrog step on ``U = q^2 / 2`` at stationarity.

    Leapfrog conserves the modified energy ``p^2/2 + (1 - eps^2/4) q^2/2``, so
    ``dH = eps^2 (q1^2 - q0^2) / 8`` with ``q1 = (1 - eps^2/2) q0 + eps p``.
    Writing ``(q0, p) = r (cos t, sin t)`` with ``r^2 ~ chi^2_2`` and ``t``
    uniform, ``dH = eps^2 r^2 g(t) / 8`` with
    ``g(t) = ((1 - eps^2/2) cos t + eps sin t)^2 - cos^2 t``, and
    ``E[exp(-c r^2)] = 1 / (1 + 2c)``; so the acceptance is the average over
    ``t`` of 1 where ``g <= 0`` and of ``1 / (1 + eps^2 g / 4)`` elsewhere,
    computed by quadrature. Defined for ``0 < eps < 2`` (the stability limit).

    Examples
    --------
    >>> round(one_step_acceptance(1.0), 4)
    0.9208
    """
    eps = check_positive_float(step_size, "step_size")
    if eps >= 2.0:
        raise ValueError(
            f"step_size must be below the stability limit 2; got {step_size!r}"
        )
    c = 1.0 - eps**2 / 2.0

    def integrand(t: float) -> float:
        g = (c * np.cos(t) + eps * np.sin(t)) ** 2 - np.cos(t) ** 2
        return 1.0 if g <= 0 else 1.0 / (1.0 + eps**2 * g / 4.0)

    # g has period pi and changes sign where tan t = eps/2 or tan t = -(1 + c)/eps;
    # integrating piece by piece between these points keeps the quadrature accurate.
    kinks = sorted(np.arctan([eps / 2.0, -(1.0 + c) / eps]))
    return float(
        quad(integrand, -np.pi / 2, np.pi / 2, points=kinks, limit=200)[0] / np.pi
    )
