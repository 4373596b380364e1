"""Inference payloads: feature rows into CSV request bodies, and models' answers into NumPy arrays."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

# InvokeEndpoint takes at most 6 MB; rows are sent in bodies kept under this.
MAX_REQUEST_BYTES = 5 * 1024 * 1024


def batches(lines: Sequence[bytes], limit: int = MAX_REQUEST_BYTES) -> Iterator[bytes]:
    """Consecutive lines joined into bodies of at most ``limit`` bytes (a longer line goes alone)."""
    batch: list[bytes] = []
    size = 0
    for line in lines:
        if batch and size + len(line) > limit:
            yield b"".join(batch)
            batch, size = [], 0
        batch.append(line)
        size += len(line)
    if batch:
        yield b"".join(batch)


def decode(body: bytes, content_type: str) -> np.ndarray:
    """A model's answer as an array: one entry per row, a row of values for vector outputs.

    Reads CSV, JSON (``{"predictions": [{"score": ...}]}`` or a plain list), JSON Lines and
    NumPy's ``.npy``; anything else raises ValueError (``predict_raw`` returns the bytes).
    """
    import numpy as np

    media = content_type.split(";", 1)[0].strip().lower()
    if media == "text/csv":
        return _csv_array(body.decode())
    if media == "application/json":
        return _records_array(_records(json.loads(body)))
    if media in ("application/jsonlines", "application/x-jsonlines"):
        lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
        return _records_array([_value(record) for record in lines])
    if media == "application/x-npy":
        loaded: np.ndarray = np.load(io.BytesIO(body), allow_pickle=False)
        return loaded
    raise ValueError(
        f"Cannot read a {content_type or 'untyped'} answer as an array; use predict_raw to get its bytes"
    )


def _records(parsed: Any) -> list[Any]:
    if isinstance(parsed, dict) and "predictions" in parsed:
        return [_value(record) for record in parsed["predictions"]]
    if isinstance(parsed, list):
        return [_value(record) for record in parsed]
    return [_value(parsed)]


def _value(record: Any) -> Any:
    """A record's prediction: its ``score`` (the built-in algorithms' default key) or its only value."""
    if isinstance(record, dict):
        if "score" in record:
            return record["score"]
        if len(record) == 1:
            return next(iter(record.values()))
        raise ValueError(
            f"The answer's records hold several outputs ({', '.join(sorted(record))}); "
            "use predict_raw to read them"
        )
    return record


def _records_array(values: list[Any]) -> np.ndarray:
    import numpy as np

    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        # Class names and other text stay text.
        return np.asarray(values)


def _csv_cell(cell: str) -> Any:
    text = cell.strip()
    if text.startswith("["):
        return json.loads(text)
    try:
        return float(text)
    except ValueError:
        return text


def _csv_array(text: str) -> np.ndarray:

    rows = [[_csv_cell(cell) for cell in row] for row in csv.reader(io.StringIO(text)) if row]
    if all(len(row) == 1 for row in rows):
        # One output per row: a number, or one vector such as per-class probabilities.
        return _records_array([row[0] for row in rows])
    if any(isinstance(cell, list) for row in rows for cell in row):
        raise ValueError("The CSV answer mixes several outputs per row; use predict_raw to read it")
    return _records_array(rows)
