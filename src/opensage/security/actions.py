"""Which IAM action on which resource ARN each API operation is, as AWS's authorization reference names them.

The adapters ask these before running a handler; the answers are also what the audit trail
records as the call's resources. SageMaker ARNs carry the lower-cased name, as SageMaker's own
ARNs (and so the ones users put in policies) do.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from opensage.errors import KmsInvalidCiphertextError
from opensage.naming import sagemaker_arn
from opensage.security.keyring import blob_key_id

#: The resource of operations that act on no single resource (List*, CreateKey, ListBuckets).
ANY_RESOURCE = "*"

# SageMaker request members that name a resource, and that resource's type in its ARN.
_SAGEMAKER_NAMES = {
    "TrainingJobName": "training-job",
    "ModelName": "model",
    "EndpointName": "endpoint",
    "EndpointConfigName": "endpoint-config",
    "TransformJobName": "transform-job",
    "ProcessingJobName": "processing-job",
}
_VERBS = ("Create", "Describe", "Delete", "Stop", "Update", "List")

# S3 operation -> (IAM action, the level whose ARN it is checked on). AWS names these in
# "Actions, resources, and condition keys for Amazon S3": HeadBucket needs s3:ListBucket,
# HeadObject s3:GetObject, every part of a multipart upload s3:PutObject.
_S3_ACTIONS: dict[str, tuple[str, str]] = {
    "ListBuckets": ("s3:ListAllMyBuckets", "service"),
    "CreateBucket": ("s3:CreateBucket", "bucket"),
    "DeleteBucket": ("s3:DeleteBucket", "bucket"),
    "HeadBucket": ("s3:ListBucket", "bucket"),
    "ListObjects": ("s3:ListBucket", "bucket"),
    "ListObjectsV2": ("s3:ListBucket", "bucket"),
    "GetBucketLocation": ("s3:GetBucketLocation", "bucket"),
    "ListMultipartUploads": ("s3:ListBucketMultipartUploads", "bucket"),
    "GetObject": ("s3:GetObject", "object"),
    "HeadObject": ("s3:GetObject", "object"),
    "PutObject": ("s3:PutObject", "object"),
    "CopyObject": ("s3:PutObject", "object"),
    "DeleteObject": ("s3:DeleteObject", "object"),
    "CreateMultipartUpload": ("s3:PutObject", "object"),
    "UploadPart": ("s3:PutObject", "object"),
    "CompleteMultipartUpload": ("s3:PutObject", "object"),
    "AbortMultipartUpload": ("s3:AbortMultipartUpload", "object"),
    "ListParts": ("s3:ListMultipartUploadParts", "object"),
    # Checked once per key by the handler (s3_object_arn); the bucket must exist first.
    "DeleteObjects": ("s3:DeleteObject", "deferred"),
}

# CloudWatch Logs operations whose resource is a log stream rather than its group.
_LOG_STREAM_OPERATIONS = frozenset({"CreateLogStream", "DeleteLogStream", "GetLogEvents", "PutLogEvents"})


@dataclass(frozen=True)
class Access:
    """One thing a call does: an IAM action on a resource ARN (or ``*``)."""

    action: str
    resource: str


@dataclass(frozen=True)
class Arns:
    """The partition of ARNs one server hands out."""

    region: str
    account_id: str

    def sagemaker(self, resource_type: str, name: str) -> str:
        return sagemaker_arn(self.region, self.account_id, resource_type, name)

    def log_group(self, name: str) -> str:
        return f"arn:aws:logs:{self.region}:{self.account_id}:log-group:{name}"

    def kms_key(self, key_id: str) -> str:
        if key_id.startswith("arn:"):
            return key_id
        kind = "" if key_id.startswith("alias/") else "key/"
        return f"arn:aws:kms:{self.region}:{self.account_id}:{kind}{key_id}"


def s3_bucket_arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def s3_object_arn(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


def sagemaker_accesses(arns: Arns, operation: str, params: Mapping[str, Any]) -> list[Access]:
    """``sagemaker:<Operation>`` on the resource the request names (List* on ``*``)."""
    action = f"sagemaker:{operation}"
    if operation.startswith("List") and operation != "ListTags":
        return [Access(action, ANY_RESOURCE)]
    resource_arn = params.get("ResourceArn")
    if isinstance(resource_arn, str):  # AddTags, ListTags, DeleteTags
        return [Access(action, resource_arn)]
    member = _sagemaker_member(operation, params)
    if member is None:
        return [Access(action, ANY_RESOURCE)]
    accesses = [Access(action, arns.sagemaker(_SAGEMAKER_NAMES[member], params[member]))]
    # Creating or updating an endpoint deploys a config: AWS checks the action on both.
    config = params.get("EndpointConfigName")
    if member == "EndpointName" and isinstance(config, str):
        accesses.append(Access(action, arns.sagemaker("endpoint-config", config)))
    return accesses


def _sagemaker_member(operation: str, params: Mapping[str, Any]) -> str | None:
    """The request member naming the operation's own resource: CreateEndpoint -> EndpointName."""
    noun = next((operation[len(verb) :] for verb in _VERBS if operation.startswith(verb)), operation)
    # Longest first: "EndpointConfig" must win over "Endpoint" for CreateEndpointConfig.
    for member in sorted(_SAGEMAKER_NAMES, key=len, reverse=True):
        if noun.startswith(member.removesuffix("Name")) and isinstance(params.get(member), str):
            return member
    return next((member for member in _SAGEMAKER_NAMES if isinstance(params.get(member), str)), None)


def runtime_accesses(arns: Arns, operation: str, endpoint: str) -> list[Access]:
    """InvokeEndpoint / InvokeEndpointAsync: ``sagemaker:<Operation>`` on the endpoint."""
    return [Access(f"sagemaker:{operation}", arns.sagemaker("endpoint", endpoint))]


def s3_accesses(operation: str, bucket: str, key: str, copy_source: str | None = None) -> list[Access]:
    """The S3 action of ``operation`` on its bucket or object; CopyObject also reads its source."""
    action, level = _S3_ACTIONS.get(operation, (f"s3:{operation}", "object" if key else "bucket"))
    if level == "deferred":
        return []
    if level == "service" or not bucket:
        return [Access(action, ANY_RESOURCE)]
    resource = s3_bucket_arn(bucket) if level == "bucket" else s3_object_arn(bucket, key)
    accesses = [Access(action, resource)]
    if copy_source:
        source_bucket, _, source_key = copy_source.lstrip("/").partition("/")
        source_key = source_key.split("?versionId=", 1)[0]
        accesses.insert(0, Access("s3:GetObject", s3_object_arn(source_bucket, source_key)))
    return accesses


def logs_accesses(arns: Arns, operation: str, params: Mapping[str, Any]) -> list[Access]:
    """``logs:<Operation>`` on the log group, or its stream for the stream operations."""
    action = f"logs:{operation}"
    group = params.get("logGroupName") or params.get("logGroupIdentifier")
    if not isinstance(group, str):
        return [Access(action, ANY_RESOURCE)]
    group_arn = group.removesuffix(":*") if group.startswith("arn:") else arns.log_group(group)
    stream = params.get("logStreamName")
    if operation in _LOG_STREAM_OPERATIONS and isinstance(stream, str):
        return [Access(action, f"{group_arn}:log-stream:{stream}")]
    return [Access(action, group_arn)]


def kms_accesses(arns: Arns, operation: str, params: Mapping[str, Any]) -> list[Access]:
    """``kms:<Operation>`` on the key the request names (a key id, alias or ARN), else ``*``.

    Decrypt without a KeyId names its key only inside the ciphertext: the check is on the
    key found there, so a caller allowed to decrypt under one key cannot use another's blobs.
    """
    action = f"kms:{operation}"
    key_id = params.get("KeyId") or params.get("TargetKeyId")
    if operation == "Decrypt" and not isinstance(key_id, str):
        key_id = _ciphertext_key(params.get("CiphertextBlob"))
    if not isinstance(key_id, str):
        return [Access(action, ANY_RESOURCE)]
    return [Access(action, arns.kms_key(key_id))]


def _ciphertext_key(blob: Any) -> str | None:
    """The key id inside a Decrypt request's CiphertextBlob, if it is one of ours.

    Validated requests carry it decoded; base64 text (the wire form) is accepted too.
    """
    try:
        if isinstance(blob, bytes):
            return blob_key_id(blob)
        if isinstance(blob, str):
            return blob_key_id(base64.b64decode(blob, validate=True))
        return None
    except (ValueError, KmsInvalidCiphertextError):
        return None  # Decrypt itself answers InvalidCiphertextException


def json_accesses(arns: Arns, service: str, operation: str, params: Mapping[str, Any]) -> list[Access]:
    """The accesses of a JSON-protocol call of ``service`` (its signing name)."""
    if service == "sagemaker":
        return sagemaker_accesses(arns, operation, params)
    if service == "logs":
        return logs_accesses(arns, operation, params)
    if service == "kms":
        return kms_accesses(arns, operation, params)
    # Services without resource-level permissions (CloudTrail's LookupEvents, ...).
    return [Access(f"{service}:{operation}", ANY_RESOURCE)]
