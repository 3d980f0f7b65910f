"""The service models of the AWS SDK for JavaScript v2 and the Go SDK v1, in botocore's format.

- JS v2: the npm package `aws-sdk` (a pinned devDependency) ships `apis/<name>-<version>.min.json`,
  botocore's format minified (shapes inlined, `string` the default type); the newest API version counts.
- Go v1: Debian's `golang-github-aws-aws-sdk-go-dev` ships no JSON models, only the generated code:
  `service/<name>/service.go` (ServiceID, endpoint id, signing name) and `api.go` (operations, HTTP
  methods, input structs with `required:"true"` tags), read here with regular expressions.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

from .models import ServiceModel

ROOT = Path(__file__).resolve().parents[2]
JS_SDK = ROOT / "node_modules" / "aws-sdk"
GO_SDK = Path("/usr/share/gocode/src/github.com/aws/aws-sdk-go")
JS_ORIGIN, GO_ORIGIN = "aws-sdk-js", "aws-sdk-go"
JS_MODEL_FILE = re.compile(r"^(.+)-(\d{4}-\d{2}-\d{2})\.min\.json$")


def js_version() -> str:
    return str(json.loads((JS_SDK / "package.json").read_text())["version"])


def go_version() -> str:
    found = re.search(r'SDKVersion = "([^"]+)"', (GO_SDK / "aws" / "version.go").read_text())
    if not found:
        raise ValueError("no SDKVersion in the Go SDK's aws/version.go")
    return found.group(1)


def js_models() -> list[ServiceModel]:
    newest: dict[str, tuple[str, Path]] = {}
    for path in sorted((JS_SDK / "apis").glob("*.min.json")):
        match = JS_MODEL_FILE.match(path.name)
        if match and match.group(2) >= newest.get(match.group(1), ("", path))[0]:
            newest[match.group(1)] = (match.group(2), path)
    models = []
    for name, (_, path) in sorted(newest.items()):
        model = expand_minified(json.loads(path.read_text()))
        models.append(ServiceModel(model["metadata"]["serviceId"], name, model, JS_ORIGIN))
    return models


def expand_minified(raw: dict[str, Any]) -> dict[str, Any]:
    """JS v2's minified model -> botocore's: every inline shape gets a name, `string` when untyped."""
    shapes: dict[str, Any] = {}
    counter = itertools.count()

    def ref(definition: dict[str, Any]) -> dict[str, str]:
        if "shape" in definition:
            return {"shape": definition["shape"]}
        name = f"__inline{next(counter)}"
        shapes[name] = expand(definition)
        return {"shape": name}

    def expand(definition: dict[str, Any]) -> dict[str, Any]:
        shape = {k: v for k, v in definition.items() if k not in ("members", "member", "key", "value")}
        shape.setdefault("type", "structure" if "members" in definition else "string")
        if "members" in definition:
            shape["members"] = {n: ref(m) for n, m in definition["members"].items()}
        for part in ("member", "key", "value"):
            if part in definition:
                shape[part] = ref(definition[part])
        return shape

    for name, definition in raw.get("shapes", {}).items():
        shapes[name] = expand(definition)
    operations = {}
    for key, spec in raw["operations"].items():
        operations[key] = {k: v for k, v in spec.items() if k not in ("input", "output")} | {"name": key}
        if "input" in spec:
            operations[key]["input"] = ref(spec["input"])
    return {"metadata": raw["metadata"], "operations": operations, "shapes": shapes}


def go_models() -> list[ServiceModel]:
    models = []
    for service_go in sorted((GO_SDK / "service").glob("*/service.go")):
        meta = _go_metadata(service_go.read_text())
        if meta:
            model = go_model(meta, (service_go.parent / "api.go").read_text())
            models.append(ServiceModel(meta["serviceId"], service_go.parent.name, model, GO_ORIGIN))
    return models


def _go_metadata(text: str) -> dict[str, str] | None:
    service_id = re.search(r'\bServiceID\s*=\s*"([^"]+)"', text)
    endpoint = re.search(r'\bServiceName\s*=\s*"([^"]+)"', text)
    if not (service_id and endpoint):
        return None
    signing = re.search(r'c\.SigningName = "([^"]+)"', text)
    name = endpoint.group(1)
    return {
        "serviceId": service_id.group(1),
        "endpointPrefix": name,
        "signingName": signing.group(1) if signing else name,
    }


GO_REQUEST = re.compile(r"func \(c \*\w+\) (\w+)Request\(input \*(\w+)\)[^{]*\{(.*?)\n\}\n", re.S)
GO_HTTP_METHOD = re.compile(r'HTTPMethod:\s*"(\w+)"')
GO_STRUCT = re.compile(r"^type (\w+) struct \{\n(.*?)\n\}", re.S | re.M)
GO_FIELD = re.compile(r"^\t([A-Z]\w*) (\[\]\*|\[\]|\*|map\[string\]\*|map\[string\])?([\w.]+) `([^`]*)`", re.M)


def go_model(meta: dict[str, str], api_go: str) -> dict[str, Any]:
    """Operations and input shapes from the Go SDK's generated api.go, in botocore's format."""
    operations: dict[str, Any] = {}
    for name, input_type, body in GO_REQUEST.findall(api_go):
        method = GO_HTTP_METHOD.search(body)
        spec: dict[str, Any] = {"name": name, "http": {"method": method.group(1) if method else "POST"}}
        spec["input"] = {"shape": input_type}
        if "AnonymousCredentials" in body:
            spec["authtype"] = "none"
        operations[name] = spec
    shapes = {"__string": {"type": "string"}, "__boolean": {"type": "boolean"}}
    for struct, body in GO_STRUCT.findall(api_go):
        shapes[struct] = _go_struct(struct, body, shapes)
    return {"metadata": meta, "operations": operations, "shapes": shapes}


def _go_struct(struct: str, body: str, shapes: dict[str, Any]) -> dict[str, Any]:
    members, required = {}, []
    for field_name, container, go_type, tags in GO_FIELD.findall(body):
        element = go_type if not go_type.startswith(("string", "int", "float", "bool", "time.", "io.", "aws.")) else ""
        element = element or ("__boolean" if go_type == "bool" else "__string")
        if container.startswith(("[]", "map")):
            kind = "list" if container.startswith("[]") else "map"
            part = "member" if kind == "list" else "value"
            shapes[f"{struct}.{field_name}"] = {"type": kind, part: {"shape": element}}
            element = f"{struct}.{field_name}"
        if 'enum:"' in tags:
            element = "__enum"
            shapes[element] = {"type": "string", "enum": []}
        members[field_name] = {"shape": element}
        if 'required:"true"' in tags:
            required.append(field_name)
    return {"type": "structure", "members": members, "required": required}
