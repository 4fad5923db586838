"""Exercise cases of the chapter 'error' for tests/book/test_student.py.

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
        "return 2 * (y_hat - y) / len(y_hat)",  # 1/rows, not 1/N
        "return 'y_hat - y'",  # not an array
    ],
    "my_logsumexp": [
        "return np.log(np.exp(z).sum(axis=1))",  # overflows
        "m = z.max(axis=1)\nreturn m + np.log(np.exp(z - m).sum(axis=1))",  # broadcasts wrongly
        "return z.max(axis=1)",  # the maximum only
        "return bplib.functional.logsumexp(z, axis=1)",  # shape (rows, 1), not (rows,)
    ],
    "softmax_jacobian": [
        "p = bplib.functional.softmax(z)\nreturn np.diag(p) - p * p",
        "p = bplib.functional.softmax(z)\nreturn np.outer(p, p) - np.diag(p)",  # the sign
        "p = bplib.functional.softmax(z)\nreturn np.diag(p * (1 - p))",  # the diagonal only
    ],
    "z_star": [
        "z_star = float(np.log(2))",  # the sign
        "z_star = 0.0",
        "z_star = -0.6931",  # issue 25: the old check printed "at z = -0.6931" and accepted it
        "z_star = 1 / 3",  # s*, not z*
        "z_star = 'log(1/2)'",
    ],
}

ALSO_RIGHT: dict[str, list[str | tuple[str, ...]]] = {
    "mse_grad": ["return 2 / np.size(y_hat) * (np.asarray(y_hat) - y)"],
    "my_logsumexp": [
        "m = z.max(axis=1, keepdims=True)\nreturn (m + np.log(np.exp(z - m).sum(axis=1, keepdims=True)))[:, 0]",
        "return bplib.functional.logsumexp(z, axis=1).reshape(-1)",
    ],
    "softmax_jacobian": [
        "p = bplib.functional.softmax(z)\nreturn np.diag(p) - p[:, None] * p[None, :]",
    ],
    "z_star": ["z_star = -np.log(2)", "z_star = sp.log(sp.Rational(1, 2))"],
}
