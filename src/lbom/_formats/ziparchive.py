"""Bounded, read-only access to zip archives (torch.save archives, .npz, .keras), shared by their readers.

The end-of-central-directory record is parsed here first, so the member count and the central directory size
are checked against :class:`~lbom._formats.interface.Limits` before :mod:`zipfile` builds anything. Members are
never extracted to disk: they are decompressed into memory, each read capped, and all reads of one archive
share one budget of uncompressed bytes (zip bombs stop at the cap). Names that would escape the archive if
extracted, duplicate names and overlapping members (the "overlapping files" zip bomb) are findings.
"""

from __future__ import annotations

import io
import itertools
import struct
import zipfile

from lbom._formats.interface import ByteSource, FindingSink, Limits
from lbom._records import dataclass
from lbom.model import Severity

ZIP_MAGIC = b"PK\x03\x04"

R_ZIP_MALFORMED = "LBOM-ZIP-001"
R_ZIP_MEMBERS = "LBOM-ZIP-002"
R_ZIP_BOMB = "LBOM-ZIP-003"
R_ZIP_TRAVERSAL = "LBOM-ZIP-004"
R_ZIP_DUPLICATE = "LBOM-ZIP-005"
R_ZIP_OVERLAP = "LBOM-ZIP-006"

_EOCD = b"PK\x05\x06"
_EOCD64_LOCATOR = b"PK\x06\x07"
_EOCD64 = b"PK\x06\x06"
_EOCD_MIN = 22
_MAX_COMMENT = 65_535
_MAX_CENTRAL_DIRECTORY = 64 * 1024 * 1024
_REPORTED_PER_RULE = 20


def sniff_zip(head: bytes) -> bool:
    return head[:4] == ZIP_MAGIC


def first_member_name(head: bytes) -> str:
    """The name in the first local file header, from the sniffed head (for choosing a reader)."""
    if len(head) < 30 or head[:4] != ZIP_MAGIC:
        return ""
    (name_len,) = struct.unpack_from("<H", head, 26)
    return head[30 : 30 + name_len].decode("utf-8", "replace")


class _SourceFile(io.RawIOBase):
    """A seekable, read-only file object over a ByteSource, for :mod:`zipfile`."""

    def __init__(self, source: ByteSource) -> None:
        super().__init__()
        self._source = source
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            self._pos = offset
        elif whence == io.SEEK_CUR:
            self._pos += offset
        else:
            self._pos = self._source.size + offset
        self._pos = max(self._pos, 0)
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            size = self._source.size - self._pos
        data = self._source.read_at(self._pos, size)
        self._pos += len(data)
        return data

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


@dataclass(frozen=True)
class _Directory:
    """A zip's central directory as its end record gives it: entry count and size."""

    entries: int
    size: int


def _end_record(source: ByteSource) -> _Directory | None:
    size = source.size
    tail_len = min(size, _EOCD_MIN + _MAX_COMMENT)
    tail = source.read_at(size - tail_len, tail_len)
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < _EOCD_MIN:
        return None
    entries, cd_size = struct.unpack_from("<HI", tail, at + 10)
    if entries == 0xFFFF or cd_size == 0xFFFFFFFF:
        locator_at = size - tail_len + at - 20
        locator = source.read_at(locator_at, 20) if locator_at >= 0 else b""
        if len(locator) == 20 and locator[:4] == _EOCD64_LOCATOR:
            (record_at,) = struct.unpack_from("<Q", locator, 8)
            record = source.read_at(record_at, 56)
            if len(record) == 56 and record[:4] == _EOCD64:
                entries, cd_size = struct.unpack_from("<QQ", record, 32)
    return _Directory(entries, cd_size)


def _escapes(name: str) -> bool:
    normal = name.replace("\\", "/")
    if normal.startswith("/") or "\x00" in normal or (len(normal) > 1 and normal[1] == ":"):
        return True
    return any(part == ".." for part in normal.split("/"))


class BoundedZip:
    """A zip archive opened for reading member bytes into memory under a shared decompression budget."""

    def __init__(self, archive: zipfile.ZipFile, limits: Limits, sink: FindingSink) -> None:
        self._archive = archive
        self._sink = sink
        self._budget = limits.max_zip_uncompressed
        self._infos: dict[str, zipfile.ZipInfo] = {}
        for info in archive.infolist():
            self._infos.setdefault(info.filename, info)
        self.names: tuple[str, ...] = tuple(self._infos)
        self.bytes_read = 0

    def size_of(self, name: str) -> int:
        return self._infos[name].file_size

    def read(self, name: str, cap: int) -> bytes | None:
        """Up to ``cap`` decompressed bytes of a member (a prefix if it is longer), or None if unreadable."""
        info = self._infos.get(name)
        if info is None:
            return None
        want = min(cap, info.file_size, self._budget)
        if want < min(cap, info.file_size):
            self._sink.add(
                R_ZIP_BOMB,
                Severity.HIGH,
                f"reading member {name!r} would exceed the {self._budget:,}-byte decompression budget "
                "left for this archive; not read (zip bomb?)",
                f"member {name}",
                "inspect the archive by hand; l-bom stops here rather than decompress it",
            )
            return None
        try:
            # zipfile stops at the declared size and checks the CRC, so a member cannot inflate past it.
            with self._archive.open(info) as member:
                data = member.read(want)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError, ValueError) as exc:
            self._sink.add(R_ZIP_MALFORMED, Severity.MEDIUM, f"member {name!r} cannot be read: {exc}", f"member {name}")
            return None
        self._budget -= len(data)
        self.bytes_read += info.compress_size if len(data) == info.file_size else len(data)
        return data


def open_zip(source: ByteSource, limits: Limits, sink: FindingSink) -> BoundedZip | None:
    """Open ``source`` as a zip archive with every structural limit checked; None (with findings) if it is not."""
    directory = _end_record(source)
    if directory is None:
        sink.add(R_ZIP_MALFORMED, Severity.HIGH, "zip archive has no end-of-central-directory record", "end of file")
        return None
    if directory.entries > limits.max_zip_members:
        sink.add(
            R_ZIP_MEMBERS,
            Severity.HIGH,
            f"zip archive declares {directory.entries:,} members, above the cap of {limits.max_zip_members:,}; "
            "not opened",
            "central directory",
        )
        return None
    if directory.size > min(_MAX_CENTRAL_DIRECTORY, source.size):
        sink.add(
            R_ZIP_MEMBERS,
            Severity.HIGH,
            f"zip central directory claims {directory.size:,} bytes (file is {source.size:,}); not opened",
            "central directory",
        )
        return None
    try:
        archive = zipfile.ZipFile(_SourceFile(source))
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, struct.error) as exc:
        sink.add(R_ZIP_MALFORMED, Severity.HIGH, f"not a readable zip archive: {exc}", "central directory")
        return None
    _check_members(archive.infolist(), source.size, limits, sink)
    return BoundedZip(archive, limits, sink)


def _check_members(infos: list[zipfile.ZipInfo], size: int, limits: Limits, sink: FindingSink) -> None:
    seen: set[str] = set()
    counts = {R_ZIP_TRAVERSAL: 0, R_ZIP_DUPLICATE: 0, R_ZIP_OVERLAP: 0}

    def report(rule: str, message: str, name: str, remedy: str | None = None) -> None:
        counts[rule] += 1
        if counts[rule] <= _REPORTED_PER_RULE:
            sink.add(rule, Severity.HIGH, message, f"member {name}", remedy)

    declared = 0
    for info in infos:
        name = info.filename
        if _escapes(name):
            report(
                R_ZIP_TRAVERSAL,
                f"member name {name!r} escapes the archive (absolute path or '..'); extracting it would write "
                "outside the target folder",
                name,
                "do not extract this archive with a tool that trusts member names",
            )
        if name in seen:
            report(R_ZIP_DUPLICATE, f"member name {name!r} appears more than once (ambiguous content)", name)
        seen.add(name)
        declared += info.file_size
    if declared > limits.max_zip_uncompressed:
        sink.add(
            R_ZIP_BOMB,
            Severity.MEDIUM,
            f"members declare {declared:,} uncompressed bytes in total, above the {limits.max_zip_uncompressed:,}"
            "-byte cap; only small members are read",
            "central directory",
        )
    ordered = sorted((info for info in infos if info.header_offset < size), key=lambda i: i.header_offset)
    for info, next_info in itertools.pairwise(ordered):
        end = info.header_offset + 30 + len(info.filename.encode()) + info.compress_size
        if end > next_info.header_offset:
            report(
                R_ZIP_OVERLAP,
                f"member {info.filename!r} overlaps member {next_info.filename!r} (overlapping-entry zip bomb?)",
                info.filename,
            )
