"""run_grid: shapes, and every setting equal to a direct call of sample."""

from __future__ import annotations

import numpy as np
import pytest

import hmc_lite
from hmc_lite import GridResult, gaussian_potential, run_grid, sample

COV = np.array([[1.0, 0.5], [0.5, 2.0]])


def test_grid_shapes():
    pot = gaussian_potential(COV)
    start = np.random.default_rng(0).normal(size=(3, 2))
    res = run_grid(
        pot, start, [0.1, 0.2, 0.4, 0.8], [2, 5], 6, rng=np.random.default_rng(1)
    )
    assert isinstance(res, GridResult)
    assert res.step_sizes.shape == (4,) and res.n_steps.shape == (2,)
    assert res.n_steps.dtype.kind == "i"
    assert res.positions.shape == (4, 2, 3, 6, 2)
    for field in (res.accept_prob, res.energy_error, res.is_divergent):
        assert field.shape == (4, 2, 3, 6)
    assert res.is_divergent.dtype == bool
    # larger steps accept less, on average over the grid
    acc = res.accept_prob.mean(axis=(1, 2, 3))
    assert acc[0] > acc[-1]


def test_every_setting_equals_a_direct_sample_call():
    """run_grid runs one batch per number of steps, all step sizes side by side,
    drawing from the generator in the order of n_steps."""
    pot = gaussian_potential(COV)
    start = np.random.default_rng(2).normal(size=(3, 2))
    eps, steps = np.array([0.1, 0.3]), np.array([4, 1, 7])
    res = run_grid(pot, start, eps, steps, 5, rng=np.random.default_rng(3))
    rng = np.random.default_rng(3)
    for k, L in enumerate(steps):
        direct = sample(
            pot, np.tile(start, (2, 1)), np.repeat(eps, 3), int(L), 5, rng=rng
        )
        for s in range(2):
            rows = slice(3 * s, 3 * (s + 1))
            np.testing.assert_array_equal(res.positions[s, k], direct.positions[rows])
            np.testing.assert_array_equal(
                res.accept_prob[s, k], direct.accept_prob[rows]
            )
            np.testing.assert_array_equal(
                res.energy_error[s, k], direct.energy_error[rows]
            )
            np.testing.assert_array_equal(
                res.is_divergent[s, k], direct.is_divergent[rows]
            )


def test_a_single_setting_is_exactly_sample():
    pot = gaussian_potential(COV)
    start = np.zeros((4, 2))
    res = run_grid(pot, start, [0.25], [6], 8, rng=np.random.default_rng(4))
    direct = sample(pot, start, 0.25, 6, 8, rng=np.random.default_rng(4))
    np.testing.assert_array_equal(res.positions[0, 0], direct.positions)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(step_sizes=[]), ValueError, "step_sizes"),
        (dict(step_sizes=[0.1, -0.1]), ValueError, "step_sizes"),
        (dict(step_sizes=[np.nan]), ValueError, "step_sizes"),
        (dict(n_steps=[2, 0]), ValueError, "n_steps"),
        (dict(n_steps=[2.5]), TypeError, "n_steps"),
        (dict(n_samples=0), ValueError, "n_samples"),
        (dict(initial_position=np.zeros(2)), ValueError, "initial_position"),
        (dict(rng=1), TypeError, "rng"),
    ],
)
def test_run_grid_refuses_bad_input(kwargs, error, match):
    args = dict(
        potential=gaussian_potential(COV),
        initial_position=np.zeros((2, 2)),
        step_sizes=[0.1],
        n_steps=[2],
        n_samples=3,
        rng=np.random.default_rng(0),
    )
    args.update(kwargs)
    with pytest.raises(error, match=match):
        run_grid(**args)


def test_run_grid_progress_adds_up_to_the_cost():
    pot = hmc_lite.gaussian_potential(np.eye(2))
    ticks = []
    hmc_lite.run_grid(
        pot,
        np.zeros((3, 2)),
        [0.1, 0.2],
        [2, 5],
        4,
        rng=np.random.default_rng(0),
        progress=ticks.append,
    )
    assert len(ticks) == 2 * 4 and sum(ticks) == 2 * 3 * 4 * (2 + 5)
