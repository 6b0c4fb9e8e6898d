"""Properties of the leapfrog integrator: exactness on the harmonic oscillator,
reversibility, volume preservation and the order of the energy error."""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad, jacobian

import hmc_lite
from hmc_lite import Potential, leapfrog, leapfrog_path


def banana(q):
    """Smooth, non-quadratic 2-D potential: all derivatives bounded on bounded sets."""
    return 0.5 * q[:, 0] ** 2 + 0.5 * (q[:, 1] - 0.5 * q[:, 0] ** 2) ** 2


def oscillator(omega=1.0):
    return Potential(lambda q: 0.5 * omega**2 * anp.sum(q**2, axis=1))


# ---------------------------------------------------------------------------
# Harmonic oscillator: the discrete solution is known in closed form
# ---------------------------------------------------------------------------


def discrete_oscillator(q0, p0, eps, n):
    """Leapfrog on U = q^2/2 after n steps, for eps < 2.

    The one-step map has trace 2 cos(theta) with cos(theta) = 1 - eps^2/2 and
    determinant 1, so its n-th power rotates by n*theta in the metric of the
    shadow energy c^2 q^2/2 + p^2/2 with c = sqrt(1 - eps^2/4).
    """
    theta = np.arccos(1.0 - 0.5 * eps**2)
    c = np.sqrt(1.0 - 0.25 * eps**2)
    q = q0 * np.cos(n * theta) + p0 * np.sin(n * theta) / c
    p = -c * q0 * np.sin(n * theta) + p0 * np.cos(n * theta)
    return q, p


def test_harmonic_oscillator_matches_the_closed_form_discrete_orbit():
    eps = np.array([0.05, 0.3, 1.0, 1.9])  # one chain per step size, all below 2
    q0 = np.array([[1.0], [0.3], [-0.7], [0.2]])
    p0 = np.array([[0.0], [1.1], [0.4], [-1.0]])
    n = 37
    path = leapfrog_path(oscillator(), q0, p0, eps, n)
    steps = np.arange(n + 1)
    q_exact, p_exact = discrete_oscillator(q0, p0, eps[:, None], steps[None, :])
    np.testing.assert_allclose(path.positions[..., 0], q_exact, atol=1e-12)
    np.testing.assert_allclose(path.momenta[..., 0], p_exact, atol=1e-12)
    # The shadow energy c^2 q^2/2 + p^2/2 is conserved exactly; H itself is not.
    c2 = 1.0 - 0.25 * eps[:, None] ** 2
    shadow = 0.5 * c2 * path.positions[..., 0] ** 2 + 0.5 * path.momenta[..., 0] ** 2
    np.testing.assert_allclose(
        shadow, np.broadcast_to(shadow[:, :1], shadow.shape), rtol=1e-12
    )
    assert np.ptp(path.hamiltonian[2]) > 1e-3


def test_leapfrog_converges_to_the_exact_flow_at_second_order():
    T = 3.0
    n_steps = np.array([30, 60, 120, 240])
    eps = T / n_steps
    q0, p0 = np.full((4, 1), 0.8), np.full((4, 1), -0.5)
    end = leapfrog(oscillator(), q0, p0, eps, n_steps)
    q_true = 0.8 * np.cos(T) - 0.5 * np.sin(T)
    p_true = -0.8 * np.sin(T) - 0.5 * np.cos(T)
    err = np.hypot(end.position[:, 0] - q_true, end.momentum[:, 0] - p_true)
    assert np.all(np.diff(err) < 0)
    # halving eps quarters it
    np.testing.assert_allclose(err[:-1] / err[1:], 4.0, rtol=0.02)


# ---------------------------------------------------------------------------
# Reversibility
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("n_steps", [1, 7, 50])
@pytest.mark.parametrize("eps", [0.01, 0.1, 0.4])
def test_flip_integrate_flip_returns_to_start(eps, n_steps):
    pot = Potential(banana, dim=2)
    rng = np.random.default_rng(3)
    q0, p0 = 0.5 * rng.normal(size=(5, 2)), rng.normal(size=(5, 2))
    fwd = leapfrog(pot, q0, p0, eps, n_steps)
    assert np.all(np.isfinite(fwd.position))
    back = leapfrog(pot, fwd.position, -fwd.momentum, eps, n_steps)
    np.testing.assert_allclose(back.position, q0, atol=1e-10)
    np.testing.assert_allclose(-back.momentum, p0, atol=1e-10)


# ---------------------------------------------------------------------------
# Volume preservation
# ---------------------------------------------------------------------------


def _banana_1(q):
    return banana(q[None, :])[0]


_grad_banana = grad(_banana_1)


def pure_leapfrog(z, eps, n_steps):
    """Leapfrog on the banana potential as a pure autograd function of z = (q, p)."""
    q, p = z[:2], z[2:]
    for _ in range(n_steps):
        p = p - 0.5 * eps * _grad_banana(q)
        q = q + eps * p
        p = p - 0.5 * eps * _grad_banana(q)
    return anp.concatenate([q, p])


def fd_jacobian_of_hmc_lite_leapfrog(pot, z, eps, n_steps, h=1e-5):
    """Central-difference Jacobian of hmc_lite.leapfrog, all 2*4 perturbations as one
    batch."""
    d = z.size // 2
    dz = h * np.concatenate([np.eye(2 * d), -np.eye(2 * d)])
    batch = z[None, :] + dz
    end = leapfrog(pot, batch[:, :d], batch[:, d:], eps, n_steps)
    out = np.concatenate([end.position, end.momentum], axis=1)
    return ((out[: 2 * d] - out[2 * d:]) / (2 * h)).T


@pytest.mark.parametrize("eps, n_steps", [(0.05, 20), (0.3, 10), (0.6, 5)])
def test_leapfrog_preserves_volume(eps, n_steps):
    pot = Potential(banana, dim=2)
    rng = np.random.default_rng(4)
    for _ in range(3):
        z = np.concatenate([0.7 * rng.normal(size=2), rng.normal(size=2)])
        # the pure function is the same map as hmc_lite's integrator ...
        end = leapfrog(pot, z[None, :2], z[None, 2:], eps, n_steps)
        np.testing.assert_allclose(
            pure_leapfrog(z, eps, n_steps),
            np.concatenate([end.position[0], end.momentum[0]]),
            atol=1e-12,
        )
        # ... its exact Jacobian (autograd) has determinant 1 ...
        J = jacobian(pure_leapfrog)(z, eps, n_steps)
        assert abs(np.linalg.det(J) - 1.0) < 1e-10
        # the map is not trivially the identity
        assert np.max(np.abs(J - np.eye(4))) > 0.01
        # ... and so has the finite-difference Jacobian of hmc_lite.leapfrog itself.
        J_fd = fd_jacobian_of_hmc_lite_leapfrog(pot, z, eps, n_steps)
        np.testing.assert_allclose(J_fd, J, atol=1e-6)
        assert abs(np.linalg.det(J_fd) - 1.0) < 1e-6


def test_volume_check_is_not_vacuous_for_a_non_symplectic_map():
    """Explicit Euler on the same potential does not preserve volume."""

    def euler(z, eps, n_steps):
        q, p = z[:2], z[2:]
        for _ in range(n_steps):
            q, p = q + eps * p, p - eps * _grad_banana(q)
        return anp.concatenate([q, p])

    z = np.array([0.4, -0.3, 0.8, 0.2])
    assert abs(np.linalg.det(jacobian(euler)(z, 0.1, 10)) - 1.0) > 1e-2


# ---------------------------------------------------------------------------
# Order of the energy error
# ---------------------------------------------------------------------------


def _starts(n=16, seed=5):
    rng = np.random.default_rng(seed)
    return 0.8 * rng.normal(size=(n, 2)), rng.normal(size=(n, 2))


def test_local_energy_error_is_third_order():
    pot = Potential(banana, dim=2)
    q0, p0 = _starts()
    eps = np.geomspace(0.004, 0.04, 7)
    k = eps.size
    path = leapfrog_path(
        pot, np.repeat(q0, k, 0), np.repeat(p0, k, 0), np.tile(eps, len(q0)), 1
    )
    err = (
        np.abs(path.hamiltonian[:, 1] - path.hamiltonian[:, 0])
        .reshape(len(q0), k)
        .mean(axis=0)
    )
    slope = np.polyfit(np.log(eps), np.log(err), 1)[0]
    assert abs(slope - 3.0) < 0.3, slope


def test_global_energy_error_is_second_order_at_fixed_path_length():
    pot = Potential(banana, dim=2)
    q0, p0 = _starts()
    T = 2.0
    n_steps = np.array([10, 14, 20, 28, 40, 56, 80, 113, 160])
    eps = T / n_steps
    k = eps.size
    path = leapfrog_path(pot, np.repeat(q0, k, 0), np.repeat(p0, k, 0),
                         np.tile(eps, len(q0)), np.tile(n_steps, len(q0)))
    h = path.hamiltonian
    end_err = np.abs(h[:, -1] - h[:, 0]).reshape(len(q0), k).mean(axis=0)
    slope = np.polyfit(np.log(eps), np.log(end_err), 1)[0]
    assert abs(slope - 2.0) < 0.2, slope


# ---------------------------------------------------------------------------
# Per-chain settings, gradient count, paths and input checks
# ---------------------------------------------------------------------------


def test_per_chain_step_sizes_and_steps_equal_separate_runs():
    pot = Potential(banana, dim=2)
    rng = np.random.default_rng(6)
    q0, p0 = 0.5 * rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    eps = np.array([0.1, 0.05, 0.2])
    steps = np.array([4, 11, 1])
    together = leapfrog(pot, q0, p0, eps, steps)
    for i in range(3):
        alone = leapfrog(pot, q0[i:i + 1], p0[i:i + 1], eps[i], int(steps[i]))
        np.testing.assert_array_equal(together.position[i], alone.position[0])
        np.testing.assert_array_equal(together.momentum[i], alone.momentum[0])
        np.testing.assert_array_equal(together.gradient[i], alone.gradient[0])
        np.testing.assert_array_equal(
            together.potential_energy[i], alone.potential_energy[0]
        )


def test_blocks_of_chains_give_the_whole_batch_to_the_last_bit(monkeypatch):
    # 7 chains of dimension 2 in blocks of 2, 2, 2 and 1 chains (BLOCK_NUMBERS = 5),
    # each with its own step size, steps and mass; chain 5 overflows
    pot = Potential(lambda q: anp.sum(q**4, axis=1) + banana(q), dim=2)
    rng = np.random.default_rng(7)
    q0, p0 = 0.5 * rng.normal(size=(7, 2)), rng.normal(size=(7, 2))
    eps = np.array([0.1, 0.05, 0.2, 0.01, 0.15, 3.0, 0.07])
    steps = np.array([4, 11, 1, 30, 2, 100, 7])
    mass = rng.uniform(0.5, 2.0, size=(7, 2))
    before = pot.n_grad_calls
    whole = hmc_lite.energy_error(pot, q0, p0, eps, steps, inverse_mass=mass)
    whole_end = leapfrog(pot, q0, p0, eps, steps, inverse_mass=mass)
    whole_calls = pot.n_grad_calls - before
    monkeypatch.setattr(hmc_lite.integrators, "BLOCK_NUMBERS", 5)
    before = pot.n_grad_calls
    blocked = hmc_lite.energy_error(pot, q0, p0, eps, steps, inverse_mass=mass)
    blocked_end = leapfrog(pot, q0, p0, eps, steps, inverse_mass=mass)
    assert pot.n_grad_calls - before > whole_calls  # it did run block by block
    assert not np.isfinite(whole[5]) and np.isfinite(np.delete(whole, 5)).all()
    np.testing.assert_array_equal(blocked, whole)
    for a, b in zip(blocked_end, whole_end):
        np.testing.assert_array_equal(a, b)
        assert a.shape == b.shape


def test_a_chain_that_has_taken_its_steps_costs_no_more_gradients():
    rows: list[int] = []

    class Counted(Potential):
        def value_and_grad(self, q, *, check=True):
            rows.append(q.shape[0])
            return super().value_and_grad(q, check=check)

    pot = Counted(banana, dim=2)
    q0, p0 = np.zeros((3, 2)), np.ones((3, 2))
    initial = Potential(banana, dim=2).value_and_grad(q0)
    leapfrog(pot, q0, p0, 0.1, np.array([2, 5, 3]), initial=initial)
    assert rows == [3, 3, 2, 1, 1]  # chain gradients: 2 + 5 + 3


def test_L_steps_cost_L_gradients_when_the_start_gradient_is_known():
    pot = Potential(banana, dim=2)
    q0, p0 = np.zeros((4, 2)), np.ones((4, 2))
    initial = pot.value_and_grad(q0)
    before = pot.n_grad_calls
    leapfrog(pot, q0, p0, 0.1, 9, initial=initial)
    assert pot.n_grad_calls - before == 9
    before = pot.n_grad_calls
    leapfrog(pot, q0, p0, 0.1, 9)
    assert pot.n_grad_calls - before == 10


def test_path_shapes_and_end_point_agree_with_leapfrog():
    pot = Potential(banana, dim=2)
    q0, p0 = _starts(3)
    path = leapfrog_path(pot, q0, p0, np.array([0.1, 0.2, 0.3]), np.array([5, 2, 5]))
    assert isinstance(path, hmc_lite.LeapfrogPath)
    assert path.positions.shape == (3, 6, 2) and path.momenta.shape == (3, 6, 2)
    assert path.potential_energy.shape == (3, 6) and path.hamiltonian.shape == (3, 6)
    np.testing.assert_array_equal(path.positions[:, 0], q0)
    end = leapfrog(pot, q0, p0, np.array([0.1, 0.2, 0.3]), np.array([5, 2, 5]))
    np.testing.assert_array_equal(path.positions[:, -1], end.position)
    # a chain that finished early repeats its end point
    np.testing.assert_array_equal(
        path.positions[1, 2:], np.repeat(path.positions[1, 2:3], 4, 0)
    )
    np.testing.assert_allclose(
        path.hamiltonian, path.potential_energy + 0.5 * np.sum(path.momenta**2, axis=2)
    )


def test_overflow_is_returned_without_warnings():
    pot = Potential(lambda q: anp.sum(q**4, axis=1))
    end = leapfrog(pot, np.ones((2, 1)), np.ones((2, 1)), np.array([3.0, 0.01]), 100)
    assert not np.isfinite(end.position[0, 0])
    assert np.all(np.isfinite(end.position[1]))


# would wrap to < 0
@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(step_size=0.0), ValueError, "step_size"),
        (dict(step_size=-0.1), ValueError, "step_size"),
        (dict(step_size=np.nan), ValueError, "step_size"),
        (dict(step_size=np.inf), ValueError, "step_size"),
        (dict(step_size="big"), TypeError, "step_size"),
        (dict(step_size="0.1"), TypeError, "step_size"),
        (dict(step_size=np.True_), TypeError, "step_size"),
        (dict(step_size=0.1 + 0j), TypeError, "step_size"),
        (dict(step_size=np.ones(3)), ValueError, "step_size"),
        (dict(n_steps=0), ValueError, "n_steps"),
        (dict(n_steps=2.5), TypeError, "n_steps"),
        (dict(n_steps="3"), TypeError, "n_steps"),
        (dict(n_steps=np.array([1, 2, 3])), ValueError, "n_steps"),
        (dict(n_steps=2**63), ValueError, "n_steps must be at most"),
        (dict(n_steps=1e19), ValueError, "n_steps must be at most"),
        (dict(q=np.zeros(2)), ValueError, "q must have shape"),
        (dict(p=np.zeros((2, 3))), ValueError, "p must"),
        (dict(p=np.full((2, 2), np.nan)), ValueError, "p must be finite"),
    ],
)
def test_leapfrog_refuses_bad_input(kwargs, error, match):
    args = dict(q=np.zeros((2, 2)), p=np.ones((2, 2)), step_size=0.1, n_steps=3)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        leapfrog(Potential(banana, dim=2), **args)


def test_energy_error_is_the_hamiltonian_change_of_the_path():
    rng = np.random.default_rng(5)
    pot = hmc_lite.gaussian_potential(np.diag([1.0, 0.25, 4.0]))
    q, p = rng.standard_normal((2, 6, 3))
    inv_mass = np.array([1.0, 2.0, 0.5])
    for mass in (None, inv_mass):
        path = hmc_lite.leapfrog_path(pot, q, p, 0.05, 40, inverse_mass=mass)
        dh = hmc_lite.energy_error(pot, q, p, 0.05, 40, inverse_mass=mass)
        np.testing.assert_allclose(
            dh, path.hamiltonian[:, -1] - path.hamiltonian[:, 0], rtol=1e-12
        )
    # global error O(eps^2): halving eps at fixed time quarters the error
    big = np.abs(hmc_lite.energy_error(pot, q, p, 0.02, 50))
    small = np.abs(hmc_lite.energy_error(pot, q, p, 0.01, 100))
    assert np.all(np.abs(np.log2(big / small) - 2.0) < 0.2)


def test_energy_error_of_an_exploding_trajectory_is_not_finite():
    pot = hmc_lite.gaussian_potential(np.eye(1))
    dh = hmc_lite.energy_error(pot, np.ones((2, 1)), np.zeros((2, 1)), [0.5, 3.0], 2000)
    assert np.isfinite(dh[0]) and not np.isfinite(dh[1])
    with pytest.raises(ValueError, match="step_size"):
        hmc_lite.energy_error(pot, np.ones((1, 1)), np.zeros((1, 1)), 0.0, 3)
