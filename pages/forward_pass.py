"""Forward pass and backprop: a small network computed by hand, checked by Keras, then one gradient step."""
import json

import streamlit as st

from models.core.guess import grade_number
from models.core.links import MAX_TEXT_LENGTH
from models.foundations import forward_pass as fp
from pages.foundations import checked_links
from pages.foundations.forward_pass_link import CHECKS, DEFAULTS, PAGE, PRESETS, SCHEMA, preset_of
from pages.foundations.forward_pass_parts import link_text, network_dot
from pages.foundations.forward_pass_working import show_answer_key, show_backprop, show_forward
from pages.shared import links
from pages.shared.feedback import RevealGate, plain, show_verdict
from pages.shared.navigation import ensure_app_navigation
from pages.shared.present import explain, presenting

ensure_app_navigation()

GATE = RevealGate("forward_pass", question="forward_pass.output")
state = st.session_state


def _load(spec: dict) -> None:
    # A new version number gives every table and selector a fresh key, so old edits do not carry over.
    state["forward_pass_base"] = spec
    state["forward_pass_version"] = state.get("forward_pass_version", 0) + 1


def _pick_preset() -> None:
    uploaded = state.get("forward_pass_uploaded")
    name = state["forward_pass_preset"]
    _load(uploaded[1] if uploaded and name == uploaded[0] else PRESETS[name])
    state["forward_pass_upload_error"] = None


def _offer(label: str, spec: dict) -> None:
    """A network from a file or a link: its own entry in the "Start from" box, loaded."""
    state["forward_pass_uploaded"] = (label[:60] + "…" if len(label) > 60 else label, spec)
    state["forward_pass_preset"] = state["forward_pass_uploaded"][0]  # the box shows what is loaded
    _load(spec)


def _from_link(text: str) -> None:
    spec = fp.spec_from_json(text)  # already checked when the link was read
    preset = preset_of(spec)
    if preset is None:
        _offer(f"From a link: {spec.get('name', 'a network')}", spec)
    else:
        state["forward_pass_preset"] = preset
        _load(PRESETS[preset])


def _upload() -> None:
    file = state["forward_pass_upload"]
    state["forward_pass_upload_error"] = None
    if file is not None:
        try:
            spec = fp.spec_from_json(file.getvalue())
        except fp.SpecError as error:
            state["forward_pass_upload_error"] = f"Could not use {file.name}: {error}"
            return
        _offer(f"Uploaded: {spec.get('name', file.name)}", spec)


def _reveal(spec_id: str, actual: float) -> None:
    feedback = grade_number(state["forward_pass_guess"], actual, close_within=max(0.05, 0.1 * abs(actual)))
    GATE.reveal(spec_id, feedback, answer=state["forward_pass_guess"])


@st.cache_data(max_entries=500, show_spinner=False)
def _keras(spec_json: str) -> dict:
    return fp.keras_results(json.loads(spec_json))


def show_network() -> dict | None:
    """Section 1: the preset or upload, the editable tables; returns the spec as typed, or None with a message."""
    st.header("1. The network")
    left, right = st.columns([2, 1])
    uploaded = state.get("forward_pass_uploaded")
    left.selectbox("Start from", list(PRESETS) + ([uploaded[0]] if uploaded else []), key="forward_pass_preset",
                   on_change=_pick_preset)
    right.file_uploader("…or upload a spec (.json)", type=["json"], key="forward_pass_upload", on_change=_upload)
    if state.get("forward_pass_upload_error"):
        st.error(plain(state["forward_pass_upload_error"]))
    base, version = state["forward_pass_base"], state["forward_pass_version"]
    names = fp.neuron_names(base)
    if base.get("description"):
        st.text(base["description"])  # no Markdown at all: plain() would still let a bare URL become a link
    st.markdown("Change any number in the tables (`2e3`, `-0.5` and `1,5` all work). In a layer's table, **row i, "
                "column j is the weight from incoming value i to neuron j** (the same layout as a Keras `Dense` "
                "kernel); the last row holds the biases. To change the shape of the network, download the spec, "
                "edit it and upload it.")
    st.markdown("**Inputs**")
    tables = {"inputs": st.data_editor(fp.row_table(base["inputs"], names[0], "input"),
                                       key=f"forward_pass_inputs_v{version}")}
    activations = []
    for index, layer in enumerate(base["layers"]):
        table_col, act_col = st.columns([3, 1])
        kind = "output layer" if index == len(base["layers"]) - 1 else "hidden layer"
        tables[index] = table_col.data_editor(fp.layer_table(base, index),
                                              key=f"forward_pass_layer{index + 1}_v{version}")
        activations.append(act_col.selectbox(f"Layer {index + 1} ({kind}) activation", fp.ACTIVATIONS,
                                             index=fp.ACTIVATIONS.index(layer["activation"]),
                                             key=f"forward_pass_activation{index + 1}_v{version}"))
    st.markdown("**Targets** (what the output should be)")
    tables["targets"] = st.data_editor(fp.row_table(base["targets"], names[-1], "target"),
                                       key=f"forward_pass_targets_v{version}")
    loss_col, rate_col = st.columns(2)
    loss = loss_col.selectbox("Loss", fp.LOSSES, index=fp.LOSSES.index(base["loss"]),
                              key=f"forward_pass_loss_v{version}", format_func=lambda n: f"{n}: {fp.LOSS_FORMULAS[n]}")
    rate = rate_col.number_input("Learning rate", min_value=fp.MIN_RATE, max_value=fp.MAX_RATE, step=0.05,
                                 format="%g", value=float(base["learning_rate"]), key=f"forward_pass_rate_v{version}")
    try:
        layers = [fp.layer_from_table(tables[k], act, f"Layer {k + 1}") for k, act in enumerate(activations)]
        texts = {"description": base["description"]} if base.get("description") else {}
        return fp.solve({"name": base.get("name", "My network"), **texts, "layers": layers, "loss": loss,
                         "learning_rate": rate,
                         "inputs": fp.row_from_table(tables["inputs"], "Inputs"),
                         "targets": fp.row_from_table(tables["targets"], "Targets")})
    except fp.SpecError as error:
        st.error(plain(f"This network cannot be computed yet. {error}"))
        return None


def show_prediction(sol: fp.Solution, spec_id: str) -> None:
    """Section 2: a guess of the first output before the working appears."""
    if state.get("forward_pass_revealed_for"):
        st.info("You changed the network, so here is a new prediction to make.")
    output = sol.names[-1][0]
    st.markdown(f"Before you see the working, estimate what the first output neuron, **a_{output}**, "
                "will be. A rough guess is fine: look at the signs and sizes of the weights.")
    st.number_input(f"Your guess for the output a_{output}", value=0.5, step=0.01, format="%.4f",
                    key="forward_pass_guess")
    GATE.offer_to_class()
    st.button("Check my guess and show the working", key="forward_pass_reveal", type="primary",
              on_click=_reveal, args=(spec_id, sol.passes[-1]["a"][0]))


def show_link(solution) -> None:
    """The address holds the network as typed; one too large for an address is shared as a file instead."""
    text = None if solution is None else link_text(solution.spec)
    if text is not None and len(text) > MAX_TEXT_LENGTH:
        st.caption(f"This network needs {len(text):,} characters, more than a link holds ({MAX_TEXT_LENGTH:,}): "
                   "share the downloaded spec instead.")
        return
    if text is not None:
        state["forward_pass_net"] = text
    links.sync(SCHEMA, PAGE)
    if solution is not None:
        links.link_box(PAGE)


for key, value in DEFAULTS.items():
    state.setdefault(key, value)
if checked_links.restore(SCHEMA, PAGE, CHECKS):  # a shared link brings its network, every number as typed
    _from_link(state["forward_pass_net"])
elif "forward_pass_base" not in state:
    _load(next(iter(PRESETS.values())))

st.title("Forward pass and backpropagation, by hand")
links.show_ignored(PAGE)
explain(
    "Every neuron does two things: it adds up its weighted inputs plus a bias, "
    "**z = Σ wᵢ·aᵢ + b**, then applies its activation, **a = f(z)**. The outputs of one layer are the "
    "inputs of the next. Below you compute a small network this way, compare with Keras, and then take "
    "one training step with the chain rule."
)
picture = st.container()  # the network itself, drawn from the tables below
# Drawn before anything that can fail, so the switch keeps its state while a table has an empty cell.
show_all = st.toggle("Teacher mode: show the answers without asking for a guess", key="forward_pass_show_all")
with st.expander("1. The network: inputs, weights, targets, loss") if presenting() else st.container():
    solution = show_network()
    download_slot, link_slot = st.columns([1, 1])
with picture:
    st.graphviz_chart(network_dot(state["forward_pass_base"] if solution is None else solution.spec),
                      width="stretch" if presenting() else "content",
                      alt="The network: inputs, neurons with their biases, arrows with their weights, and the targets.")
with link_slot:
    show_link(solution)
if solution is not None:
    spec_id = fp.spec_to_json(solution.spec)
    download_slot.download_button("Download this spec (JSON)", spec_id, file_name="network.json",
                                  mime="application/json", on_click="ignore", key="forward_pass_download_spec")
    st.header("2. Predict first")
    if GATE.revealed(spec_id) or show_all:
        if GATE.revealed(spec_id):
            show_verdict(GATE.feedback())
        else:
            st.caption("Teacher mode is on, so the answers are shown without a guess.")
        with st.spinner("Loading Keras and building the same network (the first time takes a few seconds)…"):
            keras_numbers = _keras(spec_id)
        show_forward(solution, keras_numbers)
        show_backprop(solution, keras_numbers)
        show_answer_key(solution)
    else:
        show_prediction(solution, spec_id)
