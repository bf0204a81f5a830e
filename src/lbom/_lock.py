"""Lock files: the model files (size, SHA-256) and identity facts of a folder, pinned in a reviewable text file.

A lock is TOML, written by hand here (the standard library only reads TOML) in a fixed, sorted layout with one
fact per line, so ``git diff models.lock`` shows exactly what changed::

    # l-bom lock file ...
    lock_version = 1

    [[models]]
    path = "llama/llama-3.1-8b-instruct-Q4_K_M.gguf"
    format = "gguf"
    architecture = "llama"
    quantization = "Q4_K_M"
    parameter_count = 8030261248
    license = "llama3.1"

    [[models.files]]
    path = "llama/llama-3.1-8b-instruct-Q4_K_M.gguf"
    role = "weights"
    size = 4920734016
    sha256 = "..."

Paths are relative to the locked folder (or the file's name when a single file was locked) with ``/``
separators, so a lock made in one checkout verifies another. Facts a model does not have are left out.
Sidecar files the model's facts come from (config.json, tokenizer_config.json, README.md; role ``sidecar``) and
the tokenizer and template files in the model's folder (tokenizer.json, merges.txt, chat_template.jinja, ...; role
``tokenizer``, see :data:`TOKENIZER_FILES`) are locked too: a swapped tokenizer, chat template or license is a
change. A file the scan cannot read makes the lock fail (:class:`UnreadableFiles`) instead of leaving it out.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from lbom._records import dataclass
from lbom.errors import InputError, UsageError
from lbom.model import Finding, ModelArtifact, ScanResult

if TYPE_CHECKING:
    from lbom.scan import ScanOptions

LOCK_VERSION = 1
IDENTITY_FACTS = ("format", "architecture", "quantization", "parameter_count", "license")
"""The facts a lock pins per model, in file order."""


@dataclass(frozen=True)
class LockedFile:
    """One pinned file: where it is (relative to the locked root), what it is for, its size and SHA-256."""

    path: str
    size: int
    sha256: str
    role: str = "weights"


@dataclass(frozen=True)
class LockedModel:
    """One pinned logical model: its identity facts and every file it consists of."""

    path: str
    format: str
    files: tuple[LockedFile, ...]
    architecture: str | None = None
    quantization: str | None = None
    parameter_count: int | None = None
    license: str | None = None

    def facts(self) -> dict[str, str | int | None]:
        """The identity facts by name (see :data:`IDENTITY_FACTS`)."""
        return {
            "format": self.format,
            "architecture": self.architecture,
            "quantization": self.quantization,
            "parameter_count": self.parameter_count,
            "license": self.license,
        }


@dataclass(frozen=True)
class Lock:
    """A whole lock file: the pinned models, sorted by path."""

    models: tuple[LockedModel, ...]
    lock_version: int = LOCK_VERSION

    def files(self) -> dict[str, LockedFile]:
        """Every pinned file by path (a file shared by two models appears once)."""
        return {f.path: f for model in self.models for f in model.files}

    def to_toml(self) -> str:
        """The lock as TOML text in its canonical, diff-friendly layout."""
        lines = [
            "# l-bom lock file: model files (size, SHA-256) and identity facts.",
            "# Check with `l-bom verify PATH --lock THIS_FILE`; regenerate with `l-bom lock PATH -o THIS_FILE`",
            "# and review the diff. Paths are relative to PATH.",
            f"lock_version = {self.lock_version}",
        ]
        for model in self.models:
            lines += ["", "[[models]]", f"path = {_toml_string(model.path)}"]
            for name, value in model.facts().items():
                if value is not None:
                    lines.append(f"{name} = {_toml_value(value)}")
            for entry in model.files:
                lines += [
                    "",
                    "[[models.files]]",
                    f"path = {_toml_string(entry.path)}",
                    f"role = {_toml_string(entry.role)}",
                    f"size = {entry.size}",
                    f"sha256 = {_toml_string(entry.sha256)}",
                ]
        return "\n".join(lines) + "\n"


def _toml_string(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UsageError(f"cannot lock {text!r}: the file name is not valid UTF-8") from exc
    # A JSON string is a TOML basic string, except that TOML also wants DEL escaped.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_value(value: str | int) -> str:
    return str(value) if isinstance(value, int) else _toml_string(value)


def _relative(path: str, root: str, root_is_dir: bool) -> str:
    relative = os.path.relpath(path, root) if root_is_dir else os.path.basename(path)
    return relative.replace(os.sep, "/")


R_UNREADABLE = "LBOM-SCAN-002"
"""The scan's rule id for a file or folder it could not read (see :mod:`lbom.scan`)."""

TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer.model",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.json",
    "merges.txt",
    "chat_template.jinja",
    "chat_template.json",
    "generation_config.json",
    "preprocessor_config.json",
)
"""Files next to a model that decide what it sees and says (tokenizer, vocabulary, chat template, generation and
preprocessing settings) without being parsed for facts: pinned with role ``tokenizer`` when present, so a swapped
tokenizer or template is a change. A name that was read as a sidecar (generation_config.json) stays a sidecar."""

SIDECAR_ROLES = frozenset({"sidecar", "tokenizer"})
"""Roles of pinned files that are not model files themselves."""


class UnreadableFiles(InputError):
    """Files or folders a lock would have to leave out because they cannot be read (``findings`` lists them):
    a lock that silently omits a model is worse than no lock, so nothing is locked."""

    def __init__(self, findings: tuple[Finding, ...]) -> None:
        first = findings[0]
        more = f" (and {len(findings) - 1} more)" if len(findings) > 1 else ""
        super().__init__(first.file or "?", f"{first.message}{more}; nothing was locked")
        self.findings = findings


def unreadable(result: ScanResult) -> tuple[Finding, ...]:
    """The scan's findings for files and folders it could not read (LBOM-SCAN-002)."""
    return tuple(f for f in result.all_findings if f.rule_id == R_UNREADABLE)


def lock_from_scan(result: ScanResult, root: str, *, allow_unreadable: bool = False) -> Lock:
    """Build a lock from a hashed scan of ``root`` (a folder or one file).

    Raises :class:`UnreadableFiles` when the scan could not read some file or folder, unless
    ``allow_unreadable`` (``verify`` reports those files itself)."""
    from lbom._hashing import digest_file

    if not result.hashed:
        raise UsageError("a lock needs SHA-256 digests: scan with hashing enabled")
    problems = unreadable(result)
    if problems and not allow_unreadable:
        raise UnreadableFiles(problems)
    root_is_dir = os.path.isdir(root)
    models = []
    for model in result.models:
        files: dict[str, LockedFile] = {}
        for entry in model.files:
            rel = _relative(entry.path, root, root_is_dir)
            sha = entry.sha256
            if sha is None:
                raise InputError(entry.path, "could not be hashed; it cannot be locked")
            files[rel] = LockedFile(rel, entry.size, sha, entry.role)
        for extra, role in companion_files(model, result.confine_to):
            rel = _relative(extra, root, root_is_dir)
            if rel in files:
                continue
            try:
                size = os.stat(extra).st_size
                (digest,) = digest_file(extra, ("sha256",))
            except OSError as exc:
                raise InputError(extra, exc.strerror or str(exc)) from exc
            files[rel] = LockedFile(rel, size, digest.hex, role)
        models.append(
            LockedModel(
                path=_relative(model.path, root, root_is_dir),
                format=model.format,
                files=tuple(sorted(files.values(), key=lambda f: f.path)),
                architecture=model.architecture,
                quantization=model.quantization,
                parameter_count=model.parameter_count,
                license=model.license,
            )
        )
    return Lock(tuple(sorted(models, key=lambda m: m.path)))


def sidecar_paths(model: ModelArtifact) -> list[str]:
    """Paths of the sidecar files a model's facts were read from."""
    if model.sidecars is None or not model.files:
        return []
    directory = os.path.dirname(model.files[0].path)
    return [os.path.join(directory, name) for name in model.sidecars.files]


def companion_files(model: ModelArtifact, confine_to: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(path, role) of the files a lock pins beside the model files: the sidecars its facts were read from
    (``sidecar``) and the tokenizer and template files in its folder (``tokenizer``, see
    :data:`TOKENIZER_FILES`). With ``confine_to`` (a confined scan's roots), a tokenizer file whose real path
    leaves them is not opened."""
    found = [(path, "sidecar") for path in sidecar_paths(model)]
    if not model.files:
        return found
    from lbom.scan import _confinement

    allowed = _confinement(confine_to)
    directory = os.path.dirname(model.files[0].path)
    named = {os.path.basename(path) for path, _role in found}
    for name in TOKENIZER_FILES:
        path = os.path.join(directory, name)
        if name not in named and os.path.isfile(path) and (allowed is None or allowed(path)):
            found.append((path, "tokenizer"))
    return found


def lock(path: str | os.PathLike[str], *, options: ScanOptions | None = None) -> Lock:
    """Scan ``path`` (a folder or one model file) with hashing and pin every model in it.

    ``options`` are the scan's (``jobs``, ``cache``, ``cache_dir``); hashing and ``rehash`` are always on: a lock is
    what later checks trust, so its digests come from the bytes, never from the cache (the fresh digests are
    recorded in it, as a scan does). A file that cannot be read is an :class:`UnreadableFiles` error, never left
    out of the lock."""
    from lbom.scan import scan

    root = os.fspath(path)
    return lock_from_scan(scan(root, options=rehashing(options)), root)


def rehashing(options: ScanOptions | None) -> ScanOptions:
    """``options`` (or the defaults) with hashing and ``rehash`` on: what a lock pins and what ``verify`` compares
    with it come from the bytes, never from the scan cache."""
    from lbom.scan import ScanOptions

    return replace(options or ScanOptions(), hash=True, rehash=True)


def read_lock(path: str | os.PathLike[str]) -> Lock:
    """Read a lock file. A missing file is an :class:`InputError`; a malformed one a :class:`UsageError`."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise InputError(name, exc.strerror or str(exc)) from exc
    return parse_lock(data.decode("utf-8", "replace"), name)


def parse_lock(text: str, source: str = "lock file") -> Lock:
    """Parse lock TOML (as written by :meth:`Lock.to_toml`, or by hand in the same schema)."""
    document = load_toml(text, source)
    _known_keys(document, {"lock_version", "models"}, source)
    version = document.get("lock_version")
    if version != LOCK_VERSION:
        raise UsageError(f"{source}: lock_version is {version!r}; this l-bom reads version {LOCK_VERSION}")
    models = []
    for index, raw in enumerate(_table_list(document.get("models", []), f"{source}: models")):
        where = f"{source}: models[{index}]"
        _known_keys(raw, {"path", "files", *IDENTITY_FACTS}, where)
        files = []
        for file_index, raw_file in enumerate(_table_list(raw.get("files", []), f"{where}.files")):
            file_where = f"{where}.files[{file_index}]"
            _known_keys(raw_file, {"path", "size", "sha256", "role"}, file_where)
            sha = _required(raw_file, "sha256", str, file_where).lower()
            if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
                raise UsageError(f"{file_where}: sha256 {sha!r} is not 64 hex digits")
            files.append(
                LockedFile(
                    path=_required(raw_file, "path", str, file_where),
                    size=_required(raw_file, "size", int, file_where),
                    sha256=sha,
                    role=_optional(raw_file, "role", str, file_where) or "weights",
                )
            )
        models.append(
            LockedModel(
                path=_required(raw, "path", str, where),
                format=_required(raw, "format", str, where),
                files=tuple(sorted(files, key=lambda f: f.path)),
                architecture=_optional(raw, "architecture", str, where),
                quantization=_optional(raw, "quantization", str, where),
                parameter_count=_optional(raw, "parameter_count", int, where),
                license=_optional(raw, "license", str, where),
            )
        )
    return Lock(tuple(sorted(models, key=lambda m: m.path)))


def load_toml(text: str, source: str) -> dict[str, Any]:
    """Parse TOML with tomllib (tomli on Python 3.10); a syntax error is a :class:`UsageError`."""
    import sys

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]
    try:
        document: dict[str, Any] = tomllib.loads(text)
        return document
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{source}: not valid TOML: {exc}") from exc


def _known_keys(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    import difflib

    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(key, sorted(allowed), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(sorted(allowed))})"
            raise UsageError(f"{where}: unknown key {key!r}{hint}")


def _table_list(value: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise UsageError(f"{where} must be an array of tables")
    return value


def _required(table: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in table:
        raise UsageError(f"{where}: missing required key {key!r}")
    return _optional(table, key, kind, where)


def _optional(table: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise UsageError(f"{where}: {key} must be a {kind.__name__}, not {value!r}")
    return value
