"""``export``: our numbers in Prometheus and Grafana (docs/prometheus.md).

``export prometheus`` serves, writes or pushes the exposition of the metric catalogue;
``export prometheus-rules`` writes the threshold rules as Prometheus alerting rules;
``export grafana`` writes Grafana provisioning files and dashboards.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import click


@click.group("export")
def export_group() -> None:
    """Export the metrics to Prometheus (pull, textfile, Pushgateway) and Grafana."""


@export_group.command("prometheus")
@click.option(
    "--listen",
    metavar="HOST:PORT",
    help="Serve /metrics here (e.g. 127.0.0.1:9464; port 0 picks a free one) until stopped.",
)
@click.option(
    "--textfile",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the exposition to FILE atomically (node_exporter's textfile collector).",
)
@click.option("--push", "push_url", metavar="URL", help="Push to the Pushgateway at URL.")
@click.option(
    "--job",
    default=None,
    help="Pushgateway job (default: [export.pushgateway] job, else ai_infrastructure).",
)
@click.option("--project", help="Only this project's events (series labelled project=...).")
@click.option(
    "--by-project", is_flag=True, help="One set of series per project, labelled project=..."
)
def prometheus_cmd(
    *,
    listen: str | None,
    textfile: Path | None,
    push_url: str | None,
    job: str | None,
    project: str | None,
    by_project: bool,
) -> None:
    """Expose the metric catalogue to Prometheus (stdout when no target is given).

    Counters are all-time totals; gauges and summaries are the current ISO week's. A scrape
    with nothing new in the log is answered from a cache.
    """
    from ai_telemetry.config import load_settings
    from ai_telemetry.errors import ExportError
    from ai_telemetry.export import prometheus as prom

    chosen = [x for x in (listen, textfile, push_url) if x is not None]
    if len(chosen) > 1:
        raise click.UsageError("give one of --listen, --textfile and --push")
    settings = load_settings()
    if push_url is not None:
        if project or by_project:
            raise click.UsageError("--push always groups by project; drop --project/--by-project")
        from ai_telemetry.config import pushgateway

        results = prom.push(settings, push_url, job=job or pushgateway(settings)[1])
        failed = [r for r in results if r.error]
        for r in results:
            group = ", ".join(f"{k}={v}" for k, v in r.grouping_key.items()) or "(no project)"
            click.echo(f"FAILED {group}: {r.error}" if r.error else f"pushed {group}")
        if failed:
            raise ExportError(f"{len(failed)} of {len(results)} groups were not pushed")
        return
    collector = prom.TelemetryCollector(settings, project=project, by_project=by_project)
    if textfile is not None:
        samples = prom.write_textfile(collector, textfile)
        click.echo(f"wrote {samples:,} samples to {textfile}")
        return
    if listen is None:
        click.echo(prom.exposition(collector).decode(), nl=False)
        return

    def ready(host: str, port: int) -> None:
        click.echo(f"serving http://{host}:{port}/metrics (Ctrl-C stops)", err=True)

    with contextlib.suppress(KeyboardInterrupt):
        prom.serve(collector, listen, ready=ready)


@export_group.command("prometheus-rules")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Write the alerting rules file here (YAML, for rule_files in prometheus.yml).",
)
def prometheus_rules_cmd(output: Path) -> None:
    """Write the threshold rules (the seed's six and config.toml's) as Prometheus alert rules."""
    from ai_telemetry.analyze.rules import rules_from_settings
    from ai_telemetry.config import load_settings
    from ai_telemetry.export.rules import write_rules

    written, skipped = write_rules(rules_from_settings(load_settings()), output)
    click.echo(f"wrote {written} alerting rules to {output}")
    for line in skipped:
        click.echo(f"skipped: {line}", err=True)


@export_group.command("grafana")
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Directory for provisioning/ (datasource, dashboards provider) and dashboards/.",
)
@click.option(
    "--prometheus-url",
    default="http://localhost:9090",
    show_default=True,
    help="The Prometheus the datasource points at.",
)
def grafana_cmd(output: Path, prometheus_url: str) -> None:
    """Write Grafana provisioning files and the dashboards over the exported series."""
    from ai_telemetry.export.grafana import write_grafana

    for path in write_grafana(output, prometheus_url=prometheus_url):
        click.echo(f"wrote {path}")
