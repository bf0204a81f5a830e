"""The scan-cache and parallelism options every command that scans shares: ``--jobs``, ``--cache-dir``,
``--no-cache``, ``--rehash``. One definition, so ``scan``, ``lock``, ``verify`` and ``check`` cannot drift apart.

:func:`cache_options` adds the four options to a Click command and hands the command one :class:`CacheFlags`
(parameter ``cache_flags``) instead of four loose values; :meth:`CacheFlags.scan_options` turns it into the
library's :class:`~lbom.scan.ScanOptions`.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import click

from lbom._records import dataclass

if TYPE_CHECKING:
    from lbom._cli.progress import ProgressDisplay
    from lbom.scan import ScanOptions


@dataclass(frozen=True)
class CacheFlags:
    """What the user asked of the cache and the worker threads."""

    jobs: int | None = None
    cache_dir: str | None = None
    no_cache: bool = False
    rehash: bool = False

    def scan_options(self, paths: Sequence[str], **fields: Any) -> ScanOptions:
        """ScanOptions for scanning ``paths`` with these flags (plus any other ScanOptions ``fields``). Says on
        stderr when the cache is not used because it lies inside a scanned folder (l-bom never writes there)."""
        from lbom.scan import ScanOptions, cache_directory

        options = ScanOptions(
            jobs=self.jobs, cache=not self.no_cache, cache_dir=self.cache_dir, rehash=self.rehash, **fields
        )
        if options.cache and cache_directory(options, paths) is None:
            from lbom._cache import default_cache_dir
            from lbom._cli import warn

            warn(f"note: cache not used: {options.cache_dir or default_cache_dir()} is inside a scanned folder")
        return options


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


@contextlib.contextmanager
def terminal_progress(forced: bool | None = None) -> Iterator[ProgressDisplay | None]:
    """The progress bar for a scanning command: on when stderr is a terminal (or ``forced``), closed at the end.
    Pass what it yields as ``ScanOptions.progress``."""
    import sys

    if forced is False or (forced is None and not sys.stderr.isatty()):
        yield None
        return
    from lbom._cli.progress import ProgressDisplay

    display = ProgressDisplay(forced=bool(forced))
    try:
        yield display
    finally:
        display.close()
