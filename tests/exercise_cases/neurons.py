"""Exercise cases of the chapter 'neurons' for tests/book/test_student.py.

WRONG: plausible wrong answers each check must call "Not yet" (and not the stub's message).
ALSO_RIGHT: other correct answers each check must call "Correct".
Keys: the exercise's first answer name (a function's name for a function body); a value
is the text that replaces the solution region (a tuple of texts, one per region).
"""

from __future__ import annotations

WRONG: dict[str, list[str | tuple[str, ...]]] = {
    "dsoftplus": [
        "dsoftplus = sp.diff(softplus, z)\nderivative_is = tanh_def",  # the wrong function
        "dsoftplus = sp.exp(z)\nderivative_is = sigma",  # the wrong derivative
        "dsoftplus = softplus\nderivative_is = sigma",  # not differentiated
        "dsoftplus = sp.diff(softplus, z)\nderivative_is = 'sigma'",  # a name, not the function
        "dsoftplus = sp.diff(softplus, z)\nderivative_is = relu",
    ],
    "z_hand": [
        "z_hand = -0.5\na_hand = 1 / (1 + np.exp(-0.5))",  # a sign error in the sigmoid
        "z_hand = -1.0\na_hand = 1 / (1 + np.exp(1.0))",  # the bias forgotten
        "z_hand = 0.0\na_hand = 0.5",  # issue 25: the old check then printed the expected z
        "z_hand = '-0.5'\na_hand = 0.377541",  # a string
    ],
    "leaky_relu_grad": [
        "return np.where(z >= 0, 1.0, alpha)",  # the kink
        "return np.where(z > 0, 1.0, 0.0)",  # ReLU's derivative
        "return np.where(z > 0, 1.0, 0.1)",  # alpha ignored
        "return 1.0 if z > 0 else alpha",  # scalars only
    ],
    "weight": [
        "weight = W_torch_layout.reshape(2, 3)\nbias = b_torch_layout",  # right shape only
        "weight = W_torch_layout\nbias = b_torch_layout",  # not transposed
        "weight = W_torch_layout.T\nbias = b_torch_layout[:2]",  # the bias's shape
    ],
}

ALSO_RIGHT: dict[str, list[str | tuple[str, ...]]] = {
    "dsoftplus": [
        # issue 25: the sigmoid as SymPy prints the derivative was rejected
        "dsoftplus = sp.diff(softplus, z)\nderivative_is = sp.exp(z) / (sp.exp(z) + 1)",
        "dsoftplus = sp.exp(z) / (1 + sp.exp(z))\nderivative_is = 1 / (1 + sp.exp(-z))",
        "z_plain = sp.Symbol('z')\n"
        "dsoftplus = sp.diff(sp.log(1 + sp.exp(z_plain)), z_plain)\nderivative_is = sigma",
    ],
    "z_hand": ["z_hand = -0.5\na_hand = 0.377541"],  # six decimals
    "leaky_relu_grad": [
        "return np.where(z <= 0, alpha, 1.0)",
        "return (z > 0) + alpha * (z <= 0)",
    ],
    "weight": ["weight = W_torch_layout.T.copy()\nbias = list(b_torch_layout)"],
}
