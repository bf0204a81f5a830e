"""Streaming file digests: large reads into one reused buffer per thread, so memory stays flat for any file size.

hashlib releases the GIL for updates larger than 2 KiB (and ``readinto`` releases it while the kernel copies),
which lets the scanner hash several files on threads at once. Every requested algorithm is fed in the same
pass over the file, so extra digests (``--digest sha256,blake3``) cost CPU, not I/O.
"""

from __future__ import annotations

import contextlib
import os
from _thread import _local
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from lbom.errors import DependencyMissing, UsageError
from lbom.model import FileDigest

CHUNK_BYTES = 4 * 1024 * 1024
"""Bytes per read: large enough that syscall and GIL overhead vanish, small enough to stay cache friendly."""

REQUIRED_ALGORITHM = "sha256"
"""Always computed: the identity every document and lock file relies on. Extra digests come alongside."""

_HASHLIB_EXTRAS = ("sha384", "sha512", "sha3_256", "sha3_512", "blake2b", "blake2s", "sha1", "md5")
SUPPORTED_ALGORITHMS = (REQUIRED_ALGORITHM, "blake3", *_HASHLIB_EXTRAS)
"""Names accepted by ``--digest``: fixed-length hashlib digests, plus BLAKE3 from the optional ``blake3`` extra."""


class _Hasher(Protocol):
    def update(self, data: memoryview, /) -> object: ...

    def hexdigest(self) -> str: ...


_buffers = _local()
"""Per-thread read buffers (``_thread._local`` is ``threading.local``; importing threading is left to scans
that hash on worker threads)."""


def _thread_buffer() -> bytearray:
    """The calling thread's read buffer, allocated once per thread and reused for every file it hashes."""
    buffer: bytearray | None = getattr(_buffers, "buffer", None)
    if buffer is None:
        buffer = bytearray(CHUNK_BYTES)
        _buffers.buffer = buffer
    return buffer


def normalise_algorithms(names: Iterable[str]) -> tuple[str, ...]:
    """The algorithms to compute for a ``--digest`` list: SHA-256 first, then the extras in sorted order.

    Raises :class:`~lbom.errors.UsageError` for an unknown name and
    :class:`~lbom.errors.DependencyMissing` when ``blake3`` is asked for but not installed.
    """
    wanted: set[str] = set()
    for raw in names:
        name = raw.strip().lower().replace("-", "")
        if not name:
            continue
        name = {"sha3256": "sha3_256", "sha3512": "sha3_512"}.get(name, name)
        if name not in SUPPORTED_ALGORITHMS:
            raise UsageError(
                f"unknown digest algorithm {raw.strip()!r} (choose from {', '.join(SUPPORTED_ALGORITHMS)})"
            )
        wanted.add(name)
    wanted.discard(REQUIRED_ALGORITHM)
    if "blake3" in wanted:
        _blake3_module()
    return (REQUIRED_ALGORITHM, *sorted(wanted))


def digest_file(
    path: str,
    algorithms: tuple[str, ...] = (REQUIRED_ALGORITHM,),
    on_bytes: Callable[[int], None] | None = None,
) -> tuple[FileDigest, ...]:
    """Hash ``path`` with each algorithm in one pass over the file.

    ``on_bytes(n)`` is called after each chunk with the number of bytes just hashed (for progress reporting);
    it runs on the hashing thread. Raises :class:`OSError` when the file cannot be read.
    """
    hashers = [_new_hasher(name) for name in algorithms]
    buffer = _thread_buffer()
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    with memoryview(buffer) as view, os.fdopen(fd, "rb", buffering=0, closefd=True) as handle:
        _advise_sequential(fd)
        while True:
            count = handle.readinto(buffer)
            if not count:
                break
            with view[:count] as chunk:
                for hasher in hashers:
                    hasher.update(chunk)
            if on_bytes is not None:
                on_bytes(count)
    return tuple(FileDigest(name, hasher.hexdigest()) for name, hasher in zip(algorithms, hashers, strict=True))


def _advise_sequential(fd: int) -> None:
    """Tell the kernel we read front to back, so it reads ahead aggressively (a hint; ignored where absent)."""
    advise = getattr(os, "posix_fadvise", None)
    if advise is not None:
        with contextlib.suppress(OSError):
            advise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)


def _new_hasher(name: str) -> _Hasher:
    if name == "blake3":
        module = _blake3_module()
        # blake3's own threads would compete with the scanner's workers; one thread per file is the plan.
        hasher: _Hasher = module.blake3()
        return hasher
    import hashlib  # here, not at the top: a --no-hash scan never loads OpenSSL

    return hashlib.new(name)


def _blake3_module() -> Any:
    try:
        import blake3  # type: ignore[import-not-found,unused-ignore]  # optional extra
    except ImportError as exc:
        raise DependencyMissing("--digest blake3", "blake3", "blake3") from exc
    return blake3
