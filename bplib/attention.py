r"""The transformer's layers: ``Embedding``, ``CausalSelfAttention``, ``TransformerBlock``,
and ``CharLM``, a tiny GPT built from them.

The three pieces of a GPT-style language model (Radford et al. 2019; Karpathy's nanoGPT),
each with its backward pass written out as the mathematics gives it. Shapes and names are
PyTorch's and nanoGPT's: a batch of sequences is ``(batch, time, embed_dim)``, written
``(B, T, C)`` below; ``H`` heads of ``D = C / H`` features each. ``Linear`` and ``LayerNorm``
take the ``(B, T, C)`` arrays as ``B * T`` rows (see :class:`~bplib.Module`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

from . import init as _init
from ._checks import (
    as_float_dtype,
    describe,
    index_input,
    is_bfloat16,
    plain_array,
    positive_int,
    sequence_input,
    token_input,
)
from .init import RngLike
from .layers import GELU, Linear
from .module import Module, ModuleList, Parameter, Sequential
from .normalization import LayerNorm

__all__ = [
    "CausalSelfAttention",
    "CharLM",
    "Embedding",
    "TransformerBlock",
    "attention_entropy",
]


class Embedding(Module):
    r"""A lookup table: row :math:`i` of ``weight`` for each integer index :math:`i`, as
    ``torch.nn.Embedding``.

    Forward: indices of any shape ``S`` give ``weight[indices]``, of shape
    ``S + (embedding_dim,)``. Backward: each output row is a copy of one row of the table,
    so the table's gradient collects the rows' gradients,

    .. math:: \frac{\partial L}{\partial W_k} = \sum_{p:\ \text{idx}_p = k}
        \frac{\partial L}{\partial \text{out}_p},

    a *scatter-add* (``np.add.at``): an index that occurs twice (a repeated token) adds both
    gradients to its row; a plain ``grad[idx] += g`` would keep only one of them.

    The indices are integers, so there is no gradient with respect to the input:
    ``backward`` accumulates ``weight.grad`` and returns ``None`` (PyTorch's autograd gives
    integer inputs no gradient either). ``backward_to_parameters`` does the same, and is
    what a training step calls on the first layer anyway.

    Parameters
    ----------
    num_embeddings : int
        The size of the table (the vocabulary), >= 1.
    embedding_dim : int
        The length of each row, >= 1.
    rng : int, numpy.random.Generator or None
        Seed or generator for the initial table, standard normal as PyTorch's.
    dtype : float64 (default) or float32

    Examples
    --------
    >>> import numpy as np, bplib
    >>> emb = bplib.Embedding(10, 4, rng=0)
    >>> emb(np.array([[1, 2, 1]])).shape
    (1, 3, 4)
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        *,
        rng: RngLike = None,
        dtype: DTypeLike = np.float64,
    ) -> None:
        self.num_embeddings = positive_int(num_embeddings, "num_embeddings", "Embedding")
        self.embedding_dim = positive_int(embedding_dim, "embedding_dim", "Embedding")
        self.dtype = as_float_dtype(dtype)
        table = _init.as_rng(rng).standard_normal((self.num_embeddings, self.embedding_dim))
        self.weight = Parameter(table.astype(self.dtype), "weight")

    check_input = index_input  # the boundary (see Module): integers in range, a private copy
    idx: NDArray[Any]  # the last indices, cached by forward for backward

    def forward(self, idx: NDArray[Any]) -> NDArray[Any]:
        self.idx = idx  # cached for backward
        return self.weight.data[idx]

    def backward(self, grad_out: NDArray[Any]) -> None:  # type: ignore[override]
        self.backward_to_parameters(grad_out)
        return None  # integer indices have no gradient

    def backward_to_parameters(self, grad_out: NDArray[Any]) -> None:
        np.add.at(self.weight.grad, self.idx, grad_out)  # repeated indices accumulate

    def __repr__(self) -> str:
        return f"Embedding({self.num_embeddings}, {self.embedding_dim})"


class CausalSelfAttention(Module):
    r"""Multi-head causal self-attention, as nanoGPT's without its dropout (Vaswani et al. 2017).

    For each head, with :math:`X` one sequence ``(T, C)`` and :math:`Q, K, V` its ``(T, D)``
    slices of ``c_attn(X)``:

    .. math::

        S = \frac{Q K^\top}{\sqrt D} \text{ (masked)}, \quad
        P = \operatorname{softmax}_\text{row}(S), \quad Y = P V,

    the heads' :math:`Y` side by side go through ``c_proj``. The mask sets :math:`S_{ij}`
    to :math:`-\infty` for :math:`j > i`: a position attends to itself and the positions
    before it, never to the future, so :math:`P_{ij} = 0` there.

    Backward, given :math:`dY = \partial L/\partial Y`:

    .. math::

        dP = dY\,V^\top, \quad dV = P^\top dY, \quad
        dS = P \odot \Big(dP - \textstyle\sum_j (dP \odot P)_{\cdot j}\Big), \quad
        dQ = \frac{dS\,K}{\sqrt D}, \quad dK = \frac{dS^\top Q}{\sqrt D},

    the middle one the softmax's Jacobian applied row by row. Where the mask holds,
    :math:`P_{ij} = 0` makes :math:`dS_{ij} = 0`: no gradient reaches a future position
    through the scores.

    Parameters
    ----------
    embed_dim : int
        :math:`C`, the features of each position, >= 1.
    num_heads : int
        :math:`H`, >= 1, dividing ``embed_dim``; each head has :math:`D = C/H` features.
    bias : bool
        Whether the two ``Linear`` layers have a bias.
    rng : int, numpy.random.Generator or None
        Seed or generator for the initial weights (``Linear``'s initialisation).
    dtype : float64 (default) or float32

    Attributes
    ----------
    c_attn : Linear
        ``(C, 3C)``: :math:`Q`, :math:`K` and :math:`V` of every head in one product.
    c_proj : Linear
        ``(C, C)``: the output projection.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        *,
        bias: bool = True,
        rng: RngLike = None,
        dtype: DTypeLike = np.float64,
    ) -> None:
        self.embed_dim = positive_int(embed_dim, "embed_dim", "CausalSelfAttention")
        self.num_heads = positive_int(num_heads, "num_heads", "CausalSelfAttention")
        if self.embed_dim % self.num_heads:
            raise ValueError(
                f"CausalSelfAttention: embed_dim must be divisible by num_heads (each head has "
                f"embed_dim / num_heads features), got embed_dim={self.embed_dim} and "
                f"num_heads={self.num_heads}"
            )
        self.dtype = as_float_dtype(dtype)
        if is_bfloat16(self.dtype):  # the products below would come out float32
            raise TypeError(
                "CausalSelfAttention does not compute in bfloat16 (numpy's matrix product of "
                "bfloat16 arrays returns float32, and the scores' products are inside the "
                "layer, where the boundary does not round them back); use float16, float32 "
                "or float64"
            )
        rng = _init.as_rng(rng)
        c = self.embed_dim
        self.c_attn = Linear(c, 3 * c, bias=bias, rng=rng, dtype=self.dtype)
        self.c_proj = Linear(c, c, bias=bias, rng=rng, dtype=self.dtype)

    check_input = sequence_input  # the boundary (see Module): (batch, time, embed_dim)
    cache: tuple[NDArray[Any], NDArray[Any], NDArray[Any], NDArray[Any]]  # Q, K, V, P

    def _heads(self, a: NDArray[Any]) -> NDArray[Any]:
        """(B, T, C) -> (B, H, T, D): each head's slice of the features."""
        b, t, c = a.shape
        return a.reshape(b, t, self.num_heads, c // self.num_heads).transpose(0, 2, 1, 3)

    @staticmethod
    def _merge(a: NDArray[Any]) -> NDArray[Any]:
        """(B, H, T, D) -> (B, T, C): the heads side by side again."""
        b, h, t, d = a.shape
        return a.transpose(0, 2, 1, 3).reshape(b, t, h * d)

    def forward(self, x: NDArray[Any]) -> NDArray[Any]:
        q, k, v = (self._heads(a) for a in np.split(self.c_attn.forward(x), 3, axis=-1))
        scale = x.dtype.type(1 / np.sqrt(q.shape[-1]))  # 1/sqrt(D), in the input's dtype
        s = (q @ k.swapaxes(-1, -2)) * scale  # S = Q K^T / sqrt(D): (B, H, T, T)
        t = s.shape[-1]
        s[..., np.triu(np.ones((t, t), dtype=bool), k=1)] = -np.inf  # j > i: the future
        e = np.exp(s - s.max(axis=-1, keepdims=True))  # softmax of each row, shifted by
        p = e / e.sum(axis=-1, keepdims=True)  # its maximum; exp(-inf) = 0 on the mask
        self.cache = (q, k, v, p)
        return self.c_proj.forward(self._merge(p @ v))  # Y = P V, heads merged, projected

    def backward(self, grad_out: NDArray[Any]) -> NDArray[Any]:
        q, k, v, p = self.cache
        scale = q.dtype.type(1 / np.sqrt(q.shape[-1]))
        dy = self._heads(self.c_proj.backward(grad_out))  # dL/dY, (B, H, T, D)
        dp = dy @ v.swapaxes(-1, -2)  # Y = P V:  dP = dY V^T,  dV = P^T dY
        dv = p.swapaxes(-1, -2) @ dy
        # P = softmax(S) row by row: dS = P * (dP - sum_j dP * P); 0 wherever P is (the mask)
        ds = p * (dp - (dp * p).sum(axis=-1, keepdims=True))
        dq = (ds @ k) * scale  # S = Q K^T / sqrt(D):  dQ = dS K / sqrt(D)
        dk = (ds.swapaxes(-1, -2) @ q) * scale  # dK = dS^T Q / sqrt(D)
        dqkv = np.concatenate([self._merge(dq), self._merge(dk), self._merge(dv)], axis=-1)
        return self.c_attn.backward(dqkv)

    def __repr__(self) -> str:
        return f"CausalSelfAttention(embed_dim={self.embed_dim}, num_heads={self.num_heads})"


class TransformerBlock(Module):
    r"""A pre-norm transformer block, as GPT-2's and nanoGPT's:

    .. math::

        h = x + \operatorname{attn}(\operatorname{ln}_1(x)), \qquad
        y = h + \operatorname{mlp}(\operatorname{ln}_2(h)),

    with ``mlp = Sequential(Linear(C, 4C), GELU(), Linear(4C, C))`` (GELU's tanh form, as
    GPT-2's; nanoGPT's is the exact form, and nanoGPT's block has dropout layers, whose
    rate is a setting, 0 by default).
    Backward runs the two residual connections in reverse, each the identity path plus its
    branch (as :class:`~bplib.Residual`):

    .. math::

        \frac{\partial L}{\partial h} = \delta + \operatorname{ln}_2'^\top
        \operatorname{mlp}'^\top \delta, \qquad
        \frac{\partial L}{\partial x} = \frac{\partial L}{\partial h} +
        \operatorname{ln}_1'^\top \operatorname{attn}'^\top \frac{\partial L}{\partial h}.

    Parameters
    ----------
    embed_dim, num_heads : int
        As :class:`CausalSelfAttention`'s.
    bias : bool
        Whether the ``Linear`` and ``LayerNorm`` layers have a bias.
    rng : int, numpy.random.Generator or None
        Seed or generator for the initial weights.
    dtype : float64 (default) or float32

    Examples
    --------
    >>> import numpy as np, bplib
    >>> block = bplib.TransformerBlock(8, 2, rng=0)
    >>> block(np.zeros((2, 5, 8))).shape
    (2, 5, 8)
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        *,
        bias: bool = True,
        rng: RngLike = None,
        dtype: DTypeLike = np.float64,
    ) -> None:
        self.embed_dim = positive_int(embed_dim, "embed_dim", "TransformerBlock")
        self.dtype = as_float_dtype(dtype)
        rng = _init.as_rng(rng)
        c = self.embed_dim
        self.ln_1 = LayerNorm(c, bias=bias, dtype=self.dtype)
        self.attn = CausalSelfAttention(c, num_heads, bias=bias, rng=rng, dtype=self.dtype)
        self.ln_2 = LayerNorm(c, bias=bias, dtype=self.dtype)
        self.mlp = Sequential(
            Linear(c, 4 * c, bias=bias, rng=rng, dtype=self.dtype),
            GELU(),
            Linear(4 * c, c, bias=bias, rng=rng, dtype=self.dtype),
        )

    check_input = sequence_input  # the boundary (see Module): (batch, time, embed_dim)

    def forward(self, x: NDArray[Any]) -> NDArray[Any]:
        h = x + self.attn.forward(self.ln_1.forward(x))
        return h + self.mlp.forward(self.ln_2.forward(h))

    def backward(self, grad_out: NDArray[Any]) -> NDArray[Any]:
        dh = grad_out + self.ln_2.backward(self.mlp.backward(grad_out))  # y = h + mlp(ln_2(h))
        return dh + self.ln_1.backward(self.attn.backward(dh))  # h = x + attn(ln_1(x))

    def __repr__(self) -> str:
        return f"TransformerBlock(embed_dim={self.embed_dim}, num_heads={self.attn.num_heads})"


class CharLM(Module):
    r"""A tiny GPT (nanoGPT's ``GPT`` without dropout or weight tying, its head with a bias,
    GELU in its tanh form, and ``bplib``'s initialisation): token and position
    embeddings, ``num_layers`` :class:`TransformerBlock`\ s, a final ``LayerNorm`` and a
    ``Linear`` head giving the logits of the next token at every position.

    .. math::

        x_0 = \text{wte}[\text{idx}] + \text{wpe}[0..T-1], \quad
        x_l = \text{block}_l(x_{l-1}), \quad
        \text{logits} = \text{lm\_head}(\text{ln\_f}(x_L)).

    ``forward`` takes integer tokens ``(batch, time)``, ``time <= block_size``, and returns
    logits ``(batch, time, vocab_size)``; with ``CrossEntropyLoss``, flatten them to rows:
    ``loss(logits.reshape(-1, vocab_size), targets.reshape(-1))`` and hand ``backward`` the
    gradient reshaped back, ``loss.backward().reshape(logits.shape)``. ``backward`` returns
    ``None`` (tokens have no gradient): the embeddings' scatter-adds end it, the position
    table's gradient summed over the batch (every sequence uses the same positions).

    Parameters
    ----------
    vocab_size : int
        The number of tokens (characters), >= 1.
    block_size : int
        The longest sequence, >= 1 (the position table's length).
    embed_dim, num_heads : int
        As :class:`TransformerBlock`'s.
    num_layers : int
        The number of blocks, >= 1.
    rng : int, numpy.random.Generator or None
    dtype : float64 (default) or float32

    Examples
    --------
    >>> import numpy as np, bplib
    >>> model = bplib.CharLM(vocab_size=5, block_size=8, embed_dim=8, num_heads=2, num_layers=1, rng=0)
    >>> model(np.array([[0, 1, 2]])).shape
    (1, 3, 5)
    """

    def __init__(
        self,
        vocab_size: int,
        block_size: int,
        embed_dim: int,
        num_heads: int,
        num_layers: int,
        *,
        rng: RngLike = None,
        dtype: DTypeLike = np.float64,
    ) -> None:
        self.vocab_size = positive_int(vocab_size, "vocab_size", "CharLM")
        self.block_size = positive_int(block_size, "block_size", "CharLM")
        num_layers = positive_int(num_layers, "num_layers", "CharLM")
        self.dtype = as_float_dtype(dtype)
        rng = _init.as_rng(rng)
        self.wte = Embedding(self.vocab_size, embed_dim, rng=rng, dtype=self.dtype)
        self.wpe = Embedding(self.block_size, embed_dim, rng=rng, dtype=self.dtype)
        self.blocks = ModuleList(
            TransformerBlock(embed_dim, num_heads, rng=rng, dtype=self.dtype)
            for _ in range(num_layers)
        )
        self.ln_f = LayerNorm(embed_dim, dtype=self.dtype)
        self.lm_head = Linear(embed_dim, self.vocab_size, rng=rng, dtype=self.dtype)

    check_input = token_input  # the boundary (see Module): (batch, time <= block_size) tokens

    def forward(self, idx: NDArray[Any]) -> NDArray[Any]:
        positions = np.arange(idx.shape[1])
        x = self.wte.forward(idx) + self.wpe.forward(positions)  # (B, T, C) + (T, C)
        for block in self.blocks:
            x = block.forward(x)
        return self.lm_head.forward(self.ln_f.forward(x))

    def backward(self, grad_out: NDArray[Any]) -> None:  # type: ignore[override]
        g = self.ln_f.backward(self.lm_head.backward(grad_out))
        for block in reversed(self.blocks):
            g = block.backward(g)
        self.wte.backward_to_parameters(g)
        self.wpe.backward_to_parameters(g.sum(axis=0))  # broadcast over the batch: summed
        return None  # tokens have no gradient

    def __repr__(self) -> str:
        return (
            f"CharLM(vocab_size={self.vocab_size}, block_size={self.block_size}, "
            f"embed_dim={self.wte.embedding_dim}, num_heads={self.blocks[0].attn.num_heads}, "
            f"num_layers={len(self.blocks)})"
        )


def attention_entropy(p: NDArray[Any]) -> NDArray[Any]:
    r"""The entropy, in nats, of each row of attention probabilities (chapter 13):
    :math:`H_i = -\sum_j P_{ij} \ln P_{ij}`, with :math:`0 \ln 0 = 0` (the mask).

    Row :math:`i` of a causal attention sees :math:`i + 1` positions, so :math:`0 \le H_i
    \le \ln(i + 1)`: 0 when a position attends to one other only, :math:`\ln(i + 1)` when it
    spreads its attention evenly. ``CausalSelfAttention`` keeps its last probabilities as
    ``attn.cache[3]``, shape ``(B, H, T, T)``.

    Parameters
    ----------
    p : ndarray of float, shape (..., T, T')
        Probabilities: entries in [0, 1], each row summing to 1 (to 1e-6).

    Returns
    -------
    ndarray, shape (..., T)
        The entropy of each row.
    """
    where = "attention_entropy"
    p = plain_array(p, "p", where)
    if p.dtype.kind != "f" or p.ndim < 1 or p.size == 0:
        raise TypeError(
            f"{where}: p must be a non-empty float array of probabilities, got {describe(p)}"
        )
    if not np.isfinite(p).all() or p.min() < 0 or p.max() > 1:
        raise ValueError(f"{where}: p's entries must be probabilities in [0, 1], got {describe(p)}")
    if not np.allclose(p.sum(axis=-1), 1.0, rtol=0, atol=1e-6):
        raise ValueError(f"{where}: each row of p (its last axis) must sum to 1, got other sums")
    logs = np.log(np.where(p > 0, p, 1.0))  # ln 1 = 0 where p = 0: 0 ln 0 counts as 0
    return -(p * logs).sum(axis=-1)
