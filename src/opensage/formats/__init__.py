"""Readers and writers of the data formats SageMaker's built-in algorithms train on.

Each reader turns one file into numpy arrays or scipy sparse matrices and raises
``AlgorithmClientError`` naming the file and line (or record) of bad data, so that an
algorithm can fail a job with a message a user can act on:

- ``content_type``: parse ``ContentType`` strings such as ``text/csv; label_size=1``.
- ``csv``: headerless numeric CSV, delimiter detected, empty cells read as NaN.
- ``libsvm``: ``label[:weight] [qid:q] index:value ...`` with zero-based indices.
- ``parquet``: numeric Parquet columns, nulls read as NaN.
- ``recordio``: RecordIO framing and the ``aialgs.data.Record`` protobuf (read and write).

For hosting, request bodies are parsed in memory into float32 matrices (dense, or CSR where
the format is sparse), raising ``errors.PayloadError`` that a model server answers with 400:
``csv_payload``, ``libsvm_payload``, ``json_payload`` (JSON and JSON Lines instances),
``recordio_payload``. ``responses`` writes predictions as JSON, JSON Lines, CSV and
RecordIO-protobuf; ``negotiation`` reads Content-Type and picks a response type from Accept.
"""
