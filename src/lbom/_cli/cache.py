"""``l-bom cache info|clear``: where the scan cache is, how big, and how to empty it."""

from __future__ import annotations

import click

_CACHE_DIR = click.option(
    "--cache-dir", type=click.Path(file_okay=False, path_type=str), help="The cache folder [default: per-user]."
)


@click.group("cache")
def cache_command() -> None:
    """Inspect or clear the persistent cache of digests and parsed headers."""


@cache_command.command("info")
@_CACHE_DIR
def info_command(cache_dir: str | None) -> None:
    """Show where the cache is and how many files it knows."""
    from lbom._cache import cache_info, default_cache_dir
    from lbom._formats.interface import DEFAULT_LIMITS
    from lbom._render.terminal import escape_control

    info = cache_info(cache_dir or default_cache_dir(), DEFAULT_LIMITS)
    click.echo(f"path: {escape_control(info.path)}")
    if not info.exists:
        click.echo("status: empty (no cache file yet)")
        return
    click.echo(f"size: {info.bytes_on_disk} bytes")
    click.echo(f"entries: {info.entries}")
    click.echo(f"entries for this version: {info.current_entries}")


@cache_command.command("clear")
@_CACHE_DIR
def clear_command(cache_dir: str | None) -> None:
    """Delete the cache (it is rebuilt by the next scan)."""
    from lbom._cache import clear_cache, default_cache_dir
    from lbom._render.terminal import escape_control
    from lbom.errors import OutputError

    directory = cache_dir or default_cache_dir()
    try:
        freed = clear_cache(directory)
    except OSError as exc:
        raise OutputError(directory, exc.strerror or str(exc)) from exc
    click.echo(f"cleared {escape_control(directory)} ({freed} bytes freed)")
