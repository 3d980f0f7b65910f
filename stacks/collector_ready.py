"""CloudFormation waits for the EC2 collector to be up: a wait condition and its handle, signalled by the boot
script (boot_signal.py) through the handle's presigned S3 URL.

A CreationPolicy would cover only the instance's creation. An update that changes the user data (a new
package, another port, ...) stops and starts the same instance, and CloudFormation waits for that boot too:
the handle and the condition are renamed after a fingerprint of the user data, so such an update creates a
new pair, the new condition (which depends on the instance) waits for the new boot's signal, and the old pair
is deleted afterwards. A FAILURE signal, or none within the timeout, fails the deploy; CloudFormation then
rolls the instance back to its previous user data (and package).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import aws_cdk as cdk
import jsii
from constructs import Construct

# Covers the retried package install (up to ~10 minutes in the worst case) and the collector's start.
WAIT_TIMEOUT = cdk.Duration.minutes(20)
FINGERPRINT_CHARS = 8
# Stands in for the handle's URL in the user data that is fingerprinted (the real one refers to the handle).
URL_PLACEHOLDER = "https://wait-condition-handle.invalid/"


def fingerprint(resolved: object) -> str:
    """A short, stable digest of a resolved (JSON-able) value, usable in a logical id."""
    text = json.dumps(resolved, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:FINGERPRINT_CHARS].upper()


@jsii.implements(cdk.IStableStringProducer)
class _RenamedAfter:
    """`base` + the fingerprint of what `source()` resolves to, computed when the template is written."""

    def __init__(self, stack: cdk.Stack, base: str, source: Callable[[], object]) -> None:
        self.stack = stack
        self.base = base
        self.source = source

    def produce(self) -> str:
        return self.base + fingerprint(self.stack.resolve(self.source()))


class CollectorReadiness(Construct):
    """`url` goes into the user data; `wait_for` makes the condition wait for the instance's boot."""

    def __init__(self, scope: Construct, construct_id: str, *, timeout: cdk.Duration = WAIT_TIMEOUT) -> None:
        super().__init__(scope, construct_id)
        self.handle = cdk.CfnWaitConditionHandle(self, "Handle")
        self.condition = cdk.CfnWaitCondition(
            self, "Condition", handle=self.handle.ref, count=1, timeout=str(int(timeout.to_seconds()))
        )
        self.url: str = self.handle.ref

    def wait_for(self, instance: cdk.CfnResource, *, renamed_after: Callable[[], object]) -> None:
        """Wait once `instance` is created or updated; rename both resources after what `renamed_after()`
        resolves to (the user data, with URL_PLACEHOLDER for `url`), so every change of it waits again."""
        self.condition.add_resource_dependency(instance)
        self.renamed_after = renamed_after
        stack = cdk.Stack.of(self)
        for resource in (self.handle, self.condition):
            producer = _RenamedAfter(stack, stack.get_logical_id(resource), renamed_after)
            # @jsii.implements registers the interface at runtime; mypy cannot see that.
            resource.override_logical_id(cdk.Lazy.uncached_string(producer))  # type: ignore[arg-type]
