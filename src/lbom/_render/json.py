"""The l-bom JSON document: the field names of L-BOM 0.2.0, plus what users of this tool need on top.

One object for a single scanned file, a list of objects for a directory. ``model_document`` is the one place
that maps a :class:`~lbom.model.ModelArtifact` to that shape; the GUI and MCP server reuse it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from lbom._render.interface import RenderOptions
from lbom.model import FileEntry, Finding, JsonValue, ModelArtifact, ScanResult

SBOM_VERSION = "1.0"
TOOL_NAME = "l-bom"


def warning_text(finding: Finding) -> str:
    """A finding as one line of the earlier tool's ``warnings`` list."""
    where = f" [{finding.location}]" if finding.location else ""
    return f"{finding.rule_id} ({finding.severity.value}): {finding.message}{where}"


def model_document(model: ModelArtifact, result: ScanResult) -> dict[str, JsonValue]:
    first = model.files[0] if model.files else None
    document: dict[str, JsonValue] = {
        # --- L-BOM 0.2.0 fields, same names and meaning ---
        "sbom_version": SBOM_VERSION,
        "generated_at": result.generated_at,
        "tool_name": TOOL_NAME,
        "tool_version": result.tool_version,
        "model_path": model.path,
        "model_filename": _filename(model.path),
        "file_size_bytes": model.total_size,
        "sha256": model.sha256,
        "format": model.format,
        "architecture": model.architecture,
        "parameter_count": model.parameter_count,
        "quantization": model.quantization,
        "dtype": model.dtype,
        "context_length": model.context_length,
        "vocab_size": model.vocab_size,
        "license": model.license,
        "base_model": model.base_model,
        "training_framework": model.training_framework,
        "metadata": dict(model.metadata),
        "warnings": [warning_text(f) for f in model.findings],
        # --- additions ---
        "model_name": model.name,
        "format_version": first.header.format_version if first and first.header else None,
        "tensor_count": model.tensor_count,
        "tensor_types": [stat.to_json() for stat in model.tensor_types],
        "license_name": model.license_name,
        "base_models": [ref.to_json() for ref in model.base_models],
        "size_label": model.size_label,
        "chat_templates": [
            {"name": t.name, "source": t.source, "sha256": t.sha256, "length": len(t.text)}
            for t in model.chat_templates
        ],
        "sidecars": _sidecars(model),
        "source": model.source.to_json() if model.source else None,
        "files": [
            {
                "path": f.path,
                "relative_path": f.relative_path,
                "size": f.size,
                "sha256": f.sha256,
                "digests": {d.algorithm: d.hex for d in f.digests},
                "format": f.format,
                "role": f.role,
                **({"bytes_fetched": f.bytes_fetched} if f.bytes_fetched is not None else {}),
                # A shard's own identity (its hub file path and the LFS digest the hub vouches for) when the
                # model's source names the repository as a whole.
                **({"source": f.source.to_json()} if f.source is not None and f.source != model.source else {}),
                "tensors": _tensors(f),
            }
            for f in model.files
        ],
        "findings": [f.to_json() for f in model.findings],
    }
    return document


def _tensors(entry: FileEntry) -> list[JsonValue]:
    """The tensors the file declares: name, storage type, shape, and where the data lies in the file."""
    if entry.header is None:
        return []
    return [
        {"name": t.name, "dtype": t.type_name, "shape": list(t.shape), "offset": t.offset, "nbytes": t.nbytes}
        for t in entry.header.tensors
    ]


def _filename(path: str) -> str:
    import os

    return os.path.basename(path.rstrip("/\\")) or path


def _sidecars(model: ModelArtifact) -> JsonValue:
    side = model.sidecars
    if side is None:
        return None
    return {
        "files": list(side.files),
        "architecture": side.architecture,
        "model_type": side.model_type,
        "context_length": side.context_length,
        "vocab_size": side.vocab_size,
        "dtype": side.dtype,
        "transformers_version": side.transformers_version,
        "quantization_config": dict(side.quantization_config) if side.quantization_config else None,
        "license": side.license,
        "license_name": side.license_name,
        "base_models": list(side.base_models),
        "tags": list(side.tags),
        "languages": list(side.languages),
        "pipeline_tag": side.pipeline_tag,
        "tokenizer_class": side.tokenizer_class,
    }


def scan_documents(result: ScanResult) -> Any:
    """The JSON value for a whole scan: one object for a single file, otherwise a list."""
    documents = [model_document(m, result) for m in result.models]
    if result.single_file and len(documents) == 1:
        return documents[0]
    return documents


def render(result: ScanResult, options: RenderOptions) -> str:
    return "".join(render_chunks(result, options))


def render_chunks(result: ScanResult, options: RenderOptions) -> Iterator[str]:
    """The same text as :func:`render`, one model at a time, so a scan of thousands of models streams out.

    A list document is ``json.dumps(documents, indent=2)``: each element is its own indented dump shifted two
    spaces right (JSON text never holds a raw newline inside a string, so shifting by lines is exact).
    """
    if result.single_file and len(result.models) == 1:
        yield _dumps(model_document(result.models[0], result)) + "\n"
        return
    if not result.models:
        yield "[]\n"
        return
    for index, model in enumerate(result.models):
        text = _dumps(model_document(model, result)).replace("\n", "\n  ")
        yield ("[\n  " if index == 0 else ",\n  ") + text
    yield "\n]\n"


def _dumps(value: object) -> str:
    return json.dumps(value, indent=2, sort_keys=False, ensure_ascii=False)
