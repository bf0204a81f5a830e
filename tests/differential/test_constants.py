"""Our format tables equal the reference packages' (gguf-py, safetensors), so drift is caught."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

import gguf
import pytest

from lbom._formats.constants import (
    GGML_TYPES,
    GGUF_SCALAR_FORMATS,
    GGUF_VALUE_TYPES,
    LLAMA_FTYPE_NAMES,
    LLAMA_FTYPE_RETIRED,
    SAFETENSORS_DTYPE_BITS,
)


def test_llama_ftype_names_match_gguf() -> None:
    theirs = {int(m.value): m.name.removeprefix("MOSTLY_") for m in gguf.LlamaFileType}
    theirs[0] = "F32"  # ALL_F32: reported the way users say it
    assert theirs == LLAMA_FTYPE_NAMES
    assert not set(LLAMA_FTYPE_RETIRED) & set(theirs)


def test_ggml_types_and_block_sizes_match_gguf() -> None:
    theirs = {int(m.value): (m.name, *gguf.GGML_QUANT_SIZES[m]) for m in gguf.GGMLQuantizationType}
    assert theirs == GGML_TYPES


def test_value_types_match_gguf() -> None:
    assert {int(m.value): m.name for m in gguf.GGUFValueType} == GGUF_VALUE_TYPES
    import numpy as np

    sizes = {int(t.value): np.dtype(np_type).itemsize for t, np_type in gguf.GGUFReader.gguf_scalar_to_np.items()}
    assert {v: struct.calcsize(f) for v, f in GGUF_SCALAR_FORMATS.items()} == sizes


def _safetensors_accepts(tmp_path: Path, dtype: str, elements: int, nbytes: int) -> bool:
    from safetensors import safe_open

    header = json.dumps({"t": {"dtype": dtype, "shape": [elements], "data_offsets": [0, nbytes]}}).encode()
    header += b" " * (-len(header) % 8)
    path = tmp_path / f"{dtype}-{nbytes}.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * nbytes)
    try:
        with safe_open(str(path), "np"):
            return True
    except Exception:
        return False


def test_safetensors_dtype_list_matches_the_reference(tmp_path: Path) -> None:
    from safetensors import safe_open

    header = json.dumps({"t": {"dtype": "NOT_A_DTYPE", "shape": [1], "data_offsets": [0, 1]}}).encode()
    path = tmp_path / "x.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + b"\0")
    with pytest.raises(Exception) as info, safe_open(str(path), "np"):
        pass
    listed = re.findall(r"`([A-Z0-9_]+)`", str(info.value).split("expected one of", 1)[1])
    assert listed and set(listed) - {"NOT_A_DTYPE"} == set(SAFETENSORS_DTYPE_BITS)


@pytest.mark.parametrize(("dtype", "bits"), sorted(SAFETENSORS_DTYPE_BITS.items()))
def test_safetensors_dtype_bits_match_the_reference(tmp_path: Path, dtype: str, bits: int) -> None:
    elements = 16
    nbytes = elements * bits // 8
    assert _safetensors_accepts(tmp_path, dtype, elements, nbytes)
    assert not _safetensors_accepts(tmp_path, dtype, elements, nbytes + 1)
