"""Identity facts with terminal control or bidi characters are a finding; ordinary text is not."""

from __future__ import annotations

from pathlib import Path

import pytest

import lbom
from lbom._checks.text import R_CONTROL_CHARACTERS
from lbom._render.terminal import CONTROL_CHARACTERS
from tests.builders import kv_string, raw_gguf


@pytest.mark.parametrize(
    ("key", "value", "fact"),
    [
        ("general.architecture", "llama\x1b[2J", "architecture"),
        ("general.license", "mit\u202eTIM", "license"),
        ("general.name", "Tiny\x07Bell", "name"),
        ("general.name", "Tiny\u061cMark", "name"),  # the Arabic letter mark, a bidi control
        ("general.name", "Tiny\u200bSpace", "name"),  # zero-width: every output escapes it, so it is reported
    ],
)
def test_control_characters_in_identity_facts_are_findings(tmp_path: Path, key: str, value: str, fact: str) -> None:
    kvs = [kv_string("general.architecture", "llama"), kv_string(key, value)]
    path = tmp_path / "m.gguf"
    path.write_bytes(raw_gguf(kvs))
    (model,) = lbom.scan(str(path), hash=False).models
    found = [f for f in model.findings if f.rule_id == R_CONTROL_CHARACTERS]
    assert [f.location for f in found] == [fact]
    hidden = next(c for c in value if CONTROL_CHARACTERS.match(c))
    assert hidden not in lbom.render(lbom.scan(str(path), hash=False), "table")  # reported, and shown escaped


def test_ordinary_names_are_quiet(tmp_path: Path) -> None:
    kvs = [kv_string("general.architecture", "llama"), kv_string("general.name", "Llama 3.1 8B Instruct — Q4 (café)")]
    path = tmp_path / "m.gguf"
    path.write_bytes(raw_gguf(kvs))
    (model,) = lbom.scan(str(path), hash=False).models
    assert not [f for f in model.findings if f.rule_id == R_CONTROL_CHARACTERS]
