"""Make the small committed models under tests/data/formats/ (one of each format l-bom reads, plus multi-file).

    python tests/data/make_format_fixtures.py

Needs the test extras (numpy, safetensors, gguf, onnx). Zip members carry a fixed timestamp, so the bytes (and
the digests in the golden files) are the same on every run. ``evil.pkl`` is a malicious pickle: it is never
loaded by l-bom or the tests; it is here to show how a finding looks in every output format.
"""

from __future__ import annotations

import io
import json
import shutil
import sys
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))

from tests.builders import (  # noqa: E402
    torch_state_dict_pickle,
    write_gguf,
    write_sharded_safetensors,
)

OUT = Path(__file__).resolve().parent / "formats"
FIXED_TIME = (2026, 1, 1, 0, 0, 0)


def deterministic_zip(path: Path, members: list[tuple[str, bytes]], deflate: bool = False) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)


def npy(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.save(out, array)
    return out.getvalue()


def torch_checkpoint(path: Path) -> None:
    tensors = [("encoder.weight", "F32", (4, 8)), ("encoder.bias", "F32", (8,)), ("head.weight", "F16", (8, 2))]
    members = [("pytorch_model/data.pkl", torch_state_dict_pickle(tensors)), ("pytorch_model/byteorder", b"little")]
    sizes = {"F32": 4, "F16": 2}
    for index, (_name, dtype, shape) in enumerate(tensors):
        members.append((f"pytorch_model/data/{index}", b"\0" * (int(np.prod(shape)) * sizes[dtype])))
    members.append(("pytorch_model/version", b"3\n"))
    deterministic_zip(path, members)


def onnx_model(path: Path) -> None:
    import onnx
    from onnx import helper, numpy_helper

    weight = numpy_helper.from_array(np.zeros((4, 3), dtype=np.float32), name="fc.weight")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "fc.weight"], ["y"])],
        "tiny-onnx",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, ["batch", 3])],
        initializer=[weight],
    )
    model = helper.make_model(graph, producer_name="l-bom-fixtures", opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path.write_bytes(model.SerializeToString())


def keras_model(path: Path) -> None:
    def layer(class_name: str, name: str) -> dict[str, object]:
        return {"module": "keras.layers", "class_name": class_name, "config": {"name": name}, "registered_name": None}

    config = {
        "module": "keras",
        "class_name": "Sequential",
        "config": {
            "name": "tiny_keras",
            "layers": [layer("InputLayer", "in"), layer("Dense", "d"), layer("Lambda", "l")],
        },
        "registered_name": None,
    }
    deterministic_zip(
        path,
        [
            ("metadata.json", json.dumps({"keras_version": "3.6.0", "date_saved": "2026-01-01@00:00:00"}).encode()),
            ("config.json", json.dumps(config).encode()),
            ("model.weights.h5", b"\x89HDF\r\n\x1a\n"),
        ],
    )


def main() -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    torch_checkpoint(OUT / "pytorch_model.bin")
    (OUT / "evil.pkl").write_bytes(b"\x80\x02cos\nsystem\nX\x1a\x00\x00\x00echo l-bom fixture payload\x85R.")
    (OUT / "embeddings.npy").write_bytes(npy(np.zeros((16, 4), dtype=np.float16)))
    deterministic_zip(OUT / "arrays.npz", [("a.npy", npy(np.zeros(5))), ("b.npy", npy(np.ones((2, 2), np.int32)))])
    onnx_model(OUT / "model.onnx")
    keras_model(OUT / "classifier.keras")
    (OUT / "pointer").mkdir()
    (OUT / "pointer" / "model.safetensors").write_text(
        "version https://git-lfs.github.com/spec/v1\n"
        "oid sha256:4b2a1b7c0f8e4d3a9c6b5e2f1a0d9c8b7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b\nsize 4976698672\n"
    )
    write_sharded_safetensors(
        OUT / "sharded",
        {
            "model-00001-of-00002.safetensors": {"a.weight": np.zeros((4, 8), np.float32)},
            "model-00002-of-00002.safetensors": {"b.weight": np.zeros((8, 2), np.float32)},
        },
    )
    split = OUT / "split"
    split.mkdir()
    for no in range(2):
        write_gguf(
            split / f"tiny-{no + 1:05d}-of-00002.gguf",
            file_type=0 if no == 0 else None,
            tokens=8 if no == 0 else 0,
            extra={"split.no": no, "split.count": 2, "split.tensors.count": 2},
            tensors={f"blk.{no}.w": np.zeros((4, 32), dtype=np.float32)},
        )
    (OUT / "notes.txt").write_text("not a model; listed only with --all\n")


if __name__ == "__main__":
    main()
