"""What the commands that produce the output files in one go (replay, report) share."""

from __future__ import annotations

from typing import Any

from ..core.aggregate import Aggregator
from ..core.policy_size import unsplittable_warning
from ..core.rendering import FlushRenderer, Rendered
from ..outputs.output_dir import OutputDirectory
from ..settings import OutputOptions


def write_results(
    aggregator: Aggregator, counters: dict[str, Any], runtime: dict[str, Any], output: OutputOptions
) -> Rendered:
    """Render every file once and write it to the output directory."""
    renderer = FlushRenderer(aggregator.action_map, output.policy, max_policy_chars=output.max_policy_chars)
    rendered = renderer.render(aggregator, counters, runtime)
    for policy in rendered.policies:
        warning = unsplittable_warning(policy.workload, policy.document, output.max_policy_chars)
        if warning:
            rendered.warnings.append(warning)
    directory = OutputDirectory(output.output_dir)
    directory.update(rendered.files)
    directory.write()
    return rendered
