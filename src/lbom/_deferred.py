"""Importing a module whose own imports include one it does not use on l-bom's paths, without paying for that one.

``dataclasses`` (on Python 3.10 and 3.11) and jinja2's ``nodes`` import :mod:`inspect` at the top and use it only
on paths a scan never takes (a docstring for a class that has none; constant folding). ``inspect`` brings ``ast``,
``dis``, ``tokenize`` and ``linecache`` along: ~15-20 ms of a one-file ``l-bom scan`` on a slow machine, where
nothing else needs them. jinja2's lexer takes ``literal_eval`` from :mod:`ast` (whose node classes are ~1 % of a
scan's instructions) for float literals only, which few chat templates hold.

:func:`deferring` lets such an import bind a stand-in that imports the real module on its first attribute read and
passes every read on to it, so behaviour is unchanged, only the cost moves to first use.
"""

from __future__ import annotations

import contextlib
import sys
import types
from collections.abc import Callable, Iterator
from typing import Any


class Deferred(types.ModuleType):
    """Stands in for module ``name`` in the importers that bind it while it sits in ``sys.modules``.

    For plain modules, not packages: it has no ``__path__``, which ``from name import f`` looks up first.
    """

    def __getattr__(self, attribute: str) -> Any:
        if attribute == "__path__":
            raise AttributeError(f"module {self.__name__!r} is not a package")
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        __import__(self.__name__)
        return getattr(sys.modules[self.__name__], attribute)


def _on_first_call(module: str, name: str) -> Callable[..., Any]:
    """A function that imports ``module`` when first called and calls its ``name``."""

    def call(*args: Any, **kwargs: Any) -> Any:
        __import__(module)
        return getattr(sys.modules[module], name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    return call


@contextlib.contextmanager
def deferring(name: str, functions: tuple[str, ...] = ()) -> Iterator[None]:
    """While the block runs, a module it imports that imports ``name`` binds a :class:`Deferred` for it.

    ``functions`` are names importers take with ``from name import f`` (which reads the attribute at once): the
    stand-in holds, for each, a function that imports the real module when first called and calls its own.

    Nothing is done when ``name`` is already imported. The stand-in leaves ``sys.modules`` when the block ends (or
    as soon as anything reads another attribute of it), so every later importer gets the real module.
    """
    if name in sys.modules:
        yield
        return
    stand_in = Deferred(name)
    for function in functions:
        setattr(stand_in, function, _on_first_call(name, function))
    sys.modules[name] = stand_in
    try:
        yield
    finally:
        if sys.modules.get(name) is stand_in:
            del sys.modules[name]
