"""CloudFormation: one `AWS::IAM::ManagedPolicy` per part, in YAML (`!Sub`) or JSON (`Fn::Sub`), attached to
the role named by the optional `RoleName` parameter. A string with a token is a `Fn::Sub` of the pseudo
parameters (`${AWS::AccountId}`, ...); a literal `${` in it is written `${!`, as Fn::Sub requires."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from .naming import pascal
from .plain import PSEUDO_PARAMETERS
from .tokens import Text

if TYPE_CHECKING:
    from . import ExportPolicy

TEMPLATE_VERSION = "2010-09-09"
HAS_ROLE = "HasRoleName"
_PLAIN_KEY = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def template(policy: ExportPolicy) -> dict[str, Any]:
    """The template as JSON data; a `Fn::Sub` is {"Fn::Sub": "..."}."""
    name = pascal(policy.workload)
    resources = {
        f"{name}Policy{index}": {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {
                "Description": f"Least-privilege policy of workload {policy.workload[:300]}, learned by csm-collector"
                + (f" (part {index} of {len(policy.parts)})" if len(policy.parts) > 1 else ""),
                "Roles": {"Fn::If": [HAS_ROLE, [{"Ref": "RoleName"}], {"Ref": "AWS::NoValue"}]},
                "PolicyDocument": _cfn(part),
            },
        }
        for index, part in enumerate(policy.parts, start=1)
    }
    return {
        "AWSTemplateFormatVersion": TEMPLATE_VERSION,
        "Description": f"csm-collector export of workload {policy.workload[:300]}",
        "Parameters": {
            "RoleName": {
                "Type": "String",
                "Default": "",
                "Description": "the role the policies are attached to (empty: none)",
            }
        },
        "Conditions": {HAS_ROLE: {"Fn::Not": [{"Fn::Equals": [{"Ref": "RoleName"}, ""]}]}},
        "Resources": resources,
        "Outputs": {
            f"{key}Arn": {"Description": "the managed policy's ARN", "Value": {"Ref": key}} for key in resources
        },
    }


def render_json(policy: ExportPolicy) -> str:
    return json.dumps(template(policy), indent=2, ensure_ascii=False) + "\n"


def render_yaml(policy: ExportPolicy) -> str:
    return "\n".join(_yaml(template(policy), "")) + "\n"


def _cfn(value: Any) -> Any:
    if isinstance(value, Text):
        if not value.tokens:
            return value.literal
        return {"Fn::Sub": "".join(PSEUDO_PARAMETERS[p] if not isinstance(p, str) else _sub(p) for p in value.pieces)}
    if isinstance(value, dict):
        return {key: _cfn(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_cfn(item) for item in value]
    return value


def _sub(literal: str) -> str:
    return literal.replace("${", "${!")


def _yaml(value: Any, indent: str) -> list[str]:
    """Block YAML lines of a JSON value; scalars JSON-quoted (a subset of YAML's double-quoted style)."""
    if isinstance(value, dict):
        lines: list[str] = []
        for key, item in value.items():
            lines += _entry(f"{indent}{_key(key)}:", item, indent)
        return lines
    lines = []
    for item in value:
        lines += _entry(f"{indent}-", item, indent, in_list=True)
    return lines


def _entry(head: str, item: Any, indent: str, *, in_list: bool = False) -> list[str]:
    inline = _inline(item)
    if inline is not None:
        return [f"{head} {inline}"]
    nested = _yaml(item, indent + "  ")
    if in_list:  # "- first: x" then the rest of the mapping or list under it
        return [f"{head} {nested[0].lstrip()}", *nested[1:]]
    return [head, *nested]


def _inline(item: Any) -> str | None:
    if isinstance(item, dict) and set(item) == {"Fn::Sub"} and isinstance(item["Fn::Sub"], str):
        return f"!Sub {_scalar(item['Fn::Sub'])}"
    if isinstance(item, dict | list) and item:
        return None
    return _scalar(item)


def _scalar(value: Any) -> str:
    return json.dumps(value, ensure_ascii=True)


def _key(key: str) -> str:
    return key if _PLAIN_KEY.fullmatch(key) or key.startswith("Fn::") else _scalar(key)
