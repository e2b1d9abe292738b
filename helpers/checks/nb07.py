"""Exercises of notebook 07 (computation graphs): gradients as sums over paths of products of local gradients.

Every answer is a short list of Python numbers (one partial derivative each). The judges look for the
known mistakes first: the wrong factor of a product, a missing edge or path, a flipped sign, the
sigmoid's local gradient taken as s instead of s(1 - s) or evaluated at the wrong point; then they
name the first number that differs (the shared list-of-numbers judgements live in judges.py).
"""

from __future__ import annotations

import math
import random

from helpers.checks.core import Exercise
from helpers.checks.hints import mistake
from helpers.checks.judges import ABS, REL, first_difference, judges_numbers, same_numbers, sigmoid

ADDED = mistake("07/chain-rule-added",
                "you added the local gradients along a path; the chain rule multiplies them: each path contributes the product of the local "
                "gradients on its edges.")


# 07.1 grads_of_J(a, b, c): J = 3(a + bc), v = bc, u = a + v --------------------------------

J_NAMES = ["dJ/da", "dJ/db", "dJ/dc"]


def grads_of_J(a: float, b: float, c: float) -> list[float]:
    return [3.0, 3.0 * c, 3.0 * b]


@judges_numbers(J_NAMES)
def judge_grads_of_J(got, case, expected):
    a, b, c = case
    if same_numbers(got, [3.0, 3.0 * b, 3.0 * c]):
        return mistake("07.1/dj-db-dj-dc-swapped", "dJ/db and dJ/dc are swapped: the local gradient of v = b·c with respect to one factor is the other factor.")
    if same_numbers(got, [1.0, c, b]) or same_numbers(got[1:], [c, b]):
        return mistake("07.1/every-path-j-starts-edge", "every path from J starts with the edge J ← u, whose local gradient is dJ/du = 3: multiply it in.")
    if same_numbers(got, [3.0, 3.0 + c, 3.0 + b]):
        return ADDED
    if same_numbers(got, [3.0, 3.0, 3.0]) or same_numbers(got, [3.0, 3.0 * b * c, 3.0 * b * c]):
        return mistake("07.1/path-b-c-goes-through",
                       "the path to b (and to c) goes through v = b·c: its local gradient, the other factor, belongs in the product.")
    return None


def grads_of_J_public():
    return [(2.0, 5.0, -1.5), (-1.0, 0.5, 4.0)]


def grads_of_J_hidden(rng: random.Random):
    """b and c of different sizes (never ±1, ±1/3 or each other's negative), so every mistake shows."""
    cases = []
    while len(cases) < 4:
        a, b, c = (round(rng.choice([-1, 1]) * rng.uniform(0.5, 5.0), 2) for _ in range(3))
        if abs(abs(b) - abs(c)) > 0.3 and min(abs(abs(b) - 1), abs(abs(c) - 1), abs(abs(b * c) - 1)) > 0.2:
            cases.append((a, b, c))
    return cases


# 07.2 two_path_gradients(x, y): g = x·(y − x), x reaches g along two paths ---------------------

G_NAMES = ["dg/dx", "dg/dy"]


def two_path_gradients(x: float, y: float) -> list[float]:
    return [y - 2.0 * x, x]


@judges_numbers(G_NAMES)
def judge_two_path(got, case, expected):
    x, y = case
    if same_numbers(got, [-e for e in expected]):
        return first_difference(got, expected, G_NAMES)
    if math.isclose(got[0], y - x, rel_tol=REL, abs_tol=ABS):
        return mistake("07.2/dg-dx-holds-only-direct",
                       "dg/dx holds only the direct path x → (·); x also reaches g through d = y − x: add that path's product too.")
    if math.isclose(got[0], -x, rel_tol=REL, abs_tol=ABS):
        return mistake("07.2/dg-dx-holds-only-path", "dg/dx holds only the path through d = y − x; x is also a direct input of the product: add that path too.")
    if math.isclose(got[0], y + 2 * x, rel_tol=REL, abs_tol=ABS):
        return mistake("07.2/dg-dx-path-through-d",
                       "dg/dx: the path through d = y − x carries the local gradient ∂d/∂x = −1; you took it as +1, dropping the minus of the "
                       "subtraction.")
    if math.isclose(got[0], y, rel_tol=REL, abs_tol=ABS):
        return mistake("07.2/dg-dx-path-through-d-2",
                       "dg/dx: the path through d = y − x carries the local gradient ∂d/∂x = −1; a minus sign is missing on that edge.")
    if math.isclose(got[1], -x, rel_tol=REL, abs_tol=ABS):
        return mistake("07.2/dg-dy-has-wrong-sign", "dg/dy has the wrong sign: along y → d → g the local gradients are ∂d/∂y = +1 and ∂g/∂d = x.")
    return None


def two_path_public():
    return [(2.0, 5.0), (-1.5, 0.5)]


def two_path_hidden(rng: random.Random):
    """x and y non-zero and apart, so each missing path and each sign slip gives a different number."""
    cases = []
    while len(cases) < 4:
        x, y = (round(rng.choice([-1, 1]) * rng.uniform(0.5, 4.0), 2) for _ in range(2))
        if abs(x - y) > 0.5 and abs(x + y) > 0.5 and abs(y - 2 * x) > 0.3:
            cases.append((x, y))
    return cases


# 07.3 sigmoid_neuron_grads(w, x, b): L = σ(w·x + b) ---------------------------------------

N_NAMES = ["dL/dw", "dL/dx", "dL/db"]


def sigmoid_neuron_grads(w: float, x: float, b: float) -> list[float]:
    s = 1.0 / (1.0 + math.exp(-(w * x + b)))
    local = s * (1.0 - s)
    return [local * x, local * w, local]


@judges_numbers(N_NAMES)
def judge_sigmoid_neuron(got, case, expected):
    w, x, b = case
    z = w * x + b
    s = sigmoid(z)
    wrong_locals = [  # (local gradient used instead of σ'(z) = s(1 − s), hint)
        (s, mistake("07.3/sigmoids-local-gradient-itself-but", "the sigmoid's local gradient is not s itself but s(1 − s), with s = σ(z) the node's output.")),
        (sigmoid(s) * (1 - sigmoid(s)), mistake("07.3/was-evaluated-nodes-output-evaluate",
                                                "σ' was evaluated at the node's output s; evaluate it at the node's input z = w·x + b (s(1 − s) "
                                                "with s = σ(z)).")),
        (sigmoid(x) * (1 - sigmoid(x)), mistake("07.3/was-evaluated-x-sigmoid-nodes",
                                                "σ' was evaluated at x; the sigmoid node's input is z = w·x + b: evaluate its local gradient there.")),
        (z * (1 - z), mistake("07.3/z-1-z-uses-nodes", "z(1 − z) uses the node's input; the formula s(1 − s) needs its output s = σ(z).")),
        (1.0, mistake("07.3/path-l-each-input-crosses",
                      "the path from L to each input crosses the sigmoid node: multiply by its local gradient σ'(z) = s(1 − s).")),
        (-s * (1 - s), mistake("07.3/signs-flipped-z-1-positive", "the signs are flipped: σ'(z) = s(1 − s) is positive, since s lies between 0 and 1.")),
    ]
    for wrong, hint in wrong_locals:  # each wrong local gradient, carried along the three paths
        if same_numbers(got, [wrong * x, wrong * w, wrong]):
            return hint
    local = s * (1 - s)
    if same_numbers(got, [local + x, local + w, local]):
        return ADDED
    if same_numbers(got[:2], [expected[2] * w, expected[2] * x]):
        return mistake("07.3/dl-dw-dl-dx-swapped", "dL/dw and dL/dx are swapped: the local gradient of w·x with respect to one factor is the other factor.")
    return None


def sigmoid_neuron_public():
    return [(0.5, 2.0, -0.2), (-1.5, 0.8, 0.3)]


def sigmoid_neuron_hidden(rng: random.Random):
    """|z| in (0.6, 2.5), |x| away from |z|, w and x apart and away from ±1: every wrong local gradient shows."""
    cases = []
    while len(cases) < 4:
        w, x = (round(rng.choice([-1, 1]) * rng.uniform(0.3, 2.5), 2) for _ in range(2))
        b = round(rng.uniform(-1.0, 1.0), 2)
        z = w * x + b
        if 0.6 < abs(z) < 2.5 and abs(abs(x) - abs(z)) > 0.2 and abs(abs(w) - abs(x)) > 0.3 and min(abs(abs(x) - 1), abs(abs(w) - 1)) > 0.2:
            cases.append((w, x, b))
    return cases


EXERCISES = [
    Exercise("07.1", "grads_of_J", 2, grads_of_J, grads_of_J_public, grads_of_J_hidden, judge_grads_of_J,
             "dJ/da = 3·1, dJ/db = 3·1·c and dJ/dc = 3·1·b: one product of local gradients per path."),
    Exercise("07.2", "two_path_gradients", 2, two_path_gradients, two_path_public, two_path_hidden, judge_two_path,
             "dg/dx = (y − x)·1 + x·(−1): one term per path from g to x, each a product of local gradients."),
    Exercise("07.3", "sigmoid_neuron_grads", 3, sigmoid_neuron_grads, sigmoid_neuron_public, sigmoid_neuron_hidden,
             judge_sigmoid_neuron,
             "every path crosses the sigmoid node, whose local gradient is s(1 − s) at s = σ(w·x + b); then the product's and the sum's edges."),
]
