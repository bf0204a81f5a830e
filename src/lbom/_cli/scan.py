"""``l-bom scan``: scan files or folders and write an SBOM document."""

from __future__ import annotations

from typing import Any

import click

from lbom._cli.cache_options import cache_options
from lbom._render.interface import OutputFormat

_SEVERITIES = ("info", "low", "medium", "high", "critical")


@click.command("scan")
@click.argument("paths", nargs=-1, type=click.Path(dir_okay=True, file_okay=True, readable=False, path_type=str))
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice([f.value for f in OutputFormat]),
    default=OutputFormat.JSON.value,
    show_default=True,
    help="Output format.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=str),
    help="Write to FILE (atomically) instead of stdout.",
)
@click.option("--no-hash", is_flag=True, help="Skip SHA-256 hashing (header-only scan).")
@click.option(
    "--hash",
    "full_hash",
    is_flag=True,
    help="Remote scans: stream each whole file once to hash it (default: header bytes only).",
)
@click.option(
    "--allow-full-download",
    is_flag=True,
    help="Remote scans: read servers without Range support from the start (only what is needed is kept).",
)
@click.option(
    "--digest",
    "digest_names",
    default="sha256",
    show_default=True,
    metavar="LIST",
    help="Digests to compute, comma-separated (e.g. sha256,blake3). SHA-256 is always included.",
)
@cache_options
@click.option(
    "--progress/--no-progress",
    "progress",
    default=None,
    help="Show progress on stderr [default: on a terminal, for scans that take more than a moment].",
)
@click.option("--all", "list_all", is_flag=True, help="Also list files that are not models.")
@click.option(
    "--fail-on",
    type=click.Choice(_SEVERITIES),
    default=None,
    help="Exit 1 if any finding has this severity or worse.",
)
@click.option("--hf-title", help="hf-readme: title of the Space/model card.")
@click.option("--hf-short-description", help="hf-readme: short description.")
@click.option(
    "--hf-sdk",
    type=click.Choice(["gradio", "docker", "static"]),
    default="static",
    show_default=True,
    help="hf-readme: Space SDK.",
)
@click.option("--hf-app-file", help="hf-readme: app file (gradio/static).")
@click.option("--hf-app-port", type=click.IntRange(1, 65535), help="hf-readme: app port (docker only).")
def scan_command(**params: Any) -> None:
    """Scan model files or folders (recursively) and print an SBOM.

    Files are recognised by their magic bytes. Nothing in them is executed and nothing is written next to them.
    PATH may also be an https:// URL or hf://org/repo[@revision][/file]: only the header bytes are fetched
    (HTTP Range requests), unless --hash asks for a full streaming hash.
    """
    from lbom._cli.scan_run import run_scan

    code = run_scan(**params)  # the parameters, typed, are run_scan's
    if code:
        click.get_current_context().exit(code)
