"""Notebook 08's checks: the exercise contract (tests/exercise_contract.py) with 08's mistakes.

The wrong answers are written here in matrix form (row vectors, as torch computes), independently
of the loops the judges use to recognise them.
"""

import torch

from exercise_contract import *  # noqa: F403 - the contract's tests, collected here for notebook 08
from exercise_contract import Unseen
from helpers.checks import check
from helpers.checks.core import PASSED

NOTEBOOK = "08"
NAMES = ["W1", "bias1", "W2", "bias2", "W3", "bias3"]


def matrices(params):
    return {name: torch.tensor(params[name], dtype=torch.float64) for name in NAMES}


def backward(x, y, params, f_prime=lambda z, s: s * (1 - s), swap_w2=False, input_factor=None, swap_w1=False, sign=1.0,
             new_w3=None, new_w2=None, f_prime_at_b=False, x_from_b=False):
    """Every gradient of the 2-2-2-1 network in matrix form, with optional mistakes.

    new_w3, new_w2: weights used in the backward pass in place of the forward pass's.
    """
    p = matrices(params)
    back = {"W3": p["W3"] if new_w3 is None else torch.tensor(new_w3, dtype=torch.float64),
            "W2": p["W2"] if new_w2 is None else torch.tensor(new_w2, dtype=torch.float64)}
    x = torch.tensor(x, dtype=torch.float64)
    a = x @ p["W1"] + p["bias1"]
    fa = torch.sigmoid(a)
    b = fa @ p["W2"] + p["bias2"]
    fb = torch.sigmoid(b)
    out = fb @ p["W3"] + p["bias3"]
    grad_out = sign * (out - y)
    grad_b = f_prime(b, fb) * (back["W3"] @ grad_out)
    grad_a = (f_prime(b, fb) if f_prime_at_b else f_prime(a, fa)) * ((back["W2"].T if swap_w2 else back["W2"]) @ grad_b)
    grad_x = (p["W1"].T if swap_w1 else p["W1"]) @ (grad_b if x_from_b else grad_a)
    if input_factor is not None:
        grad_x = input_factor(x) * grad_x
    grads = {"W1": torch.outer(x, grad_a), "bias1": grad_a, "W2": torch.outer(fa, grad_b), "bias2": grad_b,
             "W3": torch.outer(fb, grad_out), "bias3": grad_out}
    return grads, grad_a, grad_b, grad_x


def hidden(**mistake):
    return lambda x, y, params: torch.cat(backward(x, y, params, **mistake)[1:3]).tolist()


def inputs(**mistake):
    return lambda x, y, params: backward(x, y, params, **mistake)[3].tolist()


def stepped(params, grads, lr, skip=()):
    return {name: params[name] if name in skip else (matrices(params)[name] - lr * grads[name]).tolist() for name in NAMES}


def train(lr_used=lambda lr: lr, skip=()):
    return lambda x, y, params, lr: stepped(params, backward(x, y, params)[0], lr_used(lr), skip)


def seed_order(refresh):
    """Update W3 and bias3 at once, then carry on down the layers with the new W3 (and then W2).

    refresh=False: the backward pass goes on from the old ∇out with the new weights (the seed's
    words); refresh=True: the forward pass is redone with the parameters updated so far.
    """
    def attempt(x, y, params, lr):
        new = dict(params)
        grads = backward(x, y, params)[0]
        new.update({name: stepped(params, grads, lr)[name] for name in ("W3", "bias3")})
        grads = backward(x, y, new if refresh else params, new_w3=new["W3"])[0]
        new.update({name: stepped(params, grads, lr)[name] for name in ("W2", "bias2")})
        grads = backward(x, y, new if refresh else params, new_w3=new["W3"], new_w2=new["W2"])[0]
        new.update({name: stepped(params, grads, lr)[name] for name in ("W1", "bias1")})
        return new
    return attempt


MISTAKES = [
    ("08.1", hidden(f_prime=lambda z, s: s), "not s = f(z) itself but s(1 − s)"),
    ("08.1", hidden(f_prime=lambda z, s: torch.sigmoid(s) * (1 - torch.sigmoid(s))), "evaluate it at its input"),
    ("08.1", hidden(f_prime=lambda z, s: z * (1 - z)), "needs the neuron's output"),
    ("08.1", hidden(f_prime=lambda z, s: torch.ones_like(z)), "multiply by the local gradient"),
    ("08.1", hidden(swap_w2=True), "(the indices swapped)"),
    ("08.1", hidden(sign=-1.0), "every sign is flipped"),
    ("08.1", hidden(f_prime_at_b=True), "your ∇a_j is one layer off"),
    ("08.1", lambda x, y, params: (2 * backward(x, y, params)[1]).tolist() + backward(x, y, params)[2].tolist(),
     "∇b1 and ∇b2 are right"),
    ("08.1", lambda x, y, params: torch.cat(backward(x, y, params)[1:3]), "you returned a tensor"),
    ("08.1", lambda x, y, params: backward(x, y, params)[1:3], "you returned 2 values"),
    ("08.2", inputs(input_factor=lambda x: torch.sigmoid(x) * (1 - torch.sigmoid(x))), "no f' factor at x"),
    ("08.2", inputs(input_factor=lambda x: x), "has no factor x_i"),
    ("08.2", inputs(swap_w1=True), "(the indices swapped)"),
    ("08.2", inputs(x_from_b=True), "your ∇x is one layer off"),
    ("08.2", inputs(f_prime=lambda z, s: s), "s(1 − s), not s"),
    ("08.3", seed_order(refresh=False), "weights updated in the middle of the backward pass"),
    ("08.3", seed_order(refresh=True), "weights updated in the middle of the backward pass"),
    ("08.3", train(lambda lr: -lr), "you stepped up the gradient"),
    ("08.3", train(lambda lr: 1.0), "ignores the learning rate"),
    ("08.3", train(skip=("bias1", "bias2", "bias3")), "the biases did not move"),
    ("08.3", lambda x, y, params, lr: {n: g.tolist() for n, g in backward(x, y, params)[0].items()}, "you returned the gradients"),
    ("08.3", lambda x, y, params, lr: {n: torch.tensor(v) for n, v in params.items()}, "is a tensor"),
    ("08.3", lambda x, y, params, lr: [params[n] for n in NAMES], "expected a dict with the keys"),
    ("08.3", lambda x, y, params, lr: {"W1": params["W1"]}, "the dict has the keys W1"),
]


def test_matrix_form_passes_all_three():
    """The notebook's last section: the same pass written with matrices passes every check."""
    assert check("08.1", hidden()).status == PASSED
    assert check("08.2", inputs()).status == PASSED
    assert check("08.3", train()).status == PASSED


def train_step_in_params(x, y, params, lr):
    """Right values, but written into params' own lists, and params returned."""
    new = train()(x, y, params, lr)
    for name in NAMES:
        params[name][:] = new[name]
    return params


def train_step_through_a_shallow_copy(x, y, params, lr):
    """A new dict, but its lists are params' own: changing them changes params."""
    new, result = train()(x, y, params, lr), dict(params)
    for name in NAMES:
        result[name][:] = new[name]
    return result


# The rules 08's statements set beyond the value asked for.
RULES = [
    ("08.1", "use forward and f_prime", Unseen("any way to the right numbers passes; the hint is a way, not a rule a result can show"), ""),
    ("08.2", "reuse hidden_gradients", Unseen("any way to the right numbers passes; the hint is a way, not a rule a result can show"), ""),
    ("08.3", "every gradient with the old parameters first", seed_order(refresh=False), "weights updated in the middle of the backward pass"),
    ("08.3", "a new dict; params is not changed", train_step_in_params, "changed its input `params`"),
    ("08.3", "a new dict; params is not changed", train_step_through_a_shallow_copy, "changed its input `params`"),
]
