"""Synthesize the CDK app the way app.py does (cdk.json's context, no bundling) and read its templates."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import assertions

from stacks.app_builder import CsmStacks, build_stacks
from stacks.config import CollectorConfig, config_from_context

REPO_ROOT = Path(__file__).resolve().parents[2]
SKIP_BUNDLING = {"aws:cdk:bundling-stacks": []}
ACKNOWLEDGED_RULES_METADATA = "aws:cdk:acknowledged-rules"

# Context exactly as a user would pass it on the command line (`-c key=value`: strings).
VARIANTS: dict[str, dict[str, str]] = {
    "ec2": {},
    "fargate": {"collector": "fargate"},
    "ec2-custom": {
        "egress": "nat-gateway",
        "allowVpcCidr": "true",
        "port": "31001",
        "instanceType": "m7g.medium",
        "ssmPrefix": "/team/csm",
        "s3Prefix": "team/csm/",
        "archiveRetentionDays": "30",
        "vpcCidr": "10.9.0.0/20",
    },
    "fargate-endpoints": {"collector": "fargate", "egress": "endpoints"},
    "ec2-endpoints": {"egress": "endpoints"},
    "fargate-proxy": {"collector": "fargate", "proxy": "true"},
    "ec2-alerts": {
        "alerts": "true",
        "alertsEmail": "ops@example.com",
        "alertsRoleMap": "orders=arn:aws:iam::123456789012:role/orders "
        "billing=arn:aws:iam::123456789012:role/b/billing",
    },
    "fargate-proxy-alerts": {"collector": "fargate", "proxy": "true", "alerts": "true"},
}


def cdk_json_context() -> dict[str, Any]:
    context: dict[str, Any] = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    return context


def new_app(context: Mapping[str, object], outdir: Path | None = None) -> cdk.App:
    return cdk.App(
        context={**cdk_json_context(), **SKIP_BUNDLING, **context},
        outdir=str(outdir) if outdir else None,
    )


@dataclass
class SynthesizedApp:
    app: cdk.App
    config: CollectorConfig
    stacks: CsmStacks
    templates: dict[str, dict[str, Any]]
    outdir: Path
    _assertion_templates: dict[str, assertions.Template] = field(default_factory=dict)

    def template(self, stack_name: str) -> assertions.Template:
        """An assertions.Template for one stack (built once, shared by every test)."""
        if stack_name not in self._assertion_templates:
            self._assertion_templates[stack_name] = assertions.Template.from_json(self.templates[stack_name])
        return self._assertion_templates[stack_name]

    def resources(self, stack_name: str, resource_type: str) -> dict[str, dict[str, Any]]:
        resources = self.templates[stack_name]["Resources"]
        return {name: body for name, body in resources.items() if body["Type"] == resource_type}

    def only_resource(self, stack_name: str, resource_type: str) -> tuple[str, dict[str, Any]]:
        found = self.resources(stack_name, resource_type)
        assert len(found) == 1, f"expected one {resource_type} in {stack_name}, found {sorted(found)}"
        return next(iter(found.items()))

    def asset_manifest(self, stack_name: str) -> dict[str, Any]:
        manifest: dict[str, Any] = json.loads((self.outdir / f"{stack_name}.assets.json").read_text())
        return manifest

    def results_bucket_id(self) -> str:
        """The logical id of the (versioned) results bucket in the storage stack."""
        (bucket_id,) = [
            name
            for name, body in self.resources(self.stacks.storage.stack_name, "AWS::S3::Bucket").items()
            if "VersioningConfiguration" in body["Properties"]
        ]
        return bucket_id

    def all_resources(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        for stack_name, template in self.templates.items():
            for name, body in template["Resources"].items():
                yield stack_name, name, body

    def resolve(self, value: Any) -> Any:
        """Follow a weak cross-stack reference (`Fn::GetStackOutput`) to the producing stack's output value."""
        if isinstance(value, dict) and "Fn::GetStackOutput" in value:
            reference = value["Fn::GetStackOutput"]
            return self.resolve(self.templates[reference["StackName"]]["Outputs"][reference["OutputName"]]["Value"])
        return value


class Variants:
    """Synthesizes each variant of VARIANTS at most once, on first use."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._synthesized: dict[str, SynthesizedApp] = {}

    def get(self, name: str) -> SynthesizedApp:
        if name not in self._synthesized:
            self._synthesized[name] = synthesize(VARIANTS[name], self._root / name)
        return self._synthesized[name]


def synthesize(context: Mapping[str, object], outdir: Path) -> SynthesizedApp:
    app = new_app(context, outdir)
    config = config_from_context(app.node)
    stacks = build_stacks(app, config)
    assembly = app.synth()
    built = [stacks.network, stacks.storage, stacks.collector, stacks.demo]
    templates = {
        stack.stack_name: assembly.get_stack_by_name(stack.stack_name).template for stack in built if stack is not None
    }
    return SynthesizedApp(app=app, config=config, stacks=stacks, templates=templates, outdir=outdir)


_LOGICAL_ID_HASH = re.compile(r"<([A-Za-z0-9]+?)[0-9A-F]{8}((?:\.[A-Za-z]+)?)>")


def without_logical_id_hashes(rule_id: str) -> str:
    """`AwsSolutions-IAM5[Resource::<ResultsBucket46167C27.Arn>/x/*]` -> `...[Resource::<ResultsBucket.Arn>/x/*]`."""
    return _LOGICAL_ID_HASH.sub(r"<\1\2>", rule_id)


def acknowledgments(app: cdk.App) -> dict[str, dict[str, str]]:
    """Construct path -> {rule id: reason}, for every acknowledgment recorded in the app."""
    found: dict[str, dict[str, str]] = {}
    for construct in app.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == ACKNOWLEDGED_RULES_METADATA:
                found.setdefault(construct.node.path, {}).update(entry.data)
    return found


def render_text(value: Any) -> str:
    """A template string value as readable text: Fn::Join/Fn::Base64 flattened, other intrinsics as `{...}`."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(render_text(part) for part in parts)
    if isinstance(value, dict) and "Fn::Base64" in value:
        return render_text(value["Fn::Base64"])
    return "{" + json.dumps(value, sort_keys=True) + "}"


def flat_parts(value: Any) -> list[Any]:
    """The literal strings and intrinsics of a string value, in order, with Fn::Join/Fn::Base64 flattened."""
    if isinstance(value, dict) and "Fn::Join" in value:
        return [part for item in value["Fn::Join"][1] for part in flat_parts(item)]
    if isinstance(value, dict) and "Fn::Base64" in value:
        return flat_parts(value["Fn::Base64"])
    return [value]


def value_after(value: Any, text_before: str) -> Any:
    """The intrinsic that directly follows the literal ending in `text_before` (e.g. `CSM_COLLECTOR_S3_BUCKET=`)."""
    parts = flat_parts(value)
    for index, part in enumerate(parts[:-1]):
        if isinstance(part, str) and part.endswith(text_before):
            return parts[index + 1]
    raise AssertionError(f"nothing follows {text_before!r}")
