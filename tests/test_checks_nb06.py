"""Notebook 06's checks: the exercise contract (tests/exercise_contract.py) with 06's mistakes."""

import torch

from exercise_contract import *  # noqa: F403 - the contract's tests, collected here for notebook 06
from helpers.checks import check
from helpers.checks.core import PASSED

NOTEBOOK = "06"


def rules(power=None, exponential=None, logarithm=None):
    """The three derivatives, with one of them replaced by a wrong formula."""
    return lambda x: ((power or (lambda x: 6 * x**2))(x), (exponential or (lambda x: 3 * torch.exp(x)))(x),
                      (logarithm or (lambda x: 4 / x))(x))


def g(x):
    """The steep sigmoid, the sigmoid at 2x."""
    return 1 / (1 + torch.exp(-2 * x))


def sigmoid(x):
    return 1 / (1 + torch.exp(-x))


def residual(x, w, b, y):
    return y - (w * x + b)


MISTAKES = [
    ("06.2", lambda x: 2 + g(x) * (1 - g(x)), "the chain rule multiplies them"),
    ("06.4", lambda a, b, c: (2 * (a + b * c), 2 * (a + b * c) + c, 2 * (a + b * c) + b), "the chain rule multiplies them"),
    # 06.1 the rules: the function instead of its slope, the power rule half done, a constant dropped
    ("06.1", rules(power=lambda x: 2 * x**3), "that is 2x³ itself"),
    ("06.1", rules(power=lambda x: 6 * x**3), "also lowers the exponent"),
    ("06.1", rules(power=lambda x: 2 * x**2), "did not bring the old exponent, 3, down"),
    ("06.1", rules(power=lambda x: 4 * x**2), "the old exponent, 3, not the new one"),
    ("06.1", rules(power=lambda x: 3 * x**2), "the constant 2 stays"),
    ("06.1", rules(exponential=torch.exp), "the constant 3 stays"),
    ("06.1", rules(exponential=lambda x: 3 * x * torch.exp(x - 1)), "eˣ is not a power of x"),
    ("06.1", rules(logarithm=lambda x: 4 * torch.log(x)), "that is 4 ln x itself"),
    ("06.1", rules(logarithm=lambda x: 1 / x), "the constant 4 stays"),
    ("06.1", rules(logarithm=lambda x: -4 / x**2), "that is the derivative of 4/x"),
    ("06.1", rules(power=lambda x: (6 * x**2).float()), "expected torch.float64"),
    ("06.1", lambda x: 6 * x**2, "return a tuple of 3 tensors"),
    ("06.1", lambda x: (6 * x**2, 3 * torch.exp(x)), "you returned 2 values"),
    # 06.2 the steep sigmoid's slope: the inner derivative left out, the slope taken at the wrong point, signs
    ("06.2", lambda x: g(x) * (1 - g(x)), "left out the derivative of the inner function"),
    ("06.2", lambda x: 2 * sigmoid(x) * (1 - sigmoid(x)), "its slope must be taken at 2x"),
    ("06.2", lambda x: sigmoid(x) * (1 - sigmoid(x)), "take the slope at 2x"),
    ("06.2", lambda x: -2 * g(x) * (1 - g(x)), "wrong sign"),
    ("06.2", lambda x: -2 * torch.exp(-2 * x) * (1 + torch.exp(-2 * x)) ** -2, "wrong sign"),
    ("06.2", g, "that is g itself"),
    ("06.2", lambda x: torch.exp(-2 * x) / (1 + torch.exp(-2 * x)), "the power goes from -1 to -2"),
    ("06.2", lambda x: (2 * g(x) * (1 - g(x))).float(), "expected torch.float64"),
    # 06.3 the partials of (y - (wx + b))²: the wrong variable, a sign, the inner derivative, the factor 2
    ("06.3", lambda x, w, b, y: (-2 * w * residual(x, w, b, y), -2 * residual(x, w, b, y)), "you differentiated with respect to x"),
    ("06.3", lambda x, w, b, y: (-2 * residual(x, w, b, y), -2 * x * residual(x, w, b, y)), "swapped"),
    ("06.3", lambda x, w, b, y: (2 * x * residual(x, w, b, y), 2 * residual(x, w, b, y)), "the signs are flipped"),
    ("06.3", lambda x, w, b, y: (2 * residual(x, w, b, y), 2 * residual(x, w, b, y)), "but not the inside"),
    ("06.3", lambda x, w, b, y: (-2 * residual(x, w, b, y), -2 * residual(x, w, b, y)), "at the rate -x, not -1"),
    ("06.3", lambda x, w, b, y: (-x * residual(x, w, b, y), -residual(x, w, b, y)), "a factor 2 comes down"),
    ("06.3", lambda x, w, b, y: (-2 * x * residual(x, w, b, y), -2 * x * residual(x, w, b, y)), "another variable"),
    ("06.3", lambda x, w, b, y: -2 * x * residual(x, w, b, y), "return a tuple of 2 tensors"),
    # 06.4 K = (a + bc)²: partials with respect to the wrong variable, the outer step forgotten or cut short
    ("06.4", lambda a, b, c: (2 * (a + b * c), 2 * (a + b * c) * b, 2 * (a + b * c) * c), "swapped"),
    ("06.4", lambda a, b, c: (1.0, c, b), "the outer step is missing"),
    ("06.4", lambda a, b, c: (2.0, 2.0 * c, 2.0 * b), "is 2u, not 2"),
    ("06.4", lambda a, b, c: (2 * (a + b * c),) * 3, "you stopped at u"),
    ("06.4", lambda a, b, c: tuple(torch.tensor(v) for v in (2 * (a + b * c), 2 * (a + b * c) * c, 2 * (a + b * c) * b)), ".item()"),
    ("06.4", lambda a, b, c: (a + b * c) ** 2, "expected a tuple of 3 Python floats"),
]


def test_autograd_answers_pass_where_they_return_what_is_asked():
    def with_autograd(a, b, c):
        a, b, c = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (a, b, c))
        ((a + b * c) ** 2).backward()
        return a.grad.item(), b.grad.item(), c.grad.item()

    assert check("06.4", with_autograd).status == PASSED


def test_torch_sigmoid_and_the_long_chain_rule_form_both_pass():
    assert check("06.2", lambda x: 2 * torch.sigmoid(2 * x) * (1 - torch.sigmoid(2 * x))).status == PASSED
    assert check("06.2", lambda x: 2 * torch.exp(-2 * x) * (1 + torch.exp(-2 * x)) ** -2).status == PASSED


# 06's statements set no rule beyond the value asked for: "no autograd needed" (06.1) and "autograd is
# welcome as a check" (06.4) leave the method to the learner.
RULES = []
