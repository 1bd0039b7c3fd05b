"""The over/underfitting presets: builder arguments and epochs per preset, and the data they share."""

# Shared by the over/underfitting page and the benchmark: builder arguments and epochs per preset.
CAPACITY_PRESETS = {
    "underfit": {"label": "Underfit: no hidden layer (a straight-line boundary)",
                 "model": {"hidden_units": ()}, "epochs": 300},
    "good fit": {"label": "Good fit: one hidden layer of 8 neurons",
                 "model": {"hidden_units": (8,)}, "epochs": 300},
    "overfit": {"label": "Overfit: three hidden layers of 128 neurons",
                "model": {"hidden_units": (128, 128, 128)}, "epochs": 300},
}
# Few noisy points and a large validation share, so that the overfit preset visibly memorises
# (its validation loss bottoms out early, then climbs) while a straight line cannot fit circles.
PRESET_DATA = {"dataset": "circles", "n_samples": 200, "noise": 0.2, "validation_fraction": 0.5,
               "batch_size": 32, "optimizer": "adam", "learning_rate": 0.01}
