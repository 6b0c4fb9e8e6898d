"""equilibrate: optimise to several modes, then run HMC until U levels off."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import hmc_lite
from hmc_lite import EquilibriumResult, equilibrate, gaussian_potential
from hmc_lite.equilibrium import find_modes, levelled_off

DIM = 10
COV = np.diag(np.linspace(0.5, 2.0, DIM))
MEAN = np.linspace(-1.0, 1.0, DIM)


def far_start(n_modes: int = 4) -> np.ndarray:
    return MEAN + 30.0 * np.random.default_rng(5).standard_normal((n_modes, DIM))


def run_gaussian(seed: int = 0, **kwargs) -> EquilibriumResult:
    options = dict(initial_position=far_start(), path_length=1.5, max_blocks=20)
    options.update(kwargs)
    return equilibrate(
        gaussian_potential(COV, MEAN), 32, rng=np.random.default_rng(seed), **options
    )


def test_gaussian_reaches_equilibrium_from_a_far_start():
    res = run_gaussian()
    assert res.converged
    # the modes were found, and the chains left them: U = chi^2_d / 2 in equilibrium
    np.testing.assert_allclose(
        res.mode_position, np.broadcast_to(MEAN, (4, DIM)), atol=1e-4
    )
    u = gaussian_potential(COV, MEAN)(res.position)
    se = np.sqrt(DIM / 2) / np.sqrt(u.size)
    assert abs(u.mean() - DIM / 2) < 3 * se
    assert u.var(ddof=1) == pytest.approx(DIM / 2, rel=0.6)


def test_fields_have_fixed_shapes_and_modes_split_the_chains_evenly():
    res = run_gaussian()
    n = res.n_transitions
    assert res.position.shape == (32, DIM)
    assert res.mode.dtype.kind == "i" and res.mode.shape == (32,)
    np.testing.assert_array_equal(np.bincount(res.mode), [8, 8, 8, 8])
    assert res.mode_position.shape == (4, DIM)
    assert res.potential_trace.shape == (32, n)
    assert res.step_size.shape == (32,) and np.all(res.step_size > 0)
    # one step size per mode group (adapted by dual averaging)
    for k in range(4):
        assert np.unique(res.step_size[res.mode == k]).size == 1
    assert isinstance(res.converged, bool) and isinstance(n, int)
    np.testing.assert_array_equal(
        res.potential_trace[:, -1], gaussian_potential(COV, MEAN)(res.position)
    )


def test_same_seed_same_result_and_the_rng_matters():
    a, b, c = run_gaussian(3), run_gaussian(3), run_gaussian(4)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a.position, c.position)


def test_callbacks_see_every_transition_and_change_nothing():
    seen = []
    a, b = run_gaussian(3, callback=seen.append), run_gaussian(3)
    assert seen == list(range(a.n_transitions))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    pot = gaussian_potential(COV, MEAN)
    for adapt, n_adapt in ((hmc_lite.adapt_step_size, 12),
                           (hmc_lite.adapt_diagonal_mass, 150)):
        seen = []
        kwargs = dict(rng=np.random.default_rng(1), step_size=0.3, n_adapt=n_adapt,
                      n_steps=3)
        with_callback = adapt(pot, np.zeros((4, DIM)), callback=seen.append, **kwargs)
        kwargs["rng"] = np.random.default_rng(1)
        without = adapt(pot, np.zeros((4, DIM)), **kwargs)
        assert seen == list(range(n_adapt))
        np.testing.assert_array_equal(with_callback.step_size, without.step_size)


def test_a_given_step_size_is_used_unchanged():
    res = run_gaussian(step_size=0.3)
    np.testing.assert_array_equal(res.step_size, np.full(32, 0.3))


def test_chains_started_from_equilibrium_show_no_trend_on_a_small_bnn():
    data = hmc_lite.datasets.synthetic(n=50, seed=0)
    pot = hmc_lite.mlp_potential(data.x_train, data.y_train, [1, 10, 1], "relu")
    rng = np.random.default_rng(1)
    res = equilibrate(pot, 16, rng=rng, n_modes=4, prior_scale=1.0)
    assert res.converged
    # Every chain has left the point the optimiser found. (Its potential need not lie
    # above that mode's: on this small ReLU network some "modes" are plateaus of dead
    # units, U near 390, or poor local optima, which the chains leave downhill; over
    # seeds 1-10 the mean rise above the own mode ranged from -270 to +9, so no bound on
    # it would be a property.)
    moved = np.linalg.norm(res.position - res.mode_position[res.mode], axis=1)
    assert np.all(moved > 0.1), moved
    # An independent run from there: its mean U is no higher than at the start
    # (one-sided z < 3; over seeds 1-10 of the warm-up, z ranged from -2.4 to 0.8;
    # started at the modes instead, the rise is about three times the bound).
    start = pot(res.position)
    n_steps = np.ceil(0.3 / res.step_size).astype(int)
    run = hmc_lite.sample(
        pot, res.position, res.step_size, n_steps, 40, rng=np.random.default_rng(7)
    )
    u = np.array([pot(run.positions[:, t]) for t in range(40)]).T
    d = u.mean(axis=1) - start
    assert d.mean() < 3 * d.std(ddof=1) / np.sqrt(d.size)  # no upward trend


def test_potential_without_prior_draw_uses_initial_position_and_mlp_uses_the_prior():
    pot = gaussian_potential(COV, MEAN)
    with pytest.raises(ValueError, match="initial_position"):
        equilibrate(pot, 8, rng=np.random.default_rng(0))
    data = hmc_lite.datasets.synthetic(n=20, seed=0)
    mlp = hmc_lite.mlp_potential(data.x_train, data.y_train, [1, 3, 1], "sigmoid")
    res = equilibrate(
        mlp,
        4,
        rng=np.random.default_rng(0),
        n_modes=2,
        n_adam=50,
        n_lbfgs=50,
        max_blocks=8,
        block=10,
        n_adapt=10,
    )
    assert res.mode_position.shape == (2, mlp.dim)


def test_not_levelling_off_warns_and_reports_it():
    with pytest.warns(RuntimeWarning, match="max_blocks"):
        res = equilibrate(
            gaussian_potential(COV, MEAN),
            8,
            rng=np.random.default_rng(0),
            initial_position=far_start(),
            n_adam=0,
            n_lbfgs=0,
            max_blocks=1,
            step_size=0.05,
            block=10,
        )
    assert res.converged is False
    assert res.n_transitions == 10 and res.potential_trace.shape == (8, 10)
    assert res.potential_trace[:, 0].min() > 100  # it really started far away


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(chains=30), ValueError, "chains"),
        (dict(chains=0), ValueError, "chains"),
        (dict(n_modes=0), ValueError, "n_modes"),
        (dict(initial_position=np.zeros((3, DIM))), ValueError, "initial_position"),
        (dict(initial_position=np.zeros((4, DIM + 1))), ValueError, "initial_position"),
        (dict(target_accept=1.0), ValueError, "target_accept"),
        (dict(path_length=-1.0), ValueError, "path_length"),
        (dict(step_size=0.0), ValueError, "step_size"),
        (dict(block=1), ValueError, "block"),
        (dict(max_blocks=0), ValueError, "max_blocks"),
        (dict(n_adapt=0), ValueError, "n_adapt"),
        (dict(n_adam=-1), ValueError, "n_adam"),
        (dict(rng=np.random.RandomState(0)), TypeError, "rng"),
    ],
)
def test_bad_arguments_are_refused_naming_them(kwargs, error, match):
    args = dict(
        potential=gaussian_potential(COV, MEAN),
        chains=32,
        rng=np.random.default_rng(0),
        initial_position=far_start(),
    )
    args.update(kwargs)
    with pytest.raises(error, match=match):
        equilibrate(**args)


def test_find_modes_optimises_every_row():
    pot = gaussian_potential(COV, MEAN)
    modes = find_modes(pot, far_start(3), n_adam=100)
    np.testing.assert_allclose(modes, np.broadcast_to(MEAN, (3, DIM)), atol=1e-4)


def test_stop_rule_detects_trends_and_accepts_stationary_chains():
    rng = np.random.default_rng(0)
    flat = rng.standard_normal((16, 40))
    assert levelled_off(flat, 20)
    ramp = np.linspace(0.0, 3.0, 40)  # 1.5 per block: far beyond 2 se of about 0.1
    assert not levelled_off(flat + ramp, 20)
    assert not levelled_off(flat - ramp, 20)  # falling from above the typical set
    assert not levelled_off(flat[:, :30], 20)  # fewer than two blocks
    # chains at different levels: no trend, but R-hat sees that they disagree
    apart = flat + 3.0 * np.arange(16)[:, None]
    assert levelled_off(apart, 20)
    assert not levelled_off(apart, 20, rhat_threshold=1.05)
    assert levelled_off(flat, 20, rhat_threshold=1.05)
    # only the last two blocks count
    assert levelled_off(np.concatenate([flat - 50.0, flat], axis=1), 20)
    with pytest.raises(ValueError, match="potential_trace"):
        levelled_off(np.zeros(40), 20)
    with pytest.raises(ValueError, match="block"):
        levelled_off(flat, 1)


def test_shared_warmup_still_works():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = hmc_lite.shared_warmup(
            gaussian_potential(COV, MEAN),
            np.zeros((1, DIM)),
            4,
            rng=np.random.default_rng(0),
            n_optim=10,
            n_hmc=2,
        )
    assert res.position.shape == (4, DIM)
