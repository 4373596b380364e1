"""Factorization Machines: the O(k·nnz) identity, learning regressors and classifiers, the documented metrics and answers."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse
from tests.unit.algorithms.conftest import EnvFactory

from opensage.algorithms.factorization_machines import FactorizationMachinesAlgorithm
from opensage.algorithms.factorization_machines.model import MODEL_FILE, canonical_rows, forward
from opensage.algorithms.factorization_machines.training import average
from opensage.errors import AlgorithmClientError, InferenceError
from opensage.formats.recordio import read_records, write_dense, write_sparse

RECORDIO = "application/x-recordio-protobuf"


def ratings(
    users: int = 60, items: int = 40, n: int = 4000, seed: int = 0
) -> tuple[sparse.csr_matrix, np.ndarray]:
    """One-hot (user, item) rows; ratings = ⟨u, i⟩ of rank 3 plus noise of sd 0.1."""
    random = np.random.default_rng(seed)
    user_vectors, item_vectors = random.normal(size=(users, 3)), random.normal(size=(items, 3))
    u, i = random.integers(0, users, n), random.integers(0, items, n)
    labels = (np.sum(user_vectors[u] * item_vectors[i], axis=1) + 0.1 * random.normal(size=n)).astype(
        np.float32
    )
    columns = np.column_stack([u, users + i]).ravel()
    rows = sparse.csr_matrix(
        (np.ones(2 * n, np.float32), columns, np.arange(0, 2 * n + 1, 2)), (n, users + items)
    )
    return rows, labels


def hps(**changes: str) -> dict[str, str]:
    return {
        "feature_dim": "100",
        "num_factors": "4",
        "predictor_type": "regressor",
        "epochs": "8",
        "mini_batch_size": "100",
        "factors_lr": "0.02",
        "linear_lr": "0.02",
        "factors_init_sigma": "0.1",
        **changes,
    }


def write_channel(path: Path, rows: sparse.csr_matrix, labels: np.ndarray | None) -> None:
    path.mkdir(parents=True, exist_ok=True)
    with (path / "part.pbr").open("wb") as out:
        write_sparse(out, rows, labels)


def train(
    make_env: EnvFactory,
    rows: sparse.csr_matrix,
    labels: np.ndarray,
    test: tuple[sparse.csr_matrix, np.ndarray] | None = None,
    content_type: str | None = RECORDIO,
    **changes: str,
) -> Path:
    channels: dict[str, str | None] = {"train": content_type}
    if test is not None:
        channels["test"] = content_type
    env = make_env(hps(**changes), channels)
    write_channel(env.channels["train"].path, rows, labels)
    if test is not None:
        write_channel(env.channels["test"].path, *test)
    FactorizationMachinesAlgorithm().train(env)
    return env.model_dir


def metric_lines(output: str) -> dict[str, float]:
    """The final ``#quality_metric`` lines (no epoch) as {"test:rmse": value}."""
    found = re.findall(r"#quality_metric: host=algo-1, (\w+) (\w+) <(?:loss|score)>=(\S+)", output)
    return {f"{channel}:{name}": float(value) for channel, name, value in found}


def test_the_sparse_identity_is_the_pairwise_sum() -> None:
    random = np.random.default_rng(1)
    rows = sparse.random(6, 15, density=0.4, random_state=2, dtype=np.float32).tocsr()
    linear, factors = (
        random.normal(size=15).astype(np.float32),
        random.normal(size=(15, 3)).astype(np.float32),
    )
    scores, _, _ = forward(canonical_rows(rows), 0.25, linear, factors)
    dense = rows.toarray().astype(np.float64)
    pairs = factors.astype(np.float64) @ factors.T.astype(np.float64)
    expected = 0.25 + dense @ linear + np.einsum("ri,ij,rj->r", dense, np.triu(pairs, 1), dense)
    np.testing.assert_allclose(scores, expected, rtol=1e-5, atol=1e-5)


def test_a_regressor_learns_low_rank_ratings_and_reports_test_rmse(
    make_env: EnvFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    rows, labels = ratings()
    model_dir = train(make_env, rows[:3500], labels[:3500], test=(rows[3500:], labels[3500:]))
    metrics = metric_lines(capsys.readouterr().out)
    # Noise sd 0.1, ratings sd ~1.7: a model that found the interactions is far below the spread.
    assert metrics["test:rmse"] < 0.5 < float(np.std(labels))
    predictor = FactorizationMachinesAlgorithm().load_predictor(model_dir, {})
    body = json.dumps({"instances": [{"features": row} for row in rows[3500:].toarray().tolist()]}).encode()
    answer = json.loads(predictor.predict(body, "application/json", "application/json").body)
    scores = np.array([item["score"] for item in answer["predictions"]])
    assert all(set(item) == {"score"} for item in answer["predictions"])
    assert np.sqrt(np.mean((scores - labels[3500:]) ** 2)) == pytest.approx(metrics["test:rmse"], rel=1e-4)


def test_a_binary_classifier_learns_an_interaction_and_reports_its_metrics(
    make_env: EnvFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    rows, values = ratings(seed=3)
    labels = (values > 0).astype(np.float32)  # positive exactly when ⟨u, i⟩ is: no linear term explains it
    model_dir = train(
        make_env,
        rows[:3500],
        labels[:3500],
        test=(rows[3500:], labels[3500:]),
        predictor_type="binary_classifier",
    )
    metrics = metric_lines(capsys.readouterr().out)
    assert set(metrics) >= {
        "test:binary_classification_accuracy",
        "test:binary_classification_cross_entropy",
        "test:binary_f_beta",
    }
    assert metrics["test:binary_classification_accuracy"] > 0.8
    assert metrics["test:binary_f_beta"] > 0.8
    assert metrics["test:binary_classification_cross_entropy"] < 0.5
    predictor = FactorizationMachinesAlgorithm().load_predictor(model_dir, {})
    body = "".join(json.dumps({"features": row}) + "\n" for row in rows[:20].toarray().tolist()).encode()
    answers = [
        json.loads(line)
        for line in predictor.predict(
            body, "application/jsonlines", "application/jsonlines"
        ).body.splitlines()
    ]
    for answer in answers:
        assert set(answer) == {"score", "predicted_label"}
        assert 0 <= answer["score"] <= 1
        assert answer["predicted_label"] == int(answer["score"] >= 0.5)


def test_the_same_data_and_hyperparameters_give_the_same_model_bytes(
    make_env: EnvFactory, tmp_path: Path
) -> None:
    rows, labels = ratings(n=600)
    first = (train(make_env, rows, labels, epochs="2") / MODEL_FILE).read_bytes()
    second = (train(make_env, rows, labels, epochs="2") / MODEL_FILE).read_bytes()
    assert first == second


def test_constant_initialisation_and_zero_clipped_gradients_leave_the_weights_alone(
    make_env: EnvFactory,
) -> None:
    rows, labels = ratings(n=300)
    changes = {
        f"{term}_{name}": value
        for term in ("bias", "linear", "factors")
        for name, value in (("init_method", "constant"), ("init_value", "0.25"), ("wd", "0"))
    }
    model = np.load(train(make_env, rows, labels, epochs="1", clip_gradient="0", **changes) / MODEL_FILE)
    for term in ("bias", "linear", "factors"):
        assert np.all(model[term] == np.float32(0.25)), term


def test_uniform_initialisation_stays_in_its_range(make_env: EnvFactory) -> None:
    rows, labels = ratings(n=300)
    model = np.load(
        train(
            make_env,
            rows,
            labels,
            epochs="1",
            factors_init_method="uniform",
            factors_init_scale="0.05",
            factors_lr="0",
        )
        / MODEL_FILE
    )
    assert np.abs(model["factors"]).max() <= 0.05
    assert model["factors"].std() > 0.02  # spread over the range, not a constant


def test_no_content_type_means_recordio_and_csv_is_refused(make_env: EnvFactory) -> None:
    rows, labels = ratings(n=200)
    assert (train(make_env, rows, labels, content_type=None, epochs="1") / MODEL_FILE).exists()
    with pytest.raises(AlgorithmClientError, match=r"recordio-protobuf only .*not CSV"):
        train(make_env, rows, labels, content_type="text/csv", epochs="1")


def test_dense_recordio_trains_like_sparse(make_env: EnvFactory) -> None:
    rows, labels = ratings(n=300)
    sparse_model = np.load(train(make_env, rows, labels, epochs="1") / MODEL_FILE)
    env = make_env(hps(epochs="1"), {"train": RECORDIO})
    with (env.channels["train"].path / "part.pbr").open("wb") as out:
        write_dense(out, rows.toarray(), labels)
    FactorizationMachinesAlgorithm().train(env)
    dense_model = np.load(env.model_dir / MODEL_FILE)
    for term in ("bias", "linear", "factors"):
        np.testing.assert_array_equal(dense_model[term], sparse_model[term])


@pytest.mark.parametrize(
    ("labels", "predictor_type", "message"),
    [
        (np.full(50, 2.0, np.float32), "binary_classifier", "needs labels 0 or 1, found 2"),
        (None, "regressor", "needs one label"),
    ],
)
def test_bad_labels_are_refused(
    make_env: EnvFactory, labels: np.ndarray | None, predictor_type: str, message: str
) -> None:
    rows, _ = ratings(n=50)
    with pytest.raises(AlgorithmClientError, match=message):
        train(make_env, rows, labels, predictor_type=predictor_type)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"predictor_type": "multiclass_classifier"}, "predictor_type"),
        ({"num_factors": "0"}, "num_factors"),
        ({"bias_init_method": "uniform"}, "bias_init_scale"),
        ({"linear_init_method": "constant"}, "linear_init_value"),
        ({"factors_lr": "-1"}, "factors_lr"),
        ({"eps": "0"}, "eps"),
        ({"epochs": "0"}, "epochs"),
        ({"_tuning_objective_metric": "test:binary_f_beta"}, "is not reported by a regressor"),
        ({"num_factor": "3"}, "num_factor"),
    ],
)
def test_bad_hyperparameters_are_named(changes: dict[str, str], named: str) -> None:
    with pytest.raises(AlgorithmClientError, match=named):
        FactorizationMachinesAlgorithm().validate_hyperparameters(hps(**changes))


def test_defaults_are_sagemakers() -> None:
    values = FactorizationMachinesAlgorithm().validate_hyperparameters(
        {
            "feature_dim": "10",
            "num_factors": "2",
            "predictor_type": "regressor",
            "_tuning_objective_metric": "test:rmse",
        }
    )
    assert (values["epochs"], values["mini_batch_size"]) == (1, 1000)
    assert (values["bias_lr"], values["linear_lr"], values["factors_lr"]) == (0.1, 0.001, 0.0001)
    assert (values["bias_wd"], values["linear_wd"], values["factors_wd"]) == (0.01, 0.001, 0.00001)
    assert (values["bias_init_sigma"], values["linear_init_sigma"], values["factors_init_sigma"]) == (
        0.01,
        0.01,
        0.001,
    )
    assert values["factors_init_method"] == "normal"


def test_hosts_models_average_by_rows() -> None:
    def state(value: float, rows: int) -> bytes:
        buffer = io.BytesIO()
        arrays = {"bias": np.full(1, value), "linear": np.full(3, value), "factors": np.full((3, 2), value)}
        np.savez(buffer, rows=np.array(rows), **{k: v.astype(np.float32) for k, v in arrays.items()})
        return buffer.getvalue()

    merged = average([state(1.0, 300), state(4.0, 100)])
    for term in ("bias", "linear", "factors"):
        np.testing.assert_allclose(merged[term], 1.75)


def test_serving_answers_recordio_and_sparse_json_and_refuses_csv(make_env: EnvFactory) -> None:
    rows, labels = ratings(n=300)
    predictor = FactorizationMachinesAlgorithm().load_predictor(
        train(
            make_env, rows, (labels > 0).astype(np.float32), epochs="1", predictor_type="binary_classifier"
        ),
        {},
    )
    buffer = io.BytesIO()
    write_sparse(buffer, rows[:2])
    answer = predictor.predict(buffer.getvalue(), RECORDIO, RECORDIO)
    records = list(read_records(io.BytesIO(answer.body)))
    assert [sorted(record.label) for record in records] == [["predicted_label", "score"]] * 2
    row = rows[0]
    sparse_body = {
        "instances": [
            {
                "data": {
                    "features": {"keys": row.indices.tolist(), "shape": [100], "values": row.data.tolist()}
                }
            }
        ]
    }
    dense_body = {"instances": [{"features": row.toarray()[0].tolist()}]}
    answers = [
        predictor.predict(json.dumps(b).encode(), "application/json", None).body
        for b in (sparse_body, dense_body)
    ]
    assert answers[0] == answers[1]
    assert json.loads(answers[0])["predictions"][0]["score"] == pytest.approx(
        records[0].label["score"].float32_tensor.values[0]
    )
    with pytest.raises(InferenceError) as refused:
        predictor.predict(b"1,0,0", "text/csv", None)
    assert refused.value.status_code == 415
