"""libsvm text: labels, weights, query ids, sparse features, and errors naming the line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from opensage.errors import AlgorithmClientError
from opensage.formats import libsvm
from opensage.formats.libsvm import read_libsvm


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "train.libsvm"
    path.write_text(text)
    return path


def test_reads_labels_and_zero_based_sparse_features(tmp_path: Path) -> None:
    data = read_libsvm(write(tmp_path, "1 0:1.5 3:2\n0 1:1\n\n+1 2:0 4:1e-3\r\n2\n"))
    assert np.array_equal(data.labels, [1, 0, 1, 2])
    assert data.features.shape == (4, 5)
    expected = np.zeros((4, 5))
    expected[0, [0, 3]], expected[1, 1], expected[2, 4] = [1.5, 2], 1, 1e-3
    assert np.allclose(data.features.toarray(), expected)
    # An explicit index:0 is a stored value, not a missing one.
    assert data.features.nnz == 5
    assert data.weights is None and data.qid is None


def test_reads_weights_and_query_ids(tmp_path: Path) -> None:
    data = read_libsvm(write(tmp_path, "1:2 qid:1 0:1.5\n0:0.5 qid:1 1:1\n3:1 qid:7 0:2\n"))
    assert np.array_equal(data.labels, [1, 0, 3])
    assert data.weights is not None and np.array_equal(data.weights, [2, 0.5, 1])
    assert data.qid is not None and np.array_equal(data.qid, [1, 1, 7])


def test_files_larger_than_one_parsing_block_keep_line_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(libsvm, "_BLOCK_BYTES", 64)
    lines = [f"{i % 2} {i % 7}:{i}.5 9:1" for i in range(200)]
    lines[150] = "1 3:oops"
    path = write(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(
        AlgorithmClientError, match=r"Invalid feature value in train\.libsvm line 151: '3:oops'"
    ):
        read_libsvm(path)
    lines[150] = "1 3:2"
    data = read_libsvm(write(tmp_path, "\n".join(lines)))
    assert data.features.shape == (200, 10)
    assert data.features[150, 3] == 2 and data.features[199, 199 % 7] == 199.5


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 0:1\nabc 0:2\n", r"Invalid label in train\.libsvm line 2: 'abc'"),
        ("1 0:1\n1:x 0:2\n", r"Invalid label in train\.libsvm line 2: '1:x'"),
        ("1 0:1\n1 2\n", r"Expected an index:value pair in train\.libsvm line 2: '2'"),
        ("1 0:1:2\n", r"Expected an index:value pair in train\.libsvm line 1: '0:1:2'"),
        ("1 x:1\n", r"Invalid feature index \(a non-negative integer\) in train\.libsvm line 1: 'x:1'"),
        ("1 -1:1\n", r"Invalid feature index \(a non-negative integer\) in train\.libsvm line 1: '-1:1'"),
        ("1 1.5:1\n", r"Invalid feature index .* line 1: '1.5:1'"),
        ("1 0:1.5-2\n", r"Invalid feature value in train\.libsvm line 1: '0:1.5-2'"),
        ("1 0:1_000\n", r"Invalid feature value in train\.libsvm line 1: '0:1_000'"),
        ("1 qid:x 0:1\n", r"Invalid qid in train\.libsvm line 1: 'qid:x'"),
        ("1 q:1\n", r"Invalid feature index .* line 1: 'q:1'"),
        ("1 q:", r"Invalid feature index .* line 1: 'q:'"),
        ("1:2 0:1\n0 0:1\n", r"Malformed train\.libsvm line 2: expected a weight"),
        ("1 qid:1 0:1\n0 0:1\n", r"every line needs exactly one qid, or none may have one"),
        ("1 qid:1 qid:2 0:1\n", r"every line needs exactly one qid"),
    ],
)
def test_malformed_lines_are_client_errors(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(AlgorithmClientError, match=expected):
        read_libsvm(write(tmp_path, text))


def test_lines_with_only_a_label(tmp_path: Path) -> None:
    data = read_libsvm(write(tmp_path, "1\n0\n"))
    assert data.features.shape == (2, 0)
    assert np.array_equal(data.labels, [1, 0])


def test_an_empty_file_has_no_rows(tmp_path: Path) -> None:
    data = read_libsvm(write(tmp_path, "\n \n"))
    assert data.features.shape == (0, 0) and data.labels.size == 0
