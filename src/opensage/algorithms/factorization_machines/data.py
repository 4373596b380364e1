"""The channels Factorization Machines reads: RecordIO-protobuf only, one label per record."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import numpy as np
from scipy import sparse

from opensage.algorithms.aialgs.channels import Batch, read_batches
from opensage.algorithms.base import ChannelInput
from opensage.algorithms.factorization_machines.model import canonical_rows
from opensage.errors import AlgorithmClientError
from opensage.formats import content_type as ct


def recordio_channel(channel: ChannelInput) -> ChannelInput:
    """The channel, refused unless it is RecordIO-protobuf; no content type means RecordIO.

    The SageMaker SDK's ``record_set`` sends no ContentType for FM's channels, and FM reads
    nothing else.
    """
    if channel.content_type is None:
        return dataclasses.replace(channel, content_type=ct.RECORDIO_PROTOBUF)
    if ct.parse_content_type(channel.content_type).media_type != ct.RECORDIO_PROTOBUF:
        raise AlgorithmClientError(
            f"Channel '{channel.name}': content type {channel.content_type!r} is not supported; Factorization "
            f"Machines trains on {ct.RECORDIO_PROTOBUF} only (Float32 tensors, sparse or dense), not CSV"
        )
    return channel


def labelled_rows(batch: Batch, regressor: bool) -> tuple[sparse.csr_matrix, np.ndarray]:
    if batch.labels is None or batch.labels.ndim != 1:
        raise AlgorithmClientError(
            f"{batch.source}: every record needs one label in label['values']; Factorization Machines is supervised"
        )
    labels = batch.labels.astype(np.float32)
    if not np.isfinite(labels).all():
        raise AlgorithmClientError(f"{batch.source}: a label is not a finite number")
    outside = labels[~np.isin(labels, (0.0, 1.0))]
    if not regressor and outside.size:
        raise AlgorithmClientError(
            f"{batch.source}: predictor_type binary_classifier needs labels 0 or 1, found {outside[0]:g}"
        )
    return canonical_rows(batch.features), labels


def batches(channel: ChannelInput, values: dict[str, Any], epoch: int) -> Iterator[Batch]:
    return read_batches(
        channel,
        values["mini_batch_size"],
        epoch=epoch,
        feature_dim=values["feature_dim"],
        content_types=(ct.RECORDIO_PROTOBUF,),
    )
