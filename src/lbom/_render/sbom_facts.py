"""What the standard SBOM renderers (CycloneDX, SPDX 2.3, SPDX 3) map the same way, in one place.

Document identity (a UUID derived from the scan's content, so the same scan always gets the same serial number
and namespace), the creation time (``ScanResult.generated_at``, which honours ``SOURCE_DATE_EPOCH``), per-model
and per-file id fragments that never collide, the model facts every format records as properties or
hyperparameters, digests in each format's algorithm names, and where a model came from (version, download
location, supplier) — known or ``None``, never invented.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from uuid import UUID

from lbom._ids import content_uuid, id_fragment
from lbom._records import dataclass
from lbom.model import FileEntry, JsonValue, ModelArtifact, ScanResult

LBOM_HOME = "https://l-bom.dev"
"""The URI space l-bom owns; document namespaces and SPDX 3 element ids live under it."""

TOOL_NAME = "l-bom"
NOASSERTION = "NOASSERTION"


def document_uuid(result: ScanResult, kind: str) -> UUID:
    """A UUID for one document of ``kind`` about ``result``: derived from the full content, so reproducible."""
    from lbom._render.json import model_document

    content = {
        "models": [model_document(m, result) for m in result.models],
        "findings": [f.to_json() for f in result.findings],
        "roots": list(result.roots),
    }
    return content_uuid(kind, json.dumps(content, sort_keys=True, ensure_ascii=False, default=str))


def created_at(result: ScanResult) -> datetime:
    """The document creation time: the scan's timestamp (``SOURCE_DATE_EPOCH`` when set), in UTC."""
    text = result.generated_at
    try:
        moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)
    return moment.replace(tzinfo=timezone.utc)


def model_key(model: ModelArtifact) -> str:
    """An id fragment for a model: from its path, so two models never share one (see :mod:`lbom._ids`)."""
    return id_fragment(model.path, max_len=96)


def file_key(entry: FileEntry) -> str:
    """An id fragment for one file of a model: from its full path, unique across folders."""
    return id_fragment(entry.path, max_len=96)


def model_version(model: ModelArtifact) -> str | None:
    """The model's version as its source states it (a hub revision, a store tag), or ``None``."""
    source = model.source
    if source is None:
        return None
    return source.revision or source.tag


def download_location(model: ModelArtifact) -> str | None:
    """Where the model can be downloaded from, when its source says so."""
    source = model.source
    if source is None:
        return None
    if source.url:
        return web_uri(source.url)
    if source.kind in ("huggingface", "huggingface-cache") and source.repo_id:
        return web_uri(f"https://huggingface.co/{source.repo_id}")
    return None


def supplier(model: ModelArtifact) -> str | None:
    """Who supplied the model: the hub organisation or the file's ``general.organization``, else ``None``."""
    source = model.source
    if source is not None and source.repo_id and "/" in source.repo_id:
        return source.repo_id.split("/", 1)[0]
    organization = model.metadata.get("general.organization")
    if isinstance(organization, str) and organization.strip():
        return organization.strip()
    return None


def task(model: ModelArtifact) -> str | None:
    """The task the model declares (a model card's ``pipeline_tag``); never guessed from the architecture."""
    if model.sidecars is not None and model.sidecars.pipeline_tag:
        return model.sidecars.pipeline_tag
    return None


def languages(model: ModelArtifact) -> tuple[str, ...]:
    return model.sidecars.languages if model.sidecars is not None else ()


@dataclass(frozen=True)
class Fact:
    """One model fact as a key/value pair (``context_length`` = ``4096``), for properties and hyperparameters."""

    key: str
    value: str


def hyperparameters(model: ModelArtifact) -> list[Fact]:
    """The facts the CycloneDX taxonomy and the SPDX AI profile call hyperparameters, when known."""
    facts = []
    if model.context_length is not None:
        facts.append(Fact("context_length", str(model.context_length)))
    if model.quantization is not None:
        facts.append(Fact("quantization", model.quantization))
    if model.vocab_size is not None:
        facts.append(Fact("vocab_size", str(model.vocab_size)))
    return facts


def descriptive_facts(model: ModelArtifact) -> list[Fact]:
    """The other facts l-bom reads (format, dtype, sizes...), known ones only, in a fixed order."""
    first = model.files[0] if model.files else None
    candidates: list[tuple[str, object]] = [
        ("format", model.format),
        ("format_version", first.header.format_version if first is not None and first.header else None),
        ("architecture", model.architecture),
        ("parameter_count", model.parameter_count),
        ("tensor_count", model.tensor_count),
        ("dtype", model.dtype),
        ("size_label", model.size_label),
        ("training_framework", model.training_framework),
        ("file_count", len(model.files)),
        ("size_bytes", model.total_size),
    ]
    return [Fact(key, str(value)) for key, value in candidates if value is not None]


def tensor_type_value(tensors: int, parameters: int) -> str:
    """The value recorded for one row of the tensor type histogram."""
    return json.dumps({"parameters": parameters, "tensors": tensors}, sort_keys=True)


def json_text(value: JsonValue) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


# hashlib algorithm name -> its name in (CycloneDX ``hash-alg``, spdx-tools ``ChecksumAlgorithm``,
# spdx-python-model ``HashAlgorithm``); None where the format has no such algorithm. BLAKE3 is left out of SPDX
# 2.3: spdx-tools' validator demands 256+ hex digits for it, while BLAKE3's standard output is 64.
_DIGEST_NAMES: dict[str, tuple[str | None, str | None, str]] = {
    "md5": ("MD5", "MD5", "md5"),
    "sha1": ("SHA-1", "SHA1", "sha1"),
    "sha224": (None, "SHA224", "sha224"),
    "sha256": ("SHA-256", "SHA256", "sha256"),
    "sha384": ("SHA-384", "SHA384", "sha384"),
    "sha512": ("SHA-512", "SHA512", "sha512"),
    "sha3_256": ("SHA3-256", "SHA3_256", "sha3_256"),
    "sha3_384": ("SHA3-384", "SHA3_384", "sha3_384"),
    "sha3_512": ("SHA3-512", "SHA3_512", "sha3_512"),
    "blake3": ("BLAKE3", None, "blake3"),
}
_DIGEST_COLUMN = {"cyclonedx": 0, "spdx2": 1, "spdx3": 2}


def digests(entry: FileEntry, fmt: str) -> list[tuple[str, str]]:
    """A file's digests as ``(algorithm name in fmt, lowercase hex)``, sorted; ``fmt`` is cyclonedx/spdx2/spdx3.

    Algorithms the format cannot name are left out.
    """
    column = _DIGEST_COLUMN[fmt]
    found = []
    for digest in entry.digests:
        names = _DIGEST_NAMES.get(digest.algorithm.lower().replace("-", "_"))
        name = names[column] if names is not None else None
        if name is not None:
            found.append((name, digest.hex.lower()))
    return sorted(found)


def display_name(model: ModelArtifact) -> str:
    """The model's name, falling back to its file name: SBOM formats require a non-empty name."""
    import os

    for candidate in (model.name, os.path.basename(model.path.rstrip("/\\")), model.path):
        if candidate and candidate.strip():
            return candidate.strip()
    return "unnamed model"


def summary(model: ModelArtifact) -> str:
    """A one-line description: ``GGUF model, llama, 8960 parameters, Q4_K_M``."""
    parts = [f"{model.format} model"]
    if model.architecture:
        parts.append(model.architecture)
    if model.parameter_count is not None:
        parts.append(f"{model.parameter_count} parameters")
    if model.quantization:
        parts.append(model.quantization)
    elif model.dtype:
        parts.append(model.dtype)
    if len(model.files) > 1:
        parts.append(f"{len(model.files)} files")
    return ", ".join(parts)


def web_uri(text: str | None) -> str | None:
    """``text`` when it is a plain http(s) URL (formats reject anything else in URI fields), else ``None``."""
    from urllib.parse import urlsplit

    if not text or any(ch.isspace() or ord(ch) < 0x20 or ch in '<>"{}|\\^`' for ch in text):
        return None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return text
