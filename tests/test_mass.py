"""A diagonal mass matrix in leapfrog, the HMC kernel and the sampler."""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
import pytest

from hmc_lite import (
    Potential,
    gaussian_potential,
    hmc_step,
    init_state,
    leapfrog,
    leapfrog_path,
    sample,
)
from hmc_lite.integrators import kinetic_energy

SCALES = np.array([0.1, 1.0, 10.0])


def banana(q):
    return 0.5 * q[:, 0] ** 2 + 0.5 * (q[:, 1] - q[:, 0] ** 2) ** 2 + 0.1 * q[:, 1] ** 4


def test_unit_inverse_mass_is_bit_identical_to_the_default():
    pot = Potential(banana, dim=2)
    rng = np.random.default_rng(0)
    q, p = 0.5 * rng.normal(size=(4, 2)), rng.normal(size=(4, 2))
    ones = np.ones(2)
    for a, b in [
        (leapfrog(pot, q, p, 0.1, 7), leapfrog(pot, q, p, 0.1, 7, inverse_mass=ones)),
        (
            leapfrog_path(pot, q, p, 0.1, 7),
            leapfrog_path(pot, q, p, 0.1, 7, inverse_mass=ones),
        ),
    ]:
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)
    one = sample(pot, q, 0.2, 5, 20, rng=np.random.default_rng(1))
    two = sample(
        pot, q, 0.2, 5, 20, rng=np.random.default_rng(1), inverse_mass=np.ones((4, 2))
    )
    for x, y in zip(one[:5], two[:5]):
        np.testing.assert_array_equal(x, y)


def test_mass_is_the_same_as_standardising_the_coordinates():
    """Leapfrog with M^-1 = m on U(q) is unit-mass leapfrog on V(x) = U(sqrt(m) x), p_x
    = sqrt(m) p."""
    m = np.array([0.3, 2.5])
    pot = Potential(banana, dim=2)
    scaled = Potential(lambda x: banana(x * np.sqrt(m)), dim=2)
    rng = np.random.default_rng(2)
    q, p = 0.5 * rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    end = leapfrog(pot, q, p, 0.2, 15, inverse_mass=m)
    ref = leapfrog(scaled, q / np.sqrt(m), p * np.sqrt(m), 0.2, 15)
    np.testing.assert_allclose(
        end.position, ref.position * np.sqrt(m), rtol=1e-10, atol=1e-12
    )
    np.testing.assert_allclose(
        end.momentum, ref.momentum / np.sqrt(m), rtol=1e-10, atol=1e-12
    )
    np.testing.assert_allclose(
        kinetic_energy(end.momentum, m), kinetic_energy(ref.momentum), rtol=1e-12
    )


def test_per_chain_inverse_mass_equals_separate_runs():
    pot = Potential(banana, dim=2)
    rng = np.random.default_rng(3)
    q, p = 0.5 * rng.normal(size=(2, 2)), rng.normal(size=(2, 2))
    m = np.array([[0.5, 2.0], [3.0, 0.2]])
    both = leapfrog(pot, q, p, 0.1, 9, inverse_mass=m)
    for c in range(2):
        alone = leapfrog(pot, q[c:c + 1], p[c:c + 1], 0.1, 9, inverse_mass=m[c])
        np.testing.assert_allclose(both.position[c], alone.position[0], rtol=1e-14)


@pytest.mark.parametrize("eps, n_steps", [(0.05, 30), (0.3, 8)])
def test_reversibility_and_volume_preservation_with_a_mass(eps, n_steps):
    m = np.array([0.4, 1.8])
    pot = Potential(banana, dim=2)
    rng = np.random.default_rng(4)
    q0, p0 = 0.5 * rng.normal(size=(5, 2)), rng.normal(size=(5, 2))
    fwd = leapfrog(pot, q0, p0, eps, n_steps, inverse_mass=m)
    back = leapfrog(pot, fwd.position, -fwd.momentum, eps, n_steps, inverse_mass=m)
    np.testing.assert_allclose(back.position, q0, atol=1e-10)
    np.testing.assert_allclose(-back.momentum, p0, atol=1e-10)
    # central-difference Jacobian of the map (q, p) -> (q', p'): determinant 1
    h = 1e-5
    z = np.concatenate([q0[0], p0[0]])
    batch = z[None, :] + h * np.concatenate([np.eye(4), -np.eye(4)])
    end = leapfrog(pot, batch[:, :2], batch[:, 2:], eps, n_steps, inverse_mass=m)
    out = np.concatenate([end.position, end.momentum], axis=1)
    J = ((out[:4] - out[4:]) / (2 * h)).T
    assert abs(np.linalg.det(J) - 1.0) < 1e-6
    assert np.max(np.abs(J - np.eye(4))) > 0.01


def test_a_mass_equal_to_the_variances_samples_a_badly_scaled_gaussian():
    """Moments within 4 standard errors (across chains); energy errors far smaller than
    with unit mass."""
    var = SCALES**2
    pot = gaussian_potential(np.diag(var))
    rng = np.random.default_rng(5)
    chains = 200
    start = SCALES * rng.standard_normal((chains, 3))
    res = sample(pot, start, 0.5, 3, 40, rng=rng, inverse_mass=var)
    for k in range(3):
        for values, truth in [
            (res.positions[..., k], 0.0),
            (res.positions[..., k] ** 2, var[k]),
        ]:
            per_chain = values.mean(axis=1)
            z = (per_chain.mean() - truth) / (per_chain.std(ddof=1) / np.sqrt(chains))
            assert abs(z) < 4, (k, per_chain.mean(), truth)
    assert not res.is_divergent.any()
    # unit mass at a step size just stable for the smallest scale (limit 0.2) vs the
    # mass
    state = init_state(pot, start)
    _, unit = hmc_step(state, pot, 0.15, 10, rng=np.random.default_rng(6))
    _, mass = hmc_step(
        state, pot, 0.15, 10, rng=np.random.default_rng(6), inverse_mass=var
    )
    assert np.mean(np.abs(mass.energy_error)) < 0.1 * np.mean(np.abs(unit.energy_error))
    # with the mass, a step size of 1.5 (above the unit-mass limit 0.2) is stable
    _, big = hmc_step(
        state, pot, 1.5, 10, rng=np.random.default_rng(7), inverse_mass=var
    )
    assert not big.is_divergent.any()


def test_momenta_are_drawn_from_the_mass():
    """p ~ N(0, M): with M^-1 = m the momentum variances are 1 / m."""
    m = np.array([0.04, 1.0, 25.0])
    flat = Potential(lambda q: 0.0 * anp.sum(q, axis=1), dim=3)
    state = init_state(flat, np.zeros((20000, 3)))
    new, info = hmc_step(
        state, flat, 1.0, 1, rng=np.random.default_rng(8), inverse_mass=m
    )
    # on a flat potential q' = q + eps M^-1 p, so Var(q') = m^2 / m = m
    np.testing.assert_allclose(new.position.var(axis=0), m, rtol=0.05)
    assert np.all(info.accept_prob == 1.0)


@pytest.mark.parametrize(
    "inverse_mass, error, match",
    [
        (np.array([1.0, -1.0]), ValueError, "positive"),
        (np.array([1.0, np.nan]), ValueError, "finite"),
        (np.array([1.0, np.inf]), ValueError, "finite"),
        (np.ones(3), ValueError, r"shape \(2,\) or \(4, 2\)"),
        (np.ones((3, 2)), ValueError, "shape"),
        ("abc", TypeError, "inverse_mass"),
        (True, TypeError, "inverse_mass"),
    ],
)
def test_bad_inverse_mass_is_refused(inverse_mass, error, match):
    pot = Potential(banana, dim=2)
    q = np.zeros((4, 2))
    with pytest.raises(error, match=match):
        leapfrog(pot, q, q, 0.1, 2, inverse_mass=inverse_mass)
    with pytest.raises(error, match=match):
        sample(
            pot, q, 0.1, 2, 2, rng=np.random.default_rng(0), inverse_mass=inverse_mass
        )
    with pytest.raises(error, match=match):
        hmc_step(
            init_state(pot, q),
            pot,
            0.1,
            2,
            rng=np.random.default_rng(0),
            inverse_mass=inverse_mass,
        )


def test_hmc_step_with_a_mass_on_a_potential_without_dim():
    import autograd.numpy as anp

    import hmc_lite

    pot = hmc_lite.Potential(lambda q: 0.5 * anp.sum(q**2, axis=1))  # dim not given
    state = hmc_lite.init_state(pot, np.zeros((3, 2)))
    new, info = hmc_lite.hmc_step(state, pot, 0.1, 3, rng=np.random.default_rng(0),
                                  inverse_mass=np.array([1.0, 2.0]))
    assert new.position.shape == (3, 2) and info.accept_prob.shape == (3,)
