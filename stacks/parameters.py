"""Plain-text SSM parameters under the app's prefix, so other tools and stacks can find things by name."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import aws_ssm as ssm
from constructs import Construct


class ParameterDirectory(Construct):
    """One String parameter per entry of `values` (full parameter name -> value, tokens allowed)."""

    def __init__(self, scope: Construct, construct_id: str, *, values: Mapping[str, str], description: str) -> None:
        super().__init__(scope, construct_id)
        self.parameters = {
            name: ssm.StringParameter(
                self,
                parameter_construct_id(name),
                parameter_name=name,
                string_value=value,
                description=description,
            )
            for name, value in values.items()
        }


def parameter_construct_id(name: str) -> str:
    """`/csm-collector/collector/address` -> `CollectorAddress` (the last two path segments, capitalised)."""
    words = [part for segment in name.strip("/").split("/")[-2:] for part in segment.replace("_", "-").split("-")]
    return "".join(word[:1].upper() + word[1:] for word in words if word)
