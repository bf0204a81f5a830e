"""safetensors reader: the 8-byte length, the JSON header, and every rule of the reference validator.

Layout: little-endian uint64 N, N bytes of UTF-8 JSON (an object, no duplicate keys), then the data buffer.
Each tensor's ``data_offsets`` are relative to the buffer; together they must tile it from 0 with no gap or
overlap, each extent must equal elements x dtype size, and the last end must equal the buffer length
(huggingface/safetensors ``tensor.rs`` ``validate``). Violations become findings; nothing is read past the header.
"""

from __future__ import annotations

import struct
from collections import Counter
from typing import Any

from lbom._formats.constants import SAFETENSORS_DTYPE_BITS, SAFETENSORS_MAX_HEADER
from lbom._formats.interface import ByteSource, FindingSink, Limits, paused_gc
from lbom._formats.json_bounded import describe, load_json_bounded
from lbom.model import JsonValue, ModelHeader, Severity, TensorInfo, TensorTypeStat

FORMAT = "safetensors"

R_TRUNCATED = "LBOM-ST-001"
R_HEADER_SIZE = "LBOM-ST-002"
R_JSON = "LBOM-ST-003"
R_DUP_KEY = "LBOM-ST-004"
R_METADATA = "LBOM-ST-005"
R_DTYPE = "LBOM-ST-006"
R_SHAPE = "LBOM-ST-007"
R_OFFSETS = "LBOM-ST-008"
R_FILE_SIZE = "LBOM-ST-009"
R_TENSOR_COUNT = "LBOM-ST-010"

_FRAMEWORKS = {"pt": "pytorch", "tf": "tensorflow", "flax": "flax", "jax": "jax", "np": "numpy", "mlx": "mlx"}


def sniff(head: bytes, filename: str) -> bool:
    """An 8-byte length followed by '{' (optionally after spaces, which the reference tolerates)."""
    if len(head) < 10:
        return False
    (length,) = struct.unpack_from("<Q", head, 0)
    if length < 2:
        return False
    if head[8:9] == b"{" or (head[8:9] == b" " and head[8:].lstrip(b" ")[:1] == b"{"):
        return True
    # Named .safetensors with a plausible header length: read it, so a broken header (not JSON, not an object)
    # is a document with findings rather than "not a model". An LFS pointer's text makes an absurd length.
    return filename.lower().endswith(".safetensors") and length <= SAFETENSORS_MAX_HEADER


def read(source: ByteSource, limits: Limits) -> ModelHeader:
    sink = FindingSink(source.name)
    size = source.size
    head = source.read_at(0, 8)
    if len(head) < 8:
        sink.add(R_TRUNCATED, Severity.HIGH, f"file is {size} bytes, too short for a safetensors header", "offset 0")
        return ModelHeader(format=FORMAT, findings=sink.result(), header_bytes_read=len(head))
    (header_len,) = struct.unpack("<Q", head)
    cap = min(SAFETENSORS_MAX_HEADER, limits.max_header_bytes)
    if header_len > cap:
        sink.add(
            R_HEADER_SIZE,
            Severity.HIGH,
            f"header length {header_len:,} exceeds the {cap:,}-byte cap (the reference implementation rejects "
            f"headers over {SAFETENSORS_MAX_HEADER:,} bytes)",
            "offset 0",
        )
        return ModelHeader(format=FORMAT, findings=sink.result(), header_bytes_read=8)
    if 8 + header_len > size:
        sink.add(
            R_TRUNCATED,
            Severity.HIGH,
            f"header length {header_len:,} runs past the end of the {size:,}-byte file",
            "offset 0",
            "the file is truncated or not safetensors; re-download it",
        )
        return ModelHeader(format=FORMAT, findings=sink.result(), header_bytes_read=8)
    raw = source.read_at(8, header_len)
    bytes_read = 8 + len(raw)
    if len(raw) < header_len:
        sink.add(R_TRUNCATED, Severity.HIGH, "short read in the header", "offset 8")
        return ModelHeader(format=FORMAT, findings=sink.result(), header_bytes_read=bytes_read)
    with paused_gc():
        parsed = load_json_bounded(raw, limits, track_duplicates=True)
    del raw
    if parsed.problem is not None:
        if parsed.too_large:
            sink.add(
                R_HEADER_SIZE,
                Severity.MEDIUM,
                f"header not parsed: {parsed.problem}; tensor facts are missing",
                "offset 8",
                "a real safetensors header is a few MB; check where this file came from",
            )
        else:
            sink.add(
                R_JSON,
                Severity.HIGH,
                f"header is {parsed.problem}"
                if parsed.problem.startswith("not valid JSON")
                else f"header is not valid JSON: {parsed.problem}",
                "offset 8",
            )
        return ModelHeader(format=FORMAT, findings=sink.result(), header_bytes_read=bytes_read)
    for key in parsed.duplicates:
        sink.add(
            R_DUP_KEY,
            Severity.HIGH,
            f"duplicate key {key!r} in the JSON header (the reference implementation rejects the file)",
            f"key {key}",
        )
    header = parsed.value
    if not isinstance(header, dict):
        sink.add(R_JSON, Severity.HIGH, f"header is {describe(header)}, not a JSON object", "offset 8")
        return ModelHeader(format=FORMAT, findings=sink.result(), header_bytes_read=bytes_read)
    with paused_gc():
        return _assemble(header, header_len, size, sink, bytes_read, limits)


def _metadata(value: Any, sink: FindingSink) -> dict[str, JsonValue]:
    if not isinstance(value, dict):
        sink.add(R_METADATA, Severity.MEDIUM, "__metadata__ is not a JSON object", "key __metadata__")
        return {}
    result: dict[str, JsonValue] = {}
    for key, item in value.items():
        if not isinstance(item, str):
            sink.add(
                R_METADATA,
                Severity.MEDIUM,
                f"__metadata__[{key!r}] is a {type(item).__name__}; the format allows only strings",
                f"key __metadata__.{key}",
            )
            item = describe(item)
        result[str(key)] = item
    return dict(sorted(result.items()))


def _assemble(
    header: dict[str, Any], header_len: int, size: int, sink: FindingSink, bytes_read: int, limits: Limits
) -> ModelHeader:
    metadata = _metadata(header.pop("__metadata__", {}), sink)
    data_len = size - 8 - header_len
    tensors: list[TensorInfo] = []
    extents: list[tuple[int, int, str]] = []
    per_type: dict[str, list[int]] = {}
    parameter_count = 0
    reported = Counter[str]()

    def report(rule: str, message: str, name: str) -> None:
        reported[rule] += 1
        if reported[rule] <= 20:
            sink.add(rule, Severity.HIGH, message, f"tensor {name}")

    names = sorted(header)
    if len(names) > limits.max_tensor_count:
        sink.add(
            R_TENSOR_COUNT,
            Severity.MEDIUM,
            f"header lists {len(names):,} tensors; only the first {limits.max_tensor_count:,} (by name) were checked",
            "offset 8",
        )
        names = names[: limits.max_tensor_count]
    for name in names:
        entry = header[name]
        if not isinstance(entry, dict):
            report(R_JSON, f"entry {name!r} is {describe(entry)}, not a tensor object", name)
            continue
        dtype = entry.get("dtype")
        shape = entry.get("shape")
        offsets = entry.get("data_offsets")
        bits = SAFETENSORS_DTYPE_BITS.get(dtype) if isinstance(dtype, str) else None
        if bits is None:
            report(R_DTYPE, f"tensor {name!r} has unknown dtype {describe(dtype)}", name)
        if not (
            isinstance(shape, list) and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)
        ):
            report(R_SHAPE, f"tensor {name!r} shape {describe(shape)} is not a list of non-negative integers", name)
            continue
        if not (
            isinstance(offsets, list)
            and len(offsets) == 2
            and all(isinstance(o, int) and not isinstance(o, bool) and o >= 0 for o in offsets)
            and offsets[0] <= offsets[1]
        ):
            report(R_OFFSETS, f"tensor {name!r} data_offsets {describe(offsets)} are not [begin, end]", name)
            continue
        elements = 1
        for dim in shape:
            elements *= dim
        parameter_count += elements
        begin, end = offsets
        type_name = dtype if isinstance(dtype, str) else "UNKNOWN"
        stat = per_type.setdefault(type_name, [0, 0])
        stat[0] += 1
        stat[1] += elements
        if bits is not None:
            nbits = elements * bits
            expected = nbits // 8
            if nbits % 8:
                report(R_SHAPE, f"tensor {name!r}: {elements} x {bits} bits is not a whole number of bytes", name)
            elif end - begin != expected:
                report(
                    R_OFFSETS,
                    f"tensor {name!r} spans {end - begin} bytes but {type_name}{shape} needs {expected}",
                    name,
                )
        if end > data_len:
            report(
                R_OFFSETS,
                f"tensor {name!r} ends at buffer byte {end} but the data buffer has {data_len}",
                name,
            )
        extents.append((begin, end, name))
        tensors.append(TensorInfo(name, type_name, tuple(shape), 8 + header_len + begin, end - begin))
    _check_tiling(extents, data_len, sink, report)
    stats = tuple(
        TensorTypeStat(type_name, counts[0], counts[1])
        for type_name, counts in sorted(per_type.items(), key=lambda item: (-item[1][1], item[0]))
    )
    dtype_summary = None
    if stats:
        dtype_summary = stats[0].type_name if len(stats) == 1 else "mixed"
    framework_hint = metadata.get("format")
    framework = _FRAMEWORKS.get(framework_hint, framework_hint) if isinstance(framework_hint, str) else None
    return ModelHeader(
        format=FORMAT,
        parameter_count=parameter_count,
        tensor_count=len(tensors),
        dtype=dtype_summary,
        training_framework=framework,
        tensor_types=stats,
        tensors=tuple(tensors),
        metadata=metadata,
        findings=sink.result(),
        header_bytes_read=bytes_read,
        data_bytes_expected=8 + header_len + max((e for _b, e, _n in extents), default=0),
    )


def _check_tiling(extents: list[tuple[int, int, str]], data_len: int, sink: FindingSink, report: Any) -> None:
    """Offsets must tile the buffer from 0 to its end, without gaps or overlaps."""
    extents.sort()
    cursor = 0
    for begin, end, name in extents:
        if begin > cursor:
            report(R_OFFSETS, f"gap of {begin - cursor} bytes before tensor {name!r} (buffer byte {cursor})", name)
        elif begin < cursor:
            report(
                R_OFFSETS, f"tensor {name!r} overlaps the previous tensor (starts at {begin}, before {cursor})", name
            )
        cursor = max(cursor, end)
    if cursor != data_len:
        if cursor < data_len:
            message = f"{data_len - cursor:,} bytes follow the last tensor in the data buffer"
        else:
            message = f"tensors need {cursor:,} bytes of data but the file holds {data_len:,}"
        sink.add(R_FILE_SIZE, Severity.HIGH, message, f"offset {8 + cursor}", "the file is truncated or altered")
