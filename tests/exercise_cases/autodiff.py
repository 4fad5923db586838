"""Exercise cases of the chapter 'autodiff' for tests/book/test_student.py.

WRONG: plausible wrong answers each check must call "Not yet" (and not the stub's message).
ALSO_RIGHT: other correct answers each check must call "Correct".
Keys: the exercise's first answer name (a function's name for a function body); a value
is the text that replaces the solution region (a tuple of texts, one per region).
"""

from __future__ import annotations

WRONG: dict[str, list[str | tuple[str, ...]]] = {
    "sin": [
        "return Tensor.from_op(np.sin(t.data), (t,), lambda g: (g * np.sin(t.data),), 'sin')",
        "return Tensor.from_op(np.sin(t.data), (t,), lambda g: (np.cos(t.data),), 'sin')",
        # a VJP that returns a bare array, not a tuple (crashed inside Tensor.backward)
        "return Tensor.from_op(np.sin(t.data), (t,), lambda g: g * np.cos(t.data), 'sin')",
        "return np.sin(t.data)",  # a value, not a Tensor of the graph
        "return Tensor(np.sin(t.data))",  # a new leaf: no path back to t
    ],
    "jacobian": [
        "x_t = Tensor(x_point)\nout = g_engine(x_t)\nrows = []\nfor i in range(2):\n"
        "    out.backward(np.eye(2)[i])\n    rows.append(x_t.grad.copy())\n"
        "jacobian = np.array(rows)",  # no zero_grad between passes
        "x_t = Tensor(x_point)\nout = g_engine(x_t)\nrows = []\nfor i in range(2):\n"
        "    x_t.zero_grad()\n    out.backward(np.eye(2)[i])\n    rows.append(x_t.grad.copy())\n"
        "jacobian = np.array(rows).T",  # transposed
        "jacobian = np.zeros((2, 3))",
    ],
    "forward_madds": [
        "forward_madds, backward_madds = 1, 2\nratio_with_input_gradient = 2.0",  # a guess
        "forward_madds = sum(batch_big * a * b for a, b in zip(sizes_big[:-1], sizes_big[1:]))\n"
        "backward_madds = 2 * forward_madds - batch_big * 784 * 512\n"  # no dL/dX
        "ratio_with_input_gradient = backward_madds / forward_madds",
        "forward_madds = sum(a * b for a, b in zip(sizes_big[:-1], sizes_big[1:]))\n"  # no batch
        "backward_madds = 2 * forward_madds\nratio_with_input_gradient = 2.0",
        "forward_madds = sum(batch_big * a * b for a, b in zip(sizes_big[:-1], sizes_big[1:]))\n"
        "backward_madds = 2 * forward_madds\nratio_with_input_gradient = 1.4",  # stale ratio
        "forward_madds, backward_madds = 'many', 'more'\nratio_with_input_gradient = 2",
    ],
}

ALSO_RIGHT: dict[str, list[str | tuple[str, ...]]] = {
    "sin": [
        "return Tensor.from_op(np.sin(t.data), (t,), lambda g: [np.cos(t.data) * g], 'sin')",
        "value = np.sin(t.data)\n\ndef vjp(g):\n    return (g * np.cos(t.data),)\n\n"
        "return Tensor.from_op(value, [t], vjp)",
    ],
    "forward_madds": [
        "forward_madds = float(np.dot(np.array(sizes_big[:-1]), np.array(sizes_big[1:])) * 128)\n"
        "backward_madds = 2.0 * forward_madds\nratio_with_input_gradient = np.float64(2)",
    ],
}
