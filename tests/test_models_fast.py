"""The fast gradient of MLPPotential: exact against autograd (also on kinks), blocks of
chains, copies."""

from __future__ import annotations

import copy
import importlib.util

import numpy as np
import pytest

from hmc_lite import ACTIVATIONS, MLPPotential, Potential, get_activation, mlp_potential

# Depths 1, 2 and 3, with one input (the first layer as one matrix product) and with
# several.
WIDTHS = [[1, 50, 1], [3, 6, 1], [1, 8, 8, 1], [2, 5, 4, 3, 1], [1, 20, 20, 20, 1]]
# Every activation, and the ReLU family with every kind of derivative at 0.
SETTINGS = [(name, {}) for name in ACTIVATIONS] + [
    ("relu", {"grad_at_zero": 0.5}),
    ("relu", {"grad_at_zero": 1.0}),
    ("leaky_relu", {"slope": 0.2, "grad_at_zero": 0.2}),
    ("leaky_relu", {"slope": 0.2, "grad_at_zero": 1.0}),
]


def make_potential(widths, name, options, n=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2.0, 2.0, size=(n, widths[0]))
    y = np.sin(2.0 * x[:, 0]) + 0.1 * rng.standard_normal(n)
    return mlp_potential(x, y, widths, name, **options)


def autograd_value_and_grad(pot, q):
    """The generic autograd path of :class:`Potential`, bypassing the hand-written one.
    """
    return Potential.value_and_grad(pot, q)


def assert_exact(fast, slow):
    """Energies within 1e-12 relative; each chain's gradient within 1e-12 of its largest
    entry."""
    np.testing.assert_allclose(fast.value, slow.value, rtol=1e-12, atol=0)
    scale = np.abs(slow.gradient).max(axis=1, keepdims=True)
    assert np.all(np.abs(fast.gradient - slow.gradient) <= 1e-12 * scale), np.max(
        np.abs(fast.gradient - slow.gradient) / scale
    )


def on_kinks(pot, q, rng, per_layer=3):
    """``q`` with biases moved so that, in every hidden layer of every chain,
    ``per_layer`` units have a pre-activation of exactly 0 at some data point (as
    computed by autograd's path).
    """
    q = q.copy()
    n = pot.x.shape[0]
    start = 0
    for k, ((a, b), _) in enumerate(pot.shapes[:-1]):
        bias = slice(start + a * b, start + a * b + b)
        for c in range(q.shape[0]):
            for j in rng.choice(b, size=min(per_layer, b), replace=False):
                q[c, bias.start + j] = 0.0
                i = rng.integers(n)
                q[c, bias.start + j] = -pot.pre_activations(q[c:c + 1])[k][0, i, j]
                assert pot.pre_activations(q[c:c + 1])[k][0, i, j] == 0.0
        start += a * b + b
    return q


# and no hidden layer at all
@pytest.mark.parametrize("widths", WIDTHS + [[2, 1]], ids=str)
@pytest.mark.parametrize("name, options", SETTINGS)
def test_fast_gradient_is_autograds_to_1e_12_in_several_blocks(widths, name, options):
    pot = make_potential(widths, name, options)
    pot.chain_block = 4  # 11 chains: blocks of 4, 4 and 3
    q = pot.prior_draw(11, rng=np.random.default_rng(1))
    assert_exact(pot.value_and_grad(q), autograd_value_and_grad(pot, q))


@pytest.mark.parametrize("widths", WIDTHS, ids=str)
@pytest.mark.parametrize("name, options", SETTINGS)
def test_fast_gradient_is_autograds_to_1e_12_on_exact_kinks(widths, name, options):
    pot = make_potential(widths, name, options)
    pot.chain_block = 3
    rng = np.random.default_rng(2)
    q = on_kinks(pot, pot.prior_draw(5, rng=rng), rng)
    zeros = [int((z == 0.0).sum()) for z in pot.pre_activations(q)]
    assert all(count >= 5 for count in zeros), zeros
    assert_exact(pot.value_and_grad(q), autograd_value_and_grad(pot, q))


@pytest.mark.parametrize("widths", WIDTHS, ids=str)
def test_the_kink_test_can_tell_the_conventions_apart(widths):
    """On the kinks built above, ReLU'(0) = 0 and ReLU'(0) = 1 give different gradients,
    so the previous test would notice a fast path that missed the exact zeros."""
    grads = []
    for g0 in (0.0, 1.0):
        pot = make_potential(widths, "relu", {"grad_at_zero": g0})
        rng = np.random.default_rng(2)
        q = on_kinks(pot, pot.prior_draw(5, rng=rng), rng)
        grads.append(pot.value_and_grad(q).gradient)
    assert np.abs(grads[0] - grads[1]).max() > 1e-6


@pytest.mark.parametrize("widths", WIDTHS, ids=str)
@pytest.mark.parametrize("name", ["relu", "sigmoid"])
def test_each_chain_depends_on_itself_alone_not_on_the_blocks(widths, name):
    pot = make_potential(widths, name, {})
    q = pot.prior_draw(10, rng=np.random.default_rng(3))
    reference = pot.value_and_grad(q)
    for block in (1, 3, 10, 1000):
        pot.chain_block = block
        vg = pot.value_and_grad(q)
        np.testing.assert_array_equal(vg.value, reference.value)
        np.testing.assert_array_equal(vg.gradient, reference.gradient)
    one_by_one = [pot.value_and_grad(q[c:c + 1]) for c in range(len(q))]
    np.testing.assert_array_equal(
        np.concatenate([vg.gradient for vg in one_by_one]), reference.gradient
    )
    # A diverged chain (as inside a trajectory, check=False) leaves the others
    # untouched.
    broken = q.copy()
    broken[4] = np.inf
    with np.errstate(all="ignore"):
        vg = pot.value_and_grad(broken, check=False)
    others = np.arange(len(q)) != 4
    np.testing.assert_array_equal(vg.gradient[others], reference.gradient[others])
    assert not np.all(np.isfinite(vg.gradient[4]))


@pytest.mark.parametrize("widths", [[1, 6, 1], [1, 4, 4, 1]], ids=str)
def test_scratch_space_reused_across_batch_sizes_keeps_results_and_no_old_arrays(
    widths,
):
    pot = make_potential(widths, "relu", {})
    pot.chain_block = 3
    q = pot.prior_draw(9, rng=np.random.default_rng(5))
    reference = [pot.value_and_grad(q[c:c + 1]).gradient for c in range(9)]
    for chains in (1, 2, 5, 9, 5, 2, 1, 7):  # growing and shrinking batches
        grad = pot.value_and_grad(q[:chains]).gradient
        np.testing.assert_array_equal(grad, np.concatenate(reference[:chains]))
    # every cached workspace is made of the current scratch arrays, so the arrays that
    # growing batches replaced are not kept alive
    current = {id(a) for a in pot._local.arrays.values()}
    for space in pot._local.workspaces.values():
        views = [space.resid, space.prior] + [
            a for _, work in space.blocks for pair in work for a in pair
        ]
        assert all(id(v.base) in current for v in views)


def test_default_block_keeps_one_array_within_the_cache_budget():
    pot = make_potential([1, 50, 1], "relu", {}, n=100)
    assert pot.chain_block == 8  # 8 chains x 100 points x 50 units x 8 bytes = 320 kB
    for widths, n in (
        ([1, 50, 1], 100),
        ([1, 200, 1], 100),
        ([1, 20, 20, 1], 333),
        ([3, 7, 1], 10_000),
    ):
        pot = make_potential(widths, "relu", {}, n=n)
        size = 8 * n * max(widths[1:-1])
        assert pot.chain_block == max(1, MLPPotential.CACHE_BYTES // size)
        assert (
            pot.chain_block * size <= MLPPotential.CACHE_BYTES or pot.chain_block == 1
        )


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "8", None])
def test_chain_block_must_be_a_positive_integer(bad):
    pot = make_potential([1, 5, 1], "relu", {})
    with pytest.raises(ValueError, match="chain_block"):
        pot.chain_block = bad
    assert pot.chain_block >= 1
    pot.chain_block = np.int64(3)
    assert pot.chain_block == 3 and type(pot.chain_block) is int


def test_copies_keep_the_block_size_and_the_gradient():
    """Copies (deepcopy, and cloudpickle as used to ship work to other processes)
    rebuild the per-thread scratch space instead of sharing it."""
    for name in ("relu", "sigmoid"):
        pot = make_potential([1, 6, 6, 1], name, {})
        pot.chain_block = 2
        q = pot.prior_draw(5, rng=np.random.default_rng(4))
        expected = pot.value_and_grad(q)
        clones = [copy.deepcopy(pot)]
        if importlib.util.find_spec("cloudpickle") is not None:
            import cloudpickle

            clones.append(cloudpickle.loads(cloudpickle.dumps(pot)))
        for clone in clones:
            assert clone.chain_block == 2 and clone._local is not pot._local
            np.testing.assert_array_equal(
                clone.value_and_grad(q).gradient, expected.gradient
            )


@pytest.mark.parametrize("name, options", [
    ("relu", {}), ("relu", {"grad_at_zero": 0.5}), ("leaky_relu", {"slope": 0.1}),
    ("leaky_relu", {"slope": 0.1, "grad_at_zero": 1.0}),
])
def test_piecewise_linear_derivative_alone_is_the_derivative_and_the_values_follow(
    name, options
):
    act = get_activation(name, **options)
    z = np.array([-3.0, -1e-300, 0.0, -0.0, 1e-300, 2.0])
    value, deriv = np.empty_like(z), np.empty_like(z)
    act.value_and_derivative(z, value, deriv)
    alone = act.value_and_derivative.derivative_only(z, out=np.empty_like(z))
    np.testing.assert_array_equal(alone, deriv)
    assert alone[2] == alone[3] == act.params["grad_at_zero"]
    # f(z) = z f'(z), which the fast path relies on
    np.testing.assert_array_equal(z * alone, value)
