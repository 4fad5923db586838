"""bplib.experiments: per-layer statistics, the predicted per-layer ratio, clipping, loss slices."""

from __future__ import annotations

import math

import numpy as np
import pytest

import bplib
from bplib import experiments as ex
from bplib import init
from bplib.layers import ACTIVATIONS

# ----------------------------------------------------------------------------------------
# layer_statistics
# ----------------------------------------------------------------------------------------


def test_statistics_of_a_one_unit_layer_done_by_hand():
    # z = 2x for x = 1, 3: z = (2, 6), mean 4, std 2; no activation, so a = z and f' = 1.
    # The upstream gradient is 1 for both rows: delta = (1, 1), std 0, and
    # dL/dW = x^T delta = 1 + 3 = 4.
    layer = bplib.Linear(1, 1)
    layer.weight.data[...] = 2.0
    s = ex.layer_statistics(bplib.Sequential(layer), np.array([[1.0], [3.0]]), np.ones((2, 1)))
    assert s.n_layers == 1
    assert s.preactivation_mean[0] == 4.0 and s.preactivation_std[0] == 2.0
    assert s.activation_mean[0] == 4.0 and s.activation_std[0] == 2.0
    assert s.derivative_mean_square[0] == 1.0
    assert s.delta_std[0] == 0.0
    assert s.weight_grad_norm[0] == 4.0 and s.weight_grad_std[0] == 0.0
    assert s.weight_var[0] == 0.0 and s.fan_out[0] == 1.0


def test_statistics_of_a_two_layer_network_match_the_backprop_equations():
    rng = np.random.default_rng(0)
    W1, b1 = rng.standard_normal((3, 4)), rng.standard_normal(4)
    W2, b2 = rng.standard_normal((4, 2)), rng.standard_normal(2)
    x, g = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    net = bplib.Sequential(bplib.Linear(3, 4), bplib.Tanh(), bplib.Linear(4, 2), bplib.Sigmoid())
    for layer, W, b in ((net[0], W1, b1), (net[2], W2, b2)):
        layer.weight.data[...], layer.bias.data[...] = W, b

    # the forward pass and the four equations of chapter 4, written out
    z1 = x @ W1 + b1
    a1 = np.tanh(z1)
    z2 = a1 @ W2 + b2
    a2 = 1 / (1 + np.exp(-z2))
    f2 = a2 * (1 - a2)
    f1 = 1 - a1**2
    delta2 = g * f2
    delta1 = (delta2 @ W2.T) * f1
    dW1, dW2 = x.T @ delta1, a1.T @ delta2

    s = ex.layer_statistics(net, x, g)
    close = np.testing.assert_allclose
    close(s.preactivation_mean, [z1.mean(), z2.mean()], rtol=1e-12)
    close(s.preactivation_std, [z1.std(), z2.std()], rtol=1e-12)
    close(s.activation_mean, [a1.mean(), a2.mean()], rtol=1e-12)
    close(s.activation_std, [a1.std(), a2.std()], rtol=1e-12)
    close(s.derivative_mean_square, [(f1**2).mean(), (f2**2).mean()], rtol=1e-12)
    close(s.delta_std, [delta1.std(), delta2.std()], rtol=1e-12)
    close(s.weight_grad_norm, [np.linalg.norm(dW1), np.linalg.norm(dW2)], rtol=1e-12)
    close(s.weight_grad_std, [dW1.std(), dW2.std()], rtol=1e-12)
    close(s.weight_var, [W1.var(), W2.var()], rtol=1e-12)
    close(s.fan_out, [4, 2])
    close(s.variance_ratios(), [delta1.var() / delta2.var()], rtol=1e-12)
    close(s.mean_field_ratios(), [2 * W2.var() * (f1**2).mean()], rtol=1e-12)
    # the model's .grad now hold this pass's gradient
    close(net[0].weight.grad, dW1, rtol=1e-12)
    close(net[2].bias.grad, delta2.sum(axis=0), rtol=1e-12)


def test_starting_from_a_loss_is_the_same_as_starting_from_its_gradient():
    net, x, _ = ex.random_network(3, 4, "relu", "he_normal", rng=1, batch=6)
    target = np.random.default_rng(2).standard_normal((6, 4))
    loss = bplib.MSELoss()
    from_loss = ex.layer_statistics(net, x, loss_fn=loss, target=target)
    from_grad = ex.layer_statistics(net, x, 2 * (net(x) - target) / target.size)
    for name, value in from_loss.as_dict().items():
        np.testing.assert_allclose(value, from_grad.as_dict()[name], rtol=1e-12, err_msg=name)


def test_gradients_are_not_accumulated_over_repeated_calls():
    net, x, g = ex.random_network(2, 3, "tanh", "xavier_normal", rng=3, batch=4)
    ex.layer_statistics(net, x, g)
    once = net[0].weight.grad.copy()
    ex.layer_statistics(net, x, g)
    np.testing.assert_array_equal(net[0].weight.grad, once)


# ----------------------------------------------------------------------------------------
# The vectorised sweep agrees with bplib's own layers
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_measure_agrees_with_layer_statistics_on_each_seeds_bplib_network(activation):
    m = ex.measure(activation, "xavier_uniform", depth=4, width=5, n_seeds=3, seed=7, batch=6)
    assert m.per_seed.delta_std.shape == (3, 4)
    for s in range(3):
        one = ex.layer_statistics(
            *ex.random_network(4, 5, activation, "xavier_uniform", rng=7 + s, batch=6)
        )
        for name, value in one.as_dict().items():
            np.testing.assert_allclose(
                getattr(m.per_seed, name)[s], value, rtol=1e-10, atol=1e-300, err_msg=name
            )


def test_stats_average_the_seeds_and_sweep_covers_every_combination():
    ms = ex.sweep(["tanh", "relu"], ["uniform"], [3, 5], [4], n_seeds=2, batch=3)
    assert [(m.activation, m.depth) for m in ms] == [
        ("tanh", 3),
        ("tanh", 5),
        ("relu", 3),
        ("relu", 5),
    ]
    m = ms[0]
    np.testing.assert_allclose(m.stats.delta_std, m.per_seed.delta_std.mean(axis=0))
    assert m.measured_ratio == pytest.approx(m.per_seed.variance_ratios().mean())
    cols = ex.table(ms)
    assert list(cols["depth"]) == [3, 5, 3, 5]
    assert cols["predicted_ratio"][0] == pytest.approx(1 / 3)
    text = ex.format_table(ms)
    assert len(text.splitlines()) == 2 + 4 and "0.3333" in text


# ----------------------------------------------------------------------------------------
# The theory
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("activation", "init_name", "n", "expected"),
    [
        # n * Var[W] * E[f'(z)^2], each factor from its definition
        ("tanh", "uniform", 64, 64 * (1 / (3 * 64)) * 1),  # the old init: 1/3
        ("tanh", "xavier_normal", 64, 64 * (2 / 128) * 1),  # Glorot: 1
        ("tanh", "xavier_uniform", 10, 10 * (6 / 20) / 3 * 1),  # U(-a, a) has variance a^2/3
        ("relu", "he_normal", 64, 64 * (2 / 64) * (1 / 2)),  # He: 1
        ("relu", "xavier_normal", 64, 64 * (2 / 128) * (1 / 2)),  # Glorot + ReLU: 1/2
        ("leaky_relu", "he_uniform", 8, 8 * (2 / 8) * (1 + 0.01**2) / 2),
        ("sigmoid", "xavier_normal", 64, 64 * (2 / 128) * (1 / 4) ** 2),  # sigmoid'(0) = 1/4
        ("sigmoid", "normal", 64, 64 * 0.01**2 / 16),
        ("identity", "lecun_normal", 7, 1.0),
        ("tanh", "zeros", 5, 0.0),
    ],
)
def test_predicted_ratio_is_n_times_weight_variance_times_mean_square_derivative(
    activation, init_name, n, expected
):
    assert ex.predicted_ratio(activation, init_name, n) == pytest.approx(expected, rel=1e-12)


def test_predicted_ratio_uses_the_fan_out_of_the_layer_below():
    # the backward sum runs over the n_out columns of W_{l+1}
    assert ex.predicted_ratio("tanh", "xavier_normal", 30, 10) == pytest.approx(10 * 2 / 40)
    assert ex.predicted_ratio("tanh", "uniform", 30, 10) == pytest.approx(10 / 90)


@pytest.mark.parametrize("name", sorted(init.INITIALIZERS))
def test_weight_variance_is_the_variance_of_what_bplib_init_draws(name):
    fan_in, fan_out = 300, 200
    w = init.get(name)(fan_in, fan_out, rng=0)
    # 60000 draws: the sample variance's relative standard error is sqrt(2/60000) ~ 0.006
    # (normal; less for uniform), so 5% is eight standard errors
    assert w.var() == pytest.approx(ex.weight_variance(name, fan_in, fan_out), rel=0.05, abs=0)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_derivative_mean_square_is_what_the_activation_backward_gives_near_zero(activation):
    z = np.random.default_rng(0).standard_normal(100_000) * 1e-3
    f = ACTIVATIONS[activation]()
    f.forward(z)
    measured = float(np.mean(f.backward(np.ones_like(z)) ** 2))
    # smooth activations: f'(z)^2 = f'(0)^2 (1 + O(z^2)), z ~ 1e-3; (leaky) ReLU: the fraction
    # of positive z is binomial with standard error 0.5/sqrt(1e5) = 0.0016, so 0.01 is 6 se
    assert measured == pytest.approx(ex.derivative_mean_square(activation), rel=0.01)


def test_sigmoid_derivative_is_at_most_a_quarter():
    z = np.linspace(-10, 10, 2001)
    f = bplib.Sigmoid()
    f.forward(z)
    fprime = f.backward(np.ones_like(z))
    assert fprime.max() == pytest.approx(0.25) and fprime.max() <= 0.25
    assert ex.derivative_mean_square("sigmoid") == fprime.max() ** 2


# The two tests below are the chapter's claim. Tolerance, derived from the number of samples
# (ratio_tolerance's docstring has the details): each per-layer ratio Var[delta_l] /
# Var[delta_{l+1}] has mean r and a relative standard deviation of at most sqrt(2/n) for
# width n; the measured ratio averages (L-1) S of them, uncorrelated, so its relative standard
# error is at most sqrt(2/n) / sqrt((L-1) S) = 0.0135 for n=32, L=20, S=16; four of those
# is 0.054. The near-linear regime adds a bias: the inputs have std s = 0.05, the
# pre-activations keep about that scale (they shrink with the old init), and
# E[tanh'(z)^2] >= 1 - 2 E[z^2], so the derivative factor is below 1 by at most about 2 s^2;
# we allow twice that, 4 s^2 = 0.01.
WIDTH, DEPTH, SEEDS, INPUT_STD = 32, 20, 16, 0.05
TOLERANCE = ex.ratio_tolerance(WIDTH, DEPTH, SEEDS) + 4 * INPUT_STD**2


def test_tolerance_is_four_standard_errors_of_the_per_layer_ratio():
    se = math.sqrt(2 / WIDTH) / math.sqrt((DEPTH - 1) * SEEDS)
    assert ex.ratio_tolerance(WIDTH, DEPTH, SEEDS) == pytest.approx(4 * se)
    assert ex.ratio_tolerance(WIDTH, DEPTH, SEEDS, activation="tanh") == pytest.approx(4 * se)
    assert TOLERANCE < 0.07


def test_relu_tolerance_adds_the_binomial_variance_of_the_active_fraction():
    # k active units out of n, k ~ Binomial(n, 1/2): Var[k/n] / (1/2)^2 = 1/n
    se = math.sqrt(2 / WIDTH + 1 / WIDTH) / math.sqrt((DEPTH - 1) * SEEDS)
    assert ex.ratio_tolerance(WIDTH, DEPTH, SEEDS, activation="relu") == pytest.approx(4 * se)


# The whole drop over the network, log(Var[delta_1] / Var[delta_L]) = sum of L-1 per-layer
# log-ratios, averaged over the seeds: by the same argument its chance error is at most
# sqrt(2/n) sqrt(L-1) / sqrt(S) = 0.27 (four of them: 1.09), and the mean of a log is
# below the log of the mean by about half the variance, 1/n per layer: 19/32 = 0.59 in all.
DROP_TOLERANCE = (
    4 * math.sqrt(2 / WIDTH) * math.sqrt(DEPTH - 1) / math.sqrt(SEEDS) + (DEPTH - 1) / WIDTH
)


def _log_variance_drop(m):
    return float(np.mean(2 * np.log(m.per_seed.delta_std[:, 0] / m.per_seed.delta_std[:, -1])))


def _tanh_measurement(init_name):
    return ex.measure(
        "tanh", init_name, depth=DEPTH, width=WIDTH, n_seeds=SEEDS, batch=64, input_std=INPUT_STD
    )


def test_tanh_with_glorot_init_keeps_the_per_layer_gradient_ratio_near_one():
    m = _tanh_measurement("xavier_normal")
    assert m.predicted_ratio == 1.0
    assert abs(m.measured_ratio / m.predicted_ratio - 1) < TOLERANCE
    # and so the error arriving at layer 1 is as large as the one leaving layer L
    assert abs(_log_variance_drop(m) - np.log(m.predicted_ratio) * (DEPTH - 1)) < DROP_TOLERANCE


def test_tanh_with_the_old_uniform_init_shrinks_the_gradient_variance_by_a_third_per_layer():
    m = _tanh_measurement("uniform")
    assert m.predicted_ratio == pytest.approx(1 / 3)
    assert abs(m.measured_ratio / m.predicted_ratio - 1) < TOLERANCE
    # over 19 layers the variance shrinks by (1/3)^19 ~ 9e-10
    assert abs(_log_variance_drop(m) - np.log(m.predicted_ratio) * (DEPTH - 1)) < DROP_TOLERANCE


def test_per_seed_spread_is_within_the_derived_bound():
    # the bound on the standard deviation of one network's ratio: sqrt(2/n)/sqrt(L-1)
    m = ex.measure("tanh", "xavier_normal", depth=10, width=16, n_seeds=32, input_std=INPUT_STD)
    spread = float(np.std(m.per_seed.measured_ratio() / m.predicted_ratio))
    # a sample standard deviation from 32 values is within ~ +-13% (1/sqrt(2*31)) of the truth;
    # allow 50% above the bound
    assert spread < 1.5 * math.sqrt(2 / 16) / math.sqrt(9)


def test_saturated_units_break_the_closed_form_but_not_the_mean_field_prediction():
    # He's variance with tanh and unit inputs: the units saturate, E[tanh'(z)^2] falls well
    # below 1, and the closed form (2 per layer) over-predicts; the mean-field ratio, which
    # uses the measured E[f'(z)^2], still agrees.
    m = ex.measure("tanh", "he_normal", depth=20, width=32, n_seeds=16, batch=64)
    assert m.predicted_ratio == 2.0
    assert m.measured_ratio < 0.75 * m.predicted_ratio
    assert m.stats.derivative_mean_square[1:].max() < 0.6
    assert abs(m.measured_ratio / m.mean_field_ratio - 1) < 2 * m.tolerance


# ----------------------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------------------


def test_unknown_activation_and_init_are_refused_with_the_known_names():
    with pytest.raises(ValueError, match=r"unknown activation 'swish'; expected one of \["):
        ex.predicted_ratio("swish", "uniform", 4)
    with pytest.raises(ValueError, match=r"bplib.init initialiser.*got 'glorot'"):
        ex.predicted_ratio("tanh", "glorot", 4)
    with pytest.raises(ValueError, match="fan_in must be a positive integer, got 0"):
        ex.weight_variance("uniform", 0, 3)


def test_layer_statistics_needs_a_sequential_of_linear_layers():
    with pytest.raises(TypeError, match=r"need a bplib\.Sequential, got Linear"):
        ex.layer_statistics(bplib.Linear(2, 2), np.ones((1, 2)), np.ones((1, 2)))
    with pytest.raises(ValueError, match="start with a Linear layer; module 0 is Tanh"):
        ex.layer_statistics(bplib.Sequential(bplib.Tanh()), np.ones((1, 2)), np.ones((1, 2)))
    inner = bplib.Sequential(bplib.Linear(2, 2))
    with pytest.raises(ValueError, match=r"module 1 \(Sequential\) has parameters"):
        ex.layer_statistics(
            bplib.Sequential(bplib.Linear(2, 2), inner), np.ones((1, 2)), np.ones((1, 2))
        )


def test_layer_statistics_needs_exactly_one_starting_gradient():
    net = bplib.Sequential(bplib.Linear(2, 1))
    x = np.ones((3, 2))
    with pytest.raises(ValueError, match="got neither"):
        ex.layer_statistics(net, x)
    with pytest.raises(ValueError, match="got both"):
        ex.layer_statistics(net, x, np.ones((3, 1)), loss_fn=bplib.MSELoss(), target=x[:, :1])
    with pytest.raises(ValueError, match="got loss_fn but no target"):
        ex.layer_statistics(net, x, loss_fn=bplib.MSELoss())


def test_layer_statistics_refuses_a_grad_out_of_the_wrong_shape_dtype_or_value():
    net = bplib.Sequential(bplib.Linear(2, 1))
    x = np.ones((3, 2))
    with pytest.raises(ValueError, match=r"model's output \(3, 1\), got \(3,\)"):
        ex.layer_statistics(net, x, np.ones(3))
    with pytest.raises(
        TypeError, match=r"floating numpy array of the model.s dtype float64, got dtype int64"
    ):
        ex.layer_statistics(net, x, np.ones((3, 1), dtype=np.int64))
    with pytest.raises(ValueError, match="grad_out must be finite, got 3 NaN"):
        ex.layer_statistics(net, x, np.full((3, 1), np.nan))


def test_measure_and_sweep_refuse_bad_settings():
    with pytest.raises(ValueError, match="n_seeds must be a positive integer, got 0"):
        ex.measure("tanh", "uniform", depth=2, width=2, n_seeds=0)
    with pytest.raises(ValueError, match="measure: seed must be a non-negative integer, got -1"):
        ex.measure("tanh", "uniform", depth=2, width=2, seed=-1)
    with pytest.raises(ValueError, match="random_network: input_std must be a finite number > 0"):
        ex.measure("tanh", "uniform", depth=2, width=2, input_std=0.0)
    with pytest.raises(ValueError, match="non-empty list of depths, got \\[\\]"):
        ex.sweep(["tanh"], ["uniform"], [], [4])
    with pytest.raises(ValueError, match="non-empty list of activations, got 'tanh'"):
        ex.sweep("tanh", ["uniform"], [2], [4])
    with pytest.raises(ValueError, match="at least one Measurement"):
        ex.table([])


def test_a_ratio_needs_two_layers():
    with pytest.raises(ValueError, match="depth >= 2 layers, got depth=1"):
        ex.ratio_tolerance(8, 1, 4)
    one = ex.layer_statistics(*ex.random_network(1, 3, "tanh", "uniform", rng=0, batch=2))
    with pytest.raises(ValueError, match="at least 2 layers, got 1"):
        one.measured_ratio()
    with pytest.raises(ValueError, match="nothing to average"):
        one.mean()


def test_layer_statistics_checks_x_and_grad_out_before_zeroing_the_gradients():
    model = bplib.Sequential(bplib.Linear(3, 2, rng=0), bplib.Tanh())
    model.parameters()[0].grad[...] = 5.0
    x = np.ones((4, 3))
    with pytest.raises(TypeError, match="layer_statistics: x must be a numpy array, got list"):
        bplib.experiments.layer_statistics(model, x.tolist(), np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"x must have shape \(batch, 3\).*got shape \(4, 2\)"):
        bplib.experiments.layer_statistics(model, x[:, :2], np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"grad_out must have the shape .* \(4, 2\), got \(4, 3\)"):
        bplib.experiments.layer_statistics(model, x, np.ones((4, 3)))
    assert (model.parameters()[0].grad == 5.0).all()


def test_random_network_refuses_a_non_number_input_std():
    with pytest.raises(TypeError, match="input_std must be a real number, got True"):
        bplib.experiments.random_network(2, 3, "tanh", "xavier_normal", input_std=True)
