"""lbom._records: precompiled dataclass methods behave exactly like the standard decorator's, and stay current."""

from __future__ import annotations

import collections.abc
import dataclasses
import importlib
import inspect
import re
import typing
import typing as t
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lbom import _records, _records_writer

COMPILED = Path(_records.__file__).with_name("_records_compiled.py")


def _import_everything() -> None:
    _records_writer.import_everything()


def test_the_precompiled_table_is_current() -> None:
    assert COMPILED.read_text(encoding="utf-8") == _records_writer.write_source(), (
        "src/lbom/_records_compiled.py is out of date: run python -m lbom._records_writer"
    )


def test_every_lbom_dataclass_takes_the_precompiled_methods() -> None:
    _import_everything()
    own = {key: why for key, why in _records.FALLBACKS.items() if key.startswith("lbom.")}
    assert own == {}
    assert len([key for key in _records.SPECS if key.startswith("lbom.")]) > 80


# --- the comparison with the standard decorator -----------------------------------------------------------


def _sample(annotation: object, name: str) -> object:
    """A value for a required field: strings and ints where the type says so (a __post_init__ may use them)."""
    if annotation == "str":
        return f"value of {name}"
    if annotation == "int":
        return len(name)
    return object()


def _field_facts(cls: type) -> list[tuple[object, ...]]:
    return [
        (f.name, f.type, f.init, f.repr, f.compare, f.hash, f.default, f.default_factory, dict(f.metadata))
        for f in dataclasses.fields(cls)
    ]


def _build(cls: type, args: dict[str, object]) -> tuple[object | None, tuple[type, str] | None]:
    try:
        return cls(**args), None
    except Exception as exc:  # a __post_init__ refusing sample values: both sides must refuse alike
        return None, (type(exc), str(exc))


def _resolved(action: Callable[[], object]) -> str:
    try:
        return repr(action())
    except Exception as exc:  # a name only imported for type checking: both sides must fail alike
        return f"{type(exc).__name__}: {exc}"


def assert_same_behaviour(fast: type, twin: type) -> None:
    """Everything the standard decorator decides about a class, compared between ``fast`` and its ``twin``."""
    assert str(inspect.signature(fast)) == str(inspect.signature(twin))
    assert fast.__init__.__annotations__ == twin.__init__.__annotations__
    assert fast.__init__.__module__ == twin.__init__.__module__
    assert _resolved(lambda: typing.get_type_hints(fast.__init__)) == _resolved(
        lambda: typing.get_type_hints(twin.__init__)
    )
    assert _resolved(lambda: inspect.signature(fast, eval_str=True)) == _resolved(
        lambda: inspect.signature(twin, eval_str=True)
    )
    for name in ("__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__"):
        method, reference = fast.__dict__.get(name), twin.__dict__.get(name)
        if method is not None and reference is not None:
            assert inspect.get_annotations(method) == inspect.get_annotations(reference), name
    assert fast.__doc__ == twin.__doc__
    assert fast.__match_args__ == twin.__match_args__  # type: ignore[attr-defined]
    assert _field_facts(fast) == _field_facts(twin)
    assert [f.kw_only for f in dataclasses.fields(fast)] == [f.kw_only for f in dataclasses.fields(twin)]
    for f in dataclasses.fields(twin):  # the class attribute a default leaves behind (or none)
        assert _no_addresses(repr(getattr(fast, f.name, "<none>"))) == _no_addresses(
            repr(getattr(twin, f.name, "<none>"))
        ), f.name
    for name in ("init", "repr", "eq", "order", "unsafe_hash", "frozen"):
        assert getattr(fast.__dataclass_params__, name) == getattr(twin.__dataclass_params__, name), name  # type: ignore[attr-defined]
    for name in ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__"):
        assert (name in fast.__dict__) == (name in twin.__dict__), name
    assert (fast.__hash__ is None) == (twin.__hash__ is None)  # type: ignore[comparison-overlap]
    for name in ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__"):
        if name in fast.__dict__ and fast.__dict__[name] is not None:
            assert fast.__dict__[name].__qualname__ == twin.__dict__[name].__qualname__

    required = {f.name: _sample(f.type, f.name) for f in dataclasses.fields(twin) if f.init and _required(f)}
    one, fast_error = _build(fast, required)
    other, _ = _build(fast, required)
    reference, twin_error = _build(twin, required)
    assert fast_error == twin_error
    if one is None or reference is None:
        return
    assert _no_addresses(repr(one)) == _no_addresses(repr(reference))
    assert _state(one) == _state(reference)
    for f in dataclasses.fields(twin):
        if f.default_factory is not dataclasses.MISSING and isinstance(getattr(one, f.name), (list, dict, set)):
            assert getattr(one, f.name) is not getattr(other, f.name), "a factory default is shared"
    eq = twin.__dataclass_params__.eq  # type: ignore[attr-defined]
    assert (one == other) is (reference == twin(**required))  # the same values: equal unless a factory's are not
    if not eq:
        assert (one == other) is False  # compared by identity
    assert (one == reference) is False  # another class: NotImplemented both ways
    assert (one == one) is (reference == reference)
    if twin.__hash__ is not None and eq:
        assert _outcome(hash, one) == _outcome(hash, other) == _outcome(hash, reference)  # unhashable fields raise
    name = dataclasses.fields(twin)[0].name if dataclasses.fields(twin) else "anything"
    for action in (lambda obj: setattr(obj, name, 1), lambda obj: delattr(obj, name)):
        assert _outcome(action, one) == _outcome(action, reference)


def _required(f: dataclasses.Field[Any]) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def _no_addresses(text: str) -> str:
    return re.sub(r" at 0x[0-9a-f]+", " at 0x...", text)


def _state(obj: object) -> dict[str, str]:
    return {key: _no_addresses(repr(value)) for key, value in vars(obj).items()}


def _outcome(action: Callable[[object], object], obj: object) -> tuple[str, str]:
    try:
        result = action(obj)
    except Exception as exc:
        return type(exc).__name__, str(exc)
    return repr(result), repr(sorted(_state(obj).items()))


def _twin(cls: type) -> type:
    """The class rebuilt from its fields and decorated by the standard decorator."""
    namespace: dict[str, object] = {
        "__module__": cls.__module__,
        "__qualname__": cls.__qualname__,
        "__doc__": cls.__doc__ if not cls.__doc__.startswith(cls.__name__ + "(") else None,
        "__annotations__": {f.name: f.type for f in dataclasses.fields(cls)},
    }
    for f in dataclasses.fields(cls):
        namespace[f.name] = dataclasses.field(
            default=f.default,
            default_factory=f.default_factory,  # type: ignore[arg-type]
            init=f.init,
            repr=f.repr,
            hash=f.hash,
            compare=f.compare,
            metadata=f.metadata,
        )
    if "__post_init__" in cls.__dict__:
        namespace["__post_init__"] = cls.__dict__["__post_init__"]
    # The options as the class was declared (not as the fast path then set __dataclass_params__).
    spec = _records.SPECS[f"{cls.__module__}.{cls.__qualname__}"]
    return dataclasses.dataclass(type(cls.__name__, (), namespace), frozen=spec.frozen, eq=spec.eq)


def _lbom_classes() -> list[type]:
    _import_everything()
    found = []
    for key in sorted(_records.SPECS):
        module, _, qualname = key.rpartition(".")
        found.append(getattr(importlib.import_module(module), qualname))
    return found


@pytest.mark.parametrize("cls", _lbom_classes(), ids=lambda cls: f"{cls.__module__}.{cls.__qualname__}")
def test_each_lbom_dataclass_behaves_like_the_standard_one(cls: type) -> None:
    assert_same_behaviour(cls, _twin(cls))


# --- the decorator on its own, with a table written on the spot ----------------------------------------------


def _with_table(monkeypatch: pytest.MonkeyPatch, make: Callable[[], type], **options: Any) -> type:
    """``make()`` decorated on the precompiled path, its table entry written and compiled for the test."""
    spec = _records._spec(make(), options)
    assert isinstance(spec, _records.Spec), spec
    namespace: dict[str, Any] = {}
    exec(compile(_records_writer.module_source([spec]), "<records>", "exec"), namespace)
    monkeypatch.setattr(_records, "_TABLE", namespace["METHODS"])
    monkeypatch.setattr(_records, "FALLBACKS", {})
    fast: type = _records.dataclass(**options)(make())
    assert _records.FALLBACKS == {}
    return fast


def _shapes() -> list[tuple[str, Callable[[], type], dict[str, Any]]]:
    def frozen_with_everything() -> type:
        class Thing:
            """A frozen thing."""

            name: str
            size: int
            tags: tuple[str, ...] = dataclasses.field(default_factory=tuple)
            note: str | None = dataclasses.field(default=None, repr=False)
            score: float = dataclasses.field(default=0.5, compare=False)
            key: str = dataclasses.field(default="k", hash=True, compare=False)
            seen: int = dataclasses.field(default=0, init=False)

        return Thing

    def mutable_with_post_init() -> type:
        class Counter:
            total: int
            steps: list[int] = dataclasses.field(default_factory=list)
            derived: int = dataclasses.field(init=False)

            def __post_init__(self) -> None:
                self.derived = self.total * 2

        return Counter

    def no_fields() -> type:
        class Empty:
            pass

        return Empty

    def identity_only() -> type:
        class Handle:
            """Compared by identity."""

            path: str
            buffer: dict[str, int] = dataclasses.field(default_factory=dict)

        return Handle

    def nan_field() -> type:
        class Reading:
            value: float
            unit: str = "x"

        return Reading

    def field_named_self() -> type:
        class Odd:
            self: int
            other: int = 0
            name: str = ""

        return Odd

    def default_from_a_base() -> type:
        class Base:
            size = 5

        class Sized(Base):
            size: int

        return Sized

    def field_from_a_base() -> type:
        class Base:
            size: int = dataclasses.field(default=3)  # a plain class: the Field stays a class attribute

        class Sized(Base):
            size: int

        return Sized

    def abstract_base() -> type:
        class Key(collections.abc.Hashable):
            text: str

        return Key

    return [
        ("frozen, every field option", frozen_with_everything, {"frozen": True}),
        ("a float field (NaN compares by identity before 3.13)", nan_field, {"frozen": True}),
        ("a field named self", field_named_self, {"frozen": True}),
        ("a default inherited from a plain base", default_from_a_base, {}),
        ("an abstract base class", abstract_base, {"frozen": True}),
        ("a Field inherited from a plain base", field_from_a_base, {}),
        ("mutable, __post_init__ and init=False", mutable_with_post_init, {}),
        ("no fields, frozen", no_fields, {"frozen": True}),
        ("no fields, mutable", no_fields, {}),
        ("eq=False", identity_only, {"eq": False}),
    ]


@pytest.mark.parametrize(("make", "options"), [s[1:] for s in _shapes()], ids=[s[0] for s in _shapes()])
def test_precompiled_methods_match_the_standard_decorator(
    monkeypatch: pytest.MonkeyPatch, make: Callable[[], type], options: dict[str, Any]
) -> None:
    fast = _with_table(monkeypatch, make, **options)
    assert_same_behaviour(fast, dataclasses.dataclass(make(), **options))


def test_frozen_instances_refuse_changes_like_the_standard_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    fast = _with_table(monkeypatch, _shapes()[0][1], frozen=True)
    thing = fast(name="a", size=1)
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'name'"):
        thing.name = "b"
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot delete field 'size'"):
        del thing.size
    assert dataclasses.replace(thing, size=2) == fast(name="a", size=2)
    assert dataclasses.asdict(thing)["tags"] == ()
    assert "note" not in repr(thing)
    assert fast(name="a", size=1, score=0.9) == thing  # compare=False
    assert hash(fast(name="a", size=1, key="other")) != hash(thing)  # hash=True on a compare=False field


def test_nan_fields_compare_as_the_running_pythons_decorator_does(monkeypatch: pytest.MonkeyPatch) -> None:
    make = _shapes()[1][1]
    fast = _with_table(monkeypatch, make, frozen=True)
    reference = dataclasses.dataclass(make(), frozen=True)
    nan = float("nan")
    assert (fast(nan) == fast(nan)) is (reference(nan) == reference(nan))
    assert (fast(nan) == fast(float("nan"))) is (reference(nan) == reference(float("nan"))) is False


def test_a_classvar_the_fingerprint_cannot_see_falls_back_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    def make() -> type:
        class Counted:
            total: t.ClassVar[int] = 0  # a ClassVar under a module alias: only the standard decorator knows
            name: str = ""

        return Counted

    spec = _records._spec(make(), {})
    assert isinstance(spec, _records.Spec) and [row[0] for row in spec.fields] == ["total", "name"]
    namespace: dict[str, Any] = {}
    exec(compile(_records_writer.module_source([spec]), "<records>", "exec"), namespace)
    monkeypatch.setattr(_records, "_TABLE", namespace["METHODS"])
    monkeypatch.setattr(_records, "FALLBACKS", {})
    decorated = _records.dataclass(make())
    assert {spec.key: "the standard decorator reads other fields"} == _records.FALLBACKS
    assert_same_behaviour(decorated, dataclasses.dataclass(make()))
    assert [f.name for f in dataclasses.fields(decorated)] == ["name"]
    assert decorated.total == 0


def test_recursive_repr_is_cut_like_the_standard_one(monkeypatch: pytest.MonkeyPatch) -> None:
    def make() -> type:
        class Node:
            children: list[object] = dataclasses.field(default_factory=list)

        return Node

    fast = _with_table(monkeypatch, make)
    node = fast()
    node.children.append(node)
    reference = dataclasses.dataclass(make())()
    reference.children.append(reference)
    assert repr(node) == repr(reference)
    assert repr(node).endswith(".Node(children=[...])")


def test_a_stale_or_missing_entry_falls_back_to_the_standard_decorator(monkeypatch: pytest.MonkeyPatch) -> None:
    def make() -> type:
        class Point:
            x: int
            y: int = 0

        return Point

    spec = _records._spec(make(), {"frozen": True})
    assert isinstance(spec, _records.Spec)
    namespace: dict[str, Any] = {}
    exec(compile(_records_writer.module_source([spec]), "<records>", "exec"), namespace)
    table = namespace["METHODS"]
    table[spec.key] = ("an older fingerprint", table[spec.key][1])
    monkeypatch.setattr(_records, "_TABLE", table)
    monkeypatch.setattr(_records, "FALLBACKS", {})
    stale = _records.dataclass(frozen=True)(make())
    assert {spec.key: "precompiled table is stale"} == _records.FALLBACKS
    assert_same_behaviour(stale, dataclasses.dataclass(make(), frozen=True))
    monkeypatch.setattr(_records, "_TABLE", {})
    missing = _records.dataclass(make())
    assert _records.FALLBACKS[spec.key] == "not in the precompiled table"
    assert_same_behaviour(missing, dataclasses.dataclass(make()))


def test_options_the_table_does_not_cover_use_the_standard_decorator() -> None:
    class Ordered:
        a: int

    decorated = _records.dataclass(order=True)(Ordered)
    assert decorated(1) < decorated(2)
    assert "options ['order']" in _records.FALLBACKS[f"{__name__}.{Ordered.__qualname__}"]


def test_the_fingerprint_changes_with_what_decides_the_methods() -> None:
    def spec(body: dict[str, object], **options: Any) -> str:
        cls = type("C", (), {"__annotations__": {"a": "int", "b": "str"}, **body})
        result = _records._spec(cls, options)
        assert isinstance(result, _records.Spec)
        return result.fingerprint

    base = spec({})
    assert spec({}, frozen=True) != base
    assert spec({}, eq=False) != base
    assert spec({"b": "x"}) != base
    assert spec({"b": dataclasses.field(default_factory=str)}) != base
    assert spec({"b": dataclasses.field(default="x", repr=False)}) != spec({"b": "x"})
    assert spec({"__post_init__": lambda self: None}) != base
    renamed = type("C", (), {"__annotations__": {"a": "int", "c": "str"}})
    assert _records._spec(renamed, {}).fingerprint != base  # type: ignore[union-attr]


# --- the field pass, against the standard decorator's own, for every l-bom class ------------------------------

_FACTS = r"""
import importlib.abc, importlib.machinery, json, re, sys

if sys.argv[1] == "standard":
    class _Off(importlib.abc.MetaPathFinder):
        # Loads lbom._records as usual, then turns its field pass off before any class is decorated.
        def find_spec(self, name, path=None, target=None):
            if name != "lbom._records":
                return None
            spec = importlib.machinery.PathFinder.find_spec(name, path)
            run = spec.loader.exec_module
            def exec_module(module):
                run(module)
                module._FIELD_PASS = False
            spec.loader.exec_module = exec_module
            return spec
    sys.meta_path.insert(0, _Off())

import dataclasses
from lbom import _records, _records_writer

_records_writer.import_everything()

def plain(value):
    return re.sub(r" at 0x[0-9a-f]+", "", repr(value))

facts = {"field_pass": _records._FIELD_PASS, "fallbacks": _records.FALLBACKS, "classes": {}}
for key in sorted(_records.SPECS):
    module, _, qualname = key.rpartition(".")
    cls = getattr(importlib.import_module(module), qualname)
    facts["classes"][key] = {
        "fields": [
            [f.name, f.type, plain(f.default), plain(f.default_factory), f.init, f.repr, f.hash, f.compare,
             plain(dict(f.metadata)), plain(f.kw_only), plain(f._field_type)]
            for f in dataclasses.fields(cls)
        ],
        "params": plain(cls.__dataclass_params__),
        "attributes": sorted(cls.__dict__),
        "field_attributes": {f.name: plain(cls.__dict__.get(f.name, "<absent>")) for f in dataclasses.fields(cls)},
        "match_args": list(cls.__match_args__),
        "replace": plain(cls.__dict__.get("__replace__")),
    }
print(json.dumps(facts, sort_keys=True))
"""


def test_the_field_pass_gives_every_lbom_class_what_the_standard_pass_gives() -> None:
    import json
    import subprocess
    import sys

    def facts(mode: str) -> dict[str, Any]:
        out = subprocess.run([sys.executable, "-c", _FACTS, mode], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        result: dict[str, Any] = json.loads(out.stdout)
        return result

    fast, standard = facts("fast"), facts("standard")
    assert fast["field_pass"] is _records._FIELD_PASS and standard["field_pass"] is False
    assert fast["fallbacks"] == standard["fallbacks"] == {}
    assert len(fast["classes"]) >= 90 and all(key.startswith("lbom.") for key in fast["classes"])
    for key, expected in standard["classes"].items():
        assert fast["classes"][key] == expected, key
