"""cfn-lint finds nothing (no error, no warning) in any synthesized template of any variant."""

from __future__ import annotations

import json

import pytest
from cfnlint.api import lint

from tests.infra.synth import VARIANTS, Variants

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_cfn_lint_is_clean(variants: Variants, name: str) -> None:
    app = variants.get(name)
    for stack_name, template in app.templates.items():
        matches = lint(json.dumps(template), regions=["us-east-1", "eu-west-1"])
        assert [str(match) for match in matches] == [], stack_name
