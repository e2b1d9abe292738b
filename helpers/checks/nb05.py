"""Exercises of notebook 05 (gradients and gradient descent)."""

from __future__ import annotations

import functools
import math
import random

import torch

from helpers.checks import judges
from helpers.checks.core import Exercise, describe, shown, torch_generator
from helpers.checks.hints import mistake
from helpers.checks.judges import RETURNED_NONE, device_mismatch, dtype_mismatch, not_a_tensor, same_numbers, shape_mismatch, tensor_like, values_mismatch

# Each judgement here names its own rtol (how far off a float32 or a wrong formula lands); atol only where it says so.
close = functools.partial(judges.close, atol=0.0)


def largest_relative_error(got: torch.Tensor, want: torch.Tensor) -> float:
    have, want = got.detach().cpu().to(torch.float64), want.detach().cpu().to(torch.float64)
    return float(((have - want).abs() / want.abs().clamp_min(1e-300)).max())


def looks_float32(got: torch.Tensor, expected: torch.Tensor) -> bool:
    """Off by more than float64 rounding allows here, yet by less than half: the mark of a float32 computation."""
    return 1e-8 < largest_relative_error(got, expected) < 0.5


def float32_hint(got: torch.Tensor, expected: torch.Tensor) -> str:
    worst = largest_relative_error(got, expected)
    said = ("your result is float32" if got.dtype == torch.float32 else
            "they look computed in float32")
    return (mistake("05/estimates-off-up-relative-far",
                    f"your estimates are off by up to {shown(worst, '.1e')} (relative), far more than float64 rounding allows: {said}, "
                    "which torch.tensor makes from Python floats by default. In float32 the two values of f whose difference you take agree in most "
                    "of their ~7 significant digits, so the difference is mostly rounding noise; make the tensor float64."))


# 05.1 cross_entropy(y, p): mean over the examples of -sum over the classes of y log p -------

def cross_entropy(y: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    return -(y * torch.log(p)).sum(dim=1).mean()


def judge_cross_entropy(got, case, expected):
    y, p = case
    n, c = y.shape
    miss = not_a_tensor(got) or device_mismatch(got, expected)
    if miss:
        return miss
    if got.shape == (n, c):
        sign = ""
        if got.dtype.is_floating_point and float(got.detach().max()) <= 0:
            sign = " Mind the sign too: log p is never positive, so every term y·log p is ≤ 0 and the loss needs a minus in front."
        return (mistake("05.1/returned-tensor-shape-term-per",
                        f"you returned a tensor of shape ({shown(n)}, {shown(c)}), one term per example and class: "
                        "cross-entropy adds the terms up over "
                        f"the classes (one loss per example) and then averages those over the {shown(n)} examples, giving one number.{sign}"))
    if got.shape == (n,):
        return mistake("05.1/returned-numbers-loss-per-example",
                       f"you returned {shown(n)} numbers, one loss per example: the batch's loss is their mean, a "
                       "single number.")
    if got.shape == (c,):
        return (mistake("05.1/returned-numbers-per-class-added",
                        f"you returned {shown(c)} numbers, one per class: you added up over the examples (dim=0). Add "
                        "up over the classes (dim=1) for each example's loss, then average over the examples."))
    miss = shape_mismatch(got, expected) or dtype_mismatch(got, expected)
    if miss:
        return miss
    value, want = float(got), float(expected)
    near = lambda model: math.isclose(value, model, rel_tol=1e-4, abs_tol=1e-6)  # noqa: E731
    if near(-want) or value < 0:
        return (mistake("05.1/loss-negative-log-p-never",
                        f"your loss is {shown(value, '.4f')}, negative: log p is never positive, so the sum of y·log p is ≤ "
                        "0. Cross-entropy is minus that sum, so it is ≥ 0 and falls as the true class's probability rises; without the minus, "
                        "lowering the loss would push that probability down."))
    if near(n * want):
        return (mistake("05.1/loss-times-expected-added-up",
                        f"your loss is {shown(n)} times the expected one ({shown(want, '.4f')}): you added up the {shown(n)} examples' losses. "
                        f"Average them "
                        "(mean), so the loss does not grow with the batch size."))
    if near(want / c):
        return (mistake("05.1/loss-expected-divided-number-classes",
                        f"your loss is the expected one ({shown(want, '.4f')}) divided by the number of classes, {shown(c)}: you averaged over the "
                        "classes too. Add up over the classes; average only over the examples."))
    if near(want / math.log(10)):
        return mistake("05.1/loss-expected-divided-ln-10",
                       "your loss is the expected one divided by ln 10: you used the base-10 logarithm; cross-entropy uses the natural log, "
                       "torch.log.")
    if near(float(-torch.log(p.to(torch.float64)).sum(dim=1).mean())):
        return (mistake("05.1/added-up-log-p-over",
                        "you added up log p over every class: only the true class should count, and y (1 for the true class, 0 elsewhere) is what "
                        "picks it out."))
    return values_mismatch(got, expected, atol=1e-6, rtol=1e-4)


def one_hot_batch(generator: torch.Generator, n: int, c: int) -> tuple[torch.Tensor, torch.Tensor]:
    """One-hot labels y (n, c) and predicted probabilities p (n, c), each row of p summing to 1."""
    labels = torch.randint(0, c, (n,), generator=generator)
    y = torch.zeros(n, c)
    y[torch.arange(n), labels] = 1.0
    p = torch.softmax(torch.randn(n, c, generator=generator) * 1.5, dim=1)
    return y, p


def cross_entropy_public():
    y = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    p = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    return [(y, p), one_hot_batch(torch.Generator().manual_seed(5), 4, 5)]


def cross_entropy_hidden(rng: random.Random):
    """Batches with N != C (both at least 3), so a sum over the wrong axis or a mean over both shows."""
    generator = torch_generator(rng)
    cases = []
    for _ in range(3):
        n, c = rng.sample(range(3, 9), 2)
        cases.append(one_hot_batch(generator, n, c))
    return cases


# 05.2 central_difference_x5(x, h): (f(x + h) - f(x - h)) / 2h for f(x) = x^5, in float64 ------

def central_difference_x5(x: list, h: float) -> torch.Tensor:
    x = torch.tensor(x, dtype=torch.float64)
    return ((x + h) ** 5 - (x - h) ** 5) / (2 * h)


def float64_result_problem(got, expected) -> str | None:
    """The hint for a result that is not a tensor like `expected` in float64 (float32 gets its own), or None."""
    miss = tensor_like(got, expected)
    if miss:
        return miss
    if got.dtype == torch.float32:
        return float32_hint(got, expected)
    return dtype_mismatch(got, expected)


def denominator_slip(got: torch.Tensor, expected: torch.Tensor, h: float, what: str) -> str | None:
    """The hint for a central difference over h instead of 2h, or over `2 * h` written as `/ 2 * h` (05.2 and
    05.3 both divide by 2h); `what` names the result's numbers ("estimates", "entries"). None for neither."""
    if close(got, 2 * expected, rtol=1e-6):
        return mistake("05/divided-by-h-not-2h",
                       f"your {what} are twice the expected ones: the two points where you evaluate f are 2h apart, so divide the difference by "
                       "2h, not h.")
    if close(got, expected * h * h, rtol=1e-6):
        return mistake("05/divided-by-2-times-h",
                       f"your {what} are h² times too small: `/ 2 * h` divides by 2 and then multiplies by h. Put the whole denominator 2h in "
                       "parentheses.")
    return None


def judge_central_difference(got, case, expected):
    x, h = case
    miss = float64_result_problem(got, expected)
    if miss:
        return miss
    points = torch.tensor(x, dtype=torch.float64)
    if close(got, expected, rtol=1e-8):
        return None
    if close(got, -expected, rtol=1e-6):
        return (mistake("05.2/every-estimate-has-wrong-sign",
                        "every estimate has the wrong sign: the central difference is f at the point to the right (x + h) minus f at the point to "
                        "the left (x - h), over the distance between them."))
    miss = denominator_slip(got, expected, h, "estimates")
    if miss:
        return miss
    if close(got, ((points + h) ** 5 - points**5) / h, rtol=1e-8):
        return (mistake("05.2/forward-difference-f-x-h",
                        "that is the forward difference (f(x + h) - f(x)) / h: step h to both sides of x and divide by the distance 2h; the central "
                        "difference's error shrinks like h², the forward one's only like h."))
    if close(got, 5 * points**4, rtol=1e-10):
        return (mistake("05.2/returned-exact-derivative-5x-exercise",
                        "you returned the exact derivative 5x⁴; the exercise asks for the central-difference estimate, which with "
                        f"h = {shown(h, 'g')} differs from it (that error is what the exercise is about): "
                        "compute it from f at x + h and x - h."))
    if looks_float32(got, expected):
        return float32_hint(got, expected)
    return values_mismatch(got, expected, atol=0.0, rtol=1e-8)


def central_difference_public():
    return [([0.5, 1.0, 2.0, 3.0], 1e-6), ([1.5, 2.5], 1e-3)]


def central_difference_hidden(rng: random.Random):
    """Five points in [0.5, 3] and h from 1e-3 to 5e-3: big enough that the central difference differs
    from the exact derivative and float32 rounding is visible, small enough to tell central from forward."""
    return [([round(rng.uniform(0.5, 3.0), 2) for _ in range(5)], rng.choice([1e-3, 2e-3, 5e-3])) for _ in range(3)]


# 05.3 numeric_gradient(w, h): the gradient of f(w) = (10 - (1 w0 + 2 w1 + ... + n w_{n-1}))², one input at a time

def numeric_gradient(w: list, h: float) -> torch.Tensor:
    w = torch.tensor(w, dtype=torch.float64)
    weights = torch.arange(1, len(w) + 1, dtype=torch.float64)

    def f(v):
        return (10 - (weights * v).sum()) ** 2

    grad = torch.zeros_like(w)
    for i in range(len(w)):
        step = torch.zeros_like(w)
        step[i] = h
        grad[i] = (f(w + step) - f(w - step)) / (2 * h)
    return grad


def judge_numeric_gradient(got, case, expected):
    w, h = case
    miss = float64_result_problem(got, expected)
    if miss:
        return miss
    if close(got, expected, rtol=1e-8, atol=1e-9):
        return None
    n = len(w)
    if close(got, torch.full((n,), float(expected.sum())), rtol=1e-6):
        return (mistake("05.3/every-entry-same-number-sum",
                        "every entry is the same number, the sum of all the partial derivatives: you nudged all the inputs at once. A partial "
                        "derivative nudges one input and holds the others fixed: one nudge per entry."))
    if close(got, -expected, rtol=1e-6):
        return mistake("05.3/every-entry-has-wrong-sign",
                       "every entry has the wrong sign: take f at w + h·e_i minus f at w - h·e_i (right minus left), over 2h.")
    miss = denominator_slip(got, expected, h, "entries")
    if miss:
        return miss
    weights = torch.arange(1, n + 1, dtype=torch.float64)
    forward = expected + h * weights**2  # f is quadratic: a forward difference is off by h/2 times its curvature 2 i²
    if close(got, forward, rtol=1e-6):
        return mistake("05.3/forward-difference-f-w-h",
                       "that is the forward difference (f(w + h·e_i) - f(w)) / h: nudge each input to both sides and divide by 2h.")
    if looks_float32(got, expected):
        return float32_hint(got, expected)
    return values_mismatch(got, expected, atol=1e-9, rtol=1e-8)


def numeric_gradient_public():
    return [([0.5, -1.0, 2.0], 1e-3), ([1.0, 1.0], 1e-4), ([0.25, 0.5, -0.5, 1.0], 1e-3)]


def numeric_gradient_hidden(rng: random.Random):
    """3 to 6 inputs, with the residual 10 - sum i·w_i at least 2 away from 0 so no partial is near 0."""
    cases = []
    while len(cases) < 3:
        w = [round(rng.uniform(-1.0, 1.0), 2) for _ in range(rng.randint(3, 6))]
        if abs(10 - sum((i + 1) * v for i, v in enumerate(w))) >= 2:
            cases.append((w, rng.choice([1e-3, 1e-4])))
    return cases


# 05.4 descend(w0, lr, steps): gradient descent on L(w) = (w - 3)², whose derivative is 2(w - 3) --------

def descend(w0: float, lr: float, steps: int) -> list:
    path = [w0]
    w = w0
    for _ in range(steps):
        w = w - lr * 2 * (w - 3)
        path.append(w)
    return path


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def run_model(w0: float, steps: int, update) -> list:
    path = [w0]
    for k in range(steps):
        path.append(update(path[-1], k))
    return path


# Two descent paths (lists of Python floats) agree step for step.
paths_close = functools.partial(same_numbers, rel_tol=1e-6, abs_tol=1e-6)


def judge_descend(got, case, expected):
    w0, lr, steps = case
    if type(got) is torch.Tensor:
        return mistake("05.4/returned-tensor-return-python-list",
                       f"you returned a tensor ({describe(got)}); return a Python list of floats (.tolist() "
                       "converts a tensor).")
    if is_number(got):
        return (mistake("05.4/returned-number-return-whole-path",
                        f"you returned one number, {shown(got, 'g')}; return the whole path as a list: w0 first, "
                        "then w after each "
                        f"step ({shown(steps + 1)} values)."))
    if got is None:
        return RETURNED_NONE
    if type(got) not in (list, tuple):
        return mistake("05.4/not-a-list", f"you returned {describe(got)}; return a Python list of floats.")
    if got and all(type(v) is torch.Tensor and v.numel() == 1 for v in got):
        return mistake("05.4/list-holds-tensors-store-python", "your list holds tensors; store Python floats in it (.item() converts a one-element tensor).")
    if not all(is_number(v) for v in got):
        bad = next(v for v in got if not is_number(v))
        return mistake("05.4/list-holds-should-hold-only", f"your list holds {describe(bad)}; it should hold only Python floats.")
    got = [float(v) for v in got]
    if not all(math.isfinite(v) for v in got):
        return mistake("05.4/path-reaches-inf-nan-w", "your path reaches inf or nan: w runs away from the minimum — check the direction of the step.")
    if len(got) == steps and paths_close(got, expected[1:]):
        return mistake("05.4/path-has-values-skips-start",
                       f"your path has {shown(steps)} values and skips the start: put w0 first, then one value per step ({shown(steps + 1)} in all).")
    if len(got) != steps + 1:
        return mistake("05.4/path-has-values-expected-w0",
                       f"your path has {shown(len(got))} values; expected {shown(steps + 1)}: w0, then w after each of the {shown(steps)} steps.")
    if paths_close(got, expected):
        return None
    uphill = run_model(w0, steps, lambda w, k: w + lr * 2 * (w - 3))
    if paths_close(got, uphill) or abs(got[-1] - 3) > abs(w0 - 3):
        return (mistake("05.4/w-moves-away-minimum-w",
                        "your w moves away from the minimum at w = 3: a step along +gradient climbs the loss. Subtract the learning rate times the "
                        "gradient."))
    stale = run_model(w0, steps, lambda w, k: w0 - (k + 1) * lr * 2 * (w0 - 3))
    if paths_close(got, stale):
        return (mistake("05.4/every-step-moves-w-same",
                        "every step moves w by the same amount: you used the gradient at the starting point for every step. Compute the gradient "
                        "again at the current w before each step; it shrinks as w nears the minimum."))
    if paths_close(got, run_model(w0, steps, lambda w, k: w - 2 * (w - 3))):
        return mistake("05.4/steps-leave-out-learning-rate",
                       "your steps leave out the learning rate: each step moves w by the learning rate times the gradient.")
    if paths_close(got, run_model(w0, steps, lambda w, k: w - lr * (w - 3))):
        return mistake("05.4/steps-half-long-they-should", "your steps are half as long as they should be: the derivative of (w - 3)² is 2(w - 3), not w - 3.")
    first = next(k for k, (a, b) in enumerate(zip(got, expected, strict=True)) if not math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-6))
    return mistake("05.4/w-after-step-expected", f"w after step {shown(first)} is {shown(got[first], '.6g')}, expected {shown(expected[first], '.6g')}.")


def descend_public():
    return [(0.0, 0.1, 5), (5.0, 0.25, 4), (-2.0, 0.05, 10)]


def descend_hidden(rng: random.Random):
    """Starts at least 1 away from the minimum w = 3, learning rates from 0.05 to 0.3, 5 to 15 steps."""
    cases = []
    for _ in range(3):
        w0 = round(3 + rng.choice([-1, 1]) * rng.uniform(1.0, 6.0), 2)
        cases.append((w0, round(rng.uniform(0.05, 0.3), 3), rng.randint(5, 15)))
    return cases


EXERCISES = [
    Exercise("05.1", "cross_entropy", 2, cross_entropy, cross_entropy_public, cross_entropy_hidden, judge_cross_entropy,
             "minus the sum over the classes of y·log p for each example, then the mean over the batch: that is cross-entropy."),
    Exercise("05.2", "central_difference_x5", 2, central_difference_x5, central_difference_public, central_difference_hidden,
             judge_central_difference,
             "in float64 the central difference is accurate to about 10 digits here; in float32 the same formula with a tiny h is mostly rounding noise."),
    Exercise("05.3", "numeric_gradient", 2, numeric_gradient, numeric_gradient_public, numeric_gradient_hidden,
             judge_numeric_gradient,
             "one nudge per input, the others held fixed: each entry is one partial derivative, and together they are the gradient."),
    Exercise("05.4", "descend", 2, descend, descend_public, descend_hidden, judge_descend,
             "each step recomputes the slope 2(w - 3) at the new w and moves against it, so the steps shrink as w nears 3."),
]
