"""Where `export` and `apply` read a workload's learned policy: the collector's output directory or its
results bucket (the same names under the S3 prefix, see contract.py), with state.json for the account(s)
and region it was learned in. The S3 client is passed in."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..aws import calling
from ..contract import POLICIES_DIR, STATE_FILE
from ..core.export import ExportPolicy, export_policy
from ..core.export.learned import learned_context
from ..core.names import workload_file_stem
from ..errors import BadInput, ConfigError, NotFound
from ..input_files import json_document, read_limited
from ..limits import MAX_STATE_FILE_BYTES
from ..settings import LearnedInput
from .compare_inputs import SourceError, load_json_file, policy_document


@dataclass
class LearnedPolicies:
    """A collector's learned policies, read from a directory or a bucket."""

    options: LearnedInput
    s3: Any = None  # a boto3 S3 client when options.s3_bucket is set

    def workloads(self) -> list[str]:
        """The named workload, or every workload state.json knows."""
        if self.options.workload is not None:
            return [self.options.workload]
        state = self._state()
        names = sorted(state.get("workloads", {})) if isinstance(state, dict) else []
        if not names:
            raise ConfigError(f"no workload in {self._where(STATE_FILE)}: name one with --workload")
        return names

    def policy(self, workload: str) -> ExportPolicy:
        relative = f"{POLICIES_DIR}/{workload_file_stem(workload)}.json"
        document = self._policy_document(relative)
        learned = learned_context(self._state(), workload, document)
        try:
            return export_policy(
                workload, document, learned, dict(self.options.account_map), self.options.max_policy_chars
            )
        except ValueError as error:
            raise BadInput(f"{self._where(relative)}: {error}") from error

    def _policy_document(self, relative: str) -> dict[str, Any]:
        if self.options.s3_bucket is None:
            return load_json_file(self.options.output_dir / relative)
        return policy_document(self._object(relative), self._where(relative))

    def _state(self) -> dict[str, Any] | None:
        if not hasattr(self, "_state_cache"):
            self._state_cache = self._read_state()
        return self._state_cache

    def _read_state(self) -> dict[str, Any] | None:
        """state.json, or None when there is none (the policy's own ARNs then tell the learning account)."""
        if self.options.s3_bucket is None:
            path: Path = self.options.output_dir / STATE_FILE
            try:
                text = read_limited(path, MAX_STATE_FILE_BYTES)
            except FileNotFoundError:
                return None
            except OSError as error:
                raise SourceError(f"cannot read {path}: {error.strerror or error}") from error
        else:
            try:
                text = self._object(STATE_FILE)
            except NotFound:
                return None
        state = json_document(text, self._where(STATE_FILE), MAX_STATE_FILE_BYTES)
        return state if isinstance(state, dict) else None

    def _object(self, relative: str) -> bytes:
        """The object's body; NotFound (exit 1) naming it when there is none."""
        with calling(f"S3 object {self._where(relative)}"):
            return bytes(
                self.s3.get_object(Bucket=self.options.s3_bucket, Key=self.options.s3_prefix + relative)["Body"].read()
            )

    def _where(self, relative: str) -> str:
        if self.options.s3_bucket is None:
            return str(self.options.output_dir / relative)
        return f"s3://{self.options.s3_bucket}/{self.options.s3_prefix}{relative}"
