"""Exercise cases of the chapter 'initialisation' for tests/book/test_student.py.

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
        "net_const = small_network(4, constant)\nbce = bplib.BCEWithLogitsLoss()\n"
        "bce(net_const(X_xor), Y_xor)\nnet_const.backward(bce.backward())\n"
        "grad_W1_start = net_const[0].weight.grad.T.copy()\nn_distinct = 1",  # transposed
        "net_const = small_network(4, constant)\nbce = bplib.BCEWithLogitsLoss()\n"
        "bce(net_const(X_xor), Y_xor)\nnet_const.backward(bce.backward())\n"
        "grad_W1_start = net_const[0].weight.grad.copy()\nn_distinct = 2",
        "net_const = small_network(4, constant)\nbce = bplib.BCEWithLogitsLoss()\n"
        "bce(net_const(X_xor), Y_xor)\nnet_const.backward(bce.backward())\n"
        "grad_W1_start = net_const[0].weight.grad.copy()\nn_distinct = '1'",  # a string
    ],
    "leaky_he_variance": [
        "return 2 / n",
        "return 2 / ((1 + alpha) * n)",
        "return (1 + alpha**2) * n / 2",  # the inverse
        "return 1 / ((1 + alpha**2) * n)",  # a factor 2
        "return 2 / ((1 + 0.2**2) * n)",  # right for the example's alpha only
    ],
    "permute_hidden": [
        "W1, b1, W2, b2 = np.split(theta, [2 * hidden, 3 * hidden, 4 * hidden])\n"
        "W1 = W1.reshape(2, hidden)[:, perm]\n"
        "return np.concatenate([W1.ravel(), b1[perm], W2, b2])",  # W2 not permuted
        "inverse = np.argsort(perm)\n"  # the inverse permutation: the same function
        "W1, b1, W2, b2 = np.split(theta, [2 * hidden, 3 * hidden, 4 * hidden])\n"
        "W1 = W1.reshape(2, hidden)[:, inverse]\n"
        "return np.concatenate([W1.ravel(), b1[inverse], W2[inverse], b2])",
        "return theta",  # unchanged
    ],
}

ALSO_RIGHT: dict[str, list[str | tuple[str, ...]]] = {
    "grad_W1_start": [
        "net_const = small_network(4, constant)\nbce = bplib.BCEWithLogitsLoss()\n"
        "bce(net_const(X_xor), Y_xor)\nnet_const.backward(bce.backward())\n"
        "grad_W1_start = net_const[0].weight.grad.copy()\nn_distinct = 1.0",
    ],
    "leaky_he_variance": ["return 2 / ((1 + alpha**2) * n)"],  # the closed form
    "permute_hidden": [
        "W1 = theta[: 2 * hidden].reshape(2, hidden)\n"
        "b1, W2 = theta[2 * hidden : 3 * hidden], theta[3 * hidden : 4 * hidden]\n"
        "return np.concatenate([W1[:, perm].ravel(), b1[perm], W2[perm], theta[-1:]])",
    ],
}
