"""PyTorch checkpoints and other pickles: tensors and imported globals, from the opcodes, never unpickled.

Both ``torch.save`` layouts are read: the zip archive (``<archive>/data.pkl``, ``data/<n>`` storages,
``version``, ``byteorder``) and the legacy stream of bare pickles (magic number, protocol, sys info, the object,
storage keys, then raw storages). Each pickle is walked with :func:`pickletools.genops` and run on a *symbolic*
stack machine: constants, tuples, lists and dicts are modelled, memo puts and gets are followed, and every
``GLOBAL``/``STACK_GLOBAL``/``INST``/``EXT`` import and every call (``REDUCE``, ``NEWOBJ``, ``OBJ``, ``INST``)
becomes a node, so nothing is ever imported or called. From the result, ``_rebuild_tensor_v2`` calls with their
persistent-id storages give tensor names, shapes and dtypes. Every imported global is listed; one outside the
allowlist modelled on torch's ``weights_only`` unpickler is a finding whose severity grows with what it can do.
"""

from __future__ import annotations

import io
import itertools
import pickletools
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import field
from typing import Any

from lbom._formats.constants import (
    DTYPE_ITEM_BYTES,
    PICKLE_BUILTIN_MODULES,
    PICKLE_CRITICAL_BUILTINS,
    PICKLE_CRITICAL_MODULES,
    PICKLE_DATA_GLOBALS,
    PICKLE_NESTED_LOADERS,
    TORCH_DTYPES,
    TORCH_SAFE_GLOBALS,
    TORCH_STORAGE_DTYPES,
)
from lbom._formats.interface import ByteSource, FindingSink, Limits, summarise_tensors
from lbom._formats.ziparchive import ZIP_MAGIC, BoundedZip, first_member_name, open_zip
from lbom._records import dataclass
from lbom.model import JsonValue, ModelHeader, Severity, TensorInfo

FORMAT = "pytorch"
FORMAT_PICKLE = "pickle"

R_MALFORMED = "LBOM-PKL-001"
R_GLOBAL = "LBOM-PKL-002"
R_DANGEROUS = "LBOM-PKL-003"
R_DYNAMIC_IMPORT = "LBOM-PKL-004"
R_COMPUTED_CALL = "LBOM-PKL-005"
R_STORAGE = "LBOM-PKL-006"
R_TORCHSCRIPT = "LBOM-PKL-007"
R_CAP = "LBOM-PKL-008"

# The first pickle of a legacy torch.save stream is this integer (torch/serialization.py MAGIC_NUMBER).
TORCH_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PICKLES = 5
_MAX_TRAILING_PICKLES = 16
_INITIAL_WINDOW = 1 << 20
_PICKLE_EXTENSIONS = (".pt", ".pth", ".bin", ".ckpt", ".pkl", ".pickle", ".joblib", ".tar")
_PROTOCOL0_STARTS = (b"(", b"c", b"]", b"}", b")", b"N", b"I", b"L", b"S", b"V", b"\x80")
_REPORTED_PER_RULE = 50
_MAX_BLOB_KEPT = 256
_MAX_GLOBALS_LISTED = 500
_MAX_TENSORS = 10_000_000
_REMEDY_LOAD = (
    "do not load this file with pickle or torch.load(weights_only=False); get the weights as safetensors, "
    "or load with torch.load(weights_only=True) in a sandbox"
)


def sniff(head: bytes, filename: str) -> bool:
    lower = filename.lower()
    if head[:4] == ZIP_MAGIC:
        # torch.load finds data.pkl by name wherever it sits in the archive, so any zip named like a checkpoint is
        # opened and its central directory searched; the first member decides only for other names.
        return first_member_name(head).endswith("data.pkl") or lower.endswith(_PICKLE_EXTENSIONS)
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return True
    if lower.endswith(_PICKLE_EXTENSIONS) and head[:1] in _PROTOCOL0_STARTS:
        return True
    # Text protocols (0 and 1) under any name: only openings no other file plausibly has (an import, or the
    # dict/list/tuple a legacy pickle starts with), since torch.load and pickle.load do not care about names.
    return _PROTOCOL0_OPENING.match(head) is not None and _opcodes_parse(head)


def _opcodes_parse(head: bytes, wanted: int = 3) -> bool:
    """Whether ``head`` starts with ``wanted`` well-formed opcodes (or a whole pickle): a word list that happens
    to open like a GLOBAL ("cat\\ndog\\n") fails at its third line."""
    seen = 0
    try:
        for opcode, _arg, _pos in pickletools.genops(io.BytesIO(head)):
            seen += 1
            if seen >= wanted or opcode.name == "STOP":
                return True
    except (ValueError, EOFError, UnicodeDecodeError):
        return False
    return False


_PROTOCOL0_OPENING = re.compile(
    rb"c[A-Za-z_][\w.]{0,200}\n[A-Za-z_][\w.]{0,200}\n"  # GLOBAL module\nname\n
    rb"|\((?:dp|lp|tp)\d{1,9}\n"  # MARK, then an empty dict/list/tuple memoised as 0
    rb"|\((?:[SVIFL][^\n]{0,256}\n){0,16}i[A-Za-z_][\w.]{0,200}\n[A-Za-z_][\w.]{0,200}\n"  # MARK, args, INST
)


# --- the symbolic machine ----------------------------------------------------------------------------


@dataclass(eq=False)
class Global:
    """A GLOBAL/STACK_GLOBAL reference in a pickle: module, name and the opcode's offset."""

    module: str
    name: str
    offset: int

    @property
    def qualified(self) -> str:
        return f"{self.module}.{self.name}"


@dataclass(eq=False)
class Call:
    """A call the real unpickler would make (REDUCE/NEWOBJ/OBJ/INST), with what was later stored into it."""

    func: Any
    args: Any
    offset: int
    items: list[tuple[Any, Any]] = field(default_factory=list)
    appended: list[Any] = field(default_factory=list)
    state: Any = None


@dataclass(eq=False)
class PersistentId:
    """A persistent id a pickle loads (torch uses them for tensor storages)."""

    pid: Any


@dataclass(eq=False)
class PickledDict:
    """A dict as the pickle walk rebuilds it: its items, in order."""

    items: list[tuple[Any, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Blob:
    """Bytes too long to keep: only their length."""

    length: int


class _Unknown:
    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN = _Unknown()


class _Broken(Exception):
    pass


@dataclass
class PickleWalk:
    """What walking one pickle found."""

    root: Any = None
    protocol: int | None = None
    globals: list[Global] = field(default_factory=list)
    ops: int = 0
    end: int = 0
    complete: bool = False


def _describe(value: Any, depth: int = 0) -> str:
    """A short rendering of a symbolic value for messages (bounded depth and length)."""
    if depth > 3:
        return "..."
    if isinstance(value, Global):
        return value.qualified
    if isinstance(value, Call):
        return f"{_describe(value.func, depth + 1)}{_describe(value.args, depth + 1)}"
    if isinstance(value, tuple):
        inner = ", ".join(_describe(v, depth + 1) for v in value[:4])
        return f"({inner}{', ...' if len(value) > 4 else ''})"
    if isinstance(value, (str, bytes, int, float, bool)) or value is None:
        return repr(value)[:60]
    return type(value).__name__


class _Machine:
    """Executes opcodes on symbolic values. Never imports, never calls."""

    def __init__(self, sink: FindingSink, where: str, walk: PickleWalk) -> None:
        self.sink = sink
        self.where = where
        self.walk = walk
        self.stack: list[Any] = []
        self.metastack: list[list[Any]] = []
        self.memo: dict[int, Any] = {}
        self.reported: Counter[str] = Counter()

    def location(self, pos: int) -> str:
        return f"{self.where}offset {pos}" if not self.where else f"{self.where} offset {pos}"

    def report(self, rule: str, severity: Severity, message: str, pos: int, remedy: str | None = None) -> None:
        self.reported[rule] += 1
        if self.reported[rule] <= _REPORTED_PER_RULE:
            self.sink.add(rule, severity, message, self.location(pos), remedy)

    def pop(self) -> Any:
        if not self.stack:
            raise _Broken("stack underflow")
        return self.stack.pop()

    def pop_mark(self) -> list[Any]:
        if not self.metastack:
            raise _Broken("no MARK on the stack")
        items = self.stack
        self.stack = self.metastack.pop()
        return items

    def top(self) -> Any:
        if not self.stack:
            raise _Broken("stack underflow")
        return self.stack[-1]

    def import_global(self, module: Any, name: Any, pos: int, how: str) -> Any:
        if not isinstance(module, str) or not isinstance(name, str):
            self.report(
                R_DYNAMIC_IMPORT,
                Severity.HIGH,
                f"{how} imports a global whose module/name are computed at load time "
                f"({_describe(module)}, {_describe(name)}), so it cannot be checked statically",
                pos,
                _REMEDY_LOAD,
            )
            return UNKNOWN
        found = Global(module, name, pos)
        self.walk.globals.append(found)
        return found

    def call(self, func: Any, args: Any, pos: int, how: str) -> Call:
        if isinstance(func, Call):
            inner = func.func.qualified if isinstance(func.func, Global) else _describe(func.func)
            self.report(
                R_COMPUTED_CALL,
                Severity.CRITICAL if inner in ("builtins.getattr", "__builtin__.getattr") else Severity.HIGH,
                f"{how} calls an object that another call returned ({_describe(func)}): a getattr-style chain "
                "that reaches callables no allowlist names",
                pos,
                _REMEDY_LOAD,
            )
        elif func is UNKNOWN or not isinstance(func, Global):
            self.report(
                R_COMPUTED_CALL,
                Severity.HIGH,
                f"{how} calls a value that is not an imported global ({_describe(func)})",
                pos,
                _REMEDY_LOAD,
            )
        return Call(func, args, pos)

    def step(self, name: str, arg: Any, pos: int) -> None:
        stack = self.stack
        if name in _PUSH_ARG:
            if isinstance(arg, (bytes, bytearray)) and len(arg) > _MAX_BLOB_KEPT:
                stack.append(Blob(len(arg)))
            else:
                stack.append(arg)
        elif name in ("PROTO", "FRAME"):
            if name == "PROTO":
                self.walk.protocol = arg
        elif name == "NONE":
            stack.append(None)
        elif name in ("NEWTRUE", "NEWFALSE"):
            stack.append(name == "NEWTRUE")
        elif name == "MARK":
            self.metastack.append(stack)
            self.stack = []
        elif name == "POP":
            if stack:
                stack.pop()
            else:
                self.pop_mark()
        elif name == "POP_MARK":
            self.pop_mark()
        elif name == "DUP":
            stack.append(self.top())
        elif name == "EMPTY_TUPLE":
            stack.append(())
        elif name == "TUPLE":
            items = self.pop_mark()
            self.stack.append(tuple(items))
        elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
            count = int(name[-1])
            if len(stack) < count:
                raise _Broken("stack underflow")
            items = stack[-count:]
            del stack[-count:]
            stack.append(tuple(items))
        elif name == "EMPTY_LIST":
            stack.append([])
        elif name == "LIST":
            items = self.pop_mark()
            self.stack.append(list(items))
        elif name == "APPEND":
            value = self.pop()
            self._append(self.top(), [value])
        elif name == "APPENDS":
            items = self.pop_mark()
            self._append(self.top(), items)
        elif name in ("EMPTY_DICT", "EMPTY_SET"):
            stack.append(PickledDict() if name == "EMPTY_DICT" else [])
        elif name == "DICT":
            items = self.pop_mark()
            self.stack.append(PickledDict(_pairs(items)))
        elif name == "SETITEM":
            value = self.pop()
            key = self.pop()
            self._set_items(self.top(), [(key, value)])
        elif name == "SETITEMS":
            items = self.pop_mark()
            self._set_items(self.top(), _pairs(items))
        elif name == "ADDITEMS":
            items = self.pop_mark()
            self._append(self.top(), items)
        elif name == "FROZENSET":
            items = self.pop_mark()
            self.stack.append(tuple(items))
        elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
            self.memo[int(arg)] = self.top()
        elif name == "MEMOIZE":
            self.memo[len(self.memo)] = self.top()
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            key = int(arg)
            if key not in self.memo:
                raise _Broken(f"memo key {key} read before it was written")
            stack.append(self.memo[key])
        elif name in ("GLOBAL", "INST"):
            module, _, attr = str(arg).partition(" ")
            imported = self.import_global(module, attr, pos, name)
            if name == "INST":
                args = tuple(self.pop_mark())
                self.stack.append(self.call(imported, args, pos, name))
            else:
                stack.append(imported)
        elif name == "STACK_GLOBAL":
            attr = self.pop()
            module = self.pop()
            stack.append(self.import_global(module, attr, pos, name))
        elif name in ("EXT1", "EXT2", "EXT4"):
            self.report(
                R_DYNAMIC_IMPORT,
                Severity.HIGH,
                f"{name} imports global number {arg} from the copyreg extension registry, which the loading "
                "process defines; it cannot be checked statically",
                pos,
                _REMEDY_LOAD,
            )
            stack.append(UNKNOWN)
        elif name == "REDUCE":
            args = self.pop()
            func = self.pop()
            stack.append(self.call(func, args, pos, name))
        elif name == "NEWOBJ":
            args = self.pop()
            cls = self.pop()
            stack.append(self.call(cls, args, pos, name))
        elif name == "NEWOBJ_EX":
            self.pop()  # kwargs
            args = self.pop()
            cls = self.pop()
            stack.append(self.call(cls, args, pos, name))
        elif name == "OBJ":
            items = self.pop_mark()
            if not items:
                raise _Broken("OBJ without a class")
            self.stack.append(self.call(items[0], tuple(items[1:]), pos, name))
        elif name == "BUILD":
            state = self.pop()
            target = self.top()
            if isinstance(target, Call):
                target.state = state
        elif name == "PERSID":
            stack.append(PersistentId(arg))
        elif name == "BINPERSID":
            stack.append(PersistentId(self.pop()))
        elif name in ("NEXT_BUFFER", "READONLY_BUFFER"):
            if name == "NEXT_BUFFER":
                stack.append(UNKNOWN)
        elif name == "STOP":
            self.walk.root = self.pop()
        else:
            raise _Broken(f"opcode {name} is not modelled")

    @staticmethod
    def _append(target: Any, items: list[Any]) -> None:
        if isinstance(target, list):
            target.extend(items)
        elif isinstance(target, Call):
            target.appended.extend(items)

    @staticmethod
    def _set_items(target: Any, pairs: list[tuple[Any, Any]]) -> None:
        if isinstance(target, (PickledDict, Call)):
            target.items.extend(pairs)


def _pairs(items: list[Any]) -> list[tuple[Any, Any]]:
    """Key/value pairs from a flat marked run (an odd trailing item is dropped, as a loader would fail)."""
    return [(items[i], items[i + 1]) for i in range(0, len(items) - 1, 2)]


_PUSH_ARG = frozenset(
    [
        "INT",
        "BININT",
        "BININT1",
        "BININT2",
        "LONG",
        "LONG1",
        "LONG4",
        "STRING",
        "BINSTRING",
        "SHORT_BINSTRING",
        "BINBYTES",
        "SHORT_BINBYTES",
        "BINBYTES8",
        "BYTEARRAY8",
        "UNICODE",
        "SHORT_BINUNICODE",
        "BINUNICODE",
        "BINUNICODE8",
        "FLOAT",
        "BINFLOAT",
    ]
)


def walk_pickle(stream: Any, sink: FindingSink, where: str, limits: Limits, ops_budget: list[int]) -> PickleWalk:
    """Walk one pickle from ``stream`` (a file object with read/readline/tell) on the symbolic machine.

    ``ops_budget`` is a one-element list shared by every pickle of a file, so the cap covers the whole file.
    """
    walk = PickleWalk()
    machine = _Machine(sink, where, walk)
    simulating = True
    pos = stream.tell()
    try:
        for opcode, arg, op_pos in pickletools.genops(stream):
            pos = op_pos if op_pos is not None else pos
            walk.ops += 1
            ops_budget[0] -= 1
            if ops_budget[0] < 0:
                sink.add(
                    R_CAP,
                    Severity.HIGH,
                    f"more than {limits.max_pickle_ops:,} pickle opcodes; the rest was not checked and may import "
                    "anything",
                    machine.location(pos),
                )
                walk.end = stream.tell()
                return walk
            if simulating:
                try:
                    machine.step(opcode.name, arg, pos)
                    continue
                except _Broken as exc:
                    simulating = False
                    machine.report(
                        R_MALFORMED,
                        Severity.MEDIUM,
                        f"pickle is not well formed at {opcode.name} ({exc}); imports after this point are still "
                        "listed, but tensors may be incomplete",
                        pos,
                    )
            # Structure is lost: keep listing what is imported, which is what matters for safety.
            if opcode.name in ("GLOBAL", "INST"):
                module, _, attr = str(arg).partition(" ")
                machine.import_global(module, attr, pos, opcode.name)
            elif opcode.name in ("STACK_GLOBAL", "EXT1", "EXT2", "EXT4"):
                machine.import_global(UNKNOWN, UNKNOWN, pos, opcode.name)
        walk.complete = True
    except (ValueError, EOFError, UnicodeDecodeError, OverflowError, MemoryError) as exc:
        machine.report(
            R_MALFORMED,
            Severity.HIGH,
            f"pickle cannot be walked past this point ({str(exc)[:160]}); a loader would still have run "
            "everything before it",
            pos,
        )
    walk.end = stream.tell()
    return walk


# --- classifying imports ---------------------------------------------------------------------------------


def global_severity(qualified: str, module: str, name: str) -> Severity | None:
    """None for globals on the allowlist, otherwise how dangerous importing this global is."""
    if qualified in TORCH_SAFE_GLOBALS:
        return None
    if "." in name:
        return _dotted_name_severity(name)
    top = module.split(".")[0]
    if module in PICKLE_BUILTIN_MODULES and (name in PICKLE_CRITICAL_BUILTINS or name.startswith("__")):
        return Severity.CRITICAL
    if (
        module in PICKLE_CRITICAL_MODULES
        or top in PICKLE_CRITICAL_MODULES
        or any(module.startswith(prefix + ".") for prefix in PICKLE_CRITICAL_MODULES)
    ):
        return Severity.CRITICAL
    if qualified in PICKLE_NESTED_LOADERS:
        return Severity.HIGH
    if qualified in PICKLE_DATA_GLOBALS:
        return Severity.LOW
    return Severity.MEDIUM


def _dotted_name_severity(name: str) -> Severity:
    """A dotted name is resolved attribute by attribute from protocol 4 on (``find_class`` walks it with getattr),
    so ``("torch.serialization", "os.system")`` is ``os.system`` itself. Attribute walks have no place in a weights
    file: at least HIGH, and CRITICAL when a step reaches a dunder or a dangerous module's function."""
    parts = name.split(".")
    if any(part.startswith("__") for part in parts):
        return Severity.CRITICAL
    worst = Severity.HIGH
    for outer, inner in itertools.pairwise(parts):
        # Each step may land on a module the previous one imported (``serialization.os``, or under a private alias
        # as in ``tempfile._os``): judge it as that module.
        module = outer.lstrip("_") or outer
        step = global_severity(f"{module}.{inner}", module, inner)
        if step is not None and step.rank > worst.rank:
            worst = step
    return worst


def report_globals(globals_seen: list[Global], sink: FindingSink, where_by_global: dict[int, str]) -> list[str]:
    """One finding per distinct global outside the allowlist; returns the sorted list of all imports."""
    first: dict[str, Global] = {}
    counts: Counter[str] = Counter()
    for item in globals_seen:
        first.setdefault(item.qualified, item)
        counts[item.qualified] += 1
    for qualified in sorted(first):
        item = first[qualified]
        severity = global_severity(qualified, item.module, item.name)
        if severity is None:
            continue
        times = f" ({counts[qualified]} times)" if counts[qualified] > 1 else ""
        where = where_by_global.get(id(item), "")
        location = f"{where} offset {item.offset}".strip()
        if severity is Severity.CRITICAL:
            sink.add(
                R_DANGEROUS,
                severity,
                f"pickle imports {qualified}{times}, which can run code or reach the system when the file is loaded",
                location,
                _REMEDY_LOAD,
            )
        else:
            sink.add(
                R_GLOBAL,
                severity,
                f"pickle imports {qualified}{times}, which is not on the weights-only allowlist "
                "(torch.load(weights_only=True) refuses it)",
                location,
                "load only if you trust the publisher; prefer a safetensors copy",
            )
    return sorted(first)[:_MAX_GLOBALS_LISTED]


# --- tensors ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Storage:
    """A torch storage named by a persistent id: its key, dtype and element count."""

    key: str
    dtype: str | None
    numel: int | None


def _storage_of(value: Any) -> _Storage | None:
    if not isinstance(value, PersistentId) or not isinstance(value.pid, tuple) or len(value.pid) < 5:
        return None
    tag, storage_type, key, _location, numel = value.pid[:5]
    if tag != "storage":
        return None
    dtype = None
    if isinstance(storage_type, Global):
        dtype = TORCH_STORAGE_DTYPES.get(storage_type.name) or TORCH_DTYPES.get(storage_type.name)
    return _Storage(str(key), dtype, numel if isinstance(numel, int) else None)


def _int_tuple(value: Any) -> tuple[int, ...] | None:
    if isinstance(value, Call) and isinstance(value.func, Global) and value.func.qualified == "torch.Size":
        value = value.args[0] if isinstance(value.args, tuple) and value.args else None
    if isinstance(value, (tuple, list)) and all(isinstance(d, int) and not isinstance(d, bool) for d in value):
        return tuple(value)
    return None


_REBUILD_TENSOR = frozenset({"_rebuild_tensor", "_rebuild_tensor_v2", "_rebuild_tensor_v3"})


@dataclass(frozen=True)
class FoundTensor:
    """A tensor found in a checkpoint's pickle: name, dtype, shape and its storage."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    storage: _Storage | None


def _as_tensor(value: Call, name: str) -> FoundTensor | None:
    func = value.func
    # Tensor subclasses: _rebuild_from_type_v2(_rebuild_tensor_v2, cls, (storage, offset, size, ...), state).
    if (
        isinstance(func, Global)
        and func.qualified == "torch._tensor._rebuild_from_type_v2"
        and isinstance(value.args, tuple)
        and len(value.args) >= 3
        and isinstance(value.args[2], tuple)
    ):
        value = Call(value.args[0], value.args[2], value.offset)
        func = value.func
    if not (isinstance(func, Global) and func.module == "torch._utils" and func.name in _REBUILD_TENSOR):
        return None
    args = value.args if isinstance(value.args, tuple) else ()
    if len(args) < 3:
        return None
    storage = _storage_of(args[0])
    shape = _int_tuple(args[2])
    if shape is None:
        return None
    dtype = storage.dtype if storage else None
    if func.name == "_rebuild_tensor_v3" and len(args) > 6 and isinstance(args[6], Global):
        dtype = TORCH_DTYPES.get(args[6].name, dtype)
    return FoundTensor(name, dtype or "UNKNOWN", shape, storage)


def _key_text(key: Any) -> str | None:
    if isinstance(key, str):
        return key
    if isinstance(key, int) and not isinstance(key, bool):
        return str(key)
    return None


def find_tensors(root: Any) -> list[FoundTensor]:
    """Tensors reachable from the unpickled object, named by their dotted key path. Iterative, visits once."""
    found: list[FoundTensor] = []
    seen: set[int] = set()
    todo: list[tuple[Any, str]] = [(root, "")]
    while todo and len(found) < _MAX_TENSORS:
        value, path = todo.pop()
        if id(value) in seen or not isinstance(value, _CONTAINERS):
            continue
        seen.add(id(value))

        def children(pairs: Iterable[tuple[Any, Any]], base: str = path) -> list[tuple[Any, str]]:
            # Only containers can hold tensors: a list of six million ints costs no path strings.
            out = []
            for key, item in pairs:
                if isinstance(item, _CONTAINERS):
                    text = _key_text(key)
                    named = base if text is None else (f"{base}.{text}" if base else text)
                    out.append((item, named))
            out.reverse()
            return out

        if isinstance(value, Call):
            tensor = _as_tensor(value, path)
            if tensor is not None:
                found.append(tensor)
                continue
            todo.extend(children(value.items))
            todo.extend(children(enumerate(value.appended)))
            todo.append((value.state, path))
            # Call arguments are not containers of the result: keep the path (e.g. _rebuild_parameter(tensor)).
            todo.extend((v, path) for v in (value.args if isinstance(value.args, tuple) else (value.args,)))
        elif isinstance(value, PickledDict):
            todo.extend(children(value.items))
        elif isinstance(value, tuple) and len(value) <= 1:
            todo.extend((v, path) for v in value)
        else:
            todo.extend(children(enumerate(value)))
    return found


_CONTAINERS = (Call, PickledDict, list, tuple)


# --- files --------------------------------------------------------------------------------------------


@dataclass
class _Collected:
    """What the opcode walk of one pickle gathered: globals, their places, roots and protocol."""

    sink: FindingSink
    limits: Limits
    ops_budget: list[int]
    globals: list[Global] = field(default_factory=list)
    where_by_global: dict[int, str] = field(default_factory=dict)
    roots: list[Any] = field(default_factory=list)
    protocol: int | None = None
    bytes_read: int = 0

    def add_walk(self, walk: PickleWalk, where: str) -> None:
        for item in walk.globals:
            self.where_by_global[id(item)] = where
        self.globals.extend(walk.globals)
        if walk.protocol is not None and self.protocol is None:
            self.protocol = walk.protocol


def read(source: ByteSource, limits: Limits) -> ModelHeader:
    head = source.read_at(0, 4)
    metadata: dict[str, JsonValue] = {}
    storages_ok: dict[str, int] | None = None
    if head == ZIP_MAGIC:
        collected = _Collected(FindingSink(source.name), limits, [limits.max_pickle_ops])
        archive = open_zip(source, limits, collected.sink)
        if archive is None:
            return ModelHeader(format=FORMAT, findings=collected.sink.result(), header_bytes_read=source.size)
        is_torch, storages_ok = _read_torch_zip(archive, collected, metadata)
        collected.bytes_read = archive.bytes_read
    else:
        collected, is_torch = _read_pickle_stream(source, limits, metadata)
    return _header(collected, metadata, is_torch, storages_ok)


def zip_lists_pickle(source: ByteSource, limits: Limits) -> bool:
    """Whether ``source`` is a zip archive whose central directory lists a pickle (``*.pkl``)."""
    archive = open_zip(source, limits, FindingSink(source.name))
    return archive is not None and any(name.endswith(".pkl") for name in archive.names)


def _read_torch_zip(
    archive: BoundedZip, collected: _Collected, metadata: dict[str, JsonValue]
) -> tuple[bool, dict[str, int]]:
    limits = collected.limits
    names = archive.names
    data_pkl = next((n for n in names if n == "data.pkl" or n.endswith("/data.pkl")), None)
    prefix = data_pkl[: -len("data.pkl")] if data_pkl else ""
    pickles = [n for n in names if n.endswith(".pkl")]
    if not pickles:
        collected.sink.add(
            R_MALFORMED,
            Severity.MEDIUM,
            f"zip archive with {len(names):,} member(s) and no pickle (no data.pkl): not a PyTorch checkpoint",
            None,
            "check where the file came from; torch.load cannot read it as a checkpoint",
        )
    if data_pkl is not None:
        pickles.remove(data_pkl)
        pickles.insert(0, data_pkl)
    for name in pickles:
        walked = _walk_member(archive, name, collected)
        if walked is None:
            continue
        walk, data = walked
        if archive.size_of(name) > limits.max_header_bytes and walk.end >= len(data):
            collected.sink.add(
                R_CAP,
                Severity.HIGH,
                f"{name} is {archive.size_of(name):,} bytes; only the first {limits.max_header_bytes:,} were walked",
                f"member {name}",
            )
        collected.add_walk(walk, name)
        if name == data_pkl:
            collected.roots.append(walk.root)
    for member in ("version", ".data/version", "byteorder"):
        full = prefix + member
        if full in names:
            raw = archive.read(full, 64)
            if raw is not None:
                metadata["torch." + member.lstrip(".").replace("/", "_")] = raw.decode("ascii", "replace").strip()
    if any(n.startswith(prefix + "code/") for n in names) or (prefix + "constants.pkl") in names:
        collected.sink.add(
            R_TORCHSCRIPT,
            Severity.MEDIUM,
            "TorchScript archive: it carries code (code/, constants.pkl) that torch.jit.load compiles and runs",
            f"member {prefix}code/",
            "load TorchScript only from publishers you trust",
        )
    storages = {n[len(prefix) + len("data/") :]: archive.size_of(n) for n in names if n.startswith(prefix + "data/")}
    if data_pkl is not None:
        metadata["torch.archive"] = prefix.rstrip("/")
    return data_pkl is not None, storages


def _walk_member(archive: BoundedZip, name: str, collected: _Collected) -> tuple[PickleWalk, bytes] | None:
    """Walk one pickle member in a window that grows only while the walk runs off its end.

    A member that stops parsing early (junk after a few opcodes, a zip bomb of zeros) is never decompressed past
    the first window, so memory stays small whatever the member's declared size. Trial walks use a scratch sink
    and budget; only the final walk records findings and spends the file's opcode budget.
    """
    limits = collected.limits
    cap = min(archive.size_of(name), limits.max_header_bytes)
    window = min(cap, _INITIAL_WINDOW)
    while True:
        data = archive.read(name, window)
        if data is None:
            return None
        scratch, budget = FindingSink(name), list(collected.ops_budget)
        trial = walk_pickle(io.BytesIO(data), scratch, name, limits, budget)
        if trial.complete or trial.end < len(data) or window >= cap:
            # This walk saw everything there is to see: keep it instead of walking the same bytes again.
            collected.sink.found.extend(scratch.found)
            collected.ops_budget[0] = budget[0]
            return trial, data
        window = min(cap, window * 4)


def _read_pickle_stream(source: ByteSource, limits: Limits, metadata: dict[str, JsonValue]) -> tuple[_Collected, bool]:
    """Walk the pickles at the start of a file in a window that grows only while a walk runs off its end.

    Legacy torch checkpoints are a few small pickles followed by gigabytes of raw storage: the window keeps the
    read small, and an in-memory stream keeps genops fast.
    """
    cap = min(source.size, limits.max_header_bytes)
    window = min(cap, _INITIAL_WINDOW)
    while True:
        data = source.read_at(0, window)
        collected, legacy, walks = _walk_pickles(data, source.name, limits, metadata)
        last = walks[-1]
        if last.complete or last.end < len(data) or window >= cap:
            break
        window = min(cap, window * 4)
    if cap < source.size and not legacy and not last.complete and last.end >= len(data):
        collected.sink.add(
            R_CAP,
            Severity.HIGH,
            f"only the first {cap:,} bytes of the {source.size:,}-byte pickle were walked",
            f"offset {cap}",
        )
    return collected, legacy


def _walk_pickles(
    data: bytes, name: str, limits: Limits, metadata: dict[str, JsonValue]
) -> tuple[_Collected, bool, list[PickleWalk]]:
    collected = _Collected(FindingSink(name), limits, [limits.max_pickle_ops])
    stream = io.BytesIO(data)
    first = walk_pickle(stream, collected.sink, "", limits, collected.ops_budget)
    collected.add_walk(first, "")
    legacy = first.complete and first.root == TORCH_LEGACY_MAGIC
    walks = [first]
    limit = _LEGACY_PICKLES if legacy else _MAX_TRAILING_PICKLES
    while walks[-1].complete and len(walks) < limit and data[stream.tell() : stream.tell() + 1] == b"\x80":
        walk = walk_pickle(stream, collected.sink, "", limits, collected.ops_budget)
        collected.add_walk(walk, "")
        walks.append(walk)
    collected.bytes_read = len(data)
    if legacy:
        metadata["torch.legacy_format"] = True
        if len(walks) > 1 and isinstance(walks[1].root, int):
            metadata["torch.protocol_version"] = walks[1].root
        if len(walks) > 3:
            collected.roots.append(walks[3].root)
    else:
        collected.roots.append(first.root)
    return collected, legacy, walks


def _header(
    collected: _Collected, metadata: dict[str, JsonValue], is_torch: bool, storages: dict[str, int] | None
) -> ModelHeader:
    sink = collected.sink
    imports = report_globals(collected.globals, sink, collected.where_by_global)
    tensors: list[FoundTensor] = []
    for root in collected.roots:
        tensors.extend(find_tensors(root))
    is_torch = is_torch or any(g.module == "torch._utils" and g.name in _REBUILD_TENSOR for g in collected.globals)
    if storages is not None:
        _check_storages(tensors, storages, sink)
    infos = [TensorInfo(tensor.name, tensor.dtype, tensor.shape) for tensor in tensors]
    summary = summarise_tensors(infos)
    metadata["pickle.globals"] = list(imports)
    if collected.protocol is not None:
        metadata["pickle.protocol"] = collected.protocol
    return ModelHeader(
        format=FORMAT if is_torch else FORMAT_PICKLE,
        format_version=str(metadata.get("torch.version")) if "torch.version" in metadata else None,
        parameter_count=summary.parameter_count if tensors else None,
        tensor_count=len(tensors) if tensors else None,
        dtype=summary.dtype,
        training_framework="pytorch" if is_torch else None,
        tensor_types=summary.stats,
        tensors=tuple(sorted(infos, key=lambda t: t.name)),
        metadata=dict(sorted(metadata.items())),
        findings=sink.result(),
        header_bytes_read=collected.bytes_read,
    )


def _check_storages(tensors: list[FoundTensor], storages: dict[str, int], sink: FindingSink) -> None:
    """Every storage a tensor names must be a data/<key> member at least as large as the storage."""
    reported = 0
    checked: set[str] = set()
    for tensor in tensors:
        storage = tensor.storage
        if storage is None or storage.key in checked:
            continue
        checked.add(storage.key)
        size = storages.get(storage.key)
        problem = None
        if size is None:
            problem = f"storage data/{storage.key} of tensor {tensor.name!r} is missing from the archive"
        elif storage.numel is not None and storage.dtype in DTYPE_ITEM_BYTES:
            need = storage.numel * DTYPE_ITEM_BYTES[storage.dtype]
            if size < need:
                problem = f"storage data/{storage.key} holds {size:,} bytes but {tensor.name!r} needs {need:,}"
        if problem is not None:
            reported += 1
            if reported <= _REPORTED_PER_RULE:
                sink.add(R_STORAGE, Severity.HIGH, problem, f"tensor {tensor.name}", "the file is truncated or altered")
