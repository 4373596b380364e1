"""XGBoost's metric lines and definitions, the evaluation plan, container metrics, stopping on SIGTERM."""

from __future__ import annotations

import re
import signal
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import xgboost
from sklearn.datasets import load_diabetes
from sklearn.metrics import balanced_accuracy_score, f1_score, precision_score, recall_score

from opensage.algorithms.base import TrainingEnvironment
from opensage.algorithms.xgboost import XGBoostAlgorithm
from opensage.algorithms.xgboost.callbacks import MetricLines, StopOnTerminate
from opensage.algorithms.xgboost.custom_metrics import classification_scores, confusion_matrix
from opensage.algorithms.xgboost.distributed import LocalGroup
from opensage.algorithms.xgboost.metrics import (
    MAXIMIZE_METRICS,
    MINIMIZE_METRICS,
    EvaluationPlan,
    is_maximized,
    plan_evaluation,
)
from opensage.errors import AlgorithmClientError

EnvFactory = Callable[..., TrainingEnvironment]


def definitions() -> dict[str, str]:
    return {definition.name: definition.regex for definition in XGBoostAlgorithm().metric_definitions()}


def test_every_documented_metric_on_both_sides() -> None:
    names = set(definitions())
    metrics = MAXIMIZE_METRICS + MINIMIZE_METRICS
    assert names == {f"{data}:{metric}" for data in ("train", "validation") for metric in metrics}
    assert len(names) == 66
    assert definitions()["validation:auc"] == (
        r".*\[[0-9]+\].*#011validation-auc:([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"
    )


@pytest.mark.parametrize(
    ("line", "name", "value"),
    [
        ("[5]#011train-rmse:1.20000#011validation-rmse:1.30000", "validation:rmse", 1.3),
        ("[5]#011train-rmse:1.20000#011validation-rmse:1.30000", "train:rmse", 1.2),
        (
            "[12]#011train-logloss:0.1#011validation-mlogloss:0.7#011validation-logloss:2e-05",
            "validation:logloss",
            2e-05,
        ),
        ("[0]#011validation-mlogloss:0.7", "validation:logloss", None),
        ("[0]#011validation-error@0.7:0.1#011validation-error:0.2", "validation:error", 0.2),
        ("[0]#011validation-mae:0.5", "validation:mape", None),
        ("algo-2: round 5 of 10 done", "validation:auc", None),
    ],
)
def test_regexes_pick_exactly_their_metric(line: str, name: str, value: float | None) -> None:
    match = re.match(definitions()[name], line)
    assert (float(match.group(1)) if match else None) == value


def test_lines_are_exactly_xgboosts_own(
    make_env: EnvFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    features, labels = load_diabetes(return_X_y=True)
    features, labels = features.astype(np.float32), labels.astype(np.float32)
    env = make_env(
        {"num_round": "5", "eval_metric": "rmse,mape"}, {"train": "text/csv", "validation": "text/csv"}
    )
    np.savetxt(
        env.channels["train"].path / "t.csv",
        np.column_stack([labels[:300], features[:300]]),
        delimiter=",",
        fmt="%.9g",
    )
    np.savetxt(
        env.channels["validation"].path / "v.csv",
        np.column_stack([labels[300:], features[300:]]),
        delimiter=",",
        fmt="%.9g",
    )
    XGBoostAlgorithm().train(env)
    ours = capsys.readouterr().out

    dtrain, dvalid = (
        xgboost.DMatrix(features[:300], labels[:300]),
        xgboost.DMatrix(features[300:], labels[300:]),
    )
    params = {"eval_metric": ["rmse", "mape"], "seed": 0, "nthread": 2}
    xgboost.train(params, dtrain, 5, evals=[(dtrain, "train"), (dvalid, "validation")], verbose_eval=True)
    assert ours == capsys.readouterr().out


def test_metric_lines_are_flushed_each_round(tmp_path: Path) -> None:
    class Recorder:
        def __init__(self) -> None:
            self.events: list[str] = []

        def write(self, text: str) -> int:
            self.events.append("write:" + text)
            return len(text)

        def flush(self) -> None:
            self.events.append("flush")

    stream = Recorder()
    lines = MetricLines(LocalGroup(), "algo-1", 2, stream=stream)  # type: ignore[arg-type]
    lines.after_iteration(None, 0, {"train": {"rmse": [1.5]}})
    lines.after_iteration(None, 1, {"train": {"rmse": [1.5, 1.25]}})
    assert stream.events == [
        "write:[0]\ttrain-rmse:1.50000",
        "write:\n",
        "flush",
        "write:[1]\ttrain-rmse:1.25000",
        "write:\n",
        "flush",
    ]


@pytest.mark.parametrize(
    ("eval_metric", "tuning", "has_validation", "plan"),
    [
        (None, None, True, EvaluationPlan((), (), None, "validation")),
        (["auc", "logloss"], None, True, EvaluationPlan(("auc", "logloss"), (), "logloss", "validation")),
        (["auc", "logloss"], None, False, EvaluationPlan(("auc", "logloss"), (), "logloss", "train")),
        (["logloss"], "validation:auc", True, EvaluationPlan(("logloss", "auc"), (), "auc", "validation")),
        (["auc"], "train:f1", True, EvaluationPlan(("auc",), ("f1",), "f1", "train")),
        (["accuracy", "rmse"], None, True, EvaluationPlan(("rmse",), ("accuracy",), "rmse", "validation")),
    ],
)
def test_evaluation_plan(
    eval_metric: list[str] | None, tuning: str | None, has_validation: bool, plan: EvaluationPlan
) -> None:
    assert plan_evaluation(eval_metric, tuning, has_validation) == plan


def test_evaluation_plan_needs_validation_for_a_validation_objective() -> None:
    with pytest.raises(AlgorithmClientError, match="needs a 'validation' channel"):
        plan_evaluation(None, "validation:rmse", has_validation=False)


@pytest.mark.parametrize(
    ("metric", "maximized"),
    [
        ("auc", True),
        ("f1", True),
        ("r2", True),
        ("ndcg@5", True),
        ("map@3", True),
        ("rmse", False),
        ("error@0.3", False),
        ("mape", False),
    ],
)
def test_metric_direction(metric: str, maximized: bool) -> None:
    assert is_maximized(metric) is maximized


def test_container_metrics_from_confusion_counts_match_scikit_learn() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 300).astype(np.float32)
    predicted = rng.integers(0, 3, 300)  # class 3 is never predicted
    # Summing the counts of two shards gives the counts of the whole data (what hosts do).
    shards = [
        confusion_matrix(labels[part], predicted[part], 4, lambda values: values)
        for part in (slice(0, 120), slice(120, None))
    ]
    scores = classification_scores(shards[0] + shards[1])
    assert scores["f1_macro"] == pytest.approx(f1_score(labels, predicted, average="macro", zero_division=0))
    assert scores["precision_macro"] == pytest.approx(
        precision_score(labels, predicted, average="macro", zero_division=0)
    )
    assert scores["recall_macro"] == pytest.approx(
        recall_score(labels, predicted, average="macro", zero_division=0)
    )
    assert scores["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(labels, predicted))
    assert scores["accuracy"] == pytest.approx(float(np.mean(labels == predicted)))


def test_sigterm_ends_training_after_the_round_and_restores_the_handler() -> None:
    previous = signal.getsignal(signal.SIGTERM)
    stopper = StopOnTerminate(LocalGroup())
    stopper.before_training(None)
    assert stopper.after_iteration(None, 0, {}) is False
    signal.raise_signal(signal.SIGTERM)
    assert stopper.after_iteration(None, 1, {}) is True
    stopper.after_training(None)
    assert signal.getsignal(signal.SIGTERM) == previous
