"""What the scanning commands share that does not need Click: :class:`CacheFlags` (``--jobs``, ``--cache-dir``,
``--no-cache``, ``--rehash`` as one value) and the progress display. The Click options themselves are in
:mod:`lbom._cli.cache_options`; the argv fast path (:mod:`lbom._cli.fast`) builds the same values without Click.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

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


@contextlib.contextmanager
def terminal_progress(forced: bool | None = None) -> Iterator[ProgressDisplay | None]:
    """The progress bar for a scanning command: on when stderr is a terminal (or ``forced``), closed at the end.
    Pass what it yields as ``ScanOptions.progress``."""
    import sys

    if forced is False or sys.stderr is None or (forced is None and not sys.stderr.isatty()):
        yield None
        return
    from lbom._cli.progress import ProgressDisplay

    display = ProgressDisplay(forced=bool(forced))
    try:
        yield display
    finally:
        display.close()
