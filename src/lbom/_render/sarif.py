"""SARIF 2.1.0 output, so code-scanning UIs (GitHub, GitLab, Azure DevOps) show l-bom findings.

One run, tool ``l-bom``; ``tool.driver.rules`` lists the catalog entries of the rules that occur (title, full
description, remedy as help, default level, GitHub's ``security-severity``); each finding becomes a result with
its level, message, the file as an artifact location and the place inside it (key, tensor, offset, template
line) as a logical location. Findings a policy ignores are kept as results with an external suppression and the
policy's reason, which is how SARIF viewers show accepted risks.
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.parse
from collections.abc import Sequence

from lbom._catalog import RULES, Rule
from lbom._render.interface import RenderOptions
from lbom.model import Finding, JsonValue, ScanResult, Severity

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub code scanning reads properties.security-severity (0.1-3.9 low, 4-6.9 medium, 7-8.9 high, 9+ critical).
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "1.0",
}


def render(result: ScanResult, options: RenderOptions) -> str:
    return sarif_text([(f, None) for f in result.all_findings], result.tool_version)


def sarif_text(findings: Sequence[tuple[Finding, str | None]], tool_version: str) -> str:
    """SARIF for ``(finding, suppression reason or None)`` pairs, as stable, pretty-printed JSON."""
    return json.dumps(sarif_log(findings, tool_version), indent=2, ensure_ascii=False) + "\n"


def sarif_log(findings: Sequence[tuple[Finding, str | None]], tool_version: str) -> dict[str, JsonValue]:
    ordered = sorted(findings, key=lambda pair: pair[0].sort_key())
    rule_ids = sorted({finding.rule_id for finding, _ in ordered})
    index = {rule_id: position for position, rule_id in enumerate(rule_ids)}
    results: list[JsonValue] = [_result(finding, reason, index[finding.rule_id]) for finding, reason in ordered]
    run: dict[str, JsonValue] = {
        "tool": {
            "driver": {
                "name": "l-bom",
                "version": tool_version,
                "rules": [_rule(rule_id) for rule_id in rule_ids],
            }
        },
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def _rule(rule_id: str) -> JsonValue:
    entry = RULES.get(rule_id) or Rule(rule_id, rule_id, Severity.MEDIUM, "No catalog entry for this rule.", "")
    rule: dict[str, JsonValue] = {
        "id": entry.rule_id,
        "name": "".join(word[:1].upper() + word[1:] for word in _words(entry.title)),
        "shortDescription": {"text": entry.title},
        "fullDescription": {"text": entry.description},
        "defaultConfiguration": {"level": _LEVEL[entry.severity]},
        "properties": {
            "tags": ["security", "supply-chain", "ml-model", entry.family.lower()],
            "security-severity": _SECURITY_SEVERITY[entry.severity],
            "problem.severity": _LEVEL[entry.severity] if entry.severity >= Severity.MEDIUM else "recommendation",
        },
    }
    if entry.remedy:
        rule["help"] = {"text": entry.remedy}
    return rule


def _words(title: str) -> list[str]:
    return ["".join(ch for ch in word if ch.isalnum()) for word in title.split() if any(ch.isalnum() for ch in word)]


def _result(finding: Finding, suppression: str | None, rule_index: int) -> JsonValue:
    text = finding.message
    if finding.remedy:
        text = f"{text}. Remedy: {finding.remedy}" if not text.endswith(".") else f"{text} Remedy: {finding.remedy}"
    location: dict[str, JsonValue] = {}
    if finding.file:
        location["physicalLocation"] = {"artifactLocation": {"uri": file_uri(finding.file)}}
    if finding.location:
        location["logicalLocations"] = [{"name": finding.location, "kind": "member"}]
    result: dict[str, JsonValue] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": _LEVEL[finding.severity],
        "message": {"text": text},
        "locations": [location] if location else [],
        "partialFingerprints": {"lbomFinding/v1": _fingerprint(finding)},
        "properties": {"severity": finding.severity.value},
    }
    if suppression is not None:
        result["suppressions"] = [{"kind": "external", "justification": suppression}]
    return result


def file_uri(path: str) -> str:
    """A relative path as a relative URI reference (``/``-separated, percent-encoded); absolute ones as file://."""
    if os.path.isabs(path):
        from pathlib import Path

        return Path(path).as_uri()
    return urllib.parse.quote(path.replace(os.sep, "/"), safe="/")


def _fingerprint(finding: Finding) -> str:
    key = "\0".join((finding.rule_id, finding.file or "", finding.location or "", finding.message))
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
