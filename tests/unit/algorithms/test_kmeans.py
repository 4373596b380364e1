"""K-Means: streaming summary + local Lloyd finds scikit-learn's clusters, hosts merge, models serve."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse
from sklearn.cluster import KMeans
from tests.unit.algorithms.conftest import EnvFactory

from opensage.algorithms.kmeans import KMeansAlgorithm, ndarray
from opensage.algorithms.kmeans.lloyd import weighted_lloyd
from opensage.algorithms.kmeans.streaming import StreamingState, merge_states
from opensage.algorithms.kmeans.training import reduce_to_k
from opensage.errors import AlgorithmClientError
from opensage.formats.recordio import write_dense, write_sparse


def blobs(rows: int = 3000, columns: int = 5, k: int = 4, seed: int = 0) -> np.ndarray:
    random = np.random.default_rng(seed)
    means = random.normal(scale=6, size=(k, columns)) + 50  # off the origin, as real data often is
    labels = random.integers(0, k, rows)
    return (means[labels] + random.normal(size=(rows, columns))).astype(np.float32)


def sse(rows: np.ndarray, centers: np.ndarray) -> float:
    differences = rows.astype(np.float64)[:, None, :] - centers.astype(np.float64)[None, :, :]
    return float((differences**2).sum(axis=2).min(axis=1).sum())


def hps(**changes: str) -> dict[str, str]:
    return {"feature_dim": "5", "k": "4", "mini_batch_size": "500", **changes}


def train(make_env: EnvFactory, rows: np.ndarray, test: np.ndarray | None = None, **changes: str) -> Path:
    channels = {"train": "text/csv;label_size=0"}
    if test is not None:
        channels["test"] = "text/csv;label_size=0"
    env = make_env(hps(**changes), channels)
    np.savetxt(env.channels["train"].path / "train.csv", rows, delimiter=",", fmt="%.9g")
    if test is not None:
        np.savetxt(env.channels["test"].path / "test.csv", test, delimiter=",", fmt="%.9g")
    KMeansAlgorithm().train(env)
    return env.model_dir


def centers_of(model_dir: Path) -> np.ndarray:
    return ndarray.load(model_dir / "model_algo-1")[0]


@pytest.mark.parametrize("init_method", ["random", "kmeans++"])
def test_finds_the_clusters_scikit_learn_finds(make_env: EnvFactory, init_method: str) -> None:
    rows = blobs()
    centers = centers_of(train(make_env, rows, init_method=init_method))
    assert centers.shape == (4, 5) and centers.dtype == np.float32
    reference = KMeans(4, n_init=10, random_state=0).fit(rows.astype(np.float64))
    assert sse(rows, centers) <= 1.01 * reference.inertia_


def test_sharded_hosts_merge_to_single_host_quality() -> None:
    rows = blobs(rows=4000)
    values = {
        "k": 4,
        "local_lloyd_num_trials": "auto",
        "local_lloyd_init_method": "kmeans++",
        "local_lloyd_max_iter": 300,
        "local_lloyd_tol": 1e-4,
    }
    blobs_by_host = []
    for host, shard in enumerate(np.array_split(rows, 3)):
        state = StreamingState(40, 5, init_method="random", half_life=0, host_rank=host)
        for start in range(0, shard.shape[0], 300):
            state.add(shard[start : start + 300])
        blobs_by_host.append(state.to_bytes())
    centers, weights, seen = merge_states(blobs_by_host)
    assert centers.shape == (120, 5) and seen == 4000
    assert weights.sum() == pytest.approx(4000)
    merged = reduce_to_k(centers, weights, values)
    reference = KMeans(4, n_init=10, random_state=0).fit(rows.astype(np.float64))
    assert sse(rows, merged) <= 1.01 * reference.inertia_
    np.testing.assert_array_equal(merged, reduce_to_k(*merge_states(blobs_by_host)[:2], values))


def test_local_lloyd_runs_until_the_loss_settles() -> None:
    """Regression: with local_lloyd_tol > 0 the first iteration's check (inf - loss <= tol * inf)
    held, so every restart stopped after one step (UCI Adult came out 7% above scikit-learn)."""
    random = np.random.default_rng(5)
    points, weights = random.normal(size=(400, 2)), random.uniform(1, 5, 400)

    def reduce(tol: float) -> float:
        run = weighted_lloyd(
            points,
            weights,
            6,
            init_method="kmeans++",
            max_iter=300,
            tol=tol,
            trials=1,
            random=np.random.default_rng(0),
        )
        assert run.iterations > 1
        return run.loss

    assert reduce(1e-4) <= 1.001 * reduce(0.0)


def test_epochs_with_decay_and_seeded_starts(make_env: EnvFactory) -> None:
    rows = blobs(rows=1500)
    first = (train(make_env, rows, epochs="2", half_life_time_size="300") / "model_algo-1").read_bytes()
    centers = ndarray.load_matrices(first)[0]
    assert sse(rows, centers) <= 1.01 * KMeans(4, n_init=10, random_state=0).fit(rows).inertia_
    again = StreamingState(8, 5, init_method="random", half_life=0, host_rank=0)
    other = StreamingState(8, 5, init_method="random", half_life=0, host_rank=0)
    for state in (again, other):
        state.add(rows[:100])
    np.testing.assert_array_equal(again.centers, other.centers)


def test_sparse_recordio_trains_like_dense(make_env: EnvFactory) -> None:
    rows = blobs(rows=1200)
    rows[rows < 48] = 0  # make it genuinely sparse
    models = {}
    for name, payload in (("dense", rows), ("sparse", sparse.csr_matrix(rows))):
        env = make_env(hps(), {"train": "application/x-recordio-protobuf"})
        for old in env.channels["train"].path.iterdir():
            old.unlink()  # the same tmp_path serves both runs
        with (env.channels["train"].path / "part.pbr").open("wb") as out:
            (write_dense if name == "dense" else write_sparse)(out, payload)
        KMeansAlgorithm().train(env)
        models[name] = centers_of(env.model_dir)
    reference = KMeans(4, n_init=10, random_state=0).fit(rows).inertia_
    for centers in models.values():
        assert sse(rows, centers) <= 1.02 * reference


def test_test_channel_prints_msd_and_ssd(make_env: EnvFactory, capsys: pytest.CaptureFixture[str]) -> None:
    rows, test = blobs(), blobs(rows=200, seed=1)
    model = train(make_env, rows, test, eval_metrics='["msd","ssd"]')
    expected = sse(test, centers_of(model))
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("#quality_metric")]
    assert lines[0].startswith("#quality_metric: host=algo-1, test msd <loss>=")
    assert float(lines[0].rsplit("=", 1)[1]) == pytest.approx(expected / 200, rel=1e-6)
    assert lines[1].startswith("#quality_metric: host=algo-1, test ssd <loss>=")
    assert float(lines[1].rsplit("=", 1)[1]) == pytest.approx(expected, rel=1e-6)


def test_default_eval_metrics_and_tuning_objective(
    make_env: EnvFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    rows, test = blobs(rows=600), blobs(rows=50, seed=1)
    train(make_env, rows, test)
    assert [line.split(",")[1].split("<")[0].strip() for line in _quality(capsys)] == ["test msd"]
    train(make_env, rows, test, _tuning_objective_metric="test:ssd")
    assert [line.split(",")[1].split("<")[0].strip() for line in _quality(capsys)] == ["test msd", "test ssd"]


def _quality(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return [line for line in capsys.readouterr().out.splitlines() if line.startswith("#quality_metric")]


def test_serves_closest_cluster_and_euclidean_distance(make_env: EnvFactory) -> None:
    rows = blobs()
    model_dir = train(make_env, rows)
    centers = centers_of(model_dir).astype(np.float64)
    predictor = KMeansAlgorithm().load_predictor(model_dir, {})
    sample = rows[:6]
    body = json.dumps({"instances": [{"features": row} for row in sample.tolist()]}).encode()
    answer = json.loads(predictor.predict(body, "application/json", "application/json").body)["predictions"]
    distances = np.sqrt(((sample[:, None, :].astype(np.float64) - centers[None]) ** 2).sum(axis=2))
    assert [item["closest_cluster"] for item in answer] == distances.argmin(axis=1).astype(float).tolist()
    np.testing.assert_allclose(
        [item["distance_to_cluster"] for item in answer], distances.min(axis=1), rtol=1e-5
    )
    csv_answer = predictor.predict(body, "application/json", "text/csv").body.decode().splitlines()
    assert csv_answer == [f"{item['closest_cluster']},{item['distance_to_cluster']}" for item in answer]
    assert csv_answer[0].split(",")[0].endswith(".0")


def test_model_file_is_an_mxnet_ndarray_list() -> None:
    centers = np.arange(6, dtype=np.float32).reshape(2, 3)
    data = ndarray.dump_matrices([centers])
    # list magic, reserved, one array; V2 magic, dense; 2-D (2, 3); cpu(0); float32; data; no names
    assert data[:24] == (0x112).to_bytes(8, "little") + bytes(8) + (1).to_bytes(8, "little")
    assert data[24:32] == bytes.fromhex("c9fa93f9") + bytes(4)
    assert data[32:52] == (2).to_bytes(4, "little") + (2).to_bytes(8, "little") + (3).to_bytes(8, "little")
    assert data[52:64] == (1).to_bytes(4, "little") + bytes(8)
    assert data[64:88] == centers.tobytes() and data[88:] == bytes(8)
    np.testing.assert_array_equal(ndarray.load_matrices(data)[0], centers)
    with pytest.raises(ValueError, match="magic"):
        ndarray.load_matrices(b"\0" * 24)


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"k": "0"}, "'k'"),
        ({"init_method": "k-means++"}, "init_method"),
        ({"local_lloyd_init_method": "best"}, "local_lloyd_init_method"),
        ({"local_lloyd_tol": "1.5"}, "local_lloyd_tol"),
        ({"local_lloyd_max_iter": "0"}, "local_lloyd_max_iter"),
        ({"local_lloyd_num_trials": "none"}, "local_lloyd_num_trials"),
        ({"extra_center_factor": "0"}, "extra_center_factor"),
        ({"half_life_time_size": "-1"}, "half_life_time_size"),
        ({"eval_metrics": '["mse"]'}, "eval_metrics"),
        ({"epochs": "0"}, "epochs"),
        ({"center_factor": "4"}, "'extra_center_factor'"),
        ({"tol": "0.1"}, "'local_lloyd_tol'"),
        ({"_tuning_objective_metric": "test:mse"}, "test:msd"),
    ],
)
def test_bad_hyperparameters_are_named(changes: dict[str, str], named: str) -> None:
    with pytest.raises(AlgorithmClientError, match=named):
        KMeansAlgorithm().validate_hyperparameters(hps(**changes))


def test_defaults_and_what_the_sdk_sends() -> None:
    values = KMeansAlgorithm().validate_hyperparameters(
        {"feature_dim": "5", "k": "3", "force_dense": "True", "eval_metrics": "['msd', 'ssd']"}
    )
    assert values["mini_batch_size"] == 5000 and values["epochs"] == 1
    assert values["init_method"] == "random" and values["local_lloyd_init_method"] == "kmeans++"
    assert values["extra_center_factor"] == "auto" and values["local_lloyd_num_trials"] == "auto"
    assert values["local_lloyd_max_iter"] == 300 and values["local_lloyd_tol"] == 0.0001
    assert values["half_life_time_size"] == 0 and values["eval_metrics"] == ["msd", "ssd"]
    with pytest.raises(AlgorithmClientError, match="missing required hyperparameter 'k'"):
        KMeansAlgorithm().validate_hyperparameters({"feature_dim": "5"})


def test_fewer_rows_than_k_and_wrong_width(make_env: EnvFactory) -> None:
    with pytest.raises(AlgorithmClientError, match="3 rows, fewer than k=4"):
        train(make_env, blobs(rows=3))
    with pytest.raises(AlgorithmClientError, match="feature_dim is 5"):
        train(make_env, blobs(columns=3))


def test_fewer_rows_than_streaming_centres_still_trains(make_env: EnvFactory) -> None:
    rows = blobs(rows=30)  # K = 4 x 10 = 40 > 30 rows
    centers = centers_of(train(make_env, rows))
    assert sse(rows, centers) <= 1.05 * KMeans(4, n_init=10, random_state=0).fit(rows).inertia_


def test_kmeans_images_of_any_region_select_it() -> None:
    from opensage.algorithms.registry import load_algorithm, resolve_training_image

    for image in (
        "382416733822.dkr.ecr.us-east-1.amazonaws.com/kmeans:1",
        "174872318107.dkr.ecr.us-west-2.amazonaws.com/kmeans:latest",
        "438346466558.dkr.ecr.eu-west-1.amazonaws.com/kmeans:1",
    ):
        assert resolve_training_image(image) == "kmeans"
    algorithm = load_algorithm("kmeans")
    assert isinstance(algorithm, KMeansAlgorithm) and algorithm.supports_distributed
    assert [d.name for d in algorithm.metric_definitions()][:2] == ["test:msd", "test:ssd"]
