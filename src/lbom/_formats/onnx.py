"""ONNX models (``.onnx``): a bounded protobuf wire-format walk of ``ModelProto``, no ``onnx`` package needed.

Only the fields this reader reports are decoded: ``ir_version``, producer, opset imports, metadata properties,
and from the graph its inputs and outputs (name, element type, shape), node count and operator histogram, and
each initializer's name, type and dims. Raw tensor bytes (``raw_data`` and the typed ``*_data`` fields) are
skipped by length, never read, so a 2 GB model costs a few reads per initializer. External-data references
(``data_location = EXTERNAL``) are reported; a location that is absolute or climbs out of the model's folder is
a finding, and the external files are never opened. Nesting follows the schema (ModelProto → GraphProto →
TensorProto/ValueInfoProto → ...), so its depth is fixed by this code, not by the file. Field numbers: onnx/onnx.proto.
"""

from __future__ import annotations

import posixpath
from collections import Counter
from collections.abc import Iterator
from dataclasses import field

from lbom._formats.constants import ONNX_TENSOR_TYPES
from lbom._formats.interface import ByteSource, FindingSink, Limits, summarise_tensors
from lbom._records import dataclass
from lbom.model import JsonValue, ModelHeader, Severity, TensorInfo

FORMAT = "onnx"

R_MALFORMED = "LBOM-ONNX-001"
R_EXTERNAL_ESCAPE = "LBOM-ONNX-002"
R_CAP = "LBOM-ONNX-004"
R_CUSTOM_DOMAIN = "LBOM-ONNX-005"

_VARINT, _FIXED64, _LEN, _FIXED32 = 0, 1, 2, 5
_MAX_STRING = 64 * 1024
_MAX_LISTED = 64
_STANDARD_DOMAINS = frozenset({"", "ai.onnx", "ai.onnx.ml", "ai.onnx.training", "ai.onnx.preview.training"})
_WINDOW = 1 << 16


def sniff(head: bytes, filename: str) -> bool:
    """ModelProto has no magic: accept ``.onnx`` names, or field 1 (ir_version, a small varint) then a known field."""
    if filename.lower().endswith(".onnx"):
        return len(head) > 0
    return len(head) >= 4 and head[0] == 0x08 and 1 <= head[1] <= 16 and head[2] in (0x12, 0x1A, 0x22, 0x2A, 0x3A, 0x42)


class _Malformed(Exception):
    pass


class _Reader:
    """Reads varints and short fields at absolute offsets through a small cached window."""

    def __init__(self, source: ByteSource) -> None:
        self.source = source
        self.window = b""
        self.window_at = 0
        self.bytes_read = 0

    def bytes_at(self, offset: int, length: int) -> bytes:
        end = self.window_at + len(self.window)
        if self.window_at <= offset and offset + length <= end:
            start = offset - self.window_at
            return self.window[start : start + length]
        if length > _WINDOW:
            data = self.source.read_at(offset, length)
            self.bytes_read += len(data)
            return data
        self.window = self.source.read_at(offset, _WINDOW)
        self.window_at = offset
        self.bytes_read += len(self.window)
        return self.window[:length]

    def varint(self, offset: int, end: int) -> tuple[int, int]:
        value = 0
        shift = 0
        while True:
            if offset >= end or shift > 63:
                raise _Malformed(f"bad varint at offset {offset}")
            byte = self.bytes_at(offset, 1)
            if not byte:
                raise _Malformed(f"truncated varint at offset {offset}")
            value |= (byte[0] & 0x7F) << shift
            offset += 1
            shift += 7
            if not byte[0] & 0x80:
                return value, offset

    def fields(self, start: int, end: int, budget: list[int]) -> Iterator[tuple[int, int, int, int]]:
        """(field number, wire type, value or payload start, payload end) for each field in [start, end)."""
        pos = start
        while pos < end:
            budget[0] -= 1
            if budget[0] < 0:
                raise _Malformed("field budget exhausted")
            key, pos = self.varint(pos, end)
            number, wire = key >> 3, key & 7
            if wire == _VARINT:
                value, pos = self.varint(pos, end)
                yield number, wire, value, pos
            elif wire == _LEN:
                length, pos = self.varint(pos, end)
                if pos + length > end:
                    raise _Malformed(
                        f"field {number} at offset {pos} runs {pos + length - end:,} bytes past its parent"
                    )
                yield number, wire, pos, pos + length
                pos += length
            elif wire == _FIXED64:
                pos += 8
            elif wire == _FIXED32:
                pos += 4
            else:
                raise _Malformed(f"unsupported wire type {wire} at offset {pos}")
            if pos > end:
                raise _Malformed(f"field {number} runs past its parent at offset {pos}")

    def text(self, start: int, end: int) -> str:
        return self.bytes_at(start, min(end - start, _MAX_STRING)).decode("utf-8", "replace")


@dataclass
class _Graph:
    """What a walk of an ONNX graph collected: inputs, outputs, operators, initializers, external data."""

    inputs: list[JsonValue] = field(default_factory=list)
    outputs: list[JsonValue] = field(default_factory=list)
    ops: Counter[str] = field(default_factory=Counter)
    custom_domains: set[str] = field(default_factory=set)
    nodes: int = 0
    initializers: list[TensorInfo] = field(default_factory=list)
    external: list[str] = field(default_factory=list)
    name: str | None = None


def read(source: ByteSource, limits: Limits) -> ModelHeader:
    sink = FindingSink(source.name)
    reader = _Reader(source)
    budget = [limits.max_tensor_count * 4]
    metadata: dict[str, JsonValue] = {}
    opsets: dict[str, JsonValue] = {}
    graph = _Graph()
    try:
        for number, wire, a, b in reader.fields(0, source.size, budget):
            if number == 1 and wire == _VARINT:
                metadata["onnx.ir_version"] = a
            elif number == 2 and wire == _LEN:
                metadata["onnx.producer_name"] = reader.text(a, b)
            elif number == 3 and wire == _LEN:
                metadata["onnx.producer_version"] = reader.text(a, b)
            elif number == 4 and wire == _LEN:
                metadata["onnx.domain"] = reader.text(a, b)
            elif number == 5 and wire == _VARINT:
                metadata["onnx.model_version"] = a
            elif number == 8 and wire == _LEN:
                domain, version = _opset(reader, a, b, budget)
                opsets[domain or "ai.onnx"] = version
            elif number == 14 and wire == _LEN:
                key, value = _string_pair(reader, a, b, budget)
                metadata[f"onnx.metadata.{key}"] = value
            elif number == 7 and wire == _LEN:
                _read_graph(reader, a, b, budget, graph, limits, sink)
    except _Malformed as exc:
        message = "field budget exhausted" if budget[0] < 0 else str(exc)
        rule = R_CAP if budget[0] < 0 else R_MALFORMED
        sink.add(rule, Severity.HIGH, f"not a well-formed ONNX ModelProto: {message}", None,
                 "the file is truncated, corrupted or not ONNX")  # fmt: skip
    if "onnx.ir_version" not in metadata and not graph.nodes and not graph.initializers:
        sink.add(R_MALFORMED, Severity.HIGH, "no ir_version and no graph: this does not look like an ONNX model")
    _check_external(graph.external, sink)
    for domain in sorted(graph.custom_domains | {d for d in opsets if d not in _STANDARD_DOMAINS}):
        sink.add(R_CUSTOM_DOMAIN, Severity.LOW, f"uses operators from the custom domain {domain!r}, which need a "
                 "runtime extension to load", f"domain {domain}")  # fmt: skip
    metadata["onnx.opset_imports"] = dict(sorted(opsets.items()))
    metadata["onnx.graph.inputs"] = graph.inputs[:_MAX_LISTED]
    metadata["onnx.graph.outputs"] = graph.outputs[:_MAX_LISTED]
    metadata["onnx.graph.node_count"] = graph.nodes
    metadata["onnx.graph.op_types"] = dict(sorted(graph.ops.most_common(_MAX_LISTED)))
    metadata["onnx.initializer_count"] = len(graph.initializers)
    if graph.name:
        metadata["onnx.graph.name"] = graph.name
    if graph.external:
        metadata["onnx.external_data"] = list[JsonValue](sorted(set(graph.external))[:_MAX_LISTED])
    return _header(graph, metadata, sink, reader.bytes_read)


def _header(graph: _Graph, metadata: dict[str, JsonValue], sink: FindingSink, bytes_read: int) -> ModelHeader:
    summary = summarise_tensors(graph.initializers)
    producer = metadata.get("onnx.producer_name")
    return ModelHeader(
        format=FORMAT,
        format_version=str(metadata["onnx.ir_version"]) if "onnx.ir_version" in metadata else None,
        name=graph.name,
        parameter_count=summary.parameter_count,
        tensor_count=len(graph.initializers),
        dtype=summary.dtype,
        training_framework=producer if isinstance(producer, str) and producer else None,
        tensor_types=summary.stats,
        tensors=tuple(graph.initializers),
        metadata=dict(sorted(metadata.items())),
        findings=sink.result(),
        header_bytes_read=bytes_read,
    )


def _opset(reader: _Reader, start: int, end: int, budget: list[int]) -> tuple[str, JsonValue]:
    domain, version = "", None
    for number, wire, a, b in reader.fields(start, end, budget):
        if number == 1 and wire == _LEN:
            domain = reader.text(a, b)
        elif number == 2 and wire == _VARINT:
            version = a
    return domain, version


_NODE_OP_TYPE_AND_DOMAIN = (4, 7)
"""NodeProto: op_type = 4, domain = 7."""


def _string_pair(
    reader: _Reader, start: int, end: int, budget: list[int], fields: tuple[int, int] = (1, 2)
) -> tuple[str, str]:
    """The two string fields numbered ``fields`` of a message ("" when absent): key/value pairs by default."""
    found = ["", ""]
    for number, wire, a, b in reader.fields(start, end, budget):
        if wire == _LEN and number in fields:
            found[fields.index(number)] = reader.text(a, b)
    return found[0], found[1]


def _read_graph(
    reader: _Reader, start: int, end: int, budget: list[int], graph: _Graph, limits: Limits, sink: FindingSink
) -> None:
    for number, wire, a, b in reader.fields(start, end, budget):
        if wire != _LEN:
            continue
        if number == 1:
            graph.nodes += 1
            op_type, domain = _string_pair(reader, a, b, budget, _NODE_OP_TYPE_AND_DOMAIN)
            graph.ops[op_type] += 1
            if domain not in _STANDARD_DOMAINS:
                graph.custom_domains.add(domain)
        elif number == 2:
            graph.name = reader.text(a, b)
        elif number == 5:
            if len(graph.initializers) >= limits.max_tensor_count:
                sink.add(R_CAP, Severity.MEDIUM, f"more than {limits.max_tensor_count:,} initializers; rest skipped")
                return
            tensor, external = _tensor(reader, a, b, budget, len(graph.initializers))
            graph.initializers.append(tensor)
            if external is not None:
                graph.external.append(external)
        elif number in (11, 12) and len(graph.inputs if number == 11 else graph.outputs) < _MAX_LISTED:
            (graph.inputs if number == 11 else graph.outputs).append(_value_info(reader, a, b, budget))


def _tensor(reader: _Reader, start: int, end: int, budget: list[int], index: int) -> tuple[TensorInfo, str | None]:
    dims: list[int] = []
    data_type = 0
    name = f"initializer.{index}"
    external_location = None
    is_external = False
    for number, wire, a, b in reader.fields(start, end, budget):
        if number == 1 and wire == _VARINT:
            dims.append(a)
        elif number == 1 and wire == _LEN:  # packed dims
            pos = a
            while pos < b:
                dim, pos = reader.varint(pos, b)
                dims.append(dim)
                budget[0] -= 1
                if budget[0] < 0:
                    raise _Malformed("field budget exhausted")
        elif number == 2 and wire == _VARINT:
            data_type = a
        elif number == 8 and wire == _LEN:
            name = reader.text(a, b)
        elif number == 13 and wire == _LEN:
            key, text = _string_pair(reader, a, b, budget)
            if key == "location":
                external_location = text
        elif number == 14 and wire == _VARINT:
            is_external = a == 1
    # dims are int64 on the wire: two's complement varints above 2**63 are negative (unknown) dims.
    shape = tuple(d if d < 2**63 else 0 for d in dims)
    type_name = ONNX_TENSOR_TYPES.get(data_type, f"TYPE_{data_type}")
    return TensorInfo(name, type_name, shape), external_location if (is_external or external_location) else None


def _value_info(reader: _Reader, start: int, end: int, budget: list[int]) -> JsonValue:
    name = ""
    elem_type: str | None = None
    shape: list[JsonValue] | None = None
    for number, wire, a, b in reader.fields(start, end, budget):
        if number == 1 and wire == _LEN:
            name = reader.text(a, b)
        elif number == 2 and wire == _LEN:
            for t_number, t_wire, ta, tb in reader.fields(a, b, budget):
                if t_number != 1 or t_wire != _LEN:  # TypeProto.tensor_type only
                    continue
                for k_number, k_wire, ka, kb in reader.fields(ta, tb, budget):
                    if k_number == 1 and k_wire == _VARINT:
                        elem_type = ONNX_TENSOR_TYPES.get(ka, f"TYPE_{ka}")
                    elif k_number == 2 and k_wire == _LEN:
                        shape = _shape(reader, ka, kb, budget)
    return {"name": name, "type": elem_type, "shape": shape}


def _shape(reader: _Reader, start: int, end: int, budget: list[int]) -> list[JsonValue]:
    dims: list[JsonValue] = []
    for number, wire, a, b in reader.fields(start, end, budget):
        if number != 1 or wire != _LEN or len(dims) >= 64:
            continue
        dim: JsonValue = None
        for d_number, d_wire, da, db in reader.fields(a, b, budget):
            if d_number == 1 and d_wire == _VARINT:
                dim = da if da < 2**63 else None
            elif d_number == 2 and d_wire == _LEN:
                dim = reader.text(da, db)
        dims.append(dim)
    return dims


def escapes_folder(location: str) -> bool:
    """True for an absolute location, a drive letter, or one whose normalised path climbs out with '..'."""
    normal = posixpath.normpath(location.replace("\\", "/"))
    return (
        location.startswith(("/", "\\"))
        or (len(location) > 1 and location[1] == ":")
        or normal == ".."
        or normal.startswith("../")
        or "\x00" in location
    )


def _check_external(locations: list[str], sink: FindingSink) -> None:
    """Locations that climb out of the model's folder. Whether the others exist is a check on the folder
    (lbom._checks.external_data), so this reader's result depends on the file's bytes alone."""
    for location in sorted(set(locations))[:_MAX_LISTED]:
        if escapes_folder(location):
            sink.add(R_EXTERNAL_ESCAPE, Severity.HIGH, f"external data location {location!r} escapes the model's "
                     "folder; a loader would read that file into the model", f"external data {location}",
                     "do not load this model; external data must live next to it")  # fmt: skip
