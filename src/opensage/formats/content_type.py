"""Parse MIME content types with parameters, as channels and requests carry them."""

from __future__ import annotations

from dataclasses import dataclass, field

CSV = "text/csv"
LIBSVM = "text/libsvm"
X_LIBSVM = "text/x-libsvm"
PARQUET = "application/x-parquet"
RECORDIO_PROTOBUF = "application/x-recordio-protobuf"
JSON = "application/json"
JSONLINES = "application/jsonlines"


@dataclass(frozen=True)
class ContentType:
    """A media type (lower case, no parameters) and its parameters (names lower case)."""

    media_type: str
    parameters: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        params = "".join(f";{key}={value}" for key, value in self.parameters.items())
        return f"{self.media_type}{params}"


def parse_content_type(value: str) -> ContentType:
    """Split ``text/csv; label_size=1;charset=utf-8`` into its media type and parameters.

    Media types and parameter names are case-insensitive (RFC 9110); parameter values keep
    their case, with surrounding quotes removed. A parameter without ``=`` is ignored.
    """
    media_type, *raw_params = value.split(";")
    parameters: dict[str, str] = {}
    for raw in raw_params:
        name, sep, param_value = raw.partition("=")
        if sep and name.strip():
            parameters[name.strip().lower()] = param_value.strip().strip('"')
    return ContentType(media_type.strip().lower(), parameters)
