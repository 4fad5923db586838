"""Exercise cases of the chapter 'vanishing' for tests/book/test_student.py.

WRONG: plausible wrong answers each check must call "Not yet" (and not the stub's message).
ALSO_RIGHT: other correct answers each check must call "Correct".
Keys: the exercise's first answer name (a function's name for a function body); a value
is the text that replaces the solution region (a tuple of texts, one per region).
"""

from __future__ import annotations

WRONG: dict[str, list[str | tuple[str, ...]]] = {
    "r_lecun_tanh": [
        "r_lecun_tanh = 50 * (1 / 50) * 1\nr_glorot_sigmoid = 50 * (2 / 100) * (1 / 4)",
        "r_lecun_tanh = 1 / 16\nr_glorot_sigmoid = 1.0",  # swapped
        "r_lecun_tanh = 50 * np.sqrt(1 / 50)\nr_glorot_sigmoid = 1 / 16",  # std for Var[W]
        "r_lecun_tanh = 1 / 3\nr_glorot_sigmoid = 1 / 16",  # the old uniform start
    ],
    "relu_std": [
        "return np.sqrt(2.15 / n)",
        "return np.sqrt(2 / (n - 3))",
        "return np.sqrt(1 / n)",
        "return 2 / n",  # the variance, not the standard deviation
    ],
    "k_exact": [
        "k_exact = np.log(1e-6) / np.log(1 / 16)\nn_layers = int(k_exact)",  # rounded down
        "k_exact = np.log(1e-6) / np.log(16)\nn_layers = 5",  # a sign error; a guess
        "k_exact = 4.98\nn_layers = 5",  # rounded by hand
        "k_exact = np.log(1e-6) / np.log(1 / 16)\nn_layers = 6",  # more than needed
        "k_exact = np.log(1e-6) / np.log(1 / 16)\nn_layers = k_exact",  # not whole
    ],
    "clip": [
        "return [g * min(1.0, max_norm / (np.linalg.norm(g) + 1e-6)) for g in grads]",
        # no min(1, ...): short gradients are scaled up
        "total = np.sqrt(sum(np.sum(g**2) for g in grads))\n"
        "return [g * max_norm / (total + 1e-6) for g in grads]",
        # without PyTorch's 1e-6
        "total = np.sqrt(sum(np.sum(g**2) for g in grads))\n"
        "return [g * min(1.0, max_norm / total) for g in grads]",
    ],
}

ALSO_RIGHT: dict[str, list[str | tuple[str, ...]]] = {
    "r_lecun_tanh": ["r_lecun_tanh = 1\nr_glorot_sigmoid = np.float64(1 / 16)"],
    "relu_std": ["return np.sqrt(2) / np.sqrt(n)"],
    "k_exact": ["k_exact = 6 * np.log(10) / np.log(16)\nn_layers = 5.0"],
    "clip": [
        "total = np.linalg.norm(np.concatenate([g.ravel() for g in grads]))\n"
        "return [g * min(1.0, max_norm / (total + 1e-6)) for g in grads]",
    ],
}
