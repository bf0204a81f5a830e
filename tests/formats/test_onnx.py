"""The ONNX reader on models built with the onnx helper API (test-only dependency), and on broken bytes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import lbom
from lbom._checks.external_data import R_EXTERNAL_MISSING
from lbom._formats import onnx as onnx_reader
from lbom._formats import pick_reader
from lbom._formats.constants import ONNX_TENSOR_TYPES
from lbom._formats.interface import DEFAULT_LIMITS, BytesSource, Limits
from lbom.model import ModelHeader

onnx = pytest.importorskip("onnx")
helper = onnx.helper
numpy_helper = onnx.numpy_helper


def tiny_model(initializers: list[object] | None = None, domain_ops: bool = False) -> object:
    weight = numpy_helper.from_array(np.zeros((4, 3), dtype=np.float32), name="fc.weight")
    bias = numpy_helper.from_array(np.zeros(3, dtype=np.float16), name="fc.bias")
    nodes = [
        helper.make_node("MatMul", ["x", "fc.weight"], ["h"]),
        helper.make_node("Add", ["h", "fc.bias"], ["y"]),
    ]
    if domain_ops:
        nodes.append(helper.make_node("FancyOp", ["y"], ["z"], domain="com.example"))
    graph = helper.make_graph(
        nodes,
        "tiny-graph",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, ["batch", 3])],
        initializer=[weight, bias, *(initializers or [])],
    )
    opsets = [helper.make_opsetid("", 17)] + ([helper.make_opsetid("com.example", 1)] if domain_ops else [])
    model = helper.make_model(graph, producer_name="l-bom-tests", producer_version="1.0", opset_imports=opsets)
    model.ir_version = 8
    helper.set_model_props(model, {"author": "tests"})
    return model


def read_bytes(data: bytes, name: str = "m.onnx", limits: Limits = DEFAULT_LIMITS) -> ModelHeader:
    return onnx_reader.read(BytesSource(data, name), limits)


def test_reads_model_built_with_helper_api() -> None:
    data = tiny_model().SerializeToString()
    assert pick_reader(data[:512], "model.onnx") is not None
    assert onnx_reader.sniff(data[:512], "renamed.bin")
    header = read_bytes(data)
    assert header.format == "onnx"
    assert header.format_version == "8"
    assert header.name == "tiny-graph"
    assert header.parameter_count == 15
    assert header.tensor_count == 2
    assert header.dtype == "mixed"
    assert header.training_framework == "l-bom-tests"
    meta = header.metadata
    assert meta["onnx.producer_version"] == "1.0"
    assert meta["onnx.opset_imports"] == {"ai.onnx": 17}
    assert meta["onnx.graph.node_count"] == 2
    assert meta["onnx.graph.op_types"] == {"Add": 1, "MatMul": 1}
    assert meta["onnx.graph.inputs"] == [{"name": "x", "type": "F32", "shape": ["batch", 4]}]
    assert meta["onnx.metadata.author"] == "tests"
    assert header.findings == ()


def test_differential_against_onnx_package() -> None:
    model = tiny_model()
    header = read_bytes(model.SerializeToString())
    expected = {i.name: (tuple(i.dims), i.data_type) for i in model.graph.initializer}
    got = {t.name: t.shape for t in header.tensors}
    assert got == {name: dims for name, (dims, _type) in expected.items()}
    reverse = {v: k for k, v in ONNX_TENSOR_TYPES.items()}
    assert {t.name: reverse[t.type_name] for t in header.tensors} == {n: t for n, (_d, t) in expected.items()}


def test_type_table_matches_onnx() -> None:
    assert set(ONNX_TENSOR_TYPES) == {v for k, v in onnx.TensorProto.DataType.items() if k != "UNDEFINED"}


def test_external_data_is_reported_and_escape_is_a_finding(tmp_path: Path) -> None:
    model = tiny_model()
    tensor = model.graph.initializer[0]
    tensor.ClearField("raw_data")
    tensor.data_location = onnx.TensorProto.EXTERNAL
    for key, value in (("location", "../../etc/passwd"), ("offset", "0"), ("length", "48")):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    second = model.graph.initializer[1]
    second.ClearField("raw_data")
    second.data_location = onnx.TensorProto.EXTERNAL
    entry = second.external_data.add()
    entry.key, entry.value = "location", "weights.bin"
    path = tmp_path / "m.onnx"
    path.write_bytes(model.SerializeToString())
    result = lbom.scan(str(path), hash=False)
    found = {f.rule_id: f for f in result.models[0].findings}
    assert found[onnx_reader.R_EXTERNAL_ESCAPE].location == "external data ../../etc/passwd"
    assert R_EXTERNAL_MISSING in found  # weights.bin is not next to the model
    assert result.models[0].metadata["onnx.external_data"] == ["../../etc/passwd", "weights.bin"]
    (tmp_path / "weights.bin").write_bytes(b"\0" * 6)
    again = lbom.scan(str(path), hash=False)
    assert R_EXTERNAL_MISSING not in {f.rule_id for f in again.models[0].findings}


def test_custom_domain_is_low_finding() -> None:
    header = read_bytes(tiny_model(domain_ops=True).SerializeToString())
    assert [f.rule_id for f in header.findings] == [onnx_reader.R_CUSTOM_DOMAIN]


def test_large_raw_data_is_skipped_not_read() -> None:
    big = numpy_helper.from_array(np.zeros((512, 1024), dtype=np.float32), name="big")
    data = tiny_model([big]).SerializeToString()
    header = read_bytes(data)
    assert header.parameter_count == 15 + 512 * 1024
    assert header.header_bytes_read < len(data) // 4


def test_truncated_model_is_a_finding() -> None:
    data = tiny_model().SerializeToString()
    header = read_bytes(data[: len(data) // 2])
    assert onnx_reader.R_MALFORMED in {f.rule_id for f in header.findings}


@pytest.mark.parametrize(
    "data",
    [
        b"\x08\x08\x3a\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",  # graph claiming 2**64 bytes
        b"\x08" + b"\xff" * 20,  # endless varint
        b"\x0b\x08\x08",  # group wire type
        b"",
    ],
)
def test_hostile_bytes_do_not_crash(data: bytes) -> None:
    header = read_bytes(data)
    assert header.findings


def test_field_budget_caps_work() -> None:
    data = tiny_model().SerializeToString()
    header = read_bytes(data, limits=Limits(max_tensor_count=2))
    assert onnx_reader.R_CAP in {f.rule_id for f in header.findings}
