"""Diffs between two l-bom documents (JSON scan output) or lock files: what changed between two model sets.

Both inputs are reduced to the same shape, models keyed by path with their identity facts, files (size,
SHA-256) and findings, then compared: models added and removed, and per model the changed facts (format,
architecture, quantization, parameter count, license), files added/removed/changed, and findings that appeared
or went away. A lock file carries no findings, so comparing a lock with a document compares facts and files.

Paths are keyed relative to what was scanned or locked (a lock's paths already are; a document's come from its
files' ``relative_path``), so two scans of the same folder reached by different paths, two copies of a folder, or
a lock and a document compare model by model. A file one side gives no SHA-256 for (a ``scan --no-hash`` document)
is compared by size only, and the result says so (:attr:`DiffResult.size_only_note`). Sidecar and tokenizer files
(config.json, README.md, tokenizer.json, ...) are compared only when both sides list them with digests: a lock
does, a scan document does not.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from typing import Any

from lbom._lock import IDENTITY_FACTS, SIDECAR_ROLES, parse_lock
from lbom._records import dataclass
from lbom.errors import InputError, UsageError
from lbom.model import JsonValue

Fact = str | int | None


@dataclass(frozen=True)
class ModelSnapshot:
    """One model as either input describes it."""

    path: str
    facts: Mapping[str, Fact]
    files: Mapping[str, tuple[int | None, str | None]]
    """relative path -> (size, sha256)"""
    findings: frozenset[tuple[str, str, str, str]] | None
    """(rule_id, severity, location, message); ``None`` when the input cannot carry findings (a lock)."""
    sidecars: frozenset[str] | None = None
    """Which of ``files`` are sidecars; ``None`` when the input does not list sidecars with digests (a document)."""


@dataclass(frozen=True)
class FileDiff:
    """A file added, removed or changed between two documents, with its digests and sizes on each side."""

    path: str
    kind: str  # "added", "removed", "changed"
    old_sha256: str | None = None
    new_sha256: str | None = None
    old_size: int | None = None
    new_size: int | None = None

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "path": self.path,
            "kind": self.kind,
            "old_sha256": self.old_sha256,
            "new_sha256": self.new_sha256,
            "old_size": self.old_size,
            "new_size": self.new_size,
        }


@dataclass(frozen=True)
class FindingRef:
    """A finding as a diff compares it: rule, severity, where and what."""

    rule_id: str
    severity: str
    location: str
    message: str

    def to_json(self) -> dict[str, JsonValue]:
        return {"rule_id": self.rule_id, "severity": self.severity, "location": self.location, "message": self.message}


@dataclass(frozen=True)
class ModelDiff:
    """Everything that changed in one model present in both inputs."""

    path: str
    facts: tuple[tuple[str, Fact, Fact], ...] = ()
    """(fact, old, new)"""
    files: tuple[FileDiff, ...] = ()
    findings_added: tuple[FindingRef, ...] = ()
    findings_removed: tuple[FindingRef, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.facts or self.files or self.findings_added or self.findings_removed)

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "path": self.path,
            "facts": [{"fact": name, "old": old, "new": new} for name, old, new in self.facts],
            "files": [f.to_json() for f in self.files],
            "findings_added": [f.to_json() for f in self.findings_added],
            "findings_removed": [f.to_json() for f in self.findings_removed],
        }


@dataclass(frozen=True)
class DiffResult:
    """The difference between OLD and NEW. ``identical`` is true when nothing changed."""

    old: str
    new: str
    added_models: tuple[str, ...] = ()
    removed_models: tuple[str, ...] = ()
    changed_models: tuple[ModelDiff, ...] = ()
    size_only: tuple[str, ...] = ()
    """Files on both sides whose contents were compared by size only, because one side has no SHA-256 for them
    (a ``scan --no-hash`` document, or an L-BOM 0.2.0 one without digests). Equal sizes say nothing about bytes."""
    size_only_sides: tuple[str, ...] = ()
    """Which inputs lack the digests of those files: ``"old"``, ``"new"`` or both."""

    @property
    def identical(self) -> bool:
        return not (self.added_models or self.removed_models or self.changed_models)

    @property
    def size_only_note(self) -> str | None:
        """One line saying how many files were compared by size only and which side has no SHA-256, or None."""
        if not self.size_only:
            return None
        count = len(self.size_only)
        names = {"old": f"OLD ({self.old})", "new": f"NEW ({self.new})"}
        who = " and ".join(names[side] for side in self.size_only_sides)
        verb = "have" if len(self.size_only_sides) > 1 else "has"
        files = "1 file" if count == 1 else f"{count} files"
        return f"{files} compared by size only: {who} {verb} no SHA-256 (scanned with --no-hash)"

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "old": self.old,
            "new": self.new,
            "identical": self.identical,
            "added_models": list(self.added_models),
            "removed_models": list(self.removed_models),
            "changed_models": [m.to_json() for m in self.changed_models],
            "compared_by_size_only": list(self.size_only),
            "size_only_note": self.size_only_note,
        }


def diff(old: str | os.PathLike[str], new: str | os.PathLike[str]) -> DiffResult:
    """Compare two l-bom JSON documents or lock files (any combination) given by path."""
    old_name, new_name = os.fspath(old), os.fspath(new)
    return diff_snapshots(load_snapshot(old_name), load_snapshot(new_name), old_name, new_name)


def load_snapshot(path: str) -> dict[str, ModelSnapshot]:
    """Read a document or lock file into models keyed by path."""
    try:
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8", "replace")
    except OSError as exc:
        raise InputError(path, exc.strerror or str(exc)) from exc
    return snapshot_from_text(text, path)


def snapshot_from_text(text: str, source: str) -> dict[str, ModelSnapshot]:
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            document = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise UsageError(f"{source}: not valid JSON: {str(exc)[:120]}") from exc
        return _from_documents(document, source)
    lock = parse_lock(text, source)
    snapshot = {}
    for model in lock.models:
        snapshot[model.path] = ModelSnapshot(
            path=model.path,
            facts=model.facts(),
            files={f.path: (f.size, f.sha256) for f in model.files},
            findings=None,
            sidecars=frozenset(f.path for f in model.files if f.role in SIDECAR_ROLES),
        )
    return snapshot


def _from_documents(document: Any, source: str) -> dict[str, ModelSnapshot]:
    documents = document if isinstance(document, list) else [document]
    models: list[tuple[str, ModelSnapshot]] = []
    for index, item in enumerate(documents):
        if not isinstance(item, dict) or not isinstance(item.get("model_path"), str):
            raise UsageError(f"{source}: item {index} is not an l-bom model document (no model_path)")
        files: dict[str, tuple[int | None, str | None]] = {}
        raw_files = item.get("files")
        model_key = item["model_path"]
        if isinstance(raw_files, list) and raw_files:
            for raw in raw_files:
                if isinstance(raw, dict) and isinstance(raw.get("path"), str):
                    key = raw.get("relative_path") if isinstance(raw.get("relative_path"), str) else raw["path"]
                    files[str(key)] = (_int(raw.get("size")), _str(raw.get("sha256")))
            model_key = _relative_model_path(model_key, raw_files)
        else:
            # An L-BOM 0.2.0 document: one file, described at the top level.
            name = _str(item.get("model_filename")) or item["model_path"]
            files[name] = (_int(item.get("file_size_bytes")), _str(item.get("sha256")))
        findings = set()
        for raw in item.get("findings") or []:
            if isinstance(raw, dict) and isinstance(raw.get("rule_id"), str):
                findings.add(
                    (raw["rule_id"], str(raw.get("severity")), str(raw.get("location") or ""), str(raw.get("message")))
                )
        facts = {name: _fact(item.get(name)) for name in IDENTITY_FACTS}
        models.append((model_key, ModelSnapshot(item["model_path"], facts, files, frozenset(findings))))
    keys = [key for key, _ in models]
    if len(set(keys)) < len(keys):
        # Several roots were scanned into one document and hold the same relative paths: keep the full paths.
        return {model.path: model for _, model in models}
    return {key: dataclasses.replace(model, path=key) for key, model in models}


def _relative_model_path(model_path: str, raw_files: list[Any]) -> str:
    """``model_path`` relative to the scanned root, found from a file whose path ends with its relative path."""
    for raw in raw_files:
        if not isinstance(raw, dict):
            continue
        path, relative = raw.get("path"), raw.get("relative_path")
        if not (isinstance(path, str) and isinstance(relative, str) and relative):
            continue
        if path == relative:
            return model_path  # scanned from inside the root: already relative
        for sep in {"/", os.sep}:
            if path.endswith(sep + relative):
                root = path[: len(path) - len(relative)]
                if model_path.startswith(root) and len(model_path) > len(root):
                    return model_path[len(root) :].replace(os.sep, "/")
    return model_path


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _fact(value: Any) -> Fact:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (str, int)) or value is None:
        return value
    return json.dumps(value, sort_keys=True)


def diff_snapshots(
    old: Mapping[str, ModelSnapshot], new: Mapping[str, ModelSnapshot], old_name: str = "OLD", new_name: str = "NEW"
) -> DiffResult:
    changed = []
    size_only: dict[str, None] = {}
    sides: set[str] = set()
    for path in sorted(old.keys() & new.keys()):
        model_diff = _model_diff(old[path], new[path])
        if model_diff.changed:
            changed.append(model_diff)
        for file, old_sha, new_sha in _size_only(old[path], new[path]):
            size_only[file] = None
            sides.update(side for side, sha in (("old", old_sha), ("new", new_sha)) if sha is None)
    return DiffResult(
        old=old_name,
        new=new_name,
        added_models=tuple(sorted(new.keys() - old.keys())),
        removed_models=tuple(sorted(old.keys() - new.keys())),
        changed_models=tuple(changed),
        size_only=tuple(sorted(size_only)),
        size_only_sides=tuple(side for side in ("old", "new") if side in sides),
    )


def _compared_files(a: ModelSnapshot, b: ModelSnapshot) -> list[str]:
    """The files of a model that are compared: sidecars only when both sides list them with digests."""
    skipped: frozenset[str] = frozenset()
    if a.sidecars is None or b.sidecars is None:
        # One side does not list sidecars with digests: they cannot be compared, and are not "removed".
        skipped = (a.sidecars or frozenset()) | (b.sidecars or frozenset())
    return sorted((a.files.keys() | b.files.keys()) - skipped)


def _size_only(a: ModelSnapshot, b: ModelSnapshot) -> list[tuple[str, str | None, str | None]]:
    """(file, old sha256, new sha256) of the files on both sides that one side gives no SHA-256 for."""
    found = []
    for path in _compared_files(a, b):
        if path in a.files and path in b.files:
            old_sha, new_sha = a.files[path][1], b.files[path][1]
            if old_sha is None or new_sha is None:
                found.append((path, old_sha, new_sha))
    return found


def _model_diff(a: ModelSnapshot, b: ModelSnapshot) -> ModelDiff:
    facts = tuple(
        (name, a.facts.get(name), b.facts.get(name))
        for name in IDENTITY_FACTS
        if a.facts.get(name) != b.facts.get(name)
    )
    files: list[FileDiff] = []
    for path in _compared_files(a, b):
        if path not in b.files:
            size, sha = a.files[path]
            files.append(FileDiff(path, "removed", old_sha256=sha, old_size=size))
        elif path not in a.files:
            size, sha = b.files[path]
            files.append(FileDiff(path, "added", new_sha256=sha, new_size=size))
        elif a.files[path] != b.files[path]:
            (old_size, old_sha), (new_size, new_sha) = a.files[path], b.files[path]
            # An unhashed scan on one side says nothing about content; compare sizes only.
            if (old_sha is None or new_sha is None) and old_size == new_size:
                continue
            files.append(FileDiff(path, "changed", old_sha, new_sha, old_size, new_size))
    added: tuple[FindingRef, ...] = ()
    removed: tuple[FindingRef, ...] = ()
    if a.findings is not None and b.findings is not None:
        added = tuple(FindingRef(*f) for f in sorted(b.findings - a.findings))
        removed = tuple(FindingRef(*f) for f in sorted(a.findings - b.findings))
    return ModelDiff(a.path, facts, tuple(files), added, removed)


# --- rendering ------------------------------------------------------------------------------------------------


def render_diff(result: DiffResult, fmt: str) -> str:
    """``json``, ``table`` (plain text for terminals) or ``markdown`` (for pull-request comments)."""
    if fmt == "json":
        return json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n"
    if fmt == "markdown":
        return _markdown(result)
    if fmt == "table":
        return _text(result)
    raise UsageError(f"unknown diff format {fmt!r} (json, table, markdown)")


def _show(value: Fact) -> str:
    return "-" if value is None else f"{value:,}" if isinstance(value, int) else str(value)


def _text(result: DiffResult) -> str:
    from lbom._render.terminal import escape_control

    note = [result.size_only_note] if result.size_only_note else []
    if result.identical:
        lines = [f"no differences between {result.old} and {result.new}", *note]
        return "\n".join(escape_control(line) for line in lines) + "\n"
    lines = [f"--- {result.old}", f"+++ {result.new}"]
    lines += [f"+ model {path}" for path in result.added_models]
    lines += [f"- model {path}" for path in result.removed_models]
    for model in result.changed_models:
        lines.append(f"~ model {model.path}")
        lines += [f"    {name}: {_show(old)} -> {_show(new)}" for name, old, new in model.facts]
        for f in model.files:
            if f.kind == "added":
                lines.append(f"    + file {f.path} ({(f.new_sha256 or '-')[:12]})")
            elif f.kind == "removed":
                lines.append(f"    - file {f.path} ({(f.old_sha256 or '-')[:12]})")
            else:
                lines.append(f"    ~ file {f.path} sha256 {(f.old_sha256 or '-')[:12]} -> {(f.new_sha256 or '-')[:12]}")
        lines += [f"    + finding {x.rule_id} ({x.severity}): {x.message}" for x in model.findings_added]
        lines += [f"    - finding {x.rule_id} ({x.severity}): {x.message}" for x in model.findings_removed]
    lines += note
    return "\n".join(escape_control(line) for line in lines) + "\n"


def _md(text: str) -> str:
    """Escape text for a Markdown table cell (and keep it on one line)."""
    from lbom._render.terminal import escape_control

    text = escape_control(text)
    for char in "\\`*_[]<>|":
        text = text.replace(char, "\\" + char)
    return text


def _markdown(result: DiffResult) -> str:
    note = f"\n_Note: {_md(result.size_only_note)}._\n" if result.size_only_note else ""
    if result.identical:
        return f"**l-bom diff:** no model changes between `{_md(result.old)}` and `{_md(result.new)}`.\n{note}"
    summary = (
        f"{len(result.added_models)} added, {len(result.removed_models)} removed, {len(result.changed_models)} changed"
    )
    lines = [
        f"### l-bom diff: {summary}",
        "",
        "| change | model | what | old | new |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [f"| added | {_md(path)} | model | | |" for path in result.added_models]
    lines += [f"| removed | {_md(path)} | model | | |" for path in result.removed_models]
    for model in result.changed_models:
        name = _md(model.path)
        for fact, old, new in model.facts:
            lines.append(f"| changed | {name} | {fact} | {_md(_show(old))} | {_md(_show(new))} |")
        for f in model.files:
            old = f"`{f.old_sha256[:12]}`" if f.old_sha256 else ""
            new = f"`{f.new_sha256[:12]}`" if f.new_sha256 else ""
            lines.append(f"| file {f.kind} | {name} | {_md(f.path)} | {old} | {new} |")
        for x in model.findings_added:
            lines.append(f"| new finding | {name} | {x.rule_id} ({x.severity}) | | {_md(x.message)} |")
        for x in model.findings_removed:
            lines.append(f"| finding gone | {name} | {x.rule_id} ({x.severity}) | {_md(x.message)} | |")
    return "\n".join(lines) + "\n" + note
