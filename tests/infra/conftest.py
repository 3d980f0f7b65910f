"""Each app variant is synthesized at most once per test session and shared by every test that uses it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.infra.synth import VARIANTS, SynthesizedApp, synthesize


class Variants:
    def __init__(self, root: Path) -> None:
        self._root = root
        self._synthesized: dict[str, SynthesizedApp] = {}

    def get(self, name: str) -> SynthesizedApp:
        if name not in self._synthesized:
            self._synthesized[name] = synthesize(VARIANTS[name], self._root / name)
        return self._synthesized[name]


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
