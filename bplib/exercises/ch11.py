"""Answer keys of chapter 11, reverse-mode automatic differentiation (``check("11.M", ...)``).

Each key recomputes its reference from the exercise's statement (the function of
eq-autodiff-f, the point ``x_point`` of exercise 2, the sizes of the large network) and
calls the student's function on inputs of its own, so nothing in the notebook can change
what counts as correct.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import numpy as np

from bplib.autodiff import Tensor
from bplib.exercises import NotYet, answer, array, close, number

__all__ = ["ex1", "ex2", "ex3"]

_SEED = 1101  # the keys' own inputs


def _sin_output(sin: Callable[[Tensor], object], t: Tensor) -> Tensor:
    out = answer(sin(t))
    if not isinstance(out, Tensor):
        raise NotYet(
            f"sin should return a Tensor (made with Tensor.from_op), not {type(out).__name__}"
        )
    if out.shape != t.shape:
        raise NotYet(
            f"sin of a Tensor of shape {t.shape} returned shape {out.shape}: "
            "the sine acts elementwise"
        )
    if not any(parent is t for parent in out.parents):
        raise NotYet(
            "the result does not record t among its parents: pass (t,) to from_op, "
            "or no gradient can reach t"
        )
    return out


def _vjp_gradient(out: Tensor, g: np.ndarray) -> np.ndarray:
    """The input gradient the answer's VJP returns for the output gradient ``g``."""
    if out._vjp is None:
        raise NotYet("the result has no VJP: give from_op a function of the output's gradient")
    grads = out._vjp(g)
    if isinstance(grads, np.ndarray | Tensor | float | int | np.floating):
        raise NotYet(
            f"the VJP must return a tuple, one gradient per parent (here one: `(grad,)`); "
            f"it returned a bare {type(grads).__name__}"
        )
    if not isinstance(grads, tuple | list):
        raise NotYet(
            f"the VJP must return a tuple, one gradient per parent, not {type(grads).__name__}"
        )
    if len(grads) != 1:
        raise NotYet(
            f"the VJP returned {len(grads)} gradients for 1 parent: the tuple needs "
            "exactly one, the gradient of t"
        )
    grad = grads[0]
    if isinstance(grad, Tensor):
        raise NotYet(
            "the VJP should return numpy arrays (use t.data, not t): the engine "
            "does not differentiate its own backward pass"
        )
    return array(grad, "the VJP's gradient", g.shape)


def ex1(sin: Callable[[Tensor], object]) -> str:
    """Exercise 11.1: ``sin(t)``, the sine as an operation of the engine.

    Checks that ``sin`` returns a Tensor of the sine's values with ``t`` as its parent, that
    its VJP returns a tuple (a bare array gets "the VJP must return a tuple"), then the
    VJP itself on an array with random output gradients (diagnoses: multiplied by the
    function's value instead of its derivative, incoming gradient ``g`` ignored, wrong
    sign), then the whole gradient of eq-autodiff-f through the engine at five points.
    """
    if not callable(sin):
        raise NotYet(f"sin should be a function of a Tensor, not {type(sin).__name__}")
    rng = np.random.default_rng(_SEED)
    x = rng.uniform(-3.0, 3.0, size=6)
    t = Tensor(x)
    out = _sin_output(sin, t)
    if not close(out.data, np.sin(x), rtol=1e-12, atol=1e-14):
        raise NotYet("the value of sin(t) is not the sine of t's values (numpy's np.sin of t.data)")
    g = rng.uniform(0.5, 2.0, size=6) * rng.choice([-1.0, 1.0], size=6)
    grad = _vjp_gradient(out, g)
    slope = np.cos(x)
    if not close(grad, g * slope, rtol=1e-10, atol=1e-14):
        if close(grad, g * np.sin(x), rtol=1e-10, atol=1e-14):
            raise NotYet("the VJP multiplies g by the sine itself: it needs the sine's derivative")
        if close(grad, slope, rtol=1e-10, atol=1e-14) or close(grad, -slope, rtol=1e-10):
            raise NotYet(
                "the VJP ignores its argument g, the gradient arriving from the "
                "output: the chain rule multiplies by it"
            )
        if close(grad, -g * slope, rtol=1e-10, atol=1e-14):
            raise NotYet("the VJP has the wrong sign")
        raise NotYet("the VJP's gradient is not g times the local derivative of the sine")
    points = rng.uniform(0.5, 3.0, size=(5, 2))
    for p1, p2 in points:
        a, b = Tensor(p1), Tensor(p2)
        f = a.log() + a * b - _sin_output(sin, b)
        f.backward()
        exact = [1 / p1 + p2, p1 - np.cos(p2)]  # the gradient of eq-autodiff-f
        if not close([a.grad.item(), b.grad.item()], exact, rtol=1e-12):
            raise NotYet(
                "the VJP is right alone, but the gradient of f through the engine "
                "is not: does the VJP depend on something other than g and t?"
            )
    return f"Correct: the engine now differentiates f at {len(points)} points, as SymPy does"


def _jacobian_exact(x: Sequence[float]) -> np.ndarray:
    x1, x2, x3 = x
    th = np.tanh(x3)
    return np.array([[x2, x1, 1.0], [np.exp(x1) * th, 0.0, np.exp(x1) * (1 - th**2)]])


def ex2(jacobian: object) -> str:
    """Exercise 11.2: the 2 x 3 Jacobian of g at x_point = (0.5, -1, 2), row by row.

    Compares with the exact Jacobian (SymPy's, written out). Diagnoses: wrong shape or
    transposed; second row holding the sum of both rows (no ``zero_grad`` between the
    passes); rows swapped; otherwise which row is wrong. Never shows the expected entries.
    """
    J = array(jacobian, "jacobian", (2, 3))
    exact = _jacobian_exact((0.5, -1.0, 2.0))
    if close(J, exact, rtol=1e-12, atol=1e-15):
        return "Correct: the Jacobian from two backward passes equals SymPy's\n" + str(J)
    if close(J[0], exact[0], rtol=1e-12) and close(J[1], exact[0] + exact[1], rtol=1e-12):
        raise NotYet(
            "row 2 holds row 1 + row 2: gradients accumulate, set them to zero between the passes"
        )
    if close(J, exact[::-1], rtol=1e-12):
        raise NotYet("the rows are swapped: row i is the pass seeded with e_i")
    wrong = [i + 1 for i in range(2) if not close(J[i], exact[i], rtol=1e-12, atol=1e-15)]
    rows = " and ".join(f"row {i}" for i in wrong)
    raise NotYet(
        f"{rows} of your Jacobian differ{'s' if len(wrong) == 1 else ''} from the "
        "derivatives of g at x_point: seed the pass of row i with e_i"
    )


def _multiply_adds(sizes: Sequence[int], N: int, input_needs_grad: bool) -> tuple[int, int]:
    forward = backward = 0
    for layer, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        forward += N * n_in * n_out
        backward += N * n_in * n_out
        if layer > 0 or input_needs_grad:
            backward += N * n_in * n_out
    return forward, backward


def ex3(forward_madds: object, backward_madds: object, ratio_with_input_gradient: object) -> str:
    """Exercise 11.3: multiply-adds of [784, 512, 512, 10] at batch 128 with dL/dX too.

    Checks the forward count, the backward count with the input gradient, and their ratio.
    Diagnoses: forward count without the batch size or missing a layer; backward count
    that leaves out dL/dX (the chapter's table), that counts one product per layer, or
    counts dL/dX twice; a ratio that is not the quotient of the two counts. The verdict
    never states the expected counts.
    """
    forward = number(forward_madds, "forward_madds")
    backward = number(backward_madds, "backward_madds")
    ratio = number(ratio_with_input_gradient, "ratio_with_input_gradient")
    sizes, N = [784, 512, 512, 10], 128
    fwd, bwd = _multiply_adds(sizes, N, input_needs_grad=True)
    _, bwd_without = _multiply_adds(sizes, N, input_needs_grad=False)
    per_layer = [N * a * b for a, b in itertools.pairwise(sizes)]
    if forward != fwd:
        if forward * N == fwd:
            raise NotYet(
                "forward_madds leaves out the batch: every example goes through every product"
            )
        if any(forward == fwd - layer for layer in per_layer):
            raise NotYet("forward_madds misses one layer's product")
        raise NotYet(
            "forward_madds is off: count one matrix product per layer, for the whole batch"
        )
    if backward != bwd:
        if backward == bwd_without:
            raise NotYet(
                "that backward count leaves out dL/dX, the input gradient this "
                "exercise needs (it is the count of the chapter's table)"
            )
        if backward == fwd:
            raise NotYet(
                "backward_madds counts one product per layer: the backward pass "
                "of a layer that passes the gradient on does two"
            )
        if backward == bwd + per_layer[0]:
            raise NotYet("backward_madds counts dL/dX once too often")
        raise NotYet(
            "backward_madds is off: with the input gradient, which products does "
            "each layer's backward pass compute?"
        )
    if not np.isclose(ratio, backward / forward, rtol=1e-12):
        raise NotYet(
            "the counts are right, but ratio_with_input_gradient is not "
            "backward_madds / forward_madds"
        )
    return (
        f"Correct: {backward:,.0f} / {forward:,.0f} = {ratio:.3f}. Every layer now does "
        "two products backward for one forward (without the input gradient the ratio is "
        f"{bwd_without / fwd:.3f})"
    )
