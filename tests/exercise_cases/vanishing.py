"""Exercise cases of the chapter 'vanishing' for tests/test_student.py.

WRONG: plausible wrong answers each check must call "Not yet" (and not the stub's message).
ALSO_RIGHT: other correct answers each check must call "Correct".
Keys: the exercise's first answer name (a function's name for a function body); a value
is the text that replaces the solution region (a tuple of texts, one per region).
"""

from __future__ import annotations

WRONG: dict[str, list[str | tuple[str, ...]]] = {
    "r_lecun_tanh": [
        "r_lecun_tanh = 50 * (1 / 50) * 1\nr_glorot_sigmoid = 50 * (2 / 100) * (1 / 4)",
    ],
    "relu_std": [
        "return np.sqrt(2.15 / n)",
        "return np.sqrt(2 / (n - 3))",
        "return np.sqrt(1 / n)",
    ],
    "k_exact": [
        "k_exact = np.log(1e-6) / np.log(1 / 16)\nn_layers = int(k_exact)",  # rounded down
        "k_exact = np.log(1e-6) / np.log(16)\nn_layers = 5",  # a sign error; a guess
    ],
    "clip": [
        "return [g * min(1.0, max_norm / (np.linalg.norm(g) + 1e-6)) for g in grads]",
    ],
}

ALSO_RIGHT: dict[str, list[str | tuple[str, ...]]] = {
    "k_exact": ["k_exact = 6 * np.log(10) / np.log(16)\nn_layers = 5.0"],
}
