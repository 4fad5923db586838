"""Exercise cases of the chapter 'chain_rule' for tests/test_student.py.

WRONG: plausible wrong answers each check must call "Not yet" (and not the stub's message).
ALSO_RIGHT: other correct answers each check must call "Correct".
Keys: the exercise's first answer name (a function's name for a function body); a value
is the text that replaces the solution region (a tuple of texts, one per region).
"""

from __future__ import annotations

WRONG: dict[str, list[str | tuple[str, ...]]] = {
    "my_dE_dw4": [
        "my_dE_dw4 = delta_o1 * w6 * out_h2 * (1 - out_h2) * i2",  # one path only
        "my_dE_dw4 = (delta_o1 * w6 + delta_o2 * w8) * out_h2 * (1 - out_h2) * i1",
    ],
    "dE_dbeta": [
        "dE_dbeta = float(sp.diff(net.loss, net.biases[0][0]).evalf(30, subs=exact))",
    ],
    "E_two_steps": [
        "E_two_steps = sse(model_2(X), T) / 2",  # no second step
        "model_2.zero_grad()\nsse(model_2(X), T)\nmodel_2.backward(sse.backward() / 2)\n"
        "optimizer_2.step()\nE_two_steps = sse(model_2(X), T)",  # not halved
    ],
    "tanh_chain": [
        "tanh_chain = (a_t - y) * (1 - a_t**2)",  # stopped at dE/dz
        "tanh_chain = (a_t - y) * a_t * (1 - a_t) * x",  # the sigmoid's derivative
    ],
}

ALSO_RIGHT: dict[str, list[str | tuple[str, ...]]] = {}
