"""Multi-model, serverless, data capture, inference pipelines, async inference and restart recovery."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xgboost
from tests.support import (
    ROLE_ARN,
    XGBOOST_IMAGE,
    breast_cancer_split,
    create_model,
    deploy,
    features_csv,
    make_client,
    make_settings,
    model_archive,
    train_booster,
    variant,
)

from opensage.embedded import EmbeddedServer

BUCKET = "hosting-features"


@pytest.fixture(scope="module")
def small_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    """Its own server: two loaded models per multi-model instance, serverless idle after 1 s."""
    settings = make_settings(
        tmp_path_factory.mktemp("hosting-home"), multi_model_max_loaded=2, serverless_idle_seconds=1.0
    )
    with EmbeddedServer(settings) as running:
        yield running


@pytest.fixture(scope="module")
def clients(small_server: EmbeddedServer) -> dict[str, Any]:
    made = {
        name: make_client(name, small_server.endpoint_url)
        for name in ("s3", "sagemaker", "sagemaker-runtime")
    }
    made["s3"].create_bucket(Bucket=BUCKET)
    return made


@pytest.fixture(scope="module")
def data() -> tuple[Any, Any]:
    return breast_cancer_split()


@pytest.fixture(scope="module")
def base_model(clients: dict[str, Any], data: tuple[Any, Any]) -> Any:
    s3, sagemaker = clients["s3"], clients["sagemaker"]
    booster = train_booster(data[0], rounds=6)
    s3.put_object(Bucket=BUCKET, Key="single/model.tar.gz", Body=model_archive(booster))
    create_model(sagemaker, "base", f"s3://{BUCKET}/single/model.tar.gz")
    return booster


def scores(body: bytes) -> np.ndarray:
    return np.array([float(v) for v in body.decode().split()])


def loaded_models(server: EmbeddedServer, endpoint: str) -> list[str]:
    instance = server.platform.fleet.get(endpoint).variants["main"].instances[0]
    status, body = instance.process.get("/models")
    assert status == 200
    return [entry["modelName"] for entry in json.loads(body)["models"]]


def test_multi_model_endpoint_loads_on_use_and_evicts_least_recent(
    small_server: EmbeddedServer, clients: dict[str, Any], data: tuple[Any, Any]
) -> None:
    s3, sagemaker, runtime = clients["s3"], clients["sagemaker"], clients["sagemaker-runtime"]
    train, validation = data
    boosters = {f"m{i}.tar.gz": train_booster(train, rounds=2 + i) for i in range(3)}
    for key, booster in boosters.items():
        s3.put_object(Bucket=BUCKET, Key=f"mme/{key}", Body=model_archive(booster))
    sagemaker.create_model(
        ModelName="many",
        ExecutionRoleArn=ROLE_ARN,
        PrimaryContainer={
            "Image": XGBOOST_IMAGE,
            "ModelDataUrl": f"s3://{BUCKET}/mme/",
            "Mode": "MultiModel",
        },
    )
    deploy(sagemaker, "multi", [variant("main", "many")])
    rows = validation[:4, 1:]
    for key in ("m0.tar.gz", "m1.tar.gz", "m0.tar.gz", "m2.tar.gz"):
        answer = runtime.invoke_endpoint(
            EndpointName="multi", ContentType="text/csv", TargetModel=key, Body=features_csv(rows)
        )
        np.testing.assert_allclose(
            scores(answer["Body"].read()), boosters[key].predict(xgboost.DMatrix(rows)), rtol=1e-5
        )
    # At most two loaded: m1 was least recently used when m2 arrived.
    assert loaded_models(small_server, "multi") == ["m0.tar.gz", "m2.tar.gz"]
    with pytest.raises(runtime.exceptions.ValidationError, match=r"missing\.tar\.gz"):
        runtime.invoke_endpoint(
            EndpointName="multi", ContentType="text/csv", TargetModel="missing.tar.gz", Body=b"1"
        )
    with pytest.raises(runtime.exceptions.ModelError, match="TargetModel"):
        runtime.invoke_endpoint(EndpointName="multi", ContentType="text/csv", Body=features_csv(rows))


def test_serverless_scales_to_zero_and_starts_cold(
    small_server: EmbeddedServer, clients: dict[str, Any], base_model: Any, data: tuple[Any, Any]
) -> None:
    sagemaker, runtime = clients["sagemaker"], clients["sagemaker-runtime"]
    serverless = {
        "VariantName": "main",
        "ModelName": "base",
        "ServerlessConfig": {"MemorySizeInMB": 1024, "MaxConcurrency": 1},
    }
    deploy(sagemaker, "serverless", [serverless])
    live = small_server.platform.fleet.get("serverless").variants["main"]
    assert live.instances == []
    described = sagemaker.describe_endpoint(EndpointName="serverless")["ProductionVariants"][0]
    assert described["CurrentServerlessConfig"] == {"MemorySizeInMB": 1024, "MaxConcurrency": 1}
    body = features_csv(data[1][:2, 1:])
    assert (
        len(
            scores(
                runtime.invoke_endpoint(EndpointName="serverless", ContentType="text/csv", Body=body)[
                    "Body"
                ].read()
            )
        )
        == 2
    )
    assert len(live.instances) == 1
    deadline = time.monotonic() + 10
    while live.instances and time.monotonic() < deadline:
        time.sleep(0.1)
    assert live.instances == [], "an idle serverless variant scales to zero"
    assert (
        len(
            scores(
                runtime.invoke_endpoint(EndpointName="serverless", ContentType="text/csv", Body=body)[
                    "Body"
                ].read()
            )
        )
        == 2
    )

    # MaxConcurrency 1: while one request is being answered, a second one is throttled.
    s3 = clients["s3"]
    # 1,500 trees: a wider window while the first request is predicted.
    slow = train_booster(data[0], rounds=1500, max_depth=10)
    s3.put_object(Bucket=BUCKET, Key="slow/model.tar.gz", Body=model_archive(slow))
    create_model(sagemaker, "slow", f"s3://{BUCKET}/slow/model.tar.gz")
    deploy(sagemaker, "serverless-slow", [{**serverless, "ModelName": "slow"}])
    slow_variant = small_server.platform.fleet.get("serverless-slow").variants["main"]
    no_retry = make_client("sagemaker-runtime", small_server.endpoint_url, retries=0)
    big = features_csv(np.repeat(data[1][:, 1:], 120, axis=0))
    outcomes: dict[str, str] = {}

    small = features_csv(data[1][:1, 1:])

    def call(label: str) -> None:
        try:
            body = small if label == "second" else big  # the second arrives while the first is predicted
            no_retry.invoke_endpoint(EndpointName="serverless-slow", ContentType="text/csv", Body=body)
            outcomes[label] = "ok"
        except no_retry.exceptions.ClientError as error:
            outcomes[label] = str(error.response["Error"]["Code"])

    call("cold")  # starts the instance, so the next call's time is all prediction
    first = threading.Thread(target=call, args=("first",))
    first.start()
    deadline = time.monotonic() + 30
    while slow_variant.in_flight == 0 and time.monotonic() < deadline:
        time.sleep(0.001)
    call("second")
    first.join()
    assert outcomes == {"cold": "ok", "first": "ok", "second": "ThrottlingException"}, outcomes


def test_data_capture_writes_sagemakers_records(
    clients: dict[str, Any], base_model: Any, data: tuple[Any, Any]
) -> None:
    s3, sagemaker, runtime = clients["s3"], clients["sagemaker"], clients["sagemaker-runtime"]
    capture = {
        "EnableCapture": True,
        "InitialSamplingPercentage": 100,
        "DestinationS3Uri": f"s3://{BUCKET}/capture",
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
    }
    deploy(sagemaker, "captured", [variant("main", "base")], DataCaptureConfig=capture)
    body = features_csv(data[1][:1, 1:])
    for i in range(5):
        runtime.invoke_endpoint(
            EndpointName="captured", ContentType="text/csv", Body=body, InferenceId=f"id-{i}"
        )
    libsvm = (" ".join(f"{i}:{v!r}" for i, v in enumerate(data[1][0, 1:].tolist())) + "\n").encode()
    runtime.invoke_endpoint(EndpointName="captured", ContentType="text/libsvm", Body=libsvm)
    deadline = time.monotonic() + 10
    keys: list[str] = []
    while time.monotonic() < deadline and not keys:
        keys = [
            o["Key"]
            for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="capture/captured/main/").get("Contents", [])
        ]
        time.sleep(0.2)
    assert keys and all(k.endswith(".jsonl") for k in keys)
    parts = keys[0].split("/")
    assert (
        len(parts) == 8 and len(parts[3]) == 4 and len(parts[6]) == 2
    )  # capture/captured/main/yyyy/mm/dd/hh/file
    records = [
        json.loads(line)
        for key in keys
        for line in s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().splitlines()
    ]
    assert len(records) == 6
    first = records[0]
    assert first["eventVersion"] == "0"
    assert first["captureData"]["endpointInput"] == {
        "observedContentType": "text/csv",
        "mode": "INPUT",
        "data": body.decode(),
        "encoding": "CSV",
    }
    output = first["captureData"]["endpointOutput"]
    expected = base_model.predict(xgboost.DMatrix(data[1][:1, 1:]))[0]
    assert output["mode"] == "OUTPUT" and float(output["data"]) == pytest.approx(expected, rel=1e-5)
    assert {r["eventMetadata"].get("inferenceId") for r in records} == {f"id-{i}" for i in range(5)} | {None}
    encoded = next(
        r for r in records if r["captureData"]["endpointInput"]["observedContentType"] == "text/libsvm"
    )
    assert encoded["captureData"]["endpointInput"]["encoding"] == "BASE64"
    assert base64.b64decode(encoded["captureData"]["endpointInput"]["data"]) == libsvm
    assert all(r["eventMetadata"]["inferenceTime"].endswith("Z") for r in records)
    described = sagemaker.describe_endpoint(EndpointName="captured")["DataCaptureConfig"]
    assert described["CaptureStatus"] == "Started" and described["CurrentSamplingPercentage"] == 100


def test_an_inference_pipeline_runs_its_containers_in_order(
    clients: dict[str, Any], base_model: Any, data: tuple[Any, Any]
) -> None:
    s3, sagemaker, runtime = clients["s3"], clients["sagemaker"], clients["sagemaker-runtime"]
    train, validation = data
    first_scores = base_model.predict(xgboost.DMatrix(train[:, 1:]))
    # The second container reads the first one's single output column.
    second = xgboost.train(
        {"objective": "reg:squarederror", "max_depth": 2},
        xgboost.DMatrix(first_scores.reshape(-1, 1), label=train[:, 0] * 10),
        5,
    )
    s3.put_object(Bucket=BUCKET, Key="pipeline/second.tar.gz", Body=model_archive(second))
    sagemaker.create_model(
        ModelName="pipeline",
        ExecutionRoleArn=ROLE_ARN,
        Containers=[
            {"Image": XGBOOST_IMAGE, "ModelDataUrl": f"s3://{BUCKET}/single/model.tar.gz"},
            {"Image": XGBOOST_IMAGE, "ModelDataUrl": f"s3://{BUCKET}/pipeline/second.tar.gz"},
        ],
        InferenceExecutionConfig={"Mode": "Serial"},
    )
    assert len(sagemaker.describe_model(ModelName="pipeline")["Containers"]) == 2
    deploy(sagemaker, "pipeline", [variant("main", "pipeline")])
    rows = validation[:5, 1:]
    answer = runtime.invoke_endpoint(EndpointName="pipeline", ContentType="text/csv", Body=features_csv(rows))
    expected = second.predict(xgboost.DMatrix(base_model.predict(xgboost.DMatrix(rows)).reshape(-1, 1)))
    np.testing.assert_allclose(scores(answer["Body"].read()), expected, rtol=1e-5)


def test_async_inference_writes_the_answer_to_s3(
    clients: dict[str, Any], base_model: Any, data: tuple[Any, Any]
) -> None:
    s3, sagemaker, runtime = clients["s3"], clients["sagemaker"], clients["sagemaker-runtime"]
    deploy(
        sagemaker,
        "async",
        [variant("main", "base")],
        AsyncInferenceConfig={
            "OutputConfig": {
                "S3OutputPath": f"s3://{BUCKET}/async-out",
                "S3FailurePath": f"s3://{BUCKET}/async-failed",
            }
        },
    )
    rows = data[1][:3, 1:]
    s3.put_object(Bucket=BUCKET, Key="async-in/request.csv", Body=features_csv(rows))
    accepted = runtime.invoke_endpoint_async(
        EndpointName="async", ContentType="text/csv", InputLocation=f"s3://{BUCKET}/async-in/request.csv"
    )
    assert accepted["ResponseMetadata"]["HTTPStatusCode"] == 202
    output = accepted["OutputLocation"]
    assert output == f"s3://{BUCKET}/async-out/{accepted['InferenceId']}.out"
    key = output.removeprefix(f"s3://{BUCKET}/")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
            break
        except s3.exceptions.NoSuchKey:
            time.sleep(0.1)
    np.testing.assert_allclose(scores(body), base_model.predict(xgboost.DMatrix(rows)), rtol=1e-5)
    s3.put_object(Bucket=BUCKET, Key="async-in/bad.csv", Body=b"not,numbers\n")
    failed = runtime.invoke_endpoint_async(
        EndpointName="async", ContentType="text/csv", InputLocation=f"s3://{BUCKET}/async-in/bad.csv"
    )
    failure_key = failed["FailureLocation"].removeprefix(f"s3://{BUCKET}/")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=failure_key).get("KeyCount", 0)
        if listed:
            break
        time.sleep(0.1)
    assert listed == 1
    with pytest.raises(runtime.exceptions.ValidationError, match="not set up for asynchronous inference"):
        deploy(sagemaker, "sync-only", [variant("main", "base")])
        runtime.invoke_endpoint_async(
            EndpointName="sync-only", InputLocation=f"s3://{BUCKET}/async-in/request.csv"
        )


def test_endpoints_come_back_after_a_restart(tmp_path: Path, data: tuple[Any, Any]) -> None:
    settings = make_settings(tmp_path / "home")
    booster = train_booster(data[0], rounds=4)
    with EmbeddedServer(settings) as first:
        s3, sagemaker = make_client("s3", first.endpoint_url), make_client("sagemaker", first.endpoint_url)
        s3.create_bucket(Bucket="restart")
        s3.put_object(Bucket="restart", Key="m/model.tar.gz", Body=model_archive(booster))
        create_model(sagemaker, "kept", "s3://restart/m/model.tar.gz")
        deploy(sagemaker, "kept", [variant("main", "kept", count=2)])
    with EmbeddedServer(settings) as second:
        sagemaker = make_client("sagemaker", second.endpoint_url)
        assert sagemaker.describe_endpoint(EndpointName="kept")["EndpointStatus"] == "InService"
        runtime = make_client("sagemaker-runtime", second.endpoint_url)
        rows = data[1][:2, 1:]
        answer = runtime.invoke_endpoint(EndpointName="kept", ContentType="text/csv", Body=features_csv(rows))
        np.testing.assert_allclose(
            scores(answer["Body"].read()), booster.predict(xgboost.DMatrix(rows)), rtol=1e-5
        )
