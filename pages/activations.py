"""Activation functions: shapes, slopes, output ranges and where each one is used."""
import streamlit as st

from models.foundations import activations as act
from pages.foundations import checked_links
from pages.foundations.activations_link import CHECKS, DEFAULTS, FUNCTIONS, NAMES, PAGE, SCHEMA, function_names, span
from pages.foundations.activations_parts import curve_chart, numbers
from pages.shared import class_poll, links
from pages.shared.feedback import plain, show_verdict
from pages.shared.navigation import ensure_app_navigation
from pages.shared.present import explain, presenting

ensure_app_navigation()

state = st.session_state
for key, value in DEFAULTS.items():  # start values here, not in the widgets: a link may set them
    state.setdefault(key, value)
state.setdefault("activations_functions", FUNCTIONS)


def label(name: str) -> str:
    return act.ACTIVATIONS[name].label


@st.cache_data(show_spinner=False, max_entries=256)
def cached_curves(names: tuple, x_min: float, x_max: float, settings: dict):
    return act.curves(names, x_min, x_max, settings=settings)


@st.cache_data(show_spinner=False, max_entries=256)
def cached_probe(names: tuple, x: float, settings: dict):
    return act.probe(names, x, settings=settings)


@st.cache_data(show_spinner=False, max_entries=256)
def cached_softmax(text: str):
    return act.softmax_tables(text)


def main() -> None:
    if checked_links.restore(SCHEMA, PAGE, CHECKS):  # a shared link sets every control
        state["activations_functions"] = function_names(state["activations_functions_link"])
    st.title("Activation functions")
    links.show_ignored(PAGE)
    explain(
        "A neuron computes a weighted sum *z = w·x + b* and passes it through an **activation function** *f*. "
        "Without a non-linear *f*, a stack of layers is still one linear function. Below: what each function "
        "looks like, its **slope** *f′(x)* (the factor backpropagation multiplies the gradient by at that neuron), "
        "its output range and where it is used. Values come from `keras.activations`, slopes from TensorFlow's "
        "automatic differentiation, both in 64-bit floats."
    )
    heading, link_slot = st.columns([3, 1], vertical_alignment="bottom")
    heading.subheader("Compare shapes and slopes")
    charts = st.container()  # the curves first, their settings below them (folded on the projector)
    with st.expander("Settings: functions, x range, slopes") if presenting() else st.container():
        names, x_min, x_max, settings = show_settings()
    with charts:
        show_curves(names, x_min, x_max, settings)
    show_facts()
    show_quiz(settings)
    show_probe(names, settings)
    show_softmax_vector()
    state["activations_functions_link"] = ",".join(state["activations_functions"])
    links.sync(SCHEMA, PAGE)
    with link_slot:
        links.link_box(PAGE)


def show_settings():
    names = st.multiselect("Functions to overlay", span("activations_functions_link"), format_func=label,
                           key="activations_functions")
    left, middle, right = st.columns(3)
    x_min = left.number_input("Smallest x", *span("activations_x_min"), step=0.5, key="activations_x_min")
    x_max = middle.number_input("Largest x", *span("activations_x_max"), step=0.5, key="activations_x_max")
    slope = right.slider("Leaky-ReLU slope for x < 0", *span("activations_slope"), step=0.01, key="activations_slope")
    st.caption(f"Leaky ReLU here is `keras.activations.leaky_relu(x, negative_slope={slope:g})`. Its default slope "
               "is 0.2; the `keras.layers.LeakyReLU` layer defaults to 0.3.")
    with st.expander("Settings for ELU, GELU and softmax"):
        alpha = st.number_input("ELU α (ELU levels off at −α)", *span("activations_elu_alpha"), step=0.1,
                                key="activations_elu_alpha")
        approximate = st.toggle("GELU: use the tanh approximation (Keras's default is the exact form with erf)",
                                key="activations_gelu_approximate")
        others = st.text_input("Softmax: the other logits, held fixed while x is the first logit",
                               max_chars=span("activations_softmax_others"), key="activations_softmax_others")
    settings = {"leaky_relu": {"negative_slope": slope}, "elu": {"alpha": alpha}, "gelu": {"approximate": approximate}}
    try:
        settings["softmax"] = act.check_settings("softmax", others=others)
    except ValueError as problem:
        st.error(f"{plain(problem)} Softmax is left out until this is fixed.")
        names = [name for name in names if name != "softmax"]
    if "softmax" in names:
        fixed = ", ".join(f"{v:g}" for v in settings["softmax"]["others"])
        st.caption(f"The softmax curve is p₁ = softmax([x, {fixed}])₁; its slope from autodiff equals p₁(1 − p₁).")
    return names, x_min, x_max, settings


def show_curves(names, x_min, x_max, settings) -> None:
    if not names:
        st.info("Pick at least one function to plot.")
        return
    try:
        with st.spinner("Computing the curves with Keras and TensorFlow…"):
            data = cached_curves(tuple(names), x_min, x_max, settings)
    except ValueError as problem:
        st.error(plain(problem))
        return
    left, right = st.columns(2)
    height = 400 if presenting() else 330  # the legend above takes about 80 pixels of it
    left.altair_chart(curve_chart(data, "value", "f(x)", height), width="stretch")
    right.altair_chart(curve_chart(data, "slope", "slope f′(x)", height), width="stretch")
    st.caption("Hover over (or tap) a curve to read x, f(x) and f′(x). Flat stretches of f are where "
               "f′ is near 0: the function saturates and gradients passing through it vanish.")


def show_facts() -> None:
    st.subheader("The functions at a glance")
    st.table(act.facts_table().set_index("Function"))
    st.info(
        "Common slips: sigmoid's range is the open interval (0, 1), not the two-value set {0, 1}. Softmax outputs "
        "each lie in (0, 1) and sum to 1; they are not (−∞, +∞). ReLU's range includes 0: [0, +∞). Binary "
        "classification uses **one** sigmoid output neuron, not one per class."
    )


def show_quiz(settings) -> None:
    st.subheader("Predict first")
    quiz_left, quiz_middle, quiz_right = st.columns(3)
    quiz_names = [name for name in NAMES if name != "softmax" or "softmax" in settings]
    if state["activations_quiz_function"] not in quiz_names:
        state["activations_quiz_function"] = DEFAULTS["activations_quiz_function"]
    quiz_name = quiz_left.selectbox("Function", quiz_names, format_func=label, key="activations_quiz_function")
    quantity = quiz_middle.radio("Guess", span("activations_quiz_quantity"), horizontal=True,
                                 key="activations_quiz_quantity",
                                 format_func={"value": "value f(x)", "slope": "slope f′(x)"}.get)
    quiz_x = quiz_right.number_input("at x =", *span("activations_quiz_x"), step=0.5, key="activations_quiz_x")
    symbol = f"{label(quiz_name)}{'′' if quantity == 'slope' else ''}({quiz_x:g})"
    guess = st.number_input(f"Your guess: {symbol} = ?", value=None, step=0.01, format="%.4f",
                            placeholder="type a number", key="activations_guess")
    question = (quiz_name, quantity, quiz_x, repr(settings.get(quiz_name, {})))
    class_poll.send_checkbox("activations.value", "activations_guess")
    if st.button("Check my guess", key="activations_check"):
        if guess is None:
            st.warning("Type a number as your guess first, then check it.")
        else:
            try:
                with st.spinner("Working it out with Keras…"):
                    feedback = act.grade_prediction(quiz_name, quiz_x, quantity, guess, **settings.get(quiz_name, {}))
                state["activations_feedback"] = (question, feedback)
                if state.get("activations_guess_send_to_class"):
                    class_poll.send("activations.value", guess)
                    class_poll.show_sent_message()
            except ValueError as problem:
                st.error(plain(problem))
    stored = state.get("activations_feedback")
    if stored and stored[0] == question:
        show_verdict(stored[1], f"(The question: {plain(symbol)}.)")


def show_probe(names, settings) -> None:
    st.subheader("Probe one point")
    probe_x = st.number_input("x", *span("activations_probe_x"), step=0.1, key="activations_probe_x")
    if names:
        st.dataframe(numbers(cached_probe(tuple(names), probe_x, settings)), hide_index=True)
        st.caption("At exactly x = 0, ReLU and leaky ReLU have a corner; TensorFlow uses the left-hand slope there "
                   "(0 for ReLU, the small slope for leaky ReLU).")
    with st.spinner("Computing…"):
        worked, worked_slopes = act.evaluate("sigmoid", [-5.0, 0.0, 5.0])
    st.markdown(
        f"**Worked example.** sigmoid(−5) = 1 / (1 + e⁵) ≈ **{worked[0]:.4f}** and sigmoid(5) ≈ **{worked[2]:.4f}**: "
        f"close to 0 and 1, but never equal to them. The slopes there are only {worked_slopes[0]:.4f}, against "
        f"{worked_slopes[1]:.2f} at x = 0. That is saturation."
    )


def show_softmax_vector() -> None:
    st.subheader("Softmax over a whole vector")
    text = st.text_input("Logits z, separated by commas (use a dot for decimals)",
                         max_chars=span("activations_softmax_vector"), key="activations_softmax_vector")
    show_jacobian = st.checkbox("Show the Jacobian ∂pᵢ/∂zⱼ (from autodiff)", key="activations_show_jacobian")
    try:
        table, jacobian = cached_softmax(text)
    except ValueError as problem:
        st.error(plain(problem))
        return
    st.dataframe(numbers(table), hide_index=True)
    st.markdown(f"Each p lies strictly between 0 and 1 (display rounds); their sum is "
                f"**{table['probability p'].sum():.6f}**. The largest logit gets the largest probability.")
    if show_jacobian:
        st.dataframe(numbers(jacobian))
        st.caption("Diagonal: pᵢ(1 − pᵢ). Off-diagonal: −pᵢ·pⱼ. Each row sums to 0, because the p's always "
                   "sum to 1.")


main()
