"""Draw the computation graph of a result: graph of a result -> networkx graph -> a drawing.

Two kinds of result have a graph:

- a torch tensor with a `grad_fn`: autograd's graph, walked through `grad_fn.next_functions`;
  the leaves are the tensors that `AccumulateGrad` nodes hold (`node.variable`);
- a value of the course's tiny engine (notebook 09), or any object that follows its protocol:
  `data` (a number), `grad` (a number), `label` (a name, may be ""), `_op` (the operation that made
  it, "" for a leaf) and `_prev` (the values it was made from, in order), as micrograd's `Value` has.

`graph_of(result)` walks either kind into a networkx DiGraph whose nodes are numbered 0, 1, 2, ... in
the order the walk meets them (0 is the result), never by `id()`, so two runs give the same graph.
Edges point the way values flow in the forward pass, from an input to the node that uses it; the
backward pass runs against them. Each node's `layer` is its distance from the output (the longest
path, so every arrow goes from a higher layer to a lower one), and `show_graph` draws layers from
left (inputs) to right (the output) with matplotlib, using `nx.multipartite_layout`: no graphviz
binary is needed. A graph too deep for that to fit the width a notebook shows (`SHOWN_WIDTH`) is
drawn in rows instead, inputs at the top and the output at the bottom, so that JupyterLab never
shrinks a graph until its text cannot be read. A node used twice is one node with two outgoing edges.
"""

from __future__ import annotations

from typing import Any, Iterable

import matplotlib.pyplot as plt
import networkx as nx
import torch

LEAF, OPERATION = "leaf", "operation"
COLOURS = {LEAF: "#dbe9f6", OPERATION: "#f1f3f4", "output": "#e6f4ea"}
# Inches: the width of JupyterLab's output area in a 1280-pixel-wide window is 848 pixels, 8.48 inches
# at the 100 dpi of inline figures; a wider figure is scaled down to fit, and its text with it.
SHOWN_WIDTH = 8.4


def graph_of(result: Any, names: dict[str, torch.Tensor] | None = None) -> nx.DiGraph:
    """The computation graph of `result`, a tensor (autograd's graph) or an engine value.

    `names` (tensors only) maps a name to a tensor of the graph: a leaf gets that name, and the
    node that produced a named non-leaf tensor shows the name and the tensor's value. Engine
    values carry their own names (`label`).
    """
    if isinstance(result, torch.Tensor):
        return autograd_graph(result, names)
    if names:
        raise ValueError("names= is for tensors; an engine value carries its name in .label")
    return value_graph(result)


def autograd_graph(result: torch.Tensor, names: dict[str, torch.Tensor] | None = None) -> nx.DiGraph:
    """Autograd's graph of `result`: a node per backward function, and per leaf tensor."""
    names = names or {}

    def described(fn) -> dict:
        if fn is None:  # the result is itself a leaf
            return node_data(LEAF, "", *named(result))
        leaf = getattr(fn, "variable", None)  # an AccumulateGrad node holds its leaf tensor
        if leaf is not None:
            return node_data(LEAF, "", *named(leaf))
        made = [t for t in [result, *names.values()] if t.grad_fn is fn]
        if not made:
            return node_data(OPERATION, fn.name(), "", None, None)
        return node_data(OPERATION, fn.name(), *named(made[0]))

    def named(tensor: torch.Tensor) -> tuple[str, Any, Any]:
        name = next((n for n, t in names.items() if t is tensor), "")
        has_grad = tensor.is_leaf or tensor.retains_grad  # reading .grad of another tensor warns
        return name, shown(tensor), shown(tensor.grad) if has_grad else None

    def inputs(fn) -> list:
        if fn is None:
            return []
        return [child for child, _ in fn.next_functions if child is not None]

    return walk(result.grad_fn, inputs, described)


def value_graph(result: Any) -> nx.DiGraph:
    """The graph of an engine value: a node per value, leaves being values no operation made."""

    def described(value) -> dict:
        kind = OPERATION if value._op else LEAF
        return node_data(kind, value._op, value.label, shown(value.data), shown(value.grad))

    def inputs(value) -> list:
        children = list(value._prev)
        if isinstance(value._prev, (set, frozenset)):  # a set's order changes from run to run
            children.sort(key=lambda v: (v.label, v._op, v.data))
        return children

    return walk(result, inputs, described)


def node_data(kind: str, op: str, name: str, value: Any, grad: Any) -> dict:
    return {"kind": kind, "op": op, "name": name, "value": value, "grad": grad}


def shown(x: Any) -> Any:
    """A number as a Python float, a tensor of several numbers as its shape, None as None."""
    if x is None:
        return None
    if isinstance(x, torch.Tensor):
        return x.item() if x.numel() == 1 else tuple(x.shape)
    return float(x)


def walk(start: Any, inputs, described) -> nx.DiGraph:
    """Breadth-first from the output; nodes numbered as first met; edges input -> user; layers."""
    graph = nx.DiGraph()
    number = {_key(start): 0}  # identity -> node number, for this walk only
    met = [start]  # keeps every object met alive, so no identity is reused during the walk
    queue = [start]
    graph.add_node(0, **described(start))
    while queue:
        node = queue.pop(0)
        for child in inputs(node):
            key = _key(child)
            if key not in number:
                number[key] = len(number)
                met.append(child)
                graph.add_node(number[key], **described(child))
                queue.append(child)
            graph.add_edge(number[key], number[_key(node)])
    for node, layer in layers(graph).items():
        graph.nodes[node]["layer"] = layer
    for node in graph:
        graph.nodes[node]["text"] = node_text(graph.nodes[node])
    return graph


def _key(obj: Any) -> int:
    return id(obj)  # identity within one walk only; node numbers never depend on it


def layers(graph: nx.DiGraph) -> dict[int, int]:
    """Each node's distance from the output (node 0): the length of its longest path to it."""
    distance = {0: 0}
    for node in reversed(list(nx.topological_sort(graph))):  # users before their inputs
        if node != 0:
            distance[node] = 1 + max(distance[user] for user in graph.successors(node))
    return distance


def node_text(data: dict) -> str:
    """The lines a node shows: its operation, its name and value, its gradient when known."""
    lines = [data["op"]] if data["kind"] == OPERATION else []
    value = _number(data["value"])
    if data["name"] and value:
        lines.append(f"{data['name']} {value}" if isinstance(data["value"], tuple) else f"{data['name']} = {value}")
    elif data["name"] or value:
        lines.append(data["name"] or value)
    if data["grad"] is not None and not isinstance(data["grad"], tuple):  # a number, not a shape
        lines.append(f"grad {_number(data['grad'])}")
    return "\n".join(lines) or "?"


def _number(x: Any) -> str:
    if x is None:
        return ""
    if isinstance(x, tuple):
        return "[" + "×".join(str(n) for n in x) + "]"  # a tensor of several numbers: its shape
    return f"{x:.4g}"


def figure_size(graph: nx.DiGraph, edge_labels: dict[tuple[str, str], str] | None = None) -> tuple[tuple[float, float], bool]:
    """The figure size (inches) to draw `graph` at, and whether in rows: columns while they fit SHOWN_WIDTH.

    Wide enough for the longest line of a box, and of an edge label, per layer (or per node of the
    widest layer, in rows): a character is about 0.6 em wide.
    """
    depth = max(nx.get_node_attributes(graph, "layer").values())
    widest = max(sum(1 for n in graph if graph.nodes[n]["layer"] == k) for k in range(depth + 1))
    box = max(len(line) for n in graph for line in graph.nodes[n]["text"].splitlines())
    label = max((len(text) for text in (edge_labels or {}).values()), default=0)
    per_layer = 0.8 + 0.6 * (_fontsize(depth) * box + 8 * label) / 72
    width = 0.4 + per_layer * (depth + 1)
    if width <= SHOWN_WIDTH:
        return (width, 0.6 + 1.1 * widest), False
    lines = max(len(graph.nodes[n]["text"].splitlines()) for n in graph)
    per_row = 0.3 + 0.17 * lines + (0.25 if label else 0.0)  # a box's lines, and room for the arrows and their labels
    return (min(SHOWN_WIDTH, max(4.0, 0.4 + per_layer * widest)), 0.6 + per_row * (depth + 1)), True


def _fontsize(depth: int) -> int:
    return 9 if depth < 6 else 8 if depth < 10 else 7


def draw_graph(graph: nx.DiGraph, edge_labels: dict[tuple[str, str], str] | None = None,
               title: str | None = None, ax=None, rows: bool | None = None):
    """Draw `graph` on `ax` (a new figure of `figure_size` when None): inputs first, the output last.

    Inputs on the left and the output on the right; in rows (`rows=True`, or by `figure_size` when
    `rows` is None) inputs at the top and the output at the bottom. `edge_labels` maps (input's
    name, user's name) to a text written on that edge, for example the local gradient; names are
    the nodes' `name` attributes. Returns the axes.
    """
    depth = max(nx.get_node_attributes(graph, "layer").values())
    fontsize = _fontsize(depth)
    size, fits_in_rows = figure_size(graph, edge_labels)
    rows = fits_in_rows if rows is None else rows
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    if rows:  # each layer a row, the output (layer 0) at the bottom
        position = nx.multipartite_layout(graph, subset_key="layer", align="horizontal")
        position = {n: (x, -y) for n, (x, y) in position.items()} if position[0][1] > min(y for _, y in position.values()) else position
        start, end = (0.5, 0.0), (0.5, 1.0)  # from the bottom of one box to the top of the next
    else:
        position = nx.multipartite_layout(graph, subset_key="layer", align="vertical")
        position = {n: (-x, y) for n, (x, y) in position.items()}  # the output (layer 0) on the right
        start, end = (1.0, 0.5), (0.0, 0.5)  # from the right edge of one box to the left edge of the next
    boxes = {}
    for node, (x, y) in position.items():
        data = graph.nodes[node]
        colour = COLOURS["output"] if node == 0 else COLOURS[data["kind"]]
        boxes[node] = ax.text(x, y, data["text"], ha="center", va="center", fontsize=fontsize, zorder=2,
                              bbox=dict(boxstyle="round,pad=0.4", facecolor=colour, edgecolor="#5f6368"))
    for source, target in graph.edges:
        ax.annotate("", xy=end, xycoords=boxes[target], xytext=start, textcoords=boxes[source],
                    arrowprops=dict(arrowstyle="-|>", color="#5f6368", shrinkA=5, shrinkB=5), zorder=1)
    names = {graph.nodes[n]["name"]: n for n in graph if graph.nodes[n]["name"]}
    for (source, target), text in (edge_labels or {}).items():
        if source not in names or target not in names or not graph.has_edge(names[source], names[target]):
            raise KeyError(f"no edge {source} -> {target} between named nodes of this graph")
        (x0, y0), (x1, y1) = position[names[source]], position[names[target]]
        ax.text((x0 + x1) / 2, (y0 + y1) / 2, text, ha="center", va="center", fontsize=8, color="#b3261e", zorder=3,
                bbox=dict(boxstyle="round,pad=0.2", facecolor="white", edgecolor="none"))
    xs = [x for x, _ in position.values()]
    ys = [y for _, y in position.values()]
    ax.set_xlim(min(xs) - 0.35, max(xs) + 0.35)
    ax.set_ylim(min(ys) - 0.35, max(ys) + 0.35)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def show_graph(result: Any, names: dict[str, torch.Tensor] | None = None,
               edge_labels: dict[tuple[str, str], str] | None = None, title: str | None = None) -> None:
    """Draw the computation graph of `result` (a tensor or an engine value) and show it."""
    draw_graph(graph_of(result, names), edge_labels, title)
    plt.tight_layout()
    plt.show()


def describe_edges(graph: nx.DiGraph) -> list[tuple[str, str]]:
    """The edges as (input's text, user's text) pairs, first lines only: for printing and tests."""
    first = {n: graph.nodes[n]["text"].splitlines()[0] for n in graph}
    return [(first[a], first[b]) for a, b in graph.edges]


__all__: Iterable[str] = ["SHOWN_WIDTH", "autograd_graph", "describe_edges", "draw_graph", "figure_size", "graph_of", "layers", "show_graph", "value_graph"]
