r"""The transformer's layers (issue 30): ``Linear`` and ``LayerNorm`` with leading dimensions,
``Embedding``, ``GELU``, ``CausalSelfAttention`` and ``TransformerBlock``.

Every gradient is checked two ways: against central finite differences
(``bplib.gradcheck.numerical_gradient``) of the scalar :math:`L = \sum \text{out} \odot G`
for a random :math:`G`, and against PyTorch's autograd on the same numbers in float64
(skipped, with the reason, where torch is not installed). Then float32, the causal mask,
the embedding's scatter-add, and the probe's rows for these layers
(``tests/probe/attention.py``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import bplib
from bplib.gradcheck import numerical_gradient, relative_error

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # the torch cross-checks below skip
    torch = None  # type: ignore[assignment]

NO_TORCH = "PyTorch not installed: pip install torch==2.13.0"
FD_TOL = 1e-7  # central differences, eps = 1e-6: truncation ~eps^2, rounding ~1e-16/eps
TORCH_TOL = 1e-10
B, T, C, H = 2, 4, 6, 2


def needs_torch() -> None:
    if torch is None:
        pytest.skip(NO_TORCH)


def randomise(module: bplib.Module, rng: np.random.Generator, scale: float = 0.5) -> None:
    """Every parameter random (biases and LayerNorm's gain included), so no term is 0 or 1."""
    for p in module.parameters():
        p.data[...] = scale * rng.standard_normal(p.shape)


def fd_errors(module: bplib.Module, x: np.ndarray, g: np.ndarray) -> dict[str, float]:
    r"""Relative error of ``backward`` against finite differences, per parameter and input,
    for :math:`L = \sum \text{out} \odot g`."""
    module.zero_grad()
    module(x)
    dx = module.backward(g)
    x = x.copy()

    def loss() -> float:
        return float((module.forward(x) * g).sum())

    errors = {
        name: relative_error(p.grad, numerical_gradient(loss, p.data))
        for name, p in module.named_parameters()
    }
    if dx is not None:
        errors["input"] = relative_error(dx, numerical_gradient(loss, x))
    return errors


def torch_params(module: bplib.Module) -> dict[str, Any]:
    return {n: torch.tensor(p.data, requires_grad=True) for n, p in module.named_parameters()}


def torch_errors(module: bplib.Module, x: np.ndarray, g: np.ndarray, twin: Any) -> dict[str, float]:
    """Relative error of ours against ``twin(params, x)``, torch autograd on the same weights
    (bplib's (in, out) layout, so ``x @ W + b``: no transposes)."""
    module.zero_grad()
    out = module(x)
    dx = module.backward(g)
    params, xt = torch_params(module), torch.tensor(x, requires_grad=True)
    theirs = twin(params, xt)
    theirs.backward(torch.tensor(g))
    errors = {"output": relative_error(out, theirs.detach().numpy())}
    errors["input"] = relative_error(dx, xt.grad.numpy())
    for name, p in module.named_parameters():
        errors[name] = relative_error(p.grad, params[name].grad.numpy())
    return errors


# ------------------------------------------------------------------ torch's forward, by hand
def t_linear(p: dict[str, Any], prefix: str, a: Any) -> Any:
    return a @ p[f"{prefix}weight"] + p[f"{prefix}bias"]


def t_attention(p: dict[str, Any], prefix: str, x: Any, heads: int) -> Any:
    b, t, c = x.shape
    q, k, v = t_linear(p, f"{prefix}c_attn.", x).split(c, dim=-1)

    def split(a: Any) -> Any:
        return a.view(b, t, heads, c // heads).transpose(1, 2)

    y = F.scaled_dot_product_attention(split(q), split(k), split(v), is_causal=True)
    return t_linear(p, f"{prefix}c_proj.", y.transpose(1, 2).reshape(b, t, c))


def t_block(p: dict[str, Any], x: Any, heads: int) -> Any:
    c = x.shape[-1]

    def ln(name: str, a: Any) -> Any:
        return F.layer_norm(a, (c,), p[f"{name}.weight"], p[f"{name}.bias"], 1e-5)

    h = x + t_attention(p, "attn.", ln("ln_1", x), heads)
    hidden = F.gelu(t_linear(p, "mlp.0.", ln("ln_2", h)), approximate="tanh")
    return h + t_linear(p, "mlp.2.", hidden)


# ------------------------------------------------------------ Linear, LayerNorm: (..., features)
@pytest.mark.parametrize("shape", [(2, 3, 4), (2, 1, 3, 4), (1, 1, 4)])
def test_linear_with_leading_dims_is_the_same_rows(shape):
    rng = np.random.default_rng(0)
    x, g = rng.standard_normal(shape), rng.standard_normal((*shape[:-1], 5))
    nd, rows = bplib.Linear(4, 5, rng=1), bplib.Linear(4, 5, rng=1)
    rows.bias.data[:] = nd.bias.data[:] = rng.standard_normal(5)
    out, dx = nd(x), nd.backward(g)
    assert out.shape == g.shape and dx.shape == x.shape
    np.testing.assert_array_equal(out, rows(x.reshape(-1, 4)).reshape(g.shape))
    np.testing.assert_array_equal(dx, rows.backward(g.reshape(-1, 5)).reshape(x.shape))
    for p, q in zip(nd.parameters(), rows.parameters(), strict=True):  # summed over all rows
        np.testing.assert_array_equal(p.grad, q.grad)


def test_linear_and_layernorm_with_leading_dims_match_finite_differences():
    rng = np.random.default_rng(1)
    for layer in (bplib.Linear(4, 3, rng=0), bplib.LayerNorm(4)):
        randomise(layer, rng)
        out_width = 3 if isinstance(layer, bplib.Linear) else 4
        x, g = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, out_width))
        errors = fd_errors(layer, x, g)
        assert max(errors.values()) < FD_TOL, errors


@pytest.mark.parametrize("seed", range(3))
def test_linear_and_layernorm_with_leading_dims_match_torch(seed):
    needs_torch()
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 3, 4))
    linear = bplib.Linear(4, 3, rng=rng)
    randomise(linear, rng)
    errors = torch_errors(
        linear, x, rng.standard_normal((2, 3, 3)), lambda p, xt: t_linear(p, "", xt)
    )
    norm = bplib.LayerNorm(4)
    randomise(norm, rng)
    errors |= torch_errors(
        norm,
        x,
        rng.standard_normal((2, 3, 4)),
        lambda p, xt: F.layer_norm(xt, (4,), p["weight"], p["bias"], 1e-5),
    )
    assert max(errors.values()) < TORCH_TOL, errors


def test_leading_dims_keep_the_2d_messages_and_name_the_shape():
    layer = bplib.Linear(3, 2, rng=0)
    with pytest.raises(ValueError, match=r"expected input of shape \(batch, 3\), got \(4, 5\)"):
        layer(np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"expected input of shape \(\.\.\., 3\), got \(2, 4, 5\)"):
        layer(np.ones((2, 4, 5)))
    with pytest.raises(ValueError, match=r"got an empty batch: shape \(2, 0, 3\)"):
        layer(np.ones((2, 0, 3)))
    with pytest.raises(ValueError, match=r"2-D array.*got 1-D array of shape \(3,\).*reshape"):
        layer(np.ones(3))
    layer(np.ones((2, 4, 3)))
    with pytest.raises(ValueError, match=r"gradient of shape \(2, 4, 2\).*got \(8, 2\)"):
        layer.backward(np.ones((8, 2)))  # the rows are the boundary's business, not the caller's
    with pytest.raises(ValueError, match=r"LayerNorm.*expected input of shape \(\.\.\., 3\)"):
        bplib.LayerNorm(3)(np.ones((2, 4, 5)))


def test_batchnorm_still_refuses_3d_input():  # torch's BatchNorm1d reads (N, C, L): not rows
    with pytest.raises(ValueError, match=r"expected a 2-D array.*got 3-D"):
        bplib.BatchNorm1d(3)(np.ones((2, 4, 3)))


# ------------------------------------------------------------------------------ Embedding
def test_embedding_looks_up_rows_and_scatter_adds_repeated_indices():
    emb = bplib.Embedding(6, 3, rng=0)
    idx = np.array([[2, 5, 2], [0, 2, 1]])
    out = emb(idx)
    np.testing.assert_array_equal(out, emb.weight.data[idx])
    g = np.random.default_rng(1).standard_normal((2, 3, 3))
    assert emb.backward(g) is None
    expected = np.zeros((6, 3))  # row k collects the gradient of every position holding k
    for (i, j), k in np.ndenumerate(idx):
        expected[k] += g[i, j]
    np.testing.assert_allclose(emb.weight.grad, expected, rtol=1e-15)
    np.testing.assert_allclose(emb.weight.grad[2], g[0, 0] + g[0, 2] + g[1, 1], rtol=1e-15)
    naive = np.zeros((6, 3))
    naive[idx] += g  # a buffered += keeps one of the three gradients of row 2: the bug
    assert not np.allclose(naive[2], expected[2])


def test_embedding_matches_finite_differences_and_torch():
    rng = np.random.default_rng(2)
    emb = bplib.Embedding(5, 3, rng=0)
    idx, g = rng.integers(0, 5, (3, 4)), rng.standard_normal((3, 4, 3))
    emb.zero_grad()
    emb(idx)
    emb.backward_to_parameters(g)
    fd = numerical_gradient(lambda: float((emb.forward(idx) * g).sum()), emb.weight.data)
    assert relative_error(emb.weight.grad, fd) < FD_TOL
    needs_torch()
    theirs = torch.nn.Embedding(5, 3).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(emb.weight.data))
    theirs(torch.tensor(idx)).backward(torch.tensor(g))
    assert relative_error(emb.weight.grad, theirs.weight.grad.numpy()) < TORCH_TOL


def test_embedding_float32():
    emb = bplib.Embedding(5, 3, rng=0, dtype=np.float32)
    out = emb(np.array([1, 1]))
    emb.backward(np.ones((2, 3), np.float32))
    assert out.dtype == emb.weight.grad.dtype == np.float32
    np.testing.assert_array_equal(emb.weight.grad[1], 2.0)


# ----------------------------------------------------------------------------------- GELU
def test_gelu_is_the_tanh_form_within_5e4_of_the_exact_gelu():
    z = np.linspace(-8, 8, 2001)
    exact = np.array([v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in z])
    assert np.max(np.abs(bplib.GELU()(z) - exact)) < 5e-4  # the docstring's bound


def test_gelu_matches_torch_tanh_form_not_the_exact_one():
    needs_torch()
    z = np.linspace(-4, 4, 41)
    ours = bplib.GELU()(z)
    tanh_form = torch.nn.GELU(approximate="tanh")(torch.tensor(z)).numpy()
    exact = torch.nn.GELU()(torch.tensor(z)).numpy()
    assert relative_error(ours, tanh_form) < 1e-15 < relative_error(ours, exact)


# -------------------------------------------------------------------- CausalSelfAttention
@pytest.mark.parametrize("heads", [1, 2, 3])
def test_attention_matches_finite_differences(heads):
    rng = np.random.default_rng(heads)
    attn = bplib.CausalSelfAttention(C, heads, rng=rng)
    randomise(attn, rng)
    errors = fd_errors(attn, rng.standard_normal((B, T, C)), rng.standard_normal((B, T, C)))
    assert max(errors.values()) < FD_TOL, errors


@pytest.mark.parametrize("heads", [1, 2, 3])
@pytest.mark.parametrize("seed", range(3))
def test_attention_matches_torch(heads, seed):
    needs_torch()
    rng = np.random.default_rng(seed)
    attn = bplib.CausalSelfAttention(C, heads, rng=rng)
    randomise(attn, rng, scale=1.0)
    x, g = rng.standard_normal((2, B, T, C))
    errors = torch_errors(attn, x, g, lambda p, xt: t_attention(p, "", xt, heads))
    assert max(errors.values()) < TORCH_TOL, errors


def test_the_mask_passes_no_gradient_from_the_future():
    """Output position t reads positions 0..t only: the gradient of a loss on position t
    is exactly zero on every later input position, and the outputs before a change in the
    input do not move."""
    rng = np.random.default_rng(3)
    attn = bplib.CausalSelfAttention(C, H, rng=rng)
    x = rng.standard_normal((B, T, C))
    for t in range(T):
        g = np.zeros((B, T, C))
        g[:, t] = rng.standard_normal((B, C))
        attn(x)
        dx = attn.backward(g)
        assert (dx[:, t + 1 :] == 0).all()
        assert (np.abs(dx[:, : t + 1]) > 0).any(axis=-1).all()  # the past does get gradient
    changed = x.copy()
    changed[:, -1] += 1.0
    np.testing.assert_array_equal(attn(changed)[:, :-1], attn(x)[:, :-1])


def test_the_attention_weights_are_causal_rows_that_sum_to_one():
    attn = bplib.CausalSelfAttention(C, H, rng=0)
    attn(np.random.default_rng(4).standard_normal((B, T, C)))
    p = attn.cache[3]
    assert p.shape == (B, H, T, T)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-14)
    assert (p[..., np.triu_indices(T, k=1)[0], np.triu_indices(T, k=1)[1]] == 0).all()
    np.testing.assert_array_equal(p[..., 0, 0], 1.0)  # the first position sees only itself


# ----------------------------------------------------------------------- TransformerBlock
def test_block_matches_finite_differences():
    rng = np.random.default_rng(5)
    block = bplib.TransformerBlock(C, H, rng=rng)
    randomise(block, rng)
    errors = fd_errors(block, rng.standard_normal((B, T, C)), rng.standard_normal((B, T, C)))
    assert max(errors.values()) < FD_TOL, errors


@pytest.mark.parametrize("seed", range(3))
def test_block_matches_torch(seed):
    needs_torch()
    rng = np.random.default_rng(seed)
    block = bplib.TransformerBlock(C, H, rng=rng)
    randomise(block, rng)
    x, g = rng.standard_normal((2, B, T, C))
    errors = torch_errors(block, x, g, lambda p, xt: t_block(p, xt, H))
    assert max(errors.values()) < TORCH_TOL, errors


def test_block_names_its_parameters_as_nanogpt():
    names = list(bplib.TransformerBlock(C, H, rng=0).state_dict())
    assert names[:6] == [
        "ln_1.weight",
        "ln_1.bias",
        "attn.c_attn.weight",
        "attn.c_attn.bias",
        "attn.c_proj.weight",
        "attn.c_proj.bias",
    ]
    assert names[6:] == ["ln_2.weight", "ln_2.bias"] + [
        f"mlp.{i}.{w}" for i in (0, 2) for w in ("weight", "bias")
    ]


@pytest.mark.parametrize("make", [bplib.CausalSelfAttention, bplib.TransformerBlock])
def test_float32_runs_in_float32_and_agrees_with_float64(make):
    rng = np.random.default_rng(6)
    x, g = rng.standard_normal((2, B, T, C))
    m64, m32 = make(C, H, rng=0), make(C, H, rng=0, dtype=np.float32)
    for p, q in zip(m64.parameters(), m32.parameters(), strict=True):
        p.data[...] = rng.standard_normal(p.shape)
        q.data[...] = p.data
    out32 = m32(x.astype(np.float32))
    dx32 = m32.backward(g.astype(np.float32))
    out64, dx64 = m64(x), m64.backward(g)
    assert out32.dtype == dx32.dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in m32.parameters())
    assert relative_error(out32.astype(np.float64), out64) < 1e-5
    assert relative_error(dx32.astype(np.float64), dx64) < 1e-5
    for p, q in zip(m64.parameters(), m32.parameters(), strict=True):
        assert relative_error(q.grad.astype(np.float64), p.grad) < 1e-4, p.name


def test_float16_runs_in_float16_and_bfloat16_is_refused_clearly():
    block = bplib.TransformerBlock(C, H, rng=0, dtype=np.float16)
    x = np.random.default_rng(8).standard_normal((B, T, C)).astype(np.float16)
    out = block(x)
    assert out.dtype == block.backward(out).dtype == np.float16
    ml_dtypes = pytest.importorskip("ml_dtypes", reason="ml_dtypes not installed (extra lowp)")
    with pytest.raises(TypeError, match=r"CausalSelfAttention does not compute in bfloat16"):
        bplib.TransformerBlock(C, H, dtype=ml_dtypes.bfloat16)


# ----------------------------------------------------------------------------------- CharLM
def charlm_and_batch(seed: int) -> tuple[bplib.CharLM, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    model = bplib.CharLM(
        vocab_size=5, block_size=6, embed_dim=4, num_heads=2, num_layers=2, rng=rng
    )
    randomise(model, rng)
    return model, rng.integers(0, 5, (2, 6)), rng.standard_normal((2, 6, 5))


def test_charlm_matches_finite_differences():
    model, idx, g = charlm_and_batch(7)
    model.zero_grad()
    model(idx)
    assert model.backward(g) is None  # tokens have no gradient

    def loss() -> float:
        return float((model.forward(idx) * g).sum())

    errors = {
        name: relative_error(p.grad, numerical_gradient(loss, p.data))
        for name, p in model.named_parameters()
    }
    assert max(errors.values()) < FD_TOL, errors


@pytest.mark.parametrize("seed", range(2))
def test_charlm_matches_torch(seed):
    needs_torch()
    model, idx, g = charlm_and_batch(seed)
    model.zero_grad()
    logits = model(idx)
    model.backward(g)
    p = torch_params(model)
    it = torch.tensor(idx)
    x = p["wte.weight"][it] + p["wpe.weight"][torch.arange(idx.shape[1])]
    for i in range(len(model.blocks)):
        prefix = f"blocks.{i}."
        x = t_block({k.removeprefix(prefix): v for k, v in p.items()}, x, 2)
    x = F.layer_norm(x, (4,), p["ln_f.weight"], p["ln_f.bias"], 1e-5)
    theirs = t_linear(p, "lm_head.", x)
    theirs.backward(torch.tensor(g))
    errors = {"logits": relative_error(logits, theirs.detach().numpy())}
    for name, q in model.named_parameters():
        errors[name] = relative_error(q.grad, p[name].grad.numpy())
    assert max(errors.values()) < TORCH_TOL, errors


def test_charlm_with_cross_entropy_on_rows_and_its_first_loss_near_ln_vocab():
    """The logits flattened to rows for CrossEntropyLoss; with a small head the first loss is
    near ln(vocab_size), every token about equally likely."""
    model = bplib.CharLM(vocab_size=7, block_size=8, embed_dim=8, num_heads=2, num_layers=1, rng=0)
    model.lm_head.weight.data *= 0.01
    idx = np.random.default_rng(0).integers(0, 7, (4, 8))
    logits = model(idx[:, :-1])
    loss_fn = bplib.CrossEntropyLoss()
    loss = loss_fn(logits.reshape(-1, 7), idx[:, 1:].reshape(-1))
    assert abs(loss - math.log(7)) < 0.05
    model.backward(loss_fn.backward().reshape(logits.shape))
    assert all(np.isfinite(p.grad).all() for p in model.parameters())


def test_attention_entropy_is_zero_for_one_hot_rows_and_ln_n_for_uniform_ones() -> None:
    from bplib.attention import attention_entropy

    p = np.tril(np.ones((4, 4))) / np.arange(1, 5)[:, None]  # causal, uniform over the past
    np.testing.assert_allclose(attention_entropy(p), np.log(np.arange(1, 5)), rtol=1e-12)
    np.testing.assert_allclose(attention_entropy(np.eye(3)), np.zeros(3), atol=0)


def test_attention_entropy_of_a_layer_lies_between_0_and_ln_of_the_positions_seen() -> None:
    from bplib.attention import attention_entropy

    attn = bplib.CausalSelfAttention(8, 2, rng=0)
    attn(np.random.default_rng(0).standard_normal((3, 6, 8)))
    h = attention_entropy(attn.cache[3])
    assert h.shape == (3, 2, 6)
    assert np.all(h >= 0) and np.all(h <= np.log(np.arange(1, 7)) + 1e-12)
    assert np.all(h[..., 0] == 0)  # the first position sees only itself
