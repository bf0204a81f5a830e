"""Fixture builders: real files made with the reference writers, and raw byte layouts for broken ones."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np


def write_gguf(
    path: Path,
    arch: str = "llama",
    file_type: int | None = 15,
    tokens: int = 8,
    extra: dict[str, Any] | None = None,
    tensors: dict[str, np.ndarray] | None = None,
) -> Path:
    """A real GGUF written by the gguf package's writer."""
    import gguf

    writer = gguf.GGUFWriter(str(path), arch=arch)
    if file_type is not None:
        writer.add_file_type(file_type)
    writer.add_context_length(4096)
    if tokens:
        writer.add_token_list([f"t{i}" for i in range(tokens)])
    for key, value in (extra or {}).items():
        if isinstance(value, str):
            writer.add_string(key, value)
        elif isinstance(value, bool):
            writer.add_bool(key, value)
        elif isinstance(value, int):
            writer.add_uint32(key, value)
        elif isinstance(value, float):
            writer.add_float32(key, value)
        else:
            writer.add_array(key, value)
    for name, array in (tensors or {"w": np.zeros((4, 32), dtype=np.float32)}).items():
        writer.add_tensor(name, array)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def gguf_string(text: bytes | str, e: str = "<") -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    return struct.pack(e + "Q", len(raw)) + raw


def raw_gguf(
    kvs: list[tuple[str, int, bytes]] = (),  # type: ignore[assignment]
    tensors: list[tuple[str, list[int], int, int]] = (),  # type: ignore[assignment]
    version: int = 3,
    e: str = "<",
    tensor_count: int | None = None,
    kv_count: int | None = None,
    data: bytes = b"",
    alignment: int = 32,
) -> bytes:
    """A GGUF laid out by hand, for files the writer refuses to make. kvs: (key, value type, encoded value)."""
    out = bytearray(b"GGUF")
    out += struct.pack(e + "I", version)
    out += struct.pack(e + "Q", len(tensors) if tensor_count is None else tensor_count)
    out += struct.pack(e + "Q", len(kvs) if kv_count is None else kv_count)
    for key, vtype, value in kvs:
        out += gguf_string(key, e) + struct.pack(e + "I", vtype) + value
    for name, dims, ttype, offset in tensors:
        out += gguf_string(name, e) + struct.pack(e + "I", len(dims))
        out += b"".join(struct.pack(e + "Q", d) for d in dims)
        out += struct.pack(e + "I", ttype) + struct.pack(e + "Q", offset)
    if data:
        out += b"\0" * ((-len(out)) % alignment)
        out += data
    return bytes(out)
