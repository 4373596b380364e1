"""IAM-style policy parsing and evaluation: wildcards, Not*, deny wins, default deny, malformed documents."""

from __future__ import annotations

import json
from typing import Any

import pytest

from opensage.errors import MalformedPolicyDocumentError
from opensage.security.identities import SHIPPED_POLICIES, shipped_policy
from opensage.security.policies import Decision, evaluate, parse_policy

BUCKET = "arn:aws:s3:::data"


def policy(*statements: dict[str, Any]) -> Any:
    return parse_policy("p", {"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def test_action_wildcards_are_case_insensitive() -> None:
    p = [policy(allow("sagemaker:Create*"))]
    assert evaluate(p, "sagemaker:CreateTrainingJob", "*") is Decision.ALLOW
    assert evaluate(p, "SageMaker:createmodel", "*") is Decision.ALLOW
    assert evaluate(p, "sagemaker:DeleteModel", "*") is Decision.IMPLICIT_DENY
    q = [policy(allow("s3:?etObject"))]
    assert evaluate(q, "s3:GetObject", "*") is Decision.ALLOW
    assert evaluate(q, "s3:PutObject", "*") is Decision.IMPLICIT_DENY


def test_resource_wildcards_are_case_sensitive() -> None:
    p = [policy(allow("s3:GetObject", [f"{BUCKET}/team/*", "arn:aws:s3:::logs-202?/*"]))]
    assert evaluate(p, "s3:GetObject", f"{BUCKET}/team/a/b.csv") is Decision.ALLOW
    assert evaluate(p, "s3:GetObject", f"{BUCKET}/Team/a.csv") is Decision.IMPLICIT_DENY
    assert evaluate(p, "s3:GetObject", f"{BUCKET}/other.csv") is Decision.IMPLICIT_DENY
    assert evaluate(p, "s3:GetObject", "arn:aws:s3:::logs-2024/x") is Decision.ALLOW
    assert evaluate(p, "s3:GetObject", "arn:aws:s3:::logs-20245/x") is Decision.IMPLICIT_DENY


def test_explicit_deny_wins_over_any_allow() -> None:
    admin = policy(allow("*"))
    no_delete = policy({"Effect": "Deny", "Action": "sagemaker:Delete*", "Resource": "*"})
    assert evaluate([admin, no_delete], "sagemaker:DeleteEndpoint", "*") is Decision.EXPLICIT_DENY
    assert evaluate([no_delete, admin], "sagemaker:DeleteEndpoint", "*") is Decision.EXPLICIT_DENY
    assert evaluate([admin, no_delete], "sagemaker:CreateEndpoint", "*") is Decision.ALLOW


def test_nothing_allowed_without_a_matching_statement() -> None:
    assert evaluate([], "s3:GetObject", BUCKET) is Decision.IMPLICIT_DENY
    deny_only = policy({"Effect": "Deny", "Action": "s3:PutObject", "Resource": "*"})
    assert evaluate([deny_only], "s3:GetObject", BUCKET) is Decision.IMPLICIT_DENY


def test_not_action_and_not_resource() -> None:
    p = [
        policy(
            {"Effect": "Allow", "NotAction": ["s3:Delete*", "sagemaker:Delete*"], "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:*", "NotResource": [BUCKET, f"{BUCKET}/*"]},
        )
    ]
    assert evaluate(p, "s3:GetObject", f"{BUCKET}/k") is Decision.ALLOW
    assert evaluate(p, "s3:DeleteObject", f"{BUCKET}/k") is Decision.IMPLICIT_DENY
    assert evaluate(p, "s3:GetObject", "arn:aws:s3:::elsewhere/k") is Decision.EXPLICIT_DENY
    assert evaluate(p, "logs:GetLogEvents", "arn:aws:logs:us-east-1:0:log-group:g") is Decision.ALLOW


def test_single_statement_object_and_string_values() -> None:
    p = parse_policy("p", json.dumps({"Version": "2012-10-17", "Statement": allow("s3:GetObject")}))
    assert evaluate([p], "s3:GetObject", BUCKET) is Decision.ALLOW


@pytest.mark.parametrize(
    ("document", "words"),
    [
        ("{not json", "not valid JSON"),
        ([1], "JSON object"),
        ({"Version": "2012-10-17"}, "no Statement"),
        ({"Version": "2020-01-01", "Statement": [allow("*")]}, "Version"),
        ({"Statement": []}, "empty"),
        (
            {"Statement": [{"Effect": "Permit", "Action": "*", "Resource": "*"}]},
            "Effect must be Allow or Deny",
        ),
        ({"Statement": [{"Effect": "Allow", "Resource": "*"}]}, "exactly one of Action and NotAction"),
        (
            {"Statement": [{"Effect": "Allow", "Action": "*", "NotAction": "*", "Resource": "*"}]},
            "exactly one",
        ),
        ({"Statement": [{"Effect": "Allow", "Action": "*"}]}, "exactly one of Resource and NotResource"),
        ({"Statement": [allow("GetObject")]}, "is not an action"),
        ({"Statement": [allow("s3:GetObject", "bucket")]}, '"*" or an ARN'),
        ({"Statement": [allow("s3:GetObject", [])]}, "non-empty"),
        ({"Statement": [allow("s3:GetObject", Principal="*")]}, "unknown element 'Principal'"),
        (
            {"Statement": [allow("s3:GetObject", Condition={"StringLike": {"s3:prefix": "a/*"}})]},
            "does not evaluate policy conditions",
        ),
    ],
)
def test_malformed_documents_are_refused_with_the_reason(document: Any, words: str) -> None:
    source = document if isinstance(document, str) else json.dumps(document)
    with pytest.raises(MalformedPolicyDocumentError) as caught:
        parse_policy("bad", source)
    assert words in caught.value.message
    assert caught.value.code == "MalformedPolicyDocument"


def test_shipped_policies_parse_and_mean_what_they_say() -> None:
    assert set(SHIPPED_POLICIES) == {"admin", "data-scientist", "read-only"}
    admin, scientist, read_only = (shipped_policy(n) for n in ("admin", "data-scientist", "read-only"))
    model = "arn:aws:sagemaker:us-east-1:000000000000:model/m"
    assert evaluate([admin], "sagemaker:DeleteModel", model) is Decision.ALLOW
    assert evaluate([scientist], "sagemaker:CreateTrainingJob", "*") is Decision.ALLOW
    assert evaluate([scientist], "sagemaker:InvokeEndpoint", "*") is Decision.ALLOW
    assert evaluate([scientist], "s3:PutObject", f"{BUCKET}/k") is Decision.ALLOW
    assert evaluate([scientist], "sagemaker:DeleteModel", model) is Decision.IMPLICIT_DENY
    assert evaluate([read_only], "sagemaker:DescribeModel", model) is Decision.ALLOW
    assert evaluate([read_only], "s3:GetObject", f"{BUCKET}/k") is Decision.ALLOW
    assert evaluate([read_only], "s3:PutObject", f"{BUCKET}/k") is Decision.IMPLICIT_DENY
    assert evaluate([read_only], "sagemaker:CreateTrainingJob", "*") is Decision.IMPLICIT_DENY
    assert evaluate([read_only], "sagemaker:InvokeEndpoint", "*") is Decision.IMPLICIT_DENY
