r"""Gradient checkpointing: trade recomputation for memory (Griewank 1992; Chen et al. 2016).

Chapter 14 predicts and measures the memory and the recomputation it costs.

Backpropagation keeps, from the forward pass, whatever each layer's backward needs: a
network of :math:`n` layers holds :math:`n` layers' activations at the end of its forward
pass. :class:`Checkpoint` splits a network into segments and keeps only each segment's
*input*; the activations inside a segment are dropped as soon as the segment's forward is
done, and recomputed from its input when the backward pass reaches it. With :math:`n/k`
segments of :math:`k` layers, the memory held is about :math:`n/k` segment inputs plus one
segment's activations, :math:`k`; :math:`k = \sqrt n` makes both :math:`\sqrt n`, for the
price of one more forward pass.

The gradients are bit for bit those of the plain network: the recomputation runs the same
operations on the same numbers. Two kinds of state make that need care, and both are
handled:

- **randomness**: a :class:`~bplib.Dropout` must draw the same mask again. Before each
  segment's forward the state of every ``numpy.random.Generator`` held by one of its
  modules (an attribute, as ``Dropout.rng``) is saved; the recomputation starts from it,
  and the generators are then put back where they were, so the next draws are those the
  plain network would make. Randomness from anywhere else (the global ``np.random``)
  cannot be replayed: such a module does not belong in a checkpointed segment.
- **buffers**: a :class:`~bplib.BatchNorm1d` in training mode updates its running
  statistics at every forward; the recomputation would update them twice, so the buffers
  are saved before it and restored after it (and the outputs are unchanged: in training
  the batch's own statistics normalise).

What a module caches in ``forward`` (an attribute it sets to an array, or to a tuple or
list of arrays) is what is dropped; its parameters, buffers and other attributes stay.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._checks import any_array, describe, instance, positive_int
from .module import Module, Parameter, Sequential, submodules

__all__ = ["Checkpoint", "checkpoint_sequential"]


def _holds_arrays(value: object) -> bool:
    if isinstance(value, np.ndarray):
        return True
    return isinstance(value, tuple | list) and any(isinstance(v, np.ndarray) for v in value)


class Checkpoint(Module):
    r"""Run ``module`` keeping only each segment's input, recomputing the rest in backward.

    Chapter 14 measures its memory against the segment length, and checks its gradients.

    Parameters
    ----------
    module : Module
        The network to checkpoint. With ``segments=1``, the whole of it is one segment.
    segments : int
        Split a :class:`~bplib.Sequential` into this many segments of consecutive modules,
        as ``torch.utils.checkpoint.checkpoint_sequential`` does: each of the first
        ``segments - 1`` has ``len(module) // segments`` modules and the last the rest.
        Unlike PyTorch's, the last segment is checkpointed too, so the forward pass keeps
        nothing but the segments' inputs, and backward recomputes every segment once.

    The parameters and buffers are ``module``'s, under ``module``'s names: a
    ``Checkpoint(net)`` has the :meth:`state_dict` of ``net``, and the same optimiser
    serves both.

    Examples
    --------
    >>> import numpy as np, bplib
    >>> net = bplib.Sequential(*[bplib.Linear(4, 4, rng=i) for i in range(4)])
    >>> ck = bplib.checkpoint.Checkpoint(net, segments=2)
    >>> ck(np.ones((3, 4))).shape, list(ck.state_dict())[:2]
    ((3, 4), ['0.weight', '0.bias'])
    """

    def __init__(self, module: Module, segments: int = 1) -> None:
        where = "Checkpoint"
        instance(module, Module, "module", where, "a bplib Module")
        segments = positive_int(segments, "segments", where)
        if type(module) is Sequential:
            n = len(module)
            if not 1 <= segments <= n:
                raise ValueError(
                    f"{where}: segments must lie in 1..{n} for a Sequential of {n} modules, "
                    f"got {segments}"
                )
            size = n // segments
            starts = [i * size for i in range(segments)]
            self.bounds = [(a, b) for a, b in zip(starts, [*starts[1:], n], strict=True)]
        elif segments != 1:
            raise ValueError(
                f"{where}: segments={segments} needs a Sequential to split, got "
                f"{describe(module)}; checkpoint it whole (segments=1)"
            )
        else:
            self.bounds = [(0, 1)]
        self.module = module
        # per segment, from the last forward: its input and its generators' states
        self.saved: list[tuple[NDArray[Any], list[tuple[np.random.Generator, Any]]]] = []

    check_input = any_array  # the boundary (see Module): the modules check the rest

    def _segment(self, k: int) -> list[Module]:
        a, b = self.bounds[k]
        module = self.module
        return list(module.modules[a:b]) if type(module) is Sequential else [module]

    def forward(self, x: NDArray[Any]) -> NDArray[Any]:
        self.saved = []
        for k in range(len(self.bounds)):
            segment = self._segment(k)
            before = _attributes(segment)
            states = [(g, g.bit_generator.state) for g in _generators(segment)]
            kept = x.copy() if k == 0 else x  # the caller's array may change before backward
            for m in segment:
                x = m.forward(x)
            _drop_caches(segment, before)
            del before
            self.saved.append((kept, states))
        return x

    def backward(self, grad_out: NDArray[Any]) -> NDArray[Any]:
        for k in reversed(range(len(self.bounds))):
            grad_out = self._segment_backward(k, grad_out, to_input=True)
        return grad_out

    def backward_to_parameters(self, grad_out: NDArray[Any]) -> None:
        for k in reversed(range(len(self.bounds))):
            grad_out = self._segment_backward(k, grad_out, to_input=k > 0)

    def _segment_backward(self, k: int, grad: NDArray[Any], to_input: bool) -> NDArray[Any]:
        """Recompute segment ``k`` from its saved input (same random draws, buffers put
        back), run its backward, then drop the recomputed caches again."""
        segment = self._segment(k)
        x, states = self.saved[k]
        before = _attributes(segment)
        now = [(g, g.bit_generator.state) for g, _ in states]
        buffers = [
            (m, name, np.array(getattr(m, name), copy=True))
            for seg_module in segment
            for m in submodules(seg_module)
            for name in m._buffers
        ]
        for g, state in states:
            g.bit_generator.state = state
        for m in segment:
            x = m.forward(x)
        for m, name, value in buffers:
            np.copyto(getattr(m, name), value)
        for g, state in now:
            g.bit_generator.state = state
        first, *rest = segment
        for m in reversed(rest):
            grad = m.backward(grad)
        if to_input:
            grad = first.backward(grad)
        else:
            first.backward_to_parameters(grad)
        _drop_caches(segment, before)
        return grad

    def _named_parameters(self, prefix: str, visited: set[int]) -> Iterator[tuple[str, Parameter]]:
        """``module``'s parameters under ``module``'s names."""
        if id(self) in visited:
            return
        visited.add(id(self))
        yield from self.module._named_parameters(prefix, visited)

    def _named_buffers(self, prefix: str, visited: set[int]) -> Iterator[tuple[str, NDArray[Any]]]:
        """``module``'s buffers under ``module``'s names."""
        if id(self) in visited:
            return
        visited.add(id(self))
        yield from self.module._named_buffers(prefix, visited)

    def __repr__(self) -> str:
        return f"Checkpoint({self.module!r}, segments={len(self.bounds)})"


def checkpoint_sequential(seq: Sequential, segments: int) -> Checkpoint:
    """``Checkpoint(seq, segments)``: the name PyTorch gives to checkpointing a chain."""
    instance(seq, Sequential, "seq", "checkpoint_sequential", "a bplib Sequential")
    return Checkpoint(seq, segments)


def _attributes(segment: Sequence[Module]) -> list[tuple[Module, dict[str, Any]]]:
    """Every module of ``segment`` (each once) with a shallow copy of its attributes."""
    found = {id(m): m for top in segment for m in submodules(top)}
    return [(m, dict(vars(m))) for m in found.values()]


def _generators(segment: Sequence[Module]) -> list[np.random.Generator]:
    """The ``numpy.random.Generator`` attributes of the modules of ``segment``, each once."""
    found: dict[int, np.random.Generator] = {}
    for _, attributes in _attributes(segment):
        for value in attributes.values():
            if isinstance(value, np.random.Generator):
                found.setdefault(id(value), value)
    return list(found.values())


def _drop_caches(segment: Sequence[Module], before: list[tuple[Module, dict[str, Any]]]) -> None:
    """Delete what the forward pass just cached: every attribute holding arrays that it set
    or replaced (not a buffer, not ``_forward_output``, what the boundary records)."""
    for m, old in before:
        for name, value in list(vars(m).items()):
            if (
                name not in m._buffers
                and name != "_forward_output"
                and (name not in old or old[name] is not value)
                and _holds_arrays(value)
            ):
                delattr(m, name)
