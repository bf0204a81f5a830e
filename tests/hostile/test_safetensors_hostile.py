"""Hostile safetensors files: findings, bounded work, never an exception."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from lbom._formats import safetensors as st_reader
from lbom._formats.interface import DEFAULT_LIMITS, BytesSource, Limits
from lbom.model import ModelHeader
from tests.formats.test_safetensors import raw_st


def read_bytes(data: bytes, limits: Limits = DEFAULT_LIMITS) -> ModelHeader:
    return st_reader.read(BytesSource(data, "h.safetensors"), limits)


def rules(header: ModelHeader) -> set[str]:
    return {f.rule_id for f in header.findings}


def test_truncation_at_every_offset(tmp_path: Path) -> None:
    path = tmp_path / "m.safetensors"
    save_file({"a": np.zeros((2, 3), np.float32), "b": np.ones(5, np.int8)}, str(path), metadata={"format": "pt"})
    data = path.read_bytes()
    assert read_bytes(data).findings == ()
    for cut in range(len(data)):
        assert read_bytes(data[:cut]).findings, cut


@pytest.mark.parametrize("length", [2**64 - 1, 100_000_001, 2**40])
def test_header_length_beyond_cap(length: int) -> None:
    assert st_reader.R_HEADER_SIZE in rules(read_bytes(struct.pack("<Q", length) + b"{}"))


def test_header_length_larger_than_file() -> None:
    assert st_reader.R_TRUNCATED in rules(read_bytes(struct.pack("<Q", 5000) + b'{"a": 1}'))


@pytest.mark.parametrize("text", [b"[1, 2]", b'"str"', b"null", b"42"])
def test_non_object_json(text: bytes) -> None:
    assert st_reader.R_JSON in rules(read_bytes(raw_st(None, raw_json=text)))


@pytest.mark.parametrize("text", [b"{", b'{"a": }', b"\xff\xfe{}", b'{"a": 1} trailing'])
def test_invalid_json_and_utf8(text: bytes) -> None:
    assert st_reader.R_JSON in rules(read_bytes(raw_st(None, raw_json=text)))


def test_deep_nesting() -> None:
    text = b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert st_reader.R_JSON in rules(read_bytes(raw_st(None, raw_json=text)))


def test_deep_but_parseable_nesting_in_a_shape() -> None:
    text = b'{"a": {"dtype": "F32", "shape": ' + b"[" * 500 + b"]" * 500 + b', "data_offsets": [0, 0]}}'
    header = read_bytes(raw_st(None, raw_json=text))
    assert st_reader.R_SHAPE in rules(header)


def test_duplicate_keys() -> None:
    entry = b'{"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}'
    text = b'{"a": ' + entry + b', "a": ' + entry + b"}"
    header = read_bytes(raw_st(None, b"\0" * 4, raw_json=text))
    assert st_reader.R_DUP_KEY in rules(header)


@pytest.mark.parametrize(
    ("entry", "rule"),
    [
        ({"dtype": "F33", "shape": [1], "data_offsets": [0, 4]}, "R_DTYPE"),
        ({"dtype": 5, "shape": [1], "data_offsets": [0, 4]}, "R_DTYPE"),
        ({"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}, "R_SHAPE"),
        ({"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}, "R_SHAPE"),
        ({"dtype": "F32", "shape": [True], "data_offsets": [0, 4]}, "R_SHAPE"),
        ({"dtype": "F32", "shape": "1", "data_offsets": [0, 4]}, "R_SHAPE"),
        ({"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}, "R_OFFSETS"),
        ({"dtype": "F32", "shape": [1], "data_offsets": [0]}, "R_OFFSETS"),
        ({"dtype": "F32", "shape": [1], "data_offsets": [0, 2**70]}, "R_OFFSETS"),
        ({"dtype": "F32", "shape": [2**40, 2**40], "data_offsets": [0, 4]}, "R_OFFSETS"),
        ([1, 2], "R_JSON"),
    ],
)
def test_bad_entries(entry: object, rule: str) -> None:
    header = read_bytes(raw_st({"t": entry}, b"\0" * 4))
    assert getattr(st_reader, rule) in rules(header)


def test_gaps_overlaps_and_trailing_bytes() -> None:
    gap = {
        "a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},
        "b": {"dtype": "U8", "shape": [4], "data_offsets": [8, 12]},
    }
    assert st_reader.R_OFFSETS in rules(read_bytes(raw_st(gap, b"\0" * 12)))
    overlap = {
        "a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},
        "b": {"dtype": "U8", "shape": [4], "data_offsets": [2, 6]},
    }
    assert st_reader.R_OFFSETS in rules(read_bytes(raw_st(overlap, b"\0" * 6)))
    trailing = {"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}}
    assert st_reader.R_FILE_SIZE in rules(read_bytes(raw_st(trailing, b"\0" * 9)))
    short = {"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}}
    assert st_reader.R_FILE_SIZE in rules(read_bytes(raw_st(short, b"\0" * 2)))


@pytest.mark.parametrize(
    "text",
    [
        b"[" + b"0," * 3_000_000 + b"0]",
        b"[" + b"{}," * 1_000_000 + b"{}]",
        b'{"a": "' + "\U0001f600".encode() * 100 + b"x" * 20_000_000 + b'"}',
    ],
)
def test_json_that_would_blow_up_memory_is_not_parsed(text: bytes) -> None:
    header = read_bytes(raw_st(None, raw_json=text), Limits(max_json_memory=48 * 2**20))
    assert st_reader.R_HEADER_SIZE in rules(header)


def test_json_byte_cap() -> None:
    text = json.dumps({"__metadata__": {"x": "y" * 5000}}).encode()
    header = read_bytes(raw_st(None, raw_json=text), Limits(max_json_header_bytes=1000))
    assert st_reader.R_HEADER_SIZE in rules(header)


def test_tensor_count_cap() -> None:
    entries = {f"t{i}": {"dtype": "U8", "shape": [1], "data_offsets": [i, i + 1]} for i in range(50)}
    header = read_bytes(raw_st(entries, b"\0" * 50), Limits(max_tensor_count=10))
    assert st_reader.R_TENSOR_COUNT in rules(header)
    assert header.tensor_count == 10


@pytest.mark.parametrize(
    "header", [b"[1,2,3]", b"not json!", b"[" * 10_000, b'"a string"'], ids=["array", "not-json", "deep", "string"]
)
def test_a_broken_header_in_a_file_named_safetensors_is_a_document_with_a_finding(
    tmp_path: Path, header: bytes
) -> None:
    """Whatever the header holds, a .safetensors file with a plausible length is read and reported, not waved off
    as "not a model" (exit 3): the user asked about this file."""
    import lbom

    path = tmp_path / "model.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header)
    (model,) = lbom.scan(str(path), hash=False).models
    assert model.format == "safetensors"
    assert any(f.rule_id == st_reader.R_JSON and f.severity.rank >= 3 for f in model.findings), model.findings
    assert not any("not valid JSON: not valid JSON" in f.message for f in model.findings)


def test_an_lfs_pointer_named_safetensors_is_still_an_lfs_pointer(tmp_path: Path) -> None:
    import lbom

    path = tmp_path / "model.safetensors"
    path.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:" + "a" * 64 + "\nsize 1234\n")
    (model,) = lbom.scan(str(path), hash=False).models
    assert model.format == "git-lfs-pointer"
