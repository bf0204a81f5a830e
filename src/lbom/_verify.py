"""Verification: does a folder still hold exactly the model files a lock file (or a SHA256SUMS list) pins?

Every file is re-hashed: the scan cache is never trusted here (a cached digest says nothing about the bytes now),
though the fresh digests are recorded in it as a scan does. The result says which files changed (different
SHA-256 or size), which are missing, which exist but cannot be read, which are new (model files, or sidecars
and tokenizer files of a model, that nothing pins), which were renamed (a missing pinned file whose content turned
up under a new name), and which identity facts of a model changed. ``ok`` is true only when nothing differs: that
is the gate.

The SHA256SUMS format is the one ``sha256sum`` writes and ``sha256sum -c`` reads: ``<hex>  <name>`` or
``<hex> *<name>`` (binary mode), a leading backslash when the name escapes ``\\``, newline or carriage return;
the BSD tag form ``SHA256 (<name>) = <hex>`` is read too. Names are relative to the verified folder.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import replace
from typing import TYPE_CHECKING

from lbom._lock import Lock, LockedModel, companion_files, lock_from_scan, read_lock, rehashing, unreadable
from lbom._records import dataclass
from lbom.errors import InputError, UsageError
from lbom.model import JsonValue, ScanResult

if TYPE_CHECKING:
    from lbom.scan import ScanOptions


@dataclass(frozen=True)
class FileChange:
    """One file that does not match: ``kind`` is ``changed``, ``missing``, ``unreadable`` (present, but it cannot be
    read: ``reason`` says why), ``new``, ``renamed`` or ``unsafe``."""

    kind: str
    path: str
    expected_sha256: str | None = None
    actual_sha256: str | None = None
    expected_size: int | None = None
    actual_size: int | None = None
    renamed_from: str | None = None
    reason: str | None = None

    def describe(self) -> str:
        if self.kind == "changed":
            size = (
                f", size {self.expected_size:,} -> {self.actual_size:,}"
                if self.expected_size is not None
                and self.actual_size is not None
                and self.expected_size != self.actual_size
                else ""
            )
            return f"changed: {self.path} (sha256 {_short(self.expected_sha256)} -> {_short(self.actual_sha256)}{size})"
        if self.kind == "missing":
            return f"missing: {self.path}"
        if self.kind == "unreadable":
            return f"unreadable: {self.path} ({self.reason})"
        if self.kind == "new":
            return f"new:     {self.path} (not in the lock)"
        if self.kind == "renamed":
            return f"renamed: {self.renamed_from} -> {self.path} (same content)"
        return f"unsafe:  {self.path} (names a file outside the verified folder; not read)"

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "kind": self.kind,
            "path": self.path,
            "expected_sha256": self.expected_sha256,
            "actual_sha256": self.actual_sha256,
            "expected_size": self.expected_size,
            "actual_size": self.actual_size,
            "renamed_from": self.renamed_from,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class FactChange:
    """An identity fact of a model that differs from the lock (``model`` is its locked path)."""

    model: str
    fact: str
    expected: str | int | None
    actual: str | int | None

    def describe(self) -> str:
        return f"fact:    {self.model}: {self.fact} {self.expected!r} -> {self.actual!r}"

    def to_json(self) -> dict[str, JsonValue]:
        return {"model": self.model, "fact": self.fact, "expected": self.expected, "actual": self.actual}


@dataclass(frozen=True)
class VerifyResult:
    """What ``verify`` found. ``ok`` is the gate: true only when every pinned file and fact matches."""

    files_checked: int
    file_changes: tuple[FileChange, ...] = ()
    fact_changes: tuple[FactChange, ...] = ()
    missing_models: tuple[str, ...] = ()
    new_models: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not (self.file_changes or self.fact_changes or self.missing_models or self.new_models)

    def of_kind(self, kind: str) -> tuple[FileChange, ...]:
        return tuple(change for change in self.file_changes if change.kind == kind)

    def lines(self) -> list[str]:
        """Human-readable report lines, one per difference, in a stable order."""
        out = [f"missing model: {path}" for path in self.missing_models]
        out += [f"new model:     {path}" for path in self.new_models]
        out += [change.describe() for change in self.file_changes]
        out += [change.describe() for change in self.fact_changes]
        return out

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "ok": self.ok,
            "files_checked": self.files_checked,
            "missing_models": list(self.missing_models),
            "new_models": list(self.new_models),
            "file_changes": [change.to_json() for change in self.file_changes],
            "fact_changes": [change.to_json() for change in self.fact_changes],
        }


def _short(sha: str | None) -> str:
    return sha[:12] if sha else "-"


def verify(
    path: str | os.PathLike[str],
    *,
    lock: Lock | str | os.PathLike[str] | None = None,
    sha256sums: str | os.PathLike[str] | None = None,
    options: ScanOptions | None = None,
) -> VerifyResult:
    """Re-hash ``path`` (a folder or one file) and compare it with a lock (a :class:`Lock` or lock file path)
    or with a SHA256SUMS file. Exactly one of ``lock`` and ``sha256sums`` must be given.

    ``options`` are the scan's (``jobs``, ``cache``, ``cache_dir``); hashing and ``rehash`` are always on, so no
    digest comes from the cache."""
    from lbom.scan import scan

    if (lock is None) == (sha256sums is None):
        raise UsageError("verify needs exactly one of a lock file (--lock) or a SHA256SUMS file (--sha256sums)")
    root = os.fspath(path)
    if not os.path.exists(root):
        raise InputError(root, "no such file or directory")
    fresh = rehashing(options)
    if sha256sums is not None:
        return verify_sha256sums(root, os.fspath(sha256sums), fresh)
    assert lock is not None
    expected = lock if isinstance(lock, Lock) else read_lock(lock)
    return verify_scan(expected, scan(root, options=fresh), root)


def verify_scan(expected: Lock, result: ScanResult, root: str) -> VerifyResult:
    """Compare a hashed scan of ``root`` with a lock. A pinned file that is there but cannot be read (permission
    denied, now a folder or a FIFO) is ``unreadable`` with the reason; one that is there but no longer a model
    file is ``changed``; ``missing`` means it is gone."""
    outcome = compare_locks(expected, lock_from_scan(result, root, allow_unreadable=True))
    from lbom.scan import _confinement

    reasons = {os.path.normpath(f.file): f.message for f in unreadable(result) if f.file}
    allowed = _confinement(result.confine_to)
    base = root if os.path.isdir(root) else os.path.dirname(root) or "."
    changes: list[FileChange] = []
    for change in outcome.file_changes:
        if change.kind == "missing" and not _escapes(change.path):
            full = os.path.join(base, change.path)
            if allowed is not None and os.path.lexists(full) and not allowed(full):
                changes.append(_unreadable_change(change, "leads outside the folders this scan may read; not opened"))
                continue
            problem = reasons.get(os.path.normpath(full))
            if problem is not None:
                changes.append(_unreadable_change(change, problem))
                continue
            present = _present(full)
            if isinstance(present, str):
                changes.append(_unreadable_change(change, present))
                continue
            if present is not None:
                size, sha = present
                if (sha, size) != (change.expected_sha256, change.expected_size):
                    changes.append(
                        FileChange("changed", change.path, change.expected_sha256, sha, change.expected_size, size)
                    )
                continue  # the file itself is as pinned; its model is reported as missing
        changes.append(change)
    return replace(outcome, file_changes=tuple(_ordered(changes)))


def _unreadable_change(change: FileChange, reason: str) -> FileChange:
    return FileChange(
        "unreadable",
        change.path,
        expected_sha256=change.expected_sha256,
        expected_size=change.expected_size,
        reason=reason,
    )


def _present(path: str) -> tuple[int, str] | str | None:
    """(size, SHA-256) of a file that is there, why it cannot be read (a string), or None when it is not there.
    Only regular files are opened (a FIFO would block)."""
    from lbom._hashing import digest_file
    from lbom.scan import _os_problem

    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return _os_problem(exc)
    if stat.S_ISDIR(st.st_mode):
        return "is a directory"
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file (FIFO, device or socket); not opened"
    try:
        (digest,) = digest_file(path, ("sha256",))
    except OSError as exc:
        return _os_problem(exc)
    return st.st_size, digest.hex


def compare_locks(expected: Lock, actual: Lock) -> VerifyResult:
    """The differences between a pinned lock and a fresh one of the same folder."""
    want = expected.files()
    have = actual.files()
    changes: list[FileChange] = []
    for rel in sorted(want.keys() & have.keys()):
        a, b = want[rel], have[rel]
        if a.sha256 != b.sha256 or a.size != b.size:
            changes.append(FileChange("changed", rel, a.sha256, b.sha256, a.size, b.size))
    missing = sorted(want.keys() - have.keys())
    new = sorted(have.keys() - want.keys())
    changes += _renames_and_leftovers(
        {rel: (want[rel].sha256, want[rel].size) for rel in missing},
        {rel: (have[rel].sha256, have[rel].size) for rel in new},
    )
    want_models = {m.path: m for m in expected.models}
    have_models = {m.path: m for m in actual.models}
    facts: list[FactChange] = []
    for rel in sorted(want_models.keys() & have_models.keys()):
        facts += _fact_changes(want_models[rel], have_models[rel])
    return VerifyResult(
        files_checked=len(have.keys() & want.keys()),
        file_changes=tuple(_ordered(changes)),
        fact_changes=tuple(facts),
        missing_models=tuple(sorted(want_models.keys() - have_models.keys())),
        new_models=tuple(sorted(have_models.keys() - want_models.keys())),
    )


def _fact_changes(want: LockedModel, have: LockedModel) -> list[FactChange]:
    before, after = want.facts(), have.facts()
    return [FactChange(want.path, name, before[name], after[name]) for name in before if before[name] != after[name]]


def _renames_and_leftovers(
    missing: dict[str, tuple[str | None, int | None]], new: dict[str, tuple[str | None, int | None]]
) -> list[FileChange]:
    """Pair a missing file with a new one of the same content as a rename; the rest stay missing/new."""
    by_hash: dict[str, list[str]] = {}
    for rel, (sha, _size) in sorted(new.items()):
        if sha is not None:
            by_hash.setdefault(sha, []).append(rel)
    renamed_to: dict[str, str] = {}
    for rel, (sha, _size) in sorted(missing.items()):
        candidates = by_hash.get(sha or "", [])
        if candidates:
            renamed_to[rel] = candidates.pop(0)
    taken = set(renamed_to.values())
    changes = [
        FileChange("renamed", to, missing[old][0], new[to][0], missing[old][1], new[to][1], renamed_from=old)
        for old, to in renamed_to.items()
    ]
    changes += [
        FileChange("missing", rel, expected_sha256=sha, expected_size=size)
        for rel, (sha, size) in missing.items()
        if rel not in renamed_to
    ]
    changes += [
        FileChange("new", rel, actual_sha256=sha, actual_size=size)
        for rel, (sha, size) in new.items()
        if rel not in taken
    ]
    return changes


_KIND_ORDER = {"unsafe": 0, "unreadable": 1, "missing": 2, "changed": 3, "renamed": 4, "new": 5}


def _ordered(changes: list[FileChange]) -> list[FileChange]:
    return sorted(changes, key=lambda c: (_KIND_ORDER[c.kind], c.path))


# --- SHA256SUMS -----------------------------------------------------------------------------------------------

_GNU_LINE = re.compile(r"([0-9a-fA-F]+) [ *](.+)")
_BSD_LINE = re.compile(r"SHA256 \((.+)\) = ([0-9a-fA-F]+)")
MAX_SUMS_BYTES = 64 * 1024 * 1024


def parse_sha256sums(text: str, source: str = "SHA256SUMS") -> dict[str, str]:
    """Name -> lowercase SHA-256 from ``sha256sum`` output. Malformed lines are a :class:`UsageError`."""
    entries: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        escaped = line.startswith("\\")
        if escaped:
            line = line[1:]
        gnu = _GNU_LINE.fullmatch(line)
        bsd = _BSD_LINE.fullmatch(line) if gnu is None else None
        if gnu is not None:
            digest, name = gnu.group(1), gnu.group(2)
        elif bsd is not None:
            name, digest = bsd.group(1), bsd.group(2)
        else:
            raise UsageError(f"{source} line {number}: not a sha256sum line ('<sha256>  <file>' or '<sha256> *<file>')")
        if len(digest) != 64:
            raise UsageError(f"{source} line {number}: {len(digest)} hex digits; a SHA-256 has 64")
        if escaped:
            name = _unescape(name)
        if name.startswith("./"):
            name = name[2:]
        if name in entries and entries[name] != digest.lower():
            raise UsageError(f"{source} line {number}: {name!r} is listed twice with different digests")
        entries[name] = digest.lower()
    if not entries:
        raise UsageError(f"{source}: no checksums in the file")
    return entries


def _unescape(name: str) -> str:
    out = []
    chars = iter(name)
    for char in chars:
        if char != "\\":
            out.append(char)
            continue
        following = next(chars, "")
        out.append({"\\": "\\", "n": "\n", "r": "\r"}.get(following, "\\" + following))
    return "".join(out)


def verify_sha256sums(root: str, sums_path: str, options: ScanOptions | None = None) -> VerifyResult:
    """Compare the files under ``root`` with a SHA256SUMS file (see module docstring for the format).
    ``options`` are used for the scan that finds unlisted model files (hashing off)."""
    from lbom.scan import ScanOptions, scan

    try:
        with open(sums_path, "rb") as handle:
            data = handle.read(MAX_SUMS_BYTES + 1)
    except OSError as exc:
        raise InputError(sums_path, exc.strerror or str(exc)) from exc
    if len(data) > MAX_SUMS_BYTES:
        raise UsageError(f"{sums_path}: larger than {MAX_SUMS_BYTES:,} bytes")
    entries = parse_sha256sums(data.decode("utf-8", "surrogateescape"), sums_path)
    root_is_dir = os.path.isdir(root)
    base = root if root_is_dir else os.path.dirname(root) or "."
    if not root_is_dir:
        # One file: only its own line matters.
        name = os.path.basename(root)
        entries = {k: v for k, v in entries.items() if k == name}
    changes: list[FileChange] = []
    missing: dict[str, tuple[str | None, int | None]] = {}
    checked = 0
    for name, expected in sorted(entries.items()):
        full = os.path.join(base, name)
        if _escapes(name):
            changes.append(FileChange("unsafe", name, expected_sha256=expected))
            continue
        present = _present(full)
        if present is None:
            missing[name] = (expected, None)
            continue
        if isinstance(present, str):
            changes.append(FileChange("unreadable", name, expected_sha256=expected, reason=present))
            continue
        size, sha = present
        checked += 1
        if sha != expected:
            changes.append(FileChange("changed", name, expected, sha, None, size))
    new: dict[str, tuple[str | None, int | None]] = {}
    result = scan(root, options=replace(options or ScanOptions(), hash=False))
    listed = set(entries)
    for model in result.models:
        paths = [entry.path for entry in model.files] + [p for p, _role in companion_files(model, result.confine_to)]
        for full in paths:
            rel = os.path.relpath(full, base).replace(os.sep, "/")
            if rel not in listed and rel not in new:
                new[rel] = (_sha256_or_none(full), None)
    changes += _renames_and_leftovers(missing, new)
    return VerifyResult(files_checked=checked, file_changes=tuple(_ordered(changes)))


def _sha256_or_none(path: str) -> str | None:
    from lbom._hashing import digest_file

    try:
        (digest,) = digest_file(path, ("sha256",))
    except OSError:
        return None
    return digest.hex


def _escapes(name: str) -> bool:
    """True for names that leave the verified folder (absolute, or ``..`` above it). Symlinks inside the folder
    (Hugging Face snapshots point into ``blobs/``) are followed like ``sha256sum -c`` does."""
    normal = os.path.normpath(name)
    return os.path.isabs(name) or normal == ".." or normal.startswith(".." + os.sep) or normal.startswith("../")
