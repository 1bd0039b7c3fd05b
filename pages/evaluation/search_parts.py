"""Charts and the keras-tuner code of the hyperparameter-search page."""
import altair as alt
import pandas as pd

from models.evaluation.search import SPACE, STRATEGIES, candidates

STRATEGY_COLORS = alt.Scale(domain=["grid", "random"], range=["#1f77b4", "#ff7f0e"])
LEGEND = alt.Legend(orient="top", direction="horizontal", labelLimit=0, title=None)
LABELS = {"learning_rate": "learning rate", "units": "neurons per layer", "l2": "L2 penalty",
          "dropout_rate": "dropout rate"}

KERAS_TUNER = '''import keras
import keras_tuner as kt  # pip install keras-tuner tensorboard


def build_model(hp):
    units = hp.Int("units", 2, 64, sampling="log")
    penalty = keras.regularizers.L2(hp.Float("l2", 1e-5, 1e-2, sampling="log"))
    rate = hp.Float("dropout_rate", 0.0, 0.5)
    model = keras.Sequential([
        keras.Input((2,)),
        keras.layers.Dense(units, activation="relu", kernel_regularizer=penalty),
        keras.layers.Dropout(rate),
        keras.layers.Dense(units, activation="relu", kernel_regularizer=penalty),
        keras.layers.Dropout(rate),
        keras.layers.Dense(1, activation="sigmoid", kernel_regularizer=penalty),
    ])
    learning_rate = hp.Float("learning_rate", 1e-4, 0.3, sampling="log")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="binary_crossentropy", metrics=["accuracy"])
    return model


tuner = kt.RandomSearch(build_model, objective="val_accuracy", max_trials=16, seed=0,
                        directory="search", project_name="moons")  # or kt.GridSearch(build_model, ...)
stop = keras.callbacks.EarlyStopping(patience=10, restore_best_weights=True)
tuner.search(x_train, y_train, validation_data=(x_val, y_val), epochs=100, callbacks=[stop])
tuner.results_summary()  # every trial should show a score
best = tuner.get_best_models(1)[0]
'''


def score_charts(results: pd.DataFrame, names) -> list[alt.Chart]:
    """Validation accuracy against each searched hyperparameter, grid and random trials together."""
    charts = []
    for name in names:
        scale = alt.Scale(type="log") if SPACE[name].log else alt.Scale(zero=True)
        charts.append(alt.Chart(results).mark_circle(size=90, opacity=0.8).encode(
            x=alt.X(f"{name}:Q", title=LABELS[name], scale=scale, axis=alt.Axis(grid=False, tickCount=5)),
            y=alt.Y("val_accuracy:Q", title="validation accuracy", scale=alt.Scale(zero=False)),
            color=alt.Color("strategy:N", scale=STRATEGY_COLORS, legend=LEGEND),
            tooltip=["strategy:N", "trial:Q", *[alt.Tooltip(f"{n}:Q", format=".3g") for n in names],
                     alt.Tooltip("val_accuracy:Q", format=".3f")]).properties(height=220))
    return charts


def values_tried(results: pd.DataFrame, names) -> pd.DataFrame:
    """How many trials each strategy ran (a full grid may fit fewer than the budget) and the values it tried."""
    return pd.DataFrame([{"strategy": strategy, "trials": len(part),
                          **{LABELS[n]: int(part[n].nunique()) for n in names}}
                         for strategy, part in results.groupby("strategy")])


def trials_frame(space: dict, budget: int, seed: int) -> pd.DataFrame:
    """The settings each strategy's trials will use (before any training), one row per trial."""
    return pd.DataFrame([{"strategy": strategy, "trial": number, **trial} for strategy in STRATEGIES
                         for number, trial in enumerate(candidates(space, strategy=strategy, budget=budget,
                                                                   seed=seed), start=1)])


def trials_chart(trials: pd.DataFrame, names, height: int = 330) -> alt.Chart:
    """Where the trials fall in the first two searched hyperparameters: grid points on lines, random ones spread."""
    axes = [alt.X, alt.Y]
    encoding = {}
    for axis, name in zip(axes, names[:2]):
        scale = alt.Scale(type="log") if SPACE[name].log else alt.Scale(zero=False)
        encoding[axis.__name__.lower()] = axis(f"{name}:Q", title=LABELS[name], scale=scale,
                                               axis=alt.Axis(tickCount=5))
    if len(names) < 2:
        encoding["y"] = alt.Y("strategy:N", title=None)
    return alt.Chart(trials).mark_point(size=90, filled=True, opacity=0.85).encode(
        **encoding, color=alt.Color("strategy:N", scale=STRATEGY_COLORS, legend=LEGEND),
        shape=alt.Shape("strategy:N", legend=None),
        tooltip=["strategy:N", "trial:Q", *[alt.Tooltip(f"{n}:Q", format=".3g") for n in names]],
    ).properties(height=height)
