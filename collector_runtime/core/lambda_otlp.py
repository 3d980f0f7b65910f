"""Point a Lambda function at a collector's OTLP receiver with an ADOT layer, and back. Pure: values in and out.

`attach_otlp` adds the ADOT layer for the function's language, region and architecture (from the generated
table, or the one given) and merges the OTEL_* variables and AWS_LAMBDA_EXEC_WRAPPER into its environment. It
records in one variable what those variables were before (or that they were absent), the layers before, and
the layer it added, so `detach_otlp` restores exactly that: the previous variables, and the layers without
the one it added (a layer someone else added or removed since is kept as it is, with a warning). Attaching
again updates the values but keeps the first record.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, NamedTuple

from ..contract import OTLP_VARIABLES, otlp_environment
from ..contract import SAVED_OTLP as SAVED
from .lambda_env import AttachError

MAX_LAYERS = 5  # Lambda's limit per function
DISTRO_LAYER = "AWSOpenTelemetryDistro"  # the newer ADOT layers (no embedded collector) all wrap with otel-instrument
DISTRO_WRAPPER = "/opt/otel-instrument"


class Layer(NamedTuple):
    arn: str
    exec_wrapper: str


class Attached(NamedTuple):
    environment: dict[str, str]
    layers: list[str]
    warnings: tuple[str, ...] = ()


def language_of(runtime: str | None) -> str:
    """nodejs, python or java: the ADOT layers' languages; AttachError for any other runtime."""
    for language in ("nodejs", "python", "java"):
        if runtime and runtime.startswith(language):
            return language
    raise AttachError(
        f"runtime {runtime or 'unknown (a container image?)'}: attach --otlp supports Node.js, Python and Java "
        "functions (the ADOT layers' languages); instrument others in their code and point them at the collector"
    )


def adot_layer(
    table: Mapping[str, Any], runtime: str | None, region: str, architecture: str, *, layer_arn: str | None = None
) -> Layer:
    """The layer to add: the given one, or the table's for this language, region and architecture."""
    language = language_of(runtime)
    entry = table[language]
    if layer_arn:
        wrapper = DISTRO_WRAPPER if f":layer:{DISTRO_LAYER}" in layer_arn else str(entry["exec_wrapper"])
        return Layer(layer_arn, wrapper)
    arn = entry["arns"].get(region, {}).get(architecture)
    if not arn:
        raise AttachError(
            f"no ADOT {language} layer for {region}/{architecture} in the table (ADOT {entry['version']}): "
            "pass --layer-arn (for example the region's AWSOpenTelemetryDistro layer)"
        )
    return Layer(str(arn), str(entry["exec_wrapper"]))


def attach_otlp(env: dict[str, str], layers: list[str], *, layer: Layer, endpoint: str, service_name: str) -> Attached:
    updated_env, updated_layers = dict(env), list(layers)
    added = None
    if _layer_version(layer.arn) not in {_layer_version(arn) for arn in layers}:
        others = [arn for arn in layers if _is_adot(arn)]
        if others:
            raise AttachError(f"already has an ADOT layer ({others[0]}): detach it first, or pass it as --layer-arn")
        if len(layers) >= MAX_LAYERS:
            raise AttachError(f"already has {len(layers)} layers, Lambda's limit: no room for the ADOT layer")
        updated_layers.append(layer.arn)
        added = layer.arn
    if SAVED not in env:
        record = {"variables": {name: env.get(name) for name in OTLP_VARIABLES}, "layers": layers, "added": added}
        updated_env[SAVED] = json.dumps(record, sort_keys=True, separators=(",", ":"))
    updated_env.update(otlp_environment(endpoint, service_name=service_name, exec_wrapper=layer.exec_wrapper))
    return Attached(updated_env, updated_layers)


def detach_otlp(env: dict[str, str], layers: list[str]) -> Attached:
    record = _record(env)
    restored = {k: v for k, v in env.items() if k not in (*OTLP_VARIABLES, SAVED)}
    restored.update({k: v for k, v in record["variables"].items() if k in OTLP_VARIABLES and v is not None})
    added = record.get("added")
    kept = [arn for arn in layers if not (added and _layer_version(arn) == _layer_version(added))]
    warnings = []
    if [_layer_version(a) for a in kept] != [_layer_version(a) for a in record.get("layers", [])]:
        warnings.append(
            "its layers changed since attach --otlp: removed only the ADOT layer attach added, kept the rest"
        )
    return Attached(restored, kept, tuple(warnings))


def is_attached(env: Mapping[str, str]) -> bool:
    return SAVED in env


def _record(env: dict[str, str]) -> dict[str, Any]:
    try:
        record = json.loads(env[SAVED])
    except (KeyError, ValueError) as error:
        raise AttachError(f"{SAVED} is missing or not valid JSON: {error}") from error
    if not isinstance(record, dict) or not isinstance(record.get("variables"), dict):
        raise AttachError(f"{SAVED} is not a record attach --otlp wrote")
    return record


def _layer_version(arn: str) -> str:
    """NAME:VERSION, how a function's layer list is compared (a layer's name and version identify it there)."""
    return arn.split(":layer:", 1)[-1]


def _is_adot(arn: str) -> bool:
    name = arn.split(":layer:", 1)[-1]
    return name.startswith(("aws-otel-", DISTRO_LAYER))
