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
