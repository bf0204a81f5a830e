"""Git LFS pointer files: the few lines of text that stand in for weights when ``git lfs pull`` never ran.

A pointer is ``version https://git-lfs.github.com/spec/v1`` followed by ``oid sha256:<hex>`` and
``size <bytes>`` lines (git-lfs docs/spec.md). It is reported as what it is, with the digest and size of the
real file it names, and a finding: scanning a pointer says nothing about the model.
"""

from __future__ import annotations

import re

from lbom._formats.interface import ByteSource, FindingSink, Limits
from lbom.model import JsonValue, ModelHeader, Severity

FORMAT = "git-lfs-pointer"
LFS_PREFIX = b"version https://git-lfs"

R_POINTER = "LBOM-LFS-001"
R_MALFORMED = "LBOM-LFS-002"

# The spec caps pointer files at 1024 bytes.
_MAX_POINTER = 1024
_OID = re.compile(r"^oid sha256:([0-9a-f]{64})$")
_SIZE = re.compile(r"^size (\d{1,20})$")


def sniff(head: bytes, filename: str) -> bool:
    return head.startswith(LFS_PREFIX)


def read(source: ByteSource, limits: Limits) -> ModelHeader:
    sink = FindingSink(source.name)
    raw = source.read_at(0, _MAX_POINTER + 1)
    metadata: dict[str, JsonValue] = {}
    version: str | None = None
    if len(raw) > _MAX_POINTER:
        sink.add(R_MALFORMED, Severity.MEDIUM, f"LFS pointer is longer than the spec's {_MAX_POINTER} bytes", None)
    text = raw[:_MAX_POINTER].decode("utf-8", "replace")
    lines = text.splitlines()
    if lines:
        version = lines[0].partition(" ")[2][:200]
        metadata["lfs.version"] = version
    for line in lines[1:]:
        oid = _OID.match(line.strip())
        size = _SIZE.match(line.strip())
        if oid:
            metadata["lfs.oid_sha256"] = oid.group(1)
        elif size:
            metadata["lfs.size"] = int(size.group(1))
    if "lfs.oid_sha256" not in metadata or "lfs.size" not in metadata:
        sink.add(R_MALFORMED, Severity.MEDIUM, "LFS pointer lacks a valid 'oid sha256:' or 'size' line", None)
    size_text = f" ({metadata['lfs.size']:,} bytes)" if isinstance(metadata.get("lfs.size"), int) else ""
    sink.add(
        R_POINTER,
        Severity.HIGH,
        f"this is a Git LFS pointer, not the weights{size_text} — run git lfs pull",
        None,
        "run `git lfs pull` (or `git lfs fetch && git lfs checkout`) in the repository, then scan again",
    )
    return ModelHeader(
        format=FORMAT,
        format_version=version,
        metadata=dict(sorted(metadata.items())),
        findings=sink.result(),
        header_bytes_read=len(raw),
    )
