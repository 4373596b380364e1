"""Batch transform through boto3: splitting, batching, DataProcessing, outputs, failures, stop, listing, logs."""

from __future__ import annotations

import gzip
import io
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import WaiterError
from tests.support import (
    breast_cancer_split,
    create_model,
    ensure_bucket,
    features_csv,
    model_archive,
    train_booster,
)

from opensage.formats.recordio import write_dense

BUCKET = "xgb-transform"
MODEL = "transform-model"


@pytest.fixture(scope="module")
def booster(s3_client: Any, sagemaker_client: Any) -> Any:
    """A binary:logistic model on the breast-cancer data, as built-in XGBoost training saves it."""
    train, _ = breast_cancer_split()
    trained = train_booster(train)
    ensure_bucket(s3_client, BUCKET)
    s3_client.put_object(Bucket=BUCKET, Key="model/model.tar.gz", Body=model_archive(trained))
    create_model(sagemaker_client, MODEL, f"s3://{BUCKET}/model/model.tar.gz")
    return trained


@pytest.fixture(scope="module")
def features() -> Any:
    _, test = breast_cancer_split()
    return test[:, 1:]


def expected(booster: Any, rows: Any) -> Any:
    import xgboost

    return booster.predict(xgboost.DMatrix(rows))


def request(name: str, input_uri: str, **overrides: Any) -> dict[str, Any]:
    """A CreateTransformJob request for CSV in and out, split by line, batched."""
    base: dict[str, Any] = {
        "TransformJobName": name,
        "ModelName": MODEL,
        "TransformInput": {
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": input_uri}},
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        "TransformOutput": {
            "S3OutputPath": f"s3://{BUCKET}/{name}/out",
            "Accept": "text/csv",
            "AssembleWith": "Line",
        },
        "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return base


def run(sagemaker: Any, body: dict[str, Any]) -> dict[str, Any]:
    sagemaker.create_transform_job(**body)
    sagemaker.get_waiter("transform_job_completed_or_stopped").wait(
        TransformJobName=body["TransformJobName"], WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    described: dict[str, Any] = sagemaker.describe_transform_job(TransformJobName=body["TransformJobName"])
    return described


def run_to_failure(sagemaker: Any, body: dict[str, Any]) -> dict[str, Any]:
    sagemaker.create_transform_job(**body)
    with pytest.raises(WaiterError, match="Failed"):
        sagemaker.get_waiter("transform_job_completed_or_stopped").wait(
            TransformJobName=body["TransformJobName"], WaiterConfig={"Delay": 1, "MaxAttempts": 120}
        )
    described: dict[str, Any] = sagemaker.describe_transform_job(TransformJobName=body["TransformJobName"])
    assert described["TransformJobStatus"] == "Failed"
    return described


def read(s3: Any, key: str) -> bytes:
    data: bytes = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return data


def scores(data: bytes) -> Any:
    return np.array([float(line) for line in data.decode().splitlines()], dtype=np.float32)


def test_line_split_multi_record_csv_equals_booster_predict_in_order(
    s3_client: Any, sagemaker_client: Any, booster: Any, features: Any
) -> None:
    rows = np.tile(features, (60, 1))  # about 2.7 MB of CSV: several 1 MB requests
    s3_client.put_object(Bucket=BUCKET, Key="multi/in/data.csv", Body=features_csv(rows))
    body = request(
        "tx-multi",
        f"s3://{BUCKET}/multi/in/",
        BatchStrategy="MultiRecord",
        MaxPayloadInMB=1,
        MaxConcurrentTransforms=4,
        Environment={"EXTRA": "1"},
        Tags=[{"Key": "team", "Value": "ml"}],
    )
    described = run(sagemaker_client, body)
    assert described["TransformJobStatus"] == "Completed", described.get("FailureReason")
    output = read(s3_client, "tx-multi/out/data.csv.out")
    np.testing.assert_allclose(scores(output), expected(booster, rows), rtol=1e-6)
    assert described["TransformJobArn"].endswith(":transform-job/tx-multi")
    assert described["ModelName"] == MODEL and described["Environment"] == {"EXTRA": "1"}
    assert described["MaxPayloadInMB"] == 1 and described["MaxConcurrentTransforms"] == 4
    assert described["BatchStrategy"] == "MultiRecord"
    assert described["DataProcessing"] == {"InputFilter": "$", "OutputFilter": "$", "JoinSource": "None"}
    assert described["TransformInput"]["CompressionType"] == "None"
    assert described["TransformOutput"]["AssembleWith"] == "Line"
    assert described["CreationTime"] <= described["TransformStartTime"] <= described["TransformEndTime"]
    assert "FailureReason" not in described


def test_single_record_sends_each_row_alone(
    s3_client: Any, sagemaker_client: Any, booster: Any, features: Any
) -> None:
    rows = features[:25]
    s3_client.put_object(Bucket=BUCKET, Key="single/in/rows.csv", Body=features_csv(rows))
    described = run(
        sagemaker_client, request("tx-single", f"s3://{BUCKET}/single/in/", BatchStrategy="SingleRecord")
    )
    assert described["TransformJobStatus"] == "Completed", described.get("FailureReason")
    np.testing.assert_allclose(
        scores(read(s3_client, "tx-single/out/rows.csv.out")), expected(booster, rows), rtol=1e-6
    )


def test_join_source_input_with_filters_keeps_the_id_beside_its_prediction(
    s3_client: Any, sagemaker_client: Any, booster: Any, features: Any
) -> None:
    rows = features[:40]
    with_ids = "".join(
        f"id-{index}," + ",".join(repr(float(v)) for v in row) + "\n" for index, row in enumerate(rows)
    )
    s3_client.put_object(Bucket=BUCKET, Key="join/in/ids.csv", Body=with_ids.encode())
    body = request(
        "tx-join",
        f"s3://{BUCKET}/join/in/",
        DataProcessing={"InputFilter": "$[1:]", "OutputFilter": "$[0,-1]", "JoinSource": "Input"},
        MaxPayloadInMB=1,
    )
    described = run(sagemaker_client, body)
    assert described["TransformJobStatus"] == "Completed", described.get("FailureReason")
    lines = read(s3_client, "tx-join/out/ids.csv.out").decode().splitlines()
    assert [line.split(",")[0] for line in lines] == [f"id-{i}" for i in range(len(rows))]
    np.testing.assert_allclose(
        [float(line.split(",")[1]) for line in lines], expected(booster, rows), rtol=1e-6
    )
    assert described["DataProcessing"] == {
        "InputFilter": "$[1:]",
        "OutputFilter": "$[0,-1]",
        "JoinSource": "Input",
    }


def test_json_lines_join_puts_the_prediction_under_sagemaker_output(
    s3_client: Any, sagemaker_client: Any, booster: Any, features: Any
) -> None:
    rows = features[:30]
    lines = "".join(
        json.dumps({"id": i, "features": [float(v) for v in row]}) + "\n" for i, row in enumerate(rows)
    )
    s3_client.put_object(Bucket=BUCKET, Key="jsonl/in/records.jsonl", Body=lines.encode())
    body = request(
        "tx-jsonl",
        f"s3://{BUCKET}/jsonl/in/",
        TransformInput={"ContentType": "application/jsonlines"},
        DataProcessing={
            "InputFilter": "$.features",
            "OutputFilter": "$['id','SageMakerOutput']",
            "JoinSource": "Input",
        },
    )
    described = run(sagemaker_client, body)
    assert described["TransformJobStatus"] == "Completed", described.get("FailureReason")
    joined = [
        json.loads(line) for line in read(s3_client, "tx-jsonl/out/records.jsonl.out").decode().splitlines()
    ]
    assert [sorted(record) for record in joined] == [["SageMakerOutput", "id"]] * len(rows)
    assert [record["id"] for record in joined] == list(range(len(rows)))
    np.testing.assert_allclose(
        [record["SageMakerOutput"] for record in joined], expected(booster, rows), rtol=1e-6
    )


def test_each_input_object_gets_its_own_out_object_across_two_instances(
    s3_client: Any, sagemaker_client: Any, booster: Any, features: Any
) -> None:
    first, second = features[:10], features[10:30]
    s3_client.put_object(Bucket=BUCKET, Key="two/in/a.csv", Body=features_csv(first))
    s3_client.put_object(Bucket=BUCKET, Key="two/in/sub/b.csv", Body=features_csv(second))
    body = request("tx-two", f"s3://{BUCKET}/two/in", TransformResources={"InstanceCount": 2})
    described = run(sagemaker_client, body)
    assert described["TransformJobStatus"] == "Completed", described.get("FailureReason")
    listed = s3_client.list_objects_v2(Bucket=BUCKET, Prefix="tx-two/out/")["Contents"]
    assert sorted(item["Key"] for item in listed) == ["tx-two/out/a.csv.out", "tx-two/out/sub/b.csv.out"]
    np.testing.assert_allclose(
        scores(read(s3_client, "tx-two/out/a.csv.out")), expected(booster, first), rtol=1e-6
    )
    np.testing.assert_allclose(
        scores(read(s3_client, "tx-two/out/sub/b.csv.out")), expected(booster, second), rtol=1e-6
    )


def test_gzip_input_and_a_manifest_are_read_like_plain_objects(
    s3_client: Any, sagemaker_client: Any, booster: Any, features: Any
) -> None:
    rows = features[:12]
    s3_client.put_object(Bucket=BUCKET, Key="gz/data/part-1.csv.gz", Body=gzip.compress(features_csv(rows)))
    manifest = [{"prefix": f"s3://{BUCKET}/gz/data/"}, "part-1.csv.gz"]
    s3_client.put_object(Bucket=BUCKET, Key="gz/manifest.json", Body=json.dumps(manifest).encode())
    body = request(
        "tx-gzip",
        f"s3://{BUCKET}/gz/manifest.json",
        TransformInput={
            "DataSource": {
                "S3DataSource": {"S3DataType": "ManifestFile", "S3Uri": f"s3://{BUCKET}/gz/manifest.json"}
            },
            "CompressionType": "Gzip",
        },
    )
    described = run(sagemaker_client, body)
    assert described["TransformJobStatus"] == "Completed", described.get("FailureReason")
    np.testing.assert_allclose(
        scores(read(s3_client, "tx-gzip/out/part-1.csv.gz.out")), expected(booster, rows), rtol=1e-6
    )


def test_recordio_split_batches_whole_records(
    s3_client: Any, sagemaker_client: Any, booster: Any, features: Any
) -> None:
    rows = features[:50]
    sink = io.BytesIO()
    write_dense(sink, rows.astype(np.float32))
    s3_client.put_object(Bucket=BUCKET, Key="rio/in/data.rec", Body=sink.getvalue())
    body = request(
        "tx-recordio",
        f"s3://{BUCKET}/rio/in/",
        TransformInput={"ContentType": "application/x-recordio-protobuf", "SplitType": "RecordIO"},
    )
    described = run(sagemaker_client, body)
    assert described["TransformJobStatus"] == "Completed", described.get("FailureReason")
    np.testing.assert_allclose(
        scores(read(s3_client, "tx-recordio/out/data.rec.out")),
        expected(booster, rows.astype(np.float32)),
        rtol=1e-6,
    )


def test_whole_objects_with_json_output_assembled_as_they_are(
    s3_client: Any, sagemaker_client: Any, booster: Any, features: Any
) -> None:
    rows = features[:3]
    s3_client.put_object(Bucket=BUCKET, Key="whole/in/three.csv", Body=features_csv(rows))
    body = request(
        "tx-whole",
        f"s3://{BUCKET}/whole/in/",
        TransformInput={"SplitType": "None"},
        TransformOutput={"Accept": "application/json", "AssembleWith": "None"},
        MaxPayloadInMB=0,
    )
    described = run(sagemaker_client, body)
    assert described["TransformJobStatus"] == "Completed", described.get("FailureReason")
    answer = json.loads(read(s3_client, "tx-whole/out/three.csv.out"))
    np.testing.assert_allclose(
        [p["score"] for p in answer["predictions"]], expected(booster, rows), rtol=1e-6
    )
    assert described["MaxPayloadInMB"] == 0 and "BatchStrategy" not in described


def test_a_row_the_model_refuses_fails_the_job_naming_the_file_and_line(
    s3_client: Any, sagemaker_client: Any, booster: Any, features: Any
) -> None:
    lines = features_csv(features[:60]).decode().splitlines()
    lines[41] = "1.0,2.0,not-a-number"
    s3_client.put_object(Bucket=BUCKET, Key="bad/in/data.csv", Body=("\n".join(lines) + "\n").encode())
    described = run_to_failure(sagemaker_client, request("tx-bad", f"s3://{BUCKET}/bad/in/"))
    reason = described["FailureReason"]
    assert reason.startswith("ClientError: ") and len(reason) <= 1024
    assert f"s3://{BUCKET}/bad/in/data.csv line 42: " in reason
    assert "HTTP 400" in reason
    assert s3_client.list_objects_v2(Bucket=BUCKET, Prefix="tx-bad/out/")["KeyCount"] == 0


def test_missing_and_empty_input_fail_clearly(s3_client: Any, sagemaker_client: Any, booster: Any) -> None:
    missing = run_to_failure(sagemaker_client, request("tx-missing", f"s3://{BUCKET}/nothing/here/"))
    assert missing["FailureReason"].startswith(
        f'ClientError: No S3 objects found under S3 URL "s3://{BUCKET}/nothing/here/"'
    )
    s3_client.put_object(Bucket=BUCKET, Key="empty/in/blank.csv", Body=b"")
    empty = run_to_failure(sagemaker_client, request("tx-empty", f"s3://{BUCKET}/empty/in/"))
    assert "holds no records" in empty["FailureReason"]


def test_gzip_that_is_not_gzip_fails_naming_the_object(
    s3_client: Any, sagemaker_client: Any, booster: Any
) -> None:
    s3_client.put_object(Bucket=BUCKET, Key="notgz/in/data.csv.gz", Body=b"1,2,3\n")
    body = request(
        "tx-notgz",
        f"s3://{BUCKET}/notgz/in/",
        TransformInput={"CompressionType": "Gzip"},
        ModelClientConfig={"InvocationsTimeoutInSeconds": 30},
    )
    described = run_to_failure(sagemaker_client, body)
    assert described["FailureReason"].startswith(
        f"ClientError: s3://{BUCKET}/notgz/in/data.csv.gz is not valid gzip"
    )
    assert described["ModelClientConfig"] == {"InvocationsTimeoutInSeconds": 30, "InvocationsMaxRetries": 3}


def test_a_record_over_max_payload_fails_naming_it(
    s3_client: Any, sagemaker_client: Any, booster: Any
) -> None:
    huge = ",".join(["1.5"] * 400_000)  # a 1.6 MB line
    s3_client.put_object(Bucket=BUCKET, Key="huge/in/wide.csv", Body=f"1,2\n{huge}\n".encode())
    described = run_to_failure(
        sagemaker_client, request("tx-huge", f"s3://{BUCKET}/huge/in/", MaxPayloadInMB=1)
    )
    assert f"s3://{BUCKET}/huge/in/wide.csv line 2 is" in described["FailureReason"]
    assert "MaxPayloadInMB" in described["FailureReason"]


def test_stop_keeps_finished_outputs_and_drops_the_rest(
    s3_client: Any, sagemaker_client: Any, booster: Any, features: Any
) -> None:
    s3_client.put_object(Bucket=BUCKET, Key="stop/in/a-small.csv", Body=features_csv(features[:5]))
    s3_client.put_object(
        Bucket=BUCKET, Key="stop/in/b-large.csv", Body=features_csv(np.tile(features, (200, 1)))
    )
    body = request("tx-stop", f"s3://{BUCKET}/stop/in/", BatchStrategy="SingleRecord")
    sagemaker_client.create_transform_job(**body)
    deadline = time.monotonic() + 60
    while s3_client.list_objects_v2(Bucket=BUCKET, Prefix="tx-stop/out/")["KeyCount"] == 0:
        assert time.monotonic() < deadline, "the first output never appeared"
        time.sleep(0.05)
    sagemaker_client.stop_transform_job(TransformJobName="tx-stop")
    assert sagemaker_client.describe_transform_job(TransformJobName="tx-stop")["TransformJobStatus"] in (
        "Stopping",
        "Stopped",
    )
    sagemaker_client.get_waiter("transform_job_completed_or_stopped").wait(
        TransformJobName="tx-stop", WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    described = sagemaker_client.describe_transform_job(TransformJobName="tx-stop")
    assert described["TransformJobStatus"] == "Stopped"
    keys = [
        item["Key"] for item in s3_client.list_objects_v2(Bucket=BUCKET, Prefix="tx-stop/out/")["Contents"]
    ]
    assert keys == ["tx-stop/out/a-small.csv.out"]
    with pytest.raises(
        sagemaker_client.exceptions.ClientError, match="only an InProgress job can be stopped"
    ):
        sagemaker_client.stop_transform_job(TransformJobName="tx-stop")


def test_logs_hold_the_model_servers_output_and_the_jobs_progress(
    s3_client: Any, sagemaker_client: Any, logs_client: Any, booster: Any, features: Any
) -> None:
    s3_client.put_object(Bucket=BUCKET, Key="logs/in/data.csv", Body=features_csv(features[:5]))
    described = run(sagemaker_client, request("tx-logs", f"s3://{BUCKET}/logs/in/"))
    assert described["TransformJobStatus"] == "Completed", described.get("FailureReason")
    streams = logs_client.describe_log_streams(
        logGroupName="/aws/sagemaker/TransformJobs", logStreamNamePrefix="tx-logs/"
    )["logStreams"]
    names = sorted(stream["logStreamName"] for stream in streams)
    assert len(names) == 2 and names[1] == names[0] + "/data-log"
    assert names[0].startswith("tx-logs/i-")
    events = logs_client.get_log_events(logGroupName="/aws/sagemaker/TransformJobs", logStreamName=names[1])
    messages = [event["message"] for event in events["events"]]
    assert any(f"s3://{BUCKET}/logs/in/data.csv: 5 record(s)" in message for message in messages)
    assert messages[-1] == "Transform job completed"


def test_create_refuses_a_missing_model_a_taken_name_and_bad_values(
    s3_client: Any, sagemaker_client: Any, booster: Any
) -> None:
    errors = sagemaker_client.exceptions
    with pytest.raises(
        errors.ClientError, match=r'Could not find model "arn:aws:sagemaker:.*:model/no-such-model"'
    ):
        sagemaker_client.create_transform_job(
            **request("tx-nomodel", f"s3://{BUCKET}/x/", ModelName="no-such-model")
        )
    with pytest.raises(errors.ClientError, match="MaxPayloadInMB 0 \\(no limit\\) is only allowed"):
        sagemaker_client.create_transform_job(**request("tx-zero", f"s3://{BUCKET}/x/", MaxPayloadInMB=0))
    with pytest.raises(errors.ClientError, match=r"UnknownOperationException.*TFRecord"):
        sagemaker_client.create_transform_job(
            **request("tx-tfrecord", f"s3://{BUCKET}/x/", TransformInput={"SplitType": "TFRecord"})
        )
    with pytest.raises(errors.ClientError, match="InputFilter '\\$\\[1' is not a supported JSONPath"):
        sagemaker_client.create_transform_job(
            **request("tx-filter", f"s3://{BUCKET}/x/", DataProcessing={"InputFilter": "$[1"})
        )
    with pytest.raises(errors.ClientError, match=r"ValidationException.*transformJobName"):
        sagemaker_client.create_transform_job(**request("bad_name!", f"s3://{BUCKET}/x/"))
    s3_client.put_object(Bucket=BUCKET, Key="dup/in/data.csv", Body=b"1,2\n")
    sagemaker_client.create_transform_job(**request("tx-dup", f"s3://{BUCKET}/dup/in/"))
    with pytest.raises(errors.ResourceInUse, match="already exists"):
        sagemaker_client.create_transform_job(**request("tx-dup", f"s3://{BUCKET}/dup/in/"))


def test_describe_of_a_missing_job_is_a_validation_exception(sagemaker_client: Any) -> None:
    with pytest.raises(
        sagemaker_client.exceptions.ClientError, match="Requested resource not found"
    ) as caught:
        sagemaker_client.describe_transform_job(TransformJobName="no-such-transform")
    assert caught.value.response["Error"]["Code"] == "ValidationException"


def test_listing_filters_sorts_and_pages(
    s3_client: Any, sagemaker_client: Any, booster: Any, features: Any
) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    s3_client.put_object(Bucket=BUCKET, Key="listing/in/data.csv", Body=features_csv(features[:3]))
    names = [f"tx-listing-{i}" for i in range(3)]
    for name in names:
        run(sagemaker_client, request(name, f"s3://{BUCKET}/listing/in/"))
    seen: list[str] = []
    params: dict[str, Any] = {
        "NameContains": "listing-",
        "SortBy": "Name",
        "SortOrder": "Descending",
        "MaxResults": 2,
        "StatusEquals": "Completed",
        "CreationTimeAfter": before,
    }
    while True:
        page = sagemaker_client.list_transform_jobs(**params)
        for summary in page["TransformJobSummaries"]:
            assert summary["TransformJobStatus"] == "Completed"
            assert summary["TransformJobArn"].endswith(summary["TransformJobName"])
            assert {"CreationTime", "TransformEndTime", "LastModifiedTime"} <= set(summary)
            seen.append(summary["TransformJobName"])
        if "NextToken" not in page:
            break
        params["NextToken"] = page["NextToken"]
    assert seen == sorted(names, reverse=True)
    assert (
        sagemaker_client.list_transform_jobs(NameContains="listing-", StatusEquals="Failed")[
            "TransformJobSummaries"
        ]
        == []
    )
