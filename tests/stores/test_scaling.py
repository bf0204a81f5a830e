"""A store with thousands of entries scans in time linear in its size."""

from __future__ import annotations

import cProfile
import pstats
import time
from pathlib import Path

import pytest

import lbom
from tests.stores.fake_stores import add_hf_file, add_ollama_model, tiny_gguf


def build_store(base: Path, count: int) -> list[str]:
    hf, ollama = base / "hf", base / "ollama"
    for index in range(count // 2):
        add_hf_file(hf, f"org/m{index}", f"{index:040x}", "model.gguf", tiny_gguf(f"hf{index}"))
        add_ollama_model(ollama, f"m{index}", "latest", tiny_gguf(f"ol{index}"))
    return [str(hf), str(ollama)]


def scan(paths: list[str]) -> int:
    # Sequential and without the persistent cache: every run does the whole work, the same way.
    return len(lbom.scan(paths, options=lbom.ScanOptions(jobs=1, cache=False)).models)


def cpu_seconds(paths: list[str]) -> float:
    """CPU time of this process: other work on a shared machine does not count against us."""
    start = time.process_time()
    scan(paths)
    return time.process_time() - start


def python_calls(paths: list[str]) -> int:
    """Python function calls made by one scan: a deterministic measure of work, immune to machine load."""
    profile = cProfile.Profile()
    profile.enable()
    scan(paths)
    profile.disable()
    return int(pstats.Stats(profile).total_calls)  # type: ignore[attr-defined]


@pytest.mark.slow
def test_scan_work_is_linear_in_store_size(tmp_path: Path, stores_env: dict[str, Path]) -> None:
    # 300 vs 1200 models: about 1k vs 4k store files (blobs, snapshot links, refs, manifests, configs).
    small = build_store(tmp_path / "small", 300)
    large = build_store(tmp_path / "large", 1200)
    assert scan(small) == 300  # also warms imports
    call_ratio = python_calls(large) / python_calls(small)
    assert call_ratio < 4.6, f"4x the store made {call_ratio:.2f}x the function calls (quadratic would be 16x)"
    assert scan(large) == 1200
    time_ratio = cpu_seconds(large) / cpu_seconds(small)
    assert time_ratio < 10, f"4x the store took {time_ratio:.2f}x the CPU time (quadratic would be 16x)"
