"""bplib.module: Module (its boundary of checks, parameters, modes, state), Sequential and ModuleList."""

from __future__ import annotations

import numpy as np
import pytest

import bplib

from .helpers import assert_unchanged, blobs, every_flag, mlp, snapshot, tiny_mlp

rng = np.random.default_rng(0)


def test_sequential_refuses_a_non_module():
    with pytest.raises(TypeError, match="argument 1 is ufunc: <ufunc 'tanh'>"):
        bplib.Sequential(bplib.Linear(2, 2), np.tanh)
    with pytest.raises(TypeError, match="argument 0 is a class, not an instance"):
        bplib.Sequential(bplib.ReLU)


@pytest.mark.parametrize(
    "layer", [bplib.Dropout(0.5, rng=0), bplib.BatchNorm1d(3), bplib.LayerNorm(3)], ids=repr
)
def test_a_refused_forward_leaves_no_cache_and_backward_checks_the_dtype(layer):
    x = rng.standard_normal((4, 3))
    layer(x)
    with pytest.raises(TypeError, match=r"dtype float64.*got dtype (float32|complex128)"):
        layer.backward(np.ones((4, 3), np.float32))
    with pytest.raises(TypeError, match=r"dtype float64.*got dtype complex128"):
        layer.backward(np.ones((4, 3), complex))
    with pytest.raises(TypeError):
        layer(x.astype(complex))
    with pytest.raises(RuntimeError, match=r"backward\(\) called before forward\(\)"):
        layer.backward(np.ones((4, 3)))  # before: the previous call's cache was used


def test_parameters_are_listed_in_layer_order_weight_before_bias():
    net = bplib.Sequential(bplib.Linear(2, 3), bplib.ReLU(), bplib.Linear(3, 1, bias=False))
    names = [name for name, _ in net.named_parameters()]
    assert names == ["0.weight", "0.bias", "2.weight"]
    assert [p.shape for p in net.parameters()] == [(2, 3), (3,), (3, 1)]


def test_reprs_say_what_a_module_is():
    net = bplib.Sequential(bplib.Linear(2, 3), bplib.LeakyReLU(0.2))
    assert repr(net) == (
        "Sequential(\n  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): LeakyReLU(negative_slope=0.2)\n)"
    )
    assert repr(net[0].weight) == "Parameter(name='weight', shape=(2, 3), dtype=float64)"


def test_a_parameter_shared_by_two_layers_is_listed_once():
    first, second = bplib.Linear(3, 3, rng=0), bplib.Linear(3, 3, rng=1)
    second.weight = first.weight  # tied weights
    net = bplib.Sequential(first, bplib.Tanh(), second)
    assert [name for name, _ in net.named_parameters()] == ["0.weight", "0.bias", "2.bias"]
    assert len(net.parameters()) == 3


class WithBuffer(bplib.Module):
    """A layer with a buffer, declared as BatchNorm1d will declare its running statistics."""

    _buffers = ("running_mean", "count")

    def __init__(self, n):
        self.scale = bplib.Parameter(np.ones(n), "scale")
        self.running_mean = np.zeros(n)
        self.count = np.zeros((), dtype=np.int64)

    def forward(self, x):
        return x * self.scale.data


def test_state_dict_names_are_the_parameter_names_and_values_are_copies():
    net = mlp()
    state = net.state_dict()
    assert list(state) == [name for name, _ in net.named_parameters()]
    assert list(state) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    before = state["0.weight"].copy()
    net[0].weight.data += 1.0
    np.testing.assert_array_equal(state["0.weight"], before)


def test_state_dict_keys_are_pytorchs():
    torch = pytest.importorskip("torch")
    ours = mlp(n_in=3, n_hidden=4, n_out=2)
    theirs = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)
    ).state_dict()
    assert list(ours.state_dict()) == list(theirs)


def test_load_state_dict_makes_the_model_compute_bit_for_bit_the_same():
    a, b = mlp(seed=0), mlp(seed=10)
    X, _ = blobs()
    assert not np.array_equal(a(X), b(X))
    result = b.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(a(X), b(X))
    assert result.missing_keys == [] and result.unexpected_keys == []


def test_load_state_dict_copies_in_place():
    a, b = mlp(seed=0), mlp(seed=10)
    weight = b[0].weight.data
    b.load_state_dict(a.state_dict())
    assert b[0].weight.data is weight  # an optimiser holding the arrays still sees them


def test_load_state_dict_names_a_missing_key():
    state = mlp().state_dict()
    del state["2.bias"]
    with pytest.raises(KeyError, match=r"missing key\(s\) \['2.bias'\]"):
        mlp(seed=5).load_state_dict(state)


def test_load_state_dict_names_an_unexpected_key():
    state = mlp().state_dict()
    state["3.weight"] = np.zeros((2, 2))
    with pytest.raises(KeyError, match=r"unexpected key\(s\) \['3.weight'\]"):
        mlp(seed=5).load_state_dict(state)


def test_load_state_dict_not_strict_loads_the_common_keys_and_reports_the_rest():
    a, b = mlp(seed=0), mlp(seed=5)
    state = a.state_dict()
    del state["2.bias"]
    state["extra"] = np.zeros(1)
    old_bias = b[2].bias.data.copy()
    missing, unexpected = b.load_state_dict(state, strict=False)
    assert (missing, unexpected) == (["2.bias"], ["extra"])
    np.testing.assert_array_equal(b[0].weight.data, a[0].weight.data)
    np.testing.assert_array_equal(b[2].bias.data, old_bias)


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (lambda s: s.update({"2.bias": np.zeros(3)}), ValueError, r"'2.bias' has shape \(3,\)"),
        (
            lambda s: s.update({"2.bias": s["2.bias"].astype(np.float32)}),
            TypeError,
            "'2.bias' has dtype float32 in the state but float64",
        ),
        (lambda s: s.update({"2.bias": [0.0, 0.0]}), TypeError, "'2.bias' must be a numpy array"),
    ],
)
def test_load_state_dict_checks_every_value_before_changing_anything(change, error, message):
    a, b = mlp(seed=0), mlp(seed=5)
    state = a.state_dict()  # "0.weight" is fine and comes first; "2.bias" is wrong
    change(state)
    before = b.state_dict()
    with pytest.raises(error, match=message):
        b.load_state_dict(state)
    for name, value in b.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_load_state_dict_refuses_a_non_mapping():
    with pytest.raises(TypeError, match="expected a mapping name -> array"):
        mlp().load_state_dict([np.zeros(2)])


def test_buffers_are_named_like_parameters_and_saved_in_the_state():
    net = bplib.Sequential(bplib.Linear(3, 3, rng=0), WithBuffer(3))
    assert [name for name, _ in net.named_buffers()] == ["1.running_mean", "1.count"]
    assert list(net.state_dict()) == ["0.weight", "0.bias", "1.scale", "1.running_mean", "1.count"]
    assert [p.name for p in net.parameters()] == ["weight", "bias", "scale"]  # not a parameter


def test_buffers_are_loaded_in_place():
    a = bplib.Sequential(bplib.Linear(3, 3, rng=0), WithBuffer(3))
    b = bplib.Sequential(bplib.Linear(3, 3, rng=1), WithBuffer(3))
    a[1].running_mean[:] = [1.0, 2.0, 3.0]
    a[1].count[...] = 7
    running_mean = b[1].running_mean
    b.load_state_dict(a.state_dict())
    assert b[1].running_mean is running_mean
    np.testing.assert_array_equal(running_mean, [1.0, 2.0, 3.0])
    assert int(b[1].count) == 7


def test_buffers_of_a_module_held_as_an_attribute_are_found():
    class Holder(bplib.Module):
        def __init__(self):
            self.inner = WithBuffer(2)

    assert [name for name, _ in Holder().named_buffers()] == [
        "inner.running_mean",
        "inner.count",
    ]


def test_a_shared_parameter_is_saved_once():
    first, second = bplib.Linear(2, 2, rng=0), bplib.Linear(2, 2, rng=1)
    second.weight, second.bias = first.weight, first.bias  # tied weights, two layers
    net = bplib.Sequential(first, bplib.Tanh(), second)
    assert list(net.state_dict()) == ["0.weight", "0.bias"]
    other = bplib.Sequential(bplib.Linear(2, 2, rng=3), bplib.Tanh(), bplib.Linear(2, 2, rng=4))
    with pytest.raises(KeyError, match=r"missing key\(s\) \['2.weight', '2.bias'\]"):
        other.load_state_dict(net.state_dict())


def test_load_state_dict_refuses_a_read_only_parameter_before_writing_any():
    net = tiny_mlp()
    before = snapshot(net)
    net[2].bias.data.flags.writeable = False  # the last parameter: the others come first
    new = {k: v + 1 for k, v in before.items()}
    with pytest.raises(ValueError, match=r"'2.bias' is a read-only array.*nothing was changed"):
        net.load_state_dict(new)
    assert_unchanged(net, before)


def test_load_state_dict_refuses_a_masked_array_hiding_a_nan():
    net = tiny_mlp()
    before = snapshot(net)
    w = before["0.weight"].copy()
    w[0, 0] = np.nan
    state = {**before, "0.weight": np.ma.masked_array(w, mask=np.isnan(w))}
    with pytest.raises(TypeError, match=r"'0.weight' is a masked array"):
        net.load_state_dict(state)
    assert_unchanged(net, before)


class Tower(bplib.Module):
    def __init__(self, n=3, holder=bplib.ModuleList):
        self.layers = holder([bplib.Linear(2, 2, rng=i) for i in range(n)])

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


def test_module_list_names_and_saves_its_layers_as_pytorch(tmp_path):
    tower = Tower()
    assert list(tower.state_dict()) == [
        f"layers.{i}.{p}" for i in range(3) for p in ("weight", "bias")
    ]
    assert len(tower.parameters()) == 6
    bplib.save(tower.state_dict(), tmp_path / "t.npz")
    other = Tower()
    for layer in other.layers:
        layer.weight.data += 1
    other.load_state_dict(bplib.load(tmp_path / "t.npz"))
    x = np.ones((1, 2))
    np.testing.assert_array_equal(other(x), tower(x))


def test_module_list_behaves_as_a_list():
    ml = bplib.ModuleList()
    ml.append(bplib.Linear(1, 1, rng=0)).extend([bplib.Tanh(), bplib.ReLU()])
    ml.insert(0, bplib.Identity())
    assert [type(m).__name__ for m in ml] == ["Identity", "Linear", "Tanh", "ReLU"]
    assert isinstance(ml[1:], bplib.ModuleList) and len(ml[1:]) == 3
    del ml[0]
    ml[0] = bplib.Sigmoid()
    ml += [bplib.Tanh()]
    assert len(ml) == 4 and "ModuleList(" in repr(ml)
    with pytest.raises(TypeError, match="a class, not an instance"):
        ml.append(bplib.Tanh)
    with pytest.raises(TypeError, match="expects a Module instance, got 3"):
        bplib.ModuleList([3])
    with pytest.raises(NotImplementedError):
        ml(np.ones((1, 1)))


@pytest.mark.parametrize("holder", [list, tuple, lambda ms: dict(enumerate(ms))])
def test_a_plain_container_of_modules_is_refused_where_weights_would_be_dropped(holder):
    tower = Tower(holder=holder)
    for call in (tower.state_dict, tower.train, lambda: tower.load_state_dict({})):
        with pytest.raises(TypeError, match=r"Tower.layers is a plain .* bplib.ModuleList"):
            call()


def nested_model():
    return bplib.Sequential(
        bplib.Linear(3, 4, rng=0),
        bplib.Residual(bplib.Sequential(bplib.BatchNorm1d(4), bplib.Dropout(0.5, rng=0))),
        bplib.Linear(4, 2, rng=1),
    )


def test_train_and_eval_propagate_to_every_child_and_return_the_module():
    model = nested_model()
    assert every_flag(model) == [True] * 7
    assert model.eval() is model
    assert every_flag(model) == [False] * 7
    assert model.train() is model
    assert every_flag(model) == [True] * 7
    model.train(False)
    assert every_flag(model) == [False] * 7


def test_train_refuses_a_mode_that_is_not_a_bool():
    with pytest.raises(ValueError, match=r"train\(mode\) expects True or False, got 'eval'"):
        nested_model().train("eval")


@pytest.mark.parametrize(
    "layer",
    [bplib.BatchNorm1d(2), bplib.LayerNorm(2), bplib.Dropout(0.5), bplib.Residual(bplib.ReLU())],
)
def test_backward_before_forward_is_refused(layer):
    with pytest.raises(RuntimeError, match="backward\\(\\) called before forward"):
        layer.backward(np.ones((3, 2)))


@pytest.mark.parametrize(
    "layer",
    [bplib.BatchNorm1d(2), bplib.LayerNorm(2), bplib.Dropout(0.5), bplib.Residual(bplib.ReLU())],
)
def test_backward_refuses_a_gradient_of_the_wrong_shape(layer):
    layer(np.ones((3, 2)) + np.arange(3.0)[:, None])
    with pytest.raises(ValueError, match=r"expected a gradient of shape \(3, 2\)"):
        layer.backward(np.ones((2, 2)))


def test_train_and_eval_reach_a_module_that_refers_to_its_owner_once():
    # the same walk as parameters(): a back-reference must not recurse forever
    inner = bplib.Dropout(0.5, rng=0)
    model = bplib.Sequential(bplib.Linear(2, 2, rng=0), inner)
    inner.owner = model
    model.eval()
    assert not model.training and not inner.training
    model.train()
    assert model.training and inner.training


def test_state_dict_and_buffers_reach_a_module_that_refers_to_its_owner_once():
    norm = bplib.BatchNorm1d(2)
    model = bplib.Sequential(bplib.Linear(2, 2, rng=0), norm)
    norm.owner = model  # a back-reference: the walk must not recurse forever
    assert [name for name, _ in model.named_buffers()] == [
        "1.running_mean",
        "1.running_var",
    ]
    state = model.state_dict()
    assert list(state) == ["0.weight", "0.bias", "1.weight", "1.bias", *list(state)[4:]]
    assert {"1.running_mean", "1.running_var"} <= set(state)
    model.load_state_dict(state)


def test_backward_accumulates_into_grad_like_pytorch():
    rng = np.random.default_rng(2)
    layer = bplib.Linear(3, 2, rng=rng)
    x, g = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    layer(x)
    layer.backward(g)
    once = layer.weight.grad.copy()
    layer.backward(g)
    np.testing.assert_allclose(layer.weight.grad, 2 * once)
    layer.zero_grad()
    assert not layer.weight.grad.any() and not layer.bias.grad.any()


def test_tied_weights_sum_both_uses_after_zero_grad():
    rng = np.random.default_rng(5)
    first, second = bplib.Linear(3, 3, rng=rng), bplib.Linear(3, 3, rng=rng)
    second.weight = first.weight
    net = bplib.Sequential(first, bplib.Tanh(), second)
    x, g = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    net.zero_grad()
    h = np.tanh(net[0](x))
    net(x)
    net.backward(g)
    delta = (g @ first.weight.data.T) * (1 - h * h)
    np.testing.assert_allclose(first.weight.grad, x.T @ delta + h.T @ g, rtol=1e-12)


def test_backward_to_parameters_gives_the_same_gradients_as_backward():
    rng = np.random.default_rng(3)
    net = bplib.Sequential(bplib.Linear(3, 4, rng=rng), bplib.ReLU(), bplib.Linear(4, 2, rng=rng))
    x, g = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    net(x)
    net.backward(g)
    full = [p.grad.copy() for p in net.parameters()]
    net.zero_grad()
    net(x)
    assert net.backward_to_parameters(g) is None
    for p, expected in zip(net.parameters(), full, strict=True):
        np.testing.assert_array_equal(p.grad, expected)


def test_a_chain_run_module_by_module_backpropagates_as_a_whole():
    """Chapter 3 runs each layer of a Sequential by hand, then model.backward(...): the
    chain's own forward never ran, so each module checks the gradient it is handed."""
    rng = np.random.default_rng(5)
    net = bplib.Sequential(bplib.Linear(3, 4, rng=0), bplib.Tanh(), bplib.Linear(4, 2, rng=1))
    x, g = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    whole = net(x)
    dx_whole = net.backward(g)
    grads = [p.grad.copy() for p in net.parameters()]
    net.zero_grad()
    out = x
    for m in net:
        out = m(out)
    np.testing.assert_array_equal(out, whole)
    np.testing.assert_array_equal(net.backward(g), dx_whole)
    for p, expected in zip(net.parameters(), grads, strict=True):
        np.testing.assert_array_equal(p.grad, expected)
    with pytest.raises(ValueError, match=r"expected a gradient of shape \(5, 2\)"):
        net.backward(g[:, :1])  # the last module refuses what the chain was handed
