"""Page parts of the convolution page: number grids as heat maps, the live CNN run and the drawing pad."""
import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from models.engine import cnn
from models.engine.heavy_work import heavy_work
from models.engine.runs import train_in_chunks
from models.images import convolution as cv
from models.images import digits
from models.vision.images import ImageInputError, load_image
from pages.evaluation.present_parts import table_start, table_text
from pages.images.convolution_link import KERNEL_TEXT, PAGE, SOURCES, K, editor_name, preset_kernel, span
from pages.shared.charts import curve_chart, long_curves
from pages.shared.image_input import pick_image

state = st.session_state


def pick_input() -> np.ndarray | None:
    source = st.segmented_control("Input", span(K + "source"), required=True, key=K + "source")
    if source == SOURCES[0]:
        index = st.number_input("Digit number (0–1796 of scikit-learn's digits)", *span(K + "digit"), key=K + "digit")
        st.caption("An 8×8 digit with each pixel repeated 3×3 times: a 24×24 picture, 0 = black, 1 = white.")
        return digits.upscaled_digit(int(index), 3)
    if (image := pick_image(K + "picture")[0]) is None:
        return None
    st.caption("Reduced to 28×28 grayscale, 0 = black, 1 = white. A link carries the sample picture, never an "
               "upload or a photo.")
    return digits.to_grayscale(image, 28)


def read_kernel() -> tuple[np.ndarray | None, dict]:
    c1, c2, c3, c4, c5 = st.columns(5)
    preset = c1.selectbox("Kernel preset", span(K + "preset"), key=K + "preset")
    size = c2.selectbox("Kernel size", span(K + "size"), key=K + "size")
    settings = {"stride": int(c3.number_input("Stride", *span(K + "stride"), key=K + "stride")),
                "padding": c4.radio("Padding", span(K + "padding"), key=K + "padding", horizontal=True),
                "dilation": int(c5.number_input("Dilation", *span(K + "dilation"), key=K + "dilation"))}
    start = preset_kernel(preset, size)
    linked, version = table_start(PAGE, editor_name(preset, size))
    st.markdown("**The kernel** (edit any cell; 2e3 and 1,5 work)")
    left, right = st.columns([3, 1])
    table = left.data_editor(cv.kernel_table(start if linked is None else linked), hide_index=True,
                             key=K + editor_name(preset, size) + (f"_{version}" if version else ""))
    settings["bias"] = right.number_input("Bias", *span(K + "bias"), step=0.5, key=K + "bias")
    try:
        kernel = cv.kernel_from_table(table)
    except ValueError as problem:
        st.error(f"This kernel cannot be used yet. {problem}", icon=":material/error:")
        return None, settings
    state[KERNEL_TEXT] = table_text(kernel, start)  # the address keeps the numbers while they differ from the preset
    return kernel, settings


def show_maps(place, image, out, step) -> None:
    """The input with the receptive field of one output value, beside the output map."""
    left, right = place.columns(2)
    left.altair_chart(grid_chart(image, title="Input (red: the receptive field)", highlight=step.field),
                      width="content")
    right.altair_chart(grid_chart(out, title=f"Output map {out.shape[0]}×{out.shape[1]} (blue +, red −)",
                                  highlight=[(step.row, step.col)], diverging=True), width="content")


def map_picture(grid, *, diverging: bool = False, scale: int = 8) -> np.ndarray:
    """A 2-D array as an RGB picture that scales with its column: greys 0..1, or white to blue (+) and red (−)."""
    grid = np.asarray(grid, float)
    if not diverging:
        rgb = np.repeat(np.clip(grid, 0, 1)[..., None], 3, axis=2)
    else:
        top = np.abs(grid).max() or 1.0
        t = np.clip(grid / top, -1, 1)[..., None]
        blue, red, white = np.array([0.13, 0.4, 0.67]), np.array([0.7, 0.09, 0.17]), np.ones(3)
        rgb = np.where(t >= 0, white + t * (blue - white), white - t * (red - white))
    return np.kron((rgb * 255).astype(np.uint8), np.ones((scale, scale, 1), np.uint8))


def show_preview(place, image, out) -> None:
    """Beside the title: the input and its output map, as pictures that fit any column."""
    left, right = place.columns(2)
    left.image(map_picture(image), caption="Input", width="stretch")
    right.image(map_picture(out, diverging=True), caption=f"Output map {out.shape[0]}×{out.shape[1]}",
                width="stretch")


def grid_chart(grid, *, title: str, highlight=(), size: int = 240, diverging: bool = False) -> alt.Chart:
    """A 2-D array as a heat map (row 0 on top; black-white, or `diverging` red-white-blue with 0 white) with the
    `highlight` cells outlined in red; hover shows each value."""
    grid = np.asarray(grid, float)
    rows, cols = np.indices(grid.shape)
    data = pd.DataFrame({"row": rows.ravel(), "col": cols.ravel(), "value": grid.ravel()})
    marked = set(highlight)
    data["marked"] = [(r, c) in marked for r, c in zip(data["row"], data["col"])]
    axis = alt.Axis(labels=max(grid.shape) <= 12, ticks=False, title=None)
    base = alt.Chart(data).encode(x=alt.X("col:O", axis=axis), y=alt.Y("row:O", axis=axis))
    cells = base.mark_rect().encode(
        color=alt.Color("value:Q", legend=None, scale=alt.Scale(scheme="redblue", domainMid=0) if diverging
                        else alt.Scale(scheme="greys", reverse=True)),
        tooltip=["row:O", "col:O", alt.Tooltip("value:Q", format=".3f")])
    marks = base.transform_filter("datum.marked").mark_rect(fill=None, stroke="#d62728", strokeWidth=2)
    step = alt.Step(max(size // max(grid.shape), 4))  # square cells
    return alt.layer(cells, marks).properties(title=title, width=step, height=step)


def small_images(maps, scale: int = 8) -> list[np.ndarray]:
    """Each map stretched to 0..1 and enlarged (nearest neighbour), for st.image."""
    out = []
    for m in maps:
        m = np.asarray(m, float)
        span = m.max() - m.min()
        out.append(np.kron((m - m.min()) / span if span > 0 else np.zeros_like(m), np.ones((scale, scale))))
    return out


def first_filters(model) -> list[np.ndarray]:
    kernel = model.get_layer("conv_1").get_weights()[0]  # (k, k, 1, filters)
    return [kernel[:, :, 0, i] for i in range(kernel.shape[-1])]


def train_live(trainer: cnn.CNNTrainer, split: digits.DigitSplit, run: digits.DigitRun):
    """Train chunk by chunk; after each chunk redraw the curves and the first layer's filters. Returns the result."""
    trainer.start(split.x_train, split.y_train, split.x_val, split.y_val, epochs=run.epochs,
                  learning_rate=run.learning_rate, seed=run.seed)
    slot, result = st.empty(), None
    if not trainer.compiled:
        slot.info("Compiling the training program (several seconds, once per server and network shape)…")
    for result in train_in_chunks(trainer, seconds_per_chunk=0.3, guard=heavy_work):
        with slot.container():
            st.progress(result.epochs_run / run.epochs, text=f"epoch {result.epochs_run} of {run.epochs}")
            show_curves(result, run.epochs)
            show_filters(trainer.model)
    slot.empty()
    return result


def show_curves(result, epochs: int) -> None:
    left, right = st.columns(2)
    left.altair_chart(curve_chart(long_curves(result.history), epochs=epochs, height=220), width="stretch")
    right.altair_chart(curve_chart(long_curves(result.history, "accuracy"), value="accuracy", epochs=epochs,
                                   y_domain=(0, 1), height=220), width="stretch")


def show_filters(model) -> None:
    filters = first_filters(model)
    st.caption(f"The {len(filters)} filters of the first layer (white: large weight, black: small)")
    st.image(small_images(filters, 12), width=48, caption=[f"{i + 1}" for i in range(len(filters))])


def show_results(trainer: cnn.CNNTrainer, result, split: digits.DigitSplit) -> None:
    probabilities = trainer.predict(split.x_val)
    predicted = probabilities.argmax(axis=1)
    accuracy = float((predicted == split.y_val).mean())
    st.metric("Validation accuracy", f"{accuracy:.1%}", help=f"{(predicted == split.y_val).sum()} of "
              f"{len(split.y_val)} validation digits right")
    show_curves(result, result.epochs)
    show_filters(trainer.model)
    table = digits.confusion_table(digits.confusion(split.y_val, predicted))
    heat = alt.Chart(table).encode(x=alt.X("predicted:O", title="predicted digit"),
                                   y=alt.Y("true:O", title="true digit"))
    chart = alt.layer(heat.mark_rect().encode(color=alt.Color("count:Q", scale=alt.Scale(scheme="blues"),
                                                                legend=None), tooltip=["true", "predicted", "count"]),
                      heat.mark_text().encode(text="count:Q"))
    left, right = st.columns([1, 1])
    left.markdown("**Confusion matrix** (row: the true digit; column: what the network said)")
    left.altair_chart(chart.properties(height=300), width="stretch")
    wrong = digits.misclassified(split.y_val, probabilities)
    right.markdown(f"**The {len(wrong)} digits it got wrong**")
    if len(wrong):
        shown = wrong.head(24)
        right.image(small_images([split.x_val[i, :, :, 0] for i in shown["index"]], 8), width=64,
                    caption=[f"{t} → {p} ({q:.0%})" for t, p, q in zip(shown["true"], shown["predicted"],
                                                                       shown["probability"])])


def read_drawing(key: str) -> np.ndarray | None:
    """The 8 x 8 digit from an upload, else from the canvas (where it loads); None with a message shown."""
    try:
        from streamlit_drawable_canvas import st_canvas
    except Exception:  # the component needs a running app; under some hosts it cannot load at all
        st_canvas = None
    drawn = None
    if st_canvas is not None:
        try:
            drawn = st_canvas(stroke_width=18, stroke_color="#ffffff", background_color="#000000", height=200,
                              width=200, drawing_mode="freedraw", return_image_data=True, key=f"{key}_canvas")
        except Exception:
            st_canvas = None
    if st_canvas is None:
        st.info("The drawing pad cannot load here; upload a picture of one digit instead.")
    # An upload, when there is one, wins over the drawing.
    file = st.file_uploader("Or upload a picture of one digit (dark on light or light on dark)", key=f"{key}_upload")
    try:
        if file is not None:
            return digits.picture_to_digit(load_image(file.getvalue()))
        if drawn is not None and drawn.image_data is not None:
            return digits.drawing_to_digit(drawn.image_data)
    except (ImageInputError, ValueError) as problem:
        st.error(str(problem), icon=":material/error:")
    return None
