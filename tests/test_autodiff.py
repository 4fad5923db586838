"""bplib.autodiff: the reverse-mode engine of chapter 11.

Random expressions (hypothesis) against finite differences and against PyTorch autograd,
the engine's MLP against bplib's layers and losses, each rule of the engine as its own
behaviour, and every bad input.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import bplib
from bplib.autodiff import Tensor, topological_order, unbroadcast
from bplib.gradcheck import numerical_gradient, relative_error

from .helpers import as_matrix, checked_error

seeds = st.integers(min_value=0, max_value=2**32 - 1)
property_test = settings(max_examples=40, deadline=None)

# ----------------------------------------------------------------- random expressions
# A random program: leaves of shapes that all broadcast to (3, 4), then a few operations,
# each taking its operands from everything computed so far, so one value is often used
# along several paths. Every operation is written once and run on bplib Tensors and on
# torch tensors alike; `k` holds the constants in the library's own type.
LEAF_SHAPES = [(3, 4), (1, 4), (4,), (3, 1), ()]

UNARY = {
    "neg": lambda x, k: -x,
    "exp": lambda x, k: x.tanh().exp(),
    "log": lambda x, k: (x * x + 0.5).log(),
    "tanh": lambda x, k: x.tanh(),
    "sigmoid": lambda x, k: x.sigmoid(),
    "relu": lambda x, k: x.relu(),
    "cube": lambda x, k: x**3,
    "pow1.5": lambda x, k: (x * x + 1) ** 1.5,
    "rdiv": lambda x, k: 2.0 / (x * x + 1),
    "rsub": lambda x, k: 1.0 - x,
    "const_times": lambda x, k: k.C * x,  # a constant array on the left
    "sum_axis0": lambda x, k: (x * k.ones).sum(axis=0, keepdims=True),
    "mean_axis1": lambda x, k: (x * k.ones).mean(axis=1, keepdims=True),
    "sum_all": lambda x, k: x.sum(),
    "mean_all": lambda x, k: (x * k.ones).mean(),
    "T_reshape": lambda x, k: (x * k.ones).T.reshape(3, 4),
    "index": lambda x, k: (x * k.ones)[[0, 0, 2]],  # row 0 twice: both gradients count
    "matmul": lambda x, k: (x * k.ones) @ k.M,
    "rmatmul": lambda x, k: (k.M @ (x * k.ones).T).T,
}
BINARY = {
    "add": lambda a, b, k: a + b,
    "sub": lambda a, b, k: a - b,
    "mul": lambda a, b, k: a * b,
    "div": lambda a, b, k: a / (b * b + 1),
}
OPS = sorted(UNARY) + sorted(BINARY)

programs = st.tuples(
    seeds,
    st.lists(
        st.tuples(st.sampled_from(OPS), st.integers(0, 99), st.integers(0, 99)),
        min_size=1,
        max_size=8,
    ),
)


def leaf_arrays(seed):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) for s in LEAF_SHAPES] + [rng.standard_normal((4, 4)) / 2]
    return rng, arrays


def run_program(leaves, steps, k):
    """Apply the steps; return every value: the leaves (less k.M), then each result."""
    pool = list(leaves[:-1])  # the matrix k.M is used by the matmul steps only
    for name, i, j in steps:
        a, b = pool[i % len(pool)], pool[j % len(pool)]
        pool.append(UNARY[name](a, k) if name in UNARY else BINARY[name](a, b, k))
    return pool


def weighted_sum(pool, weights):
    """The loss L = sum over every value v of sum(v * R_v): every path reaches it."""
    loss = 0.0
    for v, r in zip(pool, weights, strict=True):
        loss = loss + (v * r).sum()
    return loss


def ours(arrays, steps, weights):
    leaves = [Tensor(a) for a in arrays]
    k = SimpleNamespace(ones=np.ones((3, 4)), C=weights[0], M=leaves[-1])
    pool = run_program(leaves, steps, k)
    return leaves, weighted_sum(pool, weights), pool


def weights_for(rng, arrays, steps):
    """Random constant weights R_v, one per value, shaped by a dry run of the program."""
    k = SimpleNamespace(ones=np.ones((3, 4)), C=np.ones((3, 4)), M=Tensor(arrays[-1]))
    pool = run_program([Tensor(a) for a in arrays], steps, k)
    return [rng.standard_normal(v.shape) for v in pool]


def tame(pool):
    """Skip programs whose values overflow or explode (then no comparison means much)."""
    assume(all(np.isfinite(v.data).all() and np.abs(v.data).max() < 1e3 for v in pool))


@property_test
@given(programs)
def test_random_expressions_match_finite_differences(program):
    seed, steps = program
    rng, arrays = leaf_arrays(seed)
    with np.errstate(over="ignore", invalid="ignore"):
        weights = weights_for(rng, arrays, steps)
        leaves, loss, pool = ours(arrays, steps, weights)
    tame(pool)
    loss.backward()
    for leaf, array in zip(leaves, arrays, strict=True):
        numeric = numerical_gradient(lambda: ours(arrays, steps, weights)[1].item(), array)
        assert checked_error(leaf.grad, numeric) < 1e-6, (steps, leaf.grad, numeric)


@property_test
@given(programs)
def test_random_expressions_match_torch_autograd(program):
    torch = pytest.importorskip("torch", reason="PyTorch not installed: pip install torch==2.13.0")
    seed, steps = program
    rng, arrays = leaf_arrays(seed)
    with np.errstate(over="ignore", invalid="ignore"):
        weights = weights_for(rng, arrays, steps)
        leaves, loss, pool = ours(arrays, steps, weights)
    tame(pool)
    loss.backward()
    t_leaves = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    k = SimpleNamespace(
        ones=torch.ones((3, 4), dtype=torch.float64),
        C=torch.tensor(weights[0]),
        M=t_leaves[-1],
    )
    t_loss = weighted_sum(run_program(t_leaves, steps, k), [torch.tensor(w) for w in weights])
    t_loss.backward()
    assert relative_error(loss.data, t_loss.detach().numpy()) < 1e-12
    for leaf, t_leaf in zip(leaves, t_leaves, strict=True):
        theirs = np.zeros(leaf.shape) if t_leaf.grad is None else t_leaf.grad.numpy()
        assert relative_error(leaf.grad, theirs) < 1e-10, (steps, leaf.grad, theirs)


# ------------------------------------------------------- the same MLP as bplib's layers
ENGINE_ACTIVATIONS = {
    "Tanh": (bplib.Tanh, Tensor.tanh),
    "Sigmoid": (bplib.Sigmoid, Tensor.sigmoid),
    "ReLU": (bplib.ReLU, Tensor.relu),
    "Identity": (bplib.Identity, lambda t: t),
}


def engine_mse(pred, y):
    return ((pred - y) ** 2).mean()


def engine_cross_entropy(z, y):
    shift = z.data.max(axis=1, keepdims=True)  # a constant: log-sum-exp is shift-invariant
    log_p = z - ((z - shift).exp().sum(axis=1, keepdims=True).log() + shift)
    return -log_p[np.arange(len(y)), y].mean()


def engine_bce_with_logits(z, y):
    return ((1 + z.exp()).log() - y * z).mean()


def make_target(loss_name, rng, n, n_out):
    if loss_name == "mse":
        return bplib.MSELoss(), engine_mse, rng.standard_normal((n, n_out))
    if loss_name == "cross_entropy":
        return bplib.CrossEntropyLoss(), engine_cross_entropy, rng.integers(0, n_out, n)
    return bplib.BCEWithLogitsLoss(), engine_bce_with_logits, rng.uniform(0, 1, (n, n_out))


@pytest.mark.parametrize("loss_name", ["mse", "cross_entropy", "bce"])
@pytest.mark.parametrize("activation", sorted(ENGINE_ACTIVATIONS))
@settings(max_examples=15, deadline=None)
@given(batch=st.integers(1, 6), widths=st.lists(st.integers(1, 5), min_size=2, max_size=4),
       seed=seeds)  # fmt: skip
def test_engine_mlp_has_the_gradients_of_bplib_layers(loss_name, activation, batch, widths, seed):
    rng = np.random.default_rng(seed)
    layer_cls, engine_act = ENGINE_ACTIVATIONS[activation]
    sizes = [*widths, 3]
    modules: list[bplib.Module] = []
    for n_in, n_out in itertools.pairwise(sizes):
        linear = bplib.Linear(n_in, n_out, rng=rng)
        linear.bias.data[:] = rng.standard_normal(n_out)  # a zero bias would hide bias bugs
        modules += [linear, layer_cls()]
    net = bplib.Sequential(*modules[:-1])  # no activation after the last layer
    X = rng.standard_normal((batch, sizes[0]))
    loss_fn, engine_loss, y = make_target(loss_name, rng, batch, sizes[-1])
    loss = loss_fn(net(X), y)
    dX = net.backward(loss_fn.backward())

    x = Tensor(X, "X")
    params = [Tensor(p.data.copy(), name) for name, p in net.named_parameters()]
    h = x
    for i, (W, b) in enumerate(zip(params[::2], params[1::2], strict=True)):
        h = h @ W + b
        if i < len(params) // 2 - 1:
            h = engine_act(h)
    engine = engine_loss(h, y)
    engine.backward()

    assert relative_error(engine.data, np.array(loss)) < 1e-12
    assert relative_error(x.grad, dX) < 1e-10
    for t, p in zip(params, net.parameters(), strict=True):
        assert relative_error(t.grad, p.grad) < 1e-10, t.label


# ------------------------------------------------------------------ the engine's rules
def test_a_value_used_along_several_paths_gets_the_sum_of_their_gradients():
    x = Tensor(3.0)
    (x * x + 2 * x).backward()  # d/dx (x^2 + 2x) = 2x + 2
    assert x.grad == 2 * 3.0 + 2


def test_backward_accumulates_and_zero_grad_resets():
    x = Tensor(2.0)
    y = x**3  # dy/dx = 3x^2 = 12
    y.backward()
    y.backward()
    assert x.grad == 2 * 12.0
    x.zero_grad()
    assert x.grad == 0.0


def test_accumulation_does_not_double_count_through_intermediate_nodes():
    x = Tensor(1.5)
    h = x * 2  # an intermediate node that keeps its gradient
    y = h * h
    y.backward()
    y.backward()  # the second pass must add dy/dx once more, not re-use h's stored gradient
    assert x.grad == 2 * (8 * 1.5)  # dy/dx = 8x
    assert h.grad == 2 * (2 * 3.0)  # dy/dh = 2h


def test_backward_seeds_a_one_element_tensor_with_one():
    x = Tensor([[2.0]])
    (x * 5).backward()
    assert x.grad.shape == (1, 1) and x.grad[0, 0] == 5.0


def test_backward_of_a_non_scalar_uses_the_given_gradient():
    x = Tensor([1.0, 2.0, 3.0])
    (x * x).backward(np.array([1.0, 0.0, 2.0]))  # a vector-Jacobian product: g * 2x
    np.testing.assert_array_equal(x.grad, [2.0, 0.0, 12.0])


def test_unbroadcast_sums_over_added_and_stretched_axes():
    g = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(unbroadcast(g, (4,)), g.sum(axis=(0, 1)))
    np.testing.assert_array_equal(unbroadcast(g, (3, 1)), g.sum(axis=(0, 2))[:, None])
    np.testing.assert_array_equal(unbroadcast(g, ()), g.sum())
    np.testing.assert_array_equal(unbroadcast(g, (2, 3, 4)), g)


def test_a_bias_broadcast_over_the_batch_gets_the_batch_sum_of_gradients():
    Z = Tensor(np.zeros((5, 3)))
    b = Tensor(np.zeros(3))
    delta = np.arange(15.0).reshape(5, 3)
    (Z + b).backward(delta)
    np.testing.assert_array_equal(b.grad, delta.sum(axis=0))  # db = sum over the batch


def test_matmul_gradients_are_the_matrix_formulas_of_chapter_4():
    rng = np.random.default_rng(0)
    A, B = Tensor(rng.standard_normal((4, 3))), Tensor(rng.standard_normal((3, 2)))
    G = rng.standard_normal((4, 2))
    (A @ B).backward(G)
    np.testing.assert_allclose(A.grad, G @ B.data.T, rtol=1e-14)
    np.testing.assert_allclose(B.grad, A.data.T @ G, rtol=1e-14)


@pytest.mark.parametrize("shapes", [((3,), (3, 2)), ((4, 3), (3,)), ((3,), (3,))])
def test_matmul_with_a_vector_operand_matches_finite_differences(shapes):
    rng = np.random.default_rng(1)
    a_data, b_data = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    a, b = Tensor(a_data), Tensor(b_data)
    (a @ b).sum().backward()
    f = lambda: float(np.sum(a_data @ b_data))  # noqa: E731
    assert checked_error(a.grad, numerical_gradient(f, a_data)) < 1e-8
    assert checked_error(b.grad, numerical_gradient(f, b_data)) < 1e-8


def test_the_input_of_a_first_layer_needs_no_gradient_so_none_is_computed():
    X = np.ones((4, 3))  # data: a constant
    W = Tensor(np.ones((3, 2)))
    Z = X @ W
    assert Z.parents[0].requires_grad is False
    grad_X, grad_W = Z._vjp(np.ones((4, 2)))  # the VJP skips the product X needs
    assert grad_X is None and grad_W is not None


def test_constants_are_not_visited_by_the_backward_pass():
    w = Tensor(2.0)
    y = w * 3.0 + np.ones(())
    assert [t for t in topological_order(y)] == [w, y.parents[0], y]


def test_sum_and_mean_send_each_summand_the_gradient_or_its_share():
    x = Tensor(np.ones((2, 5)))
    x.sum(axis=1).backward(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(x.grad, [[1.0] * 5, [2.0] * 5])
    x.zero_grad()
    x.mean().backward()
    np.testing.assert_array_equal(x.grad, np.full((2, 5), 1 / 10))


def test_reshape_and_transpose_send_gradients_back_in_the_original_layout():
    x = Tensor(np.arange(6.0).reshape(2, 3))
    G = np.arange(6.0).reshape(3, 2) * 10
    x.T.backward(G)
    np.testing.assert_array_equal(x.grad, G.T)
    x.zero_grad()
    x.reshape(6).backward(np.arange(6.0))
    np.testing.assert_array_equal(x.grad, np.arange(6.0).reshape(2, 3))
    y = Tensor(np.zeros((2, 3, 4)))
    y.transpose(1, 2, 0).backward(np.ones((3, 4, 2)) * np.arange(2))
    np.testing.assert_array_equal(y.grad, np.ones((2, 3, 4)) * np.arange(2)[:, None, None])


def test_an_entry_indexed_twice_gets_both_gradients():
    x = Tensor([1.0, 2.0, 3.0])
    x[np.array([0, 0, 2])].backward(np.array([1.0, 10.0, 100.0]))
    np.testing.assert_array_equal(x.grad, [11.0, 0.0, 100.0])


def test_relu_derivative_is_zero_at_zero_as_in_pytorch():
    x = Tensor([-1.0, 0.0, 2.0])
    x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 1.0])


def test_power_zero_has_zero_derivative_and_square_root_is_fine_away_from_zero():
    x = Tensor([0.0, 4.0])
    (x**0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])
    y = Tensor([1.0, 4.0])
    (y**0.5).sum().backward()  # d sqrt(y)/dy = 1 / (2 sqrt(y))
    np.testing.assert_allclose(y.grad, [0.5, 0.25], rtol=1e-15)


def test_float32_stays_float32_with_python_numbers():
    x = Tensor(np.ones((2, 2), dtype=np.float32))
    y = ((2.0 * x + 1) / 3.0 - 0.5) ** 2
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_integers_become_float64():
    assert Tensor([1, 2]).dtype == np.float64


def test_a_long_chain_does_not_hit_the_recursion_limit():
    x = Tensor(1.0)
    y = x
    for _ in range(3 * sys.getrecursionlimit()):
        y = y * 1.0
    y.backward()
    assert x.grad == 1.0


def test_a_custom_operation_made_with_from_op_joins_the_graph():
    def sin(t: Tensor) -> Tensor:
        return Tensor.from_op(np.sin(t.data), (t,), lambda g: (g * np.cos(t.data),), "sin")

    x = Tensor(0.3)
    (sin(x) * x).backward()  # d/dx x sin x = sin x + x cos x
    assert x.grad == pytest.approx(np.sin(0.3) + 0.3 * np.cos(0.3), rel=1e-15)


def test_repr_shows_value_label_and_operation():
    a = Tensor(2.0, "a")
    assert repr(a) == "Tensor(2., label='a')"
    assert repr(a * 3) == "Tensor(6., op='*')"


def test_import_of_autodiff_needs_numpy_only():
    code = (
        "import sys, bplib.autodiff; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sympy', 'matplotlib')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ----------------------------------------------------------------------- bad input
def test_matmul_refuses_mismatched_inner_dimensions():
    with pytest.raises(
        ValueError, match=r"matching inner dimensions: \(2, 3\) @ \(4, 5\) \(3 != 4\)"
    ):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5)))


def test_matmul_refuses_operands_that_are_not_1d_or_2d():
    with pytest.raises(ValueError, match=r"1-D or 2-D operands, got shapes \(2, 2, 2\) @ \(2,\)"):
        Tensor(np.ones((2, 2, 2))) @ np.ones(2)


def test_backward_without_a_gradient_refuses_a_non_scalar():
    with pytest.raises(RuntimeError, match=r"one element \(a loss\), got shape \(3,\).*sum\(\)"):
        (Tensor([1.0, 2.0, 3.0]) * 2).backward()


def test_backward_refuses_a_gradient_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"tensor's shape \(3,\), got \(1, 3\)"):
        Tensor([1.0, 2.0, 3.0]).backward(np.ones((1, 3)))


def test_backward_refuses_a_tensor_that_needs_no_gradient():
    with pytest.raises(RuntimeError, match="needs no gradient"):
        Tensor(1.0, requires_grad=False).backward()


def test_shapes_that_do_not_broadcast_are_refused_by_name():
    with pytest.raises(ValueError, match=r"'\+' cannot broadcast shapes \(2, 3\) and \(2,\)"):
        Tensor(np.ones((2, 3))) + np.ones(2)


def test_log_of_a_non_positive_value_is_refused():
    with pytest.raises(ValueError, match="log needs positive values, got a minimum of -1"):
        Tensor([1.0, -1.0]).log()


def test_division_by_zero_is_refused():
    with pytest.raises(ZeroDivisionError, match=r"'/' by a tensor that contains 0"):
        Tensor(1.0) / Tensor([1.0, 0.0])


def test_power_refuses_a_tensor_exponent_and_non_real_results():
    with pytest.raises(TypeError, match=r"constant number as exponent, got Tensor.*exp\(\)"):
        Tensor(2.0) ** Tensor(2.0)
    with pytest.raises(ValueError, match="negative entries is not a real number"):
        Tensor([-1.0]) ** 0.5
    with pytest.raises(ZeroDivisionError, match="contains 0"):
        Tensor([0.0]) ** -1
    with pytest.raises(ZeroDivisionError, match=r"derivative of x \*\* 0.5 is infinite at x = 0"):
        (Tensor([0.0]) ** 0.5).sum().backward()


def test_exp_overflow_is_refused_instead_of_returning_infinity():
    with pytest.raises(FloatingPointError, match="exp overflowed: the largest input is 1000"):
        Tensor([1.0, 1000.0]).exp()


def test_non_numbers_and_non_finite_values_are_refused():
    with pytest.raises(TypeError, match="expected real numbers, got str"):
        Tensor("abc")
    with pytest.raises(ValueError, match="NaN or infinity"):
        Tensor([1.0, np.nan])
    with pytest.raises(TypeError, match="got a Tensor"):
        Tensor(Tensor(1.0))


def test_bad_shapes_and_axes_are_refused():
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(
        ValueError, match=r"cannot reshape a tensor of shape \(2, 3\) \(6 elements\)"
    ):
        x.reshape(4, 2)
    with pytest.raises(ValueError, match=r"permutation of \[0, 1\], got \(0, 0\)"):
        x.transpose(0, 0)
    with pytest.raises(ValueError, match=r"axis 2 is out of range for a tensor of shape \(2, 3\)"):
        x.sum(axis=2)
    with pytest.raises(ValueError, match=r"item\(\) needs a tensor with one element"):
        x.item()


def test_a_custom_vjp_of_the_wrong_shape_is_refused_by_name():
    x = Tensor([1.0, 2.0])
    bad = Tensor.from_op(x.data.sum(), (x,), lambda g: (g,), "badsum")
    with pytest.raises(ValueError, match=r"VJP of 'badsum' returned a gradient of shape \(\)"):
        bad.backward()


def test_unbroadcast_refuses_a_matrix_and_complex():
    with pytest.raises(TypeError, match=r"grad must be a numpy array, got np\.matrix"):
        bplib.autodiff.unbroadcast(as_matrix(np.ones((2, 3))), (1, 3))
    with pytest.raises(TypeError, match="grad must hold real numbers, got dtype complex128"):
        bplib.autodiff.unbroadcast(np.ones((2, 3), complex), (1, 3))
