"""The forward-pass page's picture (the network, its weights on the arrows) and its link's spec text."""
import json

from models.foundations import forward_pass as fp

LABELLED_EDGES = 30  # more arrows than this: their weights would overlap, so only colour and width show them
POSITIVE, NEGATIVE = "#4c78a8", "#e45756"


def network_dot(spec: dict) -> str:
    """Graphviz text of the network: inputs, each layer with its activation and biases, the targets.

    Every label is a generated name or a number, never text from a file or a link."""
    names = fp.neuron_names(spec)
    edges = sum(len(layer["weights"]) * len(layer["weights"][0]) for layer in spec["layers"])
    largest = max((abs(w) for layer in spec["layers"] for row in layer["weights"] for w in row), default=0) or 1
    lines = ['digraph {', 'rankdir=LR; bgcolor="transparent"; ranksep=1.0; nodesep=0.2;',
             'node [shape=circle, fixedsize=true, width=0.8, fontname="sans-serif", fontsize=11, style=filled, '
             'fillcolor="#eef2f8", color="#4c78a8"];',
             'edge [fontname="sans-serif", fontsize=10, arrowsize=0.6];',
             'subgraph cluster_in { label="inputs"; style=dashed; color="#bbbbbb";']
    lines += [f'"{n}" [label="{n}\\n{fp.fmt(v)}", fillcolor="#f4f4f4", color="#888888"];'
              for n, v in zip(names[0], spec["inputs"])]
    lines.append("}")
    for index, layer in enumerate(spec["layers"], start=1):
        kind = "output" if index == len(spec["layers"]) else f"layer {index}"
        lines.append(f'subgraph cluster_{index} {{ label="{kind}: {layer["activation"]}"; style=dashed; '
                     'color="#bbbbbb";')
        lines += [f'"{n}" [label="{n}\\nb = {fp.fmt(b)}"];' for n, b in zip(names[index], layer["biases"])]
        lines.append("}")
        for i, row in enumerate(layer["weights"]):
            for j, w in enumerate(row):
                label = f', label="{fp.fmt(w)}"' if edges <= LABELLED_EDGES else ""
                color = POSITIVE if w >= 0 else NEGATIVE
                lines.append(f'"{names[index - 1][i]}" -> "{names[index][j]}" [color="{color}", '
                             f'penwidth={0.6 + 2.4 * abs(w) / largest:.2f}{label}];')
    lines.append('subgraph cluster_t { label="targets"; style=dashed; color="#bbbbbb";')
    lines += [f't{j + 1} [label="{fp.fmt(t)}", shape=box, width=0.6, height=0.4, fillcolor="#fff8e6", '
              'color="#c9a227"];' for j, t in enumerate(spec["targets"])]
    lines.append("}")
    lines += [f'"{n}" -> t{j + 1} [style=dotted, arrowhead=none, color="#c9a227"];' for j, n in enumerate(names[-1])]
    return "\n".join(lines + ["}"])


def link_text(spec: dict) -> str:
    """The spec as the address carries it: compact JSON, every number written to read back exactly."""
    keys = ("name", "description", "inputs", "layers", "targets", "loss", "learning_rate")
    return json.dumps({k: spec[k] for k in keys if k in spec}, separators=(",", ":"), ensure_ascii=False)
