"""Transfer learning: a frozen pretrained base, features computed once, and a small head trained on them."""
import pandas as pd
import streamlit as st

from models.images import transfer_run as tr
from models.vision.pretrained import ARCHITECTURES, WeightsUnavailable
from pages.images.transfer_link import PAGE, RANDOM, SCHEMA, SOURCES, TRY_SOURCES, WEIGHTS, K, defaults, span
from pages.images.transfer_parts import (
    GATE,
    confusion_chart,
    curves,
    own_pictures,
    progress_view,
    show_class_pictures,
    show_download,
    show_fine_tuning,
    show_link_box,
    show_new_picture,
)
from pages.shared import links
from pages.shared.errors import show_unexpected
from pages.shared.feedback import plain, show_verdict
from pages.shared.navigation import ensure_app_navigation
from pages.shared.present import explain, presenting

ensure_app_navigation()
state = st.session_state


def main() -> None:
    for key, value in defaults().items():  # defaults here, not as value=, so that a link can set them
        state.setdefault(key, value)
    if links.restore(SCHEMA, PAGE):  # a shared link sets every setting, seeds included
        for key in (K + "source", K + "try_source"):
            state.pop(key, None)  # pictures cannot travel in a link: it opens with the built-in shapes
    present = presenting()
    # Presenting, the classes' pictures come first and the settings fold; otherwise a few sit beside the title.
    intro, pictures = (st.container(), st.container()) if present else st.columns([5, 2], vertical_alignment="center")
    with intro:
        st.title("Transfer learning")
        links.show_ignored(PAGE)
        explain(
            "A network trained on ImageNet's 1.2 million photos has learned edges, textures and parts in its "
            "convolutional layers. **Transfer learning** keeps those layers **frozen** (their weights never change) "
            "and trains only a small new **head** for *your* classes. Like Teachable Machine, this page sends each "
            "picture through the frozen base **once**, keeps the resulting feature vector, and then trains the head "
            "on those vectors, so each epoch takes milliseconds instead of a full pass through the big network.")
    with st.expander("Network, classes and head") if present else st.container():
        base = show_base()                            # 1 · the frozen base
        collection = show_classes(pictures)           # 2 · your classes
        settings = show_head(base, collection) if base and collection else None  # 3 · the head's settings
    link_slot = None
    if settings is not None:
        trained, link_slot = show_training(base, collection, settings)  # 3 · predict, then train
        show_run(base, trained)                       # 4 to 7
    links.sync(SCHEMA, PAGE)
    with link_slot if link_slot is not None else st.container():
        show_link_box(own=state.get(K + "source") == SOURCES[1] or state.get(K + "try_source", TRY_SOURCES[0])
                      != TRY_SOURCES[0])


@st.cache_resource(show_spinner=False)
def shared_feature_store() -> dict:
    """Features of the built-in shapes: identical for every student, so computed once per server."""
    return {}


def show_base() -> tr.Base | None:
    st.header("1 · The frozen base")
    model_name = st.selectbox("Pretrained network", span(K + "model"), key=K + "model",
                              format_func=lambda name: ARCHITECTURES[name].label)  # full width: never cut off
    left, right = st.columns(2)
    input_size = left.selectbox("Input size (pixels)", span(K + f"size_{model_name}"), key=K + f"size_{model_name}",
                                help="128 px costs about a third of 224 px: (128/224)² ≈ 0.33.")
    weights = right.radio("Weights", span(K + "weights"), format_func=WEIGHTS.get, key=K + "weights")
    if weights == "random":
        st.warning(f"**{RANDOM}.** The base has never seen a photo, so its features do not describe what is in "
                   "a picture. Use this mode to see how the pieces fit together, not to judge transfer learning.",
                   icon=":material/warning:")
    try:
        with st.spinner(f"Loading {model_name} (once per server)…"):
            base = tr.load_base(model_name, weights, input_size, failures=state.setdefault("transfer_missing", {}))
    except WeightsUnavailable as error:
        st.error(str(error), icon=":material/cloud_off:")
        st.code(error.command, language="bash")
        st.info("Until the weights are on the server, choose the random-weights mode above to see the mechanics.")
        if st.button("Check again", key="transfer_retry"):
            state["transfer_missing"].pop(model_name, None)
            st.rerun()
        return None
    except Exception as error:  # a damaged weights file, memory: one clear line instead of a traceback
        show_unexpected(error, f"Loading {model_name}")
        return None
    st.markdown(f"The base is {model_name}'s convolutional part (`include_top=False`), at {input_size}×{input_size} "
                f"pixels, ending in global average pooling: each picture becomes **{base.n_features} numbers**.")
    return base


def show_classes(pictures) -> tr.Collection | None:
    """Section 2; a few of the classes' pictures go to `pictures` (beside the title, or first when presenting)."""
    st.header("2 · Your classes")
    source = st.segmented_control("Pictures", SOURCES, default=SOURCES[0], required=True, key=K + "source")
    if source == SOURCES[0]:
        left, right = st.columns(2)
        n_per_class = left.slider("Pictures per class", *span(K + "n_per_class"), key=K + "n_per_class")
        data_seed = right.number_input("Dataset seed", *span(K + "data_seed"), key=K + "data_seed")
        collection = tr.builtin_collection(*tr.builtin_shapes(n_per_class, int(data_seed)), shared_feature_store())
        if not presenting():
            show_class_pictures(collection, per_class=6, width=64)
    else:
        collection = own_pictures()
    with pictures:
        show_class_pictures(collection, per_class=6 if presenting() else 2, width=96 if presenting() else 72)
    for problem in collection.problems:  # class and file names are the student's text: shown as typed
        st.error(f"{plain(problem.class_name)} · `{problem.file_name.replace('`', '')}`: {plain(problem.message)}",
                 icon=":material/broken_image:")
    try:
        return tr.checked(collection)
    except ValueError as error:
        st.warning(plain(error), icon=":material/info:")
        return None


def show_head(base: tr.Base, collection: tr.Collection) -> tr.HeadSettings:
    st.header("3 · Train the head")
    cols = st.columns(4)
    epochs = cols[0].slider("Epochs", *span(K + "epochs"), key=K + "epochs")
    units = cols[1].select_slider("Hidden units", span(K + "units"), key=K + "units")
    dropout = cols[2].slider("Dropout rate", *span(K + "dropout"), step=0.05, key=K + "dropout")
    rate = cols[3].select_slider("Learning rate", span(K + "lr"), key=K + "lr", format_func=lambda v: f"{v:g}")
    cols = st.columns(3)
    share = cols[0].slider("Validation share", *span(K + "val_share"), step=0.05, key=K + "val_share")
    copies = cols[1].slider("Augmented copies per training picture (0 = off)", *span(K + "copies"), key=K + "copies")
    seed = int(cols[2].number_input("Seed", *span(K + "seed"), key=K + "seed"))
    if copies:
        st.info(f"Augmentation (random flip, rotation up to 18°, zoom up to 15%) makes {copies} new picture(s) from "
                "each training picture **before** training. Each copy is a different picture, so each needs its own "
                f"pass through the frozen base: feature extraction costs {1 + copies}× as much. Validation pictures "
                "are never augmented.", icon=":material/auto_awesome_mosaic:")
    n_in, n_out, n_base = base.n_features, len(collection.names), base.weight_count
    n_head = tr.head_weight_count(n_in, n_out, units)
    st.table(pd.DataFrame({"part": ["Frozen base (shared, never trained)", "Head (trainable)", "Trainable share"],
                           "weights": [f"{n_base:,}", f"{n_head:,}", f"{100 * n_head / (n_base + n_head):.2f} %"]}
                          ).set_index("part"))
    st.caption(f"Head: Dense({units}, ReLU) → Dropout({dropout:g}) → Dense({n_out}, softmax) on the {n_in} features: "
               f"{n_in}×{units} + {units} + {units}×{n_out} + {n_out} = {n_head:,} weights. "
               "Loss: categorical cross-entropy; optimizer: Adam.")
    return tr.HeadSettings(epochs, units, dropout, rate, share, copies, seed)


def show_training(base: tr.Base, collection: tr.Collection, settings: tr.HeadSettings):
    """The guess and the Train button; (whether a run has just trained, the slot beside the button for the link)."""
    guess = st.number_input(f"Predict first: what validation accuracy (%) will the head reach after "
                            f"{settings.epochs} epochs?", 0.0, 100.0, 50.0, 5.0, key="transfer_guess")
    GATE.offer_to_class()
    row = st.container(horizontal=True, vertical_alignment="center")
    train = row.button("Train the head", type="primary", key="transfer_train")
    link_slot = row.container(width="content")
    if not train:
        return False, link_slot
    try:
        run = tr.train_run(base, collection, settings, guess=guess, feature_store=state.setdefault(
            "transfer_features", {}), trainers=state.setdefault("transfer_trainers", {}),
            on_progress=progress_view("Passing pictures through the frozen base…"))
    except Exception as error:  # the student sees one line; the teacher's terminal gets the traceback
        show_unexpected(error, "Training the head")
        return False, link_slot
    state["transfer_run"] = run
    GATE.reveal(run.signature, run.feedback(), answer=guess)
    return True, link_slot


def show_run(base: tr.Base, trained: bool) -> None:
    run = state.get("transfer_run")
    if run is None or run.signature != base.signature or not GATE.revealed(run.signature):
        return
    show_results(run, redraw=not trained)             # 4 · results on the validation pictures
    show_new_picture(run)                             # 5 · try a new picture
    show_fine_tuning(run)                             # 6 · fine-tune the last block
    show_download(run)                                # 7 · take your model home


def show_results(run: tr.TransferRun, *, redraw: bool) -> None:
    st.header("4 · Results on the validation pictures")
    if redraw:  # a run that has just trained drew its curves while training
        curves(st.empty(), run.history)
    show_verdict(GATE.feedback(), f"Validation accuracy ({run.stage}): **{100 * run.accuracy:.1f} %** on "
                                  f"{len(run.y_val)} pictures.")
    st.altair_chart(confusion_chart(run.counts, list(run.names)), width="content")
    st.dataframe(tr.per_class_table(run.counts, run.names), hide_index=True, column_config={
        "class": st.column_config.TextColumn("class", width="medium"),
        "accuracy": st.column_config.NumberColumn("accuracy", format="percent", width="small")})
    st.caption("Rows are the true classes, columns what the model said; the diagonal counts the right answers. "
               "A class's accuracy is its diagonal count over its row's total.")


main()
