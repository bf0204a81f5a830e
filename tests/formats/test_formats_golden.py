"""Every format l-bom reads, in every output format it writes: goldens over the committed fixtures.

tests/data/formats/ is made by tests/data/make_format_fixtures.py (deterministic bytes). A new output format
is covered as soon as it joins OutputFormat; a new field shows up here as a golden diff to review.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

import lbom
from lbom._render import OutputFormat, RenderOptions
from lbom.model import ScanResult, Severity
from tests.conftest import ROOT

FIXTURES = "tests/data/formats"
SUFFIX = {
    OutputFormat.JSON: "json",
    OutputFormat.TABLE: "table.txt",
    OutputFormat.SPDX: "spdx",
    OutputFormat.HF_README: "hf-readme.md",
}


@pytest.fixture
def formats_scan(monkeypatch: pytest.MonkeyPatch) -> ScanResult:
    monkeypatch.chdir(ROOT)
    return lbom.scan(FIXTURES, options=lbom.ScanOptions(list_unknown=True, cache=False))


SINGLE_MODEL_FORMATS = {OutputFormat.HF_README}


@pytest.mark.parametrize("fmt", [f for f in OutputFormat if f not in SINGLE_MODEL_FORMATS], ids=lambda f: f.value)
def test_every_output_format_golden(
    fmt: OutputFormat, formats_scan: ScanResult, golden: Callable[[str, str], None]
) -> None:
    text = lbom.render(formats_scan, fmt, RenderOptions(width=200))
    golden(f"formats.{SUFFIX.get(fmt, f'{fmt.value}.json')}", text)


@pytest.mark.parametrize("fmt", sorted(SINGLE_MODEL_FORMATS), ids=lambda f: f.value)
@pytest.mark.parametrize("target", ["sharded", "split", "pytorch_model.bin"])
def test_single_model_formats_golden(
    fmt: OutputFormat, target: str, monkeypatch: pytest.MonkeyPatch, golden: Callable[[str, str], None]
) -> None:
    monkeypatch.chdir(ROOT)
    result = lbom.scan(f"{FIXTURES}/{target}", options=lbom.ScanOptions(cache=False))
    text = lbom.render(result, fmt, RenderOptions(width=200))
    golden(f"formats-{target.replace('.', '-')}.{SUFFIX.get(fmt, fmt.value)}", text)


def test_formats_scan_content(formats_scan: ScanResult) -> None:
    by_file = {Path(m.path).name: m for m in formats_scan.models}
    assert sorted(by_file) == [
        "arrays.npz",
        "classifier.keras",
        "embeddings.npy",
        "evil.pkl",
        "model.onnx",
        "model.safetensors",
        "model.safetensors.index.json",
        "pytorch_model.bin",
        "tiny-00001-of-00002.gguf",
    ]
    assert by_file["pytorch_model.bin"].parameter_count == 32 + 8 + 16
    assert by_file["model.safetensors.index.json"].parameter_count == 48
    assert len(by_file["tiny-00001-of-00002.gguf"].files) == 2
    assert any(f.severity is Severity.CRITICAL for f in by_file["evil.pkl"].findings)
    assert [f.file for f in formats_scan.findings] == [f"{FIXTURES}/notes.txt"]


def test_json_multi_file_shape(formats_scan: ScanResult) -> None:
    documents = json.loads(lbom.render(formats_scan, "json"))
    sharded = next(d for d in documents if d["model_filename"] == "model.safetensors.index.json")
    assert sharded["sha256"] is None
    assert [f["role"] for f in sharded["files"]] == ["shard", "shard", "index"]
    assert all(len(f["sha256"]) == 64 for f in sharded["files"])
    assert sharded["file_size_bytes"] == sum(f["size"] for f in sharded["files"])
