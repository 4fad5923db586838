"""Fault injection for bplib.save and bplib.load (issue 27): a save that dies at any point
leaves the previous file intact, concurrent savers leave one complete state, and load
refuses every damaged or foreign file with a clear ValueError, allocating no more than
its limit."""

from __future__ import annotations

import errno
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import tracemalloc
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

import bplib
from bplib import optim, serialization

from .helpers import blobs, mlp

ROOT = Path(__file__).resolve().parents[1]
REFUSED = "is not a complete file written by bplib.save"


def model_state(seed=0):
    net = bplib.Sequential(
        bplib.Linear(64, 32, rng=seed), bplib.Tanh(), bplib.Linear(32, 10, rng=seed + 1)
    )
    return net.state_dict()


def assert_same(loaded, state):
    assert list(loaded) == list(state)
    for k, v in state.items():
        assert loaded[k].dtype == v.dtype
        np.testing.assert_array_equal(loaded[k], v)


def temporaries(folder):
    return sorted(n for n in os.listdir(folder) if n.endswith(".bplib-tmp"))


def rewrite(src, dst, change):
    """Copy the archive ``src`` to ``dst`` member by member, as ``change(members)`` edits the
    list of ``(name, bytes)``."""
    with zipfile.ZipFile(src) as zf:
        members = [(i.filename, zf.read(i)) for i in zf.infolist()]
    members = change(members)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names
        with zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zf:
            for name, data in members:
                zf.writestr(name, data)


# ----------------------------------------------------------------------------------------
# a save killed, interrupted or refused by the disk leaves the old file
# ----------------------------------------------------------------------------------------

KILL_POINTS = {
    "before the first member": """
        real = np.lib.format.write_array
        def patched(fp, array, *a, **k):
            os.kill(os.getpid(), signal.SIGKILL)
        np.lib.format.write_array = patched
    """,
    "mid-member": """
        real = np.lib.format.write_array
        calls = []
        def patched(fp, array, *a, **k):
            calls.append(1)
            if len(calls) == 2:
                buf = io.BytesIO()
                real(buf, array, *a, **k)
                fp.write(buf.getvalue()[: len(buf.getvalue()) // 2])
                fp.flush()
                os.kill(os.getpid(), signal.SIGKILL)
            return real(fp, array, *a, **k)
        np.lib.format.write_array = patched
    """,
    "before the zip directory": """
        def patched(self):
            os.kill(os.getpid(), signal.SIGKILL)
        zipfile.ZipFile._write_end_record = patched
    """,
    "before fsync": """
        os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)
    """,
    "before the rename": """
        os.replace = lambda a, b: os.kill(os.getpid(), signal.SIGKILL)
    """,
}


def run_child(code, path):
    script = (
        textwrap.dedent(
            """
        import io, os, signal, sys, zipfile
        import numpy as np
        import bplib
        path = sys.argv[1]
        state = {"0.weight": np.full((64, 32), 7.0), "0.bias": np.full(32, 7.0)}
        """
        )
        + textwrap.dedent(code)
        + "\nbplib.save(state, path)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", script, str(path)], env=env, capture_output=True, timeout=120
    )


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_a_save_killed_at_any_point_leaves_the_previous_file(tmp_path, point):
    path = tmp_path / "checkpoint.npz"
    old = model_state()
    bplib.save(old, path)
    before = path.read_bytes()
    child = run_child(KILL_POINTS[point], path)
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()
    assert path.read_bytes() == before
    assert_same(bplib.load(path), old)
    # the killed save left its temporary file; the next successful save removes it
    assert temporaries(tmp_path)
    bplib.save(model_state(seed=5), path)
    assert temporaries(tmp_path) == []
    assert_same(bplib.load(path), model_state(seed=5))


def test_a_full_disk_during_a_save_leaves_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.npz"
    old = model_state()
    bplib.save(old, path)
    real = np.lib.format.write_array
    calls = []

    def full_disk(fp, array, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fp, array, *args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", full_disk)
    with pytest.raises(OSError, match="No space left"):
        bplib.save(model_state(seed=9), path)
    assert_same(bplib.load(path), old)
    assert temporaries(tmp_path) == []


def test_a_failing_fsync_leaves_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.npz"
    old = model_state()
    bplib.save(old, path)

    def fail(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError):
        bplib.save(model_state(seed=9), path)
    monkeypatch.undo()
    assert_same(bplib.load(path), old)
    assert temporaries(tmp_path) == []


def test_an_interrupt_during_a_save_leaves_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.npz"
    old = model_state()
    bplib.save(old, path)

    def interrupt(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(zipfile.ZipFile, "_write_end_record", interrupt)
    with pytest.raises(KeyboardInterrupt):
        bplib.save(model_state(seed=9), path)
    monkeypatch.undo()
    assert_same(bplib.load(path), old)
    assert temporaries(tmp_path) == []


def test_a_refused_key_is_found_before_the_file_is_touched(tmp_path):
    path = tmp_path / "checkpoint.npz"
    bplib.save(model_state(), path)
    before = path.read_bytes()
    state = {**model_state(seed=3), "z\udc80": np.zeros(2)}  # the last key cannot be encoded
    with pytest.raises(ValueError, match="surrogate"):
        bplib.save(state, path)
    assert path.read_bytes() == before and temporaries(tmp_path) == []


@pytest.mark.skipif(os.name != "posix", reason="processes")
def test_two_concurrent_savers_leave_one_complete_state(tmp_path):
    path = tmp_path / "shared.npz"
    bplib.save({"w": np.zeros(20000)}, path)
    script = textwrap.dedent(
        """
        import sys
        import numpy as np
        import bplib
        path, value = sys.argv[1], float(sys.argv[2])
        for _ in range(40):
            bplib.save({"w": np.full(20000, value), "v": np.full(3, value)}, path)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(path), str(v)], env=env)
        for v in (1.0, 2.0)
    ]
    seen = set()
    while any(p.poll() is None for p in procs):  # a reader meanwhile: always a whole state
        state = bplib.load(path)
        seen.add(float(state["w"][0]))
        assert np.all(state["w"] == state["w"][0])
    assert all(p.wait(timeout=120) == 0 for p in procs)
    final = bplib.load(path)
    assert set(final) == {"w", "v"}
    value = float(final["v"][0])
    assert value in (1.0, 2.0)
    np.testing.assert_array_equal(final["w"], np.full(20000, value))
    assert temporaries(tmp_path) == []


# ----------------------------------------------------------------------------------------
# keys that would not come back as they went in are refused, naming them
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ({"w": np.zeros(1), "w.npy": np.zeros(1)}, r"'w.npy'.*may not end in '.npy'"),
        ({"a\0b": np.zeros(1)}, r"'a\\x00b'.*NUL"),
        ({"a\\b": np.zeros(1)}, r"'a\\\\b'"),
        ({-1: np.zeros(1)}, r"key -1 .*must be >= 0"),
        ({"m": np.ma.masked_array([1.0, np.nan], mask=[0, 1])}, r"'m' is a masked array"),
    ],
)
def test_keys_and_values_that_cannot_round_trip_are_refused(tmp_path, state, message):
    with pytest.raises((ValueError, TypeError), match=message):
        bplib.save(state, tmp_path / "s.npz")
    assert not (tmp_path / "s.npz").exists()


def test_a_state_that_contains_itself_is_refused_not_recursed_into(tmp_path):
    state = {"a": {}}
    state["a"]["again"] = state
    with pytest.raises(ValueError, match="contains itself at 'a/again'"):
        bplib.save(state, tmp_path / "s.npz")


def test_awkward_but_valid_keys_round_trip(tmp_path):
    state = {"é ü": np.arange(3), "w.np": np.ones(2), "-1": np.zeros(1), 10**30: np.ones(1)}
    bplib.save(state, tmp_path / "s.npz")
    back = bplib.load(tmp_path / "s.npz")
    assert list(back) == ["é ü", "w.np", "-1", 10**30]


# ----------------------------------------------------------------------------------------
# load refuses what is not a complete bplib file, with a clear error
# ----------------------------------------------------------------------------------------


@pytest.fixture
def good(tmp_path):
    path = tmp_path / "good.npz"
    bplib.save(model_state(), path)
    return path


def refused(path, match=None, **kwargs):
    with pytest.raises(ValueError, match=match) as info:
        bplib.load(path, **kwargs)
    message = str(info.value)
    assert REFUSED in message and str(path) in message
    return message


def test_a_truncated_file_is_refused(good, tmp_path):
    data = good.read_bytes()
    for cut in (1, 10, 100, len(data) // 2, len(data) - 22, len(data) - 1):
        bad = tmp_path / f"cut{cut}.npz"
        bad.write_bytes(data[:cut])
        refused(bad)


def test_an_empty_file_random_bytes_and_a_npy_are_refused(tmp_path):
    (tmp_path / "zero.npz").write_bytes(b"")
    refused(tmp_path / "zero.npz", "empty")
    (tmp_path / "random.npz").write_bytes(np.random.default_rng(0).bytes(4096))
    message = refused(tmp_path / "random.npz", "not a zip archive")
    assert "pickle" not in message
    np.save(tmp_path / "one.npy", np.zeros(3))
    refused(tmp_path / "one.npy", r"single \.npy array")


def test_every_bit_flip_is_refused_or_harmless(good, tmp_path):
    data = bytearray(good.read_bytes())
    original = bplib.load(good)
    bad = tmp_path / "flip.npz"
    rng = np.random.default_rng(1)
    for position in sorted(rng.choice(len(data), 150, replace=False)):
        flipped = bytearray(data)
        flipped[position] ^= 1 << int(rng.integers(8))
        bad.write_bytes(bytes(flipped))
        try:
            back = bplib.load(bad)
        except ValueError as err:
            assert REFUSED in str(err)
        else:  # a flip in a field load does not rely on (a timestamp): the same arrays
            assert_same(back, original)


def test_a_foreign_zip_is_refused(tmp_path):
    with zipfile.ZipFile(tmp_path / "hello.zip", "w") as zf:
        zf.writestr("hello.txt", "hi")
    refused(tmp_path / "hello.zip", "'hello.txt' is not an array")


def test_duplicate_members_are_refused(good, tmp_path):
    rewrite(good, tmp_path / "dup.npz", lambda m: [m[0], *m])
    refused(tmp_path / "dup.npz", "duplicate members")


def test_a_missing_or_extra_member_is_refused(good, tmp_path):
    rewrite(good, tmp_path / "missing.npz", lambda m: m[1:])
    refused(tmp_path / "missing.npz", r"missing '0.weight.npy'")
    extra = ("extra.npy", m_bytes(np.zeros(2)))
    rewrite(good, tmp_path / "extra.npz", lambda m: [*m[:-1], extra, m[-1]])
    refused(tmp_path / "extra.npz", r"unexpected 'extra.npy'")


def m_bytes(array):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array)
    return buf.getvalue()


def test_a_manifest_that_is_not_last_or_disagrees_is_refused(good, tmp_path):
    rewrite(good, tmp_path / "first.npz", lambda m: [m[-1], *m[:-1]])
    refused(tmp_path / "first.npz", "not the archive's last member")

    def wrong_shape(members):
        manifest = json.loads(members[-1][1])
        manifest["arrays"][0][2] = [32, 64]
        return [*members[:-1], (members[-1][0], json.dumps(manifest).encode())]

    rewrite(good, tmp_path / "shape.npz", wrong_shape)
    refused(tmp_path / "shape.npz", r"'0.weight' is float64 \(64, 32\) in its header")

    def newer(members):
        manifest = json.loads(members[-1][1])
        manifest["version"] = 99
        return [*members[:-1], (members[-1][0], json.dumps(manifest).encode())]

    rewrite(good, tmp_path / "newer.npz", newer)
    refused(tmp_path / "newer.npz", "format version 99")


def crafted_huge(tmp_path, manifest=True):
    """A few hundred bytes that declare a float64 array of 16 GiB."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (2**31,)}
    )
    members = [("w.npy", header.getvalue() + b"\0" * 64)]
    if manifest:
        text = json.dumps(
            {"format": "bplib-state", "version": 1, "arrays": [["w", "<f8", [2**31]]]}
        )
        members.append(("bplib-manifest.json", text.encode()))
    path = tmp_path / "huge.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return path


@pytest.mark.parametrize("manifest", [True, False])
def test_an_oversized_declared_shape_is_refused_without_allocating(tmp_path, manifest):
    path = crafted_huge(tmp_path, manifest)
    tracemalloc.start()
    try:
        refused(path, r"declares float64 \(2147483648,\) \(17179869184 bytes\)")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20


def test_max_bytes_is_enforced_before_allocating_and_names_the_total(tmp_path):
    state = {"w": np.ones(2**20), "b": np.ones(3)}
    path = tmp_path / "big.npz"
    bplib.save(state, path)
    total = 8 * (2**20 + 3)
    tracemalloc.start()
    try:
        refused(
            path, rf"declares {total} bytes of arrays, more than max_bytes=1000", max_bytes=1000
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**17
    tracemalloc.start()
    try:
        back = bplib.load(path, max_bytes=total)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < total + 2**22  # the arrays, and a chunk read at a time
    assert_same(back, state)
    with pytest.raises(ValueError, match="max_bytes must be a non-negative integer"):
        bplib.load(path, max_bytes=-1)


def test_a_zip_bomb_is_refused_without_expanding_it(tmp_path):
    # 256 MiB of zeros, deflated to a quarter of a megabyte, behind a valid .npy header
    path = tmp_path / "bomb.npz"
    n = 2**25
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (n,)}
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("w.npy", "w", force_zip64=True) as member:
            member.write(header.getvalue())
            zeros = bytes(2**20)
            for _ in range(n * 8 // len(zeros)):
                member.write(zeros)
    assert path.stat().st_size < 2**20
    tracemalloc.start()
    try:
        refused(path, "'w.npy' is compressed")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20


def test_a_member_that_lies_about_its_size_is_refused(good, tmp_path):
    data = bytearray(good.read_bytes())
    # shrink the file by dropping the middle of the first array: sizes now lie
    start = data.find(b"\x93NUMPY") + 200
    bad = tmp_path / "short.npz"
    bad.write_bytes(bytes(data[:start] + data[start + 4096 :]))
    refused(bad)


def test_a_file_without_manifest_from_the_previous_version_still_loads(tmp_path):
    # bplib 0.1.0 wrote exactly numpy.savez's layout (stored members, no manifest)
    state = model_state()
    path = tmp_path / "old.npz"
    np.savez(path, **{"0.weight": state["0.weight"], "0.bias": state["0.bias"]})
    back = bplib.load(path)
    assert set(back) == {"0.weight", "0.bias"}
    np.testing.assert_array_equal(back["0.weight"], state["0.weight"])


def test_a_damaged_data_byte_is_caught_by_the_checksum(good, tmp_path):
    data = bytearray(good.read_bytes())
    start = data.find(b"\x93NUMPY") + 128 + 1000  # inside the first array's data
    data[start] ^= 0xFF
    (tmp_path / "crc.npz").write_bytes(bytes(data))
    refused(tmp_path / "crc.npz", "CRC")


def test_load_is_not_tricked_into_unpickling(tmp_path):
    path = tmp_path / "pickled.npz"
    with zipfile.ZipFile(path, "w") as zf:
        with zf.open("w.npy", "w") as member:
            np.lib.format.write_array(member, np.array([object()]), allow_pickle=True)
    refused(path, "dtype object")


def test_the_manifest_is_small_and_written_last(good):
    with zipfile.ZipFile(good) as zf:
        infos = zf.infolist()
    assert infos[-1].filename == serialization.MANIFEST
    assert infos[-1].file_size < 400
    assert all(i.compress_type == zipfile.ZIP_STORED for i in infos)
    assert zlib.crc32(b"") == 0  # the CRC module numpy and zipfile share is present


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_save_and_load_round_trip_a_model_exactly(tmp_path, dtype):
    net = mlp(dtype=dtype)
    path = tmp_path / "net.npz"
    bplib.save(net.state_dict(), path)
    loaded = bplib.load(path)
    assert list(loaded) == list(net.state_dict())
    for name, value in net.state_dict().items():
        assert loaded[name].dtype == np.dtype(dtype)
        np.testing.assert_array_equal(loaded[name], value)
    fresh = mlp(seed=7, dtype=dtype)
    fresh.load_state_dict(loaded)
    X = blobs()[0].astype(dtype)
    np.testing.assert_array_equal(fresh(X), net(X))


def test_save_writes_a_plain_npz_exactly_at_the_path_with_no_pickle(tmp_path):
    path = tmp_path / "weights.bin"
    opt = optim.Adam(mlp().parameters())
    bplib.save({"model": mlp().state_dict(), "optimizer": opt.state_dict()}, path)
    assert path.exists() and not (tmp_path / "weights.bin.npz").exists()
    assert zipfile.is_zipfile(path)
    with np.load(path, allow_pickle=False) as archive:
        assert "model/0.weight" in archive.files
        assert "optimizer/param_groups/0/betas" in archive.files
        np.testing.assert_array_equal(archive["optimizer/param_groups/0/betas"], [0.9, 0.999])


def test_load_restores_the_nesting_with_integer_keys(tmp_path):
    state = {"state": {0: {"step": 3, "buf": np.arange(3.0)}}, "groups": [{"lr": 0.5}]}
    bplib.save(state, tmp_path / "s.npz")
    loaded = bplib.load(tmp_path / "s.npz")
    assert set(loaded) == {"state", "groups"}
    assert int(loaded["state"][0]["step"]) == 3
    np.testing.assert_array_equal(loaded["state"][0]["buf"], np.arange(3.0))
    assert float(loaded["groups"][0]["lr"]) == 0.5


@pytest.mark.parametrize(
    ("state", "error", "message"),
    [
        ({"a": "text"}, TypeError, "'a' is str.*would need pickle"),
        ({"a": None}, TypeError, "'a' is NoneType"),
        ({"a": np.array(["x"])}, TypeError, "dtype <U1"),
        ({"a": np.array([object()])}, TypeError, "dtype object"),
        ({"12": np.zeros(1)}, ValueError, "not be all digits"),
        ({"a/b": np.zeros(1)}, ValueError, "contain no '/'"),
        ({1.5: np.zeros(1)}, TypeError, "keys must be strings or integers"),
    ],
)
def test_save_refuses_what_would_need_pickle_or_cannot_be_read_back(
    tmp_path, state, error, message
):
    with pytest.raises(error, match=message):
        bplib.save(state, tmp_path / "bad.npz")


def test_save_refuses_a_non_mapping(tmp_path):
    with pytest.raises(
        TypeError,
        match=r"save expected a dict \(a state_dict\), got Sequential; save its state_dict\(\): "
        r"bplib\.save\(net\.state_dict\(\), path\)",
    ):
        bplib.save(mlp(), tmp_path / "m.npz")
    with pytest.raises(TypeError, match=r"save expected a dict \(a state_dict\), got list$"):
        bplib.save([1.0], tmp_path / "m.npz")
