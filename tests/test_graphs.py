"""helpers.graphs: the graph of a result (autograd's or the engine's) as a networkx graph, and its drawing."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from helpers.graphs import (  # noqa: E402
    SHOWN_WIDTH,
    autograd_graph,
    describe_edges,
    draw_graph,
    figure_size,
    graph_of,
    show_graph,
    value_graph,
)


class Value:
    """The smallest engine value that follows the protocol: data, grad, label, _op, _prev."""

    def __init__(self, data, prev=(), op="", label=""):
        self.data, self.grad, self._prev, self._op, self.label = data, 0.0, tuple(prev), op, label

    def __add__(self, other):
        return Value(self.data + other.data, (self, other), "+")

    def __mul__(self, other):
        return Value(self.data * other.data, (self, other), "*")


def j_of_abc():
    """J = 3(a + bc) at (2, 5, -1.5), with v = bc and u = a + v named."""
    a, b, c = (torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in (2.0, 5.0, -1.5))
    v = b * c
    u = a + v
    J = 3 * u
    return J, dict(a=a, b=b, c=c, v=v, u=u, J=J)


def nodes(graph, key):
    return [graph.nodes[n][key] for n in sorted(graph)]


def test_autograd_graph_of_j_has_its_operations_and_leaves_in_walk_order():
    J, names = j_of_abc()
    graph = autograd_graph(J, names)
    assert nodes(graph, "op") == ["MulBackward0", "AddBackward0", "", "MulBackward0", "", ""]
    assert nodes(graph, "name") == ["J", "u", "a", "v", "b", "c"]
    assert nodes(graph, "kind") == ["operation", "operation", "leaf", "operation", "leaf", "leaf"]
    assert nodes(graph, "value") == [-16.5, -5.5, 2.0, -7.5, 5.0, -1.5]
    assert sorted(describe_edges(graph)) == sorted([
        ("AddBackward0", "MulBackward0"), ("a = 2", "AddBackward0"), ("MulBackward0", "AddBackward0"),
        ("b = 5", "MulBackward0"), ("c = -1.5", "MulBackward0"),
    ])
    assert sorted((graph.nodes[a]["name"], graph.nodes[b]["name"]) for a, b in graph.edges) == [
        ("a", "u"), ("b", "v"), ("c", "v"), ("u", "J"), ("v", "u")]


def test_node_text_shows_operation_name_value_and_gradient_once_known():
    J, names = j_of_abc()
    before = autograd_graph(J, names)
    assert before.nodes[2]["text"] == "a = 2"  # no gradient yet: a.grad is None
    assert before.nodes[3]["text"] == "MulBackward0\nv = -7.5"
    J.backward()
    after = autograd_graph(J, names)
    assert after.nodes[2]["text"] == "a = 2\ngrad 3"
    assert after.nodes[4]["text"] == "b = 5\ngrad -4.5"
    assert after.nodes[5]["text"] == "c = -1.5\ngrad 15"
    assert after.nodes[3]["text"] == "MulBackward0\nv = -7.5"  # a non-leaf keeps no .grad unless retained


def test_unnamed_nodes_show_their_operation_and_leaves_their_value():
    J, _ = j_of_abc()
    graph = autograd_graph(J)
    assert nodes(graph, "text") == ["MulBackward0\n-16.5", "AddBackward0", "2", "MulBackward0", "5", "-1.5"]


def test_a_retained_gradient_of_an_intermediate_is_shown_without_a_warning(recwarn):
    J, names = j_of_abc()
    names["v"].retain_grad()
    J.backward()
    graph = autograd_graph(J, names)
    assert graph.nodes[3]["grad"] == 3.0
    assert not recwarn.list


def test_layers_are_distances_from_the_output():
    J, names = j_of_abc()
    graph = autograd_graph(J, names)
    assert {graph.nodes[n]["name"]: graph.nodes[n]["layer"] for n in graph} == {"J": 0, "u": 1, "a": 2, "v": 2, "b": 3, "c": 3}


def test_a_node_reached_by_two_paths_appears_once_and_sits_below_both_users():
    x = torch.tensor(2.0, requires_grad=True)
    y = torch.tensor(3.0, requires_grad=True)
    f = x * y + x
    graph = autograd_graph(f, dict(x=x, y=y))
    assert nodes(graph, "name").count("x") == 1
    (node_x,) = [n for n in graph if graph.nodes[n]["name"] == "x"]
    assert sorted(graph.nodes[u]["op"] for u in graph.successors(node_x)) == ["AddBackward0", "MulBackward0"]
    assert graph.nodes[node_x]["layer"] == 2  # the longest path: x -> mul -> add
    assert graph.number_of_nodes() == 4 and graph.number_of_edges() == 4


def test_constants_and_tensors_without_grad_are_not_nodes():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    data = torch.tensor([3.0, 4.0])
    loss = (w * data).sum() * 2
    graph = autograd_graph(loss, dict(w=w))
    assert nodes(graph, "op") == ["MulBackward0", "SumBackward0", "MulBackward0", ""]
    assert graph.nodes[3]["text"] == "w [2]"


def test_a_leaf_result_is_a_one_node_graph():
    w = torch.tensor(1.5, requires_grad=True)
    graph = autograd_graph(w, dict(w=w))
    assert list(graph.nodes) == [0] and graph.nodes[0]["text"] == "w = 1.5"


def test_engine_values_give_the_same_shape_of_graph_with_labels_values_and_grads():
    a, b, c = Value(2.0, label="a"), Value(5.0, label="b"), Value(-1.5, label="c")
    v = b * c
    v.label = "v"
    u = a + v
    u.label = "u"
    a.grad = 3.0
    graph = value_graph(u)
    assert nodes(graph, "name") == ["u", "a", "v", "b", "c"]
    assert nodes(graph, "op") == ["+", "", "*", "", ""]
    assert nodes(graph, "layer") == [0, 1, 1, 2, 2]
    assert graph.nodes[1]["text"] == "a = 2\ngrad 3"
    assert graph.nodes[2]["text"] == "*\nv = -7.5\ngrad 0"
    assert sorted((graph.nodes[s]["name"], graph.nodes[t]["name"]) for s, t in graph.edges) == [
        ("a", "u"), ("b", "v"), ("c", "v"), ("v", "u")]


def test_an_engine_value_used_twice_is_one_node():
    x = Value(2.0, label="x")
    y = Value(3.0, label="y")
    f = x * y + x
    graph = value_graph(f)
    assert nodes(graph, "name").count("x") == 1 and graph.number_of_edges() == 4


def test_children_kept_in_a_set_are_walked_in_a_fixed_order():
    x, y = Value(2.0, label="x"), Value(3.0, label="y")
    f = x * y
    f._prev = {y, x}
    assert nodes(value_graph(f), "name") == ["", "x", "y"]


def test_graph_of_dispatches_on_the_kind_of_result():
    J, names = j_of_abc()
    assert nx.utils.graphs_equal(graph_of(J, names), autograd_graph(J, names))
    x = Value(1.0, label="x")
    assert nx.utils.graphs_equal(graph_of(x + x), value_graph(x + x))
    with pytest.raises(ValueError):
        graph_of(x, names={"x": torch.tensor(1.0)})


def test_two_builds_are_equal_node_for_node_whatever_the_memory_addresses():
    first = autograd_graph(*j_of_abc())
    for _ in range(3):
        junk = [torch.zeros(1, requires_grad=True) * 2 for _ in range(50)]  # move the allocator on
        again = autograd_graph(*j_of_abc())
        assert list(again.nodes(data=True)) == list(first.nodes(data=True))
        assert list(again.edges) == list(first.edges)
        del junk


def test_drawing_puts_inputs_left_of_the_output_and_writes_edge_labels(monkeypatch):
    J, names = j_of_abc()
    graph = autograd_graph(J, names)
    plt.close("all")
    ax = draw_graph(graph, edge_labels={("b", "v"): "c = -1.5", ("u", "J"): "3"}, title="J", rows=False)
    texts = {t.get_text(): t.get_position() for t in ax.texts}
    assert texts["a = 2"][0] < texts["AddBackward0\nu = -5.5"][0] < texts["MulBackward0\nJ = -16.5"][0]
    assert "c = -1.5" in texts and "3" in texts and ax.get_title() == "J"
    assert len(ax.patches) + len([c for c in ax.get_children() if type(c).__name__ == "Annotation"]) >= graph.number_of_edges()
    plt.close("all")


def test_a_graph_that_fits_the_shown_width_is_drawn_in_columns_at_that_size():
    J, names = j_of_abc()
    (width, _), rows = figure_size(autograd_graph(J, names))
    assert not rows and width <= SHOWN_WIDTH


def test_a_graph_too_deep_for_the_shown_width_is_drawn_in_rows_inputs_on_top():
    x = torch.tensor(1.0, requires_grad=True)
    h = x
    for _ in range(10):  # eleven layers: far wider than a notebook shows, in columns
        h = torch.sigmoid(h * 2.0)
    graph = autograd_graph(h, dict(x=x, out=h))
    (width, height), rows = figure_size(graph)
    assert rows and width <= SHOWN_WIDTH and height > width
    plt.close("all")
    ax = draw_graph(graph)
    assert tuple(ax.figure.get_size_inches()) == pytest.approx((width, height))
    texts = {t.get_text(): t.get_position() for t in ax.texts}
    assert texts["x = 1"][1] > texts["SigmoidBackward0\nout = 0.8439"][1]  # the input above the output
    plt.close("all")


def test_an_edge_label_for_a_missing_edge_is_an_error():
    J, names = j_of_abc()
    with pytest.raises(KeyError):
        draw_graph(autograd_graph(J, names), edge_labels={("a", "J"): "1"})
    plt.close("all")


def test_show_graph_draws_one_figure_and_shows_it(monkeypatch):
    shown = []
    monkeypatch.setattr(plt, "show", lambda: shown.append(plt.gcf()))
    plt.close("all")
    J, names = j_of_abc()
    show_graph(J, names, title="J = 3(a + bc)")
    assert len(shown) == 1 and shown[0].axes[0].get_title() == "J = 3(a + bc)"
    plt.close("all")


def test_rendering_is_identical_between_runs(tmp_path):
    images = []
    for run in range(2):
        plt.close("all")
        J, names = j_of_abc()
        ax = draw_graph(autograd_graph(J, names))
        path = tmp_path / f"{run}.png"
        ax.figure.savefig(path, metadata={"Software": None})
        images.append(path.read_bytes())
    assert images[0] == images[1]
    plt.close("all")


def test_a_tensor_of_several_numbers_shows_its_shape_and_no_gradient_line():
    W = torch.ones(2, 3, requires_grad=True)
    (W * 2).sum().backward()
    graph = autograd_graph((W * 2).sum(), dict(W=W))
    (leaf,) = [n for n in graph if graph.nodes[n]["kind"] == "leaf"]
    assert graph.nodes[leaf]["text"] == "W [2×3]" and graph.nodes[leaf]["grad"] == (2, 3)
