"""Exercise cases of the chapter 'initialisation' for tests/test_student.py.

WRONG: plausible wrong answers each check must call "Not yet" (and not the stub's message).
ALSO_RIGHT: other correct answers each check must call "Correct".
Keys: the exercise's first answer name (a function's name for a function body); a value
is the text that replaces the solution region (a tuple of texts, one per region).
"""

from __future__ import annotations

WRONG: dict[str, list[str | tuple[str, ...]]] = {
    "grad_W1_start": [
        "net_const = small_network(4, constant)\nbce = bplib.BCEWithLogitsLoss()\n"
        "bce(net_const(X_xor), Y_xor)\nnet_const.backward(bce.backward())\n"
        "grad_W1_start = net_const[0].weight.grad.copy()\nn_distinct = 4",
        "grad_W1_start = np.zeros((2, 4))\nn_distinct = 1",  # a guess
    ],
    "leaky_he_variance": [
        "return 2 / n",
        "return 2 / ((1 + alpha) * n)",
    ],
    "permute_hidden": [
        "W1, b1, W2, b2 = np.split(theta, [2 * hidden, 3 * hidden, 4 * hidden])\n"
        "W1 = W1.reshape(2, hidden)[:, perm]\n"
        "return np.concatenate([W1.ravel(), b1[perm], W2, b2])",  # W2 not permuted
    ],
}

ALSO_RIGHT: dict[str, list[str | tuple[str, ...]]] = {}
