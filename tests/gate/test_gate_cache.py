"""lock, verify and check against the persistent scan cache: a cached digest proves nothing about the bytes now.

Each test poisons the cache entry of an unchanged file with a made-up digest (the cache is addressed by device and
inode, see tests/perf/test_cache.py), checks that a plain scan really serves it, and then shows which gate
commands ignore it.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

import lbom
from lbom._cache import DB_NAME
from lbom.scan import ScanOptions, scan
from tests.gate.fixtures import run_cli

FAKE = "0" * 64
GGUF = "tiny-Q4_K_M.gguf"


def poison(cache: Path, file: Path) -> None:
    """Replace the cached digests of ``file`` (whose bytes do not change) with :data:`FAKE`."""
    st = file.stat()
    db = sqlite3.connect(cache / DB_NAME)
    try:
        with db:
            changed = db.execute(
                "UPDATE entries SET digests = ? WHERE dev = ? AND ino = ?",
                (json.dumps({"sha256": FAKE}), st.st_dev, st.st_ino),
            ).rowcount
    finally:
        db.close()
    assert changed == 1


def cached_sha(folder: Path, cache: Path) -> str | None:
    """What a plain (cache-using) scan says the GGUF's SHA-256 is."""
    result = scan(str(folder), options=ScanOptions(cache_dir=str(cache)))
    return next(f.sha256 for m in result.models for f in m.files if f.path.endswith(GGUF))


@pytest.fixture
def cache(folder: Path, tmp_path: Path) -> Path:
    """A scan cache that knows the folder, with the GGUF's digest poisoned (and a scan serving the poison)."""
    directory = tmp_path / "cache"
    scan(str(folder), options=ScanOptions(cache_dir=str(directory)))
    poison(directory, folder / GGUF)
    assert cached_sha(folder, directory) == FAKE
    return directory


def real_sha(folder: Path) -> str:
    return hashlib.sha256((folder / GGUF).read_bytes()).hexdigest()


def test_lock_writes_the_real_digest_whatever_the_cache_says(folder: Path, cache: Path, tmp_path: Path) -> None:
    lock_file = tmp_path / "models.lock"
    assert run_cli("lock", str(folder), "-o", str(lock_file), "--cache-dir", str(cache)) == 0
    assert lbom.read_lock(lock_file).files()[GGUF].sha256 == real_sha(folder)
    poison(cache, folder / GGUF)
    assert run_cli("lock", str(folder), "-o", str(lock_file), "--cache-dir", str(cache), "--rehash", "-j", "1") == 0
    assert lbom.read_lock(lock_file).files()[GGUF].sha256 == real_sha(folder)
    # The library the same way.
    poison(cache, folder / GGUF)
    assert lbom.lock(folder, options=ScanOptions(cache_dir=str(cache))).files()[GGUF].sha256 == real_sha(folder)


def test_verify_rehashes_and_records_the_fresh_digest(folder: Path, cache: Path, tmp_path: Path) -> None:
    lock_file = tmp_path / "models.lock"
    lock_file.write_text(lbom.lock(folder, options=ScanOptions(cache=False)).to_toml(), encoding="utf-8")
    poison(cache, folder / GGUF)
    assert run_cli("verify", str(folder), "--lock", str(lock_file), "--cache-dir", str(cache)) == 0
    # verify recorded what it computed, as a scan does: the poison is gone.
    assert cached_sha(folder, cache) == real_sha(folder)
    poison(cache, folder / GGUF)
    assert lbom.verify(folder, lock=lock_file, options=ScanOptions(cache_dir=str(cache))).ok


@pytest.fixture
def default_cache(folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The per-user cache (under a private XDG_CACHE_HOME), knowing the folder, with the GGUF's digest poisoned;
    and models.lock, locked before the poisoning."""
    from lbom._cache import default_cache_dir

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    (tmp_path / "models.lock").write_text(lbom.lock(folder).to_toml(), encoding="utf-8")
    cache = Path(default_cache_dir())
    scan(str(folder))
    poison(cache, folder / GGUF)
    assert cached_sha(folder, cache) == FAKE
    return cache


def test_verify_with_default_options_ignores_the_default_cache(
    folder: Path, default_cache: Path, tmp_path: Path
) -> None:
    result = lbom.verify(folder, lock=tmp_path / "models.lock")
    assert result.ok, result.lines()
    assert lbom.lock(folder).files()[GGUF].sha256 == real_sha(folder)


def test_check_takes_the_cache_options(folder: Path, cache: Path, tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[require]\nfields = ["sha256"]\n', encoding="utf-8")
    out = tmp_path / "check.json"
    args = ("check", str(folder), "--policy", str(policy), "-f", "json", "--cache-dir", str(cache), "-o", str(out))
    assert run_cli(*args) == 0
    assert run_cli(*args, "--rehash", "-j", "2") == 0
    assert cached_sha(folder, cache) == real_sha(folder)  # --rehash recorded the fresh digest
    assert run_cli(*args, "--no-cache", "--no-hash") == 1  # sha256 is required and was not computed
    report = lbom.check(folder, policy, options=ScanOptions(cache_dir=str(cache), hash=False))
    assert not report.passed


def test_mcp_verify_model_rehashes(folder: Path, default_cache: Path, tmp_path: Path) -> None:
    from lbom._mcp.tools import call_tool, make_config

    config = make_config([str(folder), str(tmp_path)])
    by_digest = call_tool(config, "verify_model", {"path": str(folder / GGUF), "sha256": real_sha(folder)})
    assert by_digest["match"] is True, by_digest
    poison(default_cache, folder / GGUF)
    by_lock = call_tool(config, "verify_model", {"path": str(folder), "lock": str(tmp_path / "models.lock")})
    assert by_lock["match"] is True, by_lock
