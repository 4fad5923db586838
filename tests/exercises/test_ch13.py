"""The keys of chapter 13's exercises (bplib.exercises.ch13), called through verdict()."""

from __future__ import annotations

import numpy as np
import pytest

from bplib.exercises import NOT_YET, verdict


def scatter_add(idx, grad_out, num_embeddings):
    dW = np.zeros((num_embeddings, grad_out.shape[-1]))
    np.add.at(dW, idx, grad_out)
    return dW


def loop_over_positions(idx, grad_out, num_embeddings):
    C = grad_out.shape[-1]
    dW = np.zeros((num_embeddings, C))
    for p, k in enumerate(idx.ravel()):
        dW[k] += grad_out.reshape(-1, C)[p]
    return dW


def one_write_kept(idx, grad_out, num_embeddings):
    dW = np.zeros((num_embeddings, grad_out.shape[-1]))
    dW[idx] += grad_out
    return dW


def test_embedding_backward_right_answers_pass() -> None:
    assert verdict("13.1", scatter_add).startswith("Correct")
    assert verdict("13.1", loop_over_positions).startswith("Correct")


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (one_write_kept, "keeps only one of its gradients"),
        (lambda idx, g, n: np.zeros((g.shape[-1], n)), "shape"),
        (lambda idx, g, n: np.zeros((n, g.shape[-1])), "differs"),
        (np.zeros((5, 3)), "function"),
    ],
)
def test_embedding_backward_wrong_answers_fail(answer, hint) -> None:
    message = verdict("13.1", answer)
    assert message.startswith("Not yet") and hint in message, message


def test_embedding_backward_stub() -> None:
    assert verdict("13.1", lambda *args: ...) == NOT_YET


def forward(Q, K, V, scale, causal=True):
    T = Q.shape[0]
    S = Q @ K.T * scale
    if causal:
        S[np.triu(np.ones((T, T), dtype=bool), k=1)] = -np.inf
    E = np.exp(S - S.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def dscale(mistake: str = ""):
    def dL_dscale(Q, K, V, dY, scale):
        P = forward(Q, K, V, scale, causal=mistake != "no mask")
        dP = dY @ V.T
        dS = P * (dP - (dP * P).sum(axis=1, keepdims=True))
        if mistake == "dP":
            dS = P * dP
        result = np.sum(dS * (Q @ K.T))
        if mistake == "sqrt":
            result /= np.sqrt(Q.shape[1])
        if mistake == "sign":
            result = -result
        return result

    return dL_dscale


def via_dQ(Q, K, V, dY, scale):  # the solution's alternative: sum(dQ * Q) / scale
    P = forward(Q, K, V, scale)
    dP = dY @ V.T
    dS = P * (dP - (dP * P).sum(axis=1, keepdims=True))
    return np.sum((dS @ K * scale) * Q) / scale


def test_dscale_right_answers_pass() -> None:
    assert verdict("13.2", dscale()).startswith("Correct")
    assert verdict("13.2", via_dQ).startswith("Correct")


@pytest.mark.parametrize(
    ("mistake", "hint"),
    [("dP", "Jacobian"), ("no mask", "mask"), ("sqrt", "sqrt(d) too many"), ("sign", "sign")],
)
def test_dscale_wrong_answers_fail(mistake, hint) -> None:
    message = verdict("13.2", dscale(mistake))
    assert message.startswith("Not yet") and hint in message, message


def test_dscale_other_wrong_answers_fail() -> None:
    assert "differs" in verdict("13.2", lambda *args: 1.0)
    assert "number" in verdict("13.2", lambda *args: "alpha")
    assert verdict("13.2", lambda *args: ...) == NOT_YET


def test_crossover_right_answers_pass() -> None:
    assert verdict("13.3", 288).startswith("Correct")
    assert verdict("13.3", 12 * 48**2 / (2 * 48)).startswith("Correct")
    assert verdict("13.3", np.float64(288.2)).startswith("Correct")


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (576, "one of the two products"),
        (192, "MLP alone"),
        (96, "c_attn and c_proj alone"),
        (100, "eq-attn-flops"),
        ("6 C", "number"),
    ],
)
def test_crossover_wrong_answers_fail(answer, hint) -> None:
    message = verdict("13.3", answer)
    assert message.startswith("Not yet") and hint in message, message
    assert "288" not in message and "= 6" not in message
