"""Notebook 12's checks: the exercise contract (tests/exercise_contract.py) with 12's mistakes."""

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn, optim
from torch.utils.data import DataLoader, TensorDataset

from exercise_contract import *  # noqa: F403 - the contract's tests, collected here for notebook 12
from exercise_contract import SECRETS, Unseen
from helpers.checks import EXERCISES, check
from helpers.checks.core import PASSED
from helpers.checks.judges import BROADCAST_TRAP

NOTEBOOK = "12"


# 12.1 batch_gradients --------------------------------------------------------------------------

def linear(w, b):
    model = nn.Linear(1, 1)
    with torch.no_grad():
        model.weight.fill_(w)
        model.bias.fill_(b)
    return model


def gradients_of(model):
    return torch.cat([model.weight.grad.flatten(), model.bias.grad]).clone()


def batch_gradients_not_zeroed(x, y, w, b, batch_size):
    model, rows = linear(w, b), []
    for xb, yb in DataLoader(TensorDataset(x, y), batch_size=batch_size):
        F.mse_loss(model(xb), yb).backward()
        rows.append(gradients_of(model))
    return torch.stack(rows)


def batch_gradients_with(x, y, w, b, batch_size, loss=F.mse_loss, update=False, **loader):
    model, rows = linear(w, b), []
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    for xb, yb in DataLoader(TensorDataset(x, y), batch_size=batch_size, **loader):
        model.zero_grad()
        loss(model(xb), yb).backward()
        rows.append(gradients_of(model))
        if update:
            optimizer.step()
    return torch.stack(rows)


def batch_gradients_by_hand_without_the_2(x, y, w, b, batch_size):
    rows = []
    for start in range(0, len(x), batch_size):
        xb, yb = x[start:start + batch_size], y[start:start + batch_size]
        error = w * xb + b - yb
        rows.append(torch.stack([(error * xb).mean(), error.mean()]))
    return torch.stack(rows)


# 12.2 r_squared --------------------------------------------------------------------------------

def flat(y, pred):
    return y.reshape(-1), pred.reshape(-1)


def r2_complement(y, pred):
    y, pred = flat(y, pred)
    return (((y - pred) ** 2).sum() / ((y - y.mean()) ** 2).sum()).item()


def r2_broadcast(y, pred):
    return (1 - ((y - pred) ** 2).sum() / ((y - y.mean()) ** 2).sum()).item()


def r2_broadcast_means(y, pred):
    return (1 - ((y - pred) ** 2).mean() / ((y - y.mean()) ** 2).mean()).item()


def r2_without_the_mean(y, pred):
    y, pred = flat(y, pred)
    return (1 - ((y - pred) ** 2).sum() / (y**2).sum()).item()


def r2_spread_of_predictions(y, pred):
    y, pred = flat(y, pred)
    return (1 - ((y - pred) ** 2).sum() / ((pred - pred.mean()) ** 2).sum()).item()


def r2_mean_over_var(y, pred):
    y, pred = flat(y, pred)
    return (1 - ((y - pred) ** 2).mean() / y.var()).item()


def r2_squared_correlation(y, pred):
    return (torch.corrcoef(torch.stack(flat(y, pred)))[0, 1] ** 2).item()


def r2_tensor(y, pred):
    y, pred = flat(y, pred)
    return 1 - ((y - pred) ** 2).sum() / ((y - y.mean()) ** 2).sum()


def r2_numpy(y, pred):
    y, pred = (t.numpy().reshape(-1).astype(np.float64) for t in (y, pred))
    return 1 - ((y - pred) ** 2).sum() / ((y - y.mean()) ** 2).sum()


# 12.3 standardize ------------------------------------------------------------------------------

def standardize_test_by_its_own(train, test):
    return (train - train.mean(0)) / train.std(0), (test - test.mean(0)) / test.std(0)


def standardize_rows(train, test):
    return ((train - train.mean(1, keepdim=True)) / train.std(1, keepdim=True),
            (test - test.mean(1, keepdim=True)) / test.std(1, keepdim=True))


def standardize_whole_table(train, test):
    return (train - train.mean()) / train.std(), (test - train.mean()) / train.std()


def standardize_population_std(train, test):
    mean, std = train.mean(0), train.std(0, unbiased=False)
    return (train - mean) / std, (test - mean) / std


def standardize_by_variance(train, test):
    mean, var = train.mean(0), train.var(0)
    return (train - mean) / var, (test - mean) / var


def standardize_without_the_mean(train, test):
    return train / train.std(0), test / train.std(0)


def standardize_with_test_rows_too(train, test):
    both = torch.cat([train, test])
    return (train - both.mean(0)) / both.std(0), (test - both.mean(0)) / both.std(0)


# 12.4 fit_sgd ----------------------------------------------------------------------------------

def fit_with(x, y, lr, steps, convert=True, double=False, column=True, zero=True, reduction="mean"):
    if convert:
        x, y = x.float(), y.float()
    if column:
        y = y.reshape(-1, 1)
    model = nn.Linear(x.shape[1], 1)
    if double:
        model = model.double()
    with torch.no_grad():
        model.weight.zero_()
        model.bias.zero_()
    optimizer = optim.SGD(model.parameters(), lr=lr)
    for _ in range(steps):
        if zero:
            optimizer.zero_grad()
        error = model(x) - y  # written out by hand: F.mse_loss would warn about the shapes
        ((error**2).sum() if reduction == "sum" else (error**2).mean()).backward()
        optimizer.step()
    return model.weight.detach().reshape(-1), model.bias.item()


def fit_weight_as_a_row(x, y, lr, steps):
    w, b = fit_with(x, y, lr, steps)
    return w.reshape(1, -1), b


def fit_bias_as_a_tensor(x, y, lr, steps):
    w, b = fit_with(x, y, lr, steps)
    return w, torch.tensor([b])


MISTAKES = [
    ("12.1", batch_gradients_not_zeroed, ".grad accumulates across backward() calls"),
    ("12.1", lambda *case: batch_gradients_with(*case, loss=lambda p, t: F.mse_loss(p, t, reduction="sum")),
     "the loss must be the batch's mean squared error, not its sum"),
    ("12.1", lambda *case: batch_gradients_with(*case, loss=lambda p, t: ((p - t) ** 2).sum() / case[-1]),
     "divide by the batch's own size"),
    ("12.1", batch_gradients_by_hand_without_the_2, "brings a factor 2"),
    ("12.1", lambda *case: batch_gradients_with(*case, shuffle=True), "Do not shuffle here"),
    ("12.1", lambda *case: batch_gradients_with(*case, drop_last=True), "a DataLoader keeps it"),
    ("12.1", lambda *case: batch_gradients_with(*case, update=True), "nothing is updated between batches"),
    ("12.1", lambda *case: batch_gradients_with(*case).tolist(), "wrap it with torch.tensor"),
    ("12.1", lambda *case: batch_gradients_with(*case).T, "rows and columns are swapped"),
    ("12.2", r2_complement, "R² is one minus that share"),
    ("12.2", r2_broadcast, "broadcasts to a ("),
    ("12.2", r2_broadcast_means, "every target is compared with every prediction"),
    ("12.2", r2_without_the_mean, "not y itself"),
    ("12.2", r2_spread_of_predictions, "not the spread of the predictions"),
    ("12.2", r2_mean_over_var, "which divides by N - 1"),
    ("12.2", r2_squared_correlation, "the squared correlation of y and pred"),
    ("12.2", r2_tensor, ".item() converts a one-element tensor"),
    ("12.2", r2_numpy, "is a numpy float64"),
    ("12.2", lambda y, pred: (y - pred) ** 2, "one number for the whole data set"),
    ("12.3", standardize_test_by_its_own, "you standardised the test data with its own statistics"),
    ("12.3", standardize_rows, "you took the statistics along dim=1"),
    ("12.3", standardize_whole_table, "one mean and one std for the whole table"),
    ("12.3", standardize_population_std, "the population standard deviation"),
    ("12.3", standardize_by_variance, "you divided by the variance"),
    ("12.3", standardize_without_the_mean, "subtract each column's training mean"),
    ("12.3", standardize_with_test_rows_too, "the test data must not shape the statistics"),
    ("12.3", lambda train, test: standardize_population_std(train, test)[0], "return the pair (train_z, test_z)"),
    ("12.3", lambda train, test: tuple(t.double() for t in standardize_whole_table(train, test)), "the dtype is torch.float64"),
    ("12.4", lambda *case: fit_with(*case, convert=False), "numpy (and so a CSV read with it) gives float64"),
    ("12.4", lambda *case: fit_with(*case, convert=False, double=True), "w is float64"),
    ("12.4", lambda *case: fit_with(*case, column=False), "the model's (N, 1) predictions met y of shape (N,)"),
    ("12.4", lambda *case: fit_with(*case, reduction="sum"), "lr is below its largest stable learning rate"),
    ("12.4", lambda *case: fit_with(*case, zero=False), "If the gradients are not zeroed before each backward()"),
    ("12.4", fit_weight_as_a_row, "an extra or a missing dimension of size 1"),
    ("12.4", fit_bias_as_a_tensor, "b is a tensor"),
    ("12.4", lambda *case: fit_with(*case)[0], "return the pair (w, b)"),
]


def test_the_broadcast_hints_name_the_trap():
    assert BROADCAST_TRAP.strip() in check("12.2", r2_broadcast).message
    assert "nn.MSELoss and F.mse_loss warn about it" in check("12.4", lambda *case: fit_with(*case, column=False)).message


def test_every_hidden_r_squared_case_pairs_a_vector_with_a_column():
    from helpers.grading import cases as hidden

    for secret in SECRETS:
        for y, pred in hidden.hidden_cases(EXERCISES["12.2"], secret):
            assert sorted((y.dim(), pred.dim())) == [1, 2] and y.numel() == pred.numel()


def test_the_public_learning_rate_is_stable_for_a_mean_and_not_for_a_sum():
    """The divergence hint blames a sum loss: true only when the given lr is stable for the mean and not N times larger."""
    x, y, lr, steps = EXERCISES["12.4"].public_cases()[0]
    design = torch.cat([x, torch.ones(x.shape[0], 1, dtype=torch.float64)], dim=1)
    stable = 2 / float(torch.linalg.eigvalsh(2 * design.T @ design / x.shape[0])[-1])
    assert lr < stable < x.shape[0] * lr


def test_unshuffled_loops_by_hand_and_with_a_data_loader_both_pass():
    def by_hand(x, y, w, b, batch_size):
        rows = []
        for start in range(0, len(x), batch_size):
            xb, yb = x[start:start + batch_size], y[start:start + batch_size]
            error = w * xb + b - yb
            rows.append(torch.stack([2 * (error * xb).mean(), 2 * error.mean()]))
        return torch.stack(rows)

    assert check("12.1", by_hand).status == PASSED


def test_r_squared_computed_in_float64_passes():
    def r2_in_float64(y, pred):
        y, pred = (t.double().reshape(-1) for t in (y, pred))
        return float(1 - ((y - pred) ** 2).sum() / ((y - y.mean()) ** 2).sum())

    assert check("12.2", r2_in_float64).status == PASSED


def fit_from_default_init(x, y, lr, steps):
    """nn.Linear's own random start, not zeros."""
    x, y = x.float(), y.float().reshape(-1, 1)
    model = nn.Linear(x.shape[1], 1)
    optimizer = optim.SGD(model.parameters(), lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        optimizer.step()
    return model.weight.detach().reshape(-1), model.bias.item()


# The rules 12's statements set beyond the value asked for.
RULES = [
    ("12.1", "in order, no shuffling", lambda *case: batch_gradients_with(*case, shuffle=True), "Do not shuffle here"),
    ("12.1", "nothing is updated", lambda *case: batch_gradients_with(*case, update=True), "nothing is updated between batches"),
    ("12.2", "y and pred may each be a vector or a column, and need not match", r2_broadcast, "broadcasts to a ("),
    ("12.3", "the training data's mean and standard deviation for both", standardize_test_by_its_own, "with its own statistics"),
    ("12.3", "torch's default .std, which divides by N - 1", standardize_population_std, "the population standard deviation"),
    ("12.4", "weight and bias start at zero", Unseen("the fit reaches the same least-squares line from nn.Linear's own start"), ""),
    ("12.4", "nn.Linear and optim.SGD", Unseen("a loop written by hand reaches the same w and b: the method leaves no trace"), ""),
]


def test_a_fit_from_nn_linears_own_start_passes_so_the_zero_start_is_unseen():
    """Why RULES marks 12.4's "start at zero" Unseen: the fit ends at the same line from any start."""
    assert check("12.4", fit_from_default_init).status == PASSED
