"""Random bodies, headers and endpoint names at InvokeEndpoint and InvokeEndpointAsync.

No 5xx and always an answer, with the runtime API's error shape (``x-amzn-ErrorType``).
"""

from __future__ import annotations

import json
from urllib.parse import quote

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.fuzzing import FUZZ_SETTINGS
from tests.raw_http import send

from opensage.embedded import EmbeddedServer

_PRINTABLE = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
HEADERS = [
    "content-type", "accept", "x-amzn-sagemaker-custom-attributes", "x-amzn-sagemaker-target-variant",
    "x-amzn-sagemaker-target-model", "x-amzn-sagemaker-inference-id", "x-amzn-sagemaker-inputlocation",
    "x-amzn-sagemaker-content-type", "x-amzn-sagemaker-accept", "x-amzn-sagemaker-requestttlseconds",
]  # fmt: skip
NAMES = st.one_of(st.sampled_from(["missing", "..", "a" * 70, "%00", "é"]), st.text(max_size=20).filter(bool))


@settings(FUZZ_SETTINGS, max_examples=150)
@given(
    method=st.sampled_from(["POST", "POST", "POST", "GET", "PUT", "DELETE"]),
    name=NAMES,
    action=st.sampled_from(["invocations", "async-invocations", "invocations-response-stream"]),
    headers=st.dictionaries(st.sampled_from(HEADERS), _PRINTABLE, max_size=4),
    body=st.binary(max_size=300),
)
def test_random_requests_at_the_runtime_api(
    server: EmbeddedServer, method: str, name: str, action: str, headers: dict[str, str], body: bytes
) -> None:
    path = f"/endpoints/{quote(name, safe='')}/{action}"
    answer = send(server.endpoint_url, method, path, "sagemaker", body, headers, timeout=20)
    assert answer.status < 500, answer.body
    assert answer.status >= 400  # no endpoint of any of these names exists
    assert answer.headers.get("x-amzn-errortype"), answer.headers
    assert isinstance(json.loads(answer.body), dict)
