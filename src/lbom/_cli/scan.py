"""``l-bom scan``: scan files or folders and write an SBOM document."""

from __future__ import annotations

import sys

import click

from lbom._cli.cache_options import CacheFlags, cache_options, terminal_progress
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
def scan_command(
    paths: tuple[str, ...],
    fmt: str,
    output: str | None,
    no_hash: bool,
    full_hash: bool,
    allow_full_download: bool,
    digest_names: str,
    cache_flags: CacheFlags,
    progress: bool | None,
    list_all: bool,
    fail_on: str | None,
    hf_title: str | None,
    hf_short_description: str | None,
    hf_sdk: str,
    hf_app_file: str | None,
    hf_app_port: int | None,
) -> None:
    """Scan model files or folders (recursively) and print an SBOM.

    Files are recognised by their magic bytes. Nothing in them is executed and nothing is written next to them.
    PATH may also be an https:// URL or hf://org/repo[@revision][/file]: only the header bytes are fetched
    (HTTP Range requests), unless --hash asks for a full streaming hash.
    """
    from lbom._cli import EXIT_GATE, EXIT_INPUT, store_paths_for_no_path, warn
    from lbom._cli.output import write_output
    from lbom._render import RenderOptions, render_chunks
    from lbom.errors import UsageError
    from lbom.model import Severity
    from lbom.scan import R_NOT_MODEL, scan

    if not paths:
        paths = store_paths_for_no_path(
            "scanning", "scan needs a PATH (a model file or a folder); no model store found (looked in: {looked})"
        )
    if full_hash and no_hash:
        raise UsageError("--hash and --no-hash contradict each other")
    if hf_app_port is not None and hf_sdk != "docker":
        raise UsageError("--hf-app-port only applies with --hf-sdk docker")
    fmt_enum = OutputFormat(fmt)
    if fmt_enum is OutputFormat.HF_README and (hf_title is None):
        pass  # the renderer derives a title from the model
    from lbom._hashing import normalise_algorithms

    digests = normalise_algorithms(digest_names.split(","))
    if no_hash and digests != ("sha256",):
        raise UsageError("--digest needs hashing: drop --no-hash")
    with terminal_progress(progress) as display:
        options = cache_flags.scan_options(
            paths,
            hash=not no_hash,
            digests=digests,
            list_unknown=list_all,
            progress=display,
            remote_hash=full_hash,
            allow_full_download=allow_full_download,
        )
        result = scan(list(paths), options=options)
    # A single file that cannot be read is the whole outcome (exit 3), so say "error", not "warning".
    level = "error" if result.single_file and not result.models else "warning"
    for finding in result.findings:
        warn(f"{level}: {finding.file}: {finding.message}")
    for model in result.models:
        for finding in model.findings:
            if finding.severity >= Severity.HIGH:
                warn(f"warning: {finding.file or model.path}: {finding.message}")
    not_models = [f for f in result.findings if f.rule_id == R_NOT_MODEL and f.severity >= Severity.MEDIUM]
    if result.single_file and not result.models:
        ctx = click.get_current_context()
        if not not_models:
            warn(f"error: {paths[0]}: could not be read")
        ctx.exit(EXIT_INPUT)
    text = render_chunks(
        result,
        fmt_enum,
        RenderOptions(
            hf_title=hf_title,
            hf_short_description=hf_short_description,
            hf_sdk=hf_sdk,
            hf_app_file=hf_app_file,
            hf_app_port=hf_app_port,
            width=_table_width(output) if fmt_enum is OutputFormat.TABLE else None,
        ),
    )
    write_output(text, output)
    if fail_on is not None:
        threshold = Severity(fail_on)
        if any(f.severity >= threshold for f in result.all_findings):
            click.get_current_context().exit(EXIT_GATE)


def _table_width(output: str | None) -> int | None:
    """The table's width: $COLUMNS when set, else the terminal's when printing to one, else the renderer's 160."""
    import os

    if os.environ.get("COLUMNS", "").strip().isdigit():
        return max(40, int(os.environ["COLUMNS"]))
    if output in (None, "-") and sys.stdout.isatty():
        import shutil

        return max(40, shutil.get_terminal_size((160, 24)).columns)
    return None
