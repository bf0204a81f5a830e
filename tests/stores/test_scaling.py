"""A store with thousands of entries scans in time linear in its size."""

from __future__ import annotations

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


def scan_seconds(paths: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    models = len(lbom.scan(paths).models)
    return time.perf_counter() - start, models


@pytest.mark.slow
def test_scan_time_is_linear_in_store_size(tmp_path: Path, stores_env: dict[str, Path]) -> None:
    # 500 vs 2000 models: about 1.5k vs 6k store files (blobs, snapshot links, refs, manifests).
    small = build_store(tmp_path / "small", 500)
    large = build_store(tmp_path / "large", 2000)
    scan_seconds(small)  # warm imports and caches, so the small run is not charged for them
    small_seconds, small_models = scan_seconds(small)
    large_seconds, large_models = scan_seconds(large)
    assert (small_models, large_models) == (500, 2000)
    # Linear: 4x the entries should take about 4x the time; quadratic behaviour would be 16x.
    ratio = large_seconds / small_seconds
    if ratio >= 8:
        pytest.fail(f"4x the store took {ratio:.1f}x the time ({small_seconds:.2f}s -> {large_seconds:.2f}s)")
