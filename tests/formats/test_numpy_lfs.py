"""NumPy .npy/.npz headers and Git LFS pointer files."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

import lbom
from lbom._formats import lfs_pointer, pick_reader
from lbom._formats import numpy as numpy_reader
from lbom._formats.interface import DEFAULT_LIMITS, BytesSource
from lbom.model import Severity


def npy_bytes(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.save(out, array, allow_pickle=True)
    return out.getvalue()


@pytest.mark.parametrize(
    ("array", "dtype"),
    [
        (np.zeros((3, 4), dtype=np.float16), "F16"),
        (np.zeros((2, 5), dtype=np.float32, order="F"), "F32"),
        (np.zeros(7, dtype=np.int64), "I64"),
        (np.zeros((2, 2), dtype=np.bool_), "BOOL"),
        (np.zeros(3, dtype="<U5"), "<U5"),
    ],
)
def test_npy_header(array: np.ndarray, dtype: str) -> None:
    data = npy_bytes(array)
    assert pick_reader(data[:512], "a.npy") is not None
    header = numpy_reader.read(BytesSource(data, "a.npy"), DEFAULT_LIMITS)
    assert header.format == "numpy"
    assert header.tensors[0].shape == array.shape
    assert header.tensors[0].type_name == dtype
    assert header.parameter_count == array.size
    assert header.metadata["fortran_order"] is bool(array.flags.f_contiguous and array.ndim > 1)
    assert header.findings == ()


def test_object_array_is_a_finding_and_its_pickle_is_walked(tmp_path: Path) -> None:
    marker = tmp_path / "marker"

    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            import os

            return (os.system, (f"touch {marker}",))

    data = npy_bytes(np.array([Evil()], dtype=object))
    header = numpy_reader.read(BytesSource(data, "o.npy"), DEFAULT_LIMITS)
    rules = {f.rule_id: f.severity for f in header.findings}
    assert rules[numpy_reader.R_OBJECT] is Severity.HIGH
    assert rules["LBOM-PKL-003"] is Severity.CRITICAL
    assert not marker.exists()


def test_truncated_npy_and_bad_headers() -> None:
    data = npy_bytes(np.zeros((100,), dtype=np.float32))
    short = numpy_reader.read(BytesSource(data[:-10], "t.npy"), DEFAULT_LIMITS)
    assert [f.rule_id for f in short.findings] == [numpy_reader.R_SIZE]
    bad = b"\x93NUMPY\x01\x00" + (20).to_bytes(2, "little") + b"__import__('os')   \n"
    assert numpy_reader.read(BytesSource(bad, "b.npy"), DEFAULT_LIMITS).findings[0].rule_id == numpy_reader.R_HEADER
    huge = b"\x93NUMPY\x02\x00" + (2**31).to_bytes(4, "little")
    assert numpy_reader.read(BytesSource(huge, "h.npy"), DEFAULT_LIMITS).findings[0].rule_id == numpy_reader.R_HEADER


def test_npz_members(tmp_path: Path) -> None:
    path = tmp_path / "w.npz"
    np.savez_compressed(path, a=np.zeros((2, 3)), b=np.ones(4, dtype=np.int32))
    result = lbom.scan(str(path), hash=False)
    model = result.models[0]
    assert model.format == "numpy"
    assert model.parameter_count == 10
    assert {s.type_name for s in model.tensor_types} == {"F64", "I32"}


def test_lfs_pointer(tmp_path: Path) -> None:
    oid = "4d7a" * 16
    path = tmp_path / "model.safetensors"
    path.write_text(f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize 4950000000\n")
    result = lbom.scan(str(path), hash=False)
    model = result.models[0]
    assert model.format == "git-lfs-pointer"
    assert model.metadata["lfs.oid_sha256"] == oid
    assert model.metadata["lfs.size"] == 4_950_000_000
    pointer = [f for f in model.findings if f.rule_id == lfs_pointer.R_POINTER]
    assert pointer and "git lfs pull" in pointer[0].message and pointer[0].severity is Severity.HIGH


def test_lfs_pointer_without_oid_is_malformed() -> None:
    header = lfs_pointer.read(BytesSource(b"version https://git-lfs.github.com/spec/v1\nsize x\n", "p"), DEFAULT_LIMITS)
    assert {f.rule_id for f in header.findings} == {lfs_pointer.R_POINTER, lfs_pointer.R_MALFORMED}
