"""The app as a whole: four environment-agnostic stacks that need no lookups, in dependency order, and the
context keys no synthesized variant covers."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2

from stacks.app_builder import build_stacks
from stacks.config import config_from_context
from tests.infra.synth import SynthesizedApp, new_app

pytestmark = pytest.mark.slow


def test_stacks_are_environment_agnostic_and_need_no_lookups(ec2: SynthesizedApp) -> None:
    for stack in (ec2.stacks.network, ec2.stacks.storage, ec2.stacks.collector, ec2.stacks.demo):
        assert stack is not None
        assert cdk.Token.is_unresolved(stack.account)
        assert cdk.Token.is_unresolved(stack.region)
    manifest = json.loads((ec2.outdir / "manifest.json").read_text())
    assert "missing" not in manifest  # no context lookups, so no cdk.context.json and no credentials at synth


def test_stacks_deploy_in_lifecycle_order(ec2: SynthesizedApp) -> None:
    stacks = ec2.stacks
    assert stacks.demo is not None
    assert {dependency.stack_name for dependency in stacks.collector.dependencies} == {
        "CsmCollectorNetwork",
        "CsmCollectorStorage",
    }
    assert "CsmCollector" in {dependency.stack_name for dependency in stacks.demo.dependencies}


def test_nat_instance_type_follows_the_context() -> None:
    app = new_app({"natInstanceType": "t4g.small"})
    stacks = build_stacks(app, config_from_context(app.node))
    nat = stacks.network.node.find_child("Network").node.find_child("Vpc").node.find_child("publicSubnet1")
    cfn_instance = nat.node.find_child("NatInstance").node.default_child
    assert isinstance(cfn_instance, ec2.CfnInstance)
    assert cfn_instance.instance_type == "t4g.small"
