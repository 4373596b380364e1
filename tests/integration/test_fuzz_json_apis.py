"""Random JSON at every SageMaker and CloudWatch Logs operation opensage serves.

Bodies come from botocore's model of each operation (its input shape with random values)
plus junk. Whatever arrives: never a 5xx, always an answer (the client's timeout fails a
hang), an error in the JSON protocol's shape, and a rejected request changes nothing.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from tests.fuzzing import FUZZ_SETTINGS, body_for, service_model
from tests.raw_http import json_call

from opensage.api import logs as logs_api
from opensage.api import sagemaker as sagemaker_api
from opensage.embedded import EmbeddedServer

SAGEMAKER = service_model("sagemaker")
LOGS = service_model("logs")
# Operations that would start real work (jobs, model servers) if a random body happened to be
# valid still get fuzzed: random names almost never pass validation, and if one does the
# request simply succeeds. Each operation gets a few examples; the suite stays well under a minute.
EXAMPLES_PER_OPERATION = 30


def _served(module: Any, server: EmbeddedServer) -> list[str]:
    platform = server.platform
    handlers = module.build_handlers(platform if module is sagemaker_api else platform.logs)
    return sorted(handlers)


def _sagemaker_state(server: EmbeddedServer) -> dict[str, Any]:
    state = {}
    for operation in ("ListModels", "ListEndpointConfigs", "ListEndpoints", "ListTrainingJobs",
                      "ListTransformJobs", "ListProcessingJobs"):  # fmt: skip
        answer = json_call(server.endpoint_url, f"SageMaker.{operation}", b'{"MaxResults": 100}')
        assert answer.status == 200, answer.body
        listed = json.loads(answer.body)
        state[operation] = sorted(json.dumps(item, sort_keys=True) for key, items in listed.items()
                                  if isinstance(items, list) for item in items)  # fmt: skip
    return state


def _logs_state(server: EmbeddedServer) -> list[str]:
    answer = json_call(server.endpoint_url, "Logs_20140328.DescribeLogGroups", b"{}", service="logs")
    assert answer.status == 200, answer.body
    return sorted(group["logGroupName"] for group in json.loads(answer.body)["logGroups"])


def _check_answer(status: int, body: bytes) -> bool:
    """Assert the answer is well-formed; True when the request was rejected."""
    assert status < 500, body
    if status >= 300:
        error = json.loads(body)
        assert error["__type"] and isinstance(error["message"], str), body
        return True
    json.loads(body or b"{}")
    return False


@pytest.mark.parametrize("operation", sorted(SAGEMAKER.operation_names))
def test_random_json_at_a_sagemaker_operation(server: EmbeddedServer, operation: str) -> None:
    if operation not in _served(sagemaker_api, server):
        # Not served: answered as not implemented, whatever the body.
        answer = json_call(server.endpoint_url, f"SageMaker.{operation}", b"{}")
        assert answer.status == 400 and json.loads(answer.body)["__type"] == "UnknownOperationException"
        return
    before = _sagemaker_state(server)
    outcomes: list[bool] = []

    @settings(FUZZ_SETTINGS, max_examples=EXAMPLES_PER_OPERATION)
    @given(body=body_for(SAGEMAKER.operation_model(operation)))
    def fuzz(body: bytes) -> None:
        answer = json_call(server.endpoint_url, f"SageMaker.{operation}", body)
        outcomes.append(_check_answer(answer.status, answer.body))

    fuzz()
    if all(outcomes):
        assert _sagemaker_state(server) == before


@pytest.mark.parametrize("operation", sorted(LOGS.operation_names))
def test_random_json_at_a_logs_operation(server: EmbeddedServer, operation: str) -> None:
    if operation not in _served(logs_api, server):
        return
    before = _logs_state(server)
    outcomes: list[bool] = []

    @settings(FUZZ_SETTINGS, max_examples=3 * EXAMPLES_PER_OPERATION)
    @given(body=body_for(LOGS.operation_model(operation)))
    def fuzz(body: bytes) -> None:
        answer = json_call(server.endpoint_url, f"Logs_20140328.{operation}", body, service="logs")
        outcomes.append(_check_answer(answer.status, answer.body))

    fuzz()
    if all(outcomes):
        assert _logs_state(server) == before
