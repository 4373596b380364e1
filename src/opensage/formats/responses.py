"""Encode predictions as SageMaker's built-in algorithms answer: JSON, JSON Lines, CSV, RecordIO-protobuf.

A response is a list of named output fields, each holding one value per row (a scalar, or a
vector such as per-class probabilities). Numbers are written as Python writes the floats
``tolist()`` gives (``0.8999999761581421`` for a float32 0.9), as the SageMaker containers
write them; integer fields are written as integers.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opensage.formats.recordio import write_recordio

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class OutputField:
    """One output per row: ``values`` is (rows,) for a scalar each, (rows, k) for a vector each."""

    name: str
    values: np.ndarray


def records(fields: Sequence[OutputField]) -> list[dict[str, Any]]:
    """One ``{name: value, ...}`` per row, fields in the order given."""
    columns = [field.values.tolist() for field in fields]
    if len(fields) == 1:
        name = fields[0].name
        return [{name: value} for value in columns[0]]
    names = [field.name for field in fields]
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


def encode_json(fields: Sequence[OutputField], *, key: str = "predictions") -> bytes:
    """``{"predictions": [{"score": 0.4}, ...]}``."""
    return json.dumps({key: records(fields)}).encode()


def encode_jsonlines(fields: Sequence[OutputField]) -> bytes:
    """One JSON object per row, each line ending with a newline."""
    return "".join(json.dumps(record) + "\n" for record in records(fields)).encode()


def encode_csv(values: np.ndarray) -> bytes:
    """Rows as ``numpy.savetxt`` lays them out: one value per line for 1-D, comma-separated rows for 2-D.

    Every line ends with a newline; no rows give an empty body.
    """
    rows = values.tolist()
    if values.ndim == 1:
        text = "\n".join(map(str, rows))
    else:
        text = "\n".join(",".join(map(str, row)) for row in rows)
    return (text + "\n").encode() if rows else b""


def encode_csv_fields(fields: Sequence[OutputField], *, trailing_newline: bool) -> bytes:
    """One line per row, the fields' values in order; a vector is written quoted, ``"[0.1, 0.9]"``."""
    columns = [field.values.tolist() for field in fields]
    lines = [",".join(_csv_cell(value) for value in row) for row in zip(*columns, strict=True)]
    text = "\n".join(lines)
    return (text + "\n" if trailing_newline and lines else text).encode()


def _csv_cell(value: Any) -> str:
    return f'"{value}"' if isinstance(value, list) else str(value)


def encode_recordio_protobuf(fields: Sequence[OutputField]) -> bytes:
    """One Record per row, each field a Float32Tensor in its ``label`` map; ``features`` empty."""
    from opensage.formats.record_pb2 import Record

    columns = [(field.name, field.values.tolist(), field.values.ndim == 1) for field in fields]
    n_rows = len(columns[0][1]) if columns else 0
    out = io.BytesIO()
    record = Record()
    for row in range(n_rows):
        record.Clear()
        for name, values, scalar in columns:
            tensor = record.label[name].float32_tensor
            if scalar:
                tensor.values.append(values[row])
            else:
                tensor.values.extend(values[row])
        write_recordio(out, record.SerializeToString())
    return out.getvalue()
