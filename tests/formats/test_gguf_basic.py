"""GGUF reader basics on files written by the reference writer."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from lbom._formats import gguf as gguf_reader
from lbom._formats.interface import DEFAULT_LIMITS, BytesSource, LocalFileSource
from tests.builders import gguf_string, raw_gguf, write_gguf


def read_path(path: Path):  # type: ignore[no-untyped-def]
    with LocalFileSource(str(path)) as source:
        return gguf_reader.read(source, DEFAULT_LIMITS)


def test_ftype_is_llama_ftype_not_ggml_type(tmp_path: Path) -> None:
    # 15 is Q4_K_M as a llama_ftype; as a ggml_type 15 would be Q8_K. 7 is Q8_0 (ggml_type 7 is Q5_1).
    assert read_path(write_gguf(tmp_path / "a.gguf", file_type=15)).quantization == "Q4_K_M"
    assert read_path(write_gguf(tmp_path / "b.gguf", file_type=7)).quantization == "Q8_0"


def test_facts_from_namespaced_keys(tmp_path: Path) -> None:
    header = read_path(write_gguf(tmp_path / "m.gguf", tokens=40, tensors={"w": np.zeros((3, 32), np.float32)}))
    assert header.architecture == "llama"
    assert header.context_length == 4096
    assert header.vocab_size == 40
    assert header.parameter_count == 96
    assert header.tensor_count == 1
    assert [(s.type_name, s.tensor_count, s.parameter_count) for s in header.tensor_types] == [("F32", 1, 96)]
    assert header.findings == ()


def test_missing_file_type_is_inferred_with_a_finding(tmp_path: Path) -> None:
    header = read_path(write_gguf(tmp_path / "m.gguf", file_type=None))
    assert header.quantization == "F32"
    assert [f.rule_id for f in header.findings] == [gguf_reader.R_QUANT_GUESSED]


def test_big_endian_header_is_read() -> None:
    kv = [("general.architecture", 8, gguf_string("llama", ">"))]
    header = gguf_reader.read(BytesSource(raw_gguf(kv, e=">")), DEFAULT_LIMITS)
    assert header.architecture == "llama"
    assert header.metadata["gguf.byte_order"] == "big"


def test_huge_array_count_is_a_finding_not_an_allocation() -> None:
    value = struct.pack("<I", 8) + struct.pack("<Q", 2**62)
    header = gguf_reader.read(BytesSource(raw_gguf([("tokenizer.ggml.tokens", 9, value)])), DEFAULT_LIMITS)
    assert any(f.rule_id in (gguf_reader.R_CAP, gguf_reader.R_TRUNCATED) for f in header.findings)
