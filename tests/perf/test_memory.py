"""Memory stays flat: peak RSS of a whole ``l-bom scan`` process, measured with ru_maxrss in a child process.

The suite checks 10,000 small models and a 256 MiB sparse model file hashed in full (larger than the limit, so
reading it into memory would fail); the 50 GiB sparse file of the issue runs when LBOM_BIG_SPARSE=1 is set
(hashing 50 GiB of zeros takes several minutes on the shared 2-core machine).
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from tests.builders import gguf_string, raw_gguf

LIMIT_MIB = 150

_MEASURE = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, done.stderr.decode()[-500:])
"""


def peak_rss_mib(*args: str) -> float:
    """Run ``l-bom ARGS`` in a fresh process and return its peak resident set size in MiB (Linux: KiB units)."""
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, sys.executable, "-m", "lbom", *args],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    code, kib, err = out.split(" ", 2)
    assert code == "0", err
    return int(kib) / 1024


def sparse_gguf(path: Path, size: int) -> Path:
    """A valid GGUF header declaring one F32 tensor that fills a sparse file of ``size`` bytes."""
    elements = (size - 4096) // 4
    kv = [("general.architecture", 8, gguf_string("llama"))]
    header = raw_gguf(kv, tensors=[("w", [elements], 0, 0)])
    with open(path, "wb") as handle:
        handle.write(header)
        handle.truncate(size)
    return path


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ru_maxrss units and sparse files")
def test_ten_thousand_small_models(tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    kv = [("general.architecture", 8, gguf_string("llama")), ("llama.context_length", 4, struct.pack("<I", 4096))]
    data = raw_gguf(kv)
    for i in range(10_000):
        (folder / f"m{i:05d}.gguf").write_bytes(data)
    # Cold, with the cache being filled: every file sniffed, parsed, hashed, recorded and streamed out.
    assert peak_rss_mib("scan", str(folder), "--cache-dir", str(tmp_path / "cache")) < LIMIT_MIB


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ru_maxrss units and sparse files")
def test_one_large_sparse_file_hashed(tmp_path: Path) -> None:
    size = 256 << 20
    path = sparse_gguf(tmp_path / "big.gguf", size)
    assert os.stat(path).st_blocks * 512 < 1 << 20  # really sparse: the disk holds almost nothing
    assert peak_rss_mib("scan", str(path), "--no-cache", "--jobs", "2") < LIMIT_MIB


@pytest.mark.skipif(os.environ.get("LBOM_BIG_SPARSE") != "1", reason="50 GiB hash takes minutes: LBOM_BIG_SPARSE=1")
def test_fifty_gib_sparse_file_hashed(tmp_path: Path) -> None:
    path = sparse_gguf(tmp_path / "huge.gguf", 50 << 30)
    assert peak_rss_mib("scan", str(path), "--no-cache") < LIMIT_MIB
