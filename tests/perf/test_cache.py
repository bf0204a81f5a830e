"""The persistent cache: a changed file is never served a stale result; an unchanged one is never read twice."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

import lbom._hashing
import lbom._read_pipeline
from lbom._cache import DB_NAME, cache_info, clear_cache, is_inside
from lbom._formats.interface import DEFAULT_LIMITS, Limits
from lbom.scan import ScanOptions, scan
from tests.builders import write_gguf


@dataclass
class Counts:
    headers: int = 0
    hashes: int = 0


@pytest.fixture
def counts(monkeypatch: pytest.MonkeyPatch) -> Counts:
    """How many header reads (sniffs) and digest passes the scans below perform."""
    seen = Counts()
    real_pick, real_digest = lbom._read_pipeline.pick_reader_for, lbom._hashing.digest_file

    def pick(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.headers += 1
        return real_pick(*args, **kwargs)

    def digest(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.hashes += 1
        return real_digest(*args, **kwargs)

    monkeypatch.setattr(lbom._read_pipeline, "pick_reader_for", pick)
    monkeypatch.setattr(lbom._hashing, "digest_file", digest)
    return seen


def run(path: Path, cache_dir: Path, **kwargs: object) -> dict[str, str | None]:
    """Scan and return {file path: sha256}."""
    options = ScanOptions(cache_dir=str(cache_dir), jobs=kwargs.pop("jobs", 2), **kwargs)  # type: ignore[arg-type]
    result = scan(str(path), options=options)
    return {f.path: f.sha256 for m in result.models for f in m.files}


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tick() -> None:
    """Let the file system's timestamp clock move on (ctime granularity can be a few milliseconds)."""
    time.sleep(0.03)


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "models"
    folder.mkdir()
    write_gguf(folder / "a.gguf", tokens=50)
    write_gguf(folder / "b.gguf", tokens=60, file_type=7)
    return folder


def test_warm_scan_reads_nothing_and_gives_the_same_result(model_dir: Path, tmp_path: Path, counts: Counts) -> None:
    cold = scan(str(model_dir), options=ScanOptions(cache_dir=str(tmp_path / "c")))
    assert (counts.headers, counts.hashes) == (2, 2)
    warm = scan(str(model_dir), options=ScanOptions(cache_dir=str(tmp_path / "c")))
    assert (counts.headers, counts.hashes) == (2, 2)
    assert warm == cold


def test_no_cache_and_rehash_recompute(model_dir: Path, tmp_path: Path, counts: Counts) -> None:
    cache = tmp_path / "c"
    run(model_dir, cache)
    run(model_dir, cache, cache=False)
    assert (counts.headers, counts.hashes) == (4, 4)
    run(model_dir, cache, rehash=True)
    assert (counts.headers, counts.hashes) == (6, 6)
    run(model_dir, cache)
    assert (counts.headers, counts.hashes) == (6, 6)
    run(model_dir, tmp_path / "unused", cache=False)
    assert not (tmp_path / "unused").exists()


def test_no_hash_scan_then_hash_scan_reuses_the_header(model_dir: Path, tmp_path: Path, counts: Counts) -> None:
    cache = tmp_path / "c"
    assert set(run(model_dir, cache, hash=False).values()) == {None}
    assert (counts.headers, counts.hashes) == (2, 0)
    digests = run(model_dir, cache)
    assert (counts.headers, counts.hashes) == (2, 2)
    assert digests[str(model_dir / "a.gguf")] == sha(model_dir / "a.gguf")


def test_extra_digest_is_computed_once_sha256_kept(model_dir: Path, tmp_path: Path, counts: Counts) -> None:
    import blake3  # type: ignore[import-not-found,unused-ignore]

    cache = tmp_path / "c"
    run(model_dir, cache)
    result = scan(str(model_dir), options=ScanOptions(cache_dir=str(cache), digests=("sha256", "blake3")))
    assert counts.hashes == 4
    entry = result.models[0].files[0]
    data = Path(entry.path).read_bytes()
    assert [(d.algorithm, d.hex) for d in entry.digests] == [
        ("sha256", hashlib.sha256(data).hexdigest()),
        ("blake3", blake3.blake3(data).hexdigest()),
    ]


def test_touch_invalidates(model_dir: Path, tmp_path: Path, counts: Counts) -> None:
    cache = tmp_path / "c"
    run(model_dir, cache)
    tick()
    (model_dir / "a.gguf").touch()
    run(model_dir, cache)
    assert counts.hashes == 3  # only a.gguf again


def test_truncate_invalidates(model_dir: Path, tmp_path: Path, counts: Counts) -> None:
    cache = tmp_path / "c"
    run(model_dir, cache)
    target = model_dir / "a.gguf"
    os.truncate(target, target.stat().st_size - 16)
    result = scan(str(model_dir), options=ScanOptions(cache_dir=str(cache)))
    model = next(m for m in result.models if m.path.endswith("a.gguf"))
    assert model.files[0].sha256 == sha(target)
    assert model.files[0].size == target.stat().st_size
    assert any(f.rule_id.startswith("LBOM-GGUF") for f in model.findings)  # the truncation is reported, not hidden


def test_same_size_rewrite_with_mtime_restored_invalidates(model_dir: Path, tmp_path: Path, counts: Counts) -> None:
    """Content changes, size and mtime are put back: the change time still tells the cache."""
    cache = tmp_path / "c"
    target = model_dir / "a.gguf"
    before = target.stat()
    run(model_dir, cache)
    tick()
    data = bytearray(target.read_bytes())
    data[-1] ^= 0xFF
    with open(target, "r+b") as handle:
        handle.write(data)
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = target.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (before.st_size, before.st_mtime_ns, before.st_ino)
    assert run(model_dir, cache)[str(target)] == sha(target)


def test_replace_with_same_size_file_invalidates(model_dir: Path, tmp_path: Path) -> None:
    cache = tmp_path / "c"
    target = model_dir / "a.gguf"
    run(model_dir, cache)
    data = bytearray(target.read_bytes())
    data[-2] ^= 0x55
    replacement = tmp_path / "new.gguf"
    replacement.write_bytes(data)
    os.utime(replacement, ns=(target.stat().st_atime_ns, target.stat().st_mtime_ns))
    os.replace(replacement, target)
    assert run(model_dir, cache)[str(target)] == hashlib.sha256(data).hexdigest()


def test_rename_gives_the_new_path_and_right_digest(model_dir: Path, tmp_path: Path) -> None:
    cache = tmp_path / "c"
    write_gguf(model_dir / "c.gguf", file_type=None)  # a file with a finding that names it
    run(model_dir, cache)
    os.rename(model_dir / "c.gguf", model_dir / "d.gguf")
    result = scan(str(model_dir), options=ScanOptions(cache_dir=str(cache)))
    renamed = next(m for m in result.models if m.path.endswith("d.gguf"))
    assert renamed.files[0].sha256 == sha(model_dir / "d.gguf")
    assert renamed.findings and all("c.gguf" not in (f.file or "") for f in renamed.findings)
    assert {f.file for f in renamed.findings} == {str(model_dir / "d.gguf")}


def test_hard_link_each_path_named_in_its_own_findings(model_dir: Path, tmp_path: Path, counts: Counts) -> None:
    cache = tmp_path / "c"
    write_gguf(model_dir / "c.gguf", file_type=None)
    run(model_dir, cache)
    os.link(model_dir / "c.gguf", model_dir / "e.gguf")
    result = scan(str(model_dir), options=ScanOptions(cache_dir=str(cache)))
    by_name = {os.path.basename(m.path): m for m in result.models}
    for name in ("c.gguf", "e.gguf"):
        model = by_name[name]
        assert model.files[0].sha256 == sha(model_dir / name)
        assert {f.file for f in model.findings} == {str(model_dir / name)}
    # A second scan of both names: the shared inode is one entry, valid for either path.
    hashes = counts.hashes
    again = scan(str(model_dir), options=ScanOptions(cache_dir=str(cache)))
    assert counts.hashes == hashes
    assert again == result


def test_changed_limits_or_version_do_not_reuse(model_dir: Path, tmp_path: Path, counts: Counts) -> None:
    cache = tmp_path / "c"
    run(model_dir, cache)
    run(model_dir, cache, limits=Limits(max_string_bytes=1024))
    assert counts.headers == 4
    info = cache_info(str(cache), DEFAULT_LIMITS)
    assert (info.entries, info.current_entries) == (4, 2)


def test_cache_is_never_placed_inside_a_scanned_folder(model_dir: Path, counts: Counts) -> None:
    inside = model_dir / ".cache"
    run(model_dir, inside)
    assert not inside.exists()
    assert is_inside(str(inside), [str(model_dir)])
    assert not is_inside(str(model_dir.parent / "elsewhere"), [str(model_dir)])


def test_unusable_cache_does_not_fail_the_scan(model_dir: Path, tmp_path: Path) -> None:
    cache = tmp_path / "c"
    cache.mkdir()
    (cache / DB_NAME).write_bytes(b"this is not a database" * 100)
    assert run(model_dir, cache)[str(model_dir / "a.gguf")] == sha(model_dir / "a.gguf")


def test_clear_removes_everything(model_dir: Path, tmp_path: Path) -> None:
    cache = tmp_path / "c"
    run(model_dir, cache)
    assert cache_info(str(cache), DEFAULT_LIMITS).entries == 2
    assert clear_cache(str(cache)) > 0
    assert not cache_info(str(cache), DEFAULT_LIMITS).exists


def test_concurrent_processes_share_one_cache(tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(40):
        write_gguf(folder / f"m{i:02d}.gguf", tokens=20 + i)
    cache = tmp_path / "shared-cache"
    base = [sys.executable, "-m", "lbom", "scan", str(folder), "--cache-dir", str(cache), "--jobs", "2"]
    commands = [base, base, [*base, "--rehash"], [*base, "--digest", "sha256,sha512"], base, [*base, "--rehash"]]
    procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for c in commands]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * len(procs), [o[1] for o in outputs]
    assert all(err == b"" for _, err in outputs)
    plain = [out for (out, _), c in zip(outputs, commands, strict=True) if "--digest" not in c]
    assert len(set(plain)) == 1
    db = sqlite3.connect(cache / DB_NAME)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert db.execute("SELECT COUNT(*) FROM entries").fetchone() == (40,)
    db.close()
    warm = subprocess.run(base, capture_output=True, check=True)
    assert warm.stdout == plain[0]


def test_cache_cli(tmp_path: Path, model_dir: Path) -> None:
    cache = tmp_path / "cli-cache"
    lbom = [sys.executable, "-m", "lbom"]
    subprocess.run([*lbom, "scan", str(model_dir), "--cache-dir", str(cache)], check=True, capture_output=True)
    info = subprocess.run([*lbom, "cache", "info", "--cache-dir", str(cache)], check=True, capture_output=True)
    assert b"entries: 2" in info.stdout
    subprocess.run([*lbom, "cache", "clear", "--cache-dir", str(cache)], check=True, capture_output=True)
    info = subprocess.run([*lbom, "cache", "info", "--cache-dir", str(cache)], check=True, capture_output=True)
    assert b"empty" in info.stdout
    shutil.rmtree(cache, ignore_errors=True)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the direct XDG rule is used on Linux only")
@pytest.mark.parametrize("xdg", [None, "", "   ", "/srv/cache", "relative/cache", " /srv/cache"])
@pytest.mark.parametrize("home", ["/home/someone", "relative-home", None])
def test_default_cache_dir_is_what_platformdirs_says(
    monkeypatch: pytest.MonkeyPatch, xdg: str | None, home: str | None
) -> None:
    import platformdirs

    from lbom._cache import default_cache_dir

    if home is None:
        monkeypatch.delenv("HOME", raising=False)
    else:
        monkeypatch.setenv("HOME", home)
    if xdg is None:
        monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CACHE_HOME", xdg)
    assert default_cache_dir() == platformdirs.user_cache_dir("l-bom", appauthor=False)


def test_headers_and_template_memo_share_one_connection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A model with a chat template: the scan reads its header through the cache and stores the template analysis
    # in the memo, both on one connection (a second would pay its own open and its own checkpoint on close).
    import lbom._cache

    (tmp_path / "models").mkdir()
    model = write_gguf(tmp_path / "models" / "chat.gguf", extra={"tokenizer.chat_template": "{{ messages }}"})
    connections: list[str] = []
    real_connect = lbom._cache._connect

    def counting(path: str, create: bool = True) -> sqlite3.Connection | None:
        connections.append(path)
        return real_connect(path, create)

    monkeypatch.setattr(lbom._cache, "_connect", counting)
    options = ScanOptions(cache_dir=str(tmp_path / "cache"), hash=False)
    first = scan([str(model)], options=options)
    assert len(connections) == 1
    db = sqlite3.connect(tmp_path / "cache" / DB_NAME)
    assert db.execute("SELECT COUNT(*) FROM template_findings").fetchone() == (1,)
    assert db.execute("SELECT COUNT(*) FROM entries").fetchone() == (1,)
    db.close()
    again = scan([str(model)], options=options)
    assert len(connections) == 2 and again.models == first.models
