"""Exercise cases of the chapter 'matrix_backprop' for tests/book/test_student.py.

WRONG: plausible wrong answers each check must call "Not yet" (and not the stub's message).
ALSO_RIGHT: other correct answers each check must call "Correct".
Keys: the exercise's first answer name (a function's name for a function body); a value
is the text that replaces the solution region (a tuple of texts, one per region).
"""

from __future__ import annotations

WRONG: dict[str, list[str | tuple[str, ...]]] = {
    "dX": [
        "dX = (delta1 @ W1.T) * (1 - X**2)",  # an activation below X
        "dX = -(delta1 @ W1.T)",  # sign
        "dX = (delta2 @ W2.T) @ W1.T",  # tanh' left out
        "dX = W1 @ delta1.T",  # transposed
        "dX = 'delta1 @ W1.T'",  # a string
    ],
    "dW1_averaged": [
        "dW1_averaged = dW1 * N",  # summed
        "per_example = []\nfor n in range(N):\n    x_n, y_n = X[n : n + 1], Y[n : n + 1]\n"
        "    a1_n = np.tanh(x_n @ W1 + b1)\n    d2_n = 2 * (a1_n @ W2 + b2 - y_n) / (N * n_out)\n"
        "    d1_n = (d2_n @ W2.T) * (1 - a1_n**2)\n    per_example.append(x_n.T @ d1_n)\n"
        "dW1_averaged = np.mean(per_example, axis=0)",  # 1/N twice
        "dW1_averaged = X.T @ delta1 * 2",  # another factor
    ],
    "grad_V3": [
        "grad_V3 = d3.T @ A2\nd2_from_d3 = (d3 @ V3.T) * A2 * (1 - A2)",  # transposed
        "grad_V3 = A2.T @ d3\nd2_from_d3 = d3 @ V3.T",  # no sigma'
        "grad_V3 = A2.T @ d3\nd2_from_d3 = (d3 @ V3.T) * (1 - A2**2)",  # tanh's derivative
        "grad_V3 = (A2 * (1 - A2)).T @ d3\nd2_from_d3 = (d3 @ V3.T) * A2 * (1 - A2)",
        "grad_V3 = A1.T @ d3\nd2_from_d3 = (d3 @ V3.T) * A2 * (1 - A2)",  # wrong activation
    ],
    "deep_ratio": [
        "deep_ratio = 2.0",  # the first layer's dL/dX counted
        "deep_ratio = 1.57",  # rounded
        "pairs = list(pairwise(deep_widths))\n"
        "deep_forward = sum(deep_batch * a * b for a, b in pairs)\n"
        "deep_backward = sum(deep_batch * a * b * (1 if i == 0 else 2) for i, (a, b) in enumerate(pairs))\n"
        "deep_ratio = deep_forward / deep_backward",  # inverted
        "pairs = list(pairwise(deep_widths))\n"
        "deep_forward = sum(deep_batch * a * b for a, b in pairs)\n"
        "deep_backward = sum(deep_batch * a * b * (0 if i == 0 else 2) for i, (a, b) in enumerate(pairs))\n"
        "deep_ratio = deep_backward / deep_forward",  # the first layer's dL/dW dropped too
        "deep_ratio = 'about 1.6'",
    ],
}

ALSO_RIGHT: dict[str, list[str | tuple[str, ...]]] = {
    "dX": ["dX = (W1 @ delta1.T).T", "dX = np.einsum('nk,jk->nj', delta1, W1)"],
    "dW1_averaged": ["dW1_averaged = X.T @ delta1"],
    "grad_V3": ["grad_V3 = np.einsum('nj,nk->jk', A2, d3)\nd2_from_d3 = d3 @ V3.T * (A2 - A2**2)"],
    "deep_ratio": [
        "costs_ = [(deep_batch * a * b, deep_batch * a * b * (1 if i == 0 else 2))\n"
        "          for i, (a, b) in enumerate(pairwise(deep_widths))]\n"
        "deep_ratio = sum(b for _, b in costs_) / sum(f for f, _ in costs_)"
    ],
}
