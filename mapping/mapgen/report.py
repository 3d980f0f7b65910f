"""The numbers `python mapping/generate.py --report` prints: coverage, agreement with AWS's map, extras, PassRole."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from collector_runtime.core.mapping import ActionMap

from .identifier_coverage import coverage
from .models import BOTOCORE
from .primary import UNMAPPED
from .service_reference import ReferenceOperation

PERMISSIONLESS = ("no-iam-auth", "permissionless")


def report(built: Any) -> str:
    sections = [_coverage(built), identifier_coverage_lines(built), _agreement(built), _extras(built.reasons)]
    sections += [_may_need(built), _pass_role(built)]
    sections.append(_other_sdks(built))
    return "\n\n".join("\n".join(lines) for lines in sections)


def _operations(built: Any, origin: str | None = BOTOCORE) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for service_id, record in built.data["services"].items():
        if origin is None or built.origin_of.get(service_id) == origin:
            for api, mapped in record["operations"].items():
                yield service_id, api, mapped


def _coverage(built: Any) -> list[str]:
    sources = Counter(m["source"] for _, _, m in _operations(built))
    total = sum(sources.values())
    lines = ["botocore operations by source:"]
    lines += [f"  {source:20} {n:6}  {n / total:6.1%}" for source, n in sources.most_common()]
    mapped = total - sources[UNMAPPED]
    lines.append(f"  mapped to valid actions (incl. permissionless): {mapped}/{total} = {mapped / total:.2%}")
    return lines


def identifier_coverage_lines(built: Any) -> list[str]:
    """The coverage figure (see identifier_coverage) over botocore's operations and their input members."""
    import botocore.session

    wanted = {sid for sid, origin in built.origin_of.items() if origin == BOTOCORE}
    session = botocore.session.get_session()
    available = session.get_available_services()
    guessed = [n for n in (sid.lower().replace(" ", "-") for sid in wanted) if n in available]  # most: the name
    operations = []
    for name in dict.fromkeys(guessed + available):
        if not wanted:
            break
        model = session.get_service_model(name)
        if model.service_id not in wanted:
            continue
        wanted.discard(model.service_id)
        for api in model.operation_names:
            shape = model.operation_model(api).input_shape
            members = shape.members if shape is not None else {}
            uri = frozenset(m for m, s in members.items() if s.serialization.get("location") == "uri")
            operations.append((str(model.service_id), api, list(members), uri))
    return coverage(ActionMap(built.data), operations).lines()


def _agreement(built: Any) -> list[str]:
    classes: Counter[str] = Counter()
    for service_id, api, mapped in _operations(built):
        classes[_compare(mapped, built.reference_of.get((service_id, api)))] += 1
    lines = ["required actions vs AWS's AuthorizedActions (botocore operations):"]
    for kind in ("agree", "differ", "only ours", "only theirs", "neither"):
        subtotal = sum(n for k, n in classes.items() if k.split(":")[0] == kind)
        lines.append(f"  {kind:12} {subtotal:6}")
        lines += [
            f"      {k.partition(': ')[2]:76} {n:6}" for k, n in sorted(classes.items()) if k.startswith(kind + ":")
        ]
    return lines


def _compare(mapped: dict[str, Any], ref: ReferenceOperation | None) -> str:
    ours, theirs = set(mapped["actions"]), set(ref.actions if ref else ())
    if not theirs:
        if mapped["source"] == UNMAPPED:
            return "neither: no source explains it"
        return "only ours: " + ("needs no permission" if not ours else "AWS's map has no AuthorizedActions")
    if mapped["source"] == UNMAPPED:
        return "only theirs: AWS lists only request-dependent actions"
    if mapped["source"] in PERMISSIONLESS:
        return f"differ: ours needs no permission ({mapped['source']}), AWS lists actions"
    if ours <= theirs:
        return "agree: required within AWS's list" + ("" if ours == theirs else "; the rest request-dependent")
    return _difference(ours, theirs, mapped, ref)


def _difference(ours: set[str], theirs: set[str], mapped: dict[str, Any], ref: Any) -> str:
    if ref.shared and not ours & theirs:
        return "differ: AWS's entry is shared by several SDK clients; ours is this client's"
    if ours - theirs == {"iam:PassRole"}:
        return "differ: ours adds iam:PassRole for a required role member"
    if mapped["source"] in ("override", "service-rule"):
        return f"differ: reviewed {mapped['source']} kept"
    if ours & theirs:
        return "differ: ours keeps the same-named action beside AWS's"
    return "differ: ours is the same-named action, AWS's map names others (kept as companions)"


def _extras(reasons: Counter[str]) -> list[str]:
    lines = ["further actions (beyond the primary) by decision and rule (unlisted: no request member tells when):"]
    for decision in ("required", "may_need", "unlisted", "not-needed"):
        picked = {k.partition(":")[2]: n for k, n in reasons.items() if k.startswith(decision + ":")}
        lines.append(f"  {decision:12} {sum(picked.values()):6}")
        lines += [f"      {rule:40} {n:6}" for rule, n in sorted(picked.items())]
    return lines


def _may_need(built: Any) -> list[str]:
    entries = [m for _, _, mapped in _operations(built, origin=None) for m in mapped.get("may_need", [])]
    named = sum(1 for m in entries if m["when"])
    return [
        "may-need entries in the data, all services:",
        f"  naming the request members that trigger them {named:6}",
        f"  with no triggering member (if_the_request_sets: []) {len(entries) - named:6}",
    ]


def _pass_role(built: Any) -> list[str]:
    where = Counter()
    for _, _, mapped in _operations(built, origin=None):
        if "pass_role" in mapped:
            required = "iam:PassRole" in mapped["actions"]
            known = bool(mapped["pass_role"]["services"])
            where[f"{'required' if required else 'may_need'}, passed-to service {'known' if known else 'unknown'}"] += 1
    lines = ["operations that pass a role (iam:PassRole), all services:"]
    lines += [f"  {k:50} {n:6}" for k, n in sorted(where.items())]
    reasons = built.reasons
    lines.append(f"  passed-to service from the operation's own Context   {reasons['pass-role:operation']:6}")
    lines.append(f"  from the same service's other operations' Context   {reasons['pass-role:service']:6}")
    lines.append(f"  unknown (never granted unconditioned)               {reasons['pass-role:unknown']:6}")
    lines.append(
        f"    of them with a required role member (so may_need) {reasons['pass-role:required-but-target-unknown']:6}"
    )
    return lines


def _other_sdks(built: Any) -> list[str]:
    lines = ["serviceIds from other CSM-capable SDKs' models:"]
    for name, found in built.other_sdks.items():
        aliases = sorted(a for names in found.aliases.values() for a in names)
        operations = sum(len(m.model["operations"]) for m in found.dropped)
        mapped = sum(1 for _, _, m in _operations(built, origin=name) if m["source"] != UNMAPPED)
        lines.append(f"  {name}: {len(aliases)} aliases of renamed services ({', '.join(aliases)})")
        lines.append(
            f"  {name}: {len(found.dropped)} services botocore dropped, {operations} operations, {mapped} mapped"
        )
    return lines
