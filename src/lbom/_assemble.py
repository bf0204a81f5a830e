"""Assembly: files with parsed headers (plus sidecars) become logical models with merged, checked facts.

Facts read from the artifact itself win over sidecar files; where both state a fact and disagree, that is a
finding. Grouping of multi-file models (shards, split GGUF) happens here too, so every output sees one
logical model with its files listed.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Mapping
from typing import TYPE_CHECKING

from lbom._checks import NO_CONTEXT, CheckContext, run_checks
from lbom._formats.interface import DEFAULT_LIMITS, Limits
from lbom.model import (
    BaseModelRef,
    FileEntry,
    Finding,
    ModelArtifact,
    ModelHeader,
    Severity,
    SidecarFacts,
    SourceIdentity,
)

if TYPE_CHECKING:
    from lbom._formats.hf_sidecar import TextLoader
    from lbom.scan import ReadFile

R_SIDECAR_DISAGREES = "LBOM-SIDECAR-002"
_PART_OF_MODEL_ROLES = frozenset(
    {"template", "params", "license", "system", "messages", "projector", "adapter", "config"}
)
"""Roles of files that come with a model's weights in a store (Ollama layers); see lbom._stores.ollama."""


def assemble_models(
    read_files: list[ReadFile],
    sidecars: dict[str, SidecarFacts | None],
    directories: Mapping[str, set[str]] | None = None,
    limits: Limits = DEFAULT_LIMITS,
    read_text: TextLoader | None = None,
    context: CheckContext = NO_CONTEXT,
) -> list[ModelArtifact]:
    """One model per single file, and one per multi-file group (given the ``directories`` listings to group).
    ``read_text`` reads a shard index (default: from the file system; remote scans fetch it); ``context`` is
    lent to the checks."""
    from lbom._shards import group_shards
    from lbom.scan import file_entry

    models = []
    if directories:
        if read_text is None:
            groups, read_files = group_shards(read_files, directories, limits)
        else:
            groups, read_files = group_shards(read_files, directories, limits, read_text)
        for group in groups:
            side = sidecars.get(group.directory)
            models.append(build_model(group.header, group.files, side, group.path, group.findings, context))
    for read_file in read_files:
        header = read_file.header
        assert header is not None
        entry = file_entry(read_file)
        side = sidecars.get(read_file.candidate.directory)
        files = (entry, *read_file.extra_files)
        models.append(build_model(header, files, side, read_file.candidate.display_path, context=context))
    return sorted(models, key=lambda m: m.path)


def build_model(
    header: ModelHeader,
    files: tuple[object, ...],
    sidecars: SidecarFacts | None,
    path: str,
    extra_findings: tuple[Finding, ...] = (),
    context: CheckContext = NO_CONTEXT,
) -> ModelArtifact:
    """Merge a (possibly combined) header with sidecar facts into a model, and run the checks on it."""

    entries = tuple(f for f in files if isinstance(f, FileEntry))
    findings: list[Finding] = list(header.findings) + list(extra_findings)
    side = sidecars or SidecarFacts()
    if sidecars is not None:
        findings.extend(sidecars.findings)

    def merged(
        name: str, artifact_value: object, sidecar_value: object, sidecar_file: str, report: bool = True
    ) -> object:
        if (
            report
            and artifact_value is not None
            and sidecar_value is not None
            and _differs(artifact_value, sidecar_value)
        ):
            findings.append(
                Finding(
                    R_SIDECAR_DISAGREES,
                    Severity.LOW,
                    f"{name} is {artifact_value!r} in the model file but {sidecar_value!r} in {sidecar_file}",
                    path,
                    name,
                    "the model file's value is reported; check which one is right",
                )
            )
        return artifact_value if artifact_value is not None else sidecar_value

    # GGUF names the architecture like config.json's model_type ("llama"), safetensors sidecars like its
    # architectures[0] ("LlamaForCausalLM"): agreeing with either is agreement.
    side_arch = side.architecture
    if (
        header.architecture is not None
        and side.model_type is not None
        and not _differs(header.architecture, side.model_type)
    ):
        side_arch = header.architecture
    architecture = merged("architecture", header.architecture, side_arch, "config.json")
    context_length = merged("context_length", header.context_length, side.context_length, "config.json")
    vocab_size = merged("vocab_size", header.vocab_size, side.vocab_size, "config.json")
    # A license disagreement is reported by _checks/license.py (LBOM-LIC-002), across all files and the card.
    license_id = merged("license", header.license, side.license, "README.md", report=False)
    base_models = header.base_models or tuple(BaseModelRef(name=name) for name in side.base_models)
    if header.base_models and side.base_models and not _base_models_agree(header.base_models, side.base_models):
        ours = ", ".join(ref.name for ref in header.base_models)
        findings.append(
            Finding(
                R_SIDECAR_DISAGREES,
                Severity.LOW,
                f"base model is {ours!r} in the model file but {', '.join(side.base_models)!r} in README.md",
                path,
                "base_model",
                "the model file's value is reported; check which one is right",
            )
        )
    side_dtype = _normalise_dtype(side.dtype)
    dtype: object
    if header.dtype == "mixed" or header.format == "gguf":
        # A mixed checkpoint (BF16 weights, F32 norms) or a quantized GGUF has no single dtype to compare.
        dtype = header.dtype if header.dtype is not None else side_dtype
    else:
        dtype = merged("dtype", header.dtype, side_dtype, "config.json")
    source = _model_source(entries)
    model = ModelArtifact(
        name=header.name or _model_name(path, source),
        path=path,
        format=header.format,
        files=entries,
        architecture=architecture if isinstance(architecture, str) else None,
        parameter_count=header.parameter_count,
        tensor_count=header.tensor_count,
        quantization=header.quantization or _sidecar_quantization(side),
        dtype=dtype if isinstance(dtype, str) else None,
        context_length=context_length if isinstance(context_length, int) else None,
        vocab_size=vocab_size if isinstance(vocab_size, int) else None,
        license=license_id if isinstance(license_id, str) else None,
        license_name=header.license_name or side.license_name,
        base_models=base_models,
        training_framework=header.training_framework,
        size_label=header.size_label,
        tensor_types=header.tensor_types,
        chat_templates=header.chat_templates + side.chat_templates,
        metadata=header.metadata,
        sidecars=sidecars,
        source=source,
        findings=(),
    )
    findings.extend(run_checks(model, context))
    return _with_findings(model, findings)


def _model_source(entries: tuple[FileEntry, ...]) -> SourceIdentity | None:
    """The model's source: its one weights file's, even when layers (template, license, ...) come with it. Shards
    that all come from one repository revision (or one store entry) share that as the model's source, without a
    file path: each shard keeps its own on its file entry."""
    weights = [e for e in entries if e.role not in _PART_OF_MODEL_ROLES]
    if len(weights) == 1:
        return weights[0].source
    sources = [e.source for e in weights if e.role in ("shard", "pointer", "weights")]
    first = sources[0] if sources else None
    if first is None or first.repo_id is None:
        return None
    shared = (first.kind, first.store_path, first.repo_id, first.revision, first.tag)
    if any(s is None or (s.kind, s.store_path, s.repo_id, s.revision, s.tag) != shared for s in sources):
        return None
    purl = None
    if first.kind in ("huggingface-cache", "huggingface"):
        from lbom._stores.huggingface import purl as hub_purl

        purl = hub_purl(first.repo_id, first.revision, None)
    # The model's own file in the repository is its index, the entry point loaders open.
    index = next((e for e in entries if e.role == "index"), None)
    file_path = None
    if index is not None and first.file_path is not None:
        file_path = posixpath.join(posixpath.dirname(first.file_path), os.path.basename(index.relative_path))
    return SourceIdentity(
        kind=first.kind,
        store_path=first.store_path,
        repo_id=first.repo_id,
        revision=first.revision,
        file_path=file_path,
        tag=first.tag,
        purl=purl,
    )


def _with_findings(model: ModelArtifact, findings: list[Finding]) -> ModelArtifact:
    import dataclasses

    unique = sorted(set(findings), key=Finding.sort_key)
    return dataclasses.replace(model, findings=tuple(unique))


def _base_models_agree(refs: tuple[BaseModelRef, ...], card_names: tuple[str, ...]) -> bool:
    """Whether any base model the card names (hub repo ids, mostly) is one the model file names. GGUF files give
    display names ("Llama 3.1 8B") with an organization and a repo URL, so each of those forms counts."""

    def forms(ref: BaseModelRef) -> set[str]:
        name = _canon(ref.name).replace(" ", "-")
        found = {name}
        if ref.organization:
            found.add(f"{_canon(ref.organization).replace(' ', '-')}/{name}")
        if ref.repo_url:
            url = _canon(ref.repo_url).rstrip("/")
            found.add(url)
            parts = url.split("/")
            if len(parts) >= 2:
                found.add("/".join(parts[-2:]))
        return found

    known = set().union(*(forms(ref) for ref in refs))
    for card_name in card_names:
        canon = _canon(card_name).replace(" ", "-")
        if canon in known or canon.split("/")[-1] in known:
            return True
    return False


def _differs(a: object, b: object) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return _canon(a) != _canon(b)
    return a != b


def _canon(text: str) -> str:
    return text.strip().lower().replace("_", "-")


def _normalise_dtype(value: str | None) -> str | None:
    """config.json's torch dtype name ("bfloat16", "torch.float16") as a safetensors dtype name ("BF16")."""
    if value is None:
        return None
    key = value.lower().removeprefix("torch.")
    if key == "auto":
        return None
    return _TORCH_DTYPES.get(key, value)


_TORCH_DTYPES = {
    "float32": "F32",
    "float": "F32",
    "float16": "F16",
    "half": "F16",
    "bfloat16": "BF16",
    "float64": "F64",
    "double": "F64",
    "int8": "I8",
    "uint8": "U8",
    "int16": "I16",
    "int32": "I32",
    "int64": "I64",
    "bool": "BOOL",
    "float8_e4m3fn": "F8_E4M3",
    "float8_e5m2": "F8_E5M2",
}


def _sidecar_quantization(side: SidecarFacts) -> str | None:
    config = side.quantization_config
    if not config:
        return None
    method = config.get("quant_method")
    bits = config.get("bits")
    if isinstance(method, str):
        return f"{method}-{bits}bit" if isinstance(bits, int) else method
    return None


# File names that say nothing about the model: the folder (or the hub repository) names it instead.
_GENERIC_STEMS = frozenset(
    {
        "model",
        "pytorch_model",
        "tf_model",
        "flax_model",
        "adapter_model",
        "consolidated",
        "weights",
        "diffusion_pytorch_model",
    }
)


def _model_name(path: str, source: SourceIdentity | None = None) -> str:
    """The file name, unless it says nothing (model.safetensors, an Ollama blob digest, a hub snapshot folder
    named by its commit): then the store's name for the model (``org/name``, ``name:tag``), else the folder's."""
    base = os.path.basename(path.rstrip("/\\")) or path
    says_nothing = (
        base.split(".", 1)[0].lower() in _GENERIC_STEMS
        or base.lower().endswith(".index.json")
        or (source is not None and source.kind == "ollama")
        or (source is not None and source.revision is not None and base == source.revision)
    )
    if not says_nothing:
        return base
    if source is not None and source.repo_id:
        return f"{source.repo_id}:{source.tag}" if source.kind == "ollama" and source.tag else source.repo_id
    parent = os.path.basename(os.path.dirname(os.path.abspath(path)))
    return parent or base
