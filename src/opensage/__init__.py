"""opensage: a self-hosted machine-learning platform that speaks the SageMaker API.

``opensage.connect()`` and the SDK's classes are available here; they load on first use,
so ``import opensage`` stays cheap (the server, boto3 and NumPy load only when needed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from opensage.sdk import (
        Endpoint,
        EndpointFailedError,
        JobFailedError,
        JobResources,
        OpenSageClientError,
        OpenSageSDKError,
        Serverless,
        ServerUnavailableError,
        Session,
        TrainingRun,
        TransformRun,
        WaitTimeoutError,
        connect,
    )

__all__ = [
    "Endpoint",
    "EndpointFailedError",
    "JobFailedError",
    "JobResources",
    "OpenSageClientError",
    "OpenSageSDKError",
    "ServerUnavailableError",
    "Serverless",
    "Session",
    "TrainingRun",
    "TransformRun",
    "WaitTimeoutError",
    "__version__",
    "connect",
]

# The SDK's names, imported from opensage.sdk on first access.
_SDK_NAMES = frozenset(__all__) - {"__version__"}


def __getattr__(name: str) -> Any:
    if name in _SDK_NAMES:
        from opensage import sdk

        return getattr(sdk, name)
    raise AttributeError(f"module 'opensage' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_SDK_NAMES})
