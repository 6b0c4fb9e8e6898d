"""One rule per kind of mistake, at every public entry point (hmc_lite._validation).

A wrong kind of argument (a fractional count, a string, a boolean) is a TypeError, a
right kind out of range a ValueError, and the message names the argument.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
import pytest

import hmc_lite
from hmc_lite import _validation as v
from hmc_lite import datasets


def gauss() -> hmc_lite.Potential:
    return hmc_lite.Potential(lambda q: 0.5 * anp.sum(q**2, axis=1), dim=2)


@pytest.mark.parametrize(
    "value", [2.5, "3", True, np.bool_(False), None, float("nan"), 1j]
)
def test_check_int_refuses_what_is_not_an_integer(value):
    with pytest.raises(TypeError, match="n_things"):
        v.check_int(value, "n_things")


@pytest.mark.parametrize(
    "value, expected", [(3, 3), (np.int32(4), 4), (2.0, 2), (1e3, 1000)]
)
def test_check_int_accepts_integers_and_integral_floats(value, expected):
    out = v.check_int(value, "n")
    assert out == expected and type(out) is int


def test_check_int_range_is_a_value_error():
    with pytest.raises(ValueError, match=">= 1"):
        v.check_int(0, "n")
    assert v.check_int(0, "n", minimum=0) == 0
    with pytest.raises(ValueError, match="<= 5"):
        v.check_int(6, "n", maximum=5)


@pytest.mark.parametrize(
    "value, error",
    [
        (0.0, ValueError),
        (-1, ValueError),
        (float("inf"), ValueError),
        (float("nan"), ValueError),
        ("1.0", TypeError),
        (True, TypeError),
        (None, TypeError),
    ],
)
def test_check_positive_float(value, error):
    with pytest.raises(error, match="gamma"):
        v.check_positive_float(value, "gamma")


@pytest.mark.parametrize(
    "value, error",
    [
        (0.0, ValueError),
        (1.0, ValueError),
        (float("nan"), ValueError),
        ("0.5", TypeError),
        (True, TypeError),
    ],
)
def test_check_probability(value, error):
    with pytest.raises(error, match="level"):
        v.check_probability(value, "level")
    assert v.check_probability(np.float32(0.25), "level") == 0.25


def test_check_float_array_refuses_non_numbers():
    for bad in ["a", ["0.1", "0.2"], np.array([1 + 1j]), True, [True, False]]:
        with pytest.raises(TypeError, match="step_sizes"):
            v.check_float_array(bad, "step_sizes")
    assert v.check_float_array([1, 2], "x").dtype == float


# The inconsistencies found by fuzzing: the same mistake now gets the same error
# everywhere.

def test_fractional_counts_are_type_errors_in_sample_and_adaptation():
    rng = np.random.default_rng(0)
    with pytest.raises(TypeError, match="n_samples"):
        hmc_lite.sample(gauss(), np.zeros((2, 2)), 0.1, 3, 2.5, rng=rng)
    with pytest.raises(TypeError, match="n_adapt"):
        hmc_lite.adapt_step_size(
            gauss(), np.zeros((2, 2)), rng=rng, step_size=0.1, n_adapt=2.5, n_steps=3
        )


def test_integral_floats_are_accepted_alike_by_data_sets():
    a = datasets.synthetic(n=20.0, seed=1.0)
    b = datasets.synthetic(n=20, seed=1)
    assert np.array_equal(a.x_train, b.x_train)
    c = datasets.diabetes(seed=2.0)
    assert np.array_equal(c.x_train, datasets.diabetes(seed=2).x_train)


def test_run_grid_names_a_bad_step_size_argument():
    with pytest.raises(TypeError, match="step_sizes"):
        hmc_lite.run_grid(
            gauss(), np.zeros((2, 2)), "a", [2], 3, rng=np.random.default_rng(0)
        )


def test_sample_checks_its_arguments_once_not_per_transition(monkeypatch):
    """The leapfrog loop works with checked values: checks do not scale with the run
    length."""
    calls = []
    original = v.check_step_size

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    for module in ("hmc_lite._validation", "hmc_lite.kernel", "hmc_lite.integrators"):
        monkeypatch.setattr(f"{module}.check_step_size", counting)
    counts = []
    for n in (2, 20):
        calls.clear()
        hmc_lite.sample(
            gauss(), np.zeros((3, 2)), 0.2, 4, n, rng=np.random.default_rng(1)
        )
        counts.append(len(calls))
    assert counts[0] == counts[1] == 1


def test_hmc_step_still_checks_a_hand_made_state():
    q = np.zeros((2, 2))
    state = hmc_lite.HMCState(q, np.zeros(3), np.zeros((2, 2)))  # energies of 3 chains
    with pytest.raises(ValueError, match="init_state"):
        hmc_lite.hmc_step(state, gauss(), 0.1, 3, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="divergence_threshold"):
        hmc_lite.hmc_step(
            hmc_lite.init_state(gauss(), q),
            gauss(),
            0.1,
            3,
            rng=np.random.default_rng(0),
            divergence_threshold=0.0,
        )


# ---------------------------------------------------------------------------
# The edge cases of issue 9's fuzzing, one by one. Each is refused with an error that
# names the argument (or behaves correctly). Pinned elsewhere: 1 (the CLI checks --out
# before computing) and 2 (atomic saves) in test_experiments_cli.py; 3 (the integrator
# check) in test_checks.py; 5 (threads sharing one MLPPotential) in test_models.py;
# 10 (load_fig1's errors, huge seeds) in test_experiments_cli.py; 11 (UTKFace: a
# decompression bomb, an empty path, a file, 16-bit images) in test_datasets.py.
# ---------------------------------------------------------------------------


def _mlp(**kwargs) -> hmc_lite.MLPPotential:
    d = datasets.synthetic(n=10, seed=0)
    return hmc_lite.mlp_potential(d.x_train, d.y_train, [1, 3, 1], "relu", **kwargs)


def _state() -> hmc_lite.HMCState:
    return hmc_lite.init_state(gauss(), np.zeros((2, 2)))


_NAN_U = hmc_lite.Potential(lambda q: anp.sum(q, axis=1) * np.nan, dim=2)
_DA = hmc_lite.dual_averaging_init(0.1)
_RNG = np.random.default_rng(0)

FUZZ = {
    # 4: a step count beyond int64 used to wrap to a negative number: the chain stood
    "4 sample n_steps=2**63": (
        lambda: hmc_lite.sample(gauss(), np.zeros((2, 2)), 0.1, 2**63, 2, rng=_RNG),
        ValueError, "n_steps",
    ),
    "4 sample n_steps=1e19": (
        lambda: hmc_lite.sample(gauss(), np.zeros((2, 2)), 0.1, 1e19, 2, rng=_RNG),
        ValueError, "n_steps",
    ),
    "4 hmc_step n_steps=2**63": (
        lambda: hmc_lite.hmc_step(_state(), gauss(), 0.1, 2**63, rng=_RNG),
        ValueError, "n_steps",
    ),
    "4 run_grid n_steps=[2**63]": (
        lambda: hmc_lite.run_grid(
            gauss(), np.zeros((2, 2)), [0.1], [2**63], 2, rng=_RNG
        ),
        ValueError, "n_steps",
    ),
    # 6: Adam used to return NaN and the caller blamed initial_position
    "6 adam beta1=1": (
        lambda: hmc_lite.adam(gauss(), np.ones((1, 2)), 10, 0.01, beta1=1.0),
        ValueError, "beta1",
    ),
    "6 adam beta2=1": (
        lambda: hmc_lite.adam(gauss(), np.ones((1, 2)), 10, 0.01, beta2=1.0),
        ValueError, "beta2",
    ),
    "6 adam huge learning rate": (
        lambda: hmc_lite.adam(gauss(), np.ones((1, 2)), 10, 1e300),
        ValueError, "learning_rate",
    ),
    "6 adam NaN potential": (
        lambda: hmc_lite.adam(_NAN_U, np.ones((1, 2)), 10),
        ValueError, "not finite",
    ),
    # 7: dual averaging accepted NaN and settings that make no sense
    "7 dual averaging NaN acceptance": (
        lambda: hmc_lite.dual_averaging_update(_DA, np.array([np.nan]), 0.8),
        ValueError, "accept_prob",
    ),
    "7 dual averaging NaN target": (
        lambda: hmc_lite.dual_averaging_update(_DA, np.array([0.5]), np.nan),
        ValueError, "target_accept",
    ),
    "7 dual averaging gamma=0": (
        lambda: hmc_lite.dual_averaging_update(_DA, np.array([0.5]), 0.8, gamma=0),
        ValueError, "gamma",
    ),
    "7 dual averaging t0=-1": (
        lambda: hmc_lite.dual_averaging_update(_DA, np.array([0.5]), 0.8, t0=-1),
        ValueError, "t0",
    ),
    # 8: tiny scales divided by zero or gave NaN gradients silently
    "8 noise_sd=1e-200": (lambda: _mlp(noise_sd=1e-200), ValueError, "noise_sd"),
    "8 prior_sd=1e-200": (lambda: _mlp(prior_sd=1e-200), ValueError, "prior_sd"),
    # 9: diagnostics of no chains or of NaN draws
    "9 ess of no chains": (
        lambda: hmc_lite.ess(np.zeros((0, 10))), ValueError, "chain",
    ),
    "9 ess of NaN draws": (
        lambda: hmc_lite.ess(np.full((2, 10), np.nan)), ValueError, "finite",
    ),
    "9 rhat of no chains": (
        lambda: hmc_lite.rhat(np.zeros((0, 10))), ValueError, "chain",
    ),
    "9 mcse of NaN draws": (
        lambda: hmc_lite.mcse_mean(np.full((2, 10), np.nan)), ValueError, "finite",
    ),
    "9 acceptance summary of no chains": (
        lambda: hmc_lite.acceptance_summary(np.zeros((0, 10))),
        ValueError, "accept_prob",
    ),
    "9 acceptance summary of NaN": (
        lambda: hmc_lite.acceptance_summary(np.full((2, 10), np.nan)),
        ValueError, "accept_prob",
    ),
    # 12: what init_state and the samplers used to accept
    "12 numeric strings": (
        lambda: hmc_lite.init_state(gauss(), np.array([["1", "2"]])),
        TypeError, "initial_position",
    ),
    "12 complex positions": (
        lambda: hmc_lite.init_state(gauss(), np.zeros((1, 2), complex)),
        TypeError, "initial_position",
    ),
    "12 np.True_ step size": (
        lambda: hmc_lite.sample(gauss(), np.zeros((1, 2)), np.True_, 2, 2, rng=_RNG),
        TypeError, "step_size",
    ),
    "12 boolean n_steps": (
        lambda: hmc_lite.sample(gauss(), np.zeros((1, 2)), 0.1, True, 2, rng=_RNG),
        TypeError, "n_steps",
    ),
    "12 dim=True": (
        lambda: hmc_lite.Potential(lambda q: anp.sum(q, axis=1), dim=True),
        TypeError, "dim",
    ),
}


@pytest.mark.parametrize("case", sorted(FUZZ))
def test_fuzzing_case_is_refused_naming_the_argument(case):
    call, error, word = FUZZ[case]
    with pytest.raises(error, match=word):
        call()


def test_ess_of_huge_draws_is_finite_and_scale_free():  # fuzzing case 9
    x = np.random.default_rng(0).standard_normal((4, 100))
    np.testing.assert_allclose(hmc_lite.ess(x * 1e200), hmc_lite.ess(x), rtol=1e-12)


def test_init_state_does_not_follow_later_edits_of_the_callers_array():  # case 12
    q = np.zeros((2, 2))
    state = hmc_lite.init_state(gauss(), q)
    q[0, 0] = 5.0
    assert state.position[0, 0] == 0.0 and state.potential_energy[0] == 0.0
