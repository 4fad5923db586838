"""Exercise cases of the chapter 'building_bplib' for tests/test_student.py.

WRONG: plausible wrong answers each check must call "Not yet" (and not the stub's message).
ALSO_RIGHT: other correct answers each check must call "Correct".
Keys: the exercise's first answer name (a function's name for a function body); a value
is the text that replaces the solution region (a tuple of texts, one per region).
"""

from __future__ import annotations

WRONG: dict[str, list[str | tuple[str, ...]]] = {
    "Softplus": [
        "class Softplus(bplib.Module):\n    def forward(self, z):\n        self._z = z\n"
        "        return bplib.functional.softplus(z)\n\n    def backward(self, grad_out):\n"
        "        return grad_out * bplib.functional.softplus(self._z)",
    ],
    "Scale": [
        "class Scale(bplib.Module):\n    def __init__(self, features):\n"
        "        self.gain = bplib.Parameter(np.ones(features), 'gain')\n\n"
        "    def forward(self, z):\n        self._z = z\n        return z * self.gain.data\n\n"
        "    def backward(self, grad_out):\n"
        "        self.gain.grad = (grad_out * self._z).sum(axis=0)\n"  # assigns, no +=
        "        return grad_out * self.gain.data",
    ],
    "accumulate": [
        "def accumulate(model, X, Y, micro_batch):\n    loss = bplib.MSELoss()\n"
        "    model.zero_grad()\n    for start in range(0, X.shape[0], micro_batch):\n"
        "        X_mb, Y_mb = X[start : start + micro_batch], Y[start : start + micro_batch]\n"
        "        loss(model(X_mb), Y_mb)\n        model.backward(loss.backward())",  # unweighted
    ],
}

ALSO_RIGHT: dict[str, list[str | tuple[str, ...]]] = {}
