"""Inference payloads: rows batched under the request limit, and answers read back as arrays."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from opensage.sdk._payloads import batches, decode


def test_lines_are_batched_under_the_limit_in_order() -> None:
    lines = [b"1,2\n", b"3,4\n", b"5,6\n"]
    assert list(batches(lines, limit=8)) == [b"1,2\n3,4\n", b"5,6\n"]
    assert list(batches(lines, limit=100)) == [b"1,2\n3,4\n5,6\n"]
    assert list(batches([b"x" * 20, b"y\n"], limit=8)) == [b"x" * 20, b"y\n"]
    assert list(batches([])) == []


def test_csv_with_one_value_per_line_is_one_dimensional() -> None:
    assert decode(b"0.25\n0.75\n", "text/csv").tolist() == [0.25, 0.75]
    assert decode(b"0.5", "text/csv; charset=utf-8").tolist() == [0.5]


def test_csv_rows_and_quoted_vectors_are_two_dimensional() -> None:
    assert decode(b"0.1,0.9\n0.8,0.2\n", "text/csv").tolist() == [[0.1, 0.9], [0.8, 0.2]]
    assert decode(b'"[0.1, 0.9]"\n"[0.8, 0.2]"\n', "text/csv").tolist() == [[0.1, 0.9], [0.8, 0.2]]
    with pytest.raises(ValueError, match="several outputs"):
        decode(b'1,"[0.1, 0.9]"\n', "text/csv")


def test_json_predictions_read_the_score_or_the_only_value() -> None:
    body = json.dumps({"predictions": [{"score": 0.3}, {"score": 0.6}]}).encode()
    assert decode(body, "application/json").tolist() == [0.3, 0.6]
    vectors = json.dumps({"predictions": [{"score": [0.1, 0.9]}]}).encode()
    assert decode(vectors, "application/json").tolist() == [[0.1, 0.9]]
    assert decode(b'{"predictions": [{"predicted_label": 1}]}', "application/json").tolist() == [1.0]
    assert decode(b"[1, 0, 1]", "application/json").tolist() == [1.0, 0.0, 1.0]
    with pytest.raises(ValueError, match="several outputs"):
        decode(b'{"predictions": [{"predicted_label": 1, "probability": 0.9}]}', "application/json")


def test_text_answers_stay_text() -> None:
    assert decode(b'["cat", "dog"]', "application/json").tolist() == ["cat", "dog"]
    assert decode(b"cat\ndog\n", "text/csv").tolist() == ["cat", "dog"]


def test_json_lines_and_npy() -> None:
    assert decode(b'{"score": 0.1}\n{"score": 0.2}\n', "application/jsonlines").tolist() == [0.1, 0.2]
    buffer = io.BytesIO()
    np.save(buffer, np.array([[1.0, 2.0]]))
    assert decode(buffer.getvalue(), "application/x-npy").tolist() == [[1.0, 2.0]]


def test_other_content_types_point_at_predict_raw() -> None:
    with pytest.raises(ValueError, match="predict_raw"):
        decode(b"\x00", "application/x-recordio-protobuf")
