"""The real data set that ships inside the package (chapter 7): :func:`load_digits`."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["load_digits"]


def load_digits() -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    r"""The UCI 8x8 handwritten digits: 1,797 images of the digits 0-9.

    Chapter 7. Each image is a 32x32 bitmap of a handwritten digit, divided into 4x4
    blocks; a pixel counts the "on" bits of its block, so it is an integer from 0 to 16.
    Row :math:`i` of ``X`` is image :math:`i` read row by row: ``X[i].reshape(8, 8)``
    shows it.

    The data are the test part (``optdigits.tes``) of the "Optical Recognition of
    Handwritten Digits" data set of the UCI Machine Learning Repository, by E. Alpaydin
    and C. Kaynak (1998), licensed under Creative Commons Attribution 4.0 (CC BY 4.0):
    https://archive.ics.uci.edu/dataset/80/optical+recognition+of+handwritten+digits
    (doi:10.24432/C50P49). See Alpaydin & Kaynak (1998), "Cascading classifiers",
    *Kybernetika* 34(4), 369-374. bplib ships them unchanged as ``bplib/data/digits.npz``
    (uint8), extracted from the copy scikit-learn distributes by
    ``tools/make_digits_npz.py``; loading needs no network.

    Returns
    -------
    X : ndarray of float64, shape (1797, 64)
        Pixel values 0-16.
    y : ndarray of int64, shape (1797,)
        Labels 0-9.
    """
    from importlib import resources  # here, not at the top: it costs import bplib ~6 ms

    source = resources.files(__package__).joinpath("digits.npz")
    with source.open("rb") as f, np.load(f, allow_pickle=False) as npz:
        images, labels = npz["images"], npz["labels"]
    return images.reshape(len(images), -1).astype(np.float64), labels.astype(np.int64)
