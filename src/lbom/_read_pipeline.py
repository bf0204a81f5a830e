"""The read stage of a scan: sniff, read headers and hash every candidate — in parallel and through the cache.

Worker threads each take a whole file (sniff, header, then the hash), so one file's header reading overlaps
another's hashing and hashlib, which releases the GIL on large updates, keeps every core busy. Only a bounded
window of files is in flight, results come back in candidate order whatever finishes first (parallel and
sequential scans give byte-identical documents), and all cache traffic stays on the scanning thread.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass

from lbom._cache import CachedRead, FileKey, ScanCache
from lbom._formats import READERS, SNIFF_BYTES, ReaderEntry, pick_reader
from lbom._formats.interface import LocalFileSource
from lbom.errors import ScanCancelled
from lbom.model import FileDigest, Finding, ModelHeader, Severity
from lbom.scan import Candidate, ProgressEvent, ReadFile, ScanOptions

R_UNREADABLE = "LBOM-SCAN-002"
R_CHANGED = "LBOM-READ-001"

_TICK_S = 0.2
"""How often progress is reported while a large file is being hashed."""


@dataclass(frozen=True)
class _Outcome:
    read_file: ReadFile
    store: bool
    """True when the result may be recorded in the cache (the file was read completely and did not change)."""
    hashed: int = 0
    """Bytes of this file hashed here (reported to progress while hashing)."""


def read_uncached(candidate: Candidate, options: ScanOptions) -> ReadFile:
    """One file, read and hashed on the calling thread, without the cache."""
    algorithms = _algorithms(options)
    return _read(candidate, options, algorithms, None, None, None).read_file


def read_all(candidates: list[Candidate], options: ScanOptions, roots: Sequence[str]) -> Iterator[ReadFile]:
    """Every candidate read (and hashed), yielded in the order given."""
    algorithms = _algorithms(options)
    cache = _open_cache(options, roots)
    tracker = _Tracker(options.progress, candidates)
    jobs = max(1, options.jobs if options.jobs is not None else (os.cpu_count() or 1))
    try:
        if jobs == 1 and options.progress is None:
            for candidate in candidates:
                key, cached = _lookup(cache, candidate, options)
                outcome = _read(candidate, options, algorithms, key, cached, None)
                yield _finish(outcome, key, cache, tracker)
            return
        yield from _read_parallel(candidates, options, algorithms, cache, tracker, jobs)
    finally:
        if cache is not None:
            cache.close()


def _read_parallel(
    candidates: list[Candidate],
    options: ScanOptions,
    algorithms: tuple[str, ...],
    cache: ScanCache | None,
    tracker: _Tracker,
    jobs: int,
) -> Iterator[ReadFile]:
    window: deque[tuple[FileKey | None, Future[_Outcome]]] = deque()
    pending = iter(candidates)
    limit = jobs * 4
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="lbom-read") as pool:

        def refill() -> None:
            while len(window) < limit:
                candidate = next(pending, None)
                if candidate is None:
                    return
                key, cached = _lookup(cache, candidate, options)
                future = pool.submit(_read, candidate, options, algorithms, key, cached, tracker.hashed)
                window.append((key, future))

        refill()
        while window:
            key, future = window[0]
            if tracker.reporting:
                while not wait_futures([future], timeout=_TICK_S).done:
                    tracker.tick()
            outcome = future.result()
            window.popleft()
            refill()
            yield _finish(outcome, key, cache, tracker)


def _finish(outcome: _Outcome, key: FileKey | None, cache: ScanCache | None, tracker: _Tracker) -> ReadFile:
    read_file = outcome.read_file
    if cache is not None and key is not None and outcome.store:
        digests = {d.algorithm: d.hex for d in read_file.digests}
        fmt = read_file.reader.format_name if read_file.reader is not None else None
        cache.store(key, read_file.candidate.display_path, fmt, read_file.header, digests)
    tracker.file_done(read_file.candidate, outcome.hashed)
    return read_file


def _algorithms(options: ScanOptions) -> tuple[str, ...]:
    if not options.hash:
        return ()
    from lbom._hashing import normalise_algorithms

    return normalise_algorithms(options.digests)


def _open_cache(options: ScanOptions, roots: Sequence[str]) -> ScanCache | None:
    if not options.cache:
        return None
    from lbom._cache import default_cache_dir, is_inside, open_cache

    directory = options.cache_dir or default_cache_dir()
    if is_inside(directory, roots):
        return None  # never write into a scanned folder
    return open_cache(directory, options.limits)


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


def _read(
    candidate: Candidate,
    options: ScanOptions,
    algorithms: tuple[str, ...],
    key: FileKey | None,
    cached: CachedRead | None,
    on_bytes: Callable[[int], None] | None,
) -> _Outcome:
    """Sniff, read the header and hash one file, using what the cache already knows. Runs on a worker thread."""
    if options.cancel is not None and options.cancel():
        raise ScanCancelled("scan cancelled")
    path = candidate.display_path
    reader: ReaderEntry | None
    header: ModelHeader | None
    from_cache = _cached_header(cached)
    if from_cache is not None:
        reader, header = from_cache
    else:
        try:
            with LocalFileSource(candidate.real_path, display_name=path) as source:
                reader = pick_reader(source.read_at(0, SNIFF_BYTES), path)
                header = reader.read(source, options.limits) if reader is not None else None
        except OSError as exc:
            return _Outcome(ReadFile(candidate, None, None, (), (_unreadable("cannot read", exc, path),)), False)
    if reader is None:
        return _Outcome(ReadFile(candidate, None, None, ()), _unchanged(candidate, key))
    known = dict(cached.digests) if cached is not None else {}
    missing = tuple(name for name in algorithms if name not in known)
    hashed = 0
    if missing:
        from lbom._hashing import digest_file

        def count(size: int) -> None:
            nonlocal hashed
            hashed += size
            if on_bytes is not None:
                on_bytes(size)

        try:
            known.update((d.algorithm, d.hex) for d in digest_file(candidate.real_path, missing, count))
        except OSError as exc:
            failed = ReadFile(candidate, reader, header, (), (_unreadable("cannot hash", exc, path),))
            return _Outcome(failed, False, hashed)
    digests = tuple(FileDigest(name, known[name]) for name in algorithms)
    if cached is not None and not missing:
        return _Outcome(ReadFile(candidate, reader, header, digests), False)
    if not _unchanged(candidate, key):
        changed = Finding(
            R_CHANGED,
            Severity.LOW,
            "the file changed while it was being read; header and digests may describe different versions",
            path,
            remedy="scan again once the file is no longer being written",
        )
        return _Outcome(ReadFile(candidate, reader, header, digests, (changed,)), False, hashed)
    return _Outcome(ReadFile(candidate, reader, header, digests), True, hashed)


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
        self._lock = threading.Lock()
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
