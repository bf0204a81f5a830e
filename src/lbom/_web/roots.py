"""Which folders the GUI serves when the user names none: the model stores that exist here, and the cwd."""

from __future__ import annotations

import os


def store_folders() -> dict[str, str]:
    """Folder -> label (e.g. ``Hugging Face hub cache``) of every model store that exists on this machine."""
    from lbom._stores import existing_stores

    return {os.path.abspath(store.path): store.label for store in existing_stores()}


def default_roots() -> list[str]:
    return [*store_folders(), os.getcwd()]
