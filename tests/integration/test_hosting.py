"""Hosting through the real boto3 clients: models, endpoints, InvokeEndpoint, routing and updates."""

from __future__ import annotations

import collections
import threading
import time
from typing import Any

import numpy as np
import pytest
import xgboost
from tests.support import (
    XGBOOST_IMAGE,
    breast_cancer_split,
    create_model,
    csv_bytes,
    deploy,
    ensure_bucket,
    features_csv,
    make_client,
    model_archive,
    train_booster,
    variant,
    wait_until_done,
    xgboost_job,
)

BUCKET = "hosting-tests"


@pytest.fixture(scope="module")
def runtime_client(server: Any) -> Any:
    return make_client("sagemaker-runtime", server.endpoint_url)


@pytest.fixture(scope="module")
def data() -> tuple[Any, Any]:
    return breast_cancer_split()


@pytest.fixture(scope="module")
def boosters(s3_client: Any, sagemaker_client: Any, data: tuple[Any, Any]) -> dict[str, Any]:
    """Two different real models, uploaded and registered as SageMaker models 'model-a' and 'model-b'."""
    ensure_bucket(s3_client, BUCKET)
    train, _ = data
    found = {
        "model-a": train_booster(train, rounds=10),
        "model-b": train_booster(train, rounds=3, max_depth=2),
    }
    for name, booster in found.items():
        s3_client.put_object(Bucket=BUCKET, Key=f"models/{name}/model.tar.gz", Body=model_archive(booster))
        create_model(sagemaker_client, name, f"s3://{BUCKET}/models/{name}/model.tar.gz")
    return found


def predictions(body: bytes) -> np.ndarray:
    return np.array([float(line) for line in body.decode().split()])


def test_train_deploy_and_invoke(
    s3_client: Any, sagemaker_client: Any, runtime_client: Any, data: tuple[Any, Any]
) -> None:
    train, validation = data
    ensure_bucket(s3_client, BUCKET)
    s3_client.put_object(Bucket=BUCKET, Key="train/train.csv", Body=csv_bytes(train))
    job = xgboost_job(
        "hosting-train",
        BUCKET,
        {"train": f"s3://{BUCKET}/train/"},
        {"objective": "binary:logistic", "num_round": "8"},
    )
    sagemaker_client.create_training_job(**job)
    artifacts = wait_until_done(sagemaker_client, "hosting-train")["ModelArtifacts"]["S3ModelArtifacts"]
    create_model(sagemaker_client, "trained", artifacts)
    described_model = sagemaker_client.describe_model(ModelName="trained")
    assert described_model["PrimaryContainer"]["ModelDataUrl"] == artifacts
    deploy(sagemaker_client, "trained-endpoint", [variant("AllTraffic", "trained")])

    response = runtime_client.invoke_endpoint(
        EndpointName="trained-endpoint", ContentType="text/csv", Body=features_csv(validation[:20, 1:])
    )
    assert response["InvokedProductionVariant"] == "AllTraffic"
    served = predictions(response["Body"].read())
    local = xgboost.train(
        {"objective": "binary:logistic"}, xgboost.DMatrix(train[:, 1:], label=train[:, 0]), num_boost_round=8
    )
    np.testing.assert_allclose(served, local.predict(xgboost.DMatrix(validation[:20, 1:])), rtol=1e-5)

    described = sagemaker_client.describe_endpoint(EndpointName="trained-endpoint")
    assert described["EndpointStatus"] == "InService"
    production = described["ProductionVariants"][0]
    assert production["CurrentWeight"] == 1.0 and production["CurrentInstanceCount"] == 1
    assert production["DeployedImages"][0]["SpecifiedImage"] == XGBOOST_IMAGE


def test_json_accept_and_custom_attributes(
    sagemaker_client: Any, runtime_client: Any, boosters: dict[str, Any], data: tuple[Any, Any]
) -> None:
    deploy(sagemaker_client, "json-endpoint", [variant("main", "model-a")])
    rows = data[1][:3, 1:]
    response = runtime_client.invoke_endpoint(
        EndpointName="json-endpoint",
        ContentType="text/csv",
        Accept="application/json",
        CustomAttributes="trace=1",
        InferenceId="inference-7",
        Body=features_csv(rows),
    )
    assert response["ContentType"].startswith("application/json")
    assert response["CustomAttributes"] == "trace=1"
    scores = [p["score"] for p in __import__("json").loads(response["Body"].read())["predictions"]]
    np.testing.assert_allclose(scores, boosters["model-a"].predict(xgboost.DMatrix(rows)), rtol=1e-5)


def test_traffic_splits_by_weight_and_target_variant(
    sagemaker_client: Any, runtime_client: Any, boosters: dict[str, Any], data: tuple[Any, Any]
) -> None:
    deploy(
        sagemaker_client,
        "weighted",
        [variant("three", "model-a", weight=3.0), variant("one", "model-b", weight=1.0)],
    )
    body = features_csv(data[1][:1, 1:])
    counts: collections.Counter[str] = collections.Counter()
    for _ in range(1000):
        counts[
            runtime_client.invoke_endpoint(EndpointName="weighted", ContentType="text/csv", Body=body)[
                "InvokedProductionVariant"
            ]
        ] += 1
    assert 0.70 < counts["three"] / 1000 < 0.80, counts
    targeted = runtime_client.invoke_endpoint(
        EndpointName="weighted", ContentType="text/csv", Body=body, TargetVariant="one"
    )
    assert targeted["InvokedProductionVariant"] == "one"
    expected = boosters["model-b"].predict(xgboost.DMatrix(data[1][:1, 1:]))
    np.testing.assert_allclose(predictions(targeted["Body"].read()), expected, rtol=1e-5)
    with pytest.raises(runtime_client.exceptions.ValidationError, match="no variant nine"):
        runtime_client.invoke_endpoint(
            EndpointName="weighted", ContentType="text/csv", Body=body, TargetVariant="nine"
        )

    sagemaker_client.update_endpoint_weights_and_capacities(
        EndpointName="weighted",
        DesiredWeightsAndCapacities=[{"VariantName": "three", "DesiredWeight": 0.0}],
    )
    sagemaker_client.get_waiter("endpoint_in_service").wait(
        EndpointName="weighted", WaiterConfig={"Delay": 1}
    )
    variants = {
        v["VariantName"]: v
        for v in sagemaker_client.describe_endpoint(EndpointName="weighted")["ProductionVariants"]
    }
    assert variants["three"]["CurrentWeight"] == 0.0 and variants["one"]["CurrentWeight"] == 1.0
    seen = {
        runtime_client.invoke_endpoint(EndpointName="weighted", ContentType="text/csv", Body=body)[
            "InvokedProductionVariant"
        ]
        for _ in range(30)
    }
    assert seen == {"one"}


def test_update_endpoint_under_traffic_loses_no_request(
    sagemaker_client: Any, runtime_client: Any, boosters: dict[str, Any], data: tuple[Any, Any]
) -> None:
    deploy(sagemaker_client, "blue-green", [variant("blue", "model-a")])
    sagemaker_client.create_endpoint_config(
        EndpointConfigName="blue-green-2", ProductionVariants=[variant("green", "model-b", count=2)]
    )
    body = features_csv(data[1][:2, 1:])
    failures: list[Exception] = []
    served_by: collections.Counter[str] = collections.Counter()
    stop = threading.Event()

    def traffic() -> None:
        client = make_client("sagemaker-runtime", runtime_client.meta.endpoint_url)
        while not stop.is_set():
            try:
                answer = client.invoke_endpoint(EndpointName="blue-green", ContentType="text/csv", Body=body)
                served_by[answer["InvokedProductionVariant"]] += 1
            except Exception as error:
                failures.append(error)

    workers = [threading.Thread(target=traffic) for _ in range(3)]
    for worker in workers:
        worker.start()
    time.sleep(0.5)
    sagemaker_client.update_endpoint(EndpointName="blue-green", EndpointConfigName="blue-green-2")
    assert sagemaker_client.describe_endpoint(EndpointName="blue-green")["EndpointStatus"] == "Updating"
    sagemaker_client.get_waiter("endpoint_in_service").wait(
        EndpointName="blue-green", WaiterConfig={"Delay": 1}
    )
    time.sleep(0.5)
    stop.set()
    for worker in workers:
        worker.join()
    assert failures == []
    assert served_by["blue"] > 0 and served_by["green"] > 0
    described = sagemaker_client.describe_endpoint(EndpointName="blue-green")
    assert described["EndpointConfigName"] == "blue-green-2"
    assert [v["VariantName"] for v in described["ProductionVariants"]] == ["green"]
    assert described["ProductionVariants"][0]["CurrentInstanceCount"] == 2


def test_errors_answer_as_sagemaker_does(
    sagemaker_client: Any, runtime_client: Any, boosters: dict[str, Any], data: tuple[Any, Any]
) -> None:
    deploy(sagemaker_client, "errors", [variant("main", "model-a")])
    with pytest.raises(runtime_client.exceptions.ModelError) as model_error:
        runtime_client.invoke_endpoint(EndpointName="errors", ContentType="text/csv", Body=b"1,2,abc\n")
    assert model_error.value.response["OriginalStatusCode"] == 400
    assert model_error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 424
    with pytest.raises(runtime_client.exceptions.ValidationError, match="Endpoint nowhere of account"):
        runtime_client.invoke_endpoint(EndpointName="nowhere", ContentType="text/csv", Body=b"1")
    with pytest.raises(runtime_client.exceptions.ValidationError, match="larger than"):
        runtime_client.invoke_endpoint(
            EndpointName="errors", ContentType="text/csv", Body=b"1," * (3 * 1024 * 1024 + 1)
        )
    with pytest.raises(sagemaker_client.exceptions.ClientError, match='Could not find endpoint "'):
        sagemaker_client.describe_endpoint(EndpointName="nowhere")
    with pytest.raises(sagemaker_client.exceptions.ClientError, match="Could not find model data"):
        create_model(sagemaker_client, "no-data", f"s3://{BUCKET}/missing/model.tar.gz")
    with pytest.raises(sagemaker_client.exceptions.ClientError, match='Could not find model "'):
        sagemaker_client.create_endpoint_config(
            EndpointConfigName="no-model", ProductionVariants=[variant("v", "ghost")]
        )
    with pytest.raises(sagemaker_client.exceptions.ClientError, match="already existing"):
        create_model(sagemaker_client, "model-a", f"s3://{BUCKET}/models/model-a/model.tar.gz")


def test_delete_endpoint_and_the_deleted_waiter(
    sagemaker_client: Any, runtime_client: Any, boosters: dict[str, Any]
) -> None:
    deploy(sagemaker_client, "short-lived", [variant("main", "model-b")])
    listed = sagemaker_client.list_endpoints(NameContains="short-lived")["Endpoints"]
    assert [e["EndpointName"] for e in listed] == ["short-lived"] and listed[0][
        "EndpointStatus"
    ] == "InService"
    sagemaker_client.delete_endpoint(EndpointName="short-lived")
    sagemaker_client.get_waiter("endpoint_deleted").wait(
        EndpointName="short-lived", WaiterConfig={"Delay": 1}
    )
    with pytest.raises(runtime_client.exceptions.ValidationError):
        runtime_client.invoke_endpoint(EndpointName="short-lived", ContentType="text/csv", Body=b"1")
    sagemaker_client.delete_endpoint_config(EndpointConfigName="short-lived")
    with pytest.raises(
        sagemaker_client.exceptions.ClientError, match="Could not find endpoint configuration"
    ):
        sagemaker_client.describe_endpoint_config(EndpointConfigName="short-lived")


def test_a_crashed_model_server_is_replaced(
    server: Any, sagemaker_client: Any, runtime_client: Any, boosters: dict[str, Any], data: tuple[Any, Any]
) -> None:
    deploy(sagemaker_client, "phoenix", [variant("main", "model-a")])
    instance = server.platform.fleet.get("phoenix").variants["main"].instances[0]
    instance.process.process.kill()
    instance.process.process.wait()
    answer = runtime_client.invoke_endpoint(
        EndpointName="phoenix", ContentType="text/csv", Body=features_csv(data[1][:1, 1:])
    )
    assert len(predictions(answer["Body"].read())) == 1
    replacement = server.platform.fleet.get("phoenix").variants["main"].instances[0]
    assert replacement.process.process.pid != instance.process.process.pid
