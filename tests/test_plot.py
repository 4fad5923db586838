"""bplib.plot: each figure draws what it says on a headless (Agg) backend and returns its Axes."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import bplib
from bplib.autodiff import Tensor
from bplib.train import History

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from bplib import plot  # noqa: E402

from .helpers import as_matrix  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def two_runs():
    a = History(
        loss=[1.0, 0.5, 0.2],
        val_loss=[1.1, 0.6, 0.4],
        lr=[0.1] * 3,
        metrics={"accuracy": [0.5, 0.8, 0.9]},
        val_metrics={"accuracy": [0.5, 0.7, 0.8]},
    )
    b = History(loss=[0.9, 0.3], lr=[0.1] * 2, metrics={"accuracy": [0.6, 0.95]})
    return {"SGD": a, "Adam": b}


def test_loss_curves_draw_train_solid_and_validation_dashed_in_one_colour_per_run():
    ax = plot.loss_curves(two_runs(), metrics="loss")
    lines = [line for line in ax.get_lines() if len(line.get_xdata())]
    sgd_train, sgd_val, adam_train = lines
    assert sgd_val.get_linestyle() == "--" and sgd_train.get_linestyle() == "-"
    assert sgd_train.get_color() == sgd_val.get_color() != adam_train.get_color()
    np.testing.assert_array_equal(sgd_train.get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(sgd_val.get_ydata(), [1.1, 0.6, 0.4])
    np.testing.assert_array_equal(adam_train.get_ydata(), [0.9, 0.3])


def test_loss_curves_legend_names_the_runs_and_the_two_line_styles():
    ax = plot.loss_curves(two_runs(), metrics="loss")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["SGD", "Adam", "train", "validation"]


def test_loss_curves_of_a_metric_on_a_given_axes_with_log_scale():
    _, ax = plt.subplots()
    out = plot.loss_curves(two_runs()["SGD"], metrics="loss", ax=ax, log=True, title="run")
    assert out is ax
    assert [line.get_label() for line in ax.get_lines()] == ["train", "validation"]
    assert ax.get_yscale() == "log" and ax.get_title() == "run"


def test_loss_curves_default_to_one_panel_for_the_loss_and_one_per_metric():
    axes = plot.loss_curves(two_runs())
    assert [a.get_ylabel() for a in axes] == ["loss", "accuracy"]
    assert axes[1].get_legend() is None  # one legend, on the first panel
    assert axes[1].get_yscale() == "linear"
    np.testing.assert_array_equal(axes[1].get_lines()[0].get_ydata(), [0.5, 0.8, 0.9])


def test_loss_curves_need_one_axes_per_panel():
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match=r"needs 2 Axes for \['loss', 'accuracy'\], got 1"):
        plot.loss_curves(two_runs(), ax=ax)


def test_loss_curves_name_a_missing_metric():
    with pytest.raises(KeyError, match=r"history 'SGD' has no 'f1'"):
        plot.loss_curves(two_runs(), metrics="f1")


def test_loss_curves_refuse_something_that_is_not_a_history():
    with pytest.raises(TypeError, match="expected History objects"):
        plot.loss_curves({"run": [1.0, 0.5]})  # type: ignore[dict-item]


def test_decision_boundary_fills_the_class_regions_and_draws_the_points():
    # A fixed linear classifier: class 1 where x1 > 0.
    net = bplib.Linear(2, 2, rng=0)
    net.weight.data[:] = [[-1.0, 1.0], [0.0, 0.0]]
    X = np.array([[-1.0, 0.0], [1.0, 0.5], [0.5, -1.0]])
    y = np.array([0, 1, 1])
    ax = plot.decision_boundary(net, X, y, resolution=50, margin=0.5)
    assert len(ax.collections) >= 2  # the filled regions and the scatter
    assert ax.get_xlim() == (-1.5, 1.5)
    scatter = ax.collections[-1]
    assert len(scatter.get_offsets()) == 3


def test_decision_boundary_needs_two_features():
    net = bplib.Linear(3, 2, rng=0)
    with pytest.raises(ValueError, match=r"X must have shape \(batch >= 1, 2\), got \(4, 3\)"):
        plot.decision_boundary(net, np.zeros((4, 3)), np.zeros(4, dtype=np.int64))


def test_decision_boundary_needs_integer_labels():
    net = bplib.Linear(2, 2, rng=0)
    with pytest.raises(ValueError, match=r"integer labels of shape \(4,\), got dtype float64"):
        plot.decision_boundary(net, np.zeros((4, 2)), np.zeros(4))


def test_optimizer_paths_draw_each_path_over_the_contours():
    paths = {"GD": np.array([[1.0, 1.0], [0.5, 0.5], [0.0, 0.0]]), "Adam": np.zeros((4, 2))}
    ax = plot.optimizer_paths(
        lambda x, y: x**2 + 10 * y**2, paths, xlim=(-2, 2), ylim=(-1, 1), minimum=(0.0, 0.0)
    )
    labelled = {line.get_label(): line for line in ax.get_lines()}
    assert {"GD", "Adam", "minimum"} <= set(labelled)
    np.testing.assert_array_equal(labelled["GD"].get_xdata(), [1.0, 0.5, 0.0])
    assert ax.get_xlim() == (-2, 2)


def test_optimizer_paths_check_the_path_shape():
    with pytest.raises(
        ValueError, match=r"path 'GD' must have shape \(steps \+ 1, 2\), got \(3,\)"
    ):
        plot.optimizer_paths(lambda x, y: x + y, {"GD": np.zeros(3)}, xlim=(0, 1), ylim=(0, 1))


def test_confusion_matrix_annotates_counts_or_row_fractions():
    y_true, y_pred = np.array([0, 0, 1, 1, 1]), np.array([0, 1, 1, 1, 0])
    ax = plot.confusion_matrix(y_true, y_pred, labels=["cat", "dog"])
    assert [t.get_text() for t in ax.texts] == ["1", "1", "1", "2"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cat", "dog"]
    ax = plot.confusion_matrix(y_true, y_pred, normalize=True)
    assert [t.get_text() for t in ax.texts] == ["0.50", "0.50", "0.33", "0.67"]


def test_confusion_matrix_accepts_a_matrix_of_counts():
    C = np.array([[3, 1], [0, 2]])
    ax = plot.confusion_matrix(C)
    assert [t.get_text() for t in ax.texts] == ["3", "1", "0", "2"]


def test_confusion_matrix_refuses_a_matrix_that_is_not_counts():
    with pytest.raises(ValueError, match=r"square matrix of counts .* got dtype float64"):
        plot.confusion_matrix(np.eye(2))


def test_confusion_matrix_checks_the_number_of_labels():
    with pytest.raises(ValueError, match="got 3 labels for 2 classes"):
        plot.confusion_matrix(np.array([0, 1]), np.array([1, 0]), labels=["a", "b", "c"])


def test_importing_bplib_plot_does_not_import_matplotlib():
    code = "import sys, bplib.plot; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_draw_graph_draws_one_box_per_node_and_one_arrow_per_edge():
    x, w, b = Tensor(0.5, "x"), Tensor(-1.0, "w"), Tensor(0.25, "b")
    o = (x * w + b).tanh()
    o.backward()
    ax = plot.draw_graph(o)
    boxes = [t.get_text() for t in ax.texts if type(t).__name__ == "Text"]
    arrows = [t for t in ax.texts if type(t).__name__ == "Annotation"]
    assert len(boxes) == 6  # x, w, x*w, b, +, tanh
    assert len(arrows) == 5  # x->*, w->*, *->+, b->+, +->tanh
    dw = 0.5 * (1 - np.tanh(-0.25) ** 2)  # do/dw = x tanh'(n)
    assert f"w\ndata -1.0000\ngrad {dw:.4f}" in boxes


def test_draw_graph_refuses_a_non_tensor():
    with pytest.raises(TypeError, match="draw_graph expected a Tensor, got ndarray"):
        plot.draw_graph(np.ones(2))


def mazur_network():
    """The 2-2-2 sigmoid network of chapter 3's worked example (Mazur 2015)."""
    m = bplib.Sequential(
        bplib.Linear(2, 2, rng=0), bplib.Sigmoid(), bplib.Linear(2, 2, rng=0), bplib.Sigmoid()
    )
    m[0].weight.data[:] = [[0.15, 0.25], [0.2, 0.3]]
    m[0].bias.data[:] = 0.35
    m[2].weight.data[:] = [[0.4, 0.5], [0.45, 0.55]]
    m[2].bias.data[:] = 0.6
    return m, np.array([[0.05, 0.1]]), np.array([[0.01, 0.99]])


def test_network_diagram_shows_activations_deltas_and_weights_of_the_worked_example():
    m, X, T = mazur_network()
    out = m(X)
    ax = plot.network_diagram(m, X, out - T)
    texts = {t.get_text() for t in ax.texts}
    # published values (Mazur 2015): out_h1 = 0.593269992, out_o1 = 0.75136507,
    # delta_o1 = dE/dnet_o1 = 0.138498562; delta_h1 = 0.00877135 (its dE/dw1 over i1)
    assert {"0.5933", "0.7514", "0.1385", "0.0088"} <= texts
    assert {"0.15", "0.55"} <= texts  # weights on the edges
    assert "layer 2: Sigmoid (output)" in texts


def test_network_diagram_refuses_a_batch_of_more_than_one_example():
    m, X, T = mazur_network()
    with pytest.raises(ValueError, match="one example"):
        plot.network_diagram(m, np.vstack([X, X]), np.vstack([T, T]))


def test_network_diagram_refuses_a_model_that_is_not_linear_layers_and_activations():
    m = bplib.Sequential(bplib.Tanh(), bplib.Linear(2, 1, rng=0))
    with pytest.raises(ValueError, match="Linear layers"):
        plot.network_diagram(m, np.zeros((1, 2)), np.zeros((1, 1)))


def test_table_is_markdown_for_the_book_and_aligned_text_for_the_tests():
    table = plot.Table(["name", "slope"], [["sigmoid", "0.25"], ["ReLU", "1.0"]])
    assert table._repr_markdown_().splitlines() == [
        "| name | slope |",
        "| --- | ---: |",
        "| sigmoid | 0.25 |",
        "| ReLU | 1.0 |",
    ]
    assert repr(table).splitlines() == [
        "name     slope",
        "-------  -----",
        "sigmoid   0.25",
        "ReLU       1.0",
    ]


def test_table_refuses_a_row_with_the_wrong_number_of_cells():
    with pytest.raises(ValueError, match="row 1 of the table has 1 cells, expected 2"):
        plot.Table(["a", "b"], [["1", "2"], ["3"]])


def test_plots_refuse_nan_complex_and_name_the_argument():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    model = bplib.Sequential(bplib.Linear(2, 2, rng=0), bplib.Sigmoid())
    with pytest.raises(ValueError, match="network_diagram: x must be finite, got 1 NaN"):
        bplib.plot.network_diagram(model, np.array([[np.nan, 1.0]]), np.ones((1, 2)))
    with pytest.raises(TypeError, match="grad_out must hold real numbers, got dtype complex"):
        bplib.plot.network_diagram(model, np.ones((1, 2)), np.ones((1, 2), complex))
    with pytest.raises(TypeError, match="decision_boundary: X must be a plain numpy array"):
        bplib.plot.decision_boundary(model, as_matrix(np.ones((3, 2))), np.zeros(3, int))
    with pytest.raises(ValueError, match="decision_boundary: y must be integer labels"):
        bplib.plot.decision_boundary(model, np.ones((3, 2)), np.zeros(3))


def test_optimizer_paths_refuses_a_nan_path():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    with pytest.raises(ValueError, match=r"optimizer_paths: path 'sgd' must be finite, got 1 NaN"):
        bplib.plot.optimizer_paths(
            lambda x, y: x**2 + y**2,
            {"sgd": np.array([[1.0, 1.0], [np.nan, 0.5]])},
            xlim=(-2.0, 2.0),
            ylim=(-2.0, 2.0),
        )
