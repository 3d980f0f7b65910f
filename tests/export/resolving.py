"""Evaluate what each target language makes of the exported tokens, independently of the exporter: the
CloudFormation intrinsics CDK and the templates use (Ref, Fn::Join, Fn::Sub), and HCL quoted templates."""

from __future__ import annotations

import re
from typing import Any

from .policies import TARGET_ACCOUNT, TARGET_REGION

PSEUDO = {"AWS::AccountId": TARGET_ACCOUNT, "AWS::Region": TARGET_REGION, "AWS::Partition": "aws"}
TERRAFORM_ATTRIBUTES = {"account_id": TARGET_ACCOUNT, "region": TARGET_REGION, "partition": "aws"}
_SUB = re.compile(r"\$\{(!?)([^}]*)\}")


def intrinsics(node: Any) -> Any:
    """A template value with Ref, Fn::Join and Fn::Sub of the pseudo parameters evaluated."""
    if isinstance(node, list):
        return [intrinsics(item) for item in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"Ref"} and node["Ref"] in PSEUDO:
        return PSEUDO[node["Ref"]]
    if set(node) == {"Fn::Join"}:
        separator, items = node["Fn::Join"]
        return separator.join(intrinsics(item) for item in items)
    if set(node) == {"Fn::Sub"}:
        return _SUB.sub(lambda m: "${" + m[2] + "}" if m[1] else PSEUDO[m[2]], node["Fn::Sub"])
    return {key: intrinsics(value) for key, value in node.items()}


_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


def hcl_string(raw: str) -> str:
    """The value of an HCL quoted template whose interpolations are data-source attributes."""
    assert raw[0] == raw[-1] == '"', raw
    text, out, i = raw[1:-1], [], 0
    while i < len(text):
        if text.startswith(("$${", "%%{"), i):
            out.append(text[i + 1 : i + 3])
            i += 3
        elif text.startswith("${", i):
            end = text.index("}", i)
            reference = text[i + 2 : end].split(".")
            assert reference[0] == "data" and reference[1] in ("aws_caller_identity", "aws_region", "aws_partition")
            out.append(TERRAFORM_ATTRIBUTES[reference[3]])
            i = end + 1
        elif text[i] == "\\":
            if text[i + 1] == "u":
                out.append(chr(int(text[i + 2 : i + 6], 16)))
                i += 6
            else:
                out.append(_ESCAPES[text[i + 1]])
                i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def terraform_documents(parsed: dict[str, Any]) -> list[dict[str, Any]]:
    """The policy documents of the `aws_iam_policy_document` data sources (python-hcl2's parse)."""
    documents = []
    for block in parsed["data"]:
        for kind, named in block.items():
            if kind != '"aws_iam_policy_document"':
                continue
            for body in named.values():
                documents.append({"Version": "2012-10-17", "Statement": [_statement(s) for s in body["statement"]]})
    return documents


def _statement(block: dict[str, Any]) -> dict[str, Any]:
    statement: dict[str, Any] = {"Sid": hcl_string(block["sid"]), "Effect": hcl_string(block["effect"])}
    for key, name in (("actions", "Action"), ("resources", "Resource")):
        if key in block:
            statement[name] = [hcl_string(value) for value in block[key]]
    for condition in block.get("condition", []):
        test, variable = hcl_string(condition["test"]), hcl_string(condition["variable"])
        statement.setdefault("Condition", {}).setdefault(test, {})[variable] = [
            hcl_string(v) for v in condition["values"]
        ]
    return statement
