"""Cost of the linear-time IAM wildcard matcher (core/wildcard.py) on ordinary patterns, against the
regex it replaced as the same-run baseline (the regex is fine on these; it backtracks only on hostile ones).

Prints, per workload, the time of each and their ratio (matcher / regex): expanding typical Action
patterns over every known action (what `compare` does), and resource patterns against ARNs (what
without_covered does at a flush).

Usage: python bench/wildcard.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import functools
import re
import time
from collections.abc import Callable

from collector_runtime.core.wildcard import matches
from collector_runtime.data import load_action_map

ACTION_PATTERNS = ["s3:Get*", "*:Describe*", "ec2:*", "dynamodb:?etItem", "logs:*Log*", "*", "iam:*Role*"]
RESOURCE_PATTERNS = [
    "arn:aws:s3:::bucket/*",
    "arn:aws:dynamodb:*:*:table/*/index/*",
    "arn:aws:logs:*:*:log-group:/aws/*",
]


@functools.cache
def regex_of(pattern: str) -> re.Pattern[str]:
    """What the collector compiled before (once per pattern, as it did)."""
    return re.compile("^" + re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".") + "$")


def regex_matches(pattern: str, subject: str) -> bool:
    return regex_of(pattern).match(subject) is not None


def count_matches(match: Callable[[str, str], bool], patterns: list[str], subjects: list[str]) -> Callable[[], int]:
    return lambda: sum(match(p, s) for p in patterns for s in subjects)


def timed(run: Callable[[], int], rounds: int) -> tuple[float, int]:
    best, result = float("inf"), 0
    for _ in range(rounds):
        started = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - started)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    actions = [a.lower() for a in load_action_map().all_actions()]
    arns = [f"arn:aws:s3:::bucket/key-{i}" for i in range(2000)] + [
        f"arn:aws:dynamodb:us-east-1:123456789012:table/t{i}/index/i" for i in range(2000)
    ]
    workloads = {
        f"actions ({len(ACTION_PATTERNS)} patterns x {len(actions)} actions)": (ACTION_PATTERNS, actions, True),
        f"resources ({len(RESOURCE_PATTERNS)} patterns x {len(arns)} ARNs)": (RESOURCE_PATTERNS, arns, False),
    }
    for name, (patterns, subjects, lower) in workloads.items():
        prepared = [p.lower() for p in patterns] if lower else patterns
        new, count_new = timed(count_matches(matches, prepared, subjects), args.rounds)
        old, count_old = timed(count_matches(regex_matches, prepared, subjects), args.rounds)
        assert count_new == count_old, (name, count_new, count_old)
        print(f"{name}: matcher {new * 1000:.1f} ms, regex {old * 1000:.1f} ms, ratio {new / old:.2f}")


if __name__ == "__main__":
    main()
