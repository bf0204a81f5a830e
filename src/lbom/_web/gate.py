"""Compare, verify and lock from the GUI, when this l-bom has the gate library (``lbom._diff``, ``lbom._lock``,
``lbom._verify``). Each function is a thin adapter from a finished scan to that library; ``available()`` says
whether the page should offer them at all. The modules are looked up at run time, so the GUI works (without
these features) in a tree that does not have them."""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from lbom.model import JsonValue, ScanResult

_MODULES = ("_diff", "_lock", "_verify")


def available() -> bool:
    return all(importlib.util.find_spec(f"lbom.{name}") is not None for name in _MODULES)


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"lbom.{name}")


def diff_against(old_text: str, old_name: str, new: ScanResult, new_name: str) -> dict[str, JsonValue]:
    """Compare an earlier document or lock file (as text) with a scan: what was added, removed, changed."""
    from lbom._render import render

    diff = _module("_diff")
    old_snapshot = diff.snapshot_from_text(old_text, old_name)
    new_snapshot = diff.snapshot_from_text(render(new, "json"), new_name)
    result = diff.diff_snapshots(old_snapshot, new_snapshot, old_name, new_name)
    identical: bool = result.identical
    text: str = diff.render_diff(result, "table")
    document: dict[str, JsonValue] = result.to_json()
    return {"ok": identical, "text": text, "diff": document}


def lock_text(result: ScanResult, root: str) -> str:
    """The lock file (TOML) that pins a hashed scan of ``root``."""
    text: str = _module("_lock").lock_from_scan(result, root).to_toml()
    return text


def verify_against(lock: str, result: ScanResult, root: str) -> dict[str, JsonValue]:
    """Compare a scan of ``root`` with an uploaded lock file."""
    locks = _module("_lock")
    outcome = _module("_verify").compare_locks(
        locks.parse_lock(lock, "uploaded lock file"), locks.lock_from_scan(result, root)
    )
    ok: bool = outcome.ok
    lines: list[str] = outcome.lines()
    document: dict[str, JsonValue] = outcome.to_json()
    summary = f"{outcome.files_checked} file(s) checked; " + ("everything matches" if ok else "differences:")
    return {"ok": ok, "text": "\n".join([summary, *lines]), "verify": document}
