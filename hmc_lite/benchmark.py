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

:func:`compare_with_jax` times the same potential side by side with JAX's
compiled gradient, ``jax.jit(jax.vmap(jax.value_and_grad(U)))`` in float64,
when JAX is installed (the optional extra ``hmc_lite[jax]``; nothing else in
the package needs it).

The script ``benchmarks/bench_potential.py`` (``make bench``) is a command-line
front end; the book's appendix calls :func:`throughput_table` directly and reads
the comparison that ``make bench`` saves.
"""

from __future__ import annotations

import math
import os
import platform
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from typing import Callable, NamedTuple, Sequence

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from ._validation import check_int
from .datasets import synthetic
from .models import ACTIVATIONS, MLPPotential, mlp_potential

__all__ = [
    "Throughput",
    "gradient_throughput",
    "throughput_table",
    "environment",
    "markdown_table",
    "Comparison",
    "jax_version",
    "jax_value_and_grad",
    "compare_with_jax",
    "comparison_table",
    "speedup_goal",
]


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
    TypeError
        For a size that is not an integer (named).
    ValueError
        For an unknown activation, a non-positive size or a negative ``min_time``.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}; got {activation!r}")
    hidden = check_int(hidden, "hidden")
    chains = check_int(chains, "chains")
    min_calls = check_int(min_calls, "min_calls")
    repeats = check_int(repeats, "repeats")
    n_data = check_int(n_data, "n_data")
    if not np.isfinite(min_time) or min_time < 0:
        raise ValueError(f"min_time must be non-negative and finite; got {min_time!r}")
    pot, q = _benchmark_problem(activation, [1, hidden, 1], chains, n_data, seed)
    pot.value_and_grad(q, check=False)  # warm-up, not timed
    best_calls, best_seconds = 0, np.inf
    for _ in range(repeats):
        calls, seconds = _timed_round(
            lambda: pot.value_and_grad(q, check=False), min_time, min_calls
        )
        if calls / seconds > best_calls / best_seconds:
            best_calls, best_seconds = calls, seconds
    calls, seconds = best_calls, best_seconds
    return Throughput(activation, hidden, chains, pot.dim, calls, seconds,
                      calls / seconds, chains * calls / seconds)


def _benchmark_problem(activation: str, widths: Sequence[int], chains: int, n_data: int,
                       seed: int) -> tuple[MLPPotential, np.ndarray]:
    """The book's posterior on ``synthetic(n=n_data, seed=seed)`` and ``chains`` prior
    draws."""
    data = synthetic(n=n_data, seed=seed)
    pot = mlp_potential(data.x_train, data.y_train, list(widths), activation)
    return pot, pot.prior_draw(chains, rng=np.random.default_rng(seed))


def _timed_round(
    call: Callable[[], object], min_time: float, min_calls: int
) -> tuple[int, float]:
    """Call ``call()`` until at least ``min_calls`` calls and ``min_time`` seconds have
    passed; return the number of calls and the seconds they took."""
    calls = 0
    start = time.perf_counter()
    while True:
        call()
        calls += 1
        seconds = time.perf_counter() - start
        if calls >= min_calls and seconds >= min_time:
            return calls, seconds


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
        gradient_throughput(
            a, h, c, min_time=min_time, min_calls=min_calls, repeats=repeats
        )
        for a in activations
        for h in hiddens
        for c in chains
    ]


def environment() -> dict[str, str]:
    """Versions (Python, numpy, autograd, hmc_lite, JAX) and machine (platform, CPUs,
    processor, BLAS library and its default threads, load average at the call)."""
    import autograd

    from . import __version__

    try:
        autograd_version = autograd.__version__  # type: ignore[attr-defined]
    except AttributeError:  # older autograd releases have no __version__
        autograd_version = version("autograd")
    blas = [info for info in threadpool_info() if info.get("user_api") == "blas"]
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "autograd": str(autograd_version),
        "hmc_lite": __version__,
        "jax": jax_version() or "not installed",
        "platform": platform.platform(),
        "cpu_count": str(os.cpu_count()),
        "processor": _cpu_model(),
        "blas": "; ".join(
            f"{b.get('internal_api')} {b.get('version')}, {b.get('num_threads')} "
            "threads by default"
            for b in blas
        )
        or "none found",
        "load_average": (
            " ".join(f"{x:.2f}" for x in os.getloadavg())
            if hasattr(os, "getloadavg")
            else "n/a"
        ),
        "implementation": sys.implementation.name,
    }


def _cpu_model() -> str:
    """The processor's model name (from /proc/cpuinfo on Linux), else what platform
    knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def markdown_table(results: Sequence[Throughput]) -> str:
    """The measurements as a Markdown table (one row per measurement)."""
    lines = [
        "| activation | hidden H | parameters | chains | batched calls / s | "
        "chain-gradients / s |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {r.activation} | {r.hidden} | {r.dim} | {r.chains} | "
            f"{r.calls_per_second:,.0f} | {r.chain_gradients_per_second:,.0f} |"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Side by side with JAX
# ---------------------------------------------------------------------------


class Comparison(NamedTuple):
    """hmc_lite and JAX on one network and batch size (see :func:`compare_with_jax`).

    Attributes
    ----------
    activation, widths, chains:
        The network (layer widths from input to output) and the number of chains per
        call.
    dim:
        Number of network parameters.
    hmc_lite_us:
        Microseconds per chain-gradient of :meth:`MLPPotential.value_and_grad`
        (fastest round).
    jax_us:
        The same for JAX's compiled gradient, or ``None`` if JAX was not timed.
    speedup:
        ``jax_us / hmc_lite_us``: hmc_lite's throughput in units of JAX's (``None``
        without JAX).
    """

    activation: str
    widths: tuple[int, ...]
    chains: int
    dim: int
    hmc_lite_us: float
    jax_us: float | None
    speedup: float | None


def jax_version() -> str | None:
    """The installed JAX version, or ``None`` if JAX is not installed (JAX is not
    imported)."""
    try:
        return version("jax")
    except PackageNotFoundError:
        return None


def _jax_importable() -> bool:
    """Whether JAX is installed and can be imported (a broken jaxlib counts as absent).
    """
    if jax_version() is None:
        return False
    try:
        import jax  # noqa: F401
    except Exception:
        return False
    return True


def jax_value_and_grad(pot: MLPPotential) -> Callable:
    """JAX's ``jit(vmap(value_and_grad(U)))`` for the potential ``U`` of ``pot``, in
    float64.

    Same data, network, activation, noise and prior as ``pot``; it maps a batch of
    parameter vectors ``(chains, dim)`` to energies and gradients. Importing JAX
    and switching on its float64 mode (``jax_enable_x64``, for the whole process)
    happen here.

    Raises
    ------
    ImportError
        If JAX is not installed.
    ValueError
        For an activation JAX has no counterpart for here (custom ones).
    """
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    params = pot.activation.params
    counterparts = {
        "sigmoid": jax.nn.sigmoid,
        "tanh": jnp.tanh,
        "relu": jax.nn.relu,
        "leaky_relu": lambda z: jnp.where(z > 0, z, params.get("slope", 0.0) * z),
        "softplus": lambda z: jax.nn.softplus(params.get("beta", 1.0) * z)
        / params.get("beta", 1.0),
        "silu": jax.nn.silu,
        "gelu": lambda z: jax.nn.gelu(z, approximate=False),
    }
    if pot.activation.name not in counterparts:
        raise ValueError(
            f"no JAX counterpart for the activation {pot.activation.name!r}"
        )
    act = counterparts[pot.activation.name]
    x, y = jnp.asarray(pot.x), jnp.asarray(pot.y)
    shapes = [shape for shape, _ in pot.shapes]

    def U(theta):
        h, start = x, 0
        for k, (a, b) in enumerate(shapes):
            W = theta[start:start + a * b].reshape(a, b)
            h = h @ W + theta[start + a * b:start + a * b + b]
            start += a * b + b
            if k < len(shapes) - 1:
                h = act(h)
        misfit = jnp.sum((h[:, 0] - y) ** 2) / (2.0 * pot.noise_sd**2)
        return misfit + jnp.sum(theta**2) / (2.0 * pot.prior_sd**2)

    return jax.jit(jax.vmap(jax.value_and_grad(U)))


def compare_with_jax(
    configurations: Sequence[tuple[str, Sequence[int], int]],
    *,
    use_jax: bool = True,
    min_time: float = 0.2,
    min_calls: int = 3,
    repeats: int = 5,
    n_data: int = 100,
    seed: int = 0,
    blas_threads: int | None = 1,
) -> list[Comparison]:
    """Time hmc_lite's gradient and JAX's side by side, in interleaved rounds.

    For each ``(activation, widths, chains)`` the potential is the book's
    posterior on ``synthetic(n=n_data, seed=seed)`` (as in
    :func:`gradient_throughput`, any network). Both gradients are first
    evaluated once (JAX compiles then) and checked to agree; then ``repeats``
    times, one round of each (at least ``min_time`` seconds and ``min_calls``
    calls). Each engine's fastest round is reported. JAX receives the
    positions as a device array and its results are waited for
    (``block_until_ready``).

    Parameters
    ----------
    configurations:
        ``(activation, widths, chains)`` triples.
    use_jax:
        Time JAX as well, if it can be imported (otherwise the JAX fields are ``None``).
    min_time, min_calls, repeats, n_data, seed:
        As in :func:`gradient_throughput`.
    blas_threads:
        Threads of NumPy's BLAS while timing (``None``: leave them). One, as in the
        book: batched gradients gain nothing from more on a small machine, and
        single-chain optimisation (:func:`hmc_lite.equilibrium.find_modes`) loses
        several times over. JAX keeps its own thread pool.

    Raises
    ------
    RuntimeError
        If JAX's and hmc_lite's energies or gradients disagree by more than 1e-9
        relative (they would not be timing the same thing).
    """
    if not np.isfinite(min_time) or min_time < 0:
        raise ValueError(f"min_time must be non-negative and finite; got {min_time!r}")
    min_calls = check_int(min_calls, "min_calls")
    repeats = check_int(repeats, "repeats")
    with_jax = use_jax and _jax_importable()
    rows = []
    with threadpool_limits(limits=blas_threads, user_api="blas"):
        for activation, widths, chains in configurations:
            chains = check_int(chains, "chains")
            pot, q = _benchmark_problem(
                activation, widths, chains, check_int(n_data, "n_data"), seed
            )
            engines = {"hmc_lite": lambda: pot.value_and_grad(q, check=False)}
            if with_jax:
                engines["jax"] = _jax_engine(pot, q)
            best = dict.fromkeys(engines, np.inf)  # seconds per call
            for _ in range(repeats):
                for name, call in engines.items():
                    calls, seconds = _timed_round(call, min_time, min_calls)
                    best[name] = min(best[name], seconds / calls)
            us = {name: 1e6 * t / chains for name, t in best.items()}
            jax_us = us.get("jax")
            rows.append(
                Comparison(
                    activation,
                    tuple(int(w) for w in widths),
                    chains,
                    pot.dim,
                    us["hmc_lite"],
                    jax_us,
                    None if jax_us is None else jax_us / us["hmc_lite"],
                )
            )
    return rows


def _jax_engine(pot: MLPPotential, q: np.ndarray) -> Callable[[], object]:
    """A call of JAX's gradient on ``q`` that waits for the result, after checking
    (and compiling) it once against ``pot.value_and_grad``."""
    import jax

    fn = jax_value_and_grad(pot)
    q_device = jax.device_put(q)
    value, grad = (np.asarray(a) for a in fn(q_device))
    expected = pot.value_and_grad(q)
    scale = np.abs(expected.gradient).max(axis=1, keepdims=True)
    if not (np.allclose(value, expected.value, rtol=1e-9, atol=0)
            and np.all(np.abs(grad - expected.gradient) <= 1e-9 * scale)):
        raise RuntimeError(f"JAX and hmc_lite disagree on {pot.name}")
    return lambda: jax.block_until_ready(fn(q_device))


def speedup_goal(
    rows: Sequence[Comparison],
    widths: Sequence[int] = (1, 50, 1),
    activations: Sequence[str] = ("relu", "sigmoid"),
    chains: Sequence[int] = (16, 112),
) -> float | None:
    """Geometric mean of :attr:`Comparison.speedup` over the given networks and batch
    sizes (the goal of ``make bench``: at least 1.5), or ``None`` if one of them was not
    timed with JAX.
    """
    wanted = {(a, tuple(widths), c) for a in activations for c in chains}
    speedups = [
        r.speedup for r in rows if (r.activation, tuple(r.widths), r.chains) in wanted
    ]
    if len(speedups) < len(wanted) or any(s is None for s in speedups):
        return None
    return math.exp(sum(math.log(s) for s in speedups) / len(speedups))


def comparison_table(rows: Sequence[Comparison]) -> str:
    """The comparison as a Markdown table (one row per network, activation and batch
    size)."""
    lines = [
        "| network | activation | chains | hmc_lite µs / chain-gradient | JAX µs / "
        "chain-gradient "
        "| hmc_lite throughput / JAX's |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        jax_us = "—" if r.jax_us is None else f"{r.jax_us:.1f}"
        speedup = "—" if r.speedup is None else f"{r.speedup:.2f}"
        lines.append(
            f"| {list(r.widths)} | {r.activation} | {r.chains} | {r.hmc_lite_us:.1f} | "
            f"{jax_us} | {speedup} |"
        )
    return "\n".join(lines)
