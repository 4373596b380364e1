"""Each operation's IAM action and resource ARN, as AWS's authorization reference names them."""

from __future__ import annotations

from opensage.security.actions import (
    Access,
    Arns,
    json_accesses,
    runtime_accesses,
    s3_accesses,
)

ARNS = Arns("us-east-1", "000000000000")
SM = "arn:aws:sagemaker:us-east-1:000000000000"


def test_sagemaker_operations_act_on_the_resource_they_name() -> None:
    def one(operation: str, **params: str) -> list[Access]:
        return json_accesses(ARNS, "sagemaker", operation, params)

    assert one("CreateTrainingJob", TrainingJobName="Job-1", RoleArn="r") == [
        Access("sagemaker:CreateTrainingJob", f"{SM}:training-job/job-1")
    ]
    assert one("DescribeModel", ModelName="m") == [Access("sagemaker:DescribeModel", f"{SM}:model/m")]
    assert one("CreateEndpointConfig", EndpointConfigName="c", ModelName="m") == [
        Access("sagemaker:CreateEndpointConfig", f"{SM}:endpoint-config/c")
    ]
    assert one("CreateEndpoint", EndpointName="e", EndpointConfigName="c") == [
        Access("sagemaker:CreateEndpoint", f"{SM}:endpoint/e"),
        Access("sagemaker:CreateEndpoint", f"{SM}:endpoint-config/c"),
    ]
    assert one("UpdateEndpointWeightsAndCapacities", EndpointName="e") == [
        Access("sagemaker:UpdateEndpointWeightsAndCapacities", f"{SM}:endpoint/e")
    ]
    assert one("CreateTransformJob", TransformJobName="t", ModelName="m") == [
        Access("sagemaker:CreateTransformJob", f"{SM}:transform-job/t")
    ]
    assert one("StopProcessingJob", ProcessingJobName="p") == [
        Access("sagemaker:StopProcessingJob", f"{SM}:processing-job/p")
    ]
    assert one("ListTrainingJobs") == [Access("sagemaker:ListTrainingJobs", "*")]
    assert one("ListTags", ResourceArn=f"{SM}:model/m") == [Access("sagemaker:ListTags", f"{SM}:model/m")]
    assert one("AddTags", ResourceArn=f"{SM}:endpoint/e") == [Access("sagemaker:AddTags", f"{SM}:endpoint/e")]


def test_runtime_invocations_act_on_the_endpoint() -> None:
    assert runtime_accesses(ARNS, "InvokeEndpoint", "My-Endpoint") == [
        Access("sagemaker:InvokeEndpoint", f"{SM}:endpoint/my-endpoint")
    ]
    assert runtime_accesses(ARNS, "InvokeEndpointAsync", "e") == [
        Access("sagemaker:InvokeEndpointAsync", f"{SM}:endpoint/e")
    ]


def test_s3_operations_use_s3_action_names_on_bucket_or_object_arns() -> None:
    assert s3_accesses("ListBuckets", "", "") == [Access("s3:ListAllMyBuckets", "*")]
    assert s3_accesses("ListObjectsV2", "b", "") == [Access("s3:ListBucket", "arn:aws:s3:::b")]
    assert s3_accesses("HeadBucket", "b", "") == [Access("s3:ListBucket", "arn:aws:s3:::b")]
    assert s3_accesses("CreateBucket", "b", "") == [Access("s3:CreateBucket", "arn:aws:s3:::b")]
    assert s3_accesses("DeleteBucket", "b", "") == [Access("s3:DeleteBucket", "arn:aws:s3:::b")]
    assert s3_accesses("HeadObject", "b", "a/k") == [Access("s3:GetObject", "arn:aws:s3:::b/a/k")]
    assert s3_accesses("UploadPart", "b", "k") == [Access("s3:PutObject", "arn:aws:s3:::b/k")]
    assert s3_accesses("AbortMultipartUpload", "b", "k") == [
        Access("s3:AbortMultipartUpload", "arn:aws:s3:::b/k")
    ]
    assert s3_accesses("ListParts", "b", "k") == [Access("s3:ListMultipartUploadParts", "arn:aws:s3:::b/k")]
    assert s3_accesses("CopyObject", "b", "to", "/src/from/x?versionId=null") == [
        Access("s3:GetObject", "arn:aws:s3:::src/from/x"),
        Access("s3:PutObject", "arn:aws:s3:::b/to"),
    ]
    assert s3_accesses("DeleteObjects", "b", "") == []  # each key is checked by the handler


def test_logs_operations_act_on_the_group_or_its_stream() -> None:
    group = "arn:aws:logs:us-east-1:000000000000:log-group:/aws/sagemaker/TrainingJobs"
    params = {"logGroupName": "/aws/sagemaker/TrainingJobs", "logStreamName": "job/algo-1"}
    assert json_accesses(ARNS, "logs", "GetLogEvents", params) == [
        Access("logs:GetLogEvents", f"{group}:log-stream:job/algo-1")
    ]
    assert json_accesses(ARNS, "logs", "DescribeLogStreams", {"logGroupName": params["logGroupName"]}) == [
        Access("logs:DescribeLogStreams", group)
    ]
    assert json_accesses(ARNS, "logs", "FilterLogEvents", {"logGroupIdentifier": f"{group}:*"}) == [
        Access("logs:FilterLogEvents", group)
    ]
    assert json_accesses(ARNS, "logs", "DescribeLogGroups", {}) == [Access("logs:DescribeLogGroups", "*")]


def test_kms_and_other_json_services() -> None:
    key = "arn:aws:kms:us-east-1:000000000000:key/1234"
    assert json_accesses(ARNS, "kms", "Encrypt", {"KeyId": "1234"}) == [Access("kms:Encrypt", key)]
    assert json_accesses(ARNS, "kms", "DescribeKey", {"KeyId": key}) == [Access("kms:DescribeKey", key)]
    assert json_accesses(ARNS, "kms", "DescribeKey", {"KeyId": "alias/team"}) == [
        Access("kms:DescribeKey", "arn:aws:kms:us-east-1:000000000000:alias/team")
    ]
    assert json_accesses(ARNS, "kms", "CreateKey", {}) == [Access("kms:CreateKey", "*")]
    assert json_accesses(ARNS, "cloudtrail", "LookupEvents", {}) == [Access("cloudtrail:LookupEvents", "*")]
