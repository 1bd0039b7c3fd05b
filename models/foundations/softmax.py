"""Softmax step by step, with a temperature, and the cross-entropy loss; NumPy/pandas in float64."""
from collections.abc import Mapping
from decimal import Decimal

import numpy as np
import pandas as pd

from models.core.guess import GuessFeedback, grade_choice, grade_number
from models.core.numbers import format_number, parse_number

EXAMPLE_TEXT = "cat: 1.3, dog: 5.1, bird: 2.2, fish: 0.7, frog: 1.1"
MAX_CLASSES = 100  # keeps the table and the chart readable when someone pastes a long list
MAX_NAME = 40  # characters in a class name: a label under a bar, not a paragraph
_SEPARATORS = (",", ";", "\n")


class LogitsError(ValueError):
    """Input that softmax cannot use; the message is written for students."""


def default_name(position: int) -> str:
    """Name given to an unnamed logit, counting from 1."""
    return f"class {position}"


def parse_logits(text: str) -> dict[str, float]:
    """Read text such as `cat: 1.3, dog: 5.1` or `1.3, 5.1` into {class name: logit}."""
    if not isinstance(text, str):
        raise LogitsError("Type the logits as text, for example: cat: 1.3, dog: 5.1")
    for separator in _SEPARATORS[1:]:
        text = text.replace(separator, ",")
    entries = [entry.strip() for entry in text.split(",") if entry.strip()]
    pairs = []
    for position, entry in enumerate(entries, start=1):
        name, colon, number = entry.partition(":")
        if not colon:
            name, number = default_name(position), entry
        elif not name.strip():
            raise LogitsError(f"'{entry}' has a colon but no class name before it. Write name: number, "
                              "for example cat: 1.3")
        pairs.append((name.strip(), _to_float(number.strip(), name.strip())))
    return _checked(pairs, limit=MAX_CLASSES)


def example_table() -> pd.DataFrame:
    """The example logits as a two-column text table (class, logit) for the table editor: cells hold what is typed."""
    logits = parse_logits(EXAMPLE_TEXT)
    return pd.DataFrame({"class": list(logits), "logit": [f"{v:g}" for v in logits.values()]}, dtype=object)


def logits_from_table(table: pd.DataFrame) -> dict[str, float]:
    """Read an edited (class, logit) table; fully blank rows are skipped, unnamed rows get a default name.

    A logit cell may be text, read like anything a student types: `2e3` is 2000, `1,5` is 1.5, `1e309` is refused.
    """
    if not {"class", "logit"} <= set(table.columns):
        raise LogitsError("The table needs two columns: class and logit.")
    pairs = []
    for name, value in zip(table["class"], table["logit"]):
        if _is_blank(name) and _is_blank(value):
            continue  # the editor's empty "add row" line, or a row the student cleared
        name = default_name(len(pairs) + 1) if _is_blank(name) else str(name).strip()
        if _is_blank(value):
            raise LogitsError(f"Class '{name}' has no logit. Fill in its cell or delete the row.")
        pairs.append((name, _cell(value, name)))
    return _checked(pairs, limit=MAX_CLASSES)


def _cell(value, name: str) -> float:
    if isinstance(value, str):
        return parse_number(value, f"The logit of '{name}'", error=LogitsError)
    return _to_float(value, name)


def softmax_steps(logits, temperature: float = 1.0) -> pd.DataFrame:
    """One row per class: logit, shifted = (logit - max)/T, exp, probability; attrs hold the sum and T.

    `logits` may be a list of numbers, a {class: logit} mapping, a pandas Series or text for parse_logits.
    """
    names, z = _named_logits(logits)
    shifted = _shifted(z, _checked_temperature(temperature))
    exp = np.exp(shifted)  # in (0, 1]; the largest logit gives exactly exp(0) = 1
    total = exp.sum()  # at least 1, so the division below never divides by 0
    steps = pd.DataFrame({"class": names, "logit": z, "shifted": shifted, "exp": exp,
                          "probability": exp / total})
    steps.attrs.update(temperature=float(temperature), max_logit=float(z.max()), exp_sum=float(total))
    return steps


def cross_entropy(logits, true_class: str | int, temperature: float = 1.0) -> float:
    """-log p(true class), computed as logsumexp(z/T) - z_true/T so it stays finite when p rounds to 0.

    `true_class` is a class name or a 0-based position. The result is inf only if the exact loss is beyond
    float64 (about 1.8e308).
    """
    names, z = _named_logits(logits)
    shifted = _shifted(z, _checked_temperature(temperature))
    if isinstance(true_class, (int, np.integer)) and not isinstance(true_class, bool):
        if not 0 <= true_class < len(names):
            raise LogitsError(f"Class number {true_class} does not exist: there are {len(names)} classes, "
                              f"numbered 0 to {len(names) - 1}.")
        index = int(true_class)
    elif str(true_class) in names:
        index = names.index(str(true_class))
    else:
        listed = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
        raise LogitsError(f"'{true_class}' is not one of the classes ({listed}). Pick the true class from the list.")
    log_sum = np.log(np.exp(shifted).sum())  # between 0 and log(number of classes)
    return float(log_sum - shifted[index])


def overflow_note(steps: pd.DataFrame) -> str:
    """Why step 1 shows −∞ for some classes ('' when it does not): which number overflowed, and why exp is then 0."""
    lost = steps[steps["shifted"] == -np.inf]
    if lost.empty:
        return ""
    top, temperature = Decimal(steps.attrs["max_logit"]), Decimal(repr(steps.attrs["temperature"]))
    parts = []
    for name, z in zip(lost["class"][:3], lost["logit"][:3]):
        gap = top - Decimal(z)  # exact: the gap itself may be beyond float64 (1e308 − (−1e308) = 2e308)
        parts.append(f"'{name}': (z − max z)/T = −{gap:.3g}/{temperature:g} = −{gap / temperature:.3g}")
    more = f" (and {len(lost) - 3} more)" if len(lost) > 3 else ""
    return ("−∞ in step 1: " + "; ".join(parts) + more + ". That is beyond the most negative number a 64-bit float "
            "holds (about −1.8e308), so the computer stores −∞. Its exponential is exactly 0, which is what the "
            "exact value rounds to anyway: anything below about e^−745 is 0 in float64.")


def display(value: float) -> str:
    """A number in the steps table: six significant digits, −∞ as a symbol, never '-0'."""
    return format_number(value, 6, significant=True)


def top_classes(steps: pd.DataFrame) -> list[str]:
    """Every class that has the highest probability (more than one when logits tie)."""
    best = steps["probability"].max()
    return list(steps.loc[steps["probability"] == best, "class"])


def grade_prediction(steps: pd.DataFrame, guess_class: str, guess_mass: float) -> tuple[GuessFeedback, GuessFeedback]:
    """Grade a "predict first" guess: the top class, then the probability that class receives."""
    top = top_classes(steps)
    choice = grade_choice(guess_class, guess_class if guess_class in top else top[0])
    mass = grade_number(float(guess_mass), float(steps["probability"].max()), close_within=0.1, digits=3)
    return choice, mass


def _shifted(z: np.ndarray, temperature: float) -> np.ndarray:
    # Subtracting the max changes nothing mathematically (the factor exp(-max) cancels) but keeps exp
    # from overflowing. Subtract before dividing: 1e308 / 0.1 is already inf, and inf - inf is nan.
    # A gap beyond float64 becomes -inf, whose exp is exactly 0, as the true value would round to.
    with np.errstate(over="ignore"):
        return (z - z.max()) / temperature


def _named_logits(logits) -> tuple[list[str], np.ndarray]:
    if isinstance(logits, str):
        logits = parse_logits(logits)
    if isinstance(logits, pd.Series) and not isinstance(logits.index, pd.RangeIndex):
        logits = logits.to_dict()
    if isinstance(logits, Mapping):
        pairs = [(str(name).strip(), _to_float(value, str(name))) for name, value in logits.items()]
    else:
        try:
            values = np.asarray(logits, dtype=np.float64)
        except (TypeError, ValueError):
            raise LogitsError("Logits must be numbers, for example [1.3, 5.1, 2.2].") from None
        if values.ndim != 1:
            raise LogitsError("Give the logits as one flat list of numbers, for example [1.3, 5.1, 2.2].")
        pairs = [(default_name(i), float(v)) for i, v in enumerate(values, start=1)]
    checked = _checked(pairs)
    return list(checked), np.array(list(checked.values()), dtype=np.float64)


def _checked(pairs: list[tuple[str, float]], limit: int | None = None) -> dict[str, float]:
    if not pairs:
        raise LogitsError("There are no logits yet. Enter at least one number, for example: cat: 1.3, dog: 5.1")
    if limit is not None and len(pairs) > limit:
        raise LogitsError(f"That is {len(pairs)} classes; this page takes at most {limit}.")
    seen = set()
    for name, value in pairs:
        if not name:
            raise LogitsError("A class name is blank. Give every class a name, or leave all names out.")
        if len(name) > MAX_NAME:
            raise LogitsError(f"A class name has {len(name):,} characters ('{name[:20]}…'); keep names to "
                              f"{MAX_NAME} characters or fewer.")
        if name in seen:
            raise LogitsError(f"Class name '{name}' appears more than once. Give each class its own name.")
        seen.add(name)
        if np.isnan(value):  # the message avoids the word itself: it must never look like a result
            raise LogitsError(f"The logit of '{name}' is not a real number. "
                              "Every logit must be an ordinary number, such as 2.5 or -1e3.")
        if np.isinf(value):
            raise LogitsError(f"The logit of '{name}' is infinite or too large: "
                              "float64 numbers stop at about ±1.8e308.")
    return dict(pairs)


def _checked_temperature(temperature) -> float:
    try:
        t = float(temperature)
    except (TypeError, ValueError):
        raise LogitsError("The temperature must be a number greater than 0, for example 1.0.") from None
    if not (np.isfinite(t) and t > 0):
        raise LogitsError("The temperature must be a finite number greater than 0 (dividing by 0 or by a "
                          "negative number is not allowed). T = 1 is the plain softmax.")
    return t


def _to_float(value, name: str) -> float:
    if isinstance(value, str) and not value.strip():
        raise LogitsError(f"Class '{name}' has no number after its colon.")
    if isinstance(value, bool):
        raise LogitsError(f"The logit of '{name}' must be a number, not True or False.")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise LogitsError(f"'{value}' is not a number. Write logits like 1.3, -0.5 or 2e3 "
                          "(use a dot for decimals).") from None


def _is_blank(value) -> bool:
    if isinstance(value, str):
        return not value.strip()
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
