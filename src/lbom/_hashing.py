"""Streaming file digests: large reads into one reused buffer, so memory stays flat for any file size.

hashlib releases the GIL for updates larger than 2 KiB, which lets the scanner hash several files on threads.
"""

from __future__ import annotations

import hashlib
import os

from lbom.model import FileDigest

CHUNK_BYTES = 4 * 1024 * 1024


def digest_file(path: str, algorithms: tuple[str, ...] = ("sha256",)) -> tuple[FileDigest, ...]:
    """Hash ``path`` with each algorithm in one pass over the file."""
    hashers = [_new_hasher(name) for name in algorithms]
    buffer = bytearray(CHUNK_BYTES)
    view = memoryview(buffer)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        with os.fdopen(fd, "rb", buffering=0, closefd=True) as handle:
            while True:
                count = handle.readinto(buffer)
                if not count:
                    break
                chunk = view[:count]
                for hasher in hashers:
                    hasher.update(chunk)
    finally:
        view.release()
    return tuple(FileDigest(name, hasher.hexdigest()) for name, hasher in zip(algorithms, hashers, strict=True))


def _new_hasher(name: str) -> hashlib._Hash:
    if name == "blake3":
        import blake3  # type: ignore[import-not-found,unused-ignore]  # optional extra

        hasher: hashlib._Hash = blake3.blake3()
        return hasher
    return hashlib.new(name)
