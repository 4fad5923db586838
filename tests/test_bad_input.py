"""Bad input that used to pass silently or reach numpy, matplotlib or mpmath (issue 27,
"the rest of the bad-input probe"): each case expects a bplib message naming the argument
and what was given, raised before any state changes."""

from __future__ import annotations

import numpy as np
import pytest

from bplib.autodiff import Tensor, topological_order


def _leaf() -> Tensor:
    return Tensor([1.0, 2.0])


# ----------------------------------------------------------------------------- autodiff
@pytest.mark.parametrize(
    ("data", "shown"), [(None, "None"), ("junk", "str 'junk'"), ([1.0], "list")]
)
def test_from_op_refuses_data_that_is_not_an_array(data: object, shown: str) -> None:
    with pytest.raises(
        TypeError, match=rf"from_op\('f'\): data must be a numpy array .*got {shown}"
    ):
        Tensor.from_op(data, (_leaf(),), lambda g: (g,), "f")


def test_from_op_refuses_non_numeric_data() -> None:
    with pytest.raises(TypeError, match=r"data must hold real numbers, got dtype <U1"):
        Tensor.from_op(np.array(["a"]), (_leaf(),), lambda g: (g,), "f")


@pytest.mark.parametrize(("vjp", "shown"), [(None, "None"), ("junk", "str 'junk'")])
def test_from_op_refuses_a_vjp_that_is_not_callable(vjp: object, shown: str) -> None:
    with pytest.raises(TypeError, match=rf"from_op\('f'\): vjp must be a function.*got {shown}"):
        Tensor.from_op(np.ones(2), (_leaf(),), vjp, "f")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("parents", "match"),
    [
        (None, r"parents must be a sequence of Tensors \(e.g. \(a, b\)\), got None"),
        ([np.ones(2)], r"parents\[0\] must be a Tensor, got dtype float64, shape \(2,\)"),
    ],
)
def test_from_op_refuses_parents_that_are_not_tensors(parents: object, match: str) -> None:
    with pytest.raises(TypeError, match=match):
        Tensor.from_op(np.ones(2), parents, lambda g: (g,), "f")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("vjp", "kind", "match"),
    [
        (
            lambda g: (g, g),
            ValueError,
            r"VJP of 'f' must return one gradient per parent \(1\), got 2",
        ),
        (lambda g: (), ValueError, r"one gradient per parent \(1\), got 0"),
        (lambda g: None, TypeError, r"VJP of 'f' must return a sequence of gradients.*got None"),
        (lambda g: ("junk",), TypeError, r"must return numpy arrays \(or None\), got str 'junk'"),
    ],
)
def test_backward_refuses_a_vjp_with_the_wrong_gradients(vjp, kind, match) -> None:  # type: ignore[no-untyped-def]
    a = _leaf()
    out = Tensor.from_op(a.data * 2, (a,), vjp, "f")
    with pytest.raises(kind, match=match):
        out.sum().backward()
    assert not a.grad.any()  # nothing was accumulated


def test_topological_order_refuses_a_root_that_is_not_a_tensor() -> None:
    with pytest.raises(TypeError, match=r"topological_order: root must be a Tensor, got None"):
        topological_order(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"root must be a Tensor, got dtype float64"):
        topological_order(np.zeros(2))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("axes", "shown"), [(("a", "b"), "str 'a'"), ((0.0, 1.0), "0.0"), ((None,), "None")]
)
def test_transpose_refuses_axes_that_are_not_integers(axes: tuple, shown: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(TypeError, match=rf"transpose: axes must be integers.*got {shown}"):
        Tensor(np.zeros((2, 3))).transpose(*axes)


def test_transpose_takes_the_axes_as_one_tuple_too() -> None:
    t = Tensor(np.arange(6.0).reshape(2, 3))
    assert np.array_equal(t.transpose((1, 0)).data, t.data.T)


@pytest.mark.parametrize(
    ("shape", "shown"),
    [(("a",), "str 'a'"), ((None,), "None"), ((2.0, 3.0), "2.0"), (((3, "a"),), "str 'a'")],
)
def test_reshape_refuses_a_shape_that_is_not_integers(shape: tuple, shown: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(TypeError, match=rf"reshape: shape must be integers.*got {shown}"):
        Tensor(np.zeros((2, 3))).reshape(*shape)


def test_reshape_takes_a_numpy_integer_and_a_list() -> None:
    t = Tensor(np.arange(6.0).reshape(2, 3))
    assert t.reshape(np.int64(6)).shape == (6,)
    assert t.reshape([3, 2]).shape == (3, 2)
