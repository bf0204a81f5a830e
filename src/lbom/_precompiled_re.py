"""Regular expressions whose compiled form is shipped, so a scan does not run ``re``'s compiler at start-up.

``re.compile`` parses and compiles a pattern in Python, in every process. A first ``l-bom scan`` compiles ~50
patterns: the GGUF reader's two string-run patterns (64 alternatives each, ~19 million instructions), l-bom's own
module-level patterns, and those of the standard modules and jinja2's lexer it imports (json, dataclasses,
string). Together ~15 ms on a slow machine, ~7 % of a scan of one GGUF.

``python -m lbom._precompiled_re_writer`` runs a first scan of the example models and of a large-vocabulary GGUF,
records every pattern ``re`` compiled on the way (with the flags it was given) and the arguments ``re``'s compiler
handed the regex engine (``_sre.compile``) for it, and writes them to ``lbom._precompiled_re_3NN`` for the running
Python's minor version. At run time:

- :func:`seed`, run when ``lbom`` is imported, puts each recorded pattern, compiled by the engine from the recorded
  arguments, into ``re``'s own cache, where ``re.compile`` finds it. Only on CPython of the exact version that
  recorded them (major, minor and micro, with the engine's ``MAGIC`` and code size): ``re``'s compiler is then the
  same code, so the result is what ``re`` would compile. Any other version compiles as usual, and does not load
  the table for it (:mod:`lbom._precompiled_re_versions` says which versions have one).
- :func:`compile` (the GGUF string-run patterns) takes the recorded arguments on any build of the same minor version
  with the same engine, as before this module seeded anything; the tests hold those entries equal to what ``re``
  compiles and the walks equal, on every supported Python.

Whatever is missing from the table, or refused by the engine, compiles the usual way: a stale table costs speed,
never correctness. ``tests/test_precompiled_re.py`` fails while a first scan on the recording build compiles
anything, and while an entry differs from what ``re`` compiles now.

Run the writer (:mod:`lbom._precompiled_re_writer`) under each Python the project supports, after changing or
adding a regular expression.
"""

from __future__ import annotations

import re
import sys
from typing import Any

Entry = tuple[Any, int, int, tuple[int, ...], int, tuple[tuple[str, int], ...], tuple[Any, ...]]
"""(pattern, flags as given to re.compile, flags as given to the engine, code, groups, groupindex, indexgroup)."""


def _engine() -> Any:
    """CPython's regex engine module (``_sre``, no type stubs)."""
    import _sre  # type: ignore[import-not-found,unused-ignore]

    return _sre


def _table_name() -> str:
    return f"lbom._precompiled_re_{sys.version_info[0]}{sys.version_info[1]}"


def _table() -> Any:
    """This minor version's table module, or None (not written, blocked or broken: all compile the usual way)."""
    name = _table_name()
    try:
        __import__(name)
    except Exception:
        return None
    table = sys.modules[name]
    engine = _engine()
    if (getattr(table, "MAGIC", None), getattr(table, "CODESIZE", None)) != (engine.MAGIC, engine.CODESIZE):
        return None
    return table


def _from_entry(entry: Entry) -> re.Pattern[Any] | None:
    pattern, _, engine_flags, code, groups, groupindex, indexgroup = entry
    try:
        compiled: re.Pattern[Any] = _engine().compile(
            pattern, engine_flags, list(code), groups, dict(groupindex), indexgroup
        )
    except Exception:  # an engine that refuses the recorded code: compiled the usual way instead
        return None
    return compiled


def _recorded_here() -> bool:
    """Whether this interpreter is CPython of the exact version this minor version's table was recorded on
    (checked in a tiny module before the table itself is loaded)."""
    if sys.implementation.name != "cpython":
        return False
    try:
        from lbom._precompiled_re_versions import RECORDED
    except Exception:
        return False
    major, minor, micro = sys.version_info[:3]
    return RECORDED.get((major, minor)) == (major, minor, micro)


def seed() -> int:
    """Put the recorded patterns into ``re``'s cache (those not there yet), on the CPython version that recorded
    them. Returns how many."""
    cache = getattr(re, "_cache", None)
    if not isinstance(cache, dict) or not _recorded_here():
        return 0
    table = _table()
    if table is None or tuple(getattr(table, "VERSION", ())) != tuple(sys.version_info[:3]):
        return 0
    added = 0
    for entry in table.PATTERNS:
        key = (type(entry[0]), entry[0], entry[1])
        if key not in cache:
            compiled = _from_entry(entry)
            if compiled is not None:
                cache[key] = compiled
                added += 1
    return added


def compile(pattern: bytes) -> re.Pattern[bytes]:
    """``re.compile(pattern)``, from the table when it holds this pattern for this minor version and engine."""
    if _recorded_here():
        return re.compile(pattern)  # seeded into re's cache at import: not built from the table a second time
    table = _table()
    if table is not None:
        for entry in table.PATTERNS:
            if entry[1] == 0 and entry[0] == pattern:
                compiled = _from_entry(entry)
                if compiled is not None:
                    return compiled
                break
    return re.compile(pattern)


seed()
