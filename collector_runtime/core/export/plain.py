"""Plain JSON: the full policy document, with tokens written as CloudFormation's pseudo parameters
(`${AWS::AccountId}`, `${AWS::Region}`, `${AWS::Partition}`): the form the `LearnedPolicy` CDK construct
(stacks/learned_policy.py) and a CloudFormation `Fn::Sub` read. With every learned account mapped
(`--account-map`), and one region or none, it has no token left: a policy IAM takes as it is."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..json_codec import dumps_pretty
from .tokens import Token, resolve

if TYPE_CHECKING:
    from . import ExportPolicy

PSEUDO_PARAMETERS = {
    Token.ACCOUNT: "${AWS::AccountId}",
    Token.REGION: "${AWS::Region}",
    Token.PARTITION: "${AWS::Partition}",
}


def render(policy: ExportPolicy) -> str:
    return dumps_pretty(resolve(policy.document, PSEUDO_PARAMETERS))
