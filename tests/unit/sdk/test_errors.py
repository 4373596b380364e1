"""botocore's exceptions become the SDK's, with the AWS code, message and operation kept."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from opensage.sdk import JobFailedError, OpenSageClientError, OpenSageSDKError, ServerUnavailableError
from opensage.sdk._errors import from_botocore, translated


def client_error(code: str, message: str, operation: str, status: int = 400) -> ClientError:
    response = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, operation)


def test_a_client_error_keeps_its_code_message_operation_and_status() -> None:
    error = from_botocore(client_error("ResourceInUse", "Endpoint e already exists", "CreateEndpoint"), "u")
    assert isinstance(error, OpenSageClientError)
    assert (error.code, error.message, error.operation, error.http_status) == (
        "ResourceInUse",
        "Endpoint e already exists",
        "CreateEndpoint",
        400,
    )
    assert str(error) == "CreateEndpoint: ResourceInUse: Endpoint e already exists"


def test_no_server_becomes_server_unavailable_with_the_url() -> None:
    error = from_botocore(EndpointConnectionError(endpoint_url="http://127.0.0.1:1/"), "http://127.0.0.1:1")
    assert isinstance(error, ServerUnavailableError)
    assert error.url == "http://127.0.0.1:1"
    assert "opensage.connect(local=True)" in str(error)


def test_other_exceptions_are_not_translated() -> None:
    assert from_botocore(KeyError("x"), "u") is None


class Thing:
    endpoint_url = "http://127.0.0.1:9"

    @translated
    def refuse(self) -> None:
        raise client_error("ValidationException", "bad", "CreateTrainingJob")

    @translated
    def fail(self) -> None:
        raise JobFailedError("Training job", "j", "AlgorithmError: boom")

    @translated
    def break_(self) -> None:
        raise ValueError("not botocore")

    @translated
    def unreachable(self) -> None:
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:9/")


def test_translated_methods_raise_the_sdks_errors_chained_to_botocores() -> None:
    with pytest.raises(OpenSageClientError) as caught:
        Thing().refuse()
    assert caught.value.code == "ValidationException" and caught.value.operation == "CreateTrainingJob"
    assert isinstance(caught.value.__cause__, ClientError)
    with pytest.raises(ServerUnavailableError, match=r"http://127.0.0.1:9\."):
        Thing().unreachable()


def test_translated_methods_pass_other_errors_through_unchanged() -> None:
    with pytest.raises(JobFailedError) as failed:
        Thing().fail()
    assert failed.value.failure_reason == "AlgorithmError: boom"
    assert isinstance(failed.value, OpenSageSDKError)
    with pytest.raises(ValueError, match="not botocore"):
        Thing().break_()
