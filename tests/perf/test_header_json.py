"""The cache's header codec: every ModelHeader field survives the JSON round trip exactly."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np

from lbom._formats import gguf as gguf_reader
from lbom._formats import safetensors as safetensors_reader
from lbom._formats.interface import DEFAULT_LIMITS, LocalFileSource
from lbom._header_json import dumps_header, header_from_json, header_to_json, loads_header, round_trips
from lbom.model import (
    BaseModelRef,
    ChatTemplate,
    Finding,
    ModelHeader,
    Severity,
    TensorInfo,
    TensorTypeStat,
)
from tests.builders import write_gguf


def full_header() -> ModelHeader:
    return ModelHeader(
        format="gguf",
        format_version="3",
        architecture="llama",
        name="Tiny \u00e9 \U0001f600 \udcff",  # a lone surrogate, as odd files produce
        parameter_count=7_000_000_000_123,
        tensor_count=291,
        quantization="Q4_K_M",
        dtype="F16",
        context_length=131072,
        vocab_size=128256,
        license="apache-2.0",
        license_name="Apache 2",
        license_link="https://example.invalid/l",
        base_models=(BaseModelRef("base", "org", "https://example.invalid/r"), BaseModelRef("other")),
        training_framework="pytorch",
        size_label="8B",
        tensor_types=(TensorTypeStat("Q4_K", 96, 123), TensorTypeStat("F32", 2, 8)),
        tensors=(TensorInfo("w", "F32", (4, 32), 1024, 512), TensorInfo("x", "Q4_K", (), None, None)),
        chat_templates=(ChatTemplate("default", "gguf:tokenizer.chat_template", "{{ x }}\n"),),
        metadata={
            "a": 1,
            "b": -0.0,
            "c": 1e308,
            "d": [1, "two", [3.5, None, True]],
            "e": {"nested": {"k": False}},
            "big": 2**80,
        },
        findings=(
            Finding("LBOM-GGUF-001", Severity.HIGH, "m", "f.gguf", "offset 3", "fix it"),
            Finding("LBOM-GGUF-002", Severity.INFO, "n"),
        ),
        header_bytes_read=12345,
        data_bytes_expected=99999,
    )


def test_every_field_is_exercised_by_the_sample() -> None:
    sample = full_header()
    default = ModelHeader(format="x")
    same = [f.name for f in dataclasses.fields(ModelHeader) if getattr(sample, f.name) == getattr(default, f.name)]
    assert same == [], f"extend full_header() to set: {same}"


def test_full_header_round_trips_exactly() -> None:
    header = full_header()
    assert header_from_json(header_to_json(header)) == header
    text = dumps_header(header)
    assert text.isascii()
    decoded = loads_header(text)
    assert decoded == header
    assert isinstance(decoded.tensors[0].shape, tuple)
    assert decoded.findings[0].severity is Severity.HIGH
    assert math.copysign(1.0, decoded.metadata["b"]) == -1.0  # type: ignore[arg-type]
    assert round_trips(header, text)


def test_values_the_codec_cannot_represent_are_detected() -> None:
    header = dataclasses.replace(full_header(), metadata={"t": (1, 2)})  # a tuple decodes as a list
    assert not round_trips(header, dumps_header(header))
    nan = dataclasses.replace(full_header(), metadata={"x": float("nan")})
    assert not round_trips(nan, dumps_header(nan))


def test_real_reader_output_round_trips(tmp_path: Path) -> None:
    path = write_gguf(
        tmp_path / "m.gguf",
        tokens=300,
        file_type=None,
        extra={"general.name": "x", "tokenizer.chat_template": "{{ m }}", "general.license": "mit"},
        tensors={"a": np.zeros((4, 32), np.float32), "b": np.ones((2, 32), np.float16)},
    )
    with LocalFileSource(str(path)) as source:
        header = gguf_reader.read(source, DEFAULT_LIMITS)
    assert header.findings  # the guessed file type is a finding: findings are part of the round trip
    assert loads_header(dumps_header(header)) == header

    from safetensors.numpy import save_file

    st = tmp_path / "m.safetensors"
    save_file({"w": np.zeros((2, 3), np.float32)}, str(st), metadata={"format": "pt"})
    with LocalFileSource(str(st)) as source:
        header = safetensors_reader.read(source, DEFAULT_LIMITS)
    assert loads_header(dumps_header(header)) == header
