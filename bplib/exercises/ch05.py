"""Answer keys of the exercises of 'Building bplib' (``chapters/05_building_bplib.md``).

The three exercises' answers are code: a module class (``Softplus``, ``Scale``) or a
function (``accumulate``). Each key runs the answer on inputs of its own, drawn from its
own seeded generator, and compares with what ``bplib`` computes; it never uses the
notebook's variables besides the answers.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from bplib.exercises import NotYet, answer, close

__all__ = ["ex1", "ex2", "ex3"]

SEED = 5  # the chapter's seed; each key draws from default_rng(SEED * 100 + its number)
# softplus's inputs where log(1 + e^z) overflows (e^800 is infinite in float64) and where
# 1 + e^z rounds to 1 (z = -40: e^z = 4e-18 is lost, though log1p would keep it)
LARGE_Z = np.array([[-800.0, -40.0, -1.5, 0.0], [0.5, 2.0, 40.0, 800.0]])


def _module_class(value: object, name: str) -> Any:
    cls = answer(value)
    import bplib

    if not (isinstance(cls, type) and issubclass(cls, bplib.Module)):
        kind = type(cls).__name__
        raise NotYet(f"{name} should be a class derived from bplib.Module, not {kind}")
    return cls


def _build(cls: Any, *args: object, name: str) -> Any:
    try:
        return cls(*args)
    except Exception as err:
        call = f"{name}({', '.join(map(repr, args))})"
        raise NotYet(f"{call} raised {type(err).__name__}: {err}") from None


@contextmanager
def _numpy_warnings() -> Iterator[list[warnings.WarningMessage]]:
    """Record numpy's floating-point warnings (overflow, invalid) instead of showing them."""
    with (
        warnings.catch_warnings(record=True) as caught,
        np.errstate(over="warn", invalid="warn", divide="warn"),
    ):
        warnings.simplefilter("always")
        yield caught


def _call(what: str, fn: Callable[..., Any], *args: object) -> tuple[np.ndarray, bool]:
    """``fn(*args)`` as a float array, and whether numpy warned (overflow, invalid) on the way."""
    with _numpy_warnings() as caught:
        try:
            result = fn(*args)
        except NotYet:
            raise
        except Exception as err:
            raise NotYet(f"{what} raised {type(err).__name__}: {err}") from None
    warned = any(issubclass(w.category, RuntimeWarning) for w in caught)
    try:
        values = np.asarray(result, dtype=np.float64)
    except (TypeError, ValueError):
        raise NotYet(
            f"{what} should return an array of numbers, not {type(result).__name__}"
        ) from None
    return values, warned


def _shape(values: np.ndarray, what: str, shape: tuple[int, ...]) -> None:
    if values.shape != shape:
        raise NotYet(f"{what} has shape {values.shape}; it should keep its input's shape {shape}")


def _gradcheck(net: Any, X: np.ndarray, Y: np.ndarray) -> list[str]:
    """The names of the gradients that disagree with finite differences (gradcheck's)."""
    import bplib

    try:
        report = bplib.gradcheck(net, bplib.MSELoss(), X, Y)
    except NotYet:
        raise
    except Exception as err:
        raise NotYet(f"inside a network, gradcheck raised {type(err).__name__}: {err}") from None
    return [name for name, err in report.errors.items() if not err < report.tol]


def ex1(Softplus: object) -> str:
    """Exercise 5.1: a module ``Softplus`` whose ``forward`` computes log(1 + e^z) and whose
    ``backward`` multiplies by its derivative, the sigmoid, both stable for any finite z.

    The key tries the layer on ordinary inputs (z ~ N(0, 1)), on large ones (z = +-800,
    +-40, where the formula written as it reads overflows or loses precision) and inside a
    network with ``bplib.gradcheck``. Diagnoses: not a Module class; forward not softplus;
    forward overflowing or losing precision for large z, or warning about overflow even
    when its values come out right; backward multiplying by softplus instead of its
    derivative, forgetting grad_out, or overflowing for large |z|; gradients that disagree
    with finite differences inside a network.
    """
    import bplib

    cls = _module_class(Softplus, "Softplus")
    rng = np.random.default_rng(SEED * 100 + 1)
    z = rng.normal(size=(4, 3))
    layer = _build(cls, name="Softplus")
    a, _ = _call("forward", layer, z)
    _shape(a, "forward's output", z.shape)
    if not close(a, np.logaddexp(0, z), rtol=1e-12):
        raise NotYet("forward should return log(1 + e^z), elementwise")

    layer = _build(cls, name="Softplus")
    a, warned = _call("forward", layer, LARGE_Z)
    _shape(a, "forward's output", LARGE_Z.shape)
    with np.errstate(invalid="ignore"):
        wrong = ~np.isclose(a, np.logaddexp(0, LARGE_Z), rtol=1e-12, atol=0)
    if wrong.any():
        at = LARGE_Z[wrong]
        if not np.isfinite(a[wrong]).all() or (at > 0).any():
            raise NotYet(
                "forward overflows for large z: at z = 800, e^z is infinite in float64 "
                "(bplib.functional.softplus never exponentiates a positive number)"
            )
        raise NotYet(
            "forward loses precision for large negative z: at z = -40, 1 + e^z rounds to 1, "
            "so the result is 0 where it should be about 4e-18"
        )
    if warned:
        raise NotYet(
            "forward's values are right, but numpy warns of an overflow on the way for "
            "large z (at z = 800): compute e only of numbers that cannot overflow"
        )

    layer = _build(cls, name="Softplus")
    layer(z)
    g = rng.normal(size=z.shape)
    back, _ = _call("backward", layer.backward, g)
    _shape(back, "backward's output", z.shape)
    sig = bplib.functional.sigmoid(z)
    if not close(back, g * sig, rtol=1e-9, atol=1e-15):
        if close(back, g * np.logaddexp(0, z), rtol=1e-9):
            raise NotYet("backward multiplies by softplus itself; its derivative is the sigmoid")
        if close(back, sig, rtol=1e-9):
            raise NotYet("backward forgets grad_out: multiply it by the local derivative")
        if close(back, g, rtol=1e-9):
            raise NotYet("backward returns grad_out unchanged: the local derivative is missing")
        raise NotYet(
            "backward disagrees with grad_out times softplus's derivative at the z that "
            "forward cached"
        )

    layer = _build(cls, name="Softplus")
    layer(LARGE_Z)
    g = rng.normal(size=LARGE_Z.shape)
    back, warned = _call("backward", layer.backward, g)
    _shape(back, "backward's output", LARGE_Z.shape)
    with np.errstate(invalid="ignore"):
        ok = np.isclose(back, g * bplib.functional.sigmoid(LARGE_Z), rtol=1e-9, atol=1e-15)
    if not ok.all():
        raise NotYet(
            "backward overflows for large |z| (z = +-800): e^800 is infinite in float64, "
            "and inf / inf is NaN; bplib.functional.sigmoid avoids it"
        )
    if warned:
        raise NotYet(
            "backward's values are right, but numpy warns of an overflow on the way for "
            "large |z| (z = +-800): use a sigmoid that never exponentiates a positive number"
        )

    net = bplib.Sequential(
        bplib.Linear(3, 4, rng=rng), _build(cls, name="Softplus"), bplib.Linear(4, 2, rng=rng)
    )
    where = _gradcheck(net, rng.normal(size=(5, 3)), rng.normal(size=(5, 2)))
    if where:
        raise NotYet(
            f"inside a network the gradients of {', '.join(where)} disagree with finite "
            "differences: does backward use the z of the latest forward?"
        )
    return "Correct: Softplus is right and stable for large |z|, and passes gradcheck in a network"


def ex2(Scale: object) -> str:
    """Exercise 5.2: a module ``Scale(features)`` computing z * gain with a learnable
    ``Parameter`` named ``gain`` (ones at the start) whose gradient backward accumulates.

    Diagnoses: not a Module class or not constructible as Scale(4); no Parameter named
    gain (or others besides it); gain not ones of shape (features,); forward not z * gain;
    dL/dz wrong; dL/dgain of the wrong shape (not summed over the batch), a mean instead
    of a sum, the opposite sign or otherwise wrong; gain.grad assigned instead of added
    to; gradients that disagree with finite differences inside a network.
    """
    import bplib

    cls = _module_class(Scale, "Scale")
    rng = np.random.default_rng(SEED * 100 + 2)
    layer = _build(cls, 4, name="Scale")
    names = [name for name, _ in layer.named_parameters()]
    if names != ["gain"]:
        raise NotYet(f"expected one Parameter attribute named gain, found {names}")
    gain = layer.gain
    if np.shape(gain.data) != (4,) or not np.all(gain.data == 1):
        raise NotYet("Scale(4).gain.data should start as ones of shape (4,), one gain per feature")
    gain.data[...] = rng.uniform(0.5, 1.5, size=4)
    z = rng.normal(size=(6, 4))
    a, _ = _call("forward", layer, z)
    _shape(a, "forward's output", z.shape)
    if not close(a, z * gain.data, rtol=1e-12):
        raise NotYet("forward should multiply each feature (column) of z by its own gain")

    layer.zero_grad()
    layer(z)
    g = rng.normal(size=z.shape)
    try:
        back, _ = _call("backward", layer.backward, g)
    except NotYet as err:
        raise NotYet(
            f"{err} (gain.grad has the shape of gain: is dL/dgain summed over the batch?)"
        ) from None
    _shape(back, "backward's output", z.shape)
    if not close(back, g * gain.data, rtol=1e-12):
        raise NotYet("backward's return value, dL/dz, is wrong: by how much does z scale?")
    grad = np.asarray(gain.grad, dtype=np.float64)
    expected = (g * z).sum(axis=0)
    if grad.shape != (4,):
        raise NotYet(
            f"gain.grad has shape {grad.shape}; it has the shape of gain, (4,): the gain is "
            "used by every example, so sum over the batch"
        )
    if not close(grad, expected, rtol=1e-12):
        if close(grad, expected / z.shape[0], rtol=1e-12):
            raise NotYet(
                "gain.grad is a mean over the batch; the loss already holds its 1/N, so sum"
            )
        if close(grad, -expected, rtol=1e-12):
            raise NotYet("gain.grad has the opposite sign")
        raise NotYet("gain.grad is wrong: what multiplies the gain in forward?")
    layer(z)
    _call("backward", layer.backward, g)
    if not close(gain.grad, 2 * expected, rtol=1e-12):
        raise NotYet("backward must add to gain.grad (+=), not assign it")

    layer = _build(cls, 4, name="Scale")
    layer.gain.data[...] = rng.uniform(0.5, 1.5, size=4)
    net = bplib.Sequential(
        bplib.Linear(3, 4, rng=rng), layer, bplib.Tanh(), bplib.Linear(4, 2, rng=rng)
    )
    where = _gradcheck(net, rng.normal(size=(6, 3)), rng.normal(size=(6, 2)))
    if where:
        raise NotYet(
            f"inside a network the gradients of {', '.join(where)} disagree with finite "
            "differences: does backward use the z of the latest forward?"
        )
    return "Correct: Scale's gradients pass gradcheck, and they accumulate"


def _recording_network(seed: int) -> Any:
    """A 3-5-2 tanh network that records the rows of each forward pass and counts backward
    passes (so the key sees whether an answer ran micro-batches)."""
    import bplib

    class Recording(bplib.Sequential):
        def __init__(self, *modules: bplib.Module) -> None:
            super().__init__(*modules)
            self.rows: list[int] = []
            self.backward_passes = 0

        def forward(self, x: np.ndarray) -> np.ndarray:
            self.rows.append(int(np.shape(x)[0]))
            return super().forward(x)

        def backward(self, grad_out: np.ndarray) -> np.ndarray:
            self.backward_passes += 1
            return super().backward(grad_out)

        def backward_to_parameters(self, grad_out: np.ndarray) -> None:
            self.backward_passes += 1
            super().backward_to_parameters(grad_out)

    gen = np.random.default_rng(seed)
    return Recording(bplib.Linear(3, 5, rng=gen), bplib.Tanh(), bplib.Linear(5, 2, rng=gen))


def _gradients(seed: int, parts: list[tuple[np.ndarray, np.ndarray, float]]) -> list[np.ndarray]:
    """The gradient of sum(weight * MSELoss()(net(X_b), Y_b)) over ``parts``, net as recorded."""
    import bplib

    net = _recording_network(seed)
    loss = bplib.MSELoss()
    net.zero_grad()
    for X_b, Y_b, weight in parts:
        loss(net(X_b), Y_b)
        net.backward(loss.backward() * weight)
    return [p.grad.copy() for p in net.parameters()]


def _matches(
    seed: int,
    parts: list[tuple[np.ndarray, np.ndarray]],
    weights: list[float],
    got: list[np.ndarray],
    stale: float = 0.0,
) -> bool:
    """Whether ``got`` is ``stale`` plus the gradient of the micro-batches' losses weighted
    by ``weights``."""
    weighted = [(X_b, Y_b, w) for (X_b, Y_b), w in zip(parts, weights, strict=True)]
    reference = _gradients(seed, weighted)
    return all(
        close(g - stale, r, rtol=1e-9, atol=1e-14) for g, r in zip(got, reference, strict=True)
    )


def ex3(accumulate: object) -> str:
    """Exercise 5.3: a function ``accumulate(model, X, Y, micro_batch)`` that leaves in every
    ``.grad`` the gradient of ``MSELoss()(model(X), Y)``, computed micro_batch rows at a time.

    The key calls it on 10 rows with micro_batch 4 (4 + 4 + 2 rows), 3 (3 + 3 + 3 + 1) and
    10, on a network that records the rows of each forward pass, with stale gradients in
    ``.grad``. Diagnoses: a forward pass on more rows than micro_batch (one full-batch pass:
    no accumulation); rows skipped or repeated; stale gradients kept (no zero_grad); only
    the last micro-batch's gradient left (zero_grad inside the loop: no accumulation);
    micro-batch gradients added unweighted, averaged over the number of micro-batches
    (wrong when the last one is smaller), or weighted by their rows but not divided by N;
    and any other difference.
    """
    fn = answer(accumulate)
    if not callable(fn):
        raise NotYet(f"accumulate should be a function, not {type(fn).__name__}")
    data = np.random.default_rng(SEED * 100 + 3)
    N = 10
    X, Y = data.normal(size=(N, 3)), data.normal(size=(N, 2))
    for micro_batch in (4, 3, 10):
        seed = SEED * 100 + 30 + micro_batch
        net = _recording_network(seed)
        for p in net.parameters():
            p.grad[...] = 1.0  # stale gradients from an earlier step
        with _numpy_warnings():
            try:
                fn(net, X.copy(), Y.copy(), micro_batch)
            except NotYet:
                raise
            except Exception as err:
                raise NotYet(
                    f"accumulate(model, X, Y, {micro_batch}) raised {type(err).__name__}: {err}"
                ) from None
        got = [np.asarray(p.grad, dtype=np.float64) for p in net.parameters()]
        if net.rows and max(net.rows) > micro_batch:
            raise NotYet(
                f"no accumulation: with micro_batch = {micro_batch} the model ran forward on "
                f"{max(net.rows)} rows at once; run at most micro_batch rows per pass and let "
                "the passes' gradients add up in .grad"
            )
        if sum(net.rows) != N or net.backward_passes != len(net.rows):
            raise NotYet(
                f"with micro_batch = {micro_batch} the forward passes covered "
                f"{sum(net.rows)} rows of {N}, and backward ran {net.backward_passes} times "
                f"for {len(net.rows)} forward passes: every row once, one backward per forward"
            )
        parts = [(X[s : s + micro_batch], Y[s : s + micro_batch]) for s in range(0, N, micro_batch)]
        shares = [len(X_b) / N for X_b, _ in parts]
        if _matches(seed, parts, shares, got):
            continue
        if _matches(seed, parts, shares, got, stale=1.0):
            raise NotYet("the stale gradients are still there; call model.zero_grad() first")
        before_last = [0.0] * (len(parts) - 1)
        if _matches(seed, parts, [*before_last, shares[-1]], got) or _matches(
            seed, parts, [*before_last, 1.0], got
        ):
            raise NotYet(
                "no accumulation: only the last micro-batch's gradient is left; zero the "
                "gradients once, before the loop, not for every micro-batch"
            )
        if _matches(seed, parts, [1.0] * len(parts), got):
            raise NotYet(
                "each micro-batch's mean loss counts as much as the whole batch's, though "
                "it holds only part of the rows"
            )
        if _matches(seed, parts, [1 / len(parts)] * len(parts), got):
            raise NotYet(
                "you divided by the number of micro-batches; that is right only when they "
                f"all have the same number of rows, and with micro_batch = {micro_batch} the "
                "last one is smaller"
            )
        if _matches(seed, parts, [float(len(X_b)) for X_b, _ in parts], got):
            raise NotYet(f"the gradient is N = {N} times too large")
        raise NotYet(
            f"with micro_batch = {micro_batch} the accumulated gradient differs from the full "
            "batch's: how does a mean over all N rows split into the micro-batches' means?"
        )
    return "Correct: the accumulated gradient equals the full batch's, micro-batch by micro-batch"
