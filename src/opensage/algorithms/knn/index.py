"""The k-NN model on disk and the faiss index in it.

Files, as SageMaker's k-NN writes them (reference §5): ``model_algo-1`` (the serialized faiss
index), ``model_algo-1.labels`` (the indexed points' labels, little-endian float32) and
``model_algo-1.json`` (``k``, ``predictor_type``, ``dimension_reduction``, ``normalize``,
``version``; editing ``k`` or ``predictor_type`` there changes inference). The JSON also holds
what opensage needs to rebuild a query vector and search: ``index_type``, ``index_metric``,
``input_dim``, ``index_dim`` and ``nprobe``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from opensage.algorithms.knn.algorithm import PQ_M_VALUES
from opensage.algorithms.knn.reduction import Reduction

MODEL_FILE = "model_algo-1"
LABELS_FILE = f"{MODEL_FILE}.labels"
METADATA_FILE = f"{MODEL_FILE}.json"
# The projection's seed, written to the JSON (SageMaker's example shows a seed there too).
REDUCTION_SEED = 3
# Product quantizers use 8-bit codes (256 centroids each) unless the sample is smaller than that.
PQ_BITS = 8


@dataclass(frozen=True)
class Layout:
    """How a request row becomes an indexed vector: reduce, zero-pad to ``index_dim``, normalise (COSINE)."""

    input_dim: int
    index_dim: int
    reduction: Reduction | None
    normalize: bool

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        vectors: np.ndarray = np.asarray(rows, dtype=np.float32)
        if self.reduction is not None:
            vectors = self.reduction.apply(vectors)
        if vectors.shape[1] < self.index_dim:
            padding = np.zeros((vectors.shape[0], self.index_dim - vectors.shape[1]), dtype=np.float32)
            vectors = np.concatenate([vectors, padding], axis=1)
        if self.normalize:
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            vectors = vectors / np.where(norms > 0, norms, 1).astype(np.float32)
        return np.ascontiguousarray(vectors, dtype=np.float32)


def default_pq_m(dim: int) -> int:
    """SageMaker documents no default: the largest allowed count leaving at least 4 dimensions per sub-quantizer."""
    return max((m for m in PQ_M_VALUES if dim % m == 0 and dim // m >= 4), default=1)


def layout_for(values: dict[str, Any]) -> tuple[Layout, int | None]:
    """The vector layout of the hyperparameters, and IVFPQ's sub-quantizer count (None for other indexes).

    When ``faiss_index_pq_m`` does not divide the dimension, SageMaker raises the dimension to
    the next multiple: by zero-padding without reduction, by a larger target with it.
    """
    kind = values.get("dimension_reduction_type")
    dim = values["dimension_reduction_target"] if kind else values["feature_dim"]
    pq_m = None
    if values["index_type"] == "faiss.IVFPQ":
        pq_m = values.get("faiss_index_pq_m") or default_pq_m(dim)
        dim = math.ceil(dim / pq_m) * pq_m
    reduction = Reduction(kind, REDUCTION_SEED, values["feature_dim"], dim) if kind else None
    layout = Layout(values["feature_dim"], dim, reduction, values["index_metric"] == "COSINE")
    return layout, pq_m


@dataclass(frozen=True)
class IndexPlan:
    index_type: str
    metric: str
    nlist: int
    pq_m: int | None


def plan_for(values: dict[str, Any], pq_m: int | None, points: int) -> IndexPlan:
    nlists = values["faiss_index_ivf_nlists"]
    requested = int(math.sqrt(values["sample_size"])) if nlists == "auto" else int(nlists)
    # faiss cannot make more clusters than it has points.
    return IndexPlan(values["index_type"], values["index_metric"], max(1, min(requested, points)), pq_m)


def default_nprobe(nlist: int) -> int:
    """Inverted lists searched per query: about √nlist, SageMaker documents none (editable in the JSON)."""
    return min(nlist, max(1, round(math.sqrt(nlist))))


def build_index(vectors: np.ndarray, plan: IndexPlan) -> Any:
    """A trained faiss index holding ``vectors`` (in order: id i is row i)."""
    import faiss

    dim = vectors.shape[1]
    metric = faiss.METRIC_L2 if plan.metric == "L2" else faiss.METRIC_INNER_PRODUCT
    index: Any
    if plan.index_type == "faiss.Flat":
        index = faiss.IndexFlat(dim, metric)
    else:
        quantizer = faiss.IndexFlat(dim, metric)
        if plan.index_type == "faiss.IVFFlat":
            index = faiss.IndexIVFFlat(quantizer, dim, plan.nlist, metric)
        else:
            bits = min(PQ_BITS, max(1, int(math.log2(len(vectors)))))
            index = faiss.IndexIVFPQ(quantizer, dim, plan.nlist, plan.pq_m or default_pq_m(dim), bits)
        index.train(vectors)
    index.add(vectors)
    return index


def write_model(
    model_dir: Path, index: Any, labels: np.ndarray, layout: Layout, plan: IndexPlan, values: dict[str, Any]
) -> dict[str, Any]:
    import faiss

    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / MODEL_FILE).write_bytes(faiss.serialize_index(index).tobytes())
    (model_dir / LABELS_FILE).write_bytes(np.asarray(labels, dtype="<f4").tobytes())
    reduction = layout.reduction
    metadata = {
        "k": values["k"],
        "predictor_type": values["predictor_type"],
        "dimension_reduction": None
        if reduction is None
        else {
            "type": reduction.kind,
            "seed": reduction.seed,
            "target_dim": reduction.target_dim,
            "input_dim": reduction.input_dim,
        },
        "normalize": layout.normalize,
        "version": "1.0",
        "index_type": plan.index_type,
        "index_metric": plan.metric,
        "input_dim": layout.input_dim,
        "index_dim": layout.index_dim,
        "nprobe": default_nprobe(plan.nlist) if plan.index_type != "faiss.Flat" else None,
    }
    (model_dir / METADATA_FILE).write_text(json.dumps(metadata, indent=1) + "\n")
    return metadata


def layout_from_metadata(metadata: dict[str, Any]) -> Layout:
    reduction = metadata.get("dimension_reduction")
    return Layout(
        int(metadata["input_dim"]),
        int(metadata["index_dim"]),
        None
        if not reduction
        else Reduction(
            str(reduction["type"]),
            int(reduction["seed"]),
            int(reduction["input_dim"]),
            int(reduction["target_dim"]),
        ),
        bool(metadata.get("normalize", False)),
    )
