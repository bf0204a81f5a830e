"""Broken stores: each problem is a warning finding naming the path, and the scan goes on."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import lbom
from tests.stores.fake_stores import add_hf_file, add_ollama_model, sha256, tiny_gguf, tree_state

COMMIT = "f" * 40


def findings_for(result: lbom.ScanResult, path: Path) -> list[lbom.Finding]:
    return [f for f in result.findings if f.file == str(path)]


def test_dangling_snapshot_symlink(stores_env: dict[str, Path]) -> None:
    add_hf_file(stores_env["hf"], "org/ok", COMMIT, "ok.gguf", tiny_gguf("ok"))
    link = add_hf_file(stores_env["hf"], "org/gone", COMMIT, "gone.gguf", tiny_gguf("gone"))
    link.resolve().unlink()
    result = lbom.scan(str(stores_env["hf"]))
    assert [m.source.repo_id for m in result.models if m.source] == ["org/ok"]
    assert findings_for(result, link)


def test_incomplete_hf_blob_is_reported_not_read(stores_env: dict[str, Path]) -> None:
    link = add_hf_file(stores_env["hf"], "org/ok", COMMIT, "ok.gguf", tiny_gguf("ok"))
    partial = link.resolve().parent / (sha256(b"x") + ".incomplete")
    partial.write_bytes(tiny_gguf("half")[:20])
    result = lbom.scan(str(stores_env["hf"]))
    assert len(result.models) == 1
    (finding,) = findings_for(result, partial)
    assert "half-downloaded" in finding.message


def test_partial_ollama_blob(stores_env: dict[str, Path]) -> None:
    root = stores_env["ollama"]
    add_ollama_model(root, "ok", "latest", tiny_gguf("ok"))
    partial = root / "blobs" / f"sha256-{sha256(b'y')}-partial-0"
    partial.write_bytes(b"GGUF")
    result = lbom.scan(str(root))
    assert len(result.models) == 1
    assert "half-downloaded" in findings_for(result, partial)[0].message


def test_manifest_not_json_and_missing_blob(stores_env: dict[str, Path]) -> None:
    root = stores_env["ollama"]
    add_ollama_model(root, "ok", "latest", tiny_gguf("ok"))
    broken = add_ollama_model(root, "broken", "latest", tiny_gguf("broken"))
    broken.write_text("{not json")
    missing = add_ollama_model(root, "missing", "latest", tiny_gguf("missing"))
    blob = root / "blobs" / f"sha256-{sha256(tiny_gguf('missing'))}"
    blob.unlink()
    result = lbom.scan(str(root))
    # The broken manifest's weights blob is still scanned, without a name (nothing valid names it).
    named = {m.source.repo_id: m.path for m in result.models if m.source}
    assert named == {"ok": named["ok"], None: str(root / "blobs" / f"sha256-{sha256(tiny_gguf('broken'))}")}
    assert "not JSON" in findings_for(result, broken)[0].message
    (gone,) = findings_for(result, blob)
    assert gone.location == str(missing)
    assert "missing blob" in gone.message


def test_manifest_with_wrong_size_is_flagged(stores_env: dict[str, Path]) -> None:
    root = stores_env["ollama"]
    size = len(tiny_gguf("m"))
    manifest = add_ollama_model(root, "m", "latest", tiny_gguf("m"))
    manifest.write_text(manifest.read_text().replace(f'"size": {size}', f'"size": {size + 1}'))
    result = lbom.scan(str(root))
    assert len(result.models) == 1
    assert any(f"manifest says {size + 1}" in f.message for f in result.findings)


def test_unreadable_store_folder(stores_env: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    root = stores_env["ollama"]
    add_ollama_model(root, "ok", "latest", tiny_gguf("ok"))
    add_ollama_model(root, "locked", "latest", tiny_gguf("locked"), namespace="private")
    locked = str(root / "manifests" / "registry.ollama.ai" / "private")
    real_scandir = os.scandir

    def scandir(path: str) -> object:  # the tests run as root, where chmod 000 does not lock anything
        if os.fspath(path) == locked:
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = lbom.scan(str(root))
    assert "ok" in [m.source.repo_id for m in result.models if m.source]
    assert [f for f in result.findings if f.file == locked]
    summary = lbom.list_stores()
    (ollama,) = [s for s in summary if s.location.kind == "ollama"]
    assert [f.file for f in ollama.findings] == [locked]


def test_scan_never_writes_into_stores(stores_env: dict[str, Path]) -> None:
    add_hf_file(stores_env["hf"], "org/ok", COMMIT, "ok.gguf", tiny_gguf("ok"))
    add_ollama_model(stores_env["ollama"], "ok", "latest", tiny_gguf("o"))
    before = {**tree_state(stores_env["hf"]), **tree_state(stores_env["ollama"])}
    lbom.scan([str(stores_env["hf"]), str(stores_env["ollama"])])
    lbom.list_stores()
    assert before == {**tree_state(stores_env["hf"]), **tree_state(stores_env["ollama"])}


def test_hostile_manifests_are_findings(stores_env: dict[str, Path]) -> None:
    root = stores_env["ollama"]
    add_ollama_model(root, "ok", "latest", tiny_gguf("ok"))
    deep = root / "manifests" / "registry.ollama.ai" / "library" / "deep" / "latest"
    deep.parent.mkdir(parents=True)
    deep.write_text("[" * 100_000 + "]" * 100_000)
    huge = root / "manifests" / "registry.ollama.ai" / "library" / "huge" / "latest"
    huge.parent.mkdir(parents=True)
    huge.write_bytes(b" " * (2 * 1024 * 1024))
    bad_digest = add_ollama_model(root, "bad", "latest", tiny_gguf("bad"))
    bad_digest.write_text(bad_digest.read_text().replace("sha256:", "sha256:../../", 1))
    result = lbom.scan(str(root))
    assert "ok" in [m.source.repo_id for m in result.models if m.source]
    messages = {f.file: f.message for f in result.findings if f.rule_id == "LBOM-STORE-003"}
    assert "not JSON" in messages[str(deep)] or "no 'layers'" in messages[str(deep)]
    assert "larger than" in messages[str(huge)]
    assert "no valid mediaType/digest" in messages[str(bad_digest)]


def test_stores_counts_only_ollama_models_that_could_run(stores_env: dict[str, Path]) -> None:
    root = stores_env["ollama"]
    add_ollama_model(root, "good", "latest", tiny_gguf("good"))
    broken = root / "manifests" / "registry.ollama.ai" / "library" / "broken" / "latest"
    broken.parent.mkdir(parents=True)
    broken.write_text("{not json")
    orphan = add_ollama_model(root, "orphan", "latest", tiny_gguf("orphan"))
    for layer in json.loads(orphan.read_text())["layers"]:
        (root / "blobs" / layer["digest"].replace(":", "-")).unlink()  # weights deleted under the manifest
    (ollama,) = [s for s in lbom.list_stores() if s.location.kind == "ollama"]
    assert ollama.model_count == 1
    assert {Path(f.file or "").name for f in ollama.findings} >= {"latest"}
    assert any("not JSON" in f.message for f in ollama.findings)
