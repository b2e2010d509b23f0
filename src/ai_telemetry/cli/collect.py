"""``ai-telemetry collect``, ``git``, ``ci`` and ``learning``: the file collectors' commands.

Each command parses its options, calls one library function from ``ai_telemetry.collect`` and
prints a one-line summary. Library errors become one-line messages (see `LazyGroup`).
"""

from __future__ import annotations

from pathlib import Path

import click

from ai_telemetry.cli.output import echo, echo_line
from ai_telemetry.events.schema import LEARNING_SOURCES, SEVERITIES

LEARNINGS_DIR = Path(".claude/History")

_existing_file = click.Path(exists=True, dir_okay=False, path_type=Path)
_existing_path = click.Path(exists=True, path_type=Path)


@click.group("collect")
def collect_group() -> None:
    """Collect events from git history, CI reports and learning entries (idempotent)."""


@collect_group.command("git")
@click.option(
    "--since", metavar="DATE", help="Only commits after DATE (anything git log --since takes)."
)
@click.option(
    "--repo",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=Path(),
    show_default=True,
    help="Directory inside the git work tree.",
)
@click.option("--commit", metavar="REV", help="Record this one commit only (e.g. HEAD).")
@click.option("--hook", is_flag=True, hidden=True, help="Hook mode: never fail, print nothing.")
def collect_git_cmd(since: str | None, repo: Path, commit: str | None, hook: bool) -> None:
    """Record commits: [skill:name] tags and LEARN-YYYY-NNN mentions (messages are not stored)."""
    from ai_telemetry.collect.git import collect_git, run_hook

    if hook:
        raise SystemExit(run_hook(repo, commit=commit))
    from ai_telemetry.config import load_settings

    result = collect_git(repo, settings=load_settings(), since=since, commit=commit)
    echo(
        f"{result.commits} commits read, {result.written} events written, "
        f"{result.already_logged} already in the log"
    )


@collect_group.command("ci")
@click.option("--coverage", type=_existing_file, help="Cobertura XML or coverage.py JSON.")
@click.option("--junit", type=_existing_file, help="JUnit XML (pytest, Jenkins, ...).")
@click.option("--ruff", type=_existing_file, help="ruff check --output-format json output.")
@click.option("--types", type=_existing_path, help="Python source: type-hint coverage.")
@click.option("--docs", type=_existing_path, help="Python source: docstring coverage.")
@click.option("--security", type=_existing_file, help="bandit or pip-audit JSON.")
@click.option(
    "--build-id",
    metavar="ID",
    help="This build's id (default: GITHUB_RUN_ID, CI_PIPELINE_ID or BUILD_TAG).",
)
def collect_ci_cmd(
    *,
    coverage: Path | None,
    junit: Path | None,
    ruff: Path | None,
    types: Path | None,
    docs: Path | None,
    security: Path | None,
    build_id: str | None,
) -> None:
    """Record CI reports as code-quality and test events (all inputs checked before writing)."""
    from ai_telemetry.collect.ci import collect_ci
    from ai_telemetry.config import load_settings

    if not any((coverage, junit, ruff, types, docs, security)):
        raise click.UsageError(
            "give at least one of --coverage, --junit, --ruff, --types, --docs, --security"
        )
    result = collect_ci(
        settings=load_settings(),
        coverage=coverage,
        junit=junit,
        ruff=ruff,
        types=types,
        docs=docs,
        security=security,
        build_id=build_id,
    )
    for line in result.summary:
        echo_line(line)
    echo(f"{result.written} events written, {result.already_logged} already in the log")


@collect_group.command("learnings")
@click.argument(
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=LEARNINGS_DIR,
    required=False,
)
def collect_learnings_cmd(directory: Path) -> None:
    """Record learning entries (DIRECTORY/LEARN-*.md, default .claude/History)."""
    from ai_telemetry.collect.learnings import collect_learnings
    from ai_telemetry.config import load_settings

    result = collect_learnings(directory, settings=load_settings())
    for problem in result.problems:
        echo_line(f"skipped: {problem}", err=True)
    echo(
        f"{result.entries} entries read, {result.written} events written, "
        f"{result.already_logged} already in the log, {len(result.problems)} skipped"
    )


@click.group("git")
def git_group() -> None:
    """Git integration: the post-commit hook."""


@git_group.command("install-hook")
@click.option(
    "--repo",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=Path(),
    show_default=True,
    help="Directory inside the git work tree.",
)
def install_hook_cmd(repo: Path) -> None:
    """Install the post-commit hook (keeps and calls an existing one; safe to re-run)."""
    from ai_telemetry.collect.git import install_hook

    result = install_hook(repo)
    verb = "updated" if result.updated else "installed"
    echo(f"{verb} {result.path}")
    if result.chained is not None:
        echo(f"it runs the earlier hook first: {result.chained}")


@click.group("ci")
def ci_group() -> None:
    """CI integration: workflow templates."""


@ci_group.group("init")
def ci_init_group() -> None:
    """Write a ready CI workflow that collects telemetry."""


@ci_init_group.command("github")
@click.option("--force", is_flag=True, help="Overwrite an existing workflow file.")
@click.option(
    "--root",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=Path(),
    show_default=True,
    help="Repository root.",
)
def ci_init_github_cmd(force: bool, root: Path) -> None:
    """Write .github/workflows/ai-telemetry.yml (tests, coverage, ruff, collect ci)."""
    from ai_telemetry.collect.ci.github import write_workflow

    path = write_workflow(root, force=force)
    echo(f"wrote {path}")


@click.group("learning")
def learning_group() -> None:
    """Learning entries (.claude/History/LEARN-*.md)."""


@learning_group.command("new")
@click.option("--severity", type=click.Choice(SEVERITIES), default="info", show_default=True)
@click.option(
    "--source", type=click.Choice(LEARNING_SOURCES), default="observation", show_default=True
)
@click.option("--skill", metavar="NAME", help="Skill the learning is about.")
@click.option("--type", "learning_type", metavar="TYPE", default="pattern", show_default=True)
@click.option("--title", metavar="TEXT", help="One-line title (also used in the file name).")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=LEARNINGS_DIR,
    show_default=True,
)
def learning_new_cmd(
    *,
    severity: str,
    source: str,
    skill: str | None,
    learning_type: str,
    title: str | None,
    directory: Path,
) -> None:
    """Write a new learning entry from the template, with the next free LEARN-YYYY-NNN id."""
    from ai_telemetry.collect.learnings import create_learning

    entry = create_learning(
        directory,
        severity=severity,
        source=source,
        skill=skill,
        learning_type=learning_type,
        title=title,
    )
    if entry.redacted:
        echo(
            f"warning: the privacy guard replaced --{', --'.join(entry.redacted)} by a marker",
            err=True,
        )
    echo(str(entry.path))


@click.group("learnings")
def learnings_group() -> None:
    """Share learning entries between projects: export and import bundles."""


@learnings_group.command("export")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The bundle file to write (JSON, docs/learnings.md).",
)
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=LEARNINGS_DIR,
    show_default=True,
)
@click.option("--project", metavar="NAME", help="Origin project named in the provenance.")
def learnings_export_cmd(output: Path, directory: Path, project: str | None) -> None:
    """Write every learning entry (privacy guard applied) into one versioned bundle."""
    from ai_telemetry.collect.learning_bundle import default_project, export_bundle, write_bundle

    result = export_bundle(directory, project=project or default_project(directory))
    write_bundle(output, result.data)
    for problem in result.problems:
        echo_line(f"skipped {problem}", err=True)
    echo(f"wrote {result.entries} entries to {output} ({result.redacted} values redacted)")


@learnings_group.command("import")
@click.argument("bundle", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=LEARNINGS_DIR,
    show_default=True,
)
def learnings_import_cmd(bundle: Path, directory: Path) -> None:
    """Write a bundle's new lessons into the history folder (dedup, renumber, privacy guard)."""
    from ai_telemetry.collect.learning_bundle import import_bundle
    from ai_telemetry.errors import CollectorError

    try:
        data = bundle.read_bytes()
    except OSError as exc:
        raise CollectorError(f"{bundle}: cannot read the bundle ({exc.strerror or exc})") from None
    result = import_bundle(data, directory, where=str(bundle))
    for problem in result.problems:
        echo_line(f"skipped {problem}", err=True)
    for old, new in sorted(result.renumbered.items()):
        echo(f"renumbered {old} -> {new}")
    echo(
        f"imported {len(result.written)} entries into {directory}; "
        f"{len(result.duplicates)} already here; {result.redacted} values redacted"
    )
