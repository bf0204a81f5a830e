"""``l-bom stores``: the model stores l-bom knows, where they are on this machine, models and bytes in each."""

from __future__ import annotations

import click


@click.command("stores")
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="Output format.",
)
def stores_command(fmt: str) -> None:
    """List the model stores (Hugging Face cache, Ollama, LM Studio, llama.cpp) with model counts and sizes."""
    import json

    from lbom._render.table import human_size
    from lbom._render.terminal import escape_control
    from lbom._stores import list_stores

    summaries = list_stores()
    if fmt == "json":
        click.echo(json.dumps([s.to_json() for s in summaries], indent=2))
        return
    rows = [("STORE", "MODELS", "SIZE", "PATH")]
    for summary in summaries:
        location = summary.location
        if summary.exists:
            rows.append((location.label, str(summary.model_count), human_size(summary.total_size), location.path))
        else:
            rows.append((location.label, "-", "-", f"{location.path} (not found)"))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        line = f"{row[0]:<{widths[0]}}  {row[1]:>{widths[1]}}  {row[2]:>{widths[2]}}  {row[3]}"
        click.echo(escape_control(line))
