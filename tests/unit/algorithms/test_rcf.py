"""Random Cut Forest: reservoir sampling, tree structure, scores on SageMaker's scale, test metrics, serving."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from tests.unit.algorithms.conftest import EnvFactory

from opensage.algorithms.rcf import RandomCutForestAlgorithm, shingle
from opensage.algorithms.rcf.forest import build_forest, score_rows
from opensage.algorithms.rcf.sampling import Reservoirs, merge
from opensage.errors import AlgorithmClientError
from opensage.formats.recordio import write_dense


def hps(**changes: str) -> dict[str, str]:
    return {"feature_dim": "2", "num_trees": "50", "num_samples_per_tree": "64", **changes}


def cluster_rows(rows: int = 600, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(rows, 2)).astype(np.float32)


def train(make_env: EnvFactory, rows: np.ndarray, test: np.ndarray | None = None, **changes: str) -> Path:
    channels = {"train": "text/csv;label_size=0"} | (
        {"test": "text/csv;label_size=1"} if test is not None else {}
    )
    env = make_env(hps(**changes), channels)
    np.savetxt(env.channels["train"].path / "train.csv", rows, delimiter=",", fmt="%.9g")
    if test is not None:
        np.savetxt(env.channels["test"].path / "test.csv", test, delimiter=",", fmt="%.9g")
    RandomCutForestAlgorithm().train(env)
    return env.model_dir


def test_each_tree_holds_a_uniform_sample_of_the_stream() -> None:
    # 10 000 stream positions through 400 reservoirs of 50: every position is kept with
    # probability 50 / 10 000, so each tenth of the stream holds about a tenth of the samples.
    reservoirs = Reservoirs(400, 50, 1, np.random.default_rng(3))
    stream = np.arange(10_000, dtype=np.float64)[:, None]
    for start in range(0, 10_000, 777):
        reservoirs.add(stream[start : start + 777])
    kept = reservoirs.filled[..., 0]
    assert all(len(set(tree)) == 50 for tree in kept.tolist())  # without replacement
    share = np.histogram(kept, bins=10, range=(0, 10_000))[0] / kept.size
    np.testing.assert_allclose(share, 0.1, atol=0.01)


def test_merged_host_samples_weigh_hosts_by_their_rows() -> None:
    big = Reservoirs(300, 40, 1, np.random.default_rng(1))
    big.add(np.zeros((3000, 1)))
    small = Reservoirs(300, 40, 1, np.random.default_rng(2))
    small.add(np.ones((1000, 1)))
    merged = merge([(big.filled, big.seen), (small.filled, small.seen)], 40, np.random.default_rng(4))
    assert merged.shape == (300, 40, 1)
    assert merged.mean() == pytest.approx(0.25, abs=0.01)


def test_trees_partition_their_samples() -> None:
    samples = np.random.default_rng(5).normal(size=(20, 64, 3))
    samples[:, 10] = samples[:, 11]  # identical points end in one leaf
    forest = build_forest(samples, np.random.default_rng(6))
    inner = forest.left >= 0
    assert (forest.mass[forest.left[inner]] + forest.mass[forest.right[inner]] == forest.mass[inner]).all()
    assert (forest.mass[forest.roots] == 64).all()
    assert forest.mass[~inner].sum() == 20 * 64
    assert (forest.mass[~inner] == 2).sum() == 20
    # Every cut lies inside its node's box, so both sides get points.
    rows = np.flatnonzero(inner)
    assert (forest.cut[rows] >= forest.box_min[rows, forest.dim[rows]]).all()
    assert (forest.cut[rows] < forest.box_max[rows, forest.dim[rows]]).all()


def test_scores_are_on_sagemakers_scale() -> None:
    rows = cluster_rows(5000).astype(np.float64)
    reservoirs = Reservoirs(100, 256, 2, np.random.default_rng(7))
    reservoirs.add(rows)
    forest = build_forest(reservoirs.filled, np.random.default_rng(8))
    ordinary = score_rows(forest, cluster_rows(500, seed=9)).score
    far = score_rows(forest, np.array([[8.0, 8.0], [-9.0, 0.0]])).score
    assert 0.5 < np.median(ordinary) < 1.5  # typical points about 1
    assert (far > 3).all() and (far <= np.log2(256)).all()  # anomalies well past 3, at most log2(256)
    assert (far > ordinary.mean() + 3 * ordinary.std()).all()
    codisp = score_rows(forest, np.vstack([cluster_rows(50, seed=10), [[8.0, 8.0]]])).codisp
    assert codisp[-1] > 10 * np.median(codisp[:-1])


def test_training_finds_planted_anomalies_and_prints_test_metrics(
    make_env: EnvFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = cluster_rows()
    test = np.column_stack([np.zeros(200), cluster_rows(200, seed=1)])
    test[:5, 0] = 1
    test[:5, 1:] = [[6, 6], [-6, 5], [7, -7], [0, 9], [-8, -8]]
    model_dir = train(make_env, rows, test)
    lines = {
        line.split(", ")[1] for line in capsys.readouterr().out.splitlines() if line.startswith("#quality")
    }
    assert lines == {
        "test f1 <score>=1.0",
        "test precision <score>=1.0",
        "test recall <score>=1.0",
        "test accuracy <score>=1.0",
    }
    predictor = RandomCutForestAlgorithm().load_predictor(model_dir, {})
    body = json.dumps({"instances": [{"features": [0.1, -0.2]}, {"features": [9.0, 9.0]}]}).encode()
    scores = json.loads(predictor.predict(body, "application/json", "application/json").body)["scores"]
    assert [set(item) for item in scores] == [{"score"}, {"score"}]
    assert scores[1]["score"] > 3 * scores[0]["score"]


def test_eval_metrics_chooses_the_lines(make_env: EnvFactory, capsys: pytest.CaptureFixture[str]) -> None:
    test = np.column_stack([np.zeros(50), cluster_rows(50, seed=1)])
    train(make_env, cluster_rows(200), test, eval_metrics='["accuracy"]')
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("#quality")]
    assert [line.split("=")[1] for line in lines] == ["algo-1, test accuracy <score>"]


def test_same_data_same_model_and_recordio_trains_like_csv(make_env: EnvFactory, tmp_path: Path) -> None:
    rows = cluster_rows(300)
    first = (train(make_env, rows) / "rcf-model.npz").read_bytes()
    env = make_env(hps(), {"train": "application/x-recordio-protobuf"}, model_dir=tmp_path / "model-2")
    (env.channels["train"].path / "train.csv").unlink()
    with (env.channels["train"].path / "part.pbr").open("wb") as out:
        write_dense(out, rows)
    RandomCutForestAlgorithm().train(env)
    assert (env.model_dir / "rcf-model.npz").read_bytes() == first


def test_shingle_windows_a_series() -> None:
    np.testing.assert_array_equal(shingle(np.arange(5), 3), [[0, 1, 2], [1, 2, 3], [2, 3, 4]])
    two = np.arange(8).reshape(4, 2)
    np.testing.assert_array_equal(shingle(two, 2)[0], [0, 1, 2, 3])
    with pytest.raises(AlgorithmClientError, match="no shingle of size 6"):
        shingle(np.arange(5), 6)


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"num_trees": "49"}, "num_trees"),
        ({"num_samples_per_tree": "2049"}, "num_samples_per_tree"),
        ({"feature_dim": "10001"}, "feature_dim"),
        ({"eval_metrics": '["auc"]'}, "eval_metrics"),
        ({"_tuning_objective_metric": "test:msd"}, "_tuning_objective_metric"),
        ({"num_tree": "100"}, "num_tree"),
    ],
)
def test_bad_hyperparameters_are_named(changes: dict[str, str], named: str) -> None:
    with pytest.raises(AlgorithmClientError, match=named):
        RandomCutForestAlgorithm().validate_hyperparameters(hps(**changes))


def test_defaults_and_bad_channels(make_env: EnvFactory) -> None:
    values = RandomCutForestAlgorithm().validate_hyperparameters(
        {"feature_dim": "3", "_tuning_objective_metric": "test:f1"}
    )
    assert (values["num_trees"], values["num_samples_per_tree"]) == (100, 256)
    assert values["eval_metrics"] == ["accuracy", "precision_recall_fscore"]
    with pytest.raises(AlgorithmClientError, match="feature_dim is 2"):
        train(make_env, np.zeros((10, 3)))
    with pytest.raises(AlgorithmClientError, match="1 \\(anomaly\\) or 0"):
        train(make_env, cluster_rows(50), np.column_stack([np.full(10, 2.0), cluster_rows(10)]))


def test_streaming_scores_flag_a_spike_when_it_arrives() -> None:
    from opensage.algorithms.rcf.streaming import stream_scores

    series = np.sin(np.arange(1500) / 10.0) + np.random.default_rng(12).normal(scale=0.05, size=1500)
    series[1200] = 4.0
    scores = stream_scores(shingle(series, 1), num_trees=50, num_samples_per_tree=64, seed=1)
    assert scores[:1].tolist() == [0.0]  # nothing to compare the first point with
    assert int(np.argmax(scores[300:])) + 300 == 1200
