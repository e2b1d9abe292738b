"""Exercises of notebook 13 (models and the training loop)."""

from __future__ import annotations

import functools
import math
import os
import random
import tempfile

import torch
import torch.nn.functional as F
from torch import nn, optim
from torch.utils.data import random_split

from helpers.checks import judges
from helpers.checks.core import Exercise, describe, shown, torch_generator
from helpers.checks.hints import Hint, mistake, mistake_of
from helpers.checks.judges import RETURNED_NONE, dtype_mismatch, not_a_loss_history, not_a_tuple, same_numbers, tensor_like, values_mismatch
from helpers.checks.rules import all_finite

# Results of float32 training: agreement to about four digits.
close = functools.partial(judges.close, atol=1e-4, rtol=1e-4)


def make_net(hidden: int) -> nn.Sequential:
    """The notebook's small network for one input and one output: a hidden layer, then dropout."""
    return nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Dropout(0.5), nn.Linear(hidden, 1))


def random_state(g: torch.Generator, hidden: int) -> dict[str, torch.Tensor]:
    """A state dict for make_net(hidden), drawn from `g`: weights of the size nn.Linear's own start gives."""
    return {"0.weight": torch.randn(hidden, 1, generator=g), "0.bias": 0.5 * torch.randn(hidden, generator=g),
            "3.weight": torch.randn(1, hidden, generator=g) / math.sqrt(hidden), "3.bias": 0.1 * torch.randn(1, generator=g)}


def is_int(value) -> bool:
    return type(value) is int


# Two loss histories (lists of Python floats from float32 training) agree epoch for epoch.
same_floats = functools.partial(same_numbers, rel_tol=1e-4, abs_tol=1e-6)


# 13.1 mlp_sizes(n_in, n_hidden, n_out): what a module learns, and what it saves -----------------

def mlp_sizes(n_in: int, n_hidden: int, n_out: int) -> tuple[int, int]:
    class Centred(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = nn.Linear(n_in, n_hidden)
            self.out = nn.Linear(n_hidden, n_out)
            self.register_buffer("mean", torch.zeros(n_in))

        def forward(self, x):
            return self.out(torch.relu(self.hidden(x - self.mean)))

    model = Centred()
    return sum(p.numel() for p in model.parameters()), sum(t.numel() for t in model.state_dict().values())


def judge_mlp_sizes(got, case, expected):
    n_in, n_hidden, n_out = case
    learned, saved = expected
    miss = not_a_tuple(got, 2, "the pair (learned, saved): two Python ints")
    if miss:
        return miss
    for name, value in zip(("learned", "saved"), got, strict=True):
        if isinstance(value, torch.Tensor):
            return mistake("13.1/tensor-return-python-int-item", f"{name} is a tensor; return a Python int (.item(), or sum Python ints from .numel()).")
        if not is_int(value):
            return mistake("13.1/expected-python-int", f"{name} is {describe(value)}; expected a Python int.")
    have = tuple(got)
    if have == (learned, saved):
        return None
    if have == (saved, learned):
        return mistake("13.1/returned-saved-learned-learned-count", "you returned (saved, learned): the learned count comes first.")
    if have == (learned, learned):
        return (mistake("13.1/state-dict-misses-mean-tensor",
                        "your state dict misses the mean: a tensor kept as a plain attribute is neither learned nor saved, and model.to(...) leaves "
                        "it behind. Register it as a buffer, which is state that is saved but not learned."))
    if have == (saved, saved):
        return (mistake("13.1/counted-means-numbers-learned-parameter",
                        "you counted the mean's numbers as learned: a Parameter is something the optimiser changes. The mean is state, not learned: "
                        "register it as a buffer, which parameters() does not yield but the state dict holds."))
    if have[0] < 10 and have[1] < 10:
        return (mistake("13.1/counted-tensors-numbers-them-each",
                        "you counted tensors, not the numbers in them: each tensor holds .numel() numbers; add those up."))
    biases = n_hidden + n_out
    if have == (learned - biases, saved - biases):
        return mistake("13.1/left-out-biases-each-nn",
                       f"you left out the biases: each nn.Linear also learns one bias per output, {shown(biases)} numbers "
                       "here.")
    if have[0] == learned:
        return mistake("13.1/learned-right-saved-state-dict",
                       f"learned = {shown(learned)} is right; saved = {shown(have[1])} is not: the state dict holds "
                       "every parameter and every buffer.")
    return (mistake("13.1/returned-expected-nn-linear-b",
                    f"you returned ({shown(have[0])}, {shown(have[1])}), expected {shown(expected)}: an nn.Linear(a, b) "
                    "learns a weight of shape (b, a) and a bias of b numbers."))


def mlp_sizes_public():
    return [(3, 4, 2), (1, 16, 1)]


def mlp_sizes_hidden(rng: random.Random):
    """3 networks with sizes from 2 to 40, no two of them equal, so each mistake gives other counts."""
    cases = []
    while len(cases) < 3:
        sizes = (rng.randint(2, 12), rng.randint(5, 40), rng.randint(2, 6))
        if len(set(sizes)) == 3:
            cases.append(sizes)
    return cases


# 13.3 fit(state, x, y, x_val, y_val, lr, epochs, seed): the loop, with validation each epoch ------

def fit(state, x, y, x_val, y_val, lr, epochs, seed):
    net = make_net(state["0.weight"].shape[0])
    net.load_state_dict(state)
    optimizer = optim.SGD(net.parameters(), lr=lr)
    torch.random.manual_seed(seed)
    trained, validated = [], []
    for _ in range(epochs):
        net.train()
        optimizer.zero_grad()
        loss = F.mse_loss(net(x), y)
        loss.backward()
        optimizer.step()
        trained.append(loss.item())
        net.eval()
        with torch.no_grad():
            validated.append(F.mse_loss(net(x_val), y_val).item())
    return trained, validated


def judge_fit(got, case, expected):
    epochs = case[6]
    want_train, want_val = expected
    miss = not_a_tuple(got, 2, "the pair (train_losses, val_losses): two lists")
    if miss:
        return miss
    for name, values in zip(("train_losses", "val_losses"), got, strict=True):
        miss = not_a_loss_history(values, epochs, name, "epoch")
        if miss:
            return miss
        if not all_finite(values):
            return mistake("13.3/holds-training-diverged-loss-was", f"{name} holds inf or nan: the training diverged or a loss was not computed.")
    train, val = list(got[0]), list(got[1])
    if same_floats(train, want_train) and same_floats(val, want_val):
        return None
    if max(val) - min(val) <= 1e-7 * (1 + abs(val[0])):
        return (mistake("13.3/validation-loss-never-changes-model",
                        "your validation loss never changes, so the model never changed: step() must use the gradients that backward() just "
                        "computed. Zero them before backward(), not between backward() and step()."))
    if same_floats(train, want_train) and same_floats(val[1:], want_val[:-1]):
        return (mistake("13.3/each-validation-loss-epoch-before",
                        "each validation loss is the one of the epoch before: you measured it before the epoch's update. Train first, then evaluate "
                        "the updated model."))
    near = functools.partial(math.isclose, rel_tol=1e-4, abs_tol=1e-6)  # as same_floats
    # The first of the first two epochs' losses that differs, in the order the loop computes them, names the step that went wrong.
    steps = [
        (train[0], want_train[0],
         mistake("13.3/first-training-loss-expected-build",
                 f"your first training loss is {shown(train[0], '.6g')}, expected {shown(want_train[0], '.6g')}: build the network, load the "
                 "given state, then seed with torch.manual_seed(seed) right before the first epoch, and take the mean squared error in "
                 "training mode (dropout on). Step on x and y themselves: iterating a DataLoader draws a number from the global random "
                 "generator, even unshuffled, and so changes dropout's choices.")),
        (val[0], want_val[0],
         mistake("13.3/first-training-loss-right-but",
                 "your first training loss is right but the first validation loss is not: was dropout still on while you evaluated? Switch "
                 "the model to evaluation mode for validation.")),
        (train[1], want_train[1],
         mistake("13.3/second-epoch-training-losses-those",
                 "from the second epoch on your training losses are those of a model without dropout: the model stayed in evaluation mode "
                 "after validating. Switch it back to training mode at the start of every epoch.")),
        (val[1], want_val[1],
         mistake("13.3/first-update-right-second-grad",
                 "the first update is right and the second is not: .grad accumulates across backward() calls, so zero the gradients before "
                 "each backward().")),
    ]
    for have, want, hint in steps:
        if not near(have, want):
            return hint
    first = next(k for k in range(epochs) if not (near(train[k], want_train[k]) and near(val[k], want_val[k])))
    return (mistake("13.3/epochs-0-right-epoch-train",
                    f"epochs 0 to {shown(first - 1)} are right, epoch {shown(first)} is not (train {shown(train[first], '.6g')}, validation "
                    f"{shown(val[first], '.6g')}; expected {shown(want_train[first], '.6g')} and {shown(want_val[first], '.6g')})."))


def fit_case(g: torch.Generator, n: int, n_val: int, hidden: int, lr: float, epochs: int, seed: int):
    """One case: a curved target with noise, split into training and validation rows, and a start state."""
    x = torch.randn(n + n_val, 1, generator=g)
    y = torch.sin(2 * x) + 0.5 * x + 0.2 * torch.randn(n + n_val, 1, generator=g)
    return (random_state(g, hidden), x[:n], y[:n], x[n:], y[n:], lr, epochs, seed)


def fit_public():
    g = torch.Generator().manual_seed(13)
    return [fit_case(g, 40, 20, 8, 0.1, 6, 0), fit_case(g, 60, 30, 16, 0.2, 8, 5)]


def fit_hidden(rng: random.Random):
    """3 cases of 30 to 60 training rows, 8 to 24 hidden units and 6 to 10 epochs, at learning rates that move the
    model clearly at every step, so a model that stays put, accumulates gradients or skips dropout shows at once."""
    return [fit_case(torch_generator(rng), rng.randint(30, 60), rng.randint(15, 30), rng.randint(8, 24),
                     round(rng.uniform(0.05, 0.15), 2), rng.randint(6, 10), rng.randrange(1000)) for _ in range(3)]


# 13.2 split_and_scale(x, n_val, n_test, seed): a seeded split, statistics from the training rows -

def split_and_scale(x, n_val, n_test, seed):
    n = x.shape[0]
    parts = random_split(range(n), [n - n_val - n_test, n_val, n_test], generator=torch.Generator().manual_seed(seed))
    train, val, test = (list(part) for part in parts)
    rows = x[train]
    return {"train": train, "val": val, "test": test, "mean": rows.mean(dim=0), "std": rows.std(dim=0)}


SPLIT_KEYS = ("train", "val", "test", "mean", "std")


def judge_split_and_scale(got, case, expected):
    x, n_val, n_test, seed = case
    n = x.shape[0]
    if got is None:
        return RETURNED_NONE
    if type(got) is not dict or sorted(got) != sorted(SPLIT_KEYS):
        keys = sorted(got) if type(got) is dict else describe(got)
        return mistake("13.2/return-dict-keys-returned", f"return a dict with the keys {list(SPLIT_KEYS)}; you returned {shown(keys)}.")
    for name in ("train", "val", "test"):
        rows = got[name]
        if isinstance(rows, torch.Tensor):
            return mistake("13.2/tensor-return-row-numbers-list", f"{name} is a tensor; return the row numbers as a list of Python ints (.tolist() converts).")
        if type(rows) is not list or not all(is_int(r) for r in rows):
            return mistake("13.2/expected-list-python-ints-row", f"{name} is {describe(rows)}; expected a list of Python ints, the row numbers.")
        if not all(0 <= r < n for r in rows):
            return mistake("13.2/holds-row-numbers-outside-0", f"{name} holds row numbers outside 0 to {shown(n - 1)}.")
    sizes = {name: len(got[name]) for name in ("train", "val", "test")}
    want_sizes = {name: len(expected[name]) for name in ("train", "val", "test")}
    if sizes != want_sizes:
        return (mistake("13.2/parts-hold-rows-expected-lengths",
                        f"the parts hold {shown(sizes)} rows, expected {shown(want_sizes)}: the lengths go in the "
                        "order training, validation, test, and the training part takes what the other two leave."))
    every = got["train"] + got["val"] + got["test"]
    if len(set(every)) != n:
        return (mistake("13.2/some-rows-two-parts-others",
                        "some rows are in two parts (and others in none): a row in both the training and a held-out part leaks into training, and "
                        "its held-out loss is no longer a test. Split one shuffled order of the rows."))
    if got["train"] == list(range(sizes["train"])):
        return (mistake("13.2/training-part-first-rows-file",
                        "your training part is the first rows in file order: shuffle before splitting (a file is often sorted, by date or by "
                        "value), with a generator seeded by seed."))
    if [got[name] for name in ("train", "val", "test")] != [expected[name] for name in ("train", "val", "test")]:
        return (mistake("13.2/parts-hold-other-rows-than",
                        "your parts hold other rows than expected: split with random_split and a torch.Generator seeded with seed, so the split is "
                        "the same on every run."))
    for name in ("mean", "std"):
        miss = tensor_like(got[name], expected[name]) or dtype_mismatch(got[name], expected[name])
        if miss:
            return Hint(f"{name}: {miss}", mistake_of(miss))
        if not all_finite(got[name].detach()):
            return mistake("13.2/part-not-finite", f"{name} holds inf or nan.")
    mean, std = got["mean"].detach(), got["std"].detach()
    if close(mean, expected["mean"]) and close(std, expected["std"]):
        return None
    data = x.to(torch.float64)
    fitted = data[got["train"] + got["val"]]
    if close(mean, data.mean(0)) or close(std, data.std(0)):
        return (mistake("13.2/statistics-use-every-row-validation",
                        "your statistics use every row, validation and test rows included: what the held-out rows look like leaks into the model "
                        "through them. Compute the mean and std on the training rows only."))
    if close(mean, fitted.mean(0)) or close(std, fitted.std(0)):
        return (mistake("13.2/statistics-use-validation-rows-too",
                        "your statistics use the validation rows too: then choosing a model on validation is no longer fair. Compute the mean and "
                        "std on the training rows only."))
    train = data[got["train"]]
    if close(mean, train.mean(0)) and close(std, train.std(0, unbiased=False)):
        return mistake("13.2/std-divided-n-population-std", "std: you divided by N (the population std); use torch's default .std, which divides by N - 1.")
    differs = values_mismatch(mean, expected["mean"], 1e-4, 1e-4) or values_mismatch(std, expected["std"], 1e-4, 1e-4)
    return Hint(f"mean and std must be each column's, over the training rows: {differs}", mistake_of(differs))


def split_and_scale_public():
    g = torch.Generator().manual_seed(13)
    x = torch.randn(20, 2, generator=g) * torch.tensor([1.0, 10.0]) + torch.tensor([0.0, 50.0])
    x2 = torch.arange(30.0).reshape(-1, 1) + 0.1 * torch.randn(30, 1, generator=g)  # sorted, as files often are
    return [(x, 4, 4, 0), (x2, 6, 6, 7)]


def split_and_scale_hidden(rng: random.Random):
    """3 tables of 40 to 120 rows and 1 to 3 columns, some sorted, with 15-25% of the rows in each held-out part."""
    cases = []
    for _ in range(3):
        g = torch_generator(rng)
        n, columns = rng.randint(40, 120), rng.randint(1, 3)
        x = torch.randn(n, columns, generator=g) * rng.uniform(1, 20) + rng.uniform(-50, 50)
        if rng.random() < 0.5:
            x = x.sort(dim=0).values
        cases.append((x, int(n * rng.uniform(0.15, 0.25)), int(n * rng.uniform(0.15, 0.25)), rng.randrange(10_000)))
    return cases


# 13.4 reload_predictions(state, x): save, load into a fresh network, predict -----------------------

def reload_predictions(state, x):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "net.pt")
        torch.save(state, path)
        net = make_net(state["0.weight"].shape[0])
        net.load_state_dict(torch.load(path, weights_only=True))
    net.eval()
    with torch.no_grad():
        return net(x)


def judge_reload_predictions(got, case, expected):
    state, x = case
    miss = tensor_like(got, expected) or dtype_mismatch(got, expected)
    if miss:
        return miss
    if got.requires_grad:
        return (mistake("13.4/predictions-carry-autograd-graph-requires",
                        "your predictions carry an autograd graph (requires_grad=True): predicting needs no gradients, so compute them under "
                        "torch.no_grad() (or torch.inference_mode())."))
    have = got.detach()
    if not all_finite(have):
        return mistake("13.4/predictions-hold-inf-nan", "your predictions hold inf or nan.")
    half = x.shape[0] // 2
    if torch.equal(x[:half], x[half:]) and not close(have[:half], have[half:], atol=1e-6, rtol=1e-6):
        return (mistake("13.4/same-input-row-gave-two",
                        "the same input row gave two different predictions: dropout is still switching units off at random. Put the network in "
                        "evaluation mode before predicting."))
    if close(have, expected):
        return None
    return (mistake("13.4/these-saved-networks-predictions-build", "these are not the saved network's predictions "
                                                                   "(" + (values_mismatch(have, expected, 1e-4, 1e-4) or "").rstrip(".")
            + "): build a fresh network of the same shape and load the saved state dict into it before predicting."))


def reload_predictions_public():
    g = torch.Generator().manual_seed(13)
    x = torch.linspace(-2, 2, 5).reshape(-1, 1)
    return [(random_state(g, 8), torch.cat([x, x])), (random_state(g, 16), torch.cat([x + 0.3, x + 0.3]))]


def reload_predictions_hidden(rng: random.Random):
    """3 networks of 8 to 24 hidden units, each on 6 to 12 input rows given twice (so dropout shows)."""
    cases = []
    for _ in range(3):
        g = torch_generator(rng)
        x = torch.randn(rng.randint(6, 12), 1, generator=g)
        cases.append((random_state(g, rng.randint(8, 24)), torch.cat([x, x])))
    return cases


EXERCISES = [
    Exercise("13.1", "mlp_sizes", 2, mlp_sizes, mlp_sizes_public, mlp_sizes_hidden, judge_mlp_sizes,
             "parameters() yields what the optimiser learns; the state dict holds that and every buffer, the state that "
             "is saved and moved with the model but not learned."),
    Exercise("13.2", "split_and_scale", 2, split_and_scale, split_and_scale_public, split_and_scale_hidden,
             judge_split_and_scale,
             "one seeded shuffle, cut into three parts that share no row, and statistics from the training rows alone: "
             "nothing about the held-out rows reaches the model."),
    Exercise("13.3", "fit", 3, fit, fit_public, fit_hidden, judge_fit,
             "training mode for the step, evaluation mode and no gradients for validation, and zero_grad, forward, "
             "loss, backward, step in that order: the loop every PyTorch model is trained with."),
    Exercise("13.4", "reload_predictions", 2, reload_predictions, reload_predictions_public, reload_predictions_hidden,
             judge_reload_predictions,
             "a state dict saved and loaded with weights_only=True restores the network exactly, and evaluation mode "
             "with no gradients gives its predictions."),
]
