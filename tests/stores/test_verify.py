"""Free verification: a content-addressed blob that does not hash to its name is a critical finding, and
``l-bom verify`` exits 1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import lbom
from lbom._checks.content_address import R_CONTENT_ADDRESS_MISMATCH
from tests.stores.fake_stores import (
    OLLAMA_TEMPLATE,
    add_hf_file,
    add_ollama_model,
    run_cli,
    sha256,
    tiny_gguf,
    tree_state,
)

COMMIT = "c" * 40


def flip_byte(path: Path, offset: int = -1) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def build(stores_env: dict[str, Path]) -> tuple[Path, Path]:
    hf_link = add_hf_file(stores_env["hf"], "org/name", COMMIT, "model.gguf", tiny_gguf("hf"))
    add_hf_file(stores_env["hf"], "org/name", COMMIT, "config.json", b'{"model_type": "llama"}', lfs=False)
    add_ollama_model(stores_env["ollama"], "m", "latest", tiny_gguf("ol"), {OLLAMA_TEMPLATE: b"{{ .Prompt }}"})
    return hf_link, stores_env["ollama"]


def test_clean_stores_verify(stores_env: dict[str, Path]) -> None:
    build(stores_env)
    report = lbom.verify_store_blobs()
    # HF: one LFS blob (sha256) and one small file (git blob sha1); Ollama: model, template and config blobs.
    assert (report.checked, report.matched, report.mismatched, report.skipped) == (5, 5, 0, 0)
    code, out, err = run_cli("verify")
    assert code == 0
    assert "5 blobs checked: 5 matched, 0 mismatched, 0 skipped" in out
    assert str(stores_env["hf"]) in err and str(stores_env["ollama"]) in err


def test_flipped_byte_in_hf_blob(stores_env: dict[str, Path]) -> None:
    hf_link, _ = build(stores_env)
    blob = hf_link.resolve()
    flip_byte(blob)
    (model,) = lbom.scan(str(stores_env["hf"])).models
    critical = [f for f in model.findings if f.rule_id == R_CONTENT_ADDRESS_MISMATCH]
    assert len(critical) == 1
    assert critical[0].severity is lbom.Severity.CRITICAL
    assert "content does not match its content address: corrupted or tampered" in critical[0].message
    code, out, _ = run_cli("verify", str(stores_env["hf"]))
    assert code == 1
    assert f"MISMATCH {blob}" in out
    assert "2 blobs checked: 1 matched, 1 mismatched, 0 skipped" in out


def test_flipped_byte_in_ollama_layer(stores_env: dict[str, Path]) -> None:
    _, root = build(stores_env)
    template_blob = root / "blobs" / f"sha256-{sha256(b'{{ .Prompt }}')}"
    flip_byte(template_blob, 0)
    (model,) = lbom.scan(str(root)).models
    critical = [f for f in model.findings if f.rule_id == R_CONTENT_ADDRESS_MISMATCH]
    assert [f.location for f in critical] == ["template"]
    code, out, _ = run_cli("verify", "--format", "json")
    assert code == 1
    document = json.loads(out)
    assert (document["checked"], document["mismatched"]) == (5, 1)
    assert [b["path"] for b in document["blobs"] if b["status"] == "mismatched"] == [str(template_blob)]


def test_git_sha1_blob_mismatch_is_caught(stores_env: dict[str, Path]) -> None:
    build(stores_env)
    small = next(p for p in (stores_env["hf"] / "models--org--name" / "blobs").iterdir() if len(p.name) == 40)
    flip_byte(small)
    report = lbom.verify_store_blobs([str(stores_env["hf"])])
    assert [(b.algorithm, b.status) for b in report.blobs if b.status != "matched"] == [("git-sha1", "mismatched")]


def test_shared_blob_is_verified_once_and_partials_are_skipped(stores_env: dict[str, Path]) -> None:
    hf_link, _ = build(stores_env)
    add_hf_file(stores_env["hf"], "org/name", "d" * 40, "model.gguf", tiny_gguf("hf"), ref=None)
    (hf_link.resolve().parent / ("e" * 64 + ".incomplete")).write_bytes(b"half")
    report = lbom.verify_store_blobs([str(stores_env["hf"])])
    assert (report.checked, report.skipped) == (2, 1)
    assert report.ok


def test_verify_never_writes(stores_env: dict[str, Path]) -> None:
    build(stores_env)
    before = {**tree_state(stores_env["hf"]), **tree_state(stores_env["ollama"])}
    run_cli("verify")
    lbom.scan([str(stores_env["hf"]), str(stores_env["ollama"])])
    after = {**tree_state(stores_env["hf"]), **tree_state(stores_env["ollama"])}
    assert before == after


def test_verify_without_stores_is_a_usage_error(stores_env: dict[str, Path]) -> None:
    code, _, err = run_cli("verify")
    assert code == 2
    assert "no model store found" in err


def test_verify_missing_path_is_input_error(stores_env: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(lbom.Error):
        lbom.verify_store_blobs([str(tmp_path / "nope")])


def test_parallel_and_sequential_verification_agree(stores_env: dict[str, Path]) -> None:
    hf_link, _ = build(stores_env)
    flip_byte(hf_link.resolve())
    seen: list[str] = []
    parallel = lbom.verify_store_blobs(jobs=4, progress=seen.append)
    sequential = lbom.verify_store_blobs(jobs=1)
    assert parallel == sequential
    assert (parallel.checked, parallel.mismatched) == (5, 1)
    assert sorted(seen) == [b.path for b in parallel.blobs]
