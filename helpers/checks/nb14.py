"""Exercises of notebook 14 (classification: logits, softmax, cross-entropy, a small classifier)."""

from __future__ import annotations

import functools
import math
import random

import torch
import torch.nn.functional as F
from torch import optim

from helpers.checks import judges
from helpers.checks.core import Exercise, shown, torch_generator, with_article
from helpers.checks.hints import mistake
from helpers.checks.judges import BROADCAST_TRAP, dtype_mismatch, known_number, not_a_float, not_a_loss_history, tensor_like, values_mismatch

EXP_LIMIT = 88.7  # exp(x) overflows float32 above about this


# Two tensors of one shape agree elementwise in float64, inf and nan where the other has them.
close = functools.partial(judges.close, atol=1e-4, rtol=1e-5, equal_nan=True)


def large_logit_rows(batch: int, classes: int, g: torch.Generator, rng: random.Random) -> torch.Tensor:
    """Logits (batch, classes) that break every unstable formula, each row in its own way.

    Row 0 sits far above the rest (offset 720 to 1000: exp overflows even in float64); row 1 holds
    one logit 120 to 200 below its row's largest (its probability underflows to 0 in float32); the
    other rows are ordinary, far below row 0 (one maximum for the whole batch leaves them at exp = 0).
    """
    logits = rng.uniform(1.0, 3.0) * torch.randn(batch, classes, generator=g)
    logits[0] += rng.uniform(720, 1000)
    logits[1, rng.randrange(classes)] -= rng.uniform(120, 200)
    return logits[torch.randperm(batch, generator=g)]


def stable_rows_problem(got: torch.Tensor, logits: torch.Tensor, want: torch.Tensor) -> str | None:
    """The hint for an answer wrong only where an unstable formula breaks on these logits; else None."""
    wrong = ~torch.isclose(got.detach().to(torch.float64), want.to(torch.float64), atol=1e-4, rtol=1e-5)
    if not wrong.any():
        return None
    row_max = logits.max(dim=1).values
    lowest = float(want.min())
    underflow = want < -100
    if bool((wrong == underflow).all()) and bool(torch.isneginf(got[wrong]).all()):
        return (mistake("14.1/have-inf-where-answer-about",
                        f"you have -inf where the answer is about {shown(lowest, '.0f')}: the probability exp({shown(lowest, '.0f')}) underflows to "
                        f"0 in "
                        "float32 before its log is taken. Stay in log space: a log-softmax is the shifted logits minus the log of the sum of their "
                        "exponentials, so no probability is ever formed."))
    wrong_rows = wrong.any(dim=1)
    large = row_max > EXP_LIMIT
    if not bool(torch.isfinite(got[large]).any(dim=1).any()):  # every row with a large logit is all inf or nan
        return (mistake("14.1/inf-nan-rows-whose-largest",
                        f"inf or nan in the rows whose largest logit is above {EXP_LIMIT}: exp overflows there. Subtract "
                        "each row's largest logit from the row before exponentiating; it cancels in the ratio, and the largest exponent becomes "
                        "exp(0) = 1."))
    far_below = row_max < float(row_max.max()) - EXP_LIMIT
    if bool((wrong_rows == far_below).all()) and not bool(torch.isfinite(got[wrong_rows]).all()):
        return (mistake("14.1/inf-nan-rows-whose-logits",
                        "inf or nan in the rows whose logits are far below the batch's largest: you subtracted one maximum for the whole batch, so "
                        "every exponential of those rows underflows to 0. Subtract each row's own maximum (one per example, kept as a column so it "
                        "broadcasts along its row)."))
    return None


# 14.1 log_softmax(logits): a numerically stable log-softmax over the classes, by hand -------------

def log_softmax(logits: torch.Tensor) -> torch.Tensor:
    shifted = logits - logits.max(dim=1, keepdim=True).values
    return shifted - shifted.exp().sum(dim=1, keepdim=True).log()


def judge_log_softmax(got, case, expected):
    (logits,) = case
    miss = tensor_like(got, expected) or dtype_mismatch(got, expected)
    if miss:
        return miss
    if close(got, expected):
        return None
    if close(got, torch.softmax(logits, dim=1)):
        return mistake("14.1/these-probabilities-each-row-sums",
                       "these are the probabilities (each row sums to 1): return their logarithms, computed without forming them.")
    if close(got, torch.log_softmax(logits, dim=0)):
        return (mistake("14.1/each-column-yours-sums-1",
                        "each column of yours sums to 1 in probability, not each row: you normalised over the examples (dim 0). Each row is one "
                        "example's scores, so normalise over the classes, dim 1."))
    if close(got, logits - logits.max(dim=1, keepdim=True).values):
        return (mistake("14.1/shifted-each-row-maximum-but",
                        "you shifted each row by its maximum but stopped there: the shifted logits still need the log of the sum of their "
                        "exponentials subtracted, so that the probabilities sum to 1."))
    return stable_rows_problem(got, logits, expected) or values_mismatch(got, expected, atol=1e-4, rtol=1e-5)


def log_softmax_public():
    small = torch.tensor([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]])
    g = torch.Generator().manual_seed(14)
    return [(small,), (large_logit_rows(5, 4, g, random.Random(14)),)]


def log_softmax_hidden(rng: random.Random):
    """3 batches of 5 to 9 examples and 3 to 7 classes (never square), built by `large_logit_rows`, so that
    no maximum, one maximum for the batch and the log of underflowed probabilities each give inf or nan."""
    cases = []
    while len(cases) < 3:
        batch, classes = rng.randint(5, 9), rng.randint(3, 7)
        if batch != classes:
            cases.append((large_logit_rows(batch, classes, torch_generator(rng), rng),))
    return cases


# 14.2 cross_entropy(logits, targets): the mean negative log-probability of the true classes --------

def cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> float:
    log_probs = torch.log_softmax(logits, dim=1)
    picked = log_probs[torch.arange(len(targets)), targets]
    return (-picked.mean()).item()


def cross_entropy_mistakes(logits: torch.Tensor, targets: torch.Tensor, expected: float) -> list[tuple[float, str]]:
    """The values the known wrong formulas give on this case, each with its hint."""
    n, classes = logits.shape
    log_probs = torch.log_softmax(logits.to(torch.float64), dim=1)
    one_hot = F.one_hot(targets, classes).to(torch.float64)
    return [
        (expected * n, mistake("14.2/loss-times-too-large-number",
                               f"your loss is {shown(n)} times too large, the number of examples: cross-entropy averages "
                               "the examples' losses (F.cross_entropy's default reduction is the mean), it does not add them up.")),
        (-expected, mistake("14.2/sign-flipped-loss-negative-log",
                            "the sign is flipped: the loss is the *negative* log-probability of the true class, so that a confident right answer "
                            "costs almost 0 and a wrong one costs a lot.")),
        (expected / classes, mistake("14.2/loss-times-too-small-number",
                                     f"your loss is {shown(classes)} times too small, the number of classes: you averaged "
                                     "over every entry of the (examples × classes) table, most of them zeros of a one-hot mask. Add up each row, "
                                     "then average over the examples only.")),
        (float(F.cross_entropy(torch.softmax(logits.to(torch.float64), dim=1), targets)),
         mistake("14.2/softmax-was-applied-twice-turned",
                 "softmax was applied twice: you turned the logits into probabilities and then treated those as logits (a log-softmax or "
                 "F.cross_entropy applies its own softmax). Start from the raw logits.")),
        (float(-log_probs[:, targets].mean()),
         mistake("14.2/averaged-block-indexing-columns-whole",
                 f"you averaged {shown(with_article(f'({n}, {n})'))} block: indexing the columns with the whole "
                 "targets tensor takes every target's column for every example. Pair row i with its own target, targets[i]: index the rows with "
                 "0..N-1 and the columns with targets, together.")),
        (float(-(torch.softmax(logits.to(torch.float64), dim=1) * one_hot).sum(1).mean()),
         mistake("14.2/averaged-minus-probability-true-class", "you averaged minus the *probability* of the true class; the loss is minus its *logarithm*.")),
        (float(-torch.log_softmax(logits.to(torch.float64), dim=0)[torch.arange(n), targets].mean()),
         mistake("14.2/log-probabilities-were-normalised-over",
                 "the log-probabilities were normalised over the examples (dim 0); each row is one example, so normalise over the classes, dim 1.")),
    ]


def judge_cross_entropy(got, case, expected):
    logits, targets = case
    if isinstance(got, torch.Tensor) and got.numel() > 1:
        return (mistake("14.2/returned-tensor-shape-loss-per",
                        f"you returned a tensor of shape {shown(tuple(got.shape))}: one loss per example, or more. The "
                        "cross-entropy of a batch is one number, the mean of the examples' losses."))
    miss = not_a_float(got, "your loss")
    if miss:
        return miss
    if abs(got - expected) <= 1e-4 * (1 + abs(expected)):
        return None
    if not math.isfinite(got):
        big = float(logits.max())
        return (mistake("14.2/loss-but-true-value-logits",
                        f"your loss is {shown(got)} but the true value is {shown(expected, '.4f')}: with logits as large as {shown(big, '.0f')}, "
                        f"exp overflows "
                        "(or a probability underflows to 0 before its log). Compute log-probabilities stably, shifting each row by its maximum, and "
                        "never take the log of a probability."))
    return (known_number(got, expected, cross_entropy_mistakes(logits, targets, expected), atol=1e-4, rtol=1e-4)
            or mistake("14.2/returned-expected-cross-entropy-mean",
                       f"you returned {shown(got, '.6g')}, expected {shown(expected, '.6g')}. Cross-entropy is the "
                       "mean over the examples of minus the log-softmax of the logits at the true class."))


def large_logit_case(rng: random.Random, batch: int, classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits and targets where one example's logits are 720 to 1000 (exp overflows, even in float64) and its
    true class sits 120 to 200 below its largest logit (that probability underflows to 0 in float32)."""
    g = torch_generator(rng)
    logits = rng.uniform(1.0, 3.0) * torch.randn(batch, classes, generator=g)
    targets = torch.randint(0, classes, (batch,), generator=g)
    top = rng.randrange(batch)
    logits[top] += rng.uniform(720, 1000)
    logits[top, targets[top]] -= rng.uniform(120, 200)
    return logits, targets


def cross_entropy_public():
    logits = torch.tensor([[2.0, 1.0, 0.1, -1.0], [0.5, 2.5, 0.3, 0.0], [1.2, 0.2, 3.1, 0.4]])
    return [(logits, torch.tensor([0, 3, 2])), large_logit_case(random.Random(14), 6, 4)]


def cross_entropy_hidden(rng: random.Random):
    """3 batches of 6 to 12 examples and 3 to 6 classes (never square) from `large_logit_case`, so an unstable
    loss is inf or nan, and every known wrong formula gives a value apart from the others."""
    cases = []
    while len(cases) < 3:
        batch, classes = rng.randint(6, 12), rng.randint(3, 6)
        if batch == classes:
            continue
        logits, targets = large_logit_case(rng, batch, classes)
        expected = cross_entropy(logits, targets)
        values = [expected] + [value for value, _ in cross_entropy_mistakes(logits, targets, expected)]
        if min(abs(a - b) for i, a in enumerate(values) for b in values[i + 1:]) > 1e-2:
            cases.append((logits, targets))
    return cases


# 14.3 accuracy(logits, targets): the fraction of examples whose largest logit is the true class ----

def accuracy(logits: torch.Tensor, targets: torch.Tensor) -> float:
    predicted = logits.argmax(dim=1)
    return (predicted == targets).float().mean().item()


def accuracy_mistakes(logits: torch.Tensor, targets: torch.Tensor, expected: float) -> list[tuple[float, str]]:
    """The values the known wrong computations give on this case, each with its hint."""
    n = len(targets)
    column = logits.argmax(dim=1, keepdim=True)
    return [
        (expected * n, mistake("14.3/returned-count-number-right-predictions",
                               f"you returned a count: the number of right predictions out of {shown(n)}. "
                               "Accuracy is the fraction, between 0 and 1.")),
        (expected * 100, mistake("14.3/returned-percentage-return-fraction-between", "you returned a percentage; return the fraction, between 0 and 1.")),
        (1 - expected, mistake("14.3/returned-fraction-wrong-predictions-error", "you returned the fraction of *wrong* predictions, the error rate.")),
        (float((column == targets).float().mean()),
         mistake("14.3/predictions-shape-1-met-targets",
                 f"your predictions of shape ({shown(n)}, 1) met targets of shape ({shown(n)},): the comparison broadcast to ({shown(n)}, "
                 f"{shown(n)}) and compared every prediction with every target.{BROADCAST_TRAP}")),
        (float((logits.argmax() == targets).float().mean()),
         mistake("14.3/argmax-without-dim-gives-index",
                 "argmax without a dim gives one index into the flattened tensor, not a class per example: take the argmax over the classes, dim 1.")),
        (float((logits.argmin(dim=1) == targets).float().mean()),
         mistake("14.3/predicted-class-smallest-logit-predicted",
                 "you predicted the class with the *smallest* logit; the predicted class is the one with the largest.")),
    ]


def judge_accuracy(got, case, expected):
    logits, targets = case
    if isinstance(got, torch.Tensor) and got.numel() > 1:
        return (mistake("14.3/returned-tensor-shape-accuracy-number",
                        f"you returned a tensor of shape {shown(tuple(got.shape))}; accuracy is one number for "
                        "the batch. Are the "
                        f"predictions and targets the same shape?{BROADCAST_TRAP}"))
    if type(got) is int:
        got = float(got)  # a count is judged below
    miss = not_a_float(got, "your accuracy")
    if miss:
        return miss
    if abs(got - expected) <= 1e-6:
        return None
    return (known_number(got, expected, accuracy_mistakes(logits, targets, expected), atol=1e-6, spec=".4g")
            or mistake("14.3/returned-expected-prediction-each-example",
                       f"you returned {shown(got, '.6g')}, expected {shown(expected, '.6g')}: the prediction "
                       "for each example is the class of its largest logit; accuracy is the fraction of examples where it equals the target."))


def accuracy_public():
    logits = torch.tensor([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3], [1.2, 0.2, 3.1], [0.3, 0.1, -0.4], [-1.0, 0.4, 0.2]])
    g = torch.Generator().manual_seed(14)
    logits2 = torch.randn(20, 3, generator=g) + 1.5 * F.one_hot(torch.arange(20) % 3, 3)
    return [(logits, torch.tensor([0, 2, 2, 1, 1])), (logits2, torch.arange(20) % 3)]


def accuracy_hidden(rng: random.Random):
    """3 batches of 15 to 40 examples and 3 to 5 classes, accuracy between 0.4 and 0.9, every wrong computation
    giving a value of its own."""
    cases = []
    while len(cases) < 3:
        g = torch_generator(rng)
        batch, classes = rng.randint(15, 40), rng.randint(3, 5)
        targets = torch.randint(0, classes, (batch,), generator=g)
        logits = torch.randn(batch, classes, generator=g) + rng.uniform(1.0, 2.0) * F.one_hot(targets, classes)
        expected = accuracy(logits, targets)
        values = [expected] + [value for value, _ in accuracy_mistakes(logits, targets, expected)]
        if 0.4 <= expected <= 0.9 and min(abs(a - b) for i, a in enumerate(values) for b in values[i + 1:]) > 1e-3:
            cases.append((logits, targets))
    return cases


# 14.4 train_classifier(x, y, weight, bias, lr, steps): full-batch training, the loss before each step

def train_classifier(x: torch.Tensor, y: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, lr: float,
                     steps: int) -> list[float]:
    w = weight.clone().requires_grad_()
    b = bias.clone().requires_grad_()
    optimizer = optim.SGD([w, b], lr=lr)
    curve = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.cross_entropy(x @ w.T + b, y)
        curve.append(loss.item())
        loss.backward()
        optimizer.step()
    return curve


TRAINING_MISTAKES = ("not zeroed", "summed", "softmax first")


def training_variant(x, y, weight, bias, lr, steps, mistake: str) -> list[float]:
    """The losses of a training run with one known mistake (one of TRAINING_MISTAKES): gradients not zeroed,
    a loss N times the mean, or softmax applied to the logits before the cross-entropy. There is no run
    without a mistake: the student release ships this function, and it must not compute 14.4's answer."""
    if mistake not in TRAINING_MISTAKES:
        raise ValueError(f"mistake must be one of {TRAINING_MISTAKES}, not {mistake!r}")
    zero, scale, softmax_first = mistake != "not zeroed", float(len(y)) if mistake == "summed" else 1.0, mistake == "softmax first"
    w, b = weight.clone(), bias.clone()
    grad_w, grad_b = torch.zeros_like(w), torch.zeros_like(b)
    losses = []
    for _ in range(steps):
        w_, b_ = w.clone().requires_grad_(), b.clone().requires_grad_()
        scores = x @ w_.T + b_
        if softmax_first:
            scores = torch.softmax(scores, dim=1)
        loss = F.cross_entropy(scores, y)
        losses.append(loss.item())
        new_w, new_b = torch.autograd.grad(loss * scale, (w_, b_))
        grad_w, grad_b = (grad_w + new_w, grad_b + new_b) if not zero else (new_w, new_b)
        w, b = w - lr * grad_w, b - lr * grad_b
    return losses


def judge_train_classifier(got, case, expected):
    x, y, weight, bias, lr, steps = case
    miss = not_a_loss_history(got, steps, "your list", "step")
    if miss:
        return miss
    if any(not math.isfinite(v) for v in got):
        return mistake("14.4/losses-hold-inf-nan-learning", "your losses hold inf or nan: at this learning rate the mean cross-entropy's training is stable.")

    def same(values):
        return len(values) == len(got) and all(abs(a - b) <= 1e-4 * (1 + abs(b)) for a, b in zip(got, values, strict=True))

    if same(expected):
        return None
    if steps > 1 and same(expected[1:] + [got[-1]]):
        return mistake("14.4/losses-one-step-ahead",
                       "your losses are one step ahead: each is measured after its step's update. Record the loss of the forward pass that the "
                       "step's backward() differentiates, before the update.")
    summed = training_variant(x, y, weight, bias, lr, steps, "summed")
    if same([len(y) * loss for loss in summed]) or same(summed):
        return (mistake("14.4/steps-times-too-large-number",
                        f"your steps are {shown(len(y))} times too large, the number of examples: the loss must be the "
                        "batch's mean cross-entropy, not its sum."))
    known = [
        ("softmax first", mistake("14.4/softmax-applied-twice",
                                  "softmax was applied twice: F.cross_entropy takes the raw logits (it applies its own softmax); probabilities fed "
                                  "to it as logits give another loss, one that cannot reach 0.")),
        ("not zeroed", mistake("14.4/gradients-never-zeroed",
                               "the gradients were never zeroed: each backward() adds to .grad, so every step uses the sum of all gradients so far. "
                               "Zero them once per step, before backward().")),
    ]
    for variant, hint in known:
        if same(training_variant(x, y, weight, bias, lr, steps, variant)):
            return hint
    if abs(got[0] - expected[0]) > 1e-4 * (1 + abs(expected[0])):
        return (mistake("14.4/first-loss-expected-before-any",
                        f"your first loss is {shown(got[0], '.4f')}, expected {shown(expected[0], '.4f')}: before any "
                        "update, the loss is the mean cross-entropy of the logits x @ weight.T + bias against the class indices y, at the given "
                        "weight and bias."))
    return (mistake("14.4/first-loss-right-but-later",
                    f"your first loss is right but later ones differ (step 1: {shown(got[1], '.4f')}, expected {shown(expected[1], '.4f')}): each "
                    f"step is one plain gradient-descent update with lr = {shown(lr, 'g')} of weight and bias, from gradients "
                    "zeroed before backward()."))


def classifier_data(g: torch.Generator, n: int, classes: int, features: int) -> tuple[torch.Tensor, torch.Tensor]:
    """n points in `classes` overlapping clusters, standardised-looking: features (n, features), labels (n,)."""
    y = torch.arange(n) % classes
    centres = 1.5 * torch.randn(classes, features, generator=g)
    x = centres[y] + torch.randn(n, features, generator=g)
    order = torch.randperm(n, generator=g)
    return x[order], y[order]


def train_classifier_public():
    g = torch.Generator().manual_seed(14)
    x, y = classifier_data(g, 30, 3, 2)
    weight, bias = 0.1 * torch.randn(3, 2, generator=g), torch.zeros(3)
    return [(x, y, weight, bias, 0.5, 12)]


def train_classifier_hidden(rng: random.Random):
    """2 data sets of 30 to 60 points in 3 or 4 clusters, 2 features, a small random start, lr 0.3 to 0.8 and
    10 to 20 steps: softmax first, unzeroed gradients and a sum loss each give other losses from step 0 or 1 on."""
    cases = []
    for _ in range(2):
        g = torch_generator(rng)
        classes = rng.randint(3, 4)
        x, y = classifier_data(g, rng.randint(30, 60), classes, 2)
        weight, bias = 0.5 * torch.randn(classes, 2, generator=g), 0.1 * torch.randn(classes, generator=g)
        cases.append((x, y, weight, bias, round(rng.uniform(0.3, 0.8), 2), rng.randint(10, 20)))
    return cases


EXERCISES = [
    Exercise("14.1", "log_softmax", 2, log_softmax, log_softmax_public, log_softmax_hidden, judge_log_softmax,
             "subtracting each row's maximum and staying in log space keeps every exponent at or below 0: no overflow, "
             "and no probability underflows before its log (the log-sum-exp trick)."),
    Exercise("14.2", "cross_entropy", 2, cross_entropy, cross_entropy_public, cross_entropy_hidden, judge_cross_entropy,
             "the mean over the examples of minus the log-probability of each one's true class, from stable "
             "log-probabilities: what F.cross_entropy computes from logits and class indices."),
    Exercise("14.3", "accuracy", 1, accuracy, accuracy_public, accuracy_hidden, judge_accuracy,
             "the argmax over the classes (dim 1) is each example's prediction, and the mean of the matches is the accuracy."),
    Exercise("14.4", "train_classifier", 3, train_classifier, train_classifier_public, train_classifier_hidden,
             judge_train_classifier,
             "zero_grad, forward, cross-entropy on the raw logits, backward, step: every loss matches, recorded before its "
             "update."),
]
