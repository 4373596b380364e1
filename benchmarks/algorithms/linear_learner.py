"""Linear Learner: opensage's parallel-models Linear Learner vs scikit-learn on the same data, in one run.

Binary classification on UCI Adult (categoricals one-hot, numbers as they are) and on a
HIGGS-like synthetic set (28 features, a boundary with products and sines), against
LogisticRegression (lbfgs) and SGDClassifier (log loss), each behind a StandardScaler;
regression on UCI housing against Ridge. opensage's run is its training (mini-batches through
the same Trainer the jobs use, default hyperparameters: 32 models, adam, 15 epochs with early
stopping) plus model selection on a validation split taken from the training rows (its
documented way; the peers train on all of them), with no job around it. Reports test AUC or
RMSE, seconds and the ratios, and appends the table to benchmarks/RESULTS.md::

    .venv/bin/python benchmarks/algorithms/linear_learner.py --higgs-rows 200000
"""

from __future__ import annotations

import argparse
import datetime
import io
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sklearn
from sklearn.linear_model import LogisticRegression, Ridge, SGDClassifier
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from opensage.algorithms.aialgs.channels import Batch
from opensage.algorithms.aialgs.metrics import MetricLog
from opensage.algorithms.linear_learner import LinearLearnerAlgorithm
from opensage.algorithms.linear_learner.job import select
from opensage.algorithms.linear_learner.training import Sources, Trainer, problem_from

RESULTS = Path(__file__).parents[1] / "RESULTS.md"
DATASETS = Path(__file__).parents[2].parent / "shared" / "datasets" / "tabular"
Split = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def adult() -> Split:
    frames = [
        pd.read_csv(DATASETS / name, header=None, skipinitialspace=True, skiprows=skip)
        for name, skip in (("adult-train.csv", 0), ("adult-test.csv", 0))
    ]
    both = pd.concat(frames, ignore_index=True).dropna()
    labels = both[14].astype(str).str.startswith(">50K").to_numpy(np.float32)
    features = pd.get_dummies(both.drop(columns=[14]), columns=[1, 3, 5, 6, 7, 8, 9, 13], dtype=np.float32)
    x = features.to_numpy(np.float32)
    n_train = len(frames[0].dropna())
    return x[:n_train], labels[:n_train], x[n_train:], labels[n_train:]


def higgs_like(rows: int) -> Split:
    random = np.random.default_rng(0)
    x = random.normal(size=(rows, 28)).astype(np.float32)
    w = random.normal(size=28) / np.sqrt(28)
    logit = 1.5 * (x @ w) + 0.8 * x[:, 0] * x[:, 1] + 0.6 * np.sin(2 * x[:, 2]) + 0.3 * x[:, 3] ** 2 - 0.3
    y = (random.random(rows) < 1 / (1 + np.exp(-logit))).astype(np.float32)
    cut = int(rows * 0.8)
    return x[:cut], y[:cut], x[cut:], y[cut:]


def housing() -> Split:
    table = np.loadtxt(DATASETS / "housing.csv", delimiter=",", dtype=np.float64)
    order = np.random.default_rng(0).permutation(len(table))
    table = table[order].astype(np.float32)
    cut = int(len(table) * 0.8)
    return table[:cut, :-1], table[:cut, -1], table[cut:, :-1], table[cut:, -1]


def opensage_fit(
    x: np.ndarray, y: np.ndarray, predictor: str, batch: int
) -> Callable[[np.ndarray], np.ndarray]:
    values = LinearLearnerAlgorithm().validate_hyperparameters(
        {"predictor_type": predictor, "mini_batch_size": str(batch)}
    )
    problem = problem_from(values)
    # A validation split from the training rows, as a Linear Learner job is given one.
    cut = int(len(x) * 0.9)
    train = [
        Batch(x[i : min(i + batch, cut)], y[i : min(i + batch, cut)], "train") for i in range(0, cut, batch)
    ]
    validation = [Batch(x[i : i + batch], y[i : i + batch], "validation") for i in range(cut, len(x), batch)]
    trainer = Trainer(values, problem, MetricLog("algo-1", io.StringIO()))
    weights, bias = trainer.run(Sources(lambda epoch: iter(train), lambda: iter(validation)))
    fitted, _ = select(weights, bias, problem, values, iter(validation))
    return lambda rows: fitted.outputs(fitted.raw_scores(rows))[0]


def timed(fit: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    model = fit()
    return time.perf_counter() - started, model


def classification(name: str, split: Split, batch: int) -> list[str]:
    x, y, x_test, y_test = split
    runs: dict[str, Callable[[], Callable[[np.ndarray], np.ndarray]]] = {
        "scikit-learn LogisticRegression (lbfgs)": lambda: (
            make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x, y).predict_proba
        ),
        "scikit-learn SGDClassifier (log_loss)": lambda: (
            make_pipeline(StandardScaler(), SGDClassifier(loss="log_loss", random_state=0))
            .fit(x, y)
            .decision_function
        ),
        "opensage Linear Learner binary_classifier": lambda: opensage_fit(x, y, "binary_classifier", batch),
    }
    results = {}
    for label, run in runs.items():
        seconds, predict = timed(run)
        scores = np.asarray(predict(x_test))
        results[label] = (seconds, roc_auc_score(y_test, scores[:, 1] if scores.ndim == 2 else scores))
    base_seconds, base_auc = results["scikit-learn LogisticRegression (lbfgs)"]
    lines = [
        f"\n**{name}** ({len(x)} train rows, {len(x_test)} test rows, {x.shape[1]} features)\n",
        "| | seconds | test AUC | seconds / LogisticRegression | AUC - LogisticRegression |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, (seconds, auc) in results.items():
        lines.append(
            f"| {label} | {seconds:.3f} | {auc:.4f} | {seconds / base_seconds:.2f} | {auc - base_auc:+.4f} |"
        )
    return lines


def regression(split: Split, batch: int) -> list[str]:
    x, y, x_test, y_test = split
    runs: dict[str, Callable[[], Callable[[np.ndarray], np.ndarray]]] = {
        "scikit-learn Ridge": lambda: make_pipeline(StandardScaler(), Ridge()).fit(x, y).predict,
        "opensage Linear Learner regressor": lambda: opensage_fit(x, y, "regressor", batch),
    }
    results = {}
    for label, run in runs.items():
        seconds, predict = timed(run)
        results[label] = (seconds, float(np.sqrt(np.mean((predict(x_test) - y_test) ** 2))))
    base_seconds, base_rmse = results["scikit-learn Ridge"]
    lines = [
        f"\n**UCI housing** ({len(x)} train rows, {len(x_test)} test rows, {x.shape[1]} features)\n",
        "| | seconds | test RMSE | seconds / Ridge | RMSE / Ridge |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, (seconds, rmse) in results.items():
        lines.append(
            f"| {label} | {seconds:.3f} | {rmse:.3f} | {seconds / base_seconds:.2f} | {rmse / base_rmse:.3f} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--higgs-rows", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    lines = classification("UCI Adult", adult(), args.batch)
    lines += classification("HIGGS-like synthetic", higgs_like(args.higgs_rows), args.batch)
    lines += regression(housing(), args.batch // 10)
    table = "\n".join(lines) + (
        "\n\nopensage: default hyperparameters (32 models: 4 learning rates x 4 weight decays x positive weight "
        "1/balanced... as left auto), trained on 90 % of the training rows and selected on the other 10 %; "
        "the peers fit all training rows once. Goal: AUC within 0.005 of LogisticRegression at no more time."
    )
    print(table)
    command = f"`.venv/bin/python benchmarks/algorithms/linear_learner.py --higgs-rows {args.higgs_rows} --batch {args.batch}`"
    header = (
        f"\n## Linear Learner: opensage vs scikit-learn ({datetime.date.today().isoformat()})\n\n"
        f"Command: {command}  \n"
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()}, Python "
        f"{platform.python_version()}; scikit-learn {sklearn.__version__}, numpy {np.__version__}; "
        "the machine was shared with other agents' work while it ran, so seconds are noisy\n"
    )
    with RESULTS.open("a") as out:
        out.write(header + table + "\n")


if __name__ == "__main__":
    main()
