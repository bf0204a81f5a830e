"""``l-bom verify``: check that model files are what they claim to be.

Modes (one per option; the default needs no file):
  (default)          every content-addressed blob in the model stores, or under PATHS, is hashed and compared
                     with its name (:func:`lbom.verify_store_blobs`).
  --lock FILE        PATH is re-hashed and compared with a lock file written by ``l-bom lock``: changed, missing,
                     new and renamed files and changed identity facts are listed (:func:`lbom.verify`).
  --sha256sums FILE  PATH is compared with a ``sha256sum``-format list (:func:`lbom.verify`).
Each mode is one small function below that returns whether everything matched; the command exits 1 otherwise.
"""

from __future__ import annotations

import click

from lbom._cli.cache_options import CacheFlags, cache_options, terminal_progress

_FORMATS = ("text", "json")


@click.command("verify")
@click.argument("paths", nargs=-1, type=click.Path(exists=False, path_type=str))
@click.option(
    "-f", "--format", "fmt", type=click.Choice(_FORMATS), default="text", show_default=True, help="Output format."
)
@click.option(
    "--lock", "lock_file", type=click.Path(dir_okay=False, path_type=str), help="Lock file to verify against."
)
@click.option(
    "--sha256sums",
    "sums_file",
    type=click.Path(dir_okay=False, path_type=str),
    help="SHA256SUMS file (sha256sum format) to verify against.",
)
@cache_options
def verify_command(
    paths: tuple[str, ...], fmt: str, lock_file: str | None, sums_file: str | None, cache_flags: CacheFlags
) -> None:
    """Verify model files; exit 1 on any mismatch.

    With no option, checks every content-addressed blob (Hugging Face hub cache blobs, Ollama blobs: their file
    name is the digest of their content) in the model stores on this machine, or under PATHS.
    With --lock, PATH must match the lock exactly: every pinned file present with the same SHA-256 and size, no
    new model files, the same identity facts. With --sha256sums, every listed file must match and no model file
    may be unlisted. Every file is re-hashed (--rehash is always on); the fresh digests are recorded in the scan
    cache unless --no-cache.
    """
    from lbom._cli import EXIT_GATE
    from lbom.errors import UsageError

    if lock_file is not None and sums_file is not None:
        raise UsageError("use either --lock or --sha256sums, not both")
    if lock_file is not None:
        ok = verify_lock_mode(paths, lock_file, None, fmt, cache_flags)
    elif sums_file is not None:
        ok = verify_lock_mode(paths, None, sums_file, fmt, cache_flags)
    else:
        ok = verify_store_blobs_mode(paths, fmt)
    if not ok:
        click.get_current_context().exit(EXIT_GATE)


def verify_lock_mode(
    paths: tuple[str, ...], lock_file: str | None, sums_file: str | None, fmt: str, cache_flags: CacheFlags
) -> bool:
    """--lock / --sha256sums: one PATH against a lock or a SHA256SUMS list. True when everything matched."""
    import json

    from lbom._render.terminal import escape_control
    from lbom._verify import verify
    from lbom.errors import UsageError

    if len(paths) != 1:
        raise UsageError("--lock and --sha256sums verify exactly one PATH (the folder or file that was locked)")
    with terminal_progress() as display:
        options = cache_flags.scan_options(paths, progress=display)
        result = verify(paths[0], lock=lock_file, sha256sums=sums_file, options=options)
    if fmt == "json":
        click.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
        return result.ok
    for line in result.lines():
        click.echo(escape_control(line))
    against = lock_file if lock_file is not None else sums_file
    if result.ok:
        verb = "matches" if result.files_checked == 1 else "match"
        click.echo(f"OK: {_count(result.files_checked, 'file')} {verb} {escape_control(str(against))}")
    else:
        click.echo(
            f"FAILED: {_count(len(result.file_changes), 'file difference')} and "
            f"{_count(len(result.fact_changes), 'fact difference')} from {escape_control(str(against))} "
            f"({_count(result.files_checked, 'file')} checked)"
        )
    return result.ok


def _count(number: int, noun: str) -> str:
    """``1 file``, ``2 files``, ``0 files``."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def verify_store_blobs_mode(paths: tuple[str, ...], fmt: str) -> bool:
    """The default mode: content-addressed blobs in stores. Prints a summary; True when nothing mismatched."""
    import json

    from lbom._cli import store_paths_for_no_path, warn
    from lbom._render.terminal import escape_control
    from lbom._stores.verify import MISMATCHED, SKIPPED, verify_store_blobs

    if not paths:
        paths = store_paths_for_no_path(
            "verifying",
            "no PATH given and no model store found (looked in: {looked}); "
            "or verify a PATH with --lock FILE or --sha256sums FILE",
        )
    import sys

    def show(path: str) -> None:
        warn(f"checked {path}")

    report = verify_store_blobs(list(paths) or None, progress=show if sys.stderr.isatty() else None)
    if fmt == "json":
        click.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
        return report.ok
    for blob in report.blobs:
        if blob.status == MISMATCHED:
            click.echo(
                f"MISMATCH {escape_control(blob.path)}: content does not match its content address "
                f"({blob.algorithm} {blob.actual}, named {blob.expected}): corrupted or tampered"
            )
        elif blob.status == SKIPPED:
            warn(f"skipped: {blob.path}: {blob.reason}")
    click.echo(
        f"{report.checked} blobs checked: {report.matched} matched, {report.mismatched} mismatched, "
        f"{report.skipped} skipped"
    )
    if report.checked == 0:
        # A gate that verified nothing must not read as a pass (report.ok says so too).
        warn(
            "error: nothing was verified: no content-addressed blobs found (not a model store); "
            "verify an ordinary folder with --lock FILE or --sha256sums FILE"
        )
    return report.ok
