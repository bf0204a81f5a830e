"""Deterministic identifiers for documents: id fragments that standard formats accept, and content UUIDs.

SPDX ids and LicenseRefs allow only letters, digits, ``.`` and ``-``; CycloneDX bom-refs and SPDX 3 IRIs are
safer with the same alphabet. :func:`id_fragment` maps any text into it. Whenever the text had to be changed,
eight hex digits of its SHA-256 are appended, so two different texts (``a b/c`` and ``a-b/c``, or the same file
name in two folders) never share a fragment, and the same text always gets the same one.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from lbom._sha256 import sha256_hex

if TYPE_CHECKING:
    import uuid

_UNSAFE = re.compile(r"[^A-Za-z0-9.\-]+")

NAMESPACE_NAME = "https://l-bom.dev/"
"""The URL whose uuid5 (in the URL namespace) is the namespace of every name-based id l-bom derives. ``uuid``
is imported only by the renderers that need ids (it imports ``platform`` and ``hashlib``, ~10 ms of start-up)."""


def text_digest(text: str, length: int = 8) -> str:
    """The first ``length`` hex digits of the SHA-256 of ``text`` (UTF-8, lone surrogates kept)."""
    return sha256_hex(text.encode("utf-8", "surrogatepass"))[:length]


def id_fragment(text: str, max_len: int = 64) -> str:
    """``text`` in the alphabet ``[A-Za-z0-9.-]``, unique per text (see the module docstring), never empty."""
    stem = _UNSAFE.sub("-", text).strip("-.")[:max_len].strip("-.")
    if stem == text and stem:
        return stem
    return f"{stem}-{text_digest(text)}" if stem else text_digest(text)


def content_uuid(*parts: str) -> uuid.UUID:
    """A UUID (version 5) derived from ``parts``: the same content always gets the same UUID."""
    import uuid

    return uuid.uuid5(uuid.uuid5(uuid.NAMESPACE_URL, NAMESPACE_NAME), "\x1f".join(parts))
