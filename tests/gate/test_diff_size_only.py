"""diff against a document without digests (scan --no-hash): sizes are still compared, and every output says that
the contents were not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import lbom
from lbom._diff import render_diff
from tests.gate.fixtures import flip_byte, run_cli

GGUF = "tiny-Q4_K_M.gguf"


def no_hash_scan(folder: Path, out: Path) -> Path:
    assert run_cli("scan", str(folder), "--no-hash", "-o", str(out)) == 0
    return out


def test_lock_vs_no_hash_scan_says_size_only(
    folder: Path, lock_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flip_byte(folder / GGUF)  # same size, other bytes: invisible without digests
    scan_json = no_hash_scan(folder, tmp_path / "scan.json")
    capsys.readouterr()
    assert run_cli("diff", str(lock_file), str(scan_json)) == 0
    captured = capsys.readouterr()
    note = f"5 files compared by size only: NEW ({scan_json}) has no SHA-256 (scanned with --no-hash)"
    assert captured.out.splitlines() == [f"no differences between {lock_file} and {scan_json}", note]
    assert captured.err == f"l-bom: warning: {note}\n"
    result = lbom.diff(lock_file, scan_json)
    assert result.identical
    shards = [f"sharded/model-0000{i}-of-00003.safetensors" for i in (1, 2, 3)]
    assert result.size_only == (*shards, "sharded/model.safetensors.index.json", GGUF)
    assert result.size_only_sides == ("new",)
    as_json = json.loads(render_diff(result, "json"))
    assert as_json["compared_by_size_only"] == list(result.size_only)
    assert as_json["size_only_note"] == note
    markdown = render_diff(result, "markdown")
    assert "_Note: 5 files compared by size only: NEW (" in markdown
    assert markdown.rstrip().endswith("has no SHA-256 (scanned with --no-hash)._")


def test_old_side_without_digests_is_named(folder: Path, lock_file: Path, tmp_path: Path) -> None:
    scan_json = no_hash_scan(folder, tmp_path / "scan.json")
    result = lbom.diff(scan_json, lock_file)
    assert result.size_only_sides == ("old",)
    assert result.size_only_note is not None and result.size_only_note.startswith("5 files compared by size only: OLD")
    both = lbom.diff(scan_json, scan_json)
    assert (
        both.size_only_note is not None
        and " and NEW " in both.size_only_note
        and "have no SHA-256" in both.size_only_note
    )


def test_a_size_change_is_still_a_difference_with_the_note(folder: Path, lock_file: Path, tmp_path: Path) -> None:
    with open(folder / GGUF, "ab") as handle:
        handle.write(b"\0")
    scan_json = no_hash_scan(folder, tmp_path / "scan.json")
    assert run_cli("diff", str(lock_file), str(scan_json)) == 1
    result = lbom.diff(lock_file, scan_json)
    assert [f.path for m in result.changed_models for f in m.files] == [GGUF]
    assert "compared by size only" in render_diff(result, "table").splitlines()[-1]


def test_hashed_on_both_sides_has_no_note(
    folder: Path, lock_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scan_json = tmp_path / "hashed.json"
    assert run_cli("scan", str(folder), "-o", str(scan_json)) == 0
    capsys.readouterr()
    assert run_cli("diff", str(lock_file), str(scan_json)) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out == f"no differences between {lock_file} and {scan_json}\n"
    result = lbom.diff(lock_file, scan_json)
    assert result.size_only == () and result.size_only_note is None
