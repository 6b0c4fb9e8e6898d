"""Target distributions: a Gaussian, kinked product targets and Bayesian MLPs.

Everything here builds a :class:`~hmc_lite.potential.Potential`; nothing here
knows about samplers or plots.
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Sequence

import autograd.numpy as anp
import numpy as np
from autograd.extend import defvjp, primitive

from .potential import Potential, check_positions

__all__ = [
    "Activation",
    "ACTIVATIONS",
    "get_activation",
    "gaussian_potential",
    "kinked_product_potential",
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
        One of :data:`ACTIVATIONS`.
    fn:
        Elementwise function, differentiable by autograd.
    smooth:
        ``True`` for analytic activations (sigmoid, tanh, softplus), ``False``
        for the piecewise-linear ReLU family, whose derivative jumps at 0.
    params:
        The settings used (slope, sharpness, derivative at zero).
    """

    name: str
    fn: Callable
    smooth: bool
    params: dict


ACTIVATIONS = ("sigmoid", "tanh", "softplus", "relu", "leaky_relu")


def _piecewise_linear(slope: float, grad_at_zero: float) -> Callable:
    """``x -> max(x, slope x)`` with derivative 1 for x > 0, ``slope`` for x < 0
    and exactly ``grad_at_zero`` at x = 0."""

    @primitive
    def f(x):
        return np.where(x > 0, x, slope * x)

    def f_vjp(ans, x):
        d = np.where(x > 0, 1.0, np.where(x < 0, slope, grad_at_zero))
        return lambda g: g * d

    defvjp(f, f_vjp)
    return f


def _sigmoid(x):
    return 0.5 * (anp.tanh(0.5 * x) + 1.0)


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
        ``"sigmoid"``, ``"tanh"``, ``"softplus"``, ``"relu"`` or ``"leaky_relu"``.
    slope:
        Negative-side slope of ``"leaky_relu"`` (default 0.01).
    beta:
        Sharpness of ``"softplus"``: ``log(1 + exp(beta x)) / beta``, which
        tends to ReLU as ``beta`` grows.
    grad_at_zero:
        The value used for the derivative at exactly 0 by the ReLU family.
        Default: the left derivative (0 for ReLU, ``slope`` for leaky ReLU),
        the convention of PyTorch. Note that autograd's own derivative of
        ``np.maximum(0, x)`` is 1/2 at 0; here the choice is explicit.

    Raises
    ------
    ValueError
        For an unknown name or an invalid parameter.
    """
    if name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}; got {name!r}")
    if name == "sigmoid":
        return Activation(name, _sigmoid, True, {})
    if name == "tanh":
        return Activation(name, anp.tanh, True, {})
    if name == "softplus":
        if not np.isfinite(beta) or beta <= 0:
            raise ValueError(f"beta must be positive and finite; got {beta!r}")
        return Activation(name, lambda x: anp.logaddexp(0.0, beta * x) / beta, True, {"beta": beta})
    lo = 0.0 if name == "relu" else float(slope)
    if name == "leaky_relu" and not (np.isfinite(lo) and 0 <= lo < 1):
        raise ValueError(f"slope must be in [0, 1); got {slope!r}")
    d0 = lo if grad_at_zero is None else float(grad_at_zero)
    if not np.isfinite(d0):
        raise ValueError(f"grad_at_zero must be finite; got {grad_at_zero!r}")
    params = {"slope": lo, "grad_at_zero": d0}
    return Activation(name, _piecewise_linear(lo, d0), False, params)


# ---------------------------------------------------------------------------
# Simple targets
# ---------------------------------------------------------------------------


def gaussian_potential(cov: np.ndarray, mean: np.ndarray | None = None) -> Potential:
    """Potential of ``N(mean, cov)``: ``U(q) = (q - mean)^T cov^{-1} (q - mean) / 2``."""
    cov = np.atleast_2d(np.asarray(cov, dtype=float))
    d = cov.shape[0]
    if cov.shape != (d, d) or not np.allclose(cov, cov.T):
        raise ValueError(f"cov must be a symmetric square matrix; got shape {cov.shape}")
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


def kinked_product_potential(dim: int, jump: float = 2.0) -> Potential:
    """Product target with ``V(x) = x^2 / 2 + (jump / 2) |x|`` in each coordinate.

    ``V'`` jumps by ``jump`` at 0: with the default ``jump = 2`` this is
    ``x^2/2 + |x|``. The derivative of ``|x|`` at 0 is taken as 0.
    """
    if int(dim) != dim or dim < 1:
        raise ValueError(f"dim must be a positive integer; got {dim!r}")
    if not np.isfinite(jump) or jump < 0:
        raise ValueError(f"jump must be non-negative and finite; got {jump!r}")
    half = 0.5 * float(jump)

    def U(q):
        return anp.sum(0.5 * q**2 + half * anp.abs(q), axis=1)

    return Potential(U, dim=int(dim), name=f"kinked product (jump={jump})")


# ---------------------------------------------------------------------------
# Bayesian multilayer perceptrons
# ---------------------------------------------------------------------------


class MLPPotential(Potential):
    """Posterior potential of a fully connected regression network.

    ``U(theta) = sum_i (y_i - f_theta(x_i))^2 / (2 noise_sd^2) + |theta|^2 / (2 prior_sd^2)``
    (additive constants dropped). Parameters are one flat vector per chain:
    for each layer, the weight matrix ``W`` of shape ``(n_in, n_out)`` (row
    major) followed by the bias ``b`` of shape ``(n_out,)``.

    Use :func:`mlp_potential` to build one.
    """

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
        self.shapes = [((a, b), (b,)) for a, b in zip(self.widths[:-1], self.widths[1:])]
        super().__init__(self._energy, dim=sum(a * b + b for (a, b), _ in self.shapes),
                         name=f"MLP {list(self.widths)} {activation.name}")

    def unflatten(self, theta):
        """Split flat parameters ``(chains, dim)`` into ``[(W, b), ...]`` with
        ``W`` of shape ``(chains, n_in, n_out)`` and ``b`` of shape ``(chains, n_out)``."""
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

    def _inputs(self, x):
        if x is None:
            return self.x
        x = np.asarray(x, dtype=float)
        if x.ndim == 1:
            x = x[:, None]
        if x.ndim != 2 or x.shape[1] != self.widths[0]:
            raise ValueError(f"x must have shape (n, {self.widths[0]}); got {x.shape}")
        return x

    def predict(self, theta: np.ndarray, x: np.ndarray | None = None) -> np.ndarray:
        """Network outputs for parameters ``theta``.

        ``theta`` has shape ``(chains, dim)`` or ``(chains, draws, dim)``;
        the result has shape ``(chains, n)`` or ``(chains, draws, n)`` for the
        inputs ``x`` (default: the training inputs).
        """
        theta = np.asarray(theta, dtype=float)
        x = self._inputs(x)
        flat = theta.reshape(-1, theta.shape[-1])
        check_positions(flat, "theta", self.dim)
        f, _ = self._forward(flat, x)
        return np.asarray(f).reshape(theta.shape[:-1] + (x.shape[0],))

    def pre_activations(self, theta: np.ndarray, x: np.ndarray | None = None) -> list[np.ndarray]:
        """Pre-activations of every hidden layer, each of shape ``(chains, n, width)``.

        The potential is not differentiable where one of them is exactly 0
        (for the ReLU family): these are the *kink surfaces*.
        """
        theta = check_positions(theta, "theta", self.dim)
        _, pre = self._forward(theta, self._inputs(x), keep_pre=True)
        return [np.asarray(z) for z in pre]

    def prior_draw(self, rng: np.random.Generator, chains: int) -> np.ndarray:
        """Draw ``chains`` parameter vectors from the prior ``N(0, prior_sd^2 I)``."""
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
        Layer widths from input to output, e.g. ``[1, 50, 1]``; the output
        width must be 1.
    activation:
        A name from :data:`ACTIVATIONS` or an :class:`Activation`.
    noise_sd, prior_sd:
        Likelihood ``N(y | f(x), noise_sd^2)`` and prior ``N(0, prior_sd^2)``
        on every weight and bias.
    **activation_options:
        ``slope``, ``beta`` or ``grad_at_zero``, passed to :func:`get_activation`.

    Examples
    --------
    >>> x = np.linspace(0, 4, 5)[:, None]; y = np.cos(2 * x[:, 0])
    >>> pot = mlp_potential(x, y, [1, 3, 1], "relu")
    >>> pot.dim, pot(np.zeros((2, pot.dim))).shape
    (10, (2,))
    """
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    y = np.asarray(y, dtype=float)
    widths = list(widths)
    if len(widths) < 2 or any(int(w) != w or w < 1 for w in widths):
        raise ValueError(f"widths must be at least two positive integers; got {widths!r}")
    if widths[-1] != 1:
        raise ValueError(f"widths must end with an output width of 1; got {widths!r}")
    if x.ndim != 2 or x.shape[1] != widths[0]:
        raise ValueError(f"x must have shape (n, {widths[0]}); got {x.shape}")
    if y.shape != (x.shape[0],):
        raise ValueError(f"y must have shape ({x.shape[0]},); got {y.shape}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("x and y must be finite")
    for label, v in (("noise_sd", noise_sd), ("prior_sd", prior_sd)):
        if not np.isfinite(v) or v <= 0:
            raise ValueError(f"{label} must be positive and finite; got {v!r}")
    if isinstance(activation, str):
        act = get_activation(activation, **activation_options)
    elif isinstance(activation, Activation):
        if activation_options:
            raise ValueError("activation options apply only when activation is given by name")
        act = activation
    else:
        raise TypeError(f"activation must be a name or an Activation; got {type(activation).__name__}")
    return MLPPotential(x, y, widths, act, noise_sd, prior_sd)
