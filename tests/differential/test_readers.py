"""Our tensor facts and metadata equal what gguf.GGUFReader and safetensors.safe_open report for generated files."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import gguf
import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import save_file

from lbom._formats import gguf as gguf_reader
from lbom._formats import safetensors as st_reader
from lbom._formats.constants import GGML_TYPES
from lbom._formats.interface import DEFAULT_LIMITS, LocalFileSource
from lbom.model import ARRAY_PREVIEW_LEN, ModelHeader


def ours(path: Path, reader: Any) -> ModelHeader:
    with LocalFileSource(str(path)) as source:
        header: ModelHeader = reader.read(source, DEFAULT_LIMITS)
    return header


def make_gguf(path: Path, endianess: gguf.GGUFEndian) -> Path:
    rng = np.random.default_rng(3)
    writer = gguf.GGUFWriter(str(path), arch="llama", endianess=endianess)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_Q4_K_M)
    writer.add_context_length(4096)
    writer.add_uint8("t.u8", 200)
    writer.add_int8("t.i8", -5)
    writer.add_uint16("t.u16", 60000)
    writer.add_int16("t.i16", -30000)
    writer.add_uint32("t.u32", 4_000_000_000)
    writer.add_int32("t.i32", -2_000_000_000)
    writer.add_float32("t.f32", 0.5)
    writer.add_bool("t.bool", True)
    writer.add_string("t.str", "ünïcode ✓")
    writer.add_uint64("t.u64", 2**63 + 5)
    writer.add_int64("t.i64", -(2**62))
    writer.add_float64("t.f64", math.pi)
    writer.add_array("t.short", [1, 2, 3])
    writer.add_array("t.strings", ["a", "bb", "ccc"])
    writer.add_array("t.long", list(range(100)))
    writer.add_token_list([f"tok{i}" for i in range(3000)])
    writer.add_tensor("f32", rng.standard_normal((3, 64)).astype(np.float32))
    writer.add_tensor("f16", rng.standard_normal((2, 32)).astype(np.float16))
    writer.add_tensor("q4k", rng.integers(0, 255, (4, 144), dtype=np.uint8), raw_dtype=gguf.GGMLQuantizationType.Q4_K)
    writer.add_tensor("q8", rng.integers(0, 255, (2, 34), dtype=np.uint8), raw_dtype=gguf.GGMLQuantizationType.Q8_0)
    writer.add_tensor("q6k", rng.integers(0, 255, (1, 210), dtype=np.uint8), raw_dtype=gguf.GGMLQuantizationType.Q6_K)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def reference_value(field: gguf.ReaderField) -> Any:
    value = field.contents()
    if isinstance(value, float):
        return float(np.float32(value)) if field.types[0] == gguf.GGUFValueType.FLOAT32 else value
    return value


@pytest.mark.parametrize("endianess", [gguf.GGUFEndian.LITTLE, gguf.GGUFEndian.BIG])
def test_gguf_facts_equal_gguf_reader(tmp_path: Path, endianess: gguf.GGUFEndian) -> None:
    path = make_gguf(tmp_path / "m.gguf", endianess)
    header = ours(path, gguf_reader)
    reference = gguf.GGUFReader(str(path))
    assert header.findings == ()
    # Tensors: names, shapes, types, absolute offsets, byte sizes, element counts.
    assert [(t.name, t.shape, t.type_name, t.offset, t.nbytes, t.element_count) for t in header.tensors] == [
        (
            t.name,
            tuple(int(d) for d in t.shape),
            GGML_TYPES[int(t.tensor_type)][0],
            int(t.data_offset),
            int(t.n_bytes),
            int(t.n_elements),
        )
        for t in reference.tensors
    ]
    assert header.parameter_count == sum(int(t.n_elements) for t in reference.tensors)
    # Every key/value: scalars and short arrays equal; long arrays have the reference's count and first elements.
    for name, field in reference.fields.items():
        if name.startswith("GGUF."):
            continue
        ours_value = header.metadata[name]
        theirs = reference_value(field)
        if isinstance(theirs, list) and len(theirs) > ARRAY_PREVIEW_LEN:
            assert isinstance(ours_value, dict)
            assert ours_value["count"] == len(theirs)
            assert ours_value["preview"] == theirs[:ARRAY_PREVIEW_LEN]
        else:
            assert ours_value == theirs, name
    assert header.metadata["gguf.alignment"] == reference.alignment
    assert header.quantization == "Q4_K_M"


def test_safetensors_facts_equal_safe_open(tmp_path: Path) -> None:
    path = tmp_path / "m.safetensors"
    rng = np.random.default_rng(5)
    save_file(
        {
            "a": rng.standard_normal((3, 5)).astype(np.float32),
            "b": rng.standard_normal(7).astype(np.float16),
            "c": rng.integers(0, 9, (2, 2, 2)).astype(np.int64),
            "d": np.zeros((0, 4), np.uint8),
            "e": np.ones(3, np.bool_),
        },
        str(path),
        metadata={"format": "pt", "note": "x"},
    )
    header = ours(path, st_reader)
    assert header.findings == ()
    with safe_open(str(path), "np") as reference:
        assert header.metadata == reference.metadata()
        expected = {}
        for name in reference.keys():  # noqa: SIM118 - safe_open is not a mapping
            piece = reference.get_slice(name)
            expected[name] = (piece.get_dtype(), tuple(piece.get_shape()))
    assert {t.name: (t.type_name, t.shape) for t in header.tensors} == expected
    assert header.parameter_count == sum(math.prod(shape) for _dtype, shape in expected.values())
