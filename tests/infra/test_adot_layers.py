"""The committed ADOT layer table (collector_runtime/data/adot_layers.json, read by attach --otlp) is exactly what
the pinned aws-cdk-lib's region-info facts say: regenerate it with mapping/adot_layers.py after an upgrade."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from collector_runtime.data import ADOT_LAYERS_RESOURCE, load_adot_layers

GENERATOR = Path(__file__).resolve().parents[2] / "mapping" / "adot_layers.py"


def test_the_committed_table_is_what_aws_cdk_lib_says() -> None:
    spec = importlib.util.spec_from_file_location("adot_layers", GENERATOR)
    assert spec and spec.loader
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    committed = (Path(generator.OUTPUT).parent / ADOT_LAYERS_RESOURCE).read_text()
    assert committed == generator.rendered(), "run: .venv/bin/python mapping/adot_layers.py"


def test_every_language_has_both_architectures_in_the_main_regions() -> None:
    layers = load_adot_layers()
    assert set(layers) == {"nodejs", "python", "java", "java-agent"}
    for entry in layers.values():
        for region in ("us-east-1", "eu-west-1", "ap-northeast-1"):
            arns = entry["arns"][region]
            assert set(arns) == {"x86_64", "arm64"}
            assert all(arn.startswith(f"arn:aws:lambda:{region}:901920570463:layer:aws-otel-") for arn in arns.values())
    assert json.dumps(layers).count("arm64-ver") == json.dumps(layers).count("amd64-ver")
