"""Each app variant is synthesized at most once per test session and shared by every test that uses it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.infra.bundles import download_wheelhouse
from tests.infra.synth import SynthesizedApp, Variants


@pytest.fixture(scope="session")
def variants(tmp_path_factory: pytest.TempPathFactory) -> Variants:
    return Variants(tmp_path_factory.mktemp("cdk-out"))


@pytest.fixture(scope="session")
def ec2(variants: Variants) -> SynthesizedApp:
    return variants.get("ec2")


@pytest.fixture(scope="session")
def fargate(variants: Variants) -> SynthesizedApp:
    return variants.get("fargate")


@pytest.fixture(scope="session")
def ec2_custom(variants: Variants) -> SynthesizedApp:
    return variants.get("ec2-custom")


@pytest.fixture(scope="session")
def fargate_endpoints(variants: Variants) -> SynthesizedApp:
    return variants.get("fargate-endpoints")


@pytest.fixture(scope="session")
def ec2_endpoints(variants: Variants) -> SynthesizedApp:
    return variants.get("ec2-endpoints")


@pytest.fixture(scope="session")
def fargate_proxy(variants: Variants) -> SynthesizedApp:
    return variants.get("fargate-proxy")


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The collector's pinned requirements as arm64 wheels: fetched once per session from the package index,
    so every bundle below is built from it offline (`--no-index`)."""
    return download_wheelhouse(tmp_path_factory.mktemp("wheelhouse"))
