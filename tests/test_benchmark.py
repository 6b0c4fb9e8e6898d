"""The throughput measurement of hmc_lite.benchmark: shapes, bookkeeping, bad input."""

from __future__ import annotations

import pytest

from hmc_lite.benchmark import environment, gradient_throughput, markdown_table, throughput_table


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
    """With rounds of 2 and 4 calls per unit time, the reported rate is the higher one."""
    import hmc_lite.benchmark as bench

    ticks = iter([0.0, 0.5, 1.0,          # round 1: two calls take 1 s
                  10.0, 10.25, 10.5, 10.75, 11.0])  # round 2: four calls take 1 s
    monkeypatch.setattr(bench.time, "perf_counter", lambda: next(ticks))
    r = bench.gradient_throughput("relu", 2, 3, min_time=1.0, min_calls=1, repeats=2)
    assert r.calls == 4 and r.seconds == pytest.approx(1.0)
    assert r.chain_gradients_per_second == pytest.approx(12.0)


def test_table_covers_every_combination_and_renders():
    rows = throughput_table(["relu", "sigmoid"], [2, 3], [1, 2], min_time=0.0, min_calls=1)
    assert {(r.activation, r.hidden, r.chains) for r in rows} == {
        (a, h, c) for a in ("relu", "sigmoid") for h in (2, 3) for c in (1, 2)
    }
    text = markdown_table(rows)
    assert len(text.splitlines()) == 2 + len(rows)


def test_environment_names_versions_and_machine():
    env = environment()
    for key in ("python", "numpy", "autograd", "hmc_lite", "platform", "cpu_count", "processor"):
        assert env[key], key


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"activation": "swish"}, "activation"),
        ({"hidden": 0}, "hidden"),
        ({"chains": 2.5}, "chains"),
        ({"min_time": -1.0}, "min_time"),
        ({"repeats": 0}, "repeats"),
    ],
)
def test_bad_input_names_the_argument(kwargs, word):
    args = {"activation": "relu", "hidden": 3, "chains": 2, **kwargs}
    with pytest.raises(ValueError, match=word):
        gradient_throughput(args.pop("activation"), args.pop("hidden"), args.pop("chains"), **args)
