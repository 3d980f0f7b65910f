"""Learned policies the export tests use, and the same policies as they should read in a target account."""

from __future__ import annotations

import json
from typing import Any

from collector_runtime.core.export.tokens import Learned, Token

LEARNED_ACCOUNT, OTHER_ACCOUNT, TARGET_ACCOUNT = "111122223333", "444455556666", "777788889999"
LEARNED_REGION, TARGET_REGION = "eu-west-1", "ap-southeast-2"
LEARNED = Learned(frozenset({LEARNED_ACCOUNT}), LEARNED_REGION, "aws")
TARGET = {Token.ACCOUNT: TARGET_ACCOUNT, Token.REGION: TARGET_REGION, Token.PARTITION: "aws"}

POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "ObservedCalls", "Effect": "Allow", "Action": ["sts:GetCallerIdentity"], "Resource": "*"},
        {
            "Sid": "ObservedCalls1",
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:PutItem"],
            "Resource": [
                f"arn:aws:dynamodb:{LEARNED_REGION}:{LEARNED_ACCOUNT}:table/orders",
                f"arn:aws:dynamodb:{LEARNED_REGION}:{LEARNED_ACCOUNT}:table/orders/index/*",
            ],
        },
        {
            "Sid": "ObservedCalls2",
            "Effect": "Allow",
            "Action": ["sqs:SendMessage"],
            "Resource": [f"arn:aws:sqs:{LEARNED_REGION}:{OTHER_ACCOUNT}:shared-queue"],
        },
        {
            "Sid": "ObservedCalls3",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [
                "arn:aws:s3:::home-bucket/${aws:username}/*",
                'arn:aws:s3:::odd-"quoted"-%{x}/*',
                # names with `*`, `?` and `$` as the collector writes them: IAM's literal forms
                "arn:aws:s3:::home-bucket/reports/${*}.csv",
                "arn:aws:s3:::home-bucket/q${?}${$}{aws:username}",
            ],
        },
        {
            "Sid": "ObservedCalls4",
            "Effect": "Allow",
            "Action": ["lambda:InvokeFunction"],
            "Resource": [f"arn:aws:lambda:us-west-2:{LEARNED_ACCOUNT}:function:elsewhere"],
        },
        {
            "Sid": "PassRole",
            "Effect": "Allow",
            "Action": ["iam:PassRole"],
            "Resource": [f"arn:aws:iam::{LEARNED_ACCOUNT}:role/worker"],
            "Condition": {"StringEquals": {"iam:PassedToService": ["lambda.amazonaws.com"]}},
        },
    ],
}


def in_target(document: dict[str, Any]) -> dict[str, Any]:
    """The learned policy as it should read in the target account and region: written independently of the
    exporter, by replacing the learned account and region where an ARN names them."""
    text = json.dumps(document)
    text = text.replace(f":{LEARNED_ACCOUNT}:", f":{TARGET_ACCOUNT}:").replace(
        f":{LEARNED_REGION}:", f":{TARGET_REGION}:"
    )
    return dict(json.loads(text))


def normalised(document: dict[str, Any]) -> dict[str, Any]:
    """Action, Resource and condition values as lists (CDK writes a single one as a string)."""

    def listed(value: Any) -> list[Any]:
        return value if isinstance(value, list) else [value]

    statements = []
    for original in document["Statement"]:
        statement = dict(original)
        for key in ("Action", "NotAction", "Resource", "NotResource"):
            if key in statement:
                statement[key] = listed(statement[key])
        if "Condition" in statement:
            statement["Condition"] = {
                test: {key: listed(value) for key, value in keys.items()}
                for test, keys in statement["Condition"].items()
            }
        statements.append(statement)
    return {"Version": document["Version"], "Statement": statements}


def merged(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The parts' statements as one document, a statement split across parts joined again (same Sid)."""
    statements: dict[str, dict[str, Any]] = {}
    for part in parts:
        for statement in part["Statement"]:
            if statement["Sid"] in statements:
                statements[statement["Sid"]]["Action"] += statement["Action"]
            else:
                statements[statement["Sid"]] = {**statement, "Action": list(statement["Action"])}
    return {"Version": parts[0]["Version"], "Statement": list(statements.values())}


def big_policy(tables: int = 120) -> dict[str, Any]:
    """A policy over the managed-policy size limit: many actions on the learned account's tables."""
    actions = [f"dynamodb:{name}" for name in ("GetItem", "PutItem", "Query", "Scan", "UpdateItem", "DeleteItem")]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": f"ObservedCalls{index}",
                "Effect": "Allow",
                "Action": actions,
                "Resource": [f"arn:aws:dynamodb:{LEARNED_REGION}:{LEARNED_ACCOUNT}:table/table-number-{index}"],
            }
            for index in range(1, tables + 1)
        ],
    }
