"""The pickle/PyTorch reader on real torch.save output and on hand-built archives of the same structure."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from lbom._formats import pick_reader
from lbom._formats import pickle as pickle_reader
from lbom._formats.constants import TORCH_SAFE_GLOBALS
from lbom._formats.interface import DEFAULT_LIMITS, BytesSource, LocalFileSource
from lbom.model import ModelHeader, Severity
from tests.builders import torch_state_dict_pickle, torch_zip

DATA = Path(__file__).resolve().parent.parent / "data" / "torch"
REFERENCE_TENSORS = [
    ("embed.weight", "F32", (3, 4)),
    ("norm.bias", "BF16", (4,)),
    ("head.weight", "F16", (2, 3, 1, 2)),
    ("steps", "I64", (2,)),
]


def read_path(path: Path) -> ModelHeader:
    with LocalFileSource(str(path)) as source:
        head = source.read_at(0, 512)
        entry = pick_reader(head, str(path))
        assert entry is not None and entry.format_name == "pytorch"
        return entry.read(source, DEFAULT_LIMITS)


def test_hand_built_data_pkl_matches_torch_byte_for_byte() -> None:
    with zipfile.ZipFile(DATA / "state_dict.pt") as zf:
        reference = zf.read("state_dict/data.pkl")
    assert torch_state_dict_pickle(REFERENCE_TENSORS) == reference


@pytest.mark.parametrize("name", ["state_dict.pt", "state_dict_legacy.pt"])
def test_reads_real_torch_save_output(name: str) -> None:
    header = read_path(DATA / name)
    assert header.format == "pytorch"
    assert header.training_framework == "pytorch"
    assert [(t.name, t.type_name, t.shape) for t in header.tensors] == sorted(REFERENCE_TENSORS)
    assert header.parameter_count == 12 + 4 + 12 + 2
    assert header.dtype == "mixed"
    assert {s.type_name: s.parameter_count for s in header.tensor_types} == {"F32": 12, "F16": 12, "BF16": 4, "I64": 2}
    assert header.findings == ()
    assert "torch._utils._rebuild_tensor_v2" in header.metadata["pickle.globals"]  # type: ignore[operator]
    if name == "state_dict.pt":
        assert header.metadata["torch.version"] == "3"
        assert header.metadata["torch.byteorder"] == "little"
    else:
        assert header.metadata["torch.legacy_format"] is True


def test_allowlist_matches_torch_weights_only_unpickler() -> None:
    recorded = json.loads((DATA / "weights_only_allowlist.json").read_text())
    assert set(recorded["globals"]) == TORCH_SAFE_GLOBALS


def test_hand_built_archive_and_missing_storage(tmp_path: Path) -> None:
    tensors = [("a.weight", "F32", (300, 2)), ("a.bias", "F16", (2,))]
    header = read_path(torch_zip(tmp_path / "ok.pt", tensors))
    assert header.parameter_count == 602
    assert header.findings == ()
    broken = read_path(torch_zip(tmp_path / "broken.pt", tensors, drop_storages=(1,)))
    assert [f.rule_id for f in broken.findings] == [pickle_reader.R_STORAGE]
    assert "a.bias" in (broken.findings[0].location or "")


def test_torchscript_archive_is_flagged(tmp_path: Path) -> None:
    tensors = [("w", "F32", (2,))]
    path = torch_zip(tmp_path / "ts.pt", tensors, extra_members={"ts/code/__torch__.py": b"def forward(self): ...\n"})
    rules = {f.rule_id for f in read_path(path).findings}
    assert pickle_reader.R_TORCHSCRIPT in rules


def test_parameter_wrapped_tensors_keep_their_names() -> None:
    # {"layer": Parameter(tensor)} via torch._utils._rebuild_parameter, with a nested dict above it.
    inner = torch_state_dict_pickle([("w", "F32", (5, 5))])
    assert pickle_reader.sniff(inner, "x.bin")
    header = pickle_reader.read(BytesSource(inner, "x.bin"), DEFAULT_LIMITS)
    assert [t.name for t in header.tensors] == ["w"]
    assert header.parameter_count == 25


def test_sniff_rejects_unrelated_content() -> None:
    assert not pickle_reader.sniff(b"hello world", "notes.txt")
    assert not pickle_reader.sniff(b"PK\x03\x04" + b"\0" * 26, "archive.zip")
    assert pickle_reader.sniff(b"(lp0\n.", "old.pkl")


def test_global_severity_grades() -> None:
    assert pickle_reader.global_severity("torch.FloatStorage", "torch", "FloatStorage") is None
    assert pickle_reader.global_severity("os.system", "os", "system") is Severity.CRITICAL
    assert pickle_reader.global_severity("builtins.getattr", "builtins", "getattr") is Severity.CRITICAL
    assert pickle_reader.global_severity("importlib.import_module", "importlib", "import_module") is Severity.CRITICAL
    assert pickle_reader.global_severity("numpy.dtype", "numpy", "dtype") is Severity.LOW
    loader = pickle_reader.global_severity("torch.storage._load_from_bytes", "torch.storage", "_load_from_bytes")
    assert loader is Severity.HIGH
    assert pickle_reader.global_severity("mylib.Thing", "mylib", "Thing") is Severity.MEDIUM


def test_tensor_subclass_via_rebuild_from_type_v2() -> None:
    # {"w": _rebuild_from_type_v2(_rebuild_tensor_v2, MyTensor, (storage, 0, (2, 3), (3, 1), False, hooks), {})}
    data = (
        b"\x80\x02}X\x01\x00\x00\x00wctorch._tensor\n_rebuild_from_type_v2\n("
        b"ctorch._utils\n_rebuild_tensor_v2\ncmylib\nMyTensor\n"
        b"((X\x07\x00\x00\x00storagectorch\nHalfStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x06tQ"
        b"K\x00K\x02K\x03\x86K\x03K\x01\x86\x89}t}tRs."
    )
    header = pickle_reader.read(BytesSource(data, "sub.pt"), DEFAULT_LIMITS)
    assert [(t.name, t.type_name, t.shape) for t in header.tensors] == [("w", "F16", (2, 3))]
    assert {f.rule_id for f in header.findings} == {pickle_reader.R_GLOBAL}  # mylib.MyTensor is not allowlisted
