"""The potential wrapper: values, gradients, gradient counting and input checks."""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
import pytest

from hmc_lite import Potential, ValueAndGrad
from hmc_lite.potential import check_positions


def banana(q):
    """A smooth, non-quadratic 2-D potential (a bent Gaussian)."""
    return 0.5 * q[:, 0] ** 2 + 0.5 * (q[:, 1] - 0.5 * q[:, 0] ** 2) ** 2


def banana_grad(q):
    r = q[:, 1] - 0.5 * q[:, 0] ** 2
    return np.stack([q[:, 0] - r * q[:, 0], r], axis=1)


def test_value_and_grad_match_closed_form():
    pot = Potential(banana, dim=2)
    q = np.random.default_rng(0).normal(size=(7, 2))
    out = pot.value_and_grad(q)
    assert isinstance(out, ValueAndGrad)
    assert out.value.shape == (7,) and out.gradient.shape == (7, 2)
    np.testing.assert_allclose(out.value, banana(q), rtol=1e-14)
    np.testing.assert_allclose(out.gradient, banana_grad(q), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(pot(q), banana(q), rtol=1e-14)
    np.testing.assert_allclose(pot.grad(q), banana_grad(q), rtol=1e-12, atol=1e-14)


def test_gradient_agrees_with_finite_differences():
    pot = Potential(lambda q: anp.sum(anp.cos(q) + 0.25 * q**4, axis=1), dim=3)
    q = np.random.default_rng(1).normal(size=(4, 3))
    h = 1e-6
    fd = np.stack(
        [(pot(q + h * e) - pot(q - h * e)) / (2 * h) for e in np.eye(3)], axis=1
    )
    np.testing.assert_allclose(pot.grad(q), fd, rtol=1e-7, atol=1e-8)


def test_each_batched_call_counts_one_gradient_evaluation():
    pot = Potential(banana)
    q = np.zeros((5, 2))
    assert pot.n_grad_calls == 0
    pot.value_and_grad(q)
    pot.grad(q)
    assert pot.n_grad_calls == 2
    pot(q)  # a value alone is not a gradient evaluation
    assert pot.n_grad_calls == 2


def test_chains_do_not_interact():
    pot = Potential(banana)
    q = np.random.default_rng(2).normal(size=(6, 2))
    together = pot.value_and_grad(q)
    for i in range(6):
        alone = pot.value_and_grad(q[i:i + 1])
        np.testing.assert_array_equal(alone.value, together.value[i:i + 1])
        np.testing.assert_array_equal(alone.gradient, together.gradient[i:i + 1])


@pytest.mark.parametrize(
    "U",
    [
        lambda q: anp.sum(q**2, axis=1, keepdims=True),  # (chains, 1)
        lambda q: anp.sum(q**2),  # scalar
        lambda q: q**2,  # (chains, dim)
    ],
    ids=["column", "scalar", "elementwise"],
)
def test_potential_returning_wrong_shape_is_refused(U):
    pot = Potential(U)
    with pytest.raises(ValueError, match="potential U must return shape"):
        pot.value_and_grad(np.ones((3, 2)))
    with pytest.raises(ValueError, match="potential U must return shape"):
        pot(np.ones((3, 2)))


def test_constructor_checks_its_arguments():
    with pytest.raises(TypeError, match="U must be callable"):
        Potential(3.0)
    with pytest.raises(ValueError, match="dim"):
        Potential(banana, dim=0)
    for bad in (1.5, True, "2"):  # the wrong kind of argument
        with pytest.raises(TypeError, match="dim"):
            Potential(banana, dim=bad)
    assert "banana" in repr(Potential(banana, dim=2, name="banana"))


@pytest.mark.parametrize(
    "q, error, match",
    [
        (np.zeros(3), ValueError, "shape"),
        (np.zeros((2, 3, 1)), ValueError, "shape"),
        (np.zeros((0, 3)), ValueError, "at least one chain"),
        (np.array([[0.0, np.nan, 1.0]]), ValueError, "finite"),
        (np.array([[0.0, np.inf, 1.0]]), ValueError, "finite"),
        (np.zeros((2, 2)), ValueError, "3 columns"),
        ([["a", "b", "c"]], TypeError, "numeric"),
        ([["1.0", "2.0", "3.0"]], TypeError, "numeric"),
        (np.ones((1, 3), dtype=complex), TypeError, "numeric"),
        (np.ones((1, 3), dtype=bool), TypeError, "numeric"),
    ],
    ids=[
        "1d",
        "3d",
        "empty",
        "nan",
        "inf",
        "wrong-dim",
        "strings",
        "numeric-strings",
        "complex",
        "bool",
    ],
)
def test_check_positions_refuses_bad_input_and_names_it(q, error, match):
    with pytest.raises(error, match=match) as info:
        check_positions(q, "where", dim=3)
    assert "where" in str(info.value)


def test_potential_with_dim_refuses_other_widths():
    pot = Potential(banana, dim=2)
    with pytest.raises(ValueError, match="2 columns"):
        pot.value_and_grad(np.zeros((1, 3)))


@pytest.mark.parametrize(
    "dim, error",
    [(0, ValueError), (2.5, TypeError), (True, TypeError), (np.True_, TypeError)],
)
def test_potential_refuses_a_bad_dim(dim, error):
    with pytest.raises(error, match="dim"):
        Potential(banana, dim=dim)


def test_whitened_potential_is_unit_mass_leapfrog_on_the_preconditioned_target():
    import hmc_lite

    rng = np.random.default_rng(3)
    U = hmc_lite.gaussian_potential(np.diag([0.25, 1.0, 9.0]))
    scale = np.array([0.5, 1.0, 3.0])
    V = hmc_lite.WhitenedPotential(U, scale)
    q, p = rng.standard_normal((2, 4, 3))
    np.testing.assert_allclose(V(q / scale), U(q))
    with_mass = hmc_lite.leapfrog(U, q, p, 0.1, 7, inverse_mass=scale**2)
    whitened = hmc_lite.leapfrog(V, q / scale, p * scale, 0.1, 7)
    np.testing.assert_allclose(
        whitened.position * scale, with_mass.position, rtol=1e-12
    )
    # its stability limit is that of the whitened Hessian (the identity here): 2
    limit = hmc_lite.diagnostics.stability_limit(V, q / scale, n_iter=3, h=1e-4)
    np.testing.assert_allclose(limit, 2.0, rtol=1e-6)
    with pytest.raises(ValueError, match="scale"):
        hmc_lite.WhitenedPotential(U, np.array([1.0, 0.0, 1.0]))
