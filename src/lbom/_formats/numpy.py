"""NumPy ``.npy`` arrays and ``.npz`` archives: dtype, shape and memory order from each array's header.

An ``.npy`` file is the magic ``\\x93NUMPY``, a version, a little-endian header length (2 bytes in version 1,
4 in versions 2 and 3), and a Python dict literal with ``descr``, ``fortran_order`` and ``shape``. The header is
bounded before it is parsed with :func:`ast.literal_eval` (literals only, nothing is evaluated). Object arrays
store their data as a pickle, which ``numpy.load(allow_pickle=True)`` would run: that is a finding, and the
pickle is walked (never loaded) for what it imports. ``.npz`` archives are zips of ``.npy`` members; only each
member's header is decompressed.
"""

from __future__ import annotations

import ast
import io
import re
import struct
from typing import Any

from lbom._formats.interface import ByteSource, FindingSink, Limits, summarise_tensors
from lbom._formats.ziparchive import ZIP_MAGIC, first_member_name, open_zip
from lbom._records import dataclass
from lbom.model import JsonValue, ModelHeader, Severity, TensorInfo

FORMAT = "numpy"
NPY_MAGIC = b"\x93NUMPY"

R_HEADER = "LBOM-NPY-001"
R_OBJECT = "LBOM-NPY-002"
R_SIZE = "LBOM-NPY-003"

# numpy.lib.format refuses headers over 10,000 bytes unless told otherwise; leave room for structured dtypes.
_MAX_HEADER = 65_536
_REPORTED = 50
# numpy type character + item size -> dtype name (safetensors spelling); others keep numpy's spelling.
_KIND_NAMES = {
    ("f", 2): "F16",
    ("f", 4): "F32",
    ("f", 8): "F64",
    ("i", 1): "I8",
    ("i", 2): "I16",
    ("i", 4): "I32",
    ("i", 8): "I64",
    ("u", 1): "U8",
    ("u", 2): "U16",
    ("u", 4): "U32",
    ("u", 8): "U64",
    ("b", 1): "BOOL",
    ("c", 8): "C64",
    ("c", 16): "C128",
}
_DESCR = re.compile(r"^([<>|=]?)([a-zA-Z])(\d*)(\[[a-zA-Z0-9]+\])?$")


def sniff(head: bytes, filename: str) -> bool:
    if head.startswith(NPY_MAGIC):
        return True
    return head[:4] == ZIP_MAGIC and (first_member_name(head).endswith(".npy") or filename.lower().endswith(".npz"))


@dataclass(frozen=True)
class NpyHeader:
    """The header of a ``.npy`` array: dtype, shape, order, and where the data starts."""

    dtype: str
    shape: tuple[int, ...]
    fortran_order: bool
    has_objects: bool
    item_bytes: int | None
    data_offset: int


def _dtype_name(descr: Any) -> tuple[str, bool, int | None]:
    """(name, holds Python objects, item size) for a descr string or a structured-dtype list."""
    if isinstance(descr, str):
        match = _DESCR.match(descr)
        if not match:
            return descr[:40], False, None
        _order, kind, size_text, _unit = match.groups()
        size = int(size_text) if size_text else None
        if kind == "O":
            return "object", True, 8
        name = _KIND_NAMES.get((kind, size or 0))
        item = size if kind not in ("U",) else (size or 0) * 4
        return (name or descr[:40]), False, item
    if isinstance(descr, list):
        objects = False
        total: int | None = 0
        for field in descr[:1024]:
            if isinstance(field, tuple) and len(field) >= 2:
                _name, objs, item = _dtype_name(field[1])
                objects = objects or objs
                total = None if item is None or total is None else total + item
        return "structured", objects, total
    return "unknown", False, None


def parse_npy_header(head: bytes, sink: FindingSink, where: str) -> NpyHeader | None:
    """Parse an .npy header from the first bytes of the array; None (with a finding) if it is malformed."""
    if not head.startswith(NPY_MAGIC) or len(head) < 10:
        sink.add(R_HEADER, Severity.HIGH, "not an .npy array (bad magic or truncated)", where)
        return None
    major = head[6]
    if major == 1:
        (length,) = struct.unpack_from("<H", head, 8)
        start = 10
    elif major in (2, 3) and len(head) >= 12:
        (length,) = struct.unpack_from("<I", head, 8)
        start = 12
    else:
        sink.add(R_HEADER, Severity.HIGH, f"unsupported .npy format version {major}.{head[7]}", where)
        return None
    if length > _MAX_HEADER:
        sink.add(R_HEADER, Severity.HIGH, f"header of {length:,} bytes exceeds the {_MAX_HEADER:,}-byte cap", where)
        return None
    raw = head[start : start + length]
    if len(raw) < length:
        sink.add(R_HEADER, Severity.HIGH, "header is truncated", where)
        return None
    try:
        text = raw.decode("utf-8" if major == 3 else "latin-1")
        parsed = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError, UnicodeDecodeError) as exc:
        sink.add(R_HEADER, Severity.HIGH, f"header is not a Python literal: {str(exc)[:120]}", where)
        return None
    if not isinstance(parsed, dict) or not {"descr", "fortran_order", "shape"} <= set(parsed):
        sink.add(R_HEADER, Severity.HIGH, "header lacks descr, fortran_order or shape", where)
        return None
    shape = parsed["shape"]
    if not (isinstance(shape, tuple) and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)):
        sink.add(R_HEADER, Severity.HIGH, f"shape {str(shape)[:80]} is not a tuple of non-negative integers", where)
        return None
    name, objects, item = _dtype_name(parsed["descr"])
    return NpyHeader(name, shape, bool(parsed["fortran_order"]), objects, item, start + length)


def _object_finding(sink: FindingSink, where: str) -> None:
    sink.add(
        R_OBJECT,
        Severity.HIGH,
        "object array: its data is a pickle that numpy.load(allow_pickle=True) would run",
        where,
        "load with allow_pickle=False (the default) or ask for a numeric array",
    )


def _walk_object_pickle(data: bytes, sink: FindingSink, where: str, limits: Limits) -> list[str]:
    from lbom._formats.pickle import report_globals, walk_pickle

    walk = walk_pickle(io.BytesIO(data), sink, where, limits, [limits.max_pickle_ops])
    return report_globals(walk.globals, sink, {id(g): where for g in walk.globals})


def read(source: ByteSource, limits: Limits) -> ModelHeader:
    sink = FindingSink(source.name)
    if source.read_at(0, 4) == ZIP_MAGIC:
        return _read_npz(source, limits, sink)
    head = source.read_at(0, _MAX_HEADER + 12)
    header = parse_npy_header(head, sink, "header")
    metadata: dict[str, JsonValue] = {}
    tensors: list[TensorInfo] = []
    if header is not None:
        tensors.append(TensorInfo("array", header.dtype, header.shape, header.data_offset))
        metadata["fortran_order"] = header.fortran_order
        if header.has_objects:
            _object_finding(sink, "header")
            cap = min(source.size, limits.max_header_bytes)
            data = source.read_at(header.data_offset, cap - header.data_offset)
            metadata["pickle.globals"] = list(_walk_object_pickle(data, sink, "data", limits))
        else:
            _check_size(header, source.size - header.data_offset, sink, "data")
    return _header(tensors, metadata, sink, len(head))


def _check_size(header: NpyHeader, have: int, sink: FindingSink, where: str) -> None:
    if header.item_bytes is None:
        return
    elements = 1
    for dim in header.shape:
        elements *= dim
    need = elements * header.item_bytes
    if have < need:
        sink.add(R_SIZE, Severity.HIGH, f"array needs {need:,} bytes of data but {have:,} follow the header", where,
                 "the file is truncated")  # fmt: skip


def _read_npz(source: ByteSource, limits: Limits, sink: FindingSink) -> ModelHeader:
    archive = open_zip(source, limits, sink)
    if archive is None:
        return ModelHeader(format=FORMAT, findings=sink.result(), header_bytes_read=source.size)
    tensors: list[TensorInfo] = []
    imports: set[str] = set()
    for name in archive.names[: limits.max_tensor_count]:
        if not name.endswith(".npy"):
            continue
        where = f"member {name}"
        head = archive.read(name, _MAX_HEADER + 12)
        if head is None:
            continue
        header = parse_npy_header(head, sink, where)
        if header is None:
            continue
        tensors.append(TensorInfo(name[: -len(".npy")], header.dtype, header.shape))
        if header.has_objects:
            _object_finding(sink, where)
            member = archive.read(name, limits.max_header_bytes)
            if member is not None:
                imports.update(_walk_object_pickle(member[header.data_offset :], sink, where, limits))
        else:
            _check_size(header, archive.size_of(name) - header.data_offset, sink, where)
    metadata: dict[str, JsonValue] = {"npz.members": len(archive.names)}
    if imports:
        metadata["pickle.globals"] = list[JsonValue](sorted(imports))
    return _header(tensors, metadata, sink, archive.bytes_read)


def _header(tensors: list[TensorInfo], metadata: dict[str, JsonValue], sink: FindingSink, read: int) -> ModelHeader:
    summary = summarise_tensors(tensors)
    return ModelHeader(
        format=FORMAT,
        parameter_count=summary.parameter_count if tensors else None,
        tensor_count=len(tensors),
        dtype=summary.dtype,
        training_framework="numpy",
        tensor_types=summary.stats,
        tensors=tuple(sorted(tensors, key=lambda t: t.name)),
        metadata=dict(sorted(metadata.items())),
        findings=sink.result(),
        header_bytes_read=read,
    )
