"""The read stage of a scan: sniff, read headers and hash every candidate — in parallel and through the cache.

Worker threads each take a whole file (sniff, header, then the hash), so one file's header reading overlaps
another's hashing and hashlib, which releases the GIL on large updates, keeps every core busy. Only a bounded
window of files is in flight, results come back in candidate order whatever finishes first (parallel and
sequential scans give byte-identical documents), and all cache traffic stays on the scanning thread.
"""

from __future__ import annotations

import os
import time
from _thread import allocate_lock
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import field
from typing import TYPE_CHECKING

from lbom._cache import CachedRead, FileKey, ScanCache
from lbom._formats import READERS, SNIFF_BYTES, ReaderEntry, pick_reader_for
from lbom._formats.interface import LocalFileSource
from lbom._records import dataclass
from lbom.errors import ScanCancelled
from lbom.model import FileDigest, Finding, ModelHeader, Severity
from lbom.scan import Candidate, ProgressEvent, ReadFile, ScanOptions

if TYPE_CHECKING:
    import threading
    from concurrent.futures import Future, ThreadPoolExecutor

R_UNREADABLE = "LBOM-SCAN-002"
R_CHANGED = "LBOM-READ-001"

_TICK_S = 0.2
"""How often progress is reported while a large file is being hashed."""


INLINE_HASH_BYTES = 1024 * 1024
"""Smaller files are hashed on the scanning thread: handing them to a worker would cost more than hashing."""


@dataclass
class _Pending:
    """One file on its way through the pipeline: header known, digests maybe still being computed."""

    candidate: Candidate
    key: FileKey | None
    reader: ReaderEntry | None = None
    header: ModelHeader | None = None
    known: dict[str, str] = field(default_factory=dict)
    known_order: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    done: ReadFile | None = None
    """Set when the result is final without hashing (not a model, unreadable, fully cached)."""
    store: bool = True
    future: Future[tuple[FileDigest, ...]] | None = None
    hashed: list[int] = field(default_factory=lambda: [0])
    """Bytes hashed for this file, written only by the thread that hashes it."""


def read_uncached(candidate: Candidate, options: ScanOptions) -> ReadFile:
    """One file, read and hashed on the calling thread, without the cache."""
    pending = _read_header(candidate, options, _algorithms(options), None, None)
    _hash_inline(pending, None, options)
    return _result(pending)


def read_all(candidates: list[Candidate], options: ScanOptions, cache: ScanCache | None) -> Iterator[ReadFile]:
    """Every candidate read (and hashed), yielded in the order given.

    Headers are read on the calling thread, in order; files that need hashing and are not tiny go to ``jobs``
    worker threads, so headers are parsed while earlier files hash. With ``jobs=1`` everything runs here.
    ``cache`` is the scan's (None without one): what was read is flushed to it at the end; the caller closes it.
    """
    algorithms = _algorithms(options)
    tracker = _Tracker(options.progress, candidates)
    jobs = max(1, options.jobs if options.jobs is not None else (os.cpu_count() or 1))
    pool: ThreadPoolExecutor | None = None
    """Started when the first file big enough to hash on a worker comes (never for ``--no-hash`` scans)."""
    stop: threading.Event | None = None
    """Made with the pool, set when the scan ends early (Ctrl-C, an error, the caller closing this generator):
    workers then stop within one chunk instead of hashing the rest of a 50 GiB file before the scan can exit.
    (``threading`` is imported only then: a scan that hashes nothing on workers does without it.)"""
    window: deque[_Pending] = deque()
    in_flight = 0
    try:
        for candidate in candidates:
            key, cached = _lookup(cache, candidate, options)
            pending = _read_header(candidate, options, algorithms, key, cached)
            if pending.missing and jobs > 1 and candidate.size >= INLINE_HASH_BYTES:
                if pool is None:
                    import threading
                    from concurrent.futures import ThreadPoolExecutor

                    stop = threading.Event()
                    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="lbom-hash")
                pending.future = pool.submit(digest_file_counted, candidate.real_path, pending, tracker, options, stop)
                in_flight += 1
            elif pending.missing:
                _hash_inline(pending, tracker, options)
            window.append(pending)
            # Yield what is finished at the head; wait for the head when enough work is queued behind it.
            while window and (_is_ready(window[0]) or in_flight >= jobs * 2 or len(window) >= _MAX_WINDOW):
                head = window.popleft()
                if head.future is not None:
                    _wait(head.future, tracker)
                    in_flight -= 1
                yield _finish(head, cache, tracker)
        while window:
            head = window.popleft()
            if head.future is not None:
                _wait(head.future, tracker)
            yield _finish(head, cache, tracker)
    finally:
        if stop is not None:
            stop.set()
        if pool is not None:
            for pending in window:
                if pending.future is not None:
                    pending.future.cancel()
            pool.shutdown(wait=True)
        if cache is not None:
            cache.flush()


_MAX_WINDOW = 1024
"""Finished files held back behind one still hashing, at most (keeps memory bounded)."""


def _is_ready(pending: _Pending) -> bool:
    return pending.future is None or pending.future.done()


def _wait(future: Future[tuple[FileDigest, ...]], tracker: _Tracker) -> None:
    from concurrent.futures import wait as wait_futures

    if tracker.reporting:
        while not wait_futures([future], timeout=_TICK_S).done:
            tracker.tick()
    else:
        wait_futures([future])


def digest_file_counted(
    path: str, pending: _Pending, tracker: _Tracker, options: ScanOptions, stop: threading.Event | None = None
) -> tuple[FileDigest, ...]:
    """Hash on a worker thread, counting bytes for the file and for the progress display."""
    from lbom._hashing import digest_file

    def count(size: int) -> None:
        pending.hashed[0] += size
        tracker.hashed(size)
        # A cancelled or abandoned scan does not wait for a 50 GiB file to finish.
        if stop is not None and stop.is_set():
            raise ScanCancelled("scan stopped")
        _check_cancel(options)

    return digest_file(path, pending.missing, count)


def _check_cancel(options: ScanOptions) -> None:
    if options.cancel is not None and options.cancel():
        raise ScanCancelled("scan cancelled")


def _hash_inline(pending: _Pending, tracker: _Tracker | None, options: ScanOptions) -> None:
    from lbom._hashing import digest_file

    def count(size: int) -> None:
        pending.hashed[0] += size
        _check_cancel(options)
        if tracker is not None:
            tracker.hashed(size)
            if tracker.reporting:
                tracker.tick()

    try:
        digests = digest_file(pending.candidate.real_path, pending.missing, count)
    except OSError as exc:
        _fail(pending, "cannot hash", exc)
        return
    pending.known.update((d.algorithm, d.hex) for d in digests)
    pending.missing = ()


def _finish(pending: _Pending, cache: ScanCache | None, tracker: _Tracker) -> ReadFile:
    if pending.future is not None:
        try:
            pending.known.update((d.algorithm, d.hex) for d in pending.future.result())
            pending.missing = ()
        except OSError as exc:
            _fail(pending, "cannot hash", exc)
    read_file = _result(pending)
    if cache is not None and pending.key is not None and pending.store:
        digests = {d.algorithm: d.hex for d in read_file.digests}
        fmt = read_file.reader.format_name if read_file.reader is not None else None
        cache.store(pending.key, read_file.candidate.display_path, fmt, read_file.header, digests)
    tracker.file_done(read_file.candidate, pending.hashed[0])
    return read_file


def _result(pending: _Pending) -> ReadFile:
    """The finished ReadFile; checks (when the file was looked up by key) that it did not change meanwhile."""
    if pending.done is not None:
        return pending.done
    candidate = pending.candidate
    digests = tuple(FileDigest(name, pending.known[name]) for name in pending.known_order)
    if pending.store and not _unchanged(candidate, pending.key):
        pending.store = False
        changed = Finding(
            R_CHANGED,
            Severity.LOW,
            "the file changed while it was being read; header and digests may describe different versions",
            candidate.display_path,
            remedy="scan again once the file is no longer being written",
        )
        return ReadFile(candidate, pending.reader, pending.header, digests, (changed,))
    return ReadFile(candidate, pending.reader, pending.header, digests)


def _fail(pending: _Pending, what: str, exc: OSError) -> None:
    finding = _unreadable(what, exc, pending.candidate.display_path)
    pending.done = ReadFile(pending.candidate, pending.reader, pending.header, (), (finding,))
    pending.store = False


def _algorithms(options: ScanOptions) -> tuple[str, ...]:
    if not options.hash:
        return ()
    from lbom._hashing import normalise_algorithms

    return normalise_algorithms(options.digests)


def _lookup(
    cache: ScanCache | None, candidate: Candidate, options: ScanOptions
) -> tuple[FileKey | None, CachedRead | None]:
    if cache is None:
        return None, None
    try:
        key = FileKey.of(os.stat(candidate.real_path))
    except OSError:
        return None, None
    if options.rehash:
        return key, None
    return key, cache.lookup(key, candidate.display_path)


def _read_header(
    candidate: Candidate,
    options: ScanOptions,
    algorithms: tuple[str, ...],
    key: FileKey | None,
    cached: CachedRead | None,
) -> _Pending:
    """Sniff and read one file's header (or take it from the cache) and work out which digests are missing."""
    _check_cancel(options)
    pending = _Pending(candidate, key)
    path = candidate.display_path
    from_cache = _cached_header(cached)
    if from_cache is not None:
        pending.reader, pending.header = from_cache
    else:
        try:
            with LocalFileSource(candidate.real_path, display_name=path) as source:
                pending.reader = pick_reader_for(source, source.read_at(0, SNIFF_BYTES), path, options.limits)
                if pending.reader is not None:
                    pending.header = pending.reader.read(source, options.limits)
        except OSError as exc:
            _fail(pending, "cannot read", exc)
            return pending
    if pending.reader is None:
        pending.done = ReadFile(candidate, None, None, ())
        pending.store = _unchanged(candidate, key) and from_cache is None
        return pending
    pending.known_order = algorithms
    pending.known = dict(cached.digests) if cached is not None else {}
    pending.missing = tuple(name for name in algorithms if name not in pending.known)
    if cached is not None and from_cache is not None and not pending.missing:
        pending.store = False  # nothing new to record
    return pending


def _cached_header(cached: CachedRead | None) -> tuple[ReaderEntry | None, ModelHeader | None] | None:
    """The (reader, header) the cache holds for a file, (None, None) for 'not a model', None if it must be read."""
    if cached is None or not cached.has_header:
        return None
    if cached.format is None:
        return None, None
    for entry in READERS:
        if entry.format_name == cached.format and cached.header is not None:
            return entry, cached.header
    return None


def _unchanged(candidate: Candidate, key: FileKey | None) -> bool:
    if key is None:
        return True
    try:
        return FileKey.of(os.stat(candidate.real_path)) == key
    except OSError:
        return False


def _unreadable(what: str, exc: OSError, path: str) -> Finding:
    problem = (exc.strerror or str(exc)).lower() if exc.strerror else str(exc)
    return Finding(R_UNREADABLE, Severity.MEDIUM, f"{what}: {problem}", path)


class _Tracker:
    """Progress counters shared with the hashing threads; events are sent from the scanning thread only.

    Bytes done = every byte hashed so far (finished files and those in flight) + the sizes of finished files
    that needed no hashing here (cache hits, non-models, ``--no-hash``).
    """

    def __init__(self, callback: Callable[[ProgressEvent], None] | None, candidates: list[Candidate]) -> None:
        self._callback = callback
        self._files_total = len(candidates)
        self._bytes_total = sum(c.size for c in candidates)
        self._files_done = 0
        self._settled_bytes = 0
        self._hashed_bytes = 0
        self._lock = allocate_lock()
        self._current = ""
        self._last = 0.0

    @property
    def reporting(self) -> bool:
        return self._callback is not None

    def hashed(self, count: int) -> None:
        with self._lock:
            self._hashed_bytes += count

    def file_done(self, candidate: Candidate, hashed: int) -> None:
        if self._callback is None:
            return
        self._files_done += 1
        self._current = candidate.display_path
        self._settled_bytes += max(0, candidate.size - hashed)
        self._emit(force=self._files_done == self._files_total)

    def tick(self) -> None:
        self._emit(force=False)

    def _emit(self, force: bool) -> None:
        assert self._callback is not None
        now = time.monotonic()
        if not force and now - self._last < _TICK_S / 2:
            return
        self._last = now
        with self._lock:
            hashed = self._hashed_bytes
        done = min(self._bytes_total, self._settled_bytes + hashed)
        self._callback(ProgressEvent(self._current, self._files_done, self._files_total, done, self._bytes_total))
