"""Exercise cases of the chapter 'neurons' for tests/test_student.py.

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
    ],
    "z_hand": [
        "z_hand = -0.5\na_hand = 1 / (1 + np.exp(-0.5))",  # a sign error in the sigmoid
    ],
    "leaky_relu_grad": ["return np.where(z >= 0, 1.0, alpha)"],  # the kink
    "weight": [
        "weight = W_torch_layout.reshape(2, 3)\nbias = b_torch_layout",  # right shape only
        "weight = W_torch_layout\nbias = b_torch_layout",  # not transposed
    ],
}

ALSO_RIGHT: dict[str, list[str | tuple[str, ...]]] = {}
