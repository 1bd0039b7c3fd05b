"""The optimiser race, each optimiser's state and update, and the line fits: each number by a second route."""
import math

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from models.training import optim_line_fit as lf
from models.training import optimizers as opt
from models.training.optim_surfaces import SURFACES, surface_grid
from models.training.optim_updates import RULES, written_update

KERAS_DEFAULTS = {"sgd": lambda lr, f: keras.optimizers.SGD(lr),
                  "momentum": lambda lr, f: keras.optimizers.SGD(lr, momentum=f(0.9)),
                  "nesterov": lambda lr, f: keras.optimizers.SGD(lr, momentum=f(0.9), nesterov=True),
                  "rmsprop": lambda lr, f: keras.optimizers.RMSprop(lr, rho=f(0.9), epsilon=f(1e-7)),
                  "adam": lambda lr, f: keras.optimizers.Adam(lr, beta_1=f(0.9), beta_2=f(0.999), epsilon=f(1e-7)),
                  "adagrad": lambda lr, f: keras.optimizers.Adagrad(lr, initial_accumulator_value=f(0.1),
                                                                    epsilon=f(1e-7))}


def plain_keras_loop(function, optimizer, start, steps):
    """The textbook eager loop: tape, gradient, apply_gradients, on a Keras variable."""
    variable = keras.Variable(np.array(start, dtype=np.float64), dtype="float64")
    rows = []
    for _ in range(steps + 1):
        with tf.GradientTape() as tape:
            tape.watch(variable.value)
            loss = function(variable[0], variable[1])
        rows.append([*variable.numpy(), float(loss)])
        optimizer.apply_gradients([(tape.gradient(loss, variable.value), variable)])
    return np.array(rows[: steps + 1])


# --- The race against a plain loop and a closed form ---

@pytest.mark.parametrize("name", list(opt.OPTIMIZERS))
@pytest.mark.parametrize("surface", ["ravine", "rosenbrock"])
def test_paths_equal_a_plain_loop_of_the_same_keras_optimizer(name, surface):
    s = SURFACES[surface]
    paths = opt.optimizer_paths(surface, [name], start=s.start, steps=40, learning_rate=s.learning_rate)
    assert list(paths.columns[:5]) == ["optimizer", "step", "x", "y", "loss"]
    assert paths["step"].tolist() == list(range(41)) and not paths["diverged"].any()
    got = paths[["x", "y", "loss"]].to_numpy()
    # Keras' defaults written as float64 scalars, as the race passes them: the same numbers to the last digit.
    exact = plain_keras_loop(s.function, KERAS_DEFAULTS[name](s.learning_rate, np.float64), s.start, 40)
    np.testing.assert_allclose(got, exact, rtol=1e-12, atol=1e-15)
    # Keras' defaults as Python floats, which Keras rounds to float32 (0.9 -> 0.899999976): within that rounding.
    rounded = plain_keras_loop(s.function, KERAS_DEFAULTS[name](s.learning_rate, float), s.start, 40)
    np.testing.assert_allclose(got, rounded, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("rate", [0.125, 0.0625, 0.1875])
def test_sgd_on_a_quadratic_follows_the_closed_form(rate):
    # f = 0.1 x² + 4 y²: each step multiplies x by (1 - 0.2 lr) and y by (1 - 8 lr).
    paths = opt.optimizer_paths("ravine", ["sgd"], start=(-3.5, 1.0), steps=30, learning_rate=rate,
                                box=((-1e9, 1e9), (-1e9, 1e9)))
    t = np.arange(31)
    np.testing.assert_allclose(paths["x"], -3.5 * (1 - 0.2 * rate) ** t, rtol=1e-12)
    np.testing.assert_allclose(paths["y"], 1.0 * (1 - 8 * rate) ** t, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(paths["loss"], 0.1 * paths["x"] ** 2 + 4 * paths["y"] ** 2, rtol=1e-12)


def test_momentum_on_a_one_dimensional_quadratic_follows_its_recurrence():
    # f = x²: v ← m·v − lr·2x, x ← x + v, solved by a plain Python recurrence.
    paths = opt.optimizer_paths(lambda x, y: x**2 + 0 * y, ["momentum"], start=(1.0, 0.0), steps=25,
                                learning_rate=0.125, momentum=0.5)
    x, v, expected = 1.0, 0.0, [1.0]
    for _ in range(25):
        v = 0.5 * v - 0.125 * 2 * x
        x += v
        expected.append(x)
    np.testing.assert_allclose(paths["x"], expected, rtol=1e-13)


def test_momentum_goes_to_the_sgd_kinds_only_and_other_settings_to_their_optimiser():
    race = opt.optimizer_paths("ravine", ["rmsprop", "adam"], start=(-3.5, 1.0), steps=20, learning_rate=0.1,
                               momentum=0.5, beta_1=0.8)
    plain = opt.optimizer_paths("ravine", ["rmsprop"], start=(-3.5, 1.0), steps=20, learning_rate=0.1)
    np.testing.assert_array_equal(race.loc[race["optimizer"] == "rmsprop", ["x", "y"]], plain[["x", "y"]])
    assert opt.optimizer_step_detail("ravine", "adam", start=(-3.5, 1.0), step=2, learning_rate=0.1,
                                     beta_1=0.8).hyper["beta_1"] == 0.8


def test_a_students_own_surface_function_runs():
    paths = opt.optimizer_paths(lambda x, y: (x - 1) ** 2 + (y + 2) ** 2, ["sgd", "adam"], start=(0.0, 0.0),
                                steps=100, learning_rate=0.1)
    sgd = paths[paths["optimizer"] == "sgd"].iloc[-1]
    assert sgd["x"] == pytest.approx(1.0, abs=1e-6) and sgd["y"] == pytest.approx(-2.0, abs=1e-6)


def test_a_path_that_leaves_the_plot_is_cut_and_said_plainly():
    # lr 1.5 on x² + y²: each step multiplies the position by 1 - 3 = -2.
    paths = opt.optimizer_paths("bowl", ["sgd", "adam"], start=(-1.6, 1.2), steps=50, learning_rate=1.5)
    sgd, adam = paths[paths["optimizer"] == "sgd"], paths[paths["optimizer"] == "adam"]
    assert sgd["diverged"].all() and not adam["diverged"].any()
    assert sgd["step"].max() == 0  # step 1 is at (3.2, -2.4), outside [-2, 2]²
    assert sgd["note"].iloc[0] == ("diverged at step 1: it left the plot (x = 3.2, y = -2.4), so its path stops "
                                   "at step 0.")
    assert len(adam) == 51


def test_a_nan_path_is_cut_and_said_plainly():
    paths = opt.optimizer_paths(lambda x, y: tf.math.log(x) + y**2, ["sgd"], start=(0.5, 0.0), steps=10,
                                learning_rate=1.0)  # x = 0.5 - 1/0.5 < 0, where log is NaN
    assert paths["step"].tolist() == [0]
    assert "NaN or infinite" in paths["note"].iloc[0]


def test_first_to_minimum_finds_the_earliest_arrival():
    frame = pd.DataFrame({"optimizer": ["a"] * 3 + ["b"] * 3, "step": [0, 1, 2] * 2,
                          "x": [-1, -0.5, 0.05, -1, 0.0, 0.0], "y": [0.0] * 6})
    assert opt.first_to_minimum(frame, "bowl") == ("b", {"a": 2, "b": 1})
    assert opt.first_to_minimum(frame[frame["step"] == 0], "bowl") == (None, {"a": None, "b": None})


@pytest.mark.parametrize("kwargs, message", [
    ({"learning_rate": 0}, "The learning rate must be a number in (0, 10]; got 0."),
    ({"learning_rate": 1e9}, "The learning rate must be a number in (0, 10]; got 1000000000.0."),
    ({"learning_rate": "abc"}, "The learning rate must be a number in (0, 10]; got 'abc'."),
    ({"learning_rate": math.nan}, "not an ordinary finite number"),
    ({"optimizers": ["adamw"]}, "Unknown optimiser 'adamw'"),
    ({"optimizers": []}, "Choose at least one optimiser."),
    ({"optimizers": ["sgd", "sgd"]}, "only once"),
    ({"steps": 0}, "The number of steps must be a whole number between 1 and 1,000; got 0."),
    ({"surface": "volcano"}, "Unknown surface 'volcano'"),
    ({"momentum": 1.0}, "The momentum must be a number in [0, 1); got 1.0."),
    ({"weight": 3}, "No optimiser takes the setting 'weight'."),
    ({"start": "here"}, "The start must be a point (x, y)."),
])
def test_bad_race_settings_get_a_clear_message(kwargs, message):
    settings = {"surface": "bowl", "optimizers": ["sgd", "momentum"], "start": (1.0, 1.0), "steps": 10,
                "learning_rate": 0.1} | kwargs
    with pytest.raises(ValueError) as error:
        opt.optimizer_paths(settings.pop("surface"), settings.pop("optimizers"), **settings)
    assert message in str(error.value)


# --- What each optimiser keeps, and its update written out ---

@pytest.mark.parametrize("name", list(opt.OPTIMIZERS))
@pytest.mark.parametrize("step", [1, 2, 9])
def test_the_written_update_lands_where_kerass_next_step_does(name, step):
    s = SURFACES["saddle"]
    detail = opt.optimizer_step_detail("saddle", name, start=s.start, step=step, learning_rate=0.05)
    written = written_update(detail)
    np.testing.assert_allclose(written.weights, detail.weights_after, rtol=1e-12, atol=1e-15)
    assert set(written.state) == set(detail.state_after) == set(opt.STATE[name])
    for label in written.state:
        np.testing.assert_allclose(written.state[label], detail.state_after[label], rtol=1e-12, atol=1e-15)
    # The same update from the compiled race: its step number `step` is Keras' point after this update.
    paths = opt.optimizer_paths("saddle", [name], start=s.start, steps=step, learning_rate=0.05)
    np.testing.assert_allclose(paths[["x", "y"]].to_numpy()[step - 1], detail.weights_before, rtol=1e-12)
    np.testing.assert_allclose(paths[["x", "y"]].to_numpy()[step], detail.weights_after, rtol=1e-12)
    assert written.lines[0].startswith(f"step {step}:  w = ") and len(written.lines) > len(RULES[name])


def test_the_gradient_is_the_surfaces_slope_by_hand():
    detail = opt.optimizer_step_detail("rosenbrock", "sgd", start=(-1.2, 1.0), step=1, learning_rate=0.001)
    x, y = -1.2, 1.0
    np.testing.assert_allclose(detail.gradient, [-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)],
                               rtol=1e-12)


def test_state_starts_as_keras_initialises_it():
    start = SURFACES["bowl"].start
    first = {name: opt.optimizer_step_detail("bowl", name, start=start, step=1, learning_rate=0.1)
             for name in opt.OPTIMIZERS}
    assert first["sgd"].state_before == {}
    np.testing.assert_array_equal(first["momentum"].state_before["v"], [0, 0])
    np.testing.assert_array_equal(first["adam"].state_before["m"], [0, 0])
    np.testing.assert_array_equal(first["rmsprop"].state_before["avg g²"], [0, 0])
    np.testing.assert_allclose(first["adagrad"].state_before["accumulator"], [0.1, 0.1])


def test_adam_in_textbook_form_with_epsilon_outside_the_bias_correction():
    detail = opt.optimizer_step_detail("ravine", "adam", start=(-3.5, 1.0), step=4, learning_rate=0.1)
    written, h, t = written_update(detail), detail.hyper, 4
    m_hat, v_hat = written.extra["m̂"], written.extra["v̂"]
    eps_hat = h["epsilon"] / math.sqrt(1 - h["beta_2"] ** t)
    np.testing.assert_allclose(detail.weights_before - h["learning_rate"] * m_hat / (np.sqrt(v_hat) + eps_hat),
                               detail.weights_after, rtol=1e-12)
    assert (h["beta_1"], h["beta_2"], h["epsilon"]) == (0.9, 0.999, 1e-7)  # Keras 3's defaults


def test_rmsprop_defaults_and_the_first_step_of_about_three_learning_rates():
    detail = opt.optimizer_step_detail("bowl", "rmsprop", start=(-1.6, 1.2), step=1, learning_rate=0.1)
    assert (detail.hyper["rho"], detail.hyper["epsilon"]) == (0.9, 1e-7)
    # s = 0.1·g², so the first step is lr·g / √(0.1 g²) = √10·lr in each coordinate, whatever the gradient.
    np.testing.assert_allclose(np.abs(detail.weights_after - detail.weights_before), math.sqrt(10) * 0.1,
                               rtol=1e-5)


# --- Surfaces ---

def test_the_surface_grid_is_the_formula():
    grid = surface_grid("rosenbrock", cells=20)
    assert len(grid) == 400
    np.testing.assert_allclose(grid["loss"], (1 - grid["x"]) ** 2 + 100 * (grid["y"] - grid["x"] ** 2) ** 2,
                               rtol=1e-12)
    assert (grid["x1"] < grid["x"]).all() and (grid["x"] < grid["x2"]).all()


@pytest.mark.parametrize("name", list(SURFACES))
def test_each_surface_has_its_minimum_where_it_says(name):
    s = SURFACES[name]
    for point in s.minima:
        assert float(s.function(tf.constant(point[0], tf.float64), tf.constant(point[1], tf.float64))) == \
            pytest.approx(s.minimum, abs=1e-12)
    assert surface_grid(name)["loss"].min() >= s.minimum - 1e-12


# --- Batch, mini-batch, stochastic ---

@pytest.fixture(scope="module")
def points():
    return lf.make_line_points(100, 0.5, 0)


def numpy_sgd(x, y, *, batch_size, epochs, rate, seed, start=(0.0, 0.0)):
    w, b = start
    rows = [(w, b)]
    for order in lf.batch_order(len(x), epochs, seed):
        for s, e in lf.batches(len(x), batch_size):
            xb, yb = x[order[s:e]], y[order[s:e]]
            error = w * xb + b - yb
            w, b = w - rate * 2 * np.mean(error * xb), b - rate * 2 * np.mean(error)
            rows.append((w, b))
    return np.array(rows)


def test_full_batch_is_numpy_gradient_descent(points):
    x, y = points["x"].to_numpy(), points["y"].to_numpy()
    path = lf.line_fit_path(x, y, batch_size=100, epochs=30, learning_rate=0.125)
    w, b, expected = 0.0, 0.0, [(0.0, 0.0)]
    for _ in range(30):  # no shuffle at all: the full gradient does not depend on the order
        error = w * x + b - y
        w, b = w - 0.125 * 2 * np.mean(error * x), b - 0.125 * 2 * np.mean(error)
        expected.append((w, b))
    np.testing.assert_allclose(path[["w", "b"]].to_numpy(), expected, rtol=1e-12, atol=1e-14)
    assert path["step"].tolist() == list(range(31)) and path["epoch"].tolist() == list(range(31))
    mse = [np.mean((w * x + b - y) ** 2) for w, b in expected]
    np.testing.assert_allclose(path["loss"], mse, rtol=1e-12)


@pytest.mark.parametrize("batch_size", [32, 1, 7])
def test_mini_batches_are_a_numpy_loop_with_the_same_shuffle(points, batch_size):
    x, y = points["x"].to_numpy(), points["y"].to_numpy()
    path = lf.line_fit_path(x, y, batch_size=batch_size, epochs=3, learning_rate=0.0625, seed=5)
    expected = numpy_sgd(x, y, batch_size=batch_size, epochs=3, rate=0.0625, seed=5)
    np.testing.assert_allclose(path[["w", "b"]].to_numpy(), expected, rtol=1e-10, atol=1e-12)
    per_epoch = math.ceil(100 / batch_size)
    assert len(path) == 3 * per_epoch + 1
    assert path["epoch"].tolist() == [0] + [e for e in (1, 2, 3) for _ in range(per_epoch)]


def test_a_different_seed_shuffles_differently_and_the_same_seed_repeats(points):
    fit = dict(batch_size=10, epochs=2, learning_rate=0.1)
    a = lf.line_fit_path(points["x"], points["y"], seed=1, **fit)
    b = lf.line_fit_path(points["x"], points["y"], seed=1, **fit)
    c = lf.line_fit_path(points["x"], points["y"], seed=2, **fit)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["w"], c["w"])


def test_the_stability_limit_is_the_curvature_tensorflow_measures(points):
    x = points["x"].to_numpy()
    largest, limit = lf.stability_limit(x)
    wb = tf.Variable([0.3, -0.2], dtype=tf.float64)
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            loss = tf.reduce_mean((wb[0] * x + wb[1] - points["y"].to_numpy()) ** 2)
        gradient = inner.gradient(loss, wb)
    hessian = outer.jacobian(gradient, wb).numpy()
    assert largest == pytest.approx(np.linalg.eigvalsh(hessian)[-1], rel=1e-12)
    assert limit == pytest.approx(2 / largest)


def test_the_four_learning_rates_crawl_converge_oscillate_and_diverge(points):
    rates = lf.learning_rate_presets(points["x"])
    assert list(rates) == ["too small", "good", "too large", "far too large"]
    fits = {name: lf.line_fit_path(points["x"], points["y"], batch_size=100, epochs=20, learning_rate=rate)
            for name, rate in rates.items()}
    final = {name: fit["loss"].iloc[-1] for name, fit in fits.items()}
    assert final["good"] < final["too large"] < final["too small"] < fits["too small"]["loss"].iloc[0]
    assert final["far too large"] > 10 * fits["far too large"]["loss"].iloc[0]
    w_steps = np.diff(fits["too large"]["w"].to_numpy()[5:])
    assert (np.sign(w_steps[1:]) != np.sign(w_steps[:-1])).mean() > 0.8  # it zig-zags
    assert (np.diff(fits["good"]["loss"]) <= 1e-12).all()


def test_the_line_loss_grid_is_numpys_mse(points):
    grid = lf.line_loss_grid(points["x"], points["y"], ((-1, 3), (-1, 2)), cells=10)
    x, y = points["x"].to_numpy(), points["y"].to_numpy()
    expected = [np.mean((w * x + b - y) ** 2) for w, b in zip(grid["w"], grid["b"])]
    np.testing.assert_allclose(grid["loss"], expected, rtol=1e-12)


@pytest.mark.parametrize("x, y, kwargs, message", [
    ([1, 2], [1], {}, "got 2 x values and 1 y values"),
    ([], [], {}, "between 1 and 2,000 points; got 0"),
    ([1, np.nan], [1, 2], {}, "ordinary finite number"),
    (["a", "b"], [1, 2], {}, "The points must be numbers."),
    ([1, 2], [1, 2], {"batch_size": 0}, "The batch size must be a whole number between 1 and 2; got 0."),
    ([1, 2], [1, 2], {"learning_rate": 0}, "The learning rate must be a number in (0, 10]; got 0."),
    ([1, 2], [1, 2], {"learning_rate": 1e9}, "The learning rate must be a number in (0, 10]"),
    ([1, 2], [1, 2], {"epochs": 1.5}, "The number of epochs must be a whole number"),
    (list(range(100)), list(range(100)), {"batch_size": 1, "epochs": 500}, "50,000 updates; at most 20,000"),
])
def test_bad_line_fits_get_a_clear_message(x, y, kwargs, message):
    settings = {"batch_size": 1, "epochs": 2, "learning_rate": 0.1} | kwargs
    with pytest.raises(ValueError) as error:
        lf.line_fit_path(x, y, **settings)
    assert message in str(error.value)
