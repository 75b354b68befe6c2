"""`gantry discover argocd` — propose ArgoCD applications as catalog changes, one commit.

Made for a scheduled workflow: it reads the instances from a config file in the argocd
plugin's format (secrets as `${VAR}` from the environment), merges the discovered Services
into the catalog, commits once (nothing when nothing changed) and prints a Markdown summary
that can be used as a pull request body. Exit codes: 0 done (changed or not), 1 ArgoCD or
Git failed, 2 bad usage or configuration.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import yaml

from runner.plugins.argocd.client import ArgoCDError
from runner.plugins.argocd.config import ArgoCDConfig, ConfigError, expand_env
from runner.plugins.argocd.run import discover
from runner.plugins.argocd.writer import DiscoveryWriteError, default_author


def _read_config(path: Path) -> ArgoCDConfig:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise click.UsageError(f"cannot read config file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise click.UsageError(f"{path}: not valid YAML or JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise click.UsageError(f"{path}: the config must be an object with `instances`")
    try:
        return ArgoCDConfig.from_config(expand_env(raw))
    except ConfigError as exc:
        raise click.UsageError(f"{path}: {exc}") from exc


@click.group(name="discover")
def command() -> None:
    """Discover systems and propose them as catalog changes."""


@command.command(name="argocd")
@click.option("--catalog", "catalog", default="catalog", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="The catalog directory (inside a Git work tree).")
@click.option("--config", "config_path", required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="ArgoCD instances, YAML or JSON in the argocd plugin's config format.")
@click.option("--summary-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the Markdown summary to this file (a pull request body).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def argocd(catalog: Path, config_path: Path, summary_file: Path | None, as_json: bool) -> None:
    """Merge ArgoCD Applications into the catalog as Services and commit once."""
    config = _read_config(config_path)
    if not catalog.is_dir():
        raise click.UsageError(f"catalog directory {catalog} does not exist")
    try:
        result = discover(catalog, config, default_author(catalog))
    except ArgoCDError as exc:
        click.echo(f"error: {exc.message}", err=True)
        raise SystemExit(1) from exc
    except DiscoveryWriteError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from exc
    if summary_file is not None:
        summary_file.write_text(result.summary, encoding="utf-8")
    if as_json:
        click.echo(json.dumps({
            "commit": result.commit, "applications": result.app_count, "files": result.paths,
            "created": [c.name for c in result.changes if c.created],
            "updated": [c.name for c in result.changes if not c.created],
            "summary": result.summary,
        }, indent=2))
    else:
        click.echo(result.summary, nl=False)
    if result.commit:
        click.echo(f"committed {result.commit[:12]} ({len(result.paths)} file(s))", err=True)
    else:
        click.echo("nothing changed; no commit", err=True)
