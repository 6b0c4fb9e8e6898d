"""Target distributions: a Gaussian, kinked product targets and Bayesian MLPs.

Everything here builds a :class:`~hmc_lite.potential.Potential`; nothing here
knows about samplers or plots.
"""

from __future__ import annotations

import numbers
import threading

from typing import Callable, NamedTuple, Sequence

import autograd.numpy as anp
import numpy as np
from autograd.extend import defvjp, primitive
from scipy.special import erfc

from ._validation import _is_bool, check_int, check_rng
from .potential import Potential, ValueAndGrad, check_positions

__all__ = [
    "Activation",
    "ACTIVATIONS",
    "get_activation",
    "gaussian_potential",
    "kinked_product_potential",
    "product_potential",
    "MLPPotential",
    "mlp_potential",
]


# ---------------------------------------------------------------------------
# Activations
# ---------------------------------------------------------------------------


class Activation(NamedTuple):
    """A named activation function usable inside an autograd potential.

    Attributes
    ----------
    name:
        One of :data:`ACTIVATIONS` (or any label for a custom activation).
    fn:
        Elementwise function, differentiable by autograd.
    smooth:
        ``True`` for analytic activations (sigmoid, tanh, softplus, SiLU,
        GELU), ``False`` for the piecewise-linear ReLU family, whose
        derivative jumps at 0.
    params:
        The settings used (slope, sharpness, derivative at zero).
    value_and_derivative:
        Optional fast path used by :class:`MLPPotential`: a function
        ``(z, out_value, out_derivative) -> None`` that writes ``fn(z)`` and
        ``fn'(z)`` into the two preallocated arrays (same shape as ``z``;
        ``out_value`` may be ``z`` itself, ``out_derivative`` may not). It
        must agree with autograd's derivative of ``fn``; the tests check that
        it does. Custom activations may leave it ``None`` (autograd is used).
    """

    name: str
    fn: Callable
    smooth: bool
    params: dict
    value_and_derivative: Callable | None = None


ACTIVATIONS = ("sigmoid", "tanh", "softplus", "relu", "leaky_relu", "silu", "gelu")


def _piecewise_linear(slope: float, grad_at_zero: float) -> tuple[Callable, Callable]:
    """``x -> max(x, slope x)`` with derivative 1 for x > 0, ``slope`` for x < 0
    and exactly ``grad_at_zero`` at x = 0 (an autograd primitive), and its
    in-place value-and-derivative twin.

    The twin carries the attribute ``derivative_only``, a function
    ``(z, out) -> out`` writing ``f'(z)`` alone: since ``f(z) = z f'(z)``,
    :class:`MLPPotential` can do without the values of these activations.
    """

    def derivative(x, out=None):
        d = (
            np.greater(x, 0, out=out, casting="unsafe")
            if out is not None
            else (x > 0).astype(float)
        )
        if slope != 0.0:
            d *= 1.0 - slope
            d += slope
        # Exact zeros already have the left derivative `slope`; any other convention
        # needs them found (they are rare: fix them only when present).
        if grad_at_zero != slope and not np.all(x):
            d[x == 0] = grad_at_zero
        return d

    @primitive
    def f(x):
        return np.where(x > 0, x, slope * x)

    defvjp(f, lambda ans, x: (lambda g: g * derivative(x)))

    def value_and_derivative(z, out_value, out_derivative):
        derivative(z, out=out_derivative)
        # max(z, slope z) = z * f'(z) for finite z, including z = 0.
        np.multiply(z, out_derivative, out=out_value)

    # f(z) = z f'(z): MLPPotential uses this to skip the activation values altogether.
    value_and_derivative.derivative_only = derivative
    return f, value_and_derivative


@primitive
def _sigmoid(x):
    return 0.5 * (np.tanh(0.5 * x) + 1.0)


defvjp(_sigmoid, lambda ans, x: (lambda g: g * ans * (1.0 - ans)))


def _sigmoid_vd(z, out_value, out_derivative):
    np.multiply(z, 0.5, out=out_value)
    np.tanh(out_value, out=out_value)
    out_value += 1.0
    out_value *= 0.5
    np.subtract(1.0, out_value, out=out_derivative)
    out_derivative *= out_value


@primitive
def _tanh(x):
    return np.tanh(x)


defvjp(_tanh, lambda ans, x: (lambda g: g * (1.0 - ans**2)))


def _tanh_vd(z, out_value, out_derivative):
    np.tanh(z, out=out_value)
    np.multiply(out_value, out_value, out=out_derivative)
    np.subtract(1.0, out_derivative, out=out_derivative)


def _softplus(beta: float) -> tuple[Callable, Callable]:
    """``x -> log(1 + exp(beta x)) / beta`` (overflow-free) and its derivative
    ``sigmoid(beta x)``."""

    @primitive
    def f(x):
        return np.logaddexp(0.0, beta * x) / beta

    defvjp(f, lambda ans, x: (lambda g: g * _sigmoid(beta * x)))

    def value_and_derivative(z, out_value, out_derivative):
        # softplus(t) = max(t, 0) + log1p(exp(-|t|)) and sigmoid(t) =
        # -expm1(-softplus(t)), both free of overflow and computed in the two buffers
        # only.
        np.multiply(z, beta, out=out_value)
        np.abs(out_value, out=out_derivative)
        np.negative(out_derivative, out=out_derivative)
        np.exp(out_derivative, out=out_derivative)
        np.log1p(out_derivative, out=out_derivative)
        np.maximum(out_value, 0.0, out=out_value)
        out_value += out_derivative
        np.negative(out_value, out=out_derivative)
        np.expm1(out_derivative, out=out_derivative)
        np.negative(out_derivative, out=out_derivative)
        out_value /= beta

    return f, value_and_derivative


#: ``1 / sqrt(2)`` and ``1 / sqrt(2 pi)``, for the standard normal CDF and density.
_SQRT_HALF = 0.7071067811865476
_INV_SQRT_2PI = 0.3989422804014327


def _silu_derivative(x):
    """``s + x s (1 - s)`` with ``s = sigmoid(x)``: the derivative of ``x s``."""
    with np.errstate(under="ignore"):  # subnormal x
        s = _sigmoid(x)
        return s + x * s * (1.0 - s)


@primitive
def _silu(x):
    """SiLU (swish): ``x sigmoid(x)``, with the sigmoid of :func:`_sigmoid`."""
    with np.errstate(under="ignore"):
        return x * _sigmoid(x)


defvjp(_silu, lambda ans, x: (lambda g: g * _silu_derivative(x)))


def _silu_vd(z, out_value, out_derivative):
    with np.errstate(under="ignore"):
        # The sigmoid needs a third array: both results depend on z and on s.
        s = np.multiply(z, 0.5)
        np.tanh(s, out=s)
        s += 1.0
        s *= 0.5
        np.multiply(z, s, out=out_value)  # z is not read again: out_value may be z
        # s + z s (1 - s), rounded as x s (1 - s) + s in _silu_derivative
        np.subtract(1.0, s, out=out_derivative)
        out_derivative *= out_value
        out_derivative += s


# GELU's tails underflow (Phi(x) for x < -37.5 and phi(x) for |x| > 37.6 are below the
# smallest normal double) and x^2 overflows for |x| > 1.3e154; the results are still
# right (phi(x) = 0 there), so these are computed without warnings.


def _normal_cdf(x):
    """The standard normal CDF ``erfc(-x / sqrt(2)) / 2``, accurate in both tails."""
    return 0.5 * erfc(x * -_SQRT_HALF)


def _gelu_derivative(x):
    """``Phi(x) + x phi(x)`` for the standard normal CDF and density."""
    with np.errstate(over="ignore", under="ignore"):
        density = np.exp(x * x * -0.5) * _INV_SQRT_2PI
        return _normal_cdf(x) + x * density


@primitive
def _gelu(x):
    """GELU: ``x Phi(x)`` for the standard normal CDF ``Phi`` (exact, not the tanh
    approximation)."""
    with np.errstate(under="ignore"):
        return x * _normal_cdf(x)


defvjp(_gelu, lambda ans, x: (lambda g: g * _gelu_derivative(x)))


def _gelu_vd(z, out_value, out_derivative):
    with np.errstate(over="ignore", under="ignore"):
        # Phi(z) needs a third array: both results depend on z and on Phi(z).
        cdf = np.multiply(z, -_SQRT_HALF)
        erfc(cdf, out=cdf)
        cdf *= 0.5
        # Phi(z) + z phi(z), rounded as in _gelu_derivative
        np.multiply(z, z, out=out_derivative)
        out_derivative *= -0.5
        np.exp(out_derivative, out=out_derivative)
        out_derivative *= _INV_SQRT_2PI
        out_derivative *= z
        out_derivative += cdf
        np.multiply(z, cdf, out=out_value)  # last: out_value may be z


def get_activation(
    name: str,
    *,
    slope: float = 0.01,
    beta: float = 1.0,
    grad_at_zero: float | None = None,
) -> Activation:
    """Look up an activation by name.

    Parameters
    ----------
    name:
        ``"sigmoid"``, ``"tanh"``, ``"softplus"``, ``"relu"``, ``"leaky_relu"``,
        ``"silu"`` (``x sigmoid(x)``, also called swish) or ``"gelu"`` (``x Phi(x)``
        for the standard normal CDF ``Phi``; the exact form, not the tanh
        approximation).
    slope:
        Negative-side slope of ``"leaky_relu"`` (default 0.01), in ``[0, 1)``.
    beta:
        Sharpness of ``"softplus"``: ``log(1 + exp(beta x)) / beta``, which
        tends to ReLU as ``beta`` grows (uniformly, with error at most
        ``log(2) / beta``).
    grad_at_zero:
        The value used for the derivative at exactly 0 by the ReLU family; any
        finite number, typically 0, 1/2 or 1. Default: the left derivative
        (0 for ReLU, ``slope`` for leaky ReLU), the convention of PyTorch.
        autograd's own derivative of ``np.maximum(0, x)`` is 1/2 at 0; here
        the choice is explicit. It only matters if a pre-activation is
        *exactly* 0, which happens with probability 0 for continuous data
        and continuously distributed parameters.

    Raises
    ------
    ValueError
        For an unknown name or an invalid parameter (the message names it).
    """
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}; got {name!r}")
    if name == "sigmoid":
        return Activation(name, _sigmoid, True, {}, _sigmoid_vd)
    if name == "tanh":
        return Activation(name, _tanh, True, {}, _tanh_vd)
    if name == "silu":
        return Activation(name, _silu, True, {}, _silu_vd)
    if name == "gelu":
        return Activation(name, _gelu, True, {}, _gelu_vd)
    if name == "softplus":
        if isinstance(beta, bool) or not np.isfinite(beta) or beta <= 0:
            raise ValueError(f"beta must be positive and finite; got {beta!r}")
        fn, vd = _softplus(float(beta))
        return Activation(name, fn, True, {"beta": float(beta)}, vd)
    lo = 0.0 if name == "relu" else float(slope)
    if name == "leaky_relu" and not (np.isfinite(lo) and 0 <= lo < 1):
        raise ValueError(f"slope must be in [0, 1); got {slope!r}")
    d0 = lo if grad_at_zero is None else float(grad_at_zero)
    if not np.isfinite(d0):
        raise ValueError(f"grad_at_zero must be finite; got {grad_at_zero!r}")
    fn, vd = _piecewise_linear(lo, d0)
    return Activation(name, fn, False, {"slope": lo, "grad_at_zero": d0}, vd)


# ---------------------------------------------------------------------------
# Simple targets
# ---------------------------------------------------------------------------


def gaussian_potential(cov: np.ndarray, mean: np.ndarray | None = None) -> Potential:
    """Potential of ``N(mean, cov)``: ``U(q) = (q - mean)^T cov^{-1} (q - mean) / 2``.
    """
    cov = np.atleast_2d(np.asarray(cov, dtype=float))
    d = cov.shape[0]
    if cov.shape != (d, d) or not np.allclose(cov, cov.T):
        raise ValueError(
            f"cov must be a symmetric square matrix; got shape {cov.shape}"
        )
    if np.any(np.linalg.eigvalsh(cov) <= 0):
        raise ValueError("cov must be positive definite")
    mu = np.zeros(d) if mean is None else np.asarray(mean, dtype=float)
    if mu.shape != (d,):
        raise ValueError(f"mean must have shape ({d},); got {mu.shape}")
    prec = np.linalg.inv(cov)

    def U(q):
        z = q - mu
        return 0.5 * anp.sum(anp.dot(z, prec) * z, axis=1)

    return Potential(U, dim=d, name="gaussian")


def product_potential(
    V: Callable[[np.ndarray], np.ndarray],
    dV: Callable[[np.ndarray], np.ndarray],
    dim: int,
    name: str = "",
) -> Potential:
    """The potential ``U(q) = sum_i V(q_i)`` of a product target, with ``V'`` in closed
    form.

    ``V`` and ``dV`` act elementwise on NumPy arrays. The gradient is ``dV(q)``
    handed to autograd as the derivative of a single primitive, so autograd
    does not trace ``V``: on large batches (thousands of chains in thousands of
    dimensions) this is several times faster than differentiating ``V``.

    Examples
    --------
    >>> pot = product_potential(lambda x: 0.5 * x * x, lambda x: x, dim=2)
    >>> v, g = pot.value_and_grad(np.array([[1.0, 2.0]]))
    >>> float(v[0]), g.tolist()
    (2.5, [[1.0, 2.0]])
    """
    if not callable(V) or not callable(dV):
        raise TypeError("V and dV must be callable")
    dim = check_int(dim, "dim")

    @primitive
    def U(q):
        return np.sum(V(q), axis=1)

    defvjp(U, lambda ans, q: lambda g: g[:, None] * dV(q))
    return Potential(U, dim=dim, name=name)


def kinked_product_potential(dim: int, jump: float = 2.0) -> Potential:
    """Product target with ``V(x) = x^2 / 2 + (jump / 2) |x|`` in each coordinate.

    ``V'`` jumps by ``jump`` at 0: with the default ``jump = 2`` this is
    ``x^2/2 + |x|``. The derivative of ``|x|`` at 0 is taken as 0. The
    gradient is computed in closed form (:func:`product_potential`).
    """
    dim = check_int(dim, "dim")
    if (
        _is_bool(jump)
        or not isinstance(jump, numbers.Real)
        or not np.isfinite(jump)
        or jump < 0
    ):
        raise ValueError(f"jump must be non-negative and finite; got {jump!r}")
    half = 0.5 * float(jump)
    return product_potential(lambda x: 0.5 * x * x + half * np.abs(x),
                             lambda x: x + half * np.sign(x),
                             dim, f"kinked product (jump={jump})")


# ---------------------------------------------------------------------------
# Bayesian multilayer perceptrons
# ---------------------------------------------------------------------------


class _Workspace(NamedTuple):
    """Scratch arrays of one :meth:`MLPPotential.value_and_grad` call: the residuals
    ``(chains, n)``, the prior's gradient ``(chains, dim)``, the blocks of chains as
    ``(rows, [(value, derivative) of each hidden layer, (block, n, width)])``, and,
    with one hidden layer, two ``(chains, d + 1, width)`` arrays."""

    resid: np.ndarray
    prior: np.ndarray
    blocks: list[tuple[slice, list[tuple[np.ndarray, np.ndarray]]]]
    m: np.ndarray | None
    Wbv: np.ndarray | None


class MLPPotential(Potential):
    """Posterior potential of a fully connected regression network.

    ``U(theta) = sum_i (y_i - f_theta(x_i))^2 / (2 noise_sd^2)``
    ``+ |theta|^2 / (2 prior_sd^2)``
    (additive constants dropped). Parameters are one flat vector per chain: for each
    layer, the weight matrix ``W`` of shape ``(n_in, n_out)`` (row major) followed by
    the bias ``b`` of shape ``(n_out,)``.

    Use :func:`mlp_potential` to build one.

    Notes
    -----
    Calling the potential (``pot(theta)``) runs an autograd-differentiable
    forward pass, so the energy can be composed and differentiated like any
    other :class:`Potential`. :meth:`value_and_grad`, the hot loop of every
    sampler, instead runs a hand-written forward and backward pass, which
    gives the same numbers up to rounding (the tests hold it to autograd's
    within 1e-12, also on kinks) several times faster:

    * Chains are evaluated in blocks of :attr:`chain_block`, so that each
      intermediate array of shape ``(block, n, width)`` stays in the
      processor's cache; the arrays live in per-thread buffers reused from
      call to call. The time per chain therefore does not grow with the
      number of chains.
    * The flat parameters of a layer are the rows of the matrix ``[W; b]``,
      so with one input the first layer is the single product
      ``[x, 1] @ [W; b]``, which sums the same two rounded terms
      ``x W`` and ``b`` as the autograd path: pre-activations, and so the
      side of every kink, agree exactly.
    * With one hidden layer, no array of the backward pass has the shape
      ``(chains, n, width)``: the first layer's gradient is
      ``v * (([x, 1] * g)^T @ act'(z))`` for output weights ``v`` and
      output gradient ``g``. For the ReLU family with one input,
      ``act(z) = z act'(z)`` turns the outputs and the output weights'
      gradient into products with ``act'(z)`` too, so the activation values
      are never formed. (With ``d`` inputs that product has ``d + 1`` rows
      and costs more than forming the values: already 26% more time for
      ``d = 10``, 2.4 times for ``d = 64``; it is used for ``d = 1`` only.)
    * Each activation supplies its value and derivative in one pass.

    Activations without a fast path (custom :class:`Activation` objects)
    fall back to autograd.
    """

    #: Target size in bytes of one ``(block, n, width)`` array of
    #: :meth:`value_and_grad`; the default :attr:`chain_block` keeps each array
    #: within it (320 kB: small enough for the level-2 cache of current processors).
    CACHE_BYTES: int = 320 * 1024

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        widths: Sequence[int],
        activation: Activation,
        noise_sd: float,
        prior_sd: float,
    ) -> None:
        self.x = x
        self.y = y
        self.widths = tuple(int(w) for w in widths)
        self.activation = activation
        self.noise_sd = float(noise_sd)
        self.prior_sd = float(prior_sd)
        self.shapes = [
            ((a, b), (b,)) for a, b in zip(self.widths[:-1], self.widths[1:])
        ]
        super().__init__(self._energy, dim=sum(a * b + b for (a, b), _ in self.shapes),
                         name=f"MLP {list(self.widths)} {activation.name}")
        # [x, 1] and its transpose: the first layer's weights and bias act as one
        # matrix.
        self._x1 = np.hstack([x, np.ones((x.shape[0], 1))])
        self._x1_t = np.ascontiguousarray(self._x1.T)
        self._offsets = np.cumsum([0] + [a * b + b for (a, b), _ in self.shapes])
        widest = max(self.widths[1:-1], default=1)
        self.chain_block = max(1, self.CACHE_BYTES // (8 * x.shape[0] * widest))
        # Scratch buffers of value_and_grad, one set per thread: threads sharing a
        # potential must not overwrite each other's intermediate arrays.
        self._local = threading.local()

    @property
    def chain_block(self) -> int:
        """Number of chains :meth:`value_and_grad` evaluates together.

        A batch of chains is split into blocks of this many; each block's
        arrays of shape ``(block, n, width)`` are reused while they are still
        in cache. The default keeps one such array within
        :attr:`CACHE_BYTES` (8 chains for ``n = 100`` points and width 50).
        Any positive integer may be set; the results do not depend on it,
        only the speed does.
        """
        return self._chain_block

    @chain_block.setter
    def chain_block(self, value: int) -> None:
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, np.integer))
            or value < 1
        ):
            raise ValueError(f"chain_block must be a positive integer; got {value!r}")
        self._chain_block = int(value)

    def unflatten(self, theta):
        """Split flat parameters ``(chains, dim)`` into ``[(W, b), ...]`` with
        ``W`` of shape ``(chains, n_in, n_out)`` and ``b`` of shape ``(chains, n_out)``.
        """
        layers, start = [], 0
        chains = theta.shape[0]
        for (a, b), _ in self.shapes:
            W = anp.reshape(theta[:, start:start + a * b], (chains, a, b))
            start += a * b
            layers.append((W, theta[:, start:start + b]))
            start += b
        return layers

    def _forward(self, theta, x, keep_pre: bool = False):
        h = x  # (N, d_in), shared by all chains
        pre = []
        layers = self.unflatten(theta)
        for k, (W, b) in enumerate(layers):
            z = anp.matmul(h, W) + b[:, None, :]  # (chains, N, n_out)
            if keep_pre and k < len(layers) - 1:
                pre.append(z)
            h = self.activation.fn(z) if k < len(layers) - 1 else z
        return h[..., 0], pre

    def _energy(self, theta):
        f, _ = self._forward(theta, self.x)
        misfit = anp.sum((f - self.y) ** 2, axis=1) / (2.0 * self.noise_sd**2)
        prior = anp.sum(theta**2, axis=1) / (2.0 * self.prior_sd**2)
        return misfit + prior

    def energy(self, theta):
        """The potential of ``theta`` (shape ``(chains, dim)``) as a plain
        autograd-differentiable function, without input checks.

        Use it to build derived potentials, e.g. the restriction of ``U`` to a
        two-dimensional slice of parameter space.
        """
        return self._energy(theta)

    def _scratch(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """This thread's scratch array ``name`` of the given shape, kept from call to
        call.

        Fresh arrays of a few hundred kilobytes cost page faults on every call, more
        than the arithmetic done in them; the first axis (chains) only ever grows. A
        new array drops the workspaces (:meth:`_workspace`) made of the old ones.
        """
        arrays = self._local.__dict__.setdefault("arrays", {})
        array = arrays.get(name)
        if (
            array is None
            or array.shape[0] < shape[0]
            or array.shape[1:] != tuple(shape[1:])
        ):
            array = arrays[name] = np.empty(shape)
            self._local.__dict__.pop("workspaces", None)
        return array[:shape[0]]

    def _workspace(self, chains: int) -> _Workspace:
        """This thread's scratch arrays for a call with ``chains`` chains.

        Made once per number of chains (and :attr:`chain_block`) from
        :meth:`_scratch`'s arrays, then looked up: setting up the views of a call
        cost a sixth of a one-chain gradient of a three-layer network.
        """
        key = (chains, self._chain_block)
        space = self._local.__dict__.get("workspaces", {}).get(key)
        if space is None:
            n, dim = self.x.shape[0], self.dim
            block = min(chains, self._chain_block)
            hidden = [
                (self._scratch(f"z{k}", (block, n, w)),
                 self._scratch(f"d{k}", (block, n, w)))
                for k, w in enumerate(self.widths[1:-1])
            ]
            rows = [
                slice(lo, min(lo + block, chains)) for lo in range(0, chains, block)
            ]
            one = len(self.widths) == 3
            first = (chains, self.widths[0] + 1, self.widths[1])
            space = _Workspace(
                self._scratch("resid", (chains, n)),
                self._scratch("prior", (chains, dim)),
                [(s, [(z[:s.stop - s.start], d[:s.stop - s.start]) for z, d in hidden])
                 for s in rows],
                self._scratch("m", first) if one else None,
                self._scratch("Wbv", first) if one else None,
            )
            self._local.__dict__.setdefault("workspaces", {})[key] = space
        return space

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        # scratch space: not part of the potential, and not copyable
        del state["_local"]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._local = threading.local()

    def value_and_grad(self, q: np.ndarray, *, check: bool = True) -> ValueAndGrad:
        """Potential energies and gradients of a batch of parameter vectors.

        Same result as autograd applied to the energy, up to rounding (see the
        class notes); ``check=False`` skips input validation, as in
        :class:`Potential`. Each chain's result depends on that chain alone,
        not on the other chains of the batch nor on :attr:`chain_block`.
        """
        if self.activation.value_and_derivative is None:
            return super().value_and_grad(q, check=check)
        if check:
            q = check_positions(q, "q", self.dim)
        q = np.ascontiguousarray(q, dtype=float)
        self.n_grad_calls += 1
        space = self._workspace(q.shape[0])
        resid = space.resid  # f(x_i) - y_i
        grad = np.empty_like(q)
        if len(self.widths) == 3:
            self._one_hidden_layer(q, space, grad)
        else:
            self._any_depth(q, space, grad)
        # The likelihood's energy, then the prior N(0, prior_sd^2) on every parameter.
        energy = 0.5 * np.einsum("cn,cn->c", resid, resid) / self.noise_sd**2
        energy += 0.5 * np.einsum("cd,cd->c", q, q) / self.prior_sd**2
        grad += np.divide(q, self.prior_sd**2, out=space.prior)
        return ValueAndGrad(energy, grad)

    def _first_layer(self, Wb: np.ndarray, out: np.ndarray) -> None:
        """Pre-activations ``x W + b`` of the first layer, shape ``(chains, n, width)``,
        rounded as the autograd path rounds them (``Wb`` is ``[W; b]``,
        ``(chains, d + 1, width)``).
        """
        if self.widths[0] == 1:
            # A dot product of two terms adds the rounded product x W to b, as
            # matmul(x, W) + b does: same numbers, one pass instead of two.
            np.matmul(self._x1, Wb, out=out)
        else:
            np.matmul(self.x, Wb[:, :-1], out=out)
            out += Wb[:, -1:]

    def _one_hidden_layer(
        self, q: np.ndarray, space: _Workspace, grad: np.ndarray
    ) -> None:
        """Fill ``space.resid`` with ``f(x_i) - y_i`` and ``grad`` with the likelihood's
        gradient, for a network ``[d, w, 1]``, block by block."""
        chains = q.shape[0]
        d, w = self.widths[0], self.widths[1]
        k = (d + 1) * w  # the first layer's parameters: the rows of [W; b]
        Wb = q[:, :k].reshape(chains, d + 1, w)
        v = q[:, k:k + w]  # output weights; the output bias is q[:, k + w]
        prec = 1.0 / self.noise_sd**2
        resid = space.resid
        # m_ij = sum_n [x, 1]_ni g_n act'(z)_nj
        m = space.m
        derivative_only = (
            getattr(self.activation.value_and_derivative, "derivative_only", None)
            if d == 1  # see the class notes: with more inputs, forming act(z) is faster
            else None
        )
        if derivative_only is not None:
            # act(z) = z act'(z) and z = [x, 1] @ [W; b], so the outputs act(z) @ v are
            # sum_i [x, 1]_ni (([W; b] * v) @ act'(z)^T)_in: no array of activations.
            Wbv = np.multiply(Wb, v[:, None, :], out=space.Wbv)
        for s, ((z, deriv),) in space.blocks:
            self._first_layer(Wb[s], out=z)
            if derivative_only is not None:
                derivative_only(z, out=deriv)
                f = (np.matmul(Wbv[s], deriv.transpose(0, 2, 1)) * self._x1_t).sum(
                    axis=1
                )
            else:
                self.activation.value_and_derivative(z, z, deriv)  # z now holds act(z)
                f = np.matmul(z, v[s, :, None])[:, :, 0]
            np.add(f, q[s, k + w, None], out=resid[s])
            resid[s] -= self.y
            g = resid[s] * prec  # dU/d(output), (block, n)
            np.matmul(self._x1_t * g[:, None, :], deriv, out=m[s])
            if derivative_only is None:
                grad[s, k:k + w] = np.matmul(g[:, None, :], z)[:, 0, :]
        # The first layer's gradient is m_ij v_j; the output weights' is
        # sum_n g_n act(z)_nj, which for the ReLU family is sum_i [W; b]_ij m_ij.
        np.multiply(m, v[:, None, :], out=grad[:, :k].reshape(chains, d + 1, w))
        if derivative_only is not None:
            np.einsum("cij,cij->cj", Wb, m, out=grad[:, k:k + w])
        grad[:, k + w] = prec * resid.sum(axis=1)

    def _any_depth(self, q: np.ndarray, space: _Workspace, grad: np.ndarray) -> None:
        """As :meth:`_one_hidden_layer`, for any number of hidden layers (0 included).
        """
        chains = q.shape[0]
        # as unflatten, without autograd
        layers = [
            (
                q[:, lo : lo + a * b].reshape(chains, a, b),
                q[:, lo + a * b : lo + (a + 1) * b],
            )
            for lo, ((a, b), _) in zip(self._offsets, self.shapes)
        ]
        act = self.activation.value_and_derivative
        prec = 1.0 / self.noise_sd**2
        resid = space.resid
        ones = self._x1_t[-1:]  # a row of n ones: column sums as a matrix product
        d, w = self.widths[0], self.widths[1]
        for s, work in space.blocks:
            # Forward pass: work[k] = (activation value, activation derivative) of
            # hidden layer k.
            h = self.x
            for k, (value, deriv) in enumerate(work):
                W, b = layers[k]
                if k == 0:
                    self._first_layer(
                        q[s, : (d + 1) * w].reshape(-1, d + 1, w), out=value
                    )
                else:
                    np.matmul(h, W[s], out=value)
                    value += b[s, None, :]
                act(value, value, deriv)  # pre-activation -> activation, in place
                h = value
            W_out, b_out = layers[-1]
            np.matmul(h, W_out[s], out=resid[s, :, None])
            resid[s] += b_out[s]
            resid[s] -= self.y
            g = resid[s] * prec  # dU/d(output), (block, n)
            lo = self._offsets[-2]
            grad[s, lo:lo + h.shape[-1]] = np.matmul(g[:, None, :], h)[:, 0, :]
            if not work:
                continue
            # Backward pass; dU/d(pre-activation) of a layer overwrites its activation
            # values.
            G, deriv = work[-1]
            np.multiply(g[:, :, None], W_out[s, None, :, 0], out=G)
            G *= deriv
            # hidden layer k, fed by hidden layer k - 1
            for k in range(len(work) - 1, 0, -1):
                W = layers[k][0][s]
                h_in, deriv = work[k - 1]
                a, width = W.shape[1:]
                lo = self._offsets[k]
                grad[s, lo : lo + a * width] = np.matmul(
                    h_in.transpose(0, 2, 1), G
                ).reshape(-1, a * width)
                grad[s, lo + a * width : lo + (a + 1) * width] = np.matmul(ones, G)[
                    :, 0, :
                ]
                # W^T copied first: a product with a contiguous matrix is faster than
                # with a view.
                np.matmul(G, np.ascontiguousarray(W.transpose(0, 2, 1)), out=h_in)
                h_in *= deriv
                G = h_in
            # The first layer: the gradient of [W; b] is [x, 1]^T @ G.
            grad[s, :(d + 1) * w] = np.matmul(self._x1_t, G).reshape(-1, (d + 1) * w)
        grad[:, -1] = prec * resid.sum(axis=1)

    def _inputs(self, x):
        if x is None:
            return self.x
        x = np.asarray(x, dtype=float)
        if x.ndim == 1 and self.widths[0] == 1:
            x = x[:, None]
        if x.ndim != 2 or x.shape[1] != self.widths[0]:
            raise ValueError(f"x must have shape (n, {self.widths[0]}); got {x.shape}")
        if not np.all(np.isfinite(x)):
            raise ValueError("x must be finite")
        return x

    def predict(self, theta: np.ndarray, x: np.ndarray | None = None) -> np.ndarray:
        """Network outputs for parameters ``theta``.

        ``theta`` has shape ``(chains, dim)`` or ``(chains, draws, dim)``;
        the result has shape ``(chains, n)`` or ``(chains, draws, n)`` for the
        inputs ``x`` (default: the training inputs).
        """
        theta = np.asarray(theta, dtype=float)
        if theta.ndim not in (2, 3):
            raise ValueError(
                "theta must have shape (chains, dim) or (chains, draws, dim); got "
                f"{theta.shape}"
            )
        x = self._inputs(x)
        flat = check_positions(theta.reshape(-1, theta.shape[-1]), "theta", self.dim)
        f, _ = self._forward(flat, x)
        return np.asarray(f).reshape(theta.shape[:-1] + (x.shape[0],))

    def pre_activations(
        self, theta: np.ndarray, x: np.ndarray | None = None
    ) -> list[np.ndarray]:
        """Pre-activations of every hidden layer, each of shape ``(chains, n, width)``.

        The potential is not differentiable where one of them is exactly 0
        (for the ReLU family): these are the *kink surfaces*. Counting sign
        changes between two parameter vectors counts kink crossings.
        """
        theta = check_positions(theta, "theta", self.dim)
        _, pre = self._forward(theta, self._inputs(x), keep_pre=True)
        return [np.asarray(z) for z in pre]

    def kink_crossings(
        self, positions: np.ndarray, x: np.ndarray | None = None
    ) -> np.ndarray:
        """Kink surfaces crossed by each step of each chain's path.

        ``positions`` has shape ``(chains, n_points, dim)`` (e.g.
        :attr:`~hmc_lite.LeapfrogPath.positions`). Returns integers of shape
        ``(chains, n_points - 1)``: for each step, the number of pairs
        (hidden unit, data point), over all hidden layers, whose
        pre-activation ``z`` (see :meth:`pre_activations`) is on one side of 0
        at the start of the step and on the other at its end; a unit is *on*
        where ``z > 0``. For the ReLU family these are crossings of the
        surfaces where the potential is not differentiable. Sum over the
        last axis for the crossings of a whole path.
        """
        path = np.asarray(positions, dtype=float)
        if path.ndim != 3 or path.shape[1] < 1 or path.shape[2] != self.dim:
            raise ValueError(
                f"positions must have shape (chains, n_points, {self.dim}); got "
                f"{path.shape}"
            )
        counts = np.zeros((path.shape[0], path.shape[1] - 1), dtype=int)
        # one chain at a time: (n_points, n, width) per layer
        for c, points in enumerate(path):
            for z in self.pre_activations(points, x):
                on = z > 0
                counts[c] += (on[1:] != on[:-1]).sum(axis=(1, 2))
        return counts

    def prior_draw(self, chains: int, *, rng: np.random.Generator) -> np.ndarray:
        """Draw ``chains`` parameter vectors from the prior ``N(0, prior_sd^2 I)``."""
        check_rng(rng)
        chains = check_int(chains, "chains")
        return self.prior_sd * rng.standard_normal((chains, self.dim))


def mlp_potential(
    x: np.ndarray,
    y: np.ndarray,
    widths: Sequence[int],
    activation: str | Activation,
    noise_sd: float = 0.1,
    prior_sd: float = 1.0,
    **activation_options,
) -> MLPPotential:
    """Posterior potential of a Bayesian regression MLP.

    Parameters
    ----------
    x:
        Inputs, shape ``(n, widths[0])`` (a 1-D array is read as one feature).
    y:
        Targets, shape ``(n,)``.
    widths:
        Layer widths from input to output, e.g. ``[1, 50, 1]`` or
        ``[1, 20, 20, 20, 1]``; the output width must be 1.
    activation:
        A name from :data:`ACTIVATIONS` or an :class:`Activation`.
    noise_sd, prior_sd:
        Likelihood ``N(y | f(x), noise_sd^2)`` and prior ``N(0, prior_sd^2)``
        on every weight and bias.
    **activation_options:
        ``slope``, ``beta`` or ``grad_at_zero``, passed to :func:`get_activation`.

    Raises
    ------
    ValueError
        For bad shapes, non-finite data, bad widths, non-positive scales or an
        unknown activation; the message names the argument.
    TypeError
        If ``activation`` is neither a name nor an :class:`Activation`.

    Examples
    --------
    >>> x = np.linspace(0, 4, 5)[:, None]; y = np.cos(2 * x[:, 0])
    >>> pot = mlp_potential(x, y, [1, 3, 1], "relu")
    >>> pot.dim, pot(np.zeros((2, pot.dim))).shape
    (10, (2,))
    """
    try:
        x = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(f"x must be a numeric array; got {type(x).__name__}") from err
    try:
        y = np.asarray(y, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(f"y must be a numeric array; got {type(y).__name__}") from err
    if x.ndim == 1:
        x = x[:, None]
    try:
        widths = list(widths)
    except TypeError as err:
        raise TypeError(
            f"widths must be a sequence of positive integers; got {widths!r}"
        ) from err
    if len(widths) < 2 or any(
        isinstance(w, bool) or not isinstance(w, (int, np.integer)) or w < 1
        for w in widths
    ):
        raise ValueError(
            f"widths must be at least two positive integers; got {widths!r}"
        )
    if widths[-1] != 1:
        raise ValueError(f"widths must end with an output width of 1; got {widths!r}")
    if x.ndim != 2 or x.shape[1] != widths[0] or x.shape[0] < 1:
        raise ValueError(
            f"x must have shape (n, {widths[0]}) with n >= 1; got {x.shape}"
        )
    if y.shape != (x.shape[0],):
        raise ValueError(f"y must have shape ({x.shape[0]},); got {y.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("x must be finite; it contains NaN or infinite values")
    if not np.all(np.isfinite(y)):
        raise ValueError("y must be finite; it contains NaN or infinite values")
    for label, v in (("noise_sd", noise_sd), ("prior_sd", prior_sd)):
        if (
            isinstance(v, bool)
            or not isinstance(v, (int, float, np.integer, np.floating))
            or not np.isfinite(v)
            or v <= 0
        ):
            raise ValueError(f"{label} must be positive and finite; got {v!r}")
        with np.errstate(over="ignore", under="ignore"):
            variance = np.float64(v) ** 2
        # 1 / sd^2 must be finite and > 0
        if not 1.0 / np.finfo(float).max < variance < np.inf:
            raise ValueError(f"{label} must be between 1e-154 and 1e154; got {v!r}")
    if isinstance(activation, str):
        act = get_activation(activation, **activation_options)
    elif isinstance(activation, Activation):
        if activation_options:
            raise ValueError(
                "activation options apply only when activation is given by name"
            )
        act = activation
    else:
        raise TypeError(
            "activation must be a name or an Activation; got "
            f"{type(activation).__name__}"
        )
    return MLPPotential(
        x.copy(), y.copy(), [int(w) for w in widths], act, noise_sd, prior_sd
    )
