"""The probe's rows (``tests/test_probe.py``'s TABLE) for the transformer's layers of
``bplib.attention``: ``Embedding``, ``CausalSelfAttention``, ``TransformerBlock``, ``CharLM``.

``GELU`` needs none here: the probe gives every registered activation its rows. The rows
are kept in this file and added to the TABLE by the last line of ``test_probe.py``;
``tests/test_attention.py`` runs them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import bplib

from .common import Case, bad, matrix, ok


def _seq(b: int = 2, t: int = 3, c: int = 4, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((b, t, c))


def _backward_with(m: Any, x: Any, g: Any) -> Any:
    m(x)
    return m.backward(g)


def _cache_cleared(make: Any, good: Any, refused: Any, g: Any) -> Any:
    """A good forward, a refused one, then backward: refused (nothing left to use)."""
    m = make()
    m(good)
    try:
        m(refused)
    except (TypeError, ValueError):
        pass
    return m.backward(g)


def _repeated_indices() -> Any:
    emb = bplib.Embedding(5, 2, rng=0)
    emb(np.array([[1, 3, 1]]))
    g = np.array([[[1.0, 2.0], [10.0, 20.0], [100.0, 200.0]]])
    emb.backward(g)
    return emb.weight.grad


def _indices_changed_in_place() -> Any:
    emb = bplib.Embedding(5, 2, rng=0)
    idx = np.array([0, 1])
    emb(idx)
    idx[:] = 4  # the layer keeps its own copy
    emb.backward(np.ones((2, 2)))
    return emb.weight.grad


def _attention_nan_passes_on() -> Any:
    x = _seq()
    x[0, 1, 2] = np.nan
    return bplib.CausalSelfAttention(4, 2, rng=0)(x)


def _lm() -> Any:
    return bplib.CharLM(vocab_size=5, block_size=4, embed_dim=4, num_heads=2, num_layers=1, rng=0)


_ATTN = "CausalSelfAttention"
_BLOCK = "TransformerBlock"

ATTENTION_ROWS: dict[str, list[Case]] = {
    "bplib.attention.attention_entropy": [
        bad("integers", lambda: bplib.attention.attention_entropy(np.eye(2, dtype=int)), TypeError,
            r"attention_entropy: p must be a non-empty float array of probabilities, got dtype int"),
        bad("negative", lambda: bplib.attention.attention_entropy(np.array([[1.5, -0.5]])),
            ValueError, r"attention_entropy: p's entries must be probabilities in \[0, 1\]"),
        bad("rows not summing to 1", lambda: bplib.attention.attention_entropy(np.full((2, 2), 0.3)),
            ValueError, r"each row of p \(its last axis\) must sum to 1"),
        bad("a list", lambda: bplib.attention.attention_entropy([[1.0]]), TypeError,  # type: ignore[arg-type]
            r"attention_entropy: p must be a numpy array, got list"),
        ok("uniform rows: ln n", lambda: bplib.attention.attention_entropy(np.full((3, 4), 0.25)),
           lambda h: np.allclose(h, np.log(4))),
    ],
    "bplib.Embedding": [
        bad("num_embeddings=0", lambda: bplib.Embedding(0, 2), ValueError,
            r"Embedding: num_embeddings must be a positive integer, got 0"),
        bad("embedding_dim=2.0", lambda: bplib.Embedding(3, 2.0), ValueError,  # type: ignore[arg-type]
            r"Embedding: embedding_dim must be a positive integer, got 2\.0"),
        bad("dtype=int64", lambda: bplib.Embedding(3, 2, dtype=np.int64), TypeError,
            r"dtype must be float32 or float64, got int64"),
        bad("float indices", lambda: bplib.Embedding(5, 2, rng=0)(np.array([1.0, 2.0])),
            TypeError, r"expected integer indices .*got dtype float64, shape \(2,\); its values "
            r"are whole numbers: convert them with idx\.astype\(int\)"),
        bad("bool indices", lambda: bplib.Embedding(5, 2, rng=0)(np.array([True])), TypeError,
            r"expected integer indices .*got dtype bool"),
        bad("a list", lambda: bplib.Embedding(5, 2, rng=0)([1, 2]), TypeError,
            r"expected integer indices .*got list"),
        bad("np.matrix indices", lambda: bplib.Embedding(5, 2, rng=0)(matrix([[1, 2]])),
            TypeError, r"the indices must be a plain numpy array, got an np\.matrix"),
        bad("an index past the end", lambda: bplib.Embedding(5, 2, rng=0)(np.array([0, 5])),
            ValueError, r"Embedding\(5, 2\) expected indices in 0\.\.4, got values from 0 to 5"),
        bad("a negative index", lambda: bplib.Embedding(5, 2, rng=0)(np.array([-1, 2])),
            ValueError, r"expected indices in 0\.\.4, got values from -1 to 2"),
        ok("indices of any shape", lambda: bplib.Embedding(5, 2, rng=0)(np.zeros((2, 3, 4), int)).shape,
           lambda s: s == (2, 3, 4, 2)),
        ok("a 0-d index is one row", lambda: bplib.Embedding(5, 2, rng=0)(np.array(3)).shape,
           lambda s: s == (2,)),
        ok("repeated indices accumulate (row 1: both gradients)", _repeated_indices,
           lambda g: np.array_equal(g, [[0, 0], [101, 202], [0, 0], [10, 20], [0, 0]])),
        ok("indices changed in place between forward and backward", _indices_changed_in_place,
           lambda g: np.array_equal(g, [[1, 1], [1, 1], [0, 0], [0, 0], [0, 0]])),
        ok("backward returns None (integer indices have no gradient)",
           lambda: _backward_with(bplib.Embedding(5, 2, rng=0), np.array([1]), np.ones((1, 2))),
           lambda r: r is None),
        bad("backward after a refused forward",
            lambda: _cache_cleared(lambda: bplib.Embedding(5, 2, rng=0), np.array([1]),
                                   np.array([9]), np.ones((1, 2))),
            RuntimeError, r"backward\(\) called before forward\(\)"),
        bad("a gradient of the wrong shape",
            lambda: _backward_with(bplib.Embedding(5, 2, rng=0), np.array([1, 2]), np.ones((2, 3))),
            ValueError, r"expected a gradient of shape \(2, 2\).*got \(2, 3\)"),
        bad("a float64 gradient into a float32 table",
            lambda: _backward_with(bplib.Embedding(5, 2, rng=0, dtype=np.float32), np.array([1]),
                                   np.ones((1, 2))),
            TypeError, r"gradient of dtype float32 \(the layer's\), got dtype float64"),
    ],
    "bplib.CausalSelfAttention": [
        bad("embed_dim not divisible by num_heads", lambda: bplib.CausalSelfAttention(6, 4),
            ValueError, r"embed_dim must be divisible by num_heads .*embed_dim=6 and num_heads=4"),
        bad("num_heads=0", lambda: bplib.CausalSelfAttention(4, 0), ValueError,
            r"CausalSelfAttention: num_heads must be a positive integer, got 0"),
        bad("dtype=int64", lambda: bplib.CausalSelfAttention(4, 2, dtype=np.int64), TypeError,
            r"dtype must be float32 or float64, got int64"),
        bad("2-D input", lambda: bplib.CausalSelfAttention(4, 2, rng=0)(np.ones((3, 4))),
            ValueError, rf"{_ATTN}.* expected input of shape \(batch, time, 4\), got \(3, 4\)"),
        bad("wrong width", lambda: bplib.CausalSelfAttention(4, 2, rng=0)(np.ones((2, 3, 5))),
            ValueError, r"expected input of shape \(batch, time, 4\), got \(2, 3, 5\)"),
        bad("a list", lambda: bplib.CausalSelfAttention(4, 2, rng=0)([[[0.0] * 4]]), TypeError,
            r"expected a numpy array of shape \(batch, time, 4\), got list"),
        bad("float32 input to a float64 layer",
            lambda: bplib.CausalSelfAttention(4, 2, rng=0)(_seq().astype(np.float32)),
            TypeError, r"has dtype float64 but the input has dtype float32"),
        bad("complex input", lambda: bplib.CausalSelfAttention(4, 2, rng=0)(_seq().astype(complex)),
            TypeError, r"expected a real numeric array, got dtype complex128"),
        bad("no time steps", lambda: bplib.CausalSelfAttention(4, 2, rng=0)(np.ones((2, 0, 4))),
            ValueError, r"got an empty batch: shape \(2, 0, 4\)"),
        ok("integer input is converted",
           lambda: bplib.CausalSelfAttention(4, 2, rng=0)(np.ones((1, 2, 4), int)).dtype,
           lambda d: d == np.float64),
        ok("NaN passes on", _attention_nan_passes_on, lambda y: np.isnan(y).any()),
        bad("backward before forward",
            lambda: bplib.CausalSelfAttention(4, 2, rng=0).backward(_seq()), RuntimeError,
            r"backward\(\) called before forward\(\)"),
        bad("a gradient of the wrong shape",
            lambda: _backward_with(bplib.CausalSelfAttention(4, 2, rng=0), _seq(), np.ones((2, 4, 4))),
            ValueError, r"expected a gradient of shape \(2, 3, 4\).*got \(2, 4, 4\)"),
        bad("backward after a refused forward",
            lambda: _cache_cleared(lambda: bplib.CausalSelfAttention(4, 2, rng=0), _seq(),
                                   np.ones((2, 3)), _seq()),
            RuntimeError, r"backward\(\) called before forward\(\)"),
    ],
    "bplib.TransformerBlock": [
        bad("embed_dim=0", lambda: bplib.TransformerBlock(0, 1), ValueError,
            r"TransformerBlock: embed_dim must be a positive integer, got 0"),
        bad("embed_dim not divisible by num_heads", lambda: bplib.TransformerBlock(6, 4),
            ValueError, r"embed_dim must be divisible by num_heads"),
        bad("2-D input", lambda: bplib.TransformerBlock(4, 2, rng=0)(np.ones((3, 4))),
            ValueError, rf"{_BLOCK}.* expected input of shape \(batch, time, 4\), got \(3, 4\)"),
        bad("float32 input to a float64 block",
            lambda: bplib.TransformerBlock(4, 2, rng=0)(_seq().astype(np.float32)),
            TypeError, r"has dtype float64 but the input has dtype float32"),
        ok("float32 throughout",
           lambda: _backward_with(bplib.TransformerBlock(4, 2, rng=0, dtype=np.float32),
                                  _seq().astype(np.float32), _seq(seed=1).astype(np.float32)).dtype,
           lambda d: d == np.float32),
        bad("backward after a refused forward",
            lambda: _cache_cleared(lambda: bplib.TransformerBlock(4, 2, rng=0), _seq(),
                                   np.ones((2, 3, 5)), _seq()),
            RuntimeError, r"backward\(\) called before forward\(\)"),
    ],
    "bplib.CharLM": [
        bad("vocab_size=0", lambda: bplib.CharLM(0, 4, 4, 2, 1), ValueError,
            r"CharLM: vocab_size must be a positive integer, got 0"),
        bad("num_layers=0", lambda: bplib.CharLM(5, 4, 4, 2, 0), ValueError,
            r"CharLM: num_layers must be a positive integer, got 0"),
        bad("a sequence longer than block_size", lambda: _lm()(np.zeros((1, 5), int)),
            ValueError, r"tokens of shape \(batch, time\) with 1 <= time <= 4 \(block_size\), got "
            r"shape \(1, 5\)"),
        bad("1-D tokens", lambda: _lm()(np.zeros(3, int)), ValueError,
            r"tokens of shape \(batch, time\).*got shape \(3,\)"),
        bad("no time steps", lambda: _lm()(np.zeros((2, 0), int)), ValueError,
            r"tokens of shape \(batch, time\).*got shape \(2, 0\)"),
        bad("a token past the vocabulary", lambda: _lm()(np.array([[1, 5]])), ValueError,
            r"expected indices in 0\.\.4, got values from 1 to 5"),
        bad("float tokens", lambda: _lm()(np.array([[1.0, 2.0]])), TypeError,
            r"expected integer indices .*got dtype float64"),
        ok("logits of shape (batch, time, vocab_size)", lambda: _lm()(np.array([[1, 2, 3]])).shape,
           lambda s: s == (1, 3, 5)),
        bad("a gradient of the wrong shape",
            lambda: _backward_with(_lm(), np.array([[1, 2]]), np.ones((2, 5))), ValueError,
            r"expected a gradient of shape \(1, 2, 5\).*got \(2, 5\)"),
    ],
}  # fmt: skip


ROWS = ATTENTION_ROWS
SPECS: tuple = ()
