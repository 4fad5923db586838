r"""Weight initialisers (chapter 9).

Every initialiser returns a weight matrix of shape ``(fan_in, fan_out)`` (the row
convention :math:`Z = XW + b`), drawn from a seeded ``numpy.random.Generator``.
Select one by name in ``Linear(init="xavier_uniform")`` or pass the function itself.

=====================  ==========================================================
name                   distribution
=====================  ==========================================================
``zeros``              :math:`W = 0` (fails: every hidden unit stays identical)
``normal``             :math:`\mathcal N(0, \sigma^2)`, :math:`\sigma = 0.01` by default
``uniform``            :math:`U(-1/\sqrt{n_\text{in}},\, 1/\sqrt{n_\text{in}})`, the old
                       heuristic and PyTorch's default for ``nn.Linear``
``xavier_uniform``     :math:`U(-a, a)`, :math:`a = \sqrt{6/(n_\text{in}+n_\text{out})}` (Glorot & Bengio, 2010)
``xavier_normal``      :math:`\mathcal N(0, 2/(n_\text{in}+n_\text{out}))`
``he_uniform``         :math:`U(-a, a)`, :math:`a = \sqrt{6/n_\text{in}}` (He et al., 2015)
``he_normal``          :math:`\mathcal N(0, 2/n_\text{in})`
``lecun_normal``       :math:`\mathcal N(0, 1/n_\text{in})` (LeCun et al., 1998)
=====================  ==========================================================

``glorot_*`` and ``kaiming_*`` are accepted as aliases of ``xavier_*`` and ``he_*``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import DTypeLike, NDArray

from ._checks import as_float_dtype, integer, real

# A string, so that importing bplib does not import numpy.random (about 15 ms) before a
# random number is needed; type checkers read it as the union it spells.
RngLike: TypeAlias = "int | np.random.Generator | None"


# The generator that ``rng=None`` draws from after manual_seed(); None: fresh entropy each time.
_global_rng: np.random.Generator | None = None


def manual_seed(seed: int | None) -> None:
    """Seed what every ``rng=None`` in bplib draws from, like ``torch.manual_seed``.

    After ``bplib.manual_seed(0)``, code that passes no ``rng`` (``Linear(3, 2)``,
    ``fit(...)`` without ``rng``) draws from one shared ``numpy.random.Generator`` seeded
    with 0, so a script that seeds once at the top gives the same numbers on every run. An
    explicit ``rng`` (an int seed or a ``Generator``) is used as given and does not touch
    the shared one (the book's chapters always pass one).
    ``manual_seed(None)`` returns to fresh entropy.
    """
    global _global_rng
    if seed is not None and (not isinstance(seed, int | np.integer) or isinstance(seed, bool)):
        raise TypeError(f"manual_seed expected an int seed or None, got {type(seed).__name__}")
    _global_rng = None if seed is None else np.random.default_rng(seed)


def as_rng(rng: RngLike) -> np.random.Generator:
    """Turn an int seed, a ``Generator`` or ``None`` (fresh entropy, or the generator of
    :func:`manual_seed`) into a ``Generator``."""
    if rng is None:
        return _global_rng if _global_rng is not None else np.random.default_rng()
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool):
        if rng < 0:
            raise ValueError(f"rng must be a seed >= 0 (numpy's rule), got {rng}")
        return np.random.default_rng(rng)
    if isinstance(rng, np.random.Generator):
        return rng
    raise TypeError(
        f"rng must be an int seed, a numpy.random.Generator or None, got {type(rng).__name__}"
    )


def _shape(fan_in: object, fan_out: object, dtype: DTypeLike, where: str) -> np.dtype[Any]:
    """Check the arguments every initialiser shares; return the dtype (float32 or float64)."""
    integer(fan_in, "fan_in", where)
    integer(fan_out, "fan_out", where)
    try:
        return as_float_dtype(dtype)
    except TypeError as e:
        raise TypeError(f"{where}: {e} (an integer dtype would round every weight to 0)") from None


def zeros(
    fan_in: int, fan_out: int, *, rng: RngLike = None, dtype: DTypeLike = np.float64
) -> NDArray[Any]:
    """All zeros: the symmetric start that gradient descent cannot break (chapter 9)."""
    dt = _shape(fan_in, fan_out, dtype, "zeros")
    if not isinstance(rng, np.random.Generator):
        as_rng(rng)  # no random numbers are drawn, but a wrong rng is still an error
    return np.zeros((fan_in, fan_out), dtype=dt)


def normal(
    fan_in: int,
    fan_out: int,
    *,
    rng: RngLike = None,
    dtype: DTypeLike = np.float64,
    std: float = 0.01,
) -> NDArray[Any]:
    r""":math:`W_{ij} \sim \mathcal N(0, \text{std}^2)`, a small fixed scale."""
    dt = _shape(fan_in, fan_out, dtype, "normal")
    std = real(std, "std", "normal", low=0.0)
    return (as_rng(rng).standard_normal((fan_in, fan_out)) * std).astype(dt, copy=False)


def uniform(
    fan_in: int,
    fan_out: int,
    *,
    rng: RngLike = None,
    dtype: DTypeLike = np.float64,
    bound: float | None = None,
) -> NDArray[Any]:
    r""":math:`W_{ij} \sim U(-a, a)` with :math:`a = 1/\sqrt{n_\text{in}}` unless ``bound`` is given."""
    dt = _shape(fan_in, fan_out, dtype, "uniform")
    a = 1.0 / np.sqrt(fan_in) if bound is None else real(bound, "bound", "uniform", low=0.0)
    return as_rng(rng).uniform(-a, a, (fan_in, fan_out)).astype(dt, copy=False)


def xavier_uniform(
    fan_in: int,
    fan_out: int,
    *,
    rng: RngLike = None,
    dtype: DTypeLike = np.float64,
    gain: float = 1.0,
) -> NDArray[Any]:
    r"""Glorot & Bengio (2010): :math:`U(-a, a)`, :math:`a = \text{gain}\sqrt{6/(n_\text{in}+n_\text{out})}`.

    Its variance :math:`a^2/3 = 2/(n_\text{in}+n_\text{out})` keeps the forward and backward
    signal level through tanh layers in their linear regime.
    """
    _shape(fan_in, fan_out, dtype, "xavier_uniform")
    gain = real(gain, "gain", "xavier_uniform", low=0.0)
    return uniform(
        fan_in, fan_out, rng=rng, dtype=dtype, bound=gain * np.sqrt(6.0 / (fan_in + fan_out))
    )


def xavier_normal(
    fan_in: int,
    fan_out: int,
    *,
    rng: RngLike = None,
    dtype: DTypeLike = np.float64,
    gain: float = 1.0,
) -> NDArray[Any]:
    r""":math:`\mathcal N(0, \sigma^2)` with :math:`\sigma = \text{gain}\sqrt{2/(n_\text{in}+n_\text{out})}`."""
    _shape(fan_in, fan_out, dtype, "xavier_normal")
    gain = real(gain, "gain", "xavier_normal", low=0.0)
    return normal(
        fan_in, fan_out, rng=rng, dtype=dtype, std=gain * np.sqrt(2.0 / (fan_in + fan_out))
    )


def _he_scale(numerator: float, fan_in: int, negative_slope: float) -> float:
    r""":math:`\sqrt{c / ((1 + a^2)\,\text{fan\_in})}`; for a slope so large that
    :math:`a^2` would overflow, :math:`\sqrt{c/\text{fan\_in}} / a`, equal to the last bit."""
    if negative_slope < 1e100:
        return float(np.sqrt(numerator / ((1.0 + negative_slope**2) * fan_in)))
    return float(np.sqrt(numerator / fan_in)) / negative_slope


def he_uniform(
    fan_in: int,
    fan_out: int,
    *,
    rng: RngLike = None,
    dtype: DTypeLike = np.float64,
    negative_slope: float = 0.0,
) -> NDArray[Any]:
    r"""He et al. (2015): :math:`U(-a, a)`, :math:`a = \sqrt{6/((1+\alpha^2) n_\text{in})}`.

    Variance :math:`2/((1+\alpha^2) n_\text{in})`: it doubles Glorot's (for square layers)
    to make up for (leaky) ReLU zeroing half of its inputs; :math:`\alpha` is the
    negative slope (0 for ReLU).
    """
    _shape(fan_in, fan_out, dtype, "he_uniform")
    negative_slope = real(negative_slope, "negative_slope", "he_uniform", low=0.0)
    bound = _he_scale(6.0, fan_in, negative_slope)
    return uniform(fan_in, fan_out, rng=rng, dtype=dtype, bound=bound)


def he_normal(
    fan_in: int,
    fan_out: int,
    *,
    rng: RngLike = None,
    dtype: DTypeLike = np.float64,
    negative_slope: float = 0.0,
) -> NDArray[Any]:
    r""":math:`\mathcal N(0, 2/((1+\alpha^2) n_\text{in}))` (He et al., 2015)."""
    _shape(fan_in, fan_out, dtype, "he_normal")
    negative_slope = real(negative_slope, "negative_slope", "he_normal", low=0.0)
    std = _he_scale(2.0, fan_in, negative_slope)
    return normal(fan_in, fan_out, rng=rng, dtype=dtype, std=std)


def lecun_normal(
    fan_in: int, fan_out: int, *, rng: RngLike = None, dtype: DTypeLike = np.float64
) -> NDArray[Any]:
    r""":math:`\mathcal N(0, 1/n_\text{in})` (LeCun et al., 1998, "Efficient BackProp")."""
    _shape(fan_in, fan_out, dtype, "lecun_normal")
    return normal(fan_in, fan_out, rng=rng, dtype=dtype, std=np.sqrt(1.0 / fan_in))


INITIALIZERS: dict[str, Callable[..., NDArray[Any]]] = {
    "zeros": zeros,
    "normal": normal,
    "uniform": uniform,
    "xavier_uniform": xavier_uniform,
    "xavier_normal": xavier_normal,
    "glorot_uniform": xavier_uniform,
    "glorot_normal": xavier_normal,
    "he_uniform": he_uniform,
    "he_normal": he_normal,
    "kaiming_uniform": he_uniform,
    "kaiming_normal": he_normal,
    "lecun_normal": lecun_normal,
}


def get(init: str | Callable[..., NDArray[Any]]) -> Callable[..., NDArray[Any]]:
    """Look an initialiser up by name (or return a callable unchanged)."""
    if callable(init):
        return init
    if isinstance(init, str) and init in INITIALIZERS:
        return INITIALIZERS[init]
    raise ValueError(f"unknown init {init!r}; expected one of {sorted(INITIALIZERS)} or a function")
