"""The `gantry` command: a click group whose verbs are declared as entry points.

Each verb lives in its own module (`generator/commands/<verb>.py`,
`runner/commands/<verb>.py`) and is listed under the `gantry.commands` entry-point group in
pyproject.toml. Verbs load only when used, so `gantry validate` never imports Flask.
"""

from __future__ import annotations

from importlib.metadata import entry_points

import click

from . import __version__


def _verbs() -> dict:
    return {ep.name: ep for ep in entry_points(group="gantry.commands")}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(_verbs()))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is not None:
            return command
        ep = _verbs().get(name)
        if ep is None:
            return None
        try:
            return ep.load()
        except ImportError as exc:
            raise click.ClickException(f"'gantry {name}' is not available: {exc}") from exc

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            try:
                command = self.get_command(ctx, name)
            except click.ClickException:
                continue
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=60)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gantry")
def cli() -> None:
    """Gantry — a GitOps-first developer portal."""


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="gantry")
