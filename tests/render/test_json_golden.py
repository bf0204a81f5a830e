"""The JSON document for the example models, byte for byte."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import lbom

LBOM_020_FIELDS = [
    "sbom_version",
    "generated_at",
    "tool_name",
    "tool_version",
    "model_path",
    "model_filename",
    "file_size_bytes",
    "sha256",
    "format",
    "architecture",
    "parameter_count",
    "quantization",
    "dtype",
    "context_length",
    "vocab_size",
    "license",
    "base_model",
    "training_framework",
    "metadata",
    "warnings",
]


def test_examples_json_golden(examples_cwd: Path, golden: Callable[[str, str], None]) -> None:
    result = lbom.scan("examples/models")
    golden("examples.json", lbom.render(result, "json"))


def test_single_file_is_one_object_with_lbom_020_fields(examples_cwd: Path) -> None:
    result = lbom.scan("examples/models/tinyllama-q4_k_m.gguf")
    document = json.loads(lbom.render(result, "json"))
    assert isinstance(document, dict)
    assert list(document)[: len(LBOM_020_FIELDS)] == LBOM_020_FIELDS
    assert document["quantization"] == "Q4_K_M"
    assert document["tool_version"] == lbom.__version__
