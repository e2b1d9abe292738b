"""Exercises of notebook 08 (backpropagation in a 2-2-2-1 sigmoid network), in the seed's notation.

The network: a_j = sum_i x_i W1[i][j] + bias1[j], b_k = sum_j f(a_j) W2[j][k] + bias2[k],
out = sum_k f(b_k) W3[k][0] + bias3[0], f = sigmoid, loss L = (out - y)² / 2. Cases are plain
data: x (2 floats), y (a float), params (a dict of nested lists of floats), and lr for 08.3.
References use torch.autograd in float64. The judges rebuild each known mistake (the sigmoid's
local gradient wrong or taken at the wrong point, a weight matrix read with its indices swapped,
an activation factor on the inputs, weights updated in the middle of the backward pass, a step up
the gradient) and name it when the answer matches it. They rebuild them with a backward pass by
hand, which with no mistake switched on computes the answers: that model is grader-only
(helpers.checks.shipped), so the student release ships each mistake's answer on the public cases
as data instead of the code.
"""

from __future__ import annotations

import math
import random

import torch

from helpers.checks.core import Exercise, shown, with_article
from helpers.checks.hints import mistake
from helpers.checks.judges import RETURNED_NONE, first_difference, judges_numbers, known_answer, same_numbers, sigmoid
from helpers.checks.shipped import derived_on_public_cases, grader_only

NAMES = ["W1", "bias1", "W2", "bias2", "W3", "bias3"]
SHAPES = {"W1": (2, 2), "bias1": (2,), "W2": (2, 2), "bias2": (2,), "W3": (2, 1), "bias3": (1,)}


def as_tensors(params: dict) -> dict[str, torch.Tensor]:
    return {name: torch.tensor(params[name], dtype=torch.float64, requires_grad=True) for name in NAMES}


def autograd_pass(x, y, params):
    """Forward and backward in float64 with autograd; the pre-activations keep their gradients."""
    t = as_tensors(params)
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    a = xt @ t["W1"] + t["bias1"]
    b = torch.sigmoid(a) @ t["W2"] + t["bias2"]
    out = torch.sigmoid(b) @ t["W3"] + t["bias3"]
    a.retain_grad()
    b.retain_grad()
    (0.5 * (out - y) ** 2).sum().backward()
    return xt, a, b, t


# The judges' model of a learner's hand computation, with a switch for each known mistake ---------
# Grader-only: with no mistake switched on it computes the answers.

@grader_only
def forward(x, p):
    a = [x[0] * p["W1"][0][j] + x[1] * p["W1"][1][j] + p["bias1"][j] for j in range(2)]
    fa = [sigmoid(v) for v in a]
    b = [fa[0] * p["W2"][0][k] + fa[1] * p["W2"][1][k] + p["bias2"][k] for k in range(2)]
    fb = [sigmoid(v) for v in b]
    out = fb[0] * p["W3"][0][0] + fb[1] * p["W3"][1][0] + p["bias3"][0]
    return a, fa, b, fb, out


@grader_only
def local_sigmoid(kind: str):
    """The sigmoid's local gradient as a learner might write it."""
    return {
        "s(1-s)": lambda z: sigmoid(z) * (1 - sigmoid(z)),
        "s": sigmoid,
        "at s": lambda z: sigmoid(sigmoid(z)) * (1 - sigmoid(sigmoid(z))),
        "z(1-z)": lambda z: z * (1 - z),
        "none": lambda z: 1.0,
    }[kind]


@grader_only
def by_hand(x, y, p, local="s(1-s)", swap_w2=False, swap_w1=False, input_factor="none", sign=1.0, w3=None, w2=None,
            f_prime_at_b=False, x_from_b=False):
    """Every gradient the way a learner's loops compute it; each keyword switches one mistake on.

    `f_prime_at_b` takes f' for ∇a_j at b_j, and `x_from_b` builds ∇x from ∇b: a layer off.

    `w3` and `w2` replace W3 (for the gradient of b) and W2 (for the gradient of a): weights
    already updated in the middle of the backward pass.
    """
    f_prime = local_sigmoid(local)
    a, fa, b, fb, out = forward(x, p)
    w3 = w3 or p["W3"]
    w2 = w2 or p["W2"]
    grad_out = sign * (out - y)
    grad_b = [f_prime(b[k]) * w3[k][0] * grad_out for k in range(2)]
    weight2 = (lambda j, k: w2[k][j]) if swap_w2 else (lambda j, k: w2[j][k])
    at = b if f_prime_at_b else a
    grad_a = [f_prime(at[j]) * sum(weight2(j, k) * grad_b[k] for k in range(2)) for j in range(2)]
    weight1 = (lambda i, j: p["W1"][j][i]) if swap_w1 else (lambda i, j: p["W1"][i][j])
    factor = {"none": lambda i: 1.0, "sigmoid'": lambda i: sigmoid(x[i]) * (1 - sigmoid(x[i])), "x": lambda i: x[i]}[input_factor]
    below = grad_b if x_from_b else grad_a
    grad_x = [factor(i) * sum(weight1(i, j) * below[j] for j in range(2)) for i in range(2)]
    grads = {
        "W3": [[fb[k] * grad_out] for k in range(2)], "bias3": [grad_out],
        "W2": [[fa[j] * grad_b[k] for k in range(2)] for j in range(2)], "bias2": list(grad_b),
        "W1": [[x[i] * grad_a[j] for j in range(2)] for i in range(2)], "bias1": list(grad_a),
    }
    return grads, grad_a, grad_b, grad_x


def flat(params: dict) -> list[float]:
    """The numbers of a params-like dict, in NAMES order, row by row."""
    numbers = []
    for name in NAMES:
        value = params[name]
        for item in value:
            numbers.extend(item if isinstance(item, list) else [item])
    return numbers


def flat_names() -> list[str]:
    """The names of flat()'s numbers: W1[0][0], W1[0][1], ..., bias3[0]."""
    return [f"{name}[{i}][{j}]" if len(shape) == 2 else f"{name}[{i}]"
            for name, shape in SHAPES.items() for i in range(shape[0]) for j in range(shape[1] if len(shape) == 2 else 1)]


@grader_only
def step(p: dict, grads: dict, lr: float) -> dict:
    return {name: [[v - lr * g for v, g in zip(row, grow, strict=True)] if isinstance(row, list) else row - lr * grow
                   for row, grow in zip(p[name], grads[name], strict=True)] for name in NAMES}


def distinct(vectors: list[list[float]], gap: float = 1e-3) -> bool:
    """True when every two vectors differ somewhere by more than `gap` (so each mistake is told apart)."""
    for i in range(len(vectors)):
        for j in range(i + 1, len(vectors)):
            if max(abs(u - v) for u, v in zip(vectors[i], vectors[j], strict=True)) <= gap:
                return False
    return True


def random_network(rng: random.Random) -> tuple[list[float], float, dict]:
    def number(low=0.3, high=1.5):
        return round(rng.choice([-1, 1]) * rng.uniform(low, high), 2)
    x = [number(0.5, 2.0), number(0.5, 2.0)]
    params = {name: [[number() for _ in range(shape[1])] for _ in range(shape[0])] if len(shape) == 2
              else [number(0.0, 0.5) for _ in range(shape[0])] for name, shape in SHAPES.items()}
    return x, round(rng.uniform(-1.0, 2.0), 2), params


NETWORK = ([1.0, 0.5], 1.0, {"W1": [[0.5, -0.3], [0.2, 0.8]], "bias1": [0.1, -0.2],
                             "W2": [[0.7, -0.4], [-0.6, 0.9]], "bias2": [0.0, 0.1],
                             "W3": [[1.2], [-0.8]], "bias3": [0.3]})
OTHER = ([-1.5, 2.0], 0.0, {"W1": [[-0.8, 0.6], [0.4, 1.1]], "bias1": [0.2, 0.3],
                            "W2": [[1.3, 0.5], [-0.9, -0.7]], "bias2": [-0.1, 0.2],
                            "W3": [[-1.0], [0.9]], "bias3": [0.5]})


# 08.1 hidden_gradients(x, y, params): [∇a1, ∇a2, ∇b1, ∇b2] ----------------------------------

HIDDEN_NAMES = ["∇a1", "∇a2", "∇b1", "∇b2"]


def hidden_gradients(x, y, params):
    xt, a, b, t = autograd_pass(x, y, params)
    return a.grad.tolist() + b.grad.tolist()


HIDDEN_MISTAKES = [  # (keywords of by_hand, hint)
    (dict(local="s"), mistake("08.1/local-gradient-s-not-s-one-minus-s", "the sigmoid's local gradient is not s = f(z) itself but s(1 − s).")),
    (dict(local="at s"), mistake("08.1/local-gradient-at-output",
                                 "f' was evaluated at the neuron's output f(z); evaluate it at its input, the pre-activation z (s(1 − s) with s = "
                                 "f(z)).")),
    (dict(local="z(1-z)"), mistake("08.1/local-gradient-of-pre-activation",
                                   "z(1 − z) uses the pre-activation; the formula s(1 − s) needs the neuron's output s = f(z).")),
    (dict(local="none"), mistake("08.1/local-gradient-left-out",
                                 "each gradient of a pre-activation crosses its sigmoid: multiply by the local gradient f'(z) = s(1 − s).")),
    (dict(swap_w2=True), mistake("08.1/w2-indices-swapped",
                                 "∇a_j sums over the weights leaving neuron j, W2[j][k] for k = 1, 2; you used W2[k][j] (the indices swapped).")),
    (dict(f_prime_at_b=True), mistake("08.1/f-prime-one-layer-off",
                                      "your ∇a_j is one layer off: its f' belongs to neuron j's own pre-activation a_j; you took it at b_j, the "
                                      "layer above.")),
]


@derived_on_public_cases("08.1")
def hidden_mistakes(x, y, p) -> list[list[float]]:
    """[∇a1, ∇a2, ∇b1, ∇b2] as each of HIDDEN_MISTAKES gives them, in its order."""
    return [sum(by_hand(x, y, p, **keywords)[1:3], []) for keywords, _ in HIDDEN_MISTAKES]


def with_hints(answers: list | None, mistakes: list) -> list:
    """(answer, hint) pairs of the known mistakes whose answer is known: none on a case that is not public in the
    student release, which ships their answers for the public cases only."""
    if answers is None:
        return []
    return [(answer, hint) for answer, (_, hint) in zip(answers, mistakes, strict=True) if answer is not None]


FLIPPED = mistake("08.1/output-gradient-sign-flipped", "every sign is flipped: for L = (out − y)²/2 the gradient at the output is ∇out = out − y.")


@judges_numbers(HIDDEN_NAMES)
def judge_hidden(got, case, expected):
    x, y, p = case
    known = known_answer(got, with_hints(hidden_mistakes(x, y, p), HIDDEN_MISTAKES) + [([-e for e in expected], FLIPPED)])
    if known:
        return known
    if same_numbers(got[2:], expected[2:]):
        return mistake("08.1/b1-b2-right-j-f", "∇b1 and ∇b2 are right; ∇a_j = f'(a_j) · (sum over k of W2[j][k] ∇b_k): check that "
                                               "step. " + first_difference(got, expected, HIDDEN_NAMES))
    return None


def hidden_public():
    return [NETWORK, OTHER]


def hidden_hidden(rng: random.Random):
    """Networks where every recognised mistake gives numbers clearly apart from the right ones."""
    cases = []
    while len(cases) < 3:
        x, y, p = random_network(rng)
        _, grad_a, grad_b, _ = by_hand(x, y, p)
        variants = [grad_a + grad_b] + hidden_mistakes(x, y, p)
        if abs(forward(x, p)[4] - y) > 0.3 and distinct(variants + [[-v for v in variants[0]]]):
            cases.append((x, y, p))
    return cases


# 08.2 input_gradients(x, y, params): [∇x1, ∇x2] ---------------------------------------------

INPUT_NAMES = ["∇x1", "∇x2"]


def input_gradients(x, y, params):
    xt, a, b, t = autograd_pass(x, y, params)
    return xt.grad.tolist()


INPUT_MISTAKES = [
    (dict(input_factor="sigmoid'"), mistake("08.2/f-prime-at-input",
                                            "an input has no activation function, so there is no f' factor at x: ∇x_i is the weighted sum of the "
                                            "∇a_j alone.")),
    (dict(input_factor="x"), mistake("08.2/factor-x-at-input",
                                     "∇x_i has no factor x_i: an input has no activation, so nothing multiplies the weighted sum of the ∇a_j.")),
    (dict(swap_w1=True), mistake("08.2/w1-indices-swapped",
                                 "∇x_i sums over the weights leaving input i, W1[i][j] for j = 1, 2; you used W1[j][i] (the indices swapped).")),
    (dict(local="s"), mistake("08.2/local-gradient-s-not-s-one-minus-s", "the ∇a_j inside ∇x are off: the sigmoid's local gradient is s(1 − s), not s.")),
    (dict(x_from_b=True), mistake("08.2/input-gradient-one-layer-off",
                                  "your ∇x is one layer off: the inputs feed the first layer, so ∇x_i weighs the ∇a_j (through W1); you used the "
                                  "∇b_j.")),
]


@derived_on_public_cases("08.2")
def input_mistakes(x, y, p) -> list[list[float]]:
    """[∇x1, ∇x2] as each of INPUT_MISTAKES gives them, in its order."""
    return [by_hand(x, y, p, **keywords)[3] for keywords, _ in INPUT_MISTAKES]


@judges_numbers(INPUT_NAMES)
def judge_inputs(got, case, expected):
    return known_answer(got, with_hints(input_mistakes(*case), INPUT_MISTAKES))


def inputs_public():
    return [NETWORK, OTHER]


def inputs_hidden(rng: random.Random):
    """Inputs away from 0 and ±1 and an asymmetric W1, so every recognised mistake shows."""
    cases = []
    while len(cases) < 3:
        x, y, p = random_network(rng)
        variants = [by_hand(x, y, p)[3]] + input_mistakes(x, y, p)
        if abs(forward(x, p)[4] - y) > 0.3 and min(abs(abs(v) - 1) for v in x) > 0.2 and distinct(variants):
            cases.append((x, y, p))
    return cases


# 08.3 train_step(x, y, params, lr): one step of gradient descent, every gradient first ----------

def train_step(x, y, params, lr):
    xt, a, b, t = autograd_pass(x, y, params)
    with torch.no_grad():
        return {name: (t[name] - lr * t[name].grad).tolist() for name in NAMES}


@grader_only
def seed_order(x, y, p, lr, through_w2=True, refresh=False):
    """The seed's order: update W3 (and bias3), go on with the new W3, and so on down the layers.

    Without `refresh` the backward pass goes on from the old ∇out with the new weights (the seed's
    words); with it, the forward pass is also redone with the parameters updated so far.
    """
    def gradients(updated):
        if refresh:
            return by_hand(x, y, dict(p, **{name: new[name] for name in updated}))[0]
        return by_hand(x, y, p, w3=new["W3"] if "W3" in updated else None,
                       w2=new["W2"] if "W2" in updated and through_w2 else None)[0]

    new = {name: p[name] for name in NAMES}
    grads = by_hand(x, y, p)[0]
    for name in ("W3", "bias3"):
        new[name] = step(p, grads, lr)[name]
    grads = gradients(("W3", "bias3"))
    for name in ("W2", "bias2"):
        new[name] = step(p, grads, lr)[name]
    grads = gradients(("W3", "bias3", "W2", "bias2") if through_w2 else ("W3", "bias3"))
    for name in ("W1", "bias1"):
        new[name] = step(p, grads, lr)[name]
    return new


MIDDLE = mistake("08.3/weights-updated-middle-backward-pass",
                 "weights updated in the middle of the backward pass: compute every gradient with the old weights first, then update all "
                 "parameters.")
LOWER_LAYERS = mistake("08.3/lower-layers-were-updated-gradients", "the lower layers were updated with gradients computed from " + MIDDLE)
W2_W1 = mistake("08.3/w2-w1-were-updated-gradients", "W2 and W1 were updated with gradients computed from " + MIDDLE)
TRAIN_MISTAKES = [  # (what the learner did, hint), in the order of train_mistakes' answers
    ("the seed's order", LOWER_LAYERS),
    ("the seed's order, W1's gradients through the old W2", W2_W1),
    ("the seed's order, the forward pass redone", LOWER_LAYERS),
    ("the seed's order, the forward pass redone, W1's gradients through the old W2", W2_W1),
    ("a step up the gradient", mistake("08.3/stepped-up-gradient-gradient-descent", "you stepped up the gradient: gradient descent subtracts lr × gradient.")),
    ("a step of lr = 1", mistake("08.3/step-ignores-learning-rate-move", "the step ignores the learning rate: move each parameter by lr × its gradient.")),
    ("the biases kept", mistake("08.3/biases-did-move-they-parameters", "the biases did not move: they are parameters too, each with its own gradient.")),
    ("the gradients returned", mistake("08.3/returned-gradients-return-parameters-after", "you returned the gradients; return the parameters after the step.")),
]


@derived_on_public_cases("08.3")
def train_mistakes(x, y, p, lr) -> list[dict]:
    """The parameters (a params-like dict) that each of TRAIN_MISTAKES gives, in its order; None for a step of
    lr = 1 when lr is 1 (then it is the right answer, which the release ships once, as the expected result)."""
    grads = by_hand(x, y, p)[0]
    return [seed_order(x, y, p, lr), seed_order(x, y, p, lr, through_w2=False), seed_order(x, y, p, lr, refresh=True),
            seed_order(x, y, p, lr, through_w2=False, refresh=True), step(p, grads, -lr), None if lr == 1 else step(p, grads, 1.0),
            dict(step(p, grads, lr), bias1=p["bias1"], bias2=p["bias2"], bias3=p["bias3"]), grads]


def params_mismatch(got, expected: dict) -> str | None:
    """A hint when `got` is not a dict of nested lists of numbers shaped like `expected`."""
    keys = ", ".join(NAMES)
    if got is None:
        return RETURNED_NONE
    if type(got) is not dict:
        return mistake("08.3/returned-expected-dict-keys-like",
                       f"you returned {with_article(type(got).__name__)}; expected a dict with the keys {keys}, like "
                       "params.")
    if sorted(got) != sorted(NAMES):
        return mistake("08.3/dict-has-keys-expected", f"the dict has the keys {shown(', '.join(sorted(map(str, got))))}; expected {keys}.")
    for name in NAMES:
        miss = nested_mismatch(got[name], expected[name], name)
        if miss:
            return miss
    return None


def nested_mismatch(got, expected, where: str) -> str | None:
    if isinstance(got, torch.Tensor):
        return mistake("08.3/tensor-return-nested-lists-floats",
                       f"{where} is a tensor; return nested lists of floats like params (.tolist() converts a "
                       "tensor).")
    if isinstance(expected, list):
        if type(got) not in (list, tuple) or len(got) != len(expected):
            size = f" of {shown(len(got))}" if type(got) in (list, tuple) else ""
            return mistake("08.3/should-list-params-returned",
                           f"{where} should be a list of {len(expected)}, as in params; you returned {with_article(type(got).__name__)}{size}.")
        for index, (g, e) in enumerate(zip(got, expected, strict=True)):
            miss = nested_mismatch(g, e, f"{where}[{index}]")
            if miss:
                return miss
        return None
    if type(got) is bool or not isinstance(got, (int, float)) or not math.isfinite(got):
        return mistake("08.3/expected-finite-python-float", f"{where} is {shown(repr(got), '.40')}; expected a finite Python float.")
    return None


def judge_train(got, case, expected):
    x, y, p, lr = case
    miss = params_mismatch(got, expected)
    if miss:
        return miss
    numbers = flat(got)
    if same_numbers(numbers, flat(expected)):
        return None
    for answer, hint in with_hints(train_mistakes(x, y, p, lr), TRAIN_MISTAKES):
        if same_numbers(numbers, flat(answer)):
            return hint
    return first_difference(numbers, flat(expected), flat_names())


def train_public():
    return [(*NETWORK, 1.0), (*OTHER, 0.5)]


def train_hidden(rng: random.Random):
    """Learning rates from 0.3 to 2 (never 1) and networks where each mistake moves some parameter visibly."""
    cases = []
    while len(cases) < 3:
        x, y, p = random_network(rng)
        lr = round(rng.choice([rng.uniform(0.3, 0.8), rng.uniform(1.3, 2.0)]), 2)
        right = flat(by_hand(x, y, p)[0])
        variants = [flat(step(p, by_hand(x, y, p)[0], lr))] + [flat(answer) for answer in train_mistakes(x, y, p, lr) if answer is not None]
        if abs(forward(x, p)[4] - y) > 0.3 and min(abs(g) for g in right) > 1e-3 and distinct(variants, gap=1e-4):
            cases.append((x, y, p, lr))
    return cases


EXERCISES = [
    Exercise("08.1", "hidden_gradients", 2, hidden_gradients, hidden_public, hidden_hidden, judge_hidden,
             "∇b_k = f'(b_k)·W3[k][1]·∇out, then ∇a_j = f'(a_j)·Σ_k W2[j][k]·∇b_k: each layer reuses the one above it."),
    Exercise("08.2", "input_gradients", 2, input_gradients, inputs_public, inputs_hidden, judge_inputs,
             "∇x_i = Σ_j W1[i][j]·∇a_j, with no f' factor: inputs have no activation function."),
    Exercise("08.3", "train_step", 3, train_step, train_public, train_hidden, judge_train,
             "the whole backward pass with the old weights, then every parameter moved by −lr × its gradient:"
             " what loss.backward() followed by an optimizer step does."),
]
