"""A torch zip whose data.pkl is junk after a few opcodes must not be decompressed in full (memory stays flat),
while a long but valid data.pkl is still walked to its end."""

from __future__ import annotations

import io
import struct
import tracemalloc
import zipfile

from lbom._formats import pickle as pickle_reader
from lbom._formats.interface import DEFAULT_LIMITS, BytesSource
from lbom.model import Severity


def _torch_zip(data_pkl: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("archive/data.pkl", data_pkl)
        archive.writestr("archive/version", b"3\n")
    return buffer.getvalue()


def test_junk_data_pkl_is_not_decompressed_in_full() -> None:
    member_size = 48 * 1024 * 1024
    blob = _torch_zip(b"\x80\x02(" + b"\x00" * member_size)  # unknown opcode at offset 3: the walk stops there
    tracemalloc.start()
    try:
        header = pickle_reader.read(BytesSource(blob, "bomb.pt"), DEFAULT_LIMITS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert any(f.rule_id == pickle_reader.R_MALFORMED for f in header.findings)
    assert peak < member_size // 4, f"peak {peak:,} bytes for a {member_size:,}-byte junk member"
    assert not any(f.rule_id == pickle_reader.R_CAP for f in header.findings)


def test_long_valid_data_pkl_is_walked_to_its_end() -> None:
    padding = b"x" * (3 * 1024 * 1024)  # longer than the first window
    payload = b"\x80\x02X" + struct.pack("<I", len(padding)) + padding + b"0" + b"cposix\nsystem\nq\x00."
    blob = _torch_zip(payload)
    header = pickle_reader.read(BytesSource(blob, "long.pt"), DEFAULT_LIMITS)
    critical = [f for f in header.findings if f.severity == Severity.CRITICAL]
    assert critical, header.findings
    assert "posix.system" in header.metadata["pickle.globals"]  # type: ignore[operator]
