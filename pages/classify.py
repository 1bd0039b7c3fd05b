"""Classify an image: a pretrained ImageNet CNN's top-5, where it looked (Grad-CAM) and what its layers see."""
import hashlib

import streamlit as st

from models.core import guess
from models.vision import gradcam, pretrained
from pages.images.classify_parts import (
    LABELS,
    RANDOM_BANNER,
    Result,
    jpeg,
    show_feature_maps,
    show_grad_cam,
    show_top5,
)
from pages.shared.errors import show_unexpected
from pages.shared.feedback import RevealGate, plain, show_verdict
from pages.shared.image_input import pick_image
from pages.shared.navigation import ensure_app_navigation
from pages.shared.present import explain

ensure_app_navigation()

GATE = RevealGate("classify", question="classify.probability")
SIDE_WIDTH = 360  # pixels: two fit a 1280-pixel laptop screen beside the sidebar
TEACHER_MODE = "classify_teacher_mode"  # the switch itself; the toggle's own key only mirrors it


@st.cache_resource(show_spinner=False, max_entries=4)
def shared_model(model_name: str, weights: str | None):
    """One frozen copy per server process, shared by every student; never trained or changed."""
    model = pretrained.load_model(model_name, weights=weights)
    gradcam.prepare_analysis(model, model_name)
    return model


@st.cache_data(ttl=30, show_spinner=False)
def weights_check(model_name: str) -> tuple[str, str | None]:
    """'disk', 'download' or 'missing' with the reason; checked at most every 30 s, not on every click."""
    try:
        return ("disk" if pretrained.weights_source(model_name) else "download"), None
    except pretrained.WeightsUnavailable as error:
        return "missing", str(error)


def imagenet_model(model_name: str, arch):
    """The model with real weights, or None after explaining clearly why there is none."""
    status, problem = weights_check(model_name)
    if status != "missing":
        try:
            if pretrained.is_loaded(model_name):
                return shared_model(model_name, "imagenet")
            text = (f"Downloading the {arch.builder} ImageNet weights ({arch.download_mb} MB) once; later "
                    "visits load them from disk…" if status == "download"
                    else f"Loading {arch.builder} (once per server)…")
            with st.spinner(text, show_time=True):
                return shared_model(model_name, "imagenet")
        except pretrained.WeightsUnavailable as error:
            weights_check.clear()
            problem = str(error)
    st.error(f"**The ImageNet weights for {arch.builder} are missing.** {problem}", icon=":material/cloud_off:")
    with st.expander("The fix, for the teacher"):
        st.markdown("Once, on a computer with internet access (from the app's folder):")
        st.code(pretrained.PREFETCH_COMMAND, language="bash")
        st.markdown(
            f"It saves the files in the Keras cache (`$KERAS_HOME/models`, by default `~/.keras/models`); this "
            f"page finds them within 30 seconds. Other ways: start the app with **`{arch.env_var}`**`=/path/to/"
            f"{arch.weights_file}` (a copied file), or with **`KERAS_HOME`**`=/some/folder` when "
            f"`/some/folder/models/` holds the file copied from a machine that ran the command.")
    return None


def random_model(model_name: str, arch):
    """The same architecture with seeded random weights, once the student opts in; else None."""
    if not st.toggle("Show the pipeline with random weights", key="classify_random_weights",
                     help="The same network with random numbers for weights: the predictions will be meaningless."):
        return None
    with st.spinner(f"Building {arch.builder} with random weights…"):
        # Not cached here: the process keeps this copy only while students use it (pretrained.drop_idle).
        model = pretrained.load_model(model_name, weights=None)
        gradcam.prepare_analysis(model, model_name)
    st.error(f"## {RANDOM_BANNER}", icon=":material/warning:")
    return model


def teacher_mode() -> bool:
    """One source of truth for Teacher mode that survives reruns in which the toggle is not drawn."""
    st.session_state.setdefault(TEACHER_MODE, False)
    st.session_state["classify_skip_guess"] = st.session_state[TEACHER_MODE]
    st.toggle("Teacher mode: no guess first", key="classify_skip_guess",
              help="Shows the answer at once, without asking the class for a guess.",
              on_change=lambda: st.session_state.update({TEACHER_MODE: st.session_state["classify_skip_guess"]}))
    return st.session_state[TEACHER_MODE]


def analysed(model, model_name, arch, batch, signature, picture_label) -> Result:
    """Probabilities, top-5 and analysis for this picture from one pass, computed once and kept for this student."""
    kept = st.session_state.get("classify_result")
    if kept is None or kept.signature != signature:
        st.session_state.pop("classify_result", None)  # the last picture's images go before the next are made
        queue = st.empty()

        def waiting(place: int) -> None:  # called while other students' pictures are ahead in the queue
            queue.info(f"**The server is busy: you are number {place} in the queue.** Your result is coming; "
                       "the pictures ahead of yours are being answered first.", icon=":material/hourglass_top:")
        try:
            with st.spinner(f"Running {arch.builder} on {picture_label}…"):
                probabilities, top, analysis = gradcam.classify_and_analyse(model, batch, model_name, on_wait=waiting)
        except Exception as error:  # noqa: BLE001 - shown on the page, logged once with its traceback
            show_unexpected(error, f"Running {arch.builder} on this picture")
            st.stop()
        queue.empty()
        kept = st.session_state["classify_result"] = Result.of(signature, probabilities, top, analysis)
    return kept


def prepared_input(image, model_name: str, random_weights: bool):
    """The model's 224×224 input and the question's signature, made once per picture and model, not per rerun."""
    kept = st.session_state.get("classify_input")
    if kept is None or kept[0] is not image or kept[1] != model_name:
        batch, seen = pretrained.model_input(image, model_name)
        kept = st.session_state["classify_input"] = (image, model_name, batch, seen, jpeg(seen),
                                                     hashlib.sha256(seen.tobytes()).hexdigest())
    _image, _name, batch, seen, seen_jpeg, digest = kept
    return batch, seen, seen_jpeg, (digest, model_name, random_weights)


def predict_first(results, signature) -> None:
    """The class and probability the student expects, locked in before the answer is shown."""
    st.subheader("2 · Predict first")
    st.markdown("Before the model answers: **which class will it put first**, and **how sure** (its top "
                "probability, 0 to 1) will it be? Type in the box to search the 1000 classes.")
    guessed_class = st.selectbox("Top class", sorted(range(len(LABELS)), key=lambda i: LABELS[i].lower()),
                                 index=None, format_func=LABELS.__getitem__, placeholder="Type a class, e.g. cat",
                                 key="classify_guess_class")
    guessed_p = st.slider("Its probability", 0.0, 1.0, 0.5, 0.05, key="classify_guess_p")
    GATE.offer_to_class()
    if st.button("Lock in my guess and reveal", type="primary", key="classify_reveal"):
        if guessed_class is None:
            st.warning("Pick the class you expect first (type part of its name in the box).")
            return
        result = results()
        probabilities, top = result.probabilities, result.top
        rank, ties = pretrained.rank_of(probabilities, guessed_class)
        GATE.reveal(signature, (
            guess.grade_choice(LABELS[guessed_class], top[0].name),
            guess.grade_number(guessed_p, top[0].probability, close_within=0.1, digits=3),
            f"The model gave “{LABELS[guessed_class]}” a probability of {probabilities[guessed_class]:.4f} "
            f"(rank {rank} of {len(LABELS)}" + (f", tied with {ties} other classes)." if ties else ").")),
            answer=guessed_p)


def show_guess() -> None:
    choice, sureness, rank_note = GATE.feedback()
    st.subheader("Your guess")
    show_verdict(choice)
    show_verdict(sureness)
    st.caption(plain(rank_note))
    st.button("Hide the answer and guess again", key="classify_hide", on_click=GATE.hide)


st.title("Classify an image")
explain(
    "A **pretrained CNN** has already learned from 1.28 million ImageNet photos to tell 1000 classes apart "
    "(dog breeds, cups, rockets… but no plain “person”). Give it any picture: it resizes it to 224×224, "
    "passes it through its layers and ends in a softmax over the 1000 classes. Then see **where it looked** "
    "(Grad-CAM) and **what its layers respond to** (feature maps).")
# Two fixed-width blocks that sit side by side on a laptop and wrap one under the other on a tablet.
side_by_side = st.container(horizontal=True, gap="medium")
picker, answer = side_by_side.container(width=SIDE_WIDTH), side_by_side.container(width=SIDE_WIDTH)

with picker:
    st.subheader("1 · Model and picture")
    model_name = st.radio("Model", list(pretrained.ARCHITECTURES), key="classify_model",
                          format_func=lambda key: pretrained.ARCHITECTURES[key].label)
    arch = pretrained.architecture(model_name)
    st.caption("Both reach about 71% top-1 and 90% top-5 accuracy on ImageNet's validation set (Keras' "
               "figures). MobileNetV2 is about 40 times smaller and much faster: choose it on older laptops.")
    model = imagenet_model(model_name, arch)
    random_weights = model is None
    if random_weights:
        model = random_model(model_name, arch)
    image, picture_label = pick_image("classify", default_sample="photo_cat")
    skip_guess = teacher_mode()

with answer:
    if model is None or image is None:
        st.info("The answer appears here once there is a model and a picture.", icon=":material/arrow_back:")
        st.stop()
    batch, seen, seen_jpeg, signature = prepared_input(image, model_name, random_weights)

    def results():
        return analysed(model, model_name, arch, batch, signature, picture_label)

    if not (skip_guess or GATE.revealed(signature)):
        question = st.empty()
        with question.container():
            predict_first(results, signature)
        if not GATE.revealed(signature):
            st.stop()
        question.empty()  # answered: the answer takes the question's place in this same run, no second run
    result = results()
    show_top5(result, picture_label, random_weights)  # the answer first: it fits the first screen beside the picker
    if GATE.revealed(signature):
        show_guess()

show_grad_cam(result, seen, seen_jpeg, arch, random_weights)
show_feature_maps(result, random_weights)
