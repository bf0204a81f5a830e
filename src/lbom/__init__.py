"""l-bom: a Software Bill of Materials for local model files, read from their headers, never executed.

The library is the product; the ``l-bom`` CLI, the GUI and the MCP server are thin clients of it.

Quick guide::

    import lbom

    result = lbom.scan("models/")                 # -> ScanResult (frozen dataclasses)
    for model in result.models:                   # -> ModelArtifact: one logical model, maybe many files
        print(model.name, model.format, model.quantization, model.parameter_count)
        for finding in model.findings:            # -> Finding(rule_id, severity, message, file, location, remedy)
            print(finding.severity.value, finding.message)
    text = lbom.render(result, "json")            # any OutputFormat: json, table, spdx, hf-readme, ...

``lbom.scan(paths, hash=True, options=ScanOptions(...))`` never executes or loads model content and never
writes next to scanned files. It raises :class:`lbom.errors.Error` subclasses only when an input cannot be
read at all; malformed content becomes findings.
"""

from __future__ import annotations

from lbom._formats.interface import DEFAULT_LIMITS, Limits
from lbom._render import OutputFormat, RenderOptions, render
from lbom.errors import Error
from lbom.model import (
    BaseModelRef,
    ChatTemplate,
    FileDigest,
    FileEntry,
    Finding,
    ModelArtifact,
    ModelHeader,
    ScanResult,
    Severity,
    SidecarFacts,
    SourceIdentity,
    TensorInfo,
    TensorTypeStat,
)
from lbom.scan import ScanOptions, scan


def __getattr__(name: str) -> object:
    if name == "__version__":
        from lbom._version import tool_version

        return tool_version()
    raise AttributeError(name)


__all__ = [
    "DEFAULT_LIMITS",
    "BaseModelRef",
    "ChatTemplate",
    "Error",
    "FileDigest",
    "FileEntry",
    "Finding",
    "Limits",
    "ModelArtifact",
    "ModelHeader",
    "OutputFormat",
    "RenderOptions",
    "ScanOptions",
    "ScanResult",
    "Severity",
    "SidecarFacts",
    "SourceIdentity",
    "TensorInfo",
    "TensorTypeStat",
    "render",
    "scan",
]
