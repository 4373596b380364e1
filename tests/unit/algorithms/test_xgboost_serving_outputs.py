"""XGBoost hosting: SAGEMAKER_INFERENCE_OUTPUT keys, batch mode, k-fold ensembles, best iteration, model files."""

from __future__ import annotations

import io
import json
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xgboost as xgb
from tests.unit.algorithms.test_xgboost_serving import (
    OBJECTIVES,
    dataset,
    expected,
    load,
    request_body,
    response_records,
    response_scores,
    rows,
    save,
    train,
)

from opensage.errors import InferenceError
from opensage.formats.recordio import read_records

ACCEPTS = ["application/json", "application/jsonlines", "application/x-recordio-protobuf"]


def select(folder: Path, keys: str, features: np.ndarray, accept: str, **environment: str) -> Any:
    predictor = load(folder, {"SAGEMAKER_INFERENCE_OUTPUT": keys, **environment})
    return predictor.predict(request_body(features, "text/csv"), "text/csv", accept)


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[xgb.Booster, Path]]:
    trained = {}
    for kind, (name, params) in {
        **OBJECTIVES,
        "logitraw": ("breast_cancer", {"objective": "binary:logitraw"}),
    }.items():
        booster = train(name, params)
        trained[kind] = (booster, save(booster, tmp_path_factory.mktemp(kind)))
    return trained


def near(values: Any, want: Any) -> bool:
    """Equal once both are float32, as a RecordIO Float32Tensor holds them."""
    return np.array_equal(np.asarray(values, dtype=np.float32), np.asarray(want, dtype=np.float32))


# --- selectable output -----------------------------------------------------------------------------


@pytest.mark.parametrize("accept", ACCEPTS)
def test_binary_logistic_keys(folders: dict[str, tuple[xgb.Booster, Path]], accept: str) -> None:
    booster, folder = folders["binary"]
    features = rows("breast_cancer")
    p = expected(booster, features)
    keys = "predicted_label, labels,probability,PROBABILITIES,raw_score,raw_scores"
    outputs = response_records(select(folder, keys, features, accept))
    in_order = ["predicted_label", "labels", "probability", "probabilities", "raw_score", "raw_scores"]
    if accept == "application/x-recordio-protobuf":  # a protobuf map keeps no order
        assert all(sorted(item) == sorted(in_order) for item in outputs)
    else:
        assert all(list(item) == in_order for item in outputs)
    assert len(outputs) == len(p)
    assert near([o["predicted_label"] for o in outputs], (p > 0.5).astype(int))
    assert all(o["labels"] == [0, 1] for o in outputs)
    assert near([o["probability"] for o in outputs], p)
    assert near([o["raw_score"] for o in outputs], p)
    pairs = np.stack([1.0 - p.astype(np.float64), p.astype(np.float64)], axis=1)
    assert near([o["probabilities"] for o in outputs], pairs)
    assert near([o["raw_scores"] for o in outputs], pairs)


@pytest.mark.parametrize("accept", ACCEPTS)
def test_softprob_keys(folders: dict[str, tuple[xgb.Booster, Path]], accept: str) -> None:
    booster, folder = folders["softprob"]
    features = rows("iris")
    p = expected(booster, features)
    outputs = response_records(
        select(folder, "predicted_label,probability,probabilities,labels", features, accept)
    )
    assert near([o["predicted_label"] for o in outputs], p.argmax(axis=1))
    assert near([o["probability"] for o in outputs], p.max(axis=1))
    assert near([o["probabilities"] for o in outputs], p)
    assert all(o["labels"] == [0, 1, 2] for o in outputs)


def test_softmax_raw_scores_are_the_class_margins(folders: dict[str, tuple[xgb.Booster, Path]]) -> None:
    booster, folder = folders["softmax"]
    features = rows("iris")
    margins = expected(booster, features, output_margin=True)
    outputs = response_records(select(folder, "predicted_label,raw_score,raw_scores", features, ACCEPTS[0]))
    assert near([o["predicted_label"] for o in outputs], expected(booster, features))
    assert near([o["raw_scores"] for o in outputs], margins)
    assert near([o["raw_score"] for o in outputs], margins.max(axis=1))


def test_logitraw_labels_by_the_sign_of_the_margin(folders: dict[str, tuple[xgb.Booster, Path]]) -> None:
    booster, folder = folders["logitraw"]
    features = rows("breast_cancer")
    margin = expected(booster, features)
    outputs = response_records(select(folder, "predicted_label,raw_score", features, ACCEPTS[0]))
    assert near([o["predicted_label"] for o in outputs], (margin > 0).astype(int))
    assert near([o["raw_score"] for o in outputs], margin)


def test_hinge_labels_are_its_predictions(tmp_path: Path) -> None:
    booster = train("breast_cancer", {"objective": "binary:hinge"})
    features = rows("breast_cancer")
    predictions = expected(booster, features)
    outputs = response_records(
        select(save(booster, tmp_path), "predicted_label,raw_scores", features, ACCEPTS[0])
    )
    assert near([o["predicted_label"] for o in outputs], predictions)
    assert near([o["raw_scores"] for o in outputs], np.stack([1 - predictions, predictions], axis=1))


def test_regression_offers_the_predicted_score(folders: dict[str, tuple[xgb.Booster, Path]]) -> None:
    booster, folder = folders["regression"]
    features = rows("diabetes")
    outputs = response_records(select(folder, "predicted_score", features, ACCEPTS[0]))
    assert near([o["predicted_score"] for o in outputs], expected(booster, features))


def test_selected_csv_is_one_line_per_row_with_lists_quoted(
    folders: dict[str, tuple[xgb.Booster, Path]],
) -> None:
    booster, folder = folders["binary"]
    features = rows("breast_cancer", 2)
    p = expected(booster, features).tolist()
    prediction = select(folder, "predicted_label,probabilities", features, "text/csv")
    assert prediction.content_type == "text/csv"
    want = [f'{int(v > 0.5)},"[{1.0 - v!r}, {v!r}]"' for v in p]
    assert prediction.body.decode() == "\n".join(want)  # no trailing newline outside batch transform
    batch = select(folder, "predicted_label,probabilities", features, "text/csv", SAGEMAKER_BATCH="true")
    assert batch.body.decode() == "\n".join(want) + "\n"


def test_recordio_outputs_are_float32_tensors_in_label(folders: dict[str, tuple[xgb.Booster, Path]]) -> None:
    _, folder = folders["softprob"]
    body = select(folder, "predicted_label,probabilities", rows("iris", 3), ACCEPTS[2]).body
    records = list(read_records(io.BytesIO(body)))
    assert len(records) == 3
    assert all(set(record.label) == {"predicted_label", "probabilities"} for record in records)
    assert all(len(record.label["probabilities"].float32_tensor.values) == 3 for record in records)


@pytest.mark.parametrize(
    ("kind", "key"), [("regression", "probability"), ("softmax", "probabilities"), ("binary", "x")]
)
def test_a_key_the_objective_lacks_fails_the_load(
    folders: dict[str, tuple[xgb.Booster, Path]], kind: str, key: str
) -> None:
    with pytest.raises(InferenceError) as caught:
        load(
            folders[kind][1],
            {"SAGEMAKER_INFERENCE_OUTPUT": f"raw_score,{key}" if kind != "regression" else key},
        )
    assert caught.value.status_code == 500
    assert f"SAGEMAKER_INFERENCE_OUTPUT asks for '{key}'" in caught.value.message
    assert "choose from" in caught.value.message


def test_a_blank_selection_is_the_default_output(folders: dict[str, tuple[xgb.Booster, Path]]) -> None:
    booster, folder = folders["binary"]
    features = rows("breast_cancer", 3)
    prediction = select(folder, " ", features, "text/csv")
    assert np.array_equal(response_scores(prediction), expected(booster, features))


def test_no_rows_give_an_empty_selection(folders: dict[str, tuple[xgb.Booster, Path]]) -> None:
    predictor = load(folders["softprob"][1], {"SAGEMAKER_INFERENCE_OUTPUT": "predicted_label,probabilities"})
    assert json.loads(predictor.predict(b"\n\n", "text/csv", "application/json").body) == {"predictions": []}
    assert predictor.predict(b"\n", "text/csv", "text/csv").body == b""


# --- ensembles, early stopping and model files -----------------------------------------------------


def test_folds_are_served_as_the_mean_of_their_predictions(tmp_path: Path) -> None:
    folds = [
        train("breast_cancer", {"objective": "binary:logistic", "seed": seed, "subsample": 0.6})
        for seed in (1, 2, 3)
    ]
    for number, booster in enumerate(folds):
        save(booster, tmp_path, f"xgboost-model-{number}")
    features = rows("breast_cancer")
    want = np.mean([expected(booster, features) for booster in folds], axis=0)
    assert np.array_equal(
        response_scores(load(tmp_path).predict(request_body(features, "text/csv"), None, None)), want
    )
    alone = load(tmp_path, {"SAGEMAKER_INFERENCE_ENSEMBLE": "false"})
    assert np.array_equal(
        response_scores(alone.predict(request_body(features, "text/csv"), None, None)),
        expected(folds[0], features),
    )


def test_softmax_folds_vote(tmp_path: Path) -> None:
    params = {"objective": "multi:softmax", "num_class": 3, "subsample": 0.5, "max_depth": 1}
    folds = [train("iris", {**params, "seed": seed}, rounds=2) for seed in range(5)]
    for number, booster in enumerate(folds):
        save(booster, tmp_path, f"xgboost-model-{number}")
    features = dataset("iris")[0]
    votes = np.stack([expected(booster, features) for booster in folds]).astype(int)
    want = np.array([np.bincount(column, minlength=3).argmax() for column in votes.T], dtype=np.float32)
    assert (votes != votes[0]).any()  # the folds disagree somewhere, so the vote decides
    got = response_scores(load(tmp_path).predict(request_body(features, "text/csv"), None, None))
    assert np.array_equal(got, want)


def test_folds_that_disagree_on_features_are_refused(tmp_path: Path) -> None:
    save(train("breast_cancer", {"objective": "binary:logistic"}), tmp_path, "xgboost-model-0")
    save(train("iris", {"objective": "multi:softprob", "num_class": 3}), tmp_path, "xgboost-model-1")
    with pytest.raises(InferenceError, match="cannot be served as one ensemble"):
        load(tmp_path)


def test_early_stopping_predicts_with_the_best_iteration(tmp_path: Path) -> None:
    features, labels = dataset("breast_cancer")
    train_set = xgb.DMatrix(features[:300], label=labels[:300])
    valid_set = xgb.DMatrix(features[300:], label=labels[300:])
    params = {"objective": "binary:logistic", "eta": 0.9, "max_depth": 6, "nthread": 1}
    booster = xgb.train(
        params, train_set, 200, evals=[(valid_set, "validation")], early_stopping_rounds=3, verbose_eval=False
    )
    best = booster.best_iteration
    assert best + 1 < booster.num_boosted_rounds()
    sample = features[300:340]
    best_predictions = expected(booster, sample, iteration_range=(0, best + 1))
    assert not np.array_equal(best_predictions, expected(booster, sample))
    got = response_scores(load(save(booster, tmp_path)).predict(request_body(sample, "text/csv"), None, None))
    assert np.array_equal(got, best_predictions)


@pytest.mark.parametrize("how", ["pickle", "json", "other name"])
def test_older_model_files_are_loaded(tmp_path: Path, how: str) -> None:
    booster = train("breast_cancer", {"objective": "binary:logistic"})
    content: dict[str, bytes] = {
        "pickle": pickle.dumps(booster),
        "json": bytes(booster.save_raw("json")),
        "other name": bytes(booster.save_raw("ubj")),
    }
    (tmp_path / ("model.bin" if how == "other name" else "xgboost-model")).write_bytes(content[how])
    (tmp_path / ".hidden").write_bytes(b"not a model")
    features = rows("breast_cancer")
    got = response_scores(load(tmp_path).predict(request_body(features, "text/csv"), None, None))
    assert np.array_equal(got, expected(booster, features))


class _Payload:
    def __reduce__(self) -> tuple[Any, ...]:
        return (print, ("a pickle that runs code",))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (pickle.dumps(_Payload()), "a model pickle may hold a Booster only, not builtins.print"),
        (pickle.dumps({"a": 1}), "holds a pickled dict, not a Booster"),
        (b"garbage", "is neither an XGBoost model"),
    ],
)
def test_a_file_that_is_no_model_fails_the_load(
    tmp_path: Path, content: bytes, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "xgboost-model").write_bytes(content)
    with pytest.raises(InferenceError) as caught:
        load(tmp_path)
    assert caught.value.status_code == 500
    assert message in caught.value.message
    assert "runs code" not in capsys.readouterr().out


@pytest.mark.parametrize("layout", ["missing", "empty"])
def test_a_model_directory_without_a_model_fails_the_load(tmp_path: Path, layout: str) -> None:
    folder = tmp_path / "model"
    if layout == "empty":
        folder.mkdir()
    with pytest.raises(
        InferenceError, match="does not exist" if layout == "missing" else "holds no model file"
    ):
        load(folder)
