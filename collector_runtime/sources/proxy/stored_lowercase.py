"""Names AWS keeps in lower case whatever case a request used, and so does the resource's ARN (RDS's
`DBInstanceIdentifier`, ElastiCache's `CacheClusterId`, ...). Pure.

botocore's model says so in the member's documentation ("This value is stored as a lowercase string"), most
often only on the operation that creates the resource: a member documented so in any operation of a service
is lower-cased in all of them, so that `db:orders-db` is granted for a `DescribeDBInstances` of `Orders-DB`
(granted as sent, `db:Orders-DB` would deny the call its own database).
"""

from __future__ import annotations

import functools
import re
from typing import Any

_STORED_LOWERCASE = re.compile(r"stored as (?:a )?lower-?case", re.IGNORECASE)


def lowercased(operation: Any, identifiers: dict[str, str]) -> dict[str, str]:
    """`identifiers` (member -> value) with the values of the members the service stores in lower case lowered."""
    stored_lowercase = lowercase_members(operation.service_model)
    if not stored_lowercase.intersection(identifiers):
        return identifiers
    return {name: value.lower() if name in stored_lowercase else value for name, value in identifiers.items()}


@functools.lru_cache(maxsize=64)
def lowercase_members(service_model: Any) -> frozenset[str]:
    """The request members of a botocore service model documented as stored in lower case (read once per model)."""
    found = set()
    for name in service_model.operation_names:
        shape = service_model.operation_model(name).input_shape
        for member, member_shape in shape.members.items() if shape is not None else ():
            if _STORED_LOWERCASE.search(member_shape.documentation or ""):
                found.add(member)
    return frozenset(found)
