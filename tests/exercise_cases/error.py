"""Exercise cases of the chapter 'error' for tests/test_student.py.

WRONG: plausible wrong answers each check must call "Not yet" (and not the stub's message).
ALSO_RIGHT: other correct answers each check must call "Correct".
Keys: the exercise's first answer name (a function's name for a function body); a value
is the text that replaces the solution region (a tuple of texts, one per region).
"""

from __future__ import annotations

WRONG: dict[str, list[str | tuple[str, ...]]] = {
    "mse_grad": [
        "return (y_hat - y) / y_hat.size",  # the factor 2
        "return 2 * (y_hat - y)",  # the 1/N
        "return 2 * (y - y_hat) / y_hat.size",  # the sign
    ],
    "my_logsumexp": [
        "return np.log(np.exp(z).sum(axis=1))",  # overflows
        "m = z.max(axis=1)\nreturn m + np.log(np.exp(z - m).sum(axis=1))",  # broadcasts wrongly
    ],
    "softmax_jacobian": [
        "p = bplib.functional.softmax(z)\nreturn np.diag(p) - p * p",
    ],
    "z_star": ["z_star = float(np.log(2))", "z_star = 0.0"],
}

ALSO_RIGHT: dict[str, list[str | tuple[str, ...]]] = {}
