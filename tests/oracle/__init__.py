"""Test oracle: an IAM policy evaluator this project did not write (see iam_oracle.py and README.md)."""

from tests.oracle.iam_oracle import (
    Decision,
    OracleError,
    OracleUnavailable,
    Request,
    assert_policy_allows,
    assert_policy_denies,
    evaluate,
    trusting,
)

__all__ = [
    "Decision",
    "OracleError",
    "OracleUnavailable",
    "Request",
    "assert_policy_allows",
    "assert_policy_denies",
    "evaluate",
    "trusting",
]
