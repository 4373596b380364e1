"""The inference toolkits' default decoders and encoders: JSON, CSV and NPY, with 400, 406 and 415."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from opensage.errors import InferenceError
from opensage.runtime.serving import codecs
from opensage.runtime.serving.defaults import DefaultModelError, defaults_for, torchscript_file


def npy(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def test_a_json_list_becomes_an_array() -> None:
    decoded = codecs.decode("[[1, 2.5], [3, 4]]", "application/json; charset=utf-8")
    np.testing.assert_array_equal(decoded, [[1.0, 2.5], [3.0, 4.0]])
    assert codecs.decode(b"[1, 2, 3]", "application/json").tolist() == [1, 2, 3]


@pytest.mark.parametrize(
    ("body", "problem"),
    [('{"rows": [1]}', "one JSON list"), ("[1, 2", "not valid JSON"), ("[[1], [2, 3]]", "not an array")],
)
def test_json_that_is_not_one_list_of_rows_is_400(body: str, problem: str) -> None:
    with pytest.raises(InferenceError, match=problem) as raised:
        codecs.decode(body, "application/json")
    assert raised.value.status_code == 400


def test_csv_is_two_dimensional_float32_even_for_one_line() -> None:
    one = codecs.decode("1,2,3\n", "text/csv")
    assert one.shape == (1, 3) and one.dtype == np.float32
    assert codecs.decode(b"1,2\n3,4\n", "text/csv").tolist() == [[1.0, 2.0], [3.0, 4.0]]
    with pytest.raises(InferenceError, match="text/csv") as raised:
        codecs.decode("1,abc\n", "text/csv")
    assert raised.value.status_code == 400


def test_npy_keeps_its_dtype_and_refuses_pickles() -> None:
    array = np.arange(6, dtype=np.int16).reshape(2, 3)
    decoded = codecs.decode(npy(array), "application/x-npy")
    assert decoded.dtype == np.int16 and decoded.tolist() == array.tolist()
    with pytest.raises(InferenceError) as pickled:
        codecs.decode(npy(np.array([{"a": 1}], dtype=object), allow_pickle=True), "application/x-npy")
    assert pickled.value.status_code == 400
    with pytest.raises(InferenceError) as garbage:
        codecs.decode(b"not an array", "application/x-npy")
    assert garbage.value.status_code == 400


@pytest.mark.parametrize("content_type", ["application/xml", None, "application/octet-stream"])
def test_another_request_type_is_415(content_type: str | None) -> None:
    with pytest.raises(InferenceError, match="define input_fn") as raised:
        codecs.decode(b"x", content_type)
    assert raised.value.status_code == 415


def test_text_requests_become_float32_for_the_frameworks() -> None:
    assert codecs.decode_floats("[[1, 2]]", "application/json").dtype == np.float32
    assert codecs.decode_floats(npy(np.array([1, 2], dtype=np.int64)), "application/x-npy").dtype == np.int64
    with pytest.raises(InferenceError, match="not numbers") as raised:
        codecs.decode_floats('[["a", "b"]]', "application/json")
    assert raised.value.status_code == 400


def test_json_encoding_takes_arrays_and_numpy_scalars() -> None:
    body, chosen = codecs.encode(
        {"scores": np.array([0.5, 1.5]), "best": np.float32(1.5)}, "application/json"
    )
    assert chosen == "application/json"
    assert json.loads(body) == {"scores": [0.5, 1.5], "best": 1.5}


def test_csv_encoding_is_one_line_per_row() -> None:
    assert codecs.encode(np.array([1, 0, 1]), "text/csv") == (b"1\n0\n1\n", "text/csv")
    assert codecs.encode([[1, 2], [3, 4]], "text/csv")[0] == b"1,2\n3,4\n"
    assert codecs.encode(7, "text/csv")[0] == b"7\n"


def test_npy_encoding_round_trips() -> None:
    array = np.array([[0.25, 0.75]], dtype=np.float32)
    body, chosen = codecs.encode(array, "application/x-npy")
    assert chosen == "application/x-npy"
    np.testing.assert_array_equal(np.load(io.BytesIO(body)), array)


def test_the_accept_header_picks_the_response_type() -> None:
    assert codecs.response_type(None) == "application/json"
    assert codecs.response_type("*/*", default="text/csv") == "text/csv"
    assert codecs.response_type("text/html, text/csv;q=0.5, application/json;q=0.9") == "application/json"
    with pytest.raises(InferenceError, match="define output_fn") as raised:
        codecs.encode([1], "application/xml")
    assert raised.value.status_code == 406


def test_a_prediction_csv_cannot_hold_is_500() -> None:
    with pytest.raises(InferenceError) as raised:
        codecs.encode(np.zeros((2, 2, 2)), "text/csv")
    assert raised.value.status_code == 500


def test_only_json_and_csv_reach_input_fn_as_text() -> None:
    assert codecs.is_text("application/json") and codecs.is_text("text/csv; charset=utf-8")
    assert not codecs.is_text("application/x-npy") and not codecs.is_text(None)
    with pytest.raises(InferenceError) as raised:
        codecs.as_text(b"\xff\xfe")
    assert raised.value.status_code == 400


def test_the_pytorch_default_model_file_is_model_pt_else_the_only_pt_or_pth(tmp_path: Path) -> None:
    (tmp_path / "weights.pth").write_bytes(b"")
    assert torchscript_file(tmp_path).name == "weights.pth"
    (tmp_path / "model.pt").write_bytes(b"")
    assert torchscript_file(tmp_path).name == "model.pt"
    other = tmp_path / "other"
    other.mkdir()
    (other / "a.pt").write_bytes(b"")
    (other / "b.pth").write_bytes(b"")
    with pytest.raises(DefaultModelError, match=r"found: a\.pt, b\.pth"):
        torchscript_file(other)


def test_the_pytorch_defaults_decode_to_a_float_tensor_and_encode_tensors() -> None:
    import torch

    defaults = defaults_for("pytorch")
    tensor = defaults.input_fn("[[1, 2], [3, 4]]", "application/json")
    assert isinstance(tensor, torch.Tensor) and tensor.dtype == torch.float32
    body, chosen = defaults.output_fn(tensor * 2, "text/csv")
    assert (body, chosen) == (b"2.0,4.0\n6.0,8.0\n", "text/csv")


def test_the_xgboost_default_model_fn_names_the_file_it_wants(tmp_path: Path) -> None:
    model_fn = defaults_for("xgboost").model_fn
    assert model_fn is not None
    with pytest.raises(DefaultModelError, match="xgboost-model"):
        model_fn(str(tmp_path))
    assert defaults_for("sklearn").model_fn is None
