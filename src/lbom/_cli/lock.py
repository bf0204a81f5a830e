"""``l-bom lock``: pin the model files (size, SHA-256) and identity facts under PATH in a lock file."""

from __future__ import annotations

import click

from lbom._cli.output import output_option


@click.command("lock")
@click.argument("path", type=click.Path(readable=False, path_type=str))
@output_option
def lock_command(path: str, output: str | None) -> None:
    """Write a lock file for the models under PATH (a folder or one model file).

    The lock is TOML, sorted, one fact per line: commit it, and gate with `l-bom verify PATH --lock FILE`.
    """
    from lbom._cli.output import write_output
    from lbom._lock import lock
    from lbom.errors import UsageError

    pinned = lock(path)
    if not pinned.models:
        raise UsageError(f"{path}: no model files found; nothing to lock")
    write_output(pinned.to_toml(), output)
