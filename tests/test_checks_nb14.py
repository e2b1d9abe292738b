"""Notebook 14's checks: the exercise contract (tests/exercise_contract.py) with 14's mistakes."""

import torch
import torch.nn.functional as F
from torch import nn, optim

from exercise_contract import *  # noqa: F403 - the contract's tests, collected here for notebook 14
from exercise_contract import SECRETS, Unseen
from helpers.checks import EXERCISES, check
from helpers.checks.core import PASSED
from helpers.grading import cases as hidden

NOTEBOOK = "14"


# 14.1 log_softmax ------------------------------------------------------------------------------

def log_softmax_without_the_max(z):
    return z - z.exp().sum(dim=1, keepdim=True).log()


def log_softmax_with_one_max_for_the_batch(z):
    shifted = z - z.max()
    return shifted - shifted.exp().sum(dim=1, keepdim=True).log()


def log_of_softmax(z):
    shifted = z - z.max(dim=1, keepdim=True).values
    return torch.log(shifted.exp() / shifted.exp().sum(dim=1, keepdim=True))


def softmax_by_hand(z):
    shifted = z - z.max(dim=1, keepdim=True).values
    return shifted.exp() / shifted.exp().sum(dim=1, keepdim=True)


def log_softmax_over_examples(z):
    shifted = z - z.max(dim=0, keepdim=True).values
    return shifted - shifted.exp().sum(dim=0, keepdim=True).log()


# 14.2 cross_entropy ----------------------------------------------------------------------------

def picked_log_probs(logits, targets):
    return torch.log_softmax(logits, dim=1)[torch.arange(len(targets)), targets]


def ce_sum(logits, targets):
    return (-picked_log_probs(logits, targets).sum()).item()


def ce_unstable(logits, targets):
    probs = logits.exp() / logits.exp().sum(dim=1, keepdim=True)
    return (-probs[torch.arange(len(targets)), targets].log().mean()).item()


def ce_log_of_softmax(logits, targets):
    return (-torch.softmax(logits, dim=1)[torch.arange(len(targets)), targets].log().mean()).item()


def ce_one_hot_mean_over_everything(logits, targets):
    one_hot = F.one_hot(targets, logits.shape[1]).float()
    return (-(one_hot * torch.log_softmax(logits, dim=1)).mean()).item()


def ce_column_block(logits, targets):
    return (-torch.log_softmax(logits, dim=1)[:, targets].mean()).item()


def ce_softmax_twice(logits, targets):
    return F.cross_entropy(torch.softmax(logits, dim=1), targets).item()


def ce_probability_not_log(logits, targets):
    return (-torch.softmax(logits, dim=1)[torch.arange(len(targets)), targets].mean()).item()


def ce_no_minus(logits, targets):
    return picked_log_probs(logits, targets).mean().item()


def ce_over_examples(logits, targets):
    return (-torch.log_softmax(logits, dim=0)[torch.arange(len(targets)), targets].mean()).item()


# 14.3 accuracy ---------------------------------------------------------------------------------

def accuracy_column(logits, targets):
    return (logits.argmax(dim=1, keepdim=True) == targets).float().mean().item()


def accuracy_flat_argmax(logits, targets):
    return (logits.argmax() == targets).float().mean().item()


def accuracy_count(logits, targets):
    return (logits.argmax(dim=1) == targets).sum().item()


# 14.4 train_classifier -------------------------------------------------------------------------

def train_with(x, y, weight, bias, lr, steps, zero=True, softmax_first=False, reduction="mean", after=False, copy=True):
    model = nn.Linear(x.shape[1], weight.shape[0])
    if copy:
        with torch.no_grad():
            model.weight.copy_(weight)
            model.bias.copy_(bias)
    else:  # a Parameter shares its tensor's memory: each step then changes `weight` and `bias` themselves
        model.weight, model.bias = nn.Parameter(weight), nn.Parameter(bias)
    optimizer = optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        if zero:
            optimizer.zero_grad()
        logits = model(x)
        if softmax_first:
            logits = torch.softmax(logits, dim=1)
        loss = F.cross_entropy(logits, y, reduction=reduction)
        loss.backward()
        optimizer.step()
        if after:
            with torch.no_grad():
                loss = F.cross_entropy(model(x), y)
        losses.append(loss.item())
    return losses


MISTAKES = [
    ("14.1", log_softmax_without_the_max, "exp overflows there"),
    ("14.1", log_softmax_with_one_max_for_the_batch, "one maximum for the whole batch"),
    ("14.1", log_of_softmax, "underflows to 0 in float32 before its log"),
    ("14.1", lambda z: torch.log(torch.softmax(z, dim=1)), "underflows to 0 in float32 before its log"),
    ("14.1", softmax_by_hand, "these are the probabilities"),
    ("14.1", log_softmax_over_examples, "you normalised over the examples (dim 0)"),
    ("14.1", lambda z: z - z.max(dim=1, keepdim=True).values, "you shifted each row by its maximum but stopped there"),
    ("14.1", lambda z: torch.log_softmax(z, dim=1).double(), "the dtype is torch.float64"),
    ("14.2", ce_sum, "it does not add them up"),
    ("14.2", lambda logits, targets: F.cross_entropy(logits, targets, reduction="sum").item(), "it does not add them up"),
    ("14.2", ce_unstable, "exp overflows"),
    ("14.2", ce_log_of_softmax, "never take the log of a probability"),
    ("14.2", ce_one_hot_mean_over_everything, "most of them zeros of a one-hot mask"),
    ("14.2", ce_column_block, "Pair row i with its own target"),
    ("14.2", ce_softmax_twice, "softmax was applied twice"),
    ("14.2", ce_probability_not_log, "minus the *probability* of the true class"),
    ("14.2", ce_no_minus, "the sign is flipped"),
    ("14.2", ce_over_examples, "normalise over the classes, dim 1"),
    ("14.2", lambda logits, targets: F.cross_entropy(logits, targets), ".item() converts a one-element tensor"),
    ("14.2", lambda logits, targets: F.cross_entropy(logits, targets, reduction="none"), "one loss per example"),
    ("14.3", accuracy_column, "compared every prediction with every target"),
    ("14.3", accuracy_flat_argmax, "argmax without a dim"),
    ("14.3", accuracy_count, "you returned a count"),
    ("14.3", lambda logits, targets: (logits.argmax(dim=0) == targets).float().mean().item(), "the shapes do not broadcast"),
    ("14.3", lambda logits, targets: 100 * (logits.argmax(dim=1) == targets).float().mean().item(), "a percentage"),
    ("14.3", lambda logits, targets: (logits.argmax(dim=1) != targets).float().mean().item(), "the error rate"),
    ("14.3", lambda logits, targets: (logits.argmin(dim=1) == targets).float().mean().item(), "the *smallest* logit"),
    ("14.3", lambda logits, targets: (logits.argmax(dim=1) == targets).float().mean(), ".item() converts"),
    ("14.4", lambda *case: train_with(*case, softmax_first=True), "softmax was applied twice"),
    ("14.4", lambda *case: train_with(*case, zero=False), "the gradients were never zeroed"),
    ("14.4", lambda *case: train_with(*case, reduction="sum"), "not its sum"),
    ("14.4", lambda *case: train_with(*case, after=True), "your losses are one step ahead"),
    ("14.4", lambda *case: [torch.tensor(v) for v in train_with(*case)], "your list holds tensors"),
    ("14.4", lambda *case: train_with(*case)[:-1], "losses for"),
    ("14.4", lambda x, y, *rest: train_with(x, y.float(), *rest), "class indices must be int64"),
    ("14.4", lambda x, y, *rest: train_with(x, y[:, None], *rest), "not a column (N, 1)"),
    ("14.4", lambda x, y, w, *rest: train_with(x, F.one_hot(y, w.shape[0]), w, *rest), "must be floats"),
]


def test_every_hidden_log_softmax_case_overflows_and_underflows_float32():
    for secret in SECRETS:
        for (logits,) in hidden.hidden_cases(EXERCISES["14.1"], secret):
            assert bool(torch.isinf(logits.exp()).any()), "no row overflows exp"
            assert bool((torch.softmax(logits, dim=1) == 0).any()), "no probability underflows"


def test_hand_written_alternatives_that_are_stable_pass():
    def with_logsumexp(z):
        return z - torch.logsumexp(z, dim=1, keepdim=True)

    def ce_with_gather(logits, targets):
        log_probs = with_logsumexp(logits)
        return -log_probs.gather(1, targets[:, None]).mean().item()

    def accuracy_by_counting(logits, targets):
        return (logits.argmax(dim=1) == targets).sum().item() / len(targets)

    assert check("14.1", with_logsumexp).status == PASSED
    assert check("14.2", ce_with_gather).status == PASSED
    assert check("14.2", lambda logits, targets: F.cross_entropy(logits, targets).item()).status == PASSED
    assert check("14.3", accuracy_by_counting).status == PASSED
    assert check("14.4", train_with).status == PASSED


def test_one_hot_float_targets_train_the_same_as_class_indices():
    """torch 2.13 reads float targets of shape (N, C) as class probabilities: a one-hot table gives the same loss."""
    def one_hot_targets(x, y, weight, bias, lr, steps):
        return train_with(x, F.one_hot(y, weight.shape[0]).float(), weight, bias, lr, steps)

    assert check("14.4", one_hot_targets).status == PASSED


def test_binary_cross_entropy_errors_the_notebook_shows_get_named_fixes():
    """torch 2.13's messages for an (N, 1) output against (N,) labels, and for int64 labels."""
    from helpers.checks.core import explain_exception

    logits = torch.zeros(4, 1)
    for wrong, fix in [(lambda: F.binary_cross_entropy_with_logits(logits, torch.ones(4)), "must be squeezed to (N,)"),
                       (lambda: F.binary_cross_entropy_with_logits(logits[:, 0], torch.ones(4).long()), "convert int64")]:
        try:
            wrong()
        except (RuntimeError, ValueError) as error:
            assert fix in explain_exception(error)
        else:
            raise AssertionError("torch accepted it")


# The rules the statements set ------------------------------------------------------------------

def train_the_given_parameters(*case):
    """14.4 that trains `weight` and `bias` themselves instead of a copy."""
    return train_with(*case, copy=False)


BY_HAND = "the check sees only the numbers, and torch's own function gives the same ones"
RULES = [
    ("14.1", "built by hand from exp, log, sum and max", Unseen(BY_HAND), ""),
    ("14.2", "computed by hand", Unseen(BY_HAND), ""),
    ("14.4", "weight and bias unchanged: train a copy", train_the_given_parameters, "changed its input `weight`"),
]
