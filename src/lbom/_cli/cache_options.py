"""The scan-cache and parallelism options every command that scans shares: ``--jobs``, ``--cache-dir``,
``--no-cache``, ``--rehash``. One definition, so ``scan``, ``lock``, ``verify`` and ``check`` cannot drift apart.

:func:`cache_options` adds the four options to a Click command and hands the command one :class:`CacheFlags`
(parameter ``cache_flags``) instead of four loose values; :meth:`CacheFlags.scan_options` turns it into the
library's :class:`~lbom.scan.ScanOptions`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from lbom._cli.flags import CacheFlags, terminal_progress

__all__ = ["CacheFlags", "cache_options", "terminal_progress"]

_OPTIONS = (
    click.option(
        "-j",
        "--jobs",
        type=click.IntRange(1, 256),
        default=None,
        help="Files to read and hash at once [default: CPU cores].",
    ),
    click.option("--cache-dir", type=click.Path(file_okay=False, path_type=str), help="Where the scan cache lives."),
    click.option(
        "--no-cache", is_flag=True, help="Neither use nor update the persistent cache of digests and headers."
    ),
    click.option("--rehash", is_flag=True, help="Ignore cached results and recompute every digest and header."),
)


def cache_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator (put it among the command's ``@click.option`` lines): adds ``--jobs``, ``--cache-dir``,
    ``--no-cache`` and ``--rehash`` and passes them to ``command`` as ``cache_flags=CacheFlags(...)``."""

    @functools.wraps(command)
    def with_flags(*args: Any, jobs: int | None, cache_dir: str | None, no_cache: bool, rehash: bool, **kw: Any) -> Any:
        return command(*args, cache_flags=CacheFlags(jobs, cache_dir, no_cache, rehash), **kw)

    decorated: Callable[..., Any] = with_flags
    for option in reversed(_OPTIONS):
        decorated = option(decorated)
    return decorated
