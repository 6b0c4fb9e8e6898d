"""Potential energies with their gradients, vectorised over chains.

A target density ``pi(q)`` enters HMC only through its potential energy
``U(q) = -log pi(q)`` (up to an additive constant) and the gradient of ``U``.
:class:`Potential` wraps a function written with :mod:`autograd.numpy` that maps
a batch of positions of shape ``(chains, dim)`` to energies of shape
``(chains,)`` and returns value and gradient from a single forward pass.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import autograd.numpy as anp
import numpy as np

from ._validation import check_float_array, check_int, check_positions
from autograd import make_vjp

__all__ = ["Potential", "ValueAndGrad", "WhitenedPotential", "check_positions"]


class ValueAndGrad(NamedTuple):
    """Potential energy and its gradient for a batch of chains.

    Attributes
    ----------
    value:
        Potential energies, shape ``(chains,)``.
    gradient:
        Gradients with respect to position, shape ``(chains, dim)``.
    """

    value: np.ndarray
    gradient: np.ndarray


class Potential:
    """A potential energy ``U(q) = -log pi(q)`` with a cached-friendly gradient.

    Parameters
    ----------
    U:
        Function of an array of shape ``(chains, dim)`` returning the
        potential energy of each chain, shape ``(chains,)``. It must be written
        with :mod:`autograd.numpy` so that it can be differentiated, and the
        energy of one chain must not depend on the other chains.
    dim:
        Optional number of coordinates. When given, positions with another
        number of columns are refused.
    name:
        Optional label used in ``repr``.

    Examples
    --------
    >>> import autograd.numpy as anp
    >>> gauss = Potential(lambda q: 0.5 * anp.sum(q**2, axis=1), dim=2)
    >>> v, g = gauss.value_and_grad(np.array([[1.0, 2.0]]))
    >>> float(v[0]), g.tolist()
    (2.5, [[1.0, 2.0]])

    Notes
    -----
    Because the energies of different chains are independent, the gradient of
    each chain's energy is the vector-Jacobian product of ``U`` with a vector of
    ones. :func:`autograd.make_vjp` gives the value and that product from one
    forward pass. The attribute :attr:`n_grad_calls` counts gradient
    evaluations (one per batched call), so that tests and benchmarks can check
    that an HMC transition with ``L`` leapfrog steps costs ``L`` of them.
    """

    def __init__(
        self,
        U: Callable[[np.ndarray], np.ndarray],
        dim: int | None = None,
        name: str = "",
    ) -> None:
        if not callable(U):
            raise TypeError(f"U must be callable, got {type(U).__name__}")
        self._U = U
        self.dim = None if dim is None else check_int(dim, "dim")
        self.name = name
        self.n_grad_calls = 0

    def __repr__(self) -> str:
        label = f" {self.name!r}" if self.name else ""
        return f"Potential{label}(dim={self.dim})"

    def _check_output(self, u: np.ndarray, chains: int) -> np.ndarray:
        u = np.asarray(u, dtype=float)
        if u.shape != (chains,):
            raise ValueError(
                f"the potential U must return shape (chains,) = ({chains},); got "
                f"{u.shape}"
            )
        return u

    def __call__(self, q: np.ndarray) -> np.ndarray:
        """Potential energies of the positions ``q`` (shape ``(chains, dim)``)."""
        q = check_positions(q, "q", self.dim)
        return self._check_output(self._U(q), q.shape[0])

    def value_and_grad(self, q: np.ndarray, *, check: bool = True) -> ValueAndGrad:
        """Potential energies and gradients of a batch of positions.

        ``check=False`` skips input validation; the integrators use it inside
        trajectories, where positions may legitimately overflow.
        """
        if check:
            q = check_positions(q, "q", self.dim)
        self.n_grad_calls += 1
        vjp, u = make_vjp(self._U)(q)
        u = self._check_output(u, q.shape[0])
        grad = np.asarray(vjp(anp.ones_like(u)), dtype=float)
        return ValueAndGrad(u, grad)

    def grad(self, q: np.ndarray) -> np.ndarray:
        """Gradients of the potential, shape ``(chains, dim)``."""
        return self.value_and_grad(q).gradient


class WhitenedPotential(Potential):
    """``V(z) = U(scale * z)``: the potential ``U`` seen in coordinates
    ``z = q / scale``.

    Leapfrog with unit mass on ``V`` is leapfrog on ``U`` with the diagonal
    inverse mass ``scale**2`` (positions map by ``q = scale * z``, momenta by
    ``p = r / scale``), so quantities defined for unit mass, such as
    :func:`~hmc_lite.diagnostics.stability_limit`, apply to a mass-preconditioned
    sampler through this potential: evaluate them at ``q / scale``.

    Parameters
    ----------
    potential:
        The potential ``U``; it must know its ``dim``.
    scale:
        Positive finite scales, shape ``(dim,)``, e.g. ``sqrt(inverse_mass)``.

    Examples
    --------
    >>> import autograd.numpy as anp
    >>> U = Potential(lambda q: 0.5 * anp.sum(q**2 / np.array([1.0, 4.0]), axis=1),
    ...               dim=2)
    >>> V = WhitenedPotential(U, np.array([1.0, 2.0]))  # V(z) = |z|^2 / 2
    >>> V.value_and_grad(np.array([[1.0, 1.0]])).gradient.tolist()
    [[1.0, 1.0]]
    """

    def __init__(self, potential: Potential, scale: np.ndarray) -> None:
        if not isinstance(potential, Potential) or potential.dim is None:
            raise TypeError("potential must be a Potential with a known dim")
        scale = check_float_array(scale, "scale")
        if (
            scale.shape != (potential.dim,)
            or not np.all(np.isfinite(scale))
            or np.any(scale <= 0)
        ):
            raise ValueError(
                f"scale must be {potential.dim} positive finite numbers; got shape "
                f"{scale.shape}"
            )
        super().__init__(lambda z: potential(z * scale), dim=potential.dim,
                         name=f"whitened {potential.name}".strip())
        self.potential, self.scale = potential, scale

    def value_and_grad(self, q: np.ndarray, *, check: bool = True) -> ValueAndGrad:
        """``V`` and its gradient ``scale * grad U(scale * z)`` at the rows of ``q``."""
        if check:
            q = check_positions(q, "q", self.dim)
        self.n_grad_calls += 1
        u, g = self.potential.value_and_grad(q * self.scale, check=False)
        return ValueAndGrad(u, g * self.scale)
