"""Hostile GGUF files: every malformed input yields a header with findings, never an exception or a hang."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from lbom._formats import gguf as gguf_reader
from lbom._formats.interface import DEFAULT_LIMITS, BytesSource, Limits
from lbom.model import ModelHeader
from tests.builders import gguf_string, kv_scalar, kv_string, kv_string_array, raw_gguf, write_gguf


def read_bytes(data: bytes, limits: Limits = DEFAULT_LIMITS) -> ModelHeader:
    return gguf_reader.read(BytesSource(data, "h.gguf"), limits)


def rules(header: ModelHeader) -> set[str]:
    return {f.rule_id for f in header.findings}


def test_truncation_at_every_offset_never_raises(tmp_path: Path) -> None:
    path = write_gguf(
        tmp_path / "m.gguf",
        tokens=40,
        extra={"general.name": "trunc", "nested": [[1, 2], [3]], "general.alignment": 32},
        tensors={"a": np.zeros((2, 32), np.float32), "b": np.ones(64, np.float16)},
    )
    data = path.read_bytes()
    full = read_bytes(data)
    assert full.findings == ()
    for cut in range(len(data)):
        header = read_bytes(data[:cut])
        assert header.format == "gguf"
        if cut < len(data):
            assert header.findings, cut  # something says the file is short


@pytest.mark.parametrize(
    ("tensor_count", "kv_count"),
    [(2**63, 0), (0, 2**63), (2**64 - 1, 2**64 - 1), (10**6, 0), (0, 10**5)],
)
def test_huge_counts_are_findings(tensor_count: int, kv_count: int) -> None:
    header = read_bytes(raw_gguf(tensor_count=tensor_count, kv_count=kv_count) + b"\0" * 64)
    assert rules(header) & {gguf_reader.R_CAP, gguf_reader.R_TRUNCATED}


@pytest.mark.parametrize("length", [2**63, 2**64 - 1, 17 * 1024 * 1024, 10**9])
def test_huge_string_lengths(length: int) -> None:
    value = struct.pack("<Q", length) + b"abc"
    header = read_bytes(raw_gguf([("k", 8, value)]))
    assert rules(header) & {gguf_reader.R_CAP, gguf_reader.R_TRUNCATED}


@pytest.mark.parametrize("length", [2**63, 2**64 - 1, 2**40, 300])
@pytest.mark.parametrize("position", [0, 5, 2000])
def test_huge_length_inside_a_string_array(length: int, position: int) -> None:
    items = [b"tok"] * 3000
    kv = kv_string_array("tokenizer.ggml.tokens", items)
    body = bytearray(kv[2])
    offset = 12 + position * (8 + 3)
    body[offset : offset + 8] = struct.pack("<Q", length)
    header = read_bytes(raw_gguf([("tokenizer.ggml.tokens", 9, bytes(body))]))
    assert rules(header) & {gguf_reader.R_CAP, gguf_reader.R_TRUNCATED}


def test_huge_array_counts_of_every_type() -> None:
    for elem_type in range(13):
        value = struct.pack("<IQ", elem_type, 2**62)
        header = read_bytes(raw_gguf([("arr", 9, value)]))
        assert rules(header) & {gguf_reader.R_CAP, gguf_reader.R_TRUNCATED}, elem_type


def test_deep_nesting_is_capped() -> None:
    value = struct.pack("<IQ", 9, 1) * 5000 + struct.pack("<IQ", 0, 0)
    header = read_bytes(raw_gguf([("deep", 9, value)]))
    assert gguf_reader.R_CAP in rules(header)


def test_millions_of_empty_nested_arrays_stop_at_a_cap() -> None:
    """Each inner array passes every count and size check; their number is what must be bounded (a 60 MB file
    of 5M empty arrays took 70 s). Keys before the array are kept."""
    inner = 200_000
    value = struct.pack("<IQ", 9, inner) + struct.pack("<IQ", 4, 0) * inner  # an array of empty uint32 arrays
    data = raw_gguf([("general.architecture", 8, gguf_string("llama")), ("many", 9, value)])
    header = read_bytes(data, Limits(max_nested_arrays=1000))
    caps = [f for f in header.findings if f.rule_id == gguf_reader.R_CAP]
    assert caps and "arrays inside arrays" in caps[0].message
    assert header.architecture == "llama"
    assert read_bytes(data).architecture == "llama"  # the default cap is reached too, within the test's time


def test_a_file_cut_short_keeps_the_keys_it_still_holds() -> None:
    """A download cut off inside the key/value section: the count promises more than the bytes hold, but the
    keys that are there (the architecture first) are still reported, with a truncation finding."""
    from tests.conftest import EXAMPLES

    full = (EXAMPLES / "tinyllama-q4_k_m.gguf").read_bytes()  # 19 keys, general.architecture first
    header = read_bytes(full[:100])
    assert header.architecture == "llama"
    assert gguf_reader.R_TRUNCATED in rules(header) and gguf_reader.R_CAP not in rules(header)


def test_unknown_value_types() -> None:
    assert gguf_reader.R_BAD_TYPE in rules(read_bytes(raw_gguf([("k", 13, b"\0" * 8)])))
    assert gguf_reader.R_BAD_TYPE in rules(read_bytes(raw_gguf([("k", 9, struct.pack("<IQ", 77, 1) + b"\0")])))


def test_unknown_tensor_type_and_bad_shapes() -> None:
    tensors = [("w", [32, 2], 200, 0), ("q", [33], 2, 256)]  # unknown ggml type; Q4_0 row not a block multiple
    header = read_bytes(raw_gguf(tensors=tensors, data=b"\0" * 512))
    assert gguf_reader.R_BAD_TYPE in rules(header)
    assert gguf_reader.R_TENSOR_SHAPE in rules(header)
    assert header.tensor_types[0].type_name.startswith("UNKNOWN") or any(
        s.type_name == "UNKNOWN(200)" for s in header.tensor_types
    )


def test_too_many_dimensions() -> None:
    header = read_bytes(raw_gguf(tensors=[("w", [1] * 9, 0, 0)], data=b"\0" * 64))
    assert gguf_reader.R_TENSOR_SHAPE in rules(header)


def test_out_of_file_overlapping_misaligned_and_duplicate_tensors() -> None:
    tensors = [
        ("a", [64], 0, 0),  # 256 bytes at 0
        ("b", [64], 0, 128),  # overlaps a
        ("c", [8], 0, 33),  # misaligned
        ("d", [1024], 0, 4096),  # past the end of the file
        ("a", [8], 0, 512),  # duplicate name
    ]
    header = read_bytes(raw_gguf(tensors=tensors, data=b"\0" * 600))
    found = rules(header)
    assert {
        gguf_reader.R_TENSOR_OVERLAP,
        gguf_reader.R_ALIGNMENT,
        gguf_reader.R_TENSOR_EXTENT,
        gguf_reader.R_DUP_TENSOR,
    } <= found


def test_overlap_with_a_large_earlier_tensor_is_found_for_each() -> None:
    tensors = [("big", [1024], 0, 0), ("x", [8], 0, 128), ("y", [8], 0, 256)]
    header = read_bytes(raw_gguf(tensors=tensors, data=b"\0" * 4096))
    overlaps = [f for f in header.findings if f.rule_id == gguf_reader.R_TENSOR_OVERLAP]
    assert len(overlaps) == 2


@pytest.mark.parametrize("alignment", [0, 3, 48, -1])
def test_bad_alignment(alignment: int) -> None:
    kv = kv_scalar("general.alignment", 5, "i", alignment)
    header = read_bytes(raw_gguf([kv], tensors=[("a", [8], 0, 0)], data=b"\0" * 64))
    assert gguf_reader.R_ALIGNMENT in rules(header)


def test_invalid_utf8_in_keys_and_values_and_control_characters() -> None:
    kvs = [("k\x1b[31m", 8, gguf_string(b"v\xff\x00")), (b"bad\xfekey".decode("latin-1"), 8, gguf_string("x"))]
    data = raw_gguf([(k, t, v) for k, t, v in kvs[:1]])
    header = read_bytes(data)
    assert gguf_reader.R_UTF8 in rules(header)
    assert header.metadata["k\x1b[31m"] == "v\ufffd\x00"
    raw_key = (
        b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + gguf_string(b"bad\xfekey") + struct.pack("<I", 8) + gguf_string("x")
    )
    header = read_bytes(raw_key)
    assert gguf_reader.R_UTF8 in rules(header)
    assert "bad\ufffdkey" in header.metadata


def test_duplicate_keys() -> None:
    header = read_bytes(raw_gguf([kv_string("a", "1"), kv_string("a", "2")]))
    assert gguf_reader.R_DUP_KEY in rules(header)
    assert header.metadata["a"] == "2"


def test_many_keys_with_previews_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    # Many keys each holding a nested array with full previews would keep keys x 256 values without the file budget.
    monkeypatch.setattr(gguf_reader, "_FILE_PREVIEW_VALUES", 2000)
    leaf = struct.pack("<IQ", 0, 16) + bytes(16)
    value = struct.pack("<IQ", 9, 16) + leaf * 16
    kvs = [(f"k{i}", 9, value) for i in range(300)]
    header = read_bytes(raw_gguf(kvs))
    kept = 0
    for i in range(300):
        item = header.metadata[f"k{i}"]
        rows = item if isinstance(item, list) else item["preview"]  # type: ignore[index,call-overload]
        kept += len(rows) + sum(len(r if isinstance(r, list) else r["preview"]) for r in rows)  # type: ignore[index,call-overload,arg-type]
    assert kept <= 2000


def test_retention_budget_stops_with_a_finding() -> None:
    limits = Limits(max_retained_chars=10_000)
    kvs = [kv_string(f"key{i}", "x" * 1000) for i in range(50)]
    header = read_bytes(raw_gguf(kvs), limits)
    assert gguf_reader.R_CAP in rules(header)


def test_header_window_cap() -> None:
    limits = Limits(max_gguf_header_bytes=4096)
    header = read_bytes(raw_gguf([kv_string_array("t", [b"x" * 100] * 100)]), limits)
    assert gguf_reader.R_CAP in rules(header)


def test_trailing_bytes_after_last_tensor() -> None:
    header = read_bytes(raw_gguf(tensors=[("a", [8], 0, 0)], data=b"\0" * 4096))
    assert gguf_reader.R_FILE_SIZE in rules(header)
