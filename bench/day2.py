"""Day 1 / day 2: does a learned policy still work tomorrow, and deny everything else?

Learns workload `day-app` through `csm-collector proxy` (real boto3, moto_server upstream; see
tests/e2e/day2_run.py), then evaluates tomorrow's requests (recreated Terraform bucket and secret, new
dated keys and log stream) and foreign ones (other buckets, prefixes, tables, queues, secrets, accounts,
regions, actions), written by hand from AWS's Service Authorization Reference, with the independent IAM
evaluator (tests/oracle). Prints both figures, generalized and with --exact-names.

Usage: python bench/day2.py [--show-policy]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.day2_run import figures, learn_day1  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show-policy", action="store_true", help="print the generalized day-1 policy")
    args = parser.parse_args()
    for label, flags in (("generalized", ()), ("--exact-names", ("--exact-names",))):
        with tempfile.TemporaryDirectory() as tmp:
            policy = learn_day1(Path(tmp), *flags)
        denied_day2, allowed_foreign, day2, foreign = figures(policy)
        print(
            f"{label:<14} day-2 allowed {day2 - len(denied_day2)}/{day2}   "
            f"foreign denied {foreign - len(allowed_foreign)}/{foreign}"
        )
        for request in denied_day2:
            print(f"    day 2 denied: {request.action} {request.resource}")
        for request in allowed_foreign:
            print(f"    foreign allowed: {request.action} {request.resource}")
        if args.show_policy and not flags:
            print(json.dumps(policy, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
