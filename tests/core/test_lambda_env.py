from __future__ import annotations

import pytest

from collector_runtime.core.lambda_env import (
    SAVED,
    AttachError,
    address_in,
    attach,
    changes,
    detach,
    egress_allows,
    runtime_warning,
)

BEFORE = {"TABLE": "orders", "AWS_CSM_PORT": "9999", "LOG_LEVEL": "info"}


def test_attach_merges_and_detach_restores_exactly() -> None:
    attached = attach(BEFORE, host="10.0.1.5", port=31000, client_id="orders-api")
    assert attached["TABLE"] == "orders" and attached["LOG_LEVEL"] == "info"
    assert (
        attached["AWS_CSM_ENABLED"],
        attached["AWS_CSM_HOST"],
        attached["AWS_CSM_PORT"],
        attached["AWS_CSM_CLIENT_ID"],
    ) == ("true", "10.0.1.5", "31000", "orders-api")
    assert detach(attached) == BEFORE


def test_attaching_twice_still_restores_the_original() -> None:
    once = attach(BEFORE, host="10.0.1.5", port=31000, client_id="a")
    twice = attach(once, host="collector.csm.internal", port=31001, client_id="b")
    assert twice["AWS_CSM_HOST"] == "collector.csm.internal" and twice[SAVED] == once[SAVED]
    assert detach(twice) == BEFORE


def test_detach_without_attach_is_refused() -> None:
    with pytest.raises(AttachError, match="not attached"):
        detach(BEFORE)


def test_changes_lists_additions_edits_and_removals() -> None:
    attached = attach({"AWS_CSM_PORT": "1"}, host="h", port=2, client_id="c")
    lines = changes({"AWS_CSM_PORT": "1"}, attached)
    assert "~ AWS_CSM_PORT: 1 -> 2" in lines and "+ AWS_CSM_HOST=h" in lines
    assert changes(attached, detach(attached))[0].startswith("- ")


@pytest.mark.parametrize(
    ("runtime", "package", "warns"),
    [
        ("python3.12", "Zip", False),
        ("nodejs16.x", "Zip", False),
        ("nodejs20.x", "Zip", True),
        ("nodejs18.x", "Zip", True),
        ("java11", "Zip", False),
        ("java17", "Zip", True),
        ("java21", "Zip", True),
        ("provided.al2023", "Zip", True),
        ("go1.x", "Zip", True),
        ("ruby3.3", "Zip", False),
        ("dotnet8", "Zip", False),
        (None, "Image", True),
    ],
)
def test_runtimes_that_cannot_report(runtime: str | None, package: str, warns: bool) -> None:
    assert (runtime_warning(runtime, package) is not None) == warns


def test_addresses_and_egress_rules() -> None:
    assert address_in("10.0.1.5", ["10.0.0.0/16"]) is True
    assert address_in("192.168.1.1", ["10.0.0.0/16"]) is False
    assert address_in("collector.csm.internal", ["10.0.0.0/16"]) is None
    everything = [{"IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]}]
    https_only = [
        {
            "IpPermissionsEgress": [
                {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
            ]
        }
    ]
    udp_elsewhere = [
        {
            "IpPermissionsEgress": [
                {"IpProtocol": "udp", "FromPort": 31000, "ToPort": 31000, "IpRanges": [{"CidrIp": "172.16.0.0/12"}]}
            ]
        }
    ]
    assert egress_allows(everything, "10.0.1.5", 31000)
    assert not egress_allows(https_only, "10.0.1.5", 31000)
    assert not egress_allows(udp_elsewhere, "10.0.1.5", 31000)
    assert egress_allows(udp_elsewhere, "172.20.0.9", 31000)
