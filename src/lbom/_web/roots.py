"""Which folders the GUI serves when the user names none: the model stores that exist here, and the cwd."""

from __future__ import annotations

import os


def store_folders() -> list[str]:
    """Folders of the model stores found on this machine, when the stores feature is installed."""
    try:
        from lbom import stores  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return []
    find = getattr(stores, "discover_stores", None)
    if find is None:
        return []
    folders = []
    for store in find():
        path = getattr(store, "path", None)
        if isinstance(path, str) and os.path.isdir(path):
            folders.append(path)
    return folders


def default_roots() -> list[str]:
    return [*store_folders(), os.getcwd()]
