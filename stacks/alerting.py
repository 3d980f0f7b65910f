"""Alerting (context `alerts=true`): an EventBridge bus the collector puts its alerts on, a rule sending them
to an SNS topic (optionally an e-mail subscription, `alertsEmail`), and the collector's permissions:
events:PutEvents on that bus only, and the IAM reads drift needs on the mapped roles only (`alertsRoleMap`)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from collector_runtime.contract import EVENT_SOURCE, setting_variable

from .nag import acknowledge

# What drift reads of a role (commands/compare_inputs.granted_by_role): the role, its inline policies and
# its attached managed policies' default versions.
ROLE_READS = ("iam:GetRole", "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies")
POLICY_READS = ("iam:GetPolicy", "iam:GetPolicyVersion")


class Alerting(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, email: str | None, role_map: tuple[tuple[str, str], ...]
    ) -> None:
        super().__init__(scope, construct_id)
        self.bus = events.EventBus(self, "Bus", description="csm-collector: NewAction, DeniedCall and Drift alerts")
        self.topic = sns.Topic(self, "Topic", display_name="csm-collector alerts", enforce_ssl=True)
        if email:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        events.Rule(
            self,
            "Rule",
            event_bus=self.bus,
            event_pattern=events.EventPattern(source=[EVENT_SOURCE]),
            targets=[targets.SnsTopic(self.topic)],
            description="Every csm-collector alert to the alerts topic",
        )
        roles = sorted({arn for _, arn in role_map})
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            description="csm-collector: put alerts on its bus; read the mapped roles' policies (drift)",
            statements=[
                iam.PolicyStatement(actions=["events:PutEvents"], resources=[self.bus.event_bus_arn]),
                *self._drift_statements(roles),
            ],
        )
        if roles:
            self._acknowledge_policy_reads()
        self.environment = {setting_variable("--alerts-event-bus"): self.bus.event_bus_name}
        if role_map:
            self.environment[setting_variable("--role-map")] = " ".join(f"{w}={arn}" for w, arn in role_map)
        acknowledge(
            self.topic,
            "AwsSolutions-SNS2",
            "EventBridge can publish to an encrypted topic only with a customer managed KMS key (about $1 a month); "
            "the alerts name actions and resources, never a secret or a request body",
        )

    def _drift_statements(self, roles: list[str]) -> list[iam.PolicyStatement]:
        if not roles:
            return []
        partition, account = cdk.Aws.PARTITION, cdk.Aws.ACCOUNT_ID
        policies = [f"arn:{partition}:iam::aws:policy/*", f"arn:{partition}:iam::{account}:policy/*"]
        return [
            iam.PolicyStatement(actions=list(ROLE_READS), resources=roles),
            iam.PolicyStatement(actions=list(POLICY_READS), resources=policies),
        ]

    def _acknowledge_policy_reads(self) -> None:
        acknowledge(
            self.policy,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::aws:policy/*]",
            "drift reads the managed policies attached to the mapped roles, which are attached and detached "
            "after deployment: reads of policy documents only (GetPolicy, GetPolicyVersion)",
        )
        acknowledge(
            self.policy,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:policy/*]",
            "drift reads the customer managed policies attached to the mapped roles, which change after "
            "deployment: reads of policy documents only (GetPolicy, GetPolicyVersion)",
        )

    def grant(self, role: iam.IRole) -> None:
        self.policy.attach_to_role(role)
