"""diff: two documents or lock files; added/removed models, hashes, facts and findings; three output formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import lbom
from lbom._diff import render_diff
from tests.builders import write_gguf
from tests.gate.fixtures import SHARD_NAMES, flip_byte


def document(path: Path, out: Path) -> Path:
    out.write_text(lbom.render(lbom.scan(path), "json"), encoding="utf-8")
    return out


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    models = tmp_path / "models"
    models.mkdir()
    write_gguf(models / "a-Q4_K_M.gguf", extra={"general.license": "mit"})
    write_gguf(models / "b.gguf")
    old = document(models, tmp_path / "old.json")
    write_gguf(models / "a-Q4_K_M.gguf", file_type=7, extra={"general.license": "apache-2.0"})  # Q8_0 under a Q4 name
    (models / "b.gguf").unlink()
    write_gguf(models / "c.gguf")
    new = document(models, tmp_path / "new.json")
    return old, new


def test_identical_documents(tmp_path: Path) -> None:
    write_gguf(tmp_path / "m.gguf")
    a = document(tmp_path / "m.gguf", tmp_path / "a.json")
    b = document(tmp_path / "m.gguf", tmp_path / "b.json")
    result = lbom.diff(a, b)
    assert result.identical
    assert "no differences" in render_diff(result, "table")


def test_documents_differ(pair: tuple[Path, Path]) -> None:
    result = lbom.diff(*pair)
    assert not result.identical
    assert [Path(p).name for p in result.added_models] == ["c.gguf"]
    assert [Path(p).name for p in result.removed_models] == ["b.gguf"]
    (changed,) = result.changed_models
    assert ("quantization", "Q4_K_M", "Q8_0") in changed.facts
    assert ("license", "mit", "apache-2.0") in changed.facts
    assert [f.kind for f in changed.files] == ["changed"]
    assert "LBOM-NAME-001" in {f.rule_id for f in changed.findings_added}


def test_output_formats(pair: tuple[Path, Path]) -> None:
    result = lbom.diff(*pair)
    as_json = json.loads(render_diff(result, "json"))
    assert as_json["identical"] is False
    assert as_json["changed_models"][0]["facts"][0]["fact"] in ("quantization", "license")
    table = render_diff(result, "table")
    assert "quantization: Q4_K_M -> Q8_0" in table
    assert "+ finding LBOM-NAME-001" in table
    markdown = render_diff(result, "markdown")
    assert markdown.startswith("### l-bom diff: 1 added, 1 removed, 1 changed")
    assert "| changed | " in markdown and "| quantization | Q4\\_K\\_M | Q8\\_0 |" in markdown


def test_markdown_cells_are_escaped(tmp_path: Path) -> None:
    models = tmp_path / "m"
    models.mkdir()
    a = document(models, tmp_path / "a.json")
    write_gguf(models / "x|y`<b>.gguf")
    b = document(models, tmp_path / "b.json")
    markdown = render_diff(lbom.diff(a, b), "markdown")
    assert "x\\|y\\`\\<b\\>.gguf" in markdown


def test_lock_files_and_mixed_inputs(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    write_gguf(models / "m.gguf")
    old_lock = tmp_path / "old.lock"
    old_lock.write_text(lbom.lock(models).to_toml(), encoding="utf-8")
    flip_byte(models / "m.gguf")
    new_lock = tmp_path / "new.lock"
    new_lock.write_text(lbom.lock(models).to_toml(), encoding="utf-8")
    result = lbom.diff(old_lock, new_lock)
    (changed,) = result.changed_models
    assert [(f.kind, f.path) for f in changed.files] == [("changed", "m.gguf")]
    assert changed.findings_added == ()


def test_l_bom_0_2_document_without_files(tmp_path: Path) -> None:
    old = {
        "model_path": "m.gguf",
        "model_filename": "m.gguf",
        "file_size_bytes": 10,
        "sha256": "a" * 64,
        "format": "gguf",
        "quantization": "Q4_K_M",
        "warnings": [],
    }
    new = {**old, "sha256": "b" * 64}
    (tmp_path / "old.json").write_text(json.dumps(old))
    (tmp_path / "new.json").write_text(json.dumps([new]))
    (changed,) = lbom.diff(tmp_path / "old.json", tmp_path / "new.json").changed_models
    assert [(f.kind, f.old_sha256, f.new_sha256) for f in changed.files] == [("changed", "a" * 64, "b" * 64)]


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", "lock_version = 9\n"])
def test_bad_inputs_are_usage_errors(tmp_path: Path, text: str) -> None:
    (tmp_path / "a").write_text(text)
    with pytest.raises(lbom.Error) as info:
        lbom.diff(tmp_path / "a", tmp_path / "a")
    assert info.value.exit_code == 2


def test_a_lock_and_a_document_of_the_same_folder_compare_model_by_model(tmp_path: Path) -> None:
    """The lock's paths are relative to its root, the document's are as scanned; sidecars are only in the lock."""
    import os

    from tests.gate.fixtures import make_model_folder

    models = make_model_folder(tmp_path / "models")
    lock = tmp_path / "models.lock"
    lock.write_text(lbom.lock(models).to_toml(), encoding="utf-8")
    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        relative_doc = document(Path("models"), tmp_path / "relative.json")
    finally:
        os.chdir(here)
    absolute_doc = document(models, tmp_path / "absolute.json")
    for doc in (relative_doc, absolute_doc):
        assert lbom.diff(lock, doc).identical, render_diff(lbom.diff(lock, doc), "table")
    assert lbom.diff(relative_doc, absolute_doc).identical
    # A copy of the folder elsewhere compares equal to the original, and a change in it is found in its model.
    import shutil

    shutil.copytree(models, tmp_path / "copy")
    flip_byte(tmp_path / "copy" / "sharded" / SHARD_NAMES[1])
    result = lbom.diff(absolute_doc, document(tmp_path / "copy", tmp_path / "copy.json"))
    assert (result.added_models, result.removed_models) == ((), ())
    (changed,) = result.changed_models
    assert [(f.kind, f.path) for f in changed.files] == [("changed", f"sharded/{SHARD_NAMES[1]}")]
    # Against the lock too, and an edited sidecar shows up between two locks (both list sidecar digests).
    (changed,) = lbom.diff(lock, tmp_path / "copy.json").changed_models
    assert [f.path for f in changed.files] == [f"sharded/{SHARD_NAMES[1]}"]
    (tmp_path / "copy" / "sharded" / "README.md").write_text("---\nlicense: mit\n---\n# edited\n", encoding="utf-8")
    copy_lock = tmp_path / "copy.lock"
    copy_lock.write_text(lbom.lock(tmp_path / "copy").to_toml(), encoding="utf-8")
    (changed,) = lbom.diff(lock, copy_lock).changed_models
    assert sorted(f.path for f in changed.files) == ["sharded/README.md", f"sharded/{SHARD_NAMES[1]}"]


def test_a_document_of_several_roots_with_the_same_names_keeps_full_paths(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        write_gguf(tmp_path / name / "m.gguf")
    out = tmp_path / "both.json"
    out.write_text(lbom.render(lbom.scan([tmp_path / "a", tmp_path / "b"]), "json"), encoding="utf-8")
    result = lbom.diff(out, out)
    assert result.identical
    write_gguf(tmp_path / "b" / "m.gguf", extra={"general.license": "mit"})
    changed_doc = tmp_path / "changed.json"
    changed_doc.write_text(lbom.render(lbom.scan([tmp_path / "a", tmp_path / "b"]), "json"), encoding="utf-8")
    (changed,) = lbom.diff(out, changed_doc).changed_models
    assert changed.path == str(tmp_path / "b" / "m.gguf")
