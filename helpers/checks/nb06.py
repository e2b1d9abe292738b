"""Exercises of notebook 06 (derivative rules, the chain rule, partial derivatives)."""

from __future__ import annotations

import functools
import math
import random

import torch

from helpers.checks import judges
from helpers.checks.core import Exercise, torch_generator
from helpers.checks.hints import Hint, mistake, mistake_of
from helpers.checks.judges import judges_numbers, known_answer, not_a_tuple, tensor_mismatch, values_mismatch

# The derivatives here are float64 formulas: a right one agrees to float64 rounding.
close = functools.partial(judges.close, rtol=1e-9, atol=1e-12)


def points(generator: torch.Generator, n: int, low: float, high: float, avoid: tuple = (), gap: float = 0.1) -> torch.Tensor:
    """n float64 points drawn uniformly from [low, high), each at least `gap` away from every value in `avoid`."""
    chosen = []
    while len(chosen) < n:
        x = low + (high - low) * float(torch.rand((), generator=generator, dtype=torch.float64))
        if all(abs(x - a) >= gap for a in avoid):
            chosen.append(round(x, 3))
    return torch.tensor(chosen, dtype=torch.float64)


ADDED = mistake("06/chain-rule-added",
                "you added the local derivatives along the chain; the chain rule multiplies them: the outer slope, taken at the inner value, times "
                "the inner slope.")


# 06.1 rule_derivatives(x): the derivatives of 2x³, 3eˣ and 4 ln x at the points x ---------------

def rule_derivatives(x: torch.Tensor) -> tuple:
    return 6 * x**2, 3 * torch.exp(x), 4 / x


RULE_NAMES = ("2x³", "3eˣ", "4 ln x")


def judge_rule_derivatives(got, case, expected):
    (x,) = case
    miss = not_a_tuple(got, 3, "a tuple of 3 tensors: the derivatives of 2x³, 3eˣ and 4 ln x, in that order")
    if miss:
        return miss
    mistakes = [
        [(2 * x**3, mistake("06.1/2x-itself-functions-value-slope",
                            "that is 2x³ itself, the function's value, not its slope: the power rule brings the exponent down in front and lowers "
                            "the power by one.")),
         (6 * x**3, mistake("06.1/brought-3-down-but-kept", "you brought the 3 down but kept the power 3: the power rule also lowers the exponent by one.")),
         (2 * x**2, mistake("06.1/lowered-power-but-did-bring", "you lowered the power but did not bring the old exponent, 3, down as a factor.")),
         (4 * x**2, mistake("06.1/factor-comes-down-old-exponent", "the factor that comes down is the old exponent, 3, not the new one.")),
         (3 * x**2, mistake("06.1/constant-2-stays-derivative-2", "the constant 2 stays: the derivative of 2 times a function is 2 times its derivative."))],
        [(torch.exp(x), mistake("06.1/constant-3-stays-derivative-3", "the constant 3 stays: the derivative of 3 times a function is 3 times its derivative.")),
         (3 * x * torch.exp(x - 1), mistake("06.1/e-power-x-power-rule",
                                            "eˣ is not a power of x, so the power rule does not apply: eˣ is its own derivative."))],
        [(4 * torch.log(x), mistake("06.1/4-ln-x-itself-functions", "that is 4 ln x itself, the function's value: the derivative of ln x is 1/x.")),
         (1 / x, mistake("06.1/constant-4-stays-derivative-4", "the constant 4 stays: the derivative of 4 ln x is 4 times the derivative of ln x.")),
         (-4 / x**2, mistake("06.1/derivative-4-x-4-ln", "that is the derivative of 4/x, not of 4 ln x: the derivative of ln x is 1/x."))],
    ]
    for name, answer, want, models in zip(RULE_NAMES, got, expected, mistakes, strict=True):
        miss = tensor_mismatch(answer, want, atol=1e-12, rtol=1e-9)
        if miss is None:
            continue
        if type(answer) is torch.Tensor and answer.device.type == "cpu" and answer.dtype == want.dtype:
            for model, hint in models:
                if close(answer, model):
                    return Hint(f"the derivative of {name}: {hint}", mistake_of(hint))
        return Hint(f"the derivative of {name}: {miss}", mistake_of(miss))
    return None


def rule_public():
    return [(torch.tensor([0.5, 2.0, 2.5], dtype=torch.float64),), (torch.tensor([0.25, 1.5], dtype=torch.float64),)]


def rule_hidden(rng: random.Random):
    """Five points in [0.3, 2.8], away from where a wrong formula meets the right one (1, 1.763, e)."""
    generator = torch_generator(rng)
    return [(points(generator, 5, 0.3, 2.8, avoid=(1.0, 1.763, math.e)),) for _ in range(3)]


# 06.2 steep_sigmoid_derivative(x): the slope of g(x) = 1 / (1 + e^(-2x)), the sigmoid at 2x ----------

def steep_sigmoid_derivative(x: torch.Tensor) -> torch.Tensor:
    g = 1 / (1 + torch.exp(-2 * x))
    return 2 * g * (1 - g)


def judge_steep_sigmoid_derivative(got, case, expected):
    (x,) = case
    miss = tensor_mismatch(got, expected, atol=1e-12, rtol=1e-9)
    if miss is None:
        return None
    if type(got) is not torch.Tensor or got.device.type != "cpu" or got.shape != expected.shape or got.dtype != expected.dtype:
        return miss
    g, s = torch.sigmoid(2 * x), torch.sigmoid(x)  # the function and the plain sigmoid, to recognise wrong slopes
    models = [
        (-expected, mistake("06.2/every-value-has-wrong-sign",
                            "every value has the wrong sign: g only rises, so its slope is positive. Follow the minus signs through the chain: the "
                            "outer power -1 gives one, the inner -2x gives another.")),
        (expected / 2, mistake("06.2/slopes-half-expected-ones-used",
                               "your slopes are half the expected ones: you used the sigmoid's slope at 2x but left out the derivative of the inner "
                               "function 2x. The chain rule multiplies it in.")),
        (2 * s * (1 - s), mistake("06.2/took-sigmoids-slope-x-g",
                                  "you took the sigmoid's slope at x: g is the sigmoid evaluated at 2x, so its slope must be taken at 2x too.")),
        (s * (1 - s), mistake("06.2/plain-sigmoids-slope-x-g",
                              "that is the plain sigmoid's slope at x: g is the sigmoid at 2x, so take the slope at 2x, and the chain rule adds the "
                              "inner function's derivative as a factor.")),
        (g, mistake("06.2/value-not-slope", "that is g itself, not its slope.")),
        (1 - g, mistake("06.2/outer-step-wrong-derivative-1",
                        "the outer step is wrong: the derivative of a^(-1) is -a^(-2), so the power goes from -1 to -2.")),
        (expected / 2 + 2, ADDED),
    ]
    for model, hint in models:
        if close(got, model):
            return hint
    return miss


def steep_sigmoid_public():
    return [(torch.tensor([-1.0, 0.25, 0.5, 1.5], dtype=torch.float64),), (torch.linspace(-2, 2, 9, dtype=torch.float64),)]


def steep_sigmoid_hidden(rng: random.Random):
    """Six points in [-2, 2], away from 0 (where some wrong formulas happen to agree with the slope)."""
    generator = torch_generator(rng)
    return [(points(generator, 6, -2.0, 2.0, avoid=(0.0,), gap=0.2),) for _ in range(3)]


# 06.3 line_partials(x, w, b, y): ∂L/∂w and ∂L/∂b of L = (y - (wx + b))² ------------------------

def line_partials(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor, y: torch.Tensor) -> tuple:
    residual = y - (w * x + b)
    return -2 * x * residual, -2 * residual


def judge_line_partials(got, case, expected):
    x, w, b, y = case
    miss = not_a_tuple(got, 2, "a tuple of 2 tensors: ∂L/∂w and ∂L/∂b, in that order")
    if miss:
        return miss
    for answer, want in zip(got, expected, strict=True):
        miss = tensor_mismatch(answer, want, atol=1e-12, rtol=1e-9)
        if miss and not (type(answer) is torch.Tensor and answer.device.type == "cpu" and answer.shape == want.shape and answer.dtype == want.dtype):
            return miss
    (got_w, got_b), (want_w, want_b) = got, expected
    if close(got_w, want_w) and close(got_b, want_b):
        return None
    r = y - (w * x + b)
    if close(got_w, want_b) and close(got_b, want_w):
        return mistake("06.3/two-partials-swapped-first-respect",
                       "your two partials are swapped: the first is with respect to w, the second with respect to b.")
    pairs = [((2 * x * r, 2 * r), mistake("06.3/signs-flipped-y-wx-b",
                                          "the signs are flipped: y - (wx + b) falls as w or b grows, so its inner derivatives are negative, and "
                                          "the chain rule multiplies them in, minus sign included.")),
             ((2 * r, 2 * r), mistake("06.3/differentiated-outer-square-but-inside",
                                      "you differentiated the outer square but not the inside: the chain rule multiplies 2(y - (wx + b)) by the "
                                      "derivative of the inside with respect to the variable you are after.")),
             ((-2 * r, -2 * r), mistake("06.3/l-w-inside-y-wx",
                                        "∂L/∂w: the inside y - (wx + b) changes with w at the rate -x, not -1; only for b is the inner derivative "
                                        "-1.")),
             ((-x * r, -r), mistake("06.3/partials-half-expected-ones-derivative",
                                    "your partials are half the expected ones: the derivative of a square u² is 2u, so a factor 2 comes down."))]
    for (model_w, model_b), hint in pairs:
        if close(got_w, model_w) and close(got_b, model_b):
            return hint
    if not close(got_w, want_w):
        if close(got_w, -2 * w * r):
            return (mistake("06.3/l-w-differentiated-respect-x",
                            "∂L/∂w: you differentiated with respect to x. In ∂L/∂w, w is the variable and x, b and y are held fixed as constants, "
                            "so the inner derivative is that of wx + b with respect to w."))
        return mistake("06.3/dw-differs", f"∂L/∂w: {values_mismatch(got_w, want_w, atol=1e-12, rtol=1e-9)}")
    if close(got_b, -2 * w * r) or close(got_b, -2 * x * r):
        return mistake("06.3/l-b-differentiated-respect-another",
                       "∂L/∂b: you differentiated with respect to another variable: in ∂L/∂b only b varies, and b enters the inside with factor 1.")
    return mistake("06.3/db-differs", f"∂L/∂b: {values_mismatch(got_b, want_b, atol=1e-12, rtol=1e-9)}")


def line_cases(generator: torch.Generator, n: int) -> tuple:
    """x, w, b, y (float64, shape (n,)) with |x| away from 0 and 1, w far from ±x, and the residual away from 0."""
    def signed(low, high):
        sizes = points(generator, n, low, high, avoid=(1.0,), gap=0.2)
        signs = torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0).to(torch.float64)
        return sizes * signs
    while True:
        x, w, b = signed(0.5, 3.0), signed(0.5, 3.0), points(generator, n, -2.0, 2.0)
        y = points(generator, n, -4.0, 4.0)
        if bool(((x - w).abs() > 0.3).all() and ((x + w).abs() > 0.3).all() and ((y - (w * x + b)).abs() > 0.5).all()):
            return x, w, b, y


def line_public():
    x = torch.tensor([2.0, -1.5, 0.5], dtype=torch.float64)
    w = torch.tensor([3.0, 2.0, -4.0], dtype=torch.float64)
    b = torch.tensor([0.5, -1.0, 1.0], dtype=torch.float64)
    y = torch.tensor([1.0, 2.0, 1.0], dtype=torch.float64)
    return [(x, w, b, y), line_cases(torch.Generator().manual_seed(6), 5)]


def line_hidden(rng: random.Random):
    """Points with w far from ±x (so a derivative with respect to x shows) and |x| away from 1 (so a lost factor x shows)."""
    generator = torch_generator(rng)
    return [line_cases(generator, 5) for _ in range(3)]


# 06.4 k_partials(a, b, c): ∂K/∂a, ∂K/∂b, ∂K/∂c for K = (a + bc)², as Python floats ---------------

def k_partials(a: float, b: float, c: float) -> tuple:
    u = a + b * c
    return 2 * u, 2 * u * c, 2 * u * b


K_NAMES = ["∂K/∂a", "∂K/∂b", "∂K/∂c"]


@judges_numbers(K_NAMES, container=tuple)
def judge_k_partials(got, case, expected):
    a, b, c = case
    u = a + b * c
    return known_answer(got, [
        ((2 * u, 2 * u * b, 2 * u * c),
         mistake("06.4/k-b-k-c-swapped",
                 "∂K/∂b and ∂K/∂c are swapped: when you differentiate bc with respect to b, b is the variable and c a constant factor (and "
                 "the other way round for c).")),
        ((1.0, c, b), mistake("06.4/outer-step-missing-k-u", "the outer step is missing: K = u², and dK/du multiplies every path from K down to a, b and c.")),
        ((2 * u, 2 * u + c, 2 * u + b), ADDED),
        ((2.0, 2.0 * c, 2.0 * b), mistake("06.4/outer-step-off-derivative-u", "the outer step is off: the derivative of u² with respect to u is 2u, not 2.")),
        ((2 * u, 2 * u, 2 * u),
         mistake("06.4/stopped-u-v-bc-still",
                 "you stopped at u: v = bc still depends on b and on c, so its local derivatives join the product on the paths to b and c.")),
    ])


def k_public():
    return [(2.0, 5.0, -1.5), (1.0, -2.0, 4.0)]


def k_hidden(rng: random.Random):
    """b and c at least 0.5 apart and away from 0 and ±1; u = a + bc away from 0, 0.5 and 1, so every slip shows."""
    cases = []
    while len(cases) < 3:
        a, b, c = (round(rng.uniform(-4, 4), 2) for _ in range(3))
        u = a + b * c
        if (abs(b - c) >= 0.5 and min(abs(b), abs(c)) >= 0.5 and abs(abs(b) - 1) > 0.1 and abs(abs(c) - 1) > 0.1
                and min(abs(u), abs(u - 0.5), abs(u - 1)) > 0.2):
            cases.append((a, b, c))
    return cases


EXERCISES = [
    Exercise("06.1", "rule_derivatives", 2, rule_derivatives, rule_public, rule_hidden, judge_rule_derivatives,
             "6x², 3eˣ and 4/x: the power rule, eˣ as its own derivative, 1/x for ln x, and a constant factor carried through each."),
    Exercise("06.2", "steep_sigmoid_derivative", 2, steep_sigmoid_derivative, steep_sigmoid_public, steep_sigmoid_hidden,
             judge_steep_sigmoid_derivative,
             "2 g(x)(1 - g(x)): the sigmoid's slope s(1 - s) taken at the inner value 2x, times the inner derivative 2."),
    Exercise("06.3", "line_partials", 2, line_partials, line_public, line_hidden, judge_line_partials,
             "-2x(y - (wx + b)) and -2(y - (wx + b)): the outer square gives 2(y - (wx + b)), the inside gives -x for w and -1 for b."),
    Exercise("06.4", "k_partials", 2, k_partials, k_public, k_hidden, judge_k_partials,
             "2u, 2uc and 2ub with u = a + bc: the local derivatives along each path from K down to the input, multiplied."),
]
