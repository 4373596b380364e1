"""Factorization Machines: opensage's FM vs a plain numpy ALS matrix factorisation, on synthetic ratings.

Ratings r = μ + b_user + b_item + ⟨p_user, q_item⟩ + noise of a known sd, so the best possible
test RMSE (the noise floor) is known. FM sees each rating as a sparse row with two ones (the
user's column and the item's), exactly as a SageMaker FM user encodes ratings; ALS sees the
(user, item, rating) triples. Both are fitted on 90% of the ratings and scored on the rest;
opensage's run is its training loop (the batches the jobs feed it, no job around it). Prints
a table and appends it to benchmarks/RESULTS.md::

    .venv/bin/python benchmarks/algorithms/factorization_machines.py --users 2000 --items 1000 --ratings 200000
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy
from scipy import sparse

from opensage.algorithms.factorization_machines.algorithm import hyperparameter_spec
from opensage.algorithms.factorization_machines.model import canonical_rows, forward
from opensage.algorithms.factorization_machines.training import Trainer

RESULTS = Path(__file__).parents[1] / "RESULTS.md"


@dataclass(frozen=True)
class Ratings:
    users: np.ndarray
    items: np.ndarray
    values: np.ndarray
    n_users: int
    n_items: int

    def part(self, index: np.ndarray) -> Ratings:
        return Ratings(self.users[index], self.items[index], self.values[index], self.n_users, self.n_items)

    def one_hot(self) -> sparse.csr_matrix:
        n = self.values.size
        columns = np.column_stack([self.users, self.n_users + self.items]).ravel()
        return sparse.csr_matrix(
            (np.ones(2 * n, np.float32), columns, np.arange(0, 2 * n + 1, 2)),
            shape=(n, self.n_users + self.n_items),
        )


def generate(users: int, items: int, count: int, rank: int, noise: float) -> Ratings:
    random = np.random.default_rng(0)
    # Factor entries of sd rank^-1/4 give ⟨p, q⟩ a standard deviation of 1.
    p = random.normal(0, rank**-0.25, size=(users, rank))
    q = random.normal(0, rank**-0.25, size=(items, rank))
    user_bias, item_bias = random.normal(0, 0.3, users), random.normal(0, 0.3, items)
    u, i = random.integers(0, users, count), random.integers(0, items, count)
    values = 3.5 + user_bias[u] + item_bias[i] + np.sum(p[u] * q[i], axis=1) + random.normal(0, noise, count)
    return Ratings(u, i, values.astype(np.float32), users, items)


def rmse(predicted: np.ndarray, actual: np.ndarray) -> float:
    return float(np.sqrt(np.mean((predicted.astype(np.float64) - actual) ** 2)))


def opensage_fm(train: Ratings, test: Ratings, args: argparse.Namespace) -> float:
    values = hyperparameter_spec().validate(
        {
            "feature_dim": str(train.n_users + train.n_items),
            "num_factors": str(args.factors),
            "predictor_type": "regressor",
            "epochs": str(args.epochs),
            "mini_batch_size": str(args.batch),
            "bias_lr": "0.1",
            "linear_lr": str(args.lr),
            "factors_lr": str(args.lr),
            "factors_init_sigma": "0.1",
            "linear_wd": str(args.wd),
            "factors_wd": str(args.wd),
        }
    )
    trainer = Trainer(values)
    rows = canonical_rows(train.one_hot())
    order = np.random.default_rng(1).permutation(rows.shape[0])  # as shuffled shards would come
    rows, labels = rows[order], train.values[order]
    for _ in range(args.epochs):
        for start in range(0, rows.shape[0], args.batch):
            trainer.step(rows[start : start + args.batch], labels[start : start + args.batch])
    p = trainer.parameters("regressor")
    scores, _, _ = forward(canonical_rows(test.one_hot()), float(p.bias[0]), p.linear, p.factors)
    return rmse(scores, test.values)


def _solve_side(
    index: np.ndarray, count: int, other: np.ndarray, target: np.ndarray, regularisation: float
) -> np.ndarray:
    """Ridge solutions x_j = (Σ o oᵀ + λ n_j I)⁻¹ Σ o t over each j's ratings, all j at once."""
    k = other.shape[1]
    n = index.size
    membership = sparse.csr_matrix((np.ones(n), (index, np.arange(n))), shape=(count, n))
    outer = (other[:, :, None] * other[:, None, :]).reshape(n, k * k)
    gram = np.asarray(membership @ outer).reshape(count, k, k)
    counts = np.asarray(membership.sum(axis=1)).ravel()
    gram += regularisation * np.maximum(counts, 1)[:, None, None] * np.eye(k)
    right = np.asarray(membership @ (other * target[:, None]))
    return np.linalg.solve(gram, right[:, :, None])[:, :, 0]


def numpy_als(train: Ratings, test: Ratings, args: argparse.Namespace) -> float:
    """Biased ALS: user rows [p, b_user] against item rows [q, 1], then the other way round."""
    random = np.random.default_rng(2)
    k = args.factors
    mean = float(train.values.mean())
    p, q = random.normal(0, 0.1, (train.n_users, k)), random.normal(0, 0.1, (train.n_items, k))
    user_bias, item_bias = np.zeros(train.n_users), np.zeros(train.n_items)
    ones = np.ones((train.values.size, 1))
    centred = train.values.astype(np.float64) - mean
    for _ in range(args.als_iterations):
        solved = _solve_side(
            train.users,
            train.n_users,
            np.hstack([q[train.items], ones]),
            centred - item_bias[train.items],
            args.als_lambda,
        )
        p, user_bias = solved[:, :k], solved[:, k]
        solved = _solve_side(
            train.items,
            train.n_items,
            np.hstack([p[train.users], ones]),
            centred - user_bias[train.users],
            args.als_lambda,
        )
        q, item_bias = solved[:, :k], solved[:, k]
    predicted = (
        mean + user_bias[test.users] + item_bias[test.items] + np.sum(p[test.users] * q[test.items], axis=1)
    )
    return rmse(predicted, test.values)


def timed(run: Any) -> tuple[float, float]:
    started = time.perf_counter()
    result = run()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--ratings", type=int, default=200_000)
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--noise", type=float, default=0.5)
    parser.add_argument("--factors", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--wd", type=float, default=0.0)
    parser.add_argument("--als-iterations", type=int, default=10)
    parser.add_argument("--als-lambda", type=float, default=0.02)
    args = parser.parse_args()
    data = generate(args.users, args.items, args.ratings, args.rank, args.noise)
    split = np.random.default_rng(3).permutation(args.ratings)
    cut = int(0.9 * args.ratings)
    train, test = data.part(split[:cut]), data.part(split[cut:])
    runs = {
        f"numpy ALS with biases ({args.als_iterations} iterations, λ={args.als_lambda})": lambda: numpy_als(
            train, test, args
        ),
        f"opensage FM regressor ({args.epochs} epochs, mini_batch_size={args.batch}, Adam lr={args.lr})": lambda: (
            opensage_fm(train, test, args)
        ),
    }
    results = {name: timed(run) for name, run in runs.items()}
    baseline_seconds, baseline_rmse = next(iter(results.values()))
    lines = [
        "| | seconds | test RMSE | RMSE / noise floor | seconds vs ALS | RMSE vs ALS |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, (seconds, error) in results.items():
        lines.append(
            f"| {name} | {seconds:.2f} | {error:.4f} | {error / args.noise:.3f} | "
            f"{seconds / baseline_seconds:.2f}x | {error / baseline_rmse:.3f}x |"
        )
    table = "\n".join(lines) + (
        f"\n\nNoise floor (the noise sd, the best any model can do): {args.noise}. Ratings spread (sd): "
        f"{float(test.values.std()):.3f}. Both fit rank {args.factors} (the truth's is {args.rank}). The machine "
        "was shared with other agents' builds and tests while this ran, so seconds are indicative."
    )
    print(table)
    command = (
        f"`.venv/bin/python benchmarks/algorithms/factorization_machines.py --users {args.users} --items {args.items} "
        f"--ratings {args.ratings} --rank {args.rank} --noise {args.noise} --factors {args.factors} "
        f"--epochs {args.epochs} --batch {args.batch} --lr {args.lr} --wd {args.wd} "
        f"--als-iterations {args.als_iterations} --als-lambda {args.als_lambda}`"
    )
    header = (
        f"\n## Factorization Machines: opensage vs numpy ALS ({datetime.date.today().isoformat()})\n\n"
        f"Command: {command}  \n"
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()}, Python "
        f"{platform.python_version()}; numpy {np.__version__}, scipy {scipy.__version__}  \n"
        f"Data: {args.users} users x {args.items} items, {args.ratings} ratings (90% train, 10% test), "
        f"r = 3.5 + b_user + b_item + ⟨p, q⟩ (rank {args.rank}) + N(0, {args.noise}²); FM rows are the "
        "user's and the item's one-hot columns\n\n"
    )
    with RESULTS.open("a") as out:
        out.write(header + table + "\n")


if __name__ == "__main__":
    main()
