"""Writes :mod:`lbom._records_compiled`, the precompiled dataclass methods :mod:`lbom._records` installs.

Run ``python -m lbom._records_writer`` after adding or changing a dataclass in l-bom (``--check`` only compares);
the test suite fails while the file is out of date.
"""

from __future__ import annotations

import re

from lbom._records import SPECS, Spec


def _factory_name(spec: Spec) -> str:
    return "_" + re.sub(r"\W", "_", spec.key)


def _method_source(spec: Spec) -> str:
    """The source of one factory returning the class's methods, as the standard decorator would write them
    (no annotations: :mod:`lbom._records` gives ``__init__`` the class's own, as the standard decorator does)."""
    names = [name for name, *_ in spec.fields]
    # The standard decorator's own rule: __init__'s first parameter is renamed when a field is called "self".
    me = "__dataclass_self__" if "self" in names else "self"
    setter = "_rec_object.__setattr__({me}, {name!r}, {value})" if spec.frozen else "{me}.{name} = {value}"
    params: list[str] = [me]
    body: list[str] = []
    for name, kind, init, _, _, _ in spec.fields:
        if name.startswith("_rec_"):
            raise ValueError(f"{spec.key}: field name {name} is reserved for the generated code")
        if init:
            params.append({"r": name, "d": f"{name}=_rec_d[{name!r}]", "f": f"{name}=_rec_hf"}[kind])
            value = f"_rec_f[{name!r}]() if {name} is _rec_hf else {name}" if kind == "f" else name
        elif kind == "f":
            value = f"_rec_f[{name!r}]()"
        else:
            continue  # as in the standard decorator: a plain default stays a class attribute, read through it
        body.append(setter.format(me=me, name=name, value=value))
    if spec.post_init:
        body.append(f"{me}.__post_init__()")
    lines = [
        f"def {_factory_name(spec)}(_rec_cls: Any, _rec_d: Any, _rec_f: Any, _rec_hf: Any, _rec_fie: Any,"
        " _rec_fieldwise: bool) -> dict[str, Any]:",
        f"    # {spec.key}",
    ]
    if spec.frozen:
        lines.append("    _rec_object = object")
    lines.append(f"    def __init__({', '.join(params)}):")
    lines.extend(f"        {line}" for line in body or ["pass"])
    shown = [name for name, _, _, shown, _, _ in spec.fields if shown]
    text = ", ".join(f"{name}={{self.{name}!r}}" for name in shown)
    lines += ["    def __repr__(self):", f'        return self.__class__.__qualname__ + f"({text})"']
    methods = ["__init__", "__repr__"]
    if spec.eq:
        compared = [name for name, _, _, _, compare, _ in spec.fields if compare]
        mine = "".join(f"self.{name}," for name in compared)
        theirs = "".join(f"other.{name}," for name in compared)
        fieldwise = " and ".join(f"self.{name} == other.{name}" for name in compared) or "True"
        lines += [
            "    if _rec_fieldwise:  # Python 3.13+",
            "        def __eq__(self, other):",
            "            if self is other:",
            "                return True",
            "            if other.__class__ is self.__class__:",
            f"                return {fieldwise}",
            "            return NotImplemented",
            "    else:",
            "        def __eq__(self, other):",
            "            if other.__class__ is self.__class__:",
            f"                return ({mine}) == ({theirs})",
            "            return NotImplemented",
        ]
        methods.append("__eq__")
    if spec.eq and spec.frozen:
        hashed = [name for name, _, _, _, compare, hashed in spec.fields if hashed or (hashed is None and compare)]
        lines += ["    def __hash__(self):", f"        return hash(({''.join(f'self.{n},' for n in hashed)}))"]
        methods.append("__hash__")
    if spec.frozen:
        frozen_names = "".join(f"{name!r}," for name in names)
        for method, verb, signature, call in (
            ("__setattr__", "assign to", "name, value", "name, value"),
            ("__delattr__", "delete", "name", "name"),
        ):
            lines += [
                f"    def {method}(self, {signature}):",
                f"        if type(self) is _rec_cls or name in ({frozen_names}):",
                f'            raise _rec_fie(f"cannot {verb} field {{name!r}}")',
                f"        super(_rec_cls, self).{method}({call})",
            ]
            methods.append(method)
    lines.append(f"    return {{{', '.join(f'{m!r}: {m}' for m in methods)}}}")
    return "\n".join(lines)


def import_everything() -> None:
    """Import every module of l-bom (found by file, so a package without ``__init__.py`` is not missed)."""
    import importlib
    import os

    import lbom

    root = os.path.dirname(os.path.abspath(lbom.__file__))
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d.isidentifier())
        relative = os.path.relpath(folder, root)
        package = "lbom" if relative == os.curdir else "lbom." + relative.replace(os.sep, ".")
        for name in sorted(files):
            stem, ext = os.path.splitext(name)
            if ext == ".py" and stem != "__main__" and stem.isidentifier():
                importlib.import_module(package if stem == "__init__" else f"{package}.{stem}")


def write_source() -> str:
    """The text of :mod:`lbom._records_compiled` for every dataclass in l-bom (imports every module first)."""
    import_everything()
    return module_source([SPECS[key] for key in sorted(SPECS) if key.startswith("lbom.")])


def module_source(specs: list[Spec]) -> str:
    """The text of a precompiled table holding the methods of ``specs``."""
    factories = [_factory_name(spec) for spec in specs]
    clashes = sorted({name for name in factories if factories.count(name) > 1})
    if clashes:
        raise ValueError(f"two classes give the same factory name: {clashes}")
    out = [
        '"""Generated by ``python -m lbom._records_writer``: do not edit (a test fails when it is out of date)."""',
        "",
        "# ruff: noqa",
        "# mypy: allow-untyped-defs",
        "from typing import Any, Callable",
        "",
    ]
    for spec in specs:
        out += ["", _method_source(spec), ""]
    out += ["", "METHODS: dict[str, tuple[str, Callable[..., dict[str, Any]]]] = {"]
    out += [f"    {spec.key!r}: ({spec.fingerprint!r}, {_factory_name(spec)})," for spec in specs]
    out += ["}", ""]
    text = "\n".join(out)
    compile(text, "lbom/_records_compiled.py", "exec")  # a table that does not compile is never written
    return text


def main(argv: list[str] | None = None) -> int:
    import os
    import sys

    args = sys.argv[1:] if argv is None else argv
    path = os.path.join(os.path.dirname(__file__), "_records_compiled.py")
    text = write_source()
    if args == ["--check"]:
        with open(path, encoding="utf-8") as handle:
            current = handle.read()
        if current != text:
            print(f"{path} is out of date: run python -m lbom._records_writer", file=sys.stderr)
            return 1
        return 0
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    print(f"wrote {path}: {len(SPECS)} classes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
