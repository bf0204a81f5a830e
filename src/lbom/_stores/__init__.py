"""Model stores: where the tools people use keep their models, and what those stores know about them.

A *store* is a folder another tool manages: the Hugging Face hub cache, Ollama's blob store, LM Studio's models
folder, llama.cpp's download cache. Each kind is one module here with the same small shape (``KIND``, ``LABEL``,
``locations(environ, home)``, ``count_models(root, files)``); ``STORE_KINDS`` lists them. This package finds the stores
(honouring each tool's environment variables), names the files in them the way the tool names them (a
:class:`~lbom.model.SourceIdentity`), lists them with counts and sizes, and knows which files are
content-addressed, so their digests can be checked for free. Nothing here ever writes into a store.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping, Sequence
from types import ModuleType

from lbom._records import dataclass
from lbom.model import Finding, JsonValue, Severity

R_STORE_UNREADABLE = "LBOM-STORE-007"

_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
_GIT_SHA1_HEX = re.compile(r"^[0-9a-f]{40}$")
_OLLAMA_BLOB = re.compile(r"^sha256[-:]([0-9a-f]{64})$")


@dataclass(frozen=True)
class StoreLocation:
    """One place a store of a given kind lives (or would live) on this machine."""

    kind: str
    """``huggingface``, ``ollama``, ``lmstudio`` or ``llama.cpp``."""
    label: str
    """What users call it, e.g. ``Hugging Face hub cache``."""
    path: str
    origin: str
    """Why this path: the environment variable that set it, or ``default``."""

    @property
    def exists(self) -> bool:
        return os.path.isdir(self.path)

    def to_json(self) -> dict[str, JsonValue]:
        return {"kind": self.kind, "label": self.label, "path": self.path, "origin": self.origin}


@dataclass(frozen=True)
class StoreSummary:
    """A store as ``l-bom stores`` lists it: where, whether it exists, how many models, how many bytes."""

    location: StoreLocation
    exists: bool
    model_count: int = 0
    file_count: int = 0
    total_size: int = 0
    """Bytes of distinct files (a blob shared by several snapshots or tags counts once)."""
    findings: tuple[Finding, ...] = ()

    def to_json(self) -> dict[str, JsonValue]:
        return {
            **self.location.to_json(),
            "exists": self.exists,
            "models": self.model_count,
            "files": self.file_count,
            "total_size_bytes": self.total_size,
            "findings": [f.to_json() for f in self.findings],
        }


@dataclass(frozen=True)
class StoreFile:
    """A regular file found while listing a store: its path relative to the store root, and its stat."""

    relative_path: str
    size: int
    identity: tuple[int, int]
    """(device, inode): the same blob reached through several links is one file."""


def _store_kinds() -> tuple[ModuleType, ...]:
    from lbom._stores import huggingface, llamacpp, lmstudio, ollama

    return (huggingface, ollama, lmstudio, llamacpp)


def home_directory(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    home = env.get("HOME") or env.get("USERPROFILE")
    return home if home else os.path.expanduser("~")


def locate_stores(environ: Mapping[str, str] | None = None) -> tuple[StoreLocation, ...]:
    """Every place a known store may live, in a stable order, whether it exists or not.

    ``environ`` defaults to ``os.environ``; each store's own variables (``HF_HUB_CACHE``, ``HF_HOME``,
    ``OLLAMA_MODELS``, ``LLAMA_CACHE``, ...) are honoured. The same folder reached twice is listed once.
    """
    env = os.environ if environ is None else environ
    home = home_directory(env)
    found: list[StoreLocation] = []
    seen: set[str] = set()
    for kind in _store_kinds():
        for path, origin in kind.locations(env, home):
            absolute = os.path.abspath(os.path.expanduser(path))
            key = os.path.realpath(absolute)
            if key in seen:
                continue
            seen.add(key)
            found.append(StoreLocation(kind.KIND, kind.LABEL, absolute, origin))
    return tuple(found)


def existing_stores(environ: Mapping[str, str] | None = None) -> tuple[StoreLocation, ...]:
    """The stores of :func:`locate_stores` that exist on this machine."""
    return tuple(location for location in locate_stores(environ) if location.exists)


def store_containing(path: str, stores: Sequence[StoreLocation]) -> StoreLocation | None:
    """The store ``path`` lies in (compared by real path, so symlinked store roots work), or ``None``."""
    real = os.path.realpath(path)
    best: StoreLocation | None = None
    for location in stores:
        root = os.path.realpath(location.path)
        if (real == root or real.startswith(root.rstrip(os.sep) + os.sep)) and (
            best is None or len(root) > len(os.path.realpath(best.path))
        ):
            best = location
    return best


def content_address(path: str) -> tuple[str, str] | None:
    """``(algorithm, hex)`` when ``path`` is a content-addressed blob whose name is the digest of its content.

    Hugging Face hub blobs are named by the SHA-256 of their content (LFS files) or by their git blob SHA-1
    (small files); Ollama blobs are named ``sha256-<hex>``. Only files directly in a ``blobs`` folder qualify.
    """
    name = os.path.basename(path)
    if os.path.basename(os.path.dirname(path)) != "blobs":
        return None
    if _SHA256_HEX.match(name):
        return ("sha256", name)
    match = _OLLAMA_BLOB.match(name)
    if match:
        return ("sha256", match.group(1))
    if _GIT_SHA1_HEX.match(name):
        return ("git-sha1", name)
    return None


def is_partial_blob(path: str) -> bool:
    """A half-downloaded blob: Hugging Face ``<hash>.incomplete``, Ollama ``sha256-<hex>-partial[-N]``."""
    name = os.path.basename(path)
    if os.path.basename(os.path.dirname(path)) != "blobs":
        return False
    return name.endswith(".incomplete") or "-partial" in name


@dataclass(frozen=True)
class WalkedFile:
    """A file met by :func:`walk_files`: its stat (links followed), or why it could not be stat'ed."""

    path: str
    relative_path: str
    stat: os.stat_result | None
    problem: str | None = None


def walk_files(root: str) -> tuple[list[WalkedFile], list[Finding]]:
    """Regular files under ``root`` in sorted order (:func:`lbom._walk.walk`): file symlinks are followed,
    directory symlinks are not. Dangling links come back with a ``problem``; unreadable folders as findings."""
    from lbom._walk import UnreadableFolder, walk

    files: list[WalkedFile] = []
    findings: list[Finding] = []
    for item in walk(root):
        if isinstance(item, UnreadableFolder):
            findings.append(unreadable(item.path, item.error))
        elif item.stat is None:
            files.append(WalkedFile(item.path, item.relative_path, None, "dangling symlink"))
        elif stat.S_ISREG(item.stat.st_mode):
            files.append(WalkedFile(item.path, item.relative_path, item.stat))
    return files, findings


def list_store_files(root: str) -> tuple[list[StoreFile], list[Finding]]:
    """Every regular file under ``root`` with its size and identity (dangling links left out)."""
    walked, findings = walk_files(root)
    files = [
        StoreFile(w.relative_path, w.stat.st_size, (w.stat.st_dev, w.stat.st_ino)) for w in walked if w.stat is not None
    ]
    return files, findings


def unreadable(path: str, exc: OSError) -> Finding:
    problem = (exc.strerror or str(exc)).lower()
    return Finding(
        R_STORE_UNREADABLE,
        Severity.MEDIUM,
        f"store folder cannot be read: {problem}",
        path,
        remedy="check the folder's permissions; the rest of the store was scanned",
    )


def summarize_store(location: StoreLocation) -> StoreSummary:
    """Count the models and distinct bytes of one store (stat only, except the small Ollama manifests)."""
    if not location.exists:
        return StoreSummary(location, exists=False)
    files, findings = list_store_files(location.path)
    kind = {module.KIND: module for module in _store_kinds()}[location.kind]
    distinct: dict[tuple[int, int], int] = {}
    for store_file in files:
        distinct[store_file.identity] = store_file.size
    count, more = kind.count_models(location.path, files)
    findings = [*findings, *more]
    return StoreSummary(
        location,
        exists=True,
        model_count=count,
        file_count=len(distinct),
        total_size=sum(distinct.values()),
        findings=tuple(findings),
    )


def list_stores(environ: Mapping[str, str] | None = None, *, include_missing: bool = True) -> tuple[StoreSummary, ...]:
    """Every known store location with its model count and size; missing ones too unless asked not to."""
    summaries = [summarize_store(location) for location in locate_stores(environ)]
    return tuple(s for s in summaries if include_missing or s.exists)
