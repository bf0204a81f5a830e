"""License checks: none stated, and sources that disagree (after normalisation)."""

from __future__ import annotations

from pathlib import Path

import lbom
from lbom._checks import licenses
from tests.builders import write_gguf


def card(directory: Path, license_id: str) -> None:
    (directory / "README.md").write_text(f"---\nlicense: {license_id}\n---\n# model\n", encoding="utf-8")


def findings(path: Path) -> dict[str, lbom.Finding]:
    (model,) = lbom.scan(path, hash=False).models
    return {f.rule_id: f for f in model.findings}


def test_no_license_anywhere(tmp_path: Path) -> None:
    write_gguf(tmp_path / "m.gguf")
    found = findings(tmp_path)
    assert found[licenses.R_NO_LICENSE].severity == lbom.Severity.LOW
    assert licenses.R_LICENSE_DIFFERS not in found


def test_license_in_header_or_card_is_enough(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    write_gguf(tmp_path / "a" / "m.gguf", extra={"general.license": "mit"})
    write_gguf(tmp_path / "b" / "m.gguf")
    card(tmp_path / "b", "apache-2.0")
    assert licenses.R_NO_LICENSE not in findings(tmp_path / "a")
    assert licenses.R_NO_LICENSE not in findings(tmp_path / "b")


def test_unknown_counts_as_no_license(tmp_path: Path) -> None:
    write_gguf(tmp_path / "m.gguf", extra={"general.license": "unknown"})
    assert licenses.R_NO_LICENSE in findings(tmp_path)


def test_header_and_card_disagree(tmp_path: Path) -> None:
    write_gguf(tmp_path / "m.gguf", extra={"general.license": "apache-2.0"})
    card(tmp_path, "cc-by-nc-4.0")
    found = findings(tmp_path)
    assert found[licenses.R_LICENSE_DIFFERS].severity == lbom.Severity.MEDIUM
    assert "'apache-2.0'" in found[licenses.R_LICENSE_DIFFERS].message
    assert "README.md license: 'cc-by-nc-4.0'" in found[licenses.R_LICENSE_DIFFERS].message
    # Reported once, by the license check, not again as a generic sidecar disagreement.
    assert "LBOM-SIDECAR-002" not in found


def test_spellings_of_the_same_license_agree(tmp_path: Path) -> None:
    write_gguf(tmp_path / "m.gguf", extra={"general.license": "Apache-2.0"})
    card(tmp_path, "apache-2.0")
    found = findings(tmp_path)
    assert licenses.R_LICENSE_DIFFERS not in found
    assert licenses.R_NO_LICENSE not in found
