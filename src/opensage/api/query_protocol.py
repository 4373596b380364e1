"""Answers for the query-protocol services opensage does not implement (STS, IAM).

boto3 code and the SageMaker Python SDK call them on the side: before it trains or deploys,
the SDK simulates the execution role's policies and reads its trust policy. IAM answers
``AccessDenied``, which is true (opensage keeps no roles or policies yet, so no caller may
read or change them) and is the answer the SDK reads as "verdict unknown, carry on". STS
answers ``InvalidAction``. Either way the message names the action that is missing.
"""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response


async def unimplemented_query_service(request: Request, service: str) -> Response:
    """The error reply for ``service`` (``sts`` or ``iam``), in the query protocol's XML."""
    action = await _action(request)
    if service == "iam":
        return _error(
            403,
            "AccessDenied",
            f"opensage keeps no IAM roles or policies, so iam:{action or '*'} is denied to every caller; "
            "set SAGEMAKER_VALIDATE_ROLE=false to skip the SageMaker SDK's role check",
        )
    named = f"{service} {action}" if action else f"the {service} API"
    return _error(400, "InvalidAction", f"opensage does not implement {named}")


async def _action(request: Request) -> str:
    action = request.query_params.get("Action")
    if action is None and request.method == "POST":
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        action = (form.get("Action") or [""])[0]
    # The action is echoed back; keep it to what an action name can be.
    return action if action and action.isalnum() and len(action) <= 128 else ""


def _error(status: int, code: str, message: str) -> Response:
    # botocore reads <ErrorResponse><Error><Code>; Type is Sender for the caller's side.
    body = (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
        f"<Message>{message}</Message></Error>"
        f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    )
    return Response(body, status_code=status, media_type="text/xml")
