"""Multi-file models: sharded safetensors with an index, and split GGUF, each kind of inconsistency."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import lbom
from lbom import _shards
from lbom.model import ModelArtifact, Severity
from tests.builders import write_sharded_safetensors, write_split_gguf

F32 = np.float32


def shards() -> dict[str, dict[str, np.ndarray]]:
    return {
        "model-00001-of-00002.safetensors": {"a.weight": np.zeros((4, 8), F32), "a.bias": np.zeros(8, F32)},
        "model-00002-of-00002.safetensors": {"b.weight": np.zeros((8, 2), np.float16)},
    }


def only_model(folder: Path) -> ModelArtifact:
    result = lbom.scan(str(folder), hash=True)
    assert len(result.models) == 1, [m.path for m in result.models]
    return result.models[0]


def rules(model: ModelArtifact) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for finding in model.findings:
        found.setdefault(finding.rule_id, []).append(finding.message)
    return found


def test_consistent_sharded_model_is_one_model(tmp_path: Path) -> None:
    folder = write_sharded_safetensors(tmp_path / "tiny", shards())
    model = only_model(folder)
    assert model.format == "safetensors"
    assert model.name == "tiny"
    assert model.path.endswith("model.safetensors.index.json")
    assert model.parameter_count == 32 + 8 + 16
    assert model.tensor_count == 3
    assert model.dtype == "mixed"
    assert {s.type_name: s.parameter_count for s in model.tensor_types} == {"F32": 40, "F16": 16}
    assert [f.role for f in model.files] == ["shard", "shard", "index"]
    assert all(f.sha256 and len(f.sha256) == 64 for f in model.files)
    assert model.sha256 is None
    assert model.metadata["shards.count"] == 2
    # No structural findings; the fixture states no license, which the license check reports (LBOM-LIC-001).
    assert [f.rule_id for f in model.findings] == ["LBOM-LIC-001"]


def test_missing_shard(tmp_path: Path) -> None:
    folder = write_sharded_safetensors(tmp_path / "m", shards())
    (folder / "model-00002-of-00002.safetensors").unlink()
    model = only_model(folder)
    assert _shards.R_SHARD_MISSING in rules(model)
    assert model.parameter_count == 40
    assert any(f.severity is Severity.HIGH for f in model.findings)


def test_unlisted_shard_and_unlisted_tensor(tmp_path: Path) -> None:
    layout = shards()
    weight_map = {"a.weight": "model-00001-of-00002.safetensors", "a.bias": "model-00001-of-00002.safetensors"}
    folder = write_sharded_safetensors(tmp_path / "m", layout, weight_map=weight_map, total_size=0)
    found = rules(only_model(folder))
    assert _shards.R_SHARD_UNLISTED in found
    assert _shards.R_TENSOR_UNLISTED in found


def test_tensor_absent_from_its_shard_or_in_another(tmp_path: Path) -> None:
    weight_map = {
        "a.weight": "model-00002-of-00002.safetensors",  # actually in shard 1
        "a.bias": "model-00001-of-00002.safetensors",
        "b.weight": "model-00002-of-00002.safetensors",
        "ghost": "model-00001-of-00002.safetensors",  # nowhere
    }
    folder = write_sharded_safetensors(tmp_path / "m", shards(), weight_map=weight_map)
    messages = rules(only_model(folder))[_shards.R_TENSOR_MISSING]
    assert any("'a.weight'" in m and "in model-00001-of-00002.safetensors instead" in m for m in messages)
    assert any("'ghost'" in m for m in messages)


def test_duplicate_tensor_across_shards(tmp_path: Path) -> None:
    layout = shards()
    layout["model-00002-of-00002.safetensors"]["a.bias"] = np.zeros(8, F32)
    folder = write_sharded_safetensors(tmp_path / "m", layout)
    assert _shards.R_TENSOR_DUPLICATE in rules(only_model(folder))


def test_total_size_disagrees(tmp_path: Path) -> None:
    folder = write_sharded_safetensors(tmp_path / "m", shards(), total_size=12345)
    messages = rules(only_model(folder))[_shards.R_TOTAL_SIZE]
    assert "12,345" in messages[0] and "192" in messages[0]


def test_malformed_index_still_groups_nothing_and_reports(tmp_path: Path) -> None:
    folder = write_sharded_safetensors(tmp_path / "m", shards())
    (folder / "model.safetensors.index.json").write_text("{not json")
    result = lbom.scan(str(folder), hash=False)
    assert len(result.models) == 2  # no usable index: the shards stay single files


def test_index_entry_escaping_the_folder_is_rejected(tmp_path: Path) -> None:
    weight_map = {"a.weight": "../outside.safetensors", "a.bias": "model-00001-of-00002.safetensors"}
    folder = write_sharded_safetensors(tmp_path / "m", {"model-00001-of-00002.safetensors": shards()[
        "model-00001-of-00002.safetensors"]}, weight_map=weight_map)  # fmt: skip
    assert _shards.R_INDEX in rules(only_model(folder))


def test_pytorch_bin_index(tmp_path: Path) -> None:
    from tests.builders import torch_zip

    folder = tmp_path / "pt"
    folder.mkdir()
    torch_zip(folder / "pytorch_model-00001-of-00002.bin", [("x.weight", "F32", (2, 2))])
    torch_zip(folder / "pytorch_model-00002-of-00002.bin", [("y.weight", "F16", (3,))])
    index = {"metadata": {"total_size": 16 + 6}, "weight_map": {
        "x.weight": "pytorch_model-00001-of-00002.bin", "y.weight": "pytorch_model-00002-of-00002.bin"}}  # fmt: skip
    (folder / "pytorch_model.bin.index.json").write_text(json.dumps(index))
    model = only_model(folder)
    assert model.format == "pytorch"
    assert model.parameter_count == 7
    assert [f.rule_id for f in model.findings] == ["LBOM-LIC-001"]  # no license in the fixture; nothing else


def test_split_gguf_is_one_model(tmp_path: Path) -> None:
    folder = write_split_gguf(tmp_path / "g", "tiny", 3)
    model = only_model(folder)
    assert model.format == "gguf"
    assert model.path.endswith("tiny-00001-of-00003.gguf")
    assert model.tensor_count == 6
    assert model.parameter_count == 6 * 128
    assert model.architecture == "llama"
    assert len(model.files) == 3
    assert not rules(model).keys() & {_shards.R_SPLIT_MISSING, _shards.R_SPLIT_NUMBERING}


def test_split_gguf_missing_part(tmp_path: Path) -> None:
    folder = write_split_gguf(tmp_path / "g", "tiny", 3, skip=(2,))
    messages = rules(only_model(folder))[_shards.R_SPLIT_MISSING]
    assert messages == ["split part tiny-00002-of-00003.gguf is missing"]


def test_split_gguf_tensor_count_disagrees(tmp_path: Path) -> None:
    folder = write_split_gguf(tmp_path / "g", "tiny", 2, declared_tensors=99)
    assert _shards.R_SPLIT_NUMBERING in rules(only_model(folder))


def test_single_shard_scanned_alone_stays_a_single_file(tmp_path: Path) -> None:
    folder = write_sharded_safetensors(tmp_path / "m", shards())
    result = lbom.scan(str(folder / "model-00001-of-00002.safetensors"), hash=False)
    assert result.single_file and len(result.models) == 1
    assert len(result.models[0].files) == 1


def test_all_lists_unknown_files_but_not_the_index(tmp_path: Path) -> None:
    folder = write_sharded_safetensors(tmp_path / "m", shards())
    (folder / "notes.txt").write_text("hello")
    quiet = lbom.scan(str(folder), hash=False)
    assert not quiet.findings
    listed = lbom.scan(str(folder), options=lbom.ScanOptions(list_unknown=True, hash=False))
    assert [f.file for f in listed.findings] == [str(folder / "notes.txt")]


def test_unpulled_lfs_shards_stay_one_model_with_pointer_findings(tmp_path: Path) -> None:
    folder = write_sharded_safetensors(tmp_path / "m", shards())
    pointer = folder / "model-00002-of-00002.safetensors"
    pointer.write_text(f"version https://git-lfs.github.com/spec/v1\noid sha256:{'ab' * 32}\nsize 4096\n")
    model = only_model(folder)
    assert model.format == "safetensors"
    assert [f.role for f in model.files] == ["shard", "pointer", "index"]
    assert model.parameter_count is None  # one shard's tensors are unknown
    found = rules(model)
    assert "LBOM-LFS-001" in found
    assert not found.keys() & {_shards.R_TENSOR_MISSING, _shards.R_TOTAL_SIZE}
