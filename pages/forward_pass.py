"""Forward pass and backprop: a small network computed by hand, checked by Keras, then one gradient step."""
import json

import pandas as pd
import streamlit as st

from models.core.guess import grade_number
from models.foundations.forward_pass import (
    ACTIVATIONS,
    LOSS_FORMULAS,
    LOSSES,
    MAX_RATE,
    MIN_RATE,
    SpecError,
    answer_key_csv,
    answer_key_markdown,
    backprop_step,
    delta_steps,
    fmt,
    forward,
    forward_steps,
    keras_results,
    layer_from_table,
    layer_table,
    load_presets,
    loss_steps,
    neuron_names,
    parameter_table,
    row_from_table,
    row_table,
    spec_from_json,
    spec_to_json,
    validate_spec,
)
from pages.shared.navigation import ensure_app_navigation

ensure_app_navigation()

PRESETS = load_presets()
state = st.session_state


def _load(spec: dict) -> None:
    # A new version number gives every table and selector a fresh key, so old edits do not carry over.
    state["forward_pass_base"] = spec
    state["forward_pass_version"] = state.get("forward_pass_version", 0) + 1


def _pick_preset() -> None:
    _load(PRESETS[state["forward_pass_preset"]])
    state["forward_pass_upload_error"] = None


def _upload() -> None:
    file = state["forward_pass_upload"]
    state["forward_pass_upload_error"] = None
    if file is not None:
        try:
            _load(spec_from_json(file.getvalue()))
        except SpecError as error:
            state["forward_pass_upload_error"] = f"Could not use {file.name}: {error}"


def _reveal(spec_id: str) -> None:
    state["forward_pass_revealed_for"] = spec_id
    state["forward_pass_guessed"] = state["forward_pass_guess"]


@st.cache_data(max_entries=500, show_spinner=False)
def _keras(spec_json: str) -> dict:
    return keras_results(json.loads(spec_json))


def _solution(spec: dict, spec_id: str, names: list[list[str]], revealed: bool) -> None:
    """Sections 3-5: the guess feedback, the forward pass, the Keras check, backprop and the answer key."""
    passes, step = forward(spec), backprop_step(spec)
    actual = passes[-1]["a"][0]
    if revealed and "forward_pass_guessed" in state:
        feedback = grade_number(state["forward_pass_guessed"], actual, close_within=max(0.05, 0.1 * abs(actual)))
        {"spot on": st.success, "close": st.info, "off": st.warning}[feedback.verdict](feedback.message)

    # ---------- Forward pass ----------
    st.header("3. Forward pass")
    for index, rows in enumerate(forward_steps(spec), start=1):
        st.markdown(f"**Layer {index}** ({spec['layers'][index - 1]['activation']})")
        st.code("\n".join(line for r in rows for line in (r["sum"], r["activation"])), language=None, wrap_lines=True)
    st.markdown("**Loss** — how far the outputs are from the targets")
    st.code("\n".join(loss_steps(spec)), language=None, wrap_lines=True)

    st.subheader("The same numbers from Keras")
    with st.spinner("Loading Keras and building the same network (the first time takes a few seconds)…"):
        by_keras = _keras(spec_id)
    compare = pd.DataFrame({"value": [f"a_{n}" for level in names[1:] for n in level] + ["loss"],
                            "by hand": [v for p in passes for v in p["a"]] + [step["loss"]],
                            "Keras": [v for level in by_keras["activations"] for v in level] + [by_keras["loss"]]})
    compare["difference"] = [f"{d:.1e}" for d in (compare["by hand"] - compare["Keras"]).abs()]
    st.dataframe(compare.assign(**{c: compare[c].map(fmt) for c in ("by hand", "Keras")}), hide_index=True)
    st.caption("Keras ran `Dense` layers in float64 holding the very same weights. Differences around 1e-16 are "
               "rounding in the last binary digit.")
    if "crossentropy" in spec["loss"]:
        st.caption("Keras computes cross-entropy from the output layer's z (\"from logits\"), and so do we. "
                   "Fed bare probabilities instead, it would clip them to [10⁻⁷, 1 − 10⁻⁷], and a saturated "
                   "output would give a slightly different loss.")

    # ---------- Backpropagation ----------
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
    for index, rows in reversed(list(enumerate(delta_steps(spec), start=1))):
        st.markdown(f"**Layer {index}: δ of each neuron**")
        st.code("\n".join(line for r in rows for line in r["lines"]), language=None, wrap_lines=True)

    table = parameter_table(spec)
    table["GradientTape"] = [g for grad in by_keras["gradients"] for j in range(len(grad["biases"]))
                             for g in [row[j] for row in grad["weights"]] + [grad["biases"][j]]]
    gap = (table["gradient"] - table["GradientTape"]).abs().max()
    shown = table.assign(**{c: table[c].map(fmt) for c in ("value", "gradient", "GradientTape", "updated")})
    st.markdown("**Gradient of every weight and bias**: ∂L/∂w = δ × the value coming in")
    # height="content": every row visible, no scrolling inside the table on the projector
    st.dataframe(shown[["parameter", "gradient", "GradientTape", "chain rule"]], hide_index=True, height="content")
    st.success(f"The chain rule by hand and TensorFlow's automatic differentiation (tf.GradientTape) agree: "
               f"the largest difference is {gap:.1e}.")
    st.markdown(f"**The gradient-descent step**: new w = w − {fmt(spec['learning_rate'])} × ∂L/∂w")
    st.dataframe(shown[["parameter", "update", "updated"]].rename(columns={"updated": "new value"}), hide_index=True,
                 height="content")
    before, after = st.columns(2)
    before.metric("Loss before the step", fmt(step["loss"]))
    after.metric("Loss after one step", fmt(step["loss_after"]), delta=fmt(step["loss_after"] - step["loss"]),
                 delta_color="inverse")
    if step["loss_after"] > step["loss"]:
        st.warning("The loss went up: the learning rate is too large for this network, so the step overshoots.")

    # ---------- Answer key ----------
    st.header("5. Answer key")
    st.markdown("The whole worked solution, to print or hand out.")
    md_col, csv_col = st.columns(2)
    md_col.download_button("Worked solution (Markdown)", answer_key_markdown(spec), file_name="worked_solution.md",
                           mime="text/markdown", on_click="ignore", key="forward_pass_download_md")
    csv_col.download_button("Weights and gradients (CSV)", answer_key_csv(spec), file_name="weights_and_gradients.csv",
                            mime="text/csv", on_click="ignore", key="forward_pass_download_csv")


if "forward_pass_base" not in state:
    _load(next(iter(PRESETS.values())))

st.title("Forward pass and backpropagation, by hand")
st.markdown(
    "Every neuron does two things: it adds up its weighted inputs plus a bias, "
    "**z = Σ wᵢ·aᵢ + b**, then applies its activation, **a = f(z)**. The outputs of one layer are the "
    "inputs of the next. Below you compute a small network this way, compare with Keras, and then take "
    "one training step with the chain rule."
)

# Drawn before anything that can fail, so the switch keeps its state while a table has an empty cell.
show_all = st.toggle("Teacher mode: show the answers without asking for a guess", key="forward_pass_show_all")

# ---------- Network ----------
st.header("1. The network")
left, right = st.columns([2, 1])
left.selectbox("Start from", list(PRESETS), key="forward_pass_preset", on_change=_pick_preset)
right.file_uploader("…or upload a spec (.json)", type=["json"], key="forward_pass_upload", on_change=_upload)
if state.get("forward_pass_upload_error"):
    st.error(state["forward_pass_upload_error"])
base, version = state["forward_pass_base"], state["forward_pass_version"]
names = neuron_names(base)
if base.get("description"):
    st.caption(base["description"])
st.markdown("Change any number in the tables. In a layer's table, **row i, column j is the weight from "
            "incoming value i to neuron j** (the same layout as a Keras `Dense` kernel); the last row holds "
            "the biases. To change the shape of the network, download the spec, edit it and upload it.")

st.markdown("**Inputs**")
inputs = st.data_editor(row_table(base["inputs"], names[0], "input"), key=f"forward_pass_inputs_v{version}")
layers = []
for index, layer in enumerate(base["layers"]):
    table_col, act_col = st.columns([3, 1])
    kind = "output layer" if index == len(base["layers"]) - 1 else "hidden layer"
    table = table_col.data_editor(layer_table(base, index), key=f"forward_pass_layer{index + 1}_v{version}")
    activation = act_col.selectbox(f"Layer {index + 1} ({kind}) activation", ACTIVATIONS,
                                   index=ACTIVATIONS.index(layer["activation"]),
                                   key=f"forward_pass_activation{index + 1}_v{version}")
    layers.append(layer_from_table(table, activation))
st.markdown("**Targets** (what the output should be)")
targets = st.data_editor(row_table(base["targets"], names[-1], "target"), key=f"forward_pass_targets_v{version}")
loss_col, rate_col = st.columns(2)
loss = loss_col.selectbox("Loss", LOSSES, index=LOSSES.index(base["loss"]), key=f"forward_pass_loss_v{version}",
                          format_func=lambda n: f"{n}: {LOSS_FORMULAS[n]}")
rate = rate_col.number_input("Learning rate", min_value=MIN_RATE, max_value=MAX_RATE, step=0.05, format="%g",
                             value=float(base["learning_rate"]), key=f"forward_pass_rate_v{version}")

try:
    spec = validate_spec({"name": base.get("name", "My network"), "inputs": row_from_table(inputs), "layers": layers,
                          "targets": row_from_table(targets), "loss": loss, "learning_rate": rate})
except SpecError as error:
    st.error(f"This network cannot be computed yet. {error}")
    spec = None
if spec is not None:
    st.download_button("Download this spec (JSON)", spec_to_json(spec), file_name="network.json",
                       mime="application/json", on_click="ignore", key="forward_pass_download_spec")

    # ---------- Predict first ----------
    st.header("2. Predict first")
    spec_id = spec_to_json(spec)
    revealed = state.get("forward_pass_revealed_for") == spec_id
    if revealed or show_all:
        if not revealed:
            st.caption("Teacher mode is on, so the answers are shown without a guess.")
        _solution(spec, spec_id, names, revealed)
    else:
        if state.get("forward_pass_revealed_for"):
            st.info("You changed the network, so here is a new prediction to make.")
        st.markdown(f"Before you see the working, estimate what the first output neuron, **a_{names[-1][0]}**, "
                    "will be. A rough guess is fine: look at the signs and sizes of the weights.")
        st.number_input(f"Your guess for the output a_{names[-1][0]}", value=0.5, step=0.01, format="%.4f",
                        key="forward_pass_guess")
        st.button("Check my guess and show the working", key="forward_pass_reveal", type="primary",
                  on_click=_reveal, args=(spec_id,))
