"""Exercise cases of the chapter 'keeping_alive' for tests/book/test_student.py.

WRONG: plausible wrong answers each check must call "Not yet" (and not the stub's message).
ALSO_RIGHT: other correct answers each check must call "Correct".
Keys: the exercise's first answer name (a function's name for a function body); a value
is the text that replaces the solution region (a tuple of texts, one per region).
"""

from __future__ import annotations

WRONG: dict[str, list[str | tuple[str, ...]]] = {
    "layernorm_backward": [
        "return inv_std * G",  # the statistics as constants
        "return inv_std * (G - G.mean(axis=1, keepdims=True))",  # no term along X_hat
        "n = G.shape[0]\nsum_g = G.sum(axis=0, keepdims=True)\n"  # batch norm's sums
        "sum_g_xhat = (G * X_hat).sum(axis=0, keepdims=True)\n"
        "return inv_std / n * (n * G - sum_g - X_hat * sum_g_xhat)",
        "return np.zeros_like(G)",
        "return (inv_std * G).T",  # transposed
    ],
    "k_exact": [
        "k_exact = np.log(0.01) / np.log(0.9)\nn_batches = int(k_exact)",  # rounded down
        "k_exact = np.log(0.01) / np.log(0.1)\nn_batches = 44",  # rho for 1 - rho; a guess
        "k_exact = np.log(0.01) / np.log(0.9)\nn_batches = k_exact",  # not a whole number
        "k_exact = np.log(0.01) / np.log(0.9)\nn_batches = int(k_exact) + 2",  # too many
        "k_exact = 0.01 / 0.1\nn_batches = 10",  # no logarithms
    ],
    "eval_accuracy": [
        "return train.accuracy(model(X), y)",  # the bug: evaluated in training mode
        "model.eval()\nreturn train.accuracy(model(X), y)",  # the mode not restored
        "model.eval()\naccuracy = train.accuracy(model(X), y)\nmodel.train()\n"
        "return accuracy",  # back to training mode, whatever the mode was
        "return 0.9",  # a constant
    ],
}

ALSO_RIGHT: dict[str, list[str | tuple[str, ...]]] = {
    "k_exact": [
        "k_exact = np.log(100) / -np.log(0.9)\nn_batches = 44.0",
        "k_exact = np.log(0.01) / np.log(1 - 0.1)\nn_batches = int(np.ceil(k_exact))",
    ],
    "eval_accuracy": [
        "was = model.training\nmodel.eval()\n"
        "accuracy = float(np.mean(model(X).argmax(axis=1) == y))\nmodel.train(was)\n"
        "return accuracy",
    ],
}
