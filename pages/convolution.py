"""Convolution: a kernel by hand and by Keras, pooling and its shift tolerance, and a small CNN trained live."""
import numpy as np
import streamlit as st

from models.core.guess import grade_choice, grade_number
from models.engine import cnn
from models.images import convolution as cv
from models.images import digits
from models.images.conv_keras import keras_convolve2d, keras_pool2d
from pages.evaluation.present_parts import folded
from pages.images import convolution_parts as parts
from pages.images.convolution_link import DEFAULTS, KERNEL_TEXT, PAGE, SCHEMA, K, restore_kernel, span
from pages.shared import links
from pages.shared.errors import show_unexpected
from pages.shared.feedback import RevealGate, show_verdict
from pages.shared.navigation import ensure_app_navigation
from pages.shared.present import explain, presenting

ensure_app_navigation()

state = st.session_state
for key, value in {**DEFAULTS, KERNEL_TEXT: ""}.items():  # "": the preset's kernel, unedited
    state.setdefault(key, value)
kernel_gate = RevealGate(K + "kernel", question="convolution.kernel")
accuracy_gate = RevealGate(K + "accuracy", question="convolution.accuracy")
keras_conv = st.cache_data(max_entries=100, show_spinner=False)(keras_convolve2d)
keras_pool = st.cache_data(max_entries=100, show_spinner=False)(keras_pool2d)


def show_convolution(preview):
    st.header("1 · One convolution")
    explain("A kernel slides over the picture. At each position it multiplies the pixels under it by its "
            "weights, adds the products and the bias: one number of the **output map**. Keras (like every "
            "deep-learning library) does not flip the kernel.")
    picture = st.container() if presenting() else None  # presenting: the maps first, the settings folded below
    with (box := folded("Input, kernel, stride, padding, dilation")):
        image = parts.pick_input()
        kernel, settings = parts.read_kernel()
    guess_kernel()
    if image is None or kernel is None:
        return None
    try:
        sizes = [cv.size_formula(n, kernel_size=k, stride=settings["stride"], padding=settings["padding"],
                                 dilation=settings["dilation"]) for n, k in zip(image.shape, kernel.shape)]
        out = cv.convolve2d(image, kernel, **settings)
    except ValueError as problem:
        st.error(str(problem), icon=":material/error:")
        return None
    box.markdown(f"**Output size** (n = {image.shape[0]}, k = {kernel.shape[0]}, s = {settings['stride']}, "
                 f"d = {settings['dilation']}, padding '{settings['padding']}'): {sizes[0]}"
                 + (f"; across: {sizes[1]}" if image.shape[0] != image.shape[1] else ""))
    if settings["stride"] > max(image.shape):
        st.warning(f"The stride ({settings['stride']}) is larger than the picture ({image.shape[0]} pixels): the "
                   "kernel fits only at the first position, so the output is a single number.")
    c1, c2 = box.columns(2)
    for axis, column, n in (("row", c1, out.shape[0]), ("col", c2, out.shape[1])):
        state[f"{K}{axis}"] = min(state.get(f"{K}{axis}", n // 2), n - 1)  # a linked position stays on the map
        column.number_input(f"Output {'row' if axis == 'row' else 'column'} (0–{n - 1})", 0, n - 1, key=f"{K}{axis}")
    step = cv.output_arithmetic(image, kernel, state[K + "row"], state[K + "col"], **settings)
    parts.show_maps(picture if picture is not None else st.container(), image, out, step)
    if preview is not None:
        parts.show_preview(preview, image, out)
    st.code("\n".join(step.lines()), language=None, wrap_lines=True)
    both = settings["stride"] > 1 and settings["dilation"] > 1
    gap = None if both else np.abs(out - keras_conv(image, kernel, **settings)).max()
    st.caption("`keras.layers.Conv2D(1, kernel_size, ...)` holding this kernel and bias gives the same map: "
               f"largest difference {gap:.1e}." if gap is not None else
               "Keras refuses a stride above 1 together with a dilation above 1; this map is the hand route only.")
    return out


def guess_kernel() -> None:
    with st.expander("Predict first: which kernel finds vertical edges?", expanded=not kernel_gate.revealed(1)):
        guess = st.radio("Your answer", list(cv.KERNELS), index=None, key=K + "kernel_guess", horizontal=True)
        kernel_gate.offer_to_class()
        if st.button("Lock in", key=K + "kernel_lock", disabled=guess is None):
            kernel_gate.reveal(1, grade_choice(guess, "vertical edges (Sobel)"), answer=guess)
        if kernel_gate.revealed(1):
            show_verdict(kernel_gate.feedback(), "Its columns are −1, 0, +1: right neighbours minus left ones, large "
                         "where brightness changes from left to right, at a vertical edge. Try it on the digit.")


def show_pooling(feature_map) -> None:
    st.header("2 · Pooling")
    st.markdown("Pooling keeps one number per window: the largest (**max**) or the mean (**average**). It makes the "
                "map smaller and a little indifferent to where exactly a feature is.")
    if feature_map is None:
        st.info("Pooling works on the output map of section 1; fix the settings there first.")
        return
    picture = st.container()
    with folded("Pooling, window, stride, shift"):
        c1, c2, c3, c4 = st.columns(4)
        kind = c1.radio("Pooling", span(K + "pool_kind"), key=K + "pool_kind", horizontal=True)
        size = int(c2.number_input("Window", *span(K + "pool_size"), key=K + "pool_size"))
        stride = int(c3.number_input("Stride", *span(K + "pool_stride"), key=K + "pool_stride"))
        shift = int(c4.number_input("Shift right by (pixels)", *span(K + "shift"), key=K + "shift"))
    try:
        pooled = cv.pool2d(feature_map, size=size, stride=stride, kind=kind)
        report = cv.shift_tolerance(feature_map, dx=shift, size=size, stride=stride, kind=kind)
    except ValueError as problem:
        st.error(str(problem), icon=":material/error:")
        return
    gap = np.abs(pooled - keras_pool(feature_map, size=size, stride=stride, kind=kind)).max()
    picture.altair_chart(parts.grid_chart(pooled, title=f"{kind.title()} pooled {pooled.shape[0]}×{pooled.shape[1]}",
                                     diverging=True, size=200), width="content")
    st.caption(f"`keras.layers.{'MaxPooling2D' if kind == 'max' else 'AveragePooling2D'}({size}, strides={stride})` "
               f"gives the same numbers: largest difference {gap:.1e}.")
    st.markdown(f"**Shift the map {shift} pixel(s) to the right.** Before pooling, {report.changed_before:.0%} of the "
                f"values change (mean change {report.change_before:.3f}); after pooling, "
                f"{report.changed_after:.0%} do (mean change {report.change_after:.3f}). A max survives a shift only "
                "while the largest value stays inside its window, so the tolerance is small and depends on the map.")


def show_cnn() -> None:
    st.header("3 · A CNN trained live on handwritten digits")
    st.markdown("scikit-learn's 1,797 real handwritten digits (8×8, ink 0–16), 80% to train, 20% to validate.")
    with folded("Network, epochs, seed"):
        c1, c2, c3, c4, c5 = st.columns(5)
        filters = (int(c1.number_input("Filters, layer 1", *span(K + "f1"), key=K + "f1")),
                   int(c2.number_input("Filters, layer 2", *span(K + "f2"), key=K + "f2")))
        pooling = c3.selectbox("Pooling", span(K + "cnn_pool"), key=K + "cnn_pool")
        dense = int(c4.number_input("Dense neurons", *span(K + "dense"), key=K + "dense"))
        dropout = c5.number_input("Dropout", *span(K + "dropout"), step=0.05, key=K + "dropout")
        run = digits.DigitRun(epochs=int(c1.number_input("Epochs", *span(K + "epochs"), key=K + "epochs")),
                              seed=int(c2.number_input("Seed", *span(K + "seed"), key=K + "seed")))
    settings = {"filters": tuple(f for f in filters if f), "pooling": pooling, "dense_units": dense,
                "dropout_rate": float(dropout)}
    try:
        model = cnn.build_cnn(**settings, seed=run.seed)
    except ValueError as problem:
        st.error(str(problem), icon=":material/error:")
        return
    st.dataframe(table := cnn.layer_table(model), hide_index=True)
    st.caption(f"Conv2D: (k·k·C_in + 1)·C_out parameters. In all {table['parameters'].sum():,}, as Keras' "
               f"count_params() says: {model.count_params():,}.")
    signature = (tuple(sorted(settings.items())), run)
    guess = st.number_input(f"Predict first: the validation accuracy (%) after {run.epochs} epochs", 0.0, 100.0,
                            value=None, key=K + "acc_guess")
    split = digits.split_digits(val_fraction=run.val_fraction, seed=0)
    accuracy_gate.offer_to_class()
    if st.button("Lock in my guess and train", type="primary", key=K + "train", disabled=guess is None):
        trainer = cnn.CNNTrainer(model, n_train=len(split.y_train), n_val=len(split.y_val), batch_size=run.batch_size)
        try:
            result = parts.train_live(trainer, split, run)
        except Exception as problem:  # a student's click must never show a traceback
            show_unexpected(problem, "Training")
            return
        state[K + "run"] = (signature, trainer, result)
        accuracy = float(result.history["val_accuracy"].iloc[-1]) * 100
        accuracy_gate.reveal(signature, grade_number(guess, accuracy, close_within=3, digits=1), answer=guess)
    trained = state.get(K + "run")
    if trained is not None and accuracy_gate.revealed(trained[0]):
        show_verdict(accuracy_gate.feedback())
        parts.show_results(trained[1], trained[2], split)


def show_drawing() -> None:
    st.header("4 · Draw a digit")
    if (trained := state.get(K + "run")) is None:
        st.info("Train the CNN in section 3 first; then draw a digit here and see what it says.")
        return
    trainer, (left, right) = trained[1], st.columns([1, 2])
    with left:
        digit = parts.read_drawing(K + "draw")
    if digit is None:
        return
    probabilities, maps = trainer.predict(digit / digits.TOP, feature_maps=True)
    with right:
        st.altair_chart(parts.grid_chart(digit, title="What the network sees: 8×8, ink 0–16", size=160),
                        width="content")
        st.markdown(f"**The network says {int(probabilities[0].argmax())}** ({probabilities[0].max():.0%}).")
        st.bar_chart({"probability": probabilities[0]}, height=180)
    st.caption("The first layer's feature maps of your drawing (one per filter)")
    st.image(parts.small_images(np.moveaxis(maps[0][0], -1, 0), 8), width=64)


if links.restore(SCHEMA, PAGE):  # a shared link sets every control and the kernel's numbers, seeds included
    restore_kernel()
intro, preview = (st.container(), None) if presenting() else st.columns([3, 2], vertical_alignment="center")
with intro:
    st.title("Convolution")
    links.show_ignored(PAGE)
    link_slot = st.container()
    explain("Convolution layers slide small learned kernels over a picture; pooling shrinks the maps; a few dense "
            "layers decide. Every number below is computed by hand in NumPy and checked against Keras.")
conv_map = show_convolution(preview)
show_pooling(conv_map)
show_cnn()
show_drawing()
links.sync(SCHEMA, PAGE)
with link_slot:
    links.link_box(PAGE)
    st.caption("A drawn or uploaded digit stays in this browser: a link cannot carry it.")
