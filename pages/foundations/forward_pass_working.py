"""The forward-pass page's worked solution: every neuron by hand beside Keras, one backprop step, the answer key."""
import streamlit as st

from models.foundations import forward_pass as fp
from pages.shared.present import explain


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
    explain(
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
