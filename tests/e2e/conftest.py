from __future__ import annotations

import pytest

from tests.e2e.proxy_run import ProxyRun, run_everything


@pytest.fixture(scope="session")
def run(tmp_path_factory: pytest.TempPathFactory) -> ProxyRun:
    """One proxy run with every client behind it, shared by the test_proxy_* modules."""
    return run_everything(tmp_path_factory.mktemp("proxy"))
