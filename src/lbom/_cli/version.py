"""``l-bom version``: the installed version."""

from __future__ import annotations

import click


@click.command("version")
def version_command() -> None:
    """Print the installed l-bom version."""
    from lbom._version import tool_version

    click.echo(f"l-bom {tool_version()}")
