"""Processing jobs through the real boto3 client: users' code over S3 inputs, its outputs back in S3."""

from __future__ import annotations

import gzip
import io
import json
import textwrap
import time
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError, WaiterError
from tests.scripts import sagemaker_sdk_session
from tests.support import ROLE_ARN, breast_cancer_split, csv_bytes, ensure_bucket

BUCKET = "processing-tests"
SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
XGBOOST_IMAGE = "246618743249.dkr.ecr.us-west-2.amazonaws.com/sagemaker-xgboost:1.7-1"
CODE_PATH = "/opt/ml/processing/input/code"

PREPROCESS = """
    import argparse, glob, os
    import numpy as np
    from sklearn.model_selection import train_test_split

    parser = argparse.ArgumentParser()
    parser.add_argument("--test-fraction", type=float, required=True)
    args = parser.parse_args()
    if not 0 < args.test_fraction < 1:
        raise ValueError(f"--test-fraction must be between 0 and 1, not {args.test_fraction}")
    files = sorted(glob.glob("/opt/ml/processing/input/data/*.csv"))
    rows = np.vstack([np.loadtxt(name, delimiter=",", ndmin=2) for name in files])
    train, test = train_test_split(rows, test_size=args.test_fraction, random_state=0, stratify=rows[:, 0])
    for name, part in (("train", train), ("test", test)):
        np.savetxt(f"/opt/ml/processing/{name}/{name}.csv", part, delimiter=",", fmt="%.17g")
    with open("/opt/ml/output/message", "w") as message:
        message.write(f"train {len(train)} rows, test {len(test)} rows")
    print(f"split {len(rows)} rows from {len(files)} files")
    """

# Run as ["python3", "report.py"]: found in the working folder, the code input's.
REPORT = """
    import gzip, json, os
    import xgboost

    with open("/opt/ml/config/processingjobconfig.json") as config:
        job = json.load(config)
    with open("/opt/ml/config/resourceconfig.json") as config:
        resources = json.load(config)
    report = {
        "cwd": os.getcwd(),
        "job": job["ProcessingJobName"],
        "inputs": [item["InputName"] for item in job["ProcessingInputs"]],
        "host": resources["current_host"],
        "mode": os.environ["MODE"],
        "xgboost": xgboost.__version__,
        "unzipped": open("/opt/ml/processing/lookup/table.csv").read(),
    }
    os.makedirs("/opt/ml/processing/report/nested", exist_ok=True)
    with open("/opt/ml/processing/report/nested/report.json", "w") as out:
        json.dump(report, out)
    """

SHARDS = """
    import json, os

    with open("/opt/ml/config/resourceconfig.json") as config:
        resources = json.load(config)
    seen = {
        name: sorted(os.listdir(f"/opt/ml/processing/{name}"))
        for name in ("sharded", "everything")
    }
    seen["hosts"] = resources["hosts"]
    with open(f"/opt/ml/processing/seen/{resources['current_host']}.json", "w") as out:
        json.dump(seen, out)
    """

# Reports that it started through a Continuous output, then works until it is stopped.
RUN_FOREVER = """
    import os, time

    for folder in ("final", "progress"):
        os.makedirs(f"/opt/ml/processing/{folder}", exist_ok=True)
    with open("/opt/ml/processing/final/result.txt", "w") as result:
        result.write("only uploaded when the job completes")
    with open("/opt/ml/processing/progress/started.txt", "w") as progress:
        progress.write("started")
    while True:
        time.sleep(0.2)
    """


@pytest.fixture(scope="module")
def data(s3_client: Any) -> dict[str, Any]:
    """The breast-cancer rows in two CSV objects, and the scripts, in the test bucket."""
    ensure_bucket(s3_client, BUCKET)
    train, test = breast_cancer_split()
    s3_client.put_object(Bucket=BUCKET, Key="cancer/part-0.csv", Body=csv_bytes(train))
    s3_client.put_object(Bucket=BUCKET, Key="cancer/part-1.csv", Body=csv_bytes(test))
    for name, source in {
        "preprocess.py": PREPROCESS,
        "report.py": REPORT,
        "shards.py": SHARDS,
        "forever.py": RUN_FOREVER,
    }.items():
        s3_client.put_object(Bucket=BUCKET, Key=f"code/{name}", Body=textwrap.dedent(source).encode())
    for index in range(4):
        s3_client.put_object(Bucket=BUCKET, Key=f"shards/part-{index}.txt", Body=f"{index}".encode())
    s3_client.put_object(Bucket=BUCKET, Key="shared/all.txt", Body=b"shared")
    s3_client.put_object(Bucket=BUCKET, Key="lookup/table.csv.gz", Body=gzip.compress(b"a,1\nb,2\n"))
    return {"rows": np.vstack([train, test])}


def s3_input(name: str, uri: str, local_path: str, **options: str) -> dict[str, Any]:
    return {
        "InputName": name,
        "S3Input": {
            "S3Uri": uri,
            "LocalPath": local_path,
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
            **options,
        },
    }


def s3_output(name: str, uri: str, local_path: str, mode: str = "EndOfJob") -> dict[str, Any]:
    return {"OutputName": name, "S3Output": {"S3Uri": uri, "LocalPath": local_path, "S3UploadMode": mode}}


def code_input(script: str) -> dict[str, Any]:
    """The script as the SDK's ScriptProcessor uploads it: one object, input 'code'."""
    return s3_input("code", f"s3://{BUCKET}/code/{script}", CODE_PATH)


def processing_job(
    name: str,
    entrypoint: list[str],
    inputs: list[dict[str, Any]],
    outputs: list[dict[str, Any]],
    image: str = SKLEARN_IMAGE,
    **overrides: Any,
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "ProcessingJobName": name,
        "RoleArn": ROLE_ARN,
        "ProcessingResources": {
            "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 30}
        },
        "AppSpecification": {"ImageUri": image, "ContainerEntrypoint": entrypoint},
        "ProcessingInputs": inputs,
        "ProcessingOutputConfig": {"Outputs": outputs},
        "StoppingCondition": {"MaxRuntimeInSeconds": 300},
    }
    request.update(overrides)
    return request


def split_job(name: str, fraction: str) -> dict[str, Any]:
    return processing_job(
        name,
        ["python3", f"{CODE_PATH}/preprocess.py", "--test-fraction", fraction],
        [
            s3_input("data", f"s3://{BUCKET}/cancer/", "/opt/ml/processing/input/data"),
            code_input("preprocess.py"),
        ],
        [
            s3_output("train", f"s3://{BUCKET}/{name}/train", "/opt/ml/processing/train"),
            s3_output("test", f"s3://{BUCKET}/{name}/test", "/opt/ml/processing/test"),
        ],
    )


def wait_until_done(sagemaker: Any, name: str) -> dict[str, Any]:
    """Wait with botocore's own waiter, as users do, then Describe."""
    sagemaker.get_waiter("processing_job_completed_or_stopped").wait(
        ProcessingJobName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    described: dict[str, Any] = sagemaker.describe_processing_job(ProcessingJobName=name)
    return described


def wait_terminal(sagemaker: Any, name: str, max_seconds: float = 120) -> dict[str, Any]:
    """Poll Describe until the job ends however it ends (the waiter raises on Failed)."""
    deadline = time.monotonic() + max_seconds
    while time.monotonic() < deadline:
        described: dict[str, Any] = sagemaker.describe_processing_job(ProcessingJobName=name)
        if described["ProcessingJobStatus"] in ("Completed", "Failed", "Stopped"):
            return described
        time.sleep(0.1)
    raise AssertionError(f"{name} did not end within {max_seconds} s")


def rows_of(s3: Any, key: str) -> np.ndarray:
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return np.loadtxt(io.BytesIO(body), delimiter=",", ndmin=2)


def keys_under(s3: Any, prefix: str) -> list[str]:
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return sorted(item["Key"] for item in listed.get("Contents", []))


# --- what a job does ---


def test_a_scikit_learn_script_splits_a_dataset_into_train_and_test(
    sagemaker_client: Any, s3_client: Any, logs_client: Any, data: dict[str, Any]
) -> None:
    sagemaker_client.create_processing_job(**split_job("split-cancer", "0.25"))
    described = wait_until_done(sagemaker_client, "split-cancer")
    assert described["ProcessingJobStatus"] == "Completed", described.get("FailureReason")
    train = rows_of(s3_client, "split-cancer/train/train.csv")
    test = rows_of(s3_client, "split-cancer/test/test.csv")
    everything = data["rows"]
    assert len(test) == 143 and len(train) == len(everything) - 143
    train_rows = {tuple(row) for row in train}
    test_rows = {tuple(row) for row in test}
    assert not train_rows & test_rows
    assert train_rows | test_rows == {tuple(row) for row in everything}
    # /opt/ml/output/message becomes ExitMessage.
    assert described["ExitMessage"] == "train 426 rows, test 143 rows"
    group = "/aws/sagemaker/ProcessingJobs"
    streams = logs_client.describe_log_streams(logGroupName=group, logStreamNamePrefix="split-cancer/")
    (stream,) = streams["logStreams"]
    assert stream["logStreamName"].startswith("split-cancer/algo-1-")
    events = logs_client.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"])
    assert "split 569 rows from 2 files" in [event["message"] for event in events["events"]]


def test_a_plain_python3_script_runs_in_another_framework_image_from_the_code_folder(
    sagemaker_client: Any, s3_client: Any, data: dict[str, Any]
) -> None:
    request = processing_job(
        "report-xgb",
        ["python3", "report.py"],
        [
            code_input("report.py"),
            s3_input(
                "lookup", f"s3://{BUCKET}/lookup/", "/opt/ml/processing/lookup", S3CompressionType="Gzip"
            ),
        ],
        [s3_output("report", f"s3://{BUCKET}/report-xgb/out", "/opt/ml/processing/report")],
        image=XGBOOST_IMAGE,
        Environment={"MODE": "nightly"},
    )
    sagemaker_client.create_processing_job(**request)
    described = wait_until_done(sagemaker_client, "report-xgb")
    assert described["ProcessingJobStatus"] == "Completed", described.get("FailureReason")
    body = s3_client.get_object(Bucket=BUCKET, Key="report-xgb/out/nested/report.json")["Body"].read()
    report = json.loads(body)
    assert report["cwd"] == CODE_PATH and report["host"] == "algo-1"
    assert report["job"] == "report-xgb" and report["inputs"] == ["code", "lookup"]
    assert report["mode"] == "nightly" and report["xgboost"]
    assert report["unzipped"] == "a,1\nb,2\n"
    assert "ExitMessage" not in described


def test_two_instances_each_see_their_own_shard(
    sagemaker_client: Any, s3_client: Any, data: dict[str, Any]
) -> None:
    request = processing_job(
        "two-shards",
        ["python3", f"{CODE_PATH}/shards.py"],
        [
            code_input("shards.py"),
            s3_input(
                "sharded",
                f"s3://{BUCKET}/shards/",
                "/opt/ml/processing/sharded",
                S3DataDistributionType="ShardedByS3Key",
            ),
            s3_input("everything", f"s3://{BUCKET}/shared/", "/opt/ml/processing/everything"),
        ],
        [s3_output("seen", f"s3://{BUCKET}/two-shards/seen", "/opt/ml/processing/seen")],
    )
    request["ProcessingResources"]["ClusterConfig"]["InstanceCount"] = 2
    sagemaker_client.create_processing_job(**request)
    assert wait_until_done(sagemaker_client, "two-shards")["ProcessingJobStatus"] == "Completed"
    # Both instances upload to the same prefix.
    assert keys_under(s3_client, "two-shards/seen/") == [
        "two-shards/seen/algo-1.json",
        "two-shards/seen/algo-2.json",
    ]
    seen = [
        json.loads(s3_client.get_object(Bucket=BUCKET, Key=f"two-shards/seen/{host}.json")["Body"].read())
        for host in ("algo-1", "algo-2")
    ]
    first, second = (set(host["sharded"]) for host in seen)
    assert first and second and not first & second
    assert first | second == {f"part-{index}.txt" for index in range(4)}
    assert all(host["everything"] == ["all.txt"] and host["hosts"] == ["algo-1", "algo-2"] for host in seen)


def test_a_failing_script_fails_the_job_with_its_error(
    sagemaker_client: Any, s3_client: Any, data: dict[str, Any]
) -> None:
    sagemaker_client.create_processing_job(**split_job("split-bad", "2"))
    with pytest.raises(WaiterError, match="Failed"):
        sagemaker_client.get_waiter("processing_job_completed_or_stopped").wait(
            ProcessingJobName="split-bad", WaiterConfig={"Delay": 1, "MaxAttempts": 120}
        )
    described = sagemaker_client.describe_processing_job(ProcessingJobName="split-bad")
    assert described["ProcessingJobStatus"] == "Failed"
    reason = described["FailureReason"]
    assert reason.startswith("AlgorithmError: the processing code on algo-1 exited with code 1")
    assert "ValueError: --test-fraction must be between 0 and 1, not 2.0" in reason
    assert len(reason) <= 1024 and described["ExitMessage"] == reason
    # EndOfJob outputs are uploaded only when the job completes.
    assert keys_under(s3_client, "split-bad/") == []


def test_stop_ends_the_job_stopped_after_continuous_outputs_went_up(
    sagemaker_client: Any, s3_client: Any, data: dict[str, Any]
) -> None:
    request = processing_job(
        "stop-forever",
        ["python3", f"{CODE_PATH}/forever.py"],
        [code_input("forever.py")],
        [
            s3_output(
                "progress",
                f"s3://{BUCKET}/stop-forever/progress",
                "/opt/ml/processing/progress",
                "Continuous",
            ),
            s3_output("final", f"s3://{BUCKET}/stop-forever/final", "/opt/ml/processing/final"),
        ],
    )
    sagemaker_client.create_processing_job(**request)
    deadline = time.monotonic() + 60
    while not keys_under(s3_client, "stop-forever/progress/"):
        assert time.monotonic() < deadline, "the Continuous output never arrived"
        time.sleep(0.1)
    # It went up while the code was still running.
    assert sagemaker_client.describe_processing_job(ProcessingJobName="stop-forever")[
        "ProcessingJobStatus"
    ] == ("InProgress")
    sagemaker_client.stop_processing_job(ProcessingJobName="stop-forever")
    assert sagemaker_client.describe_processing_job(ProcessingJobName="stop-forever")[
        "ProcessingJobStatus"
    ] in (
        "Stopping",
        "Stopped",
    )
    described = wait_until_done(sagemaker_client, "stop-forever")
    assert described["ProcessingJobStatus"] == "Stopped" and "FailureReason" not in described
    assert keys_under(s3_client, "stop-forever/") == ["stop-forever/progress/started.txt"]
    with pytest.raises(ClientError, match="only an InProgress job can be stopped"):
        sagemaker_client.stop_processing_job(ProcessingJobName="stop-forever")


def test_max_runtime_stops_the_job_and_says_why(sagemaker_client: Any, data: dict[str, Any]) -> None:
    request = processing_job(
        "too-long",
        ["python3", f"{CODE_PATH}/forever.py"],
        [code_input("forever.py")],
        [],
        StoppingCondition={"MaxRuntimeInSeconds": 1},
    )
    sagemaker_client.create_processing_job(**request)
    described = wait_terminal(sagemaker_client, "too-long")
    assert described["ProcessingJobStatus"] == "Stopped"
    assert described["FailureReason"].startswith("MaxRuntimeExceeded:")
    assert "MaxRuntimeInSeconds (1 s)" in described["FailureReason"]


# --- the API ---


def test_describe_echoes_the_request_with_sagemakers_defaults(
    sagemaker_client: Any, data: dict[str, Any]
) -> None:
    request = split_job("split-echo", "0.5")
    request["Environment"] = {"STAGE": "test"}
    request["NetworkConfig"] = {"EnableNetworkIsolation": False}
    request["Tags"] = [{"Key": "team", "Value": "ml"}]
    arn = sagemaker_client.create_processing_job(**request)["ProcessingJobArn"]
    assert arn == "arn:aws:sagemaker:us-east-1:000000000000:processing-job/split-echo"
    described = wait_until_done(sagemaker_client, "split-echo")
    assert described["ProcessingJobArn"] == arn and described["ProcessingJobName"] == "split-echo"
    assert described["ProcessingInputs"][0] == {
        "InputName": "data",
        "AppManaged": False,
        "S3Input": {
            "S3Uri": f"s3://{BUCKET}/cancer/",
            "LocalPath": "/opt/ml/processing/input/data",
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
            "S3DataDistributionType": "FullyReplicated",
            "S3CompressionType": "None",
        },
    }
    assert described["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3UploadMode"] == "EndOfJob"
    assert described["ProcessingResources"] == request["ProcessingResources"]
    assert described["AppSpecification"] == request["AppSpecification"]
    assert described["StoppingCondition"] == {"MaxRuntimeInSeconds": 300}
    assert described["Environment"] == {"STAGE": "test"} and described["RoleArn"] == ROLE_ARN
    assert described["NetworkConfig"] == {"EnableNetworkIsolation": False}
    created, started, ended = (
        described["CreationTime"],
        described["ProcessingStartTime"],
        described["ProcessingEndTime"],
    )
    assert created <= started <= ended <= described["LastModifiedTime"]
    assert sagemaker_client.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "ml"}]
    with pytest.raises(ClientError, match="already exists") as taken:
        sagemaker_client.create_processing_job(**request)
    assert taken.value.response["Error"]["Code"] == "ResourceInUse"


def test_list_filters_sorts_and_pages(sagemaker_client: Any, data: dict[str, Any]) -> None:
    for name in ("listed-a", "listed-b"):
        sagemaker_client.create_processing_job(**split_job(name, "0.25"))
    for name in ("listed-a", "listed-b"):
        wait_until_done(sagemaker_client, name)
    first = sagemaker_client.list_processing_jobs(
        NameContains="listed-", StatusEquals="Completed", SortBy="Name", SortOrder="Descending", MaxResults=1
    )
    (summary,) = first["ProcessingJobSummaries"]
    assert summary["ProcessingJobName"] == "listed-b" and summary["ProcessingJobStatus"] == "Completed"
    assert summary["ProcessingJobArn"].endswith("/listed-b") and "ProcessingEndTime" in summary
    assert summary["ExitMessage"] == "train 426 rows, test 143 rows"
    rest = sagemaker_client.list_processing_jobs(
        NameContains="listed-",
        StatusEquals="Completed",
        SortBy="Name",
        SortOrder="Descending",
        NextToken=first["NextToken"],
    )
    assert [job["ProcessingJobName"] for job in rest["ProcessingJobSummaries"]] == ["listed-a"]
    assert "NextToken" not in rest
    failed = sagemaker_client.list_processing_jobs(NameContains="listed-", StatusEquals="Failed")
    assert failed["ProcessingJobSummaries"] == []


def test_a_missing_job_is_a_validation_exception_and_fails_the_waiter(sagemaker_client: Any) -> None:
    with pytest.raises(ClientError) as missing:
        sagemaker_client.describe_processing_job(ProcessingJobName="never-created")
    assert missing.value.response["Error"]["Code"] == "ValidationException"
    assert "Requested resource not found" in missing.value.response["Error"]["Message"]
    with pytest.raises(WaiterError):
        sagemaker_client.get_waiter("processing_job_completed_or_stopped").wait(
            ProcessingJobName="never-created", WaiterConfig={"Delay": 1, "MaxAttempts": 2}
        )


def test_requests_opensage_cannot_run_are_refused_up_front(
    sagemaker_client: Any, data: dict[str, Any]
) -> None:
    def refused(request: dict[str, Any]) -> dict[str, str]:
        with pytest.raises(ClientError) as raised:
            sagemaker_client.create_processing_job(**request)
        error: dict[str, str] = raised.value.response["Error"]
        return error

    bad_path = split_job("bad-path", "0.25")
    bad_path["ProcessingInputs"][0]["S3Input"]["LocalPath"] = "/data/input"
    error = refused(bad_path)
    assert error["Code"] == "ValidationException" and "/opt/ml/processing/" in error["Message"]

    unknown = split_job("bad-image", "0.25")
    unknown["AppSpecification"]["ImageUri"] = "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-spark:3"
    error = refused(unknown)
    assert error["Code"] == "ValidationException"
    assert "without Docker" in error["Message"] and "sagemaker-scikit-learn" in error["Message"]

    pipe = split_job("bad-pipe", "0.25")
    pipe["ProcessingInputs"][0]["S3Input"]["S3InputMode"] = "Pipe"
    error = refused(pipe)
    assert error["Code"] == "UnknownOperationException" and "Pipe is not supported" in error["Message"]

    with pytest.raises(ClientError, match="Requested resource not found"):
        sagemaker_client.describe_processing_job(ProcessingJobName="bad-pipe")


# --- the SageMaker Python SDK ---


@pytest.fixture
def sdk_session(server: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Any:
    """A SageMaker SDK v3 session configured only through the environment, as the README says."""
    return sagemaker_sdk_session(server.endpoint_url, monkeypatch, tmp_path, BUCKET)


def sdk_io(name: str) -> tuple[list[Any], list[Any]]:
    from sagemaker.core.shapes import ProcessingInput, ProcessingOutput, ProcessingS3Input, ProcessingS3Output

    inputs = [
        ProcessingInput(
            input_name="data",
            s3_input=ProcessingS3Input(
                s3_uri=f"s3://{BUCKET}/cancer/",
                local_path="/opt/ml/processing/input/data",
                s3_data_type="S3Prefix",
                s3_input_mode="File",
            ),
        )
    ]
    outputs = [
        ProcessingOutput(
            output_name=part,
            s3_output=ProcessingS3Output(
                s3_uri=f"s3://{BUCKET}/{name}/{part}",
                local_path=f"/opt/ml/processing/{part}",
                s3_upload_mode="EndOfJob",
            ),
        )
        for part in ("train", "test")
    ]
    return inputs, outputs


def test_the_sdks_script_processor_runs_the_split(
    sdk_session: Any, s3_client: Any, tmp_path: Any, data: dict[str, Any]
) -> None:
    from sagemaker.core.processing import ScriptProcessor

    script = tmp_path / "preprocess.py"
    script.write_text(textwrap.dedent(PREPROCESS))
    inputs, outputs = sdk_io("sdk-script")
    processor = ScriptProcessor(
        role=ROLE_ARN,
        image_uri=SKLEARN_IMAGE,
        command=["python3"],
        instance_count=1,
        instance_type="ml.m5.xlarge",
        sagemaker_session=sdk_session,
    )
    processor.run(
        code=str(script), inputs=inputs, outputs=outputs, arguments=["--test-fraction", "0.25"], wait=False
    )
    # The SDK's own wait polls every 5 s; botocore's waiter, every second.
    name = processor.latest_job.processing_job_name
    described = wait_until_done(sdk_session.sagemaker_client, name)
    assert described["AppSpecification"]["ContainerEntrypoint"] == ["python3", f"{CODE_PATH}/preprocess.py"]
    assert len(rows_of(s3_client, "sdk-script/test/test.csv")) == 143
    assert len(rows_of(s3_client, "sdk-script/train/train.csv")) == 426


def test_the_sdks_framework_processor_runs_a_source_dir_through_bash(
    sdk_session: Any, s3_client: Any, tmp_path: Any, data: dict[str, Any]
) -> None:
    from sagemaker.core.processing import FrameworkProcessor

    source = tmp_path / "source"
    source.mkdir()
    (source / "preprocess.py").write_text(textwrap.dedent(PREPROCESS))
    (source / "requirements.txt").write_text("")
    inputs, outputs = sdk_io("sdk-framework")
    processor = FrameworkProcessor(
        role=ROLE_ARN,
        image_uri=SKLEARN_IMAGE,
        command=["python3"],
        instance_count=1,
        instance_type="ml.m5.xlarge",
        sagemaker_session=sdk_session,
    )
    processor.run(
        code="preprocess.py",
        source_dir=str(source),
        inputs=inputs,
        outputs=outputs,
        arguments=["--test-fraction", "0.5"],
        wait=False,
    )
    described = wait_until_done(sdk_session.sagemaker_client, processor.latest_job.processing_job_name)
    # The SDK runs its own bash script, which unpacks the source and installs requirements.txt.
    assert described["AppSpecification"]["ContainerEntrypoint"][0] == "/bin/bash"
    assert len(rows_of(s3_client, "sdk-framework/test/test.csv")) == 285
