"""Hostile zip archives (torch.save, .npz and .keras containers): bombs, traversal names, overlapping members."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

from lbom._formats import pickle as pickle_reader
from lbom._formats import ziparchive
from lbom._formats.interface import DEFAULT_LIMITS, BytesSource, Limits
from tests.builders import torch_state_dict_pickle


def archive(members: list[tuple[str, bytes]], compression: int = zipfile.ZIP_STORED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return out.getvalue()


def rules_of(data: bytes, limits: Limits = DEFAULT_LIMITS) -> set[str]:
    header = pickle_reader.read(BytesSource(data, "model.pt"), limits)
    return {f.rule_id for f in header.findings}


def test_zip_bomb_stops_at_the_budget(tmp_path: Path) -> None:
    bomb = archive([("a/data.pkl", b"\x80\x02N."), ("a/data/0", b"\0" * 5_000_000)], zipfile.ZIP_DEFLATED)
    assert len(bomb) < 20_000
    limits = Limits(max_zip_uncompressed=1_000_000)
    assert ziparchive.R_ZIP_BOMB in rules_of(bomb, limits)


def test_data_pkl_larger_than_the_budget_is_not_decompressed() -> None:
    big = b"\x80\x02(" + b"N" * 3_000_000 + b"l."
    bomb = archive([("a/data.pkl", big)], zipfile.ZIP_DEFLATED)
    header = pickle_reader.read(BytesSource(bomb, "m.pt"), Limits(max_zip_uncompressed=1_000_000))
    assert ziparchive.R_ZIP_BOMB in {f.rule_id for f in header.findings}
    assert header.header_bytes_read < 1_000_000


def test_member_lying_about_its_size_is_caught() -> None:
    """zipfile reads no more than the declared size; the CRC then fails, which is a finding."""
    data = bytearray(archive([("a/data.pkl", b"\x80\x02N." + b"\0" * 1000)], zipfile.ZIP_DEFLATED))
    # Shrink the declared uncompressed size in the central directory: the member inflates past it.
    cd = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, cd + 24, 4)
    local = data.find(b"PK\x03\x04")
    struct.pack_into("<I", data, local + 22, 4)
    assert ziparchive.R_ZIP_MALFORMED in rules_of(bytes(data))


def test_traversal_and_absolute_names_are_flagged() -> None:
    evil = archive(
        [
            ("a/data.pkl", torch_state_dict_pickle([])),
            ("../../etc/cron.d/evil", b"x"),
            ("/abs/path", b"x"),
            ("a\\..\\..\\win", b"x"),
        ]
    )
    header = pickle_reader.read(BytesSource(evil, "model.pt"), DEFAULT_LIMITS)
    traversal = [f for f in header.findings if f.rule_id == ziparchive.R_ZIP_TRAVERSAL]
    assert len(traversal) == 3


def test_member_count_cap_refuses_before_parsing() -> None:
    many = archive([(f"a/data/{i}", b"") for i in range(50)] + [("a/data.pkl", b"\x80\x02N.")])
    assert ziparchive.R_ZIP_MEMBERS in rules_of(many, Limits(max_zip_members=10))


def test_overlapping_members_are_flagged() -> None:
    base = bytearray(archive([("a/data.pkl", b"\x80\x02N."), ("a/data/0", b"\0" * 64)]))
    # Point the second central-directory entry at the first local header (the overlapping-file bomb trick).
    second = base.rfind(b"PK\x01\x02")
    struct.pack_into("<I", base, second + 42, 0)
    assert ziparchive.R_ZIP_OVERLAP in rules_of(bytes(base))


def test_duplicate_names_are_flagged() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("a/data.pkl", b"\x80\x02N.")
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            zf.writestr("a/data.pkl", b"\x80\x02cos\nsystem\n.")
    header = pickle_reader.read(BytesSource(out.getvalue(), "m.pt"), DEFAULT_LIMITS)
    assert ziparchive.R_ZIP_DUPLICATE in {f.rule_id for f in header.findings}


def test_truncated_archive_is_a_finding_not_a_crash() -> None:
    data = archive([("a/data.pkl", b"\x80\x02N.")])
    header = pickle_reader.read(BytesSource(data[:-30], "m.pt"), DEFAULT_LIMITS)
    assert ziparchive.R_ZIP_MALFORMED in {f.rule_id for f in header.findings}
