"""A model folder for gate tests: a GGUF, and a sharded safetensors checkpoint with its index and sidecars."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.builders import write_gguf, write_sharded_safetensors

SHARD_NAMES = [f"model-0000{i}-of-00003.safetensors" for i in (1, 2, 3)]


def make_model_folder(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    write_gguf(root / "tiny-Q4_K_M.gguf", extra={"general.license": "apache-2.0"})
    folder = root / "sharded"
    shards = {name: {f"layers.{i}.weight": np.full((4, 8), i, dtype=np.float32)} for i, name in enumerate(SHARD_NAMES)}
    write_sharded_safetensors(folder, shards)
    (folder / "config.json").write_text(
        json.dumps({"architectures": ["LlamaForCausalLM"], "model_type": "llama", "torch_dtype": "float32"}),
        encoding="utf-8",
    )
    (folder / "README.md").write_text("---\nlicense: mit\n---\n# sharded\n", encoding="utf-8")
    return root


def flip_byte(path: Path, offset: int = -1) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def run_cli(*args: str) -> int:
    """Run ``l-bom ARGS`` in this process and return its exit code."""
    from lbom._cli import main

    with pytest.raises(SystemExit) as info:
        main(list(args))
    code = info.value.code
    return code if isinstance(code, int) else 0
