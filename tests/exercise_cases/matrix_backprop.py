"""Exercise cases of the chapter 'matrix_backprop' for tests/test_student.py.

WRONG: plausible wrong answers each check must call "Not yet" (and not the stub's message).
ALSO_RIGHT: other correct answers each check must call "Correct".
Keys: the exercise's first answer name (a function's name for a function body); a value
is the text that replaces the solution region (a tuple of texts, one per region).
"""

from __future__ import annotations

WRONG: dict[str, list[str | tuple[str, ...]]] = {
    "dX": ["dX = (delta1 @ W1.T) * (1 - X**2)"],
    "dW1_averaged": [
        "dW1_averaged = dW1 * N",  # summed
        "per_example = []\nfor n in range(N):\n    x_n, y_n = X[n : n + 1], Y[n : n + 1]\n"
        "    a1_n = np.tanh(x_n @ W1 + b1)\n    d2_n = 2 * (a1_n @ W2 + b2 - y_n) / (N * n_out)\n"
        "    d1_n = (d2_n @ W2.T) * (1 - a1_n**2)\n    per_example.append(x_n.T @ d1_n)\n"
        "dW1_averaged = np.mean(per_example, axis=0)",  # 1/N twice
    ],
    "grad_V3": [
        "grad_V3 = d3.T @ A2\nd2_from_d3 = (d3 @ V3.T) * A2 * (1 - A2)",  # transposed
        "grad_V3 = A2.T @ d3\nd2_from_d3 = d3 @ V3.T",  # no sigma'
    ],
    "deep_ratio": ["deep_ratio = 2.0"],
}

ALSO_RIGHT: dict[str, list[str | tuple[str, ...]]] = {}
