"""The family's /invocations contract around a model: request types in, response types out, errors."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping

import numpy as np
import pytest
from scipy import sparse

from opensage.algorithms.aialgs.serving import AialgsPredictor, Features, Model
from opensage.errors import InferenceError
from opensage.formats.record_pb2 import Record
from opensage.formats.recordio import read_records, write_dense
from opensage.formats.responses import OutputField


class RowSums(Model):
    """A model whose answer is easy to check: each row's sum, and the row doubled."""

    response_key = "projections"

    @property
    def feature_dim(self) -> int:
        return 3

    def predict(self, features: Features, accept_parameters: Mapping[str, str]) -> list[OutputField]:
        dense = features.toarray() if sparse.issparse(features) else features
        fields = [OutputField("sum", dense.sum(axis=1)), OutputField("double", dense * 2)]
        if accept_parameters.get("verbose") == "true":
            fields.append(OutputField("width", np.full(dense.shape[0], dense.shape[1])))
        return fields


@pytest.fixture
def predictor() -> AialgsPredictor:
    return AialgsPredictor(RowSums(), {})


REQUESTS = {
    "text/csv": b"1,2,3\n4,5,6\n",
    "text/csv;label_size=1": b"9,1,2,3\n9,4,5,6\n",
    "application/json": json.dumps(
        {"instances": [{"features": [1, 2, 3]}, {"features": [4, 5, 6]}]}
    ).encode(),
    "application/jsonlines": b'{"features": [1, 2, 3]}\n{"data": {"features": {"values": [4, 5, 6]}}}\n',
}


@pytest.mark.parametrize("content_type", sorted(REQUESTS))
def test_each_request_type_gives_the_same_json(predictor: AialgsPredictor, content_type: str) -> None:
    answer = predictor.predict(REQUESTS[content_type], content_type, "application/json")
    assert answer.content_type == "application/json"
    assert json.loads(answer.body) == {
        "projections": [{"sum": 6.0, "double": [2.0, 4.0, 6.0]}, {"sum": 15.0, "double": [8.0, 10.0, 12.0]}]
    }


def test_sparse_json_and_recordio_requests(predictor: AialgsPredictor) -> None:
    sparse_body = json.dumps(
        {"instances": [{"data": {"features": {"keys": [2], "shape": [3], "values": [5]}}}]}
    )
    answer = predictor.predict(sparse_body.encode(), "application/json", None)
    assert json.loads(answer.body)["projections"] == [{"sum": 5.0, "double": [0.0, 0.0, 10.0]}]
    buffer = io.BytesIO()
    write_dense(buffer, np.array([[1, 1, 1]], dtype=np.float32))
    answer = predictor.predict(buffer.getvalue(), "application/x-recordio-protobuf", "application/jsonlines")
    assert answer.body == b'{"sum": 3.0, "double": [2.0, 2.0, 2.0]}\n'


def test_recordio_response_puts_each_field_in_label(predictor: AialgsPredictor) -> None:
    answer = predictor.predict(REQUESTS["text/csv"], "text/csv", "application/x-recordio-protobuf")
    records: list[Record] = list(read_records(io.BytesIO(answer.body)))
    assert len(records) == 2 and not records[0].features
    assert list(records[1].label["sum"].float32_tensor.values) == [15.0]
    assert list(records[1].label["double"].float32_tensor.values) == [8.0, 10.0, 12.0]


def test_accept_parameters_reach_the_model(predictor: AialgsPredictor) -> None:
    answer = predictor.predict(b"1,2,3\n", "text/csv", "application/json; verbose=true")
    assert json.loads(answer.body)["projections"][0]["width"] == 3


@pytest.mark.parametrize(
    ("body", "content_type", "accept", "status"),
    [
        (b"1,2,3\n", "text/libsvm", None, 415),
        (b"1,2,3\n", "text/csv", "text/html", 406),
        (b"1,2,3\n", "text/csv", "text/csv", 406),  # CSV out only where the model documents it
        (b"1,2\n", "text/csv", None, 400),
        (b"1,x,3\n", "text/csv", None, 400),
        (b"{", "application/json", None, 400),
    ],
)
def test_refusals(
    predictor: AialgsPredictor, body: bytes, content_type: str, accept: str | None, status: int
) -> None:
    with pytest.raises(InferenceError) as caught:
        predictor.predict(body, content_type, accept)
    assert caught.value.status_code == status


def test_an_empty_body_gets_an_empty_answer(predictor: AialgsPredictor) -> None:
    assert json.loads(predictor.predict(b"", "text/csv", None).body) == {"projections": []}


def test_csv_response_and_default_accept_from_the_environment() -> None:
    class Clusters(RowSums):
        csv_response = True

    predictor = AialgsPredictor(Clusters(), {"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "application/jsonlines"})
    assert predictor.predict(b"1,2,3\n", "text/csv", None).content_type == "application/jsonlines"
    assert predictor.predict(b"1,2,3\n", "text/csv", "text/csv").body == b'6.0,"[2.0, 4.0, 6.0]"\n'
    with pytest.raises(InferenceError):
        AialgsPredictor(RowSums(), {"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv"})
