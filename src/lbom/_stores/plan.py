"""Store-aware discovery: name the files a scan found after the store they live in, the way that store does.

``plan_store_scan`` runs between discovery and reading. It gives every candidate inside a store its
:class:`~lbom.model.SourceIdentity`; drops what a store walk should not read (hub-cache ``blobs/``, ``refs/``
and ``.no_exist/`` reached from above — snapshots name those blobs; Ollama layer blobs and manifests);
turns Ollama manifests into one candidate per model blob; reports half-downloaded blobs; and keeps one
candidate per real file, so a blob shared by several snapshots or tags is read and hashed once (the other names
go to ``SourceIdentity.aliases``). ``enrich`` then folds each Ollama model's other layers (template, params,
license, system prompt, ...) into it as files with roles, and their facts into its header.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import field
from typing import TYPE_CHECKING

from lbom._records import dataclass
from lbom._stores import (
    StoreLocation,
    content_address,
    existing_stores,
    huggingface,
    is_partial_blob,
    llamacpp,
    lmstudio,
    ollama,
    store_containing,
)
from lbom.model import FileDigest, FileEntry, Finding, JsonValue, Severity, SourceIdentity

if TYPE_CHECKING:
    from lbom.scan import Candidate, ReadFile, ScanOptions, _Discovery

R_PARTIAL_BLOB = "LBOM-STORE-002"
R_LAYER_TRUNCATED = "LBOM-STORE-006"
LAYER_TEXT_MAX_BYTES = 1024 * 1024
"""Template, params, license and system layers are text of a few KiB; read at most this much of each."""

TEMPLATE_TEXT_KEPT = 16384
"""Characters of an Ollama template kept in the metadata (real ones are a few KiB; the digest covers it all)."""

_OLLAMA_BLOB = re.compile(r"^sha256[-:][0-9a-f]{64}$")


@dataclass
class StorePlan:
    """What store awareness changed about a discovery, and what ``enrich`` needs afterwards."""

    ollama_layers: dict[str, tuple[ollama.Manifest, tuple[ollama.Layer, ...]]] = field(default_factory=dict)
    """Real path of an Ollama model blob -> (its manifest, that manifest's other layers)."""


def plan_store_scan(
    found: _Discovery, roots: Sequence[str], environ: Mapping[str, str] | None = None
) -> tuple[_Discovery, StorePlan]:
    from lbom.scan import _Discovery

    planner = _Planner(existing_stores(environ), roots)
    for candidate in found.candidates:
        planner.take(candidate)
    candidates = planner.finish()
    discovery = _Discovery(candidates, [*found.findings, *planner.findings], found.directories)
    return discovery, planner.plan


class _Planner:
    def __init__(self, stores: Sequence[StoreLocation], roots: Sequence[str]) -> None:
        self.stores = [s for s in stores if s.kind in (lmstudio.KIND, llamacpp.KIND)]
        self.roots = [os.path.realpath(r) for r in roots]
        self.refs = huggingface.RefIndex()
        self.findings: list[Finding] = []
        self.plan = StorePlan()
        self.kept: list[Candidate] = []
        self._ollama_root_cache: dict[str, bool] = {}
        self._ollama_blobs: dict[str, list[Candidate]] = {}
        self._ollama_manifests: dict[str, set[str]] = {}
        self._store_of_dir: dict[str, StoreLocation | None] = {}
        self._llama_repos: dict[str, list[tuple[str, str, str]]] = {}

    # --- per candidate ---------------------------------------------------------------------------------
    def take(self, candidate: Candidate) -> None:
        if is_partial_blob(candidate.display_path) or is_partial_blob(candidate.real_path):
            self.findings.append(_partial(candidate.display_path))
            return
        parts = os.path.abspath(candidate.display_path).split(os.sep)
        if self._take_huggingface(candidate, parts) or self._take_ollama(candidate, parts):
            return
        self.kept.append(self._located(candidate))

    def _take_huggingface(self, candidate: Candidate, parts: list[str]) -> bool:
        index = huggingface.repo_dir_index(parts)
        if index is None:
            return False
        if parts[index + 1] == "snapshots":
            source = huggingface.identify(candidate.display_path, candidate.real_path, self.refs)
            self.kept.append(dataclasses.replace(candidate, source=source) if source else candidate)
            return True
        if _walked_into(candidate, parts[index + 1]):
            return True  # blobs/refs/.no_exist reached by walking the repo folder: snapshots name the blobs
        parsed = huggingface.repo_id_from_dir(parts[index])
        address = content_address(candidate.real_path)
        source = SourceIdentity(
            kind=huggingface.SOURCE_KIND,
            store_path=os.sep.join(parts[:index]) or os.sep,
            repo_id=parsed[1] if parsed else None,
            file_path="/".join(parts[index + 1 :]),
            expected_sha256=address[1] if address and address[0] == "sha256" else None,
        )
        self.kept.append(dataclasses.replace(candidate, source=source))
        return True

    def _take_ollama(self, candidate: Candidate, parts: list[str]) -> bool:
        if len(parts) >= 3 and parts[-2] == "blobs" and _OLLAMA_BLOB.match(parts[-1]):
            root = os.sep.join(parts[:-2]) or os.sep
            if self._is_ollama_root(root):
                self._ollama_blobs.setdefault(root, []).append(candidate)
                return True
        for index in range(len(parts) - 5, -1, -1):
            if parts[index] == "manifests":
                root = os.sep.join(parts[:index]) or os.sep
                if self._is_ollama_root(root):
                    self._ollama_manifests.setdefault(root, set()).add(os.sep.join(parts))
                    return True
        return False

    def _is_ollama_root(self, root: str) -> bool:
        known = self._ollama_root_cache.get(root)
        if known is None:
            known = ollama.is_store_root(root)
            self._ollama_root_cache[root] = known
        return known

    def _located(self, candidate: Candidate) -> Candidate:
        """LM Studio and llama.cpp are recognised by location (their layouts are plain folders)."""
        if not self.stores:
            return candidate
        directory = candidate.directory
        if directory not in self._store_of_dir:
            self._store_of_dir[directory] = store_containing(directory, self.stores)
        location = self._store_of_dir[directory]
        if location is None:
            return candidate
        rel_dir = os.path.relpath(os.path.realpath(directory), os.path.realpath(location.path))
        rel_parts = [p for p in rel_dir.split(os.sep) if p not in ("", ".")]
        rel_parts.append(os.path.basename(candidate.display_path))
        if location.kind == lmstudio.KIND:
            return dataclasses.replace(candidate, source=lmstudio.identify(rel_parts, location.path))
        repos = self._llama_repos.get(directory)
        if repos is None:
            try:
                names = sorted(os.listdir(directory))
            except OSError:
                names = []
            repos = llamacpp.manifest_repos(names)
            self._llama_repos[directory] = repos
        return dataclasses.replace(candidate, source=llamacpp.identify(rel_parts, location.path, repos))

    # --- after all candidates --------------------------------------------------------------------------
    def finish(self) -> list[Candidate]:
        for root in sorted(set(self._ollama_blobs) | set(self._ollama_manifests)):
            self.kept.extend(self._ollama_candidates(root))
        return _one_per_real_file(self.kept)

    def _ollama_candidates(self, root: str) -> list[Candidate]:
        from lbom.scan import Candidate

        store = ollama.OllamaStore.load(root)
        whole_store = any(r == os.path.realpath(root) or _is_within(os.path.realpath(root), r) for r in self.roots)
        hits = self._ollama_manifests.get(root, set())
        in_scope = [m for m in store.manifests if m.path in hits]
        scope_paths = {m.path for m in in_scope}
        self.findings.extend(
            f for f in store.findings if whole_store or f.file in scope_paths or f.location in scope_paths
        )
        blobs: dict[str, Candidate] = {}  # digest hex -> candidate
        for candidate in self._ollama_blobs.get(root, []):
            blobs.setdefault(_blob_digest(candidate.display_path), candidate)
        for manifest in in_scope:
            for layer in manifest.model_layers:
                if layer.digest_hex in blobs:
                    continue
                try:
                    size = os.stat(layer.blob_path).st_size
                except OSError:
                    continue  # the store already reported the missing blob
                rel = os.path.relpath(layer.blob_path, root)
                real = os.path.realpath(layer.blob_path)
                blobs[layer.digest_hex] = Candidate(layer.blob_path, real, rel, os.path.dirname(layer.blob_path), size)
        result: list[Candidate] = []
        for digest, candidate in sorted(blobs.items(), key=lambda item: item[1].display_path):
            users = store.users.get(digest, [])
            as_model = [m for m in users if any(x.digest_hex == digest for x in m.model_layers)]
            if users and not as_model:
                continue  # a template/params/license/... layer: reported as part of its model
            expected = digest
            if not as_model:
                source = SourceIdentity(
                    kind=ollama.SOURCE_KIND,
                    store_path=root,
                    file_path="blobs/" + os.path.basename(candidate.display_path),
                    expected_sha256=expected,
                )
                result.append(dataclasses.replace(candidate, source=source))
                continue
            ordered = sorted(as_model, key=lambda m: (m.path not in scope_paths, m.full_name))
            chosen = ordered[0]
            source = SourceIdentity(
                kind=ollama.SOURCE_KIND,
                store_path=root,
                repo_id=chosen.name,
                tag=chosen.tag,
                file_path="blobs/" + os.path.basename(candidate.display_path),
                expected_sha256=expected,
                aliases=tuple(m.full_name for m in ordered[1:]),
            )
            self.plan.ollama_layers[candidate.real_path] = (chosen, chosen.other_layers)
            result.append(dataclasses.replace(candidate, source=source))
        return result


def _blob_digest(path: str) -> str:
    """``sha256-<hex>`` (or the older ``sha256:<hex>``) -> ``<hex>``."""
    return os.path.basename(path)[len("sha256-") :]


def _walked_into(candidate: Candidate, subdir: str) -> bool:
    """True when the scan root is above ``subdir`` (the walk entered it), not inside it."""
    return subdir in candidate.relative_path.split(os.sep)[:-1]


def _is_within(path: str, root: str) -> bool:
    return path.startswith(root.rstrip(os.sep) + os.sep)


def _partial(path: str) -> Finding:
    return Finding(
        R_PARTIAL_BLOB,
        Severity.LOW,
        "half-downloaded blob (download in progress or interrupted): not scanned",
        path,
        remedy="finish or restart the download; remove the partial file if the download was abandoned",
    )


def _alias(source: SourceIdentity) -> str:
    if source.purl:
        return source.purl
    name = source.repo_id or ""
    if source.revision:
        name += f"@{source.revision}"
    return f"{name}:{source.file_path}" if name else source.file_path or ""


def _one_per_real_file(candidates: list[Candidate]) -> list[Candidate]:
    """Store files reached through several names are read once; the other names become aliases."""
    groups: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        if candidate.source is not None:
            groups.setdefault(candidate.real_path, []).append(candidate)
    result: list[Candidate] = []
    for candidate in candidates:
        if candidate.source is None:
            result.append(candidate)
            continue
        group = groups.get(candidate.real_path)
        if group is None:
            continue  # already emitted with its group
        del groups[candidate.real_path]
        if len(group) == 1:
            result.append(candidate)
            continue
        ordered = sorted(group, key=lambda c: (c.source is None or c.source.tag is None, c.display_path))
        first = ordered[0]
        assert first.source is not None
        aliases = [*first.source.aliases]
        aliases.extend(_alias(c.source) for c in ordered[1:] if c.source is not None)
        result.append(dataclasses.replace(first, source=dataclasses.replace(first.source, aliases=tuple(aliases))))
    return result


# --- Ollama layers -> files with roles and facts ---------------------------------------------------------


def enrich(read_files: list[ReadFile], plan: StorePlan, options: ScanOptions) -> list[ReadFile]:
    if not plan.ollama_layers:
        return read_files
    digests_cache: dict[str, tuple[FileDigest, ...]] = {}
    return [_with_layers(rf, plan, options, digests_cache) for rf in read_files]


def _with_layers(
    read_file: ReadFile, plan: StorePlan, options: ScanOptions, cache: dict[str, tuple[FileDigest, ...]]
) -> ReadFile:
    entry = plan.ollama_layers.get(read_file.candidate.real_path)
    header = read_file.header
    if entry is None or header is None:
        return read_file
    manifest, layers = entry
    root = read_file.candidate.source.store_path if read_file.candidate.source else None
    files: list[FileEntry] = []
    findings: list[Finding] = []
    license_text: str | None = None
    metadata: dict[str, JsonValue] = {"ollama.name": manifest.full_name}
    for layer in layers:
        try:
            size = os.stat(layer.blob_path).st_size
        except OSError:
            continue  # reported by the store as a missing blob
        digests: tuple[FileDigest, ...] = ()
        if options.hash:
            digests = cache.get(layer.blob_path, ())
            if not digests:
                from lbom._hashing import digest_file

                try:
                    digests = digest_file(layer.blob_path, options.digests)
                except OSError:
                    digests = ()
                cache[layer.blob_path] = digests
        files.append(
            FileEntry(
                path=layer.blob_path,
                relative_path=os.path.relpath(layer.blob_path, root) if root else os.path.basename(layer.blob_path),
                size=size,
                digests=digests,
                format=None,
                role=layer.role,
                source=SourceIdentity(
                    kind=ollama.SOURCE_KIND,
                    store_path=root,
                    repo_id=manifest.name,
                    tag=manifest.tag,
                    file_path=f"blobs/sha256-{layer.digest_hex}",
                    expected_sha256=layer.digest_hex,
                ),
            )
        )
        if layer.role in ("template", "system", "license", "params", "config"):
            text = _layer_text(layer, findings)
            if text is None:
                continue
            if layer.role == "template":
                metadata["ollama.template"] = _go_template(text)
            elif layer.role == "system":
                metadata["ollama.system"] = text
            elif layer.role == "license":
                license_text = license_text or text
            else:
                metadata[f"ollama.{layer.role}"] = _json_or_text(text)
    changes: dict[str, object] = {
        "metadata": {**header.metadata, **metadata},
        "findings": header.findings + tuple(findings),
    }
    if header.license is None and license_text is not None:
        changes["license"] = _license_name(license_text)
    return dataclasses.replace(
        read_file,
        header=dataclasses.replace(header, **changes),  # type: ignore[arg-type]
        extra_files=tuple(files),
    )


def _layer_text(layer: ollama.Layer, findings: list[Finding]) -> str | None:
    try:
        with open(layer.blob_path, "rb") as handle:
            raw = handle.read(LAYER_TEXT_MAX_BYTES + 1)
    except OSError:
        return None
    if len(raw) > LAYER_TEXT_MAX_BYTES:
        findings.append(
            Finding(
                R_LAYER_TRUNCATED,
                Severity.LOW,
                f"{layer.role} layer is larger than {LAYER_TEXT_MAX_BYTES} bytes: only its start was read",
                layer.blob_path,
            )
        )
        raw = raw[:LAYER_TEXT_MAX_BYTES]
    return raw.decode("utf-8", "replace")


def _go_template(text: str) -> JsonValue:
    """Ollama templates are Go ``text/template``, not Jinja: kept as metadata, not as a (Jinja) chat template."""
    import hashlib

    return {
        "language": "go-template",
        "sha256": hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(),
        "length": len(text),
        "text": text[:TEMPLATE_TEXT_KEPT],
    }


def _json_or_text(text: str) -> JsonValue:
    def reject(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    try:
        value: JsonValue = json.loads(text, parse_constant=reject)
    except (ValueError, RecursionError):
        return text
    return value


def _license_name(text: str) -> str:
    """The license layer holds the full text; its first non-empty line is its name (e.g. the title)."""
    for line in text.splitlines():
        stripped = line.strip().strip("#").strip()
        if stripped:
            return stripped[:200]
    return "see license layer"
