"""Which folders the GUI serves when the user names none: the model stores that exist here, and the cwd."""

from __future__ import annotations

import importlib
import importlib.util
import os


def store_folders() -> dict[str, str]:
    """Folder -> label (e.g. ``Hugging Face hub cache``) of every model store on this machine, when this l-bom
    knows about stores (``lbom._stores``, looked up at run time)."""
    if importlib.util.find_spec("lbom._stores") is None:
        return {}
    stores = importlib.import_module("lbom._stores")
    folders: dict[str, str] = {}
    for store in stores.existing_stores():
        path: str = store.path
        label: str = store.label
        folders[os.path.abspath(path)] = label
    return folders


def default_roots() -> list[str]:
    return [*store_folders(), os.getcwd()]
