"""PCA: matches scikit-learn in regular mode, merges host states exactly, serves projections."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.decomposition import PCA
from tests.unit.algorithms.conftest import EnvFactory

from opensage.algorithms.aialgs.channels import Batch
from opensage.algorithms.pca import PCAAlgorithm
from opensage.algorithms.pca.training import new_state, state_from_bytes
from opensage.errors import AlgorithmClientError
from opensage.formats.recordio import write_dense


def data(rows: int = 400, columns: int = 8, seed: int = 0) -> np.ndarray:
    random = np.random.default_rng(seed)
    # Correlated columns far from the origin: a mean that cancellation would hurt.
    return (random.normal(size=(rows, columns)) @ random.normal(size=(columns, columns)) + 100).astype(
        np.float32
    )


def hps(**changes: str) -> dict[str, str]:
    return {"feature_dim": "8", "mini_batch_size": "64", "num_components": "3", **changes}


def train(make_env: EnvFactory, rows: np.ndarray, **changes: str) -> Path:
    env = make_env(hps(**changes), {"train": "text/csv;label_size=0"})
    np.savetxt(env.channels["train"].path / "train.csv", rows, delimiter=",", fmt="%.9g")
    PCAAlgorithm().train(env)
    return env.model_dir


def test_regular_mode_matches_scikit_learn(make_env: EnvFactory) -> None:
    rows = data()
    model = np.load(train(make_env, rows) / "pca-model.npz")
    reference = PCA(3, svd_solver="full").fit(rows.astype(np.float64))
    np.testing.assert_allclose(model["explained_variance"], reference.explained_variance_, rtol=1e-6)
    np.testing.assert_allclose(np.abs(model["components"]), np.abs(reference.components_), atol=1e-6)
    np.testing.assert_allclose(model["mean"], reference.mean_, rtol=1e-9)


def test_served_projections_match_scikit_learn(make_env: EnvFactory) -> None:
    rows = data()
    predictor = PCAAlgorithm().load_predictor(train(make_env, rows), {})
    body = json.dumps({"instances": [{"features": row} for row in rows[:5].tolist()]}).encode()
    answer = json.loads(predictor.predict(body, "application/json", "application/json").body)
    projections = np.array([item["projection"] for item in answer["projections"]])
    expected = PCA(3, svd_solver="full").fit(rows.astype(np.float64)).transform(rows[:5].astype(np.float64))
    np.testing.assert_allclose(np.abs(projections), np.abs(expected), rtol=1e-3, atol=1e-3)


def test_host_states_merge_to_the_single_host_model() -> None:
    rows = data()
    values = {"algorithm_mode": "regular", "feature_dim": 8}
    whole = new_state(values, 0)
    for start in range(0, 400, 64):
        whole.add(Batch(rows[start : start + 64], None, "all"))
    shards = []
    for host, part in enumerate(np.array_split(rows, 3)):
        state = new_state(values, host)
        state.add(Batch(part, None, f"host {host}"))
        shards.append(state.to_bytes())
    merged = state_from_bytes(shards[0])
    for other in shards[1:]:
        merged.merge(state_from_bytes(other))
    a, b = whole.finish(3, True), merged.finish(3, True)
    np.testing.assert_allclose(a.explained_variance, b.explained_variance, rtol=1e-9)
    np.testing.assert_allclose(a.components, b.components, atol=1e-9)


def test_randomized_mode_is_close_and_deterministic(make_env: EnvFactory) -> None:
    rows = data(rows=2000)
    # A random-sign sketch estimates the covariance with a relative error about sqrt(d / l).
    first = np.load(
        train(make_env, rows, algorithm_mode="randomized", extra_components="1000") / "pca-model.npz"
    )
    reference = PCA(3, svd_solver="full").fit(rows.astype(np.float64))
    np.testing.assert_allclose(first["explained_variance"], reference.explained_variance_, rtol=0.25)
    again = new_state(
        {"algorithm_mode": "randomized", "feature_dim": 8, "num_components": 3, "extra_components": 20}, 0
    )
    other = new_state(
        {"algorithm_mode": "randomized", "feature_dim": 8, "num_components": 3, "extra_components": 20}, 0
    )
    for state in (again, other):
        state.add(Batch(rows[:100], None, "x"))
    np.testing.assert_array_equal(again.finish(3, True).components, other.finish(3, True).components)


def test_subtract_mean_false_keeps_the_origin(make_env: EnvFactory) -> None:
    rows = data()
    model = np.load(train(make_env, rows, subtract_mean="false") / "pca-model.npz")
    assert not model["mean"].any()
    top = np.linalg.svd(rows.astype(np.float64), full_matrices=False)[2][0]
    np.testing.assert_allclose(np.abs(model["components"][0]), np.abs(top), atol=1e-6)


def test_recordio_sparse_and_dense_train_alike(make_env: EnvFactory) -> None:
    rows = data(rows=100)
    env = make_env(hps(), {"train": "application/x-recordio-protobuf"})
    with (env.channels["train"].path / "part.pbr").open("wb") as out:
        write_dense(out, rows)
    PCAAlgorithm().train(env)
    dense_model = np.load(env.model_dir / "pca-model.npz")
    reference = PCA(3, svd_solver="full").fit(rows.astype(np.float64))
    np.testing.assert_allclose(dense_model["explained_variance"], reference.explained_variance_, rtol=1e-6)


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"num_components": "9"}, "num_components"),
        ({"algorithm_mode": "fast"}, "algorithm_mode"),
        ({"extra_components": "-2"}, "extra_components"),
        ({"subtract_mean": "yes"}, "subtract_mean"),
        ({"num_component": "3"}, "num_component"),
    ],
)
def test_bad_hyperparameters_are_named(changes: dict[str, str], named: str) -> None:
    with pytest.raises(AlgorithmClientError, match=named):
        PCAAlgorithm().validate_hyperparameters(hps(**changes))


def test_missing_required_and_wrong_width(make_env: EnvFactory) -> None:
    with pytest.raises(AlgorithmClientError, match="missing required hyperparameter 'mini_batch_size'"):
        PCAAlgorithm().validate_hyperparameters({"feature_dim": "8", "num_components": "2"})
    with pytest.raises(AlgorithmClientError, match="feature_dim is 8"):
        train(make_env, data(columns=5)[:, :5], num_components="2")
