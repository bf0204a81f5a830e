"""``l-bom lock``: pin the model files (size, SHA-256) and identity facts under PATH in a lock file."""

from __future__ import annotations

import click

from lbom._cli.cache_options import CacheFlags, cache_options, terminal_progress
from lbom._cli.output import output_option


@click.command("lock")
@click.argument("path", type=click.Path(readable=False, path_type=str))
@output_option
@cache_options
def lock_command(path: str, output: str | None, cache_flags: CacheFlags) -> None:
    """Write a lock file for the models under PATH (a folder or one model file).

    The lock is TOML, sorted, one fact per line: commit it, and gate with `l-bom verify PATH --lock FILE`.
    Every file is hashed from its bytes, never taken from the scan cache (--rehash is always on). A file that
    cannot be read is reported and nothing is written (exit 3).
    """
    from lbom._cli import warn
    from lbom._cli.output import write_output
    from lbom._lock import UnreadableFiles, lock
    from lbom.errors import UsageError

    try:
        with terminal_progress() as display:
            pinned = lock(path, options=cache_flags.scan_options([path], progress=display))
    except UnreadableFiles as exc:
        for finding in exc.findings:
            warn(f"warning: {finding.file}: {finding.message}")
        raise
    if not pinned.models:
        raise UsageError(f"{path}: no model files found; nothing to lock")
    write_output(pinned.to_toml(), output)
