"""Which resources an action may be granted on, from what one call's scope told. Pure.

For each resource type of the action (the Service Authorization Reference's ARN formats):
- a resource the source named that is of this type is granted as it is (its own account and region:
  a cross-account resource a proxy or OTLP span names is granted where it really is);
- else the names other named resources bind (a bucket for its objects) fill the format;
- else the format is filled with the call's partition, region and account (`--resource-scope`) and
  `*` for every name: for every type the action always needs, and for the optional ones (an index,
  an access point) only when the call named none of the action's types, or when the request held what
  may name one in a part the source did not read (`identifier_arns.UNREAD`: RunInstances' `LaunchTemplate`;
  then also beside those of the type it named: EMR's instance profile's role beside its service role).
An action without resource types, or whose resources cannot be narrowed, is granted on `*`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from .arns import ACCOUNT, PARTITION, REGION, ArnFormat, arn_format, partition_of, read_arn, without_covered
from .identifier_arns import UNREAD
from .mapping import ActionMap, ResourceType
from .usage import Scope

ANY = frozenset({"*"})
REGION_SCOPE, ACCOUNT_SCOPE, NO_SCOPE = "region", "account", "none"
RESOURCE_SCOPES = (REGION_SCOPE, ACCOUNT_SCOPE, NO_SCOPE)
MAX_MEMO = 200_000


class Named(NamedTuple):
    """A resource a call named, read against its prefix's formats."""

    arn: str
    format: ArnFormat
    bound: dict[str, str]  # the names it binds, its own partition/region/account included


class Scoper:
    """Resource patterns per (action, call scope), remembered: most calls repeat both."""

    def __init__(self, action_map: ActionMap, resource_scope: str = REGION_SCOPE) -> None:
        if resource_scope not in RESOURCE_SCOPES:
            raise ValueError(f"resource scope {resource_scope!r}: expected one of {', '.join(RESOURCE_SCOPES)}")
        self.action_map = action_map
        self.resource_scope = resource_scope
        self._memo: dict[tuple[str, Scope], frozenset[str]] = {}

    def patterns(self, action: str, scope: Scope) -> frozenset[str]:
        """The ARN patterns `action` needs for a call made in `scope` (`ANY`: "*")."""
        key = (action, scope)
        known = self._memo.get(key)
        if known is None:
            if len(self._memo) >= MAX_MEMO:
                self._memo.clear()
            known = self._memo[key] = self._resolve(action, scope)
        return known

    def union(self, action: str, scopes: Iterable[Scope]) -> frozenset[str]:
        """The patterns for every scope an action was needed in, without the redundant ones."""
        first: frozenset[str] | None = None
        found: set[str] = set()
        for scope in scopes:
            patterns = self.patterns(action, scope)
            if patterns is ANY:
                return ANY
            if first is None:
                first = patterns
            elif patterns != first:
                found |= patterns
        if first is None:
            return ANY
        return without_covered(found | first) if found else first

    def _resolve(self, action: str, scope: Scope) -> frozenset[str]:
        types = self.action_map.resource_types(action)
        if not types:
            return ANY
        region, account, resources = scope
        named = self._named(action.partition(":")[0], resources)
        location = self._location(region, account)
        found: list[tuple[ResourceType, list[str]]] = []
        unbound: list[tuple[ResourceType, list[str]]] = []
        alternatives = not any(kind.required for kind in types)  # S3: an object, or an access point's object
        for kind in types:
            patterns = _named_patterns(kind, named, location, fill=kind.required or alternatives)
            (found if patterns else unbound).append((kind, patterns))
        patterns = [p for _, ps in found for p in ps]
        unread = {r[len(UNREAD) :] for r in resources if r.startswith(UNREAD)}
        prefix = action.partition(":")[0]
        for kind, _ in unbound:
            if kind.required or not found or f"{prefix}/{kind.name}" in unread:
                patterns += [arn_format(text).fill(*location, {}) for text in kind.formats]
        for kind, _ in found:  # named, but the request may name another of the type where it went unread
            if f"{prefix}/{kind.name}" in unread:
                patterns += [arn_format(text).fill(*location, {}) for text in kind.formats]
        return ANY if not patterns or "*" in patterns else without_covered(patterns)

    def _location(self, region: str | None, account: str | None) -> tuple[str, str, str]:
        scoped_region = region if region and self.resource_scope == REGION_SCOPE else "*"
        scoped_account = account if account and self.resource_scope != NO_SCOPE else "*"
        return partition_of(region), scoped_region, scoped_account

    def _named(self, prefix: str, resources: tuple[str, ...]) -> list[Named]:
        formats = [text for texts in self.action_map.formats_of(prefix).values() for text in texts]
        named = []
        for arn in resources:
            found = read_arn(arn, formats, any_name=True) if formats else None
            if found is not None:
                named.append(Named(arn, *found))
        return named


def _named_patterns(kind: ResourceType, named: list[Named], location: tuple[str, str, str], *, fill: bool) -> list[str]:
    """What the named resources say about one resource type: themselves if of the type, else the names
    they bind filled into its formats (partition, region and account: the resource's own, if it says) when
    the type is one the action always needs or one of its alternatives (`fill`); an optional extra (a
    table's index) only when the call named one of its own, as a source that reads the request does when
    the request sets one. A format's names go from the outermost in: a resource fills it only when it
    binds the first one (a bucket fills `${BucketName}/${ObjectName}`; an object's key alone does not make
    every access point's `accesspoint/${AccessPointName}/object/${ObjectName}` one of the call's resources)."""
    own = [n.arn for n in named if n.format.text in kind.formats]
    if own or not fill:
        return own
    filled = []
    for text in kind.formats:
        wanted = arn_format(text).names
        for resource in named:
            if wanted and wanted[0] in resource.bound:
                partition = resource.bound.get(PARTITION) or location[0]
                region = resource.bound.get(REGION) or location[1]
                account = resource.bound.get(ACCOUNT) or location[2]
                filled.append(arn_format(text).fill(partition, region, account, resource.bound))
    return filled


def explain_scope(scoper: Scoper, action: str, scope: Scope) -> list[str]:
    """How one call's scope became the action's resources: the formats, and what filled each placeholder."""
    patterns = scoper.patterns(action, scope)
    types = scoper.action_map.resource_types(action)
    if not types:
        return [f"{action} on *: it has no resource type (the Service Authorization Reference lists none)"]
    region, account, resources = scope
    lines = [f"{action} on {', '.join(sorted(patterns))}"]
    read = [r for r in resources if not r.startswith(UNREAD)]
    unread = [r[len(UNREAD) :] for r in resources if r.startswith(UNREAD)]
    named = ", ".join(read) if read else "none"
    named += f" (and what may name a {', '.join(unread)}, unread)" if unread else ""
    region_from = f"{region} (the call)" if region and scoper.resource_scope == REGION_SCOPE else "* (not scoped)"
    account_from = (
        f"{account} (the caller's access key)" if account and scoper.resource_scope != NO_SCOPE else "* (unknown)"
    )
    lines.append(f"  resources the call named: {named}; region {region_from}; account {account_from}")
    for kind in types:
        mark = "every request" if kind.required else "some requests"
        lines.append(f"  {kind.name} ({mark}): {', '.join(kind.formats)}")
    return lines
