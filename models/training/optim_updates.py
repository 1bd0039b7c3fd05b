"""Each optimiser's update written out with its numbers, by hand in NumPy, following Keras 3's own formulas.

The arithmetic here is independent of Keras: tests check it against the optimizer's real next step.
"""
from dataclasses import dataclass

import numpy as np

from models.core.numbers import format_number
from models.training.optimizers import StepDetail

# Keras 3.15's update rules (keras/src/optimizers/*.py, `update_step`), as the page writes them.
RULES = {
    "sgd": ["w ← w − lr·g"],
    "momentum": ["v ← m·v − lr·g", "w ← w + v"],
    "nesterov": ["v ← m·v − lr·g", "w ← w + m·v − lr·g   (with the new v)"],
    "rmsprop": ["s ← ρ·s + (1 − ρ)·g²", "w ← w − lr·g / √(s + ε)   (ε inside the root)"],
    "adam": ["m ← β₁·m + (1 − β₁)·g", "v ← β₂·v + (1 − β₂)·g²", "α = lr·√(1 − β₂ᵗ) / (1 − β₁ᵗ)",
             "w ← w − α·m / (√v + ε)   (the same as lr·m̂ / (√v̂ + ε/√(1 − β₂ᵗ)))"],
    "adagrad": ["a ← a + g²   (a starts at 0.1)", "w ← w − lr·g / √(a + ε)"],
}


@dataclass(frozen=True)
class WrittenUpdate:
    lines: list  # the update with this step's numbers, one line per formula
    weights: np.ndarray  # w after the update, by hand
    state: dict  # the optimizer's variables after the update, by hand (labels as in optimizers.STATE)
    extra: dict  # Adam's bias-corrected m̂ and v̂


def pair(values, digits: int = 6) -> str:
    return "(" + ", ".join(format_number(v, digits) for v in values) + ")"


def num(value, digits: int = 6) -> str:
    return format_number(value, digits)


def written_update(d: StepDetail) -> WrittenUpdate:
    """Step `d.step` of optimiser `d.name` redone by hand from the state Keras held before it."""
    h, w, g = d.hyper, d.weights_before, d.gradient
    lr = h["learning_rate"]
    lines = [f"step {d.step}:  w = {pair(w)},  g = ∇f(w) = {pair(g)},  lr = {num(lr)}"]
    state, extra = {}, {}
    if d.name == "sgd":
        new_w = w - lr * g
        lines.append(f"w ← w − lr·g = {pair(w)} − {num(lr)}·{pair(g)} = {pair(new_w)}")
    elif d.name in ("momentum", "nesterov"):
        m, v = h["momentum"], d.state_before["v"]
        new_v = m * v - lr * g
        lines.append(f"v ← m·v − lr·g = {num(m)}·{pair(v)} − {num(lr)}·{pair(g)} = {pair(new_v)}")
        if d.name == "momentum":
            new_w = w + new_v
            lines.append(f"w ← w + v = {pair(w)} + {pair(new_v)} = {pair(new_w)}")
        else:
            new_w = w + m * new_v - lr * g
            lines.append(f"w ← w + m·v − lr·g = {pair(w)} + {num(m)}·{pair(new_v)} − {num(lr)}·{pair(g)} "
                         f"= {pair(new_w)}")
        state["v"] = new_v
    elif d.name == "rmsprop":
        rho, eps, s = h["rho"], h["epsilon"], d.state_before["avg g²"]
        new_s = rho * s + (1 - rho) * g**2
        new_w = w - lr * g / np.sqrt(new_s + eps)
        lines += [f"s ← ρ·s + (1 − ρ)·g² = {num(rho)}·{pair(s)} + {num(1 - rho)}·{pair(g**2)} = {pair(new_s)}",
                  f"w ← w − lr·g / √(s + ε) = {pair(w)} − {num(lr)}·{pair(g)} / √({pair(new_s)} + {eps:g}) "
                  f"= {pair(new_w)}"]
        state["avg g²"] = new_s
    elif d.name == "adam":
        b1, b2, eps, t = h["beta_1"], h["beta_2"], h["epsilon"], d.step
        m, v = d.state_before["m"], d.state_before["v"]
        new_m, new_v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g**2
        alpha = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
        new_w = w - alpha * new_m / (np.sqrt(new_v) + eps)
        extra = {"m̂": new_m / (1 - b1**t), "v̂": new_v / (1 - b2**t)}
        lines += [f"m ← β₁·m + (1 − β₁)·g = {num(b1)}·{pair(m)} + {num(1 - b1)}·{pair(g)} = {pair(new_m)}",
                  f"v ← β₂·v + (1 − β₂)·g² = {num(b2)}·{pair(v)} + {num(1 - b2)}·{pair(g**2)} = {pair(new_v)}",
                  f"bias correction, t = {t}:  m̂ = m / (1 − β₁ᵗ) = {pair(extra['m̂'])},  "
                  f"v̂ = v / (1 − β₂ᵗ) = {pair(extra['v̂'])}",
                  f"α = lr·√(1 − β₂ᵗ) / (1 − β₁ᵗ) = {num(lr)}·√(1 − {num(b2)}^{t}) / (1 − {num(b1)}^{t}) = "
                  f"{num(alpha, 8)}",
                  f"w ← w − α·m / (√v + ε) = {pair(w)} − {num(alpha, 8)}·{pair(new_m)} / (√{pair(new_v)} + {eps:g}) "
                  f"= {pair(new_w)}"]
        state = {"m": new_m, "v": new_v}
    elif d.name == "adagrad":
        eps, a = h["epsilon"], d.state_before["accumulator"]
        new_a = a + g**2
        new_w = w - lr * g / np.sqrt(new_a + eps)
        lines += [f"a ← a + g² = {pair(a)} + {pair(g**2)} = {pair(new_a)}",
                  f"w ← w − lr·g / √(a + ε) = {pair(w)} − {num(lr)}·{pair(g)} / √({pair(new_a)} + {eps:g}) "
                  f"= {pair(new_w)}"]
        state["accumulator"] = new_a
    else:
        raise ValueError(f"Unknown optimiser {d.name!r}.")
    return WrittenUpdate(lines, new_w, state, extra)
