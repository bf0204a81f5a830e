"""safetensors reader on files written by the reference writer, and every validation rule."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from safetensors.numpy import save_file

from lbom._formats import safetensors as st_reader
from lbom._formats.constants import SAFETENSORS_DTYPE_BITS
from lbom._formats.interface import DEFAULT_LIMITS, BytesSource, LocalFileSource
from lbom.model import ModelHeader


def read_bytes(data: bytes) -> ModelHeader:
    return st_reader.read(BytesSource(data, "t.safetensors"), DEFAULT_LIMITS)


def rules(header: ModelHeader) -> set[str]:
    return {f.rule_id for f in header.findings}


def raw_st(header: Any, data: bytes = b"", raw_json: bytes | None = None) -> bytes:
    text = raw_json if raw_json is not None else json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


def test_reference_file(tmp_path: Path) -> None:
    path = tmp_path / "m.safetensors"
    save_file(
        {"a": np.zeros((4, 8), np.float16), "b": np.ones(3, np.float32)},
        str(path),
        metadata={"format": "pt"},
    )
    with LocalFileSource(str(path)) as source:
        header = st_reader.read(source, DEFAULT_LIMITS)
    assert header.findings == ()
    assert header.parameter_count == 35
    assert header.dtype == "mixed"
    assert [(s.type_name, s.tensor_count, s.parameter_count) for s in header.tensor_types] == [
        ("F16", 1, 32),
        ("F32", 1, 3),
    ]
    assert header.training_framework == "pytorch"
    assert header.metadata == {"format": "pt"}


@pytest.mark.parametrize(("dtype", "bits"), sorted(SAFETENSORS_DTYPE_BITS.items()))
def test_every_dtype_size(dtype: str, bits: int) -> None:
    nbytes = 16 * bits // 8
    good = raw_st({"t": {"dtype": dtype, "shape": [4, 4], "data_offsets": [0, nbytes]}}, b"\0" * nbytes)
    assert read_bytes(good).findings == ()
    bad = raw_st({"t": {"dtype": dtype, "shape": [4, 4], "data_offsets": [0, nbytes + 1]}}, b"\0" * (nbytes + 1))
    assert st_reader.R_OFFSETS in rules(read_bytes(bad))


def test_sub_byte_dtype_must_fill_whole_bytes() -> None:
    header = read_bytes(raw_st({"t": {"dtype": "F4", "shape": [3], "data_offsets": [0, 1]}}, b"\0"))
    assert st_reader.R_SHAPE in rules(header)


def test_metadata_must_be_strings() -> None:
    header = read_bytes(raw_st({"__metadata__": {"format": "pt", "n": [1, [2, [3]]]}}))
    assert st_reader.R_METADATA in rules(header)
    assert header.metadata["n"] == "a list of 2 values"
