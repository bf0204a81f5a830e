"""Free verification: a content-addressed file whose SHA-256 differs from its address was corrupted or tampered.

Hugging Face LFS blobs and Ollama blobs are named by the SHA-256 of their content; the store discovery puts that
name in ``FileEntry.source.expected_sha256``. When the scan hashed the file, the two must agree. Remote files
(``bytes_fetched`` set) are compared by the remote reader itself, against the hub's LFS digest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lbom.model import Finding, ModelArtifact, Severity

if TYPE_CHECKING:
    from lbom._checks import CheckContext

R_CONTENT_ADDRESS_MISMATCH = "LBOM-STORE-001"


def check(model: ModelArtifact, context: CheckContext) -> list[Finding]:
    found: list[Finding] = []
    for entry in model.files:
        expected = entry.source.expected_sha256 if entry.source else None
        actual = entry.sha256
        if entry.bytes_fetched is not None or expected is None or actual is None or actual == expected.lower():
            continue
        found.append(
            Finding(
                R_CONTENT_ADDRESS_MISMATCH,
                Severity.CRITICAL,
                f"content does not match its content address: corrupted or tampered (sha256 is {actual}, "
                f"the store names it {expected})",
                entry.path,
                location=entry.role,
                remedy="do not use this file; delete the blob and download the model again from its source",
            )
        )
    return found
