"""The contract between the scanner and the format readers.

A reader gets a :class:`ByteSource` (a local file, or a remote file read by HTTP ranges) and the scan's
:class:`Limits`, and returns a :class:`~lbom.model.ModelHeader`. It must never execute anything from the file,
never allocate or loop on a count it has not checked against the bytes that remain and a named cap, and never
raise for malformed content: what is wrong becomes findings. It may raise :class:`~lbom.errors.InputError`
only when the bytes cannot be read at all.
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Iterable, Iterator
from dataclasses import field
from typing import Protocol, runtime_checkable

from lbom._records import dataclass
from lbom.model import Finding, ModelHeader, Severity, TensorInfo, TensorTypeStat


@dataclass(frozen=True)
class Limits:
    """Named caps on what a single file may make a reader do. Exceeding one is a finding, not a crash."""

    max_header_bytes: int = 100_000_000
    """Bytes of header a reader may load (the safetensors reference rejects larger headers)."""
    max_array_elements: int = 50_000_000
    """Elements in one metadata array (GGUF token lists are ~10^5-10^6)."""
    max_string_bytes: int = 16 * 1024 * 1024
    """Bytes in one metadata string (chat templates are a few KB)."""
    max_gguf_header_bytes: int = 64 * 1024 * 1024
    """Bytes of a GGUF header (metadata + tensor table) read into memory; real ones, with a 262k-entry vocabulary
    and its merges, are 10-20 MB."""
    max_json_header_bytes: int = 24 * 1024 * 1024
    """Bytes of JSON (a safetensors header, a sidecar) handed to the JSON parser; real safetensors headers are a
    few MB (about 120 bytes per tensor)."""
    max_json_memory: int = 128 * 1024 * 1024
    """Estimated bytes of Python objects one JSON document may turn into, counted before parsing (see
    ``lbom._formats.json_bounded``)."""
    max_retained_chars: int = 16 * 1024 * 1024
    """Characters of metadata keys and string values a reader keeps for one file."""
    max_kv_count: int = 65_536
    """Metadata keys in one file (real GGUF files have under 100)."""
    max_tensor_count: int = 100_000
    """Tensors in one file (real checkpoints: a few thousand per file); each costs a few hundred bytes."""
    max_dims: int = 8
    max_nesting: int = 8
    """Depth of arrays inside arrays."""
    max_nested_arrays: int = 100_000
    """Arrays inside arrays in one file, at any depth (real GGUF files have none or a handful)."""
    max_zip_members: int = 100_000
    max_zip_uncompressed: int = 512 * 1024 * 1024
    """Total bytes a reader may decompress from a zip archive (pickles, configs), never extracted to disk."""
    max_pickle_ops: int = 2_000_000
    """Opcodes walked per file: a state dict costs a few dozen per tensor (real checkpoints: tens of thousands in
    all), and the symbolic walk runs ~2-3 µs per opcode, so a hostile file costs seconds, not minutes."""
    max_sidecar_bytes: int = 8 * 1024 * 1024
    max_remote_bytes: int = 256 * 1024 * 1024
    """Bytes a remote header-only scan may fetch for one file."""


DEFAULT_LIMITS = Limits()


@runtime_checkable
class ByteSource(Protocol):
    """Random-access bytes: a local file or a remote one. ``read_at`` may return fewer bytes only at EOF."""

    @property
    def name(self) -> str: ...

    @property
    def size(self) -> int: ...

    def read_at(self, offset: int, length: int) -> bytes: ...


class LocalFileSource:
    """A local regular file opened read-only, without following a FIFO into a blocking open."""

    def __init__(self, path: str, display_name: str | None = None) -> None:
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
        self._fd = os.open(path, flags)
        try:
            st = os.fstat(self._fd)
            import stat

            if not stat.S_ISREG(st.st_mode):
                raise OSError(f"not a regular file: {path}")
        except BaseException:
            os.close(self._fd)
            raise
        self._size = st.st_size
        self._name = display_name or path
        self.bytes_read = 0

    @property
    def name(self) -> str:
        return self._name

    @property
    def size(self) -> int:
        return self._size

    def read_at(self, offset: int, length: int) -> bytes:
        if length <= 0 or offset >= self._size:
            return b""
        chunks = []
        remaining = length
        while remaining > 0:
            chunk = os.pread(self._fd, remaining, offset)
            if not chunk:
                break
            chunks.append(chunk)
            offset += len(chunk)
            remaining -= len(chunk)
        data = b"".join(chunks)
        self.bytes_read += len(data)
        return data

    def readinto_at(self, offset: int, buffer: memoryview | bytearray) -> int:
        """Read up to ``len(buffer)`` bytes at ``offset`` straight into ``buffer``; fewer only at EOF. Spares the
        caller a bytes object per read, and with it a page fault per page read (see ``gguf._Window``)."""
        view = memoryview(buffer)  # a bytearray slice would be a copy, and the bytes read would be lost
        preadv = getattr(os, "preadv", None)
        done = 0
        while done < len(view) and offset + done < self._size:
            if preadv is not None:
                count = preadv(self._fd, [view[done:]], offset + done)
            else:  # no preadv (Windows): one copy
                chunk = os.pread(self._fd, len(view) - done, offset + done)
                count = len(chunk)
                view[done : done + count] = chunk
            if not count:
                break
            done += count
        self.bytes_read += done
        return done

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> LocalFileSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class BytesSource:
    """In-memory bytes as a source (zip members, tests)."""

    def __init__(self, data: bytes, name: str = "<bytes>") -> None:
        self._data = data
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    @property
    def size(self) -> int:
        return len(self._data)

    def read_at(self, offset: int, length: int) -> bytes:
        if offset < 0 or length <= 0:
            return b""
        return self._data[offset : offset + length]


class Reader(Protocol):
    """A format reader: one module per format, registered in ``lbom._formats.READERS``."""

    format_name: str

    def sniff(self, head: bytes, filename: str) -> bool:
        """True if ``head`` (the first :data:`SNIFF_BYTES` bytes, fewer for small files) is this format."""
        ...

    def read(self, source: ByteSource, limits: Limits) -> ModelHeader:
        """Read the header. Never raises for malformed content; raises InputError only for I/O failure."""
        ...


SNIFF_BYTES = 512


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a reader builds many acyclic objects.

    Each collection walks every live container, and building 10^5 tensor records triggers many of them: with
    the collector on, checking a 90,000-tensor header took seconds instead of a fraction of one.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def printable_path(path: str) -> str:
    """``path`` with undecodable file-name bytes (surrogate escapes) shown as ``\\xNN``, so it can be written
    as UTF-8 (JSON, SBOMs) while the original string is still used to open the file."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


@dataclass
class FindingSink:
    """Collects a reader's findings with the file name filled in, so reader code stays short."""

    file: str
    found: list[Finding] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.file = printable_path(self.file)

    def add(
        self,
        rule_id: str,
        severity: Severity,
        message: str,
        location: str | None = None,
        remedy: str | None = None,
    ) -> None:
        self.found.append(Finding(rule_id, severity, message, self.file, location, remedy))

    def result(self) -> tuple[Finding, ...]:
        return tuple(self.found)


@dataclass(frozen=True)
class TensorSummary:
    """Per-type histogram, total parameters and dtype summary ("mixed" when several types) of a tensor list."""

    stats: tuple[TensorTypeStat, ...]
    parameter_count: int
    dtype: str | None


def summarise_tensors(tensors: Iterable[TensorInfo]) -> TensorSummary:
    per_type: dict[str, list[int]] = {}
    total = 0
    for tensor in tensors:
        elements = tensor.element_count
        counts = per_type.setdefault(tensor.type_name, [0, 0])
        counts[0] += 1
        counts[1] += elements
        total += elements
    stats = tuple(
        TensorTypeStat(name, c[0], c[1]) for name, c in sorted(per_type.items(), key=lambda i: (-i[1][1], i[0]))
    )
    dtype = (stats[0].type_name if len(stats) == 1 else "mixed") if stats else None
    return TensorSummary(stats, total, dtype)
