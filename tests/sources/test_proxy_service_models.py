"""botocore's service models: metadata read from the head of each model file, indexes, lazy operation tables."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from collector_runtime.sources.proxy.service_models import ServiceModels, default_loader, read_metadata_head


def test_indexes_every_botocore_service(service_models: ServiceModels) -> None:
    summaries = service_models.summaries()
    assert len(summaries) > 400
    assert summaries["s3"].service_id == "S3"
    assert {s.name for s in service_models.by_signing_name("rds")} == {"rds", "docdb", "neptune"}
    assert [s.name for s in service_models.by_target_prefix("DynamoDB_20120810")] == ["dynamodb"]
    assert [s.name for s in service_models.by_endpoint_prefix("runtime.sagemaker")] == ["sagemaker-runtime"]
    assert service_models.by_signing_name("no-such-service") == ()


def test_no_model_is_loaded_until_a_service_is_asked_for() -> None:
    service_models = ServiceModels()
    service_models.summaries()
    assert service_models._tables == {}
    service_models.operations(service_models.summaries()["sqs"])
    assert list(service_models._tables) == ["sqs"]


@pytest.mark.parametrize("service", ["s3", "ec2", "dynamodb", "sqs", "cloudfront", "eks", "secretsmanager", "sts"])
def test_metadata_equals_the_loaded_models(service_models: ServiceModels, service: str) -> None:
    """The head of the file is botocore's metadata; the summary also has what sdk-extras merge in (EKS and
    Secrets Manager set serviceId there)."""
    loaded = default_loader().load_service_model(service, "service-2")["metadata"]
    path = service_models._model_path(service)
    assert path is not None
    head = read_metadata_head(path)
    assert head is not None
    assert {k: v for k, v in head.items() if k != "serviceId"} == {k: v for k, v in loaded.items() if k != "serviceId"}
    assert service_models.summaries()[service].service_id == loaded["serviceId"]


def test_metadata_head_of_plain_and_odd_files(tmp_path: Path) -> None:
    model = {"version": "2.0", "metadata": {"serviceId": "X é", "nested": {"a": [1, "}"]}}, "operations": {}}
    plain = tmp_path / "service-2.json"
    plain.write_text(json.dumps(model))
    packed = tmp_path / "service-2.json.gz"
    packed.write_bytes(gzip.compress(json.dumps(model).encode()))
    assert read_metadata_head(plain) == read_metadata_head(packed) == model["metadata"]
    (tmp_path / "no-metadata.json").write_text('{"version": "2.0"}')
    assert read_metadata_head(tmp_path / "no-metadata.json") is None
