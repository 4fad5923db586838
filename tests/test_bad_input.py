"""Bad input that used to pass silently or reach numpy, matplotlib or mpmath (issue 27,
"the rest of the bad-input probe"): each case expects a bplib message naming the argument
and what was given, raised before any state changes."""

from __future__ import annotations

import numpy as np
import pytest

from bplib import (
    Linear,
    MSELoss,
    Sequential,
    experiments,
    fit,
    landscape,
    metrics,
    plot,
    predict,
    symbolic,
)
from bplib.autodiff import Tensor, topological_order
from bplib.optim import SGD
from bplib.utils import parameters_to_vector


def _leaf() -> Tensor:
    return Tensor([1.0, 2.0])


# ----------------------------------------------------------------------------- autodiff
@pytest.mark.parametrize(
    ("data", "shown"), [(None, "None"), ("junk", "str 'junk'"), ([1.0], "list")]
)
def test_from_op_refuses_data_that_is_not_an_array(data: object, shown: str) -> None:
    with pytest.raises(
        TypeError, match=rf"from_op\('f'\): data must be a numpy array .*got {shown}"
    ):
        Tensor.from_op(data, (_leaf(),), lambda g: (g,), "f")


def test_from_op_refuses_non_numeric_data() -> None:
    with pytest.raises(TypeError, match=r"data must hold real numbers, got dtype <U1"):
        Tensor.from_op(np.array(["a"]), (_leaf(),), lambda g: (g,), "f")


@pytest.mark.parametrize(("vjp", "shown"), [(None, "None"), ("junk", "str 'junk'")])
def test_from_op_refuses_a_vjp_that_is_not_callable(vjp: object, shown: str) -> None:
    with pytest.raises(TypeError, match=rf"from_op\('f'\): vjp must be a function.*got {shown}"):
        Tensor.from_op(np.ones(2), (_leaf(),), vjp, "f")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("parents", "match"),
    [
        (None, r"parents must be a sequence of Tensors \(e.g. \(a, b\)\), got None"),
        ([np.ones(2)], r"parents\[0\] must be a Tensor, got dtype float64, shape \(2,\)"),
    ],
)
def test_from_op_refuses_parents_that_are_not_tensors(parents: object, match: str) -> None:
    with pytest.raises(TypeError, match=match):
        Tensor.from_op(np.ones(2), parents, lambda g: (g,), "f")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("vjp", "kind", "match"),
    [
        (
            lambda g: (g, g),
            ValueError,
            r"VJP of 'f' must return one gradient per parent \(1\), got 2",
        ),
        (lambda g: (), ValueError, r"one gradient per parent \(1\), got 0"),
        (lambda g: None, TypeError, r"VJP of 'f' must return a sequence of gradients.*got None"),
        (lambda g: ("junk",), TypeError, r"must return numpy arrays \(or None\), got str 'junk'"),
    ],
)
def test_backward_refuses_a_vjp_with_the_wrong_gradients(vjp, kind, match) -> None:  # type: ignore[no-untyped-def]
    a = _leaf()
    out = Tensor.from_op(a.data * 2, (a,), vjp, "f")
    with pytest.raises(kind, match=match):
        out.sum().backward()
    assert not a.grad.any()  # nothing was accumulated


def test_topological_order_refuses_a_root_that_is_not_a_tensor() -> None:
    with pytest.raises(TypeError, match=r"topological_order: root must be a Tensor, got None"):
        topological_order(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"root must be a Tensor, got dtype float64"):
        topological_order(np.zeros(2))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("axes", "shown"), [(("a", "b"), "str 'a'"), ((0.0, 1.0), "0.0"), ((None,), "None")]
)
def test_transpose_refuses_axes_that_are_not_integers(axes: tuple, shown: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(TypeError, match=rf"transpose: axes must be integers.*got {shown}"):
        Tensor(np.zeros((2, 3))).transpose(*axes)


def test_transpose_takes_the_axes_as_one_tuple_too() -> None:
    t = Tensor(np.arange(6.0).reshape(2, 3))
    assert np.array_equal(t.transpose((1, 0)).data, t.data.T)


@pytest.mark.parametrize(
    ("shape", "shown"),
    [(("a",), "str 'a'"), ((None,), "None"), ((2.0, 3.0), "2.0"), (((3, "a"),), "str 'a'")],
)
def test_reshape_refuses_a_shape_that_is_not_integers(shape: tuple, shown: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(TypeError, match=rf"reshape: shape must be integers.*got {shown}"):
        Tensor(np.zeros((2, 3))).reshape(*shape)


def test_reshape_takes_a_numpy_integer_and_a_list() -> None:
    t = Tensor(np.arange(6.0).reshape(2, 3))
    assert t.reshape(np.int64(6)).shape == (6,)
    assert t.reshape([3, 2]).shape == (3, 2)


# ------------------------------------------------------------------------------ layers
@pytest.mark.parametrize(("bias", "shown"), [("False", "str 'False'"), (None, "None"), (0, "0")])
def test_linear_refuses_a_bias_that_is_not_a_bool(bias: object, shown: str) -> None:
    with pytest.raises(TypeError, match=rf"Linear: bias must be True or False, got {shown}"):
        Linear(2, 3, bias=bias)  # type: ignore[arg-type]


def test_linear_takes_a_numpy_bool_bias() -> None:
    assert Linear(2, 3, bias=np.bool_(False)).bias is None


def test_linear_refuses_a_dtype_that_is_not_a_dtype() -> None:
    with pytest.raises(TypeError, match=r"dtype must be float32 or float64, got str 'junk'"):
        Linear(2, 3, dtype="junk")


def test_linear_refuses_an_init_that_returns_a_list() -> None:
    def init(fan_in: int, fan_out: int, **_: object) -> list[list[float]]:
        return [[0.0] * fan_out] * fan_in

    with pytest.raises(
        TypeError, match=r"Linear: init must return a numpy array of shape \(2, 3\), got list"
    ):
        Linear(2, 3, init=init)  # type: ignore[arg-type]


def test_a_negative_seed_is_refused_by_bplib() -> None:
    with pytest.raises(ValueError, match=r"rng must be a seed >= 0 \(numpy's rule\), got -1"):
        Linear(2, 3, rng=-1)


def _read_only() -> np.ndarray:
    a = np.zeros((2, 3))
    a.flags.writeable = False
    return a


@pytest.mark.parametrize(
    "make",
    [lambda: np.broadcast_to(np.arange(3.0), (2, 3)), _read_only],
    ids=["broadcast", "read-only"],
)
def test_a_read_only_gradient_is_kept_as_a_private_copy(make) -> None:  # type: ignore[no-untyped-def]
    layer = Linear(2, 3, rng=0)
    given = make()
    layer.weight.grad = given
    assert np.array_equal(layer.weight.grad, given)  # the values, readable by a step
    layer.zero_grad()  # used to fail: "assignment destination is read-only"
    assert not layer.weight.grad.any()
    layer(np.ones((1, 2)))
    layer.backward(np.ones((1, 3)))  # adds into it
    assert np.array_equal(layer.weight.grad, np.ones((2, 3)))


def test_a_gradient_sharing_the_weights_memory_is_refused() -> None:
    layer = Linear(2, 3, rng=0)
    weights, before = layer.weight.data.copy(), layer.weight.grad
    with pytest.raises(
        ValueError,
        match=r"Parameter 'weight': grad must not share memory with the parameter's data",
    ):
        layer.weight.grad = layer.weight.data
    assert layer.weight.grad is before
    layer.zero_grad()
    assert np.array_equal(layer.weight.data, weights)


# ------------------------------------------------------------------------------ metrics
@pytest.mark.parametrize(
    "y", [np.array([[1, 0], [0, 0]]), np.array([[1, 0], [1, 1]])], ids=["all-zero", "multi-label"]
)
def test_accuracy_refuses_a_target_row_without_one_class(y: np.ndarray) -> None:
    outputs = np.array([[1.0, -1.0], [1.0, -1.0]])
    with pytest.raises(
        ValueError,
        match=r"accuracy: y as one-hot rows of shape \(2, 2\) must have one largest entry per row.*row 1",
    ):
        metrics.accuracy(outputs, y)


def test_accuracy_takes_soft_targets_with_one_largest_entry() -> None:
    outputs = np.array([[1.0, -1.0], [-1.0, 1.0]])
    assert metrics.accuracy(outputs, np.array([[0.9, 0.1], [0.2, 0.8]])) == 1.0


def test_accuracy_refuses_outputs_without_columns() -> None:
    with pytest.raises(
        ValueError, match=r"model outputs with at least one column.*got shape \(3, 0\)"
    ):
        metrics.accuracy(np.zeros((3, 0)), np.array([0, 1, 0]))


# --------------------------------------------------------------------------- experiments
def _net_x_g() -> tuple[Sequential, np.ndarray, np.ndarray]:
    return experiments.random_network(2, 4, "tanh", "xavier_normal", rng=0, batch=5)


def test_layer_statistics_refuses_a_target_it_would_ignore() -> None:
    net, x, g = _net_x_g()
    with pytest.raises(
        ValueError, match=r"layer_statistics: target goes with loss_fn, got grad_out and a target"
    ):
        experiments.layer_statistics(net, x, g, target=np.zeros((5, 4)))


def test_layer_statistics_refuses_a_loss_that_is_not_a_loss() -> None:
    net, x, _ = _net_x_g()
    with pytest.raises(
        TypeError, match=r"layer_statistics: loss_fn must be a bplib Loss.*got str 'mse'"
    ):
        experiments.layer_statistics(net, x, loss_fn="mse", target=np.zeros((5, 4)))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "kind", "match"),
    [
        ({"activations": None}, TypeError, r"sweep: activations must be a list, got None"),
        ({"depths": 3}, TypeError, r"sweep: depths must be a list, got 3"),
        ({"inits": {"a": 1}}, TypeError, r"sweep: inits must be a list, got dict"),
        (
            {"inits": ["xavier_normal", "junk"]},
            ValueError,
            r"sweep: inits\[1\] must be the name of a bplib.init initialiser.*got str 'junk'",
        ),
        (
            {"depths": [2, "a"]},
            ValueError,
            r"sweep: depths\[1\].*must be an integer >= 2, got str 'a'",
        ),
        ({"widths": [4, 0]}, ValueError, r"sweep: widths\[1\] must be a positive integer, got 0"),
        ({"activations": ["tanh", 1]}, ValueError, r"unknown activation 1"),
    ],
)
def test_sweep_checks_every_list_before_measuring(kwargs: dict, kind: type, match: str) -> None:  # type: ignore[type-arg]
    args = {"activations": ["tanh"], "inits": ["xavier_normal"], "depths": [2], "widths": [4]}
    args.update(kwargs)
    with pytest.raises(kind, match=match):
        experiments.sweep(**args, n_seeds=1, batch=4)


@pytest.mark.parametrize("fn", [experiments.table, experiments.format_table])
@pytest.mark.parametrize(
    ("value", "match"),
    [
        (
            None,
            r"table: measurements must be a list of Measurements \(as sweep returns\), got None",
        ),
        ([1], r"table: measurements\[0\] must be a Measurement \(as measure returns\), got 1"),
    ],
)
def test_table_refuses_what_is_not_a_list_of_measurements(fn, value: object, match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TypeError, match=match):
        fn(value)


def test_table_refuses_a_single_measurement() -> None:
    m = experiments.measure("tanh", "xavier_normal", depth=2, width=4, n_seeds=1, batch=4)
    with pytest.raises(TypeError, match=r"got Measurement"):
        experiments.table(m)  # type: ignore[arg-type]
    assert len(experiments.table([m])["depth"]) == 1


# ---------------------------------------------------------------------------- landscape
def _landscape_setup() -> tuple[Sequential, MSELoss, np.ndarray, np.ndarray, np.ndarray]:
    model = Sequential(Linear(2, 1, rng=0))
    X = np.linspace(-1.0, 1.0, 8).reshape(4, 2)
    y = np.ones((4, 1))
    return model, MSELoss(), X, y, parameters_to_vector(model.parameters())


@pytest.mark.parametrize(
    ("which", "value", "match"),
    [
        ("model", None, r"loss_along_line: model must be a bplib Module, got None"),
        (
            "loss_fn",
            "mse",
            r"loss_along_line: loss_fn must be a bplib Loss instance.*got str 'mse'",
        ),
        ("loss_fn", MSELoss, r"loss_fn must be a bplib Loss instance.*got type"),
    ],
)
def test_loss_along_line_refuses_a_model_or_loss_of_the_wrong_kind(
    which: str, value: object, match: str
) -> None:
    model, loss, X, y, theta = _landscape_setup()
    args = {"model": model, "loss_fn": loss, which: value}
    with pytest.raises(TypeError, match=match):
        landscape.loss_along_line(args["model"], args["loss_fn"], X, y, theta, theta, [0.0])


@pytest.mark.parametrize(
    ("ts", "kind", "match"),
    [
        (None, TypeError, r"ts must be a sequence of numbers, got None"),
        ("ab", TypeError, r"ts must be a sequence of numbers, got str 'ab'"),
        (5, TypeError, r"ts must be a sequence of numbers, got 5"),
        (["a"], TypeError, r"ts must hold real numbers, got dtype <U1"),
        ([1j], TypeError, r"ts must hold real numbers, got dtype complex128"),
        (
            [[0.0], [1.0, 2.0]],
            ValueError,
            r"ts must be a flat sequence of numbers, got a ragged list",
        ),
    ],
)
def test_loss_along_line_refuses_ts_that_are_not_numbers(
    ts: object, kind: type, match: str
) -> None:
    model, loss, X, y, theta = _landscape_setup()
    with pytest.raises(kind, match=match):
        landscape.loss_along_line(model, loss, X, y, theta, theta, ts)  # type: ignore[arg-type]
    assert np.array_equal(parameters_to_vector(model.parameters()), theta)


def test_loss_on_plane_refuses_a_model_a_loss_and_a_grid_of_the_wrong_kind() -> None:
    model, loss, X, y, theta = _landscape_setup()
    with pytest.raises(TypeError, match=r"loss_on_plane: model must be a bplib Module, got None"):
        landscape.loss_on_plane(None, loss, X, y, theta, theta, theta, [0.0], [0.0])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"loss_on_plane: loss_fn must be a bplib Loss.*got None"):
        landscape.loss_on_plane(model, None, X, y, theta, theta, theta, [0.0], [0.0])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"betas must be a sequence of numbers, got str 'x'"):
        landscape.loss_on_plane(model, loss, X, y, theta, theta, theta, [0.0], "x")  # type: ignore[arg-type]


# ------------------------------------------------------------------------------- plots
@pytest.fixture
def agg() -> object:
    plt = pytest.importorskip("matplotlib.pyplot")
    yield plt
    plt.close("all")


def _classifier() -> tuple[Sequential, np.ndarray, np.ndarray]:
    X = np.linspace(-1.0, 1.0, 8).reshape(4, 2)
    return Sequential(Linear(2, 2, rng=0)), X, np.array([0, 1, 0, 1])


@pytest.mark.parametrize(
    ("kwargs", "kind", "match"),
    [
        ({"model": None}, TypeError, r"decision_boundary: model must be a bplib Module, got None"),
        ({"model": lambda x: x}, TypeError, r"model must be a bplib Module, got function"),
        (
            {"resolution": None},
            ValueError,
            r"decision_boundary: resolution must be an integer >= 2, got None",
        ),
        ({"resolution": 2.5}, ValueError, r"resolution must be an integer >= 2, got 2.5"),
        ({"resolution": -3}, ValueError, r"resolution must be an integer >= 2, got -3"),
        (
            {"margin": "x"},
            TypeError,
            r"decision_boundary: margin must be a real number, got str 'x'",
        ),
        ({"margin": -1.0}, ValueError, r"margin must be a finite number >= 0, got -1.0"),
        ({"margin": float("nan")}, ValueError, r"margin must be a finite number >= 0, got nan"),
    ],
)
def test_decision_boundary_checks_its_arguments(agg, kwargs: dict, kind: type, match: str) -> None:  # type: ignore[no-untyped-def,type-arg]
    model, X, y = _classifier()
    model = kwargs.pop("model", model)
    with pytest.raises(kind, match=match):
        plot.decision_boundary(model, X, y, **kwargs)


def _bowl(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a**2 + b**2


@pytest.mark.parametrize(
    ("args", "kind", "match"),
    [
        ({"f": None}, TypeError, r"optimizer_paths: f must be a function f\(x, y\).*got None"),
        (
            {"f": lambda a, b: 1.0},
            ValueError,
            r"f\(x, y\) must return an array of the shape of x and y \(200, 200\).*got 1.0",
        ),
        (
            {"f": lambda a, b: a * np.nan},
            ValueError,
            r"f\(x, y\) must return real numbers, finite somewhere.*no finite value",
        ),
        (
            {"paths": None},
            TypeError,
            r"optimizer_paths: paths must be a dict of name to array.*got None",
        ),
        ({"paths": [np.zeros((2, 2))]}, TypeError, r"paths must be a dict.*got list"),
        (
            {"levels": "x"},
            TypeError,
            r"optimizer_paths: levels must be a number of levels or a sequence.*got str 'x'",
        ),
        ({"levels": None}, TypeError, r"levels must be a number of levels.*got None"),
        ({"levels": True}, TypeError, r"levels must be a number of levels.*got True"),
        ({"levels": 2.5}, TypeError, r"levels must be a number of levels.*got 2.5"),
        ({"levels": 0}, ValueError, r"optimizer_paths: levels must be a positive integer, got 0"),
        (
            {"levels": [3.0, 1.0, 2.0]},
            ValueError,
            r"levels must be a non-empty sequence of increasing values",
        ),
        ({"levels": [np.nan, 1.0]}, ValueError, r"levels must be finite, got 1 NaN"),
        (
            {"resolution": "x"},
            ValueError,
            r"optimizer_paths: resolution must be an integer >= 2, got str 'x'",
        ),
        ({"resolution": 1}, ValueError, r"resolution must be an integer >= 2, got 1"),
        (
            {"minimum": "x"},
            TypeError,
            r"optimizer_paths: minimum must be a point \(x, y\), got str 'x'",
        ),
        ({"minimum": (1.0,)}, TypeError, r"minimum must be a point \(x, y\), got tuple"),
        ({"minimum": (np.nan, 1.0)}, ValueError, r"minimum\[0\] must be a finite number, got nan"),
    ],
)
def test_optimizer_paths_checks_its_arguments(agg, args: dict, kind: type, match: str) -> None:  # type: ignore[no-untyped-def,type-arg]
    f = args.pop("f", _bowl)
    paths = args.pop("paths", {"gd": np.array([[1.0, 1.0], [0.5, 0.5]])})
    with pytest.raises(kind, match=match):
        plot.optimizer_paths(f, paths, xlim=(-1.0, 1.0), ylim=(-1.0, 1.0), **args)


def test_optimizer_paths_still_draws_with_good_levels(agg) -> None:  # type: ignore[no-untyped-def]
    paths = {"gd": np.array([[1.0, 1.0], [0.5, 0.5]])}
    for levels in (5, np.geomspace(0.05, 2.0, 6), [0.5, 1.0]):
        plot.optimizer_paths(
            _bowl, paths, xlim=(-1, 1), ylim=(-1, 1), levels=levels, minimum=(0, 0)
        )


# ----------------------------------------------------------------------------- symbolic
@pytest.mark.parametrize(
    ("slope", "kind", "match"),
    [
        ("x", TypeError, r"symbolic.activation: negative_slope must be a real number, got str 'x'"),
        (None, TypeError, r"negative_slope must be a real number, got None"),
        (-1.0, ValueError, r"negative_slope must be a finite number >= 0, got -1.0"),
        (float("nan"), ValueError, r"negative_slope must be a finite number >= 0, got nan"),
    ],
)
def test_symbolic_activation_checks_negative_slope(slope: object, kind: type, match: str) -> None:
    sympy = pytest.importorskip("sympy")
    with pytest.raises(kind, match=match):
        symbolic.activation("leaky_relu", sympy.Symbol("z"), slope)  # type: ignore[arg-type]


@pytest.mark.parametrize(("activations", "shown"), [(None, "None"), (5, "5")])
def test_symbolic_mlp_refuses_activations_that_are_not_names(
    activations: object, shown: str
) -> None:
    pytest.importorskip("sympy")
    with pytest.raises(
        TypeError,
        match=rf"SymbolicMLP: activations must be an activation name or a list.*got {shown}",
    ):
        symbolic.SymbolicMLP([2, 2, 1], activations)  # type: ignore[arg-type]


def test_symbolic_mlp_refuses_an_unhashable_loss() -> None:
    pytest.importorskip("sympy")
    with pytest.raises(ValueError, match=r"unknown loss \[\]"):
        symbolic.SymbolicMLP([2, 2, 1], "tanh", loss=[])  # type: ignore[arg-type]


# ------------------------------------------------------------------------- the 1-D hint
def test_a_1d_input_to_a_one_feature_layer_suggests_one_feature_per_example() -> None:
    model = Sequential(Linear(1, 1, rng=0))
    with pytest.raises(
        ValueError,
        match=r"got 1-D array of shape \(4,\) \(use x.reshape\(-1, 1\) for examples of a single feature\)",
    ):
        predict(model, np.arange(4.0))
    with pytest.raises(
        ValueError, match=r"shape \(3,\) \(use x.reshape\(1, -1\) for a single example\)"
    ):
        Linear(3, 2, rng=0)(np.ones(3))


def test_fit_suggests_one_feature_per_example_for_a_1d_x() -> None:  # already so: kept
    model = Sequential(Linear(1, 1, rng=0))
    with pytest.raises(ValueError, match=r"fit: X must be 2-D.*use X.reshape\(-1, 1\)"):
        fit(
            model,
            MSELoss(),
            SGD(model.parameters(), lr=0.1),
            np.arange(4.0),
            np.ones((4, 1)),
            epochs=1,
        )
