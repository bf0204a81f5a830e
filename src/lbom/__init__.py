"""l-bom: a Software Bill of Materials for local model files, read from their headers, never executed.

The library is the product; the ``l-bom`` CLI, the GUI and the MCP server are thin clients of it.

Quick guide::

    import lbom

    result = lbom.scan("models/")                 # -> ScanResult (frozen dataclasses)
    for model in result.models:                   # -> ModelArtifact: one logical model, maybe many files
        print(model.name, model.format, model.quantization, model.parameter_count)
        for finding in model.findings:            # -> Finding(rule_id, severity, message, file, location, remedy)
            print(finding.severity.value, finding.message)
    text = lbom.render(result, "json")            # any OutputFormat: json, table, spdx, hf-readme, sarif, ...

Gating models in CI (every function returns frozen dataclasses; the CLI commands are thin clients)::

    pinned = lbom.lock("models/")                 # -> Lock; pinned.to_toml() is the models.lock text
    outcome = lbom.verify("models/", lock="models.lock")   # or sha256sums="SHA256SUMS"; -> VerifyResult
    outcome.ok, outcome.lines()                   # which files changed / are missing / are new, fact changes
    changes = lbom.diff("old.json", "new.json")   # documents or lock files -> DiffResult
    policy = lbom.load_policy("policy.toml")      # strict: unknown keys raise UsageError
    report = lbom.check("models/", policy)        # -> CheckResult; report.passed is the gate
    # lock, verify and check take options=ScanOptions(jobs=..., cache_dir=..., cache=..., rehash=...);
    # lock and verify always re-hash (a cached digest says nothing about the bytes now)
    lbom.rules()                                  # the findings catalog: every rule id with title and remedy

``lbom.scan(paths, hash=True, options=ScanOptions(...))`` never executes or loads model content and never
writes next to scanned files. It raises :class:`lbom.errors.Error` subclasses only when an input cannot be
read at all; malformed content becomes findings.

Model stores (Hugging Face hub cache, Ollama, LM Studio, llama.cpp cache)::

    lbom.locate_stores()                          # where they are, honouring HF_HUB_CACHE, OLLAMA_MODELS, ...
    lbom.list_stores()                            # -> StoreSummary: model counts and sizes
    lbom.scan([s.path for s in lbom.locate_stores() if s.exists])   # files named after their store (source)
    report = lbom.verify_store_blobs()            # hash content-addressed blobs, compare with their names
    report.checked, report.matched, report.mismatched, report.skipped
"""

from __future__ import annotations

from typing import TYPE_CHECKING

# First of l-bom's modules: the compiled patterns go into re's cache before anything compiles one, and
# dataclasses is imported without inspect, which every later import then shares.
from lbom import _precompiled_re, _records  # noqa: F401
from lbom._formats.interface import DEFAULT_LIMITS, Limits
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

if TYPE_CHECKING:
    from lbom._catalog import Rule
    from lbom._catalog import catalog as rules
    from lbom._diff import DiffResult, diff
    from lbom._lock import Lock, LockedFile, LockedModel, lock, read_lock
    from lbom._policy import CheckResult, Policy, check, load_policy
    from lbom._render import OutputFormat, RenderOptions, render
    from lbom._stores import StoreLocation, StoreSummary, list_stores, locate_stores
    from lbom._stores.verify import StoreVerifyReport, verify_store_blobs
    from lbom._verify import VerifyResult, verify

# Imported on first use (PEP 562), so `l-bom scan` and `l-bom version` do not pay for the gate, the stores, the
# renderers or the catalog. ``scan`` stays eager: importing the ``lbom.scan`` submodule would otherwise rebind
# the package attribute ``lbom.scan`` to the module.
_LAZY: dict[str, tuple[str, str]] = {
    "Rule": ("lbom._catalog", "Rule"),
    "rules": ("lbom._catalog", "catalog"),
    "DiffResult": ("lbom._diff", "DiffResult"),
    "diff": ("lbom._diff", "diff"),
    "Lock": ("lbom._lock", "Lock"),
    "LockedFile": ("lbom._lock", "LockedFile"),
    "LockedModel": ("lbom._lock", "LockedModel"),
    "lock": ("lbom._lock", "lock"),
    "read_lock": ("lbom._lock", "read_lock"),
    "CheckResult": ("lbom._policy", "CheckResult"),
    "Policy": ("lbom._policy", "Policy"),
    "check": ("lbom._policy", "check"),
    "load_policy": ("lbom._policy", "load_policy"),
    "OutputFormat": ("lbom._render", "OutputFormat"),
    "RenderOptions": ("lbom._render", "RenderOptions"),
    "render": ("lbom._render", "render"),
    "StoreLocation": ("lbom._stores", "StoreLocation"),
    "StoreSummary": ("lbom._stores", "StoreSummary"),
    "list_stores": ("lbom._stores", "list_stores"),
    "locate_stores": ("lbom._stores", "locate_stores"),
    "StoreVerifyReport": ("lbom._stores.verify", "StoreVerifyReport"),
    "verify_store_blobs": ("lbom._stores.verify", "verify_store_blobs"),
    "VerifyResult": ("lbom._verify", "VerifyResult"),
    "verify": ("lbom._verify", "verify"),
}


def __getattr__(name: str) -> object:
    if name == "__version__":
        from lbom._version import tool_version

        return tool_version()
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'lbom' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(target[0]), target[1])
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "DEFAULT_LIMITS",
    "BaseModelRef",
    "ChatTemplate",
    "CheckResult",
    "DiffResult",
    "Error",
    "FileDigest",
    "FileEntry",
    "Finding",
    "Limits",
    "Lock",
    "LockedFile",
    "LockedModel",
    "ModelArtifact",
    "ModelHeader",
    "OutputFormat",
    "Policy",
    "RenderOptions",
    "Rule",
    "ScanOptions",
    "ScanResult",
    "Severity",
    "SidecarFacts",
    "SourceIdentity",
    "StoreLocation",
    "StoreSummary",
    "StoreVerifyReport",
    "TensorInfo",
    "TensorTypeStat",
    "VerifyResult",
    "check",
    "diff",
    "list_stores",
    "load_policy",
    "locate_stores",
    "lock",
    "read_lock",
    "render",
    "rules",
    "scan",
    "verify",
    "verify_store_blobs",
]
