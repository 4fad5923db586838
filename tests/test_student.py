"""The student edition of the chapters (``student/*.ipynb``) and the exercises' checks.

For every chapter with exercises, one kernel runs the committed student notebook from top
to bottom (no cell may fail) and every check must print exactly
``bplib.exercises.NOT_YET``. Then, in the same kernel, each exercise's answer cell is run
again with each plausible wrong answer of ``WRONG`` in place of its solution (every check
must say "Not yet", and not the stub's message), then with its solution (the check must
say "Correct", as for the other correct answers of ``ALSO_RIGHT``); last, every solution is run once more in reverse order, so each exercise
is shown to work on its own, in any order, any number of times.

``WRONG`` has at least one wrong answer for every exercise of every chapter; an exercise
without one fails ``test_every_exercise_has_a_wrong_answer``. Its keys are a chapter's
name without its number (so a renumbered chapter keeps its entries) and the exercise's
first answer name (a function's name when the answer is a function body).
"""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import make_student  # noqa: E402

from bplib.exercises import NOT_YET  # noqa: E402
from chapters import CHAPTERS, chapter_sources  # noqa: E402

# A wrong answer is the text that replaces the solution region (a tuple of texts, one per
# region, when an answer cell has several regions).
WRONG: dict[tuple[str, str], list[str | tuple[str, ...]]] = {
    ("neurons", "dsoftplus"): [
        "dsoftplus = sp.diff(softplus, z)\nderivative_is = tanh_def",  # the wrong function
        "dsoftplus = sp.exp(z)\nderivative_is = sigma",  # the wrong derivative
    ],
    ("neurons", "z_hand"): [
        "z_hand = -0.5\na_hand = 1 / (1 + np.exp(-0.5))",  # a sign error in the sigmoid
    ],
    ("neurons", "leaky_relu_grad"): ["return np.where(z >= 0, 1.0, alpha)"],  # the kink
    ("neurons", "weight"): [
        "weight = W_torch_layout.reshape(2, 3)\nbias = b_torch_layout",  # right shape only
        "weight = W_torch_layout\nbias = b_torch_layout",  # not transposed
    ],
    ("error", "mse_grad"): [
        "return (y_hat - y) / y_hat.size",  # the factor 2
        "return 2 * (y_hat - y)",  # the 1/N
        "return 2 * (y - y_hat) / y_hat.size",  # the sign
    ],
    ("error", "my_logsumexp"): [
        "return np.log(np.exp(z).sum(axis=1))",  # overflows
        "m = z.max(axis=1)\nreturn m + np.log(np.exp(z - m).sum(axis=1))",  # broadcasts wrongly
    ],
    ("error", "softmax_jacobian"): [
        "p = bplib.functional.softmax(z)\nreturn np.diag(p) - p * p",
    ],
    ("error", "z_star"): ["z_star = float(np.log(2))", "z_star = 0.0"],
    ("chain_rule", "my_dE_dw4"): [
        "my_dE_dw4 = delta_o1 * w6 * out_h2 * (1 - out_h2) * i2",  # one path only
        "my_dE_dw4 = (delta_o1 * w6 + delta_o2 * w8) * out_h2 * (1 - out_h2) * i1",
    ],
    ("chain_rule", "dE_dbeta"): [
        "dE_dbeta = float(sp.diff(net.loss, net.biases[0][0]).evalf(30, subs=exact))",
    ],
    ("chain_rule", "E_two_steps"): [
        "E_two_steps = sse(model_2(X), T) / 2",  # no second step
        "model_2.zero_grad()\nsse(model_2(X), T)\nmodel_2.backward(sse.backward() / 2)\n"
        "optimizer_2.step()\nE_two_steps = sse(model_2(X), T)",  # not halved
    ],
    ("chain_rule", "tanh_chain"): [
        "tanh_chain = (a_t - y) * (1 - a_t**2)",  # stopped at dE/dz
        "tanh_chain = (a_t - y) * a_t * (1 - a_t) * x",  # the sigmoid's derivative
    ],
    ("matrix_backprop", "dX"): ["dX = (delta1 @ W1.T) * (1 - X**2)"],
    ("matrix_backprop", "dW1_averaged"): [
        "dW1_averaged = dW1 * N",  # summed
        "per_example = []\nfor n in range(N):\n    x_n, y_n = X[n : n + 1], Y[n : n + 1]\n"
        "    a1_n = np.tanh(x_n @ W1 + b1)\n    d2_n = 2 * (a1_n @ W2 + b2 - y_n) / (N * n_out)\n"
        "    d1_n = (d2_n @ W2.T) * (1 - a1_n**2)\n    per_example.append(x_n.T @ d1_n)\n"
        "dW1_averaged = np.mean(per_example, axis=0)",  # 1/N twice
    ],
    ("matrix_backprop", "grad_V3"): [
        "grad_V3 = d3.T @ A2\nd2_from_d3 = (d3 @ V3.T) * A2 * (1 - A2)",  # transposed
        "grad_V3 = A2.T @ d3\nd2_from_d3 = d3 @ V3.T",  # no sigma'
    ],
    ("matrix_backprop", "deep_ratio"): ["deep_ratio = 2.0"],
    ("building_bplib", "Softplus"): [
        "class Softplus(bplib.Module):\n    def forward(self, z):\n        self._z = z\n"
        "        return bplib.functional.softplus(z)\n\n    def backward(self, grad_out):\n"
        "        return grad_out * bplib.functional.softplus(self._z)",
    ],
    ("building_bplib", "Scale"): [
        "class Scale(bplib.Module):\n    def __init__(self, features):\n"
        "        self.gain = bplib.Parameter(np.ones(features), 'gain')\n\n"
        "    def forward(self, z):\n        self._z = z\n        return z * self.gain.data\n\n"
        "    def backward(self, grad_out):\n"
        "        self.gain.grad = (grad_out * self._z).sum(axis=0)\n"  # assigns, no +=
        "        return grad_out * self.gain.data",
    ],
    ("building_bplib", "accumulate"): [
        "def accumulate(model, X, Y, micro_batch):\n    loss = bplib.MSELoss()\n"
        "    model.zero_grad()\n    for start in range(0, X.shape[0], micro_batch):\n"
        "        X_mb, Y_mb = X[start : start + micro_batch], Y[start : start + micro_batch]\n"
        "        loss(model(X_mb), Y_mb)\n        model.backward(loss.backward())",  # unweighted
    ],
    ("gradient_descent", "eta_max"): [
        "lam_ex = np.linalg.eigvalsh(A_ex)\neta_max = 1 / lam_ex.max()\n"
        "eta_best = 2 / (lam_ex.min() + lam_ex.max())",
        "eta_max = 2 / A_ex.diagonal().max()\neta_best = 2 / A_ex.diagonal().sum()",
    ],
    ("gradient_descent", "adam_step"): [
        "m = beta1 * m + (1 - beta1) * g\nv = beta2 * v + (1 - beta2) * g**2\n"
        "return theta - lr * m / (np.sqrt(v) + eps), m, v",  # no bias correction
    ],
    ("gradient_descent", "model_cos"): [
        "model_cos = bplib.Linear(3, 1, rng=SEED)\n"
        "opt_cos = optim.SGD(model_cos.parameters(), lr=0.05)\n"
        "history_cos = train.fit(model_cos, mse, opt_cos, X_reg, y_reg, epochs=30,\n"
        "                        batch_size=1, rng=0, progress=False)",  # no schedule
    ],
    ("gradient_descent", "B_tenth"): ["B_tenth = 9", "B_tenth = N / 10"],
    ("gradient_descent", "tol_ex"): [
        "tol_ex = np.linalg.eigvalsh(A_ex).max() * DELTA_EX",  # the lower bound's lambda
        "tol_ex = np.sqrt(2 * np.linalg.eigvalsh(A_ex).min() * DELTA_EX)",  # the loss bound
        "tol_ex = np.linalg.eigvalsh(A_ex).min() * DELTA_EX / 2",  # safe, not the largest
    ],
    ("digits", "accuracy_from_confusion"): [
        ("return np.trace(C) / C.sum()", "return np.diag(C) / C.sum(axis=0)"),  # precision
        ("return np.trace(C) / len(C)", "return np.diag(C) / C.sum(axis=1)"),
    ],
    ("digits", "stop_epoch_ex"): [
        "stop_epoch_ex = 10\nrestored_epoch_ex = 7",  # min_delta ignored
        "stop_epoch_ex = 7\nrestored_epoch_ex = 7",  # the lowest loss, not the last gain
        "stop_epoch_ex = 11\nrestored_epoch_ex = 4",  # never stopped
    ],
    ("digits", "raw_weight"): [
        "raw_weight = first.weight.data * scaler.scale[:, None]\n"
        "raw_bias = first.bias.data - (scaler.mean / scaler.scale) @ first.weight.data",
        "raw_weight = first.weight.data / scaler.scale[:, None]\nraw_bias = first.bias.data",
    ],
    ("digits", "top_k_accuracy"): [
        "top = np.argsort(logits, axis=1)[:, :k]\n"
        "return float(np.mean(np.any(top == y[:, None], axis=1)))",  # the k smallest
    ],
    ("vanishing", "r_lecun_tanh"): [
        "r_lecun_tanh = 50 * (1 / 50) * 1\nr_glorot_sigmoid = 50 * (2 / 100) * (1 / 4)",
    ],
    ("vanishing", "relu_std"): [
        "return np.sqrt(2.15 / n)",
        "return np.sqrt(2 / (n - 3))",
        "return np.sqrt(1 / n)",
    ],
    ("vanishing", "k_exact"): [
        "k_exact = np.log(1e-6) / np.log(1 / 16)\nn_layers = int(k_exact)",  # rounded down
        "k_exact = np.log(1e-6) / np.log(16)\nn_layers = 5",  # a sign error; a guess
    ],
    ("vanishing", "clip"): [
        "return [g * min(1.0, max_norm / (np.linalg.norm(g) + 1e-6)) for g in grads]",
    ],
    ("initialisation", "grad_W1_start"): [
        "net_const = small_network(4, constant)\nbce = bplib.BCEWithLogitsLoss()\n"
        "bce(net_const(X_xor), Y_xor)\nnet_const.backward(bce.backward())\n"
        "grad_W1_start = net_const[0].weight.grad.copy()\nn_distinct = 4",
        "grad_W1_start = np.zeros((2, 4))\nn_distinct = 1",  # a guess
    ],
    ("initialisation", "leaky_he_variance"): [
        "return 2 / n",
        "return 2 / ((1 + alpha) * n)",
    ],
    ("initialisation", "permute_hidden"): [
        "W1, b1, W2, b2 = np.split(theta, [2 * hidden, 3 * hidden, 4 * hidden])\n"
        "W1 = W1.reshape(2, hidden)[:, perm]\n"
        "return np.concatenate([W1.ravel(), b1[perm], W2, b2])",  # W2 not permuted
    ],
    ("keeping_alive", "layernorm_backward"): [
        "return inv_std * G",  # the statistics as constants
        "return inv_std * (G - G.mean(axis=1, keepdims=True))",  # no term along X_hat
        "n = G.shape[0]\nsum_g = G.sum(axis=0, keepdims=True)\n"  # batch norm's sums
        "sum_g_xhat = (G * X_hat).sum(axis=0, keepdims=True)\n"
        "return inv_std / n * (n * G - sum_g - X_hat * sum_g_xhat)",
    ],
    ("keeping_alive", "k_exact"): [
        "k_exact = np.log(0.01) / np.log(0.9)\nn_batches = int(k_exact)",  # rounded down
        "k_exact = np.log(0.01) / np.log(0.1)\nn_batches = 44",  # rho for 1 - rho; a guess
    ],
    ("keeping_alive", "eval_accuracy"): [
        "return train.accuracy(model(X), y)",  # the bug: evaluated in training mode
        "model.eval()\nreturn train.accuracy(model(X), y)",  # the mode not restored
        "model.eval()\naccuracy = train.accuracy(model(X), y)\nmodel.train()\n"
        "return accuracy",  # back to training mode, whatever the mode was
    ],
    ("autodiff", "sin"): [
        "return Tensor.from_op(np.sin(t.data), (t,), lambda g: (g * np.sin(t.data),), 'sin')",
        "return Tensor.from_op(np.sin(t.data), (t,), lambda g: (np.cos(t.data),), 'sin')",
    ],
    ("autodiff", "jacobian"): [
        "x_t = Tensor(x_point)\nout = g_engine(x_t)\nrows = []\nfor i in range(2):\n"
        "    out.backward(np.eye(2)[i])\n    rows.append(x_t.grad.copy())\n"
        "jacobian = np.array(rows)",  # no zero_grad between passes
    ],
    ("autodiff", "forward_madds"): [
        "forward_madds, backward_madds = 1, 2\nratio_with_input_gradient = 2.0",  # a guess
        "forward_madds = sum(batch_big * a * b for a, b in zip(sizes_big[:-1], sizes_big[1:]))\n"
        "backward_madds = 2 * forward_madds - batch_big * 784 * 512\n"  # no dL/dX
        "ratio_with_input_gradient = backward_madds / forward_madds",
    ],
    ("bptt_conv", "bptt_every_step"): [
        "dW_h = np.zeros_like(W_h)\ndL_dH = G[:, -1]\nfor t in range(len(H) - 1, 0, -1):\n"
        "    delta = dL_dH * (1 - H[t] ** 2)\n    dW_h += H[t - 1].T @ delta\n"
        "    dL_dH = delta @ W_h.T\nreturn dW_h",  # the last step's loss only
    ],
    ("bptt_conv", "dx_ex"): [
        "dx_ex = np.convolve(delta_ex, w_ex[::-1], mode='full')",
        "dx_ex = np.convolve(delta_ex, w_ex, mode='same')",
    ],
    ("bptt_conv", "dW_h_truncated"): [
        "dW_h = np.zeros_like(W_h)\ndL_dH = dL_dH_T\nT = len(H) - 1\n"
        "for t in range(T, max(T - tau - 1, 0), -1):\n"  # one step too many
        "    delta = dL_dH * (1 - H[t] ** 2)\n    dW_h += H[t - 1].T @ delta\n"
        "    dL_dH = delta @ W_h.T\nreturn dW_h",
    ],
}

# Other correct answers that a check must accept (regressions of checks that rejected them).
ALSO_RIGHT: dict[tuple[str, str], list[str | tuple[str, ...]]] = {
    ("gradient_descent", "B_tenth"): ["B_tenth = np.ceil(10 * N / (N + 9))"],  # a float
    ("vanishing", "k_exact"): ["k_exact = 6 * np.log(10) / np.log(16)\nn_layers = 5.0"],
    ("keeping_alive", "k_exact"): ["k_exact = np.log(100) / -np.log(0.9)\nn_batches = 44.0"],
}


def slug(md: Path) -> str:
    """A chapter's name without its number: ``03_chain_rule`` -> ``chain_rule``."""
    return re.sub(r"^\d+_", "", md.stem)


def regions(source: str) -> list[tuple[int, int]]:
    """``(begin, end)`` line indices of each solution region's markers in ``source``."""
    lines = [line.strip() for line in source.splitlines()]
    begins = [i for i, line in enumerate(lines) if line == make_student.BEGIN]
    ends = [i for i, line in enumerate(lines) if line == make_student.END]
    return list(zip(begins, ends, strict=True))


def exercise_key(source: str, check: str) -> str:
    """The first answer name of an answer cell: a stub's name, or the function's name."""
    lines = source.splitlines()
    begin, end = regions(source)[0]
    stub = make_student.stub(lines[begin + 1 : end], check)
    if stub[0].strip() == "return ...":
        defs = [re.match(r"\s*def (\w+)", line) for line in lines[:begin]]
        return [m.group(1) for m in defs if m][-1]
    return stub[0].split("=")[0].strip()


def with_answers(source: str, answers: tuple[str, ...]) -> str:
    """``source`` with its solution regions replaced by ``answers``, at their indentation."""
    lines = source.splitlines()
    out: list[str] = []
    previous = 0
    for (begin, end), text in zip(regions(source), answers, strict=True):
        pad = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
        out += lines[previous:begin]
        out += textwrap.indent(textwrap.dedent(text), pad).splitlines()
        previous = end + 1
    return "\n".join(out + lines[previous:])


def exercises(md: Path) -> list[dict[str, Any]]:
    """Each exercise of chapter ``md``: its key, answer and check cells (full edition)."""
    full = nbformat.read(md.with_suffix(".ipynb"), as_version=4)
    found = []
    for answer, check in make_student.exercise_cells(full):
        source, check_source = full.cells[answer].source, full.cells[check].source
        key = (slug(md), exercise_key(source, check_source))
        found.append(
            {"key": key, "answer": source, "check": check_source, "n": len(regions(source))}
        )
    return found


WITH_EXERCISES = [md for md in chapter_sources() if exercises(md)]


def test_the_student_edition_is_current() -> None:
    """``student/`` is what ``make student`` makes from the executed chapters."""
    assert make_student.main(["--check"]) == 0


def test_every_exercise_has_a_wrong_answer() -> None:
    keys = {ex["key"] for md in WITH_EXERCISES for ex in exercises(md)}
    missing = sorted(keys - set(WRONG))
    assert not missing, f"add plausible wrong answers to WRONG for {missing}"
    unknown = sorted((set(WRONG) | set(ALSO_RIGHT)) - keys)
    assert not unknown, f"WRONG has entries for exercises that do not exist: {unknown}"


def test_generator_stubs_and_markers() -> None:
    """The stub rules of tools/make_student.py, and its refusal of bad markers."""
    check = "print(answer(a), answer(f), answer(C))"
    region = ["    x = 1", "    a = x + 1", "    def f():", "        return a", "    class C: ..."]
    assert make_student.stub(region, check) == ["    a = ...", "    f = ...", "    C = ..."]
    assert make_student.stub(["    y = 2", "    return y"], check) == ["    return ..."]
    with pytest.raises(make_student.MarkerError, match="nothing to stub"):
        make_student.stub(["x = 1"], check)
    source = "s = 1\n### BEGIN SOLUTION\na = s\n### END SOLUTION\nprint(a)"
    assert make_student.strip_solutions(source, check) == "s = 1\na = ...\nprint(a)"
    with pytest.raises(make_student.MarkerError, match="without"):
        make_student.strip_solutions("### BEGIN SOLUTION\na = 1", check)
    text = "Text.\n\n:::{dropdown} Solution\n```python\na = 1\n```\n:::\n\n### Next"
    assert make_student.drop_dropdown_solutions(text) == "Text.\n\n### Next"
    kept = ":::{dropdown} A hint\nLook at the shapes.\n:::"
    assert make_student.drop_dropdown_solutions(kept) == kept


def printed(cell: Any) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


@pytest.mark.parametrize("md", WITH_EXERCISES, ids=lambda md: md.stem)
def test_student_notebook(md: Path) -> None:
    student = nbformat.read(make_student.student_path(md), as_version=4)
    full = nbformat.read(md.with_suffix(".ipynb"), as_version=4)
    assert not [c for c in student.cells if make_student.BEGIN in c.source]
    assert not [c for c in student.cells if "{dropdown} Solution" in c.source]
    pairs = make_student.exercise_cells(full)
    for _, check in pairs:  # the full edition's stored verdicts: every solution is correct
        assert printed(full.cells[check]).startswith("Correct"), full.cells[check].source
    client = NotebookClient(
        student, timeout=600, kernel_name="python3",
        resources={"metadata": {"path": str(CHAPTERS)}},
    )  # fmt: skip
    # the student notebook has the full one's cells, minus the dropdowns' markdown cells
    code_ids = [c.id for c in student.cells if c.cell_type == "code"]
    assert code_ids == [c.id for c in full.cells if c.cell_type == "code"]
    by_id = {c.id: c for c in student.cells}
    with client.setup_kernel():
        for i, cell in enumerate(student.cells):
            client.execute_cell(cell, i)  # raises on an error
        for _, check in pairs:
            assert printed(by_id[full.cells[check].id]).strip() == NOT_YET

        def verdict(answer_source: str, check_source: str) -> str:
            answer_cell = nbformat.v4.new_code_cell(answer_source)
            check_cell = nbformat.v4.new_code_cell(check_source)
            client.execute_cell(answer_cell, 0)
            client.execute_cell(check_cell, 0)
            return printed(check_cell).strip()

        for ex in exercises(md):
            for wrong in WRONG.get(ex["key"], []):
                answers = (wrong,) if isinstance(wrong, str) else wrong
                assert len(answers) == ex["n"], ex["key"]
                said = verdict(with_answers(ex["answer"], answers), ex["check"])
                assert said.startswith("Not yet") and said != NOT_YET, (ex["key"], wrong, said)
            for right in ALSO_RIGHT.get(ex["key"], []):
                answers = (right,) if isinstance(right, str) else right
                said = verdict(with_answers(ex["answer"], answers), ex["check"])
                assert said.startswith("Correct"), (ex["key"], right, said)
            said = verdict(ex["answer"], ex["check"])
            assert said.startswith("Correct"), (ex["key"], said)
        for ex in reversed(exercises(md)):  # again, in the other order
            said = verdict(ex["answer"], ex["check"])
            assert said.startswith("Correct"), (ex["key"], said)


def test_answer_and_check(capsys: pytest.CaptureFixture[str]) -> None:
    """bplib.exercises: a stub (...) gets NOT_YET; anything else, the check's own verdict."""
    from bplib.exercises import Unanswered, answer, check

    assert answer(0) == 0 and answer(None) is None
    with pytest.raises(Unanswered):
        answer(...)
    check(lambda: f"Correct: {answer(2) * 2}")
    check(lambda: f"Correct: {answer(...)}")
    assert capsys.readouterr().out.splitlines() == ["Correct: 4", NOT_YET]
