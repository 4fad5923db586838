"""Saving and loading state: ``bplib.save(state, path)`` and ``bplib.load(path)`` (chapter 7).

The file is a plain NumPy ``.npz`` archive (a zip of ``.npy`` arrays) written and read
without pickle, so loading a file runs no code and any NumPy can read it
(``numpy.load(path)`` lists its arrays).

A model's :meth:`~bplib.Module.state_dict` is flat, ``name -> array``, and is stored as it
is: the archive entry ``"0.weight"`` holds the array of ``"0.weight"``. A nested state, such
as an optimiser's :meth:`~bplib.optim.Optimizer.state_dict`, is flattened with this key
scheme:

- the keys of nested dicts are joined with ``/``:
  ``{"state": {0: {"exp_avg": m}}}`` is stored as the entry ``"state/0/exp_avg"``;
- an integer key is written in decimal and a key made only of digits is read back as an
  integer (so a string key may not be all digits);
- a list or tuple of dicts is stored like a dict keyed 0, 1, ...:
  ``{"param_groups": [{"lr": 0.1}]}`` becomes ``"param_groups/0/lr"`` and is read back
  as ``{"param_groups": {0: {"lr": ...}}}``;
- every leaf is stored as an array: arrays as they are (dtype and shape kept exactly),
  numbers and booleans as 0-d arrays, a list or tuple of numbers as a 1-D array.
  ``load`` returns the arrays (a scalar as a 0-d array); the ``load_state_dict`` methods
  accept them.
- an empty dict holds no array and is not stored (an optimiser that has not stepped yet
  saves no ``state``; its ``load_state_dict`` reads a missing ``state`` as empty).

Strings, ``None`` and other objects are refused: they would need pickle.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["load", "save"]


def _leaf(value: object, key: str) -> NDArray[Any]:
    """The array stored for ``value``, refusing anything that would need pickle."""
    if isinstance(value, np.ndarray):
        array = value
    elif isinstance(value, bool | int | float | np.bool_ | np.integer | np.floating):
        array = np.asarray(value)
    elif isinstance(value, list | tuple) and all(
        isinstance(v, bool | int | float | np.bool_ | np.integer | np.floating) for v in value
    ):
        array = np.asarray(value)
    else:
        raise TypeError(
            f"save: {key!r} is {type(value).__name__}; a state holds arrays, numbers, "
            "booleans and (nested) dicts of them (saving anything else would need pickle)"
        )
    if array.dtype.kind not in "biuf":
        raise TypeError(f"save: {key!r} has dtype {array.dtype}; only numeric arrays are saved")
    return array


def _flatten(state: Mapping[Any, Any], prefix: str, out: dict[str, NDArray[Any]]) -> None:
    for k, value in state.items():
        if isinstance(k, bool) or not isinstance(k, str | int | np.integer):
            raise TypeError(f"save: keys must be strings or integers, got {k!r} in {prefix!r}")
        part = str(int(k)) if not isinstance(k, str) else k
        if isinstance(k, str) and (not k or "/" in k or k.isdigit()):
            raise ValueError(
                f"save: key {k!r} in {prefix or 'the state'!r} cannot be stored: a string key "
                "must be non-empty, contain no '/' and not be all digits"
            )
        key = prefix + part
        if isinstance(value, Mapping):
            _flatten(value, key + "/", out)
        elif (
            isinstance(value, list | tuple) and value and all(isinstance(v, Mapping) for v in value)
        ):
            _flatten(dict(enumerate(value)), key + "/", out)
        else:
            out[key] = _leaf(value, key)


def _check_path(path: object, where: str) -> None:
    if not isinstance(path, str | os.PathLike):
        raise TypeError(
            f"{where} expected a file path (str or os.PathLike), got {type(path).__name__}"
        )


def save(state: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """Write ``state`` (a model's or an optimiser's ``state_dict``) to ``path`` as ``.npz``.

    The file is written exactly at ``path`` (no extension is added) and holds no pickled
    objects; see the module docstring for how nested dicts are stored.

    Examples
    --------
    >>> import bplib, tempfile, os
    >>> net = bplib.Sequential(bplib.Linear(2, 3, rng=0), bplib.Tanh(), bplib.Linear(3, 1, rng=1))
    >>> path = os.path.join(tempfile.mkdtemp(), "net.npz")
    >>> bplib.save(net.state_dict(), path)
    >>> sorted(bplib.load(path))
    ['0.bias', '0.weight', '2.bias', '2.weight']
    """
    if not isinstance(state, Mapping):
        raise TypeError(f"save expected a dict (a state_dict), got {type(state).__name__}")
    _check_path(path, "save")
    flat: dict[str, NDArray[Any]] = {}
    _flatten(state, "", flat)
    # The archive np.savez writes, built by hand so that no key can clash with savez's own
    # arguments and so that write_array refuses object arrays (allow_pickle=False).
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for key, array in flat.items():
            with zf.open(key + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def load(path: str | os.PathLike[str]) -> dict[Any, Any]:
    """Read a file written by :func:`save` back into a dict (nested as described above).

    The arrays come back with the dtype and shape they were saved with; nothing is
    unpickled (``allow_pickle=False``).
    """
    _check_path(path, "load")
    result: dict[Any, Any] = {}
    with np.load(path, allow_pickle=False) as archive:
        for key in archive.files:
            node = result
            parts = key.split("/")
            for part in parts[:-1]:
                node = node.setdefault(int(part) if part.isdigit() else part, {})
            node[int(parts[-1]) if parts[-1].isdigit() else parts[-1]] = archive[key]
    return result
