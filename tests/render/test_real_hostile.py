"""Standard documents for real files on disk whose metadata and names are crafted to break ids and formats."""

from __future__ import annotations

from pathlib import Path

import pytest

import lbom
from tests.builders import write_gguf
from tests.render.sbom_checks import load_spdx3, validate_cyclonedx, validate_spdx2

EVIL = "x\n---\n</text>\x1b[31m | [a](javascript:alert(1)) #h\u202e"


@pytest.fixture
def hostile_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> lbom.ScanResult:
    folder = tmp_path / "in"
    (folder / "a b").mkdir(parents=True)
    (folder / "a-b").mkdir()
    extra = {
        "general.name": EVIL,
        "general.license": "Custom\nLicense </text>",
        "general.organization": "Org </text>\n",
        "general.base_model.count": 1,
        "general.base_model.0.name": EVIL,
        "general.base_model.0.repo_url": "javascript:alert(1)",
    }
    write_gguf(folder / "a b" / "model.gguf", extra=extra)
    write_gguf(folder / "a-b" / "model.gguf", extra={"general.license": "apache-2.0"})
    truncated = (folder / "a b" / "model.gguf").read_bytes()[:200]
    (folder / "trunc\u00e9 \u202e.gguf").write_bytes(truncated)
    monkeypatch.chdir(tmp_path)
    return lbom.scan("in")


@pytest.mark.parametrize("fmt", ["cyclonedx", "spdx", "spdx-json", "spdx3"])
def test_hostile_real_files_give_valid_documents(hostile_scan: lbom.ScanResult, fmt: str, tmp_path: Path) -> None:
    assert len(hostile_scan.models) == 3
    text = lbom.render(hostile_scan, fmt)
    if fmt == "cyclonedx":
        bom = validate_cyclonedx(text)
        assert len({c["bom-ref"] for c in bom["components"]}) == 3
        ancestors = [a for c in bom["components"] for a in c.get("pedigree", {}).get("ancestors", [])]
        assert ancestors and all("externalReferences" not in a for a in ancestors)  # javascript: is no URL
    elif fmt == "spdx3":
        load_spdx3(text)
        assert '"software_downloadLocation": "javascript' not in text
    else:
        document = validate_spdx2(text, tmp_path, ".spdx" if fmt == "spdx" else ".spdx.json")
        assert len({p.spdx_id for p in document.packages}) == len(document.packages)
        assert all(not str(p.download_location).startswith("javascript") for p in document.packages)
    if fmt == "spdx":
        assert "\x1b" not in text and "\u202e" not in text


def test_hostile_real_file_hf_readme(hostile_scan: lbom.ScanResult) -> None:
    import dataclasses

    import yaml

    one = dataclasses.replace(hostile_scan, models=hostile_scan.models[:1])
    text = lbom.render(one, "hf-readme")
    head, body = text[4:].split("\n---\n", 1)
    front = yaml.safe_load(head)
    assert set(front) <= {"title", "short_description", "sdk", "app_file", "license", "license_name", "tags"}
    assert "\x1b" not in text and "\u202e" not in text
    assert "](" not in body
