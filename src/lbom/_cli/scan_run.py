"""What ``l-bom scan`` does once its arguments are parsed, without Click: the Click command
(:mod:`lbom._cli.scan`) and the argv fast path (:mod:`lbom._cli.fast`) both call :func:`run_scan`."""

from __future__ import annotations

import sys

from lbom._cli.flags import CacheFlags, terminal_progress
from lbom._render.interface import OutputFormat


def run_scan(
    *,
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
) -> int:
    """Scan ``paths`` and write the document; returns the exit code (0, 1 for ``--fail-on``, 3 for an
    unreadable single file). Usage and input errors are raised as :class:`lbom.errors.Error`."""
    from lbom._cli import EXIT_GATE, EXIT_INPUT, EXIT_OK, store_paths_for_no_path, warn
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
    fmt_enum = OutputFormat(fmt)  # hf-readme without --hf-title: the renderer derives a title from the model
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
        if not not_models:
            warn(f"error: {paths[0]}: could not be read")
        return EXIT_INPUT
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
            return EXIT_GATE
    return EXIT_OK


def _table_width(output: str | None) -> int | None:
    """The table's width: $COLUMNS when set, else the terminal's when printing to one, else the renderer's 160."""
    import os

    if os.environ.get("COLUMNS", "").strip().isdigit():
        return max(40, int(os.environ["COLUMNS"]))
    if output in (None, "-") and sys.stdout.isatty():
        import shutil

        return max(40, shutil.get_terminal_size((160, 24)).columns)
    return None
