"""ESS, R-hat, MCSE and acceptance summaries, checked against ArviZ and theory."""

from __future__ import annotations

import numpy as np
import pytest

import hmc_lite
from hmc_lite import acceptance_summary, ess, mcse_mean, rhat


def ar1(rng, chains, draws, phi, shift=None):
    """Stationary AR(1) chains x_t = phi x_{t-1} + sqrt(1 - phi^2) e_t."""
    x = np.empty((chains, draws))
    x[:, 0] = rng.standard_normal(chains)
    noise = np.sqrt(1 - phi**2) * rng.standard_normal((chains, draws))
    for t in range(1, draws):
        x[:, t] = phi * x[:, t - 1] + noise[:, t]
    if shift is not None:
        x += np.asarray(shift)[:, None]
    return x


@pytest.mark.parametrize("phi", [-0.3, 0.0, 0.5, 0.9])
def test_ess_and_rhat_agree_with_arviz(phi):
    import arviz

    x = ar1(np.random.default_rng(int(10 * (phi + 1))), 4, 1000, phi)
    ours, theirs = float(ess(x)), float(arviz.ess(x, method="mean"))
    assert ours == pytest.approx(theirs, rel=1e-3)
    assert float(rhat(x)) == pytest.approx(float(arviz.rhat(x, method="split")), rel=1e-10)


def test_ess_of_ar1_is_near_its_theoretical_value():
    x = ar1(np.random.default_rng(0), 8, 4000, 0.8)
    theory = x.size * (1 - 0.8) / (1 + 0.8)
    assert float(ess(x)) == pytest.approx(theory, rel=0.15)


def test_ess_of_iid_draws_is_about_the_number_of_draws():
    x = np.random.default_rng(1).standard_normal((4, 2000))
    assert float(ess(x)) == pytest.approx(x.size, rel=0.1)


def test_rhat_detects_chains_that_disagree():
    rng = np.random.default_rng(2)
    good = ar1(rng, 4, 500, 0.5)
    bad = ar1(rng, 4, 500, 0.5, shift=[0.0, 0.0, 0.0, 3.0])
    assert float(rhat(good)) < 1.01
    assert float(rhat(bad)) > 1.2


def test_trailing_coordinates_are_handled_one_by_one():
    import arviz

    rng = np.random.default_rng(3)
    x = np.stack([ar1(rng, 4, 400, 0.0), ar1(rng, 4, 400, 0.7)], axis=-1)
    e, r = ess(x), rhat(x)
    assert e.shape == (2,) and r.shape == (2,)
    for k in range(2):
        assert e[k] == pytest.approx(float(ess(x[..., k])))
        assert e[k] == pytest.approx(float(arviz.ess(x[..., k], method="mean")), rel=0.03)
    assert e[0] > 2 * e[1]


def test_mcse_of_the_mean_matches_its_definition_and_covers_the_truth():
    rng = np.random.default_rng(4)
    x = ar1(rng, 4, 2000, 0.6)
    np.testing.assert_allclose(mcse_mean(x), x.std(ddof=1) / np.sqrt(ess(x)))
    # over many independent replicates, |mean| / mcse behaves like |N(0, 1)|
    replicates = [ar1(rng, 4, 500, 0.6) for _ in range(200)]
    z = np.array([float(r.mean() / mcse_mean(r)) for r in replicates])
    assert 0.7 < np.std(z) < 1.3


def test_acceptance_summary():
    a = np.array([[0.2, 0.4], [0.6, 0.8], [1.0, 1.0]])
    s = acceptance_summary(a)
    assert s.mean == pytest.approx(2 / 3)
    per_chain = np.array([0.3, 0.7, 1.0])
    assert s.chain_sd == pytest.approx(per_chain.std(ddof=1))
    assert s.standard_error == pytest.approx(per_chain.std(ddof=1) / np.sqrt(3))
    with pytest.raises(ValueError, match="accept_prob"):
        acceptance_summary(np.ones(3))


@pytest.mark.parametrize("fn", [ess, rhat, mcse_mean])
def test_too_few_draws_or_dimensions_are_refused(fn):
    with pytest.raises(ValueError, match="x"):
        fn(np.ones(10))
    with pytest.raises(ValueError, match="at least 4 draws"):
        fn(np.ones((2, 3)))


# ---------------------------------------------------------------------------
# stability_limit
# ---------------------------------------------------------------------------

from hmc_lite import gaussian_potential, kinked_product_potential, leapfrog  # noqa: E402
from hmc_lite.diagnostics import stability_limit  # noqa: E402


def test_stability_limit_of_a_gaussian_is_twice_the_smallest_sd():
    variances = np.array([4.0, 1.0, 0.3, 0.01, 2.5, 0.7])
    rot = np.linalg.qr(np.random.default_rng(0).standard_normal((6, 6)))[0]
    pot = gaussian_potential(rot @ np.diag(variances) @ rot.T)
    q = np.random.default_rng(1).standard_normal((5, 6))
    limit = stability_limit(pot, q, n_iter=6, h=1e-4)
    assert limit.shape == (5,)
    np.testing.assert_allclose(limit, 2.0 * np.sqrt(0.01), rtol=1e-6)
    # with fewer products than dimensions it is still accurate when the top eigenvalue stands out
    np.testing.assert_allclose(stability_limit(pot, q, n_iter=4, rng=np.random.default_rng(2)),
                               0.2, rtol=1e-4)
    # and it is the real limit: just below it leapfrog stays bounded, just above it explodes
    top = rot[:, 3]
    end = leapfrog(pot, np.vstack([top, top]), np.zeros((2, 6)), np.array([0.199, 0.201]), 300)
    assert np.linalg.norm(end.position[0]) < 10 and np.linalg.norm(end.position[1]) > 1e3


def test_stability_limit_per_chain_and_without_positive_curvature():
    # U = sum(c_j x_j^2 / 2) with a chain-dependent stiffness: a per-chain answer
    import autograd.numpy as anp
    pot = hmc_lite.Potential(lambda q: 0.5 * anp.sum(q**2, axis=1) * (1.0 + q[:, 0] ** 0), dim=3)
    np.testing.assert_allclose(stability_limit(pot, np.zeros((2, 3))), 2.0 / np.sqrt(2.0), rtol=1e-6)
    quartic = hmc_lite.Potential(lambda q: anp.sum(q**4, axis=1), dim=2)
    limit = stability_limit(quartic, np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 0.0]]), n_iter=2, h=1e-5)
    np.testing.assert_allclose(limit[:2], [2.0 / np.sqrt(12.0), 2.0 / np.sqrt(3.0)], rtol=1e-4)
    assert limit[2] > 1e4  # flat at the origin: no practical limit
    concave = hmc_lite.Potential(lambda q: -anp.sum(q**2, axis=1), dim=2)
    assert np.all(stability_limit(concave, np.zeros((2, 2))) == np.inf)  # no positive curvature


def test_stability_limit_ignores_a_nearby_kink_and_is_deterministic_by_default():
    pot = kinked_product_potential(3, jump=2.0)
    q = np.array([[3e-7, 0.5, -0.2], [0.4, -1e-7, 2e-7]])
    np.testing.assert_allclose(stability_limit(pot, q), 2.0, rtol=1e-4)
    np.testing.assert_array_equal(stability_limit(pot, q + 1), stability_limit(pot, q + 1))


@pytest.mark.parametrize(
    "kwargs, error, match",
    [(dict(position=np.zeros(3)), ValueError, "position"), (dict(position=np.zeros((2, 4))), ValueError, "position"),
     (dict(n_iter=0), ValueError, "n_iter"), (dict(n_iter=2.5), ValueError, "n_iter"),
     (dict(rng=1), TypeError, "rng"), (dict(h=0.0), ValueError, "h"), (dict(h=np.nan), ValueError, "h")],
)
def test_stability_limit_refuses_bad_input(kwargs, error, match):
    args = dict(potential=gaussian_potential(np.eye(3)), position=np.zeros((2, 3)))
    args.update(kwargs)
    with pytest.raises(error, match=match):
        stability_limit(**args)


# ---------------------------------------------------------------------------
# t intervals, mode summaries, paired differences, Holm
# ---------------------------------------------------------------------------

from scipy import stats  # noqa: E402

from hmc_lite.diagnostics import holm, mode_summary, paired_difference, t_interval  # noqa: E402


def test_t_interval_agrees_with_scipy():
    x = np.array([2.1, 3.4, 1.9, 4.2, 2.8])
    ci = t_interval(x, level=0.9)
    low, high = stats.t.interval(0.9, 4, loc=x.mean(), scale=stats.sem(x))
    assert (ci.low, ci.high) == pytest.approx((low, high), rel=1e-12)
    assert ci.standard_error == pytest.approx(stats.sem(x)) and ci.n == 5 and ci.level == 0.9


def test_t_interval_covers_the_mean_at_its_level():
    rng = np.random.default_rng(0)
    x = rng.normal(1.0, 2.0, size=(4000, 4))
    hits = np.mean([(c.low < 1.0 < c.high) for c in map(t_interval, x)])
    assert abs(hits - 0.95) < 3 * np.sqrt(0.95 * 0.05 / 4000)


def test_mode_summary_replicates_modes_not_chains():
    values = np.array([1.0, 1.2, 5.0, 5.4, 3.0, 2.6, 10.0, 0.0])
    mode = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    s = mode_summary(values, mode)
    np.testing.assert_allclose(s.mode_means, [1.1, 5.2, 2.8, 5.0])
    ref = stats.t.interval(0.95, 3, loc=s.mode_means.mean(), scale=stats.sem(s.mode_means))
    assert s.n_modes == 4 and s.mean == pytest.approx(3.525)
    assert s.standard_error == pytest.approx(stats.sem(s.mode_means))
    assert (s.low, s.high) == pytest.approx(ref)
    # labels need not be 0..k-1 or sorted; chains per mode may differ
    s2 = mode_summary(values[::-1], np.array([7, 7, 3, 3, 3, 1, 1, 1]))
    # values[::-1] = [0, 10, 2.6, 3, 5.4, 5, 1.2, 1]
    np.testing.assert_allclose(s2.mode_means, [(5.0 + 1.2 + 1.0) / 3, (2.6 + 3.0 + 5.4) / 3, 5.0])
    with pytest.raises(ValueError, match="mode"):
        mode_summary(values, mode[:-1])
    with pytest.raises(ValueError, match="2"):
        mode_summary(values, np.zeros(8))
    with pytest.raises(ValueError, match="level"):
        mode_summary(values, mode, level=1.0)


def test_paired_difference_is_scipys_paired_t_test():
    a = np.array([10.1, 9.8, 11.2, 10.5, 9.9])
    b = np.array([9.5, 9.9, 10.1, 10.0, 9.2])
    d = paired_difference(a, b)
    ref = stats.ttest_rel(a, b)
    assert d.t == pytest.approx(ref.statistic) and d.p_value == pytest.approx(ref.pvalue)
    assert d.mean == pytest.approx(np.mean(a - b)) and d.n == 5
    assert (d.low, d.high) == pytest.approx(tuple(ref.confidence_interval(0.95)))
    same = paired_difference(a, a + 0.0)
    assert same.t == 0.0 and same.p_value == 1.0
    shifted = paired_difference(a + 1.0, a)
    assert shifted.t == np.inf and shifted.p_value == 0.0
    with pytest.raises(ValueError, match="same shape"):
        paired_difference(a, b[:4])
    with pytest.raises(ValueError, match="a "):
        paired_difference([1.0], [2.0])


def test_holm_on_a_hand_computed_example():
    # sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, max(0.04*1, 0.06) = 0.06
    r = holm(np.array([0.01, 0.04, 0.03, 0.005]), alpha=0.05)
    np.testing.assert_allclose(r.adjusted, [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_array_equal(r.reject, [True, False, False, True])
    # capped at 1, ties keep their order, and alpha moves the cut
    np.testing.assert_allclose(holm([0.5, 0.5, 0.9]).adjusted, [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(holm([0.01, 0.04, 0.03, 0.005], alpha=0.07).reject, [True] * 4)
    for bad, match in [([], "p_values"), ([0.1, 1.5], "p_values"), ([[0.1]], "p_values")]:
        with pytest.raises(ValueError, match=match):
            holm(bad)
    with pytest.raises(ValueError, match="alpha"):
        holm([0.1], alpha=0.0)


def test_holm_agrees_with_a_direct_loop_on_random_p_values():
    p = np.random.default_rng(3).uniform(size=12)
    order = np.argsort(p)
    m = p.size
    expected = np.empty(m)
    running = 0.0
    for i, j in enumerate(order):
        running = max(running, min(1.0, (m - i) * p[j]))
        expected[j] = running
    np.testing.assert_allclose(holm(p).adjusted, expected)
