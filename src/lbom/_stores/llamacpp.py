"""llama.cpp's download cache (``-hf`` / ``-mu``): ``LLAMA_CACHE``, else ``$XDG_CACHE_HOME/llama.cpp``, else
``~/.cache/llama.cpp`` (source: llama.cpp ``common`` ``fs_get_cache_directory``).

Older releases store flat files named ``<owner>_<repo>_<file>.gguf`` next to ``manifest=<owner>=<repo>=<tag>.json``
files; newer ones use the Hugging Face hub-cache layout inside the same folder, which the Hugging Face module
recognises by its ``models--org--name`` folders.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from lbom.model import Finding, SourceIdentity

KIND = "llama.cpp"
LABEL = "llama.cpp cache"
SOURCE_KIND = "llama.cpp"
_MANIFEST_PREFIX = "manifest="


def locations(environ: Mapping[str, str], home: str) -> list[tuple[str, str]]:
    value = environ.get("LLAMA_CACHE")
    if value:
        return [(value, "LLAMA_CACHE")]
    xdg = environ.get("XDG_CACHE_HOME")
    if xdg:
        return [(os.path.join(xdg, "llama.cpp"), "XDG_CACHE_HOME")]
    return [(os.path.join(home, ".cache", "llama.cpp"), "default")]


def manifest_repos(names: Sequence[str]) -> list[tuple[str, str, str]]:
    """``(owner, repo, tag)`` from the ``manifest=<owner>=<repo>=<tag>.json`` file names in the cache folder."""
    repos = []
    for name in names:
        if not (name.startswith(_MANIFEST_PREFIX) and name.endswith(".json")):
            continue
        fields = name[len(_MANIFEST_PREFIX) : -len(".json")].split("=")
        if len(fields) == 3 and all(fields):
            repos.append((fields[0], fields[1], fields[2]))
    # Longest owner_repo first, so "a_b" never claims a file of "a_b_c".
    return sorted(repos, key=lambda r: (-len(r[0]) - len(r[1]), r))


def identify(relative_parts: Sequence[str], store_path: str, repos: Sequence[tuple[str, str, str]]) -> SourceIdentity:
    """Repository and file from a flat cache file name, matched against :func:`manifest_repos`."""
    file_name = "/".join(relative_parts)
    if len(relative_parts) == 1:
        for owner, repo, tag in repos:
            prefix = f"{owner}_{repo}_"
            if file_name.startswith(prefix) and len(file_name) > len(prefix):
                repo_id = f"{owner}/{repo}"
                return SourceIdentity(
                    kind=SOURCE_KIND,
                    store_path=store_path,
                    repo_id=repo_id,
                    file_path=file_name[len(prefix) :],
                    tag=tag,
                )
    return SourceIdentity(kind=SOURCE_KIND, store_path=store_path, file_path=file_name)


def count_models(root: str, files: Sequence[object]) -> tuple[int, list[Finding]]:
    """GGUF files in the flat layout (first part only for split files) plus hub-layout repositories."""
    from lbom._stores import huggingface

    count = 0
    for store_file in files:
        rel = getattr(store_file, "relative_path", "")
        parts = rel.split(os.sep)
        if len(parts) == 1 and rel.endswith(".gguf") and ("-of-" not in rel or "-00001-of-" in rel):
            count += 1
    repos, findings = huggingface.count_models(root, files)
    return count + repos, findings
