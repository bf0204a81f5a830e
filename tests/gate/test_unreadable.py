"""Files that exist but cannot be read: lock refuses to leave them out (exit 3, nothing written); verify calls them
``unreadable`` with the reason, not ``missing``. (Tests run as root, so unreadability is simulated by
monkeypatching the open, or by putting a folder or a FIFO where the file was.)"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

import lbom
import lbom._read_pipeline
from tests.gate.fixtures import run_cli

GGUF = "tiny-Q4_K_M.gguf"
SHARD = "sharded/model-00002-of-00003.safetensors"


@pytest.fixture
def deny_gguf(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening the GGUF fails with EACCES, as for a file without read permission."""
    real = lbom._read_pipeline.LocalFileSource

    def source(path: str, *args: Any, **kwargs: Any) -> Any:
        if os.path.basename(path) == GGUF:
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(lbom._read_pipeline, "LocalFileSource", source)


def test_lock_refuses_to_leave_out_an_unreadable_file(
    folder: Path, tmp_path: Path, deny_gguf: None, capsys: pytest.CaptureFixture[str]
) -> None:
    lock_file = tmp_path / "models.lock"
    assert run_cli("lock", str(folder), "-o", str(lock_file)) == 3
    assert not lock_file.exists()
    err = capsys.readouterr().err
    assert f"l-bom: warning: {folder / GGUF}: cannot read: permission denied\n" in err
    assert "nothing was locked" in err
    from lbom._lock import UnreadableFiles

    with pytest.raises(UnreadableFiles) as info:
        lbom.lock(folder)
    assert [f.file for f in info.value.findings] == [str(folder / GGUF)]


def test_verify_says_unreadable_with_the_reason(
    folder: Path, tmp_path: Path, request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]
) -> None:
    lock_file = tmp_path / "models.lock"
    lock_file.write_text(lbom.lock(folder).to_toml(), encoding="utf-8")
    request.getfixturevalue("deny_gguf")
    assert run_cli("verify", str(folder), "--lock", str(lock_file)) == 1
    out = capsys.readouterr().out
    assert f"unreadable: {GGUF} (cannot read: permission denied)" in out
    assert "missing:" not in out


def test_verify_a_folder_or_fifo_in_place_of_a_file(folder: Path, tmp_path: Path) -> None:
    lock_file = tmp_path / "models.lock"
    lock_file.write_text(lbom.lock(folder).to_toml(), encoding="utf-8")
    (folder / SHARD).unlink()
    (folder / SHARD).mkdir()
    (folder / GGUF).unlink()
    os.mkfifo(folder / GGUF)
    result = lbom.verify(folder, lock=lock_file)
    lines = result.lines()
    assert f"unreadable: {SHARD} (is a directory)" in lines
    assert f"unreadable: {GGUF} (not a regular file (FIFO, device or socket); not opened)" in lines
    assert not result.of_kind("missing")
    kinds = {c.path: (c.kind, c.reason) for c in result.file_changes}
    assert kinds[SHARD] == ("unreadable", "is a directory")
    assert result.to_json()["file_changes"][0]["reason"]  # type: ignore[index,call-overload]


def test_verify_still_says_missing_for_a_file_that_is_gone(folder: Path, tmp_path: Path) -> None:
    lock_file = tmp_path / "models.lock"
    lock_file.write_text(lbom.lock(folder).to_toml(), encoding="utf-8")
    (folder / SHARD).unlink()
    assert f"missing: {SHARD}" in lbom.verify(folder, lock=lock_file).lines()


def test_verify_a_pinned_file_that_is_no_longer_a_model_is_changed(folder: Path, tmp_path: Path) -> None:
    lock_file = tmp_path / "models.lock"
    lock_file.write_text(lbom.lock(folder).to_toml(), encoding="utf-8")
    (folder / SHARD).write_bytes(b"not a model any more")
    result = lbom.verify(folder, lock=lock_file)
    assert [c.path for c in result.of_kind("changed")] == [SHARD], result.lines()
    assert not result.of_kind("missing")


def test_sha256sums_folder_in_place_of_a_file(folder: Path, tmp_path: Path) -> None:
    sums = tmp_path / "SHA256SUMS"
    sums.write_text(f"{'0' * 64}  {GGUF}\n", encoding="utf-8")
    (folder / GGUF).unlink()
    (folder / GGUF).mkdir()
    result = lbom.verify(folder, sha256sums=sums)
    assert [(c.kind, c.path, c.reason) for c in result.of_kind("unreadable")] == [
        ("unreadable", GGUF, "is a directory")
    ]
    shutil.rmtree(folder / GGUF)
    assert [c.path for c in lbom.verify(folder, sha256sums=sums).of_kind("missing")] == [GGUF]


@pytest.mark.parametrize(
    ("damage", "summary"),
    [
        ("none", "OK: 1 file matches"),
        ("flip", "FAILED: 1 file difference and 0 fact differences from"),
    ],
)
def test_verify_summary_is_plural_aware(
    tmp_path: Path, damage: str, summary: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.builders import write_gguf

    folder = tmp_path / "one"
    folder.mkdir()
    write_gguf(folder / "m.gguf")
    lock_file = tmp_path / "one.lock"
    assert run_cli("lock", str(folder), "-o", str(lock_file)) == 0
    if damage == "flip":
        data = bytearray((folder / "m.gguf").read_bytes())
        data[-1] ^= 1
        (folder / "m.gguf").write_bytes(bytes(data))
    run_cli("verify", str(folder), "--lock", str(lock_file))
    out = capsys.readouterr().out
    assert summary in out
    if damage == "flip":
        assert "(1 file checked)" in out


def test_verify_summary_counts_several(folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lock_file = tmp_path / "models.lock"
    lock_file.write_text(lbom.lock(folder).to_toml(), encoding="utf-8")
    (folder / SHARD).unlink()
    (folder / "sharded" / "model-00003-of-00003.safetensors").unlink()
    assert run_cli("verify", str(folder), "--lock", str(lock_file)) == 1
    assert "FAILED: 2 file differences and 1 fact difference from" in capsys.readouterr().out
