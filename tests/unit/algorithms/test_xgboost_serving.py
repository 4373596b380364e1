"""XGBoost hosting: every request content type in, every Accept out, equal to ``Booster.predict``.

Models are trained here with the xgboost library and saved as training saves them
(``save_raw("ubj")`` into ``xgboost-model``); the predictor is loaded through the algorithm.
The helpers are shared with the other ``test_xgboost_serving_*`` modules.
"""

from __future__ import annotations

import functools
import io
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xgboost as xgb
from scipy import sparse
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris

from opensage.algorithms.base import Prediction, ServingAlgorithm, TrainingEnvironment
from opensage.algorithms.registry import load_algorithm
from opensage.algorithms.xgboost import XGBoostAlgorithm
from opensage.formats.record_pb2 import Record
from opensage.formats.recordio import read_records, write_dense, write_sparse

N_ROWS = 25
OBJECTIVES: dict[str, tuple[str, dict[str, Any]]] = {
    "binary": ("breast_cancer", {"objective": "binary:logistic"}),
    "softprob": ("iris", {"objective": "multi:softprob", "num_class": 3}),
    "softmax": ("iris", {"objective": "multi:softmax", "num_class": 3}),
    "regression": ("diabetes", {"objective": "reg:squarederror"}),
}


@functools.cache
def dataset(name: str) -> tuple[np.ndarray, np.ndarray]:
    loader = {"breast_cancer": load_breast_cancer, "iris": load_iris, "diabetes": load_diabetes}[name]
    features, labels = loader(return_X_y=True)
    features = features.astype(np.float32)
    features[::7, 1] = np.nan  # missing values travel as empty cells, absent entries or null
    return features, labels.astype(np.float32)


def train(name: str, params: Mapping[str, Any], rounds: int = 8, **train_args: Any) -> xgb.Booster:
    features, labels = dataset(name)
    settings = {"nthread": 1, "seed": 0, "max_depth": 3, **params}
    return xgb.train(settings, xgb.DMatrix(features, label=labels), rounds, **train_args)


def save(booster: xgb.Booster, folder: Path, name: str = "xgboost-model") -> Path:
    """Write the model as opensage's training does: UBJSON bytes, no extension."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(booster.save_raw("ubj"))
    return folder


def load(folder: Path, environment: Mapping[str, str] | None = None) -> Any:
    algorithm = load_algorithm("xgboost")
    assert isinstance(algorithm, ServingAlgorithm)
    return algorithm.load_predictor(folder, environment or {})


def rows(name: str, count: int = N_ROWS) -> np.ndarray:
    return dataset(name)[0][:count]


def expected(booster: xgb.Booster, features: Any, **predict_args: Any) -> np.ndarray:
    predictions: np.ndarray = booster.predict(xgb.DMatrix(features, missing=np.nan), **predict_args)
    return predictions


# --- request bodies ------------------------------------------------------------------------------


def _cell(value: float) -> str:
    return "" if np.isnan(value) else repr(float(value))


def _json_values(row: np.ndarray) -> list[float | None]:
    return [None if np.isnan(value) else float(value) for value in row]


def _libsvm(features: np.ndarray) -> bytes:
    lines = []
    for row in features:
        tokens = [f"{index}:{float(value)!r}" for index, value in enumerate(row) if not np.isnan(value)]
        lines.append(" ".join(["0", *tokens]))
    return "\n".join(lines).encode()


def _recordio_dense(features: np.ndarray) -> bytes:
    stream = io.BytesIO()
    write_dense(stream, features, np.zeros(len(features), dtype=np.float32))
    return stream.getvalue()


REQUEST_ENCODERS: dict[str, Callable[[np.ndarray], bytes]] = {
    "text/csv": lambda x: "\n".join(",".join(map(_cell, row)) for row in x).encode(),
    "text/libsvm": _libsvm,
    "text/x-libsvm": _libsvm,
    "application/x-recordio-protobuf": _recordio_dense,
    "application/json": lambda x: json.dumps(
        {"instances": [{"features": _json_values(r)} for r in x]}
    ).encode(),
    "application/jsonlines": lambda x: "\n".join(json.dumps(_json_values(r)) for r in x).encode(),
}


def request_body(features: np.ndarray, content_type: str) -> bytes:
    return REQUEST_ENCODERS[content_type.partition(";")[0]](features)


# --- response bodies -----------------------------------------------------------------------------


def response_records(prediction: Prediction) -> list[dict[str, Any]]:
    """Each row's outputs, decoded from any Accept type but CSV."""
    if prediction.content_type == "application/json":
        return json.loads(prediction.body)["predictions"]  # type: ignore[no-any-return]
    if prediction.content_type == "application/jsonlines":
        return [json.loads(line) for line in prediction.body.decode().splitlines()]
    assert prediction.content_type == "application/x-recordio-protobuf"
    return [_record_outputs(record) for record in read_records(io.BytesIO(prediction.body))]


def _record_outputs(record: Record) -> dict[str, Any]:
    assert not record.features
    values = {key: list(value.float32_tensor.values) for key, value in record.label.items()}
    return {key: items[0] if len(items) == 1 else items for key, items in values.items()}


def response_scores(prediction: Prediction) -> np.ndarray:
    """The raw predictions of a default (no SAGEMAKER_INFERENCE_OUTPUT) response, as float32."""
    if prediction.content_type == "text/csv":
        lines = prediction.body.decode().split("\n")
        assert lines[-1] == ""  # savetxt ends every line
        table = [[float(cell) for cell in line.split(",")] for line in lines[:-1]]
        values = np.array(table, dtype=np.float32)
        return values[:, 0] if values.shape[1] == 1 else values
    return np.array([item["score"] for item in response_records(prediction)], dtype=np.float32)


# --- tests ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[xgb.Booster, Any]]:
    trained = {}
    for kind, (name, params) in OBJECTIVES.items():
        booster = train(name, params)
        trained[kind] = (booster, load(save(booster, tmp_path_factory.mktemp(kind))))
    return trained


def test_the_algorithm_serves() -> None:
    assert isinstance(XGBoostAlgorithm(), ServingAlgorithm)


@pytest.mark.parametrize("kind", sorted(OBJECTIVES))
@pytest.mark.parametrize("content_type", [*REQUEST_ENCODERS, "text/csv; charset=utf-8", None])
@pytest.mark.parametrize(
    "accept", ["text/csv", "application/json", "application/jsonlines", "application/x-recordio-protobuf"]
)
def test_every_content_type_and_accept_gives_booster_predict(
    models: dict[str, tuple[xgb.Booster, Any]], kind: str, content_type: str | None, accept: str
) -> None:
    booster, predictor = models[kind]
    features = rows(OBJECTIVES[kind][0])
    body = request_body(features, content_type or "text/csv")  # no Content-Type means CSV
    prediction = predictor.predict(body, content_type, accept)
    assert prediction.content_type == accept
    assert np.array_equal(response_scores(prediction), expected(booster, features))


@pytest.mark.parametrize("accept", [None, "*/*", "text/csv, */*"])
def test_csv_by_default_one_value_per_line(
    models: dict[str, tuple[xgb.Booster, Any]], accept: str | None
) -> None:
    booster, predictor = models["binary"]
    features = rows("breast_cancer", 3)
    prediction = predictor.predict(request_body(features, "text/csv"), "text/csv", accept)
    assert prediction.content_type == "text/csv"
    assert (
        prediction.body == "".join(f"{value!r}\n" for value in expected(booster, features).tolist()).encode()
    )


def test_softprob_csv_rows_are_comma_separated(models: dict[str, tuple[xgb.Booster, Any]]) -> None:
    booster, predictor = models["softprob"]
    features = rows("iris", 2)
    body = predictor.predict(request_body(features, "text/csv"), "text/csv", "text/csv").body
    probabilities = expected(booster, features)
    assert body.decode() == "".join(",".join(map(repr, row)) + "\n" for row in probabilities.tolist())


def test_json_default_output_is_a_score_per_row(models: dict[str, tuple[xgb.Booster, Any]]) -> None:
    booster, predictor = models["softprob"]
    features = rows("iris", 2)
    document = json.loads(
        predictor.predict(request_body(features, "text/csv"), None, "application/json").body
    )
    assert document == {"predictions": [{"score": row} for row in expected(booster, features).tolist()]}


def test_softmax_predicts_the_class_index(models: dict[str, tuple[xgb.Booster, Any]]) -> None:
    booster, predictor = models["softmax"]
    features = rows("iris")
    scores = response_scores(predictor.predict(request_body(features, "text/csv"), None, None))
    assert set(scores.tolist()) <= {0.0, 1.0, 2.0}
    assert np.array_equal(scores, expected(booster, features))


@pytest.mark.parametrize("kind", ["binary", "softprob"])
def test_sparse_requests_leave_absent_entries_missing(
    models: dict[str, tuple[xgb.Booster, Any]], kind: str
) -> None:
    booster, predictor = models[kind]
    features = np.nan_to_num(rows(OBJECTIVES[kind][0]))
    features[features < np.median(features)] = 0  # many zeros: absent from the sparse bodies
    matrix = sparse.csr_matrix(features)
    want = expected(booster, matrix)
    stream = io.BytesIO()
    write_sparse(stream, matrix)
    libsvm_lines = [
        " ".join(f"{i}:{float(v)!r}" for i, v in zip(r.indices, r.data, strict=True)) for r in matrix
    ]
    json_body = {
        "instances": [
            {
                "data": {
                    "features": {"keys": r.indices.tolist(), "shape": [r.shape[1]], "values": r.data.tolist()}
                }
            }
            for r in matrix
        ]
    }
    bodies = {
        "application/x-recordio-protobuf": stream.getvalue(),
        "text/libsvm": "\n".join(libsvm_lines).encode(),
        "application/json": json.dumps(json_body).encode(),
    }
    for content_type, body in bodies.items():
        got = response_scores(predictor.predict(body, content_type, "application/json"))
        assert np.array_equal(got, want), content_type


def test_a_libsvm_request_may_stop_short_of_the_last_feature(
    models: dict[str, tuple[xgb.Booster, Any]],
) -> None:
    booster, predictor = models["binary"]
    body = b"0:17.99 1:10.38 2:122.8\n5:0.2776"
    matrix = sparse.csr_matrix(
        (np.array([17.99, 10.38, 122.8, 0.2776], dtype=np.float32), [0, 1, 2, 5], [0, 3, 4]),
        shape=(2, booster.num_features()),
    )
    assert np.array_equal(
        response_scores(predictor.predict(body, "text/libsvm", None)), expected(booster, matrix)
    )


def test_a_large_batch_equals_booster_predict(models: dict[str, tuple[xgb.Booster, Any]]) -> None:
    booster, predictor = models["binary"]
    features = np.resize(dataset("breast_cancer")[0], (5000, 30))  # about 700 kB of CSV
    for content_type in ("text/csv", "text/libsvm", "application/json"):
        prediction = predictor.predict(request_body(features, content_type), content_type, "text/csv")
        assert np.array_equal(response_scores(prediction), expected(booster, features)), content_type


def test_a_model_trained_by_the_training_job_is_served(tmp_path: Path, make_env: Any) -> None:
    env: TrainingEnvironment = make_env({"num_round": "5", "objective": "binary:logistic"})
    features, labels = dataset("breast_cancer")
    table = np.column_stack([labels, np.nan_to_num(features)])
    np.savetxt(env.channels["train"].path / "train.csv", table, delimiter=",")
    XGBoostAlgorithm().train(env)
    booster = xgb.Booster()
    booster.load_model(bytearray((env.model_dir / "xgboost-model").read_bytes()))
    predictor = load(env.model_dir)
    sample = np.nan_to_num(features[:N_ROWS])
    prediction = predictor.predict(request_body(sample, "text/csv"), "text/csv", "application/json")
    assert np.array_equal(response_scores(prediction), expected(booster, sample))
