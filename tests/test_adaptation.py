"""Dual-averaging step-size adaptation: convergence, an analytic check, shapes, bad
input."""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
import pytest
from scipy.optimize import brentq

import hmc_lite
from hmc_lite import (
    Potential,
    adapt_step_size,
    dual_averaging_init,
    dual_averaging_update,
)
from hmc_lite.scaling import one_step_acceptance


def std_gauss(dim: int) -> Potential:
    return hmc_lite.gaussian_potential(np.eye(dim))


def test_analytic_acceptance_matches_simulation():
    """The formula used below agrees with a direct Monte Carlo estimate."""
    rng = np.random.default_rng(3)
    q, p = rng.standard_normal((2, 200_000))
    for eps in (0.7, 1.5):
        ph = p - 0.5 * eps * q
        q1 = q + eps * ph
        p1 = ph - 0.5 * eps * q1
        dh = 0.5 * (q1**2 + p1**2 - q**2 - p**2)
        mc = np.minimum(1.0, np.exp(-dh)).mean()
        assert abs(mc - one_step_acceptance(eps)) < 0.005
    with pytest.raises(ValueError, match="step_size"):
        one_step_acceptance(2.0)


def test_deterministic_update_converges_to_root():
    """With a noiseless acceptance a(eps) = exp(-eps), dual averaging finds a(eps) =
    delta."""
    delta = 0.7
    da = dual_averaging_init(np.array([0.01, 1.0, 5.0]))
    for _ in range(3000):
        eps = np.exp(da.log_step_size)
        da = dual_averaging_update(da, np.exp(-eps), delta)
    np.testing.assert_allclose(np.exp(da.log_step_size_avg), -np.log(delta), rtol=0.02)
    assert da.iteration == 3000


def test_update_direction():
    """Accepting more than the target increases the step size, less decreases it."""
    da = dual_averaging_init(np.array([0.1, 0.1]))
    da = dual_averaging_update(da, np.array([1.0, 0.0]), 0.65)
    eps = np.exp(da.log_step_size)
    assert eps[0] > eps[1]
    np.testing.assert_allclose(da.mu, np.log(1.0))


@pytest.mark.parametrize("delta", [0.6, 0.8, 0.9])
def test_one_step_gaussian_matches_analytic_step_size(delta):
    """On N(0, 1) with L = 1 the shared adapted step size solves a(eps) = delta."""
    rng = np.random.default_rng(11)
    res = adapt_step_size(std_gauss(1), rng.standard_normal((400, 1)), rng=rng,
                          step_size=0.3, n_adapt=400, n_steps=1, target_accept=delta)
    exact = brentq(lambda e: one_step_acceptance(e) - delta, 1e-3, 1.999)
    assert np.all(res.step_size == res.step_size[0])
    assert abs(res.step_size[0] / exact - 1.0) < 0.03, (res.step_size[0], exact)


@pytest.mark.parametrize("groups", ["shared", "per_chain"])
def test_gaussian_reaches_target_on_fresh_transitions(groups):
    """After adaptation, fresh transitions on a 50-D Gaussian accept about delta."""
    rng = np.random.default_rng(5)
    pot = hmc_lite.gaussian_potential(np.diag(np.linspace(0.8, 1.2, 50) ** 2))
    delta = 0.65
    res = adapt_step_size(
        pot,
        rng.standard_normal((200, 50)),
        rng=rng,
        step_size=0.05,
        n_adapt=300,
        path_length=4.0,
        target_accept=delta,
        groups=groups,
    )
    fresh = hmc_lite.sample(
        pot, res.state.position, res.step_size, res.n_steps, 200, rng=rng
    )
    acc = hmc_lite.acceptance_summary(fresh.accept_prob).mean
    if groups == "shared":
        assert abs(acc - delta) < 0.03, acc
    else:
        # Per-chain adaptation on one noisy acceptance per transition ends
        # conservative (see the Notes of adapt_step_size): above the target,
        # by less than 0.12.
        assert delta - 0.02 < acc < delta + 0.12, acc


def test_shared_is_more_precise_than_per_chain():
    """Per-chain step sizes scatter; the shared one is a single value."""
    rng = np.random.default_rng(8)
    start = rng.standard_normal((64, 1))
    kw = dict(step_size=0.3, n_adapt=200, n_steps=1, target_accept=0.8)
    shared = adapt_step_size(std_gauss(1), start, rng=np.random.default_rng(1), **kw)
    per = adapt_step_size(
        std_gauss(1), start, rng=np.random.default_rng(1), groups="per_chain", **kw
    )
    assert np.ptp(shared.step_size) == 0
    assert np.std(per.step_size) > 0.01


def test_groups_share_within_and_differ_across():
    rng = np.random.default_rng(2)
    labels = np.repeat([0, 1, 2], 20)
    targets = np.repeat([0.5, 0.7, 0.9], 20)
    res = adapt_step_size(
        std_gauss(3),
        rng.standard_normal((60, 3)),
        rng=rng,
        step_size=0.2,
        n_adapt=200,
        n_steps=5,
        target_accept=targets,
        groups=labels,
    )
    eps = res.step_size.reshape(3, 20)
    assert np.all(eps == eps[:, :1])
    # a higher target needs a smaller step size
    assert eps[0, 0] > eps[1, 0] > eps[2, 0]
    acc = res.accept_prob[:, 100:].reshape(3, -1).mean(axis=1)
    np.testing.assert_allclose(acc, [0.5, 0.7, 0.9], atol=0.06)


def test_path_length_recomputes_steps():
    rng = np.random.default_rng(4)
    T = 1.2
    res = adapt_step_size(
        std_gauss(2),
        rng.standard_normal((16, 2)),
        rng=rng,
        step_size=0.1,
        n_adapt=50,
        path_length=T,
        max_n_steps=40,
        groups="per_chain",
    )
    expect = np.clip(np.rint(T / res.step_size_trace), 1, 40)
    np.testing.assert_array_equal(res.n_steps_trace, expect)
    np.testing.assert_array_equal(
        res.n_steps, np.clip(np.rint(T / res.step_size), 1, 40)
    )
    fixed = adapt_step_size(
        std_gauss(2),
        rng.standard_normal((16, 2)),
        rng=rng,
        step_size=0.1,
        n_adapt=20,
        n_steps=7,
    )
    assert np.all(fixed.n_steps_trace == 7) and np.all(fixed.n_steps == 7)


def test_shapes_and_trace_consistency():
    rng = np.random.default_rng(0)
    chains, dim, n = 6, 3, 25
    res = adapt_step_size(std_gauss(dim), rng.standard_normal((chains, dim)), rng=rng,
                          step_size=0.5, n_adapt=n, n_steps=3, groups="per_chain")
    assert res.state.position.shape == (chains, dim)
    assert res.state.potential_energy.shape == (chains,)
    for field in (res.step_size, res.n_steps):
        assert field.shape == (chains,)
    for field in (res.step_size_trace, res.step_size_avg_trace, res.n_steps_trace,
                  res.accept_prob, res.is_divergent):
        assert field.shape == (chains, n)
    np.testing.assert_array_equal(res.step_size, res.step_size_avg_trace[:, -1])
    np.testing.assert_allclose(res.step_size_trace[:, 0], 0.5)
    assert np.all((res.accept_prob >= 0) & (res.accept_prob <= 1))
    assert res.is_divergent.dtype == bool


def test_deterministic_given_seed():
    start = np.random.default_rng(0).standard_normal((8, 2))
    kw = dict(step_size=0.4, n_adapt=30, n_steps=4, groups="per_chain")
    a = adapt_step_size(std_gauss(2), start, rng=np.random.default_rng(42), **kw)
    b = adapt_step_size(std_gauss(2), start, rng=np.random.default_rng(42), **kw)
    c = adapt_step_size(std_gauss(2), start, rng=np.random.default_rng(43), **kw)
    for x, y in zip(a[1:], b[1:]):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(a.state.position, b.state.position)
    np.testing.assert_array_equal(a.step_size_trace, b.step_size_trace)
    assert not np.array_equal(a.step_size_trace, c.step_size_trace)


def test_divergences_shrink_the_step_size():
    """A far too large initial step size diverges, and adaptation recovers."""
    rng = np.random.default_rng(6)
    res = adapt_step_size(
        std_gauss(5),
        rng.standard_normal((32, 5)),
        rng=rng,
        step_size=50.0,
        n_adapt=150,
        n_steps=10,
        target_accept=0.8,
    )
    assert res.is_divergent[:, 0].all()
    assert res.step_size[0] < 2.0
    assert res.accept_prob[:, -50:].mean() > 0.6


def test_accepts_everything_stays_finite():
    """A linear potential is integrated exactly: acceptance 1, the step size grows but
    stays finite."""
    lin = Potential(lambda q: anp.sum(q, axis=1), dim=1)
    res = adapt_step_size(
        lin,
        np.zeros((2, 1)),
        rng=np.random.default_rng(0),
        step_size=1.0,
        n_adapt=20,
        n_steps=1,
    )
    assert np.all(np.isfinite(res.step_size)) and res.step_size[0] > 1.0


@pytest.mark.parametrize(
    "kwargs, err, word",
    [
        (dict(target_accept=0.0), ValueError, "target_accept"),
        (dict(target_accept=1.0), ValueError, "target_accept"),
        (dict(target_accept=1.5), ValueError, "target_accept"),
        (dict(target_accept=np.nan), ValueError, "target_accept"),
        (dict(step_size=0.0), ValueError, "step_size"),
        (dict(step_size=-0.1), ValueError, "step_size"),
        (dict(step_size=np.inf), ValueError, "step_size"),
        (dict(step_size="big"), TypeError, "step_size"),
        (dict(n_adapt=0), ValueError, "n_adapt"),
        (dict(n_adapt=2.5), TypeError, "n_adapt"),
        (dict(n_adapt=True), TypeError, "n_adapt"),
        (dict(n_steps=None), ValueError, "n_steps"),
        (dict(path_length=1.0), ValueError, "path_length"),
        (dict(n_steps=None, path_length=-1.0), ValueError, "path_length"),
        (dict(n_steps=None, path_length=1.0, max_n_steps=0), ValueError, "max_n_steps"),
        (dict(n_steps=0), ValueError, "n_steps"),
        (dict(groups="everyone"), ValueError, "groups"),
        (dict(groups=np.zeros(3)), ValueError, "groups"),
        (
            dict(
                groups=np.array([0, 0, 1, 1]),
                target_accept=np.array([0.5, 0.6, 0.7, 0.7]),
            ),
            ValueError,
            "target_accept",
        ),
        (dict(target_accept=np.array([0.5, 0.6])), ValueError, "target_accept"),
        (dict(kappa=0.5), ValueError, "kappa"),
        (dict(gamma=0.0), ValueError, "gamma"),
        (dict(t0=-1.0), ValueError, "t0"),
    ],
)
def test_bad_input(kwargs, err, word):
    base = dict(step_size=0.1, n_adapt=5, n_steps=2)
    base.update(kwargs)
    with pytest.raises(err, match=word):
        adapt_step_size(
            std_gauss(2), np.zeros((4, 2)), rng=np.random.default_rng(0), **base
        )


def test_bad_rng_and_position():
    with pytest.raises(TypeError, match="rng"):
        adapt_step_size(
            std_gauss(2), np.zeros((4, 2)), rng=0, step_size=0.1, n_adapt=5, n_steps=2
        )
    with pytest.raises(ValueError, match="initial_position"):
        adapt_step_size(std_gauss(2), np.zeros((4, 3)), rng=np.random.default_rng(0),
                        step_size=0.1, n_adapt=5, n_steps=2)


def test_update_refuses_wrong_shape():
    da = dual_averaging_init(np.array([0.1, 0.2]))
    with pytest.raises(ValueError, match="accept_prob"):
        dual_averaging_update(da, np.array([0.5]), 0.65)
    with pytest.raises(ValueError, match="step_size"):
        dual_averaging_init(np.array([0.1, -0.2]))


@pytest.mark.parametrize(
    "accept, target, settings, match",
    [
        (np.array([np.nan, 0.5]), 0.65, {}, "accept_prob"),
        (np.array([1.5, 0.5]), 0.65, {}, "accept_prob"),
        (np.array([0.5, 0.5]), np.nan, {}, "target_accept"),
        (np.array([0.5, 0.5]), 1.0, {}, "target_accept"),
        (np.array([0.5, 0.5]), 0.65, dict(gamma=0.0), "gamma"),
        (np.array([0.5, 0.5]), 0.65, dict(t0=-1.0), "t0"),
        (np.array([0.5, 0.5]), 0.65, dict(kappa=0.4), "kappa"),
    ],
)
def test_update_refuses_bad_values(accept, target, settings, match):
    da = dual_averaging_init(np.array([0.1, 0.2]))
    with pytest.raises(ValueError, match=match):
        dual_averaging_update(da, accept, target, **settings)


# ---------------------------------------------------------------------------
# A diagonal mass matrix, adapted in Stan's windows
# ---------------------------------------------------------------------------


def test_adaptation_windows_follow_stan():
    from hmc_lite.adaptation import adaptation_windows

    # Stan's defaults: 75 + (25, 50, 100, 200, 500) + 50
    assert adaptation_windows(1000).tolist() == [
        [75, 100],
        [100, 150],
        [150, 250],
        [250, 450],
        [450, 950],
    ]
    # a window is stretched when the next one, twice as long, would not fit
    assert adaptation_windows(300).tolist() == [[75, 100], [100, 150], [150, 250]]
    # too short for the buffers: 15% / one window / 10%
    assert adaptation_windows(100).tolist() == [[15, 90]]
    with pytest.raises(ValueError, match="n_adapt"):
        adaptation_windows(0)


def test_regularised_variance_is_stans():
    from hmc_lite.adaptation import _regularised_variance

    x = np.array([[0.0, 1.0], [2.0, 1.0], [4.0, 1.0]])  # variances 4 and 0, n = 3
    np.testing.assert_allclose(
        _regularised_variance(x), [3 / 8 * 4 + 1e-3 * 5 / 8, 1e-3 * 5 / 8]
    )


def test_diagonal_mass_learns_the_scales_of_a_badly_scaled_gaussian():
    """20-d Gaussian with standard deviations 0.1 ... 10 (variances over four decades).

    The adapted inverse mass is within 20% of the variances, and the step size
    is within a factor 1.5 of theory: with the mass equal to the variances the
    target is a standard Gaussian, on which leapfrog conserves the modified
    energy ``p^2/2 + (1 - eps^2/4) q^2/2``, so ``dH = eps^2 sum(q_L^2 - q_0^2) / 8``;
    for endpoints that have decorrelated, ``Var(dH) = s^2 = d eps^4 / 16``, and the
    acceptance ``2 Phi(-s/2)`` equals the target 0.8 at ``eps = 2 sqrt(s) / d^(1/4)``,
    about 0.67 for ``d = 20`` (unit mass would need ``eps < 0.2``, the stability
    limit of the smallest scale).
    """
    from scipy.special import ndtri

    from hmc_lite import MassAdaptationResult, adapt_diagonal_mass

    d = 20
    var = np.geomspace(0.1, 10, d) ** 2
    pot = hmc_lite.gaussian_potential(np.diag(var))
    rng = np.random.default_rng(0)
    res = adapt_diagonal_mass(
        pot,
        rng.standard_normal((8, d)),
        rng=rng,
        step_size=0.1,
        n_adapt=600,
        path_length=1.5,
        target_accept=0.8,
    )
    assert isinstance(res, MassAdaptationResult)
    assert res.inverse_mass.shape == (8, d) and res.step_size.shape == (8,)
    np.testing.assert_allclose(res.inverse_mass, np.broadcast_to(var, (8, d)), rtol=0.2)
    s = -2 * ndtri(0.4)
    theory = 2 * np.sqrt(s) / d**0.25
    assert theory == pytest.approx(0.673, abs=1e-3)
    assert theory / 1.5 < res.step_size[0] < theory * 1.5
    np.testing.assert_array_equal(
        res.n_steps, np.clip(np.rint(1.5 / res.step_size), 1, 1000)
    )
    # sampling afterwards with these settings gets the scales right
    run = hmc_lite.sample(
        pot,
        res.state.position,
        res.step_size,
        res.n_steps,
        200,
        rng=rng,
        inverse_mass=res.inverse_mass,
    )
    np.testing.assert_allclose(run.positions.var(axis=(0, 1)), var, rtol=0.35)
    assert 0.65 < run.accept_prob.mean() < 0.95


def test_diagonal_mass_per_group_and_shapes():
    from hmc_lite.adaptation import adapt_diagonal_mass

    # two groups see different targets through a per-chain scale: group 1 is 10x wider
    def U(q):
        scale = anp.array([1.0, 1.0, 10.0, 10.0])[:, None]
        return 0.5 * anp.sum((q / scale) ** 2, axis=1)

    pot = Potential(U, dim=2)
    rng = np.random.default_rng(1)
    res = adapt_diagonal_mass(
        pot,
        np.zeros((4, 2)),
        rng=rng,
        step_size=0.5,
        n_adapt=400,
        n_steps=5,
        groups=np.array([0, 0, 1, 1]),
    )
    assert res.inverse_mass[0].tolist() == res.inverse_mass[1].tolist()
    assert np.all(res.inverse_mass[2] > 20 * res.inverse_mass[0])
    assert (
        res.step_size_trace.shape
        == res.accept_prob.shape
        == res.is_divergent.shape
        == (4, 400)
    )
    assert res.windows.tolist() == [[75, 100], [100, 150], [150, 350]]
    again = adapt_diagonal_mass(
        pot,
        np.zeros((4, 2)),
        rng=np.random.default_rng(1),
        step_size=0.5,
        n_adapt=400,
        n_steps=5,
        groups=np.array([0, 0, 1, 1]),
    )
    np.testing.assert_array_equal(res.inverse_mass, again.inverse_mass)
    np.testing.assert_array_equal(res.state.position, again.state.position)


@pytest.mark.parametrize(
    "kwargs, word",
    [
        (dict(n_steps=None), "exactly one"),
        (dict(path_length=1.0), "exactly one"),
        (dict(n_adapt=0), "n_adapt"),
        (dict(step_size=-1.0), "step_size"),
        (dict(target_accept=1.0), "target_accept"),
        (dict(base_window=0), "base_window"),
        (dict(groups="mine"), "groups"),
    ],
)
def test_diagonal_mass_refuses_bad_input(kwargs, word):
    from hmc_lite.adaptation import adapt_diagonal_mass

    args = dict(step_size=0.1, n_adapt=200, n_steps=3)
    args.update(kwargs)
    with pytest.raises(ValueError, match=word):
        adapt_diagonal_mass(
            std_gauss(2), np.zeros((2, 2)), rng=np.random.default_rng(0), **args
        )
