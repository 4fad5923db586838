"""Exercise cases of the chapter 'digits' for tests/test_student.py.

WRONG: plausible wrong answers each check must call "Not yet" (and not the stub's message).
ALSO_RIGHT: other correct answers each check must call "Correct".
Keys: the exercise's first answer name (a function's name for a function body); a value
is the text that replaces the solution region (a tuple of texts, one per region).
"""

from __future__ import annotations

WRONG: dict[str, list[str | tuple[str, ...]]] = {
    "accuracy_from_confusion": [
        ("return np.trace(C) / C.sum()", "return np.diag(C) / C.sum(axis=0)"),  # precision
        ("return np.trace(C) / len(C)", "return np.diag(C) / C.sum(axis=1)"),
    ],
    "stop_epoch_ex": [
        "stop_epoch_ex = 10\nrestored_epoch_ex = 7",  # min_delta ignored
        "stop_epoch_ex = 7\nrestored_epoch_ex = 7",  # the lowest loss, not the last gain
        "stop_epoch_ex = 11\nrestored_epoch_ex = 4",  # never stopped
    ],
    "raw_weight": [
        "raw_weight = first.weight.data * scaler.scale[:, None]\n"
        "raw_bias = first.bias.data - (scaler.mean / scaler.scale) @ first.weight.data",
        "raw_weight = first.weight.data / scaler.scale[:, None]\nraw_bias = first.bias.data",
    ],
    "top_k_accuracy": [
        "top = np.argsort(logits, axis=1)[:, :k]\n"
        "return float(np.mean(np.any(top == y[:, None], axis=1)))",  # the k smallest
    ],
}

ALSO_RIGHT: dict[str, list[str | tuple[str, ...]]] = {}
