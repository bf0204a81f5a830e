"""Files in stores are named the way the store names them; shared blobs are read once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import lbom
from lbom import _hashing
from tests.stores.fake_stores import (
    OLLAMA_LICENSE,
    OLLAMA_PARAMS,
    OLLAMA_SYSTEM,
    OLLAMA_TEMPLATE,
    add_hf_file,
    add_ollama_model,
    sha256,
    tiny_gguf,
)

COMMIT_A = "a" * 40
COMMIT_B = "b" * 40


def test_hugging_face_identity(stores_env: dict[str, Path]) -> None:
    data = tiny_gguf("m1")
    add_hf_file(stores_env["hf"], "TheOrg/Tiny-GGUF", COMMIT_A, "q4/tiny.Q4_K_M.gguf", data)
    add_hf_file(stores_env["hf"], "TheOrg/Tiny-GGUF", COMMIT_A, "config.json", b'{"model_type": "llama"}', lfs=False)
    result = lbom.scan(str(stores_env["hf"]))
    (model,) = result.models
    source = model.source
    assert source is not None
    assert source.kind == "huggingface-cache"
    assert (source.repo_id, source.revision, source.file_path, source.tag) == (
        "TheOrg/Tiny-GGUF",
        COMMIT_A,
        "q4/tiny.Q4_K_M.gguf",
        "main",
    )
    assert source.purl == f"pkg:huggingface/TheOrg/Tiny-GGUF@{COMMIT_A}#q4/tiny.Q4_K_M.gguf"
    assert source.expected_sha256 == sha256(data) == model.sha256
    assert model.path.endswith(f"snapshots/{COMMIT_A}/q4/tiny.Q4_K_M.gguf")
    assert model.sidecars is None  # config.json is in the snapshot root, not next to the file
    assert not [f for f in model.findings if f.severity >= lbom.Severity.HIGH]


def test_path_inside_a_store_is_recognised(stores_env: dict[str, Path]) -> None:
    link = add_hf_file(stores_env["hf"], "org/name", COMMIT_A, "model.gguf", tiny_gguf("m1"))
    result = lbom.scan(str(link))
    assert result.single_file
    assert result.models[0].source is not None
    assert result.models[0].source.repo_id == "org/name"


def test_shared_blob_is_read_and_hashed_once(stores_env: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    data = tiny_gguf("shared")
    add_hf_file(stores_env["hf"], "org/name", COMMIT_A, "model.gguf", data)
    add_hf_file(stores_env["hf"], "org/name", COMMIT_B, "model.gguf", data, ref=None)
    calls: list[str] = []
    original = _hashing.digest_file

    def counting(path: str, *args: Any, **kwargs: Any) -> tuple[lbom.FileDigest, ...]:
        calls.append(path)
        return original(path, *args, **kwargs)

    monkeypatch.setattr(_hashing, "digest_file", counting)
    result = lbom.scan(str(stores_env["hf"]))
    (model,) = result.models
    assert len(calls) == 1
    assert model.source is not None
    assert model.source.revision == COMMIT_A  # the revision a ref points at is preferred
    assert model.source.aliases == (f"pkg:huggingface/org/name@{COMMIT_B}#model.gguf",)


def test_ollama_model_with_layers(stores_env: dict[str, Path]) -> None:
    root = stores_env["ollama"]
    gguf = tiny_gguf("llama")
    layers = {
        OLLAMA_TEMPLATE: b"{{ .System }} {{ .Prompt }}",
        OLLAMA_PARAMS: b'{"stop": ["<|eot_id|>"], "temperature": 0.6}',
        OLLAMA_LICENSE: b"META LLAMA 3 COMMUNITY LICENSE AGREEMENT\n\nterms...",
        OLLAMA_SYSTEM: b"You are a helpful assistant.",
    }
    add_ollama_model(root, "llama3", "8b", gguf, layers)
    add_ollama_model(root, "llama3", "latest", gguf, layers)
    result = lbom.scan(str(root))
    (model,) = result.models
    assert model.source is not None
    assert (model.source.kind, model.source.repo_id, model.source.tag) == ("ollama", "llama3", "8b")
    assert model.source.aliases == ("llama3:latest",)
    assert model.source.expected_sha256 == sha256(gguf)
    roles = sorted(f.role for f in model.files)
    assert roles == ["config", "license", "params", "system", "template", "weights"]
    assert all(f.sha256 == f.source.expected_sha256 for f in model.files if f.source)
    assert model.license == "META LLAMA 3 COMMUNITY LICENSE AGREEMENT"
    assert model.metadata["ollama.params"] == {"stop": ["<|eot_id|>"], "temperature": 0.6}
    assert model.metadata["ollama.system"] == "You are a helpful assistant."
    template = model.metadata["ollama.template"]
    assert isinstance(template, dict)
    assert (template["language"], template["text"]) == ("go-template", "{{ .System }} {{ .Prompt }}")
    assert model.chat_templates == ()  # Go templates are not Jinja chat templates
    assert not model.findings


def test_gguf_license_wins_over_license_layer(stores_env: dict[str, Path]) -> None:
    root = stores_env["ollama"]
    add_ollama_model(root, "m", "latest", tiny_gguf("m", license_id="apache-2.0"), {OLLAMA_LICENSE: b"Other"})
    (model,) = lbom.scan(str(root)).models
    assert model.license == "apache-2.0"


def test_ollama_namespaced_and_other_registry_names(stores_env: dict[str, Path]) -> None:
    root = stores_env["ollama"]
    add_ollama_model(root, "tiny", "q4", tiny_gguf("a"), namespace="someone")
    add_ollama_model(root, "repo-gguf", "Q8_0", tiny_gguf("b"), namespace="org", registry="hf.co")
    names = sorted(f"{m.source.repo_id}:{m.source.tag}" for m in lbom.scan(str(root)).models if m.source)
    assert names == ["hf.co/org/repo-gguf:Q8_0", "someone/tiny:q4"]


def test_scanning_one_manifest_folder_scans_that_model(stores_env: dict[str, Path]) -> None:
    root = stores_env["ollama"]
    manifest = add_ollama_model(root, "one", "latest", tiny_gguf("one"))
    add_ollama_model(root, "two", "latest", tiny_gguf("two"))
    result = lbom.scan(str(manifest.parent))
    assert [m.source.repo_id for m in result.models if m.source] == ["one"]


def test_lmstudio_identity(stores_env: dict[str, Path]) -> None:
    folder = stores_env["lmstudio"] / "lmstudio-community" / "Tiny-GGUF"
    folder.mkdir(parents=True)
    (folder / "tiny-Q4_K_M.gguf").write_bytes(tiny_gguf("t"))
    (model,) = lbom.scan(str(stores_env["lmstudio"])).models
    assert model.source is not None
    assert (model.source.kind, model.source.repo_id, model.source.file_path) == (
        "lmstudio",
        "lmstudio-community/Tiny-GGUF",
        "tiny-Q4_K_M.gguf",
    )


def test_llama_cpp_flat_cache_identity(stores_env: dict[str, Path]) -> None:
    cache = stores_env["llama"]
    cache.mkdir()
    (cache / "ggml-org_Tiny-GGUF_tiny-Q8_0.gguf").write_bytes(tiny_gguf("t"))
    (cache / "manifest=ggml-org=Tiny-GGUF=Q8_0.json").write_text("{}")
    (cache / "unknown.gguf").write_bytes(tiny_gguf("u"))
    models = {m.source.file_path: m.source for m in lbom.scan(str(cache)).models if m.source}
    assert models["tiny-Q8_0.gguf"].repo_id == "ggml-org/Tiny-GGUF"
    assert models["tiny-Q8_0.gguf"].tag == "Q8_0"
    assert models["unknown.gguf"].repo_id is None
    assert models["unknown.gguf"].kind == "llama.cpp"


def test_plain_folder_has_no_store_identity(tmp_path: Path, stores_env: dict[str, Path]) -> None:
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "m.gguf").write_bytes(tiny_gguf("m"))
    (model,) = lbom.scan(str(tmp_path / "plain")).models
    assert model.source is None


def test_single_blob_and_single_manifest_paths_are_named(stores_env: dict[str, Path]) -> None:
    root = stores_env["ollama"]
    gguf = tiny_gguf("one")
    manifest = add_ollama_model(root, "one", "q4", gguf, {OLLAMA_SYSTEM: b"hi"})
    blob = root / "blobs" / f"sha256-{sha256(gguf)}"
    for path in (blob, manifest):
        result = lbom.scan(str(path))
        assert result.single_file, path
        (model,) = result.models
        assert model.source is not None
        assert (model.source.repo_id, model.source.tag) == ("one", "q4")
        assert sorted(f.role for f in model.files) == ["config", "system", "weights"]


def test_hf_blob_scanned_directly_keeps_its_repo_and_address(stores_env: dict[str, Path]) -> None:
    data = tiny_gguf("blob")
    link = add_hf_file(stores_env["hf"], "org/name", COMMIT_A, "m.gguf", data)
    result = lbom.scan(str(link.resolve()))
    (model,) = result.models
    assert model.source is not None
    assert (model.source.repo_id, model.source.expected_sha256, model.source.revision) == (
        "org/name",
        sha256(data),
        None,
    )


def test_sharded_hub_model_takes_its_repository_as_source_and_name(stores_env: dict[str, Path], tmp_path: Path) -> None:
    import numpy as np

    from tests.builders import write_sharded_safetensors

    names = [f"model-0000{i}-of-00002.safetensors" for i in (1, 2)]
    built = write_sharded_safetensors(
        tmp_path / "built", {name: {f"layer{i}.w": np.ones((2, 2), np.float32)} for i, name in enumerate(names)}
    )
    for path in sorted(built.iterdir()):
        lfs = path.suffix != ".json"
        add_hf_file(stores_env["hf"], "TheOrg/Sharded", COMMIT_A, path.name, path.read_bytes(), lfs=lfs)
    (model,) = lbom.scan(str(stores_env["hf"])).models
    assert len([f for f in model.files if f.role == "shard"]) == 2
    source = model.source
    assert source is not None
    assert (source.kind, source.repo_id, source.revision, source.file_path) == (
        "huggingface-cache",
        "TheOrg/Sharded",
        COMMIT_A,
        "model.safetensors.index.json",  # the entry point loaders open, as for a remote hf:// shard set
    )
    assert source.purl == f"pkg:huggingface/TheOrg/Sharded@{COMMIT_A}"  # the repository, no one file
    assert source.expected_sha256 is None  # each shard keeps its own on its file entry
    assert model.name == "TheOrg/Sharded"  # not the snapshot folder's commit hash
    shards = [f for f in model.files if f.role == "shard"]
    assert all(f.source is not None and f.source.file_path == Path(f.path).name for f in shards)


def test_an_ollama_model_without_a_name_in_its_header_is_called_name_tag(stores_env: dict[str, Path]) -> None:
    from tests.builders import gguf_string, raw_gguf

    gguf = raw_gguf([("general.architecture", 8, gguf_string("llama"))])
    add_ollama_model(stores_env["ollama"], "tiny", "latest", gguf, {})
    (model,) = lbom.scan(str(stores_env["ollama"])).models
    assert model.name == "tiny:latest"  # not the blob's sha256-... name
