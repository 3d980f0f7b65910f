"""Which input members make an operation need a further action: the generator's trigger rules.

Each rule names the members whose presence in a request needs the action (`when`). The rules, in order:
- `pass-role`: iam:PassRole <- members holding a role (`Role`, `*RoleArn`, `*CredentialsArn`, `IamInstanceProfile`,
  also nested),
  else attribute maps that can carry one (SNS `Attributes`);
- `tags`: tagging actions <- `Tags`, `TagSpecifications`, `Tagging`, `TagList`, ...; also a further HTTP-verb
  action of API Gateway (a create that also lists `apigateway:PUT` writes its tags with PUT /tags);
- `kms-key`: kms:* <- KMS key and encryption members;
- `acl`: *Acl actions <- `ACL`, `Grant*`, `AccessControl*`;
- `object-lock`: *Retention <- `ObjectLockMode`/`ObjectLockRetainUntilDate`, *LegalHold <- `*LegalHold*`;
- `version`: *Version* actions <- `*VersionId`;
- `words`: the action's own words (less the verb and the primary action's words) in a member's name
  (`sns:PutDataProtectionPolicy` <- `DataProtectionPolicy`, `lambda:GetLayerVersion` <- `Layers`).
A trigger whose member is required (all the way down) is present in every request: the action is required
(except for `words`, where a resemblance of names is no proof: those stay request-dependent).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .members import InputShape, Match, MemberTest, words

ROLE_MEMBER = re.compile(r"(?i)^[a-z0-9]*(?:role|credentials)(?:arn|name)?$")
INSTANCE_PROFILE_MEMBER = re.compile(r"(?i)^[a-z]*instanceprofile(?:arn|name)?$")
KMS_MEMBER = re.compile(r"(?i)kms|encryptionkey|^sse|serversideencryption|encryption")
ACL_MEMBER = re.compile(r"^(ACL|Grant[A-Z]\w*|AccessControl\w*)$")
RETENTION_MEMBER = re.compile(r"^ObjectLock(Mode|RetainUntilDate)$|Retention")
VERSION_MEMBER = re.compile(r"VersionId$")
NOT_TAGGING = ("list", "get", "describe", "delete", "remove", "untag")  # reading or removing tags: no tag given
WEAK_WORDS = {"version"}  # lambda:GetLayerVersion is named by `Layers` alone
HTTP_VERBS = {"GET", "POST", "PUT", "PATCH", "DELETE"}
GENERIC_WORDS = {
    *("id", "arn", "name", "type", "config", "configuration", "setting", "option", "detail", "info", "statu"),
    *("input", "request", "client", "token", "spec", "specification", "description", "resource", "value"),
    *("for", "to", "from", "by", "with", "and", "of", "in", "on", "the", "a"),
}


@dataclass(frozen=True)
class Trigger:
    rule: str
    members: tuple[str, ...]
    always: bool  # a triggering member is required: every request carries it


def is_role_member(name: str, shape: dict[str, Any]) -> bool:
    if INSTANCE_PROFILE_MEMBER.match(name):
        return True
    return bool(ROLE_MEMBER.match(name)) and shape.get("type") == "string" and "enum" not in shape


def _is_attribute_map(name: str, shape: dict[str, Any]) -> bool:
    return shape.get("type") == "map" and "attribute" in words(name)


def _name_test(pattern: re.Pattern[str]) -> MemberTest:
    return lambda name, _shape: bool(pattern.search(name))


def _is_tag_member(name: str, _shape: dict[str, Any]) -> bool:
    return "tag" in words(name) or name.lower().startswith("tag")


def _word_test(verb: str, distinctive: set[str]) -> MemberTest:
    """A member whose name holds every distinctive word of the action (`DataProtectionPolicy` for
    sns:PutDataProtectionPolicy, `Layers` for lambda:GetLayerVersion, `ProvidedContexts` for
    sts:SetContext), and at most one word more. One shared word is not enough: `Origins` says nothing about
    cloudfront:GetVpcOrigin, `ProvisionedThroughput.WriteCapacityUnits` nothing about dynamodb:BatchWriteItem,
    `BypassPolicyLockoutSafetyCheck` nothing about kms:PutKeyPolicy."""

    needed = distinctive - WEAK_WORDS  # every one of these must be in the member's name

    def test(name: str, _shape: dict[str, Any]) -> bool:
        member_words = set(words(name)) - GENERIC_WORDS
        if not needed:  # the action says nothing beyond its verb: a flag named by the verb (`Publish`)
            return member_words == {verb}
        return needed <= member_words and len(member_words - distinctive - {verb}) <= 1

    return test


def find_trigger(action: str, namesakes: Sequence[str], shape: InputShape) -> Trigger | None:
    """The first rule that finds members for `action`, or None when no member tells.

    `namesakes` are the operation's name and its primary actions: their words are not distinctive.
    """
    for rule, test, deep in _rules(action, namesakes):
        found = (shape.anywhere if deep else shape.top_level)(test)
        if found:
            return _trigger(rule, found)
    return None


def _trigger(rule: str, found: list[Match]) -> Trigger:
    # A name that merely resembles the action's is no proof that every request needs it: a words match is
    # request-dependent even on a required member (the proxy still grants it whenever the member is sent).
    always = rule != "words" and any(m.required for m in found)
    return Trigger(rule, tuple(sorted({m.member for m in found})), always)


def _rules(action: str, namesakes: Sequence[str]) -> list[tuple[str, MemberTest, bool]]:
    prefix, _, name = action.partition(":")
    action_words = words(name)
    if action == "iam:PassRole":
        return [("pass-role", is_role_member, True), ("pass-role", _is_attribute_map, False)]
    rules: list[tuple[str, MemberTest, bool]] = []
    if ("tag" in action_words and action_words[0] not in NOT_TAGGING) or name in HTTP_VERBS:
        rules.append(("tags", _is_tag_member, True))
    if prefix == "kms":
        rules.append(("kms-key", _name_test(KMS_MEMBER), True))
    if name.lower().endswith(("acl", "acp")):
        rules.append(("acl", _name_test(ACL_MEMBER), False))
    rules += _object_lock_rules(name)
    if "version" in action_words:
        rules.append(("version", _name_test(VERSION_MEMBER), True))
    distinctive = set(action_words[1:]) - GENERIC_WORDS - _namesake_words(namesakes)
    rules.append(("words", _word_test(action_words[0], distinctive), True))
    return rules


def _object_lock_rules(name: str) -> list[tuple[str, MemberTest, bool]]:
    if name.endswith("Retention"):
        return [("object-lock", _name_test(RETENTION_MEMBER), False)]
    if name.endswith("LegalHold"):
        return [("object-lock", _name_test(re.compile("LegalHold")), False)]
    return []


def _namesake_words(namesakes: Sequence[str]) -> set[str]:
    return {w for name in namesakes for w in words(name.rpartition(":")[2])}
