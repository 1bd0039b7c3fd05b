"""Softmax calculator: logits to probabilities step by step, with temperature and cross-entropy."""
import altair as alt
import streamlit as st

from models.core.links import MAX_TEXT_LENGTH, Field, check_schema
from models.foundations.softmax import (
    EXAMPLE_TEXT,
    MAX_CLASSES,
    cross_entropy,
    display,
    example_table,
    grade_prediction,
    logits_from_table,
    overflow_note,
    parse_logits,
    softmax_steps,
    top_classes,
)
from pages.shared import links
from pages.shared.feedback import RevealGate, plain, show_verdict
from pages.shared.navigation import ensure_app_navigation
from pages.shared.present import explain

ensure_app_navigation()

# Predict first: the steps stay hidden until a guess for exactly these logits.
GATE = RevealGate("softmax", question="softmax.probability")
STEP_COLUMNS = {"logit": "logit z", "shifted": "1 · (z − max z) / T", "exp": "2 · exponential",
                "probability": "4 · probability"}


st.title("Softmax calculator")
explain(
    "A classifier's last layer gives one raw score per class, called a **logit** $z_i$. **Softmax** turns "
    "the logits into probabilities: $p_i = e^{z_i/T} \\,/\\, \\sum_j e^{z_j/T}$. Every $p_i$ lies between "
    "0 and 1, and together they sum to 1. (Some notes give the range as $(-\\infty, +\\infty)$; that is "
    "wrong.) $T$ is the **temperature**. $T = 1$ is the plain softmax of a Keras `activation=\"softmax\"` "
    "layer. With $T < 1$ the largest logit takes more of the mass; with $T > 1$ the classes become more alike."
)

# ---- Inputs ---------------------------------------------------------------------------------------
LINK = check_schema([Field("softmax_text", "logits", "text", EXAMPLE_TEXT, max_length=MAX_TEXT_LENGTH),
                     Field("softmax_temperature", "t", "float", 1.0, low=0.1, high=10.0)])
st.session_state.setdefault("softmax_text", EXAMPLE_TEXT)
st.session_state.setdefault("softmax_temperature", 1.0)
if links.restore(LINK, "softmax"):
    st.session_state["softmax_input_mode"] = "Text"  # a link carries its logits as text
links.show_ignored("softmax")
st.header("1 · Your logits")
mode = st.segmented_control("Enter the logits as", ["Text", "Table"], default="Text", required=True,
                            key="softmax_input_mode")
if mode == "Table":
    table = st.data_editor(example_table(), num_rows="dynamic", hide_index=True, key="softmax_table",
                           column_config={"class": st.column_config.TextColumn("class"),
                                          "logit": st.column_config.TextColumn("logit z")})
    st.caption("Click a cell to edit it; add a row at the bottom. A row left completely empty is ignored. "
               "`2e3` means 2000, and a decimal comma works too: `1,5` is 1.5.")
else:
    text = st.text_input("Logits", max_chars=MAX_TEXT_LENGTH, key="softmax_text")
    st.caption(f"Write `name: number` separated by commas, e.g. `cat: 1.3, dog: 5.1`, or only numbers, "
               f"e.g. `1.3, 5.1, 2.2` (they are named class 1, class 2, …). Use a dot for decimals; `2e3` "
               f"means 2000. Semicolons or new lines also separate entries. Up to {MAX_CLASSES} classes.")
temperature = st.slider("Temperature T", min_value=0.1, max_value=10.0, step=0.1, key="softmax_temperature")
if mode == "Text":  # a table's rows stay in this browser; a link carries typed logits
    links.sync(LINK, "softmax")
    links.link_box("softmax")

try:
    logits = logits_from_table(table) if mode == "Table" else parse_logits(text)
    steps = softmax_steps(logits, temperature)
except ValueError as error:
    st.error(plain(error), icon=":material/error:")
    logits = steps = None

# ---- Predict first --------------------------------------------------------------------------------
signature = None if logits is None else tuple(logits.items())
revealed = GATE.revealed(signature)
if steps is not None and not revealed:
    st.header("2 · Predict first")
    st.markdown("Before you see the answer: **which class gets the highest probability, "
                f"and how much of the mass (between 0 and 1) does it get** at T = {temperature:g}?")
    left, right = st.columns(2)
    guess_class = left.selectbox("Top class", list(steps["class"]), key="softmax_guess_class")
    guess_mass = right.number_input("Its probability", min_value=0.0, max_value=1.0, value=0.5, step=0.05,
                                    key="softmax_guess_mass")
    GATE.offer_to_class()
    if st.button("Lock in my guess and reveal", type="primary", key="softmax_reveal"):
        GATE.reveal(signature, (grade_prediction(steps, guess_class, guess_mass), temperature), answer=guess_mass)
        st.rerun()  # draw the page again without the answered question

if revealed:
    (choice, mass), guessed_at = GATE.feedback()
    st.header("2 · Your guess")
    show_verdict(choice)
    show_verdict(mass)
    if guessed_at != temperature:
        st.caption(f"You guessed at T = {guessed_at:g}; the numbers below are for T = {temperature:g}.")
    st.button("Hide the answer and guess again", key="softmax_hide", on_click=GATE.hide)

# ---- Calculation ----------------------------------------------------------------------------------
if revealed:
    st.header("3 · Step by step")
    st.markdown(
        f"**Step 1: divide by the temperature and subtract the largest.** Each logit becomes "
        f"$(z_i - \\max z)/T$, here with $\\max z$ = {display(steps.attrs['max_logit'])} and $T$ = {temperature:g}. "
        "Subtracting the same number from every logit does not change softmax: $e^{z-c} = e^z e^{-c}$, and "
        "the factor $e^{-c}$ cancels in step 4. It keeps the numbers finite: $e^{1000}$ overflows float64 "
        "(the largest float64 is about $1.8 \\times 10^{308}$; $e^{710}$ is already larger). After the "
        "shift the largest exponent is $e^0 = 1$. We subtract *before* dividing, because $10^{308}/0.1$ "
        "would overflow too.\n\n"
        "**Step 2: exponentials.** $e^{(z_i - \\max z)/T}$ lies between 0 and 1; the top class gets exactly 1. "
        "A very negative shifted value gives an exponential that rounds to 0.\n\n"
        "**Step 3: sum** the exponentials: $S$ is at least 1.\n\n"
        "**Step 4: divide** each exponential by $S$. These are the probabilities; they sum to 1."
    )
    # The table holds the exact numbers; the Styler only decides how they read (−∞, 1e+308, never "-0").
    st.dataframe(steps.style.format(display, subset=list(STEP_COLUMNS)), hide_index=True,
                 column_config={"class": "class", **STEP_COLUMNS})
    if overflow_note(steps):
        st.caption(plain(overflow_note(steps)))
    sum_col, total_col = st.columns(2)
    sum_col.metric("3 · sum of the exponentials S", display(steps.attrs["exp_sum"]))
    total_col.metric("check: sum of the probabilities", display(steps["probability"].sum()))

    top = top_classes(steps)
    chart_data = steps[["class", "probability"]].assign(
        bar=["highest probability" if name in top else "other classes" for name in steps["class"]])
    bars = alt.Chart(chart_data).mark_bar().encode(
        x=alt.X("class:N", sort=None, title="class"),
        y=alt.Y("probability:Q", scale=alt.Scale(domain=[0, 1]), title="probability"),
        color=alt.Color("bar:N", title=None, legend=alt.Legend(orient="top"),
                        scale=alt.Scale(domain=["highest probability", "other classes"],
                                        range=["#e45756", "#9fb7cf"])),
        tooltip=["class", alt.Tooltip("probability:Q", format=".6g")])
    labels = bars.mark_text(dy=-8).encode(text=alt.Text("probability:Q", format=".3f"))
    st.subheader("Probabilities")
    st.altair_chart(bars + labels, width="stretch",
                    alt=f"Bar chart of the probabilities; the highest is {', '.join(top)}.")
    if len(top) > 1:
        st.info(plain(f"Tie: {', '.join(top)} share the highest probability."))

    st.header("4 · Cross-entropy loss")
    st.markdown(
        "If the correct answer is class $y$, training uses the loss $-\\log p_y$: 0 for a sure, right "
        "answer, and large when the model gave the right class little probability. We compute it as "
        "$\\log S - (z_y - \\max z)/T$, the same number rewritten, so it stays finite even when $p_y$ "
        "rounds to 0 (where $\\log 0$ would be $-\\infty$)."
    )
    true_class = st.selectbox("True class y", list(steps["class"]), key="softmax_true_class")
    loss = cross_entropy(logits, true_class, temperature)
    p_true = float(steps.loc[steps["class"] == true_class, "probability"].iloc[0])
    p_col, loss_col = st.columns(2)
    p_col.metric(plain(f"p({true_class})"), display(p_true))
    loss_col.metric(plain(f"loss −log p({true_class})"), display(loss) if loss < float("inf") else "over 1.8e308")
    if loss == float("inf"):
        st.warning("This loss is larger than the largest float64 number (about 1.8e308).")
    elif p_true == 0:
        st.caption("p rounds to 0 in float64, yet the loss above is finite: we never take log 0.")
