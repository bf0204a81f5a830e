"""Validators for standard SBOM outputs, used by every render test: the official tools, offline."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

# The SPDX 3.0.1 AI profile makes these mandatory for ai_AIPackage (spec: AI/Classes/AIPackage); the
# spdx-python-model bindings do not enforce them, so the tests do.
AI_PACKAGE_MANDATORY = (
    "releaseTime",
    "suppliedBy",
    "software_downloadLocation",
    "software_packageVersion",
    "software_primaryPurpose",
)


def validate_cyclonedx(text: str) -> dict[str, Any]:
    """Strict CycloneDX 1.6 JSON schema validation (cyclonedx-python-lib); returns the parsed BOM."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    assert error is None, f"CycloneDX 1.6 strict validation failed: {error}"
    bom: dict[str, Any] = json.loads(text)
    refs = _all_bom_refs(bom.get("components", []))
    assert len(refs) == len(set(refs)), f"duplicate bom-refs: {refs}"
    assert all(refs), "empty bom-ref"
    return bom


def _all_bom_refs(components: list[dict[str, Any]]) -> list[str]:
    refs = []
    stack = list(components)
    while stack:
        component = stack.pop()
        refs.append(component.get("bom-ref", ""))
        stack.extend(component.get("components", []))
        stack.extend(component.get("pedigree", {}).get("ancestors", []))
    return refs


def validate_spdx2(text: str, tmp_path: Path, suffix: str) -> Any:
    """Parse with spdx-tools and validate the full document: zero messages. ``suffix`` is .spdx or .spdx.json."""
    from spdx_tools.spdx.parser.parse_anything import parse_file
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    path = tmp_path / f"document{suffix}"
    path.write_text(text, encoding="utf-8")
    document = parse_file(str(path))
    messages = validate_full_spdx_document(document)
    assert messages == [], "\n".join(m.validation_message for m in messages)
    return document


def load_spdx3(text: str) -> Any:
    """Load SPDX 3 JSON-LD back with spdx-python-model and check every ai_AIPackage's mandatory properties."""
    from spdx_python_model import v3_0_1 as spdx

    objects = spdx.SHACLObjectSet()
    spdx.JSONLDDeserializer().read(io.BytesIO(text.encode("utf-8")), objects)
    missing = objects.link()
    assert not missing, f"dangling references: {sorted(missing)}"
    documents = list(objects.foreach_type(spdx.SpdxDocument))
    assert len(documents) == 1
    packages = list(objects.foreach_type(spdx.ai_AIPackage))
    for package in packages:
        for name in AI_PACKAGE_MANDATORY:
            value = getattr(package, name)
            assert value not in (None, ""), f"ai_AIPackage {package._id} lacks mandatory {name}"
        assert package.software_primaryPurpose == spdx.software_SoftwarePurpose.model
        assert package.name, package._id
    for element in objects.foreach_type(spdx.Element):
        assert element._id and not element._id.endswith("/"), f"bad element id {element._id!r}"
    return objects
