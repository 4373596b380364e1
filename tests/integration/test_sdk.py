"""opensage's Python SDK against a real server: data, built-in XGBoost, script mode, hosting, errors."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xgboost
from tests.support import breast_cancer_split, csv_bytes

import opensage
from opensage.embedded import EmbeddedServer
from opensage.sdk import (
    Endpoint,
    JobFailedError,
    OpenSageClientError,
    Session,
    TrainingRun,
)
from opensage.sdk._connect import answers

BUCKET = "sdk-tests"
PARAMS: dict[str, str | int | float] = {"objective": "binary:logistic", "max_depth": 3, "eta": 0.3, "seed": 3}
ROUNDS = 25
TRAIN_SCRIPT = """
import argparse, glob, os

import joblib


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))


if __name__ == "__main__":
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    parser = argparse.ArgumentParser()
    parser.add_argument("--reg", type=float)
    parser.add_argument("--label", type=str)
    args = parser.parse_args()
    files = sorted(glob.glob(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "*.csv")))
    frame = pd.concat(pd.read_csv(name) for name in files)
    labels = frame.pop(args.label)
    model = LogisticRegression(C=args.reg, max_iter=5000).fit(frame.to_numpy(), labels.to_numpy())
    print(f"accuracy={model.score(frame.to_numpy(), labels.to_numpy()):.4f}")
    joblib.dump(model, os.path.join(os.environ["SM_MODEL_DIR"], "model.joblib"))
"""


def as_frame(rows: Any) -> pd.DataFrame:
    """Label-first rows as a DataFrame whose label column comes last, as users' tables usually have it."""
    names = [f"feature {index}" for index in range(rows.shape[1] - 1)]
    return pd.DataFrame(rows[:, 1:], columns=names).assign(target=rows[:, 0].astype(int))


def booster_of(session: Session, uri: str, folder: Path) -> xgboost.Booster:
    archive = session.download(uri, folder)
    with tarfile.open(archive) as tar:
        member = tar.extractfile("xgboost-model")
        assert member is not None
        raw = bytearray(member.read())
    booster = xgboost.Booster()
    booster.load_model(raw)
    return booster


@pytest.fixture(scope="module")
def session(server: EmbeddedServer) -> Iterator[Session]:
    # The server's home holds its admin key (<home>/credentials), which connect() signs with.
    with opensage.connect(server.endpoint_url, home=server.settings.home, bucket=BUCKET) as connected:
        yield connected


@pytest.fixture(scope="module")
def data() -> tuple[Any, Any]:
    return breast_cancer_split()


@pytest.fixture(scope="module")
def trained(session: Session, data: tuple[Any, Any]) -> TrainingRun:
    train, validation = data
    return session.train(
        "xgboost",
        name="sdk-xgboost",
        train=as_frame(train),
        validation=as_frame(validation),
        label="target",
        num_round=ROUNDS,
        eval_metric=["logloss", "auc"],
        hyperparameters=PARAMS,
        progress=False,
    )


@pytest.fixture(scope="module")
def served(
    session: Session, trained: TrainingRun, tmp_path_factory: pytest.TempPathFactory
) -> xgboost.Booster:
    assert trained.model_data is not None
    return booster_of(session, trained.model_data, tmp_path_factory.mktemp("sdk-model"))


@pytest.fixture(scope="module")
def endpoint(trained: TrainingRun) -> Iterator[Endpoint]:
    deployed = trained.deploy("sdk-endpoint")
    yield deployed
    deployed.delete()


def test_training_by_name_completes_with_final_metrics(trained: TrainingRun) -> None:
    assert trained.status == "Completed"
    assert trained.secondary_status == "Completed"
    metrics = trained.metrics
    assert {"train:auc", "validation:auc", "train:logloss", "validation:logloss"} <= set(metrics)
    assert 0.9 < metrics["validation:auc"] <= 1.0
    assert trained.model_data == f"s3://{BUCKET}/sdk-xgboost/output/model.tar.gz"


def test_the_request_names_the_image_and_keyword_hyperparameters(trained: TrainingRun) -> None:
    described = trained.describe()
    assert described["AlgorithmSpecification"]["TrainingImage"] == (
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    )
    assert described["HyperParameters"] == {
        "objective": "binary:logistic",
        "max_depth": "3",
        "eta": "0.3",
        "seed": "3",
        "num_round": "25",
        "eval_metric": "logloss,auc",
    }
    channels = {channel["ChannelName"]: channel for channel in described["InputDataConfig"]}
    assert set(channels) == {"train", "validation"}
    assert channels["train"]["ContentType"] == "text/csv"


def test_dataframes_are_uploaded_label_first_without_a_header(
    session: Session, trained: TrainingRun, data: tuple[Any, Any]
) -> None:
    uploaded = session.s3.get_object(Bucket=BUCKET, Key="sdk-xgboost/input/train/data.csv")["Body"].read()
    assert uploaded == csv_bytes(data[0])


def test_the_model_predicts_like_xgboost_trained_in_process(
    served: xgboost.Booster, data: tuple[Any, Any]
) -> None:
    train, validation = data
    local = xgboost.train(
        {**PARAMS, "eval_metric": ["logloss", "auc"]},
        xgboost.DMatrix(train[:, 1:], label=train[:, 0]),
        num_boost_round=ROUNDS,
    )
    features = xgboost.DMatrix(validation[:, 1:])
    np.testing.assert_allclose(served.predict(features), local.predict(features), rtol=1e-5, atol=1e-6)


def test_logs_hold_every_round(trained: TrainingRun) -> None:
    lines = list(trained.logs())
    rounds = [line for line in lines if line[:1] == "[" and line[1:2].isdigit()]
    assert rounds[0].startswith("[0]\ttrain-logloss:") and rounds[-1].startswith(f"[{ROUNDS - 1}]\t")
    assert len(rounds) == ROUNDS


def test_an_endpoint_predicts_numpy_pandas_and_lists(
    endpoint: Endpoint, served: xgboost.Booster, data: tuple[Any, Any]
) -> None:
    assert endpoint.status == "InService"
    features = data[1][:, 1:]
    expected = served.predict(xgboost.DMatrix(features))
    from_numpy = endpoint.predict(features)
    assert from_numpy.shape == (len(features),)
    np.testing.assert_allclose(from_numpy, expected, rtol=1e-6)
    from_pandas = endpoint.predict(as_frame(data[1]).drop(columns=["target"]))
    np.testing.assert_allclose(from_pandas, expected, rtol=1e-6)
    one_row = endpoint.predict(features[0].tolist())
    np.testing.assert_allclose(one_row, expected[:1], rtol=1e-6)
    as_json = endpoint.predict(features[:3], accept="application/json")
    np.testing.assert_allclose(as_json, expected[:3], rtol=1e-6)


def test_predict_raw_returns_the_models_bytes(
    endpoint: Endpoint, served: xgboost.Booster, data: tuple[Any, Any]
) -> None:
    row = data[1][:1, 1:]
    answer = endpoint.predict_raw(csv_bytes(row), "text/csv", accept="application/json")
    score = json.loads(answer)["predictions"][0]["score"]
    assert score == pytest.approx(float(served.predict(xgboost.DMatrix(row))[0]), rel=1e-6)


def test_a_serverless_deployment_is_deleted_with_its_config_and_model(
    session: Session, trained: TrainingRun
) -> None:
    endpoint = trained.deploy("sdk-serverless", serverless=True)
    described = endpoint.describe()
    assert described["EndpointStatus"] == "InService"
    config = session.sagemaker.describe_endpoint_config(EndpointConfigName="sdk-serverless")
    assert config["ProductionVariants"][0]["ServerlessConfig"] == {
        "MemorySizeInMB": 2048,
        "MaxConcurrency": 5,
    }
    assert endpoint.predict([[0.0] * 30]).shape == (1,)
    endpoint.delete()
    with pytest.raises(OpenSageClientError) as missing:
        session.endpoint("sdk-serverless").describe()
    assert missing.value.operation == "DescribeEndpoint"
    assert missing.value.code == "ValidationException"
    names = [
        model["ModelName"] for model in session.sagemaker.list_models(NameContains="sdk-serverless")["Models"]
    ]
    assert names == []


def test_batch_predict_matches_the_model(
    session: Session, trained: TrainingRun, served: xgboost.Booster, data: tuple[Any, Any]
) -> None:
    features = data[1][:40, 1:]
    job = session.batch_predict(trained, features)
    assert job.status == "Completed"
    assert job.output_path.startswith(f"s3://{BUCKET}/")
    np.testing.assert_allclose(job.predictions(), served.predict(xgboost.DMatrix(features)), rtol=1e-6)


def test_a_failing_job_raises_its_failure_reason(session: Session, data: tuple[Any, Any]) -> None:
    with pytest.raises(JobFailedError) as failed:
        session.train(
            "xgboost",
            name="sdk-bad-hyperparameter",
            train=data[0],
            label=0,
            num_round=3,
            bogus=1,
            progress=False,
        )
    assert "bogus" in failed.value.failure_reason
    assert failed.value.name == "sdk-bad-hyperparameter"
    run = session.training_run("sdk-bad-hyperparameter")
    assert run.status == "Failed" and run.failure_reason == failed.value.failure_reason


def test_server_errors_keep_their_aws_code(session: Session, data: tuple[Any, Any]) -> None:
    with pytest.raises(OpenSageClientError) as missing:
        session.training_run("sdk-no-such-job").describe()
    assert (missing.value.code, missing.value.operation) == ("ValidationException", "DescribeTrainingJob")
    with pytest.raises(OpenSageClientError) as duplicate:
        session.train("xgboost", name="sdk-xgboost", train=data[0], label=0, num_round=1, progress=False)
    assert duplicate.value.code == "ResourceInUse" and duplicate.value.operation == "CreateTrainingJob"


def test_a_script_trains_with_its_hyperparameters_inputs_and_metrics(
    session: Session, data: tuple[Any, Any], tmp_path: Path
) -> None:
    import joblib
    from sklearn.linear_model import LogisticRegression

    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "train.py").write_text(TRAIN_SCRIPT)
    frame = as_frame(data[0])
    run = session.run_script(
        "train.py",
        source_dir=tmp_path / "code",
        name="sdk-script",
        inputs={"train": frame},
        hyperparameters={"reg": 0.5, "label": "target"},
        metric_definitions={"accuracy": r"accuracy=([0-9.]+)"},
        progress=False,
    )
    assert run.status == "Completed"
    assert 0.9 < run.metrics["accuracy"] <= 1.0
    hyperparameters = run.describe()["HyperParameters"]
    assert hyperparameters["sagemaker_program"] == '"train.py"'
    assert (
        hyperparameters["sagemaker_submit_directory"] == f'"s3://{BUCKET}/sdk-script/source/sourcedir.tar.gz"'
    )
    assert hyperparameters["reg"] == "0.5" and hyperparameters["label"] == '"target"'

    assert run.model_data is not None
    archive = session.download(run.model_data, tmp_path / "model.tar.gz")
    with tarfile.open(archive) as tar:
        member = tar.extractfile("model.joblib")
        assert member is not None
        model = joblib.load(io.BytesIO(member.read()))
    features, labels = frame.drop(columns=["target"]).to_numpy(), frame["target"].to_numpy()
    local = LogisticRegression(C=0.5, max_iter=5000).fit(features, labels)
    np.testing.assert_allclose(model.predict_proba(features), local.predict_proba(features), rtol=1e-6)


def test_a_failing_script_raises_the_users_error(session: Session, tmp_path: Path) -> None:
    script = tmp_path / "broken.py"
    script.write_text("raise RuntimeError('the data is not what I expected')\n")
    with pytest.raises(JobFailedError) as failed:
        session.run_script(script, name="sdk-broken-script", progress=False)
    assert "ExecuteUserScriptError" in failed.value.failure_reason
    assert "the data is not what I expected" in failed.value.failure_reason


def test_upload_and_download_files_folders_tables_and_bytes(session: Session, tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    (folder / "part").mkdir(parents=True)
    (folder / "a.csv").write_text("1,2\n")
    (folder / "part" / "b.csv").write_text("3,4\n")
    prefix = session.upload(folder, "sdk-uploads/folder")
    assert prefix == f"s3://{BUCKET}/sdk-uploads/folder/"
    copied = session.download(prefix, tmp_path / "copy")
    assert (copied / "a.csv").read_text() == "1,2\n" and (copied / "part" / "b.csv").read_text() == "3,4\n"

    table = pd.DataFrame({"x": [1.5, 2.5], "y": [1, 0]})
    labelled = session.upload(table, "sdk-uploads/labelled.csv", label="y")
    assert (
        session.s3.get_object(Bucket=BUCKET, Key="sdk-uploads/labelled.csv")["Body"].read()
        == b"1.0,1.5\n0.0,2.5\n"
    )
    plain = session.upload(table)
    assert plain.startswith(f"s3://{BUCKET}/uploads/data-") and plain.endswith("/data.csv")
    assert session.download(plain, tmp_path).read_text() == "x,y\n1.5,1\n2.5,0\n"
    assert session.download(labelled, tmp_path / "labelled.csv").read_bytes() == b"1.0,1.5\n0.0,2.5\n"
    raw = session.upload(b"\x00\x01", "sdk-uploads/raw.bin")
    assert session.download(raw, tmp_path / "raw.bin").read_bytes() == b"\x00\x01"
    with pytest.raises(ValueError, match="in S3 already"):
        session.upload(raw)


def test_connect_finds_the_running_server_from_its_home(server: EmbeddedServer, tmp_path: Path) -> None:
    (tmp_path / "server.json").write_text(json.dumps({"url": server.endpoint_url, "pid": 1}))
    (tmp_path / "credentials").write_bytes((server.settings.home / "credentials").read_bytes())
    with opensage.connect(home=tmp_path, bucket=BUCKET) as found:
        assert found.endpoint_url == server.endpoint_url
        assert found.default_bucket == BUCKET
        assert found.training_run("sdk-xgboost").status == "Completed"


def test_local_mode_starts_a_server_for_the_session_and_stops_it(
    tmp_path: Path, data: tuple[Any, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    train = data[0]
    with opensage.connect(local=True, home=tmp_path) as local:
        url = local.endpoint_url
        assert answers(url)
        run = local.train(
            "xgboost",
            train=(train[:, 1:], train[:, 0]),
            objective="binary:logistic",
            num_round=3,
            progress=True,
        )
        assert run.status == "Completed"
        assert run.model_data is not None and run.model_data.startswith("s3://opensage-default/xgboost-")
    assert not answers(url)
    assert (tmp_path / "objects" / "opensage-default").is_dir()
    shown = capsys.readouterr().err
    assert "round 3/3" in shown and f"Training job {run.name}: Completed" in shown
