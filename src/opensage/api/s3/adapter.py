"""The S3 REST-XML adapter: one Starlette request in, one S3 response out, errors included."""

from __future__ import annotations

import logging
from dataclasses import replace

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from opensage.api.s3.authorization import authorize_s3, decrypt_check, key_check
from opensage.api.s3.context import Query, S3Request, split_path
from opensage.api.s3.responses import RequestIds, error_code, error_response
from opensage.api.s3.routing import choose_handler
from opensage.errors import IncompleteBody, InternalError, OpenSageError, S3AccessDenied
from opensage.objects.base import ObjectStore
from opensage.security.authorizer import Authorizer
from opensage.security.principal import call_of

logger = logging.getLogger(__name__)


class S3Adapter:
    """Serves path-style S3 (``/``, ``/{bucket}``, ``/{bucket}/{key}``) from an ObjectStore.

    ``handle`` never raises: store errors become S3 ``<Error>`` documents with their status,
    anything unexpected a logged 500 InternalError. Every response carries S3's request ids.
    """

    def __init__(self, store: ObjectStore, region: str, authorizer: Authorizer | None = None) -> None:
        self.store = store
        self.region = region
        self.authorizer = authorizer

    async def handle(self, request: Request) -> Response:
        call = call_of(request.scope)
        # The request id the client sees is the one the audit trail records.
        ids = RequestIds.new(call.request_id if call is not None else None)
        raw_path: bytes = request.scope.get("raw_path") or request.scope["path"].encode("utf-8")
        resource = raw_path.decode("latin-1")
        failure: OpenSageError
        try:
            return ids.apply(await self._dispatch(request, raw_path, ids))
        except OpenSageError as error:
            failure = error
        except ClientDisconnect:
            logger.info(
                "S3 %s %s: the client went away before sending the whole body", request.method, resource
            )
            failure = IncompleteBody("The request body ended before all of it was received.")
        except Exception:
            logger.exception("S3 %s %s failed (request id %s)", request.method, resource, ids.request_id)
            failure = InternalError("We encountered an internal error. Please try again.")
        if call is not None:
            call.error_code = error_code(failure)
        return ids.apply(error_response(failure, resource, ids, request.method == "HEAD"))

    @staticmethod
    def _refused(request: Request, refusal: S3AccessDenied, raw_path: bytes, ids: RequestIds) -> Response:
        call = call_of(request.scope)
        if call is not None:
            call.error_code = refusal.code
        response = error_response(refusal, raw_path.decode("latin-1"), ids, request.method == "HEAD")
        # Refused before its body was read: the connection cannot carry another request.
        response.headers["connection"] = "close"
        return response

    async def _dispatch(self, request: Request, raw_path: bytes, ids: RequestIds) -> Response:
        bucket, key = split_path(raw_path)
        query = Query.parse(request.scope.get("query_string", b""))
        handler = choose_handler(request.method, bucket, key, query)
        context = S3Request(request, self.store, self.region, bucket, key, query, ids)
        if self.authorizer is not None:
            try:
                # In a worker thread: a policy cache miss reads the database.
                await run_in_threadpool(authorize_s3, self.authorizer, handler, context)
            except S3AccessDenied as refusal:
                return self._refused(request, refusal, raw_path, ids)
            context = replace(
                context,
                key_check=key_check(self.authorizer, context),
                decrypt_check=decrypt_check(self.authorizer, context),
            )
        return await handler(context)
