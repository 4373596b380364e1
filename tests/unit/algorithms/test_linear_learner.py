"""Linear Learner: learns each problem type, selects by the criteria, merges hosts, serves the documented shapes."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from tests.unit.algorithms.conftest import EnvFactory

from opensage.algorithms.aialgs.channels import Batch
from opensage.algorithms.aialgs.metrics import MetricLog
from opensage.algorithms.linear_learner import LinearLearnerAlgorithm
from opensage.algorithms.linear_learner.evaluation import choose_binary, roc_auc
from opensage.algorithms.linear_learner.job import select
from opensage.algorithms.linear_learner.model import load_fitted
from opensage.algorithms.linear_learner.training import Exchange, Sources, Trainer, problem_from
from opensage.errors import AlgorithmClientError


def data(kind: str, rows: int = 3000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    random = np.random.default_rng(seed)
    features = (random.normal(size=(rows, 6)) * [1, 10, 0.1, 1, 5, 1] + 50).astype(np.float32)
    signal = (features - 50) @ np.array([1.0, 0.1, 8.0, -1.0, 0.2, 0.0])
    if kind == "binary_classifier":
        labels = (signal + random.logistic(size=rows) > 0).astype(np.float32)
    elif kind == "multiclass_classifier":
        labels = np.digitize(signal + random.normal(scale=0.3, size=rows), [-1.0, 1.0]).astype(np.float32)
    else:
        labels = (3 * signal + 100 + random.normal(size=rows)).astype(np.float32)
    return features, labels


def train(make_env: EnvFactory, kind: str, with_validation: bool = True, **changes: str) -> tuple[Path, str]:
    channels = {"train": "text/csv", **({"validation": "text/csv"} if with_validation else {})}
    hyperparameters = {"predictor_type": kind, "mini_batch_size": "200", "epochs": "6", **changes}
    if kind == "multiclass_classifier":
        hyperparameters["num_classes"] = "3"
    env = make_env(hyperparameters, channels)
    features, labels = data(kind)
    for name, part in (("train", slice(0, 2400)), ("validation", slice(2400, None))):
        if name in env.channels:
            rows = np.column_stack([labels[part], features[part]])
            np.savetxt(env.channels[name].path / "data.csv", rows, delimiter=",", fmt="%.9g")
    out = io.StringIO()
    import contextlib

    with contextlib.redirect_stdout(out):
        LinearLearnerAlgorithm().train(env)
    return env.model_dir, out.getvalue()


def predict(model_dir: Path, rows: np.ndarray) -> list[dict[str, object]]:
    predictor = LinearLearnerAlgorithm().load_predictor(model_dir, {})
    body = json.dumps({"instances": [{"features": row} for row in rows.tolist()]}).encode()
    answer: list[dict[str, object]] = json.loads(predictor.predict(body, "application/json", None).body)[
        "predictions"
    ]
    return answer


def test_binary_classifier_learns_and_prints_the_documented_metrics(make_env: EnvFactory) -> None:
    model_dir, log = train(make_env, "binary_classifier")
    features, labels = data("binary_classifier")
    answers = predict(model_dir, features[2400:])
    scores = np.array([a["score"] for a in answers])
    assert set(answers[0]) == {"score", "predicted_label"} and scores.min() >= 0 and scores.max() <= 1
    from sklearn.linear_model import LogisticRegression

    reference = LogisticRegression(max_iter=1000).fit(features[:2400], labels[:2400])
    best = roc_auc_score(labels[2400:], reference.predict_proba(features[2400:])[:, 1])
    assert roc_auc_score(labels[2400:], scores) > best - 0.005
    assert "validation binary_classification_cross_entropy_objective <loss>=" in log
    assert "#quality_metric: host=algo-1, epoch=0, validation" in log
    for name in ("binary_classification_accuracy", "binary_f_1.000", "precision", "recall", "roc_auc_score"):
        assert f"validation {name} <score>=" in log


def test_multiclass_scores_are_class_probabilities(make_env: EnvFactory) -> None:
    model_dir, log = train(make_env, "multiclass_classifier", balance_multiclass_weights="true")
    features, labels = data("multiclass_classifier")
    answers = predict(model_dir, features[2400:])
    probabilities = np.array([a["score"] for a in answers])
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=1e-5)
    predicted = np.array([a["predicted_label"] for a in answers])
    assert np.mean(predicted == labels[2400:]) > 0.85
    assert "validation multiclass_top_k_accuracy <score>=" in log and "validation dcg <score>=" in log


@pytest.mark.parametrize("loss", ["squared_loss", "huber_loss", "absolute_loss", "quantile_loss"])
def test_regressor_fits_unnormalised_labels(make_env: EnvFactory, loss: str) -> None:
    model_dir, log = train(make_env, "regressor", loss=loss, epochs="10")
    features, labels = data("regressor")
    answers = predict(model_dir, features[2400:])
    assert set(answers[0]) == {"score"}
    rmse = float(np.sqrt(np.mean((np.array([a["score"] for a in answers]) - labels[2400:]) ** 2)))
    assert rmse < 0.15 * labels.std()
    assert "validation rmse <loss>=" in log


def test_without_validation_it_trains_and_selects_on_the_scaler_sample(make_env: EnvFactory) -> None:
    model_dir, log = train(make_env, "binary_classifier", with_validation=False, loss="hinge_loss")
    assert "train binary_classification_hinge_loss_objective <loss>=" in log
    assert load_fitted(model_dir).loss == "hinge_loss"


def test_same_job_same_model_bytes(make_env: EnvFactory, tmp_path: Path) -> None:
    first, _ = train(make_env, "binary_classifier", num_models="4")
    saved = (first / "linear-learner-model.npz").read_bytes()
    second, _ = train(make_env, "binary_classifier", num_models="4")
    assert (second / "linear-learner-model.npz").read_bytes() == saved


def test_threshold_criteria_meet_their_targets() -> None:
    random = np.random.default_rng(3)
    labels = (random.random(2000) < 0.3).astype(np.float64)
    scores = np.column_stack([labels * 0.3 + random.random(2000), random.random(2000)])
    losses = np.array([0.5, 0.7])
    common = {"natural_threshold": 0.5, "beta": 1.0, "target_recall": 0.9, "target_precision": 0.6}
    at_recall = choose_binary(scores, labels, losses, "precision_at_target_recall", **common)
    assert at_recall.model == 0
    assert np.mean(scores[labels == 1, 0] >= at_recall.threshold) >= 0.9
    at_precision = choose_binary(scores, labels, losses, "recall_at_target_precision", **common)
    assert labels[scores[:, 0] >= at_precision.threshold].mean() >= 0.6
    by_loss = choose_binary(scores, labels, losses, "loss_function", **common)
    assert (by_loss.model, by_loss.threshold) == (0, 0.5)
    assert roc_auc(scores[:, 0], labels) == pytest.approx(roc_auc_score(labels, scores[:, 0]))


def test_balanced_positive_weight_raises_recall_on_rare_positives() -> None:
    features, labels = data("binary_classifier", rows=4000)
    labels = ((features[:, 2] - 50) * 8 > 1.2).astype(np.float32)  # about 12 % positive
    recalls = {}
    for weight in ("1", "balanced"):
        values = LinearLearnerAlgorithm().validate_hyperparameters(
            {
                "predictor_type": "binary_classifier",
                "num_models": "1",
                "positive_example_weight_mult": weight,
                "binary_classifier_model_selection_criteria": "loss_function",
                "epochs": "3",
            }
        )
        problem = problem_from(values)
        batches = [Batch(features[i : i + 500], labels[i : i + 500], "x") for i in range(0, 4000, 500)]
        trainer = Trainer(values, problem, MetricLog("algo-1", io.StringIO()))
        weights, bias = trainer.run(Sources(lambda epoch, batches=batches: iter(batches)))  # type: ignore[misc]
        fitted, _ = select(weights, bias, problem, values, iter(batches))
        recalls[weight] = fitted.outputs(fitted.raw_scores(features))[1][labels == 1].mean()
    assert recalls["balanced"] > recalls["1"]


class ThreadHosts:
    """``cluster.exchange`` for hosts that are threads of this process."""

    def __init__(self, count: int) -> None:
        self.count, self.states = count, [b""] * count
        self.barrier = threading.Barrier(count, timeout=60)
        self.merged = b""

    def exchange(self, rank: int) -> Exchange:
        def exchange(state: bytes, merge: Callable[[list[bytes]], bytes]) -> bytes:
            self.states[rank] = state
            self.barrier.wait()
            if rank == 0:
                self.merged = merge(list(self.states))
            self.barrier.wait()
            merged = self.merged
            self.barrier.wait()  # every host has it before the next round writes
            return merged

        return exchange


def test_hosts_averaging_every_epoch_train_as_one_host() -> None:
    """Two hosts averaging every epoch end with the same models, as accurate as one host's (data that converges)."""
    features, labels = data("binary_classifier", rows=8000)
    values = LinearLearnerAlgorithm().validate_hyperparameters(
        {"predictor_type": "binary_classifier", "num_models": "4", "mini_batch_size": "200", "epochs": "6"}
    )
    problem = problem_from(values)

    def batches(part: slice) -> list[Batch]:
        x, y = features[part], labels[part]
        return [Batch(x[i : i + 200], y[i : i + 200], "x") for i in range(0, len(x), 200)]

    validation = batches(slice(6000, None))

    def trained(part: slice, exchange: Exchange | None = None) -> tuple[np.ndarray, np.ndarray]:
        train = batches(part)
        trainer = Trainer(values, problem, MetricLog("algo-1", io.StringIO()), exchange)
        return trainer.run(Sources(lambda epoch: iter(train), lambda: iter(validation)))

    hosts, results = ThreadHosts(2), {}
    threads = [
        threading.Thread(target=lambda r=r, part=part: results.update({r: trained(part, hosts.exchange(r))}))
        for r, part in enumerate((slice(0, 3000), slice(3000, 6000)))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    np.testing.assert_array_equal(results[0][0], results[1][0])  # every host ends with the same models

    def accuracy(weights: np.ndarray, bias: np.ndarray) -> float:
        fitted, _ = select(weights, bias, problem, values, iter(validation))
        predicted = fitted.outputs(fitted.raw_scores(features[6000:]))[1]
        return float(np.mean(predicted == labels[6000:]))

    one = accuracy(*trained(slice(0, 6000)))
    assert abs(accuracy(*results[0]) - one) <= 0.005


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"predictor_type": "ranker"}, "predictor_type"),
        ({"loss": "hinge_loss", "predictor_type": "regressor"}, "loss"),
        ({"predictor_type": "multiclass_classifier"}, "num_classes"),
        ({"target_recall": "1.5"}, "target_recall"),
        ({"positive_example_weight_mult": "heavy"}, "positive_example_weight_mult"),
        ({"optimizer": "lbfgs"}, "optimizer"),
        ({"learning_rate": "-1"}, "learning_rate"),
        ({"learning_rat": "0.1"}, "learning_rat"),
    ],
)
def test_bad_hyperparameters_are_named(changes: dict[str, str], named: str) -> None:
    with pytest.raises(AlgorithmClientError, match=named):
        LinearLearnerAlgorithm().validate_hyperparameters({"predictor_type": "binary_classifier", **changes})


def test_every_documented_hyperparameter_has_its_default() -> None:
    values = LinearLearnerAlgorithm().validate_hyperparameters({"predictor_type": "regressor"})
    assert values["mini_batch_size"] == 1000 and values["epochs"] == 15 and values["num_models"] == "auto"
    assert values["loss"] == "auto" and values["optimizer"] == "auto" and values["normalize_data"] is True
    assert values["early_stopping_patience"] == 3 and values["num_point_for_scaler"] == 10000


def test_a_bad_label_is_named(make_env: EnvFactory) -> None:
    env = make_env({"predictor_type": "binary_classifier"}, {"train": "text/csv"})
    (env.channels["train"].path / "data.csv").write_text("0,1.5,2\n2,1.0,3\n")
    with pytest.raises(AlgorithmClientError, match=r"label 2\.0 is not 0 or 1"):
        LinearLearnerAlgorithm().train(env)
