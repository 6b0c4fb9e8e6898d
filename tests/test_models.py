"""Potentials of Bayesian MLPs: gradients, kinks, conventions at 0, shapes and input
checks."""

from __future__ import annotations

import math

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import elementwise_grad

import hmc_lite
from hmc_lite import ACTIVATIONS, Activation, Potential, get_activation, mlp_potential

NOISE = 0.1


def toy_data(n=12, seed=0, features=1):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 4.0, size=(n, features))
    y = np.cos(2.0 * x[:, 0]) + NOISE * rng.standard_normal(n)
    return x, y


def finite_difference_grad(pot, q, h=1e-6):
    """Central differences of every coordinate, all evaluated as one batch."""
    chains, dim = q.shape
    eye = np.eye(dim)
    plus = (q[:, None, :] + h * eye).reshape(-1, dim)
    minus = (q[:, None, :] - h * eye).reshape(-1, dim)
    return ((pot(plus) - pot(minus)) / (2 * h)).reshape(chains, dim)


def min_abs_pre_activation(pot, q):
    return min(float(np.abs(z).min()) for z in pot.pre_activations(q))


def autograd_value_and_grad(pot, q):
    """The generic autograd path of :class:`Potential`, bypassing the fast backprop."""
    return Potential.value_and_grad(pot, q)


# ---------------------------------------------------------------------------
# Gradients
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("widths", [[1, 5, 1], [1, 20, 20, 20, 1], [2, 4, 3, 1]])
def test_gradient_matches_finite_differences_away_from_kinks(activation, widths):
    x, y = toy_data(features=widths[0])
    pot = mlp_potential(x, y, widths, activation)
    q = 0.5 * pot.prior_draw(2, rng=np.random.default_rng(3))
    if not get_activation(activation).smooth:
        # Finite differences move pre-activations by far less than this margin,
        # so no central difference straddles a kink.
        assert min_abs_pre_activation(pot, q) > 1e-4
    value, grad = pot.value_and_grad(q)
    fd = finite_difference_grad(pot, q)
    scale = np.abs(fd).max()
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-6 * scale)
    np.testing.assert_allclose(value, pot(q), rtol=1e-12)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("widths", [[1, 50, 1], [1, 20, 20, 20, 1], [3, 6, 1]])
def test_fast_backprop_agrees_with_autograd(activation, widths):
    x, y = toy_data(n=30, features=widths[0])
    pot = mlp_potential(x, y, widths, activation)
    rng = np.random.default_rng(4)
    for chains in (1, 7, 7, 64):  # repeated sizes reuse the work buffers
        q = pot.prior_draw(chains, rng=rng)
        fast = pot.value_and_grad(q)
        slow = autograd_value_and_grad(pot, q)
        np.testing.assert_allclose(fast.value, slow.value, rtol=1e-12)
        np.testing.assert_allclose(
            fast.gradient,
            slow.gradient,
            rtol=1e-10,
            atol=1e-10 * np.abs(slow.gradient).max(),
        )


def test_value_and_grad_returns_fresh_arrays_and_counts_calls():
    x, y = toy_data()
    pot = mlp_potential(x, y, [1, 8, 1], "relu")
    q = pot.prior_draw(3, rng=np.random.default_rng(0))
    first = pot.value_and_grad(q)
    kept = first.gradient.copy()
    pot.value_and_grad(pot.prior_draw(3, rng=np.random.default_rng(1)))
    np.testing.assert_array_equal(first.gradient, kept)
    assert pot.n_grad_calls == 2


def test_custom_activation_falls_back_to_autograd():
    x, y = toy_data()
    cube = Activation("cube", lambda z: z**3 / 3.0, True, {})
    pot = mlp_potential(x, y, [1, 4, 1], cube)
    q = 0.3 * pot.prior_draw(2, rng=np.random.default_rng(5))
    np.testing.assert_allclose(
        pot.grad(q), finite_difference_grad(pot, q), rtol=1e-5, atol=1e-5
    )


# ---------------------------------------------------------------------------
# The derivative at 0 of the ReLU family
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["relu", "leaky_relu"])
@pytest.mark.parametrize("g0", [0.0, 0.5, 1.0])
def test_activation_derivative_at_zero_is_the_chosen_value(name, g0):
    act = get_activation(name, grad_at_zero=g0)
    z = np.array([-2.0, 0.0, 3.0])
    slope = act.params["slope"]
    np.testing.assert_array_equal(elementwise_grad(act.fn)(z), [slope, g0, 1.0])
    value, deriv = np.empty(3), np.empty(3)
    act.value_and_derivative(z.copy(), value, deriv)
    np.testing.assert_array_equal(deriv, [slope, g0, 1.0])
    np.testing.assert_array_equal(value, [-2.0 * slope, 0.0, 3.0])


def test_default_derivative_at_zero_is_the_left_derivative():
    assert get_activation("relu").params["grad_at_zero"] == 0.0
    assert get_activation("leaky_relu").params["grad_at_zero"] == 0.01
    assert get_activation("leaky_relu", slope=0.1).params["grad_at_zero"] == 0.1
    # autograd's own choice for max(0, x) is 1/2, which is why the package makes it
    # explicit.
    assert elementwise_grad(lambda z: anp.maximum(0.0, z))(np.array([0.0]))[0] == 0.5


@pytest.mark.parametrize("name", ["relu", "leaky_relu"])
@pytest.mark.parametrize("g0", [0.0, 0.5, 1.0])
def test_network_gradient_on_a_kink_uses_the_convention(name, g0):
    # One data point x = 1, one hidden unit with w = 2, b = -2: the pre-activation is
    # exactly 0.
    x, y = np.array([[1.0]]), np.array([0.0])
    pot = mlp_potential(x, y, [1, 1, 1], name, grad_at_zero=g0)
    w1, b1, w2, b2 = 2.0, -2.0, 3.0, 0.5
    q = np.array([[w1, b1, w2, b2]])
    assert pot.pre_activations(q)[0][0, 0, 0] == 0.0
    dU_df = (b2 - y[0]) / NOISE**2  # f = w2 * act(0) + b2 = b2
    expected = np.array(
        [[dU_df * w2 * g0 * 1.0 + w1, dU_df * w2 * g0 + b1, 0.0 + w2, dU_df + b2]]
    )
    for vg in (pot.value_and_grad(q), autograd_value_and_grad(pot, q)):
        np.testing.assert_allclose(vg.gradient, expected, rtol=1e-14, atol=1e-12)


# ---------------------------------------------------------------------------
# Kinks of a network with one hidden unit, in closed form
# ---------------------------------------------------------------------------


def one_unit_line(b_grid, w1=1.5, w2=0.8, b2=0.2, activation="relu"):
    x, y = toy_data(n=6, seed=7)
    pot = mlp_potential(x, y, [1, 1, 1], activation)
    q = np.column_stack(
        [
            np.full_like(b_grid, w1),
            b_grid,
            np.full_like(b_grid, w2),
            np.full_like(b_grid, b2),
        ]
    )
    return pot, x[:, 0], y, q


def test_pre_activations_are_the_affine_maps_of_the_first_layer():
    b = np.linspace(-3, 1, 9)
    pot, x, _, q = one_unit_line(b)
    (z,) = pot.pre_activations(q)
    assert z.shape == (b.size, x.size, 1)
    np.testing.assert_allclose(
        z[:, :, 0], 1.5 * x[None, :] + b[:, None], rtol=1e-14, atol=1e-14
    )


def test_potential_is_quadratic_between_kinks_and_its_gradient_jumps_at_them():
    w1, w2, b2 = 1.5, 0.8, 0.2
    x, y = toy_data(n=6, seed=7)
    kinks = np.sort(-w1 * x[:, 0])  # the unit switches on input i where w1 x_i + b = 0
    # Between two neighbouring kinks U(b) is an exact quadratic: third differences
    # vanish.
    lo, hi = kinks[2], kinks[3]
    b = np.linspace(lo, hi, 12)[1:-1]
    pot, _, _, q = one_unit_line(b, w1, w2, b2)
    u = pot(q)
    assert np.abs(np.diff(u, 3)).max() < 1e-9 * np.abs(u).max()
    # At each kink the derivative in b jumps by (b2 - y_i) w2 / noise^2: the
    # contribution of point i as its unit turns on (output w2 * 0 + b2 there).
    delta = 1e-7
    for i in range(x.shape[0]):
        k = -w1 * x[i, 0]
        _, _, _, qs = one_unit_line(np.array([k - delta, k + delta]), w1, w2, b2)
        g = pot.grad(qs)[:, 1]
        jump = g[1] - g[0]
        expected = (b2 - y[i]) * w2 / NOISE**2
        assert jump == pytest.approx(expected, rel=1e-4, abs=1e-4)
    # A smooth activation has no jump there.
    pot_s, _, _, qs = one_unit_line(
        np.array([kinks[0] - delta, kinks[0] + delta]), w1, w2, b2, "sigmoid"
    )
    g = pot_s.grad(qs)[:, 1]
    assert abs(g[1] - g[0]) < 1e-3


# ---------------------------------------------------------------------------
# The energy by hand
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("activation, fn", [
    ("tanh", np.tanh),
    ("sigmoid", lambda z: 1.0 / (1.0 + np.exp(-z))),
    ("relu", lambda z: np.maximum(z, 0.0)),
    ("leaky_relu", lambda z: np.where(z > 0, z, 0.01 * z)),
    ("softplus", lambda z: np.log1p(np.exp(z))),
])
def test_energy_equals_a_hand_written_formula(activation, fn):
    x = np.array([[0.5], [-1.0], [2.0]])
    y = np.array([0.3, -0.2, 1.1])
    pot = mlp_potential(x, y, [1, 2, 1], activation, noise_sd=0.5, prior_sd=2.0)
    # Layout: W1 (1x2), b1 (2), W2 (2x1), b2 (1).
    theta = np.array([0.7, -1.2, 0.1, 0.4, 1.5, -0.6, 0.25])
    w1, b1, w2, b2 = theta[0:2], theta[2:4], theta[4:6], theta[6]
    f = np.array([w2 @ fn(w1 * xi + b1) + b2 for xi in x[:, 0]])
    expected = np.sum((y - f) ** 2) / (2 * 0.5**2) + np.sum(theta**2) / (2 * 2.0**2)
    assert pot(theta[None])[0] == pytest.approx(expected, rel=1e-13)
    assert pot.value_and_grad(theta[None]).value[0] == pytest.approx(
        expected, rel=1e-13
    )
    np.testing.assert_allclose(pot.predict(theta[None])[0], f, rtol=1e-13)


def test_softplus_tends_to_relu_as_beta_grows():
    z = np.linspace(-5, 5, 1001)
    relu = get_activation("relu").fn(z)
    gaps = []
    for beta in (1.0, 10.0, 100.0, 1000.0):
        gap = np.abs(get_activation("softplus", beta=beta).fn(z) - relu).max()
        assert gap <= np.log(2.0) / beta * (1 + 1e-12)
        gaps.append(gap)
    assert np.all(np.diff(gaps) < 0)
    x, y = toy_data()
    q = mlp_potential(x, y, [1, 6, 1], "relu").prior_draw(
        3, rng=np.random.default_rng(2)
    )
    u_relu = mlp_potential(x, y, [1, 6, 1], "relu")(q)
    u_soft = mlp_potential(x, y, [1, 6, 1], "softplus", beta=1e4)(q)
    np.testing.assert_allclose(u_soft, u_relu, rtol=1e-3)
    # No overflow for large beta * z.
    assert np.all(
        np.isfinite(get_activation("softplus", beta=1e6).fn(np.array([-1e3, 1e3])))
    )


# ---------------------------------------------------------------------------
# Shapes
# ---------------------------------------------------------------------------


def test_shapes_of_energy_predict_and_pre_activations():
    x, y = toy_data(n=10)
    pot = mlp_potential(x, y, [1, 4, 3, 1], "tanh")
    assert pot.dim == (1 * 4 + 4) + (4 * 3 + 3) + (3 * 1 + 1)
    rng = np.random.default_rng(0)
    q = pot.prior_draw(5, rng=rng)
    assert q.shape == (5, pot.dim)
    value, grad = pot.value_and_grad(q)
    assert value.shape == (5,) and grad.shape == (5, pot.dim)
    draws = rng.standard_normal((5, 7, pot.dim))
    assert pot.predict(draws).shape == (5, 7, 10)
    assert pot.predict(draws, np.linspace(0, 4, 13)).shape == (5, 7, 13)
    np.testing.assert_allclose(
        pot.predict(draws)[2, 3], pot.predict(draws[2, 3][None])[0]
    )
    pre = pot.pre_activations(q, np.linspace(0, 1, 6))
    assert [z.shape for z in pre] == [(5, 6, 4), (5, 6, 3)]
    # Each chain's energy depends on that chain only.
    np.testing.assert_allclose(pot(q[2:3])[0], value[2], rtol=1e-13)


# ---------------------------------------------------------------------------
# Refused input
# ---------------------------------------------------------------------------


def test_bad_input_is_refused_with_a_message_naming_the_argument():
    x, y = toy_data()
    with pytest.raises(ValueError, match="activation"):
        mlp_potential(x, y, [1, 4, 1], "swish")
    with pytest.raises(TypeError, match="activation"):
        mlp_potential(x, y, [1, 4, 1], 3)
    for widths in ([1], [1, 0, 1], [1, 4, 2], [1, 2.5, 1], [1, True, 1]):
        with pytest.raises(ValueError, match="widths"):
            mlp_potential(x, y, widths, "relu")
    with pytest.raises(ValueError, match="x must have shape"):
        mlp_potential(x, y, [2, 4, 1], "relu")
    with pytest.raises(ValueError, match="y must have shape"):
        mlp_potential(x, y[:-1], [1, 4, 1], "relu")
    for bad in (np.nan, np.inf):
        xb, yb = x.copy(), y.copy()
        xb[3, 0] = bad
        yb[2] = bad
        with pytest.raises(ValueError, match="x must be finite"):
            mlp_potential(xb, y, [1, 4, 1], "relu")
        with pytest.raises(ValueError, match="y must be finite"):
            mlp_potential(x, yb, [1, 4, 1], "relu")
    with pytest.raises(ValueError, match="noise_sd"):
        mlp_potential(x, y, [1, 4, 1], "relu", noise_sd=0.0)
    with pytest.raises(ValueError, match="prior_sd"):
        mlp_potential(x, y, [1, 4, 1], "relu", prior_sd=np.inf)
    for tiny_or_huge in (1e-200, 1e200):  # 1 / sd^2 would be infinite or zero
        with pytest.raises(ValueError, match="noise_sd"):
            mlp_potential(x, y, [1, 4, 1], "relu", noise_sd=tiny_or_huge)
        with pytest.raises(ValueError, match="prior_sd"):
            mlp_potential(x, y, [1, 4, 1], "relu", prior_sd=tiny_or_huge)
    with pytest.raises(ValueError, match="beta"):
        mlp_potential(x, y, [1, 4, 1], "softplus", beta=-1.0)
    with pytest.raises(ValueError, match="slope"):
        mlp_potential(x, y, [1, 4, 1], "leaky_relu", slope=1.5)
    with pytest.raises(ValueError, match="grad_at_zero"):
        mlp_potential(x, y, [1, 4, 1], "relu", grad_at_zero=np.nan)
    pot = mlp_potential(x, y, [1, 4, 1], "relu")
    with pytest.raises(ValueError, match="q"):
        pot.value_and_grad(np.zeros((2, pot.dim + 1)))
    with pytest.raises(ValueError, match="theta"):
        pot.predict(np.zeros(pot.dim))
    with pytest.raises(ValueError, match="theta"):
        pot.pre_activations(np.full((1, pot.dim), np.nan))
    with pytest.raises(ValueError, match="x must"):
        pot.predict(np.zeros((1, pot.dim)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="chains"):
        pot.prior_draw(0, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="rng"):
        pot.prior_draw(2, rng=0)


def test_data_are_copied():
    x, y = toy_data()
    pot = mlp_potential(x, y, [1, 3, 1], "relu")
    q = pot.prior_draw(2, rng=np.random.default_rng(0))
    before = pot(q)
    x[:] = 0.0
    y[:] = 0.0
    np.testing.assert_array_equal(pot(q), before)


def test_public_names():
    assert hmc_lite.mlp_potential is mlp_potential
    assert set(ACTIVATIONS) == {
        "sigmoid", "tanh", "softplus", "relu", "leaky_relu", "silu", "gelu"
    }


def test_energy_composes_with_autograd():
    x, y = toy_data()
    pot = mlp_potential(x, y, [1, 5, 1], "leaky_relu")
    q0 = pot.prior_draw(1, rng=np.random.default_rng(8))
    directions = np.random.default_rng(9).standard_normal((2, pot.dim))

    def on_slice(s):  # s has shape (chains, 2)
        return pot.energy(q0 + anp.dot(s, directions))

    sliced = Potential(on_slice, dim=2)
    s = np.array([[0.1, -0.2], [0.0, 0.3]])
    expected = pot.grad(q0 + s @ directions) @ directions.T
    np.testing.assert_allclose(sliced.grad(s), expected, rtol=1e-10)


@pytest.mark.parametrize(
    "name, options",
    [
        ("sigmoid", {}),
        ("tanh", {}),
        ("softplus", {"beta": 1.0}),
        ("softplus", {"beta": 1e4}),
        ("relu", {}),
        ("leaky_relu", {"slope": 0.2}),
    ],
)
def test_fast_value_and_derivative_match_the_autograd_function(name, options):
    act = get_activation(name, **options)
    z = np.concatenate(
        [np.linspace(-50, 50, 2001), [-1e6, -800.0, 800.0, 1e6, 1e-300, -1e-300]]
    )
    value, deriv = np.empty_like(z), np.empty_like(z)
    act.value_and_derivative(z.copy(), value, deriv)
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(deriv))
    np.testing.assert_allclose(value, act.fn(z), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(
        deriv, elementwise_grad(act.fn)(z), rtol=1e-10, atol=1e-15
    )
    # The value buffer may be the input itself.
    zz = z.copy()
    act.value_and_derivative(zz, zz, deriv)
    np.testing.assert_allclose(zz, value, rtol=1e-15, atol=0)


@pytest.mark.parametrize(
    "widths, chain_block",
    [([1, 30, 30, 1], None), ([1, 30, 1], 2), ([2, 10, 10, 1], 2)],
)
def test_threads_sharing_one_potential_get_the_right_gradients(widths, chain_block):
    import copy
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(5)
    x = rng.uniform(-2, 2, (60, widths[0]))
    y = np.sin(x[:, 0])
    pot = mlp_potential(x, y, widths, "relu", grad_at_zero=0.5)
    if chain_block is not None:  # several blocks per call, in each thread
        pot.chain_block = chain_block
    batches = [rng.standard_normal((c, pot.dim)) for c in (3, 8, 3, 8) * 10]
    serial = [pot.value_and_grad(q) for q in batches]
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(pot.value_and_grad, batches))
    for a, b in zip(serial, threaded):
        np.testing.assert_array_equal(a.value, b.value)
        np.testing.assert_array_equal(a.gradient, b.gradient)
    # the per-thread scratch space is not copied, but rebuilt
    clone = copy.deepcopy(pot)
    np.testing.assert_array_equal(
        clone.value_and_grad(batches[0]).gradient, serial[0].gradient
    )


# ---------------------------------------------------------------------------
# Kink crossings and product potentials
# ---------------------------------------------------------------------------


def _brute_force_crossings(pot, positions):
    """Kink crossings counted point by point, unit by unit (slow and plain)."""
    chains, n_points, _ = positions.shape
    out = np.zeros((chains, n_points - 1), dtype=int)
    for c in range(chains):
        for k in range(n_points - 1):
            before = pot.pre_activations(positions[c, k][None])
            after = pot.pre_activations(positions[c, k + 1][None])
            for z0, z1 in zip(before, after):
                for i in range(z0.shape[1]):
                    for j in range(z0.shape[2]):
                        out[c, k] += (z0[0, i, j] > 0) != (z1[0, i, j] > 0)
    return out


@pytest.mark.parametrize("widths", [[1, 4, 1], [1, 3, 2, 1]])
def test_kink_crossings_match_a_brute_force_count(widths):
    rng = np.random.default_rng(11)
    x = rng.uniform(-2, 2, (6, 1))
    pot = mlp_potential(x, np.sin(x[:, 0]), widths, "relu")
    positions = rng.standard_normal((3, 5, pot.dim))
    counts = pot.kink_crossings(positions)
    assert counts.shape == (3, 4) and counts.dtype.kind == "i"
    np.testing.assert_array_equal(counts, _brute_force_crossings(pot, positions))
    assert counts.sum() > 0


def test_kink_crossings_of_a_hand_made_path():
    # [1, 1, 1]: theta = (w1, b1, w2, b2); one data point x = 1, pre-activation w1 + b1
    pot = mlp_potential(np.ones((1, 1)), np.zeros(1), [1, 1, 1], "relu")
    path = np.array(
        [
            [
                [1.0, -2.0, 1.0, 0.0],
                [1.0, 0.0, 1.0, 0.0],
                [1.0, -0.5, 1.0, 0.0],
                [1.0, -3.0, 1.0, 0.0],
            ]
        ]
    )
    # z = -1, 1, 0.5, -2: on at points 2 and 3 only
    np.testing.assert_array_equal(pot.kink_crossings(path), [[1, 0, 1]])
    with pytest.raises(ValueError, match="positions"):
        pot.kink_crossings(path[0])


def test_product_potential_has_the_closed_form_gradient():
    pot = hmc_lite.product_potential(lambda x: np.cosh(x), lambda x: np.sinh(x), dim=3)
    q = np.array([[0.5, -1.0, 2.0], [0.0, 0.1, -0.3]])
    vg = pot.value_and_grad(q)
    np.testing.assert_allclose(vg.value, np.cosh(q).sum(axis=1))
    np.testing.assert_allclose(vg.gradient, np.sinh(q))
    with pytest.raises(TypeError, match="dim"):
        hmc_lite.product_potential(np.cosh, np.sinh, dim=2.5)


def test_kinked_product_potential_agrees_with_autograd():
    q = np.random.default_rng(3).standard_normal((5, 7))
    fast = hmc_lite.kinked_product_potential(7, jump=3.0).value_and_grad(q)
    slow = Potential(lambda z: anp.sum(0.5 * z**2 + 1.5 * anp.abs(z), axis=1), dim=7)
    ref = slow.value_and_grad(q)
    np.testing.assert_allclose(fast.value, ref.value, rtol=1e-14)
    np.testing.assert_allclose(fast.gradient, ref.gradient, rtol=1e-14)
    np.testing.assert_array_equal(
        hmc_lite.kinked_product_potential(2).value_and_grad(np.zeros((1, 2))).gradient,
        0.0,
    )
    with pytest.raises(ValueError, match="jump"):
        hmc_lite.kinked_product_potential(2, jump=-1.0)


# ---------------------------------------------------------------------------
# SiLU and GELU
# ---------------------------------------------------------------------------


def _silu_reference(z):
    return np.array([t / (1.0 + math.exp(-t)) for t in z])


def _gelu_reference(z):
    return np.array([t * 0.5 * (1.0 + math.erf(t / math.sqrt(2.0))) for t in z])


@pytest.mark.parametrize(
    "name, reference", [("silu", _silu_reference), ("gelu", _gelu_reference)]
)
def test_silu_and_gelu_equal_their_definitions(name, reference):
    act = get_activation(name)
    assert act.smooth and act.params == {} and act.value_and_derivative is not None
    z = np.linspace(-8.0, 8.0, 1601)
    # The sigmoid 0.5 (tanh(z / 2) + 1) is accurate to 1e-16 absolutely, not relatively.
    np.testing.assert_allclose(act.fn(z), reference(z), rtol=1e-13, atol=1e-15)
    # The derivative against central differences, of autograd's and of the fast path.
    h = 1e-5
    fd = (reference(z + h) - reference(z - h)) / (2 * h)
    value, deriv = np.empty_like(z), np.empty_like(z)
    act.value_and_derivative(z, value, deriv)
    np.testing.assert_allclose(value, act.fn(z), rtol=1e-14, atol=1e-300)
    for d in (deriv, elementwise_grad(act.fn)(z)):
        np.testing.assert_allclose(d, fd, rtol=1e-8, atol=1e-9)
    # f'(0) = 1/2 for both: sigmoid(0) = Phi(0) = 1/2.
    act.value_and_derivative(np.zeros(1), value[:1], deriv[:1])
    assert value[0] == 0.0 and deriv[0] == 0.5
    assert elementwise_grad(act.fn)(np.zeros(1))[0] == 0.5


@pytest.mark.parametrize("name", ["silu", "gelu"])
def test_silu_and_gelu_fast_path_writes_in_place_like_separate_buffers(name):
    act = get_activation(name)
    z = np.random.default_rng(0).standard_normal((3, 7, 5)) * 4.0
    value, deriv = np.empty_like(z), np.empty_like(z)
    act.value_and_derivative(z, value, deriv)
    aliased, deriv2 = z.copy(), np.empty_like(z)
    act.value_and_derivative(aliased, aliased, deriv2)  # out_value is z itself
    np.testing.assert_array_equal(aliased, value)
    np.testing.assert_array_equal(deriv2, deriv)
    np.testing.assert_allclose(value, act.fn(z), rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(
        deriv, elementwise_grad(act.fn)(z), rtol=1e-12, atol=1e-15
    )


@pytest.mark.parametrize("name", ["silu", "gelu"])
def test_silu_and_gelu_are_finite_without_warnings_for_large_inputs(name):
    act = get_activation(name)
    z = np.array([-1e300, -1e6, -1e3, -40.0, -1e-300, 0.0, 5e-324, 40.0, 1e3, 1e300])
    value, deriv = np.empty_like(z), np.empty_like(z)
    with np.errstate(all="raise"):  # any overflow or underflow warning is an error
        act.value_and_derivative(z, value, deriv)
        fn_value = act.fn(z)
        fn_deriv = elementwise_grad(act.fn)(z)
    for a in (value, deriv, fn_value, fn_deriv):
        assert np.all(np.isfinite(a))
    # ReLU-like far out: 0 on the left, z on the right, derivatives 0 and 1
    far = np.abs(z) >= 1e3
    np.testing.assert_array_equal(value[far], np.maximum(z[far], 0.0))
    np.testing.assert_array_equal(deriv[far], (z[far] > 0).astype(float))
    np.testing.assert_array_equal(fn_value, value)
    np.testing.assert_array_equal(fn_deriv, deriv)


def test_gelu_tends_to_relu_away_from_zero():
    gelu = get_activation("gelu")
    z = np.concatenate([np.linspace(-60.0, -6.0, 541), np.linspace(6.0, 60.0, 541)])
    gap = np.abs(gelu.fn(z) - np.maximum(z, 0.0))
    assert gap.max() < 1e-6
    # |gelu(z) - relu(z)| = |z| Phi(-|z|): decreasing in |z|
    assert np.all(np.diff(gap[541:]) <= 0) and np.all(np.diff(gap[:541]) >= 0)


@pytest.mark.parametrize("name", ["silu", "gelu"])
@pytest.mark.parametrize("widths", [[1, 8, 1], [2, 5, 4, 1]])
def test_silu_and_gelu_networks_have_autograds_gradient(name, widths):
    x, y = toy_data(n=20, features=widths[0])
    pot = mlp_potential(x, y, widths, name)
    slow = Potential(pot.energy, dim=pot.dim)
    rng = np.random.default_rng(6)
    for chains in (1, 5, 40):
        q = 2.0 * pot.prior_draw(chains, rng=rng)
        fast, ref = pot.value_and_grad(q), slow.value_and_grad(q)
        np.testing.assert_allclose(fast.value, ref.value, rtol=1e-12, atol=0)
        scale = np.abs(ref.gradient).max(axis=1, keepdims=True)
        assert np.all(np.abs(fast.gradient - ref.gradient) <= 1e-12 * scale)
