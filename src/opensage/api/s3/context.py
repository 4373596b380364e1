"""One S3 request as the handlers see it: bucket, key, query, headers, and a way to call the store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar
from urllib.parse import parse_qsl, unquote_to_bytes

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request

from opensage.api.s3.responses import RequestIds
from opensage.errors import InvalidArgument, InvalidRequest, OpenSageError
from opensage.objects.base import ObjectStore

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True)
class Query:
    """The query string; S3 sub-resources such as ``?uploads`` are present with an empty value."""

    pairs: tuple[tuple[str, str], ...]

    @classmethod
    def parse(cls, query_string: bytes) -> Query:
        try:
            text = query_string.decode("utf-8")
            pairs = parse_qsl(text, keep_blank_values=True, errors="strict")
        except (UnicodeDecodeError, ValueError) as exc:
            raise InvalidArgument("The query string is not valid percent-encoded UTF-8.") from exc
        return cls(tuple(pairs))

    def __contains__(self, name: object) -> bool:
        return any(key == name for key, _ in self.pairs)

    def get(self, name: str, default: str | None = None) -> str | None:
        for key, value in self.pairs:
            if key == name:
                return value
        return default

    def names(self) -> set[str]:
        return {key for key, _ in self.pairs}

    def integer(self, name: str, default: int, low: int, high: int | None = None) -> int:
        """A non-negative integer parameter, clamped to ``high`` as S3 clamps max-keys."""
        value = self.get(name)
        if value is None:
            return default
        if not value.isdigit():
            raise InvalidArgument(f"Provided {name} is not a valid non-negative integer: {value!r}.")
        number = int(value)
        if number < low:
            raise InvalidArgument(f"Provided {name} must be at least {low}.")
        return number if high is None else min(number, high)


def split_path(raw_path: bytes) -> tuple[str, str]:
    """(bucket, key) of a path-style request path, percent-decoded; ``+`` stays a plus, as S3 keeps it."""
    if not raw_path.startswith(b"/"):
        raise InvalidRequest("The request path must start with '/'.")
    bucket_part, _, key_part = raw_path[1:].partition(b"/")
    try:
        bucket = unquote_to_bytes(bucket_part).decode("utf-8")
        key = unquote_to_bytes(key_part).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidArgument("The request path is not valid percent-encoded UTF-8.") from exc
    return bucket, key


@dataclass(frozen=True)
class S3Request:
    request: Request
    store: ObjectStore
    region: str
    bucket: str
    key: str
    query: Query
    ids: RequestIds
    #: DeleteObjects asks it for each key: the refusal to report for that key, or None.
    key_check: Callable[[str], OpenSageError | None] | None = None
    #: Reads of SSE-KMS objects ask it with the object's key ARN: the refusal of kms:Decrypt, or None.
    decrypt_check: Callable[[str], OpenSageError | None] | None = None

    @property
    def headers(self) -> Headers:
        return self.request.headers

    @property
    def method(self) -> str:
        return self.request.method

    @property
    def resource(self) -> str:
        return f"/{self.bucket}/{self.key}" if self.key else f"/{self.bucket}"

    async def call(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a blocking store call in the thread pool, keeping the event loop free."""
        return await run_in_threadpool(function, *args, **kwargs)
