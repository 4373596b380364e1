"""Script-mode training through boto3: users' scripts run on framework images as SageMaker runs them."""

from __future__ import annotations

import io
import json
from typing import Any

import joblib
import pytest
from botocore import exceptions as errors
from tests.scripts import (
    PYTORCH_IMAGE,
    SKLEARN_IMAGE,
    XGBOOST_FRAMEWORK_IMAGE,
    read_archive,
    script_job,
    source_tarball,
    tiny_wheel,
    upload,
)
from tests.support import (
    ROLE_ARN,
    breast_cancer_split,
    csv_bytes,
    deploy,
    ensure_bucket,
    make_client,
    variant,
    wait_terminal,
)

BUCKET = "script-mode"

TRAIN_SKLEARN = """
    import argparse, glob, json, os
    import joblib, numpy as np
    from sklearn.linear_model import LogisticRegression
    import tinyhelper  # from requirements.txt

    parser = argparse.ArgumentParser()
    parser.add_argument("-C", type=float, default=1.0)  # one-letter names get one dash, as in the toolkit
    parser.add_argument("--max-iter", type=int, default=100)
    parser.add_argument("--model-dir", default=os.environ["SM_MODEL_DIR"])
    parser.add_argument("--train", default=os.environ["SM_CHANNEL_TRAIN"])
    parser.add_argument("--validation", default=os.environ["SM_CHANNEL_VALIDATION"])
    args = parser.parse_args()

    def load(folder):
        rows = np.vstack([np.loadtxt(f, delimiter=",") for f in glob.glob(os.path.join(folder, "*.csv"))])
        return rows[:, 1:], rows[:, 0]

    x, y = load(args.train)
    model = LogisticRegression(C=args.C, max_iter=args.max_iter).fit(x, y)
    vx, vy = load(args.validation)
    print(f"validation accuracy={model.score(vx, vy):.4f};")
    joblib.dump(model, os.path.join(args.model_dir, "model.joblib"))
    seen = {
        "C": args.C, "max_iter": args.max_iter, "helper": tinyhelper.name(),
        "channels": json.loads(os.environ["SM_CHANNELS"]), "hps": json.loads(os.environ["SM_HPS"]),
        "model_dir": args.model_dir, "opt_ml_model": os.path.isdir("/opt/ml/model"),
        "num_cpus": int(os.environ["SM_NUM_CPUS"]), "current_host": os.environ["SM_CURRENT_HOST"],
    }
    with open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "seen.json"), "w") as out:
        json.dump(seen, out)
    """


INFERENCE_SKLEARN = """
    import io, json, os
    import joblib, numpy as np

    def model_fn(model_dir):
        return joblib.load(os.path.join(model_dir, "model.joblib"))

    def input_fn(body, content_type):
        if content_type != "text/csv":
            raise ValueError(f"this model reads text/csv, not {content_type}")
        text = body.decode() if isinstance(body, bytes) else body
        return np.loadtxt(io.StringIO(text), delimiter=",", ndmin=2)

    def predict_fn(rows, model):
        return model.predict_proba(rows)[:, 1]

    def output_fn(probabilities, accept):
        return json.dumps({"probabilities": probabilities.round(6).tolist()}), "application/json"
    """


@pytest.fixture(scope="module")
def data(s3_client: Any) -> dict[str, str]:
    train, validation = breast_cancer_split()
    ensure_bucket(s3_client, BUCKET)
    return {
        "train": upload(s3_client, BUCKET, "data/train/train.csv", csv_bytes(train)),
        "validation": upload(s3_client, BUCKET, "data/validation/validation.csv", csv_bytes(validation)),
    }


def sklearn_source(s3_client: Any, key: str) -> str:
    wheel_name, wheel = tiny_wheel("tinyhelper", "def name():\n    return 'tiny'\n")
    files: dict[str, str | bytes] = {
        "train.py": TRAIN_SKLEARN,
        "inference.py": INFERENCE_SKLEARN,
        "requirements.txt": f"./{wheel_name}\n",
        wheel_name: wheel,
    }
    return upload(s3_client, BUCKET, key, source_tarball(files))


@pytest.fixture(scope="module")
def sklearn_job(sagemaker_client: Any, s3_client: Any, data: dict[str, str]) -> dict[str, Any]:
    source = sklearn_source(s3_client, "code/sklearn/sourcedir.tar.gz")
    request = script_job(
        "script-sklearn",
        SKLEARN_IMAGE,
        "train.py",
        source,
        data,
        f"s3://{BUCKET}/output",
        {"C": "0.5", "max-iter": "5000"},
        AlgorithmSpecification={
            "TrainingImage": SKLEARN_IMAGE,
            "TrainingInputMode": "File",
            "MetricDefinitions": [{"Name": "validation:accuracy", "Regex": "validation accuracy=([0-9.]+);"}],
        },
    )
    sagemaker_client.create_training_job(**request)
    return wait_terminal(sagemaker_client, "script-sklearn", 300)


def test_sklearn_script_trains_on_two_channels_with_hyperparameters(
    sklearn_job: dict[str, Any], s3_client: Any, data: dict[str, str]
) -> None:
    assert sklearn_job["TrainingJobStatus"] == "Completed", sklearn_job.get("FailureReason")
    archive = read_archive(s3_client, sklearn_job["ModelArtifacts"]["S3ModelArtifacts"])
    assert list(archive) == ["model.joblib"]
    model = joblib.load(io.BytesIO(archive["model.joblib"]))
    _, validation = breast_cancer_split()
    assert model.score(validation[:, 1:], validation[:, 0]) > 0.9
    output = read_archive(
        s3_client, sklearn_job["OutputDataConfig"]["S3OutputPath"] + "/script-sklearn/output/output.tar.gz"
    )
    seen = json.loads(output["seen.json"])
    assert (seen["C"], seen["max_iter"], seen["helper"]) == (0.5, 5000, "tiny")
    assert seen["hps"] == {"C": 0.5, "max-iter": 5000}
    assert sorted(seen["channels"]) == ["train", "validation"]
    assert seen["model_dir"] == "/opt/ml/model" and seen["opt_ml_model"]
    assert seen["num_cpus"] >= 1 and seen["current_host"] == "algo-1"


def test_sklearn_script_metrics_come_from_its_output(sklearn_job: dict[str, Any]) -> None:
    metrics = {m["MetricName"]: m["Value"] for m in sklearn_job["FinalMetricDataList"]}
    assert 0.9 < metrics["validation:accuracy"] <= 1.0


def test_the_trained_sklearn_model_serves_with_its_inference_script(
    sklearn_job: dict[str, Any], sagemaker_client: Any, s3_client: Any, server: Any
) -> None:
    """The training job's artifact and source folder, deployed as the SDK deploys them, then invoked."""
    assert sklearn_job["TrainingJobStatus"] == "Completed", sklearn_job.get("FailureReason")
    source = json.loads(sklearn_job["HyperParameters"]["sagemaker_submit_directory"])
    sagemaker_client.create_model(
        ModelName="script-sklearn-model",
        ExecutionRoleArn=ROLE_ARN,
        PrimaryContainer={
            "Image": SKLEARN_IMAGE,
            "ModelDataUrl": sklearn_job["ModelArtifacts"]["S3ModelArtifacts"],
            "Environment": {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": source},
        },
    )
    deploy(sagemaker_client, "script-sklearn", [variant("AllTraffic", "script-sklearn-model")])
    try:
        _, validation = breast_cancer_split()
        rows = validation[:5, 1:]
        body = "\n".join(",".join(repr(float(v)) for v in row) for row in rows)
        runtime = make_client("sagemaker-runtime", server.endpoint_url)
        answer = runtime.invoke_endpoint(EndpointName="script-sklearn", Body=body, ContentType="text/csv")
        assert answer["ContentType"] == "application/json"
        probabilities = json.loads(answer["Body"].read())["probabilities"]
        model = joblib.load(
            io.BytesIO(
                read_archive(s3_client, sklearn_job["ModelArtifacts"]["S3ModelArtifacts"])["model.joblib"]
            )
        )
        assert probabilities == pytest.approx(model.predict_proba(rows)[:, 1], abs=1e-6)
        with pytest.raises(errors.ClientError) as refused:
            runtime.invoke_endpoint(EndpointName="script-sklearn", Body=b"{}", ContentType="application/json")
        assert refused.value.response["Error"]["Code"] == "ModelError"
        assert "this model reads text/csv, not application/json" in refused.value.response["Error"]["Message"]
    finally:
        sagemaker_client.delete_endpoint(EndpointName="script-sklearn")


def test_script_logs_show_the_command_and_the_install(sklearn_job: dict[str, Any], logs_client: Any) -> None:
    streams = logs_client.describe_log_streams(
        logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix="script-sklearn/"
    )["logStreams"]
    events = logs_client.get_log_events(
        logGroupName="/aws/sagemaker/TrainingJobs",
        logStreamName=streams[0]["logStreamName"],
        startFromHead=True,
    )["events"]
    text = "\n".join(event["message"] for event in events)
    assert "requirements.txt: installing" in text or "requirements.txt: using the environment" in text
    assert "Invoking script: " in text and "train.py -C 0.5 --max-iter 5000" in text
    assert "validation accuracy=" in text


def test_same_requirements_reuse_the_cached_environment(
    sklearn_job: dict[str, Any], sagemaker_client: Any, s3_client: Any, data: dict[str, str], logs_client: Any
) -> None:
    source = sklearn_source(s3_client, "code/sklearn-again/sourcedir.tar.gz")
    request = script_job(
        "script-sklearn-again", SKLEARN_IMAGE, "train.py", source, data, f"s3://{BUCKET}/output", {"C": "1"}
    )
    sagemaker_client.create_training_job(**request)
    described = wait_terminal(sagemaker_client, "script-sklearn-again", 300)
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    stream = logs_client.describe_log_streams(
        logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix="script-sklearn-again/"
    )["logStreams"][0]["logStreamName"]
    events = logs_client.get_log_events(
        logGroupName="/aws/sagemaker/TrainingJobs", logStreamName=stream, startFromHead=True
    )["events"]
    assert any("requirements.txt: using the environment prepared earlier" in e["message"] for e in events)


def test_a_failing_script_fails_the_job_with_the_end_of_its_traceback(
    sagemaker_client: Any, s3_client: Any, data: dict[str, str]
) -> None:
    source = upload(
        s3_client,
        BUCKET,
        "code/failing/sourcedir.tar.gz",
        source_tarball(
            {
                "fail.py": """
                    import os
                    def read_labels(folder):
                        raise ValueError(f"no label column in {sorted(os.listdir(folder))}")
                    read_labels(os.environ["SM_CHANNEL_TRAIN"])
                    """
            }
        ),
    )
    request = script_job("script-failing", SKLEARN_IMAGE, "fail.py", source, data, f"s3://{BUCKET}/output")
    sagemaker_client.create_training_job(**request)
    described = wait_terminal(sagemaker_client, "script-failing", 120)
    assert described["TrainingJobStatus"] == "Failed"
    reason = described["FailureReason"]
    assert reason.startswith("AlgorithmError: ExecuteUserScriptError:\nExitCode 1\n")
    assert "ValueError: no label column in ['train.csv']" in reason
    assert 'Command "python' in reason and 'fail.py"' in reason


def test_a_missing_entry_point_is_a_client_error(
    sagemaker_client: Any, s3_client: Any, data: dict[str, str]
) -> None:
    source = upload(
        s3_client, BUCKET, "code/other/sourcedir.tar.gz", source_tarball({"other.py": "print(1)\n"})
    )
    request = script_job("script-missing", SKLEARN_IMAGE, "train.py", source, data, f"s3://{BUCKET}/output")
    sagemaker_client.create_training_job(**request)
    described = wait_terminal(sagemaker_client, "script-missing", 120)
    assert described["TrainingJobStatus"] == "Failed"
    assert described["FailureReason"].startswith(
        "ClientError: the entry point train.py is not in the code folder"
    )


TRAIN_TORCH = """
    import argparse, glob, os
    import numpy as np, torch

    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=0.1)
    args = parser.parse_args()
    rows = np.vstack([np.loadtxt(f, delimiter=",") for f in glob.glob(os.environ["SM_CHANNEL_TRAIN"] + "/*.csv")])
    x = torch.tensor(rows[:, 1:], dtype=torch.float32)
    x = (x - x.mean(0)) / x.std(0)
    y = torch.tensor(rows[:, :1], dtype=torch.float32)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(x.shape[1], 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    optimiser = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    for epoch in range(args.epochs):
        optimiser.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimiser.step()
        print(f"epoch={epoch} loss={loss.item():.4f}")
    accuracy = ((model(x) > 0).float() == y).float().mean().item()
    print(f"train_accuracy={accuracy:.4f}")
    torch.save(model.state_dict(), os.path.join(os.environ["SM_MODEL_DIR"], "model.pth"))
    """


def test_pytorch_cpu_script(sagemaker_client: Any, s3_client: Any, data: dict[str, str]) -> None:
    import torch

    source = upload(
        s3_client, BUCKET, "code/torch/sourcedir.tar.gz", source_tarball({"train.py": TRAIN_TORCH})
    )
    request = script_job(
        "script-torch",
        PYTORCH_IMAGE,
        "train.py",
        source,
        {"train": data["train"]},
        f"s3://{BUCKET}/output",
        {"epochs": "60", "lr": "0.05"},
        AlgorithmSpecification={
            "TrainingImage": PYTORCH_IMAGE,
            "TrainingInputMode": "File",
            "MetricDefinitions": [
                {"Name": "train:loss", "Regex": "loss=([0-9.]+)"},
                {"Name": "train:accuracy", "Regex": "train_accuracy=([0-9.]+)"},
            ],
        },
    )
    sagemaker_client.create_training_job(**request)
    described = wait_terminal(sagemaker_client, "script-torch", 300)
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    metrics = {m["MetricName"]: m["Value"] for m in described["FinalMetricDataList"]}
    assert metrics["train:accuracy"] > 0.9 and metrics["train:loss"] < 0.3
    archive = read_archive(s3_client, described["ModelArtifacts"]["S3ModelArtifacts"])
    state = torch.load(io.BytesIO(archive["model.pth"]), weights_only=True)
    assert state["0.weight"].shape == (8, 30)


def test_xgboost_framework_mode_runs_the_script(
    sagemaker_client: Any, s3_client: Any, data: dict[str, str]
) -> None:
    script = """
        import glob, os
        import numpy as np, xgboost as xgb
        rows = np.vstack([np.loadtxt(f, delimiter=",") for f in glob.glob(os.environ["SM_CHANNEL_TRAIN"] + "/*.csv")])
        booster = xgb.train({"objective": "binary:logistic"}, xgb.DMatrix(rows[:, 1:], label=rows[:, 0]), 5)
        booster.save_model(os.path.join(os.environ["SM_MODEL_DIR"], "xgboost-model.json"))
        """
    source = upload(s3_client, BUCKET, "code/xgb/sourcedir.tar.gz", source_tarball({"fit.py": script}))
    request = script_job(
        "script-xgb",
        XGBOOST_FRAMEWORK_IMAGE,
        "fit.py",
        source,
        {"train": data["train"]},
        f"s3://{BUCKET}/output",
    )
    sagemaker_client.create_training_job(**request)
    described = wait_terminal(sagemaker_client, "script-xgb", 120)
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    archive = read_archive(s3_client, described["ModelArtifacts"]["S3ModelArtifacts"])
    assert json.loads(archive["xgboost-model.json"])["learner"]["gradient_booster"]["name"] == "gbtree"


def test_container_entrypoint_runs_as_given_with_opt_ml(
    sagemaker_client: Any, s3_client: Any, data: dict[str, str]
) -> None:
    script = b"import os, sys\nopen('/opt/ml/model/args.txt', 'w').write(' '.join(sys.argv[1:]) + ' ' + str(sorted(os.listdir('/opt/ml/input/data/code'))))\n"
    code = upload(s3_client, BUCKET, "entry/code/run.py", script)
    request = script_job(
        "script-entrypoint",
        SKLEARN_IMAGE,
        "unused",
        "unused",
        {"train": data["train"], "code": code.rsplit("/", 1)[0] + "/"},
        f"s3://{BUCKET}/output",
        AlgorithmSpecification={
            "TrainingImage": SKLEARN_IMAGE,
            "TrainingInputMode": "File",
            "ContainerEntrypoint": ["python3", "/opt/ml/input/data/code/run.py"],
            "ContainerArguments": ["--alpha", "1"],
        },
        HyperParameters={},
    )
    sagemaker_client.create_training_job(**request)
    described = wait_terminal(sagemaker_client, "script-entrypoint", 120)
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    archive = read_archive(s3_client, described["ModelArtifacts"]["S3ModelArtifacts"])
    assert archive["args.txt"] == b"--alpha 1 ['run.py']"


def test_an_unrecognised_image_is_refused_with_what_to_do(
    sagemaker_client: Any, data: dict[str, str]
) -> None:
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-own-trainer:latest"
    request = script_job(
        "script-own-image", image, "train.py", "s3://x/y.tar.gz", data, f"s3://{BUCKET}/output"
    )
    with pytest.raises(errors.ClientError) as raised:
        sagemaker_client.create_training_job(**request)
    message = raised.value.response["Error"]["Message"]
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert "my-own-trainer" in message


def test_scripts_do_not_inherit_the_servers_credentials(
    sagemaker_client: Any, s3_client: Any, data: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server started after `eval "$(opensage env)"` holds the admin key: scripts must not see it."""
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "server-secret")
    monkeypatch.setenv("OPENSAGE_ADMIN_SECRET_ACCESS_KEY", "admin-secret")
    monkeypatch.setenv("OPENSAGE_TEST_VISIBLE", "yes")
    script = """
        import os, sys
        leaked = [n for n in ("AWS_SECRET_ACCESS_KEY", "OPENSAGE_ADMIN_SECRET_ACCESS_KEY") if n in os.environ]
        print("leaked:", leaked, "visible:", os.environ.get("OPENSAGE_TEST_VISIBLE"))
        sys.exit(1 if leaked or os.environ.get("OPENSAGE_TEST_VISIBLE") != "yes" else 0)
        """
    source = upload(s3_client, BUCKET, "code/env/sourcedir.tar.gz", source_tarball({"env.py": script}))
    request = script_job("script-env", SKLEARN_IMAGE, "env.py", source, data, f"s3://{BUCKET}/output")
    sagemaker_client.create_training_job(**request)
    described = wait_terminal(sagemaker_client, "script-env", 120)
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
