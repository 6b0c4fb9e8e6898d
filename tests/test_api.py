"""One API shape: ``rng`` by name everywhere, one name per concept."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import hmc_lite
from hmc_lite import nuts
from hmc_lite.diagnostics import stability_limit

TAKES_RNG = [
    hmc_lite.sample,
    hmc_lite.hmc_step,
    hmc_lite.adapt_step_size,
    hmc_lite.adapt_diagonal_mass,
    hmc_lite.shared_warmup,
    hmc_lite.equilibrate,
    hmc_lite.run_grid,
    hmc_lite.MLPPotential.prior_draw,
    nuts.sample,
    nuts.nuts_step,
    nuts.build_tree,
    nuts.adapt,
]


@pytest.mark.parametrize("func", TAKES_RNG, ids=lambda f: f.__qualname__)
def test_rng_is_a_required_keyword_only_argument(func):
    rng = inspect.signature(func).parameters["rng"]
    assert rng.kind is inspect.Parameter.KEYWORD_ONLY
    assert rng.default is inspect.Parameter.empty


def test_stability_limit_takes_its_optional_rng_by_name_only():
    rng = inspect.signature(stability_limit).parameters["rng"]
    assert rng.kind is inspect.Parameter.KEYWORD_ONLY


def test_a_positional_generator_is_refused():
    pot = hmc_lite.gaussian_potential(np.eye(2))
    with pytest.raises(TypeError):
        hmc_lite.sample(pot, np.zeros((2, 2)), 0.1, 2, 3, np.random.default_rng(0))


def test_results_name_their_fields_as_hmc_info_does():
    for result in (hmc_lite.SampleResult, hmc_lite.GridResult):
        assert set(hmc_lite.HMCInfo._fields) <= set(result._fields), result
    for old in ("divergent", "accepted", "accept_rate", "start"):
        for result in (
            hmc_lite.SampleResult,
            hmc_lite.GridResult,
            hmc_lite.AdaptationResult,
            hmc_lite.MassAdaptationResult,
            hmc_lite.WarmupResult,
        ):
            assert old not in result._fields, (result, old)
    assert hmc_lite.ValueAndGrad._fields == ("value", "gradient")
    assert "initial_position" in inspect.signature(hmc_lite.run_grid).parameters


def test_sample_result_info_is_the_stacked_hmc_info():
    pot = hmc_lite.gaussian_potential(np.eye(2))
    res = hmc_lite.sample(
        pot, np.zeros((3, 2)), 1.5, 3, 6, rng=np.random.default_rng(0)
    )
    assert isinstance(res.info, hmc_lite.HMCInfo)
    for name in hmc_lite.HMCInfo._fields:
        np.testing.assert_array_equal(getattr(res.info, name), getattr(res, name))
        assert getattr(res.info, name).shape == (3, 6)
    # the same transitions one at a time give the same fields, name by name
    rng = np.random.default_rng(0)
    state = hmc_lite.init_state(pot, np.zeros((3, 2)))
    for i in range(6):
        state, info = hmc_lite.hmc_step(state, pot, 1.5, 3, rng=rng)
        for name in hmc_lite.HMCInfo._fields:
            np.testing.assert_array_equal(getattr(res, name)[:, i], getattr(info, name))
