"""``@dataclass`` with its methods compiled ahead of time, so importing l-bom compiles no source at run time.

The standard decorator writes the source of ``__init__``, ``__repr__``, ``__eq__``, ``__hash__``,
``__setattr__`` and ``__delattr__`` for every class and compiles it with ``exec`` on every import: about 2 ms per
class, 80+ ms for the forty-odd classes a ``l-bom scan`` imports, a third of the command's start-up. Here the
same methods are written once, by ``python -m lbom._records_writer``, into :mod:`lbom._records_compiled`, which Python
byte-compiles like any module; at import a class gets them by a dictionary lookup.

The classes stay real dataclasses: the standard decorator still runs (with its code generation switched off), so
``dataclasses.fields``, ``replace``, ``asdict`` and ``__dataclass_params__`` answer as usual, and the type checker
sees :func:`dataclasses.dataclass` itself. The generated methods behave like the standard ones (a differential
test compares every class with a twin made by :mod:`dataclasses`). Whatever the precompiled table does not cover,
or covers in a stale version (a class edited since the file was written), goes through the standard decorator
unchanged, so a stale table costs speed, never correctness; a test fails until the table is written again.
"""

from __future__ import annotations

import abc
import reprlib
import sys
import types
import typing
from typing import TYPE_CHECKING, Any, ClassVar

from lbom._deferred import deferring


def _import_dataclasses() -> types.ModuleType:
    """:mod:`dataclasses`, imported without :mod:`inspect` on Python 3.10 and 3.11 (see :mod:`lbom._deferred`),
    where the standard decorator uses it only to write a docstring for a class that has none. 3.12+ read every
    class's annotations through ``inspect``, so there it is imported as usual."""
    if sys.version_info < (3, 12) and "dataclasses" not in sys.modules:
        with deferring("inspect"):
            import dataclasses
    import dataclasses

    return dataclasses


if TYPE_CHECKING:
    import dataclasses
    from dataclasses import dataclass as dataclass
else:
    dataclasses = _import_dataclasses()

    def dataclass(cls: type | None = None, /, **options: Any) -> Any:
        """:func:`dataclasses.dataclass`, taking its methods from the precompiled table when it can."""
        if cls is None:
            return lambda cls: _decorate(cls, options)
        return _decorate(cls, options)


_OPTIONS = frozenset({"frozen", "eq"})
"""Options the precompiled path handles; any other goes to the standard decorator."""
_OWN_METHODS = ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__")
_NOT_FIELDS = ("ClassVar", "typing.ClassVar", "InitVar", "dataclasses.InitVar", "KW_ONLY", "dataclasses.KW_ONLY")


class _Factory:
    """The marker a generated ``__init__`` takes as the default of a field with a ``default_factory``."""

    def __repr__(self) -> str:
        return "<factory>"


HAS_FACTORY = _Factory()


Row = tuple[str, str, bool, bool, bool, bool | None]
"""A field as the generated methods see it: (name, default kind "r"/"d"/"f", init, repr, compare, hash)."""


class Spec:
    """What decides a class's generated methods: recorded for every decorated class, for the writer and tests.

    A plain class: a dataclass or a named tuple would compile code at import, which is what this module avoids.
    Specs compare by identity (nothing compares or hashes them)."""

    __slots__ = ("annotations", "eq", "fields", "fingerprint", "frozen", "key", "post_init")

    def __init__(
        self,
        key: str,
        fingerprint: str,
        fields: tuple[Row, ...],
        frozen: bool,
        eq: bool,
        post_init: bool,
        annotations: dict[str, str],
    ) -> None:
        self.key = key
        self.fingerprint = fingerprint
        self.fields = fields  # one row per field, in order
        self.frozen = frozen
        self.eq = eq
        self.post_init = post_init
        self.annotations = annotations  # as read for the fingerprint (the field pass reuses them)

    def __repr__(self) -> str:
        return f"Spec({self.key!r}, {self.fingerprint!r})"


TABLE_FORMAT = 2
"""Changes whenever the factories' calling convention or generated code changes, so an older table is stale."""

SPECS: dict[str, Spec] = {}
"""Every class decorated so far, by ``module.qualname``."""
FALLBACKS: dict[str, str] = {}
"""Classes that took the standard decorator, with why (the tests require this to stay empty for l-bom's own)."""


def _spec(cls: type, options: dict[str, Any]) -> Spec | str:
    """The class's spec, read from its body before the standard decorator touches it, or why it has none."""
    key = f"{cls.__module__}.{cls.__qualname__}"
    if not options.keys() <= _OPTIONS:
        return f"options {sorted(options.keys() - _OPTIONS)}"
    own = [name for name in _OWN_METHODS if name in cls.__dict__]
    if own:
        return f"defines {own}"
    if any(hasattr(base, "__dataclass_fields__") for base in cls.__mro__[1:]):
        return "inherits from a dataclass"
    frozen = bool(options.get("frozen", False))
    eq = bool(options.get("eq", True))
    post_init = hasattr(cls, "__post_init__")
    fields: list[Row] = []
    parts = [f"table={TABLE_FORMAT}", f"frozen={frozen}", f"eq={eq}", f"post_init={post_init}"]
    annotations = _own_annotations(cls)
    for name, annotation in annotations.items():
        if not isinstance(annotation, str) or annotation.startswith(_NOT_FIELDS):
            return f"field {name} is annotated {annotation!r}"
        value = getattr(cls, name, dataclasses.MISSING)  # as the standard decorator reads a default (bases too)
        if isinstance(value, dataclasses.Field):
            if getattr(value, "kw_only", dataclasses.MISSING) not in (dataclasses.MISSING, False):
                return f"field {name} is keyword-only"
            row = _row(name, value)
        else:
            row = (name, _kind(value, dataclasses.MISSING), True, True, True, None)
        fields.append(row)
        field_name, kind, init, shown, compared, hashed = row
        parts.append(f"{field_name}:{kind}:{init}:{shown}:{compared}:{hashed}:{annotation}")
    return Spec(key, ";".join(parts), tuple(fields), frozen, eq, post_init, annotations)


def _own_annotations(cls: type) -> dict[str, Any]:
    """``inspect.get_annotations(cls)`` as Python 3.10-3.13 compute it for a class (its own ``__annotations__``,
    copied), without importing :mod:`inspect`; later Pythons (lazy annotations) ask ``inspect`` itself."""
    if sys.version_info >= (3, 14):
        import inspect

        return inspect.get_annotations(cls)
    annotations = cls.__dict__.get("__annotations__")  # noqa: RUF063 (inspect.get_annotations is what it replaces)
    if annotations is None or isinstance(annotations, types.GetSetDescriptorType):
        return {}
    if not isinstance(annotations, dict):
        raise ValueError(f"{cls!r}.__annotations__ is neither a dict nor None")
    return dict(annotations)


def _decorate(cls: type, options: dict[str, Any]) -> type:
    spec = _spec(cls, options)
    if isinstance(spec, str):
        FALLBACKS[f"{cls.__module__}.{cls.__qualname__}"] = spec
        return dataclasses.dataclass(cls, **options)
    SPECS[spec.key] = spec
    entry = _table().get(spec.key)
    if entry is None or entry[0] != spec.fingerprint:
        FALLBACKS[spec.key] = "not in the precompiled table" if entry is None else "precompiled table is stale"
        return dataclasses.dataclass(cls, **options)
    before = dict(cls.__dict__)
    had_doc = bool(cls.__doc__)
    if not had_doc:
        # Written below from the real __init__: the standard decorator would parse object.__init__'s text
        # signature here (with tokenize, whose regex alone takes ~5 ms to compile) for a doc it then cannot use.
        cls.__doc__ = cls.__name__
    # What the standard decorator does with nothing to generate (fields, __match_args__, __dataclass_params__):
    # repeated here where the running Python's decorator is known, else run.
    if not _install_fields(cls, spec):
        dataclasses.dataclass(cls, init=False, repr=False, eq=False)
    fields = dataclasses.fields(cls)
    if _rows(fields) != spec.fields:
        # The standard decorator read the fields otherwise (a ClassVar under another name, say): undo its pass
        # and let it do the whole job.
        _restore(cls, before)
        FALLBACKS[spec.key] = "the standard decorator reads other fields"
        return dataclasses.dataclass(cls, **options)
    defaults = {f.name: f.default for f in fields if f.default is not dataclasses.MISSING}
    factories = {f.name: f.default_factory for f in fields if f.default_factory is not dataclasses.MISSING}
    made = entry[1](cls, defaults, factories, HAS_FACTORY, dataclasses.FrozenInstanceError, _FIELDWISE_EQ)
    module = sys.modules.get(cls.__module__)
    namespace = module.__dict__ if module is not None else {}
    for name, made_method in made.items():
        # The standard decorator's methods live in the class's module (typing.get_type_hints resolves the
        # annotations of __init__ there), not in the table's.
        method = types.FunctionType(
            made_method.__code__, namespace, name, made_method.__defaults__, made_method.__closure__
        )
        method.__qualname__ = f"{cls.__qualname__}.{name}"
        if name == "__init__":
            method.__annotations__ = {f.name: f.type for f in fields if f.init} | {"return": None}
        setattr(cls, name, reprlib.recursive_repr()(method) if name == "__repr__" else method)
    if spec.eq and not spec.frozen:
        cls.__hash__ = None  # type: ignore[assignment]  # as the standard decorator does for mutable classes with __eq__
    params = cls.__dataclass_params__  # type: ignore[attr-defined]
    params.init, params.repr, params.eq, params.frozen = True, True, spec.eq, spec.frozen
    if not had_doc:
        import inspect

        cls.__doc__ = cls.__name__ + str(inspect.signature(cls)).replace(" -> None", "")
    abc.update_abstractmethods(cls)
    return cls


_FIELD_PASS = (3, 10) <= sys.version_info[:2] <= (3, 13) and all(
    hasattr(dataclasses, name)
    for name in (
        "_FIELD",
        "_DataclassParams",
        "_MODULE_IDENTIFIER_RE",
        *(("_replace", "_set_new_attribute") * (sys.version_info >= (3, 13))),
    )
)
"""Pythons whose decorator's field pass :func:`_install_fields` repeats (checked against each of them by
``tests/test_records.py``); on any other the decorator runs its own."""


def _install_fields(cls: type, spec: Spec) -> bool:
    """Do what ``dataclasses.dataclass(cls, init=False, repr=False, eq=False)`` does to a class the table covers,
    in a fraction of its time (its per-field type inspection is most of a dataclass's import cost once the
    methods are precompiled): ``__dataclass_fields__`` (one ``Field`` per annotation, class attributes set to
    the defaults), ``__dataclass_params__``, ``__match_args__``, and ``__replace__`` on 3.13.

    Returns False, having changed nothing, whenever the standard pass could decide otherwise: a Python it does
    not know, a field whose annotation names ``ClassVar``, ``InitVar`` or ``KW_ONLY`` however spelled (the
    standard pass resolves the name in the class's module), a mutable default (the standard pass raises), a
    ``Field`` without an annotation, or ``__slots__``.
    """
    if not _FIELD_PASS or "__slots__" in cls.__dict__:
        return False
    module = sys.modules.get(cls.__module__)
    namespace = module.__dict__ if module is not None else {}
    annotations = spec.annotations
    made: list[dataclasses.Field[Any]] = []
    for name, annotation in annotations.items():
        if not isinstance(annotation, str) or _names_special(annotation, namespace):
            return False
        value = getattr(cls, name, dataclasses.MISSING)
        if isinstance(value, dataclasses.Field) and name not in cls.__dict__:
            return False  # a Field inherited from a plain base: the standard pass sets (or fails to delete) it
        f: dataclasses.Field[Any] = (
            value if isinstance(value, dataclasses.Field) else dataclasses.field(default=value)  # type: ignore[arg-type]
        )
        default = f.default
        if sys.version_info < (3, 11):
            mutable = isinstance(default, (list, dict, set))
        else:
            mutable = default.__class__.__hash__ is None
        if mutable or isinstance(default, types.MemberDescriptorType):
            return False
        made.append(f)
    if any(isinstance(v, dataclasses.Field) and k not in annotations for k, v in cls.__dict__.items()):
        return False
    fields: dict[str, dataclasses.Field[Any]] = {}
    for (name, annotation), f in zip(annotations.items(), made, strict=True):
        f.name, f.type, f._field_type = name, annotation, dataclasses._FIELD  # type: ignore[attr-defined]
        if f.kw_only is dataclasses.MISSING:
            f.kw_only = False
        fields[name] = f
        if isinstance(cls.__dict__.get(name), dataclasses.Field):
            if f.default is dataclasses.MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, f.default)
    params: tuple[bool, ...] = (
        (False,) * 6 if sys.version_info < (3, 12) else (False,) * 6 + (True, False, False, False)
    )
    cls.__dataclass_params__ = dataclasses._DataclassParams(*params)  # type: ignore[attr-defined]
    cls.__dataclass_fields__ = fields  # type: ignore[attr-defined]
    if "__match_args__" not in cls.__dict__:
        cls.__match_args__ = tuple(name for name, f in fields.items() if f.init)  # type: ignore[attr-defined,misc]
    if sys.version_info >= (3, 13):
        dataclasses._set_new_attribute(cls, "__replace__", dataclasses._replace)  # type: ignore[attr-defined]
    return True


_LEADING: dict[str, tuple[str | None, str] | None] = {}
"""The (prefix, name) the standard pass's pattern reads at the start of an annotation, by annotation: most
annotations recur (``str``, ``int | None``), and the pattern's match is most of :func:`_names_special`'s time."""


def _names_special(annotation: str, namespace: dict[str, Any]) -> bool:
    """Whether the standard pass could read ``annotation`` as ``ClassVar``, ``InitVar`` or ``KW_ONLY``, as its
    ``_is_type`` does: the leading name is looked up in the class's module, or after ``typing.`` or
    ``dataclasses.`` (under whatever name the module imported them) in that module. It is one of the three, or a
    ``ClassVar[...]``/``InitVar[...]``. Says yes to a little more than the standard pass would, never less."""
    if annotation in _LEADING:
        leading = _LEADING[annotation]
    else:
        match = dataclasses._MODULE_IDENTIFIER_RE.match(annotation)  # type: ignore[attr-defined]
        leading = _LEADING[annotation] = (match.group(1), match.group(2)) if match is not None else None
    if leading is None:
        return False
    prefix, name = leading
    if prefix:
        owner = namespace.get(prefix)
        if owner is not typing and owner is not dataclasses:
            return False
        namespace = owner.__dict__
    value = namespace.get(name)
    if value is None:  # a builtin or undefined name (str, int ...): none of the three
        return False
    return (
        value is ClassVar
        or value is dataclasses.InitVar
        or value is dataclasses.KW_ONLY
        or type(value) is dataclasses.InitVar
        or getattr(value, "__origin__", None) is ClassVar
    )


_FIELDWISE_EQ = sys.version_info >= (3, 13)
"""Python 3.13 made the standard ``__eq__`` compare field by field (after an identity check); before, it compared
tuples of the fields. The table holds both and each Python gets its own."""


def _rows(fields: tuple[dataclasses.Field[Any], ...]) -> tuple[Row, ...]:
    """The fields as :class:`Spec` lists them, read from what the standard decorator made of the class."""
    return tuple(_row(f.name, f) for f in fields)


def _row(name: str, f: dataclasses.Field[Any]) -> Row:
    return (name, _kind(f.default, f.default_factory), f.init, f.repr, f.compare, f.hash)


def _kind(default: object, default_factory: object) -> str:
    """How a field gets its value when __init__ is not given one: "f"actory, "d"efault or "r"equired."""
    if default_factory is not dataclasses.MISSING:
        return "f"
    return "r" if default is dataclasses.MISSING else "d"


def _restore(cls: type, before: dict[str, Any]) -> None:
    """Put the class body back as it was before the standard decorator's pass."""
    for name in [name for name in cls.__dict__ if name not in before]:
        delattr(cls, name)
    for name, value in before.items():
        if cls.__dict__.get(name, dataclasses.MISSING) is not value:
            setattr(cls, name, value)


_TABLE: dict[str, tuple[str, Any]] | None = None


def _table() -> dict[str, tuple[str, Any]]:
    global _TABLE
    if _TABLE is None:
        try:
            from lbom._records_compiled import METHODS
        except Exception:  # not written yet (python -m lbom._records_writer writes it), or broken: all go slow
            METHODS = {}
        _TABLE = METHODS
    return _TABLE
