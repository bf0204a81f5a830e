"""Peak memory on hostile inputs stays well under 200 MiB (measured in a fresh process with ru_maxrss)."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from tests.builders import gguf_string, raw_gguf

LIMIT_MIB = 200
# ru_maxrss is the high-water mark of the process *and* of the memory it had before exec (Linux keeps the
# forking parent's figure in signal->maxrss), so a child of a big pytest process would report pytest's size.
# /proc/self/status VmHWM belongs to the new program's own address space; ru_maxrss is the fallback elsewhere.
PROBE = """
import resource, sys
import lbom
result = lbom.scan(sys.argv[1], hash=False)
rules = sorted({f.rule_id for m in result.models for f in m.findings})
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
try:
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) // 1024 for line in status if line.startswith("VmHWM:"))
except (OSError, StopIteration):
    pass
print(peak, ",".join(rules))
"""


def peak_mib(path: Path) -> tuple[int, str]:
    out = subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    peak, _, rules = out.stdout.strip().partition(" ")
    return int(peak), rules


def st_file(path: Path, header: bytes, data: bytes = b"") -> Path:
    path.write_bytes(struct.pack("<Q", len(header)) + header + data)
    return path


def zeros_header(tmp_path: Path) -> Path:
    return st_file(tmp_path / "zeros.safetensors", b'{"a": [' + b"0," * 11_000_000 + b"0]}")


def empty_objects_header(tmp_path: Path) -> Path:
    return st_file(tmp_path / "objects.safetensors", b'{"a": [' + b"{}," * 7_000_000 + b"{}]}")


def many_tensors_header(tmp_path: Path) -> Path:
    # Just under the JSON memory estimate: parsed, then every tensor checked.
    entries = {f"model.layers.{i}.w": {"dtype": "U8", "shape": [1], "data_offsets": [i, i + 1]} for i in range(90_000)}
    return st_file(tmp_path / "tensors.safetensors", json.dumps(entries).encode(), b"\0" * 90_000)


def astral_header(tmp_path: Path) -> Path:
    # One 4-byte character makes the decoded text 4 bytes per character.
    return st_file(
        tmp_path / "astral.safetensors", b'{"__metadata__": {"a": "\xf0\x9f\x98\x80' + b"x" * 23_000_000 + b'"}}'
    )


def gguf_big_string_array(tmp_path: Path) -> Path:
    count = 5_000_000
    body = struct.pack("<IQ", 8, count) + (struct.pack("<Q", 4) + b"abcd") * count
    path = tmp_path / "strings.gguf"
    path.write_bytes(raw_gguf([("tokenizer.ggml.tokens", 9, body)]))
    return path


def gguf_many_tensors(tmp_path: Path) -> Path:
    parts = [b"GGUF", struct.pack("<IQQ", 3, 100_000, 0)]
    for i in range(100_000):
        parts.append(gguf_string(f"blk.{i}.ffn_gate_exps.weight_with_a_long_name_{i:08d}"))
        parts.append(struct.pack("<I", 4) + struct.pack("<4Q", 4096, 4096, 8, 2) + struct.pack("<IQ", 0, i * 64))
    path = tmp_path / "tensors.gguf"
    path.write_bytes(b"".join(parts))
    return path


def gguf_many_strings_kept(tmp_path: Path) -> Path:
    kvs = [(f"general.k{i}", 8, gguf_string("v" * 60_000)) for i in range(900)]
    path = tmp_path / "kept.gguf"
    path.write_bytes(raw_gguf(kvs))
    return path


@pytest.mark.slow
@pytest.mark.parametrize(
    "make",
    [
        zeros_header,
        empty_objects_header,
        many_tensors_header,
        astral_header,
        gguf_big_string_array,
        gguf_many_tensors,
        gguf_many_strings_kept,
    ],
)
def test_peak_memory_on_hostile_input(tmp_path: Path, make) -> None:  # type: ignore[no-untyped-def]
    path = make(tmp_path)
    peak, rules = peak_mib(path)
    print(f"{make.__name__}: {path.stat().st_size / 2**20:.0f} MiB file, peak {peak} MiB, findings {rules}")
    assert peak < LIMIT_MIB, (make.__name__, peak, rules)
