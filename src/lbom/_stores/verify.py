"""``verify_store_blobs``: hash every content-addressed blob in the given stores and compare with its name.

A blob whose name is the digest of its content (Hugging Face ``blobs/<sha256>`` and ``blobs/<git-sha1>``,
Ollama ``blobs/sha256-<hex>``) verifies itself: no lock file, no network. Each real file is hashed once however
many snapshots or tags link to it. Half-downloaded blobs, dangling links and unreadable files are skipped and
counted. Nothing is written anywhere.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator, Mapping, Sequence

from lbom._records import dataclass
from lbom._stores import content_address, existing_stores, is_partial_blob, walk_files
from lbom.errors import InputError
from lbom.model import JsonValue

MATCHED = "matched"
MISMATCHED = "mismatched"
SKIPPED = "skipped"


@dataclass(frozen=True)
class BlobCheck:
    """One blob: what its name says its digest is, what it is, and the verdict."""

    path: str
    status: str
    """``matched``, ``mismatched`` or ``skipped``."""
    algorithm: str | None = None
    expected: str | None = None
    actual: str | None = None
    reason: str | None = None
    """Why a blob was skipped."""

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "path": self.path,
            "status": self.status,
            "algorithm": self.algorithm,
            "expected": self.expected,
            "actual": self.actual,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class StoreVerifyReport:
    """The outcome of :func:`verify_store_blobs`: every blob looked at, and the counts users want."""

    roots: tuple[str, ...]
    blobs: tuple[BlobCheck, ...]

    def _count(self, status: str) -> int:
        return sum(1 for blob in self.blobs if blob.status == status)

    @property
    def checked(self) -> int:
        return self.matched + self.mismatched

    @property
    def matched(self) -> int:
        return self._count(MATCHED)

    @property
    def mismatched(self) -> int:
        return self._count(MISMATCHED)

    @property
    def skipped(self) -> int:
        return self._count(SKIPPED)

    @property
    def ok(self) -> bool:
        """Nothing mismatched, and something was verified: a check that verified nothing is not a pass."""
        return self.mismatched == 0 and self.checked > 0

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "roots": list(self.roots),
            "checked": self.checked,
            "matched": self.matched,
            "mismatched": self.mismatched,
            "skipped": self.skipped,
            "ok": self.ok,
            "blobs": [blob.to_json() for blob in self.blobs],
        }


def verify_store_blobs(
    paths: Sequence[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    progress: Callable[[str], None] | None = None,
    jobs: int | None = None,
) -> StoreVerifyReport:
    """Verify the content-addressed blobs under ``paths`` (default: every model store on this machine).

    Raises :class:`~lbom.errors.InputError` for a path that does not exist; a blob that cannot be read is
    reported as skipped. Blobs are hashed on ``jobs`` threads (default: one per CPU core; hashlib releases the
    GIL); ``progress`` is called on the calling thread with each blob's path once it has been checked.
    """
    roots = list(paths) if paths else [s.path for s in existing_stores(environ)]
    seen: set[str] = set()
    checks: list[BlobCheck] = []
    to_hash: list[tuple[str, str, str]] = []
    for root in roots:
        try:
            os.stat(root)
        except OSError as exc:
            raise InputError(root, (exc.strerror or str(exc)).lower()) from exc
        for display, problem in _files_under(root):
            real = os.path.realpath(display)
            if real in seen:
                continue
            seen.add(real)
            if problem is not None:
                checks.append(BlobCheck(display, SKIPPED, reason=problem))
                continue
            if is_partial_blob(real):
                checks.append(BlobCheck(real, SKIPPED, reason="half-downloaded blob"))
                continue
            address = content_address(real)
            if address is None:
                continue  # not a blob: snapshots link to blobs, manifests and refs are not content-addressed
            to_hash.append((real, *address))
    for check in _check_all(to_hash, jobs):
        if progress is not None:
            progress(check.path)
        checks.append(check)
    return StoreVerifyReport(tuple(roots), tuple(sorted(checks, key=lambda c: c.path)))


def _check_all(blobs: list[tuple[str, str, str]], jobs: int | None) -> Iterator[BlobCheck]:
    workers = max(1, jobs if jobs is not None else (os.cpu_count() or 1))
    if workers == 1 or len(blobs) < 2:
        yield from (_check_blob(*blob) for blob in blobs)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(workers, len(blobs))) as pool:
        yield from pool.map(lambda blob: _check_blob(*blob), blobs)


def _files_under(root: str) -> list[tuple[str, str | None]]:
    """Regular files under ``root`` (file symlinks followed); dangling links and unreadable folders as problems."""
    if not os.path.isdir(root):
        return [(root, None)]
    walked, findings = walk_files(root)
    return [(w.path, w.problem) for w in walked] + [(f.file or root, f.message) for f in findings]


def _check_blob(path: str, algorithm: str, expected: str) -> BlobCheck:
    try:
        actual = _sha256(path) if algorithm == "sha256" else _git_blob_sha1(path)
    except OSError as exc:
        reason = f"cannot read: {(exc.strerror or str(exc)).lower()}"
        return BlobCheck(path, SKIPPED, algorithm, expected, reason=reason)
    status = MATCHED if actual == expected else MISMATCHED
    return BlobCheck(path, status, algorithm, expected, actual)


def _sha256(path: str) -> str:
    from lbom._hashing import digest_file

    return digest_file(path, ("sha256",))[0].hex


def _git_blob_sha1(path: str) -> str:
    """Git's object id of a file: SHA-1 over ``blob <size>\\0`` and the content (how the hub names small files)."""
    from lbom._hashing import CHUNK_BYTES

    size = os.stat(path).st_size
    hasher = hashlib.new("sha1", usedforsecurity=False)
    hasher.update(b"blob %d\0" % size)
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            hasher.update(chunk)
    return hasher.hexdigest()
