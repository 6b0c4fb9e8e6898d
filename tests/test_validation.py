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


@pytest.mark.parametrize("value", [2.5, "3", True, np.bool_(False), None, float("nan"), 1j])
def test_check_int_refuses_what_is_not_an_integer(value):
    with pytest.raises(TypeError, match="n_things"):
        v.check_int(value, "n_things")


@pytest.mark.parametrize("value, expected", [(3, 3), (np.int32(4), 4), (2.0, 2), (1e3, 1000)])
def test_check_int_accepts_integers_and_integral_floats(value, expected):
    out = v.check_int(value, "n")
    assert out == expected and type(out) is int


def test_check_int_range_is_a_value_error():
    with pytest.raises(ValueError, match=">= 1"):
        v.check_int(0, "n")
    assert v.check_int(0, "n", minimum=0) == 0
    with pytest.raises(ValueError, match="<= 5"):
        v.check_int(6, "n", maximum=5)


@pytest.mark.parametrize("value, error", [
    (0.0, ValueError), (-1, ValueError), (float("inf"), ValueError), (float("nan"), ValueError),
    ("1.0", TypeError), (True, TypeError), (None, TypeError),
])
def test_check_positive_float(value, error):
    with pytest.raises(error, match="gamma"):
        v.check_positive_float(value, "gamma")


@pytest.mark.parametrize("value, error", [
    (0.0, ValueError), (1.0, ValueError), (float("nan"), ValueError), ("0.5", TypeError), (True, TypeError),
])
def test_check_probability(value, error):
    with pytest.raises(error, match="level"):
        v.check_probability(value, "level")
    assert v.check_probability(np.float32(0.25), "level") == 0.25


def test_check_float_array_refuses_non_numbers():
    for bad in ["a", ["0.1", "0.2"], np.array([1 + 1j]), True, [True, False]]:
        with pytest.raises(TypeError, match="step_sizes"):
            v.check_float_array(bad, "step_sizes")
    assert v.check_float_array([1, 2], "x").dtype == float


# The inconsistencies found by fuzzing: the same mistake now gets the same error everywhere.

def test_fractional_counts_are_type_errors_in_sample_and_adaptation():
    rng = np.random.default_rng(0)
    with pytest.raises(TypeError, match="n_samples"):
        hmc_lite.sample(gauss(), np.zeros((2, 2)), 0.1, 3, 2.5, rng=rng)
    with pytest.raises(TypeError, match="n_adapt"):
        hmc_lite.adapt_step_size(gauss(), np.zeros((2, 2)), rng=rng, step_size=0.1, n_adapt=2.5, n_steps=3)


def test_integral_floats_are_accepted_alike_by_data_sets():
    a = datasets.synthetic(n=20.0, seed=1.0)
    b = datasets.synthetic(n=20, seed=1)
    assert np.array_equal(a.x_train, b.x_train)
    c = datasets.diabetes(seed=2.0)
    assert np.array_equal(c.x_train, datasets.diabetes(seed=2).x_train)


def test_run_grid_names_a_bad_step_size_argument():
    with pytest.raises(TypeError, match="step_sizes"):
        hmc_lite.run_grid(gauss(), np.zeros((2, 2)), "a", [2], 3, rng=np.random.default_rng(0))


def test_sample_checks_its_arguments_once_not_per_transition(monkeypatch):
    """The leapfrog loop works with checked values: checks do not scale with the run length."""
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
        hmc_lite.sample(gauss(), np.zeros((3, 2)), 0.2, 4, n, rng=np.random.default_rng(1))
        counts.append(len(calls))
    assert counts[0] == counts[1] == 1


def test_hmc_step_still_checks_a_hand_made_state():
    q = np.zeros((2, 2))
    state = hmc_lite.HMCState(q, np.zeros(3), np.zeros((2, 2)))  # energies of 3 chains
    with pytest.raises(ValueError, match="init_state"):
        hmc_lite.hmc_step(state, gauss(), 0.1, 3, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="divergence_threshold"):
        hmc_lite.hmc_step(hmc_lite.init_state(gauss(), q), gauss(), 0.1, 3, rng=np.random.default_rng(0), divergence_threshold=0.0)
