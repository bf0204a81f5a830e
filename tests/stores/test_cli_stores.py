"""``l-bom stores`` and ``l-bom scan`` with no PATH."""

from __future__ import annotations

import json
from pathlib import Path

from tests.stores.fake_stores import add_hf_file, add_ollama_model, run_cli, tiny_gguf

COMMIT = "e" * 40


def populate(stores_env: dict[str, Path]) -> None:
    data = tiny_gguf("hf")
    add_hf_file(stores_env["hf"], "org/a", COMMIT, "a.gguf", data)
    add_hf_file(stores_env["hf"], "org/a", "d" * 40, "a.gguf", data, ref=None)  # same blob: counted once
    add_hf_file(stores_env["hf"], "org/b", COMMIT, "b.gguf", tiny_gguf("b"))
    add_ollama_model(stores_env["ollama"], "m", "latest", tiny_gguf("ol"))
    add_ollama_model(stores_env["ollama"], "m", "small", tiny_gguf("ol"))


def test_stores_json(stores_env: dict[str, Path]) -> None:
    populate(stores_env)
    code, out, _ = run_cli("stores", "--format", "json")
    assert code == 0
    stores = {s["kind"]: s for s in json.loads(out) if s["exists"]}
    assert set(stores) == {"huggingface", "ollama"}
    assert stores["huggingface"]["models"] == 2
    refs = 2 * len(COMMIT)  # refs/main of each repo; the shared blob counts once
    hf_bytes = len(tiny_gguf("hf")) + len(tiny_gguf("b")) + refs
    assert stores["huggingface"]["total_size_bytes"] == hf_bytes
    assert stores["ollama"]["models"] == 2
    assert stores["huggingface"]["origin"] == "HF_HUB_CACHE"


def test_stores_table(stores_env: dict[str, Path]) -> None:
    populate(stores_env)
    code, out, _ = run_cli("stores")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["STORE", "MODELS", "SIZE", "PATH"]
    hf_line = next(line for line in lines if line.startswith("Hugging Face hub cache"))
    assert str(stores_env["hf"]) in hf_line and " 2 " in hf_line
    assert any("(not found)" in line and "LM Studio" in line for line in lines)


def test_bare_scan_scans_existing_stores(stores_env: dict[str, Path]) -> None:
    populate(stores_env)
    code, out, err = run_cli("scan")
    assert code == 0
    documents = json.loads(out)
    names = sorted(d["source"]["repo_id"] for d in documents)
    assert names == ["m", "org/a", "org/b"]
    assert f"scanning Hugging Face hub cache: {stores_env['hf']}" in err
    assert f"scanning Ollama: {stores_env['ollama']}" in err
    assert "LM Studio" not in err


def test_bare_scan_without_stores(stores_env: dict[str, Path]) -> None:
    code, _, err = run_cli("scan")
    assert code == 2
    assert "no model store found" in err and str(stores_env["ollama"]) in err
