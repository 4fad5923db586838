r"""All of bplib's drawing: a small network's forward and backward pass (chapter 3), loss
curves, decision boundaries, optimiser paths on a 2-D loss surface, confusion matrices
(chapters 6 and 7) and computational graphs (chapter 11); and :class:`Table`, a table of
numbers that a notebook and the book render as a table (chapter 1).

matplotlib is imported inside each function, so ``import bplib`` (and ``import
bplib.plot``) needs only numpy. Every function draws on the ``ax`` it is given, or on a new
figure, and returns the Axes, so figures can be composed with ``plt.subplots``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from . import metrics
from ._checks import (
    contour_levels,
    describe,
    instance,
    integer,
    interval,
    real,
    real_array,
    real_matrix,
)
from ._optional import require
from .layers import Linear
from .module import Module, Sequential
from .train import History, predict_classes

if TYPE_CHECKING:
    from .autodiff import Tensor

__all__ = [
    "Table",
    "confusion_matrix",
    "decision_boundary",
    "draw_graph",
    "loss_curves",
    "network_diagram",
    "optimizer_paths",
]


class Table:
    """Rows of already formatted cells, shown as a table.

    Chapter 1. In a notebook and in the HTML book (``_repr_markdown_``) it is a Markdown
    table; as plain text (``repr``, and what the book's tests compare) it is the same table
    in aligned columns. Columns whose cells all look like numbers are right-aligned.

    Parameters
    ----------
    headers : sequence of str
        One per column.
    rows : sequence of sequences
        The cells; each is shown as ``str(cell)``, so format numbers before passing them
        (``f"{x:.4f}"``), which also keeps the last bits of floating point out of sight.

    Examples
    --------
    >>> from bplib.plot import Table
    >>> Table(["z", "slope"], [["0.0", "0.25"], ["5.0", "0.0066"]])
      z   slope
    ---  ------
    0.0    0.25
    5.0  0.0066
    """

    def __init__(self, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        self.headers = [str(h) for h in headers]
        self.rows = [[str(c) for c in row] for row in rows]
        for i, row in enumerate(self.rows):
            if len(row) != len(self.headers):
                raise ValueError(
                    f"row {i} of the table has {len(row)} cells, expected "
                    f"{len(self.headers)} (one per header)"
                )

    def _numeric(self, col: int) -> bool:
        def number(text: str) -> bool:
            try:
                float(text.replace(",", "").rstrip("%"))
            except ValueError:
                return text in ("-", "")
            return True

        return bool(self.rows) and all(number(row[col]) for row in self.rows)

    def __repr__(self) -> str:
        columns = list(zip(self.headers, *self.rows, strict=True))
        widths = [max(len(c) for c in col) for col in columns]
        right = [self._numeric(i) for i in range(len(widths))]

        def line(cells: Sequence[str]) -> str:
            return "  ".join(
                c.rjust(w) if r else c.ljust(w)
                for c, w, r in zip(cells, widths, right, strict=True)
            ).rstrip()

        rule = "  ".join("-" * w for w in widths)
        return "\n".join([line(self.headers), rule, *(line(row) for row in self.rows)])

    def _repr_markdown_(self) -> str:
        def line(cells: Sequence[str]) -> str:
            return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

        rule = "|" + "".join(
            " ---: |" if self._numeric(i) else " --- |" for i in range(len(self.headers))
        )
        return "\n".join([line(self.headers), rule, *(line(row) for row in self.rows)])


def _axes(ax: Any, figsize: tuple[float, float]) -> Any:
    if ax is not None:
        return ax
    plt = require("matplotlib.pyplot", "bplib.plot")

    _, ax = plt.subplots(figsize=figsize)
    return ax


def loss_curves(
    histories: History | Mapping[str, History],
    *,
    metrics: str | Sequence[str] | None = None,
    ax: Any = None,
    log: bool = False,
    title: str | None = None,
) -> Any:
    """Training (solid) and validation (dashed) curves of one or several training runs.

    Parameters
    ----------
    histories : History or dict of name to History
        What :func:`bplib.train.fit` returned; a dict draws one colour per run, labelled by
        its name (e.g. one per optimiser). Training curves are solid, validation curves
        dashed; the legend is on the first panel.
    metrics : str, sequence of str, or None
        What to draw, one panel each: ``"loss"`` or a recorded metric such as
        ``"accuracy"``. ``None`` (default) draws the loss and then every metric the first
        history recorded, side by side.
    ax : matplotlib Axes or sequence of Axes, optional
        One per panel; by default a new figure with the panels in a row.
    log : bool
        Logarithmic y axis for the loss panel (for losses that fall by orders of magnitude).
    title : str, optional
        Title of the figure (of the panel, when there is one).

    Returns
    -------
    matplotlib Axes, or a list of Axes when there are several panels
    """
    if not isinstance(histories, History | Mapping):
        raise TypeError(
            "loss_curves: histories must be a History (what fit returns) or a dict of name to "
            f"History, got {describe(histories)}"
        )
    runs = {"": histories} if isinstance(histories, History) else dict(histories)
    if not runs:
        raise ValueError("loss_curves got no histories to plot")
    for name, h in runs.items():
        if not isinstance(h, History):
            raise TypeError(
                f"loss_curves expected History objects (what fit returns), got "
                f"{type(h).__name__} for {name!r}"
            )
    if metrics is None:
        names = ["loss", *next(iter(runs.values())).metrics]
    else:
        names = [metrics] if isinstance(metrics, str) else list(metrics)
    for name, h in runs.items():
        series = h.as_dict()
        for metric in names:
            if metric not in series:
                raise KeyError(
                    f"loss_curves: history {name!r} has no {metric!r}; it has {sorted(series)}"
                )
    if ax is None:
        plt = require("matplotlib.pyplot", "bplib.plot")

        fig, grid = plt.subplots(1, len(names), figsize=(5.0 * len(names), 3.6), squeeze=False)
        axes: list[Any] = list(grid[0])
        if title and len(names) > 1:
            fig.suptitle(title)
        elif title:
            axes[0].set_title(title)
    else:
        axes = list(ax) if isinstance(ax, Sequence | np.ndarray) else [ax]
        if len(axes) != len(names):
            raise ValueError(f"loss_curves needs {len(names)} Axes for {names}, got {len(axes)}")
        if title:
            axes[0].set_title(title)
    single = list(runs) == [""]
    any_validation = any(h.val_loss for h in runs.values())
    for panel, metric in zip(axes, names, strict=True):
        for i, (name, h) in enumerate(runs.items()):
            series = h.as_dict()
            epochs = np.arange(1, h.epochs + 1)
            colour = f"C{i % 10}"
            panel.plot(epochs, series[metric], color=colour, label="train" if single else name)
            if f"val_{metric}" in series:
                label = "validation" if single else "_nolegend_"
                panel.plot(epochs, series[f"val_{metric}"], "--", color=colour, label=label)
        panel.set_xlabel("epoch")
        panel.set_ylabel(metric)
        if log and metric == "loss":
            panel.set_yscale("log")
    if not single and any_validation:  # one colour per run; the line style tells the split
        axes[0].plot([], [], "-", color="0.3", label="train")
        axes[0].plot([], [], "--", color="0.3", label="validation")
    axes[0].legend(frameon=False, fontsize="small")
    return axes[0] if len(axes) == 1 else axes


def decision_boundary(
    model: Module,
    X: NDArray[Any],
    y: NDArray[Any],
    *,
    ax: Any = None,
    resolution: int = 200,
    margin: float = 0.25,
    title: str | None = None,
) -> Any:
    """The regions a 2-D classifier assigns to each class, with the data on top.

    The plane around ``X`` (padded by ``margin``) is sampled on a ``resolution`` x
    ``resolution`` grid, each grid point is classified with
    :func:`bplib.train.predict_classes`, and the regions are filled in the colour of
    their class; the examples are drawn in the same colours, edged in black.

    Returns
    -------
    matplotlib Axes
    """
    instance(model, Module, "model", "decision_boundary", "a bplib Module")
    resolution = integer(resolution, "resolution", "decision_boundary", low=2)
    margin = real(margin, "margin", "decision_boundary", low=0.0)
    X = real_matrix(X, "X", "decision_boundary", 2)
    if not isinstance(y, np.ndarray) or y.dtype.kind not in "iu" or y.shape != (len(X),):
        raise ValueError(
            f"decision_boundary: y must be integer labels of shape ({len(X)},), got {describe(y)}"
        )
    ListedColormap = require("matplotlib.colors", "bplib.plot").ListedColormap

    dtype = next((p.data.dtype for p in model.parameters()), np.dtype(np.float64))
    lo, hi = X.min(axis=0) - margin, X.max(axis=0) + margin
    gx, gy = np.meshgrid(
        np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)
    )
    grid = np.column_stack([gx.ravel(), gy.ravel()]).astype(dtype)
    regions = predict_classes(model, grid).reshape(gx.shape)
    k = int(max(regions.max(), y.max())) + 1
    colours = [f"C{i}" for i in range(k)]
    ax = _axes(ax, (4.5, 4.5))
    ax.contourf(
        gx, gy, regions, levels=np.arange(k + 1) - 0.5, cmap=ListedColormap(colours), alpha=0.3
    )
    ax.scatter(X[:, 0], X[:, 1], c=[colours[c] for c in y], s=12, edgecolors="k", linewidths=0.4)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    return ax


def optimizer_paths(
    f: Callable[[NDArray[Any], NDArray[Any]], NDArray[Any]],
    paths: Mapping[str, NDArray[Any]],
    *,
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    levels: int | Sequence[float] = 20,
    ax: Any = None,
    minimum: tuple[float, float] | None = None,
    resolution: int = 200,
    title: str | None = None,
) -> Any:
    """Optimiser trajectories drawn over the contours of a 2-D loss surface (chapter 6).

    Parameters
    ----------
    f : function
        The surface, vectorised: ``f(x, y)`` takes two arrays of the same shape and
        returns the loss at each point.
    paths : dict of name to array of shape (steps + 1, 2)
        The points each optimiser visited, starting point first.
    xlim, ylim : (float, float)
        The window drawn.
    levels : int or sequence of float
        Passed to ``contour``; for a surface spanning orders of magnitude pass e.g.
        ``np.geomspace(...)``.
    minimum : (float, float), optional
        Marked with a star.

    Returns
    -------
    matplotlib Axes
    """
    where = "optimizer_paths"
    if not callable(f):
        raise TypeError(f"{where}: f must be a function f(x, y) of two arrays, got {describe(f)}")
    instance(paths, Mapping, "paths", where, "a dict of name to array of shape (steps + 1, 2)")
    xlim = interval(xlim, "xlim", where)
    ylim = interval(ylim, "ylim", where)
    checked_levels = contour_levels(levels, where)
    resolution = integer(resolution, "resolution", where, low=2)
    if minimum is not None:
        if not isinstance(minimum, tuple | list | np.ndarray) or len(minimum) != 2:
            raise TypeError(f"{where}: minimum must be a point (x, y), got {describe(minimum)}")
        minimum = (real(minimum[0], "minimum[0]", where), real(minimum[1], "minimum[1]", where))
    checked = {}
    for name, path in paths.items():
        p = real_array(path, f"path {name!r}", "optimizer_paths")
        if p.ndim != 2 or p.shape[1] != 2 or len(p) == 0:
            raise ValueError(
                f"optimizer_paths: path {name!r} must have shape (steps + 1, 2), got {p.shape}"
            )
        checked[name] = p
    gx, gy = np.meshgrid(np.linspace(*xlim, resolution), np.linspace(*ylim, resolution))
    surface = f(gx, gy)
    if not isinstance(surface, np.ndarray) or surface.shape != gx.shape:
        raise ValueError(
            f"{where}: f(x, y) must return an array of the shape of x and y {gx.shape} (f must "
            f"be vectorised, as x**2 + y**2 is), got {describe(surface)}"
        )
    if surface.dtype.kind not in "biuf" or not np.isfinite(surface).any():
        raise ValueError(
            f"{where}: f(x, y) must return real numbers, finite somewhere in the window, got "
            f"{describe(surface)}" + (" with no finite value" if surface.dtype.kind == "f" else "")
        )
    ax = _axes(ax, (6.0, 4.5))
    ax.contour(gx, gy, surface, levels=checked_levels, colors="0.75", linewidths=0.7)
    for i, (name, p) in enumerate(checked.items()):
        colour = f"C{i % 10}"
        ax.plot(
            p[:, 0], p[:, 1], "-", color=colour, marker=".", markersize=3, linewidth=1.2, label=name
        )
    for p in checked.values():  # the starting points, in black
        ax.plot(p[0, 0], p[0, 1], "o", color="k", markersize=5)
    if minimum is not None:
        ax.plot(*minimum, "*", color="k", markersize=11, label="minimum")
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel(r"$\theta_1$")
    ax.set_ylabel(r"$\theta_2$")
    if title:
        ax.set_title(title)
    if checked:
        ax.legend(frameon=False, fontsize="small")
    return ax


def confusion_matrix(
    y_true: NDArray[Any],
    y_pred: NDArray[Any] | None = None,
    *,
    n_classes: int | None = None,
    labels: Sequence[str] | None = None,
    normalize: bool = False,
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """The confusion matrix (rows: true class, columns: predicted class) as a heat map.

    Call it with the labels, ``confusion_matrix(y_true, y_pred)`` (the counts come from
    :func:`bplib.metrics.confusion_matrix`), or with a matrix of counts already computed,
    ``confusion_matrix(C)``. Each cell is annotated with its count, or with its fraction of
    the true class when ``normalize=True`` (then each row sums to 1).

    Returns
    -------
    matplotlib Axes
    """
    if y_pred is None:
        C = y_true
        if (
            not isinstance(C, np.ndarray)
            or C.dtype.kind not in "iu"
            or C.ndim != 2
            or C.shape[0] != C.shape[1]
            or (C.size and C.min() < 0)
        ):
            raise ValueError(
                "confusion_matrix called with one argument expects a square matrix of counts "
                f"(non-negative integers), got {describe(C)}; or pass (y_true, y_pred)"
            )
    else:
        C = metrics.confusion_matrix(y_true, y_pred, n_classes)
    k = len(C)
    if labels is not None and len(labels) != k:
        raise ValueError(f"confusion_matrix got {len(labels)} labels for {k} classes")
    values: NDArray[Any] = C / np.maximum(C.sum(axis=1, keepdims=True), 1) if normalize else C
    ax = _axes(ax, (0.45 * k + 2.0, 0.45 * k + 1.6))
    ax.imshow(values, cmap="Blues", vmin=0)
    vmax = float(values.max()) if values.size else 0.0
    for i in range(k):
        for j in range(k):
            v = values[i, j]
            text = f"{v:.2f}" if normalize else f"{v:d}"
            colour = "white" if v > vmax / 2 else "black"
            ax.text(j, i, text, ha="center", va="center", color=colour, fontsize="small")
    ticks = np.arange(k)
    names = list(labels) if labels is not None else [str(i) for i in ticks]
    ax.set_xticks(ticks, names)
    ax.set_yticks(ticks, names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    if title:
        ax.set_title(title)
    return ax


def _node_text(t: Any) -> str:
    """The text of a node's box: its label and operation, then its value and gradient."""
    kind = "const" if not t.requires_grad else ""
    name = " ".join(part for part in (t.label, f"[{t.op}]" if t.op else kind) if part)
    if t.size == 1:
        return f"{name}\ndata {t.item():.4f}\ngrad {float(t.grad.reshape(())):.4f}"
    return (
        f"{name} {t.shape}\n|data| {np.linalg.norm(t.data):.4f}\n"
        f"|grad| {np.linalg.norm(t.grad):.4f}"
    )


def draw_graph(root: Tensor, ax: Any = None, *, show_constants: bool = True) -> Any:
    """Draw the computational graph of ``root`` with each node's value and gradient.

    Chapter 11. Leaves are on the left, ``root`` on the right; an arrow goes from each parent to the
    node computed from it, whose box names its operation in brackets. One-element tensors
    show their value and gradient, larger ones their shape and the norms of both. Uses
    matplotlib only (no graphviz).

    Parameters
    ----------
    root : Tensor
        The output (usually the loss), after or before ``root.backward()``.
    ax : matplotlib Axes, optional
        Where to draw; a new figure sized to the graph by default.
    show_constants : bool
        Also draw the constants (numbers and arrays that need no gradient).

    Returns
    -------
    matplotlib.axes.Axes
    """
    plt = require("matplotlib.pyplot", "bplib.plot.draw_graph")

    from .autodiff import Tensor, topological_order

    if not isinstance(root, Tensor):
        raise TypeError(f"draw_graph expected a Tensor, got {type(root).__name__}")
    nodes = topological_order(root, constants=show_constants)  # parents before children
    seen = {id(node) for node in nodes}
    # column = longest distance to the root, counted from the right; rows in visiting order
    dist = {id(root): 0}
    for node in reversed(nodes):
        for p in node.parents:
            if id(p) in seen:
                dist[id(p)] = max(dist.get(id(p), 0), dist[id(node)] + 1)
    n_cols = max(dist.values()) + 1
    columns: dict[int, list[Tensor]] = {}
    for node in nodes:
        columns.setdefault(n_cols - 1 - dist[id(node)], []).append(node)
    n_rows = max(len(c) for c in columns.values())
    if ax is None:
        _, ax = plt.subplots(figsize=(1.9 * n_cols + 0.4, 0.95 * n_rows + 0.4))
    ax.set_xlim(-0.5, n_cols - 0.5)
    ax.set_ylim(-0.7, n_rows - 0.3)
    ax.axis("off")
    boxes = {}
    for col, members in columns.items():
        for row, node in enumerate(members):
            y = (n_rows - 1) / 2 + (len(members) - 1) / 2 - row
            color = "#dbe9f6" if not node.parents else "#fde8c8"
            if not node.requires_grad:
                color = "#eeeeee"
            boxes[id(node)] = ax.text(
                col, y, _node_text(node), ha="center", va="center", fontsize=8, family="monospace",
                bbox={"boxstyle": "round,pad=0.4", "fc": color, "ec": "0.4"},
            )  # fmt: skip
    for node in nodes:
        for p in node.parents:
            if id(p) in boxes:
                ax.annotate(
                    "", xy=(0, 0.5), xycoords=boxes[id(node)], xytext=(1, 0.5),
                    textcoords=boxes[id(p)], arrowprops={"arrowstyle": "->", "color": "0.35"},
                )  # fmt: skip
    return ax


def network_diagram(
    model: Sequential,
    x: NDArray[Any],
    grad_out: NDArray[Any],
    *,
    ax: Any = None,
    digits: int = 4,
) -> Any:
    r"""One example's forward and backward pass through a small dense network, on one picture.

    Chapter 3. Each column is a layer of units. Every unit shows its activation
    :math:`a` (blue, above) from the forward pass and, except the inputs, its error signal
    :math:`\delta = \partial L / \partial z` (red, below) from the backward pass; each
    edge is labelled with its weight :math:`w_{jk}`. The gradient of an edge's weight is the
    blue number at its start times the red number at its end, (BP4) of the matrix form of backpropagation.

    ``model.backward`` is called once, so the parameters' ``.grad`` afterwards hold this
    example's gradient added to whatever they held before (call ``zero_grad()`` first).

    Parameters
    ----------
    model : Sequential
        ``Linear`` layers, each optionally followed by one elementwise activation module.
    x : ndarray of shape (1, in_features)
        The single example.
    grad_out : ndarray of shape (1, out_features)
        :math:`\partial L / \partial \hat y` at the model's output for this example (for
        :math:`L = \frac12\sum_k (\hat y_k - y_k)^2`, it is :math:`\hat y - y`).
    ax : matplotlib Axes, optional
    digits : int
        Decimal places of the numbers drawn.

    Returns
    -------
    matplotlib Axes
    """
    instance(model, Sequential, "model", "network_diagram", "a bplib.Sequential")
    modules = list(model)
    linear_at = [i for i, m in enumerate(modules) if isinstance(m, Linear)]
    if (
        not linear_at
        or linear_at[0] != 0
        or any(
            b - a not in (1, 2)
            for a, b in zip(linear_at, [*linear_at[1:], len(modules)], strict=True)
        )
    ):
        raise ValueError(
            "model must be Linear layers, each followed by at most one activation; got "
            + ", ".join(type(m).__name__ for m in modules)
        )
    x = real_array(x, "x", "network_diagram")
    if x.ndim != 2 or x.shape[0] != 1:
        raise ValueError(f"x must hold one example, shape (1, in_features); got shape {x.shape}")

    # forward, keeping each layer's output activation; backward, keeping each delta
    activations, out = [x[0]], x
    for i, m in enumerate(modules):
        out = m.forward(out)
        if i + 1 == len(modules) or isinstance(modules[i + 1], Linear):
            activations.append(out[0])
    grad = real_array(grad_out, "grad_out", "network_diagram")
    if grad.shape != out.shape:
        raise ValueError(f"grad_out must have the output's shape {out.shape}, got {grad.shape}")
    deltas: list[NDArray[Any]] = []
    for m in reversed(modules):
        if isinstance(m, Linear):
            deltas.insert(0, grad[0])  # dL/dZ of this layer: what its backward receives
        grad = m.backward(grad)
    layers = [m for m in modules if isinstance(m, Linear)]
    names = ["input"] + [
        f"layer {n + 1}: "
        + (
            type(modules[i + 1]).__name__
            if i + 1 < len(modules) and not isinstance(modules[i + 1], Linear)
            else "Linear"
        )
        for n, i in enumerate(linear_at)
    ]
    names[-1] += " (output)"

    widths = [a.size for a in activations]
    ax = _axes(ax, (2.6 * len(widths) + 1.0, 1.3 * max(widths) + 1.4))

    def y_of(n: int, j: int) -> float:
        return (n - 1) / 2 - j  # units centred on 0, top to bottom

    for col, (layer, n_in, n_out) in enumerate(zip(layers, widths, widths[1:], strict=False)):
        for j in range(n_in):
            for k in range(n_out):
                start, end = (col, y_of(n_in, j)), (col + 1, y_of(n_out, k))
                ax.plot(*zip(start, end, strict=True), color="0.7", lw=1, zorder=1)
                t = 0.25  # the weight's label, a quarter of the way along its edge
                ax.text(
                    start[0] + t * (end[0] - start[0]),
                    start[1] + t * (end[1] - start[1]),
                    f"{layer.weight.data[j, k]:.{digits}g}",
                    fontsize=7,
                    color="0.35",
                    ha="center",
                    va="center",
                    bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none"),
                    zorder=2,
                )
    for col, a in enumerate(activations):
        for j, value in enumerate(a):
            y = y_of(a.size, j)
            ax.scatter([col], [y], s=900, color="#fff4d6" if col else "0.93", ec="0.3", zorder=3)
            ax.text(
                col,
                y + 0.3,
                f"{value:.{digits}f}",
                color="tab:blue",
                ha="center",
                va="bottom",
                fontsize=8,
                zorder=4,
            )
            if col:
                ax.text(
                    col,
                    y - 0.3,
                    f"{deltas[col - 1][j]:.{digits}f}",
                    color="tab:red",
                    ha="center",
                    va="top",
                    fontsize=8,
                    zorder=4,
                )
        ax.text(col, (max(widths) - 1) / 2 + 0.85, names[col], ha="center", fontsize=9)
    ax.text(
        len(widths) - 0.5,
        -(max(widths) - 1) / 2 - 0.9,
        r"blue: activation $a$   red: $\delta = \partial L/\partial z$   grey: weight",
        ha="right",
        fontsize=8,
        color="0.3",
    )
    ax.set_xlim(-0.5, len(widths) - 0.5)
    ax.set_ylim(-(max(widths) - 1) / 2 - 1.1, (max(widths) - 1) / 2 + 1.1)
    ax.axis("off")
    return ax
