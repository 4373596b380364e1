"""Hypothesis strategies for fuzzing the wire APIs: request bodies from botocore's own models, and junk.

A body drawn for an operation is usually close to valid (the operation's input shape, with
random values) so that it gets past JSON parsing into validation and the services; some
are junk (any JSON, or not JSON at all) so that the parsers see the worst too.
"""

from __future__ import annotations

import json
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Deterministic in CI, bounded, and no per-example deadline (a request may take a few ms or 100).
FUZZ_SETTINGS = settings(
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
_MAX_DEPTH = 6
# Strings that reach the odd corners: paths, ARNs, URIs, quoting, unicode, NUL.
_TRICKY_TEXT = st.sampled_from(
    [
        "",
        "a",
        "../../etc/passwd",
        "/abs",
        "s3://",
        "s3://bucket/../x",
        "arn:aws:sagemaker:us-east-1:000000000000:model/x",
        "a\x00b",
        "\\",
        "%00",
        "é😀",
        "x" * 300,
        "null",
        "-1",
        "1e309",
    ]
)
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    _TRICKY_TEXT,
)
ANY_JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def service_model(name: str) -> ServiceModel:
    loader = botocore.session.get_session().get_component("data_loader")
    return ServiceModel(loader.load_service_model(name, "service-2"), service_name=name)


def value_for(shape: Shape, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values for ``shape``: mostly of its type, sometimes anything at all."""
    if depth > _MAX_DEPTH:
        return st.none()
    typed = _typed_value(shape, depth)
    return st.one_of(typed, typed, typed, JSON_SCALARS)


def _typed_value(shape: Shape, depth: int) -> st.SearchStrategy[Any]:
    if isinstance(shape, StructureShape):
        return structure_for(shape, depth)
    if isinstance(shape, ListShape):
        return st.lists(value_for(shape.member, depth + 1), max_size=3)
    if isinstance(shape, MapShape):
        return st.dictionaries(st.text(max_size=10), value_for(shape.value, depth + 1), max_size=3)
    kind = shape.type_name
    if kind == "string":
        enum = shape.metadata.get("enum")
        text = st.one_of(st.text(max_size=30), _TRICKY_TEXT)
        return st.one_of(st.sampled_from(enum), text) if enum else text
    if kind in ("integer", "long"):
        return st.integers(min_value=-(2**40), max_value=2**40)
    if kind in ("float", "double"):
        return st.floats(allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "timestamp":
        return st.one_of(st.floats(min_value=-1e12, max_value=1e12), st.text(max_size=25))
    if kind == "blob":
        return st.text(max_size=30)
    return JSON_SCALARS


def structure_for(shape: StructureShape, depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    required = set(shape.required_members)
    members = {name: value_for(member, depth + 1) for name, member in shape.members.items()}
    return st.fixed_dictionaries(
        {name: members[name] for name in members if name in required},
        optional={name: members[name] for name in members if name not in required},
    )


def body_for(operation: OperationModel) -> st.SearchStrategy[bytes]:
    """Request bodies for ``operation``: its input shape with random values, any JSON, or bytes."""
    shape = operation.input_shape
    typed = structure_for(shape) if isinstance(shape, StructureShape) else st.just({})
    as_json = st.one_of(typed, typed, typed, typed, ANY_JSON).map(lambda value: json.dumps(value).encode())
    return st.one_of(as_json, as_json, as_json, st.binary(max_size=40))
