"""Load the packaged, generated mapping data (collector_runtime/data/iam_mapping.json)."""

from __future__ import annotations

import functools
import json
from importlib import resources

from .core.mapping import ActionMap

MAPPING_RESOURCE = "iam_mapping.json"


@functools.cache
def load_action_map() -> ActionMap:
    raw = resources.files("collector_runtime.data").joinpath(MAPPING_RESOURCE).read_bytes()
    return ActionMap(json.loads(raw))
