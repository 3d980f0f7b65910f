"""The mapping file read lazily: its operations, resource types and ARN formats are kept as their JSON text and
decoded the first time a lookup needs them, so a collector holds the few operations its workloads call (about
4 MiB of text instead of about 20 MiB of decoded objects).

The split follows the line layout `mapping/mapgen/render.py` writes (one line per service head, operation and
IAM prefix). Any other text (hand-written, or a future layout) is decoded whole: same lookups, more memory.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..core.json_codec import loads


class LazyJson(Mapping[str, Any]):
    """A JSON object whose members are kept as raw text and decoded (once) when first read."""

    def __init__(self, raw: dict[str, bytes]) -> None:
        self._raw = raw
        self._decoded: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        try:
            return self._decoded[key]
        except KeyError:
            value = self._decoded[key] = loads(self._raw[key])
            return value

    def __contains__(self, key: object) -> bool:
        return key in self._raw

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)


class LazyObject(Mapping[str, Any]):
    """A JSON object kept as raw text and decoded whole when first read."""

    def __init__(self, raw: bytes) -> None:
        self._raw: bytes | None = raw
        self._value: dict[str, Any] = {}

    def _decoded(self) -> dict[str, Any]:
        if self._raw is not None:
            self._value, self._raw = loads(self._raw), None
        return self._value

    def __getitem__(self, key: str) -> Any:
        return self._decoded()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._decoded())

    def __len__(self) -> int:
        return len(self._decoded())


class ByPrefix(Mapping[str, Any]):
    """Members keyed `prefix:name`, held per IAM prefix (each prefix's members decoded together)."""

    def __init__(self, prefixes: Mapping[str, dict[str, Any]]) -> None:
        self._prefixes = prefixes

    def __getitem__(self, key: str) -> Any:
        prefix = key.partition(":")[0]
        if prefix not in self._prefixes:
            raise KeyError(key)
        return self._prefixes[prefix][key]

    def __iter__(self) -> Iterator[str]:
        for prefix in self._prefixes:
            yield from self._prefixes[prefix]

    def __len__(self) -> int:
        return sum(len(self._prefixes[prefix]) for prefix in self._prefixes)


class LayoutError(ValueError):
    """The text is not in the generator's layout."""


def mapping_data(raw: bytes) -> dict[str, Any]:
    """The mapping as `ActionMap` takes it: split lazily when the text has the generator's layout."""
    try:
        return _split(raw)
    except (LayoutError, ValueError, KeyError, IndexError, TypeError):
        data: dict[str, Any] = loads(raw)
        return data


def _split(raw: bytes) -> dict[str, Any]:
    lines = iter(raw.split(b"\n"))
    _expect(next(lines), b"{")
    data: dict[str, Any] = {**_member(next(lines)), **_member(next(lines))}  # format, inputs
    _expect(next(lines), b'"services": {')
    data["services"] = _services(lines)
    name, text = _raw_member(next(lines))
    if name != "iam_actions":
        raise LayoutError("iam_actions")
    data[name] = LazyObject(text)  # one line: decoded when an action name is first checked
    data.update(_member(next(lines)))  # s3_scopes
    _expect(next(lines), b'"action_resources": {')
    data["action_resources"] = ByPrefix(LazyJson(dict(_action_resources(lines))))
    _expect(next(lines), b'"resource_formats": {')
    data["resource_formats"] = LazyJson(dict(_keyed_lines(lines, b"}")))
    _expect(next(lines), b"}")
    if data.get("format") != 2 or b"".join(lines):
        raise LayoutError("unexpected text")
    return data


def _expect(line: bytes, expected: bytes) -> None:
    if line != expected:
        raise LayoutError(f"expected {expected!r}")


def _member(line: bytes) -> dict[str, Any]:
    member: dict[str, Any] = loads(b"{" + line.removesuffix(b",") + b"}")
    if len(member) != 1:
        raise LayoutError("one member per line")
    return member


def _raw_member(line: bytes) -> tuple[str, bytes]:
    key, separator, value = line.removesuffix(b",").partition(b'": ')
    if not separator or not key.startswith(b'"') or b"\\" in key or b'"' in key[1:]:
        raise LayoutError("keyed line")
    return key[1:].decode(), value


def _services(lines: Iterator[bytes]) -> dict[str, dict[str, Any]]:
    """Per service: its head (prefix, aliases) decoded, each operation kept as its text."""
    services: dict[str, dict[str, Any]] = {}
    for head in lines:
        if head == b"},":
            return services
        if not head.endswith(b', "operations": {'):
            raise LayoutError("service head")
        operations = {}
        for line in lines:
            if line in (b"}}", b"}},"):
                break
            if not line.startswith(b"  "):
                raise LayoutError("operation line")
            api, text = _raw_member(line[2:])
            operations[api] = text
        ((service_id, record),) = _member(head + b"}}").items()
        services[service_id] = {"prefix": record["prefix"], "aliases": record["aliases"]}
        services[service_id]["operations"] = LazyJson(operations)
    raise LayoutError("unterminated services")


def _keyed_lines(lines: Iterator[bytes], end: bytes) -> Iterator[tuple[str, bytes]]:
    """`"key": value` lines (an optional comma after each) up to `end`: each key with its value's text."""
    for line in lines:
        if line == end:
            return
        yield _raw_member(line)
    raise LayoutError("unterminated section")


def _action_resources(lines: Iterator[bytes]) -> Iterator[tuple[str, bytes]]:
    """One line per IAM prefix: `"prefix:Action": [...], ...`; each prefix with the text of its object."""
    for line in lines:
        if line == b"},":
            return
        prefix, separator, _ = line.partition(b":")
        if not separator or not prefix.startswith(b'"') or b'"' in prefix[1:] or b"\\" in prefix:
            raise LayoutError("action resources line")
        yield prefix[1:].decode(), b"{" + line.removesuffix(b",") + b"}"
    raise LayoutError("unterminated section")
