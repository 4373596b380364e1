"""``opensage users|roles|policies`` on a running server's home: changes take effect on the next requests."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from click.testing import CliRunner
from tests.support import REGION, ensure_bucket

from opensage.cli.main import _register, cli
from opensage.embedded import EmbeddedServer


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    _register()
    return CliRunner()


def run(runner: CliRunner, server: EmbeddedServer, *args: str) -> str:
    result = runner.invoke(cli, ["--home", str(server.settings.home), *args])
    assert result.exit_code == 0, result.output
    return result.output


def s3_as(server: EmbeddedServer, created: str) -> Any:
    key_id = created.split("AccessKeyId:")[1].split()[0]
    secret = created.split("SecretAccessKey:")[1].split()[0]
    return boto3.client(
        "s3",
        endpoint_url=server.endpoint_url,
        region_name=REGION,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 0}),
    )


def eventually_denied(call: Any, **kwargs: Any) -> str:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            call(**kwargs)
        except ClientError as refused:
            return str(refused.response["Error"]["Code"])
        time.sleep(0.1)
    raise AssertionError("still allowed 5 s after the change")


def test_a_policy_from_a_file_a_user_with_it_and_a_detach_that_takes_effect(
    runner: CliRunner, server: EmbeddedServer, s3_client: Any, tmp_path: Path
) -> None:
    bucket = f"cli-{uuid.uuid4().hex[:8]}"
    ensure_bucket(s3_client, bucket)
    s3_client.put_object(Bucket=bucket, Key="reports/a.csv", Body=b"a")
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/reports/*"}
        ],
    }
    (tmp_path / "reports.json").write_text(json.dumps(document))
    policy, user = f"reports-{bucket}", f"analyst-{bucket}"
    run(runner, server, "policies", "create", policy, "--file", str(tmp_path / "reports.json"))
    assert policy in run(runner, server, "policies", "list")
    assert json.loads(run(runner, server, "policies", "show", policy)) == document
    run(runner, server, "users", "create", user, "--policy", policy)
    assert user in run(runner, server, "users", "list")

    s3 = s3_as(server, run(runner, server, "keys", "create", "--user", user))
    assert s3.get_object(Bucket=bucket, Key="reports/a.csv")["Body"].read() == b"a"
    with pytest.raises(ClientError) as refused:
        s3.put_object(Bucket=bucket, Key="reports/b.csv", Body=b"b")
    assert refused.value.response["Error"]["Code"] == "AccessDenied"

    run(runner, server, "users", "detach", user, policy)
    assert eventually_denied(s3.get_object, Bucket=bucket, Key="reports/a.csv") == "AccessDenied"


def test_roles_give_their_policies_and_shipped_policies_cannot_be_deleted(
    runner: CliRunner, server: EmbeddedServer, s3_client: Any
) -> None:
    suffix = uuid.uuid4().hex[:8]
    role, user = f"readers-{suffix}", f"reader-{suffix}"
    run(runner, server, "roles", "create", role, "--policy", "read-only")
    assert role in run(runner, server, "roles", "list")
    run(runner, server, "users", "create", user)
    s3 = s3_as(server, run(runner, server, "keys", "create", "--user", user))
    with pytest.raises(ClientError):
        s3.list_buckets()
    run(runner, server, "users", "give-role", user, role)
    deadline = time.monotonic() + 5
    while True:
        try:
            assert isinstance(s3.list_buckets()["Buckets"], list)
            break
        except ClientError:
            assert time.monotonic() < deadline, "the role's policies never applied"
            time.sleep(0.1)
    refused = runner.invoke(cli, ["--home", str(server.settings.home), "policies", "delete", "read-only"])
    assert refused.exit_code == 1 and "read-only" in refused.output
    assert "read-only" in run(runner, server, "policies", "list")
