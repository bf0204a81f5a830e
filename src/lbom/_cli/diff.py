"""``l-bom diff``: what changed between two l-bom JSON documents or lock files."""

from __future__ import annotations

import click

from lbom._cli.output import output_option

_FORMATS = ("table", "json", "markdown")


@click.command("diff")
@click.argument("old", type=click.Path(dir_okay=False, readable=False, path_type=str))
@click.argument("new", type=click.Path(dir_okay=False, readable=False, path_type=str))
@click.option(
    "-f", "--format", "fmt", type=click.Choice(_FORMATS), default="table", show_default=True, help="Output format."
)
@output_option
def diff_command(old: str, new: str, fmt: str, output: str | None) -> None:
    """Compare OLD and NEW (l-bom JSON documents or lock files, in any combination).

    Lists added and removed models and, per model, changed facts (format, architecture, quantization, parameter
    count, license), files and findings. Exits 0 when they are the same, 1 when anything differs (like diff(1)).
    Files one side has no SHA-256 for (scan --no-hash) are compared by size only: a warning on stderr says how
    many, and exit 0 then only means "no difference in what could be compared".
    Use --format markdown for pull-request comments.
    """
    from lbom._cli import EXIT_GATE, warn
    from lbom._cli.output import write_output
    from lbom._diff import diff, render_diff

    result = diff(old, new)
    write_output(render_diff(result, fmt), output)
    if result.size_only_note:
        warn(f"warning: {result.size_only_note}")
    if not result.identical:
        click.get_current_context().exit(EXIT_GATE)
