"""Each export format, checked by the real tool: CDK Python synthesizes, CDK TypeScript compiles against the
pinned aws-cdk-lib (and synthesizes), CloudFormation is cfn-lint clean, Terraform parses as HCL; and each
resolves, in a target account and region, to the learned policy with the account and region substituted."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import hcl2
import pytest
from aws_cdk import assertions
from aws_cdk import aws_iam as iam
from cfnlint.api import lint
from cfnlint.decode import decode_str

from collector_runtime.core.export import export_policy, render
from collector_runtime.core.export.tokens import Token
from collector_runtime.core.policy_size import MANAGED_POLICY_MAX_CHARS, policy_size
from tests.oracle.iam_oracle import Request, evaluate

from .policies import LEARNED, POLICY, TARGET_ACCOUNT, TARGET_REGION, big_policy, in_target, merged, normalised
from .resolving import PSEUDO, intrinsics, terraform_documents

REPO_ROOT = Path(__file__).resolve().parents[2]
CASES = {"small": POLICY, "split": big_policy()}
pytestmark = pytest.mark.slow


def _expected(case: str) -> dict[str, Any]:
    return normalised(in_target(CASES[case]))


def _managed_policies(template: dict[str, Any]) -> list[dict[str, Any]]:
    """The documents of the template's managed policies, in logical-id order, intrinsics evaluated."""
    resources = template["Resources"]
    return [
        intrinsics(resources[key]["Properties"]["PolicyDocument"])
        for key in sorted(resources)
        if resources[key]["Type"] == "AWS::IAM::ManagedPolicy"
    ]


def _check_parts(parts: list[dict[str, Any]], case: str) -> None:
    assert len(parts) == (1 if case == "small" else len(export_policy("w", CASES[case], LEARNED).parts)) >= 1
    assert all(policy_size(part) <= MANAGED_POLICY_MAX_CHARS for part in parts)
    assert normalised(merged([normalised(p) for p in parts])) == _expected(case)


@pytest.mark.parametrize("case", sorted(CASES))
def test_cdk_python_synthesizes_to_the_learned_policy(tmp_path: Path, case: str) -> None:
    module_file = tmp_path / "orders_api_policy.py"
    module_file.write_text(render("cdk-python", export_policy("orders-api", CASES[case], LEARNED)))
    spec = importlib.util.spec_from_file_location("orders_api_policy", module_file)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    stack = cdk.Stack(cdk.App(), "Target", env=cdk.Environment(account=TARGET_ACCOUNT, region=TARGET_REGION))
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    policies = module.attach_orders_api_policy(stack, "Learned", role)
    template = assertions.Template.from_stack(stack).to_json()
    assert len(policies) == len(_managed_policies(template))
    _check_parts(_managed_policies(template), case)
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::IAM::ManagedPolicy":
            assert resource["Properties"]["Roles"] == [{"Ref": stack.get_logical_id(role.node.default_child)}]


@pytest.mark.timeout(240)
def test_cdk_typescript_compiles_and_synthesizes_to_the_learned_policy(tmp_path: Path) -> None:
    (tmp_path / "node_modules").symlink_to(REPO_ROOT / "node_modules")
    for case, document in CASES.items():
        (tmp_path / f"{case}.ts").write_text(render("cdk-typescript", export_policy("orders-api", document, LEARNED)))
    main = ['import * as cdk from "aws-cdk-lib";', 'import * as iam from "aws-cdk-lib/aws-iam";']
    main += [f'import * as {case} from "./{case}";' for case in CASES]
    main += ["declare const process: { argv: string[] };  // Node's, without @types/node"]
    main += ["const app = new cdk.App({ outdir: process.argv[2] });"]
    for case in CASES:
        main += [
            f'const {case}Stack = new cdk.Stack(app, "{case}", '
            f'{{ env: {{ account: "{TARGET_ACCOUNT}", region: "{TARGET_REGION}" }} }});',
            f'const {case}Role = new iam.Role({case}Stack, "Role", '
            '{ assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com") });',
            f'{case}.attachOrdersApiPolicy({case}Stack, "Learned", {case}Role);',
        ]
    main += ["app.synth();"]
    (tmp_path / "main.ts").write_text("\n".join(main) + "\n")
    tsconfig = {
        "compilerOptions": {
            "strict": True,
            "target": "ES2022",
            "module": "commonjs",
            "outDir": "out",
            "skipLibCheck": True,
        },
        "files": ["main.ts"],
    }
    (tmp_path / "tsconfig.json").write_text(json.dumps(tsconfig))
    tsc = subprocess.run(
        [str(REPO_ROOT / "node_modules/.bin/tsc"), "-p", str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert tsc.returncode == 0, tsc.stdout + tsc.stderr
    synth = subprocess.run(
        ["node", str(tmp_path / "out/main.js"), str(tmp_path / "cdk.out")],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NODE_PATH": str(REPO_ROOT / "node_modules")},
    )
    assert synth.returncode == 0, synth.stderr
    for case in CASES:
        template = json.loads((tmp_path / f"cdk.out/{case}.template.json").read_text())
        _check_parts(_managed_policies(template), case)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("name", ["cloudformation", "cloudformation-json"])
def test_cloudformation_is_lint_clean_and_resolves_to_the_learned_policy(name: str, case: str) -> None:
    text = render(name, export_policy("orders-api", CASES[case], LEARNED))
    assert [str(match) for match in lint(text, regions=["us-east-1", TARGET_REGION])] == []
    template, problems = decode_str(text)
    assert not problems and template is not None
    _check_parts(_managed_policies(json.loads(json.dumps(template))), case)  # plain dicts and strings


@pytest.mark.parametrize("case", sorted(CASES))
def test_terraform_parses_as_hcl_and_resolves_to_the_learned_policy(case: str) -> None:
    text = render("terraform", export_policy("orders-api", CASES[case], LEARNED))
    parsed = hcl2.loads(text)
    _check_parts(terraform_documents(parsed), case)
    resources = [block for block in parsed["resource"] if '"aws_iam_policy"' in block]
    assert len(resources) == len(terraform_documents(parsed))


def test_plain_json_names_the_pseudo_parameters_and_keeps_policy_variables() -> None:
    text = render("json", export_policy("orders-api", POLICY, LEARNED))
    assert "${aws:username}" in text  # an IAM policy variable stays as it is
    for name, value in PSEUDO.items():  # what the LearnedPolicy construct substitutes
        text = text.replace("${" + name + "}", value)
    assert normalised(json.loads(text)) == _expected("small")


def _requests() -> list[Request]:
    target, learned, other = TARGET_ACCOUNT, LEARNED.values()[Token.ACCOUNT], "444455556666"
    table = f"arn:aws:dynamodb:{TARGET_REGION}:{target}:table/orders"
    return [
        Request("sts:GetCallerIdentity", "*", account=target),
        Request("dynamodb:GetItem", table, account=target),
        Request("dynamodb:Query", f"{table}/index/by-date", account=target),
        Request("dynamodb:GetItem", f"arn:aws:dynamodb:eu-west-1:{learned}:table/orders", account=target),
        Request("dynamodb:GetItem", f"arn:aws:dynamodb:{TARGET_REGION}:{target}:table/other", account=target),
        Request("sqs:SendMessage", f"arn:aws:sqs:{TARGET_REGION}:{other}:shared-queue", account=target),
        Request("sqs:SendMessage", f"arn:aws:sqs:{TARGET_REGION}:{target}:shared-queue", account=target),
        Request("s3:GetObject", "arn:aws:s3:::home-bucket/alice/k", account=target, context={"aws:username": "alice"}),
        Request("s3:GetObject", "arn:aws:s3:::home-bucket/bob/k", account=target, context={"aws:username": "alice"}),
        Request("lambda:InvokeFunction", f"arn:aws:lambda:us-west-2:{target}:function:elsewhere", account=target),
        Request("lambda:InvokeFunction", f"arn:aws:lambda:{TARGET_REGION}:{target}:function:elsewhere", account=target),
        Request(
            "iam:PassRole",
            f"arn:aws:iam::{target}:role/worker",
            account=target,
            context={"iam:PassedToService": "lambda.amazonaws.com"},
        ),
        Request(
            "iam:PassRole",
            f"arn:aws:iam::{target}:role/worker",
            account=target,
            context={"iam:PassedToService": "ecs-tasks.amazonaws.com"},
        ),
        # the literal forms: one name each (the evaluator takes a `*` in a request's resource for a pattern)
        Request("s3:GetObject", "arn:aws:s3:::home-bucket/reports/other.csv", account=target),
        Request("s3:GetObject", "arn:aws:s3:::home-bucket/q?${aws:username}", account=target),
        Request("s3:GetObject", "arn:aws:s3:::home-bucket/qx${aws:username}", account=target),
        Request("s3:GetObject", "arn:aws:s3:::home-bucket/q?alice", account=target, context={"aws:username": "alice"}),
    ]


@pytest.mark.timeout(240)
def test_the_iam_evaluator_finds_every_format_allows_exactly_what_the_json_allows() -> None:
    requests = _requests()
    expected = [d.identity_result for d in evaluate(in_target(POLICY), requests)]
    assert "Allowed" in expected and "ImplicitlyDenied" in expected
    assert expected[-4:] == ["ImplicitlyDenied", "Allowed", "ImplicitlyDenied", "ImplicitlyDenied"]  # literal forms
    policy = export_policy("orders-api", POLICY, LEARNED)
    exported = {
        "cloudformation": _managed_policies(decode_str(render("cloudformation", policy))[0]),
        "terraform": terraform_documents(hcl2.loads(render("terraform", policy))),
        "split": _managed_policies(
            json.loads(render("cloudformation-json", export_policy("w", POLICY, LEARNED, max_chars=500)))
        ),
    }
    assert len(exported["split"]) > 1
    for name, documents in exported.items():
        plain = json.loads(json.dumps(documents))  # cfn-lint's nodes as plain dicts and strings
        assert [d.identity_result for d in evaluate(plain, requests)] == expected, name
