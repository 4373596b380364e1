"""Who made a request, and what the wire layer learns about the call as it handles it.

The authentication layer (the outermost ASGI wrapper) puts a ``Principal`` and a
``CallRecord`` into the ASGI scope of every AWS-protocol request. The protocol adapters fill
in the operation and the resources it touches (for authorization, which they ask before
doing anything), and the outer layer writes the finished record to the audit trail with
the result code. Nothing here holds a payload or a secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PRINCIPAL_SCOPE_KEY = "opensage.principal"
CALL_SCOPE_KEY = "opensage.call"


@dataclass(frozen=True)
class Principal:
    """The identity a request was signed as (or the development identity under ``--no-auth``)."""

    access_key_id: str
    #: The user the key belongs to.
    user: str
    #: ``arn:aws:iam::<account>:user/<user>``, what policies and the audit trail name.
    arn: str
    #: True only for the identity ``--no-auth`` gives every request: no policy is evaluated.
    unrestricted: bool = False


@dataclass
class CallRecord:
    """One API call as the audit trail records it; filled in as the request is handled."""

    request_id: str
    #: The signing name of the API: sagemaker, sagemaker-runtime (runtime.sagemaker), s3, logs, kms, ...
    service: str
    source_address: str | None = None
    principal: Principal | None = None
    #: The API's operation name (CreateTrainingJob, PutObject, ...), once the adapter knows it.
    operation: str | None = None
    #: ARNs (or names) of the resources the call touches.
    resources: list[str] = field(default_factory=list)
    status_code: int | None = None
    error_code: str | None = None


def principal_of(scope: Mapping[str, Any]) -> Principal | None:
    found = scope.get(PRINCIPAL_SCOPE_KEY)
    return found if isinstance(found, Principal) else None


def call_of(scope: Mapping[str, Any]) -> CallRecord | None:
    found = scope.get(CALL_SCOPE_KEY)
    return found if isinstance(found, CallRecord) else None
