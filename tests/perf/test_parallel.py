"""Parallel reading and hashing: same bytes out as a sequential scan; digests equal to hashlib's."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import lbom
from lbom._hashing import CHUNK_BYTES, digest_file, normalise_algorithms
from lbom.errors import DependencyMissing, UsageError
from lbom.scan import ProgressEvent, ScanOptions, scan
from tests.builders import write_gguf


@pytest.fixture(scope="module")
def mixed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Models of both formats in nested folders, non-models, an empty file and one multi-chunk file."""
    from safetensors.numpy import save_file

    root = tmp_path_factory.mktemp("mixed")
    for i in range(12):
        sub = root / f"d{i % 3}"
        sub.mkdir(exist_ok=True)
        write_gguf(sub / f"m{i:02d}.gguf", tokens=10 + i, file_type=None if i % 4 == 0 else 15)
        (sub / f"notes{i}.txt").write_text("not a model\n" * i)
    save_file({"w": np.arange(12, dtype=np.float32).reshape(3, 4)}, str(root / "d1" / "model.safetensors"))
    (root / "empty.gguf").write_bytes(b"")
    big = root / "big.gguf"
    write_gguf(big, tensors={"w": np.ones((3 * CHUNK_BYTES // 128 + 7, 32), np.float32)})
    return root


def document(path: Path, **options: object) -> str:
    result = scan(str(path), options=ScanOptions(cache=False, **options))  # type: ignore[arg-type]
    return lbom.render(result, "json")


@pytest.mark.parametrize("jobs", [2, 3, 8])
def test_parallel_equals_sequential_byte_for_byte(mixed_dir: Path, jobs: int) -> None:
    sequential = document(mixed_dir, jobs=1)
    assert document(mixed_dir, jobs=jobs) == sequential
    assert document(mixed_dir, jobs=jobs, digests=("sha256", "blake2b")) == document(
        mixed_dir, jobs=1, digests=("sha256", "blake2b")
    )


def test_parallel_cli_output_is_identical(mixed_dir: Path, tmp_path: Path) -> None:
    outputs = set()
    for jobs in ("1", "2", "5"):
        cmd = [
            sys.executable,
            "-m",
            "lbom",
            "scan",
            str(mixed_dir),
            "--jobs",
            jobs,
            "--cache-dir",
            str(tmp_path / jobs),
        ]
        outputs.add(subprocess.run(cmd, capture_output=True, check=True).stdout)
    assert len(outputs) == 1


def test_digests_match_hashlib_at_chunk_boundaries(tmp_path: Path) -> None:
    import blake3  # type: ignore[import-not-found,unused-ignore]

    rng = np.random.default_rng(7)
    for size in (0, 1, CHUNK_BYTES - 1, CHUNK_BYTES, CHUNK_BYTES + 1, 2 * CHUNK_BYTES + 5):
        data = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
        path = tmp_path / f"f{size}"
        path.write_bytes(data)
        got = {d.algorithm: d.hex for d in digest_file(str(path), ("sha256", "blake3", "sha512", "md5"))}
        assert got == {
            "sha256": hashlib.sha256(data).hexdigest(),
            "blake3": blake3.blake3(data).hexdigest(),
            "sha512": hashlib.sha512(data).hexdigest(),
            "md5": hashlib.md5(data).hexdigest(),
        }


def test_scan_reports_sha256_first_and_extra_digests(mixed_dir: Path) -> None:
    import blake3  # type: ignore[import-not-found,unused-ignore]

    result = scan(str(mixed_dir / "big.gguf"), options=ScanOptions(cache=False, digests=("blake3",)))
    entry = result.models[0].files[0]
    data = (mixed_dir / "big.gguf").read_bytes()
    assert [d.algorithm for d in entry.digests] == ["sha256", "blake3"]
    assert entry.sha256 == hashlib.sha256(data).hexdigest()
    assert entry.digests[1].hex == blake3.blake3(data).hexdigest()


def test_digest_names_are_checked() -> None:
    assert normalise_algorithms(["BLAKE3", " sha256", "sha512", ""]) == ("sha256", "blake3", "sha512")
    assert normalise_algorithms([]) == ("sha256",)
    with pytest.raises(UsageError, match="unknown digest"):
        normalise_algorithms(["sha256", "crc32"])


def test_missing_blake3_is_a_clear_usage_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "blake3", None)  # import blake3 now raises ImportError
    with pytest.raises(DependencyMissing, match=r"pip install 'l-bom\[blake3\]'"):
        normalise_algorithms(["blake3"])
    write_gguf(tmp_path / "m.gguf")
    with pytest.raises(UsageError):
        scan(str(tmp_path), options=ScanOptions(cache=False, digests=("sha256", "blake3")))


def test_progress_events_cover_all_files_and_bytes(mixed_dir: Path) -> None:
    events: list[ProgressEvent] = []
    scan(str(mixed_dir), options=ScanOptions(cache=False, jobs=2, progress=events.append))
    last = events[-1]
    total = sum(p.stat().st_size for p in mixed_dir.rglob("*") if p.is_file())
    assert (last.files_done, last.files_total) == (
        last.files_total,
        len([p for p in mixed_dir.rglob("*") if p.is_file()]),
    )
    assert last.bytes_done == last.bytes_total == total
    assert [e.bytes_done for e in events] == sorted(e.bytes_done for e in events)


def test_file_vanishing_before_it_is_read_is_a_finding(tmp_path: Path) -> None:
    from lbom._read_pipeline import read_all
    from lbom.scan import discover

    write_gguf(tmp_path / "a.gguf")
    write_gguf(tmp_path / "b.gguf")
    found = discover([str(tmp_path)])
    (tmp_path / "b.gguf").unlink()
    for jobs in (1, 2):
        results = list(read_all(found.candidates, ScanOptions(cache=False, jobs=jobs), None))
        assert [r.header is not None for r in results] == [True, False]
        assert [f.rule_id for f in results[1].findings] == ["LBOM-SCAN-002"]


@pytest.mark.parametrize("jobs", [1, 2])
def test_cancel_stops_between_files_and_inside_large_hashes(mixed_dir: Path, jobs: int) -> None:
    from lbom.errors import ScanCancelled

    calls = 0

    def cancel_after_some() -> bool:
        nonlocal calls
        calls += 1
        return calls > 3

    with pytest.raises(ScanCancelled):
        scan(str(mixed_dir), options=ScanOptions(cache=False, jobs=jobs, cancel=cancel_after_some))
    calls = 0
    with pytest.raises(ScanCancelled):  # the big file alone: cancelled between its chunks
        scan(str(mixed_dir / "big.gguf"), options=ScanOptions(cache=False, jobs=jobs, cancel=cancel_after_some))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="sparse files")
def test_an_interrupted_scan_does_not_finish_hashing_a_large_file_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C (KeyboardInterrupt on the main thread) while a worker hashes a big file: the worker stops within a
    chunk instead of hashing the rest of the file before the scan can exit."""
    import threading
    import time

    import lbom._hashing
    from tests.perf.test_memory import sparse_gguf

    size = 4 * 1024**3
    big = sparse_gguf(tmp_path / "big.gguf", size)
    hashed = [0]
    real_digest_file = lbom._hashing.digest_file

    def counting(path: str, algorithms: tuple[str, ...] = ("sha256",), on_bytes: object = None) -> object:
        def count(n: int) -> None:
            hashed[0] += n
            if callable(on_bytes):
                on_bytes(n)

        return real_digest_file(path, algorithms, count)

    monkeypatch.setattr(lbom._hashing, "digest_file", counting)

    def interrupt(event: ProgressEvent) -> None:
        if event.bytes_done > 0:
            raise KeyboardInterrupt

    options = ScanOptions(cache=False, jobs=2, progress=interrupt)
    with pytest.raises(KeyboardInterrupt):
        scan(str(big), options=options)
    time.sleep(0.5)  # a worker still running would keep counting
    assert not [t for t in threading.enumerate() if t.name.startswith("lbom-hash")]  # the pool is gone
    assert hashed[0] < size // 4, f"{hashed[0]:,} of {size:,} bytes hashed after the interrupt"
