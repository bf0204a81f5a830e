"""License checks: a model without any license, and a model whose sources disagree about its license.

The sources are every model file's own header (GGUF ``general.license``) and the model card's front matter
(``license:`` in README.md). Licenses are compared after :mod:`lbom._licenses` normalisation, so two spellings of
the same license (``Apache-2.0`` / ``apache-2.0``) agree; two different licenses are a finding, because nobody can
tell which one applies. Declarations that say nothing (``unknown``, ``NOASSERTION``) count as no license.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from lbom.model import Finding, ModelArtifact, Severity

if TYPE_CHECKING:
    from lbom._checks import CheckContext

R_NO_LICENSE = "LBOM-LIC-001"
R_LICENSE_DIFFERS = "LBOM-LIC-002"


def license_key(text: str | None) -> str | None:
    """The comparison key of a declared license (its normalised SPDX id or LicenseRef, case-folded), or
    ``None`` when the text declares nothing."""
    if text is None or not text.strip():
        return None  # nothing declared (and no need to load the license tables to say so)
    from lbom._licenses import normalize_license

    info = normalize_license(text)
    return info.ref.lower() if info is not None else None


def license_sources(model: ModelArtifact) -> list[tuple[str, str]]:
    """(where, declared license) for every place the model states a license, in a stable order."""
    sources: list[tuple[str, str]] = []
    for entry in model.files:
        header = entry.header
        if header is not None and license_key(header.license) is not None:
            assert header.license is not None
            key = "general.license" if header.format == "gguf" else "license"
            sources.append((f"{os.path.basename(entry.path)} {key}", header.license))
    side = model.sidecars
    if side is not None and license_key(side.license) is not None:
        assert side.license is not None
        sources.append(("README.md license", side.license))
    return sources


NOT_MODELS = frozenset({"git-lfs-pointer"})
"""Formats that stand in for a model without being one: their license question belongs to the real file."""


def check(model: ModelArtifact, context: CheckContext) -> list[Finding]:
    if model.format in NOT_MODELS:
        return []
    sources = license_sources(model)
    if not sources and license_key(model.license) is None and license_key(model.license_name) is None:
        return [
            Finding(
                R_NO_LICENSE,
                Severity.LOW,
                "no license: neither the model file nor its model card states one",
                model.files[0].path if model.files else model.path,
                "license",
                "find the license on the model's source page and record it (model card `license:` or general.license)",
            )
        ]
    distinct = {license_key(value) for _where, value in sources}
    if len(distinct) <= 1:
        return []
    listed = "; ".join(f"{where}: {value!r}" for where, value in sources)
    return [
        Finding(
            R_LICENSE_DIFFERS,
            Severity.MEDIUM,
            f"the license differs between sources: {listed}",
            model.files[0].path if model.files else model.path,
            "license",
            "find out which license applies before you ship the model; fix the wrong one",
        )
    ]
