"""Standard documents for real multi-file models built on disk: sharded safetensors and split GGUF."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import lbom
from tests.builders import write_sharded_safetensors, write_split_gguf
from tests.render.sbom_checks import load_spdx3, validate_cyclonedx, validate_spdx2


@pytest.fixture
def multi_file_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> lbom.ScanResult:
    shards = {
        "model-00001-of-00002.safetensors": {"a.weight": np.zeros((4, 8), np.float32)},
        "model-00002-of-00002.safetensors": {"b.weight": np.zeros((8, 2), np.float16)},
    }
    write_sharded_safetensors(tmp_path / "models" / "st", shards)
    write_split_gguf(tmp_path / "models" / "gg", "tiny", parts=3)
    # Same file names in another folder: ids must not collide.
    write_sharded_safetensors(tmp_path / "models" / "st-copy", shards)
    monkeypatch.chdir(tmp_path)
    return lbom.scan("models")


def test_multi_file_models_in_every_standard_format(multi_file_scan: lbom.ScanResult, tmp_path: Path) -> None:
    models = multi_file_scan.models
    assert len(models) == 3 and all(m.is_multi_file for m in models)
    bom = validate_cyclonedx(lbom.render(multi_file_scan, "cyclonedx"))
    for component in bom["components"]:
        assert "hashes" not in component
        files = component["components"]
        assert len(files) >= 3
        assert all(len(f["hashes"][0]["content"]) == 64 for f in files)
    file_refs = [f["bom-ref"] for c in bom["components"] for f in c["components"]]
    assert len(file_refs) == len(set(file_refs)) == sum(len(m.files) for m in models)
    for fmt, suffix in (("spdx", ".spdx"), ("spdx-json", ".spdx.json")):
        document = validate_spdx2(lbom.render(multi_file_scan, fmt), tmp_path, suffix)
        assert len(document.packages) == len(models) + sum(len(m.files) for m in models)
    load_spdx3(lbom.render(multi_file_scan, "spdx3"))


@pytest.mark.parametrize("fmt", ["cyclonedx", "spdx", "spdx-json", "spdx3"])
def test_every_committed_format_fixture_validates(fmt: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The fixtures of every readable format (tests/data/formats) give documents the official tools accept."""
    from tests.conftest import ROOT

    monkeypatch.chdir(ROOT)
    result = lbom.scan("tests/data/formats", options=lbom.ScanOptions(list_unknown=True, cache=False))
    assert len(result.models) >= 5
    text = lbom.render(result, fmt)
    if fmt == "cyclonedx":
        validate_cyclonedx(text)
    elif fmt == "spdx3":
        load_spdx3(text)
    else:
        validate_spdx2(text, tmp_path, ".spdx" if fmt == "spdx" else ".spdx.json")
