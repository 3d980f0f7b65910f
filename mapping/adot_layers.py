"""Generate collector_runtime/data/adot_layers.json: the ADOT Lambda layer ARNs per language, region and
architecture, from the table aws-cdk-lib maintains (its region-info facts, `FactName.adot_lambda_layer`), at
the latest version aws-cdk-lib names. `attach --otlp` reads the generated file; the CDK Aspect reads the same
facts at synth time. Never hand-edited: bump aws-cdk-lib (the infra extra) and run

    .venv/bin/python mapping/adot_layers.py

tests/infra/test_adot_layers.py fails while the committed file differs from what the pinned aws-cdk-lib says.
These are the "legacy" ADOT layers (SDK, instrumentation and an embedded collector, publisher 901920570463);
the newer AWSOpenTelemetryDistro* layers are in no machine-readable table: pass them with --layer-arn.
"""

from __future__ import annotations

import json
import os
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from collector_runtime.contract import ADOT_EXEC_WRAPPERS

OUTPUT = Path(__file__).resolve().parents[1] / "collector_runtime" / "data" / "adot_layers.json"
ARCHITECTURES = ("x86_64", "arm64")
# language -> (the layer type of the fact name, the aws_lambda enum of its versions, its exec wrapper: contract's)
LANGUAGES = {
    "nodejs": ("JAVASCRIPT_SDK", "AdotLambdaLayerJavaScriptSdkVersion", ADOT_EXEC_WRAPPERS["nodejs"]),
    "python": ("PYTHON_SDK", "AdotLambdaLayerPythonSdkVersion", ADOT_EXEC_WRAPPERS["python"]),
    "java": ("JAVA_SDK", "AdotLambdaLayerJavaSdkVersion", ADOT_EXEC_WRAPPERS["java"]),
    "java-agent": (
        "JAVA_AUTO_INSTRUMENTATION",
        "AdotLambdaLayerJavaAutoInstrumentationVersion",
        ADOT_EXEC_WRAPPERS["java"],
    ),
}


def table() -> dict[str, Any]:
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    from aws_cdk import aws_lambda, region_info

    regions = sorted(region.name for region in region_info.RegionInfo.regions)
    layers: dict[str, Any] = {}
    for language, (layer_type, enum_name, wrapper) in LANGUAGES.items():
        layer_version = getattr(aws_lambda, enum_name).LATEST._layer_version
        arns: dict[str, dict[str, str]] = {}
        for region in regions:
            for architecture in ARCHITECTURES:
                fact = region_info.FactName.adot_lambda_layer(layer_type, layer_version, architecture)
                arn = region_info.Fact.find(region, fact)
                if arn:
                    arns.setdefault(region, {})[architecture] = arn
        layers[language] = {"type": layer_type, "version": layer_version, "exec_wrapper": wrapper, "arns": arns}
    return {"source": f"aws-cdk-lib {version('aws-cdk-lib')} region-info facts (adot-lambda-layer)", "layers": layers}


def rendered() -> str:
    return json.dumps(table(), indent=1, sort_keys=True) + "\n"


def main() -> int:
    OUTPUT.write_text(rendered())
    print(f"wrote {OUTPUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
