"""XGBoost trains on real data in every content type, as xgboost.train would, and logs SageMaker's lines."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xgboost
from scipy import sparse
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    mean_squared_error,
    precision_score,
    r2_score,
    recall_score,
)

from opensage.algorithms.base import TrainingEnvironment
from opensage.algorithms.xgboost import XGBoostAlgorithm
from opensage.formats.recordio import write_dense, write_sparse

# Booster(model_file=...) on a file without an extension guesses UBJSON, correctly, with a warning.
pytestmark = pytest.mark.filterwarnings("ignore:.*Unknown file format")

Split = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
EnvFactory = Callable[..., TrainingEnvironment]


def split(loader: Any) -> Split:
    features, labels = loader(return_X_y=True)
    order = np.random.default_rng(7).permutation(len(labels))
    features, labels = features[order].astype(np.float32), labels[order].astype(np.float32)
    cut = int(len(labels) * 0.75)
    return features[:cut], labels[:cut], features[cut:], labels[cut:]


def write_csv(path: Path, features: np.ndarray, labels: np.ndarray, sep: str = ",") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savetxt(path, np.column_stack([labels, features]), delimiter=sep, fmt="%.9g")


def write_libsvm(path: Path, features: Any, labels: np.ndarray) -> None:
    matrix = sparse.csr_matrix(features)
    lines = []
    for row, label in enumerate(labels):
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        pairs = " ".join(
            f"{col}:{value:.9g}"
            for col, value in zip(matrix.indices[start:end], matrix.data[start:end], strict=True)
        )
        lines.append(f"{label:g} {pairs}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def write_parquet(path: Path, features: np.ndarray, labels: np.ndarray) -> None:
    columns = {"label": labels} | {f"f{i}": features[:, i] for i in range(features.shape[1])}
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns), path)


def reference_model(
    params: dict[str, Any], dtrain: xgboost.DMatrix, rounds: int, **kwargs: Any
) -> xgboost.Booster:
    return xgboost.train(
        {"seed": 0, "nthread": 2} | params, dtrain, num_boost_round=rounds, verbose_eval=False, **kwargs
    )


def saved_model(tmp_path: Path) -> xgboost.Booster:
    return xgboost.Booster(model_file=str(tmp_path / "model" / "xgboost-model"))


def scraped(stdout: str, name: str) -> list[float]:
    """The values of one metric, read as the platform reads CloudWatch-style lines (tab = #011)."""
    definition = next(d for d in XGBoostAlgorithm().metric_definitions() if d.name == name)
    pattern = re.compile(definition.regex)
    values = []
    for line in stdout.splitlines():
        match = pattern.match(line.replace("\t", "#011"))
        if match:
            values.append(float(match.group(1)))
    return values


def test_regression_on_csv_matches_xgboost_train(
    make_env: EnvFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    x_train, y_train, x_valid, y_valid = split(load_diabetes)
    hyperparameters = {
        "num_round": "20",
        "max_depth": "3",
        "eta": "0.2",
        "eval_metric": "rmse,mae",
        "seed": "5",
    }
    env = make_env(hyperparameters, {"train": "text/csv", "validation": "text/csv; label_size=1"})
    write_csv(env.channels["train"].path / "train.csv", x_train, y_train)
    write_csv(env.channels["validation"].path / "validation.csv", x_valid, y_valid, sep=";")

    XGBoostAlgorithm().train(env)

    dtrain, dvalid = xgboost.DMatrix(x_train, y_train), xgboost.DMatrix(x_valid, y_valid)
    history: dict[str, Any] = {}
    expected = reference_model(
        {
            "max_depth": 3,
            "eta": 0.2,
            "eval_metric": ["rmse", "mae"],
            "seed": 5,
            "objective": "reg:squarederror",
        },
        dtrain,
        20,
        evals=[(dtrain, "train"), (dvalid, "validation")],
        evals_result=history,
    )
    assert np.allclose(saved_model(tmp_path).predict(dvalid), expected.predict(dvalid))
    stdout = capsys.readouterr().out
    assert stdout.splitlines()[0].startswith("[0]\ttrain-rmse:")
    assert stdout.splitlines()[0].split("\t")[1:] == [
        f"train-rmse:{history['train']['rmse'][0]:.5f}",
        f"train-mae:{history['train']['mae'][0]:.5f}",
        f"validation-rmse:{history['validation']['rmse'][0]:.5f}",
        f"validation-mae:{history['validation']['mae'][0]:.5f}",
    ]
    assert scraped(stdout, "validation:rmse") == pytest.approx(history["validation"]["rmse"], abs=1e-5)
    assert scraped(stdout, "train:mae") == pytest.approx(history["train"]["mae"], abs=1e-5)
    assert len(scraped(stdout, "validation:mae")) == 20


def test_binary_on_libsvm_is_the_default_content_type(make_env: EnvFactory, tmp_path: Path) -> None:
    x_train, y_train, x_valid, _ = split(load_breast_cancer)
    env = make_env({"num_round": "10", "objective": "binary:logistic", "max_depth": "2"}, {"train": None})
    write_libsvm(env.channels["train"].path / "part-0", x_train[:200], y_train[:200])
    write_libsvm(env.channels["train"].path / "more" / "part-1", x_train[200:], y_train[200:])

    XGBoostAlgorithm().train(env)

    dtrain = xgboost.DMatrix(sparse.csr_matrix(x_train), y_train)
    expected = reference_model({"objective": "binary:logistic", "max_depth": 2}, dtrain, 10)
    dvalid = xgboost.DMatrix(sparse.csr_matrix(x_valid))
    assert np.allclose(saved_model(tmp_path).predict(dvalid), expected.predict(dvalid))


def test_multiclass_on_parquet(
    make_env: EnvFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    x_train, y_train, x_valid, y_valid = split(load_iris)
    hyperparameters = {
        "num_round": "8",
        "objective": "multi:softprob",
        "num_class": "3",
        "eval_metric": "mlogloss,merror",
    }
    env = make_env(hyperparameters, {"train": "application/x-parquet", "validation": "application/x-parquet"})
    write_parquet(env.channels["train"].path / "part-0.parquet", x_train[:60], y_train[:60])
    write_parquet(env.channels["train"].path / "part-1.parquet", x_train[60:], y_train[60:])
    # What Spark writes beside its part files: markers and metadata, not rows.
    (env.channels["train"].path / "_SUCCESS").write_bytes(b"")
    pq.write_metadata(pa.schema([("label", pa.float32())]), env.channels["train"].path / "_common_metadata")
    write_parquet(env.channels["validation"].path / "validation.parquet", x_valid, y_valid)

    XGBoostAlgorithm().train(env)

    dtrain = xgboost.DMatrix(x_train, y_train)
    params = {"objective": "multi:softprob", "num_class": 3, "eval_metric": ["mlogloss", "merror"]}
    expected = reference_model(params, dtrain, 8)
    dvalid = xgboost.DMatrix(x_valid)
    predictions = saved_model(tmp_path).predict(dvalid)
    assert predictions.shape == (len(y_valid), 3)
    assert np.allclose(predictions, expected.predict(dvalid))
    assert len(scraped(capsys.readouterr().out, "validation:merror")) == 8


@pytest.mark.parametrize("layout", ["dense", "sparse"])
def test_recordio_protobuf(make_env: EnvFactory, tmp_path: Path, layout: str) -> None:
    x_train, y_train, x_valid, _ = split(load_breast_cancer)
    env = make_env(
        {"num_round": "6", "objective": "binary:logistic"}, {"train": "application/x-recordio-protobuf"}
    )
    with (env.channels["train"].path / "train.rec").open("wb") as stream:
        if layout == "dense":
            write_dense(stream, x_train, y_train)
        else:
            write_sparse(stream, sparse.csr_matrix(x_train), y_train)

    XGBoostAlgorithm().train(env)

    features = x_train if layout == "dense" else sparse.csr_matrix(x_train)
    expected = reference_model({"objective": "binary:logistic"}, xgboost.DMatrix(features, y_train), 6)
    dvalid = xgboost.DMatrix(x_valid)
    assert np.allclose(saved_model(tmp_path).predict(dvalid), expected.predict(dvalid))


def test_csv_weights_are_instance_weights(make_env: EnvFactory, tmp_path: Path) -> None:
    x_train, y_train, x_valid, _ = split(load_diabetes)
    weights = np.random.default_rng(1).uniform(0.1, 3, len(y_train)).astype(np.float32)
    env = make_env({"num_round": "5", "csv_weights": "1"})
    write_csv(env.channels["train"].path / "train.csv", np.column_stack([weights, x_train]), y_train)

    XGBoostAlgorithm().train(env)

    expected = reference_model(
        {"objective": "reg:squarederror"}, xgboost.DMatrix(x_train, y_train, weight=weights), 5
    )
    unweighted = reference_model({"objective": "reg:squarederror"}, xgboost.DMatrix(x_train, y_train), 5)
    dvalid = xgboost.DMatrix(x_valid)
    assert np.allclose(saved_model(tmp_path).predict(dvalid), expected.predict(dvalid))
    assert not np.allclose(expected.predict(dvalid), unweighted.predict(dvalid))


def test_early_stopping_watches_the_last_eval_metric(make_env: EnvFactory, tmp_path: Path) -> None:
    x_train, y_train, x_valid, y_valid = split(load_breast_cancer)
    hyperparameters = {
        "num_round": "300",
        "objective": "binary:logistic",
        "eta": "0.5",
        "eval_metric": "auc,logloss",
        "early_stopping_rounds": "4",
    }
    env = make_env(hyperparameters, {"train": "text/csv", "validation": "text/csv"})
    write_csv(env.channels["train"].path / "train.csv", x_train, y_train)
    write_csv(env.channels["validation"].path / "validation.csv", x_valid, y_valid)

    XGBoostAlgorithm().train(env)

    dtrain, dvalid = xgboost.DMatrix(x_train, y_train), xgboost.DMatrix(x_valid, y_valid)
    params = {"objective": "binary:logistic", "eta": 0.5, "eval_metric": ["auc", "logloss"]}
    expected = reference_model(
        params, dtrain, 300, evals=[(dtrain, "train"), (dvalid, "validation")], early_stopping_rounds=4
    )
    model = saved_model(tmp_path)
    assert model.num_boosted_rounds() < 300
    assert model.num_boosted_rounds() == expected.num_boosted_rounds()
    assert model.attr("best_iteration") == expected.attr("best_iteration")


def test_early_stopping_watches_the_tuning_objective(
    make_env: EnvFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    x_train, y_train, x_valid, y_valid = split(load_breast_cancer)
    hyperparameters = {
        "num_round": "300",
        "objective": "binary:logistic",
        "eta": "0.5",
        "eval_metric": "logloss",
        "early_stopping_rounds": "4",
        "_tuning_objective_metric": "validation:auc",
    }
    env = make_env(hyperparameters, {"train": "text/csv", "validation": "text/csv"})
    write_csv(env.channels["train"].path / "train.csv", x_train, y_train)
    write_csv(env.channels["validation"].path / "validation.csv", x_valid, y_valid)

    XGBoostAlgorithm().train(env)

    dtrain, dvalid = xgboost.DMatrix(x_train, y_train), xgboost.DMatrix(x_valid, y_valid)
    watch_auc = xgboost.callback.EarlyStopping(
        rounds=4, metric_name="auc", data_name="validation", maximize=True
    )
    params = {"objective": "binary:logistic", "eta": 0.5, "eval_metric": ["logloss", "auc"]}
    expected = reference_model(
        params, dtrain, 300, evals=[(dtrain, "train"), (dvalid, "validation")], callbacks=[watch_auc]
    )
    model = saved_model(tmp_path)
    assert model.attr("best_iteration") == expected.attr("best_iteration")
    assert model.num_boosted_rounds() == expected.num_boosted_rounds()
    auc = scraped(capsys.readouterr().out, "validation:auc")
    assert len(auc) == model.num_boosted_rounds()
    assert max(auc) == pytest.approx(float(expected.attr("best_score") or "nan"), abs=1e-5)


def last_scores(stdout: str, data: str, names: list[str]) -> dict[str, float]:
    return {name: scraped(stdout, f"{data}:{name}")[-1] for name in names}


def test_container_metrics_for_binary_match_scikit_learn(
    make_env: EnvFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    x_train, y_train, x_valid, y_valid = split(load_breast_cancer)
    names = [
        "accuracy",
        "f1",
        "f1_binary",
        "balanced_accuracy",
        "precision",
        "recall",
        "precision_macro",
        "recall_micro",
    ]
    env = make_env(
        {"num_round": "3", "max_depth": "1", "objective": "binary:logistic", "eval_metric": ",".join(names)},
        {"train": "text/csv", "validation": "text/csv"},
    )
    write_csv(env.channels["train"].path / "train.csv", x_train, y_train)
    write_csv(env.channels["validation"].path / "validation.csv", x_valid, y_valid)

    XGBoostAlgorithm().train(env)

    predicted = (saved_model(tmp_path).predict(xgboost.DMatrix(x_valid)) > 0.5).astype(int)
    expected = {
        "accuracy": accuracy_score(y_valid, predicted),
        "f1": f1_score(y_valid, predicted, average="macro"),
        "f1_binary": f1_score(y_valid, predicted),
        "balanced_accuracy": balanced_accuracy_score(y_valid, predicted),
        "precision": precision_score(y_valid, predicted),
        "recall": recall_score(y_valid, predicted),
        "precision_macro": precision_score(y_valid, predicted, average="macro"),
        "recall_micro": recall_score(y_valid, predicted, average="micro"),
    }
    assert last_scores(capsys.readouterr().out, "validation", names) == pytest.approx(expected, abs=1e-5)


def test_container_metrics_for_multiclass_and_regression(
    make_env: EnvFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    x_train, y_train, x_valid, y_valid = split(load_iris)
    names = ["accuracy", "f1_macro", "precision_micro", "recall_macro"]
    env = make_env(
        {
            "num_round": "2",
            "max_depth": "1",
            "objective": "multi:softmax",
            "num_class": "3",
            "eval_metric": ",".join(names),
        },
        {"train": "text/csv", "validation": "text/csv"},
    )
    write_csv(env.channels["train"].path / "train.csv", x_train, y_train)
    write_csv(env.channels["validation"].path / "validation.csv", x_valid, y_valid)
    XGBoostAlgorithm().train(env)
    predicted = saved_model(tmp_path).predict(xgboost.DMatrix(x_valid))
    expected = {
        "accuracy": accuracy_score(y_valid, predicted),
        "f1_macro": f1_score(y_valid, predicted, average="macro"),
        "precision_micro": precision_score(y_valid, predicted, average="micro"),
        "recall_macro": recall_score(y_valid, predicted, average="macro"),
    }
    assert last_scores(capsys.readouterr().out, "validation", names) == pytest.approx(expected, abs=1e-5)


def test_container_regression_metrics(
    make_env: EnvFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    x_train, y_train, _, _ = split(load_diabetes)
    env = make_env({"num_round": "4", "eval_metric": "r2,mse"})
    write_csv(env.channels["train"].path / "train.csv", x_train, y_train)
    XGBoostAlgorithm().train(env)
    predicted = saved_model(tmp_path).predict(xgboost.DMatrix(x_train))
    scores = last_scores(capsys.readouterr().out, "train", ["r2", "mse"])
    assert scores["r2"] == pytest.approx(r2_score(y_train, predicted), abs=1e-5)
    assert scores["mse"] == pytest.approx(mean_squared_error(y_train, predicted), rel=1e-5)


def test_sagemaker_only_settings_are_translated_and_logged(
    make_env: EnvFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    x_train, y_train, x_valid, _ = split(load_diabetes)
    env = make_env(
        {"num_round": "3", "objective": "reg:linear", "tree_method": "gpu_hist", "predictor": "cpu_predictor"}
    )
    write_csv(env.channels["train"].path / "train.csv", x_train, y_train)
    with caplog.at_level(logging.INFO, logger="opensage.algorithms.xgboost"):
        XGBoostAlgorithm().train(env)
    messages = [record.getMessage() for record in caplog.records]
    assert "tree_method gpu_hist: there is no GPU here, training with hist on the CPU" in messages
    assert any(message.startswith("Ignoring predictor") for message in messages)
    assert any("reg:linear" in message for message in messages)
    assert f"Train matrix has {len(y_train)} rows and {x_train.shape[1]} columns" in messages
    expected = reference_model(
        {"objective": "reg:squarederror", "tree_method": "hist"}, xgboost.DMatrix(x_train, y_train), 3
    )
    dvalid = xgboost.DMatrix(x_valid)
    assert np.allclose(saved_model(tmp_path).predict(dvalid), expected.predict(dvalid))


def test_nthread_defaults_to_the_hosts_cpus(
    make_env: EnvFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    x_train, y_train, _, _ = split(load_diabetes)
    env = make_env({"num_round": "1"}, num_cpus=3)
    write_csv(env.channels["train"].path / "train.csv", x_train, y_train)
    with caplog.at_level(logging.INFO, logger="opensage.algorithms.xgboost"):
        XGBoostAlgorithm().train(env)
    assert any("'nthread': 3" in record.getMessage() for record in caplog.records)
