"""The contract every built-in algorithm keeps, run through a real server with boto3.

For each registered algorithm (one ``Case`` in ``CASES``): hyperparameter validation (an
unknown, an invalid and a missing one each fail the job with a FailureReason naming it), each
request content type in and each response type out through an endpoint with the documented
shapes, determinism with a seed (two jobs, the same model files), and the model's round trip
through an endpoint and through batch transform. Data is tiny: one case costs a few
training jobs, one endpoint and one transform job.

How an algorithm joins: add a ``Case`` to ``CASES`` with its image, hyperparameters (with a
seed if it has one), a dataset (``rows`` label-first for supervised, features only otherwise,
and the training content type: RecordIO ones are written as dense records, the label in
``label["values"]``), one invalid and one required hyperparameter, the request and response
types it documents, the JSON response key (``predictions``, ``projections``, ``scores``), the
fields of each record and, without CSV requests, ``batch_content_type``. Nothing else changes.
"""

from __future__ import annotations

import io
import json
import tarfile
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from tests.support import ROLE_ARN, csv_bytes, deploy, ensure_bucket, variant, wait_terminal, wait_until_done

from opensage.formats.recordio import read_records, write_dense

BUCKET = "algorithm-contract"
REGION_ACCOUNT = "382416733822.dkr.ecr.us-west-2.amazonaws.com"


@dataclass(frozen=True)
class Case:
    name: str
    image: str
    hyperparameters: dict[str, str]
    rows: np.ndarray  # what the train channel holds, label first when supervised
    train_content_type: str
    supervised: bool
    invalid: tuple[str, str]  # a hyperparameter and a value it refuses
    required: str
    request_types: tuple[str, ...]
    response_types: tuple[str, ...]
    response_key: str
    fields: frozenset[str]
    extra_request_types: tuple[str, ...] = field(default=())
    # What batch transform sends (SplitType Line); an algorithm without CSV requests uses JSON Lines.
    batch_content_type: str = "text/csv"
    # The fields of a text/csv response line, in order (K-Means: closest_cluster,distance_to_cluster).
    csv_fields: tuple[str, ...] = ("score",)

    @property
    def features(self) -> np.ndarray:
        return self.rows[:, 1:] if self.supervised else self.rows


def _blobs(rows: int, columns: int, seed: int) -> np.ndarray:
    random = np.random.default_rng(seed)
    return (random.normal(size=(rows, columns)) @ random.normal(size=(columns, columns))).astype(np.float32)


def _labelled(seed: int) -> np.ndarray:
    features = _blobs(120, 4, seed)
    labels = (features[:, 0] + features[:, 1] > 0).astype(np.float32)
    return np.column_stack([labels, features])


AIALGS_REQUESTS = ("text/csv", "application/json", "application/jsonlines", "application/x-recordio-protobuf")
AIALGS_RESPONSES = ("application/json", "application/jsonlines", "application/x-recordio-protobuf")

CASES = [
    Case(
        name="xgboost",
        image="683313688378.dkr.ecr.us-west-2.amazonaws.com/sagemaker-xgboost:1.7-1",
        hyperparameters={"num_round": "5", "objective": "binary:logistic", "max_depth": "3", "seed": "7"},
        rows=_labelled(1),
        train_content_type="text/csv",
        supervised=True,
        invalid=("max_depth", "-3"),
        required="num_round",
        request_types=AIALGS_REQUESTS,
        response_types=("text/csv", *AIALGS_RESPONSES),
        response_key="predictions",
        fields=frozenset({"score"}),
    ),
    Case(
        name="pca",
        image=f"{REGION_ACCOUNT}/pca:1",
        hyperparameters={"feature_dim": "4", "mini_batch_size": "50", "num_components": "2"},
        rows=_blobs(120, 4, 2),
        train_content_type="text/csv;label_size=0",
        supervised=False,
        invalid=("algorithm_mode", "fastest"),
        required="num_components",
        request_types=AIALGS_REQUESTS,
        response_types=AIALGS_RESPONSES,
        response_key="projections",
        fields=frozenset({"projection"}),
    ),
    Case(
        name="kmeans",
        image=f"{REGION_ACCOUNT}/kmeans:1",
        hyperparameters={"feature_dim": "4", "k": "3", "mini_batch_size": "50"},
        rows=_blobs(120, 4, 3),
        train_content_type="text/csv;label_size=0",
        supervised=False,
        invalid=("init_method", "k-means++"),
        required="k",
        request_types=AIALGS_REQUESTS,
        response_types=("text/csv", *AIALGS_RESPONSES),
        response_key="predictions",
        fields=frozenset({"closest_cluster", "distance_to_cluster"}),
        csv_fields=("closest_cluster", "distance_to_cluster"),
    ),
    Case(
        name="randomcutforest",
        image=f"{REGION_ACCOUNT}/randomcutforest:1",
        hyperparameters={"feature_dim": "4", "num_trees": "50", "num_samples_per_tree": "32"},
        rows=_blobs(120, 4, 4),
        train_content_type="text/csv;label_size=0",
        supervised=False,
        invalid=("num_trees", "10"),
        required="feature_dim",
        request_types=AIALGS_REQUESTS,
        response_types=AIALGS_RESPONSES,
        response_key="scores",
        fields=frozenset({"score"}),
    ),
    Case(
        name="factorization-machines",
        image=f"{REGION_ACCOUNT}/factorization-machines:1",
        hyperparameters={
            "feature_dim": "4",
            "num_factors": "2",
            "predictor_type": "binary_classifier",
            "epochs": "3",
            "mini_batch_size": "30",
        },
        rows=_labelled(3),
        train_content_type="application/x-recordio-protobuf",
        supervised=True,
        invalid=("predictor_type", "multiclass_classifier"),
        required="num_factors",
        request_types=AIALGS_REQUESTS[1:],  # FM documents no CSV requests
        response_types=AIALGS_RESPONSES,
        response_key="predictions",
        fields=frozenset({"score", "predicted_label"}),
        batch_content_type="application/jsonlines",
    ),
    Case(
        name="knn",
        image=f"{REGION_ACCOUNT}/knn:1",
        hyperparameters={"feature_dim": "4", "k": "3", "predictor_type": "classifier", "sample_size": "100"},
        rows=_labelled(5),
        train_content_type="text/csv",
        supervised=True,
        invalid=("index_type", "faiss.HNSW"),
        required="sample_size",
        request_types=AIALGS_REQUESTS,
        response_types=AIALGS_RESPONSES,
        response_key="predictions",
        fields=frozenset({"predicted_label"}),
    ),
    Case(
        name="linear-learner",
        image=f"{REGION_ACCOUNT}/linear-learner:1",
        hyperparameters={
            "predictor_type": "binary_classifier",
            "mini_batch_size": "30",
            "epochs": "3",
            "num_models": "4",
        },
        rows=_labelled(3),
        train_content_type="text/csv",
        supervised=True,
        invalid=("binary_classifier_model_selection_criteria", "auc"),
        required="predictor_type",
        request_types=AIALGS_REQUESTS,
        response_types=AIALGS_RESPONSES,
        response_key="predictions",
        fields=frozenset({"score", "predicted_label"}),
    ),
]


def training_request(case: Case, job: str, hyperparameters: dict[str, str]) -> dict[str, Any]:
    return {
        "TrainingJobName": job,
        "RoleArn": ROLE_ARN,
        "AlgorithmSpecification": {"TrainingImage": case.image, "TrainingInputMode": "File"},
        "HyperParameters": hyperparameters,
        "InputDataConfig": [
            {
                "ChannelName": "train",
                "ContentType": case.train_content_type,
                "DataSource": {
                    "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/{case.name}/train/"}
                },
            }
        ],
        "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/{case.name}/output"},
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
        "StoppingCondition": {"MaxRuntimeInSeconds": 300},
    }


def request_body(content_type: str, rows: np.ndarray) -> bytes:
    if content_type == "text/csv":
        return csv_bytes(rows)
    if content_type == "application/json":
        return json.dumps({"instances": [{"features": row} for row in rows.tolist()]}).encode()
    if content_type == "application/jsonlines":
        return "".join(json.dumps({"features": row}) + "\n" for row in rows.tolist()).encode()
    buffer = io.BytesIO()
    write_dense(buffer, rows.astype(np.float32))
    return buffer.getvalue()


def training_data(case: Case) -> bytes:
    """The train channel's file: CSV as it is, or RecordIO records with the label in label["values"]."""
    if not case.train_content_type.startswith("application/x-recordio-protobuf"):
        return csv_bytes(case.rows)
    buffer = io.BytesIO()
    if case.supervised:
        write_dense(buffer, case.features.astype(np.float32), case.rows[:, 0].astype(np.float32))
    else:
        write_dense(buffer, case.rows.astype(np.float32))
    return buffer.getvalue()


def records_of(body: bytes, response_type: str, case: Case) -> list[dict[str, Any]]:
    """Each record of a response as {field: value}, checking the documented shape on the way."""
    if response_type == "application/json":
        document = json.loads(body)
        assert list(document) == [case.response_key]
        records: list[dict[str, Any]] = document[case.response_key]
        return records
    if response_type == "application/jsonlines":
        return [json.loads(line) for line in body.decode().splitlines()]
    if response_type == "text/csv":
        return [
            dict(zip(case.csv_fields, map(float, line.split(",")), strict=True))
            for line in body.decode().splitlines()
        ]
    parsed = []
    for record in read_records(io.BytesIO(body)):
        assert not record.features  # outputs go to label
        parsed.append({name: list(value.float32_tensor.values) for name, value in record.label.items()})
    return parsed


def model_files(s3: Any, job: dict[str, Any]) -> dict[str, bytes]:
    uri = job["ModelArtifacts"]["S3ModelArtifacts"]
    bucket, key = uri[len("s3://") :].split("/", 1)
    archive = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def runtime_client(server: Any) -> Any:
    from tests.support import make_client

    return make_client("sagemaker-runtime", server.endpoint_url)


@pytest.fixture(scope="module", params=CASES, ids=lambda case: case.name)
def trained(
    request: pytest.FixtureRequest, s3_client: Any, sagemaker_client: Any
) -> tuple[Case, dict[str, Any]]:
    """One training job per algorithm, its model and an endpoint serving it."""
    case: Case = request.param
    ensure_bucket(s3_client, BUCKET)
    s3_client.put_object(Bucket=BUCKET, Key=f"{case.name}/train/data", Body=training_data(case))
    job = f"contract-{case.name}"
    sagemaker_client.create_training_job(**training_request(case, job, case.hyperparameters))
    described = wait_until_done(sagemaker_client, job)
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    sagemaker_client.create_model(
        ModelName=job,
        ExecutionRoleArn=ROLE_ARN,
        PrimaryContainer={
            "Image": case.image,
            "ModelDataUrl": described["ModelArtifacts"]["S3ModelArtifacts"],
        },
    )
    deploy(sagemaker_client, job, [variant("main", job)])
    return case, described


def test_a_bad_hyperparameter_fails_the_job_naming_it(
    trained: tuple[Case, dict[str, Any]], sagemaker_client: Any
) -> None:
    case, _ = trained
    name, value = case.invalid
    without_required = {k: v for k, v in case.hyperparameters.items() if k != case.required}
    attempts = {
        "unknown": ({**case.hyperparameters, "not_a_hyperparameter": "1"}, "not_a_hyperparameter"),
        "invalid": ({**case.hyperparameters, name: value}, name),
        "missing": (without_required, case.required),
    }
    for kind, (hyperparameters, named) in attempts.items():
        job = f"contract-{case.name}-{kind}"
        sagemaker_client.create_training_job(**training_request(case, job, hyperparameters))
        described = wait_terminal(sagemaker_client, job)
        assert described["TrainingJobStatus"] == "Failed"
        assert described["FailureReason"].startswith("ClientError")
        assert named in described["FailureReason"]


def test_each_content_type_in_and_out_through_the_endpoint(
    trained: tuple[Case, dict[str, Any]], runtime_client: Any
) -> None:
    case, _ = trained
    rows = case.features[:3]
    answers = {}
    for request_type in case.request_types:
        for response_type in case.response_types:
            response = runtime_client.invoke_endpoint(
                EndpointName=f"contract-{case.name}",
                ContentType=request_type,
                Accept=response_type,
                Body=request_body(request_type, rows),
            )
            assert response["ContentType"] == response_type
            records = records_of(response["Body"].read(), response_type, case)
            assert len(records) == 3
            assert all(set(record) >= case.fields for record in records)
            answers[request_type, response_type] = records
    # Every request type says the same rows, so every answer in one response type is the same.
    for response_type in case.response_types:
        first = answers[case.request_types[0], response_type]
        for request_type in case.request_types[1:]:
            assert answers[request_type, response_type] == first


def test_a_sparse_json_request_answers_as_its_dense_form(
    trained: tuple[Case, dict[str, Any]], runtime_client: Any
) -> None:
    case, _ = trained
    row = case.features[0]
    keys = [int(i) for i in np.flatnonzero(row)]
    sparse_body = {
        "instances": [
            {"data": {"features": {"keys": keys, "shape": [row.size], "values": row[keys].tolist()}}}
        ]
    }
    answers = [
        runtime_client.invoke_endpoint(
            EndpointName=f"contract-{case.name}",
            ContentType="application/json",
            Accept="application/json",
            Body=body,
        )["Body"].read()
        for body in (json.dumps(sparse_body).encode(), request_body("application/json", case.features[:1]))
    ]
    assert json.loads(answers[0]) == json.loads(answers[1])


def test_the_same_hyperparameters_and_data_train_the_same_model(
    trained: tuple[Case, dict[str, Any]], s3_client: Any, sagemaker_client: Any
) -> None:
    case, first = trained
    job = f"contract-{case.name}-again"
    sagemaker_client.create_training_job(**training_request(case, job, case.hyperparameters))
    second = wait_until_done(sagemaker_client, job)
    assert model_files(s3_client, second) == model_files(s3_client, first)


def test_the_model_round_trips_through_batch_transform(
    trained: tuple[Case, dict[str, Any]], s3_client: Any, sagemaker_client: Any, runtime_client: Any
) -> None:
    case, _ = trained
    rows = case.features[:20]
    body = request_body(case.batch_content_type, rows)
    s3_client.put_object(Bucket=BUCKET, Key=f"{case.name}/batch/in.csv", Body=body)
    job = f"contract-{case.name}-batch"
    sagemaker_client.create_transform_job(
        TransformJobName=job,
        ModelName=f"contract-{case.name}",
        TransformInput={
            "DataSource": {
                "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/{case.name}/batch/"}
            },
            "ContentType": case.batch_content_type,
            "SplitType": "Line",
        },
        TransformOutput={
            "S3OutputPath": f"s3://{BUCKET}/{case.name}/batch-out/",
            "Accept": "application/jsonlines",
            "AssembleWith": "Line",
        },
        TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": 1},
    )
    sagemaker_client.get_waiter("transform_job_completed_or_stopped").wait(
        TransformJobName=job, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    assert sagemaker_client.describe_transform_job(TransformJobName=job)["TransformJobStatus"] == "Completed"
    output = s3_client.get_object(Bucket=BUCKET, Key=f"{case.name}/batch-out/in.csv.out")["Body"].read()
    batch = [json.loads(line) for line in output.decode().splitlines()]
    online = runtime_client.invoke_endpoint(
        EndpointName=f"contract-{case.name}",
        ContentType=case.batch_content_type,
        Accept="application/jsonlines",
        Body=body,
    )["Body"].read()
    assert batch == [json.loads(line) for line in online.decode().splitlines()]
