"""The Hugging Face hub cache: ``<cache>/models--{org}--{name}/{blobs,refs,snapshots/<commit>/...}``.

Snapshot files are symlinks into ``blobs/``; an LFS blob's name is the SHA-256 of its content, so the blob name
is a digest the store vouches for. The cache is ``HF_HUB_CACHE`` when set, else ``HF_HOME/hub``, else
``$XDG_CACHE_HOME/huggingface/hub``, else ``~/.cache/huggingface/hub`` (huggingface_hub's own precedence).
Identity comes from the path alone, so a hub-cache layout is recognised wherever it is (llama.cpp's cache
uses it too).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence

from lbom.model import Finding, SourceIdentity

KIND = "huggingface"
LABEL = "Hugging Face hub cache"
SOURCE_KIND = "huggingface-cache"

_REPO_DIR = re.compile(r"^(models|datasets|spaces)--(.+)$")
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
_REPO_SUBDIRS = ("snapshots", "blobs", "refs", ".no_exist")
_REF_BYTES = 256


def locations(environ: Mapping[str, str], home: str) -> list[tuple[str, str]]:
    for variable in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        value = environ.get(variable)
        if value:
            return [(value, variable)]
    hf_home, origin = huggingface_home(environ, home)
    return [(os.path.join(hf_home, "hub"), origin)]


def huggingface_home(environ: Mapping[str, str], home: str) -> tuple[str, str]:
    """huggingface_hub's home folder (cache, token) and the variable that set it: ``HF_HOME``, else
    ``$XDG_CACHE_HOME/huggingface``, else ``~/.cache/huggingface`` (``default``)."""
    hf_home = environ.get("HF_HOME")
    if hf_home:
        return hf_home, "HF_HOME"
    xdg = environ.get("XDG_CACHE_HOME")
    if xdg:
        return os.path.join(xdg, "huggingface"), "XDG_CACHE_HOME"
    return os.path.join(home, ".cache", "huggingface"), "default"


def repo_dir_index(parts: Sequence[str]) -> int | None:
    """Index of the ``models--org--name`` component in ``parts`` that a hub-cache path runs through, if any."""
    for index in range(len(parts) - 1, -1, -1):
        if _REPO_DIR.match(parts[index]) and index + 1 < len(parts) and parts[index + 1] in _REPO_SUBDIRS:
            return index
    return None


def repo_id_from_dir(name: str) -> tuple[str, str] | None:
    """``models--org--name`` -> (``model``, ``org/name``). Hub repo ids never contain ``--``."""
    match = _REPO_DIR.match(name)
    if match is None:
        return None
    return match.group(1).rstrip("s"), match.group(2).replace("--", "/")


def purl(repo_id: str, revision: str | None, file_path: str | None) -> str | None:
    """``pkg:huggingface/org/name@<commit>#<file>`` (packageurl.org type ``huggingface``; namespace required)."""
    if "/" not in repo_id:
        return None
    namespace, name = repo_id.split("/", 1)
    from urllib.parse import quote

    text = f"pkg:huggingface/{quote(namespace, safe='')}/{quote(name, safe='')}"
    if revision:
        text += f"@{quote(revision.lower(), safe='')}"
    if file_path:
        segments = [quote(seg, safe="") for seg in file_path.split("/") if seg not in ("", ".", "..")]
        if segments:
            text += "#" + "/".join(segments)
    return text


class RefIndex:
    """Which refs (``main``, tags) point at which commit, read once per repo folder (files are a few bytes)."""

    def __init__(self) -> None:
        self._by_repo: dict[str, dict[str, tuple[str, ...]]] = {}

    def refs_for(self, repo_dir: str, revision: str) -> tuple[str, ...]:
        table = self._by_repo.get(repo_dir)
        if table is None:
            table = _read_refs(os.path.join(repo_dir, "refs"))
            self._by_repo[repo_dir] = table
        return table.get(revision, ())


def _read_refs(refs_dir: str) -> dict[str, tuple[str, ...]]:
    from lbom._stores import walk_files

    table: dict[str, list[str]] = {}
    walked, _ = walk_files(refs_dir) if os.path.isdir(refs_dir) else ([], [])
    for ref in walked:
        try:
            with open(ref.path, "rb") as handle:
                commit = handle.read(_REF_BYTES).decode("ascii", "replace").strip()
        except OSError:
            continue
        table.setdefault(commit, []).append(ref.relative_path.replace(os.sep, "/"))
    return {commit: tuple(sorted(names)) for commit, names in table.items()}


def identify(display_path: str, real_path: str, refs: RefIndex) -> SourceIdentity | None:
    """Identity of a file reached through ``.../models--org--name/snapshots/<commit>/<file>``."""
    parts = os.path.abspath(display_path).split(os.sep)
    index = repo_dir_index(parts)
    if index is None or parts[index + 1] != "snapshots" or len(parts) < index + 4:
        return None
    parsed = repo_id_from_dir(parts[index])
    if parsed is None:
        return None
    repo_type, repo_id = parsed
    revision = parts[index + 2]
    file_path = "/".join(parts[index + 3 :])
    repo_dir = os.sep.join(parts[: index + 1])
    blob_name = os.path.basename(real_path)
    in_blobs = os.path.basename(os.path.dirname(real_path)) == "blobs"
    expected = blob_name if in_blobs and _SHA256_HEX.match(blob_name) else None
    tags = refs.refs_for(repo_dir, revision)
    return SourceIdentity(
        kind=SOURCE_KIND,
        store_path=os.sep.join(parts[:index]) or os.sep,
        repo_id=repo_id,
        revision=revision,
        file_path=file_path,
        tag=tags[0] if tags else None,
        purl=purl(repo_id, revision, file_path) if repo_type == "model" else None,
        url=f"https://huggingface.co/{repo_id}/blob/{revision}/{file_path}" if repo_type == "model" else None,
        expected_sha256=expected,
    )


def count_models(root: str, files: Sequence[object]) -> tuple[int, list[Finding]]:
    """Model repositories that have at least one snapshot file (the listing says all there is to say)."""
    repos: set[str] = set()
    for store_file in files:
        rel = getattr(store_file, "relative_path", "")
        parts = rel.split(os.sep)
        if len(parts) >= 4 and parts[1] == "snapshots" and parts[0].startswith("models--"):
            repos.add(parts[0])
    return len(repos), []
