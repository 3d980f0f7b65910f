from __future__ import annotations

import pytest

from collector_runtime.core.accounts import account_from_access_key


@pytest.mark.parametrize(
    ("key", "account"),
    [
        ("ASIAY34FZKBOKMUTVV7A", "609629065308"),  # the documented example of the encoding
        ("AKIAIOSFODNN7EXAMPLE", None),  # AWS's documentation key: the old format, no account in it
        ("AKIAJ234567890ABCDEF", None),
        ("FOOBARKEY", None),
        ("AKIA!!!!!!!!!!!!!!!!", None),
        (None, None),
        ("ABIAY34FZKBOKMUTVV7A", None),
    ],
)
def test_account_from_access_key(key: object, account: str | None) -> None:
    assert account_from_access_key(key) == account


def test_the_callers_account_is_the_one_its_traffic_shows_or_none() -> None:
    from collector_runtime.core.accounts import caller_account, in_account

    queue = ("arn:aws:sqs:eu-west-1:123456789012:q",)
    assert caller_account([(None, None, ("arn:aws:iam::*:role/x",)), ("eu-west-1", None, queue)]) == "123456789012"
    assert caller_account([("eu-west-1", "210987654321", queue)]) == "210987654321"  # the key's account wins
    assert caller_account([(None, None, (*queue, "arn:aws:sqs:eu-west-1:210987654321:q"))]) is None  # two: unknown
    assert in_account("arn:aws:iam::*:role/x", "123456789012") == "arn:aws:iam::123456789012:role/x"
    assert in_account("arn:aws:s3:::b/*", "123456789012") == "arn:aws:s3:::b/*"


def test_an_account_in_a_resource_arn_is_twelve_ascii_digits() -> None:
    from collector_runtime.core.accounts import caller_account

    arabic = "\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669\u0660\u0661\u0662"  # not 0-9
    assert caller_account([(None, None, (f"arn:aws:sqs:eu-west-1:{arabic}:q",))]) is None
    assert caller_account([(None, None, ("other-resource:arn:aws:s3:eu-west-1:123456789012:accesspoint/a",))]) == (
        "123456789012"
    )
