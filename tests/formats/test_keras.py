"""Keras v3 .keras archives: layer summary, Lambda layers and custom objects, hostile archives."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import lbom
from lbom._formats import keras as keras_reader
from lbom._formats import pick_reader
from lbom._formats.ziparchive import R_ZIP_TRAVERSAL
from lbom.model import ModelArtifact, Severity


def layer(class_name: str, name: str, module: str = "keras.layers", **extra: Any) -> dict[str, Any]:
    return {"module": module, "class_name": class_name, "config": {"name": name, **extra}, "registered_name": None}


def write_keras(path: Path, layers: list[dict[str, Any]], extra_members: dict[str, bytes] | None = None) -> Path:
    config = {
        "module": "keras",
        "class_name": "Sequential",
        "config": {"name": "tiny_seq", "layers": layers},
        "registered_name": None,
    }
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("metadata.json", json.dumps({"keras_version": "3.6.0", "date_saved": "2026-01-01@00:00:00"}))
        zf.writestr("config.json", json.dumps(config))
        zf.writestr("model.weights.h5", b"\x89HDF\r\n\x1a\n")
        for name, data in (extra_members or {}).items():
            zf.writestr(name, data)
    return path


def scan_one(path: Path) -> ModelArtifact:
    result = lbom.scan(str(path), hash=False)
    assert len(result.models) == 1
    return result.models[0]


def test_layer_summary(tmp_path: Path) -> None:
    path = write_keras(tmp_path / "m.keras", [layer("InputLayer", "in"), layer("Dense", "d1"), layer("Dense", "d2")])
    assert pick_reader(path.read_bytes()[:512], str(path)) is not None
    model = scan_one(path)
    assert model.format == "keras"
    assert model.name == "tiny_seq"
    assert model.training_framework == "keras"
    assert model.metadata["keras.layers"] == {"Dense": 2, "InputLayer": 1}
    assert model.metadata["keras.layer_count"] == 3
    assert model.metadata["keras.keras_version"] == "3.6.0"
    assert [f.rule_id for f in model.findings] == ["LBOM-LIC-001"]  # the fixture states no license; nothing else


def test_lambda_and_custom_objects_are_findings(tmp_path: Path) -> None:
    nested = {
        "module": "keras",
        "class_name": "Functional",
        "config": {"name": "inner", "layers": [layer("Lambda", "sneaky", function={"class_name": "__lambda__"})]},
    }
    layers = [
        layer("Dense", "d1"),
        nested,
        {**layer("MyLayer", "mine", module="my_package.layers"), "registered_name": "MyPackage>MyLayer"},
    ]
    model = scan_one(write_keras(tmp_path / "m.keras", layers))
    by_rule = {f.rule_id: f for f in model.findings}
    assert by_rule[keras_reader.R_LAMBDA].severity is Severity.HIGH
    assert by_rule[keras_reader.R_LAMBDA].location == "layer sneaky"
    assert by_rule[keras_reader.R_CUSTOM].severity is Severity.MEDIUM
    assert "MyPackage>MyLayer" in by_rule[keras_reader.R_CUSTOM].message
    assert model.metadata["keras.layers"] == {"Dense": 1, "Functional": 1, "Lambda": 1, "MyLayer": 1}


def test_traversal_member_in_keras_archive(tmp_path: Path) -> None:
    path = write_keras(tmp_path / "m.keras", [layer("Dense", "d")], {"../../.bashrc": b"evil"})
    assert R_ZIP_TRAVERSAL in {f.rule_id for f in scan_one(path).findings}


def test_broken_config(tmp_path: Path) -> None:
    path = tmp_path / "b.keras"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("metadata.json", "{}")
        zf.writestr("config.json", "{broken")
    assert keras_reader.R_MALFORMED in {f.rule_id for f in scan_one(path).findings}


def test_deeply_nested_config_does_not_recurse(tmp_path: Path) -> None:
    depth = 3000
    leaf = json.dumps(layer("Dense", "leaf"))
    deep = '{"class_name": "Wrapper", "config": {"name": "w", "layer": ' * depth + leaf + "}}" * depth
    path = tmp_path / "deep.keras"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("metadata.json", "{}")
        zf.writestr("config.json", '{"class_name": "Sequential", "config": {"layers": [' + deep + "]}}")
    model = scan_one(path)
    # Either the JSON parser refuses the depth (a finding) or the iterative walk counts every layer.
    assert model.metadata.get("keras.layer_count") == depth + 1 or any(
        f.rule_id == keras_reader.R_MALFORMED for f in model.findings
    )
