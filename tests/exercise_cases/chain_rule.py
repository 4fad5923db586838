"""Exercise cases of the chapter 'chain_rule' for tests/book/test_student.py.

WRONG: plausible wrong answers each check must call "Not yet" (and not the stub's message).
ALSO_RIGHT: other correct answers each check must call "Correct".
Keys: the exercise's first answer name (a function's name for a function body); a value
is the text that replaces the solution region (a tuple of texts, one per region).
"""

from __future__ import annotations

WRONG: dict[str, list[str | tuple[str, ...]]] = {
    "my_dE_dw4": [
        "return delta_o1 * w6 * out_h2 * (1 - out_h2) * i2",  # one path only
        "return (delta_o1 * w6 + delta_o2 * w8) * out_h2 * (1 - out_h2) * i1",
        "return (delta_o1 * w5 + delta_o2 * w7) * out_h1 * (1 - out_h1) * i2",  # the other unit
        # issue 25: reading the precomputed values was accepted
        "return float(sympy_values['dE/dw4'])",
        "return dE_dw4",
        "return delta_h2 * i2",
    ],
    "dE_dbeta": [
        "dE_dbeta = float(sp.diff(net.loss, net.biases[0][0]).evalf(30, subs=exact))",
        "dE_dbeta = -float(sp.diff(net.loss, net.biases[0][0]).evalf(30, subs=exact))",
        "dE_dbeta = '0.35'",
    ],
    "E_two_steps": [
        "E_two_steps = sse(model_2(X), T) / 2",  # no second step
        "model_2.zero_grad()\nsse(model_2(X), T)\nmodel_2.backward(sse.backward() / 2)\n"
        "optimizer_2.step()\nE_two_steps = sse(model_2(X), T)",  # not halved
        # issue 25: without zero_grad() the old check said "Correct"
        "sse(model_2(X), T)\nmodel_2.backward(sse.backward() / 2)\n"
        "optimizer_2.step()\nE_two_steps = sse(model_2(X), T) / 2",
        # issue 25: the gradient not halved got the hint "did you call zero_grad()?"
        "model_2.zero_grad()\nsse(model_2(X), T)\nmodel_2.backward(sse.backward())\n"
        "optimizer_2.step()\nE_two_steps = sse(model_2(X), T) / 2",
    ],
    "tanh_chain": [
        "tanh_chain = (a_t - y) * (1 - a_t**2)",  # stopped at dE/dz
        "tanh_chain = (a_t - y) * a_t * (1 - a_t) * x",  # the sigmoid's derivative
        "tanh_chain = (y - a_t) * (1 - a_t**2) * x",  # the sign
        "tanh_chain = 'x'",
    ],
}

ALSO_RIGHT: dict[str, list[str | tuple[str, ...]]] = {
    "my_dE_dw4": [
        "delta = (w6 * delta_o1 + w8 * delta_o2) * out_h2 * (1 - out_h2)\nreturn i2 * delta",
    ],
    "E_two_steps": [
        "optimizer_2.zero_grad()\nloss = sse(model_2(X), T) / 2\n"
        "model_2.backward(sse.backward() / 2)\noptimizer_2.step()\n"
        "E_two_steps = float(sse(model_2(X), T)) / 2",
    ],
    "tanh_chain": [
        # issue 25: rejected because sp.simplify cannot prove them equal
        "tanh_chain = (a_t - y) / sp.cosh(z)**2 * x",
        "tanh_chain = (a_t - y) * sp.sech(z)**2 * x",
        "tanh_chain = x * (a_t - y) * (1 - sp.tanh(z)**2)",
    ],
}
