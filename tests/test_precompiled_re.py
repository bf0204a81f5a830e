"""lbom._precompiled_re: shipped compiled patterns are exactly what re compiles now; anything else falls back."""

from __future__ import annotations

import re
import struct
import sys

import pytest

from lbom import _precompiled_re as precompiled
from lbom._formats import gguf


def test_every_pattern_in_use_is_in_the_table_for_this_python_and_current() -> None:
    # Fails after a change to the GGUF string regex until `python -m lbom._precompiled_re` is run again (under
    # each supported Python); an entry that no longer matches what re compiles would be a silent slow path.
    table = precompiled._table()
    for pattern in precompiled.patterns_in_use():
        key = precompiled._key(pattern)
        assert key in table, f"no entry for Python {sys.version_info[:2]}: run python -m lbom._precompiled_re"
        assert table[key] == precompiled.record(pattern)


def test_the_table_holds_entries_for_every_supported_python() -> None:
    versions = {key[:2] for key in precompiled._table()}
    assert {(3, 10), (3, 11), (3, 12), (3, 13)} <= versions


def _walk(pattern: re.Pattern[bytes], data: bytes) -> list[int]:
    ends, pos = [], 0
    while (match := pattern.match(data, pos)) is not None:
        ends.append(match.end())
        pos = match.end()
    return ends


@pytest.mark.parametrize("byte_order", ["<", ">"])
@pytest.mark.parametrize("run", [gguf._SHORT_RUN, gguf._SMALL_RUN])
def test_a_table_pattern_matches_as_re_compiles_it(byte_order: str, run: int) -> None:
    pattern = gguf._short_string_run.__wrapped__(byte_order, run)  # type: ignore[attr-defined]
    reference = re.compile(pattern.pattern)
    assert precompiled._from_table(pattern.pattern, precompiled._table()[precompiled._key(pattern.pattern)])
    assert (pattern.pattern, pattern.flags, pattern.groups) == (reference.pattern, reference.flags, reference.groups)
    strings = [bytes([65 + i % 26]) * (i * 7 % 70) for i in range(3 * run)]  # lengths 0..69: some too long to match
    data = b"".join(struct.pack(byte_order + "Q", len(s)) + s for s in strings)
    assert _walk(pattern, data) == _walk(reference, data)
    assert _walk(pattern, data[:-1]) == _walk(reference, data[:-1])


def test_unknown_patterns_and_refused_code_compile_the_usual_way(monkeypatch: pytest.MonkeyPatch) -> None:
    assert precompiled.compile(rb"(?s)ab+c").pattern == rb"(?s)ab+c"
    pattern = precompiled.patterns_in_use()[0]
    key = precompiled._key(pattern)
    flags, code, groups, groupindex, indexgroup = precompiled._table()[key]
    broken = {key: (flags, code[: len(code) // 2], groups, groupindex, indexgroup)}  # the engine refuses it
    monkeypatch.setattr(precompiled, "_table", lambda: broken)
    assert precompiled._from_table(pattern, broken[key]) is None
    compiled = precompiled.compile(pattern)
    assert compiled.pattern == pattern and compiled.match(struct.pack("<Q", 1) + b"x" * 4096) is None
