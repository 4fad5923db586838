r"""The text that ships inside the package (chapter 13): :func:`load_text`, characters as
integers (:class:`CharVocab`) and next-character windows (:func:`text_windows`)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._checks import describe, plain_array, positive_int
from ..init import RngLike, as_rng

__all__ = ["CharVocab", "load_text", "text_windows"]


def load_text() -> str:
    r"""The Book of Genesis, King James Version (1611): 196,867 characters of English.

    Chapter 13 trains a character-level language model on it. One verse per line, verse
    numbers removed, a blank line between chapters; 60 distinct characters (letters,
    punctuation, space and newline).

    The King James Version is in the public domain (in the United Kingdom the Crown's
    letters patent still restrict its printing). bplib ships Genesis 1:1-50:26 as
    ``bplib/data/genesis.txt.gz``, extracted by ``tools/make_genesis_text.py`` from
    Debian's packages ``bible-kjv`` and ``bible-kjv-text`` 4.38 (the Bible Retrieval
    System of Chip Chapin, ported by Christoph Lameter and Matthew Vernon), whose copyright
    file states that the text's copyright has expired; loading needs no network.

    Returns
    -------
    str
        The text, ASCII.
    """
    import gzip
    from importlib import resources  # here, not at the top: import bplib stays light

    source = resources.files(__package__).joinpath("genesis.txt.gz")
    with source.open("rb") as f:
        return gzip.decompress(f.read()).decode("ascii")


class CharVocab:
    r"""The characters of a text, each numbered: ``encode`` turns a string into integer
    tokens, ``decode`` turns tokens back into a string (chapter 13).

    Parameters
    ----------
    text : str
        A non-empty string; its distinct characters, sorted, become tokens 0, 1, ...

    Attributes
    ----------
    chars : str
        The vocabulary, sorted: token ``i`` is ``chars[i]``.

    Examples
    --------
    >>> from bplib.data import CharVocab
    >>> vocab = CharVocab("hello")
    >>> vocab.chars, vocab.encode("hole").tolist(), vocab.decode([3, 1])
    ('ehlo', [1, 3, 2, 0], 'oe')
    """

    def __init__(self, text: str) -> None:
        if not isinstance(text, str) or not text:
            raise ValueError(f"CharVocab: text must be a non-empty str, got {describe(text)}")
        self.chars = "".join(sorted(set(text)))
        self._index = {c: i for i, c in enumerate(self.chars)}

    @property
    def vocab_size(self) -> int:
        """The number of distinct characters."""
        return len(self.chars)

    def encode(self, text: str) -> NDArray[np.int64]:
        """``text`` as an int64 array of tokens; every character must be in the vocabulary."""
        if not isinstance(text, str):
            raise TypeError(f"CharVocab.encode: text must be a str, got {describe(text)}")
        unknown = sorted(set(text) - set(self._index))
        if unknown:
            raise ValueError(
                f"CharVocab.encode: text must use the vocabulary's {self.vocab_size} "
                f"characters, got {len(unknown)} others: {''.join(unknown)[:20]!r}"
            )
        return np.array([self._index[c] for c in text], dtype=np.int64)

    def decode(self, tokens: Any) -> str:
        """The string of ``tokens`` (integers in ``0..vocab_size - 1``)."""
        ids = np.asarray(tokens)
        if ids.dtype.kind not in "iu" or ids.ndim != 1:
            raise TypeError(
                f"CharVocab.decode: tokens must be a 1-D sequence of integers, got {describe(ids)}"
            )
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
            raise ValueError(
                f"CharVocab.decode: tokens must lie in 0..{self.vocab_size - 1}, got values "
                f"from {ids.min()} to {ids.max()}"
            )
        return "".join(self.chars[i] for i in ids)

    def __repr__(self) -> str:
        return f"CharVocab(vocab_size={self.vocab_size})"


def text_windows(
    tokens: NDArray[Any], batch_size: int, block_size: int, rng: RngLike = None
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    r"""A batch of random windows of a token sequence and their next-token targets.

    Chapter 13. Each of the ``batch_size`` rows starts at a position drawn uniformly from
    ``rng``; ``X[b] = tokens[s:s + block_size]`` and ``Y[b] = tokens[s + 1:s + block_size +
    1]``, so ``Y[b, t]`` is the token that follows ``X[b, :t + 1]``.

    Parameters
    ----------
    tokens : ndarray of int, shape (n,)
        The encoded text, ``n > block_size``.
    batch_size, block_size : int
        Rows and length of each window, >= 1.
    rng : int, numpy.random.Generator or None

    Returns
    -------
    X, Y : ndarray of int64, shape (batch_size, block_size)
    """
    where = "text_windows"
    tokens = plain_array(tokens, "tokens", where)
    if tokens.dtype.kind not in "iu" or tokens.ndim != 1:
        raise TypeError(f"{where}: tokens must be a 1-D integer array, got {describe(tokens)}")
    batch_size = positive_int(batch_size, "batch_size", where)
    block_size = positive_int(block_size, "block_size", where)
    if len(tokens) <= block_size:
        raise ValueError(
            f"{where}: tokens must be longer than block_size={block_size} (a window and its "
            f"next token), got {len(tokens)} tokens"
        )
    starts = as_rng(rng).integers(0, len(tokens) - block_size, size=batch_size)
    offsets = starts[:, None] + np.arange(block_size)
    return tokens[offsets].astype(np.int64), tokens[offsets + 1].astype(np.int64)
