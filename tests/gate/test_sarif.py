"""SARIF 2.1.0 output validates against the official schema (offline), for scans and for policy checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import lbom
from lbom._render.sarif import file_uri, sarif_log
from lbom.model import Finding, Severity
from tests.builders import write_gguf

SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "data" / "sarif-schema-2.1.0.json").read_text())
jsonschema.Draft7Validator.check_schema(SCHEMA)
VALIDATOR = jsonschema.Draft7Validator(SCHEMA)


def validate(document: Any) -> None:
    errors = sorted(VALIDATOR.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]


@pytest.fixture
def noisy(tmp_path: Path) -> Path:
    write_gguf(
        tmp_path / "llama-Q4_K_M.gguf",
        file_type=7,
        extra={"tokenizer.chat_template": "{{ lipsum.__globals__ }}\u202e"},
    )
    return tmp_path


def test_scan_sarif_is_valid(noisy: Path) -> None:
    document = json.loads(lbom.render(lbom.scan(noisy), "sarif"))
    validate(document)
    run = document["runs"][0]
    assert document["version"] == "2.1.0"
    assert run["tool"]["driver"]["name"] == "l-bom"
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert rule_ids == sorted(rule_ids)
    assert {"LBOM-NAME-001", "LBOM-TPL-002", "LBOM-TPL-003", "LBOM-TPL-004", "LBOM-LIC-001"} <= set(rule_ids)
    for result in run["results"]:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
    critical = next(r for r in run["results"] if r["ruleId"] == "LBOM-TPL-002")
    assert critical["level"] == "error"
    location = critical["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"].endswith("llama-Q4_K_M.gguf")
    assert location["logicalLocations"][0]["name"] == "gguf:tokenizer.chat_template line 1"
    rule = run["tool"]["driver"]["rules"][rule_ids.index("LBOM-TPL-002")]
    assert rule["properties"]["security-severity"] == "9.5"
    assert rule["help"]["text"]


def test_empty_sarif_is_valid(tmp_path: Path) -> None:
    write_gguf(tmp_path / "m.gguf", extra={"general.license": "mit"})
    document = json.loads(lbom.render(lbom.scan(tmp_path), "sarif"))
    validate(document)
    assert document["runs"][0]["results"] == []


def test_check_sarif_with_suppressions_is_valid(noisy: Path, tmp_path: Path) -> None:
    from lbom._policy import parse_policy

    policy = parse_policy(
        "[findings]\nfail_on = 'medium'\nignore = [{ rule = 'LBOM-NAME-001', reason = 'vendor naming' }]\n"
    )
    result = lbom.check(noisy, policy)
    pairs = [(f, None) for f in result.failures] + [(i.finding, i.reason) for i in result.ignored]
    document = sarif_log(pairs, "test")
    validate(document)
    suppressed = [r for r in document["runs"][0]["results"] if "suppressions" in r]  # type: ignore[index,union-attr]
    assert [r["ruleId"] for r in suppressed] == ["LBOM-NAME-001"]
    assert suppressed[0]["suppressions"] == [{"kind": "external", "justification": "vendor naming"}]


def test_levels_and_uris() -> None:
    findings = [
        (Finding("LBOM-SCAN-001", severity, "m", "dir/a b#c.gguf"), None)
        for severity in (Severity.INFO, Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL)
    ]
    document = sarif_log(findings, "1")
    validate(document)
    levels = [r["level"] for r in document["runs"][0]["results"]]  # type: ignore[index]
    assert levels == ["error", "error", "warning", "note", "note"]
    assert file_uri("dir/a b#c.gguf") == "dir/a%20b%23c.gguf"
    assert file_uri("/abs/x.gguf") == "file:///abs/x.gguf"


def test_unknown_rule_still_validates() -> None:
    document = sarif_log([(Finding("LBOM-FUTURE-001", Severity.LOW, "new"), None)], "1")
    validate(document)
