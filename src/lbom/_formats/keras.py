"""Keras v3 ``.keras`` archives: the model's layer summary from ``config.json``, and what would run code on load.

A ``.keras`` file is a zip of ``metadata.json`` (Keras version, save date), ``config.json`` (the serialized model:
``class_name``, ``config.layers``, nested models) and ``model.weights.h5``. Only the two JSON members are read,
under the sidecar size cap and the archive's decompression budget. The config is walked iteratively with a node
budget. ``Lambda`` layers carry marshalled Python bytecode that ``keras.saving.load_model(safe_mode=False)``
runs; layers and objects from modules outside Keras need their Python code to be importable (and run) to load.
Both are findings. The weights file (HDF5) is not parsed, so no parameter count is reported.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from lbom._formats.interface import ByteSource, FindingSink, Limits
from lbom._formats.ziparchive import ZIP_MAGIC, first_member_name, open_zip
from lbom.model import JsonValue, ModelHeader, Severity

FORMAT = "keras"

R_MALFORMED = "LBOM-KERAS-001"
R_LAMBDA = "LBOM-KERAS-002"
R_CUSTOM = "LBOM-KERAS-003"

_KERAS_MEMBERS = ("metadata.json", "config.json", "model.weights.h5", "assets/")
_MAX_NODES = 1_000_000
_REPORTED = 50
_BUILTIN_MODULE_PREFIXES = ("keras", "tf_keras", "tensorflow.keras", "builtins")


def sniff(head: bytes, filename: str) -> bool:
    if head[:4] != ZIP_MAGIC:
        return False
    return first_member_name(head).startswith(_KERAS_MEMBERS) or filename.lower().endswith(".keras")


def _load_json(raw: bytes | None, name: str, sink: FindingSink) -> Any:
    if raw is None:
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        sink.add(R_MALFORMED, Severity.MEDIUM, f"{name} is not valid JSON: {str(exc)[:120]}", f"member {name}")
        return None


def read(source: ByteSource, limits: Limits) -> ModelHeader:
    sink = FindingSink(source.name)
    archive = open_zip(source, limits, sink)
    if archive is None:
        return ModelHeader(format=FORMAT, findings=sink.result(), header_bytes_read=source.size)
    metadata: dict[str, JsonValue] = {}
    info = _load_json(archive.read("metadata.json", limits.max_sidecar_bytes), "metadata.json", sink)
    if isinstance(info, dict):
        for key in ("keras_version", "date_saved"):
            if isinstance(info.get(key), str):
                metadata[f"keras.{key}"] = info[key]
    config = None
    if "config.json" in archive.names:
        if archive.size_of("config.json") > limits.max_sidecar_bytes:
            sink.add(R_MALFORMED, Severity.MEDIUM, "config.json exceeds the sidecar size cap; not read",
                     "member config.json")  # fmt: skip
        else:
            config = _load_json(archive.read("config.json", limits.max_sidecar_bytes), "config.json", sink)
    else:
        sink.add(R_MALFORMED, Severity.MEDIUM, "archive has no config.json: not a Keras v3 model", None)
    name = None
    if isinstance(config, dict):
        inner = config.get("config")
        if isinstance(inner, dict) and isinstance(inner.get("name"), str):
            name = inner["name"]
        if isinstance(config.get("class_name"), str):
            metadata["keras.model_class"] = config["class_name"]
        layers = _walk_layers(config, sink)
        metadata["keras.layer_count"] = sum(layers.values())
        metadata["keras.layers"] = dict(sorted(layers.items()))
    metadata["keras.weights_file"] = "model.weights.h5" in archive.names
    version = metadata.get("keras.keras_version")
    return ModelHeader(
        format=FORMAT,
        format_version=version if isinstance(version, str) else None,
        name=name,
        training_framework="keras",
        metadata=dict(sorted(metadata.items())),
        findings=sink.result(),
        header_bytes_read=archive.bytes_read,
    )


def _walk_layers(config: dict[str, Any], sink: FindingSink) -> Counter[str]:
    """Histogram of layer classes in every nested model; Lambda and custom objects become findings."""
    layers: Counter[str] = Counter()
    reported: Counter[str] = Counter()
    todo: list[tuple[Any, str, bool]] = [(config, "config", False)]
    nodes = 0
    while todo:
        value, path, is_layer = todo.pop()
        nodes += 1
        if nodes > _MAX_NODES:
            sink.add(R_MALFORMED, Severity.MEDIUM, f"config.json has more than {_MAX_NODES:,} nodes; rest skipped")
            break
        if isinstance(value, list):
            todo.extend((item, f"{path}[{i}]", is_layer) for i, item in reversed(list(enumerate(value))))
            continue
        if not isinstance(value, dict):
            continue
        class_name = value.get("class_name")
        if isinstance(class_name, str) and "config" in value:
            layer_config = value.get("config")
            layer_name = layer_config.get("name") if isinstance(layer_config, dict) else None
            where = f"layer {layer_name}" if isinstance(layer_name, str) else path
            if is_layer:
                layers[class_name] += 1
            _check_object(value, class_name, where, sink, reported)
        for key, item in value.items():
            if isinstance(item, (dict, list)):
                todo.append((item, f"{path}.{key}", key in ("layers", "layer", "forward_layer", "backward_layer")))
    return layers


def _check_object(
    value: dict[str, Any], class_name: str, where: str, sink: FindingSink, reported: Counter[str]
) -> None:
    module = value.get("module")
    registered = value.get("registered_name")
    if class_name == "Lambda":
        reported[R_LAMBDA] += 1
        if reported[R_LAMBDA] <= _REPORTED:
            sink.add(R_LAMBDA, Severity.HIGH, "Lambda layer: it stores Python bytecode that loading with "
                     "safe_mode=False runs", where, "load with safe_mode=True (the default) or replace the Lambda "
                     "with a registered layer")  # fmt: skip
        return
    custom = (isinstance(module, str) and not module.startswith(_BUILTIN_MODULE_PREFIXES)) or (
        isinstance(registered, str) and ">" in registered
    )
    if custom:
        reported[R_CUSTOM] += 1
        if reported[R_CUSTOM] <= _REPORTED:
            origin = registered if isinstance(registered, str) else f"{module}.{class_name}"
            sink.add(R_CUSTOM, Severity.MEDIUM, f"custom object {origin!r}: loading imports and runs its Python code",
                     where, "load only with code you trust for this object")  # fmt: skip
