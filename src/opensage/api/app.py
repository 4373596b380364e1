"""The one-port ASGI app: every protocol opensage speaks, routed as AWS routes it.

- ``GET /health``: 200 once the platform is ready.
- ``X-Amz-Target: SageMaker.*`` → SageMaker API; ``Logs_20140328.*`` → CloudWatch Logs;
  ``TrentService.*`` → KMS; ``CloudTrail_20131101.*`` → CloudTrail (LookupEvents).
- ``POST /endpoints/<name>/invocations`` signed for sagemaker (or unsigned) → sagemaker-runtime.
- Signing name ``s3`` (or unsigned) → S3, path-style ``/<bucket>/<key>``.
- Anything else answers an error in its protocol's shape that says what is not supported.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from opensage import __version__
from opensage.api import cloudtrail as cloudtrail_api
from opensage.api import kms as kms_api
from opensage.api import logs as logs_api
from opensage.api import sagemaker as sagemaker_api
from opensage.api.audit import AuditRecorder
from opensage.api.authentication import with_authentication
from opensage.api.json_protocol import JsonHandler, JsonProtocolAdapter, error_response
from opensage.api.limits import RequestLimits
from opensage.api.query_protocol import unimplemented_query_service
from opensage.api.routing import signing_scope, target_prefix
from opensage.api.runtime import RuntimeAdapter, runtime_route
from opensage.api.s3 import S3Adapter
from opensage.errors import UnsupportedOperationError
from opensage.platform import Platform
from opensage.security.audit import AuditTrailReader
from opensage.security.authorizer import open_authorizer

_METHODS = ["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS", "PATCH"]


def create_app(
    platform: Platform, manage_platform: bool = True, on_ready: Callable[[], None] | None = None
) -> ASGIApp:
    """The app serving ``platform``.

    With ``manage_platform`` its lifespan starts the platform before the first request and
    stops it (stopping running jobs) at shutdown; ``on_ready`` runs once it serves.
    """
    authorizer = open_authorizer(platform.settings, platform.repository)
    sagemaker = JsonProtocolAdapter(
        "sagemaker", "SageMaker", sagemaker_api.build_handlers(platform), authorizer
    )
    logs = JsonProtocolAdapter("logs", "Logs_20140328", logs_api.build_handlers(platform.logs), authorizer)
    kms = JsonProtocolAdapter("kms", "TrentService", kms_api.build_handlers(platform.kms), authorizer)
    cloudtrail = JsonProtocolAdapter(
        "cloudtrail", "CloudTrail_20131101", _lookup_handlers(platform), authorizer
    )
    json_services = {
        "SageMaker": sagemaker,
        "Logs_20140328": logs,
        "TrentService": kms,
        "CloudTrail_20131101": cloudtrail,
    }
    s3 = S3Adapter(platform.objects, platform.settings.region, authorizer)

    async def dispatch(request: Request) -> Response:
        if request.url.path == "/health" and request.method in ("GET", "HEAD"):
            return JSONResponse({"status": "ok", "version": __version__})
        prefix = target_prefix(request)
        if prefix is not None:
            adapter = json_services.get(prefix)
            if adapter is not None:
                return await adapter.handle(request)
            error = UnsupportedOperationError(f"opensage does not implement the {prefix} API")
            return error_response(error, str(uuid.uuid4()))
        scope = signing_scope(request)
        service = scope[1] if scope else "s3"
        if service == "s3":
            return await s3.handle(request)
        if service in ("sts", "iam"):
            return await unimplemented_query_service(request, service)
        error = UnsupportedOperationError(
            f"opensage does not implement {request.method} {request.url.path} for the {service} API yet"
        )
        response = error_response(error, str(uuid.uuid4()))
        response.headers["x-amzn-ErrorType"] = error.code
        return response

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if manage_platform:
            platform.start()
        if on_ready is not None:
            on_ready()
        try:
            yield
        finally:
            if manage_platform:
                platform.stop()

    router = Starlette(routes=[Route("/{path:path}", dispatch, methods=_METHODS)], lifespan=lifespan)
    runtime = RuntimeAdapter(platform.invocations, platform.async_invocations, authorizer)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        # InvokeEndpoint skips the router: it is the one path where microseconds count.
        if scope["type"] == "http":
            route = runtime_route(scope["path"])
            if route is not None and _is_runtime_request(scope):
                await runtime(scope, receive, send, route)
                return
            # Every other request goes straight to dispatch: Starlette's path routes never match a
            # path with a line break in it, and S3 keys may hold one ("a\nb" answered a bare 404).
            response = await dispatch(Request(scope, receive))
            await response(scope, receive, send)
            return
        await router(scope, receive, send)  # lifespan

    authenticated = with_authentication(app, platform.settings, platform.repository)
    # Limits before authentication: a body over its limit is refused unread, not even hashed.
    limited = RequestLimits(authenticated, platform.settings.max_concurrent_requests)
    # Outermost, so that requests authentication refuses are in the audit trail too.
    return AuditRecorder(limited, platform.audit, platform.settings.region, platform.settings.account_id)


def _lookup_handlers(platform: Platform) -> dict[str, JsonHandler]:
    reader = AuditTrailReader(platform.settings.audit_dir)
    settings = platform.settings
    return cloudtrail_api.build_handlers(reader, platform.audit.flush, settings.region, settings.account_id)


def _is_runtime_request(scope: Scope) -> bool:
    """A runtime call is signed for sagemaker (or unsigned) and has no X-Amz-Target."""
    for name, value in scope["headers"]:
        if name == b"x-amz-target":
            return False
        if name == b"authorization" and b"/aws4_request" in value and b"/sagemaker/aws4_request" not in value:
            return False
    return True
