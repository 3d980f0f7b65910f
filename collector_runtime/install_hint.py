"""The `pip install` that brings an extra, as this copy was installed: there is no csm-collector on PyPI, so
outside a checkout the hint names the source pip recorded (PEP 610's direct_url.json: a git commit, a wheel or
a directory), never the bare package name."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

DISTRIBUTION = "csm-collector"
CHECKOUT_ROOT = Path(__file__).resolve().parent.parent  # the repository root when run from a checkout


def install_hint(extra: str) -> str:
    """How to install `extra` into the environment this copy runs from."""
    return hint_for(extra, checkout=_from_checkout(), direct_url=_direct_url())


def hint_for(extra: str, *, checkout: bool, direct_url: dict[str, Any] | None) -> str:
    """`direct_url`: what pip recorded of where the installed distribution came from (None: nothing)."""
    if checkout:
        return f"pip install -e '.[{extra}]' from the repository root (or make setup)"
    url = direct_url.get("url") if direct_url else None
    if not isinstance(url, str) or not url:
        where = "git+https://github.com/<you>/csm-collector"
        return f"pip install {shlex.quote(f'{DISTRIBUTION}[{extra}] @ {where}')} (the source you installed from)"
    vcs = direct_url.get("vcs_info") if direct_url else None
    if isinstance(vcs, dict) and isinstance(vcs.get("vcs"), str):
        commit = vcs.get("commit_id")
        url = f"{vcs['vcs']}+{url}" + (f"@{commit}" if isinstance(commit, str) else "")
    return f"pip install {shlex.quote(f'{DISTRIBUTION}[{extra}] @ {url}')}"


def _from_checkout() -> bool:
    """Running from a clone (an editable install or PYTHONPATH): its pyproject.toml is beside the package."""
    try:
        return f'name = "{DISTRIBUTION}"' in (CHECKOUT_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False


def _direct_url() -> dict[str, Any] | None:
    from importlib import metadata  # here: only a hint (an error) needs it, and it loads email (~1.6 MiB)

    try:
        text = metadata.distribution(DISTRIBUTION).read_text("direct_url.json")
        recorded = json.loads(text) if text else None
    except (metadata.PackageNotFoundError, OSError, ValueError):
        return None
    return recorded if isinstance(recorded, dict) else None
