"""Exercise cases of the chapter 'building_bplib' for tests/book/test_student.py.

WRONG: plausible wrong answers each check must call "Not yet" (and not the stub's message).
ALSO_RIGHT: other correct answers each check must call "Correct".
Keys: the exercise's first answer name (a function's name for a function body); a value
is the text that replaces the solution region (a tuple of texts, one per region).
"""

from __future__ import annotations


def _softplus(forward: str, backward: str) -> str:
    return (
        "class Softplus(bplib.Module):\n    def forward(self, z):\n        self._z = z\n"
        f"        return {forward}\n\n    def backward(self, grad_out):\n"
        f"        return {backward}"
    )


def _accumulate(before: str, inside: str, backward: str) -> str:
    return (
        "def accumulate(model, X, Y, micro_batch):\n    loss = bplib.MSELoss()\n"
        f"{before}    for start in range(0, X.shape[0], micro_batch):\n{inside}"
        "        X_mb, Y_mb = X[start : start + micro_batch], Y[start : start + micro_batch]\n"
        f"        loss(model(X_mb), Y_mb)\n        model.backward({backward})"
    )


_ZERO = "    model.zero_grad()\n"
_ZERO_INSIDE = "        model.zero_grad()\n"
_WEIGHTED = "loss.backward() * (X_mb.shape[0] / X.shape[0])"

_SCALE = (
    "class Scale(bplib.Module):\n    def __init__(self, features):\n"
    "        self.gain = bplib.Parameter(np.ones(features), 'gain')\n\n"
    "    def forward(self, z):\n        self._z = z\n        return z * self.gain.data\n\n"
    "    def backward(self, grad_out):\n"
    "        self.gain.grad {update}\n"
    "        return grad_out * self.gain.data"
)

WRONG: dict[str, list[str | tuple[str, ...]]] = {
    "Softplus": [
        # backward multiplies by softplus, not its derivative
        _softplus("bplib.functional.softplus(z)", "grad_out * bplib.functional.softplus(self._z)"),
        # unstable: overflows for large z (issue 25: it was accepted, z ~ N(0, 1) only)
        _softplus("np.log(1 + np.exp(z))", "grad_out * bplib.functional.sigmoid(self._z)"),
        _softplus("np.log1p(np.exp(z))", "grad_out * bplib.functional.sigmoid(self._z)"),
        # clipped against overflow, but 1 + e^z rounds to 1 for large negative z
        _softplus(
            "np.where(z > 30, z, np.log(1 + np.exp(np.minimum(z, 30))))",
            "grad_out * bplib.functional.sigmoid(self._z)",
        ),
        # backward's sigmoid as it reads: inf / inf at z = 800
        _softplus(
            "bplib.functional.softplus(z)", "grad_out * np.exp(self._z) / (1 + np.exp(self._z))"
        ),
        # forgets grad_out
        _softplus("bplib.functional.softplus(z)", "bplib.functional.sigmoid(self._z)"),
    ],
    "Scale": [
        _SCALE.format(update="= (grad_out * self._z).sum(axis=0)"),  # assigns, no +=
        _SCALE.format(update="+= (grad_out * self._z).mean(axis=0)"),  # a mean
        _SCALE.format(update="+= grad_out * self._z"),  # not summed over the batch
        _SCALE.format(update="-= (grad_out * self._z).sum(axis=0)"),  # sign
    ],
    "accumulate": [
        _accumulate(_ZERO, "", "loss.backward()"),  # unweighted
        # one full-batch pass, no accumulation (issue 25: it was accepted)
        "def accumulate(model, X, Y, micro_batch):\n    loss = bplib.MSELoss()\n"
        "    model.zero_grad()\n    loss(model(X), Y)\n    model.backward(loss.backward())",
        _accumulate("", "", _WEIGHTED),  # stale gradients kept
        _accumulate("", _ZERO_INSIDE, _WEIGHTED),  # only the last micro-batch left
        # averaged over the number of micro-batches: wrong when the last one is smaller
        _accumulate(_ZERO, "", "loss.backward() / -(-X.shape[0] // micro_batch)"),
    ],
}

ALSO_RIGHT: dict[str, list[str | tuple[str, ...]]] = {
    "Softplus": [
        _softplus("np.logaddexp(0, z)", "grad_out * 0.5 * (1 + np.tanh(self._z / 2))"),
        _softplus(
            "np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))",
            "grad_out * np.exp(-np.logaddexp(0, -self._z))",
        ),
    ],
    "Scale": [_SCALE.format(update="+= np.einsum('nj,nj->j', grad_out, self._z)")],
    "accumulate": [
        # sum-reduced micro-batch losses, divided by the full batch's number of entries
        "def accumulate(model, X, Y, micro_batch):\n    loss = bplib.MSELoss(reduction='sum')\n"
        "    model.zero_grad()\n    for start in range(0, X.shape[0], micro_batch):\n"
        "        X_mb, Y_mb = X[start : start + micro_batch], Y[start : start + micro_batch]\n"
        "        loss(model(X_mb), Y_mb)\n        model.backward(loss.backward() / Y.size)",
    ],
}
