"""k-NN: reservoir sampling and its host merge, each index type against brute force, dimension reduction, serving."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse
from tests.unit.algorithms.conftest import EnvFactory

from opensage.algorithms.knn import KNNAlgorithm
from opensage.algorithms.knn.model import load_model, vote
from opensage.algorithms.knn.reduction import Reduction, hadamard
from opensage.algorithms.knn.sampling import Reservoir, merge
from opensage.errors import AlgorithmClientError
from opensage.formats.recordio import read_records, write_dense


def blobs(rows: int, columns: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three well-separated clusters; the label is the cluster."""
    random = np.random.default_rng(seed)
    centres = random.normal(scale=6.0, size=(3, columns))
    labels = random.integers(0, 3, size=rows)
    return (centres[labels] + random.normal(size=(rows, columns))).astype(np.float32), labels.astype(
        np.float32
    )


def hps(**changes: str) -> dict[str, str]:
    return {"feature_dim": "8", "k": "5", "predictor_type": "classifier", "sample_size": "400", **changes}


def train(
    make_env: EnvFactory, rows: np.ndarray, labels: np.ndarray, test: bool = False, **changes: str
) -> Path:
    channels = {"train": "text/csv", **({"test": "text/csv"} if test else {})}
    env = make_env(hps(**changes), channels)
    table = np.column_stack([labels, rows])
    np.savetxt(env.channels["train"].path / "train.csv", table[:-100], delimiter=",", fmt="%.9g")
    if test:
        np.savetxt(env.channels["test"].path / "test.csv", table[-100:], delimiter=",", fmt="%.9g")
    KNNAlgorithm().train(env)
    return env.model_dir


def answer(model_dir: Path, rows: np.ndarray, accept: str = "application/json") -> list[dict[str, object]]:
    predictor = KNNAlgorithm().load_predictor(model_dir, {})
    body = json.dumps({"instances": [{"features": row} for row in rows.tolist()]}).encode()
    predictions: list[dict[str, object]] = json.loads(
        predictor.predict(body, "application/json", accept).body
    )["predictions"]
    return predictions


def test_reservoir_keeps_a_uniform_sample_across_batches() -> None:
    hits = np.zeros(200)
    for seed in range(200):
        reservoir = Reservoir(20, 1, seed)
        for start in range(0, 200, 30):
            chunk = np.arange(start, min(start + 30, 200), dtype=np.float32)
            reservoir.add(chunk[:, None], chunk)
        assert reservoir.seen == 200 and len(np.unique(reservoir.labels)) == 20
        np.testing.assert_array_equal(reservoir.features[:, 0], reservoir.labels)  # rows stay with labels
        hits[reservoir.labels.astype(int)] += 1
    # Each row is kept with p = 20/200: 400 of 4000 draws per tenth of the stream.
    assert np.all(np.abs(hits.reshape(10, 20).sum(axis=1) - 400) < 80)


def test_sparse_batches_sample_like_dense_ones() -> None:
    rows, labels = blobs(300)
    dense, csr = Reservoir(50, 8), Reservoir(50, 8)
    for start in range(0, 300, 64):
        dense.add(rows[start : start + 64], labels[start : start + 64])
        csr.add(sparse.csr_matrix(rows[start : start + 64]), labels[start : start + 64])
    np.testing.assert_array_equal(dense.features, csr.features)


def test_merge_weights_hosts_by_the_rows_they_read() -> None:
    from_big = 0
    for seed in range(100):
        big, small = Reservoir(40, 1, seed), Reservoir(40, 1, seed + 1000)
        big.add(np.zeros((900, 1), np.float32), np.zeros(900, np.float32))
        small.add(np.ones((100, 1), np.float32), np.ones(100, np.float32))
        sample = merge([big.to_bytes(), small.to_bytes()], 40)
        assert len(sample.labels) == 40 and sample.rows_seen == 1000
        from_big += int(np.count_nonzero(sample.labels == 0))
    assert abs(from_big / 4000 - 0.9) < 0.02  # not 0.5: the big shard holds 90 % of the rows


def test_vote_takes_the_most_frequent_label_and_the_nearest_on_a_tie() -> None:
    labels = np.array([[1, 2, 2, 3], [3, 1, 1, 3], [4, 5, 6, 7]], dtype=np.float32)
    np.testing.assert_array_equal(vote(labels), [2, 3, 4])


@pytest.mark.parametrize(
    ("index", "extra"),
    [
        ("faiss.Flat", {}),
        ("faiss.IVFFlat", {"faiss_index_ivf_nlists": "8"}),
        ("faiss.IVFPQ", {"faiss_index_pq_m": "4"}),
    ],
)
def test_each_index_type_classifies_the_test_channel(
    make_env: EnvFactory, capsys: pytest.CaptureFixture[str], index: str, extra: dict[str, str]
) -> None:
    rows, labels = blobs(500)
    train(make_env, rows, labels, test=True, index_type=index, **extra)
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("#test_score"))
    assert line.startswith("#test_score (algo-1) : ('accuracy', ")
    assert float(line.split(", ")[1].rstrip(")")) > 0.95


def test_flat_index_finds_the_exact_neighbours(make_env: EnvFactory) -> None:
    rows, labels = blobs(500)
    model_dir = train(make_env, rows, labels, sample_size="1000")
    queries = rows[-5:]
    records = answer(model_dir, queries, "application/json; verbose=true")
    train_rows, train_labels = rows[:-100], labels[:-100]
    squared = ((queries[:, None, :] - train_rows[None, :, :]) ** 2).sum(axis=2)
    nearest = np.argsort(squared, axis=1)[:, :5]
    for record, order, row_squared in zip(records, nearest, squared, strict=True):
        assert list(record) == ["predicted_label", "distances", "labels"]
        np.testing.assert_allclose(record["distances"], row_squared[order], rtol=1e-4)  # type: ignore[arg-type]
        assert record["labels"] == train_labels[order].tolist()


def test_regressor_answers_the_mean_of_the_neighbours_and_scores_mse(
    make_env: EnvFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    rows, _ = blobs(500)
    targets = rows[:, 0] * 2.0
    model_dir = train(make_env, rows, targets, test=True, predictor_type="regressor", sample_size="1000")
    assert "#test_score (algo-1) : ('mse', " in capsys.readouterr().out
    record = answer(model_dir, rows[-1:], "application/json; verbose=true")[0]
    assert record["predicted_label"] == pytest.approx(float(np.mean(record["labels"])), rel=1e-6)  # type: ignore[arg-type]


@pytest.mark.parametrize("metric", ["INNER_PRODUCT", "COSINE"])
def test_similarity_metrics_rank_the_most_similar_first(make_env: EnvFactory, metric: str) -> None:
    rows, labels = blobs(500)
    model_dir = train(make_env, rows, labels, index_metric=metric, sample_size="1000")
    query = rows[-1:]
    train_rows = rows[:-100]
    if metric == "COSINE":
        train_rows = train_rows / np.linalg.norm(train_rows, axis=1, keepdims=True)
        query = query / np.linalg.norm(query)
    expected = np.sort(train_rows @ query[0])[::-1][:5]
    record = answer(model_dir, rows[-1:], "application/json;verbose=true")[0]
    np.testing.assert_allclose(record["distances"], expected, rtol=1e-4)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["sign", "fjlt"])
def test_dimension_reduction_keeps_distances_and_accuracy(make_env: EnvFactory, kind: str) -> None:
    random = np.random.default_rng(1)
    points = random.normal(size=(50, 64)).astype(np.float32)
    reduced = Reduction(kind, 3, 64, 48).apply(points)
    original = np.linalg.norm(points[:, None] - points[None], axis=2)
    after = np.linalg.norm(reduced[:, None] - reduced[None], axis=2)
    off_diagonal = ~np.eye(50, dtype=bool)
    assert np.median(np.abs(after[off_diagonal] / original[off_diagonal] - 1)) < 0.15
    rows, labels = blobs(500)
    model_dir = train(make_env, rows, labels, dimension_reduction_type=kind, dimension_reduction_target="4")
    metadata = json.loads((model_dir / "model_algo-1.json").read_text())
    assert metadata["dimension_reduction"] == {"type": kind, "seed": 3, "target_dim": 4, "input_dim": 8}
    predicted = [r["predicted_label"] for r in answer(model_dir, rows[-100:])]
    assert np.mean(np.array(predicted) == labels[-100:]) > 0.95


def test_hadamard_transform_matches_the_matrix() -> None:
    matrix = np.array([[1.0]])
    for _ in range(3):
        matrix = np.block([[matrix, matrix], [matrix, -matrix]])
    rows = np.random.default_rng(0).normal(size=(4, 8))
    np.testing.assert_allclose(hadamard(rows), rows @ matrix.T, atol=1e-12)


def test_pq_m_that_does_not_divide_the_dimension_pads_it(make_env: EnvFactory) -> None:
    rows, labels = blobs(500, columns=6)
    model_dir = train(make_env, rows, labels, feature_dim="6", index_type="faiss.IVFPQ", faiss_index_pq_m="4")
    assert json.loads((model_dir / "model_algo-1.json").read_text())["index_dim"] == 8
    assert len(answer(model_dir, rows[:3])) == 3


def test_model_files_and_an_edited_k(make_env: EnvFactory) -> None:
    rows, labels = blobs(500)
    model_dir = train(make_env, rows, labels, sample_size="100")
    assert sorted(p.name for p in model_dir.iterdir()) == [
        "model_algo-1",
        "model_algo-1.json",
        "model_algo-1.labels",
    ]
    assert (model_dir / "model_algo-1.labels").stat().st_size == 100 * 4
    metadata = json.loads((model_dir / "model_algo-1.json").read_text())
    assert {key: metadata[key] for key in ("k", "predictor_type", "normalize", "version")} == {
        "k": 5,
        "predictor_type": "classifier",
        "normalize": False,
        "version": "1.0",
    }
    (model_dir / "model_algo-1.json").write_text(json.dumps({**metadata, "k": 2}))
    assert len(load_model(model_dir).predict_labels(rows[:1])[2][0]) == 2


def test_recordio_in_and_verbose_recordio_out(make_env: EnvFactory) -> None:
    rows, labels = blobs(300)
    env = make_env(hps(), {"train": "application/x-recordio-protobuf"})
    with (env.channels["train"].path / "part.pbr").open("wb") as out:
        write_dense(out, rows, labels)
    KNNAlgorithm().train(env)
    predictor = KNNAlgorithm().load_predictor(env.model_dir, {})
    buffer = io.BytesIO()
    write_dense(buffer, rows[:2])
    body = predictor.predict(
        buffer.getvalue(), "application/x-recordio-protobuf", "application/x-recordio-protobuf; verbose=true"
    ).body
    records = list(read_records(io.BytesIO(body)))
    assert [sorted(r.label) for r in records] == [["distances", "labels", "predicted_label"]] * 2
    assert list(records[0].label["predicted_label"].float32_tensor.values) == [labels[0]]
    plain = predictor.predict(
        buffer.getvalue(), "application/x-recordio-protobuf", "application/jsonlines"
    ).body
    assert [json.loads(line) for line in plain.decode().splitlines()] == [
        {"predicted_label": float(labels[0])},
        {"predicted_label": float(labels[1])},
    ]


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"predictor_type": "ranker"}, "predictor_type"),
        ({"k": "0"}, "'k'"),
        ({"index_type": "faiss.HNSW"}, "index_type"),
        ({"index_type": "faiss.IVFPQ", "index_metric": "COSINE"}, "index_metric"),
        ({"faiss_index_pq_m": "5"}, "faiss_index_pq_m"),
        ({"faiss_index_ivf_nlists": "none"}, "faiss_index_ivf_nlists"),
        ({"dimension_reduction_type": "sign"}, "dimension_reduction_target"),
        (
            {"dimension_reduction_type": "fjlt", "dimension_reduction_target": "8"},
            "dimension_reduction_target",
        ),
        ({"_tuning_objective_metric": "test:msd"}, "_tuning_objective_metric"),
    ],
)
def test_bad_hyperparameters_are_named(changes: dict[str, str], named: str) -> None:
    with pytest.raises(AlgorithmClientError, match=named):
        KNNAlgorithm().validate_hyperparameters(hps(**changes))


def test_defaults_and_tuning_metrics() -> None:
    values = KNNAlgorithm().validate_hyperparameters(hps(_tuning_objective_metric="test:accuracy"))
    assert (values["index_type"], values["index_metric"], values["faiss_index_ivf_nlists"]) == (
        "faiss.Flat",
        "L2",
        "auto",
    )
    assert values["mini_batch_size"] == 5000
    definitions = {d.name: d.regex for d in KNNAlgorithm().metric_definitions()}
    import re

    match = re.search(definitions["test:accuracy"], "#test_score (algo-1) : ('accuracy', 0.9866)")
    assert match is not None and match.group(1) == "0.9866"


def test_unlabelled_training_rows_are_refused(make_env: EnvFactory) -> None:
    env = make_env(hps(), {"train": "text/csv;label_size=0"})
    np.savetxt(env.channels["train"].path / "train.csv", blobs(20)[0], delimiter=",")
    with pytest.raises(AlgorithmClientError, match="no label"):
        KNNAlgorithm().train(env)
