"""Forward pass and backprop: a small network computed by hand, checked by Keras, then one gradient step."""
import json

import streamlit as st

from models.core.guess import grade_number
from models.foundations import forward_pass as fp
from pages.shared.feedback import RevealGate, plain, show_verdict
from pages.shared.navigation import ensure_app_navigation
from pages.shared.present import explain

ensure_app_navigation()

PRESETS = fp.load_presets()
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


def _upload() -> None:
    file = state["forward_pass_upload"]
    state["forward_pass_upload_error"] = None
    if file is not None:
        try:
            spec = fp.spec_from_json(file.getvalue())
        except fp.SpecError as error:
            state["forward_pass_upload_error"] = f"Could not use {file.name}: {error}"
            return
        label = f"Uploaded: {spec.get('name', file.name)}"
        state["forward_pass_uploaded"] = (label[:60] + "…" if len(label) > 60 else label, spec)
        state["forward_pass_preset"] = state["forward_pass_uploaded"][0]  # the box shows what is loaded
        _load(spec)


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
        return fp.solve({"name": base.get("name", "My network"), "layers": layers, "loss": loss, "learning_rate": rate,
                         "inputs": fp.row_from_table(tables["inputs"], "Inputs"),
                         "targets": fp.row_from_table(tables["targets"], "Targets")})
    except fp.SpecError as error:
        st.error(plain(f"This network cannot be computed yet. {error}"))
        return None


def show_forward(sol: fp.Solution, by_keras: dict) -> None:
    """Section 3: every neuron's sum and activation, the loss, and the same numbers from Keras."""
    st.header("3. Forward pass")
    for index, rows in enumerate(sol.forward_steps, start=1):
        st.markdown(f"**Layer {index}** ({sol.spec['layers'][index - 1]['activation']})")
        st.code("\n".join(line for r in rows for line in (r["sum"], r["activation"])), language=None, wrap_lines=True)
    st.markdown("**Loss** — how far the outputs are from the targets")
    st.code("\n".join(sol.loss_steps), language=None, wrap_lines=True)
    st.subheader("The same numbers from Keras")
    compare = fp.keras_comparison(sol, by_keras)
    st.dataframe(compare.assign(**{c: compare[c].map(fp.fmt) for c in ("by hand", "Keras")}), hide_index=True)
    st.caption("Keras ran `Dense` layers in float64 holding the very same weights. Differences around 1e-16 are "
               "rounding in the last binary digit (for numbers above 1, the difference is relative to their size).")
    if "crossentropy" in sol.spec["loss"]:
        st.caption("Keras computes cross-entropy from the output layer's z (\"from logits\"), and so do we. "
                   "Fed bare probabilities instead, it would clip them to [10⁻⁷, 1 − 10⁻⁷], and a saturated "
                   "output would give a slightly different loss.")


def show_backprop(sol: fp.Solution, by_keras: dict) -> None:
    """Section 4: δ of every neuron, the gradients beside GradientTape's, the step and the loss after it."""
    st.header("4. One step of backpropagation")
    st.markdown(
        "**Backpropagation** finds ∂L/∂w for every weight with the chain rule; **gradient descent** then "
        "moves each weight a little downhill: w ← w − learning rate × ∂L/∂w.\n\n"
        "- For each neuron, **δ = ∂L/∂z** = (how the loss changes with its output a) × "
        "(the activation's slope f′(z)).\n"
        "- The output layer's ∂L/∂a comes from the loss; a hidden neuron's is **Σ w·δ** over the neurons "
        "it feeds.\n"
        "- Then **∂L/∂w = δ of the receiving neuron × the value coming in**, and ∂L/∂b = δ.\n\n"
        "**Batch, iteration, epoch.** A *batch* is the group of examples used for one update; an *iteration* "
        "(step) is one update from one batch; an *epoch* is one full pass over the training set, i.e. "
        "(examples ÷ batch size) iterations. Here the batch is one example, so this page shows **one iteration**. "
        "An epoch is therefore not an iteration: with 1,000 examples and batches of 50, one epoch is 20 iterations."
    )
    for index, rows in reversed(list(enumerate(sol.delta_steps, start=1))):
        st.markdown(f"**Layer {index}: δ of each neuron**")
        st.code("\n".join(line for r in rows for line in r["lines"]), language=None, wrap_lines=True)
    table, gap = fp.gradient_comparison(sol, by_keras)
    shown = table.assign(**{c: table[c].map(fp.fmt) for c in ("value", "gradient", "GradientTape", "updated")})
    st.markdown("**Gradient of every weight and bias**: ∂L/∂w = δ × the value coming in")
    # height="content": every row visible, no scrolling inside the table on the projector
    st.dataframe(shown[["parameter", "gradient", "GradientTape", "chain rule"]], hide_index=True, height="content")
    st.success(f"The chain rule by hand and TensorFlow's automatic differentiation (tf.GradientTape) agree: "
               f"the largest difference is {gap:.1e}.")
    st.markdown(f"**The gradient-descent step**: new w = w − {fp.fmt(sol.spec['learning_rate'])} × ∂L/∂w")
    if sol.note:
        st.warning(sol.note, icon=":material/warning:")
    st.dataframe(shown[["parameter", "update", "updated"]].rename(columns={"updated": "new value"}), hide_index=True,
                 height="content")
    before, after = st.columns(2)
    before.metric("Loss before the step", fp.fmt(sol.loss))
    finite = sol.loss_after - sol.loss == sol.loss_after - sol.loss  # False for ∞ − ∞ and NaN
    after.metric("Loss after one step", fp.fmt(sol.loss_after), delta_color="inverse",
                 delta=fp.fmt(sol.loss_after - sol.loss) if finite else None)
    if sol.loss_after > sol.loss and not sol.note:
        st.warning("The loss went up: the learning rate is too large for this network, so the step overshoots.")


def show_answer_key(sol: fp.Solution) -> None:
    st.header("5. Answer key")
    st.markdown("The whole worked solution, to print or hand out.")
    md_col, csv_col = st.columns(2)
    md_col.download_button("Worked solution (Markdown)", fp.answer_key_markdown(sol), on_click="ignore",
                           file_name="worked_solution.md", mime="text/markdown", key="forward_pass_download_md")
    csv_col.download_button("Weights and gradients (CSV)", fp.answer_key_csv(sol), on_click="ignore",
                            file_name="weights_and_gradients.csv", mime="text/csv", key="forward_pass_download_csv")


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


if "forward_pass_base" not in state:
    _load(next(iter(PRESETS.values())))

st.title("Forward pass and backpropagation, by hand")
explain(
    "Every neuron does two things: it adds up its weighted inputs plus a bias, "
    "**z = Σ wᵢ·aᵢ + b**, then applies its activation, **a = f(z)**. The outputs of one layer are the "
    "inputs of the next. Below you compute a small network this way, compare with Keras, and then take "
    "one training step with the chain rule."
)
# Drawn before anything that can fail, so the switch keeps its state while a table has an empty cell.
show_all = st.toggle("Teacher mode: show the answers without asking for a guess", key="forward_pass_show_all")
solution = show_network()
if solution is not None:
    spec_id = fp.spec_to_json(solution.spec)
    st.download_button("Download this spec (JSON)", spec_id, file_name="network.json", mime="application/json",
                       on_click="ignore", key="forward_pass_download_spec")
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
