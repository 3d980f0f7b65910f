"""The member names inside a request's structures, lists and maps, which the proxy never reads (only
top-level strings and lists of strings): RunInstances' `LaunchTemplate` holds a `LaunchTemplateId`. A request
that set such a member may have named a resource there; `core.identifier_arns.unread_types` tells which
resource types. Read from botocore's model once per operation, bounded in depth and size.
"""

from __future__ import annotations

import functools
import re
from typing import Any

MAX_DEPTH = 4  # structures within structures, lists and maps
MAX_NAMES = 256  # names kept per top-level member


def unread_names(operation: Any, members_set: frozenset[str]) -> frozenset[str]:
    """The names inside the structures, lists and maps among the top-level members a request set."""
    inside = nested_names(operation)
    return frozenset().union(*(inside[member] for member in members_set if member in inside))


# Words of a member that may hold a role: every name the generator's pass-role rule finds a role in
# (`mapping/mapgen/triggers.py`: `*Role`, `*RoleArn`, `*Credentials`, `IamInstanceProfile`, ...) has one.
_ROLE_WORDS = re.compile(r"role|credential|instanceprofile", re.IGNORECASE)


def names_a_role(name: str) -> bool:
    """Whether a member (or a JSON key) may hold a role: its name has one of `_ROLE_WORDS`."""
    return _ROLE_WORDS.search(name) is not None


@functools.lru_cache(maxsize=1024)
def role_holders(operation: Any) -> frozenset[str]:
    """The top-level members with a member that may hold a role inside (EventBridge PutTargets' `Targets`:
    `RoleArn`)."""
    return frozenset(member for member, names in nested_names(operation).items() if any(map(names_a_role, names)))


@functools.lru_cache(maxsize=1024)
def nested_names(operation: Any) -> dict[str, frozenset[str]]:
    """Per top-level structure, list or map member: the names of the strings inside it (a list of strings
    by its element's shape name too: `Groups` holds `SecurityGroupId`s)."""
    shape = operation.input_shape
    found = {}
    for member, member_shape in shape.members.items() if shape is not None else ():
        if member_shape.type_name in ("structure", "list", "map"):
            names: set[str] = set()
            _collect(member_shape, names, depth=0, seen=frozenset())
            if names:
                found[member] = frozenset(names)
    return found


def _collect(shape: Any, names: set[str], depth: int, seen: frozenset[str]) -> None:
    if depth > MAX_DEPTH or shape.name in seen or len(names) >= MAX_NAMES:
        return
    seen = seen | {shape.name}
    if shape.type_name == "structure":
        for name, member in shape.members.items():
            if member.type_name == "string":
                names.add(name)
            elif member.type_name == "list" and member.member.type_name == "string":
                names.update((name, member.member.name))
            else:
                _collect(member, names, depth + 1, seen)
    elif shape.type_name == "list":
        _collect(shape.member, names, depth + 1, seen)
    elif shape.type_name == "map":
        _collect(shape.value, names, depth + 1, seen)
