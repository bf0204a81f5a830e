"""A file named like a model that no reader recognises (an empty model.gguf from an interrupted download) is a
finding in a folder scan, not silently skipped; scanned alone it is an error line and exit 3."""

from __future__ import annotations

from pathlib import Path

import pytest

import lbom
from lbom._cli import main
from lbom.model import Severity
from tests.builders import write_gguf


def run(*args: str) -> int:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    code = info.value.code
    return code if isinstance(code, int) else 0


def test_empty_model_named_file_in_a_folder_is_a_finding(tmp_path: Path) -> None:
    write_gguf(tmp_path / "good.gguf")
    (tmp_path / "model.gguf").write_bytes(b"")
    (tmp_path / "weights.safetensors").write_bytes(b"<html>not found</html>")
    (tmp_path / "notes.txt").write_text("not a model, not named like one")
    result = lbom.scan(tmp_path, options=lbom.ScanOptions(hash=False, cache=False))
    assert [m.path for m in result.models] == [str(tmp_path / "good.gguf")]
    by_file = {f.file: f for f in result.findings if f.rule_id == "LBOM-SCAN-003"}
    assert set(by_file) == {str(tmp_path / "model.gguf"), str(tmp_path / "weights.safetensors")}
    assert "empty file (0 bytes)" in by_file[str(tmp_path / "model.gguf")].message
    assert all(f.severity == Severity.MEDIUM for f in by_file.values())


def test_empty_model_file_alone_is_an_error_line_and_exit_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "model.gguf"
    empty.write_bytes(b"")
    assert run("scan", "--no-cache", str(empty)) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"l-bom: error: {empty}: named like a model (.gguf) but not one: empty file (0 bytes)"]
