"""Locks pin the tokenizer and template files beside a model (role "tokenizer"), so a swapped, added or removed
tokenizer.json, merges.txt or chat_template.jinja fails verify even though no fact is read from them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import lbom
from lbom._diff import diff
from tests.gate.fixtures import make_model_folder, run_cli


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = make_model_folder(tmp_path / "models")
    sharded = root / "sharded"
    (sharded / "tokenizer.json").write_text(json.dumps({"model": {"type": "BPE", "vocab": {"a": 0}}}), "utf-8")
    (sharded / "merges.txt").write_text("#version: 0.2\na b\n", "utf-8")
    (sharded / "chat_template.jinja").write_text("{% for m in messages %}{{ m.content }}{% endfor %}", "utf-8")
    (root / "tokenizer.model").write_bytes(b"\x0a\x03abc")  # next to the GGUF
    return root


def test_tokenizer_files_are_pinned(lock_file: Path) -> None:
    files = lbom.read_lock(lock_file).files()
    for name in ("sharded/tokenizer.json", "sharded/merges.txt", "sharded/chat_template.jinja", "tokenizer.model"):
        assert files[name].role == "tokenizer", name
    assert files["sharded/config.json"].role == "sidecar"
    assert 'role = "tokenizer"' in lock_file.read_text()


def test_swapped_tokenizer_fails_verify(folder: Path, lock_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("verify", str(folder), "--lock", str(lock_file)) == 0
    capsys.readouterr()
    (folder / "sharded" / "tokenizer.json").write_text(json.dumps({"model": {"type": "BPE", "vocab": {"b": 0}}}))
    assert run_cli("verify", str(folder), "--lock", str(lock_file)) == 1
    assert "changed: sharded/tokenizer.json" in capsys.readouterr().out


def test_added_and_removed_tokenizer_files_fail_verify(folder: Path, lock_file: Path) -> None:
    (folder / "sharded" / "merges.txt").unlink()
    (folder / "sharded" / "special_tokens_map.json").write_text("{}", "utf-8")
    result = lbom.verify(folder, lock=lock_file)
    assert [c.path for c in result.of_kind("missing")] == ["sharded/merges.txt"]
    assert [c.path for c in result.of_kind("new")] == ["sharded/special_tokens_map.json"]


def test_two_locks_diff_a_tokenizer_change(folder: Path, lock_file: Path, tmp_path: Path) -> None:
    (folder / "sharded" / "chat_template.jinja").write_text("{{ 'hijacked' }}", "utf-8")
    after = tmp_path / "after.lock"
    assert run_cli("lock", str(folder), "-o", str(after)) == 0
    result = diff(lock_file, after)
    (model,) = result.changed_models
    assert [(f.path, f.kind) for f in model.files] == [("sharded/chat_template.jinja", "changed")]


def test_sha256sums_lists_unlisted_tokenizer_files_as_new(folder: Path, tmp_path: Path) -> None:
    pinned = lbom.lock(folder).files()
    sums = tmp_path / "SHA256SUMS"
    sums.write_text("".join(f"{f.sha256}  {p}\n" for p, f in pinned.items() if p != "sharded/merges.txt"), "utf-8")
    result = lbom.verify(folder, sha256sums=sums)
    assert [c.path for c in result.of_kind("new")] == ["sharded/merges.txt"]


def test_the_documented_names() -> None:
    from lbom._lock import TOKENIZER_FILES

    assert {"tokenizer.json", "tokenizer.model", "chat_template.jinja", "preprocessor_config.json"} <= set(
        TOKENIZER_FILES
    )


def test_lock_against_a_scan_document_does_not_call_tokenizer_files_removed(
    folder: Path, lock_file: Path, tmp_path: Path
) -> None:
    document = tmp_path / "scan.json"
    assert run_cli("scan", str(folder), "-o", str(document)) == 0
    result = diff(lock_file, document)
    assert result.identical, result.to_json()


def test_confined_scans_do_not_open_tokenizer_files_outside_their_roots(folder: Path, tmp_path: Path) -> None:
    from lbom._lock import lock_from_scan
    from lbom.scan import ScanOptions, scan

    secret = tmp_path / "secret.json"
    secret.write_text("{}", "utf-8")
    (folder / "sharded" / "vocab.json").symlink_to(secret)
    confined = scan(str(folder), options=ScanOptions(confine_to=(str(folder),)))
    assert "sharded/vocab.json" not in lock_from_scan(confined, str(folder)).files()
    assert "sharded/vocab.json" in lock_from_scan(scan(str(folder)), str(folder)).files()
