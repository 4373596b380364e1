"""Read the features of an ``application/x-recordio-protobuf`` request body (labels are ignored)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from opensage.errors import AlgorithmClientError
from opensage.formats.errors import PayloadError

if TYPE_CHECKING:
    import numpy as np
    from scipy import sparse

_SOURCE = "the request body"


def parse_recordio_protobuf_payload(body: bytes) -> np.ndarray | sparse.csr_matrix:
    """``features["values"]`` of every Record: a (rows, columns) float32 array, or CSR if any is sparse.

    Raises ``PayloadError`` naming the record (and byte offset) of bad framing or a bad Record.
    """
    import numpy as np

    from opensage.formats._record_arrays import RowCollector
    from opensage.formats.recordio import read_records

    rows = RowCollector(_SOURCE, np.float32, read_labels=False)
    try:
        for record in read_records(io.BytesIO(body), source=_SOURCE):
            rows.add(record)
        return rows.features()
    except AlgorithmClientError as exc:
        raise PayloadError(str(exc)) from exc
