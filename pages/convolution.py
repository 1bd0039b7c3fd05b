"""Convolution: a kernel by hand and by Keras, pooling and its shift tolerance, and a small CNN trained live."""
import numpy as np
import streamlit as st

from models.core.guess import grade_choice, grade_number
from models.engine import cnn
from models.images import convolution as cv
from models.images import digits
from models.images.conv_keras import keras_convolve2d, keras_pool2d
from pages.images import convolution_parts as parts
from pages.shared.errors import show_unexpected
from pages.shared.feedback import RevealGate, show_verdict
from pages.shared.image_input import pick_image
from pages.shared.navigation import ensure_app_navigation

ensure_app_navigation()

K = "convolution_"
SOURCES = ("Handwritten digit", "Picture")
state = st.session_state
kernel_gate = RevealGate(K + "kernel", question="convolution.kernel")
accuracy_gate = RevealGate(K + "accuracy", question="convolution.accuracy")
keras_conv = st.cache_data(max_entries=100, show_spinner=False)(keras_convolve2d)
keras_pool = st.cache_data(max_entries=100, show_spinner=False)(keras_pool2d)


def pick_input() -> np.ndarray | None:
    source = st.segmented_control("Input", SOURCES, default=SOURCES[0], required=True, key=K + "source")
    if source == SOURCES[0]:
        index = st.number_input("Digit number (0–1796 of scikit-learn's digits)", 0, 1796, 0, key=K + "digit")
        st.caption("An 8×8 digit with each pixel repeated 3×3 times: a 24×24 picture, 0 = black, 1 = white.")
        return digits.upscaled_digit(int(index), 3)
    if (image := pick_image(K + "picture", default_sample="digit_six")[0]) is None:
        return None
    st.caption("Reduced to 28×28 grayscale, 0 = black, 1 = white.")
    return digits.to_grayscale(image, 28)


def read_kernel() -> tuple[np.ndarray | None, dict]:
    c1, c2, c3, c4, c5 = st.columns(5)
    preset = c1.selectbox("Kernel preset", list(cv.KERNELS), key=K + "preset")
    size = c2.selectbox("Kernel size", (3, 5), key=K + "size")
    settings = {"stride": int(c3.number_input("Stride", 1, 64, 1, key=K + "stride")),
                "padding": c4.radio("Padding", cv.PADDINGS, key=K + "padding", horizontal=True),
                "dilation": int(c5.number_input("Dilation", 1, 3, 1, key=K + "dilation"))}
    start = np.pad(np.array(cv.KERNELS[preset], float), (size - 3) // 2)
    st.markdown("**The kernel** (edit any cell; 2e3 and 1,5 work)")
    left, right = st.columns([3, 1])
    table = left.data_editor(cv.kernel_table(start), key=f"{K}kernel_{preset}_{size}", hide_index=True)
    settings["bias"] = right.number_input("Bias", -100.0, 100.0, 0.0, step=0.5, key=K + "bias")
    try:
        return cv.kernel_from_table(table), settings
    except ValueError as problem:
        st.error(f"This kernel cannot be used yet. {problem}", icon=":material/error:")
        return None, settings


def show_convolution():
    st.header("1 · One convolution")
    st.markdown("A kernel slides over the picture. At each position it multiplies the pixels under it by its "
                "weights, adds the products and the bias: one number of the **output map**. Keras (like every "
                "deep-learning library) does not flip the kernel.")
    image = pick_input()
    kernel, settings = read_kernel()
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
    st.markdown(f"**Output size** (n = {image.shape[0]}, k = {kernel.shape[0]}, s = {settings['stride']}, "
                f"d = {settings['dilation']}, padding '{settings['padding']}'): {sizes[0]}"
                + (f"; across: {sizes[1]}" if image.shape[0] != image.shape[1] else ""))
    if settings["stride"] > max(image.shape):
        st.warning(f"The stride ({settings['stride']}) is larger than the picture ({image.shape[0]} pixels): the "
                   "kernel fits only at the first position, so the output is a single number.")
    c1, c2 = st.columns(2)
    for axis, column, n in (("row", c1, out.shape[0]), ("col", c2, out.shape[1])):
        state[f"{K}{axis}"] = min(state.get(f"{K}{axis}", n // 2), n - 1)
        column.number_input(f"Output {'row' if axis == 'row' else 'column'} (0–{n - 1})", 0, n - 1, key=f"{K}{axis}")
    step = cv.output_arithmetic(image, kernel, state[K + "row"], state[K + "col"], **settings)
    left, right = st.columns(2)
    left.altair_chart(parts.grid_chart(image, title="Input (red: the receptive field)", highlight=step.field),
                      width="content")
    right.altair_chart(parts.grid_chart(out, title=f"Output map {out.shape[0]}×{out.shape[1]} (blue +, red −)",
                                        highlight=[(step.row, step.col)], diverging=True), width="content")
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
    c1, c2, c3, c4 = st.columns(4)
    kind = c1.radio("Pooling", cv.POOLS, key=K + "pool_kind", horizontal=True)
    size = int(c2.number_input("Window", 1, 8, 2, key=K + "pool_size"))
    stride = int(c3.number_input("Stride", 1, 8, 2, key=K + "pool_stride"))
    shift = int(c4.number_input("Shift right by (pixels)", 1, 2, 1, key=K + "shift"))
    try:
        pooled = cv.pool2d(feature_map, size=size, stride=stride, kind=kind)
        report = cv.shift_tolerance(feature_map, dx=shift, size=size, stride=stride, kind=kind)
    except ValueError as problem:
        st.error(str(problem), icon=":material/error:")
        return
    gap = np.abs(pooled - keras_pool(feature_map, size=size, stride=stride, kind=kind)).max()
    st.altair_chart(parts.grid_chart(pooled, title=f"{kind.title()} pooled {pooled.shape[0]}×{pooled.shape[1]}",
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
    c1, c2, c3, c4, c5 = st.columns(5)
    filters = (int(c1.number_input("Filters, layer 1", 1, 64, 16, key=K + "f1")),
               int(c2.number_input("Filters, layer 2", 0, 64, 32, key=K + "f2")))
    pooling = c3.selectbox("Pooling", cnn.POOLINGS, key=K + "cnn_pool")
    dense = int(c4.number_input("Dense neurons", 0, 256, 64, key=K + "dense"))
    dropout = c5.number_input("Dropout", 0.0, 0.9, 0.25, step=0.05, key=K + "dropout")
    run = digits.DigitRun(epochs=int(c1.number_input("Epochs", 1, 100, 20, key=K + "epochs")),
                          seed=int(c2.number_input("Seed", 0, 2**31 - 1, 0, key=K + "seed")))
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


st.title("Convolution")
st.markdown("Convolution layers slide small learned kernels over a picture; pooling shrinks the maps; a few dense "
            "layers decide. Every number below is computed by hand in NumPy and checked against Keras.")
conv_map = show_convolution()
show_pooling(conv_map)
show_cnn()
show_drawing()
