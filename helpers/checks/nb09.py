"""Exercises of notebook 09 (a tiny autograd engine): the learner's `Value` class lives in the notebook.

Each exercise's function builds something with the learner's `Value` and returns plain data (a list
of numbers, or of labels), so the grader can call it in the student's kernel. References compute the
same numbers with torch.autograd in float64 (or, for the topological order, a depth-first search on
the case's description of the graph). The judges recognise an unfinished `_backward` (gradients still
0), a gradient that overwrites instead of accumulating, the wrong factor of a product, a missing
chain-rule factor, the power rule's slips (a sign, the exponent, the factor n), tanh's local gradient
written wrong or taken at the wrong point, and, for the order, repeats, gaps and reversals.
"""

from __future__ import annotations

import math
import random

import torch

from helpers.checks.core import Exercise, shown
from helpers.checks.hints import mistake
from helpers.checks.judges import RETURNED_NONE, judges_numbers, known_answer

STILL_ZERO = mistake("09/gradients-still-zero",
                     "every gradient is still 0: does the backward pass start with gradient 1 at the output, and does the `_backward` you filled in "
                     "add anything yet (is the ... still there? Run its cell again after editing it)?")


def leaves(*numbers):
    return [torch.tensor(float(n), dtype=torch.float64, requires_grad=True) for n in numbers]


def still_zero(expected) -> tuple[list[float], str]:
    """The known wrong answer "every gradient still 0" (backward never ran), with its hint."""
    return [0.0] * len(expected), STILL_ZERO


# 09.1 grads_of_expression(a, b, c): the backward of *, on L = (a·b + c)·a --------------------

EXPRESSION_NAMES = ["dL/da", "dL/db", "dL/dc"]


def grads_of_expression(a, b, c):
    a, b, c = leaves(a, b, c)
    ((a * b + c) * a).backward()
    return [a.grad.item(), b.grad.item(), c.grad.item()]


def expression_mistakes(a, b, c):
    """What L = (a·b + c)·a gives with each known slip in the backward of *: (answer, hint) pairs."""
    d = a * b + c
    return [
        ([d, 0.0, 0.0], mistake("09.1/only-last-edges-share-arrived",
                                "only the last edge's share arrived: the nodes ran their backward rules from the inputs forward. Run them from the "
                                "output back (L, then d, then e), so each node is complete before it passes its gradient on.")),
        ([a * b, a * a, a], mistake("09.1/dl-da-holds-only-last",
                                    "dL/da holds only its last path's share: a is used twice, and `=` overwrote what the first path had put in "
                                    "a.grad. A gradient must accumulate: add to .grad (+=), never assign.")),
        ([a + a * d, b * d, d], mistake("09.1/local-gradient-product-respect-factor",
                                        "the local gradient of a product with respect to one factor is the *other* factor's data, not its own.")),
        ([d + b, a, a], mistake("09.1/each-contribution-must-multiplied-out",
                                "each contribution must be multiplied by out.grad, the gradient that arrived at the product (the chain rule); it is "
                                "1 only at the output.")),
    ]


@judges_numbers(EXPRESSION_NAMES)
def judge_expression(got, case, expected):
    return known_answer(got, [still_zero(expected), *expression_mistakes(*case)])


def expression_public():
    return [(2.0, -3.0, 1.5), (-1.5, 0.5, 2.0)]


def expression_hidden(rng: random.Random):
    """a, b, c away from 0 and ±1 where every slip gives numbers apart from the right ones."""
    cases = []
    while len(cases) < 4:
        a, b, c = (round(rng.choice([-1, 1]) * rng.uniform(0.5, 3.0), 2) for _ in range(3))
        right = grads_of_expression(a, b, c)
        answers = [right] + [answer for answer, _ in expression_mistakes(a, b, c)]
        if min(abs(abs(v) - 1) for v in (a, b, c)) > 0.2 and all(
                max(abs(u - v) for u, v in zip(x, y, strict=True)) > 1e-3 for i, x in enumerate(answers) for y in answers[i + 1:]):
            cases.append((a, b, c))
    return cases


# 09.2 topological_order_labels(spec): inputs before the values made from them, each once ----------

def topological_order_labels(spec):
    inputs = {label: list(operands) for label, op, operands in spec}
    order, seen = [], set()

    def visit(label):
        if label not in seen:
            seen.add(label)
            for child in inputs[label]:
                visit(child)
            order.append(label)

    visit(spec[-1][0])
    return order


def judge_order(got, case, expected):
    (spec,) = case
    inputs = {label: operands for label, _, operands in spec}
    if got is None:
        return RETURNED_NONE
    if type(got) not in (list, tuple) or not all(type(label) is str for label in got):
        what = "a " + type(got).__name__ if type(got) not in (list, tuple) else "a list that holds more than labels"
        return mistake("09.2/returned-expected-list-labels-strings", f"you returned {what}; expected a list of labels (strings).")
    if not got:
        return mistake("09.2/order-empty-topological-order-returned",
                       "the order is empty: your topological_order returned nothing yet (None or an empty list).")
    unknown = [label for label in got if label not in inputs]
    if unknown:
        return mistake("09.2/unknown-label", f"{shown(repr(unknown[0]))} is not a value of this expression.")
    repeated = sorted({label for label in got if got.count(label) > 1})
    if repeated:
        return (mistake("09.2/appears-times-value-reached-along",
                        f"{shown(repr(repeated[0]))} appears {shown(got.count(repeated[0]))} times: a value reached "
                        "along two paths must be listed once — remember which values you have already visited (a set) and skip them."))
    missing = [label for label in expected if label not in got]
    if missing:
        return (mistake("09.2/missing-visit-inputs-every-value",
                        f"{shown(', '.join(map(repr, missing)))} {'is' if len(missing) == 1 else 'are'} missing: "
                        "visit the inputs of every value you meet, recursively, not only the inputs of the output."))
    position = {label: at for at, label in enumerate(got)}
    if all(position[child] > position[label] for label in got for child in inputs[label]):
        return (mistake("09.2/output-comes-first-every-value",
                        "the output comes first and every value before its inputs: that is the backward pass's order. The topological order lists a "
                        "value only after all of its inputs (append it after visiting them); backward() reverses it."))
    for label in got:
        for child in inputs[label]:
            if position[child] > position[label]:
                return mistake("09.2/comes-before-input-append-value",
                               f"{shown(repr(label))} comes before its input {shown(repr(child))}: append a value only "
                               "after visiting all of its inputs.")
    return None


def order_public():
    return [
        ([("a", "", []), ("b", "", []), ("c", "", []), ("e", "*", ["a", "b"]), ("d", "+", ["e", "c"]), ("L", "*", ["d", "a"])],),
        ([("x", "", []), ("y", "", []), ("m", "*", ["x", "y"]), ("f", "+", ["m", "x"]), ("g", "*", ["f", "m"])],),
    ]


def order_hidden(rng: random.Random):
    """Expressions of 3-4 leaves and 5-7 operations, every value reachable, one used twice, 3 or more deep."""
    cases = []
    while len(cases) < 4:
        names = iter("abcdefghijklmnopqrstuvw")
        spec = [(next(names), "", []) for _ in range(rng.randint(3, 4))]
        for _ in range(rng.randint(5, 7)):
            recent = [row[0] for row in spec[-3:]]
            operands = [rng.choice(recent), rng.choice([row[0] for row in spec])]
            spec.append((next(names), rng.choice("+*"), operands))
        reachable = set(topological_order_labels(spec))
        spec = [row for row in spec if row[0] in reachable]
        uses = {}
        for _, _, operands in spec:
            for name in operands:
                uses[name] = uses.get(name, 0) + 1
        depth = {}
        for label, _, operands in spec:
            depth[label] = 1 + max((depth[o] for o in operands), default=-1)
        if len(spec) >= 7 and max(uses.values()) >= 2 and depth[spec[-1][0]] >= 3:
            cases.append((spec,))
    return cases


# 09.3 power_grads(a, b): the backward of ** (a constant exponent) ----------------------------

POWER_NAMES = ["d(a**3)/da", "d((b**-1)**2)/db"]


def power_grads(a, b):
    a, b = leaves(a, b)
    (a ** 3).backward()
    ((b ** -1) ** 2).backward()
    return [a.grad.item(), b.grad.item()]


def power_mistakes(a, b):
    return [
        ([3 * a ** 3, -2 * b ** -3], mistake("09.3/exponent-did-drop-d-x", "the exponent did not drop by one: d(xⁿ)/dx = n·xⁿ⁻¹.")),
        ([a ** 2, b ** -3], mistake("09.3/factor-n-missing-d-x",
                                    "the factor n is missing: d(xⁿ)/dx = n·xⁿ⁻¹ (for n = −1 that factor is also the minus sign).")),
        ([-3 * a ** 2, 2 * b ** -3], mistake("09.3/sign-flipped-d-x-dx", "the sign is flipped: d(xⁿ)/dx = n·xⁿ⁻¹, positive for n = 3 and x > 0.")),
        ([3 * a ** 2, -(b ** -2)], mistake("09.3/b-1-2-chains-two",
                                           "(b**-1)**2 chains two powers: the inner one must multiply by out.grad, the gradient that arrived from "
                                           "the outer power (the chain rule).")),
    ]


@judges_numbers(POWER_NAMES)
def judge_power(got, case, expected):
    return known_answer(got, [still_zero(expected), *power_mistakes(*case)])


def power_public():
    return [(2.0, 0.5), (-1.5, 3.0)]


def power_hidden(rng: random.Random):
    """a and b away from 0 and ±1, so each slip of the power rule changes the numbers."""
    cases = []
    while len(cases) < 4:
        a, b = (round(rng.choice([-1, 1]) * rng.uniform(0.4, 3.0), 2) for _ in range(2))
        answers = [power_grads(a, b)] + [answer for answer, _ in power_mistakes(a, b)]
        if min(abs(abs(a) - 1), abs(abs(b) - 1)) > 0.25 and all(
                max(abs(u - v) for u, v in zip(x, y, strict=True)) > 1e-3 for i, x in enumerate(answers) for y in answers[i + 1:]):
            cases.append((a, b))
    return cases


# 09.4 backward_of_tanh(x, upstream): tanh's backward, added to what x.grad already holds ---------

TANH_NAMES = ["tanh(x)", "x.grad"]


def backward_of_tanh(x, upstream):
    (xt,) = leaves(x)
    t = torch.tanh(xt)
    (t * upstream).backward()
    return [t.item(), 1.0 + xt.grad.item()]


def tanh_mistakes(x, upstream):
    t = math.tanh(x)
    return [
        ((1 - t ** 2) * upstream, mistake("09.4/x-grad-lacks-1-0",
                                          "x.grad lacks the 1.0 it held before tanh's backward ran: either it was never set, or the backward "
                                          "assigned (=) instead of adding (+=). A gradient must accumulate.")),
        (1 + t * upstream, mistake("09.4/tanhs-local-gradient-t-itself",
                                   "tanh's local gradient is not t itself but 1 − t², with t = tanh(x) the node's output.")),
        (1 + (1 - t) * upstream, mistake("09.4/tanhs-local-gradient-1-t", "tanh's local gradient is 1 − t², with t squared.")),
        (1 + (1 - x ** 2) * upstream, mistake("09.4/1-x-uses-nodes-input",
                                              "1 − x² uses the node's input; tanh's local gradient 1 − t² needs its output t = tanh(x).")),
        (1 + t * (1 - t) * upstream, mistake("09.4/t-1-t-sigmoids-local",
                                             "t(1 − t) is the sigmoid's local gradient (written with its output); tanh's is 1 − t².")),
        (1 + (1 - t ** 2), mistake("09.4/local-gradient-must-multiplied-out",
                                   "the local gradient must be multiplied by out.grad, the gradient that arrived at the tanh node (the chain rule).")),
        (1 - (1 - t ** 2) * upstream, mistake("09.4/sign-flipped-tanh-increasing-local",
                                              "the sign is flipped: tanh is increasing, so its local gradient 1 − t² is positive.")),
    ]


@judges_numbers(TANH_NAMES)
def judge_tanh(got, case, expected):
    if not math.isclose(got[0], expected[0], rel_tol=1e-6, abs_tol=1e-9):
        return mistake("09.4/tanh-x-expected-forward-value",
                       f"tanh(x) is {shown(got[0], '.6g')}, expected {shown(expected[0], '.6g')}: the forward value was "
                       "changed.")
    if math.isclose(got[1], 1.0, rel_tol=1e-9) and not math.isclose(expected[1], 1.0, rel_tol=1e-6):
        return mistake("09.4/x-grad-unchanged-still-1",
                       "x.grad is unchanged (still the 1.0 from the other path): tanh's `_backward` adds nothing yet (is the ... still there?).")
    for value, hint in tanh_mistakes(*case):
        if math.isclose(got[1], value, rel_tol=1e-6, abs_tol=1e-9):
            return hint
    return None


def tanh_public():
    return [(0.5, 2.0), (-1.2, -0.5)]


def tanh_hidden(rng: random.Random):
    """x away from 0 (|x| 0.3 to 2) and an incoming gradient away from 0 and ±1, so every slip shows."""
    cases = []
    while len(cases) < 4:
        x = round(rng.choice([-1, 1]) * rng.uniform(0.3, 2.0), 2)
        upstream = round(rng.choice([-1, 1]) * rng.uniform(0.4, 3.0), 2)
        values = [backward_of_tanh(x, upstream)[1]] + [v for v, _ in tanh_mistakes(x, upstream)]
        if abs(abs(upstream) - 1) > 0.25 and all(abs(u - v) > 1e-3 for i, u in enumerate(values) for v in values[i + 1:]):
            cases.append((x, upstream))
    return cases


EXERCISES = [
    Exercise("09.1", "grads_of_expression", 2, grads_of_expression, expression_public, expression_hidden, judge_expression,
             "each factor of a product receives the other factor's data times out.grad, added to its .grad: "
             "a, used twice, collects both paths."),
    Exercise("09.2", "topological_order_labels", 2, topological_order_labels, order_public, order_hidden, judge_order,
             "every value after all of its inputs, each once: a depth-first search that appends a value after its inputs "
             "and skips the ones already visited."),
    Exercise("09.3", "power_grads", 2, power_grads, power_public, power_hidden, judge_power,
             "self.grad += n · selfⁿ⁻¹ · out.grad: the power rule, times the gradient that arrived."),
    Exercise("09.4", "backward_of_tanh", 2, backward_of_tanh, tanh_public, tanh_hidden, judge_tanh,
             "self.grad += (1 − t²) · out.grad: tanh's local gradient from its output t, times what arrived, added to what was there."),
]
