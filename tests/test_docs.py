"""The documentation: the README is a short front door whose commands are the CLI's and whose links resolve;
docs/ builds as a site with no warning (a broken link or anchor fails the build); the Architecture page lists
exactly the modules of collector_runtime/; the context keys page lists exactly the CDK app's keys."""

from __future__ import annotations

import ast
import contextlib
import io
import re
import shlex
import subprocess
import sys
import tomllib
import unicodedata
from pathlib import Path

import pytest

from collector_runtime.errors import ConfigError
from collector_runtime.settings import parse_options
from tests.helpers import ROOT

README = ROOT / "README.md"
DOCS = ROOT / "docs"
README_MAX_LINES = 250
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
HTML_ID = re.compile(r"""<a\s+(?:id|name)=["']([^"']+)["']""")
MODULE_ROW = re.compile(r"^\| `([^`]+)` \|", re.MULTILINE)


def mkdocs_build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=240,
    )


@pytest.mark.timeout(300)
def test_the_site_builds_strictly_without_a_warning(tmp_path: Path) -> None:
    result = mkdocs_build(ROOT / "mkdocs.yml", tmp_path / "site")
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    assert (tmp_path / "site" / "architecture" / "index.html").is_file()


@pytest.mark.timeout(300)
def test_a_broken_link_or_anchor_fails_the_build(tmp_path: Path) -> None:
    """The site's configuration really checks links and anchors (not only that the Markdown converts)."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for page in DOCS.iterdir():
        (docs / page.name).write_bytes(page.read_bytes())
    with (docs / "index.md").open("a") as index:
        index.write("\n[gone](policies.md#no-such-heading) and [missing](no-such-page.md)\n")
    config = (ROOT / "mkdocs.yml").read_text()
    assert re.search(r"^docs_dir: docs$", config, re.MULTILINE)
    (tmp_path / "mkdocs.yml").write_text(re.sub(r"^docs_dir: docs$", f"docs_dir: {docs}", config, flags=re.M))
    result = mkdocs_build(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert result.returncode != 0
    assert "does not contain an anchor '#no-such-heading'" in result.stderr, result.stderr
    assert "no-such-page.md" in result.stderr, result.stderr


def test_every_page_is_in_the_nav() -> None:
    nav = (ROOT / "mkdocs.yml").read_text().partition("\nnav:\n")[2]
    listed = set(re.findall(r":\s*([\w-]+\.md)\s*$", nav, re.MULTILINE))
    assert listed == {page.name for page in DOCS.glob("*.md")}


def test_the_readme_is_a_short_front_door() -> None:
    lines = README.read_text().splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; at most {README_MAX_LINES}"


def github_slug(heading: str) -> str:
    """The anchor GitHub (and MkDocs' toc, for these headings) gives a heading."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    text = "".join(c for c in text if c in " -" or unicodedata.category(c)[0] in "LN")
    return text.replace(" ", "-")


def anchors_of(page: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.MULTILINE | re.DOTALL)
    headings = re.findall(r"^#{1,6} (.+?)\s*$", text, re.MULTILINE)
    return {github_slug(heading) for heading in headings} | set(HTML_ID.findall(text))


def broken_links(page: Path) -> list[str]:
    broken = []
    for target in LINK.findall(page.read_text()):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in anchors_of(file):
            broken.append(f"{target}: no heading or anchor '{anchor}' in {file.name}")
    return broken


def test_every_link_of_the_readme_resolves() -> None:
    assert broken_links(README) == []
    assert any("docs/architecture.md" in target for target in LINK.findall(README.read_text()))


def test_the_link_check_finds_a_broken_anchor(tmp_path: Path) -> None:
    (tmp_path / "page.md").write_text("# Title: `x` and y\n\n## CSM's limits\n")
    (tmp_path / "a.md").write_text("[ok](page.md#title-x-and-y) [ok](page.md#csms-limits) [no](page.md#limits)\n")
    broken = broken_links(tmp_path / "a.md")
    assert [link.partition(":")[0] for link in broken] == ["page.md#limits"]


def shell_blocks(markdown: str) -> list[str]:
    """The lines of the ```sh blocks, continuation lines joined."""
    lines = []
    for block in re.findall(r"^```sh\n(.*?)^```", markdown, re.MULTILINE | re.DOTALL):
        lines += block.replace("\\\n", " ").splitlines()
    return lines


def commands_shown(lines: list[str], program: str) -> list[list[str]]:
    """Each `program ARGS` on the lines, comments left out, up to the end of its shell command."""
    shown = []
    for line in lines:
        code = re.split(r"(?:^|\s)#", line, maxsplit=1)[0]
        for args in re.findall(rf"(?:^|[\s(/]){re.escape(program)}((?:\s+[^\s&|;)\"]+)*)", code):
            shown.append(shlex.split(args))
    return shown


def test_every_csm_collector_command_of_the_readme_parses() -> None:
    """Each `csm-collector ...` the README shows is a command with flags the CLI accepts, as written (parsed
    with the real parser and no CSM_COLLECTOR_* environment; not run)."""
    shown = commands_shown(shell_blocks(README.read_text()), "csm-collector")
    refused = []
    for args in shown:
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                parse_options(args, {})
        except ConfigError as error:
            refused.append(f"csm-collector {shlex.join(args)}: {error}")
        except SystemExit as leaving:  # --help, --version
            if leaving.code != 0:
                refused.append(f"csm-collector {shlex.join(args)}: exit {leaving.code}")
    assert refused == []
    commands = {args[0] for args in shown}
    assert {"listen", "proxy", "proxy-env", "set-ini", "attach", "compare", "export", "report", "--version"} <= commands


def test_the_command_check_refuses_a_flag_the_cli_does_not_have() -> None:
    [args] = commands_shown(['eval "$(csm-collector proxy-env --no-such-flag x)"  # comment'], "csm-collector")
    assert args == ["proxy-env", "--no-such-flag", "x"]
    with pytest.raises(ConfigError):
        parse_options(args, {})


def test_every_make_target_and_extra_the_readme_names_exists() -> None:
    readme = README.read_text()
    makefile = (ROOT / "Makefile").read_text()
    targets = {target for [target] in commands_shown(shell_blocks(readme), "make")}
    assert {"demo", "test", "deploy-setup"} <= targets
    assert [target for target in targets if not re.search(rf"^{re.escape(target)}:", makefile, re.M)] == []
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for page in [README, *DOCS.glob("*.md")]:
        named = set(re.findall(r"\.\[([a-z0-9,-]+)\]'", page.read_text()))
        unknown = {extra for group in named for extra in group.split(",")} - set(extras)
        assert unknown == set(), f"{page.name} names extras pyproject.toml does not have: {sorted(unknown)}"


def modules_in_the_tree() -> set[str]:
    """Every module of collector_runtime/ as the Architecture page names it: top-level files, and for a
    package its directory (`sources/otlp/`) and every module in it but __init__.py."""
    package = ROOT / "collector_runtime"
    expected = set()
    for path in package.rglob("*.py"):
        relative = path.relative_to(package)
        if "__pycache__" in relative.parts:
            continue
        if len(relative.parts) == 1:
            expected.add(relative.as_posix())
        elif path.name == "__init__.py":
            expected.add(f"{relative.parent.as_posix()}/")
        else:
            expected.add(relative.as_posix())
    return expected


def test_the_architecture_page_lists_exactly_the_modules_of_the_tree() -> None:
    page = (DOCS / "architecture.md").read_text()
    section = page.partition("\n## Modules\n")[2].partition("\n## ")[0]
    listed = set(MODULE_ROW.findall(section))
    package = ROOT / "collector_runtime"
    missing = sorted(modules_in_the_tree() - listed)
    gone = sorted(path for path in listed if not (package / path).exists())
    assert (missing, gone) == ([], []), (
        f"docs/architecture.md, section Modules: add a row for each of {missing}; "
        f"remove the rows of {gone}, which are not in collector_runtime/"
    )


def test_the_context_keys_table_lists_exactly_the_keys_of_the_cdk_app() -> None:
    tree = ast.parse((ROOT / "stacks" / "config.py").read_text())
    [keys] = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == "CONTEXT_KEYS"
    ]
    assert isinstance(keys, ast.Dict)
    in_app = {str(key.value) for key in keys.keys if isinstance(key, ast.Constant)}
    reference = (DOCS / "reference.md").read_text()
    table = reference.partition("\n## Context keys\n")[2].partition("\n## ")[0]
    documented = set(re.findall(r"^\| `(\w+)` \|", table, re.MULTILINE))
    assert (sorted(in_app - documented), sorted(documented - in_app)) == ([], []), (
        "docs/reference.md, Context keys: (keys of stacks/config.py not documented, documented keys it lacks)"
    )
