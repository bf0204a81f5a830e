"""Importing a module whose own imports include one it does not use on l-bom's paths, without paying for that one.

``dataclasses`` (on Python 3.10 and 3.11) and jinja2's ``nodes`` import :mod:`inspect` at the top and use it only
on paths a scan never takes (a docstring for a class that has none; constant folding). ``inspect`` brings ``ast``,
``dis``, ``tokenize`` and ``linecache`` along: ~15-20 ms of a one-file ``l-bom scan`` on a slow machine, where
nothing else needs them. :func:`deferring` lets such an import bind a stand-in that imports the real module on its
first attribute read and passes every read on to it, so behaviour is unchanged, only the cost moves to first use.
"""

from __future__ import annotations

import contextlib
import sys
import types
from collections.abc import Iterator
from typing import Any


class Deferred(types.ModuleType):
    """Stands in for module ``name`` in the importers that bind it while it sits in ``sys.modules``."""

    def __getattr__(self, attribute: str) -> Any:
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        __import__(self.__name__)
        return getattr(sys.modules[self.__name__], attribute)


@contextlib.contextmanager
def deferring(name: str) -> Iterator[None]:
    """While the block runs, a module it imports that imports ``name`` binds a :class:`Deferred` for it.

    Nothing is done when ``name`` is already imported. The stand-in leaves ``sys.modules`` when the block ends (or
    as soon as anything reads an attribute of it), so every later importer gets the real module.
    """
    if name in sys.modules:
        yield
        return
    stand_in = Deferred(name)
    sys.modules[name] = stand_in
    try:
        yield
    finally:
        if sys.modules.get(name) is stand_in:
            del sys.modules[name]
