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


# --- PyTorch / pickle ---------------------------------------------------------------------------------

TORCH_STORAGE_TYPES = {"F32": "FloatStorage", "F16": "HalfStorage", "BF16": "BFloat16Storage", "I64": "LongStorage"}
TORCH_ITEM_BYTES = {"F32": 4, "F16": 2, "BF16": 2, "I64": 8}


class PickleWriter:
    """Emits protocol-2 opcodes the way CPython's Pickler does (memoizing each new object, reusing by BINGET)."""

    def __init__(self) -> None:
        self.out = bytearray(b"\x80\x02")
        self.memo: dict[object, int] = {}

    def put(self, key: object) -> None:
        index = len(self.memo)
        self.memo[key] = index
        self.out += b"q" + bytes([index]) if index < 256 else b"r" + struct.pack("<I", index)

    def get(self, key: object) -> bool:
        if key not in self.memo:
            return False
        index = self.memo[key]
        self.out += b"h" + bytes([index]) if index < 256 else b"j" + struct.pack("<I", index)
        return True

    def text(self, value: str, memo_key: object | None = None) -> None:
        key = ("str", value) if memo_key is None else memo_key
        if self.get(key):
            return
        raw = value.encode()
        self.out += b"X" + struct.pack("<I", len(raw)) + raw
        self.put(key)

    def global_(self, module: str, name: str) -> None:
        if self.get(("global", module, name)):
            return
        self.out += b"c" + module.encode() + b"\n" + name.encode() + b"\n"
        self.put(("global", module, name))

    def int_(self, value: int) -> None:
        if 0 <= value < 256:
            self.out += b"K" + bytes([value])
        elif 0 <= value < 65536:
            self.out += b"M" + struct.pack("<H", value)
        else:
            self.out += b"J" + struct.pack("<i", value)

    def int_tuple(self, values: tuple[int, ...], memo_key: object) -> None:
        if not values:
            self.out += b")"
            return
        if len(values) > 3:
            self.out += b"("
        for value in values:
            self.int_(value)
        self.out += {1: b"\x85", 2: b"\x86", 3: b"\x87"}.get(len(values), b"t")
        self.put(memo_key)


def torch_state_dict_pickle(tensors: list[tuple[str, str, tuple[int, ...]]]) -> bytes:
    """data.pkl of torch.save(OrderedDict(name -> contiguous tensor)), byte for byte as torch 2.x writes it.

    ``tensors`` are (name, dtype, shape); storage keys are "0", "1", ... in order.
    """
    w = PickleWriter()
    w.global_("collections", "OrderedDict")
    w.out += b")R"
    w.put("root")
    w.out += b"("
    for index, (name, dtype, shape) in enumerate(tensors):
        numel = 1
        for dim in shape:
            numel *= dim
        strides = tuple(int(np.prod(shape[i + 1 :])) for i in range(len(shape)))
        w.text(name, ("name", index))
        w.global_("torch._utils", "_rebuild_tensor_v2")
        w.out += b"(("
        w.text("storage")
        w.global_("torch", TORCH_STORAGE_TYPES[dtype])
        w.text(str(index), ("key", index))
        w.text("cpu")
        w.int_(numel)
        w.out += b"t"
        w.put(("pid", index))
        w.out += b"Q"
        w.int_(0)
        w.int_tuple(shape, ("shape", index))
        w.int_tuple(strides, ("stride", index))
        w.out += b"\x89"
        w.get(("global", "collections", "OrderedDict"))
        w.out += b")R"
        w.put(("hooks", index))
        w.out += b"t"
        w.put(("args", index))
        w.out += b"R"
        w.put(("tensor", index))
    w.out += b"u."
    return bytes(w.out)


def torch_zip(
    path: Path,
    tensors: list[tuple[str, str, tuple[int, ...]]],
    data_pkl: bytes | None = None,
    extra_members: dict[str, bytes] | None = None,
    drop_storages: tuple[int, ...] = (),
) -> Path:
    """A zip-format torch.save archive (stored members, like torch) around a hand-built data.pkl."""
    import zipfile

    archive = path.stem
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(f"{archive}/data.pkl", data_pkl if data_pkl is not None else torch_state_dict_pickle(tensors))
        zf.writestr(f"{archive}/byteorder", "little")
        for index, (_name, dtype, shape) in enumerate(tensors):
            if index in drop_storages:
                continue
            zf.writestr(f"{archive}/data/{index}", b"\0" * (int(np.prod(shape)) * TORCH_ITEM_BYTES[dtype]))
        zf.writestr(f"{archive}/version", "3\n")
        for name, data in (extra_members or {}).items():
            zf.writestr(name, data)
    return path


# --- multi-file models --------------------------------------------------------------------------------


def write_sharded_safetensors(
    folder: Path,
    shards: dict[str, dict[str, np.ndarray]],
    weight_map: dict[str, str] | None = None,
    total_size: int | None = None,
    index_name: str = "model.safetensors.index.json",
) -> Path:
    """Shards written by the safetensors package plus an index; weight_map/total_size default to the truth."""
    import json

    from safetensors.numpy import save_file

    folder.mkdir(parents=True, exist_ok=True)
    truth: dict[str, str] = {}
    size = 0
    for shard, tensors in shards.items():
        save_file(tensors, str(folder / shard))
        for name, array in tensors.items():
            truth[name] = shard
            size += array.nbytes
    index = {
        "metadata": {"total_size": size if total_size is None else total_size},
        "weight_map": dict(sorted((weight_map if weight_map is not None else truth).items())),
    }
    (folder / index_name).write_text(json.dumps(index, indent=2))
    return folder


def write_split_gguf(folder: Path, stem: str, parts: int, skip: tuple[int, ...] = (), tensors_per_part: int = 2,
                     declared_tensors: int | None = None) -> Path:  # fmt: skip
    """A GGUF split like gguf-split makes: metadata in part 1, split.* keys and tensors in every part."""
    folder.mkdir(parents=True, exist_ok=True)
    for no in range(parts):
        if no + 1 in skip:
            continue
        extra: dict[str, Any] = {"split.no": no, "split.count": parts}
        extra["split.tensors.count"] = parts * tensors_per_part if declared_tensors is None else declared_tensors
        tensors = {f"blk.{no}.w{i}": np.zeros((4, 32), dtype=np.float32) for i in range(tensors_per_part)}
        write_gguf(
            folder / f"{stem}-{no + 1:05d}-of-{parts:05d}.gguf",
            file_type=0 if no == 0 else None,
            tokens=8 if no == 0 else 0,
            extra=extra,
            tensors=tensors,
        )
    return folder


def kv_string(key: str, value: str | bytes, e: str = "<") -> tuple[str, int, bytes]:
    """A (key, type, encoded value) triple for :func:`raw_gguf`: a STRING value."""
    return (key, 8, gguf_string(value, e))


def kv_scalar(key: str, vtype: int, fmt: str, value: Any, e: str = "<") -> tuple[str, int, bytes]:
    """A (key, type, encoded value) triple for :func:`raw_gguf`: one fixed-size value."""
    return (key, vtype, struct.pack(e + fmt, value))


def kv_string_array(key: str, items: list[bytes], e: str = "<") -> tuple[str, int, bytes]:
    """A (key, type, encoded value) triple for :func:`raw_gguf`: an ARRAY of STRING."""
    body = b"".join(struct.pack(e + "Q", len(item)) + item for item in items)
    return (key, 9, struct.pack(e + "I", 8) + struct.pack(e + "Q", len(items)) + body)


def vocab_tokens(count: int) -> list[bytes]:
    """Token-like byte strings: mostly short, some multi-byte UTF-8, a few of 128+ bytes (like real vocabularies)."""
    tokens = []
    for i in range(count):
        if i % 5000 == 4999:
            tokens.append(("▁long" * 40 + str(i)).encode())
        elif i % 7 == 0:
            tokens.append(f"▁tok{i}".encode())
        else:
            tokens.append(f"t{i:x}".encode())
    return tokens


def big_vocab_gguf(path: Path, n_tokens: int = 262_144, n_merges: int = 150_000, e: str = "<") -> Path:
    """A GGUF whose header carries a real-sized tokenizer: n_tokens tokens, scores, types and n_merges merges."""
    tokens = vocab_tokens(n_tokens)
    merges = [f"t{i % 977:x} t{i:x}".encode() for i in range(n_merges)]
    kvs = [
        kv_string("general.architecture", "llama", e),
        kv_string("general.name", "bench", e),
        kv_scalar("general.file_type", 4, "I", 15, e),
        kv_scalar("llama.context_length", 4, "I", 8192, e),
        kv_scalar("llama.vocab_size", 4, "I", n_tokens, e),
        kv_string("tokenizer.ggml.model", "gpt2", e),
        kv_string_array("tokenizer.ggml.tokens", tokens, e),
        (
            "tokenizer.ggml.scores",
            9,
            struct.pack(e + "IQ", 6, n_tokens) + struct.pack(f"{e}{n_tokens}f", *range(n_tokens)),
        ),
        (
            "tokenizer.ggml.token_type",
            9,
            struct.pack(e + "IQ", 5, n_tokens) + struct.pack(f"{e}{n_tokens}i", *([1] * n_tokens)),
        ),
        kv_string_array("tokenizer.ggml.merges", merges, e),
        kv_string("tokenizer.chat_template", "{% for m in messages %}{{ m['content'] }}{% endfor %}", e),
    ]
    tensors = [("token_embd.weight", [32, 4], 0, 0), ("output.weight", [32, 4], 0, 512)]
    path.write_bytes(raw_gguf(kvs, tensors, e=e, data=b"\0" * 1024))
    return path
