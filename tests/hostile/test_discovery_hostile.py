"""Discovery in hostile folders: FIFOs, symlink loops, dangling links, odd names. Never blocks, never raises."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

import lbom
from lbom.scan import R_SKIPPED
from tests.builders import write_gguf

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs and symlinks")


def test_fifo_symlink_loops_and_dangling_links_are_skipped(tmp_path: Path) -> None:
    write_gguf(tmp_path / "model.gguf")
    os.mkfifo(tmp_path / "pipe.gguf")  # opening it for reading would block forever
    (tmp_path / "loop_a").symlink_to(tmp_path / "loop_b")
    (tmp_path / "loop_b").symlink_to(tmp_path / "loop_a")
    (tmp_path / "dangling.gguf").symlink_to(tmp_path / "missing.gguf")
    (tmp_path / "self_dir").symlink_to(tmp_path)  # a directory symlink cycle
    (tmp_path / "link_to_fifo.gguf").symlink_to(tmp_path / "pipe.gguf")
    result = lbom.scan(str(tmp_path), hash=False)
    assert [m.files[0].relative_path for m in result.models] == ["model.gguf"]
    skipped = {os.path.basename(f.file or "") for f in result.findings if f.rule_id == R_SKIPPED}
    assert {"pipe.gguf", "loop_a", "loop_b", "dangling.gguf", "self_dir", "link_to_fifo.gguf"} <= skipped


def test_file_symlink_is_followed_to_a_regular_file(tmp_path: Path) -> None:
    real = write_gguf(tmp_path / "blob")
    (tmp_path / "snap").mkdir()
    (tmp_path / "snap" / "model.gguf").symlink_to(real)
    result = lbom.scan(str(tmp_path / "snap"), hash=False)
    assert [m.format for m in result.models] == ["gguf"]


def test_control_characters_and_undecodable_bytes_in_file_names(tmp_path: Path) -> None:
    write_gguf(tmp_path / "evil\x1b[31mred\x07.gguf")
    raw_name = os.fsencode(tmp_path) + b"/bad\xff\xfename.gguf"
    write_gguf(Path(os.fsdecode(raw_name)))
    result = lbom.scan(str(tmp_path), hash=False)
    assert len(result.models) == 2
    document = lbom.render(result, "json")
    json.loads(document)  # valid UTF-8 JSON, names escaped by the encoder
    assert "\x1b" not in document
    assert "bad\\\\xff\\\\xfename.gguf" in document
    table = lbom.render(result, "table")
    assert "\x1b" not in table and "\x07" not in table
    assert "\\x1b[31mred\\x07" in table


def test_unreadable_file_is_a_finding(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads everything")
    path = write_gguf(tmp_path / "locked.gguf")
    path.chmod(0)
    try:
        result = lbom.scan(str(tmp_path), hash=False)
    finally:
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert result.models == ()
    assert any("cannot read" in f.message for f in result.findings)


def test_walk_is_sorted_and_recursive(tmp_path: Path) -> None:
    for rel in ["b/z.gguf", "a/y.gguf", "a/sub/x.gguf", "c.gguf"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        write_gguf(tmp_path / rel)
    result = lbom.scan(str(tmp_path), hash=False)
    assert [m.files[0].relative_path for m in result.models] == ["a/sub/x.gguf", "a/y.gguf", "b/z.gguf", "c.gguf"]
