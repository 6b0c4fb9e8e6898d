"""How fast is the Bayesian-network potential? Gradient throughput on this machine.

Every experiment of the book spends almost all its time in batched gradient
evaluations of an MLP potential (:func:`hmc_lite.mlp_potential`). This module
measures how many of them a machine does per second, so that a chapter's budget
(say 60 seconds) can be turned into a number of chains, transitions and
leapfrog steps. Two rates are reported:

* *batched calls per second*: calls of :meth:`Potential.value_and_grad` with
  all chains at once (what one leapfrog step costs);
* *chain-gradients per second*: calls per second times the number of chains
  (how many single-chain gradients that amounts to).

The script ``benchmarks/bench_potential.py`` is a command-line front end; the
book's appendix calls :func:`gradient_throughput` directly.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from typing import NamedTuple, Sequence

import numpy as np

from .datasets import synthetic
from .models import ACTIVATIONS, mlp_potential

__all__ = ["Throughput", "gradient_throughput", "throughput_table", "environment", "markdown_table"]


class Throughput(NamedTuple):
    """One measurement of :func:`gradient_throughput`.

    Attributes
    ----------
    activation, hidden, chains:
        The network ``[1, hidden, 1]`` with that activation, evaluated for
        ``chains`` chains at once.
    dim:
        Number of network parameters.
    calls:
        Batched gradient evaluations in the fastest round.
    seconds:
        Wall-clock time that round took.
    calls_per_second:
        ``calls / seconds``.
    chain_gradients_per_second:
        ``chains * calls / seconds``.
    """

    activation: str
    hidden: int
    chains: int
    dim: int
    calls: int
    seconds: float
    calls_per_second: float
    chain_gradients_per_second: float


def _positive_int(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def gradient_throughput(
    activation: str,
    hidden: int,
    chains: int,
    *,
    min_time: float = 0.2,
    min_calls: int = 3,
    repeats: int = 3,
    n_data: int = 100,
    seed: int = 0,
) -> Throughput:
    """Time batched value-and-gradient calls of a ``[1, hidden, 1]`` network potential.

    The potential is the book's posterior on the synthetic data
    (``hmc_lite.datasets.synthetic(n=n_data, seed=seed)``, noise 0.1, prior
    N(0, 1)); positions are prior draws. One untimed call comes first, then
    ``repeats`` rounds of calls, each lasting at least ``min_time`` seconds and
    ``min_calls`` calls. The fastest round is reported: on a shared machine, other
    programs can only slow a round down, so the best round is the steadiest
    estimate of what the machine can do (the convention of :mod:`timeit`).

    Parameters
    ----------
    activation:
        A name from :data:`hmc_lite.ACTIVATIONS`.
    hidden, chains:
        Width of the hidden layer and number of chains in the batch.
    min_time:
        Minimum seconds per round (longer gives steadier numbers).
    min_calls:
        Minimum number of calls per round.
    repeats:
        Number of timed rounds; the fastest is reported.
    n_data, seed:
        Size and seed of the synthetic data set; the seed also fixes the positions.

    Returns
    -------
    Throughput

    Raises
    ------
    ValueError
        For an unknown activation, a non-positive size or a negative ``min_time``.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}; got {activation!r}")
    hidden = _positive_int(hidden, "hidden")
    chains = _positive_int(chains, "chains")
    min_calls = _positive_int(min_calls, "min_calls")
    repeats = _positive_int(repeats, "repeats")
    n_data = _positive_int(n_data, "n_data")
    if not np.isfinite(min_time) or min_time < 0:
        raise ValueError(f"min_time must be non-negative and finite; got {min_time!r}")
    data = synthetic(n=n_data, seed=seed)
    pot = mlp_potential(data.x_train, data.y_train, [1, hidden, 1], activation)
    q = pot.prior_draw(np.random.default_rng(seed), chains)
    pot.value_and_grad(q, check=False)  # warm-up, not timed
    best_calls, best_seconds = 0, np.inf
    for _ in range(repeats):
        calls = 0
        start = time.perf_counter()
        while True:
            pot.value_and_grad(q, check=False)
            calls += 1
            seconds = time.perf_counter() - start
            if calls >= min_calls and seconds >= min_time:
                break
        if calls / seconds > best_calls / best_seconds:
            best_calls, best_seconds = calls, seconds
    calls, seconds = best_calls, best_seconds
    return Throughput(activation, hidden, chains, pot.dim, calls, seconds,
                      calls / seconds, chains * calls / seconds)


def throughput_table(
    activations: Sequence[str] = ("relu", "sigmoid"),
    hiddens: Sequence[int] = (50, 200),
    chains: Sequence[int] = (1, 16, 256),
    *,
    min_time: float = 0.2,
    min_calls: int = 3,
    repeats: int = 3,
) -> list[Throughput]:
    """:func:`gradient_throughput` for every combination, activation slowest-varying."""
    return [
        gradient_throughput(a, h, c, min_time=min_time, min_calls=min_calls, repeats=repeats)
        for a in activations
        for h in hiddens
        for c in chains
    ]


def environment() -> dict[str, str]:
    """Versions (Python, numpy, autograd, hmc_lite) and machine (platform, CPUs, processor)."""
    import autograd

    from . import __version__

    try:
        autograd_version = autograd.__version__  # type: ignore[attr-defined]
    except AttributeError:  # older autograd releases have no __version__
        from importlib.metadata import version

        autograd_version = version("autograd")
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "autograd": str(autograd_version),
        "hmc_lite": __version__,
        "platform": platform.platform(),
        "cpu_count": str(os.cpu_count()),
        "processor": platform.processor() or platform.machine(),
        "implementation": sys.implementation.name,
    }


def markdown_table(results: Sequence[Throughput]) -> str:
    """The measurements as a Markdown table (one row per measurement)."""
    lines = [
        "| activation | hidden H | parameters | chains | batched calls / s | chain-gradients / s |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {r.activation} | {r.hidden} | {r.dim} | {r.chains} | "
            f"{r.calls_per_second:,.0f} | {r.chain_gradients_per_second:,.0f} |"
        )
    return "\n".join(lines)
