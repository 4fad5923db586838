r"""Saving and loading state: ``bplib.save(state, path)`` and ``bplib.load(path)`` (chapter 7).

The file is a plain NumPy ``.npz`` archive (a zip of ``.npy`` arrays, stored uncompressed)
written and read without pickle, so loading a file runs no code and any NumPy can read it
(``numpy.load(path)`` lists its arrays).

A model's :meth:`~bplib.Module.state_dict` is flat, ``name -> array``, and is stored as it
is: the archive entry ``"0.weight"`` holds the array of ``"0.weight"``. A nested state, such
as an optimiser's :meth:`~bplib.optim.Optimizer.state_dict`, is flattened with this key
scheme:

- the keys of nested dicts are joined with ``/``:
  ``{"state": {0: {"exp_avg": m}}}`` is stored as the entry ``"state/0/exp_avg"``;
- an integer key (>= 0) is written in decimal and a key made only of digits is read back
  as an integer (so a string key may not be all digits);
- a list or tuple of dicts is stored like a dict keyed 0, 1, ...:
  ``{"param_groups": [{"lr": 0.1}]}`` becomes ``"param_groups/0/lr"`` and is read back
  as ``{"param_groups": {0: {"lr": ...}}}``;
- every leaf is stored as an array: arrays as they are (dtype and shape kept exactly),
  numbers and booleans as 0-d arrays, a list or tuple of numbers as a 1-D array.
  ``load`` returns the arrays (a scalar as a 0-d array); the ``load_state_dict`` methods
  accept them.
- an empty dict holds no array and is not stored (an optimiser that has not stepped yet
  saves no ``state``; its ``load_state_dict`` reads a missing ``state`` as empty).

Strings, ``None`` and other objects are refused: they would need pickle. So is every key
that would not come back as it went in: an empty string, one containing ``/``, ``\``, NUL
or another control character, one that is all digits or ends in ``.npy`` (the archive adds
``.npy`` to each name), a negative integer, and a state that contains itself.

**Durability.** :func:`bplib.save` checks the whole state before it touches the disk, writes a
temporary file beside ``path``, flushes it to the disk (``fsync``) and only then renames it
onto ``path`` (``os.replace``, atomic), so a save that fails at any point (a full disk, an
interrupt, the process killed) leaves the previous file as it was; a temporary file left
by a killed process is removed by the next successful save to the same path.

**Recognising a complete file.** The last member of the archive, ``bplib-manifest.json``,
names the format and its version and lists every array with its dtype and shape.
:func:`bplib.load` refuses, with a ``ValueError`` naming the file and the fault, anything that
does not agree with it: a missing, extra, duplicated or compressed member, a ``.npy``
header that disagrees, damaged data (each member's CRC-32 is checked), a truncated file;
and it refuses to allocate more than ``max_bytes``. Files written before the manifest
existed (bplib 0.1.0, or ``numpy.savez`` of numeric arrays) still load, with every other
check, but a member missing from them cannot be noticed: save them again to add one.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import secrets
import zipfile
from collections import Counter
from collections.abc import Mapping
from typing import Any, BinaryIO

import numpy as np
from numpy.typing import NDArray

from ._checks import describe, integer

__all__ = ["load", "save"]

FORMAT = "bplib-state"
"""The ``format`` field of the manifest."""
VERSION = 1
"""The manifest version this bplib writes and reads."""
MANIFEST = "bplib-manifest.json"
"""The archive member that holds the manifest (never a key's name: those end in ``.npy``)."""
DEFAULT_MAX_BYTES = 2**30
""":func:`load`'s default limit on the bytes of arrays it allocates (1 GiB)."""

_TMP_SUFFIX = ".bplib-tmp"
_CHUNK = 1 << 20  # bytes read at a time when loading an array
_IN_MEMORY = 1 << 24  # a state up to this size is built in memory, then written at once
_PLAIN_KEY = re.compile(r"[ -.0-\[\]-~]+(?<!\.npy)")  # printable ASCII, no "/" or "\\"
_NUMBERS = (bool, int, float, np.bool_, np.integer, np.floating)


# ---------------------------------------------------------------------------------------
# save: check everything, then write a temporary file and rename it
# ---------------------------------------------------------------------------------------


def _leaf(value: object, key: str) -> NDArray[Any]:
    """The array stored for ``value``, refusing anything that would need pickle."""
    if isinstance(value, np.ma.MaskedArray):
        raise TypeError(
            f"save: {key!r} is a masked array; its mask would be lost (the file holds plain "
            "arrays): save value.filled(...) or the data and the mask as two arrays"
        )
    if type(value) is np.ndarray:
        array = value
    elif isinstance(value, np.ndarray):
        array = np.asarray(value)  # an np.matrix is stored as the plain 2-D array it holds
    elif isinstance(value, _NUMBERS):
        array = np.asarray(value)
    elif isinstance(value, list | tuple) and all(isinstance(v, _NUMBERS) for v in value):
        array = np.asarray(value)
    else:
        raise TypeError(
            f"save: {key!r} is {type(value).__name__}; a state holds arrays, numbers, "
            "booleans and (nested) dicts of them (saving anything else would need pickle)"
        )
    if array.dtype.kind not in "biuf" or array.dtype.fields is not None:
        raise TypeError(f"save: {key!r} has dtype {array.dtype}; only numeric arrays are saved")
    return array


def _key_part(k: object, prefix: str) -> str:
    """The text of one key, or a clear error if it would not come back as it went in."""
    if type(k) is str and _PLAIN_KEY.fullmatch(k) and not k.isdigit():
        return k  # the usual case, at once
    where = prefix.rstrip("/") or "the state"
    if isinstance(k, bool) or not isinstance(k, str | int | np.integer):
        raise TypeError(f"save: keys must be strings or integers, got {k!r} in {where!r}")
    if not isinstance(k, str):
        if k < 0:
            raise ValueError(
                f"save: key {int(k)} in {where!r} cannot be stored: an integer key must be "
                f">= 0 (it is written in decimal and read back as an integer only if all digits)"
            )
        return str(int(k))
    bad = ""
    if not k or "/" in k or k.isdigit():
        bad = "must be non-empty, contain no '/' and not be all digits"
    elif any(ord(c) < 32 or ord(c) == 127 for c in k) or "\\" in k:
        bad = "may not contain NUL, another control character or '\\' (zip cannot keep them)"
    elif k.endswith(".npy"):
        bad = "may not end in '.npy' (each array is stored as '<key>.npy': 'w' and 'w.npy' clash)"
    else:
        try:
            k.encode("utf-8")
        except UnicodeEncodeError:
            bad = "must be valid Unicode text (it holds a lone surrogate)"
    if bad:
        raise ValueError(f"save: key {k!r} in {where!r} cannot be stored: a string key {bad}")
    return k


def _flatten(
    state: Mapping[Any, Any], prefix: str, out: dict[str, NDArray[Any]], path: set[int]
) -> None:
    """Add ``prefix + key -> array`` to ``out`` for every leaf; ``path`` holds the ids of
    the containers above, so a state that contains itself is refused, not recursed into."""
    if id(state) in path:
        raise ValueError(
            f"save: the state contains itself at {prefix.rstrip('/') or 'the top'!r}: "
            "a dict that holds itself cannot be written"
        )
    path = path | {id(state)}
    for k, value in state.items():
        key = prefix + _key_part(k, prefix)
        if isinstance(value, Mapping):
            _flatten(value, key + "/", out, path)
        elif (
            isinstance(value, list | tuple) and value and all(isinstance(v, Mapping) for v in value)
        ):
            if id(value) in path:
                raise ValueError(f"save: the state contains itself at {key!r}")
            _flatten(dict(enumerate(value)), key + "/", out, path | {id(value)})
        else:
            if key in out:  # 1 and np.int64(1) in one dict
                raise ValueError(f"save: two keys of the state are both stored as {key!r}")
            out[key] = _leaf(value, key)
            if len((key + ".npy").encode("utf-8")) > 0xFFFF:
                raise ValueError(f"save: key {key[:60]!r}... is too long for a zip archive")


def _check_path(path: object, where: str) -> str:
    if not isinstance(path, str | os.PathLike):
        raise TypeError(
            f"{where} expected a file path (str or os.PathLike), got {type(path).__name__}"
        )
    name = os.fspath(path)
    if not isinstance(name, str):
        raise TypeError(f"{where} expected a text file path, got {describe(name)}")
    return name


def _manifest(flat: Mapping[str, NDArray[Any]]) -> bytes:
    arrays = [[k, a.dtype.str, list(a.shape)] for k, a in flat.items()]  # .str: the descr
    text = json.dumps(
        {"format": FORMAT, "version": VERSION, "arrays": arrays}, separators=(",", ":")
    )
    return text.encode("utf-8")


def _write_archive(file: BinaryIO, flat: Mapping[str, NDArray[Any]]) -> None:
    """The archive np.savez writes (built by hand, so that no key can clash with savez's own
    arguments and write_array refuses object arrays), then the manifest, last."""
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for key, array in flat.items():
            with zf.open(key + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)
        zf.writestr(MANIFEST, _manifest(flat))


def _temp_prefix(target: str) -> str:
    return "." + os.path.basename(target)[:100] + "."


def _fsync_directory(folder: str) -> None:
    """Make the rename durable: fsync the directory, where the platform allows it."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove_stray_temporaries(folder: str, target: str) -> None:
    """Delete the temporary files of earlier saves to ``target`` whose process has died.

    A temporary is named ``.<name>.<pid>.<random>.bplib-tmp``; one whose process is alive
    may belong to a save in progress and is left alone.
    """
    prefix = _temp_prefix(target)
    try:
        names = [n for n in os.listdir(folder) if n.startswith(prefix) and n.endswith(_TMP_SUFFIX)]
    except OSError:
        return
    for n in names:
        pid_text = n[len(prefix) :].split(".", 1)[0]
        if not pid_text.isdigit() or _process_alive(int(pid_text)):
            continue
        try:
            os.unlink(os.path.join(folder, n))
        except OSError:
            pass


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name != "posix":
        return True  # no cheap test: keep it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. PermissionError: it exists
        return True
    return True


def save(state: Mapping[str, Any], path: str | os.PathLike[str], *, fsync: bool = True) -> None:
    """Write ``state`` (a model's or an optimiser's ``state_dict``) to ``path`` as ``.npz``.

    The file is written exactly at ``path`` (no extension is added) and holds no pickled
    objects; see the module docstring for how nested dicts are stored. Every key and value
    is checked before the disk is touched, and the file is replaced atomically (a temporary
    file, ``fsync``, then ``os.replace``): if the save fails, or the process dies, ``path``
    keeps its previous contents.

    Parameters
    ----------
    state : mapping
        A ``state_dict``, or a dict of them (``{"model": ..., "optimizer": ...}``).
    path : str or os.PathLike
    fsync : bool
        Flush the file and its directory to the disk before returning (default). The
        replacement is atomic either way (a killed process never leaves a half-written
        file); ``fsync=False`` skips the flush, which only matters if the machine loses
        power, and saves the disk's flush latency (milliseconds) on frequent checkpoints.

    Raises
    ------
    TypeError, ValueError
        A value that is not numeric, or a key that would not read back as it is (named in
        the message); nothing is written.
    OSError
        The disk refused the write (full, read-only); the previous file is intact.

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
        how = "; save its state_dict(): bplib.save(net.state_dict(), path)"  # a model, ...
        raise TypeError(
            f"save expected a dict (a state_dict), got {type(state).__name__}"
            + (how if callable(getattr(state, "state_dict", None)) else "")
        )
    target = _check_path(path, "save")
    if not isinstance(fsync, bool | np.bool_):
        raise TypeError(f"save: fsync must be True or False, got {describe(fsync)}")
    flat: dict[str, NDArray[Any]] = {}
    _flatten(state, "", flat, set())
    if os.path.islink(target):  # write where the link points, as writing in place did
        target = os.path.realpath(target)
    folder = os.path.dirname(os.path.abspath(target))
    temp = os.path.join(
        folder, f"{_temp_prefix(target)}{os.getpid()}.{secrets.token_hex(4)}{_TMP_SUFFIX}"
    )
    # O_EXCL: a new file of our own; mode 0o666 under the umask, as open(path, "w") gives
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with open(fd, "wb") as file:
            if sum(a.nbytes for a in flat.values()) <= _IN_MEMORY:
                # built in memory and written at once: zipfile seeks back to each member's
                # header, and on a file every seek flushes (a system call per member)
                buffer = io.BytesIO()
                _write_archive(buffer, flat)
                file.write(buffer.getbuffer())
            else:
                _write_archive(file, flat)
            file.flush()
            if fsync:
                os.fsync(file.fileno())
        os.replace(temp, target)
    except BaseException:  # a full disk, Ctrl-C, ...: the target is untouched
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
    if fsync:
        _fsync_directory(folder)
    _remove_stray_temporaries(folder, target)


# ---------------------------------------------------------------------------------------
# load: refuse anything that is not a complete file, before allocating
# ---------------------------------------------------------------------------------------


class _Refused(Exception):
    """What is wrong with a file; :func:`load` turns it into a ValueError naming the file."""


def load(path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES) -> dict[Any, Any]:
    """Read a file written by :func:`save` back into a dict (nested as described above).

    The arrays come back with the dtype and shape they were saved with; nothing is
    unpickled. The file is checked against its manifest before any array is allocated.

    Parameters
    ----------
    path : str or os.PathLike
    max_bytes : int
        The most bytes of arrays the file may declare (default 1 GiB): a larger file is
        refused before anything is allocated. Raise it for a file you trust.

    Raises
    ------
    ValueError
        The file is not a complete file written by :func:`save` (not a zip archive,
        truncated, damaged, a member missing, extra, duplicated or compressed, a header
        that disagrees with the manifest) or declares more than ``max_bytes``; the message
        names the file and the fault.
    OSError
        The file cannot be opened (e.g. ``FileNotFoundError``).
    """
    name = _check_path(path, "load")
    max_bytes = integer(max_bytes, "max_bytes", "load", low=0)
    with open(name, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        try:
            return _load(file, size, max_bytes)
        except _Refused as err:
            raise ValueError(
                f"load: {name!r} is not a complete file written by bplib.save: {err}"
            ) from None
        except zipfile.BadZipFile as err:
            raise ValueError(
                f"load: {name!r} is not a complete file written by bplib.save: it is "
                f"damaged or truncated ({err})"
            ) from None
        except MemoryError:
            raise
        except (EOFError, OSError, ValueError, KeyError, TypeError, NotImplementedError,
                OverflowError, RuntimeError, UnicodeError) as err:  # fmt: skip
            raise ValueError(
                f"load: {name!r} is not a complete file written by bplib.save: it is "
                f"damaged ({type(err).__name__}: {err})"
            ) from None


def _load(file: BinaryIO, size: int, max_bytes: int) -> dict[Any, Any]:
    if size == 0:
        raise _Refused("it is empty (0 bytes)")
    if file.read(6) == b"\x93NUMPY":
        raise _Refused("it is a single .npy array (read it with numpy.load)")
    file.seek(0)
    try:
        zf = zipfile.ZipFile(file)
    except zipfile.BadZipFile:
        raise _Refused("it is not a zip archive (truncated, or another kind of file)") from None
    with zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        dups = sorted(n for n, c in Counter(names).items() if c > 1)
        if dups:
            raise _Refused(f"the archive holds duplicate members {dups[:5]}")
        for info in infos:
            if info.compress_type != zipfile.ZIP_STORED:
                raise _Refused(
                    f"member {info.filename!r} is compressed; bplib stores arrays uncompressed "
                    "(a compressed member can expand to far more than the file's size)"
                )
            if info.flag_bits & 0x1:
                raise _Refused(f"member {info.filename!r} is encrypted")
            if info.header_offset + info.compress_size > size:
                raise _Refused(f"member {info.filename!r} extends past the end of the file")
        if MANIFEST in names:
            if names[-1] != MANIFEST:
                raise _Refused("the manifest is not the archive's last member")
            expected = _read_manifest(zf, infos[-1], max_bytes)
            members = infos[:-1]
            wanted = [k + ".npy" for k in expected]
            have = [i.filename for i in members]
            if have != wanted:
                missing = [n for n in wanted if n not in set(have)]
                extra = [n for n in have if n not in set(wanted)]
                what = []
                if missing:
                    what.append(f"missing {_some(missing)}")
                if extra:
                    what.append(f"unexpected {_some(extra)}")
                raise _Refused(
                    "its members do not match its manifest: " + ("; ".join(what) or "order")
                )
        else:  # a file of bplib 0.1.0 (or numpy.savez): every member an array
            expected = {}
            members = infos
            for info in infos:
                if not info.filename.endswith(".npy"):
                    raise _Refused(
                        f"it has no manifest, and its member {info.filename!r} is not an array"
                    )
        keys = [i.filename[:-4] for i in members]
        for key in keys:
            _parse_key(key)  # names only save writes
        headers = []
        total = 0
        for key, info in zip(keys, members, strict=True):
            offset, shape, fortran, dtype = _read_header(zf, info, key)
            if key in expected and expected[key] != (dtype.str, shape):
                m_dtype, m_shape = expected[key]
                raise _Refused(
                    f"array {key!r} is {dtype} {shape} in its header but {m_dtype} "
                    f"{m_shape} in the manifest"
                )
            nbytes = math.prod(shape) * dtype.itemsize
            if offset + nbytes != info.file_size:
                raise _Refused(
                    f"array {key!r} declares {dtype} {shape} ({nbytes} bytes) but its member "
                    f"holds {info.file_size - offset} bytes of data"
                )
            total += nbytes
            headers.append((key, info, offset, shape, fortran, dtype, nbytes))
        if total > max_bytes:
            raise _Refused(
                f"it declares {total} bytes of arrays, more than max_bytes={max_bytes}; pass a "
                "larger max_bytes to load a file you trust"
            )
        result: dict[Any, Any] = {}
        for key, info, offset, shape, fortran, dtype, nbytes in headers:
            _insert(result, key, _read_data(zf, info, key, offset, shape, fortran, dtype, nbytes))
    return result


def _some(names: list[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:5])
    return shown + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def _read_manifest(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, max_bytes: int
) -> dict[str, tuple[str, tuple[int, ...]]]:
    if info.file_size > max(max_bytes, 1 << 16):
        raise _Refused(f"its manifest declares {info.file_size} bytes, more than max_bytes")
    try:
        manifest = json.loads(zf.read(info).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise _Refused(f"its manifest is not valid JSON ({err})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _Refused(f"its manifest does not name the format {FORMAT!r}")
    version = manifest.get("version")
    if version != VERSION:
        raise _Refused(
            f"its manifest has format version {version!r}; this bplib reads version {VERSION} "
            "(a newer bplib wrote it?)"
        )
    arrays = manifest.get("arrays")
    expected: dict[str, tuple[str, tuple[int, ...]]] = {}
    if not isinstance(arrays, list):
        raise _Refused("its manifest has no list of arrays")
    for entry in arrays:
        if (
            not isinstance(entry, list)
            or len(entry) != 3
            or not isinstance(entry[0], str)
            or not isinstance(entry[1], str)
            or not isinstance(entry[2], list)
            or not all(type(n) is int and n >= 0 for n in entry[2])
        ):
            raise _Refused(f"its manifest has a malformed entry {str(entry)[:80]}")
        if entry[0] in expected:
            raise _Refused(f"its manifest lists {entry[0]!r} twice")
        expected[entry[0]] = (entry[1], tuple(entry[2]))
    return expected


def _parse_key(key: str) -> list[str | int]:
    """The parts of a stored key, integers for the parts save wrote from integers."""
    parts: list[str | int] = []
    for part in key.split("/"):
        if not part or any(ord(c) < 32 or ord(c) == 127 for c in part):
            raise _Refused(f"the member name {key + '.npy'!r} is not one save writes")
        if part.isdigit():
            if not (part.isascii() and (part == "0" or not part.startswith("0"))):
                raise _Refused(f"the member name {key + '.npy'!r} is not one save writes")
            parts.append(int(part))
        else:
            parts.append(part)
    return parts


def _insert(result: dict[Any, Any], key: str, array: NDArray[Any]) -> None:
    node = result
    parts = _parse_key(key)
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise _Refused(f"{key!r} lies inside the array {part!r}")
    if parts[-1] in node:
        raise _Refused(f"{key!r} clashes with another entry of the same name")
    node[parts[-1]] = array


def _read_header(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, key: str
) -> tuple[int, tuple[int, ...], bool, np.dtype[Any]]:
    fmt = np.lib.format
    with zf.open(info) as member:
        try:
            version = fmt.read_magic(member)
            if version == (1, 0):
                shape, fortran, dtype = fmt.read_array_header_1_0(member)
            elif version == (2, 0):
                shape, fortran, dtype = fmt.read_array_header_2_0(member)
            else:
                raise _Refused(f"array {key!r} has .npy format version {version}")
        except ValueError as err:
            raise _Refused(f"array {key!r} has a damaged .npy header ({err})") from None
        offset = member.tell()
    if dtype.kind not in "biuf" or dtype.hasobject or dtype.fields is not None or dtype.subdtype:
        raise _Refused(f"array {key!r} has dtype {dtype}; bplib saves only numeric arrays")
    return offset, tuple(shape), bool(fortran), dtype


def _read_data(
    zf: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    key: str,
    offset: int,
    shape: tuple[int, ...],
    fortran: bool,
    dtype: np.dtype[Any],
    nbytes: int,
) -> NDArray[Any]:
    """The array, read in chunks straight into its own memory (no second copy)."""
    flat = np.empty(math.prod(shape), dtype)
    raw = flat.view(np.uint8)
    with zf.open(info) as member:
        member.read(offset)
        pos = 0
        while pos < nbytes:
            chunk = member.read(min(_CHUNK, nbytes - pos))
            if not chunk:
                raise _Refused(f"array {key!r} ends early")
            raw[pos : pos + len(chunk)] = np.frombuffer(chunk, np.uint8)
            pos += len(chunk)
        try:
            if member.read(1):  # reaching the end checks the member's CRC-32
                raise _Refused(f"array {key!r} has bytes after its data")
        except zipfile.BadZipFile as err:
            raise _Refused(f"array {key!r} is damaged ({err})") from None
    if fortran:
        return flat.reshape(shape[::-1]).T
    return flat.reshape(shape)
