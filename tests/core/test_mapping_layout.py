"""The packaged mapping read lazily (collector_runtime.data.layout) answers every lookup as the fully decoded one."""

from __future__ import annotations

import json
from typing import Any

import pytest

from collector_runtime.core.mapping import ActionMap
from collector_runtime.data import MAPPING_RESOURCE, load_action_map
from collector_runtime.data.layout import LazyJson, mapping_data
from tests.core.test_mapping_data import COMMITTED


@pytest.fixture(scope="module")
def decoded() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(COMMITTED.read_bytes())
    return data


def test_the_packaged_file_is_split_lazily() -> None:
    data = mapping_data(COMMITTED.read_bytes())
    assert all(isinstance(service["operations"], LazyJson) for service in data["services"].values())
    assert COMMITTED.name == MAPPING_RESOURCE


def test_lazy_lookups_equal_the_decoded_ones(decoded: dict[str, Any]) -> None:
    lazy, eager = ActionMap(mapping_data(COMMITTED.read_bytes())), ActionMap(decoded)
    for service_id, record in decoded["services"].items():
        for alias in [service_id, *record["aliases"]]:
            assert lazy.resolve_service(alias) == eager.resolve_service(alias)
            assert lazy.prefix_of(alias) == eager.prefix_of(alias)
        for api in record["operations"]:
            assert lazy.lookup(service_id, api) == eager.lookup(service_id, api)
            assert lazy.lookup(service_id, api.lower()) == eager.lookup(service_id, api.lower())
    assert lazy.lookup("S3", "NoSuchOperation") == eager.lookup("S3", "NoSuchOperation")
    assert lazy.all_actions() == eager.all_actions()
    for action in decoded["action_resources"]:
        assert lazy.resource_types(action) == eager.resource_types(action)
        assert lazy.canonical_action(action.upper()) == eager.canonical_action(action.upper())
    for prefix in decoded["resource_formats"]:
        assert lazy.formats_of(prefix) == eager.formats_of(prefix)
    assert lazy.resource_types("nosuchprefix:Get") == eager.resource_types("nosuchprefix:Get") == ()


@pytest.mark.parametrize("indent", [None, 2])
def test_other_layouts_are_decoded_whole(decoded: dict[str, Any], indent: int | None) -> None:
    data = mapping_data(json.dumps(decoded, indent=indent).encode())
    assert data == decoded
    assert ActionMap(data).lookup("S3", "GetObject") == load_action_map().lookup("S3", "GetObject")


def test_a_truncated_file_is_an_error_not_a_partial_map() -> None:
    with pytest.raises(ValueError):
        mapping_data(COMMITTED.read_bytes()[:-200])
