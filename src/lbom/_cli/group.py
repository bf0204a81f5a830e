"""The ``l-bom`` Click group: global options, and subcommands imported on first use (``COMMANDS``)."""

from __future__ import annotations

import importlib

import click

from lbom._cli import COMMANDS


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        module = importlib.import_module(f"lbom._cli.{module_name}")
        command: click.Command = getattr(module, attribute)
        return command


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from lbom._version import tool_version

    click.echo(f"l-bom {tool_version()}")
    ctx.exit(0)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks for errors (for bug reports).")
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Print the version and exit.",
)
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """l-bom: a Software Bill of Materials for local model files, read from their headers, never executed."""
    ctx.ensure_object(dict)
    ctx.obj["verbose"] = verbose
