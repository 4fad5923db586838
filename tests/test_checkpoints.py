"""Validated state (issue 27): loads that are all or nothing, ModuleList, optimiser and
scheduler states checked as their constructors check, interrupts that leave no
half-applied step, EarlyStopping with non-finite values, baseline and start_from_epoch,
BatchNorm1d's non-finite variance, and ModelCheckpoint."""

from __future__ import annotations

import numpy as np
import pytest

import bplib
from bplib import utils


def mlp(seed=0, dtype=np.float64):
    return bplib.Sequential(
        bplib.Linear(2, 4, rng=seed, dtype=dtype), bplib.Tanh(), bplib.Linear(4, 2, rng=seed + 1)
    )


def snapshot(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


def assert_unchanged(model, before):
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)


# ----------------------------------------------------------------------------------------
# all-or-nothing loads
# ----------------------------------------------------------------------------------------


def test_load_state_dict_refuses_a_read_only_parameter_before_writing_any():
    net = mlp()
    before = snapshot(net)
    net[2].bias.data.flags.writeable = False  # the last parameter: the others come first
    new = {k: v + 1 for k, v in before.items()}
    with pytest.raises(ValueError, match=r"'2.bias' is a read-only array.*nothing was changed"):
        net.load_state_dict(new)
    assert_unchanged(net, before)


def test_load_state_dict_refuses_a_masked_array_hiding_a_nan():
    net = mlp()
    before = snapshot(net)
    w = before["0.weight"].copy()
    w[0, 0] = np.nan
    state = {**before, "0.weight": np.ma.masked_array(w, mask=np.isnan(w))}
    with pytest.raises(TypeError, match=r"'0.weight' is a masked array"):
        net.load_state_dict(state)
    assert_unchanged(net, before)


def test_vector_to_parameters_is_all_or_nothing():
    net = mlp()
    params = net.parameters()
    before = utils.parameters_to_vector(params)
    params[-1].data.flags.writeable = False
    with pytest.raises(ValueError, match=r"parameter 3 \(bias\) is a read-only array"):
        utils.vector_to_parameters(np.zeros_like(before), params)
    np.testing.assert_array_equal(utils.parameters_to_vector(params), before)
    params[-1].data.flags.writeable = True
    hidden = np.ma.masked_array(np.zeros_like(before), mask=False)
    with pytest.raises(TypeError, match="masked array"):
        utils.vector_to_parameters(hidden, params)


# ----------------------------------------------------------------------------------------
# ModuleList
# ----------------------------------------------------------------------------------------


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
