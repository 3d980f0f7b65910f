"""Fixtures the proxy source's tests share: the service models (built from botocore's models once per
module) and a botocore session whose clients are captured, never sent."""

from __future__ import annotations

from typing import Any

import pytest

from collector_runtime.sources.proxy.service_models import ServiceModels
from tests.proxy_requests import new_session


@pytest.fixture(scope="module")
def service_models() -> ServiceModels:
    return ServiceModels()


@pytest.fixture(scope="module")
def session() -> Any:
    return new_session()
