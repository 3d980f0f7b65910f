"""The request as the matcher reads it, and the body decoders: bounded, and never raising."""

from __future__ import annotations

import gzip
import json
import zlib

import pytest

from collector_runtime.sources.proxy import bodies
from collector_runtime.sources.proxy.request import MAX_BODY, MAX_DECODED, decoded, http_request


def test_normalised_on_the_way_in() -> None:
    request = http_request(
        "post",
        "Sqs.EU-West-1.amazonaws.com:443",
        "",
        "a=1",
        headers=[("X-Amz-Target", "first"), ("x-amz-target", "second"), ("Content-Type", "t")],
        body=b"x" * (MAX_BODY + 1),
    )
    assert (request.method, request.host, request.path, request.query) == (
        "POST",
        "sqs.eu-west-1.amazonaws.com",
        "/",
        "a=1",
    )
    assert request.headers == {"x-amz-target": "first", "content-type": "t"}
    assert len(request.body) == MAX_BODY and request.body_truncated
    assert http_request("GET", "[::1]:8443", "/", "", headers={}).host == "[::1]"


def test_a_long_json_body_is_read_past_its_long_strings() -> None:
    """An inline package (`Code.ZipFile`, base64) is emptied, so the members after it fit in what is read;
    strings up to LONG_STRING bytes (escapes counted as sent) and bodies of other types stay as sent."""
    package = "UEsDBBQ" * 20_000
    document = json.dumps({"a": ['say "hi"\\'] * 3_000})  # a long string made mostly of escapes
    sent = {"Code": {"ZipFile": package}, "Definition": document, "FunctionName": "worker", "Short": "x" * 100}
    body = json.dumps(sent).encode()
    request = http_request("POST", "h", "/", "", headers={"Content-Type": "application/json"}, body=body)
    assert not request.body_truncated
    assert json.loads(request.body) == {
        "Code": {"ZipFile": ""},
        "Definition": "",
        "FunctionName": "worker",
        "Short": "x" * 100,
    }
    form = http_request("POST", "h", "/", "", headers={"Content-Type": "application/x-www-form-urlencoded"}, body=body)
    assert form.body_truncated and form.body == body[:MAX_BODY]


def test_form_body_top_level_and_cut() -> None:
    body = b"Action=SendMessage&QueueUrl=https%3A%2F%2Fq&MessageAttribute.1.Name=a&MessageBody=cut-he"
    assert bodies.form_top_level(body) == {
        "Action": "SendMessage",
        "QueueUrl": "https://q",
        "MessageAttribute": bodies.SET,
        "MessageBody": "cut-he",
    }
    assert "MessageBody" not in bodies.form_top_level(body, truncated=True)


def test_a_list_of_at_most_max_listed_strings_is_read_and_anything_else_only_set() -> None:
    many = "&".join(f"Long.{i}=i-{i}" for i in range(1, bodies.MAX_LISTED + 2))
    form = bodies.form_top_level(
        f"InstanceId.1=i-1&InstanceId.2=i-2&Ids.member.1=a&Filter.1.Name=x&Mixed.1=a&Mixed.1.Name=b&{many}".encode()
    )
    assert form["InstanceId"] == ("i-1", "i-2") and isinstance(form["InstanceId"], bodies.Listed)
    assert form["Ids"] == ("a",) and form["Filter"] is form["Mixed"] is form["Long"] is bodies.SET
    many_json = json.dumps({"names": ["n"] * (bodies.MAX_LISTED + 1), "mixed": ["a", 1], "ok": ["a", "b"]})
    parsed = bodies.json_top_level(many_json.encode())
    assert parsed["names"] is parsed["mixed"] is bodies.SET and parsed["ok"] == ("a", "b")


def test_json_xml_cbor_top_level() -> None:
    parsed = bodies.json_top_level(json.dumps({"TableName": "t", "Item": {"a": 1}, "Limit": 3, "E": {}}).encode())
    assert parsed == {"TableName": "t", "Item": ("a",), "Limit": bodies.SET, "E": bodies.SET}
    assert isinstance(parsed["Item"], bodies.Keys)  # an object's keys; read only for an ARN-keyed map
    many = {str(i): 1 for i in range(bodies.MAX_LISTED + 1)}
    assert bodies.json_top_level(json.dumps({"M": many}).encode()) == {"M": bodies.SET}
    root, children = bodies.xml_children(b'<R xmlns="urn:x"><Name>n</Name><Config><A>1</A></Config></R>')
    assert (root, children) == ("R", {"Name": "n", "Config": bodies.SET})
    assert bodies.cbor_top_level(bytes([0xA1, 0x61, 0x6B, 0x61, 0x76])) == {"k": "v"}  # {"k": "v"}


@pytest.mark.parametrize("body", [b"", b"{", b"[1, 2]", b"\xff\xfe", b"null", b"<a><b></a>", b"\x9f\xff\xff"])
def test_malformed_bodies_decode_to_nothing(body: bytes) -> None:
    assert bodies.json_top_level(body) == {}
    assert bodies.xml_children(body)[1] == {}
    assert bodies.cbor_top_level(body) == {}


ROLE = "arn:aws:iam::123456789012:role/service-role/events-invoke"


def test_the_role_arns_inside_a_json_bodys_structures_are_read() -> None:
    """EventBridge PutTargets passes each target's role inside `Targets`: the roles it names, nothing else."""
    body = json.dumps(
        {
            "Rule": "nightly",
            "RoleArn": "arn:aws:iam::123456789012:role/top-level",  # read with the top level already
            "Targets": [
                {"Id": "1", "Arn": "arn:aws:sqs:eu-west-1:123456789012:jobs", "RoleArn": ROLE},
                {"Id": "2", "RoleArn": "not an ARN"},
                {"Id": "3", "roleArn": "arn:aws:iam::123456789012:user/bob"},  # no role
                {"Id": "4", "Input": "arn:aws:iam::123456789012:role/in-free-text"},  # not under a role key
            ],
        }
    ).encode()
    passed = bodies.json_passed_roles(body)
    assert passed is not None and passed.arns == (ROLE,)
    assert passed.holders == {"Targets"}  # `RoleArn` at the top level is no structure's
    assert passed.unread == {"Targets"}  # target 2's role key holds no ARN, target 3's no role's


def test_nested_role_arns_are_bounded_in_depth_and_number() -> None:
    deep: dict[str, object] = {"RoleArn": ROLE}
    for _ in range(bodies.MAX_NESTING + 1):
        deep = {"Inner": deep}
    too_deep = bodies.json_passed_roles(json.dumps({"Top": deep}).encode())
    assert too_deep == bodies.PassedRoles((), frozenset({"Top"}), frozenset({"Top"}))  # a role key, unread
    many = [{"RoleArn": f"arn:aws:iam::123456789012:role/r{i}"} for i in range(bodies.MAX_LISTED + 5)]
    passed = bodies.json_passed_roles(json.dumps({"Targets": many}).encode())
    assert passed is not None and len(passed.arns) == bodies.MAX_LISTED and passed.unread == {"Targets"}
    read = bodies.json_passed_roles(json.dumps({"Targets": many[:3] + many[:3]}).encode())
    assert read is not None and len(read.arns) == 3 and read.holders == {"Targets"} and not read.unread
    assert bodies.json_passed_roles(b"{not json") is None
    assert bodies.json_passed_roles(b"[1, 2]") is None


def test_a_structure_holds_a_role_key_at_any_depth_under_any_role_word() -> None:
    """Which top-level members hold a key that may carry a role (a role's name, an instance profile,
    credentials), however deep; a value that mentions a role is no key."""
    deep: dict[str, object] = {"Role": "etl"}
    for _ in range(50):
        deep = {"Inner": [deep]}
    body = {
        "Deep": deep,
        "Profile": {"Launch": {"IamInstanceProfile": {"Arn": "x"}}},
        "Api": [{"credentials": "arn:aws:iam::123456789012:role/api"}],
        "Names": [{"executionRoleName": "run"}],
        "Plain": [{"Id": "1", "Arn": "arn:aws:sqs:eu-west-1:123456789012:q", "Input": '{"RoleArn": "r"}'}],
        "Empty": [],
        "Text": "role",
    }
    passed = bodies.json_passed_roles(json.dumps(body).encode())
    assert passed is not None and passed.holders == {"Deep", "Profile", "Api", "Names"}
    assert passed.unread == passed.holders  # a role's name, an instance profile, credentials: none read as an ARN


def test_a_compressed_body_is_read_as_decoded_and_only_as_far_as_it_is_read() -> None:
    document = json.dumps({"TableName": "orders", "Item": {"pk": {"S": "a"}}}).encode()
    for encoding, data in [("gzip", gzip.compress(document)), ("deflate", zlib.compress(document))]:
        request = http_request("POST", "h", "/", "", headers={"Content-Encoding": encoding}, body=data)
        assert (request.body, request.body_truncated) == (document, False)
    bomb = zlib.compressobj(9, zlib.DEFLATED, 31)
    data = b"".join(bomb.compress(bytes(1 << 20)) for _ in range(64)) + bomb.flush()
    assert decoded(data, "gzip") == (bytes(MAX_DECODED), True)
    cut = http_request("POST", "h", "/", "", headers={"content-encoding": "gzip"}, body=data)
    assert (len(cut.body), cut.body_truncated) == (MAX_BODY, True)


@pytest.mark.parametrize(
    ("encoding", "body", "expected"),
    [
        (None, b"as sent", (b"as sent", False)),
        ("identity", b"as sent", (b"as sent", False)),
        ("gzip", b"", (b"", False)),
        ("gzip", b"not gzip", (b"", True)),
        # mtime=0: gzip's header holds the time it was made, and every test worker must collect the same tests
        ("gzip", gzip.compress(b"one", mtime=0) + gzip.compress(b"two", mtime=0), (b"onetwo", False)),  # every member
        ("gzip", gzip.compress(b"whole", mtime=0)[:-9], (b"", True)),  # ends inside its stream
        ("aws-chunked", b"5;chunk-signature=...", (b"", True)),
        ("br", b"\x8b\x02\x80abc\x03", (b"", True)),
    ],
)
def test_an_encoding_that_is_not_decoded_is_not_read(encoding: str | None, body: bytes, expected: object) -> None:
    assert decoded(body, encoding) == expected
