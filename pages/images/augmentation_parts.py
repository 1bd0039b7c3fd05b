"""Page parts of the augmentation page: one layer's controls, the text tab, the training=False check, Keras notes."""
import numpy as np
import pandas as pd
import streamlit as st

from models.images import augmentation as aug
from models.images import text_augmentation as eda
from pages.images.augmentation_link import PAIRS, K, pair_keys, span

state = st.session_state


def layer_controls(transform: aug.Transform) -> dict | None:
    """A checkbox, the safety sentence and the sliders of one layer; its settings, or None when off."""
    on = st.checkbox(f"{transform.label} · `{transform.layer}`", key=K + f"{transform.key}_on")
    st.caption(f"Keeps the label? {transform.safe_when}")
    values = {}
    for s in transform.settings:
        key = K + f"{transform.key}_{s.name}"
        if s.choices:
            values[s.name] = st.selectbox(s.label, span(key), key=key, disabled=not on, help=s.help or None)
            continue
        value = st.slider(s.label, *span(key), step=s.step, key=key, disabled=not on, help=s.help or None)
        if key in PAIRS:  # the address carries the two ends
            state.update(zip(pair_keys(key), value))
        # Sliders hand back binary floats such as 0.15000000000000002; the code snippet should read 0.15.
        values[s.name] = tuple(round(v, 4) for v in value) if s.is_range else round(value, 4)
    return values if on else None


def show_text() -> None:
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
    sentence = st.text_area("Your sentence", max_chars=eda.MAX_CHARACTERS, key=K + "text")
    left, right = st.columns(2)
    alpha = left.slider("α: share of words to change", *span(K + "text_alpha"), step=0.05, key=K + "text_alpha")
    text_seed = right.number_input("Seed", *span(K + "text_seed"), step=1, key=K + "text_seed")
    try:
        words = eda.words_of(sentence)
        alpha = round(alpha, 4)
        results = {method: eda.augment_sentence(sentence, method, alpha=alpha, seed=int(text_seed))
                   for method in eda.METHODS}
    except ValueError as error:
        st.error(str(error), icon=":material/error:")
        return
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


def show_inference(working, pixels: np.ndarray, passed: np.ndarray) -> None:
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


def show_details() -> None:
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
