"""Ollama's model store: ``<models>/manifests/<registry>/<namespace>/<model>/<tag>`` plus ``<models>/blobs``.

A manifest is a JSON object whose ``layers`` (and ``config``) each name a ``digest`` (``sha256:<hex>``), a
``mediaType`` and a ``size``; the layer with media type ``application/vnd.ollama.image.model`` is the GGUF
weights, the others carry the prompt template, parameters, license text, system prompt, projector or adapter.
Blobs are stored as ``blobs/sha256-<hex>``: content-addressed. The store is ``OLLAMA_MODELS`` when set, else
``~/.ollama/models`` (source: ollama ``envconfig``; ``server/internal/manifest`` documents the format).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import field

from lbom._records import dataclass
from lbom.model import Finding, Severity

KIND = "ollama"
LABEL = "Ollama"
SOURCE_KIND = "ollama"
DEFAULT_REGISTRY = "registry.ollama.ai"
MODEL_MEDIA_TYPE = "application/vnd.ollama.image.model"
MANIFEST_MAX_BYTES = 1024 * 1024
"""Real manifests are well under 4 KiB; anything past this cap is not a manifest."""

R_MANIFEST_UNREADABLE = "LBOM-STORE-003"
R_MANIFEST_MISSING_BLOB = "LBOM-STORE-004"
R_LAYER_SIZE = "LBOM-STORE-005"

_DIGEST = re.compile(r"^sha256[:-]([0-9a-f]{64})$")

LAYER_ROLES = {
    "application/vnd.ollama.image.template": "template",
    "application/vnd.ollama.image.params": "params",
    "application/vnd.ollama.image.license": "license",
    "application/vnd.ollama.image.system": "system",
    "application/vnd.ollama.image.messages": "messages",
    "application/vnd.ollama.image.projector": "projector",
    "application/vnd.ollama.image.adapter": "adapter",
}
"""Media type -> the role its file plays in the model (``FileEntry.role``)."""


def locations(environ: Mapping[str, str], home: str) -> list[tuple[str, str]]:
    value = environ.get("OLLAMA_MODELS")
    if value:
        return [(value, "OLLAMA_MODELS")]
    return [(os.path.join(home, ".ollama", "models"), "default")]


@dataclass(frozen=True)
class Layer:
    """A layer of an Ollama manifest: media type, digest, size and its blob file."""

    media_type: str
    digest_hex: str
    size: int | None
    blob_path: str

    @property
    def role(self) -> str:
        if self.media_type == MODEL_MEDIA_TYPE:
            return "weights"
        if self.media_type.startswith("application/vnd.docker.container.image"):
            return "config"
        return LAYER_ROLES.get(self.media_type.split(";")[0].strip(), "layer")


@dataclass(frozen=True)
class Manifest:
    """An Ollama model manifest: where it is, the model it names and its layers."""

    path: str
    registry: str
    namespace: str
    model: str
    tag: str
    layers: tuple[Layer, ...]
    config: Layer | None = None

    @property
    def name(self) -> str:
        """The name ``ollama list`` shows, without the tag: ``llama3``, ``user/model``, ``hf.co/org/repo``."""
        if self.registry == DEFAULT_REGISTRY:
            return self.model if self.namespace == "library" else f"{self.namespace}/{self.model}"
        return f"{self.registry}/{self.namespace}/{self.model}"

    @property
    def full_name(self) -> str:
        return f"{self.name}:{self.tag}"

    @property
    def model_layers(self) -> tuple[Layer, ...]:
        return tuple(layer for layer in self.layers if layer.media_type == MODEL_MEDIA_TYPE)

    @property
    def other_layers(self) -> tuple[Layer, ...]:
        others = tuple(layer for layer in self.layers if layer.media_type != MODEL_MEDIA_TYPE)
        return (self.config, *others) if self.config is not None else others


@dataclass
class OllamaStore:
    """All manifests of one store, read once, with the reverse index blob -> manifests that use it."""

    root: str
    manifests: list[Manifest] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    users: dict[str, list[Manifest]] = field(default_factory=dict)
    """Blob digest (hex) -> the manifests that reference it (sorted by name:tag). Blob names are unique in a
    store, so the digest identifies the file without resolving paths."""

    @classmethod
    def load(cls, root: str, manifest_files: Sequence[str] | None = None) -> OllamaStore:
        """Read the manifests under ``root`` (or ``manifest_files``, when the caller has listed the store)."""
        store = cls(root)
        manifests_dir = os.path.join(root, "manifests")
        listed = _manifest_files(manifests_dir, store.findings) if manifest_files is None else sorted(manifest_files)
        for path in listed:
            manifest = _read_manifest(root, manifests_dir, path, store.findings)
            if manifest is not None:
                store.manifests.append(manifest)
        store.manifests.sort(key=lambda m: (m.full_name, m.path))
        for manifest in store.manifests:
            for layer in (*manifest.layers, *((manifest.config,) if manifest.config else ())):
                store.users.setdefault(layer.digest_hex, []).append(manifest)
        return store


def is_store_root(path: str) -> bool:
    return os.path.isdir(os.path.join(path, "manifests")) and os.path.isdir(os.path.join(path, "blobs"))


def blob_path(root: str, digest_hex: str) -> str:
    return os.path.join(root, "blobs", f"sha256-{digest_hex}")


def _manifest_files(manifests_dir: str, findings: list[Finding]) -> list[str]:
    from lbom._stores import walk_files

    walked, problems = walk_files(manifests_dir)
    findings.extend(problems)
    return sorted(w.path for w in walked if w.stat is not None)


def _bad_manifest(path: str, problem: str) -> Finding:
    return Finding(
        R_MANIFEST_UNREADABLE,
        Severity.MEDIUM,
        f"Ollama manifest skipped: {problem}",
        path,
        remedy="re-pull the model with `ollama pull`, or remove the broken manifest",
    )


def _read_manifest(root: str, manifests_dir: str, path: str, findings: list[Finding]) -> Manifest | None:
    parts = os.path.relpath(path, manifests_dir).split(os.sep)
    if len(parts) != 4:
        findings.append(_bad_manifest(path, "not at manifests/<registry>/<namespace>/<model>/<tag>"))
        return None
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MANIFEST_MAX_BYTES + 1)
    except OSError as exc:
        findings.append(_bad_manifest(path, (exc.strerror or str(exc)).lower()))
        return None
    if len(raw) > MANIFEST_MAX_BYTES:
        findings.append(_bad_manifest(path, f"larger than {MANIFEST_MAX_BYTES} bytes"))
        return None
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        findings.append(_bad_manifest(path, f"not JSON ({type(exc).__name__})"))
        return None
    if not isinstance(document, dict) or not isinstance(document.get("layers"), list):
        findings.append(_bad_manifest(path, "no 'layers' list"))
        return None
    layers: list[Layer] = []
    for index, item in enumerate(document["layers"]):
        layer = _layer(root, item)
        if layer is None:
            findings.append(_bad_manifest(path, f"layer {index} has no valid mediaType/digest"))
            return None
        layers.append(layer)
    config = _layer(root, document.get("config"))
    if config is None and document.get("config") is not None:
        findings.append(_bad_manifest(path, "config has no valid mediaType/digest"))
        return None
    registry, namespace, model, tag = parts
    manifest = Manifest(path, registry, namespace, model, tag, tuple(layers), config)
    for layer in manifest.layers:
        _check_blob(manifest, layer, findings)
    return manifest


def _layer(root: str, item: object) -> Layer | None:
    if not isinstance(item, dict):
        return None
    media_type, digest, size = item.get("mediaType"), item.get("digest"), item.get("size")
    if not isinstance(media_type, str) or not isinstance(digest, str):
        return None
    match = _DIGEST.match(digest)
    if match is None:
        return None
    size_value = size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None
    return Layer(media_type, match.group(1), size_value, blob_path(root, match.group(1)))


def _check_blob(manifest: Manifest, layer: Layer, findings: list[Finding]) -> None:
    try:
        actual = os.stat(layer.blob_path).st_size
    except OSError:
        findings.append(
            Finding(
                R_MANIFEST_MISSING_BLOB,
                Severity.MEDIUM,
                f"{manifest.full_name}: manifest points at a missing blob ({layer.role} layer)",
                layer.blob_path,
                location=manifest.path,
                remedy=f"re-pull the model: ollama pull {manifest.full_name}",
            )
        )
        return
    if layer.size is not None and actual != layer.size:
        findings.append(
            Finding(
                R_LAYER_SIZE,
                Severity.HIGH,
                f"{manifest.full_name}: blob is {actual} bytes but the manifest says {layer.size}",
                layer.blob_path,
                location=manifest.path,
                remedy=f"the blob is truncated or replaced: re-pull it with ollama pull {manifest.full_name}",
            )
        )


def count_models(root: str, files: Sequence[object]) -> tuple[int, list[Finding]]:
    """Models ``ollama run`` could load: listed manifests that parse and whose model blob exists, one per
    ``name:tag``. A manifest that does not parse, or whose weights are missing, is a finding instead of a count."""
    listed = [
        os.path.join(root, rel)
        for rel in (getattr(store_file, "relative_path", "") for store_file in files)
        if rel.split(os.sep)[0] == "manifests"
    ]
    store = OllamaStore.load(root, listed)
    count = sum(
        1
        for m in store.manifests
        if m.model_layers and all(os.path.isfile(layer.blob_path) for layer in m.model_layers)
    )
    return count, store.findings
