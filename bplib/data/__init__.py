r"""Data for the book: seeded toy problems, the shipped digits, splitting and batching.

Toy problems (chapters 6 and 9), each generated from a seed so a chapter is reproducible:
:func:`xor`, :func:`spirals`, :func:`moons`, :func:`circles` (2-D classification, integer
labels) and :func:`regression_1d` (a noisy sine). A real data set ships inside the package
and loads without a network (chapter 7): :func:`load_digits`; so does a public-domain
text for chapter 13's language model, :func:`load_text`, with :class:`CharVocab` (characters
as integer tokens) and :func:`text_windows` (next-character training windows). Then the plumbing every
training loop needs: :func:`train_test_split` (stratified), :class:`Standardizer` and
:func:`standardize`, :func:`one_hot` and :func:`batches` (mini-batches, chapter 6).

The package's modules: ``toy``, ``digits``, ``text``, ``preprocessing`` and ``batching``; every name is
re-exported here, so ``bplib.data.spirals`` is ``bplib.data.toy.spirals``.

Conventions: ``X`` is a float64 array of shape ``(n, features)``; classification labels
``y`` are int64 of shape ``(n,)``; every ``rng`` argument takes an int seed, a
``numpy.random.Generator`` or ``None`` (fresh entropy), as in :func:`bplib.init.as_rng`.
"""

from .batching import batches
from .digits import load_digits
from .preprocessing import Standardizer, one_hot, standardize, train_test_split
from .text import CharVocab, load_text, text_windows
from .toy import circles, moons, regression_1d, spirals, xor

__all__ = [
    "CharVocab",
    "Standardizer",
    "batches",
    "circles",
    "load_digits",
    "load_text",
    "moons",
    "one_hot",
    "regression_1d",
    "spirals",
    "standardize",
    "text_windows",
    "train_test_split",
    "xor",
]
