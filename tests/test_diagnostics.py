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
    assert float(rhat(x)) == pytest.approx(
        float(arviz.rhat(x, method="split")), rel=1e-10
    )


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
        assert e[k] == pytest.approx(
            float(arviz.ess(x[..., k], method="mean")), rel=0.03
        )
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
    with pytest.raises(ValueError, match="at least one chain"):
        fn(np.ones((0, 10)))
    bad = np.ones((2, 10))
    bad[1, 3] = np.nan
    with pytest.raises(ValueError, match="finite"):
        fn(bad)


def test_ess_and_rhat_do_not_depend_on_the_scale_of_the_draws():
    x = np.random.default_rng(3).standard_normal((4, 200, 2))
    for scale in (1e-200, 1e200):
        np.testing.assert_allclose(ess(x * scale), ess(x), rtol=1e-12)
        np.testing.assert_allclose(rhat(x * scale), rhat(x), rtol=1e-12)


# ---------------------------------------------------------------------------
# stability_limit
# ---------------------------------------------------------------------------

# noqa: E402
from hmc_lite import gaussian_potential, kinked_product_potential, leapfrog
from hmc_lite.diagnostics import stability_limit  # noqa: E402


def test_stability_limit_of_a_gaussian_is_twice_the_smallest_sd():
    variances = np.array([4.0, 1.0, 0.3, 0.01, 2.5, 0.7])
    rot = np.linalg.qr(np.random.default_rng(0).standard_normal((6, 6)))[0]
    pot = gaussian_potential(rot @ np.diag(variances) @ rot.T)
    q = np.random.default_rng(1).standard_normal((5, 6))
    limit = stability_limit(pot, q, n_iter=6, h=1e-4)
    assert limit.shape == (5,)
    np.testing.assert_allclose(limit, 2.0 * np.sqrt(0.01), rtol=1e-6)
    # with fewer products than dimensions it is still accurate when the top eigenvalue
    # stands out
    np.testing.assert_allclose(
        stability_limit(pot, q, n_iter=4, rng=np.random.default_rng(2)), 0.2, rtol=1e-4
    )
    # and it is the real limit: just below it leapfrog stays bounded, just above it
    # explodes
    top = rot[:, 3]
    end = leapfrog(
        pot, np.vstack([top, top]), np.zeros((2, 6)), np.array([0.199, 0.201]), 300
    )
    assert (
        np.linalg.norm(end.position[0]) < 10 and np.linalg.norm(end.position[1]) > 1e3
    )


def test_stability_limit_per_chain_and_without_positive_curvature():
    # U = sum(c_j x_j^2 / 2) with a chain-dependent stiffness: a per-chain answer
    import autograd.numpy as anp
    pot = hmc_lite.Potential(
        lambda q: 0.5 * anp.sum(q**2, axis=1) * (1.0 + q[:, 0] ** 0), dim=3
    )
    np.testing.assert_allclose(
        stability_limit(pot, np.zeros((2, 3))), 2.0 / np.sqrt(2.0), rtol=1e-6
    )
    quartic = hmc_lite.Potential(lambda q: anp.sum(q**4, axis=1), dim=2)
    limit = stability_limit(
        quartic, np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 0.0]]), n_iter=2, h=1e-5
    )
    np.testing.assert_allclose(
        limit[:2], [2.0 / np.sqrt(12.0), 2.0 / np.sqrt(3.0)], rtol=1e-4
    )
    assert limit[2] > 1e4  # flat at the origin: no practical limit
    concave = hmc_lite.Potential(lambda q: -anp.sum(q**2, axis=1), dim=2)
    # no positive curvature
    assert np.all(stability_limit(concave, np.zeros((2, 2))) == np.inf)


def test_stability_limit_ignores_a_nearby_kink_and_is_deterministic_by_default():
    pot = kinked_product_potential(3, jump=2.0)
    q = np.array([[3e-7, 0.5, -0.2], [0.4, -1e-7, 2e-7]])
    np.testing.assert_allclose(stability_limit(pot, q), 2.0, rtol=1e-4)
    np.testing.assert_array_equal(
        stability_limit(pot, q + 1), stability_limit(pot, q + 1)
    )


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(position=np.zeros(3)), ValueError, "position"),
        (dict(position=np.zeros((2, 4))), ValueError, "position"),
        (dict(n_iter=0), ValueError, "n_iter"),
        (dict(n_iter=2.5), TypeError, "n_iter"),
        (dict(rng=1), TypeError, "rng"),
        (dict(h=0.0), ValueError, "h"),
        (dict(h=np.nan), ValueError, "h"),
    ],
)
def test_stability_limit_refuses_bad_input(kwargs, error, match):
    args = dict(potential=gaussian_potential(np.eye(3)), position=np.zeros((2, 3)))
    args.update(kwargs)
    with pytest.raises(error, match=match):
        stability_limit(**args)


def test_the_stability_limit_is_where_leapfrog_starts_to_explode():
    # U = q^T diag(lam) q / 2: the limit is 2 / sqrt(max lam) = 0.1; with n_iter = dim
    # exact.
    lam = np.array([1.0, 25.0, 400.0])
    pot = hmc_lite.gaussian_potential(np.diag(1.0 / lam))
    q = np.random.default_rng(0).standard_normal((3, 3))
    np.testing.assert_allclose(
        stability_limit(pot, q, n_iter=3, h=1e-4), 0.1, rtol=1e-6
    )
    start = np.tile([[0.0, 0.0, 1.0]], (2, 1))
    end = hmc_lite.leapfrog(pot, start, np.zeros((2, 3)), np.array([0.099, 0.101]), 200)
    assert abs(end.position[0, 2]) < 10 and abs(end.position[1, 2]) > 1e3


def test_ess_per_gradient_is_the_mean_ess_per_thousand_gradients():
    from hmc_lite.diagnostics import ess_per_gradient

    x = np.random.default_rng(5).standard_normal((4, 200, 3))
    assert ess_per_gradient(x, 8000) == pytest.approx(
        1e3 * hmc_lite.ess(x).mean() / 8000, rel=1e-15
    )
    assert ess_per_gradient(x, 8000, per=1.0) == pytest.approx(
        hmc_lite.ess(x).mean() / 8000
    )
    with pytest.raises(ValueError, match="n_gradients"):
        ess_per_gradient(x, 0)


def test_mean_pm_se_writes_the_mode_summary():
    from hmc_lite.diagnostics import mean_pm_se, mode_summary

    values = np.array([0.012, 0.015, 0.011, 0.019])
    s = mode_summary(1e3 * values, np.arange(4))
    assert mean_pm_se(values, 1e3, 3) == f"{s.mean:.3f} ± {s.standard_error:.3f}"
    assert mean_pm_se([1.0, 2.0, 3.0], digits=0) == "2 ± 1"
    with pytest.raises(ValueError, match="digits"):
        mean_pm_se(values, digits=-1)


def test_verdict_follows_the_sign_of_a_resolved_difference():
    from hmc_lite.diagnostics import paired_difference, verdict

    up = paired_difference(np.array([2.0, 3.0, 2.5]), np.array([1.0, 1.5, 1.0]))
    down = paired_difference(np.array([1.0, 1.5, 1.0]), np.array([2.0, 3.0, 2.5]))
    assert verdict(up, True, "higher", "lower") == "higher"
    assert verdict(down, True, "higher", "lower") == "lower"
    assert verdict(up, False, "higher", "lower") == "unresolved"
