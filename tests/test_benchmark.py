"""The throughput measurement of hmc_lite.benchmark: shapes, bookkeeping, bad input,
JAX's side."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from hmc_lite import ACTIVATIONS, mlp_potential
from hmc_lite.benchmark import (
    Comparison,
    compare_with_jax,
    comparison_table,
    environment,
    gradient_throughput,
    jax_value_and_grad,
    markdown_table,
    speedup_goal,
    throughput_table,
)


def test_throughput_bookkeeping_is_consistent():
    r = gradient_throughput("relu", 5, 4, min_time=0.0, min_calls=3)
    assert (r.activation, r.hidden, r.chains) == ("relu", 5, 4)
    assert r.dim == 3 * 5 + 1  # [1, 5, 1]: 5 + 5 weights and biases in, 5 + 1 out
    assert r.calls >= 3 and r.seconds > 0
    assert r.calls_per_second == pytest.approx(r.calls / r.seconds)
    assert r.chain_gradients_per_second == pytest.approx(4 * r.calls_per_second)


def test_min_time_is_respected_in_every_round():
    r = gradient_throughput("sigmoid", 3, 2, min_time=0.05, min_calls=1, repeats=2)
    assert r.seconds >= 0.05


def test_the_fastest_round_is_reported(monkeypatch):
    """With rounds of 2 and 4 calls per unit time, the reported rate is the higher one.
    """
    import hmc_lite.benchmark as bench

    ticks = iter([0.0, 0.5, 1.0,          # round 1: two calls take 1 s
                  10.0, 10.25, 10.5, 10.75, 11.0])  # round 2: four calls take 1 s
    monkeypatch.setattr(bench.time, "perf_counter", lambda: next(ticks))
    r = bench.gradient_throughput("relu", 2, 3, min_time=1.0, min_calls=1, repeats=2)
    assert r.calls == 4 and r.seconds == pytest.approx(1.0)
    assert r.chain_gradients_per_second == pytest.approx(12.0)


def test_table_covers_every_combination_and_renders():
    rows = throughput_table(
        ["relu", "sigmoid"], [2, 3], [1, 2], min_time=0.0, min_calls=1
    )
    assert {(r.activation, r.hidden, r.chains) for r in rows} == {
        (a, h, c) for a in ("relu", "sigmoid") for h in (2, 3) for c in (1, 2)
    }
    text = markdown_table(rows)
    assert len(text.splitlines()) == 2 + len(rows)


def test_environment_names_versions_and_machine():
    env = environment()
    for key in (
        "python",
        "numpy",
        "autograd",
        "hmc_lite",
        "platform",
        "cpu_count",
        "processor",
    ):
        assert env[key], key


@pytest.mark.parametrize(
    "kwargs, error, word",
    [
        ({"activation": "swish"}, ValueError, "activation"),
        ({"hidden": 0}, ValueError, "hidden"),
        ({"chains": 2.5}, TypeError, "chains"),
        ({"chains": True}, TypeError, "chains"),
        ({"min_time": -1.0}, ValueError, "min_time"),
        ({"repeats": 0}, ValueError, "repeats"),
    ],
)
def test_bad_input_names_the_argument(kwargs, error, word):
    args = {"activation": "relu", "hidden": 3, "chains": 2, **kwargs}
    with pytest.raises(error, match=word):
        gradient_throughput(
            args.pop("activation"), args.pop("hidden"), args.pop("chains"), **args
        )


# ---------------------------------------------------------------------------
# Side by side with JAX
# ---------------------------------------------------------------------------


def test_comparison_without_jax_times_hmc_lite_alone():
    rows = compare_with_jax(
        [("relu", [1, 4, 1], 3), ("sigmoid", (1, 3, 3, 1), 1)],
        use_jax=False,
        min_time=0.0,
        min_calls=1,
        repeats=2,
    )
    assert [(r.activation, r.widths, r.chains, r.dim) for r in rows] == [
        ("relu", (1, 4, 1), 3, 13), ("sigmoid", (1, 3, 3, 1), 1, 22)]
    assert all(
        r.hmc_lite_us > 0 and r.jax_us is None and r.speedup is None for r in rows
    )
    assert speedup_goal(rows) is None
    assert "—" in comparison_table(rows)


def row(activation, widths, chains, speedup):
    return Comparison(activation, tuple(widths), chains, 1, 1.0, speedup, speedup)


def test_speedup_goal_is_the_geometric_mean_of_the_goal_rows_only():
    rows = [row("relu", (1, 50, 1), 16, 1.0), row("relu", (1, 50, 1), 112, 4.0),
            row("sigmoid", (1, 50, 1), 16, 2.0), row("sigmoid", (1, 50, 1), 112, 8.0),
            row("relu", (1, 50, 1), 1, 1000.0), row("relu", (1, 200, 1), 16, 1000.0)]
    assert speedup_goal(rows) == pytest.approx((1.0 * 4.0 * 2.0 * 8.0) ** 0.25)
    assert speedup_goal(rows[:3]) is None  # a goal row missing
    assert speedup_goal(rows[:3] + [row("sigmoid", (1, 50, 1), 112, None)]) is None
    assert speedup_goal(
        rows, widths=[1, 200, 1], activations=["relu"], chains=[16]
    ) == pytest.approx(1000.0)
    assert len(comparison_table(rows).splitlines()) == 2 + len(rows)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_jax_gradient_is_the_same_potential(activation):
    pytest.importorskip("jax")
    x = np.linspace(-2.0, 2.0, 15)
    pot = mlp_potential(x, np.sin(x), [1, 6, 4, 1], activation)
    q = pot.prior_draw(3, rng=np.random.default_rng(0))
    value, grad = (np.asarray(a) for a in jax_value_and_grad(pot)(q))
    expected = pot.value_and_grad(q)
    np.testing.assert_allclose(value, expected.value, rtol=1e-12)
    np.testing.assert_allclose(
        grad, expected.gradient, rtol=1e-9, atol=1e-12 * np.abs(expected.gradient).max()
    )


def test_comparison_with_jax_fills_both_columns_and_refuses_a_different_potential(
    monkeypatch,
):
    pytest.importorskip("jax")
    (r,) = compare_with_jax(
        [("relu", [1, 5, 1], 4)], min_time=0.0, min_calls=1, repeats=1
    )
    assert r.jax_us > 0 and r.speedup == pytest.approx(r.jax_us / r.hmc_lite_us)
    # Timing two different functions would be meaningless: a JAX potential with another
    # prior is refused.
    import hmc_lite.benchmark as bench

    real = bench.jax_value_and_grad

    def other_prior(pot):
        changed = copy.copy(pot)
        changed.prior_sd = 2.0 * pot.prior_sd
        return real(changed)

    monkeypatch.setattr(bench, "jax_value_and_grad", other_prior)
    with pytest.raises(RuntimeError, match="disagree"):
        compare_with_jax([("relu", [1, 5, 1], 4)], min_time=0.0, min_calls=1, repeats=1)
