"""Malicious pickles: every known way to smuggle a call past a scanner is flagged, and nothing is executed.

Each payload would run ``touch <marker>`` if unpickled. One test proves that (in a subprocess, in a temporary
folder) so the fixtures are real; every other test scans them and asserts the marker never appears.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

import lbom
from lbom._formats import pickle as pickle_reader
from lbom._formats.interface import DEFAULT_LIMITS, BytesSource
from lbom.model import ModelHeader, Severity


def _str(text: str) -> bytes:
    raw = text.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def global_reduce(cmd: str) -> bytes:
    return b"cos\nsystem\n(" + b"S'" + cmd.encode() + b"'\ntR."


def stack_global_memo(cmd: str) -> bytes:
    # Module and name are memoized first and fetched with BINGET, so no GLOBAL line names os.system.
    return (
        b"\x80\x04" + _str("posix") + b"\x94" + _str("system") + b"\x94" + b"0" + b"h\x00h\x01\x93"
        + _str(cmd) + b"\x85R."
    )  # fmt: skip


def getattr_chain(cmd: str) -> bytes:
    # getattr(importlib.import_module("os"), "system")(cmd): a call on the result of a call (nested REDUCE).
    return (
        b"\x80\x02cbuiltins\ngetattr\n"
        + b"cimportlib\nimport_module\n" + _str("os") + b"\x85R"
        + _str("system") + b"\x86R"
        + _str(cmd) + b"\x85R."
    )  # fmt: skip


def inst_opcode(cmd: str) -> bytes:
    return b"(S'" + cmd.encode() + b"'\nios\nsystem\n."


def obj_opcode(cmd: str) -> bytes:
    return b"(cos\nsystem\nS'" + cmd.encode() + b"'\no."


def nested_in_state_dict(cmd: str) -> bytes:
    # A plausible checkpoint dict whose value is the call: {"weights": subprocess.call(["sh", "-c", cmd])}.
    return (
        b"\x80\x02}q\x00" + _str("weights") + b"csubprocess\ncall\n"
        + b"]q\x01(" + _str("sh") + _str("-c") + _str(cmd) + b"e\x85Rs."
    )  # fmt: skip


def runpy_via_stack_global(cmd: str) -> bytes:
    source = f"import os; os.system({cmd!r})"
    return b"\x80\x04" + _str("builtins") + _str("exec") + b"\x93" + _str(source) + b"\x85R."


def dotted_name_through_a_harmless_module(cmd: str) -> bytes:
    # Protocol 4 resolves "os.system" inside shutil attribute by attribute: shutil.os.system is os.system.
    return b"\x80\x04" + _str("shutil") + _str("os.system") + b"\x93" + _str(cmd) + b"\x85R."


def dotted_private_alias(cmd: str) -> bytes:
    # Modules often import os under a private alias: tempfile._os.system is os.system too.
    return b"\x80\x04" + _str("tempfile") + _str("_os.system") + b"\x93" + _str(cmd) + b"\x85R."


PAYLOADS: dict[str, Callable[[str], bytes]] = {
    "dotted name through a harmless module": dotted_name_through_a_harmless_module,
    "dotted name with a private alias": dotted_private_alias,
    "GLOBAL+REDUCE": global_reduce,
    "STACK_GLOBAL via memo": stack_global_memo,
    "getattr chain": getattr_chain,
    "INST": inst_opcode,
    "OBJ": obj_opcode,
    "nested in a dict": nested_in_state_dict,
    "builtins.exec via STACK_GLOBAL": runpy_via_stack_global,
}


def marker_command(tmp_path: Path) -> tuple[Path, str]:
    marker = tmp_path / "marker"
    return marker, f"touch {marker}"


def scan_bytes(data: bytes, name: str = "evil.pkl") -> ModelHeader:
    return pickle_reader.read(BytesSource(data, name), DEFAULT_LIMITS)


@pytest.mark.skipif(sys.platform == "win32", reason="payloads use touch")
@pytest.mark.parametrize("kind", sorted(PAYLOADS))
def test_payload_is_real_when_unpickled(kind: str, tmp_path: Path) -> None:
    """Guard for the fixtures: a real unpickler (in a throwaway subprocess) does run them."""
    marker, cmd = marker_command(tmp_path)
    payload = tmp_path / "payload.pkl"
    payload.write_bytes(PAYLOADS[kind](cmd))
    code = "import pickle,sys; pickle.loads(open(sys.argv[1],'rb').read())"
    subprocess.run([sys.executable, "-c", code, str(payload)], cwd=tmp_path, check=False, capture_output=True)
    assert marker.exists()


@pytest.mark.parametrize("kind", sorted(PAYLOADS))
def test_payload_is_flagged_critical_and_not_run(kind: str, tmp_path: Path) -> None:
    marker, cmd = marker_command(tmp_path)
    header = scan_bytes(PAYLOADS[kind](cmd))
    worst = max((f.severity for f in header.findings), key=lambda s: s.rank)
    assert worst is Severity.CRITICAL, header.findings
    assert any("offset" in (f.location or "") for f in header.findings)
    assert not marker.exists()


@pytest.mark.parametrize("kind", sorted(PAYLOADS))
def test_payload_inside_a_torch_archive_through_the_public_api(kind: str, tmp_path: Path) -> None:
    marker, cmd = marker_command(tmp_path)
    path = tmp_path / "pytorch_model.bin"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", PAYLOADS[kind](cmd))
        zf.writestr("archive/version", "3\n")
    result = lbom.scan(str(path), hash=False)
    assert result.models and result.models[0].format == "pytorch"
    assert any(f.severity is Severity.CRITICAL for f in result.models[0].findings)
    assert not marker.exists()


def test_stack_global_memo_names_the_resolved_global() -> None:
    header = scan_bytes(stack_global_memo("true"))
    assert "posix.system" in header.metadata["pickle.globals"]  # type: ignore[operator]
    dangerous = [f for f in header.findings if f.rule_id == pickle_reader.R_DANGEROUS]
    assert dangerous and "posix.system" in dangerous[0].message
    assert dangerous[0].location == "offset 30"


def test_getattr_chain_reports_the_computed_call() -> None:
    header = scan_bytes(getattr_chain("true"))
    rules = {f.rule_id for f in header.findings}
    assert {pickle_reader.R_DANGEROUS, pickle_reader.R_COMPUTED_CALL} <= rules
    chained = next(f for f in header.findings if f.rule_id == pickle_reader.R_COMPUTED_CALL)
    assert chained.severity is Severity.CRITICAL
    assert "builtins.getattr" in chained.message


def test_stack_global_with_computed_operands_is_high() -> None:
    # STACK_GLOBAL whose module name is the result of a call (codecs.decode("bf", "rot13") -> "os").
    data = (
        b"\x80\x04c_codecs\nencode\n" + _str("bf") + _str("rot13") + b"\x86R" + _str("system") + b"\x93"
        + _str("true") + b"\x85R."
    )  # fmt: skip
    header = scan_bytes(data)
    assert any(f.rule_id == pickle_reader.R_DYNAMIC_IMPORT and f.severity is Severity.HIGH for f in header.findings)


def test_extension_codes_are_high() -> None:
    header = scan_bytes(b"\x80\x02\x82\x01)R.")
    assert any(f.rule_id == pickle_reader.R_DYNAMIC_IMPORT for f in header.findings)


def test_malformed_tail_still_reports_what_came_before(tmp_path: Path) -> None:
    _marker, cmd = marker_command(tmp_path)
    data = global_reduce(cmd)[:-1] + b"\xff\xff"  # a loader would run os.system before failing on 0xff
    header = scan_bytes(data)
    rules = {f.rule_id for f in header.findings}
    assert pickle_reader.R_DANGEROUS in rules and pickle_reader.R_MALFORMED in rules


def test_stack_underflow_keeps_listing_imports() -> None:
    data = b"\x80\x02R" + b"cos\nsystem\n."
    header = scan_bytes(data)
    assert "os.system" in header.metadata["pickle.globals"]  # type: ignore[operator]


def test_huge_length_fields_do_not_allocate() -> None:
    data = b"\x80\x04\x8e" + struct.pack("<Q", 2**62) + b"abc"  # BINBYTES8 claiming 4 EiB
    header = scan_bytes(data)
    assert any(f.rule_id == pickle_reader.R_MALFORMED for f in header.findings)


def test_opcode_cap_is_a_high_finding_that_fails_a_gate(tmp_path: Path) -> None:
    """Code hidden after the opcode cap is not seen, so the cut itself must be enough to stop a gate."""
    data = b"\x80\x02" + b"N0" * 1000 + global_reduce("true")[0:]
    limits = type(DEFAULT_LIMITS)(max_pickle_ops=100)
    header = pickle_reader.read(BytesSource(data, "many.pkl"), limits)
    (cap,) = [f for f in header.findings if f.rule_id == pickle_reader.R_CAP]
    assert cap.severity is Severity.HIGH
    assert header.metadata["pickle.globals"] == []  # the payload lies past the cap: unseen
    from lbom._catalog import rule

    assert rule(pickle_reader.R_CAP).severity is Severity.HIGH


def test_the_default_opcode_cap_is_reached_in_seconds_not_minutes() -> None:
    """Not a timing test: the cap bounds the work (2-3 µs an opcode), so it must stay in the low millions."""
    assert DEFAULT_LIMITS.max_pickle_ops <= 2_000_000


def test_a_torch_zip_whose_data_pkl_is_not_the_first_member_is_still_walked(tmp_path: Path) -> None:
    """torch.load finds archive/data.pkl by name; a harmless member in front must not hide it."""
    marker, cmd = marker_command(tmp_path)
    path = tmp_path / "reorder.pt"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/version", "3\n")
        for index in range(20):
            zf.writestr(f"archive/data/{index}", b"\0" * 16)
        zf.writestr("archive/data.pkl", global_reduce(cmd))
    result = lbom.scan(str(path), hash=False)
    (model,) = result.models
    assert model.format == "pytorch"
    assert any(f.rule_id == pickle_reader.R_DANGEROUS and f.severity is Severity.CRITICAL for f in model.findings)
    assert not marker.exists()


def test_a_zip_named_like_a_checkpoint_without_a_pickle_is_a_finding(tmp_path: Path) -> None:
    path = tmp_path / "weights.bin"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
    (model,) = lbom.scan(str(path), hash=False).models
    assert any(f.rule_id == pickle_reader.R_MALFORMED and "no pickle" in f.message for f in model.findings)


def test_unknown_global_is_medium_and_data_global_low() -> None:
    data = b"\x80\x02cmylib.layers\nCustom\n)\x81cargparse\nNamespace\n)\x81\x86."
    header = scan_bytes(data)
    by_message = {f.severity for f in header.findings if f.rule_id == pickle_reader.R_GLOBAL}
    assert by_message == {Severity.MEDIUM, Severity.LOW}


def test_marker_never_created_by_directory_scan(tmp_path: Path) -> None:
    marker, cmd = marker_command(tmp_path)
    folder = tmp_path / "models"
    folder.mkdir()
    for index, build in enumerate(PAYLOADS.values()):
        (folder / f"evil{index}.pkl").write_bytes(build(cmd))
    result = lbom.scan(str(folder), hash=False)
    assert len(result.models) == len(PAYLOADS)
    assert all(any(f.severity is Severity.CRITICAL for f in m.findings) for m in result.models)
    assert not marker.exists()
    assert sorted(os.listdir(folder)) == sorted(f"evil{i}.pkl" for i in range(len(PAYLOADS)))


@pytest.mark.parametrize(
    "data",
    [
        b"\x80\x02(K\x01K\x02l.",  # LIST
        b"\x80\x04(K\x01K\x02\x91.",  # FROZENSET
        b"\x80\x02(K\x01K\x02t.",  # TUPLE
        b"\x80\x02(K\x01K\x02d.",  # DICT
        b"(lp0\nI1\naI2\na.",  # protocol 0 list with APPEND
    ],
)
def test_marked_containers_are_modelled(data: bytes) -> None:
    header = scan_bytes(data)
    assert header.findings == ()


def test_large_pickles_are_walked_in_growing_windows() -> None:
    # 2 MB of strings: more than the first 1 MiB window, so the walk must grow it rather than report a cut.
    data = b"\x80\x02(" + _str("x" * 1000) * 2000 + b"l."
    header = scan_bytes(data)
    assert header.findings == ()
    assert header.header_bytes_read == len(data)


@pytest.mark.parametrize(
    ("module", "name", "expected"),
    [
        ("torch.serialization", "os.system", Severity.CRITICAL),  # module off the blocklist, name reaching os
        ("tempfile", "_os.system", Severity.CRITICAL),  # through a private alias
        ("collections", "OrderedDict.__init__.__globals__", Severity.CRITICAL),  # a dunder walk
        ("collections", "OrderedDict.fromkeys", Severity.HIGH),  # any attribute walk is out of place in weights
    ],
)
def test_dotted_global_names_are_judged_by_what_they_reach(module: str, name: str, expected: Severity) -> None:
    assert pickle_reader.global_severity(f"{module}.{name}", module, name) is expected


@pytest.mark.parametrize("kind", ["GLOBAL+REDUCE", "INST", "nested in a dict"])
def test_text_protocol_pickles_are_recognised_under_any_name(kind: str, tmp_path: Path) -> None:
    marker, cmd = marker_command(tmp_path)
    path = tmp_path / "legacy0.dat"
    path.write_bytes(PAYLOADS[kind](cmd))
    (model,) = lbom.scan(str(path), hash=False).models
    assert any(f.severity is Severity.CRITICAL for f in model.findings), model.findings
    assert not marker.exists()


def test_a_word_list_that_opens_like_a_global_is_not_taken_for_a_pickle(tmp_path: Path) -> None:
    (tmp_path / "words.dat").write_text("cat\ndog\nfish\n")
    result = lbom.scan(str(tmp_path), hash=False)
    assert result.models == ()


def test_a_torch_zip_under_a_name_that_says_nothing_is_found_by_its_central_directory(tmp_path: Path) -> None:
    marker, cmd = marker_command(tmp_path)
    path = tmp_path / "weights.dat"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/version", "3\n")
        zf.writestr("archive/data.pkl", global_reduce(cmd))
    (model,) = lbom.scan(str(tmp_path), hash=False).models
    assert model.format == "pytorch"
    assert any(f.severity is Severity.CRITICAL for f in model.findings)
    assert not marker.exists()
    other = tmp_path / "other"
    other.mkdir()
    with zipfile.ZipFile(other / "docs.zip", "w") as zf:
        zf.writestr("readme.txt", "just text")
    assert lbom.scan(str(other), hash=False).models == ()
