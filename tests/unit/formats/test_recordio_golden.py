"""opensage's RecordIO-protobuf writer and reader against files the SageMaker SDK v2 wrote.

The files and the arrays they hold are in tests/fixtures/recordio (see its README).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import sparse

from opensage.formats.recordio import iter_record_batches, read_recordio_protobuf, write_dense, write_sparse

FIXTURES = Path(__file__).parents[2] / "fixtures" / "recordio"
GOLDEN = json.loads((FIXTURES / "golden.json").read_text())["files"]


def arrays(case: dict[str, Any]) -> tuple[Any, np.ndarray | None]:
    features = np.array(case["features"], dtype=case["dtype"])
    if case["kind"] == "sparse":
        features = sparse.csr_matrix(features)
    labels = None if case["labels"] is None else np.array(case["labels"], dtype=case["label_dtype"])
    return features, labels


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_the_writer_produces_the_sdk_bytes(name: str) -> None:
    features, labels = arrays(GOLDEN[name])
    out = io.BytesIO()
    if GOLDEN[name]["kind"] == "dense":
        write_dense(out, features, labels)
    else:
        write_sparse(out, features, labels)
    assert out.getvalue() == (FIXTURES / f"{name}.pbr").read_bytes()


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_the_reader_reads_the_sdk_files(name: str) -> None:
    case = GOLDEN[name]
    read = read_recordio_protobuf(FIXTURES / f"{name}.pbr", dtype="float64")
    assert sparse.issparse(read.features) == (case["kind"] == "sparse")
    dense = read.features.toarray() if sparse.issparse(read.features) else read.features
    np.testing.assert_allclose(dense, np.array(case["features"], dtype=case["dtype"]).astype(np.float64))
    if case["labels"] is None:
        assert read.labels is None
    else:
        assert read.labels is not None
        np.testing.assert_allclose(read.labels, case["labels"])


@pytest.mark.parametrize("batch_size", [1, 2, 4, 100])
def test_batches_of_a_stream_add_up_to_the_file(batch_size: int) -> None:
    case = GOLDEN["sparse_float64_labels"]
    with (FIXTURES / "sparse_float64_labels.pbr").open("rb") as stream:
        batches = list(iter_record_batches(stream, batch_size, dtype="float64"))
    assert [b.features.shape[0] for b in batches][:-1] == [batch_size] * (len(batches) - 1)
    stacked = sparse.vstack([b.features for b in batches]).toarray()
    np.testing.assert_allclose(stacked, case["features"])
    labels = np.concatenate([b.labels for b in batches if b.labels is not None])
    np.testing.assert_allclose(labels, case["labels"])


def test_a_bad_record_in_a_later_batch_is_named_by_its_stream_position() -> None:
    out = io.BytesIO()
    write_dense(out, np.ones((3, 2), dtype=np.float32))
    write_dense(out, np.ones((1, 5), dtype=np.float32))
    out.seek(0)
    with pytest.raises(Exception, match="record 3 has 5 features where record 2 has 2"):
        list(iter_record_batches(out, 2))
