"""Importing a module whose own imports include one it does not use on l-bom's paths, without paying for that one.

``dataclasses`` (on Python 3.10 and 3.11) and jinja2's ``nodes`` import :mod:`inspect` at the top and use it only
on paths a scan never takes (a docstring for a class that has none; constant folding). ``inspect`` brings ``ast``,
``dis``, ``tokenize`` and ``linecache`` along: ~15-20 ms of a one-file ``l-bom scan`` on a slow machine, where
nothing else needs them. jinja2's ``nodes`` also takes ``markupsafe.Markup`` for constant folding only, and its
lexer takes ``literal_eval`` from :mod:`ast` for float literals only.

Such an importer can bind a :class:`Deferred` instead (:func:`stand_in`): a stand-in that imports the real module
on its first attribute read and passes every read on to it (or, for a function taken with ``from m import f``,
imports the module on the function's first call), so behaviour is unchanged and only the cost moves to first use.
Two ways to hand it over:

- :func:`builtins_binding`: builtins for modules l-bom loads itself (the parse-only jinja2 copy), whose import
  statements get the stand-ins; nothing else ever sees them.
- :func:`deferring`: the stand-in sits in ``sys.modules`` while one import runs (``dataclasses``, a standard
  module l-bom cannot load itself). Any importer would see it then, so this is done only while the process has a
  single thread; otherwise the import runs as usual.
"""

from __future__ import annotations

import builtins
import contextlib
import sys
import types
from _thread import RLock
from collections.abc import Callable, Iterator, Mapping
from typing import Any

_LOCK = RLock()
"""Guards taking a stand-in out of ``sys.modules``: two threads may read a first attribute at the same time."""


class Deferred(types.ModuleType):
    """Stands in for the plain module of its name (not a package: it has no ``__path__``, which
    ``from name import f`` looks up first)."""

    def __getattr__(self, attribute: str) -> Any:
        if attribute == "__path__":
            raise AttributeError(f"module {self.__name__!r} is not a package")
        return getattr(_load(self), attribute)


def _load(module: Deferred) -> types.ModuleType:
    """The real module behind ``module``, imported now if need be (the stand-in leaves ``sys.modules`` first)."""
    name = module.__name__
    with _LOCK:
        if sys.modules.get(name) is module:
            del sys.modules[name]
    __import__(name)
    return sys.modules[name]


def stand_in(name: str, functions: tuple[str, ...] = ()) -> Deferred:
    """A stand-in for module ``name``. ``functions`` are names importers take with ``from name import f`` (which
    reads the attribute at once): for each, the stand-in holds a function that imports the real module when first
    called and calls its own."""
    module = Deferred(name)
    for function in functions:
        setattr(module, function, _on_first_call(module, function))
    return module


def _on_first_call(module: Deferred, name: str) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(_load(module), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    return call


def builtins_binding(stand_ins: Mapping[str, Deferred]) -> dict[str, Any]:
    """Builtins for a module (``module.__builtins__`` before it runs) whose absolute imports of the names in
    ``stand_ins`` get the stand-ins; every other import goes to the import system as usual."""
    real_import = builtins.__import__

    def import_(
        name: str,
        globals: Mapping[str, object] | None = None,
        locals: Mapping[str, object] | None = None,
        fromlist: tuple[str, ...] | list[str] | None = (),
        level: int = 0,
    ) -> types.ModuleType:
        if level == 0 and name in stand_ins:
            return stand_ins[name]
        return real_import(name, globals, locals, fromlist or (), level)

    namespace = dict(vars(builtins))
    namespace["__import__"] = import_
    return namespace


def only_thread() -> bool:
    """Whether the process runs one thread (so a stand-in in ``sys.modules`` is seen by no other importer)."""
    frames = getattr(sys, "_current_frames", None)
    return frames is not None and len(frames()) == 1


@contextlib.contextmanager
def deferring(name: str, functions: tuple[str, ...] = ()) -> Iterator[None]:
    """While the block runs, a module it imports that imports ``name`` binds a :func:`stand_in` for it.

    Nothing is done when ``name`` is already imported, or when the process runs more than one thread (another
    thread's import could bind the stand-in too). The stand-in leaves ``sys.modules`` when the block ends (or as
    soon as anything reads another attribute of it), so every later importer gets the real module.
    """
    if name in sys.modules or not only_thread():
        yield
        return
    module = stand_in(name, functions)
    sys.modules[name] = module
    try:
        yield
    finally:
        with _LOCK:
            if sys.modules.get(name) is module:
                del sys.modules[name]
