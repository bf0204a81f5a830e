"""A model folder for gate tests: a GGUF, a sharded safetensors checkpoint with its index, and sidecars."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tests.builders import write_gguf


def make_model_folder(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    write_gguf(root / "tiny-Q4_K_M.gguf", extra={"general.license": "apache-2.0"})
    write_sharded_safetensors(root / "sharded")
    return root


def write_sharded_safetensors(folder: Path, shards: int = 3) -> Path:
    from safetensors.numpy import save_file

    folder.mkdir(parents=True, exist_ok=True)
    weight_map = {}
    total = 0
    for index in range(1, shards + 1):
        name = f"model-{index:05d}-of-{shards:05d}.safetensors"
        tensors = {f"layers.{index}.weight": np.full((4, 8), index, dtype=np.float32)}
        save_file(tensors, str(folder / name), metadata={"format": "pt"})
        for tensor in tensors:
            weight_map[tensor] = name
        total += 4 * 8 * 4
    index_doc = {"metadata": {"total_size": total}, "weight_map": weight_map}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index_doc, indent=2), encoding="utf-8")
    (folder / "config.json").write_text(
        json.dumps({"architectures": ["LlamaForCausalLM"], "model_type": "llama", "torch_dtype": "float32"}),
        encoding="utf-8",
    )
    (folder / "README.md").write_text("---\nlicense: mit\n---\n# sharded\n", encoding="utf-8")
    return folder


def flip_byte(path: Path, offset: int = -1) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))
