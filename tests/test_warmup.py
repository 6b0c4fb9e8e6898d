"""Adam and the shared warm-up on a Gaussian whose mode is known."""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
import pytest

from hmc_lite import Potential, WarmupResult, adam, gaussian_potential, shared_warmup

MEAN = np.array([1.5, -2.0, 0.5])
COV = np.diag([1.0, 0.25, 4.0])


def test_adam_reaches_the_mode_from_every_row():
    pot = gaussian_potential(COV, MEAN)
    start = np.random.default_rng(0).normal(scale=3.0, size=(5, 3))
    mode = adam(pot, start, n_iter=3000, learning_rate=0.05)
    assert mode.shape == (5, 3)
    np.testing.assert_allclose(mode, np.broadcast_to(MEAN, (5, 3)), atol=1e-3)
    assert np.all(start != mode)  # every coordinate of every row has moved


def test_adam_does_not_modify_its_input_and_zero_iterations_is_identity():
    pot = gaussian_potential(COV, MEAN)
    start = np.ones((2, 3))
    adam(pot, start, n_iter=10)
    np.testing.assert_array_equal(start, np.ones((2, 3)))
    np.testing.assert_array_equal(adam(pot, start, n_iter=0), start)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n_iter=-1), "n_iter"),
        (dict(n_iter=2.5), "n_iter"),
        (dict(learning_rate=0.0), "learning_rate"),
        (dict(learning_rate=np.nan), "learning_rate"),
        (dict(beta1=1.0), "beta1"),
        (dict(beta2=1.0), "beta2"),
        (dict(beta1=-0.1), "beta1"),
        (dict(beta2=np.nan), "beta2"),
        (dict(n_iter=True), "n_iter"),
    ],
)
def test_adam_refuses_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        adam(gaussian_potential(COV, MEAN), np.zeros((1, 3)), **kwargs)


def test_adam_reports_overflow_instead_of_returning_nan():
    root = Potential(lambda q: anp.sum(anp.sqrt(q), axis=1), dim=2)  # NaN for q < 0
    with pytest.raises(ValueError, match="non-finite at iteration 2 .*learning_rate"):
        adam(root, np.ones((1, 2)), n_iter=50, learning_rate=10.0)


def test_shared_warmup_spreads_chains_around_the_mode():
    pot = gaussian_potential(COV, MEAN)
    out = shared_warmup(
        pot,
        np.zeros((1, 3)),
        chains=200,
        rng=np.random.default_rng(1),
        n_optim=2000,
        learning_rate=0.05,
        step_size=0.2,
        n_steps=10,
        n_hmc=30,
    )
    assert isinstance(out, WarmupResult)
    assert out.position.shape == (200, 3)
    assert 0.0 <= out.mean_accept_prob <= 1.0 and out.mean_accept_prob > 0.7
    # chains separated, and they look like draws from the target
    assert len(np.unique(out.position[:, 0])) > 150
    se = np.sqrt(np.diag(COV) / 200)
    assert np.all(np.abs(out.position.mean(axis=0) - MEAN) < 5 * se)
    np.testing.assert_allclose(
        out.position.var(axis=0, ddof=1), np.diag(COV), rtol=0.35
    )


def test_shared_warmup_accepts_a_flat_start_and_is_reproducible():
    pot = gaussian_potential(COV, MEAN)
    kw = dict(chains=4, n_optim=50, step_size=0.1, n_steps=3, n_hmc=5)
    a = shared_warmup(pot, np.zeros(3), rng=np.random.default_rng(2), **kw)
    b = shared_warmup(pot, np.zeros((1, 3)), rng=np.random.default_rng(2), **kw)
    np.testing.assert_array_equal(a.position, b.position)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(initial_position=np.zeros((2, 3))), ValueError, "initial_position"),
        (dict(chains=0), ValueError, "chains"),
        (dict(chains=2.5), ValueError, "chains"),
        (dict(rng=np.random.RandomState(0)), TypeError, "rng"),
    ],
)
def test_shared_warmup_refuses_bad_input(kwargs, error, match):
    args = dict(
        potential=gaussian_potential(COV, MEAN),
        initial_position=np.zeros((1, 3)),
        chains=2,
        rng=np.random.default_rng(0),
        n_optim=5,
        n_hmc=2,
    )
    args.update(kwargs)
    with pytest.raises(error, match=match):
        shared_warmup(**args)
