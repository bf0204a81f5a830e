"""The one directory walker: iterative, sorted, depth-first; directory symlinks are never descended (no loops).

Scans (:func:`lbom.scan.discover`) and store tools (:func:`lbom._stores.walk_files`) both walk with it and only
decide what each entry means to them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

from lbom._records import dataclass


@dataclass(frozen=True)
class WalkEntry:
    """Anything in a walked folder that is not a real directory (files, links, FIFOs, devices, sockets)."""

    path: str
    """``root`` joined with ``relative_path``: the path to open."""
    relative_path: str
    directory: str
    """The folder it sits in (``root`` itself for top-level entries)."""
    stat: os.stat_result | None
    """With symlinks followed; None when that failed (see ``error``: a dangling or looping link, mostly)."""
    error: OSError | None
    is_link: bool


@dataclass(frozen=True)
class UnreadableFolder:
    """A folder that could not be listed; the walk goes on without it."""

    path: str
    error: OSError


def walk(root: str, listed: Callable[[str, set[str]], None] | None = None) -> Iterator[WalkEntry | UnreadableFolder]:
    """Everything below ``root`` in sorted order, smallest name first at every level. ``listed(folder, names)``
    is told each folder's listing before its entries are yielded."""
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        abs_dir = os.path.join(root, rel_dir) if rel_dir else root
        try:
            with os.scandir(abs_dir) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            yield UnreadableFolder(abs_dir, exc)
            continue
        if listed is not None:
            listed(abs_dir, {e.name for e in entries})
        subdirs = []
        for entry in entries:
            rel = os.path.join(rel_dir, entry.name) if rel_dir else entry.name
            path = os.path.join(root, rel)
            try:
                is_link = entry.is_symlink()
                if entry.is_dir(follow_symlinks=False):
                    subdirs.append(rel)
                    continue
                st = entry.stat(follow_symlinks=True)
            except OSError as exc:
                yield WalkEntry(path, rel, abs_dir, None, exc, is_link=True)
                continue
            yield WalkEntry(path, rel, abs_dir, st, None, is_link)
        # Depth-first in sorted order: push reversed so the smallest name is walked first.
        stack.extend(reversed(subdirs))
