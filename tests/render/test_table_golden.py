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
