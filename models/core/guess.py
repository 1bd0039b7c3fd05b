"""Grading for the "predict first" prompts: how far a student's guess was from the answer."""
import math
from dataclasses import dataclass

from models.core.numbers import format_number


@dataclass(frozen=True)
class GuessFeedback:
    guess: float
    actual: float
    error: float  # guess - actual
    verdict: str  # "spot on", "close" or "off"
    message: str


def grade_number(guess: float, actual: float, *, close_within: float, spot_on_within: float | None = None,
                 digits: int = 4) -> GuessFeedback:
    """Compare a numeric guess with the true value; the thresholds are absolute distances."""
    if not (math.isfinite(guess) and math.isfinite(actual)):
        raise ValueError("A guess and the answer must both be ordinary finite numbers.")
    spot_on_within = close_within / 5 if spot_on_within is None else spot_on_within
    error = guess - actual
    if abs(error) <= spot_on_within:
        verdict = "spot on"
    elif abs(error) <= close_within:
        verdict = "close"
    else:
        verdict = "off"
    # format_number never prints a non-zero difference as 0.000 (it switches to 3.0e-04), nor 300-digit numbers.
    direction = "too high" if error > 0 else "too low"
    detail = "" if error == 0 else f", {format_number(abs(error), digits)} {direction}"
    message = (f"You guessed {format_number(guess, digits)}; the answer is {format_number(actual, digits)} "
               f"({verdict}{detail}).")
    return GuessFeedback(guess=guess, actual=actual, error=error, verdict=verdict, message=message)


def grade_choice(guess: str, actual: str) -> GuessFeedback:
    """Compare a guessed label (e.g. a class name) with the true one."""
    right = guess == actual
    message = (f"You picked {guess!r}, and that is right." if right
               else f"You picked {guess!r}; the answer is {actual!r}.")
    return GuessFeedback(guess=float(right), actual=1.0, error=0.0 if right else 1.0,
                         verdict="spot on" if right else "off", message=message)
