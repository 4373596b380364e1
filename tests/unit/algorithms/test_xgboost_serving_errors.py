"""XGBoost hosting: the statuses the container answers with (415, 406, 400), empty bodies, random bodies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.unit.algorithms.test_xgboost_serving import load, request_body, rows, save, train

from opensage.errors import InferenceError

CONTENT_TYPES = [
    "text/csv",
    "text/libsvm",
    "text/x-libsvm",
    "application/x-recordio-protobuf",
    "application/json",
    "application/jsonlines",
]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save(
        train("breast_cancer", {"objective": "binary:logistic"}, rounds=3), tmp_path_factory.mktemp("m")
    )


@pytest.fixture(scope="module")
def predictor(folder: Path) -> Any:
    return load(folder)


def refusal(
    predictor: Any, body: bytes, content_type: str | None, accept: str | None = None
) -> InferenceError:
    with pytest.raises(InferenceError) as caught:
        predictor.predict(body, content_type, accept)
    return caught.value


@pytest.mark.parametrize("content_type", ["application/x-parquet", "image/png", "text/plain; charset=utf-8"])
def test_an_unsupported_content_type_is_415_naming_the_accepted_ones(
    predictor: Any, content_type: str
) -> None:
    error = refusal(predictor, b"1,2", content_type)
    assert error.status_code == 415
    assert error.message.startswith(f"Content type '{content_type.partition(';')[0]}' is not supported")
    for accepted in CONTENT_TYPES:
        assert accepted in error.message


@pytest.mark.parametrize("accept", ["text/html", "application/xml, image/*", "text/csv;q=0"])
def test_an_unsupported_accept_is_406_naming_the_answered_ones(predictor: Any, accept: str) -> None:
    error = refusal(predictor, request_body(rows("breast_cancer", 1), "text/csv"), "text/csv", accept)
    assert error.status_code == 406
    assert "is not supported; XGBoost answers with application/json, application/jsonlines" in error.message


def test_accept_lists_and_parameters_are_negotiated(predictor: Any) -> None:
    body = request_body(rows("breast_cancer", 1), "text/csv")
    assert predictor.predict(body, None, "text/html, application/jsonlines;q=0.9").content_type == (
        "application/jsonlines"
    )
    assert predictor.predict(body, None, "text/csv; charset=utf-8").content_type == "text/csv"
    assert predictor.predict(body, None, "application/*").content_type == "application/json"


def test_the_default_accept_comes_from_the_environment(folder: Path) -> None:
    body = request_body(rows("breast_cancer", 2), "text/csv")
    predictor = load(folder, {"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "application/json"})
    for accept in (None, "*/*"):
        prediction = predictor.predict(body, None, accept)
        assert prediction.content_type == "application/json"
        assert len(json.loads(prediction.body)["predictions"]) == 2
    assert predictor.predict(body, None, "text/csv").content_type == "text/csv"


def test_a_default_accept_xgboost_cannot_write_fails_the_load(folder: Path) -> None:
    with pytest.raises(InferenceError) as caught:
        load(folder, {"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/html"})
    assert caught.value.status_code == 500
    assert "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT is 'text/html'" in caught.value.message


@pytest.mark.parametrize("content_type", [*CONTENT_TYPES, None])
def test_an_empty_body_gets_an_empty_answer(predictor: Any, content_type: str | None) -> None:
    prediction = predictor.predict(b"", content_type, "application/json")
    assert prediction.body == b"" and prediction.content_type == "application/json"


def test_an_empty_body_still_checks_the_headers(predictor: Any) -> None:
    assert refusal(predictor, b"", "image/png").status_code == 415
    assert refusal(predictor, b"", "text/csv", "text/html").status_code == 406


@pytest.mark.parametrize("content_type", ["text/csv", "application/x-recordio-protobuf", "application/json"])
def test_rows_of_another_width_are_400_saying_how_many(predictor: Any, content_type: str) -> None:
    features = rows("breast_cancer", 2)
    for width, hint in ((29, False), (31, True)):
        resized = np.resize(features, (2, width))
        error = refusal(predictor, request_body(resized, content_type), content_type)
        assert error.status_code == 400
        assert error.message.startswith(f"The model expects 30 features per row; the request has {width}")
        assert ("leave out the label column" in error.message) is hint


@pytest.mark.parametrize("content_type", ["text/libsvm", "application/json"])
def test_a_sparse_index_beyond_the_model_is_400(predictor: Any, content_type: str) -> None:
    body = (
        b"0 3:1 30:2"
        if content_type == "text/libsvm"
        else b'{"data": {"features": {"keys": [30], "shape": [31], "values": [2]}}}'
    )
    error = refusal(predictor, body, content_type)
    assert error.status_code == 400
    assert (
        error.message == "The request has feature index 30, but the model has 30 features (indices 0 to 29)"
    )


@pytest.mark.parametrize(
    ("content_type", "body", "message"),
    [
        (
            "text/csv",
            b"1,2\n3,abc",
            "Unable to read the text/csv request: Non-numeric value 'abc' in CSV line 2 column 2",
        ),
        (
            "text/libsvm",
            b"1 0:1\n1 x:2",
            "Unable to read the text/libsvm request: Expected an index:value pair",
        ),
        (
            "application/json",
            b"{",
            "Unable to read the application/json request: The JSON body is not valid JSON",
        ),
        (
            "application/x-recordio-protobuf",
            b"1,2,3,4,5",
            "Unable to read the application/x-recordio-protobuf",
        ),
    ],
)
def test_a_body_that_does_not_parse_is_400(
    predictor: Any, content_type: str, body: bytes, message: str
) -> None:
    error = refusal(predictor, body, content_type)
    assert error.status_code == 400
    assert error.message.startswith(message)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.sampled_from([*CONTENT_TYPES, None]),
    st.binary(max_size=300),
    st.sampled_from([None, "application/json"]),
)
def test_random_bodies_raise_nothing_but_inference_error(
    predictor: Any, content_type: str | None, body: bytes, accept: str | None
) -> None:
    try:
        prediction = predictor.predict(body, content_type, accept)
    except InferenceError as error:
        assert error.status_code == 400
        return
    assert prediction.content_type == (accept or "text/csv")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.floats(width=32) | st.none(), min_size=30, max_size=30), max_size=3))
def test_any_numbers_of_the_right_width_are_predicted(
    predictor: Any, instances: list[list[float | None]]
) -> None:
    body = json.dumps({"instances": instances}).encode()
    prediction = predictor.predict(body, "application/json", "application/json")
    assert len(json.loads(prediction.body)["predictions"]) == len(instances)
