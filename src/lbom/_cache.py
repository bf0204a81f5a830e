"""The persistent scan cache: digests and parsed headers, so an unchanged file is never read twice.

An entry is keyed by what identifies one version of one file on disk — device, inode, size, modification and
change time in nanoseconds — plus a *context*: the l-bom version, the scan's :class:`Limits`, the codec version
and a fingerprint of the reader and model sources, so a reader fix or a different limit never serves an old
result. Writing a file changes its mtime and ctime; replacing it changes the inode; renaming or hard-linking it
changes its ctime — each is a miss. The known limit of any such cache: content rewritten in place with the same
size while mtime *and* ctime are forced back (which needs root or a clock change) is not noticed; ``--rehash``
recomputes everything.

Storage is one SQLite database in WAL mode with a busy timeout, so several l-bom processes can share it; only
the scanning thread talks to it. The cache is an optimisation: if it cannot be opened or written, the scan
goes on without it. It is never placed inside a folder being scanned.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sqlite3
import stat
import sys
from collections.abc import Iterator, Sequence

from lbom._formats.interface import Limits
from lbom._records import dataclass
from lbom._sha256 import sha256_hex
from lbom.model import Finding, ModelHeader

DB_NAME = "scan-cache.sqlite3"
_SCHEMA_VERSION = 1
_BUSY_TIMEOUT_S = 30.0
_SELF = "\x00self\x00"
"""Stands for the file's own display path inside cached findings, so one entry serves every path to the file."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    dev INTEGER NOT NULL,
    ino INTEGER NOT NULL,
    context TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    ctime_ns INTEGER NOT NULL,
    bound_path TEXT,
    has_header INTEGER NOT NULL,
    format TEXT,
    header TEXT,
    digests TEXT NOT NULL,
    PRIMARY KEY (dev, ino, context)
)
"""
_TEMPLATE_SCHEMA = """
CREATE TABLE IF NOT EXISTS template_findings (
    key TEXT PRIMARY KEY,
    findings TEXT NOT NULL
)
"""
"""Chat-template analyses by the digest of the analyser's context and the template text (see TemplateMemo)."""


@dataclass(frozen=True)
class FileKey:
    """One version of one file: a cached result is used only when every field matches."""

    dev: int
    ino: int
    size: int
    mtime_ns: int
    ctime_ns: int

    @classmethod
    def of(cls, st: os.stat_result) -> FileKey:
        return cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


@dataclass(frozen=True)
class CachedRead:
    """What the cache knows about a file. ``has_header`` False means only digests are known."""

    has_header: bool
    format: str | None
    header: ModelHeader | None
    digests: dict[str, str]


@dataclass(frozen=True)
class CacheInfo:
    """What ``l-bom cache info`` reports: where the cache is, its size, and how many entries it holds."""

    path: str
    exists: bool
    bytes_on_disk: int
    entries: int
    current_entries: int
    """Entries usable by this l-bom version with the default limits."""


def default_cache_dir() -> str:
    """The per-user cache folder (platformdirs), e.g. ``~/.cache/l-bom`` on Linux.

    On Linux the XDG rule platformdirs applies is computed here directly (``$XDG_CACHE_HOME``, else
    ``~/.cache``): importing platformdirs is a noticeable part of a one-file scan's start-up. A test keeps the
    two in agreement; other systems ask platformdirs.
    """
    if sys.platform.startswith("linux"):
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        if os.path.isabs(xdg):  # the XDG spec ignores relative values
            return os.path.join(xdg, "l-bom")
        home = os.environ.get("HOME")
        if home is not None and os.path.isabs(home):
            return os.path.join(os.path.expanduser("~/.cache"), "l-bom")
        # An unset or relative HOME: platformdirs knows where to look it up.
    import platformdirs

    return platformdirs.user_cache_dir("l-bom", appauthor=False)


def cache_context(limits: Limits) -> str:
    """Everything besides the file that decides what a scan reads from it, as one short string."""
    from lbom._header_json import FORMAT_VERSION
    from lbom._version import tool_version

    parts = {
        "schema": _SCHEMA_VERSION,
        "codec": FORMAT_VERSION,
        "version": tool_version(),
        "limits": dataclasses.asdict(limits),
        "sources": _source_fingerprint(),
    }
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"))
    return sha256_hex(text.encode())[:32]


def _source_fingerprint() -> list[tuple[str, int, int]]:
    """Size and mtime of the reader and model sources: an edited reader invalidates even without a version bump."""
    import lbom

    package = os.path.dirname(lbom.__file__)
    found = []
    for folder in (package, os.path.join(package, "_formats")):
        with contextlib.suppress(OSError), os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.endswith(".py") and (folder != package or entry.name in _FINGERPRINTED):
                    st = entry.stat()
                    found.append((f"{os.path.basename(folder)}/{entry.name}", st.st_size, st.st_mtime_ns))
    return sorted(found)


_FINGERPRINTED = frozenset({"model.py", "scan.py", "_header_json.py", "_cache.py", "_hashing.py", "_about.py"})


def is_inside(directory: str, roots: Sequence[str]) -> bool:
    """True when ``directory`` is one of the scanned folders or lies inside one (the cache must not be there)."""
    from lbom.scan import within

    target = os.path.realpath(directory)
    for root in roots:
        if not os.path.isdir(root):
            continue
        if within(target, os.path.realpath(root)):
            return True
    return False


class ScanCache:
    """A handle on the cache database, used from one thread. Every failure disables it instead of failing."""

    def __init__(self, directory: str, context: str) -> None:
        self.directory = directory
        self.path = os.path.join(directory, DB_NAME)
        self.context = context
        self._pending: list[tuple[object, ...]] = []
        os.makedirs(directory, mode=0o700, exist_ok=True)
        self._db: sqlite3.Connection | None = _connect(self.path)

    @property
    def usable(self) -> bool:
        return self._db is not None

    @property
    def connection(self) -> sqlite3.Connection | None:
        """The open database connection (None once disabled), for the template memo to share."""
        return self._db

    def lookup(self, key: FileKey, display_path: str) -> CachedRead | None:
        if self._db is None:
            return None
        try:
            row = self._db.execute(
                "SELECT size, mtime_ns, ctime_ns, bound_path, has_header, format, header, digests FROM entries "
                "WHERE dev = ? AND ino = ? AND context = ?",
                (key.dev, key.ino, self.context),
            ).fetchone()
        except sqlite3.Error:
            self._disable()
            return None
        if row is None or tuple(row[:3]) != (key.size, key.mtime_ns, key.ctime_ns):
            return None
        bound_path, has_header, fmt, header_text, digests_text = row[3:]
        try:
            digests = json.loads(digests_text)
            header = _attach(_loads(header_text), display_path) if header_text is not None else None
        except (ValueError, TypeError, KeyError):
            return None
        usable_header = bool(has_header) and (bound_path is None or bound_path == display_path)
        if not isinstance(digests, dict):
            return None
        return CachedRead(usable_header, fmt if usable_header else None, header if usable_header else None, digests)

    def store(
        self,
        key: FileKey,
        display_path: str,
        fmt: str | None,
        header: ModelHeader | None,
        digests: dict[str, str],
    ) -> None:
        """Queue an entry; :meth:`flush` writes queued entries in one transaction."""
        if self._db is None:
            return
        has_header = 1
        header_text: str | None = None
        bound_path: str | None = None
        if header is not None:
            from lbom._header_json import dumps_header, round_trips

            detached = _detach(header, display_path)
            header_text = dumps_header(detached)
            if not round_trips(detached, header_text):
                has_header, header_text = 0, None  # not exactly representable: cache the digests only
            elif display_path and json.dumps(display_path, ensure_ascii=True)[1:-1] in header_text:
                bound_path = display_path  # the reader put the path somewhere else: valid for this path only
        row = (
            key.dev,
            key.ino,
            self.context,
            key.size,
            key.mtime_ns,
            key.ctime_ns,
            bound_path,
            has_header,
            fmt,
            header_text,
            json.dumps(digests, sort_keys=True),
        )
        self._pending.append(row)
        if len(self._pending) >= 256:
            self.flush()

    def flush(self) -> None:
        if self._db is None or not self._pending:
            return
        rows, self._pending = self._pending, []
        try:
            with _immediate(self._db):
                self._db.executemany("INSERT OR REPLACE INTO entries VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
        except sqlite3.Error:
            self._disable()

    def close(self) -> None:
        self.flush()
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None

    def _disable(self) -> None:
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
        self._db = None
        self._pending = []

    def __enter__(self) -> ScanCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_cache(directory: str, limits: Limits) -> ScanCache | None:
    """The cache in ``directory``, or None when it cannot be created or opened (the scan then runs uncached)."""
    try:
        cache = ScanCache(directory, cache_context(limits))
    except OSError:
        return None
    return cache if cache.usable else None


class TemplateMemo:
    """Chat-template analyses kept in the cache database, opened on first use (most scans have no template).

    Parsing a template needs jinja2, whose import is most of a one-file scan's start-up; the same template text
    analysed by the same analyser always gives the same findings, so a repeated scan skips both. Keys are made by
    :mod:`lbom._checks.chat_template` (they cover the analyser's sources and jinja2's); values are its own
    encoding. Like the scan cache, every failure turns the memo off instead of failing the scan.
    """

    def __init__(self, directory: str, refresh: bool = False, shared: ScanCache | None = None) -> None:
        self.directory = directory
        self.refresh = refresh
        """Ignore stored analyses (``--rehash``) but still record the fresh ones."""
        self._shared = shared
        """The scan cache whose connection this memo uses (and leaves open) instead of opening its own."""
        self._db: sqlite3.Connection | None = None
        self._opened = False
        self._pending: list[tuple[str, str]] = []

    def _open(self) -> sqlite3.Connection | None:
        if not self._opened:
            self._opened = True
            if self._shared is not None:
                self._db = self._shared.connection
                return self._db
            with contextlib.suppress(OSError):
                os.makedirs(self.directory, mode=0o700, exist_ok=True)
                self._db = _connect(os.path.join(self.directory, DB_NAME))
        return self._db

    def get(self, key: str) -> str | None:
        db = None if self.refresh else self._open()
        if db is None:
            return None
        try:
            row = db.execute("SELECT findings FROM template_findings WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error:
            self.close()
            return None
        return str(row[0]) if row is not None else None

    def put(self, key: str, value: str) -> None:
        if self._open() is not None:
            self._pending.append((key, value))

    def close(self) -> None:
        db, self._db = self._db, None
        pending, self._pending = self._pending, []
        if db is None:
            return
        with contextlib.suppress(sqlite3.Error):
            if pending:
                with _immediate(db):
                    db.executemany("INSERT OR REPLACE INTO template_findings VALUES (?, ?)", pending)
        if self._shared is None:
            with contextlib.suppress(sqlite3.Error):
                db.close()

    def __enter__(self) -> TemplateMemo:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def cache_info(directory: str, limits: Limits) -> CacheInfo:
    path = os.path.join(directory, DB_NAME)
    if not os.path.exists(path):
        return CacheInfo(path, False, 0, 0, 0)
    size = sum(_size(path + suffix) for suffix in ("", "-wal", "-shm"))
    db = _connect(path, create=False)
    if db is None:
        return CacheInfo(path, True, size, 0, 0)
    try:
        entries = db.execute("SELECT COUNT(*) FROM entries").fetchone()[0]
        current = db.execute("SELECT COUNT(*) FROM entries WHERE context = ?", (cache_context(limits),)).fetchone()[0]
    except sqlite3.Error:
        entries = current = 0
    finally:
        db.close()
    return CacheInfo(path, True, size, int(entries), int(current))


def clear_cache(directory: str) -> int:
    """Delete the cache database (and its WAL files). Returns the bytes freed."""
    path = os.path.join(directory, DB_NAME)
    freed = 0
    for suffix in ("", "-wal", "-shm", "-journal"):
        target = path + suffix
        size = _size(target)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(target)
            freed += size
    return freed


def _size(path: str) -> int:
    try:
        st = os.stat(path)
    except OSError:
        return 0
    return st.st_size if stat.S_ISREG(st.st_mode) else 0


def _connect(path: str, create: bool = True) -> sqlite3.Connection | None:
    try:
        if create:
            db = sqlite3.connect(path, timeout=_BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=True)
        else:
            db = sqlite3.connect(
                f"file:{path}?mode=ro", uri=True, timeout=_BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=True
            )
    except sqlite3.Error:
        return None
    try:
        db.execute(f"PRAGMA busy_timeout = {int(_BUSY_TIMEOUT_S * 1000)}")
        if create:
            if os.name == "posix":
                with contextlib.suppress(OSError):
                    os.chmod(path, 0o600)
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            with _immediate(db):
                db.execute(_SCHEMA)
                db.execute(_TEMPLATE_SCHEMA)
    except sqlite3.Error:
        db.close()
        return None
    return db


@contextlib.contextmanager
def _immediate(db: sqlite3.Connection) -> Iterator[None]:
    """A write transaction that takes the write lock up front (waiting up to the busy timeout)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _loads(text: str) -> ModelHeader:
    from lbom._header_json import loads_header

    return loads_header(text)


def _detach(header: ModelHeader, display_path: str) -> ModelHeader:
    findings = tuple(_retarget(f, display_path, _SELF) for f in header.findings)
    return dataclasses.replace(header, findings=findings) if findings != header.findings else header


def _attach(header: ModelHeader, display_path: str) -> ModelHeader:
    findings = tuple(_retarget(f, _SELF, display_path) for f in header.findings)
    return dataclasses.replace(header, findings=findings) if findings != header.findings else header


def _retarget(finding: Finding, old: str, new: str) -> Finding:
    return dataclasses.replace(finding, file=new) if finding.file == old else finding
