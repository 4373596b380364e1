"""Distributed XGBoost: hosts in separate processes train one model on their shards, or fail clearly."""

from __future__ import annotations

import json
import multiprocessing
import socket
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xgboost
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import roc_auc_score
from tests.unit.algorithms._distributed_host import run_host

pytestmark = pytest.mark.filterwarnings("ignore:.*Unknown file format")

HOSTS = ["algo-1", "algo-2"]
HYPERPARAMETERS = {
    "num_round": "20",
    "objective": "binary:logistic",
    "max_depth": "3",
    "eval_metric": "auc,accuracy",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_csv(path: Path, features: np.ndarray, labels: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savetxt(path, np.column_stack([labels, features]), delimiter=",", fmt="%.9g")


def run_hosts(
    root: Path, launched: list[str], hyperparameters: dict[str, str], timeout_s: float
) -> dict[str, Any]:
    """Run ``launched`` hosts of the cluster HOSTS as processes; their results by host."""
    context = multiprocessing.get_context("spawn")
    port = free_port()
    processes = [
        context.Process(target=run_host, args=(str(root), HOSTS, host, port, hyperparameters, timeout_s))
        for host in launched
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
    assert [process.exitcode for process in processes] == [0] * len(processes)
    return {host: json.loads((root / host / "result.json").read_text()) for host in launched}


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, ...]:
    features, labels = load_breast_cancer(return_X_y=True)
    order = np.random.default_rng(3).permutation(len(labels))
    features, labels = features[order].astype(np.float32), labels[order].astype(np.float32)
    return features[:350], labels[:350], features[350:450], labels[350:450], features[450:], labels[450:]


def test_two_hosts_train_one_model_on_their_shards(tmp_path: Path, data: tuple[np.ndarray, ...]) -> None:
    x_train, y_train, x_valid, y_valid, x_test, y_test = data
    for rank, host in enumerate(HOSTS):
        write_csv(tmp_path / host / "data" / "train" / "train.csv", x_train[rank::2], y_train[rank::2])
        write_csv(
            tmp_path / host / "data" / "validation" / "validation.csv", x_valid[rank::2], y_valid[rank::2]
        )

    results = run_hosts(tmp_path, HOSTS, HYPERPARAMETERS, timeout_s=60)

    assert results == {"algo-1": {"outcome": "ok"}, "algo-2": {"outcome": "ok"}}
    assert not (tmp_path / "algo-2" / "model" / "xgboost-model").exists()
    # XGBoost's tracker says "Task 000001 got rank 1"; only the master prints metric lines.
    assert "\ttrain-" not in (tmp_path / "algo-2" / "stdout.txt").read_text()
    stdout = (tmp_path / "algo-1" / "stdout.txt").read_text()
    lines = [line for line in stdout.splitlines() if "\ttrain-auc:" in line]
    assert len(lines) == 20 and lines[-1].startswith("[19]\ttrain-auc:")
    # Metrics are over both shards: accuracy on 350 training rows is a multiple of 1/350.
    accuracy = float(lines[-1].split("train-accuracy:")[1].split("\t")[0])
    assert min(abs(accuracy * 350 - round(accuracy * 350)), 1.0) < 0.01

    distributed = xgboost.Booster(model_file=str(tmp_path / "algo-1" / "model" / "xgboost-model"))
    single = xgboost.train(
        {"objective": "binary:logistic", "max_depth": 3, "seed": 0, "nthread": 1},
        xgboost.DMatrix(x_train, y_train),
        num_boost_round=20,
    )
    dtest = xgboost.DMatrix(x_test)
    assert distributed.num_boosted_rounds() == 20
    distributed_auc = roc_auc_score(y_test, distributed.predict(dtest))
    single_auc = roc_auc_score(y_test, single.predict(dtest))
    assert distributed_auc == pytest.approx(single_auc, abs=0.02)
    assert distributed_auc > 0.95


def test_hosts_that_never_meet_fail_clearly(tmp_path: Path, data: tuple[np.ndarray, ...]) -> None:
    x_train, y_train = data[0], data[1]
    for host in HOSTS:
        write_csv(tmp_path / "alone-master" / host / "data" / "train" / "train.csv", x_train, y_train)
        write_csv(tmp_path / "alone-worker" / host / "data" / "train" / "train.csv", x_train, y_train)
    context = multiprocessing.get_context("spawn")
    runs = [
        context.Process(
            target=run_host, args=(str(tmp_path / folder), HOSTS, host, free_port(), HYPERPARAMETERS, 2.0)
        )
        for folder, host in (("alone-master", "algo-1"), ("alone-worker", "algo-2"))
    ]
    for process in runs:
        process.start()
    for process in runs:
        process.join(60)

    master = json.loads((tmp_path / "alone-master" / "algo-1" / "result.json").read_text())
    worker = json.loads((tmp_path / "alone-worker" / "algo-2" / "result.json").read_text())
    assert master["outcome"] == "AlgorithmError"
    assert master["message"].startswith(
        "Not every one of the 2 hosts (algo-1, algo-2) joined the training cluster at 127.0.0.1:"
    )
    assert "within 2 s" in master["message"]
    assert worker["outcome"] == "AlgorithmError"
    assert worker["message"].startswith(
        "Host algo-2 could not join the training cluster of algo-1 at 127.0.0.1:"
    )
    assert not (tmp_path / "alone-master" / "algo-1" / "model" / "xgboost-model").exists()


def test_bad_data_on_one_host_fails_every_host(tmp_path: Path, data: tuple[np.ndarray, ...]) -> None:
    x_train, y_train = data[0], data[1]
    write_csv(tmp_path / "algo-1" / "data" / "train" / "train.csv", x_train, y_train)
    bad = tmp_path / "algo-2" / "data" / "train" / "train.csv"
    bad.parent.mkdir(parents=True)
    bad.write_text("1,2,3\n0,x,4\n")

    results = run_hosts(tmp_path, HOSTS, HYPERPARAMETERS, timeout_s=60)

    assert results["algo-2"] == {
        "outcome": "AlgorithmClientError",
        "message": "Non-numeric value 'x' in train.csv line 2 column 2; CSV input must be numeric with the "
        "label in the first column and no header",
    }
    assert results["algo-1"] == {
        "outcome": "AlgorithmClientError",
        "message": "Host(s) algo-2 could not load their data; their logs say why",
    }
