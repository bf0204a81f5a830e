"""SHA-256 of small in-memory values (ids, cache keys, chat-template digests) without importing ``hashlib``.

``import hashlib`` loads OpenSSL's libcrypto, several milliseconds of every process start, even for a
``--no-hash`` scan that only digests a few strings. CPython's own SHA-256 module (``_sha256``, ``_sha2`` from
3.12) is small and gives the same digests; hashlib stays in use where files are hashed (``lbom._hashing``), where
OpenSSL's speed matters. When neither built-in module exists (a Python built without them), hashlib is the
fallback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class Hash(Protocol):
    """What the constructors return (a subset of ``hashlib._Hash``)."""

    def update(self, data: bytes, /) -> None: ...

    def digest(self) -> bytes: ...

    def hexdigest(self) -> str: ...


def _constructor() -> Callable[..., Hash]:
    for module_name in ("_sha2", "_sha256"):
        try:
            module = __import__(module_name)
        except ImportError:
            continue
        function: Callable[..., Hash] | None = getattr(module, "sha256", None)
        if function is not None:
            return function
    import hashlib

    return hashlib.sha256


sha256: Callable[..., Hash] = _constructor()
"""``sha256(data=b"")``: a hash object with ``update``, ``digest`` and ``hexdigest``, as ``hashlib.sha256``."""


def sha256_hex(data: bytes) -> str:
    """The hex SHA-256 digest of ``data``."""
    return sha256(data).hexdigest()
