"""Requests are checked against botocore's model the way AWS checks them, with AWS's messages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from opensage.api.validation import validator_for
from opensage.errors import ValidationError

MINIMAL = {
    "TrainingJobName": "job-1",
    "RoleArn": "arn:aws:iam::000000000000:role/r",
    "OutputDataConfig": {"S3OutputPath": "s3://bucket/out"},
}


def check(operation: str, params: object) -> dict[str, object]:
    return validator_for("sagemaker").validate(operation, params)


def test_a_valid_request_passes_through() -> None:
    assert check("CreateTrainingJob", MINIMAL) == MINIMAL


def test_pattern_violations_name_the_member_and_the_pattern() -> None:
    with pytest.raises(ValidationError) as raised:
        check("CreateTrainingJob", {**MINIMAL, "TrainingJobName": "bad_name!"})
    message = str(raised.value)
    assert message.startswith("1 validation error detected: Value 'bad_name!' at 'trainingJobName'")
    assert "regular expression pattern" in message


def test_every_problem_is_reported_at_once() -> None:
    params = {
        **MINIMAL,
        "TrainingJobName": "x" * 64,
        "AlgorithmSpecification": {"TrainingInputMode": "Sideways"},
    }
    with pytest.raises(ValidationError) as raised:
        check("CreateTrainingJob", params)
    message = str(raised.value)
    assert message.startswith("3 validation errors detected")
    assert "length less than or equal to 63" in message and "regular expression pattern" in message
    assert (
        "'algorithmSpecification.trainingInputMode' failed to satisfy constraint: Member must satisfy enum"
        in message
    )


def test_missing_required_members_and_wrong_types() -> None:
    with pytest.raises(ValidationError, match=r"Value null at 'roleArn'.*must not be null"):
        check("CreateTrainingJob", {"TrainingJobName": "j", "OutputDataConfig": {"S3OutputPath": "s3://b/o"}})
    with pytest.raises(ValidationError, match=r"'hyperParameters\.1\.value'.*must be a string"):
        check("CreateTrainingJob", {**MINIMAL, "HyperParameters": {"num_round": 10}})
    with pytest.raises(ValidationError, match="must be a JSON object"):
        check("DescribeTrainingJob", ["not", "an", "object"])


def test_list_members_are_indexed_like_aws() -> None:
    with pytest.raises(ValidationError, match=r"'tags\.2\.member\.key'"):
        check(
            "CreateTrainingJob", {**MINIMAL, "Tags": [{"Key": "ok", "Value": "v"}, {"Key": "", "Value": "v"}]}
        )


def test_timestamps_become_datetimes_and_unknown_members_are_ignored() -> None:
    result = check("ListTrainingJobs", {"CreationTimeAfter": 1767225600, "NoSuchMember": 1})
    assert result == {"CreationTimeAfter": datetime(2026, 1, 1, tzinfo=UTC)}


def test_long_values_are_not_echoed_whole() -> None:
    with pytest.raises(ValidationError) as raised:
        check("DescribeTrainingJob", {"TrainingJobName": "y" * 500})
    assert "y" * 81 not in str(raised.value)


def test_an_operation_outside_the_model_is_refused() -> None:
    with pytest.raises(ValidationError, match="not an operation of sagemaker"):
        check("LaunchRocket", {})
