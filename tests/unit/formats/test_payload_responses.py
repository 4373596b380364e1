"""Response encoders: JSON, JSON Lines, CSV in both layouts, RecordIO-protobuf with outputs in ``label``."""

from __future__ import annotations

import io
import json

import numpy as np

from opensage.formats.recordio import read_records
from opensage.formats.responses import (
    OutputField,
    encode_csv,
    encode_csv_fields,
    encode_json,
    encode_jsonlines,
    encode_recordio_protobuf,
    records,
)

SCORES = np.array([0.25, 0.9], dtype=np.float32)
PROBABILITIES = np.array([[0.75, 0.25], [0.1, 0.9]], dtype=np.float32)
LABELS = np.array([0, 1], dtype=np.int64)
SELECTED = [OutputField("predicted_label", LABELS), OutputField("probabilities", PROBABILITIES)]


def test_records_hold_python_values_in_field_order() -> None:
    rows = records(SELECTED)
    assert rows[1] == {"predicted_label": 1, "probabilities": PROBABILITIES[1].tolist()}
    assert list(rows[0]) == ["predicted_label", "probabilities"]
    assert isinstance(rows[0]["predicted_label"], int)


def test_json_wraps_records_in_predictions() -> None:
    body = encode_json([OutputField("score", SCORES)])
    assert body == b'{"predictions": [{"score": 0.25}, {"score": 0.8999999761581421}]}'
    assert np.array_equal(
        np.array([item["score"] for item in json.loads(body)["predictions"]], dtype=np.float32), SCORES
    )


def test_json_lines_write_one_object_per_line() -> None:
    body = encode_jsonlines(SELECTED)
    lines = body.decode().splitlines()
    assert body.endswith(b"\n") and len(lines) == 2
    assert json.loads(lines[0]) == {"predicted_label": 0, "probabilities": PROBABILITIES[0].tolist()}


def test_csv_lays_out_values_as_savetxt() -> None:
    assert encode_csv(SCORES) == b"0.25\n0.8999999761581421\n"
    assert encode_csv(np.array([[0.5, 0.25], [1, 0]], dtype=np.float32)) == b"0.5,0.25\n1.0,0.0\n"
    assert encode_csv(np.array([2.0], dtype=np.float32)) == b"2.0\n"
    assert encode_csv(np.empty(0, dtype=np.float32)) == b""


def test_csv_fields_quote_lists_and_end_with_a_newline_only_when_asked() -> None:
    expected = '0,"[0.75, 0.25]"\n1,"[0.10000000149011612, 0.8999999761581421]"'
    assert encode_csv_fields(SELECTED, trailing_newline=False) == expected.encode()
    assert encode_csv_fields(SELECTED, trailing_newline=True) == (expected + "\n").encode()
    assert encode_csv_fields([OutputField("score", SCORES[:0])], trailing_newline=True) == b""


def test_recordio_writes_one_record_per_row_with_outputs_in_label() -> None:
    body = encode_recordio_protobuf(SELECTED)
    decoded = list(read_records(io.BytesIO(body)))
    assert len(decoded) == 2
    for row, record in enumerate(decoded):
        assert not record.features
        assert list(record.label["predicted_label"].float32_tensor.values) == [LABELS[row]]
        assert np.array_equal(
            np.float32(record.label["probabilities"].float32_tensor.values), PROBABILITIES[row]
        )
    assert encode_recordio_protobuf([OutputField("score", SCORES[:0])]) == b""
