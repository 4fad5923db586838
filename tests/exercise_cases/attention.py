"""Exercise cases of the chapter 'attention' for tests/book/test_student.py.

WRONG: plausible wrong answers each check must call "Not yet" (and not the stub's message).
ALSO_RIGHT: other correct answers each check must call "Correct".
Keys: the exercise's first answer name (a function's name for a function body); a value
is the text that replaces the solution region (a tuple of texts, one per region).
"""

from __future__ import annotations

WRONG: dict[str, list[str | tuple[str, ...]]] = {
    "embedding_backward": [
        "dW = np.zeros((num_embeddings, grad_out.shape[-1]))\n"
        "dW[idx] += grad_out\nreturn dW",  # one write per repeated row kept
        "return np.zeros((num_embeddings, grad_out.shape[-1]))",
    ],
    "dL_dscale": [
        "_, P = attention_forward(Q, K, V, scale)\ndP = dY @ V.T\n"
        "return np.sum(P * dP * (Q @ K.T))",  # the softmax's Jacobian skipped
        "_, P = attention_forward(Q, K, V, scale)\ndP = dY @ V.T\n"
        "dS = P * (dP - (dP * P).sum(axis=1, keepdims=True))\n"
        "return np.sum(dS * (Q @ K.T)) / np.sqrt(Q.shape[1])",  # a 1/sqrt(d) too many
    ],
    "T_cross": [
        "T_cross = 12 * 48",  # one of the two products of the scores
        "T_cross = 4 * 48",  # the MLP alone
    ],
}

ALSO_RIGHT: dict[str, list[str | tuple[str, ...]]] = {
    "embedding_backward": [
        "C = grad_out.shape[-1]\ndW = np.zeros((num_embeddings, C))\n"
        "for p, k in enumerate(idx.ravel()):\n    dW[k] += grad_out.reshape(-1, C)[p]\n"
        "return dW",  # a loop over the positions
    ],
    "dL_dscale": [
        "_, P = attention_forward(Q, K, V, scale)\n"
        "dQ, dK, dV = attention_backward(Q, K, V, P, dY, scale)\n"
        "return np.sum(dQ * Q) / scale",  # through dQ = scale dS K
    ],
    "T_cross": ["T_cross = 6 * 48"],
}
