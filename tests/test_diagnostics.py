"""ESS, R-hat, MCSE and acceptance summaries, checked against ArviZ and theory."""

from __future__ import annotations

import numpy as np
import pytest

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
