"""The findings catalog covers every rule id the code can emit, and every entry is complete."""

from __future__ import annotations

import re
from pathlib import Path

import lbom
from lbom._catalog import RULES, catalog, rule
from lbom.model import Severity

SRC = Path(__file__).resolve().parents[2] / "src" / "lbom"
RULE_ID = re.compile(r"LBOM-[A-Z0-9]+-\d{3}")


def test_every_rule_id_in_the_source_is_in_the_catalog() -> None:
    emitted: dict[str, str] = {}
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "_catalog.py":
            continue
        for rule_id in RULE_ID.findall(path.read_text(encoding="utf-8")):
            emitted.setdefault(rule_id, str(path.relative_to(SRC)))
    assert len(emitted) > 40
    missing = {rule_id: where for rule_id, where in emitted.items() if rule_id not in RULES}
    assert not missing, f"add these rule ids to src/lbom/_catalog.py: {missing}"


def test_catalog_entries_are_complete_and_unique() -> None:
    ids = [entry.rule_id for entry in catalog()]
    assert len(ids) == len(set(ids))
    for entry in catalog():
        assert RULE_ID.fullmatch(entry.rule_id), entry.rule_id
        assert entry.title and entry.description and entry.remedy, entry.rule_id
        assert isinstance(entry.severity, Severity)
        assert entry.family == entry.rule_id.split("-")[1]


def test_public_lookup() -> None:
    assert rule("LBOM-TPL-002") is not None
    assert rule("LBOM-NOPE-999") is None
    assert lbom.rules() == catalog()
