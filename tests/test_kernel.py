"""The HMC kernel: invariance of the target, exact rejections, reproducibility,
cost, divergences, per-chain settings and input checks."""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
import pytest

import hmc_lite
from hmc_lite import (
    HMCInfo,
    HMCState,
    Potential,
    gaussian_potential,
    hmc_step,
    init_state,
    sample,
)

COV = np.array([[1.0, 0.9], [0.9, 1.0]])


def test_sample_leaves_a_correlated_gaussian_invariant():
    """Start many chains exactly in the target; every moment must stay within 4 MCSE.

    Chains are independent, so the standard error of an average over chains of
    per-chain averages is the across-chain standard deviation over sqrt(chains).
    """
    pot = gaussian_potential(COV, mean=np.array([1.0, -1.0]))
    rng = np.random.default_rng(11)
    chains = 400
    start = rng.multivariate_normal([1.0, -1.0], COV, size=chains)
    res = sample(pot, start, step_size=0.25, n_steps=6, n_samples=60, rng=rng)
    x = res.positions - np.array([1.0, -1.0])
    stats = {
        "mean_1": (x[..., 0], 0.0),
        "mean_2": (x[..., 1], 0.0),
        "var_1": (x[..., 0] ** 2, COV[0, 0]),
        "var_2": (x[..., 1] ** 2, COV[1, 1]),
        "cov_12": (x[..., 0] * x[..., 1], COV[0, 1]),
    }
    for name, (values, truth) in stats.items():
        per_chain = values.mean(axis=1)
        se = per_chain.std(ddof=1) / np.sqrt(chains)
        z = (per_chain.mean() - truth) / se
        assert abs(z) < 4, (name, per_chain.mean(), truth, z)
    assert 0.6 < res.accept_prob.mean() < 0.99
    assert not res.is_divergent.any()
    # The same check with the package's own MCSE on the means.
    mcse = hmc_lite.mcse_mean(x)
    assert np.all(np.abs(x.mean(axis=(0, 1))) < 4 * mcse)


def test_sample_corrects_a_bad_start():
    """From a far start, the chains forget it: the late-sample mean is the target mean.
    """
    pot = gaussian_potential(np.eye(2), mean=np.array([3.0, -2.0]))
    res = sample(pot, np.zeros((50, 2)), 0.3, 8, 80, rng=np.random.default_rng(12))
    late = res.positions[:, 40:]
    se = late.mean(axis=1).std(axis=0, ddof=1) / np.sqrt(50)
    assert np.all(np.abs(late.mean(axis=(0, 1)) - [3.0, -2.0]) < 4 * se)


def test_result_shapes_and_types():
    pot = gaussian_potential(COV)
    res = sample(pot, np.zeros((3, 2)), 0.2, 4, 7, rng=np.random.default_rng(0))
    assert isinstance(res, hmc_lite.SampleResult)
    assert res.positions.shape == (3, 7, 2)
    for field in (res.accept_prob, res.energy_error, res.is_divergent, res.is_accepted):
        assert field.shape == (3, 7)
    assert res.is_divergent.dtype == bool and res.is_accepted.dtype == bool
    assert np.all((0 <= res.accept_prob) & (res.accept_prob <= 1))
    assert isinstance(res.final_state, HMCState)
    np.testing.assert_array_equal(res.final_state.position, res.positions[:, -1])


def test_a_rejected_proposal_repeats_the_state_exactly():
    pot = gaussian_potential(COV)
    state = init_state(pot, np.random.default_rng(1).normal(size=(200, 2)))
    # a step size near the stability limit (2 * 0.316) makes many rejections
    new, info = hmc_step(state, pot, 0.55, 10, rng=np.random.default_rng(2))
    assert isinstance(info, HMCInfo)
    rejected = ~info.is_accepted
    assert 10 < rejected.sum() < 190
    for field_new, field_old in zip(new, state):
        np.testing.assert_array_equal(field_new[rejected], field_old[rejected])
    moved = info.is_accepted
    assert np.all(np.any(new.position[moved] != state.position[moved], axis=1))
    # the cached potential and gradient are those of the new position
    check = pot.value_and_grad(new.position)
    np.testing.assert_allclose(new.potential_energy, check.value, rtol=1e-12)
    np.testing.assert_allclose(new.gradient, check.gradient, rtol=1e-12, atol=1e-14)


def test_accept_prob_is_the_metropolis_probability_of_the_energy_error():
    pot = gaussian_potential(COV)
    res = sample(pot, np.zeros((20, 2)), 0.5, 5, 30, rng=np.random.default_rng(3))
    np.testing.assert_allclose(
        res.accept_prob, np.minimum(1.0, np.exp(-res.energy_error))
    )


def test_same_seed_same_chain_different_seed_different_chain():
    pot = gaussian_potential(COV)
    run = lambda seed: sample(
        pot, np.zeros((4, 2)), 0.3, 5, 20, rng=np.random.default_rng(seed)
    )
    a, b, c = run(7), run(7), run(8)
    for x, y in zip(a[:5], b[:5]):
        np.testing.assert_array_equal(x, y)
    assert np.all(np.any(a.positions != c.positions, axis=(1, 2)))


def test_a_transition_with_L_steps_costs_L_gradient_evaluations():
    pot = gaussian_potential(COV)
    state = init_state(pot, np.zeros((5, 2)))
    for L in (1, 4, 13):
        before = pot.n_grad_calls
        state, _ = hmc_step(state, pot, 0.2, L, rng=np.random.default_rng(L))
        assert pot.n_grad_calls - before == L
    before = pot.n_grad_calls
    sample(
        pot,
        np.zeros((5, 2)),
        0.2,
        np.array([3, 1, 7, 2, 7]),
        10,
        rng=np.random.default_rng(0),
    )
    # initial gradient + max(L) per transition
    assert pot.n_grad_calls - before == 1 + 10 * 7


# huge but finite error
# overflow to inf/nan
@pytest.mark.parametrize(
    "potential, start, eps, L",
    [
        (gaussian_potential(np.eye(2)), np.ones((6, 2)), 10.0, 20),
        (gaussian_potential(np.eye(2)), np.ones((6, 2)), 10.0, 400),
        (Potential(lambda q: anp.sum(q**4, axis=1), dim=2), np.ones((6, 2)), 5.0, 50),
    ],
    ids=["finite", "overflow", "quartic"],
)
def test_divergent_trajectories_are_rejected_and_flagged(potential, start, eps, L):
    res = sample(potential, start, eps, L, 5, rng=np.random.default_rng(4))
    assert res.is_divergent.all()
    assert np.all(res.accept_prob == 0.0) and not res.is_accepted.any()
    assert np.all(np.isfinite(res.positions))
    np.testing.assert_array_equal(
        res.positions, np.broadcast_to(start[:, None], res.positions.shape)
    )
    assert np.all(np.isfinite(res.final_state.potential_energy))
    assert np.all(np.isfinite(res.final_state.gradient))
    assert np.all(res.energy_error > 1000)


def test_divergence_threshold_separates_large_from_small_errors():
    pot = gaussian_potential(np.eye(2))
    res = sample(pot, np.ones((30, 2)), 1.9, 30, 5, rng=np.random.default_rng(5),
                 divergence_threshold=0.5)
    large = res.energy_error > 0.5
    assert large.any() and (~large).any()
    np.testing.assert_array_equal(res.is_divergent, large)
    assert np.all(res.accept_prob[large] == 0.0)


def test_per_chain_settings_do_not_disturb_other_chains():
    """Chain 0 gives the same draws whatever the settings of the other chains,
    and a chain with fewer steps is the same as a batch where all use that L."""
    pot = gaussian_potential(COV)
    start = np.random.default_rng(6).normal(size=(3, 2))
    mixed = sample(pot, start, np.array([0.2, 0.4, 0.1]), np.array([3, 9, 5]), 15,
                   rng=np.random.default_rng(9))
    uniform = sample(pot, start, 0.2, 3, 15, rng=np.random.default_rng(9))
    np.testing.assert_array_equal(mixed.positions[0], uniform.positions[0])
    np.testing.assert_array_equal(mixed.accept_prob[0], uniform.accept_prob[0])
    assert np.any(mixed.positions[1] != uniform.positions[1])


def test_per_chain_step_sizes_are_used():
    pot = gaussian_potential(np.eye(1))
    res = sample(
        pot,
        np.zeros((2, 1)),
        np.array([0.01, 3.0]),
        10,
        20,
        rng=np.random.default_rng(0),
    )
    assert res.accept_prob[0].mean() > 0.99
    assert res.accept_prob[1].mean() < 0.01


def _ok_args():
    return dict(
        potential=gaussian_potential(np.eye(2)),
        initial_position=np.zeros((3, 2)),
        step_size=0.1,
        n_steps=3,
        n_samples=4,
        rng=np.random.default_rng(0),
    )


@pytest.mark.parametrize(
    "change, error, match",
    [
        (dict(step_size=0.0), ValueError, "step_size"),
        (dict(step_size=-1.0), ValueError, "step_size"),
        (dict(step_size=np.inf), ValueError, "step_size"),
        (dict(step_size=np.nan), ValueError, "step_size"),
        (dict(step_size=np.array([0.1, np.nan, 0.1])), ValueError, "step_size"),
        (dict(step_size=np.array([0.1, 0.2])), ValueError, "step_size"),
        (dict(n_steps=0), ValueError, "n_steps"),
        (dict(n_steps=-3), ValueError, "n_steps"),
        (dict(n_steps=2.5), TypeError, "n_steps"),
        (dict(n_steps=np.array([1, 0, 2])), ValueError, "n_steps"),
        (dict(n_samples=0), ValueError, "n_samples"),
        (dict(n_samples=-2), ValueError, "n_samples"),
        (dict(n_samples=2.5), TypeError, "n_samples"),
        (dict(n_samples=np.inf), TypeError, "n_samples"),
        (dict(n_samples=None), TypeError, "n_samples"),
        (dict(n_samples="10"), TypeError, "n_samples"),
        (dict(initial_position=np.zeros(2)), ValueError, "initial_position"),
        (dict(initial_position=np.zeros((1, 3, 2))), ValueError, "initial_position"),
        (dict(initial_position=np.zeros((3, 5))), ValueError, "initial_position"),
        (
            dict(initial_position=np.array([[0.0, np.nan]])),
            ValueError,
            "initial_position",
        ),
        (
            dict(initial_position=np.array([[0.0, -np.inf]])),
            ValueError,
            "initial_position",
        ),
        (
            dict(potential=Potential(lambda q: anp.sum(q, axis=1, keepdims=True))),
            ValueError,
            "potential U must return shape",
        ),
        (dict(rng=np.random.RandomState(0)), TypeError, "rng"),
        (dict(rng=0), TypeError, "rng"),
        (dict(rng=None), TypeError, "rng"),
        (dict(divergence_threshold=0.0), ValueError, "divergence_threshold"),
        (dict(divergence_threshold=np.nan), ValueError, "divergence_threshold"),
    ],
)
def test_bad_input_is_refused_naming_the_argument(change, error, match):
    args = _ok_args()
    args.update(change)
    with pytest.raises(error, match=match):
        sample(**args)


def test_hmc_step_refuses_a_legacy_random_state():
    pot = gaussian_potential(np.eye(2))
    with pytest.raises(TypeError, match="rng"):
        hmc_step(
            init_state(pot, np.zeros((1, 2))), pot, 0.1, 2, rng=np.random.RandomState(0)
        )


def test_initial_position_with_infinite_energy_is_refused():
    pot = Potential(lambda q: -anp.sum(anp.log(q), axis=1))
    with pytest.raises(ValueError, match="initial_position"):
        with np.errstate(divide="ignore"):
            sample(pot, np.zeros((1, 2)), 0.1, 2, 3, rng=np.random.default_rng(0))


def test_the_state_does_not_share_memory_with_the_callers_array():
    pot = gaussian_potential(np.eye(2))
    start = np.ones((3, 2))
    state = init_state(pot, start)
    start[:] = 5.0  # the caller reuses its array
    np.testing.assert_array_equal(state.position, np.ones((3, 2)))
    np.testing.assert_allclose(state.potential_energy, pot(state.position))


def test_callback_sees_every_transition_and_changes_nothing():
    pot = hmc_lite.gaussian_potential(np.eye(2))
    seen = []
    a = hmc_lite.sample(
        pot,
        np.zeros((3, 2)),
        0.3,
        4,
        7,
        rng=np.random.default_rng(2),
        callback=seen.append,
    )
    b = hmc_lite.sample(pot, np.zeros((3, 2)), 0.3, 4, 7, rng=np.random.default_rng(2))
    assert seen == list(range(7))
    np.testing.assert_array_equal(a.positions, b.positions)
