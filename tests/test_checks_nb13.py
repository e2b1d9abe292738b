"""Notebook 13's checks: the exercise contract (tests/exercise_contract.py) with 13's mistakes."""

import os
import tempfile

import torch
import torch.nn.functional as F
from torch import nn, optim
from torch.utils.data import DataLoader, TensorDataset, random_split

from exercise_contract import *  # noqa: F403 - the contract's tests, collected here for notebook 13
from helpers.checks import check
from helpers.checks.core import PASSED
from helpers.checks.nb13 import make_net

NOTEBOOK = "13"


# 13.1 mlp_sizes ---------------------------------------------------------------------------------

class Centred(nn.Module):
    """The exercise's network, with the mean kept in one of the ways a learner might keep it."""

    def __init__(self, n_in, n_hidden, n_out, mean_as="buffer", bias=True):
        super().__init__()
        self.hidden = nn.Linear(n_in, n_hidden, bias=bias)
        self.out = nn.Linear(n_hidden, n_out, bias=bias)
        if mean_as == "buffer":
            self.register_buffer("mean", torch.zeros(n_in))
        elif mean_as == "parameter":
            self.mean = nn.Parameter(torch.zeros(n_in))
        elif mean_as == "not persistent":
            self.register_buffer("mean", torch.zeros(n_in), persistent=False)
        else:
            self.mean = torch.zeros(n_in)

    def forward(self, x):
        return self.out(torch.relu(self.hidden(x - self.mean)))


def sizes_with(n_in, n_hidden, n_out, count=lambda t: t.numel(), **kwargs):
    model = Centred(n_in, n_hidden, n_out, **kwargs)
    return sum(count(p) for p in model.parameters()), sum(count(t) for t in model.state_dict().values())


def sizes_from_the_state_dict(n_in, n_hidden, n_out):
    saved = sum(t.numel() for t in Centred(n_in, n_hidden, n_out).state_dict().values())
    return saved, saved


# 13.3 fit ---------------------------------------------------------------------------------------

def fit_with(state, x, y, x_val, y_val, lr, epochs, seed, order="right", train_mode="every epoch", evaluate=True,
             validate_first=False, seed_first=False, loader=False, assign=False):
    if seed_first:
        torch.manual_seed(seed)
    net = make_net(state["0.weight"].shape[0])
    net.load_state_dict(state, assign=assign)
    optimizer = optim.SGD(net.parameters(), lr=lr)
    if not seed_first:
        torch.manual_seed(seed)
    train_losses, val_losses = [], []

    def validate():
        if evaluate:
            net.eval()
        with torch.no_grad():
            val_losses.append(F.mse_loss(net(x_val), y_val).item())

    for epoch in range(epochs):
        if train_mode == "every epoch" or epoch == 0:
            net.train()
        if validate_first:
            validate()
            net.train()
        if order == "right":
            optimizer.zero_grad()
        if loader:  # one batch of every row, through a DataLoader
            x, y = next(iter(DataLoader(TensorDataset(x, y), batch_size=len(x))))
        loss = F.mse_loss(net(x), y)
        if order == "step before backward":
            optimizer.zero_grad()
            optimizer.step()
            loss.backward()
        else:
            loss.backward()
            if order == "zero after backward":
                optimizer.zero_grad()
            optimizer.step()
        train_losses.append(loss.item())
        if not validate_first:
            validate()
    return train_losses, val_losses


def fit_losses_as_tensors(*case):
    train, val = fit_with(*case)
    return torch.tensor(train), val


# 13.2 split_and_scale ---------------------------------------------------------------------------

def split_with(x, n_val, n_test, seed, stats="train", shuffle=True, lengths="right", unbiased=True, seeded=True):
    n = x.shape[0]
    sizes = [n - n_val - n_test, n_val, n_test] if lengths == "right" else [n_val, n_test, n - n_val - n_test]
    if shuffle:
        order = torch.randperm(n, generator=torch.Generator().manual_seed(seed if seeded else seed + 1)).tolist()
    else:
        order = list(range(n))
    train, val, test = order[:sizes[0]], order[sizes[0]:sizes[0] + sizes[1]], order[sizes[0] + sizes[1]:]
    if lengths != "right":
        train, val, test = val, test, train
    rows = {"train": x[train], "all": x, "train and val": x[train + val]}[stats]
    return {"train": train, "val": val, "test": test, "mean": rows.mean(0), "std": rows.std(0, unbiased=unbiased)}


def split_separately(x, n_val, n_test, seed):
    n = x.shape[0]
    g = torch.Generator().manual_seed(seed)
    train = torch.randperm(n, generator=g)[: n - n_val - n_test].tolist()
    val = torch.randperm(n, generator=g)[:n_val].tolist()
    test = torch.randperm(n, generator=g)[:n_test].tolist()
    return {"train": train, "val": val, "test": test, "mean": x[train].mean(0), "std": x[train].std(0)}


def split_rows_as_tensors(x, n_val, n_test, seed):
    result = split_with(x, n_val, n_test, seed)
    return {**result, "train": torch.tensor(result["train"])}


# 13.4 reload_predictions ------------------------------------------------------------------------

def reload_with(state, x, load=True, evaluate=True, no_grad=True):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "net.pt")
        torch.save(state, path)
        net = make_net(state["0.weight"].shape[0])
        if load:
            net.load_state_dict(torch.load(path, weights_only=True))
    if evaluate:
        net.eval()
    if no_grad:
        with torch.no_grad():
            return net(x)
    return net(x)


MISTAKES = [
    ("13.1", lambda *case: sizes_with(*case, mean_as="attribute"), "Register it as a buffer"),
    ("13.1", lambda *case: sizes_with(*case, mean_as="not persistent"), "your state dict misses the mean"),
    ("13.1", lambda *case: sizes_with(*case, mean_as="parameter"), "you counted the mean's numbers as learned"),
    ("13.1", sizes_from_the_state_dict, "parameters() does not yield"),
    ("13.1", lambda *case: sizes_with(*case, count=lambda t: 1), "you counted tensors, not the numbers in them"),
    ("13.1", lambda *case: sizes_with(*case, bias=False), "you left out the biases"),
    ("13.1", lambda *case: sizes_with(*case)[::-1], "the learned count comes first"),
    ("13.1", lambda *case: torch.tensor(sizes_with(*case)), "return the pair (learned, saved)"),
    ("13.1", lambda *case: tuple(torch.tensor(v) for v in sizes_with(*case)), "learned is a tensor"),
    ("13.3", lambda *case: fit_with(*case, order="zero after backward"), "Zero them before backward(), not between"),
    ("13.3", lambda *case: fit_with(*case, order="step before backward"), "the model never changed"),
    ("13.3", lambda *case: fit_with(*case, order="no zero_grad"), ".grad accumulates across backward() calls"),
    ("13.3", lambda *case: fit_with(*case, train_mode="once"), "the model stayed in evaluation mode after validating"),
    ("13.3", lambda *case: fit_with(*case, evaluate=False), "Switch the model to evaluation mode for validation"),
    ("13.3", lambda *case: fit_with(*case, validate_first=True), "you measured it before the epoch's update"),
    ("13.3", lambda *case: fit_with(*case, seed_first=True), "seed with torch.manual_seed(seed) right before the first epoch"),
    ("13.3", lambda *case: fit_with(*case, loader=True), "iterating a DataLoader draws a number from the global random"),
    ("13.3", fit_losses_as_tensors, "train_losses is a tensor"),
    ("13.3", lambda *case: fit_with(*case)[0], "return the pair (train_losses, val_losses)"),
    ("13.2", lambda *case: split_with(*case, stats="all"), "your statistics use every row"),
    ("13.2", lambda *case: split_with(*case, stats="train and val"), "your statistics use the validation rows too"),
    ("13.2", lambda *case: split_with(*case, shuffle=False), "the first rows in file order"),
    ("13.2", lambda *case: split_with(*case, seeded=False), "a torch.Generator seeded with seed"),
    ("13.2", lambda *case: split_with(*case, lengths="wrong"), "the lengths go in the order training, validation, test"),
    ("13.2", lambda *case: split_with(*case, unbiased=False), "the population std"),
    ("13.2", split_separately, "some rows are in two parts"),
    ("13.2", split_rows_as_tensors, "train is a tensor"),
    ("13.2", lambda *case: list(split_with(*case).values()), "return a dict with the keys"),
    ("13.4", lambda *case: reload_with(*case, load=False), "not the saved network's predictions"),
    ("13.4", lambda *case: reload_with(*case, evaluate=False), "dropout is still switching units off"),
    ("13.4", lambda *case: reload_with(*case, no_grad=False), "compute them under torch.no_grad()"),
    ("13.4", lambda *case: reload_with(*case).flatten(), "the shape is"),
]


def test_a_hand_written_module_with_a_buffer_passes_13_1():
    assert check("13.1", lambda *case: sizes_with(*case, mean_as="buffer")).status == PASSED


def test_splitting_one_seeded_permutation_by_hand_passes_13_2():
    """random_split cuts torch.randperm(n, generator=...) in order; doing that by hand is just as right."""
    assert check("13.2", split_with).status == PASSED


def test_reference_split_parts_share_no_row_and_cover_every_row():
    x = torch.randn(50, 2)
    parts = random_split(range(50), [30, 10, 10], generator=torch.Generator().manual_seed(3))
    rows = [r for part in parts for r in part]
    assert sorted(rows) == list(range(50))
    assert check("13.2", split_and_scale_by_random_split).status == PASSED and x.shape == (50, 2)


def split_and_scale_by_random_split(x, n_val, n_test, seed):
    n = x.shape[0]
    parts = random_split(range(n), [n - n_val - n_test, n_val, n_test], generator=torch.Generator().manual_seed(seed))
    train, val, test = (list(p) for p in parts)
    return {"train": train, "val": val, "test": test, "mean": x[train].mean(0), "std": x[train].std(0)}


def test_predictions_detached_after_the_fact_pass_13_4():
    """.detach() on the result also leaves no graph: the check asks for none, not for one spelling."""
    assert check("13.4", lambda *case: reload_with(*case, no_grad=False).detach()).status == PASSED


# The rules the statements set ------------------------------------------------------------------

def fit_training_the_given_state(*case):
    """13.3 whose network takes `state`'s own tensors as its parameters (load_state_dict(assign=True)):
    each optimiser step then writes into the caller's state dict."""
    return fit_with(*case, assign=True)


def split_standardising_x_itself(x, n_val, n_test, seed):
    """13.2 that also standardises `x` in place with the training statistics."""
    n = x.shape[0]
    parts = random_split(range(n), [n - n_val - n_test, n_val, n_test], generator=torch.Generator().manual_seed(seed))
    train, val, test = (list(part) for part in parts)
    mean, std = x[train].mean(dim=0), x[train].std(dim=0)
    x.sub_(mean).div_(std)
    return {"train": train, "val": val, "test": test, "mean": mean, "std": std}


RULES = [
    ("13.3", "the state dict given is loaded, not trained", fit_training_the_given_state, "changed its input `state`"),
    ("13.2", "x unchanged", split_standardising_x_itself, "changed its input `x`"),
]
