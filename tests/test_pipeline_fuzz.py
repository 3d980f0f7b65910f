"""Hostile input through the whole pipeline (parse, aggregate, render, write): nothing crashes,
nothing is written outside the output directory, every policy stays valid."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector_runtime.commands.results import write_results
from collector_runtime.core.aggregate import Aggregator
from collector_runtime.core.mapping import ActionMap
from collector_runtime.data import load_action_map
from collector_runtime.outputs.archive import ArchiveOptions, ArchiveWriter
from collector_runtime.settings import OutputOptions
from tests.conftest import CsmPipeline

ACTION_MAP = load_action_map()
REAL = [
    ("S3", "GetObject"),
    ("S3", "PutObject"),
    ("Lambda", "CreateFunction"),
    ("SQS", "SendMessageBatch"),
    ("STS", "GetCallerIdentity"),
    ("CloudFront", "ListDistributions2020_05_31"),
    ("API Gateway", "GetRestApis"),
]
HOSTILE_IDS = [
    "../../etc/passwd",
    "a/b",
    "..",
    ".",
    "",
    "con",
    "x\x00y",
    "\u202etxt.exe",
    "a" * 255,
    "\\\\srv\\share",
    "default",
    "team/app~1234567890",
    "NUL",
    "\n",
    "ü" * 100,
]

client_ids = st.one_of(st.sampled_from(HOSTILE_IDS), st.text(max_size=300))
names = st.one_of(st.sampled_from([s for s, _ in REAL] + [a for _, a in REAL]), st.text(max_size=40))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=50),
)


@st.composite
def records(draw: st.DrawFn) -> dict[str, object]:
    service, api = draw(st.sampled_from(REAL)) if draw(st.booleans()) else (draw(names), draw(names))
    record: dict[str, object] = {
        "Version": draw(scalars),
        "ClientId": draw(client_ids),
        "Type": draw(st.sampled_from(["ApiCall", "ApiCallAttempt", "X"])),
        "Service": service,
        "Api": api,
        "Timestamp": draw(scalars),
        "Region": draw(scalars),
        "Fqdn": draw(scalars),
        "FinalHttpStatusCode": draw(st.one_of(st.sampled_from([200, 403, 500]), scalars)),
        "FinalAwsException": draw(st.one_of(st.sampled_from(["AccessDenied", None]), scalars)),
        "FinalAwsExceptionMessage": draw(st.one_of(st.just("is not authorized to perform: kms:Decrypt on x"), scalars)),
        "AccessKey": "AKIAIOSFODNN7EXAMPLE",
        "SessionToken": "secret-token",
    }
    for key in draw(st.lists(st.sampled_from(list(record)), max_size=3, unique=True)):
        del record[key]
    return record


def encode(record: dict[str, object]) -> bytes:
    return json.dumps(record, default=str).encode("utf-8", "surrogatepass")


datagrams = st.one_of(
    st.lists(records(), min_size=1, max_size=4).map(lambda rs: b"\n".join(map(encode, rs))),
    st.binary(max_size=512),
    st.sampled_from(
        [
            b"",
            b"[" * 3000 + b"]" * 3000,
            b'{"a":' * 2000 + b"1" + b"}" * 2000,
            b"NaN",
            b'{"Type":"ApiCall","Service":"S3","Api":"GetObject","Timestamp":NaN}',
            b'{"Type":"ApiCall","Service":"S3","Service":"SQS","Api":"SendMessage","Api":"GetObject"}',
            b'{"Type":"ApiCall","Service":"S3","Api":"GetObject","Timestamp":' + b"9" * 400 + b"}",
            b"\xff" * 65_535,
            b"x" * 65_536,
        ]
    ),
)


def assert_policy_valid(document: dict[str, object], action_map: ActionMap) -> None:
    assert document["Version"] == "2012-10-17"
    for statement in document["Statement"]:  # type: ignore[attr-defined]
        assert statement["Effect"] == "Allow"
        for action in statement["Action"]:
            assert action_map.canonical_action(action) == action, action
        resources = statement["Resource"]
        assert resources == "*" or all(r.startswith("arn:aws") for r in resources)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(datagrams, min_size=1, max_size=25))
def test_hostile_traffic_never_breaks_the_pipeline(batch: list[bytes]) -> None:
    aggregator = Aggregator(ACTION_MAP)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        archive = ArchiveWriter(ArchiveOptions(out / "archive", "fuzz"))
        pipeline = CsmPipeline(aggregator, archive=archive.append)
        for data in batch:
            pipeline.receive_datagram(data)
        archive.close()
        write_results(aggregator, pipeline.counters(), {}, OutputOptions(output_dir=out))
        written = [p for p in Path(tmp).rglob("*") if p.is_file()]
        assert all(out.resolve() in p.resolve().parents for p in written)
        policies = sorted((out / "policies").glob("*.json")) if (out / "policies").exists() else []
        with_usage = [w for w in aggregator.workloads.values() if w.usage]
        assert len(policies) == len(with_usage)  # one file each: no two ClientIds share one
        for path in policies:
            assert_policy_valid(json.loads(path.read_text()), ACTION_MAP)
        text = "".join(p.read_text(errors="replace") for p in written)
        assert "AKIAIOSFODNN7EXAMPLE" not in text and "secret-token" not in text
    counters = pipeline.counters()
    assert counters["csm"]["datagrams_received"] == len(batch) and counters["internal_errors"] == 0
    assert counters["csm"]["events_parsed"] + counters["csm"]["events_rejected"] >= len(batch) - sum(
        1 for d in batch if not d.strip()
    )
