"""Framework images hosting users' inference code, through the real boto3 clients.

scikit-learn, XGBoost and PyTorch images with ``code/inference.py`` in the model archive or
SAGEMAKER_PROGRAM + SAGEMAKER_SUBMIT_DIRECTORY; the toolkits' default functions; errors in
the script; requirements.txt; a pipeline mixing a script with a built-in algorithm; batch
transform over a script model.
"""

from __future__ import annotations

import importlib.util
import io
import json
import re
import tarfile
import textwrap
import time
from typing import Any

import joblib  # type: ignore[import-untyped]
import numpy as np
import pytest
import xgboost
from botocore.exceptions import WaiterError
from tests.support import (
    ROLE_ARN,
    XGBOOST_IMAGE,
    breast_cancer_split,
    deploy,
    ensure_bucket,
    features_csv,
    make_client,
    model_archive,
    train_booster,
    variant,
)

from opensage.runtime.usercode import optml

BUCKET = "hosting-scripts"
SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
PYTORCH_IMAGE = "763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-inference:2.1.0-cpu-py310"
TENSORFLOW_IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/tensorflow-inference:2.13-cpu"

MODEL_FN_ONLY = """
import os

import joblib  # type: ignore[import-untyped]


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))
"""


@pytest.fixture(scope="module")
def runtime_client(server: Any) -> Any:
    return make_client("sagemaker-runtime", server.endpoint_url)


@pytest.fixture(scope="module")
def classifier(s3_client: Any) -> tuple[Any, bytes, Any]:
    """A scikit-learn pipeline on the breast-cancer data, its joblib bytes, and test features."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    ensure_bucket(s3_client, BUCKET)
    train, test = breast_cancer_split()
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(train[:, 1:], train[:, 0])
    saved = io.BytesIO()
    joblib.dump(model, saved)
    return model, saved.getvalue(), test[:20, 1:].astype(np.float32)


def archive(files: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, content in files.items():
            data = textwrap.dedent(content).encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def upload(s3: Any, key: str, files: dict[str, bytes | str]) -> str:
    s3.put_object(Bucket=BUCKET, Key=key, Body=archive(files))
    return f"s3://{BUCKET}/{key}"


def create_script_model(sagemaker: Any, name: str, image: str, model_data: str, **container: Any) -> None:
    sagemaker.create_model(
        ModelName=name,
        ExecutionRoleArn=ROLE_ARN,
        PrimaryContainer={"Image": image, "ModelDataUrl": model_data, **container},
    )


def invoke(runtime: Any, endpoint: str, body: bytes, content_type: str, accept: str | None = None) -> Any:
    extra = {"Accept": accept} if accept else {}
    return runtime.invoke_endpoint(EndpointName=endpoint, Body=body, ContentType=content_type, **extra)


def test_model_fn_with_the_default_chain_answers_json_csv_and_npy(
    s3_client: Any, sagemaker_client: Any, runtime_client: Any, classifier: tuple[Any, bytes, Any]
) -> None:
    model, saved, features = classifier
    data = upload(
        s3_client, "defaults/model.tar.gz", {"model.joblib": saved, "code/inference.py": MODEL_FN_ONLY}
    )
    create_script_model(sagemaker_client, "sklearn-defaults", SKLEARN_IMAGE, data)
    deploy(sagemaker_client, "sklearn-defaults", [variant("main", "sklearn-defaults")])
    expected = model.predict(features)

    as_json = invoke(
        runtime_client, "sklearn-defaults", json.dumps(features.tolist()).encode(), "application/json"
    )
    assert as_json["ContentType"] == "application/json"
    assert json.loads(as_json["Body"].read()) == expected.tolist()

    as_csv = invoke(runtime_client, "sklearn-defaults", features_csv(features), "text/csv", "text/csv")
    assert as_csv["ContentType"] == "text/csv"
    assert [float(line) for line in as_csv["Body"].read().decode().split()] == expected.tolist()

    buffer = io.BytesIO()
    np.save(buffer, features)
    as_npy = invoke(
        runtime_client, "sklearn-defaults", buffer.getvalue(), "application/x-npy", "application/x-npy"
    )
    np.testing.assert_array_equal(np.load(io.BytesIO(as_npy["Body"].read())), expected)

    with pytest.raises(runtime_client.exceptions.ModelError) as unsupported:
        invoke(runtime_client, "sklearn-defaults", b"<rows/>", "application/xml")
    assert unsupported.value.response["OriginalStatusCode"] == 415
    with pytest.raises(runtime_client.exceptions.ModelError) as unacceptable:
        invoke(runtime_client, "sklearn-defaults", features_csv(features), "text/csv", "application/xml")
    assert unacceptable.value.response["OriginalStatusCode"] == 406


CUSTOM_CHAIN = """
import json
import re
import os

import joblib  # type: ignore[import-untyped]
import numpy as np

SEEN = {}


def model_fn(model_dir, context):
    SEEN["model_dir"] = model_dir
    SEEN["context"] = context.system_properties["model_dir"]
    SEEN["hard_coded"] = os.path.isfile("/opt/ml/model/model.joblib")
    SEEN["code"] = os.path.dirname(os.path.abspath(__file__))
    return joblib.load(os.path.join(model_dir, "model.joblib"))


def input_fn(request_body, request_content_type):
    if request_content_type != "application/json":
        raise ValueError("send application/json")
    return np.array(json.loads(request_body)["rows"], dtype=np.float32)


def predict_fn(input_data, model):
    return model.predict(input_data), model.predict_proba(input_data)[:, 1]


def output_fn(prediction, accept):
    labels, scores = prediction
    answers = [{"label": int(label), "score": float(score)} for label, score in zip(labels, scores)]
    return json.dumps({"predictions": answers, "seen": SEEN}), "application/vnd.answers+json"
"""


def test_all_four_functions_with_a_context_and_a_custom_json_shape(
    s3_client: Any, sagemaker_client: Any, runtime_client: Any, classifier: tuple[Any, bytes, Any]
) -> None:
    model, saved, features = classifier
    data = upload(
        s3_client, "custom/model.tar.gz", {"model.joblib": saved, "code/inference.py": CUSTOM_CHAIN}
    )
    create_script_model(sagemaker_client, "sklearn-custom", SKLEARN_IMAGE, data)
    deploy(sagemaker_client, "sklearn-custom", [variant("main", "sklearn-custom")])

    body = json.dumps({"rows": features.tolist()}).encode()
    response = invoke(runtime_client, "sklearn-custom", body, "application/json")
    assert response["ContentType"] == "application/vnd.answers+json"
    answer = json.loads(response["Body"].read())
    assert [p["label"] for p in answer["predictions"]] == model.predict(features).tolist()
    np.testing.assert_allclose(
        [p["score"] for p in answer["predictions"]], model.predict_proba(features)[:, 1], rtol=1e-6
    )
    seen = answer["seen"]
    assert seen["context"] == seen["model_dir"]
    if optml.available():
        # SageMaker's layout, so handlers that hard-code /opt/ml/model work.
        assert seen["model_dir"] == "/opt/ml/model" and seen["hard_coded"] is True
        assert seen["code"] == "/opt/ml/model/code"
    else:
        assert seen["model_dir"] != "/opt/ml/model" and seen["code"].endswith("/code")

    with pytest.raises(runtime_client.exceptions.ModelError) as refused:
        invoke(runtime_client, "sklearn-custom", features_csv(features), "text/csv")
    assert refused.value.response["OriginalStatusCode"] == 500
    assert "send application/json" in refused.value.response["OriginalMessage"]


def test_sagemaker_program_and_submit_directory_from_s3(
    s3_client: Any, sagemaker_client: Any, runtime_client: Any, classifier: tuple[Any, bytes, Any]
) -> None:
    model, saved, features = classifier
    data = upload(s3_client, "sdk-v2/model.tar.gz", {"model.joblib": saved})
    helpers = """
    import os

    import joblib  # type: ignore[import-untyped]


    def load(model_dir):
        return joblib.load(os.path.join(model_dir, "model.joblib"))
    """
    serve = """
    from helpers import load


    def model_fn(model_dir):
        return load(model_dir)
    """
    code = upload(s3_client, "sdk-v2/sourcedir.tar.gz", {"serve.py": serve, "helpers.py": helpers})
    environment = {"SAGEMAKER_PROGRAM": "serve.py", "SAGEMAKER_SUBMIT_DIRECTORY": code}
    create_script_model(sagemaker_client, "sklearn-sdk-v2", SKLEARN_IMAGE, data, Environment=environment)
    deploy(sagemaker_client, "sklearn-sdk-v2", [variant("main", "sklearn-sdk-v2")])

    response = invoke(runtime_client, "sklearn-sdk-v2", features_csv(features), "text/csv", "text/csv")
    assert [float(v) for v in response["Body"].read().decode().split()] == model.predict(features).tolist()


def test_create_model_refuses_what_it_cannot_host(
    s3_client: Any, sagemaker_client: Any, classifier: tuple[Any, bytes, Any]
) -> None:
    _, saved, _ = classifier
    data = upload(s3_client, "refused/model.tar.gz", {"model.joblib": saved})
    refusals: dict[str, dict[str, Any]] = {
        "Could not find the code archive": {
            "Image": SKLEARN_IMAGE,
            "Environment": {"SAGEMAKER_SUBMIT_DIRECTORY": f"s3://{BUCKET}/missing/sourcedir.tar.gz"},
        },
        "cannot be reached by opensage": {
            "Image": SKLEARN_IMAGE,
            "Environment": {"SAGEMAKER_SUBMIT_DIRECTORY": "file:///home/me/code"},
        },
        "Mode MultiModel with the PyTorch": {"Image": PYTORCH_IMAGE, "Mode": "MultiModel"},
        "TensorFlow Serving": {"Image": TENSORFLOW_IMAGE},
    }
    for index, (message, container) in enumerate(refusals.items()):
        with pytest.raises(sagemaker_client.exceptions.ClientError, match=message):
            sagemaker_client.create_model(
                ModelName=f"refused-{index}",
                ExecutionRoleArn=ROLE_ARN,
                PrimaryContainer={
                    "ModelDataUrl": data if "Mode" not in container else f"s3://{BUCKET}/",
                    **container,
                },
            )


def test_requirements_txt_is_installed_for_the_script(
    server: Any,
    s3_client: Any,
    sagemaker_client: Any,
    runtime_client: Any,
    classifier: tuple[Any, bytes, Any],
) -> None:
    # The package must come from requirements.txt, not from the platform's own environment.
    assert importlib.util.find_spec("tomli") is None
    _, saved, features = classifier
    script = MODEL_FN_ONLY + textwrap.dedent(
        """
        import json

        import tomli


        def output_fn(prediction, accept):
            settings = tomli.loads('name = "from tomli"')
            return json.dumps({"labels": prediction.tolist(), "name": settings["name"]})
        """
    )
    files: dict[str, bytes | str] = {
        "model.joblib": saved,
        "code/inference.py": script,
        "code/requirements.txt": "tomli\n",
    }
    data = upload(s3_client, "requirements/model.tar.gz", files)
    create_script_model(sagemaker_client, "sklearn-requirements", SKLEARN_IMAGE, data)
    deploy(sagemaker_client, "sklearn-requirements", [variant("main", "sklearn-requirements")])

    response = invoke(runtime_client, "sklearn-requirements", features_csv(features[:3]), "text/csv")
    assert json.loads(response["Body"].read())["name"] == "from tomli"
    assert any((server.settings.home / "environments").iterdir())


# torch 2.13 deprecates TorchScript, which is what SageMaker's PyTorch toolkit loads by default.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_torchscript_model_with_the_pytorch_defaults(
    s3_client: Any, sagemaker_client: Any, runtime_client: Any
) -> None:
    import torch

    torch.manual_seed(0)
    network = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    saved = io.BytesIO()
    torch.jit.save(torch.jit.script(network), saved)
    data = upload(s3_client, "torch/model.tar.gz", {"model.pth": saved.getvalue()})
    create_script_model(sagemaker_client, "torchscript", PYTORCH_IMAGE, data)
    deploy(sagemaker_client, "torchscript", [variant("main", "torchscript")])

    inputs = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    with torch.no_grad():
        expected = network(torch.from_numpy(inputs)).numpy()
    buffer = io.BytesIO()
    np.save(buffer, inputs)
    response = invoke(
        runtime_client, "torchscript", buffer.getvalue(), "application/x-npy", "application/x-npy"
    )
    assert response["ContentType"] == "application/x-npy"
    np.testing.assert_allclose(np.load(io.BytesIO(response["Body"].read())), expected, rtol=1e-5)

    as_json = invoke(runtime_client, "torchscript", json.dumps(inputs.tolist()).encode(), "application/json")
    np.testing.assert_allclose(np.array(json.loads(as_json["Body"].read())), expected, rtol=1e-5)


def test_an_exception_in_the_script_is_a_model_error(
    s3_client: Any, sagemaker_client: Any, runtime_client: Any, classifier: tuple[Any, bytes, Any]
) -> None:
    _, saved, features = classifier
    script = MODEL_FN_ONLY + textwrap.dedent(
        """
        def predict_fn(input_data, model):
            raise ValueError(f"the model refuses {len(input_data)} rows")
        """
    )
    data = upload(s3_client, "raising/model.tar.gz", {"model.joblib": saved, "code/inference.py": script})
    create_script_model(sagemaker_client, "sklearn-raising", SKLEARN_IMAGE, data)
    deploy(sagemaker_client, "sklearn-raising", [variant("main", "sklearn-raising")])

    with pytest.raises(runtime_client.exceptions.ModelError) as raised:
        invoke(runtime_client, "sklearn-raising", features_csv(features[:3]), "text/csv")
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert raised.value.response["OriginalStatusCode"] == 500
    assert "the model refuses 3 rows" in raised.value.response["OriginalMessage"]


def test_a_script_that_cannot_load_fails_the_endpoint_with_the_reason(
    s3_client: Any, sagemaker_client: Any, classifier: tuple[Any, bytes, Any]
) -> None:
    _, saved, _ = classifier
    broken = {
        "import-error": "import a_module_nobody_installed\n",
        "no-model-fn": "def predict_fn(input_data, model):\n    return model.predict(input_data)\n",
    }
    for name, script in broken.items():
        data = upload(s3_client, f"{name}/model.tar.gz", {"model.joblib": saved, "code/inference.py": script})
        create_script_model(sagemaker_client, name, SKLEARN_IMAGE, data)
        sagemaker_client.create_endpoint_config(
            EndpointConfigName=name, ProductionVariants=[variant("main", name)]
        )
        sagemaker_client.create_endpoint(EndpointName=name, EndpointConfigName=name)
    reasons = {}
    for name in broken:
        with pytest.raises(WaiterError):
            sagemaker_client.get_waiter("endpoint_in_service").wait(
                EndpointName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
            )
        described = sagemaker_client.describe_endpoint(EndpointName=name)
        assert described["EndpointStatus"] == "Failed"
        reasons[name] = described["FailureReason"]
    assert "No module named 'a_module_nobody_installed'" in reasons["import-error"]
    assert "inference.py" in reasons["import-error"]
    assert "defines no model_fn" in reasons["no-model-fn"]


def test_xgboost_image_with_code_in_the_model_uses_xgboost_defaults(
    s3_client: Any, sagemaker_client: Any, runtime_client: Any
) -> None:
    train, test = breast_cancer_split()
    booster = train_booster(train)
    script = """
    import json

    import xgboost


    def input_fn(request_body, request_content_type):
        return xgboost.DMatrix(json.loads(request_body)["rows"])
    """
    raw = io.BytesIO(model_archive(booster))
    with tarfile.open(fileobj=raw, mode="r:gz") as tar:
        member = tar.extractfile("xgboost-model")
        saved = member.read() if member is not None else b""
    data = upload(s3_client, "xgb-script/model.tar.gz", {"xgboost-model": saved, "code/inference.py": script})
    create_script_model(sagemaker_client, "xgb-script", XGBOOST_IMAGE, data)
    deploy(sagemaker_client, "xgb-script", [variant("main", "xgb-script")])

    rows = test[:10, 1:]
    response = invoke(
        runtime_client, "xgb-script", json.dumps({"rows": rows.tolist()}).encode(), "application/json"
    )
    assert response["ContentType"] == "application/json"
    np.testing.assert_allclose(
        json.loads(response["Body"].read()), booster.predict(xgboost.DMatrix(rows)), rtol=1e-6
    )


def test_a_pipeline_of_a_script_and_the_builtin_algorithm(
    s3_client: Any, sagemaker_client: Any, runtime_client: Any
) -> None:
    from sklearn.preprocessing import StandardScaler

    train, test = breast_cancer_split()
    scaler = StandardScaler().fit(train[:, 1:].astype(np.float32))
    scaled = np.column_stack([train[:, 0], scaler.transform(train[:, 1:].astype(np.float32))])
    booster = train_booster(scaled)
    saved = io.BytesIO()
    joblib.dump(scaler, saved)
    script = MODEL_FN_ONLY + textwrap.dedent(
        """
        def predict_fn(input_data, model):
            return model.transform(input_data)
        """
    )
    scaler_data = upload(
        s3_client, "pipeline/scaler.tar.gz", {"model.joblib": saved.getvalue(), "code/inference.py": script}
    )
    s3_client.put_object(Bucket=BUCKET, Key="pipeline/xgb.tar.gz", Body=model_archive(booster))
    sagemaker_client.create_model(
        ModelName="script-pipeline",
        ExecutionRoleArn=ROLE_ARN,
        Containers=[
            {
                "Image": SKLEARN_IMAGE,
                "ModelDataUrl": scaler_data,
                "Environment": {"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv"},
            },
            {"Image": XGBOOST_IMAGE, "ModelDataUrl": f"s3://{BUCKET}/pipeline/xgb.tar.gz"},
        ],
    )
    deploy(sagemaker_client, "script-pipeline", [variant("main", "script-pipeline")])

    rows = test[:15, 1:].astype(np.float32)
    response = invoke(runtime_client, "script-pipeline", features_csv(rows), "text/csv")
    served = np.array([float(v) for v in response["Body"].read().decode().split()])
    expected = booster.predict(xgboost.DMatrix(scaler.transform(rows)))
    np.testing.assert_allclose(served, expected, rtol=1e-5)


def test_batch_transform_over_a_script_model(
    s3_client: Any, sagemaker_client: Any, classifier: tuple[Any, bytes, Any]
) -> None:
    model, saved, _ = classifier
    data = upload(
        s3_client, "batch/model.tar.gz", {"model.joblib": saved, "code/inference.py": MODEL_FN_ONLY}
    )
    create_script_model(sagemaker_client, "sklearn-batch", SKLEARN_IMAGE, data)
    _, test = breast_cancer_split()
    rows = test[:, 1:].astype(np.float32)
    s3_client.put_object(Bucket=BUCKET, Key="batch/in/rows.csv", Body=features_csv(rows))
    sagemaker_client.create_transform_job(
        TransformJobName="sklearn-batch",
        ModelName="sklearn-batch",
        BatchStrategy="MultiRecord",
        TransformInput={
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/batch/in/"}},
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        TransformOutput={
            "S3OutputPath": f"s3://{BUCKET}/batch/out",
            "Accept": "text/csv",
            "AssembleWith": "Line",
        },
        TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": 1},
    )
    sagemaker_client.get_waiter("transform_job_completed_or_stopped").wait(
        TransformJobName="sklearn-batch", WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    described = sagemaker_client.describe_transform_job(TransformJobName="sklearn-batch")
    assert described["TransformJobStatus"] == "Completed", described.get("FailureReason")
    output = s3_client.get_object(Bucket=BUCKET, Key="batch/out/rows.csv.out")["Body"].read().decode()
    assert [float(v) for v in output.split()] == model.predict(rows).tolist()


PRINTING = (
    MODEL_FN_ONLY
    + """

def predict_fn(input_data, model):
    print(f"predicting {len(input_data)} rows")
    return model.predict(input_data)
"""
)


def test_the_containers_output_is_in_the_endpoints_log_group(
    s3_client: Any,
    sagemaker_client: Any,
    runtime_client: Any,
    logs_client: Any,
    classifier: tuple[Any, bytes, Any],
) -> None:
    """As SageMaker: /aws/sagemaker/Endpoints/<endpoint>, one stream per instance named <variant>/<id>."""
    _, saved, features = classifier
    data = upload(s3_client, "printing/model.tar.gz", {"model.joblib": saved, "code/inference.py": PRINTING})
    create_script_model(sagemaker_client, "printing", SKLEARN_IMAGE, data)
    deploy(sagemaker_client, "printing", [variant("AllTraffic", "printing", count=2)])
    group = "/aws/sagemaker/Endpoints/printing"
    try:
        for _ in range(2):  # round robin: one request each
            invoke(runtime_client, "printing", features_csv(features[:3]), "text/csv")
        streams = logs_client.describe_log_streams(logGroupName=group, logStreamNamePrefix="AllTraffic/")
        names = [stream["logStreamName"] for stream in streams["logStreams"]]
        assert len(names) == 2 and all(re.fullmatch(r"AllTraffic/i-[0-9a-f]{17}", name) for name in names)
        deadline = time.monotonic() + 10
        while True:
            found = logs_client.filter_log_events(logGroupName=group, filterPattern='"predicting 3 rows"')
            if len(found["events"]) == 2 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert sorted(event["logStreamName"] for event in found["events"]) == sorted(names)
        started = logs_client.filter_log_events(logGroupName=group, filterPattern='"model loaded"')
        assert len(started["events"]) == 2
    finally:
        sagemaker_client.delete_endpoint(EndpointName="printing")


def test_a_model_that_cannot_load_leaves_its_traceback_in_the_log(
    s3_client: Any, sagemaker_client: Any, logs_client: Any, classifier: tuple[Any, bytes, Any]
) -> None:
    _, saved, _ = classifier
    script = "raise RuntimeError('the weights are corrupt')\n"
    data = upload(s3_client, "corrupt/model.tar.gz", {"model.joblib": saved, "code/inference.py": script})
    create_script_model(sagemaker_client, "corrupt", SKLEARN_IMAGE, data)
    sagemaker_client.create_endpoint_config(
        EndpointConfigName="corrupt", ProductionVariants=[variant("AllTraffic", "corrupt")]
    )
    sagemaker_client.create_endpoint(EndpointName="corrupt", EndpointConfigName="corrupt")
    with pytest.raises(WaiterError):
        sagemaker_client.get_waiter("endpoint_in_service").wait(
            EndpointName="corrupt", WaiterConfig={"Delay": 1, "MaxAttempts": 120}
        )
    events = logs_client.filter_log_events(logGroupName="/aws/sagemaker/Endpoints/corrupt")["events"]
    text = "\n".join(event["message"] for event in events)
    assert "Traceback" in text and "RuntimeError: the weights are corrupt" in text
