"""LM Studio's models folder: ``<models>/<publisher>/<model>/<file>``, mirroring Hugging Face repository names.

The folder is ``<LM Studio home>/models``. The home is the path written in ``~/.lmstudio-home-pointer`` when that
file exists, else ``~/.lmstudio`` (current releases) — and ``~/.cache/lm-studio`` (older releases) is looked at
too (sources: lmstudio.ai docs "Import Models"; lmstudio-bug-tracker #553 on moving the data directory).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from lbom.model import Finding, SourceIdentity

KIND = "lmstudio"
LABEL = "LM Studio"
SOURCE_KIND = "lmstudio"
POINTER_FILE = ".lmstudio-home-pointer"
_POINTER_MAX_BYTES = 4096


def locations(environ: Mapping[str, str], home: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    pointed = _home_pointer(home)
    if pointed:
        found.append((os.path.join(pointed, "models"), POINTER_FILE))
    found.append((os.path.join(home, ".lmstudio", "models"), "default"))
    found.append((os.path.join(home, ".cache", "lm-studio", "models"), "default (older LM Studio)"))
    return found


def _home_pointer(home: str) -> str | None:
    try:
        with open(os.path.join(home, POINTER_FILE), "rb") as handle:
            text = handle.read(_POINTER_MAX_BYTES).decode("utf-8", "replace").strip()
    except OSError:
        return None
    return text or None


def identify(relative_parts: Sequence[str], store_path: str) -> SourceIdentity:
    """``publisher/model`` from the first two folders under the models root; the rest is the file path."""
    if len(relative_parts) >= 3:
        repo_id: str | None = f"{relative_parts[0]}/{relative_parts[1]}"
        file_path = "/".join(relative_parts[2:])
    else:
        repo_id, file_path = None, "/".join(relative_parts)
    return SourceIdentity(kind=SOURCE_KIND, store_path=store_path, repo_id=repo_id, file_path=file_path)


def count_models(root: str, files: Sequence[object]) -> tuple[int, list[Finding]]:
    """``publisher/model`` folders holding at least one file (the listing says all there is to say)."""
    models: set[tuple[str, str]] = set()
    for store_file in files:
        parts = getattr(store_file, "relative_path", "").split(os.sep)
        if len(parts) >= 3 and not parts[0].startswith("."):
            models.add((parts[0], parts[1]))
    return len(models), []
