"""``ai-telemetry ci init github``: a ready GitHub Actions workflow (the seed's metrics-collector).

The template is ``github_workflow.yml`` next to this module; ``@SOURCE@`` becomes the folder
whose type-hint and docstring coverage is measured.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Final

from ai_telemetry.errors import CollectorError
from ai_telemetry.log.files import atomic_write_text

WORKFLOW_PATH: Final = Path(".github/workflows/ai-telemetry.yml")


def render_workflow(*, source: str) -> str:
    """The workflow's text, measuring type and doc coverage of ``source``."""
    template = resources.files(__package__).joinpath("github_workflow.yml").read_text("utf-8")
    return template.replace("@SOURCE@", source)


def write_workflow(root: Path, *, force: bool = False, source: str | None = None) -> Path:
    """Write ``.github/workflows/ai-telemetry.yml`` under ``root``.

    Args:
        root: the repository root.
        force: overwrite an existing file.
        source: folder to measure (default ``src`` when it exists, else ``.``).

    Raises:
        CollectorError: the file exists and ``force`` is off, or it cannot be written.
    """
    path = root / WORKFLOW_PATH
    if path.exists() and not force:
        raise CollectorError(f"{path} already exists; pass --force to overwrite it")
    chosen = source or ("src" if (root / "src").is_dir() else ".")
    text = render_workflow(source=chosen)
    try:
        atomic_write_text(path, text, perms=0o666)  # as `open`: the umask decides
    except OSError as exc:
        raise CollectorError(f"{path}: cannot write ({exc.strerror or exc})") from None
    return path
