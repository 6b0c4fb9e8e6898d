"""Optimal-scaling formulas: optimal acceptances, the Gaussian acceptance identity,
the kink variance constant and its agreement with leapfrog on a kinked target."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import erfc, ndtr, ndtri

import hmc_lite
from hmc_lite import (
    efficiency_curve,
    expected_acceptance,
    kink_variance_constant,
    optimal_acceptance,
    optimal_scale,
    predicted_acceptance,
)
from hmc_lite.scaling import NORMAL_ABS_THIRD_MOMENT


def kinked_density_at_zero(b: float = 1.0) -> float:
    """pi(0) for pi(x) proportional to exp(-x^2/2 - b|x|), exactly.

    Z = 2 int_0^inf exp(-(x + b)^2 / 2 + b^2 / 2) dx = sqrt(2 pi) e^(b^2/2) erfc(b /
    sqrt 2).
    """
    return 1.0 / (np.sqrt(2.0 * np.pi) * np.exp(0.5 * b * b) * erfc(b / np.sqrt(2.0)))


# --- optimal acceptance ---------------------------------------------------------------


@pytest.mark.parametrize(
    "k, expected", [(1, 0.4522), (2, 0.6513), (3, 0.7432), (4, 0.7964)]
)
def test_optimal_acceptance_known_values(k, expected):
    assert abs(optimal_acceptance(k) - expected) < 1e-3


@pytest.mark.parametrize("k", [0.5, 1, 1.5, 2, 3, 4])
def test_optimal_acceptance_solves_its_equation(k):
    a = optimal_acceptance(k)
    u = -ndtri(a / 2)
    phi = np.exp(-u * u / 2) / np.sqrt(2 * np.pi)
    assert abs(ndtr(-u) - k * u * phi) < 1e-10


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_optimum_maximises_efficiency_curve_on_fine_grid(k):
    a = np.linspace(1e-4, 1 - 1e-4, 200_001)
    eff = efficiency_curve(a, k)
    assert eff.max() <= 1 + 1e-12
    assert abs(a[np.argmax(eff)] - optimal_acceptance(k)) < 1e-3
    assert efficiency_curve(optimal_acceptance(k), k) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("k", [1.0, 2.0])
@pytest.mark.parametrize("kappa", [0.05, 0.4, 3.0])
def test_optimum_in_scaled_step_size_does_not_depend_on_the_constant(k, kappa):
    # Efficiency l * a(l) with Var(dH) = kappa l^(2k), maximised over a fine grid of l.
    ell_star = optimal_scale(kappa, k)
    ell = np.linspace(1e-3, 4 * ell_star, 200_001)
    eff = ell * expected_acceptance(np.sqrt(kappa) * ell**k)
    best = ell[np.argmax(eff)]
    assert best == pytest.approx(ell_star, rel=1e-3)
    a_best = expected_acceptance(np.sqrt(kappa) * best**k)
    assert abs(a_best - optimal_acceptance(k)) < 1e-3


def test_efficiency_curve_is_unimodal():
    a = np.linspace(0.01, 0.99, 981)
    for k in (1, 2):
        d = np.diff(efficiency_curve(a, k))
        peak = np.argmax(efficiency_curve(a, k))
        assert np.all(d[:peak] > 0) and np.all(d[peak:] < 0)


# --- the Gaussian acceptance identity
# ---------------------------------------------------


@pytest.mark.parametrize("s", [0.2, 0.8, 1.5, 3.0])
def test_expected_acceptance_matches_monte_carlo(s):
    rng = np.random.default_rng(int(100 * s))
    x = rng.normal(s * s / 2, s, size=400_000)
    a = np.minimum(1.0, np.exp(-x))
    se = a.std() / np.sqrt(a.size)
    assert abs(a.mean() - expected_acceptance(s)) < 4 * se


def test_expected_acceptance_limits():
    assert expected_acceptance(0.0) == 1.0
    s = np.linspace(0, 10, 101)
    assert np.all(np.diff(expected_acceptance(s)) < 0)


# --- the kink variance constant
# --------------------------------------------------------


def test_normalising_constant_of_the_kinked_density():
    half, _ = quad(
        lambda x: np.exp(-0.5 * x * x - x), 0.0, np.inf, epsabs=1e-13, epsrel=1e-12
    )
    Z = 2.0 * half  # the density is symmetric
    assert 1.0 / Z == pytest.approx(kinked_density_at_zero(1.0), rel=1e-10)


def test_third_absolute_moment_of_the_normal():
    m3, _ = quad(
        lambda v: abs(v) ** 3 * np.exp(-v * v / 2) / np.sqrt(2 * np.pi), -np.inf, np.inf
    )
    assert NORMAL_ABS_THIRD_MOMENT == pytest.approx(m3, rel=1e-10)


def test_kappa_for_quadratic_plus_absolute_value():
    kappa = kink_variance_constant(2.0, kinked_density_at_zero(1.0), T=1.0)
    assert abs(kappa - 0.406) < 1e-3
    assert predicted_acceptance([0.5, 1.0, 2.0], kappa) == pytest.approx(
        [0.873, 0.750, 0.524], abs=1e-3
    )


def test_kappa_scales_with_time_jump_and_adds_over_kinks():
    base = kink_variance_constant(1.0, 0.3, T=1.0)
    assert kink_variance_constant(1.0, 0.3, T=2.5) == pytest.approx(2.5 * base)
    assert kink_variance_constant(-3.0, 0.3) == pytest.approx(9 * base)
    assert kink_variance_constant([1.0, 2.0], [0.3, 0.1]) == pytest.approx(
        base + kink_variance_constant(2.0, 0.1)
    )


def test_predicted_acceptance_is_expected_acceptance_at_sqrt_kappa_ell():
    ell = np.linspace(0, 5, 11)
    np.testing.assert_allclose(
        predicted_acceptance(ell, 0.7), expected_acceptance(np.sqrt(0.7) * ell)
    )
    np.testing.assert_allclose(predicted_acceptance(ell, 0.0), 1.0)


def test_kappa_agrees_with_leapfrog_on_one_kinked_coordinate():
    # One-dimensional chains: Var(dH) / eps^2 should approach kappa as eps -> 0.
    rng = np.random.default_rng(7)
    n, eps, T = 40_000, 0.02, 1.0
    pot = hmc_lite.kinked_product_potential(1, jump=2.0)
    # Exact draws from exp(-(|x| + 1)^2 / 2): |x| + 1 is N(0, 1) conditioned on > 1.
    z = -ndtri(rng.random(n) * ndtr(-1.0))
    q = (rng.choice([-1.0, 1.0], size=n) * (z - 1.0))[:, None]
    p = rng.standard_normal((n, 1))
    end = hmc_lite.leapfrog(pot, q, p, eps, int(round(T / eps)))
    dH = (
        end.potential_energy
        + 0.5 * end.momentum[:, 0] ** 2
        - (pot(q) + 0.5 * p[:, 0] ** 2)
    )
    kappa = kink_variance_constant(2.0, kinked_density_at_zero(1.0), T=T)
    assert dH.var() / eps**2 == pytest.approx(kappa, rel=0.1)


# --- bad input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("k", [0, -1, np.nan, np.inf])
def test_bad_k_refused(k):
    with pytest.raises(ValueError, match="k"):
        optimal_acceptance(k)
    with pytest.raises(ValueError, match="k"):
        efficiency_curve(0.5, k)


def test_bad_k_type_refused():
    with pytest.raises(TypeError, match="k"):
        optimal_acceptance("two")


@pytest.mark.parametrize("a", [0.0, 1.0, -0.2, 1.5, np.nan])
def test_bad_acceptance_refused(a):
    with pytest.raises(ValueError, match="acceptance"):
        efficiency_curve(a, 1)


def test_bad_s_refused():
    with pytest.raises(ValueError, match="s must"):
        expected_acceptance(-1.0)
    with pytest.raises(ValueError, match="s must"):
        expected_acceptance(np.inf)


@pytest.mark.parametrize(
    "jumps, dens, T, match",
    [
        (2.0, -0.1, 1.0, "densities_at_kinks"),
        ([1.0, 2.0], [0.1], 1.0, "same shape"),
        (2.0, 0.5, 0.0, "T"),
        (2.0, 0.5, -1.0, "T"),
        (np.nan, 0.5, 1.0, "jumps"),
        (2.0, np.inf, 1.0, "densities_at_kinks"),
        ([[1.0]], [[0.5]], 1.0, "1-D"),
    ],
)
def test_bad_kink_input_refused(jumps, dens, T, match):
    with pytest.raises(ValueError, match=match):
        kink_variance_constant(jumps, dens, T)


def test_non_numeric_kink_input_refused():
    with pytest.raises(TypeError, match="jumps"):
        kink_variance_constant("big", 0.5)


@pytest.mark.parametrize(
    "ell, kappa, match",
    [
        (-1.0, 0.4, "ell"),
        (1.0, -0.4, "kappa"),
        (np.nan, 0.4, "ell"),
        (1.0, [0.4, 0.5], "kappa"),
    ],
)
def test_bad_predicted_acceptance_input_refused(ell, kappa, match):
    with pytest.raises(ValueError, match=match):
        predicted_acceptance(ell, kappa)


@pytest.mark.parametrize("kappa", [0.0, -1.0, np.inf])
def test_bad_optimal_scale_input_refused(kappa):
    with pytest.raises(ValueError, match="kappa"):
        optimal_scale(kappa)
