"""Demo: two Lambda functions that make the same few AWS calls, one in Python with CSM pointed at the collector,
one in Node.js (the JavaScript SDK v3) with OpenTelemetry pointed at it. Optional."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .demo_function import NODEJS, PYTHON, CollectorEndpoint, DemoFunction
from .placement import Placement


class DemoStack(cdk.Stack):
    """`name` prefixes the functions' names (`<name>-demo`, `<name>-demo-node`), so copies can coexist."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        workloads: Placement,
        bucket: s3.IBucket,
        collector: CollectorEndpoint,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, description="csm-collector: demo workload (Lambda)", **kwargs)
        # construct id -> (language, the output names of its function name and invoke command)
        demos = {"Demo": (PYTHON, "InvokeCommand"), "NodeDemo": (NODEJS, "NodeInvokeCommand")}
        for demo_id, (language, invoke_output) in demos.items():
            function = DemoFunction(
                self,
                demo_id,
                language=language,
                function_name=f"{name}-{language.name_suffix}",
                placement=workloads,
                bucket=bucket,
                collector=collector,
            ).function
            cdk.CfnOutput(self, f"{demo_id}FunctionName", value=function.function_name)
            cdk.CfnOutput(
                self, invoke_output, value=f"aws lambda invoke --function-name {function.function_name} out.json"
            )
