"""Data augmentation: Keras preprocessing layers on a picture, when a transform keeps the label, and EDA for text."""
import hashlib

import numpy as np
import pandas as pd
import streamlit as st

from models.core.guess import grade_choice
from models.engine.heavy_work import heavy_work
from models.images import augmentation as aug
from models.images import text_augmentation as eda
from models.vision.images import center_crop_resize, to_array
from pages.shared.errors import show_unexpected
from pages.shared.feedback import RevealGate, show_verdict
from pages.shared.image_input import SOURCES, pick_image
from pages.shared.navigation import ensure_app_navigation
from pages.shared.present import explain

ensure_app_navigation()

GRIDS = {"3 × 3": 3, "4 × 4": 4, "5 × 5": 5}
MAX_SEED = 2**31 - 100
QUIZ = RevealGate("augmentation_quiz")


def next_seed() -> None:
    st.session_state["augmentation_seed"] = (st.session_state.get("augmentation_seed", 1) + 1) % (MAX_SEED + 1)


def layer_controls(transform: aug.Transform) -> dict | None:
    """A checkbox, the safety sentence and the sliders of one layer; its settings, or None when off."""
    name = f"{transform.label} · `{transform.layer}`"
    on = st.checkbox(name, value=transform.on_by_default, key=f"augmentation_{transform.key}_on")
    st.caption(f"Keeps the label? {transform.safe_when}")
    values = {}
    for s in transform.settings:
        key = f"augmentation_{transform.key}_{s.name}"
        if s.choices:
            values[s.name] = st.selectbox(s.label, s.choices, index=s.choices.index(s.default), key=key,
                                          disabled=not on, help=s.help or None)
        else:
            value = st.slider(s.label, s.low, s.high, s.default, s.step, key=key, disabled=not on,
                              help=s.help or None)
            # Sliders hand back binary floats such as 0.15000000000000002; the code snippet should read 0.15.
            values[s.name] = tuple(round(v, 4) for v in value) if s.is_range else round(value, 4)
    return values if on else None


st.title("Data augmentation")
explain(
    "A network trained on a few hundred pictures soon memorises them: it **overfits**. Data augmentation shows "
    "it a slightly different version of every picture each time it sees it (flipped, turned, shifted, "
    "recoloured), so it must learn what stays the same. The dataset on disk does not grow; what grows is the "
    "variety the model sees over the epochs. In Keras the transforms are **preprocessing layers**, `Random…`, "
    "that change pictures only while the model trains."
)
picture_tab, text_tab = st.tabs(["Pictures", "Text"])

# ---- Text: EDA, no model needed ------------------------------------------------------------------
with text_tab:
    st.header("Augmenting sentences")
    st.markdown(
        "For text, Wei & Zou (2019) proposed **EDA**, four easy operations on words. With α the share of words "
        "to change and $l$ the number of words, $n = \\max(1, \\lfloor αl \\rfloor)$:\n"
        "- **Synonym replacement (SR):** pick $n$ different words that have synonyms; replace each by a random "
        "synonym (every time it occurs).\n"
        "- **Random insertion (RI):** $n$ times, insert a random synonym of a random word at a random place.\n"
        "- **Random swap (RS):** $n$ times, swap two words at random positions.\n"
        "- **Random deletion (RD):** delete each word with probability α (at least one word stays).\n\n"
        "The paper looks synonyms up in WordNet; this page uses a small built-in list. As in the paper's code, "
        "the sentence is lower-cased and punctuation is dropped first. EDA helped most on small datasets, and "
        "small changes (α around 0.1) worked well. It can change the label too: delete *not* from "
        "*not good* and a review's sentiment flips."
    )
    sentence = st.text_area("Your sentence", value=eda.EXAMPLE_SENTENCE, max_chars=eda.MAX_CHARACTERS,
                            key="augmentation_text")
    left, right = st.columns(2)
    alpha = left.slider("α: share of words to change", 0.05, 0.5, 0.1, 0.05, key="augmentation_text_alpha")
    text_seed = right.number_input("Seed", 0, MAX_SEED, 0, 1, key="augmentation_text_seed")
    try:
        words = eda.words_of(sentence)
        alpha = round(alpha, 4)
        results = {method: eda.augment_sentence(sentence, method, alpha=alpha, seed=int(text_seed))
                   for method in eda.METHODS}
    except ValueError as error:
        st.error(str(error), icon=":material/error:")
    else:
        known = eda.words_with_synonyms(sentence)
        st.caption(f"{len(words)} words, so n = max(1, ⌊{alpha:g} × {len(words)}⌋) = "
                   f"{eda.changes_count(len(words), alpha)}. Words with synonyms in the built-in list: "
                   + (", ".join(known) if known else "none, so SR and RI leave this sentence unchanged") + ".")
        # words_of keeps only letters, digits and apostrophes, so no cell can hold Markdown or LaTeX.
        st.table(pd.DataFrame({"method": [eda.METHODS[m] for m in results],
                               "augmented sentence": list(results.values()),
                               "what changed": [eda.change_summary(sentence, results[m], m) for m in results]})
                 .set_index("method"))
        st.caption("The same seed gives the same sentences; change it for new ones.")

# ---- Pictures ------------------------------------------------------------------------------------
with picture_tab:
    st.header("1 · A picture")
    image, description = pick_image("augmentation", default_sample="arrow_sign")
    if image is None:
        st.stop()
    working = center_crop_resize(image, aug.IMAGE_SIZE)
    pixels = to_array(working)
    st.image(working, caption=f"{description}, centre-cropped to {aug.IMAGE_SIZE} × {aug.IMAGE_SIZE} pixels",
             width=aug.IMAGE_SIZE)

    from_gallery = st.session_state.get("augmentation_source") == SOURCES[0]
    sample = st.session_state.get("augmentation_sample") if from_gallery else None
    quiz = aug.LABEL_QUIZZES.get(sample)
    st.header("2 · Predict first")
    if quiz is None:
        st.info("Pick the digit six, the arrow sign or the traffic light from the sample gallery for a "
                "question about which transforms change a picture's label.")
    else:
        st.markdown(f"This picture shows **{quiz.label}**. Which of these layers could change that label?")
        guess = st.radio("Your guess", quiz.options, index=None, key="augmentation_quiz_guess")
        if st.button("Lock in my guess and reveal", type="primary", key="augmentation_quiz_reveal",
                     disabled=guess is None):
            QUIZ.reveal(sample, grade_choice(guess, quiz.answer))
        if QUIZ.revealed(sample):
            show_verdict(QUIZ.feedback())
            st.markdown(f"{quiz.explanation} Switch that layer on in step 3 and press **New samples** to see it.")

    st.header("3 · Choose the layers")
    st.caption("Each layer gets its own seed (the pipeline's seed + its position), and the layers run in the "
               "order listed.")
    settings = {}
    for title, newer in (("Classic layers", False), ("Newer layers (Keras 3)", True)):
        with st.expander(title, expanded=not newer):
            halves = st.columns(2)
            chosen = [t for t in aug.TRANSFORMS.values() if t.newer == newer]
            for index, transform in enumerate(chosen):
                with halves[index % 2].container(border=True):
                    values = layer_controls(transform)
                if values is not None:
                    settings[transform.key] = values
    settings = {key: settings[key] for key in aug.TRANSFORMS if key in settings}  # the pipeline's order
    fill_mode = st.selectbox("Fill for the corners that rotation, zoom, shift and shear uncover", aug.FILL_MODES,
                             key="augmentation_fill_mode")

    st.header("4 · Augmented samples")
    # A wrapping row: the three controls share a line on a laptop and wrap on a tablet, never cut off.
    controls = st.container(horizontal=True, vertical_alignment="bottom")
    grid_name = controls.segmented_control("Grid", list(GRIDS), default="3 × 3", required=True,
                                          key="augmentation_grid_size")
    st.session_state.setdefault("augmentation_seed", 1)  # set here, not as value=, because New samples changes it
    seed = controls.number_input("Seed", 0, MAX_SEED, step=1, key="augmentation_seed", width=220,
                                 help="The same seed always gives the same grid.")
    controls.button("New samples", icon=":material/casino:", key="augmentation_new", on_click=next_seed)
    if not settings:
        st.info("Switch on at least one layer above to see augmented samples.")
        st.stop()
    side = GRIDS[grid_name]
    signature = (hashlib.sha256(pixels.tobytes()).hexdigest(), repr(settings), int(seed), side, fill_mode)
    cached = st.session_state.get("augmentation_result")
    if cached is None or cached[0] != signature:
        try:
            with st.spinner("Augmenting…"), heavy_work():
                samples = aug.augment_copies(pixels, settings, int(seed), side * side, fill_mode=fill_mode)
                passed = aug.inference_pass(pixels, settings, int(seed), fill_mode=fill_mode)
        except Exception as error:  # noqa: BLE001 - a layer refusing a setting must not show a traceback
            show_unexpected(error, "Augmenting with these settings")
            st.stop()
        cached = (signature, aug.tile_grid(samples, side), samples.shape, passed)
        st.session_state["augmentation_result"] = cached
    _, grid, shape, passed = cached
    st.image(grid, caption=f"{shape[0]} augmented copies of the picture, {shape[1]} × {shape[2]} pixels each, "
                           f"from one call augment(batch, training=True) with seed {seed}.")
    st.markdown("The same pipeline as code, ready to copy:")
    st.code(aug.code_snippet(settings, int(seed), fill_mode=fill_mode), language="python", wrap_lines=True)
    if "crop" in settings:
        st.caption("RandomCrop crops all pictures of one batch at the same place, so the copies above share "
                   "one crop; in training each batch gets a new one.")

    st.header("5 · Only while training")
    st.markdown(
        "Keras calls these layers with `training=True` inside `model.fit` and with `training=False` in "
        "`model.predict`, `model.evaluate` and a plain `model(x)`. Then they let the picture through "
        "unchanged, so they can live inside the model itself. Here is the same pipeline, same seed, with "
        "`training=False`:"
    )
    pictures = st.container(horizontal=True)  # wraps on a tablet instead of overlapping
    before, after, numbers = pictures.container(width="content"), pictures.container(width="content"), \
        pictures.container(width=260)
    before.image(working, caption="the picture", width=aug.IMAGE_SIZE)
    after.image(aug.to_uint8(passed), caption="augment(picture, training=False)", width=aug.IMAGE_SIZE)
    difference = float(np.max(np.abs(passed - pixels))) if passed.shape == pixels.shape else None
    numbers.metric("largest pixel difference", "different size" if difference is None else f"{difference:g}")
    numbers.caption("0 means every pixel is identical. Checking a model on augmented pictures would measure "
                    "it on pictures it will never be shown; that is why the layers switch off.")

    with st.expander("Keras 3.15 details, checked against its source"):
        st.markdown(
            "- `RandomFlip(mode=\"horizontal_and_vertical\")` draws one coin per picture for both axes: "
            "it gives the picture or its 180° turn, never a single flip.\n"
            "- `RandomContrast(factor=0.3)` only *raises* contrast (× 1 … 1.3), although its docstring says "
            "× 0.7 … 1.3; `factor=(0.3, 0.3)` gives × 0.7 … 1.3.\n"
            "- `RandomSaturation` with a single number f draws from (−f, f), which gives negative saturation; "
            "pass a (low, high) pair between 0 and 1. Above 0.5 it can push pixels below 0.\n"
            "- `RandomCrop` returns the picture **uncropped** with `training=False` (its docstring says it "
            "centre-crops), so a model behind it sees different sizes in training and in prediction.\n"
            "- `RandomGaussianBlur`, `RandomErasing` and `RandomPerspective` read `factor` as a *chance*; a "
            "single number p makes the chance itself random between 0 and p.\n"
            "- The colour layers assume pixels in `value_range=(0, 255)`; for pictures scaled to 0…1 pass "
            "`value_range=(0, 1)`."
        )
