"""lbom._precompiled_re: shipped compiled patterns are exactly what re compiles now, a first scan on the recording
build compiles none, and anything else falls back to re."""

from __future__ import annotations

import importlib
import re
import struct
import subprocess
import sys
from types import SimpleNamespace
from typing import Any

import pytest

from lbom import _precompiled_re as precompiled
from lbom import _precompiled_re_writer as writer
from lbom._formats import gguf

SUPPORTED = ("310", "311", "312", "313")


def _this_table() -> Any:
    if f"{sys.version_info[0]}{sys.version_info[1]}" not in SUPPORTED:
        pytest.skip(f"no table for Python {sys.version_info[:2]}: its patterns compile as usual")
    table = precompiled._table()
    assert table is not None, f"no table for Python {sys.version_info[:2]}: run python -m lbom._precompiled_re_writer"
    return table


def test_every_entry_is_what_re_compiles_now() -> None:
    # Fails after a change to a recorded pattern's compilation (a new Python build, say) until the writer is run
    # again: an entry that no longer matches what re compiles would be a silent slow path.
    entries = _this_table().PATTERNS
    assert len(entries) > 40
    for entry in entries:
        assert entry == writer.record(entry[0], entry[1]), entry[0]


def test_the_gguf_string_run_patterns_are_in_the_table() -> None:
    recorded = {(entry[0], entry[1]) for entry in _this_table().PATTERNS}
    for pattern in gguf.precompiled_patterns():
        assert (pattern, 0) in recorded


@pytest.mark.parametrize("version", SUPPORTED)
def test_there_is_a_table_for_every_supported_python(version: str) -> None:
    from lbom._precompiled_re_versions import RECORDED

    table = importlib.import_module(f"lbom._precompiled_re_{version}")
    assert table.VERSION[:2] == (int(version[0]), int(version[1:]))
    assert RECORDED[table.VERSION[:2]] == table.VERSION  # read before the table, to decide whether to load it
    assert isinstance(table.MAGIC, int) and table.CODESIZE == 4
    patterns = {entry[0] for entry in table.PATTERNS}
    assert len(patterns) > 40 and all(isinstance(p, (str, bytes)) for p in patterns)


FIRST_SCAN = """
import sys
import re
compiler = sys.modules.get("re._compiler") or sys.modules.get("sre_compile")
compiled = []
original = compiler.compile
def spy(pattern, flags=0):
    compiled.append(pattern)
    return original(pattern, flags)
compiler.compile = spy
from lbom._cli import main
try:
    main(["scan", sys.argv[1], "--no-hash", "--cache-dir", sys.argv[2]])
except SystemExit:
    pass
print(repr(compiled))
"""


def test_a_first_scan_on_the_recording_build_compiles_no_pattern(tmp_path: Any) -> None:
    from tests.conftest import EXAMPLES

    table = _this_table()
    if tuple(sys.version_info[:3]) != table.VERSION:
        pytest.skip(f"the table was recorded on Python {table.VERSION}: nothing is seeded here")
    out = subprocess.run(
        [sys.executable, "-c", FIRST_SCAN, str(EXAMPLES), str(tmp_path / "cache")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    # Fails after a new or changed regular expression on the scan path until the writer is run again.
    assert out.stdout.strip().splitlines()[-1] == "[]", "run python -m lbom._precompiled_re_writer"


def _walk(pattern: re.Pattern[bytes], data: bytes) -> list[int]:
    ends, pos = [], 0
    while (match := pattern.match(data, pos)) is not None:
        ends.append(match.end())
        pos = match.end()
    return ends


def _entry(pattern: bytes) -> Any:
    (entry,) = [entry for entry in _this_table().PATTERNS if entry[:2] == (pattern, 0)]
    return entry


@pytest.mark.parametrize("byte_order", ["<", ">"])
@pytest.mark.parametrize("run", [gguf._SHORT_RUN, gguf._SMALL_RUN])
def test_a_table_pattern_matches_as_re_compiles_it(byte_order: str, run: int) -> None:
    pattern = gguf._short_string_run.__wrapped__(byte_order, run)  # type: ignore[attr-defined]
    from_table = precompiled._from_entry(_entry(pattern.pattern))
    assert from_table is not None
    reference = re.compile(pattern.pattern)
    assert (from_table.pattern, from_table.flags, from_table.groups) == (
        reference.pattern,
        reference.flags,
        reference.groups,
    )
    strings = [bytes([65 + i % 26]) * (i * 7 % 70) for i in range(3 * run)]  # lengths 0..69: some too long to match
    data = b"".join(struct.pack(byte_order + "Q", len(s)) + s for s in strings)
    for compiled in (from_table, pattern):
        assert _walk(compiled, data) == _walk(reference, data)
        assert _walk(compiled, data[:-1]) == _walk(reference, data[:-1])


def test_seeding_fills_re_cache_on_the_recording_build_only(monkeypatch: pytest.MonkeyPatch) -> None:
    entries = _this_table().PATTERNS[:3]
    keys = [(type(entry[0]), entry[0], entry[1]) for entry in entries]
    cache: dict[Any, Any] = {}
    monkeypatch.setattr(re, "_cache", cache)
    if hasattr(re, "_cache2"):  # 3.12+: a second, smaller cache re reads first
        monkeypatch.setattr(re, "_cache2", {})
    fake = SimpleNamespace(VERSION=(3, 0, 0), PATTERNS=entries)
    monkeypatch.setattr(precompiled, "_table", lambda: fake)
    monkeypatch.setattr(precompiled, "_recorded_here", lambda: True)
    assert precompiled.seed() == 0 and cache == {}  # the table's own version is not this one
    fake.VERSION = tuple(sys.version_info[:3])
    monkeypatch.setattr(precompiled, "_recorded_here", lambda: False)
    assert precompiled.seed() == 0 and cache == {}  # the versions module says no: the table is not even read
    monkeypatch.setattr(precompiled, "_recorded_here", lambda: True)
    assert precompiled.seed() == 3
    assert list(cache) == keys
    for entry, key in zip(entries, keys, strict=True):
        assert re.compile(entry[0], entry[1]) is cache[key]  # re answers from its cache
        assert cache[key].pattern == entry[0]
    assert precompiled.seed() == 0  # already there: kept


def test_unknown_patterns_and_refused_code_compile_the_usual_way(monkeypatch: pytest.MonkeyPatch) -> None:
    assert precompiled.compile(rb"(?s)ab+c").pattern == rb"(?s)ab+c"
    pattern = gguf.precompiled_patterns()[0]
    entry = _entry(pattern)
    broken = (*entry[:3], entry[3][: len(entry[3]) // 2], *entry[4:])  # the engine refuses half the code
    assert precompiled._from_entry(broken) is None
    broken_table = SimpleNamespace(VERSION=tuple(sys.version_info[:3]), PATTERNS=(broken,))
    monkeypatch.setattr(precompiled, "_table", lambda: broken_table)
    monkeypatch.setattr(precompiled, "_recorded_here", lambda: False)  # another micro version: the table is read
    compiled = precompiled.compile(pattern)
    assert compiled.pattern == pattern and compiled.match(struct.pack("<Q", 1) + b"x" * 4096) is None
    cache: dict[Any, Any] = {}
    monkeypatch.setattr(re, "_cache", cache)
    monkeypatch.setattr(precompiled, "_recorded_here", lambda: True)
    assert precompiled.seed() == 0 and cache == {}


def test_on_the_recorded_version_the_gguf_patterns_come_from_the_seeded_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    pattern = gguf.precompiled_patterns()[0]
    seeded = precompiled._from_entry(_entry(pattern))
    monkeypatch.setattr(re, "_cache", {(bytes, pattern, 0): seeded})
    if hasattr(re, "_cache2"):
        monkeypatch.setattr(re, "_cache2", {})
    monkeypatch.setattr(precompiled, "_recorded_here", lambda: True)
    assert precompiled.compile(pattern) is seeded  # not built from the table a second time


def test_only_the_recorded_cpython_version_seeds(monkeypatch: pytest.MonkeyPatch) -> None:
    from lbom import _precompiled_re_versions as versions

    minor = tuple(sys.version_info[:2])
    monkeypatch.setattr(versions, "RECORDED", {minor: tuple(sys.version_info[:3])})
    assert precompiled._recorded_here() == (sys.implementation.name == "cpython")
    monkeypatch.setattr(versions, "RECORDED", {minor: (*minor, sys.version_info[2] + 1)})  # another micro
    assert not precompiled._recorded_here()
    monkeypatch.setattr(sys, "implementation", SimpleNamespace(name="pypy"))
    monkeypatch.setattr(versions, "RECORDED", {minor: tuple(sys.version_info[:3])})
    assert not precompiled._recorded_here()


def test_a_missing_or_foreign_table_is_no_table(monkeypatch: pytest.MonkeyPatch) -> None:
    name = precompiled._table_name()
    monkeypatch.setitem(sys.modules, name, None)  # import blocked (as the writer's workload does)
    assert precompiled._table() is None
    monkeypatch.setitem(sys.modules, name, SimpleNamespace(MAGIC=1, CODESIZE=4, VERSION=(3, 0, 0), PATTERNS=()))
    assert precompiled._table() is None  # another engine
