"""Scan speed against baselines measured in the same run: bare hashlib loops and a naive one-read-per-field reader.

Usage:  nice python benchmarks/bench_hashing.py [--repeat 3] [--quick]

Builds its corpus once under benchmarks/.corpus (git-ignored, ~2.6 GB; ``--quick`` uses a 10x smaller one):
  large/  4 x 512 MiB + 1 x 250 MiB GGUF files whose tensor data is random bytes
  gguf/   40 header-heavy GGUF files, each with 150,000-entry token, score and token-type arrays
Every case runs ``--repeat`` times, baseline and l-bom alternating, and prints medians and ratios.
All timings are page-cache warm: the corpus fits in RAM and was just written or read, so this measures CPU
work (hashing, parsing), not the disk. A cold-disk scan of the large files is bound by the disk instead.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import struct
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import lbom
from lbom.scan import ScanOptions

HERE = Path(__file__).resolve().parent
MIB = 1 << 20
VOCAB = 150_000
GGUF_FILES = 40

# GGUF value types (llama.cpp gguf-py constants.GGUFValueType)
T_UINT32, T_INT32, T_FLOAT32, T_STRING, T_ARRAY, T_UINT64 = 4, 5, 6, 8, 9, 10
_SCALAR = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}


# --- corpus -----------------------------------------------------------------------------------------------------


def _string(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("<Q", len(raw)) + raw


def _kv(key: str, vtype: int, payload: bytes) -> bytes:
    return _string(key) + struct.pack("<I", vtype) + payload


def gguf_header(kvs: list[bytes], elements: int) -> bytes:
    """A GGUF v3 header with the given key/values and one F32 tensor ``w`` of ``elements`` elements at offset 0."""
    out = bytearray(b"GGUF" + struct.pack("<IQQ", 3, 1, len(kvs)))
    for kv in kvs:
        out += kv
    out += _string("w") + struct.pack("<I", 1) + struct.pack("<Q", elements) + struct.pack("<IQ", 0, 0)
    out += b"\0" * (-len(out) % 32)
    return bytes(out)


def write_large(path: Path, size: int) -> None:
    arch = [_kv("general.architecture", T_STRING, _string("llama")), _kv("general.file_type", T_UINT32, b"\0" * 4)]
    probe = gguf_header(arch, 0)
    elements = (size - len(probe)) // 4
    header = gguf_header(arch, elements)
    with open(path, "wb") as handle:
        handle.write(header)
        left = elements * 4
        while left:
            chunk = os.urandom(min(left, 16 * MIB))
            handle.write(chunk)
            left -= len(chunk)


def write_vocab_gguf(path: Path, seed: int, vocab: int) -> None:
    tokens = b"".join(_string(f"tok{seed}_{i}") for i in range(vocab))
    scores = struct.pack(f"<{vocab}f", *(float(-i) for i in range(vocab)))
    types = struct.pack(f"<{vocab}i", *([1] * vocab))
    kvs = [
        _kv("general.architecture", T_STRING, _string("llama")),
        _kv("general.name", T_STRING, _string(f"vocab-model-{seed}")),
        _kv("general.file_type", T_UINT32, struct.pack("<I", 1)),
        _kv("llama.context_length", T_UINT32, struct.pack("<I", 8192)),
        _kv("tokenizer.ggml.model", T_STRING, _string("gpt2")),
        _kv("tokenizer.ggml.tokens", T_ARRAY, struct.pack("<IQ", T_STRING, vocab) + tokens),
        _kv("tokenizer.ggml.scores", T_ARRAY, struct.pack("<IQ", T_FLOAT32, vocab) + scores),
        _kv("tokenizer.ggml.token_type", T_ARRAY, struct.pack("<IQ", T_INT32, vocab) + types),
    ]
    elements = 32 * 32
    path.write_bytes(gguf_header(kvs, elements) + os.urandom(elements * 4))


def build_corpus(root: Path, quick: bool) -> tuple[Path, Path]:
    scale = 10 if quick else 1
    large, vocab_dir = root / "large", root / "gguf"
    marker = root / f".complete-{'quick' if quick else 'full'}"
    if marker.exists():
        return large, vocab_dir
    for folder in (large, vocab_dir):
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():
            old.unlink()
    print(f"building corpus in {root} ...", file=sys.stderr)
    for i in range(4):
        write_large(large / f"big-{i}.gguf", 512 * MIB // scale)
    write_large(large / "medium.gguf", 250 * MIB // scale)
    for i in range(GGUF_FILES):
        write_vocab_gguf(vocab_dir / f"vocab-{i:02d}.gguf", i, VOCAB // scale)
    for other in root.glob(".complete-*"):
        other.unlink()
    marker.touch()
    return large, vocab_dir


# --- baselines --------------------------------------------------------------------------------------------------


def bare_hashlib(paths: list[Path]) -> None:
    """What a user would write: hashlib.sha256 over 1 MiB reads, one file after another."""
    for path in paths:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while chunk := handle.read(MIB):
                digest.update(chunk)
        digest.hexdigest()


def naive_gguf_header(path: Path) -> dict[str, object]:
    """The earlier tool's approach: one read() call per field and per array element."""
    with open(path, "rb") as handle:

        def unpack(fmt: str) -> object:
            return struct.unpack("<" + fmt, handle.read(struct.calcsize("<" + fmt)))[0]

        def string() -> str:
            length = unpack("Q")
            assert isinstance(length, int)
            return handle.read(length).decode("utf-8", "replace")

        def value(vtype: object) -> object:
            if vtype == T_STRING:
                return string()
            if vtype == T_ARRAY:
                item_type, count = unpack("I"), unpack("Q")
                assert isinstance(count, int)
                return [value(item_type) for _ in range(count)]
            assert isinstance(vtype, int)
            return unpack(_SCALAR[vtype])

        assert handle.read(4) == b"GGUF"
        unpack("I")
        tensor_count, kv_count = unpack("Q"), unpack("Q")
        assert isinstance(tensor_count, int) and isinstance(kv_count, int)
        metadata = {}
        for _ in range(kv_count):
            key = string()
            metadata[key] = value(unpack("I"))
        tensors = []
        for _ in range(tensor_count):
            name = string()
            n_dims = unpack("I")
            assert isinstance(n_dims, int)
            dims = [unpack("Q") for _ in range(n_dims)]
            tensors.append((name, dims, unpack("I"), unpack("Q")))
        metadata["tensors"] = tensors
        return metadata


# --- l-bom ------------------------------------------------------------------------------------------------------


def lbom_scan(path: Path, **options: object) -> None:
    result = lbom.scan(str(path), options=ScanOptions(**options))  # type: ignore[arg-type]
    lbom.render(result, "json")


# --- harness ----------------------------------------------------------------------------------------------------


def measure(repeat: int, *cases: Callable[[], object]) -> list[float]:
    """Median wall time of each case, the cases interleaved so machine load drifts hit them alike."""
    times: list[list[float]] = [[] for _ in cases]
    for _ in range(repeat):
        for index, case in enumerate(cases):
            start = time.perf_counter()
            case()
            times[index].append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a 10x smaller corpus, for trying the script out")
    parser.add_argument("--corpus", type=Path, default=HERE / ".corpus")
    args = parser.parse_args()
    large, vocab_dir = build_corpus(args.corpus, args.quick)
    large_files = sorted(large.iterdir())
    vocab_files = sorted(vocab_dir.iterdir())
    total_large = sum(p.stat().st_size for p in large_files)
    bare_hashlib(large_files)  # bring everything into the page cache before timing
    rows = []

    bare, ours = measure(args.repeat, lambda: bare_hashlib(large_files), lambda: lbom_scan(large, cache=False))
    rows.append(("many large files, hashed (5 files)", "bare hashlib loop", bare, ours, 1.8))

    one = large_files[0]
    bare, ours = measure(args.repeat, lambda: bare_hashlib([one]), lambda: lbom_scan(one, cache=False))
    rows.append(("one large file, hashed", "bare hashlib loop", bare, ours, 0.95))

    naive, ours = measure(
        args.repeat,
        lambda: [naive_gguf_header(p) for p in vocab_files],
        lambda: lbom_scan(vocab_dir, hash=False, cache=False),
    )
    rows.append((f"{GGUF_FILES} GGUF headers, --no-hash, cold", "one read() per field", naive, ours, 12.0))

    both = [large, vocab_dir]
    with tempfile.TemporaryDirectory(prefix="lbom-bench-cache-") as cache_root:
        counter = iter(range(1_000_000))

        def cold() -> None:
            result = lbom.scan(both, options=ScanOptions(cache_dir=os.path.join(cache_root, str(next(counter)))))
            lbom.render(result, "json")

        warm_dir = os.path.join(cache_root, "warm")
        lbom.scan(both, options=ScanOptions(cache_dir=warm_dir))

        def warm() -> None:
            lbom.render(lbom.scan(both, options=ScanOptions(cache_dir=warm_dir)), "json")

        cold_time, warm_time = measure(args.repeat, cold, warm)
    rows.append(("re-scan of unchanged large + GGUF files", "cold scan, hashed", cold_time, warm_time, 50.0))

    print(
        f"\ncorpus: {len(large_files)} large files ({total_large / MIB:.0f} MiB), {len(vocab_files)} GGUF files "
        f"({VOCAB // (10 if args.quick else 1)}-entry vocabularies); {os.cpu_count()} cores; "
        f"median of {args.repeat}; page cache warm\n"
    )
    print("| case | baseline | baseline s | l-bom s | speed-up | target |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    failed = False
    for case, baseline, base_s, ours_s, target in rows:
        ratio = base_s / ours_s
        ok = ratio >= target
        failed |= not ok
        verdict = "ok" if ok else "MISSED"
        print(f"| {case} | {baseline} | {base_s:.3f} | {ours_s:.3f} | {ratio:.2f}x | >= {target}x {verdict} |")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
