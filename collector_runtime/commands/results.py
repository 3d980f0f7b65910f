"""What the commands that produce the output files in one go (replay, report) share."""

from __future__ import annotations

from typing import Any

from ..core.aggregate import Aggregator
from ..core.rendering import FlushRenderer, Rendered
from ..outputs.output_dir import OutputDirectory
from ..settings import OutputOptions


def write_results(
    aggregator: Aggregator, counters: dict[str, Any], runtime: dict[str, Any], output: OutputOptions
) -> Rendered:
    """Render every file once and write it to the output directory."""
    renderer = FlushRenderer(aggregator.action_map, output.policy, max_policy_chars=output.max_policy_chars)
    directory = OutputDirectory(output.output_dir)
    renderer.adopt(directory.policy_files())
    rendered = renderer.render(aggregator, counters, runtime)
    directory.update(rendered.files)
    directory.write()
    return rendered
