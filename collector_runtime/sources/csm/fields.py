"""CSM datagrams as JSON: the fields the collector reads, decoded without building the rest.

A CSM event carries ~15 fields, most of them large and useless here (the user agent, the request id, the
session token). With msgspec installed (the `fast` extra), an event decodes straight into `CsmEvent`, a
struct of the fields read: every other field is validated as JSON and skipped, never built as a Python
object, so a secret such as `SessionToken` never becomes a Python string. A batch of datagrams decodes in
one call (`decode_batch`). Without msgspec, the standard library decodes the event and the same struct
shape is filled from it: one shape for the decoder either way. Pure: bytes in, events or an error out.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

# Every field any part of the CSM source reads, with its default when absent (ClientId: "", as the SDKs
# send no ClientId when none is configured). Typed `Any`: values are checked where they are used, so a
# wrong type is the same rejection whichever JSON library decoded it.
FIELDS: dict[str, Any] = {
    "ClientId": "",
    "Service": None,
    "Api": None,
    "Type": None,
    "Region": None,
    "Timestamp": None,
    "Latency": None,
    "AttemptCount": None,
    "FinalHttpStatusCode": None,
    "FinalAwsException": None,
    "FinalSdkException": None,
    "FinalAwsExceptionMessage": None,
    "AccessKey": None,
    "Fqdn": None,
}
CsmEvent = Any  # a decoded event: an object with the attributes in FIELDS (a msgspec struct or `PlainCsmEvent`)
Datagram = bytes | memoryview
DecodeEvent = Callable[[Datagram], CsmEvent]
DecodeBatch = Callable[[Sequence[Datagram]], "list[CsmEvent] | None"]


class NotJson(ValueError):
    """A datagram that is not JSON at all (or is nested too deep)."""


class NotAnObject(ValueError):
    """A datagram that is JSON but not an object."""


class PlainCsmEvent:
    """The decoded event's shape filled by the standard library's decoder (where msgspec is not installed)."""

    __slots__ = tuple(FIELDS)

    def __init__(self, record: dict[str, Any]) -> None:
        for name, default in FIELDS.items():
            setattr(self, name, record.get(name, default))


def _not_json(constant: str) -> Any:
    raise NotJson(f"{constant} is not JSON")  # the standard library accepts NaN and Infinity; JSON does not


def decode_event_plain(data: Datagram) -> PlainCsmEvent:
    """One JSON document as an event; `NotJson` or `NotAnObject` when it is not one."""
    try:
        record = json.loads(bytes(data), parse_constant=_not_json)
    except (ValueError, RecursionError) as error:
        raise NotJson(str(error)) from None
    if type(record) is not dict:
        raise NotAnObject
    return PlainCsmEvent(record)


def decode_batch_plain(datagrams: Sequence[Datagram]) -> list[CsmEvent] | None:
    """Each datagram as one event; None if any is not exactly one JSON object (the caller then decodes them
    one by one, counting each failure by its reason)."""
    try:
        return list(map(decode_event_plain, datagrams))
    except ValueError:
        return None


def _codec() -> tuple[DecodeEvent, DecodeBatch]:
    """msgspec's decoder into a struct of FIELDS when it is installed, else the standard library's."""
    try:
        import msgspec
    except ImportError:  # pragma: no cover - exercised where msgspec is absent (tests call the plain ones)
        return decode_event_plain, decode_batch_plain

    # gc=False: an event holds no container the collector keeps. Every field is Any (as in FIELDS), so only
    # a document that is not an object fails validation.
    struct = msgspec.defstruct(
        "CsmEvent", [(name, Any, default) for name, default in FIELDS.items()], gc=False, module=__name__
    )
    decode = msgspec.json.Decoder(struct).decode

    def decode_event(data: Datagram) -> CsmEvent:
        try:
            return decode(data)
        except msgspec.ValidationError:
            raise NotAnObject from None
        except (msgspec.DecodeError, RecursionError) as error:
            raise NotJson(str(error)) from None

    def decode_batch(datagrams: Sequence[Datagram]) -> list[CsmEvent] | None:
        try:
            return list(map(decode, datagrams))  # one call per batch: the loop over datagrams runs in C
        except (msgspec.DecodeError, RecursionError):  # ValidationError is a DecodeError
            return None

    return decode_event, decode_batch


decode_event, decode_batch = _codec()
