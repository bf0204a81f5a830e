"""The table for the example models, byte for byte at a fixed width, and terminal safety."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import lbom
from lbom._render.interface import RenderOptions
from tests.builders import kv_string, raw_gguf


def test_examples_table_golden(examples_cwd: Path, golden: Callable[[str, str], None]) -> None:
    result = lbom.scan("examples/models")
    golden("examples.table.txt", lbom.render(result, "table", RenderOptions(width=160)))


def test_table_escapes_control_characters_from_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # a short relative path, so the name is not folded across lines
    kvs = [
        kv_string("general.architecture", "llama\x1b]0;owned\x07"),
        kv_string("general.license", "mit\r\nFAKE LINE"),
        kv_string("general.name", "[bold red]markup[/] \u202eevil"),
    ]
    path = Path("name\x1b[2J.gguf")
    path.write_bytes(raw_gguf(kvs))
    text = lbom.render(lbom.scan(str(path), hash=False), "table", RenderOptions(width=200))
    assert "\x1b" not in text and "\x07" not in text and "\r" not in text and "\u202e" not in text
    assert "llama\\x1b]0;owned\\x07" in text
    assert "mit\\x0d\\nFAKE LINE" in text
    assert "\\x1b[2J" in text


@pytest.mark.parametrize(("width", "shown", "dropped"), [(80, "Params", "SHA-256"), (100, "Architecture", "Vocab")])
def test_narrow_tables_drop_columns_instead_of_folding_headers(
    examples_cwd: Path, width: int, shown: str, dropped: str
) -> None:
    text = lbom.render(lbom.scan("examples/models", hash=False), "table", RenderOptions(width=width))
    assert all(len(line) <= width for line in text.splitlines())
    header = next(line for line in text.splitlines() if "Model" in line)
    assert shown in header and dropped not in text
    assert "Findings" in header and "License" in header  # what matters most stays


def test_table_cli_follows_columns(
    examples_cwd: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from lbom._cli import main

    monkeypatch.setenv("COLUMNS", "80")
    with pytest.raises(SystemExit) as info:
        main(["scan", "examples/models", "--format", "table", "--no-hash"])
    assert info.value.code in (0, None)
    assert max(len(line) for line in capsys.readouterr().out.splitlines()) <= 80


def test_informational_findings_are_counted_not_hidden(tmp_path: Path) -> None:
    (tmp_path / "m.gguf").write_bytes(raw_gguf([kv_string("general.architecture", "llama")]))
    (tmp_path / "elsewhere").symlink_to(tmp_path.parent, target_is_directory=True)  # skipped: an INFO finding
    result = lbom.scan(str(tmp_path), hash=False)
    info = [f for f in result.all_findings if f.severity is lbom.Severity.INFO]
    assert info
    text = lbom.render(result, "table", RenderOptions(width=160))
    assert f"plus {len(info)} informational not listed" in text
