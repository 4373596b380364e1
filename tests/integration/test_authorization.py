"""Policies decide what a signed user may do, on every service, through real boto3 clients.

Users, policies and keys are made on the server's home from the test process, as the
``opensage users|policies|keys`` commands make them.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from tests.support import REGION, ROLE_ARN, XGBOOST_IMAGE, make_client

from opensage.embedded import EmbeddedServer
from opensage.security.identities import Identities
from opensage.security.keys import open_access_keys
from opensage.store import ResourceRepository, open_repository

ACCOUNT = "000000000000"


@pytest.fixture(scope="module")
def repository(server: EmbeddedServer) -> Iterator[ResourceRepository]:
    repository = open_repository(server.settings.resolved_database_url)
    yield repository
    repository.engine.dispose()


@pytest.fixture(scope="module")
def identities(server: EmbeddedServer, repository: ResourceRepository) -> Identities:
    return Identities(repository, server.settings.account_id)


ClientFor = Callable[..., Any]


@pytest.fixture(scope="module")
def user(server: EmbeddedServer, repository: ResourceRepository, identities: Identities) -> ClientFor:
    """``user(policies, *services) -> (name, *clients)``: a new user with those policies and its own key."""
    keys = open_access_keys(repository, server.settings.home, server.settings.account_id)

    def make(policies: list[str], *services: str) -> Any:
        name = f"user-{uuid.uuid4().hex[:8]}"
        identities.create_user(name, policies)
        made = keys.create(name)
        clients = [
            boto3.client(
                service,
                endpoint_url=server.endpoint_url,
                region_name=REGION,
                aws_access_key_id=made.access_key_id,
                aws_secret_access_key=made.secret_access_key,
                config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
            )
            for service in services
        ]
        return (name, *clients)

    return make


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def denied(caught: pytest.ExceptionInfo[ClientError]) -> str:
    error = caught.value.response["Error"]
    assert error["Code"] in ("AccessDeniedException", "AccessDenied")
    return str(error["Message"])


def custom_policy(identities: Identities, *statements: dict[str, Any]) -> str:
    name = unique("policy")
    identities.create_policy(name, json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))
    return name


def test_read_only_lists_and_reads_but_cannot_create(
    user: ClientFor, sagemaker_client: Any, s3_client: Any, server: EmbeddedServer
) -> None:
    bucket = unique("ro")
    s3_client.create_bucket(Bucket=bucket)
    s3_client.put_object(Bucket=bucket, Key="data.csv", Body=b"1,2\n")
    name, sagemaker, s3, logs = user(["read-only"], "sagemaker", "s3", "logs")

    sagemaker.list_training_jobs()
    logs.describe_log_groups()
    assert bucket in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert s3.get_object(Bucket=bucket, Key="data.csv")["Body"].read() == b"1,2\n"

    job = unique("Denied-Job")
    with pytest.raises(ClientError) as caught:
        sagemaker.create_training_job(
            TrainingJobName=job,
            RoleArn=ROLE_ARN,
            AlgorithmSpecification={"TrainingImage": XGBOOST_IMAGE, "TrainingInputMode": "File"},
            OutputDataConfig={"S3OutputPath": f"s3://{bucket}/out"},
            ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
            StoppingCondition={"MaxRuntimeInSeconds": 60},
        )
    assert denied(caught) == (
        f"User: arn:aws:iam::{ACCOUNT}:user/{name} is not authorized to perform: sagemaker:CreateTrainingJob "
        f"on resource: arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-job/{job.lower()} "
        "because no identity-based policy allows the sagemaker:CreateTrainingJob action"
    )
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert job not in {
        j["TrainingJobName"] for j in sagemaker_client.list_training_jobs()["TrainingJobSummaries"]
    }

    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="new.csv", Body=b"x")
    message = denied(caught)
    assert "s3:PutObject" in message and f"arn:aws:s3:::{bucket}/new.csv" in message
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "Contents" not in s3_client.list_objects_v2(Bucket=bucket, Prefix="new.csv")

    with pytest.raises(ClientError) as caught:
        logs.create_log_group(logGroupName=f"/denied/{name}")
    assert "logs:CreateLogGroup" in denied(caught)


def test_s3_access_limited_to_a_bucket_prefix(
    user: ClientFor, identities: Identities, s3_client: Any
) -> None:
    bucket, other = unique("team"), unique("other")
    for made in (bucket, other):
        s3_client.create_bucket(Bucket=made)
    s3_client.put_object(Bucket=bucket, Key="shared/keep.csv", Body=b"keep")
    policy = custom_policy(
        identities,
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}"},
        {"Effect": "Allow", "Action": "s3:*Object", "Resource": f"arn:aws:s3:::{bucket}/mine/*"},
    )
    _, s3 = user([policy], "s3")

    s3.put_object(Bucket=bucket, Key="mine/a.csv", Body=b"a")
    assert s3.get_object(Bucket=bucket, Key="mine/a.csv")["Body"].read() == b"a"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == [
        "mine/a.csv",
        "shared/keep.csv",
    ]
    for call in (
        lambda: s3.put_object(Bucket=bucket, Key="shared/b.csv", Body=b"b"),
        lambda: s3.get_object(Bucket=bucket, Key="shared/keep.csv"),
        lambda: s3.list_objects_v2(Bucket=other),
        lambda: s3.put_object(Bucket=other, Key="mine/a.csv", Body=b"a"),
        lambda: s3.copy_object(Bucket=bucket, Key="mine/copy.csv", CopySource=f"{bucket}/shared/keep.csv"),
    ):
        with pytest.raises(ClientError) as caught:
            call()
        denied(caught)

    result = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "mine/a.csv"}, {"Key": "shared/keep.csv"}]}
    )
    assert [d["Key"] for d in result["Deleted"]] == ["mine/a.csv"]
    assert [(e["Key"], e["Code"]) for e in result["Errors"]] == [("shared/keep.csv", "AccessDenied")]
    assert s3_client.get_object(Bucket=bucket, Key="shared/keep.csv")["Body"].read() == b"keep"
    assert "Contents" not in s3_client.list_objects_v2(Bucket=other)


def test_an_explicit_deny_overrides_an_allow(user: ClientFor, identities: Identities, s3_client: Any) -> None:
    bucket = unique("deny")
    s3_client.create_bucket(Bucket=bucket)
    s3_client.put_object(Bucket=bucket, Key="keep/model.tar.gz", Body=b"m")
    policy = custom_policy(
        identities,
        {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": f"arn:aws:s3:::{bucket}/keep/*"},
    )
    name, s3 = user(["admin", policy], "s3")

    with pytest.raises(ClientError) as caught:
        s3.delete_object(Bucket=bucket, Key="keep/model.tar.gz")
    assert denied(caught) == (
        f"User: arn:aws:iam::{ACCOUNT}:user/{name} is not authorized to perform: s3:DeleteObject on resource: "
        f"arn:aws:s3:::{bucket}/keep/model.tar.gz with an explicit deny in an identity-based policy"
    )
    assert s3_client.get_object(Bucket=bucket, Key="keep/model.tar.gz")["Body"].read() == b"m"
    s3.put_object(Bucket=bucket, Key="scratch.csv", Body=b"s")
    s3.delete_object(Bucket=bucket, Key="scratch.csv")


def test_invoke_endpoint_allowed_or_denied_by_policy(user: ClientFor, identities: Identities) -> None:
    allowed = custom_policy(
        identities,
        {
            "Effect": "Allow",
            "Action": "sagemaker:InvokeEndpoint",
            "Resource": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/team-*",
        },
    )
    _, runtime = user([allowed], "sagemaker-runtime")
    # Authorized: the call reaches the runtime, which answers that no such endpoint exists.
    with pytest.raises(ClientError) as caught:
        runtime.invoke_endpoint(EndpointName="team-missing", Body=b"1,2", ContentType="text/csv")
    assert caught.value.response["Error"]["Code"] == "ValidationError"
    with pytest.raises(ClientError) as caught:
        runtime.invoke_endpoint(EndpointName="Other-Endpoint", Body=b"1,2", ContentType="text/csv")
    message = denied(caught)
    assert (
        f"sagemaker:InvokeEndpoint on resource: arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/other-endpoint"
        in (message)
    )


def test_users_without_policies_may_do_nothing_until_one_is_attached(
    user: ClientFor, identities: Identities
) -> None:
    name, sagemaker = user([], "sagemaker")
    with pytest.raises(ClientError) as caught:
        sagemaker.list_models()
    assert "sagemaker:ListModels on resource: *" in denied(caught)

    identities.attach_user_policy(name, "read-only")
    deadline = time.monotonic() + 10
    while True:  # the server re-reads a user's policies about every second
        try:
            sagemaker.list_models()
            break
        except ClientError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_reading_an_sse_kms_object_needs_kms_decrypt_on_its_key(
    user: ClientFor, identities: Identities, s3_client: Any, server: EmbeddedServer
) -> None:
    bucket = unique("kms-read")
    s3_client.create_bucket(Bucket=bucket)
    kms = make_client("kms", server.endpoint_url)
    key_arn = kms.create_key(Description="reader test")["KeyMetadata"]["Arn"]
    s3_client.put_object(
        Bucket=bucket, Key="secret.csv", Body=b"1,2\n", ServerSideEncryption="aws:kms", SSEKMSKeyId=key_arn
    )
    s3_client.put_object(Bucket=bucket, Key="plain.csv", Body=b"3,4\n")
    read = {
        "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:PutObject"],
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }
    name, s3 = user([custom_policy(identities, read)], "s3")

    assert s3.get_object(Bucket=bucket, Key="plain.csv")["Body"].read() == b"3,4\n"
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="secret.csv")
    assert denied(caught) == (
        f"User: arn:aws:iam::{ACCOUNT}:user/{name} is not authorized to perform: kms:Decrypt on resource: "
        f"{key_arn} because no identity-based policy allows the kms:Decrypt action"
    )
    with pytest.raises(ClientError) as copied:
        s3.copy_object(Bucket=bucket, Key="copy.csv", CopySource={"Bucket": bucket, "Key": "secret.csv"})
    assert "kms:Decrypt" in denied(copied)

    decrypt = {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key_arn}
    _, reader = user([custom_policy(identities, read, decrypt)], "s3")
    assert reader.get_object(Bucket=bucket, Key="secret.csv")["Body"].read() == b"1,2\n"


def test_kms_decrypt_is_checked_on_the_key_inside_the_ciphertext(
    user: ClientFor, identities: Identities, server: EmbeddedServer
) -> None:
    admin = make_client("kms", server.endpoint_url)
    mine = admin.create_key(Description="mine")["KeyMetadata"]["Arn"]
    theirs = admin.create_key(Description="theirs")["KeyMetadata"]["Arn"]
    allowed = {"Effect": "Allow", "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": mine}
    name, kms = user([custom_policy(identities, allowed)], "kms")

    blob = kms.encrypt(KeyId=mine, Plaintext=b"ok")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"ok"
    foreign = admin.encrypt(KeyId=theirs, Plaintext=b"not yours")["CiphertextBlob"]
    with pytest.raises(ClientError) as caught:
        kms.decrypt(CiphertextBlob=foreign)
    assert denied(caught) == (
        f"User: arn:aws:iam::{ACCOUNT}:user/{name} is not authorized to perform: kms:Decrypt on resource: "
        f"{theirs} because no identity-based policy allows the kms:Decrypt action"
    )
