"""Exercise cases of the chapter 'gradient_descent' for tests/test_student.py.

WRONG: plausible wrong answers each check must call "Not yet" (and not the stub's message).
ALSO_RIGHT: other correct answers each check must call "Correct".
Keys: the exercise's first answer name (a function's name for a function body); a value
is the text that replaces the solution region (a tuple of texts, one per region).
"""

from __future__ import annotations

WRONG: dict[str, list[str | tuple[str, ...]]] = {
    "eta_max": [
        "lam_ex = np.linalg.eigvalsh(A_ex)\neta_max = 1 / lam_ex.max()\n"
        "eta_best = 2 / (lam_ex.min() + lam_ex.max())",
        "eta_max = 2 / A_ex.diagonal().max()\neta_best = 2 / A_ex.diagonal().sum()",
    ],
    "adam_step": [
        "m = beta1 * m + (1 - beta1) * g\nv = beta2 * v + (1 - beta2) * g**2\n"
        "return theta - lr * m / (np.sqrt(v) + eps), m, v",  # no bias correction
    ],
    "model_cos": [
        "model_cos = bplib.Linear(3, 1, rng=SEED)\n"
        "opt_cos = optim.SGD(model_cos.parameters(), lr=0.05)\n"
        "history_cos = train.fit(model_cos, mse, opt_cos, X_reg, y_reg, epochs=30,\n"
        "                        batch_size=1, rng=0, progress=False)",  # no schedule
    ],
    "B_tenth": ["B_tenth = 9", "B_tenth = N / 10"],
    "tol_ex": [
        "tol_ex = np.linalg.eigvalsh(A_ex).max() * DELTA_EX",  # the lower bound's lambda
        "tol_ex = np.sqrt(2 * np.linalg.eigvalsh(A_ex).min() * DELTA_EX)",  # the loss bound
        "tol_ex = np.linalg.eigvalsh(A_ex).min() * DELTA_EX / 2",  # safe, not the largest
    ],
}

ALSO_RIGHT: dict[str, list[str | tuple[str, ...]]] = {
    "B_tenth": ["B_tenth = np.ceil(10 * N / (N + 9))"],  # a float
}
