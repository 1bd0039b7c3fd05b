"""Loss functions: Keras' values and autodiff slopes against hand formulas and finite differences."""
import itertools
import math

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from scipy.optimize import minimize

from models.engine.mlp import build_mlp
from models.training import loss_fit as F
from models.training import losses as L

EPS = 1e-7


def bce_by_hand(t, p):
    p = min(max(p, EPS), 1 - EPS)  # Keras' clip
    return -(t * math.log(p) + (1 - t) * math.log(1 - p))


def huber_by_hand(t, p, delta):
    e = abs(p - t)
    return 0.5 * e * e if e <= delta else delta * (e - 0.5 * delta)


def keras_mean(name, t, p, **params):
    """The loss through a plain float64 Keras call (no checks), for finite differences."""
    return float(L.make_loss(name, **params)(np.asarray(t, np.float64), np.asarray(p, np.float64)))


def finite_difference(name, t, p, h=1e-6, **params):
    p = np.asarray(p, np.float64)
    grad = np.zeros_like(p)
    for index in np.ndindex(p.shape):
        up, down = p.copy(), p.copy()
        up[index] += h
        down[index] -= h
        grad[index] = (keras_mean(name, t, up, **params) - keras_mean(name, t, down, **params)) / (2 * h)
    return grad


T = [1.5, -0.5, 2.0, 0.0]
P = [1.0, 0.7, 4.5, -0.2]


def test_mse_and_mae_by_hand():
    e = np.array(P) - np.array(T)
    value, grad = L.loss_and_gradient("mse", T, P)
    assert value == pytest.approx(np.mean(e ** 2), abs=1e-12)
    np.testing.assert_allclose(grad, 2 * e / len(e), atol=1e-12)
    value, grad = L.loss_and_gradient("mae", T, P)
    assert value == pytest.approx(np.mean(np.abs(e)), abs=1e-12)
    np.testing.assert_allclose(grad, np.sign(e) / len(e), atol=1e-12)


@pytest.mark.parametrize("delta", [0.3, 1.0, 2.5])
def test_huber_by_hand(delta):
    value, grad = L.loss_and_gradient("huber", T, P, delta=delta)
    assert value == pytest.approx(np.mean([huber_by_hand(t, p, delta) for t, p in zip(T, P)]), abs=1e-12)
    e = np.array(P) - np.array(T)
    np.testing.assert_allclose(grad, np.clip(e, -delta, delta) / len(e), atol=1e-12)


@pytest.mark.parametrize("name,params,t,p", [
    ("mse", {}, T, P), ("mae", {}, T, P), ("huber", {"delta": 0.8}, T, P),
    ("binary_crossentropy", {}, [1, 0, 1, 0.3], [0.9, 0.2, 0.35, 0.6]),
    ("binary_crossentropy", {"from_logits": True}, [1, 0, 1], [2.0, -0.5, -6.0]),
    ("categorical_crossentropy", {}, [[0, 1, 0], [1, 0, 0]], [[0.2, 0.7, 0.1], [0.5, 0.25, 0.25]]),
    ("categorical_crossentropy", {"from_logits": True}, [[0, 1, 0], [0, 0, 1]], [[2.0, 1.0, 0.0], [0.3, -1, 4]]),
])
def test_gradients_match_finite_differences(name, params, t, p):
    value, grad = L.loss_and_gradient(name, t, p, **params)
    assert value == pytest.approx(keras_mean(name, t, p, **params), abs=1e-12)
    np.testing.assert_allclose(grad, finite_difference(name, t, p, **params), atol=1e-6)


def test_binary_crossentropy_by_hand_and_the_worked_example():
    value, grad = L.loss_and_gradient("binary_crossentropy", [1], [0.9])
    assert value == pytest.approx(-math.log(0.9), abs=1e-12)
    assert round(value, 4) == 0.1054
    assert grad[0] == pytest.approx(-1 / 0.9, abs=1e-9)
    t, p = [1, 0, 1, 0.3], [0.9, 0.2, 0.35, 0.6]
    value, grad = L.loss_and_gradient("binary_crossentropy", t, p)
    assert value == pytest.approx(np.mean([bce_by_hand(a, b) for a, b in zip(t, p)]), abs=1e-12)
    by_hand = [(-a / b + (1 - a) / (1 - b)) / len(t) for a, b in zip(t, p)]
    np.testing.assert_allclose(grad, by_hand, atol=1e-9)


def test_bce_from_logits_equals_bce_of_the_sigmoid_and_its_slope_is_sigmoid_minus_target():
    z, t = np.array([2.0, -0.5, -6.0]), np.array([1.0, 0.0, 1.0])
    s = 1 / (1 + np.exp(-z))
    value, grad = L.loss_and_gradient("binary_crossentropy", t, z, from_logits=True)
    assert value == pytest.approx(np.mean([bce_by_hand(a, b) for a, b in zip(t, s)]), abs=1e-9)
    np.testing.assert_allclose(grad, (s - t) / len(t), atol=1e-12)


def test_categorical_crossentropy_by_hand():
    t, p = np.array([[0, 1, 0], [1, 0, 0]], float), np.array([[0.2, 0.7, 0.1], [0.5, 0.25, 0.25]])
    value, grad = L.loss_and_gradient("categorical_crossentropy", t, p)
    assert value == pytest.approx(-(math.log(0.7) + math.log(0.5)) / 2, abs=1e-12)
    # Keras divides p by its row sum first, so dL/dp_j = (−t_j/p_j + 1) / batch when the rows add up to 1.
    np.testing.assert_allclose(grad, (-t / p + 1) / 2, atol=1e-9)
    z = np.array([[2.0, 1.0, 0.0]])
    value, grad = L.loss_and_gradient("categorical_crossentropy", [[0, 1, 0]], z, from_logits=True)
    soft = np.exp(z) / np.exp(z).sum()
    assert value == pytest.approx(-math.log(soft[0, 1]), abs=1e-12)
    np.testing.assert_allclose(grad, soft - [[0, 1, 0]], atol=1e-12)


@pytest.mark.parametrize("target,prediction", [(1, 0.0), (0, 1.0), (1, 1e-9), (0, 1 - 1e-9)])
def test_bce_at_a_prediction_of_exactly_0_or_1_is_clipped_finite_and_flat(target, prediction):
    value, grad = L.loss_and_gradient("binary_crossentropy", [target], [prediction])
    assert value == pytest.approx(-math.log(EPS), rel=1e-7)  # 16.1181, not infinity
    assert round(value, 4) == 16.1181
    assert grad[0] == 0.0  # the clip passes no gradient
    text, slope_text, *_ = L.written_out("binary_crossentropy", target, prediction)
    assert "clips" in text and "16.1181" in text and "0.0000" in slope_text
    # A correct prediction at exactly the label is clipped too: the loss is -ln(1 - 1e-7), about 1e-7, not 0.
    value, grad = L.loss_and_gradient("binary_crossentropy", [target], [float(target)])
    assert value == pytest.approx(EPS, rel=1e-6) and grad[0] == 0.0


def test_per_point_curves_equal_single_calls():
    grid = [0.1, 0.5, 0.9]
    for name, params in [("mse", {}), ("huber", {"delta": 0.2}), ("binary_crossentropy", {})]:
        values, slopes = L.per_point(name, 1.0, grid, **params)
        for p, v, s in zip(grid, values, slopes):
            value, grad = L.loss_and_gradient(name, [1.0], [p], **params)
            assert v == pytest.approx(value, abs=1e-12) and s == pytest.approx(grad[0], abs=1e-12)


def test_loss_curves_cover_the_task_range():
    frame = L.loss_curves(["mse", "binary_crossentropy"], "classification", 1.0)
    assert set(frame["loss"]) == {"MSE", "binary cross-entropy"}
    assert frame["prediction"].min() > 0 and frame["prediction"].max() < 1
    frame = L.loss_curves(list(L.REGRESSION), "regression", 2.0, delta=1.0)
    assert frame["prediction"].min() == pytest.approx(-2.0) and frame["prediction"].max() == pytest.approx(6.0)


def test_written_out_numbers_match_hand_arithmetic():
    text, slope, value, grad = L.written_out("mse", 1.0, 0.9)
    assert text.endswith("= 0.0100") and slope.endswith("= -0.2000")
    text, slope, value, grad = L.written_out("huber", 0.0, 3.0, delta=1.0)
    assert value == pytest.approx(huber_by_hand(0.0, 3.0, 1.0)) and "2.5000" in text and "> δ" in text
    text, slope, value, grad = L.written_out("binary_crossentropy", 1.0, 0.9)
    assert "−ln 0.9 = 0.1054" in text and slope.endswith("-1.1111")


# --- Why cross-entropy: gradients with respect to the logit ---

def test_logit_gradients_by_hand_and_the_confidently_wrong_claim():
    z = np.linspace(-8, 8, 33)
    s = 1 / (1 + np.exp(-z))
    frame = L.logit_gradients(1, z)
    mse = frame[frame["pairing"] == L.PAIRINGS[0]]
    bce = frame[frame["pairing"] == L.PAIRINGS[1]]
    np.testing.assert_allclose(mse["gradient"], 2 * (s - 1) * s * (1 - s), atol=1e-12)
    np.testing.assert_allclose(bce["gradient"], s - 1, atol=1e-12)
    np.testing.assert_allclose(mse["loss"], (s - 1) ** 2, atol=1e-12)
    np.testing.assert_allclose(bce["loss"], np.log1p(np.exp(-z)), atol=1e-12)
    probe = L.logit_probe(1, -6.0)
    mse_grad, bce_grad = probe[L.PAIRINGS[0]][1], probe[L.PAIRINGS[1]][1]
    assert abs(mse_grad) < 0.005 and mse_grad < 0  # nearly vanishes: about -0.0049
    assert bce_grad == pytest.approx(-0.9975, abs=1e-4)  # stays near -1
    assert probe["probability"] == pytest.approx(1 / (1 + math.exp(6)))


def test_logit_gradients_against_a_keras_model_with_a_sigmoid_output():
    """Second route: a one-weight Keras model whose output neuron is sigmoid(logit); the kernel gradient is dL/dz."""
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, activation="sigmoid", use_bias=False,
                                                                     dtype="float64")])
    model.layers[0].kernel.assign([[-6.0]])
    x, y = tf.constant([[1.0]], tf.float64), tf.constant([[1.0]], tf.float64)
    for pairing, loss in zip(L.PAIRINGS, (keras.losses.MeanSquaredError(), keras.losses.BinaryCrossentropy())):
        with tf.GradientTape() as tape:
            value = loss(y, model(x))
        grad = float(tape.gradient(value, model.layers[0].kernel).numpy()[0, 0])
        assert grad == pytest.approx(L.logit_probe(1, -6.0)[pairing][1], rel=1e-4)


# --- The which-loss table runs ---

def test_every_compile_line_in_the_table_compiles_and_trains_a_matching_model():
    shapes = {"Dense(1), linear": (1, None), "Dense(1, activation=\"sigmoid\"): ONE neuron": (1, "sigmoid"),
              "Dense(K, activation=\"softmax\")": (3, "softmax")}
    for row in L.WHICH_LOSS.itertuples():
        units, activation = shapes[row[2]]
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(units, activation=activation)])
        exec(row[4], {"model": model})
        x = np.zeros((4, 2), np.float32)
        y = {"mse": np.zeros((4, 1)), "binary_crossentropy": np.array([[0], [1], [0], [1]]),
             "categorical_crossentropy": np.eye(3)[[0, 1, 2, 0]], "sparse_categorical_crossentropy": np.array(
                 [0, 1, 2, 0])}[model.loss]
        model.fit(x, y, epochs=1, verbose=0)
    assert "ONE neuron" in L.WHICH_LOSS.loc[1, "output layer"]


# --- Bad input gets a message a student understands ---

@pytest.mark.parametrize("args,params,message", [
    (("hinge", [1], [1]), {}, "Unknown loss 'hinge'"),
    (("mse", [1, 2], [1]), {}, "same shape"),
    (("mse", [], []), {}, "empty"),
    (("mse", ["a"], [1]), {}, "must be a number; got 'a'"),
    (("mse", [1], [float("nan")]), {}, "not an ordinary finite number"),
    (("mse", [True], [1]), {}, "got true"),
    (("huber", [1], [1]), {"delta": 0}, "δ (delta) must be a number above 0"),
    (("huber", [1], [1]), {"delta": "x"}, "δ (delta) must be a number"),
    (("mse", [1], [1]), {"delta": 1}, "has no setting delta"),
    (("binary_crossentropy", [1], [1.5]), {}, "use from_logits=True"),
    (("binary_crossentropy", [2], [0.5]), {}, "targets between 0 and 1"),
    (("binary_crossentropy", [1], [0.5]), {"from_logits": "yes"}, "True or False"),
    (("categorical_crossentropy", [[1, 1]], [[0.5, 0.5]]), {}, "one-hot"),
    (("categorical_crossentropy", [[0, 1]], [[0.2, 0.2]]), {}, "adding up to 1"),
    (("categorical_crossentropy", [1], [1]), {}, "at least 2"),
    (("mse", [[[1]]], [[[1]]]), {}, "levels of nesting"),
])
def test_bad_input_raises_a_readable_value_error(args, params, message):
    with pytest.raises(ValueError, match=None) as info:
        L.loss_and_gradient(*args, **params)
    assert message in str(info.value)


# --- Outliers: lines fitted by the training engine, against closed forms and a plain Keras fit ---

def least_absolute_line(x, y):
    """Brute force: an L1 line passes through two of the points; return (mean |error|, slope, intercept)."""
    best = None
    for i, j in itertools.combinations(range(len(x)), 2):
        if x[i] != x[j]:
            w = (y[j] - y[i]) / (x[j] - x[i])
            b = y[i] - w * x[i]
            best = min(best or (math.inf,), (np.abs(y - w * x - b).mean(), w, b))
    return best


def huber_line(x, y, delta):
    def mean_huber(params):
        return np.mean([huber_by_hand(t, params[0] * a + params[1], delta) for a, t in zip(x, y)])
    result = minimize(mean_huber, np.polyfit(x, y, 1), method="Nelder-Mead",
                      options={"xatol": 1e-9, "fatol": 1e-12, "maxiter": 20000})
    return result.x


@pytest.fixture(scope="module")
def fits():
    x, y = F.parse_points(F.as_table(F.REFERENCE))
    xj, yj = F.parse_points(F.jumped(F.as_table(F.REFERENCE)))
    cache = {}
    return {"before": (x, y, F.fit_lines(x, y, cache=cache)), "after": (xj, yj, F.fit_lines(xj, yj, cache=cache))}


@pytest.mark.parametrize("which", ["before", "after"])
def test_line_fits_match_least_squares_least_absolute_and_huber_optima(fits, which):
    x, y, fit = fits[which]
    np.testing.assert_allclose([fit["mse"].slope, fit["mse"].intercept], np.polyfit(x, y, 1), atol=2e-3)
    np.testing.assert_allclose([fit["huber"].slope, fit["huber"].intercept], huber_line(x, y, 1.0), atol=2e-3)
    best, w, b = least_absolute_line(x, y)
    mae = np.abs(y - fit["mae"].slope * x - fit["mae"].intercept).mean()
    assert best - 1e-9 <= mae <= best * 1.01 + 1e-3
    assert abs(fit["mae"].slope - w) < 0.05
    assert all(f.status == "finished" for f in fit.values())
    assert fit["mse"].final_loss == pytest.approx(np.mean((y - np.polyval(np.polyfit(x, y, 1), x)) ** 2), rel=1e-3)


def test_one_jumping_point_moves_the_mse_line_most(fits):
    x, _, before = fits["before"]
    _, _, after = fits["after"]
    table = F.movement(before, after, x.min(), x.max())
    assert F.most_moved(table) == "MSE"
    moves = dict(zip(table["loss"], table["largest move"]))
    assert moves["MSE"] > 5 * moves["Huber"] and moves["MSE"] > 5 * moves["MAE"]
    # By hand: the least-squares lines before and after, compared at x = 0 and x = 7.
    (w0, b0), (w1, b1) = np.polyfit(*fits["before"][:2], 1), np.polyfit(*fits["after"][:2], 1)
    assert moves["MSE"] == pytest.approx(max(abs(b1 - b0), abs(7 * (w1 - w0) + b1 - b0)), abs=0.02)


@pytest.mark.parametrize("loss", ["mse", "mae", "huber"])
def test_engine_line_fit_equals_a_plain_keras_fit(loss):
    x, y = F.parse_points(F.jumped(F.as_table(F.REFERENCE)))
    fit = F.fit_lines(x, y, epochs=40, learning_rate=0.05, delta=1.5)[loss]
    model = build_mlp(input_dim=1, hidden_units=(), output_activation="linear", seed=0)
    keras_loss = {"mse": keras.losses.MeanSquaredError(), "mae": keras.losses.MeanAbsoluteError(),
                  "huber": keras.losses.Huber(delta=1.5)}[loss]
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss=keras_loss)
    model.fit(x[:, None].astype(np.float32), y.astype(np.float32), epochs=40, batch_size=len(x), shuffle=False,
              verbose=0)
    output = model.get_layer("output")
    assert fit.slope == pytest.approx(float(output.kernel.numpy()[0, 0]), abs=1e-4)
    assert fit.intercept == pytest.approx(float(output.bias.numpy()[0]), abs=1e-4)


def test_parse_points_reads_student_numbers_and_skips_blank_rows():
    table = pd.DataFrame({"x": ["1,5", " 2e1 ", "", "−3"], "y": ["2", "4.5", None, "0"]})
    x, y = F.parse_points(table)
    np.testing.assert_array_equal(x, [1.5, 20.0, -3.0])
    np.testing.assert_array_equal(y, [2.0, 4.5, 0.0])


@pytest.mark.parametrize("x,y,message", [
    (["1", "2", "3"], ["1", "abc", "2"], "Row 2, column y: 'abc' is not a number"),
    (["1", "2"], ["1", ""], "Row 2, column y is empty"),
    (["1", "2"], ["1", "2e3"], "Row 2, column y must be a number between -50 and 50; got 2000.0"),
    (["1"], ["1"], "at least 2 points; the table has 1"),
    ([], [], "at least 2 points; the table has 0"),
    (["3", "3"], ["1", "2"], "same x"),
    (["1", "2"], ["1", "1e400"], "too large"),
])
def test_parse_points_names_the_bad_cell(x, y, message):
    with pytest.raises(ValueError) as info:
        F.parse_points(pd.DataFrame({"x": x, "y": y}))
    assert message in str(info.value)
