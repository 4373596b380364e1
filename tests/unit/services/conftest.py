from __future__ import annotations

import pytest
from tests.fakes import FakeExecutor


@pytest.fixture()
def executor() -> FakeExecutor:
    return FakeExecutor()
