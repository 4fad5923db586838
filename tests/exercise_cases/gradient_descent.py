"""Exercise cases of the chapter 'gradient_descent' for tests/book/test_student.py.

WRONG: plausible wrong answers each check must call "Not yet" (and not the stub's message).
ALSO_RIGHT: other correct answers each check must call "Correct".
Keys: the exercise's first answer name (a function's name for a function body); a value
is the text that replaces the solution region (a tuple of texts, one per region).
"""

from __future__ import annotations

_ADAM_MOMENTS = (
    "m = beta1 * m + (1 - beta1) * g\nv = beta2 * v + (1 - beta2) * g**2\n"
    "m_hat = m / (1 - beta1**t)\nv_hat = v / (1 - beta2**t)\n"
)

WRONG: dict[str, list[str | tuple[str, ...]]] = {
    "eta_max": [
        "lam_ex = np.linalg.eigvalsh(A_ex)\neta_max = 1 / lam_ex.max()\n"
        "eta_best = 2 / (lam_ex.min() + lam_ex.max())",  # factor 0, not -1
        "eta_max = 2 / A_ex.diagonal().max()\neta_best = 2 / A_ex.diagonal().sum()",  # diagonal
        "lam_ex = np.linalg.eigvalsh(A_ex)\neta_max = 2 / lam_ex.max()\n"
        "eta_best = 1 / (lam_ex.min() + lam_ex.max())",  # eta_best too small
        "eta_max = '1/3'\neta_best = 2 / 7",  # a string
    ],
    "adam_step": [
        "m = beta1 * m + (1 - beta1) * g\nv = beta2 * v + (1 - beta2) * g**2\n"
        "return theta - lr * m / (np.sqrt(v) + eps), m, v",  # no bias correction
        _ADAM_MOMENTS + "return theta - lr * m_hat / np.sqrt(v_hat + eps), m, v",  # eps inside
        _ADAM_MOMENTS + "return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m_hat, v_hat",
        _ADAM_MOMENTS + "return theta + lr * m_hat / (np.sqrt(v_hat) + eps), m, v",  # sign
        "m = beta1 * m + (1 - beta1) * g\nv = beta2 * v + (1 - beta2) * g**2\n"
        "m_hat = m / (1 - beta1**(t - 1))\nv_hat = v / (1 - beta2**(t - 1))\n"
        "return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v",  # t from 0: 0/0
        _ADAM_MOMENTS + "return theta - lr * m_hat / (np.sqrt(v_hat) + eps)",  # no m, v
    ],
    "model_cos": [
        "model_cos = bplib.Linear(3, 1, rng=SEED)\n"
        "opt_cos = optim.SGD(model_cos.parameters(), lr=0.05)\n"
        "history_cos = train.fit(model_cos, mse, opt_cos, X_reg, y_reg, epochs=30,\n"
        "                        batch_size=1, rng=0, progress=False)",  # no schedule
        "model_cos = bplib.Linear(3, 1, rng=SEED)\n"
        "opt_cos = optim.SGD(model_cos.parameters(), lr=0.05)\n"
        "history_cos = train.fit(model_cos, mse, opt_cos, X_reg, y_reg, epochs=30,\n"
        "                        batch_size=1, rng=0, progress=False,\n"
        "                        scheduler=optim.CosineAnnealingLR(opt_cos, T_max=29))",
        "model_cos = bplib.Linear(3, 1, rng=SEED)\n"
        "opt_cos = optim.SGD(model_cos.parameters(), lr=0.05)\n"
        "history_cos = train.fit(model_cos, mse, opt_cos, X_reg, y_reg, epochs=30,\n"
        "                        batch_size=1, rng=0, progress=False,\n"
        "                        scheduler=optim.CosineAnnealingLR(opt_cos, T_max=30 * N))",
        "model_cos = bplib.Linear(3, 1, rng=SEED)\nhistory_cos = model_cos",  # not a History
    ],
    "B_tenth": [
        "B_tenth = 9",  # the bound rounded down
        "B_tenth = N / 10",  # a tenth of the data, not of the noise
        "B_tenth = 11",  # not the smallest
        "B_tenth = 10 * N / (N + 9)",  # the bound, not a whole number
    ],
    "tol_ex": [
        "tol_ex = np.linalg.eigvalsh(A_ex).max() * DELTA_EX",  # the lower bound's lambda
        "tol_ex = np.sqrt(2 * np.linalg.eigvalsh(A_ex).min() * DELTA_EX)",  # the loss bound
        "tol_ex = np.linalg.eigvalsh(A_ex).min() * DELTA_EX / 2",  # safe, not the largest
        "tol_ex = 2 * DELTA_EX",  # too large: not guaranteed
        "tol_ex = '1e-4'",  # a string
    ],
}

ALSO_RIGHT: dict[str, list[str | tuple[str, ...]]] = {
    "eta_max": [
        "eta_max = 1 / 3\neta_best = 2 / 7",  # Python floats
        "lam_ex = np.linalg.eigvalsh(A_ex).astype(np.float32)\neta_max = 2 / lam_ex[-1]\n"
        "eta_best = 2 / lam_ex.sum()",  # numpy float32 scalars
    ],
    "adam_step": [
        "m = m + (1 - beta1) * (g - m)\nv = beta2 * v + (1 - beta2) * g * g\n"
        "denom = np.sqrt(v) / np.sqrt(1 - beta2**t) + eps\n"
        "return theta - (lr / (1 - beta1**t)) * (m / denom), m, v",  # PyTorch's arrangement
    ],
    "model_cos": [
        "model_cos = bplib.Linear(3, 1, rng=SEED)\n"
        "opt_cos = optim.SGD(model_cos.parameters(), lr=0.05)\n"
        "history_cos = train.fit(model_cos, mse, opt_cos, X_reg, y_reg, epochs=30,\n"
        "                        batch_size=1, rng=1, progress=False,\n"
        "                        scheduler=optim.CosineAnnealingLR(opt_cos, T_max=30))",
    ],
    "B_tenth": [
        "B_tenth = np.ceil(10 * N / (N + 9))",  # a float
        "B_tenth = int(np.ceil(10 * N / (N + 9)))",
        "sizes = np.arange(1, N + 1)\n"
        "B_tenth = sizes[(N - sizes) / ((N - 1) * sizes) <= 0.1][0]",  # a numpy int64
    ],
    "tol_ex": [
        "tol_ex = np.float32(np.linalg.eigvalsh(A_ex).min() * DELTA_EX)",  # numpy float32
        "tol_ex = np.array(np.linalg.eigvalsh(A_ex).min() * DELTA_EX)",  # 0-d array
        "tol_ex = np.linalg.eigvalsh(A_ex)[:1] * DELTA_EX",  # one-element array
        "tol_ex = sp.Rational(1, 10_000)",  # a SymPy number
    ],
}
