"""Parse ``application/json`` and ``application/jsonlines`` request bodies into a float32 matrix.

The shapes SageMaker documents for its built-in algorithms ("Common data formats for
inference"), plus the bare arrays the SageMaker SDK's JSONSerializer writes for numpy input:

- ``{"instances": [<instance>, ...]}`` or a single ``<instance>`` object;
- an instance is ``{"features": [1.5, 16, ...]}``, ``{"data": {"features": {"values": [...]}}}``,
  sparse ``{"data": {"features": {"keys": [26, 182], "shape": [2000], "values": [1, 4]}}}``,
  or a bare array ``[1.5, 16, ...]``;
- a bare array of arrays is a list of instances, a bare array of numbers one instance;
- JSON Lines: one instance per line, in any of the instance forms.

Values must be JSON numbers; ``null`` is a missing value (NaN). Imported by model servers only.
"""

from __future__ import annotations

import json
from typing import Any, TypeGuard

import numpy as np
from scipy import sparse

from opensage.formats.errors import PayloadError

MAX_COLUMNS = 2**31 - 1
JSON_HINT = (
    'send {"instances": [{"features": [...]}, ...]}, {"instances": [[...], ...]} or {"features": [...]}'
)
_NUMBER_TYPES = frozenset({int, float})


class _Row:
    """One instance: dense values, or sparse values at ``keys`` within ``width`` columns."""

    __slots__ = ("keys", "values", "width")

    def __init__(self, values: list[float], keys: list[int] | None = None, width: int = 0) -> None:
        self.values = values
        self.keys = keys
        self.width = len(values) if keys is None else width


def parse_json_payload(body: bytes) -> np.ndarray | sparse.csr_matrix:
    """The instances of a JSON body: a (rows, columns) float32 array, or CSR if any is sparse."""
    document = _load(body, "The JSON body")
    return _assemble([_row(item, index) for index, item in enumerate(_instances(document))])


def parse_jsonlines_payload(body: bytes) -> np.ndarray | sparse.csr_matrix:
    """One instance per non-blank line of a JSON Lines body, as ``parse_json_payload`` reads them."""
    rows: list[_Row] = []
    for number, line in enumerate(body.split(b"\n"), start=1):
        if line.strip():
            rows.append(_row(_load(line, f"JSON Lines line {number}"), len(rows), f"line {number}"))
    return _assemble(rows)


def _load(text: bytes, what: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError as exc:
        raise PayloadError(f"{what} is nested too deeply") from exc
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError alike
        raise PayloadError(f"{what} is not valid JSON ({exc}); {JSON_HINT}") from exc


def _instances(document: Any) -> list[Any]:
    if isinstance(document, dict) and "instances" in document:
        instances = document["instances"]
        if not isinstance(instances, list):
            raise PayloadError(f'"instances" must be an array; {JSON_HINT}')
        return instances
    if isinstance(document, list) and (not document or isinstance(document[0], (list, dict))):
        return document  # a list of instances; a list of numbers is one instance
    return [document]


def _row(item: Any, index: int, where: str | None = None) -> _Row:
    where = where or f"instance {index}"
    if isinstance(item, list):
        return _Row(_numbers(item, where, "its values"))
    if not isinstance(item, dict):
        raise PayloadError(f"JSON {where} is neither an object nor an array; {JSON_HINT}")
    if "features" in item:
        return _Row(_numbers(item["features"], where, '"features"'))
    data = item.get("data")
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, dict) or "values" not in features:
        raise PayloadError(f'JSON {where} has no "features" (nor "data": {{"features": ...}}); {JSON_HINT}')
    values = _numbers(features["values"], where, '"values"')
    if "keys" not in features:
        return _Row(values)
    return _sparse_row(features, values, where)


def _sparse_row(features: dict[str, Any], values: list[float], where: str) -> _Row:
    keys, shape = features.get("keys"), features.get("shape")
    if not _is_index_list(keys) or len(keys) != len(values):
        raise PayloadError(f'JSON {where}: "keys" must be as many non-negative integers as "values"')
    if not _is_index_list(shape) or len(shape) != 1 or shape[0] > MAX_COLUMNS:
        raise PayloadError(f'JSON {where}: sparse features need "shape": [number of columns]')
    if keys and max(keys) >= shape[0]:
        raise PayloadError(f'JSON {where}: key {max(keys)} is outside "shape" [{shape[0]}]')
    return _Row(values, keys, shape[0])


def _is_index_list(value: Any) -> TypeGuard[list[int]]:
    return isinstance(value, list) and all(type(item) is int and item >= 0 for item in value)


def _numbers(values: Any, where: str, what: str) -> list[float]:
    if not isinstance(values, list):
        raise PayloadError(f"JSON {where}: {what} must be an array of numbers; {JSON_HINT}")
    # Exact types, not isinstance(): true and false are not numbers here.
    if _NUMBER_TYPES.issuperset(map(type, values)):
        return values
    cleaned = []
    for position, value in enumerate(values):
        if value is None:
            cleaned.append(float("nan"))
        elif type(value) in _NUMBER_TYPES:
            cleaned.append(value)
        else:
            raise PayloadError(f"JSON {where}: value {position} of {what} is not a number (or null)")
    return cleaned


def _assemble(rows: list[_Row]) -> np.ndarray | sparse.csr_matrix:
    if not rows:
        return np.empty((0, 0), dtype=np.float32)
    try:
        with np.errstate(over="ignore"):  # beyond float32's range is infinity, as in training
            if all(row.keys is None for row in rows):
                return _dense(rows)
            return _sparse(rows)
    except OverflowError as exc:  # an integer beyond any float
        raise PayloadError("A JSON value is too large for a number") from exc


def _dense(rows: list[_Row]) -> np.ndarray:
    width = rows[0].width
    for index, row in enumerate(rows):
        if row.width != width:
            raise PayloadError(
                f"JSON instance {index} has {row.width} values where instance 0 has {width}; "
                "every instance must have the same number of features"
            )
    return (
        np.array([row.values for row in rows], dtype=np.float64).astype(np.float32).reshape(len(rows), width)
    )


def _sparse(rows: list[_Row]) -> sparse.csr_matrix:
    sizes = [len(row.values) for row in rows]
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(sizes, out=indptr[1:])
    columns = [range(len(row.values)) if row.keys is None else row.keys for row in rows]
    indices = np.fromiter((key for keys in columns for key in keys), dtype=np.int64, count=int(indptr[-1]))
    data = np.fromiter(
        (value for row in rows for value in row.values), dtype=np.float64, count=int(indptr[-1])
    )
    width = max(row.width for row in rows)
    matrix = sparse.csr_matrix((data.astype(np.float32), indices, indptr), shape=(len(rows), width))
    matrix.sum_duplicates()
    return matrix
