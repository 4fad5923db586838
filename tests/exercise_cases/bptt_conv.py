"""Exercise cases of the chapter 'bptt_conv' for tests/book/test_student.py.

WRONG: plausible wrong answers each check must call "Not yet" (and not the stub's message).
ALSO_RIGHT: other correct answers each check must call "Correct".
Keys: the exercise's first answer name (a function's name for a function body); a value
is the text that replaces the solution region (a tuple of texts, one per region).
"""

from __future__ import annotations

WRONG: dict[str, list[str | tuple[str, ...]]] = {
    "bptt_every_step": [
        "dW_h = np.zeros_like(W_h)\ndL_dH = G[:, -1]\nfor t in range(len(H) - 1, 0, -1):\n"
        "    delta = dL_dH * (1 - H[t] ** 2)\n    dW_h += H[t - 1].T @ delta\n"
        "    dL_dH = delta @ W_h.T\nreturn dW_h",  # the last step's loss only
        "dW_h = np.zeros_like(W_h)\nfor t in range(len(H) - 1, 0, -1):\n"
        "    dW_h += H[t - 1].T @ (G[:, t - 1] * (1 - H[t] ** 2))\n"
        "return dW_h",  # nothing passed back from step t + 1
        "dW_h = np.zeros_like(W_h)\ndL_dH = np.zeros_like(H[-1])\n"
        "for t in range(len(H) - 1, 0, -1):\n"
        "    delta = dL_dH * (1 - H[t] ** 2) + G[:, t - 1]\n"  # G_t after tanh'
        "    dW_h += H[t - 1].T @ delta\n    dL_dH = delta @ W_h.T\nreturn dW_h",
    ],
    "dx_ex": [
        "dx_ex = np.convolve(delta_ex, w_ex[::-1], mode='full')",
        "dx_ex = np.convolve(delta_ex, w_ex, mode='same')",
        "dx_ex = np.convolve(delta_ex, w_ex, mode='full')[::-1]",
        "dx_ex = np.zeros(9)",  # the old check printed the full expected vector for this
        "dx_ex = 'full'",
    ],
    "dW_h_truncated": [
        "dW_h = np.zeros_like(W_h)\ndL_dH = dL_dH_T\nT = len(H) - 1\n"
        "for t in range(T, max(T - tau - 1, 0), -1):\n"  # one step too many
        "    delta = dL_dH * (1 - H[t] ** 2)\n    dW_h += H[t - 1].T @ delta\n"
        "    dL_dH = delta @ W_h.T\nreturn dW_h",
        "dW_h = np.zeros_like(W_h)\ndL_dH = dL_dH_T\nT = len(H) - 1\n"
        "for t in range(T, max(T - tau + 1, 0), -1):\n"  # one step too few
        "    delta = dL_dH * (1 - H[t] ** 2)\n    dW_h += H[t - 1].T @ delta\n"
        "    dL_dH = delta @ W_h.T\nreturn dW_h",
        "dW_h = np.zeros_like(W_h)\ndL_dH = dL_dH_T\n"
        "for t in range(len(H) - 1, 0, -1):\n"  # tau ignored: the full gradient
        "    delta = dL_dH * (1 - H[t] ** 2)\n    dW_h += H[t - 1].T @ delta\n"
        "    dL_dH = delta @ W_h.T\nreturn dW_h",
    ],
}

ALSO_RIGHT: dict[str, list[str | tuple[str, ...]]] = {
    "dx_ex": [
        "dx_ex = np.convolve(w_ex, delta_ex, mode='full')",  # a convolution commutes
        "dx_ex = np.convolve(delta_ex, w_ex)",  # 'full' is the default mode
    ],
    "dW_h_truncated": [
        "dW_h = np.zeros_like(W_h)\ndL_dH = dL_dH_T\nT = len(H) - 1\n"
        "for k in range(min(tau, T)):\n    t = T - k\n"  # counting the steps back instead
        "    delta = dL_dH * (1 - H[t] ** 2)\n    dW_h += H[t - 1].T @ delta\n"
        "    dL_dH = delta @ W_h.T\nreturn dW_h",
    ],
}
