"""Exercise cases of the chapter 'digits' for tests/book/test_student.py.

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
        # the balanced accuracy (mean recall) for the accuracy
        ("return np.mean(np.diag(C) / C.sum(axis=1))", "return np.diag(C) / C.sum(axis=1)"),
        ("return np.trace(C) / C.sum()", "return np.diag(C) / C.sum()"),  # over all images
    ],
    "stop_epoch_ex": [
        "stop_epoch_ex = 10\nrestored_epoch_ex = 7",  # min_delta ignored
        "stop_epoch_ex = 7\nrestored_epoch_ex = 7",  # the lowest loss, not the last gain
        "stop_epoch_ex = 11\nrestored_epoch_ex = 4",  # never stopped
        "stop_epoch_ex = 6\nrestored_epoch_ex = 3",  # epochs counted from 0
    ],
    "raw_weight": [
        "raw_weight = first.weight.data * scaler.scale[:, None]\n"
        "raw_bias = first.bias.data - (scaler.mean / scaler.scale) @ first.weight.data",
        "raw_weight = first.weight.data / scaler.scale[:, None]\nraw_bias = first.bias.data",
        # the mean's shift without the division by s, or with the wrong sign
        "raw_weight = first.weight.data / scaler.scale[:, None]\n"
        "raw_bias = first.bias.data - scaler.mean @ first.weight.data",
        "raw_weight = first.weight.data / scaler.scale[:, None]\n"
        "raw_bias = first.bias.data + (scaler.mean / scaler.scale) @ first.weight.data",
        # the 64x64 weight transposed (the shapes cannot tell)
        "raw_weight = (first.weight.data / scaler.scale[:, None]).T\n"
        "raw_bias = first.bias.data - (scaler.mean / scaler.scale) @ first.weight.data",
        "raw_weight = first.weight.data.T\nraw_bias = first.bias.data[:3]",  # wrong shape
    ],
    "top_k_accuracy": [
        "top = np.argsort(logits, axis=1)[:, :k]\n"
        "return float(np.mean(np.any(top == y[:, None], axis=1)))",  # the k smallest
        "top = np.argsort(logits, axis=1)[:, -k:]\n"
        "return float(np.sum(np.any(top == y[:, None], axis=1)))",  # a count
        "top = np.argsort(logits, axis=1)[:, -k - 1:]\n"
        "return float(np.mean(np.any(top == y[:, None], axis=1)))",  # one too many
        "return float(np.mean(np.argmax(logits, axis=1) == y))",  # top-1 for every k
    ],
}

ALSO_RIGHT: dict[str, list[str | tuple[str, ...]]] = {
    "accuracy_from_confusion": [
        ("return np.sum(np.diag(C)) / np.sum(C)", "return C.diagonal() / C.sum(1)"),
        (
            "return float(np.trace(C)) / float(C.sum())",
            "return np.array([C[k, k] / C[k].sum() for k in range(len(C))])",
        ),
    ],
    "stop_epoch_ex": ["stop_epoch_ex = 7.0\nrestored_epoch_ex = np.int64(4)"],
    "top_k_accuracy": [
        "top = np.argpartition(-logits, k - 1, axis=1)[:, :k]\n"
        "return np.mean((top == y[:, None]).any(axis=1))",
        "rank = np.sum(logits > logits[np.arange(len(y)), y][:, None], axis=1)\n"
        "return np.mean(rank < k)",
    ],
}
