"""bplib.data: seeded toy problems, the shipped digits, splitting, scaling, one-hot, batches."""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Callable
from typing import Any, NoReturn

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

import bplib
from bplib import data

from .helpers import as_matrix


def BAD(value: object) -> Any:
    """Pass a deliberately wrong argument past the type checker (the tests check the error)."""
    return value


GENERATORS: dict[str, Callable[[Any], tuple[NDArray[np.float64], NDArray[Any]]]] = {
    "xor": lambda rng: data.xor(5, noise=0.1, rng=rng),
    "spirals": lambda rng: data.spirals(rng=rng),
    "moons": lambda rng: data.moons(rng=rng),
    "circles": lambda rng: data.circles(rng=rng),
    "regression_1d": lambda rng: data.regression_1d(rng=rng),
}


# ---------------------------------------------------------------------------------------
# toy problems
# ---------------------------------------------------------------------------------------


def test_xor_defaults_are_the_four_classic_points() -> None:
    X, y = data.xor()
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, [0, 1, 1, 0])
    assert X.dtype == np.float64 and y.dtype == np.int64


def test_xor_repeats_each_corner_and_labels_follow_the_exclusive_or() -> None:
    X, y = data.xor(n_per_corner=3, noise=0.05, rng=0)
    assert X.shape == (12, 2) and y.shape == (12,)
    corners = np.round(X).astype(int)  # noise 0.05 never moves a point half-way
    np.testing.assert_array_equal(y, corners[:, 0] ^ corners[:, 1])


@pytest.mark.parametrize("name", GENERATORS)
def test_a_seed_gives_the_same_data_and_another_seed_other_data(name: str) -> None:
    make = GENERATORS[name]
    X1, y1 = make(7)
    X2, y2 = make(np.random.default_rng(7))
    X3, _ = make(8)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


@pytest.mark.parametrize("name", ["xor", "spirals", "moons", "circles"])
def test_classification_sets_are_float64_features_and_int64_labels(name: str) -> None:
    X, y = GENERATORS[name](0)
    assert X.dtype == np.float64 and X.ndim == 2 and X.shape[1] == 2
    assert y.dtype == np.int64 and y.shape == (len(X),)
    assert np.all(np.isfinite(X))


def test_spirals_have_one_arm_per_class_inside_the_unit_disc() -> None:
    X, y = data.spirals(n_per_class=50, n_classes=3, noise=0.3, rng=0)
    assert X.shape == (150, 2)
    np.testing.assert_array_equal(np.bincount(y), [50, 50, 50])
    # the noise perturbs only the angle, so every radius stays in [0, 1]
    assert np.linalg.norm(X, axis=1).max() <= 1.0 + 1e-12


def test_noise_free_moons_lie_on_their_half_circles() -> None:
    X, y = data.moons(n=41, noise=0.0)
    np.testing.assert_array_equal(np.bincount(y), [21, 20])
    np.testing.assert_allclose(np.linalg.norm(X[y == 0], axis=1), 1.0)
    np.testing.assert_allclose(np.linalg.norm(X[y == 1] - [1.0, 0.5], axis=1), 1.0)


def test_noise_free_circles_have_radius_one_and_factor() -> None:
    X, y = data.circles(n=30, noise=0.0, factor=0.3)
    radius = np.linalg.norm(X, axis=1)
    np.testing.assert_allclose(radius[y == 0], 1.0)
    np.testing.assert_allclose(radius[y == 1], 0.3)


def test_regression_1d_is_a_sorted_sine_as_column_vectors() -> None:
    X, y = data.regression_1d(n=50, noise=0.0, rng=0)
    assert X.shape == (50, 1) and y.shape == (50, 1) and y.dtype == np.float64
    assert np.all(np.diff(X[:, 0]) >= 0)
    assert X.min() >= -np.pi and X.max() <= np.pi
    np.testing.assert_allclose(y, np.sin(X))


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: data.xor(0), ValueError, "n_per_corner must be a positive integer, got 0"),
        (lambda: data.spirals(n_per_class=BAD(2.5)), ValueError, "n_per_class must be a positive"),
        (lambda: data.spirals(n_classes=1), ValueError, "n_classes must be at least 2, got 1"),
        (lambda: data.moons(n=1), ValueError, "n must be at least 2"),
        (lambda: data.circles(n=-3), ValueError, "n must be a positive integer, got -3"),
        (lambda: data.regression_1d(n=0), ValueError, "n must be a positive integer, got 0"),
        (lambda: data.moons(noise=-0.1), ValueError, r"noise must be a finite number >= 0"),
        (lambda: data.xor(noise=float("nan")), ValueError, r"noise must be a finite number >= 0"),
        (
            lambda: data.spirals(noise=BAD("0.2")),
            TypeError,
            "noise must be a real number, got str",
        ),
        (lambda: data.circles(factor=1.0), ValueError, r"factor .* must lie in \(0, 1\), got 1.0"),
        (lambda: data.moons(rng=BAD("seed")), TypeError, "rng must be an int seed"),
    ],
)
def test_toy_problems_refuse_bad_arguments(
    call: Callable[[], object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        call()


# ---------------------------------------------------------------------------------------
# the shipped digits
# ---------------------------------------------------------------------------------------

# Derived once from the source, sklearn/datasets/data/digits.csv.gz in the scikit-learn
# 1.9.1 wheel: the class counts by `zcat digits.csv.gz | awk -F, '{print $65}' | sort |
# uniq -c`, and the SHA-256 of the pixels (as uint8, row-major, C order) and of the labels
# (uint8) as printed by `python tools/make_digits_npz.py <wheel>`.
DIGIT_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
PIXELS_SHA256 = "8f26b2bd9d135c256808f68f14fdabddde6d9c7f869ae419704b051f0f14b3b3"
LABELS_SHA256 = "8ba4f891220f5e4c9c819638d1602d74b83618f167043c6da52a2a247841ddf0"


def test_digits_have_the_documented_shape_dtype_and_range() -> None:
    X, y = data.load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0 and X.max() == 16
    np.testing.assert_array_equal(X, np.round(X))  # pixel counts are integers
    assert set(np.unique(y)) == set(range(10))


def test_digits_class_counts_match_the_source() -> None:
    _, y = data.load_digits()
    assert np.bincount(y).tolist() == DIGIT_COUNTS


def test_digits_match_the_checksums_of_the_source() -> None:
    X, y = data.load_digits()
    assert hashlib.sha256(X.astype(np.uint8).tobytes()).hexdigest() == PIXELS_SHA256
    assert hashlib.sha256(y.astype(np.uint8).tobytes()).hexdigest() == LABELS_SHA256


def test_digits_load_without_a_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> NoReturn:
        raise AssertionError("load_digits tried to open a network socket")

    monkeypatch.setattr(socket, "socket", no_network)
    X, _ = data.load_digits()
    assert X.shape == (1797, 64)


def test_each_load_returns_fresh_arrays() -> None:
    X, y = data.load_digits()
    X[:] = -1
    y[:] = -1
    X2, y2 = data.load_digits()
    assert X2.min() == 0 and y2.min() == 0


# ---------------------------------------------------------------------------------------
# train_test_split
# ---------------------------------------------------------------------------------------


def indexed(n: int, n_classes: int = 3) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """X whose single feature is the example's index, and labels 0, 1, 2, 0, 1, 2, ..."""
    return np.arange(n, dtype=np.float64).reshape(-1, 1), np.arange(n, dtype=np.int64) % n_classes


def test_split_is_a_partition_that_keeps_rows_paired() -> None:
    X, y = indexed(50)
    X_tr, X_te, y_tr, y_te = data.train_test_split(X, y, 0.3, rng=0)
    ids = np.concatenate([X_tr[:, 0], X_te[:, 0]]).astype(int)
    np.testing.assert_array_equal(np.sort(ids), np.arange(50))  # each example exactly once
    np.testing.assert_array_equal(y_tr, X_tr[:, 0].astype(int) % 3)
    np.testing.assert_array_equal(y_te, X_te[:, 0].astype(int) % 3)


def test_split_holds_out_test_size_times_n_rounded_half_up() -> None:
    X, y = indexed(50)
    for test_size, n_test in [(0.3, 15), (0.23, 12), (0.25, 13), (0.5, 25)]:
        _, X_te, _, _ = data.train_test_split(X, y, test_size, rng=0)
        assert len(X_te) == n_test


def test_split_is_deterministic_for_a_seed() -> None:
    X, y = indexed(40)
    a = data.train_test_split(X, y, rng=3)
    b = data.train_test_split(X, y, rng=3)
    c = data.train_test_split(X, y, rng=4)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[1], c[1])


def test_stratified_split_keeps_the_class_proportions_of_the_digits() -> None:
    X, y = data.load_digits()
    _, _, y_tr, y_te = data.train_test_split(X, y, 0.2, rng=0)
    counts = np.bincount(y)
    assert np.all(np.abs(np.bincount(y_te) - 0.2 * counts) < 1)
    assert np.all(np.abs(np.bincount(y_tr) - 0.8 * counts) < 1)


@settings(max_examples=60, deadline=None)
@given(
    counts=st.lists(st.integers(2, 30), min_size=2, max_size=6),
    test_size=st.floats(0.1, 0.9),
    seed=st.integers(0, 2**16),
)
def test_stratified_split_puts_each_class_within_one_of_its_quota(
    counts: list[int], test_size: float, seed: int
) -> None:
    y = np.repeat(np.arange(len(counts)), counts)
    X = np.zeros((len(y), 1))
    n_test = int(np.floor(test_size * len(y) + 0.5))
    if not 0 < n_test < len(y):
        return
    _, _, _, y_te = data.train_test_split(X, y, test_size, rng=seed)
    assert len(y_te) == n_test
    per_class = np.bincount(y_te, minlength=len(counts))
    assert np.all(np.abs(per_class - test_size * np.array(counts)) < 1)


def test_unstratified_split_accepts_regression_targets() -> None:
    X, y = data.regression_1d(n=20, noise=0.0, rng=0)
    X_tr, X_te, y_tr, y_te = data.train_test_split(X, y, 0.25, stratify=False, rng=0)
    assert X_tr.shape == (15, 1) and y_te.shape == (5, 1)
    np.testing.assert_array_equal(y_tr, np.sin(X_tr))  # rows stayed paired
    np.testing.assert_array_equal(y_te, np.sin(X_te))


@pytest.mark.parametrize("bad", [0, 1, 0.0, 1.0, -0.2, 1.5, True, "0.2"])
def test_split_refuses_a_test_size_outside_zero_one(bad: Any) -> None:
    X, y = indexed(10)
    with pytest.raises(ValueError, match=r"test_size must be a fraction strictly between 0 and 1"):
        data.train_test_split(X, y, bad)


def test_split_refuses_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match=r"same number of examples.*X with 10 .* y with 9"):
        data.train_test_split(np.zeros((10, 2)), np.zeros(9, dtype=int))


def test_split_refuses_non_integer_labels_when_stratifying() -> None:
    X, y = data.regression_1d(n=10, rng=0)
    with pytest.raises(TypeError, match=r"integer class labels, got y of dtype float64.*stratify"):
        data.train_test_split(X, y)


def test_split_of_float_labels_that_are_whole_numbers_says_to_convert_them() -> None:
    X, y = data.xor(4, rng=0)
    floats = y.astype(np.float64)  # as np.loadtxt reads a label column
    with pytest.raises(
        TypeError,
        match=r"whole numbers: convert them with y\.astype\(int\) \(or pass stratify=False if "
        r"they are regression targets\)",
    ):
        data.train_test_split(X, floats)
    *_, y_test = data.train_test_split(X, floats.astype(int), rng=0)  # converted: accepted
    assert set(y_test.tolist()) == set(y.tolist())


def test_split_refuses_a_class_with_one_example_when_stratifying() -> None:
    with pytest.raises(ValueError, match=r"at least 2 examples of every class.*class 2 has only 1"):
        data.train_test_split(np.zeros((7, 1)), np.array([0, 0, 0, 1, 1, 1, 2]))


def test_split_refuses_a_test_size_that_empties_one_part() -> None:
    X, y = indexed(10)
    with pytest.raises(ValueError, match="leaves an empty test set"):
        data.train_test_split(X, y, 0.01)
    with pytest.raises(ValueError, match="leaves an empty training set"):
        data.train_test_split(X, y, 0.99)


# ---------------------------------------------------------------------------------------
# standardisation
# ---------------------------------------------------------------------------------------


def test_standardised_training_features_have_mean_zero_and_std_one() -> None:
    X = np.random.default_rng(0).normal(5.0, 3.0, (100, 4))
    Z = data.Standardizer().fit_transform(X)
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), 1.0)


def test_constant_features_become_zero_not_nan() -> None:
    X, _ = data.load_digits()
    (Z,) = data.standardize(X)
    constant = X.std(axis=0) == 0
    assert constant.any()  # the digits' always-blank border pixels
    assert np.all(np.isfinite(Z))
    np.testing.assert_array_equal(Z[:, constant], 0.0)
    np.testing.assert_allclose(Z[:, ~constant].std(axis=0), 1.0)


def test_other_sets_use_the_training_statistics() -> None:
    gen = np.random.default_rng(1)
    X_train, X_test = gen.normal(2, 4, (50, 3)), gen.normal(0, 1, (10, 3))
    Z_train, Z_test = data.standardize(X_train, X_test)
    np.testing.assert_allclose(Z_test, (X_test - X_train.mean(0)) / X_train.std(0))
    np.testing.assert_allclose(Z_train, data.Standardizer().fit_transform(X_train))


def test_inverse_transform_undoes_transform() -> None:
    X = np.random.default_rng(2).normal(3, 2, (20, 3))
    s = data.Standardizer().fit(X)
    np.testing.assert_allclose(s.inverse_transform(s.transform(X)), X)


def test_standardizer_refuses_misuse() -> None:
    s = data.Standardizer()
    with pytest.raises(RuntimeError, match=r"transform called before fit\(\)"):
        s.transform(np.ones((2, 2)))
    s.fit(np.ones((3, 2)))
    with pytest.raises(
        ValueError, match=r"X must have 2 features \(as in fit\), got shape \(3, 5\)"
    ):
        s.transform(np.ones((3, 5)))
    with pytest.raises(ValueError, match=r"2-D array of shape \(n, features\), got shape \(3,\)"):
        s.transform(np.ones(3))
    with pytest.raises(ValueError, match="X must be finite, got 1 NaN and 0 infinite entries"):
        data.Standardizer().fit(np.array([[1.0], [np.nan]]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_standardizer_state_dict_through_a_file_transforms_as_the_fitted_one(
    tmp_path: Any, dtype: Any
) -> None:
    import bplib

    X = np.random.default_rng(3).normal(4, 2, (30, 3)).astype(dtype)
    X[:, 1] = 7.0  # a constant feature: scale 1
    fitted = data.Standardizer().fit(X)
    bplib.save({"scaler": fitted.state_dict()}, tmp_path / "s.npz")
    restored = data.Standardizer()
    restored.load_state_dict(bplib.load(tmp_path / "s.npz")["scaler"])
    np.testing.assert_array_equal(restored.transform(X), fitted.transform(X))
    assert repr(restored) == "Standardizer(features=3)"
    state = fitted.state_dict()
    state["mean"][0] = 1e9  # a copy: the scaler is not changed through it
    assert fitted.mean is not None and fitted.mean[0] != 1e9


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ({"mean": np.zeros(2)}, r"expected the keys \['mean', 'scale'\], got \['mean'\]"),
        ({"mean": np.zeros(2), "scale": np.ones(3)}, "got 2 and 3"),
        ({"mean": np.zeros(2), "scale": np.array([1.0, 0.0])}, "every scale must be > 0"),
        ({"mean": np.zeros((2, 1)), "scale": np.ones(2)}, "mean must be a non-empty 1-D float"),
        ({"mean": np.array([0.0, np.nan]), "scale": np.ones(2)}, "mean must be finite"),
        ([1, 2], "expected the keys .* got list"),
    ],
)
def test_standardizer_load_state_dict_checks_before_changing_anything(
    state: Any, message: str
) -> None:
    s = data.Standardizer().fit(np.arange(6.0).reshape(3, 2))
    before = s.state_dict()
    with pytest.raises(ValueError, match=message):
        s.load_state_dict(state)
    after = s.state_dict()
    for k in before:
        np.testing.assert_array_equal(after[k], before[k])
    with pytest.raises(RuntimeError, match=r"state_dict called before fit\(\)"):
        data.Standardizer().state_dict()


# ---------------------------------------------------------------------------------------
# one-hot
# ---------------------------------------------------------------------------------------


def test_one_hot_puts_a_single_one_in_the_labels_column() -> None:
    y = np.array([2, 0, 1, 2])
    Y = data.one_hot(y)
    assert Y.shape == (4, 3) and Y.dtype == np.float64
    np.testing.assert_array_equal(Y.sum(axis=1), 1.0)
    np.testing.assert_array_equal(Y.argmax(axis=1), y)
    assert data.one_hot(y, n_classes=5).shape == (4, 5)


@pytest.mark.parametrize(
    ("y", "n_classes", "error", "message"),
    [
        (
            np.array([0, 3]),
            3,
            ValueError,
            r"labels must lie in 0 .. 2 for n_classes=3, got label 3",
        ),
        (np.array([0, -1]), None, ValueError, r"class labels >= 0, got -1"),
        (np.array([0.0, 1.0]), None, TypeError, r"integer class labels, got y of dtype float64"),
        (np.array([[0, 1]]), None, ValueError, r"1-D array of labels, got shape \(1, 2\)"),
        (np.array([0, 1]), 0, ValueError, r"n_classes must be a positive integer, got 0"),
    ],
)
def test_one_hot_refuses_bad_labels(
    y: NDArray[Any], n_classes: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        data.one_hot(y, n_classes)


# ---------------------------------------------------------------------------------------
# mini-batches
# ---------------------------------------------------------------------------------------


def test_batches_cover_every_example_exactly_once_per_epoch() -> None:
    X, y = indexed(23)
    seen = [xb[:, 0].astype(int) for xb, _ in data.batches(X, y, 5, rng=0)]
    assert [len(s) for s in seen] == [5, 5, 5, 5, 3]
    np.testing.assert_array_equal(np.sort(np.concatenate(seen)), np.arange(23))


def test_batches_keep_rows_paired() -> None:
    X, y = indexed(23)
    for xb, yb in data.batches(X, y, 4, rng=1):
        np.testing.assert_array_equal(yb, xb[:, 0].astype(int) % 3)


def test_unshuffled_batches_are_views_in_order() -> None:
    X, y = indexed(10)
    got = list(data.batches(X, y, 4, shuffle=False))
    np.testing.assert_array_equal(np.concatenate([xb for xb, _ in got])[:, 0], np.arange(10))
    assert all(np.shares_memory(xb, X) and np.shares_memory(yb, y) for xb, yb in got)


def test_shuffled_batches_are_deterministic_for_a_seed_and_differ_between_epochs() -> None:
    X, y = indexed(30)

    def order(rng: int | np.random.Generator) -> NDArray[Any]:
        return np.concatenate([xb[:, 0] for xb, _ in data.batches(X, y, 8, rng=rng)])

    np.testing.assert_array_equal(order(5), order(5))
    gen = np.random.default_rng(5)
    first, second = order(gen), order(gen)
    np.testing.assert_array_equal(first, order(5))
    assert not np.array_equal(first, second)


def test_a_batch_size_beyond_n_gives_one_batch() -> None:
    X, y = indexed(7)
    assert [len(xb) for xb, _ in data.batches(X, y, 100, rng=0)] == [7]


def test_batches_check_their_arguments_at_the_call() -> None:
    X, y = indexed(10)
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        data.batches(X, y, 0)
    with pytest.raises(ValueError, match=r"X with 10 .* and y with 9"):
        data.batches(X, y[:9], 2)
    with pytest.raises(TypeError, match="X must be a numpy array, got list"):
        data.batches(BAD([[1.0]]), y, 2)


def test_data_helpers_refuse_a_matrix_and_name_x():
    X, y = np.ones((4, 2)), np.arange(4) % 2
    with pytest.raises(TypeError, match="batches: X must be a plain numpy array"):
        bplib.data.batches(as_matrix(X), y, 2)
    with pytest.raises(TypeError, match="train_test_split: X must be a plain numpy array"):
        bplib.data.train_test_split(as_matrix(X), y, 0.5)
    with pytest.raises(TypeError, match=r"Standardizer\.fit: X must be a numpy array, got list"):
        bplib.data.Standardizer().fit(X.tolist())
    s = bplib.data.Standardizer().fit(X)
    with pytest.raises(ValueError, match=r"inverse_transform: Z must have 2 features"):
        s.inverse_transform(np.ones((2, 3)))


# ---------------------------------------------------------------------------------------
# the shipped text (chapter 13)
# ---------------------------------------------------------------------------------------

# printed by `python tools/make_genesis_text.py` from Debian's bible-kjv 4.38
GENESIS_SHA256 = "037cbb491e232356eaa005801cd5a2676667952fda9dd6b2db3c37625eaf7784"


def test_text_is_genesis_as_the_script_wrote_it() -> None:
    import hashlib

    text = data.load_text()
    assert hashlib.sha256(text.encode("ascii")).hexdigest() == GENESIS_SHA256
    assert text.startswith("In the beginning God created the heaven and the earth.\n")
    assert text.count("\n\n") == 49  # 50 chapters
    assert len(text) == 196867 and len(set(text)) == 60


def test_text_loads_without_a_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("load_text tried to open a network socket")

    monkeypatch.setattr("socket.socket", refuse)
    assert data.load_text().endswith("coffin in Egypt.\n")


def test_char_vocab_round_trips_and_sorts_its_characters() -> None:
    vocab = data.CharVocab("hello world")
    assert vocab.chars == " dehlorw" and vocab.vocab_size == 8
    tokens = vocab.encode("low")
    assert tokens.dtype == np.int64 and tokens.tolist() == [4, 5, 7]
    assert vocab.decode(tokens) == "low" and vocab.decode(np.array([], dtype=int)) == ""
    assert repr(vocab) == "CharVocab(vocab_size=8)"


def test_text_windows_targets_are_the_inputs_shifted_by_one() -> None:
    tokens = np.arange(100) * 3
    X, Y = data.text_windows(tokens, 6, 10, rng=1)
    assert X.shape == Y.shape == (6, 10) and X.dtype == Y.dtype == np.int64
    np.testing.assert_array_equal(Y[:, :-1], X[:, 1:])
    np.testing.assert_array_equal(Y[:, -1], X[:, -1] + 3)
    X2, _ = data.text_windows(tokens, 6, 10, rng=1)
    np.testing.assert_array_equal(X, X2)  # a seed gives the same windows


def test_text_windows_reach_both_ends() -> None:
    X, Y = data.text_windows(np.arange(6), 200, 5, rng=0)  # one possible window
    np.testing.assert_array_equal(X, np.tile(np.arange(5), (200, 1)))
    np.testing.assert_array_equal(Y, np.tile(np.arange(1, 6), (200, 1)))
