"""What the SDK raises, and the one place botocore's exceptions become the SDK's.

    OpenSageSDKError
    ├── OpenSageClientError      the server refused a request (AWS code, message, operation kept)
    ├── ServerUnavailableError   no opensage server answers at the URL
    ├── JobFailedError           a training or transform job ended Failed (carries its FailureReason)
    ├── EndpointFailedError      an endpoint ended Failed instead of InService
    └── WaitTimeoutError         a wait ran past its timeout (also a TimeoutError)

Arguments the SDK cannot use are reported the Pythonic way, as ``ValueError`` or ``TypeError``.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any, ParamSpec, TypeVar

_P = ParamSpec("_P")
_R = TypeVar("_R")


class OpenSageSDKError(Exception):
    """Base of every error the SDK raises on its own."""


class OpenSageClientError(OpenSageSDKError):
    """The server answered a request with an error.

    ``code`` is the AWS error code (``ValidationException``, ``NoSuchBucket``,
    ``ResourceInUse``...), ``operation`` the API operation that failed (``CreateTrainingJob``).

    Example::

        try:
            session.endpoint("no-such-endpoint").describe()
        except OpenSageClientError as error:
            print(error.code, error.operation)   # ValidationException DescribeEndpoint
    """

    def __init__(self, code: str, message: str, operation: str, http_status: int | None = None) -> None:
        super().__init__(f"{operation}: {code}: {message}")
        self.code = code
        self.message = message
        self.operation = operation
        self.http_status = http_status


class ServerUnavailableError(OpenSageSDKError):
    """No opensage server answers at ``url``."""

    def __init__(self, url: str) -> None:
        super().__init__(
            f"No opensage server answers at {url}. Start one with `opensage server`, "
            "or use opensage.connect(local=True) to run one inside this process"
        )
        self.url = url


class JobFailedError(OpenSageSDKError):
    """A job ended ``Failed``; ``failure_reason`` is the job's FailureReason, as Describe reports it."""

    def __init__(self, kind: str, name: str, failure_reason: str) -> None:
        super().__init__(f"{kind} {name} failed: {failure_reason}")
        self.kind = kind
        self.name = name
        self.failure_reason = failure_reason


class EndpointFailedError(OpenSageSDKError):
    """An endpoint ended ``Failed``; ``failure_reason`` is its FailureReason."""

    def __init__(self, name: str, failure_reason: str) -> None:
        super().__init__(f"Endpoint {name} failed: {failure_reason}")
        self.name = name
        self.failure_reason = failure_reason


class WaitTimeoutError(OpenSageSDKError, TimeoutError):
    """Waiting for a job or an endpoint took longer than the timeout given; the resource goes on."""


def from_botocore(error: Exception, url: str) -> OpenSageSDKError | None:
    """The SDK's exception for one of botocore's, or None for anything else."""
    from botocore.exceptions import ClientError, EndpointConnectionError

    if isinstance(error, ClientError):
        details: dict[str, Any] = error.response.get("Error", {})
        metadata: dict[str, Any] = error.response.get("ResponseMetadata", {})
        status = metadata.get("HTTPStatusCode")
        return OpenSageClientError(
            code=str(details.get("Code", "Unknown")),
            message=str(details.get("Message", "")),
            operation=error.operation_name,
            http_status=int(status) if status is not None else None,
        )
    if isinstance(error, EndpointConnectionError):
        return ServerUnavailableError(url)
    return None


@contextlib.contextmanager
def translating(url: str) -> Iterator[None]:
    """Let botocore's errors inside leave as the SDK's (``url`` says where nothing answered)."""
    try:
        yield
    except OpenSageSDKError:
        raise
    except Exception as error:
        replacement = from_botocore(error, url)
        if replacement is None:
            raise
        raise replacement from error


def translated(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """Decorate a public method so botocore's errors leave it as the SDK's.

    The method's object tells where the server is by its ``endpoint_url`` attribute.
    """

    @functools.wraps(method)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        url = str(getattr(args[0], "endpoint_url", "the server's URL")) if args else "the server's URL"
        with translating(url):
            return method(*args, **kwargs)

    return wrapper
