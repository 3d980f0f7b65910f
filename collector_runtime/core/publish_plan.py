"""What to publish to S3 and SSM Parameter Store for one flush. Pure: texts in, keys and values out.

S3 layout under the prefix: policies/<workload>.json, policy.json, stats.json, state.json,
history/<workload>/<UTC time>.json (one per policy change), archive/dt=YYYY-MM-DD/<file>.jsonl.gz.
SSM: <ssm-prefix>/policies/<workload> = the compact policy: Standard tier up to 4 KB, Advanced up
to 8 KB, beyond that the S3 URI of the policy object (never a truncated policy).
stats.json is uploaded again only when more than its clocks changed, or as a heartbeat (`stats_substance`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..contract import ARCHIVE_DIR, HISTORY_DIR, MERGED_POLICY, POLICIES_DIR, STATE_FILE, STATS_FILE
from ..contract import policies_parameter_path as ssm_policies_path
from .json_codec import DECODE_ERRORS, dumps_bytes, dumps_pretty, loads
from .names import ssm_leaf
from .rendering import Rendered, RenderedPolicy

STANDARD_LIMIT = 4_096
ADVANCED_LIMIT = 8_192
PARAMETER_DESCRIPTION = "Least-privilege policy learned by csm-collector"
# stats.json fields that change at every flush of an idle collector: a stats.json differing only in these is
# uploaded again at most every STATS_HEARTBEAT_SECONDS (an idle collector: ~2,900 PUTs a month, not ~260,000).
STATS_CLOCK_FIELDS = ("written_at", "uptime_seconds", "flush_count", "previous_flush_ms", "previous_flush_write_ms")
PUBLISHING_COUNTS = ("published", "pending")  # stats.json's `publishing.<target>`: moved by uploading stats.json
STATS_HEARTBEAT_SECONDS = 900


@dataclass(frozen=True)
class PublishTargets:
    bucket: str | None = None
    prefix: str = ""  # "" or ends with "/"
    ssm_prefix: str | None = None  # starts with "/", no trailing "/"
    archive_prefix: str | None = None  # where rolled archive files go instead of <prefix>archive/ (ends with "/")

    @property
    def enabled(self) -> bool:
        return bool(self.bucket or self.ssm_prefix)

    def archive_key(self, relative: str) -> str:
        if self.archive_prefix is not None:
            return f"{self.archive_prefix}{relative}"
        return f"{self.prefix}{ARCHIVE_DIR}/{relative}"

    @property
    def state_key(self) -> str:
        return self.prefix + STATE_FILE


@dataclass
class PublishPlan:
    objects: dict[str, bytes] = field(default_factory=dict)  # S3 key -> body
    parameters: dict[str, str] = field(default_factory=dict)  # SSM name -> compact policy
    policy_keys: dict[str, str] = field(default_factory=dict)  # SSM name -> S3 key of that policy
    history: list[tuple[str, bytes]] = field(default_factory=list)  # append-only, in order
    substance: dict[str, bytes] = field(default_factory=dict)  # S3 key -> what decides whether it changed


def publish_plan(rendered: Rendered, targets: PublishTargets, stamp: str, *, record_history: bool) -> PublishPlan:
    """The objects and parameters a flush changes; `stamp` names its history entries (UTC time)."""
    plan = PublishPlan()
    for policy in rendered.policies:
        key = f"{targets.prefix}{POLICIES_DIR}/{policy.stem}.json"
        if targets.bucket:
            plan.objects[key] = policy.text.encode()
            if record_history and (policy.added or policy.removed):
                plan.history.append(history_entry(policy, targets.prefix, stamp))
        if targets.ssm_prefix:
            name = f"{ssm_policies_path(targets.ssm_prefix)}/{ssm_leaf(policy.workload)}"
            plan.parameters[name] = dumps_bytes(policy.document).decode()
            plan.policy_keys[name] = key
    if targets.bucket:
        if rendered.merged_text is not None:
            plan.objects[targets.prefix + MERGED_POLICY] = rendered.merged_text.encode()
        plan.objects[targets.prefix + STATS_FILE] = rendered.stats_text.encode()
        plan.substance[targets.prefix + STATS_FILE] = stats_substance(rendered.stats_text)
        plan.objects[targets.prefix + STATE_FILE] = rendered.state_text.encode()
    return plan


def stats_substance(stats_text: str) -> bytes:
    """stats.json without what changes at every flush of an idle collector (its clocks, and the counts of its
    own uploads, which uploading stats.json moves): equal substance, nothing new to upload."""
    try:
        stats = loads(stats_text)
    except DECODE_ERRORS:
        return stats_text.encode()
    if not isinstance(stats, dict):
        return stats_text.encode()
    for name in STATS_CLOCK_FIELDS:
        stats.pop(name, None)
    publishing = stats.get("publishing")
    if isinstance(publishing, dict):
        stats["publishing"] = {
            target: {k: v for k, v in counts.items() if k not in PUBLISHING_COUNTS}
            if isinstance(counts, dict)
            else counts
            for target, counts in publishing.items()
        }
    return dumps_bytes(stats)


def history_entry(policy: RenderedPolicy, prefix: str, stamp: str) -> tuple[str, bytes]:
    body = {
        "workload": policy.workload,
        "changed_at": stamp,
        "added": policy.added,
        "removed": policy.removed,
        "policy": policy.document,
    }
    return f"{prefix}{HISTORY_DIR}/{policy.stem}/{stamp}.json", dumps_pretty(body).encode()


@dataclass(frozen=True)
class ParameterUpdate:
    """How to publish one policy to SSM now: `request` (put_parameter arguments), or why not yet."""

    request: dict[str, Any] | None = None
    wait_for_s3: bool = False  # over 8 KB: its S3 copy must be published first
    unpublishable: bool = False  # over 8 KB and no bucket to point at


def parameter_update(
    name: str, value: str, *, bucket: str | None, s3_key: str | None, s3_published: bool, advanced: bool
) -> ParameterUpdate:
    """`advanced`: the parameter is already on the Advanced tier (AWS cannot downgrade it)."""
    tier = "Advanced" if advanced or len(value) > STANDARD_LIMIT else "Standard"
    if len(value) > ADVANCED_LIMIT:
        if not bucket:
            return ParameterUpdate(unpublishable=True)
        if not (s3_key and s3_published):
            return ParameterUpdate(wait_for_s3=True)
        value, tier = f"s3://{bucket}/{s3_key}", "Advanced" if advanced else "Standard"
    request = {
        "Name": name,
        "Value": value,
        "Type": "String",
        "Tier": tier,
        "Overwrite": True,
        "Description": PARAMETER_DESCRIPTION,
    }
    return ParameterUpdate(request=request)
