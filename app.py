"""CDK entry point (`npx cdk synth`, `npx cdk deploy --all`). Settings come from CDK context (`-c key=value`);
see docs/deploying.md. cdk-nag's AwsSolutions checks run on every synth."""

from __future__ import annotations

import sys

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from stacks.app_builder import build_stacks
from stacks.collector_package import BundlingError
from stacks.config import ConfigError, config_from_context


def main() -> None:
    app = cdk.App()
    try:
        config = config_from_context(app.node)
    except ConfigError as error:
        sys.exit(f"csm-collector CDK app: bad context setting: {error}")
    try:
        build_stacks(app, config)
    except BundlingError as error:
        sys.exit(f"csm-collector CDK app: {error}")
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    app.synth()


if __name__ == "__main__":
    main()
