"""Data augmentation: Keras preprocessing layers on a picture, when a transform keeps the label, and EDA for text."""
import hashlib

import streamlit as st

from models.core.guess import grade_choice
from models.engine.heavy_work import heavy_work
from models.images import augmentation as aug
from models.vision.images import center_crop_resize, to_array
from pages.images.augmentation_link import GRIDS, MAX_SEED, PAGE, SCHEMA, K, defaults, join_pairs, span
from pages.images.augmentation_parts import layer_controls, show_details, show_inference, show_text
from pages.shared import links
from pages.shared.errors import show_unexpected
from pages.shared.feedback import RevealGate, show_verdict
from pages.shared.image_input import SOURCES, pick_image
from pages.shared.navigation import ensure_app_navigation
from pages.shared.present import explain, presenting

ensure_app_navigation()

QUIZ = RevealGate("augmentation_quiz")
state = st.session_state


def main() -> None:
    for key, value in defaults().items():  # defaults here, not as value=, so that a link can set them
        state.setdefault(key, value)
    if links.restore(SCHEMA, PAGE):  # a shared link sets every setting, seeds included
        state.update(join_pairs(state))
        state.pop(K + "source", None)  # pictures cannot travel in a link: it opens with the sample gallery
    st.title("Data augmentation")
    links.show_ignored(PAGE)
    explain(
        "A network trained on a few hundred pictures soon memorises them: it **overfits**. Data augmentation shows "
        "it a slightly different version of every picture each time it sees it (flipped, turned, shifted, "
        "recoloured), so it must learn what stays the same. The dataset on disk does not grow; what grows is the "
        "variety the model sees over the epochs. In Keras the transforms are **preprocessing layers**, `Random…`, "
        "that change pictures only while the model trains."
    )
    picture_tab, text_tab = st.tabs(["Pictures", "Text"])
    with text_tab:  # drawn first: every widget exists before the address is written
        show_text()
    with picture_tab:
        link_slot = show_pictures()
    links.sync(SCHEMA, PAGE)
    if link_slot is not None:
        with link_slot:
            links.link_box(PAGE)
            if state.get(K + "source", SOURCES[0]) != SOURCES[0]:
                st.caption("Your own picture cannot travel in a link: it opens with the sample picture.")


def next_seed() -> None:
    state[K + "seed"] = (state.get(K + "seed", 1) + 1) % (MAX_SEED + 1)


def show_pictures():
    """The picture, the quiz, the layers and the grid; presenting, the grid comes first and the settings fold."""
    present = presenting()
    grid_slot, quiz_slot = (st.container(), st.container()) if present else (None, None)
    with st.expander("Picture and layers") if present else st.container():
        picked = show_picture()
        if picked is None:
            return None
        working, sample = picked
        if not present:
            show_quiz(sample)
        settings, fill_mode = show_layers()
    if present:
        with quiz_slot:
            show_quiz(sample)
    with grid_slot if present else st.container():
        link_slot, passed = show_grid(working, settings, fill_mode)
    if passed is not None:
        show_inference(working, to_array(working), passed)
        show_details()
    return link_slot


def show_picture():
    st.header("1 · A picture")
    left, right = st.columns([3, 2])
    with left:
        image, description = pick_image("augmentation")  # the default sample is set in main
    if image is None:
        return None
    working = center_crop_resize(image, aug.IMAGE_SIZE)
    right.image(working, caption=f"{description}, centre-cropped to {aug.IMAGE_SIZE} × {aug.IMAGE_SIZE} pixels",
                width=aug.IMAGE_SIZE)
    from_gallery = state.get(K + "source") == SOURCES[0]
    return working, state.get(K + "sample") if from_gallery else None


def show_quiz(sample) -> None:
    quiz = aug.LABEL_QUIZZES.get(sample)
    st.header("2 · Predict first")
    if quiz is None:
        st.info("Pick the digit six, the arrow sign or the traffic light from the sample gallery for a "
                "question about which transforms change a picture's label.")
        return
    st.markdown(f"This picture shows **{quiz.label}**. Which of these layers could change that label?")
    guess = st.radio("Your guess", quiz.options, index=None, key="augmentation_quiz_guess")
    if st.button("Lock in my guess and reveal", type="primary", key="augmentation_quiz_reveal",
                 disabled=guess is None):
        QUIZ.reveal(sample, grade_choice(guess, quiz.answer))
    if QUIZ.revealed(sample):
        show_verdict(QUIZ.feedback())
        st.markdown(f"{quiz.explanation} Switch that layer on in step 3 and press **New samples** to see it.")


def show_layers():
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
    fill_mode = st.selectbox("Fill for the corners that rotation, zoom, shift and shear uncover",
                             span(K + "fill_mode"), key=K + "fill_mode")
    return settings, fill_mode


def show_grid(working, settings: dict, fill_mode: str):
    """Section 4: the grid and its controls; (the slot beside them for the link box, the training=False pass).

    Presenting, the grid fills the left of the screen and its controls stand beside it."""
    present = presenting()
    picture_area, side_area = st.columns([3, 2]) if present else (st.container(),) * 2
    with side_area:
        st.header("4 · Augmented samples")
        # A wrapping row: the controls share a line on a laptop and wrap on a tablet, never cut off.
        controls = st.container(horizontal=not present, vertical_alignment="bottom")
        grid_name = controls.segmented_control("Grid", span(K + "grid_size"), required=True, key=K + "grid_size")
        seed = int(controls.number_input("Seed", *span(K + "seed"), step=1, key=K + "seed", width=220,
                                         help="The same seed always gives the same grid."))
        controls.button("New samples", icon=":material/casino:", key=K + "new", on_click=next_seed)
        link_slot = controls.container(width="content")
    with picture_area:
        if not settings:
            st.info("Switch on at least one layer above to see augmented samples.")
            return link_slot, None
        result = augmented(to_array(working), settings, seed, GRIDS[grid_name], fill_mode)
        if result is None:
            return link_slot, None
        grid, shape, passed = result
        st.image(grid, width="stretch" if present else "content",
                 caption=f"{shape[0]} augmented copies of the picture, {shape[1]} × {shape[2]} pixels each, from "
                         f"one call augment(batch, training=True) with seed {seed}.")
    st.markdown("The same pipeline as code, ready to copy:")
    st.code(aug.code_snippet(settings, seed, fill_mode=fill_mode), language="python", wrap_lines=True)
    if "crop" in settings:
        st.caption("RandomCrop crops all pictures of one batch at the same place, so the copies above share "
                   "one crop; in training each batch gets a new one.")
    return link_slot, passed


def augmented(pixels, settings: dict, seed: int, side: int, fill_mode: str):
    """(grid picture, batch shape, training=False output), kept for the same inputs; None after an error shown."""
    signature = (hashlib.sha256(pixels.tobytes()).hexdigest(), repr(settings), seed, side, fill_mode)
    cached = state.get(K + "result")
    if cached is None or cached[0] != signature:
        try:
            with st.spinner("Augmenting…"), heavy_work():
                samples = aug.augment_copies(pixels, settings, seed, side * side, fill_mode=fill_mode)
                passed = aug.inference_pass(pixels, settings, seed, fill_mode=fill_mode)
        except Exception as error:  # noqa: BLE001 - a layer refusing a setting must not show a traceback
            show_unexpected(error, "Augmenting with these settings")
            return None
        cached = (signature, aug.tile_grid(samples, side), samples.shape, passed)
        state[K + "result"] = cached
    return cached[1:]


main()
