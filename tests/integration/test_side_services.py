"""The AWS services boto3 code and the SageMaker SDK call on the side, which opensage does not run."""

from __future__ import annotations

from typing import Any

import pytest
from botocore import exceptions as errors
from tests.support import make_client

from opensage.embedded import EmbeddedServer

ROLE = "arn:aws:iam::000000000000:role/opensage"


def test_iam_is_access_denied_which_the_sdk_reads_as_unverifiable(server: EmbeddedServer) -> None:
    iam: Any = make_client("iam", server.endpoint_url)
    calls = [
        lambda: iam.simulate_principal_policy(
            PolicySourceArn=ROLE, ActionNames=["sagemaker:CreateTrainingJob"]
        ),
        lambda: iam.get_role(RoleName="opensage"),
    ]
    for call, action in zip(calls, ["SimulatePrincipalPolicy", "GetRole"], strict=True):
        with pytest.raises(errors.ClientError) as raised:
            call()
        error = raised.value.response["Error"]
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        assert error["Code"] == "AccessDenied"
        assert f"iam:{action} is denied" in error["Message"]
        assert "SAGEMAKER_VALIDATE_ROLE=false" in error["Message"]


def test_sts_names_the_missing_action(server: EmbeddedServer) -> None:
    sts: Any = make_client("sts", server.endpoint_url)
    with pytest.raises(errors.ClientError) as raised:
        sts.get_caller_identity()
    assert raised.value.response["Error"]["Message"] == "opensage does not implement sts GetCallerIdentity"
