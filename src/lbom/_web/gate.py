"""Compare, verify, lock and check a policy from the GUI: thin adapters from a finished scan to the gate library
(``lbom._diff``, ``lbom._lock``, ``lbom._verify``, ``lbom._policy``), imported when first used."""

from __future__ import annotations

from lbom.model import JsonValue, ScanResult


def diff_against(old_text: str, old_name: str, new: ScanResult, new_name: str) -> dict[str, JsonValue]:
    """Compare an earlier document or lock file (as text) with a scan: what was added, removed, changed."""
    from lbom._diff import diff_snapshots, render_diff, snapshot_from_text
    from lbom._render import render

    old_snapshot = snapshot_from_text(old_text, old_name)
    new_snapshot = snapshot_from_text(render(new, "json"), new_name)
    result = diff_snapshots(old_snapshot, new_snapshot, old_name, new_name)
    return {"ok": result.identical, "text": render_diff(result, "table"), "diff": result.to_json()}


def lock_text(result: ScanResult, root: str) -> str:
    """The lock file (TOML) that pins a hashed scan of ``root``."""
    from lbom._lock import lock_from_scan

    return lock_from_scan(result, root).to_toml()


def verify_against(lock: str, result: ScanResult, root: str) -> dict[str, JsonValue]:
    """Compare a scan of ``root`` with an uploaded lock file."""
    from lbom._lock import parse_lock
    from lbom._verify import verify_scan

    outcome = verify_scan(parse_lock(lock, "uploaded lock file"), result, root)
    summary = f"{outcome.files_checked} file(s) checked; " + ("everything matches" if outcome.ok else "differences:")
    return {"ok": outcome.ok, "text": "\n".join([summary, *outcome.lines()]), "verify": outcome.to_json()}


def check_policy(policy: str, result: ScanResult) -> dict[str, JsonValue]:
    """Check a scan against an uploaded policy file (TOML): violations and failing findings."""
    from lbom._policy import check, parse_policy

    outcome = check(result, parse_policy(policy, "uploaded policy"))
    failures = outcome.failures
    summary = f"{outcome.models_checked} model(s) checked against the policy; " + (
        "passed" if outcome.passed else f"{len(failures)} failure(s):"
    )
    lines = [f"{f.severity.value:8} {f.rule_id}  {f.file or ''}: {f.message}" for f in failures]
    lines += [f"ignored  {i.finding.rule_id}  {i.reason}" for i in outcome.ignored]
    return {
        "ok": outcome.passed,
        "text": "\n".join([summary, *lines]),
        "check": outcome.to_json(),
        "findings": [f.to_json() for f in failures],
    }
