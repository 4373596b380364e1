"""Load XGBoost's channels (CSV, libsvm, Parquet, RecordIO-protobuf) into labelled matrices."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opensage.algorithms.base import ChannelInput
from opensage.errors import AlgorithmClientError
from opensage.formats import content_type as ct

if TYPE_CHECKING:
    import numpy as np

DEFAULT_CONTENT_TYPE = ct.LIBSVM
CONTENT_TYPES = (ct.CSV, ct.LIBSVM, ct.X_LIBSVM, ct.PARQUET, ct.RECORDIO_PROTOBUF)
SPARSE_CONTENT_TYPES = (ct.LIBSVM, ct.X_LIBSVM, ct.RECORDIO_PROTOBUF)
# Given the labels of one file, the index of the first bad one and what labels must be, or None.
LabelRule = Callable[["np.ndarray"], "tuple[int, str] | None"]


@dataclass(frozen=True)
class ChannelData:
    """Every row of one channel on this host: features (dense array or CSR), labels, weights, query ids."""

    features: Any
    labels: np.ndarray
    weights: np.ndarray | None = None
    qid: np.ndarray | None = None

    @property
    def n_rows(self) -> int:
        return int(self.features.shape[0])

    @property
    def n_columns(self) -> int:
        return int(self.features.shape[1])


def channel_content_type(channel: ChannelInput) -> str:
    """The channel's media type (text/libsvm when none is given, as in SageMaker); checks its parameters."""
    parsed = ct.parse_content_type(channel.content_type or DEFAULT_CONTENT_TYPE)
    if parsed.media_type not in CONTENT_TYPES:
        raise AlgorithmClientError(
            f"Channel '{channel.name}': content type {channel.content_type!r} is not supported; "
            f"XGBoost reads {', '.join(CONTENT_TYPES)}"
        )
    label_size = parsed.parameters.get("label_size", "1")
    if parsed.media_type == ct.CSV and label_size != "1":
        raise AlgorithmClientError(
            f"Channel '{channel.name}': label_size={label_size} is not supported; XGBoost needs the label in "
            "the first column (label_size=1)"
        )
    if channel.input_mode == "Pipe" and parsed.media_type in (ct.LIBSVM, ct.X_LIBSVM):
        raise AlgorithmClientError(
            f"Channel '{channel.name}': Pipe mode does not support libsvm; use File mode or CSV, Parquet, "
            "RecordIO-protobuf"
        )
    return parsed.media_type


def load_channel(channel: ChannelInput, *, csv_weights: bool, label_rule: LabelRule) -> ChannelData | None:
    """Read every file of the channel (subdirectories included); None when it holds no rows.

    Empty files hold no rows in any format (Spark's ``_SUCCESS`` markers); Parquet channels
    also skip ``_``-prefixed files (``_metadata``, ``_common_metadata``), as pyarrow does.
    """
    media_type = channel_content_type(channel)
    parts = []
    for path in channel.files():
        name = path.relative_to(channel.path).as_posix()
        if _holds_no_rows(path, media_type):
            continue
        part = _read_file(path, name, media_type, csv_weights, defaulted=channel.content_type is None)
        if part is not None and part.n_rows:
            _check_part(part, name, label_rule)
            parts.append((name, part))
    return _combine(parts, channel.name) if parts else None


def _holds_no_rows(path: Path, media_type: str) -> bool:
    return path.stat().st_size == 0 or (media_type == ct.PARQUET and path.name.startswith("_"))


def _read_file(
    path: Path, name: str, media_type: str, csv_weights: bool, *, defaulted: bool
) -> ChannelData | None:
    if media_type == ct.CSV:
        from opensage.formats.csv import read_csv

        return _from_table(read_csv(path, display_name=name), name, "CSV", weights=csv_weights)
    if media_type == ct.PARQUET:
        from opensage.formats.parquet import read_parquet

        return _from_table(read_parquet(path, display_name=name), name, "Parquet", weights=False)
    if media_type == ct.RECORDIO_PROTOBUF:
        return _from_records(path, name)
    from opensage.formats.libsvm import read_libsvm

    try:
        data = read_libsvm(path, display_name=name)
    except AlgorithmClientError as exc:
        if not defaulted:
            raise
        # The most common cause: CSV uploaded without a ContentType, read as SageMaker's default.
        raise AlgorithmClientError(
            f"{exc}. The channel has no ContentType, so it is read as libsvm (SageMaker's default); "
            "for CSV, set ContentType to text/csv"
        ) from exc
    return ChannelData(data.features, data.labels, data.weights, data.qid)


def _from_table(table: np.ndarray, name: str, kind: str, *, weights: bool) -> ChannelData | None:
    """Split a table into label (column 0), weights (column 1 with csv_weights) and features."""
    if table.shape[0] == 0:
        return None
    first_feature = 2 if weights else 1
    if table.shape[1] <= first_feature:
        needed = (
            "a label, a weight and at least one feature" if weights else "a label and at least one feature"
        )
        raise AlgorithmClientError(
            f"{name} has {table.shape[1]} column(s); {kind} input needs {needed} column"
        )
    return ChannelData(
        features=table[:, first_feature:],
        labels=table[:, 0],
        weights=table[:, 1] if weights else None,
    )


def _from_records(path: Path, name: str) -> ChannelData | None:
    from opensage.formats.recordio import read_recordio_protobuf

    records = read_recordio_protobuf(path, display_name=name)
    if records.features.shape[0] == 0:
        return None
    if records.labels is None:
        raise AlgorithmClientError(
            f'{name}: records have no label["values"]; XGBoost needs a label for every record'
        )
    if records.labels.ndim != 1:
        raise AlgorithmClientError(
            f"{name}: records hold {records.labels.shape[1]} label values; XGBoost needs one"
        )
    return ChannelData(records.features, records.labels)


def _check_part(part: ChannelData, name: str, label_rule: LabelRule) -> None:
    import numpy as np

    missing = np.flatnonzero(~np.isfinite(part.labels))
    if missing.size:
        raise AlgorithmClientError(
            f"{name} row {int(missing[0]) + 1} has no valid label ({part.labels[missing[0]]}); "
            "every row needs a numeric label in the first column"
        )
    problem = label_rule(part.labels)
    if problem is not None:
        row, expected = problem
        raise AlgorithmClientError(f"{name} row {row + 1} has label {part.labels[row]:g}; {expected}")
    if part.weights is not None:
        bad = np.flatnonzero(~np.isfinite(part.weights) | (part.weights < 0))
        if bad.size:
            raise AlgorithmClientError(
                f"{name} row {int(bad[0]) + 1} has weight {part.weights[bad[0]]}; "
                "weights must be numbers >= 0"
            )


def _combine(parts: list[tuple[str, ChannelData]], channel_name: str) -> ChannelData:
    import numpy as np
    from scipy import sparse

    if len(parts) == 1:
        return parts[0][1]
    datas = [part for _, part in parts]
    if any(sparse.issparse(part.features) for part in datas):
        n_columns = max(part.n_columns for part in datas)
        features = sparse.vstack([_widen(part.features, n_columns) for part in datas], format="csr")
    else:
        first_name, first = parts[0]
        for name, part in parts[1:]:
            if part.n_columns != first.n_columns:
                raise AlgorithmClientError(
                    f"Channel '{channel_name}': {name} has {part.n_columns} feature columns but "
                    f"{first_name} has {first.n_columns}; every file must have the same columns"
                )
        features = np.concatenate([part.features for part in datas])
    return ChannelData(
        features,
        np.concatenate([part.labels for part in datas]),
        _concatenate_optional([part.weights for part in datas], "weights", channel_name),
        _concatenate_optional([part.qid for part in datas], "qid", channel_name),
    )


def _widen(features: Any, n_columns: int) -> Any:
    """``features`` as CSR with ``n_columns`` columns (sparse inputs only know their largest index)."""
    from scipy import sparse

    matrix = sparse.csr_matrix(features)
    if matrix.shape[1] < n_columns:
        matrix = sparse.csr_matrix(
            (matrix.data, matrix.indices, matrix.indptr), shape=(matrix.shape[0], n_columns)
        )
    return matrix


def _concatenate_optional(arrays: list[np.ndarray | None], what: str, channel_name: str) -> np.ndarray | None:
    import numpy as np

    present = [array for array in arrays if array is not None]
    if not present:
        return None
    if len(present) != len(arrays):
        raise AlgorithmClientError(f"Channel '{channel_name}': some files have {what} and others do not")
    return np.concatenate(present)


def widen_to(data: ChannelData, n_columns: int) -> ChannelData:
    """The same rows with ``n_columns`` feature columns (sparse data only; dense must already match)."""
    if data.n_columns == n_columns:
        return data
    return ChannelData(_widen(data.features, n_columns), data.labels, data.weights, data.qid)
