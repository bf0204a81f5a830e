"""CycloneDX 1.6 JSON ML-BOM: one ``machine-learning-model`` component per logical model.

The BOM is built with cyclonedx-python-lib (imported only here). That library cannot emit ``modelCard`` (its
issue #912), so the model cards are added to the serialized JSON afterwards; the tests validate the result with
the library's strict 1.6 JSON schema validator. Mapping:

- component: name, ``bom-ref`` (``model:`` + an id fragment of the path, unique per model), version (source
  revision/tag) when known, SHA-256 (and other) hashes — on the component for a single file, on one ``file``
  sub-component per file for multi-file models —, licenses (SPDX id, else a named license), purl when the source
  gives one, ``pedigree.ancestors`` for base models;
- ``modelCard.modelParameters``: ``modelArchitecture``, ``task`` only when the model card declares one;
  ``modelCard.properties``: the registered ``cdx:ai-ml:*`` names (parameter count, context length,
  quantization, vocab size, chat template, languages);
- component ``properties`` under ``lbom:``: format, dtype, tensor type histogram, path, findings.
"""

from __future__ import annotations

import json
import warnings
from typing import TYPE_CHECKING, Any

from lbom._licenses import LicenseInfo, model_license
from lbom._render import sbom_facts as facts
from lbom._render.interface import RenderOptions
from lbom._render.json import warning_text
from lbom.model import FileEntry, JsonValue, ModelArtifact, ScanResult

if TYPE_CHECKING:
    from cyclonedx.model import HashType, Property
    from cyclonedx.model.component import Component
    from cyclonedx.model.license import DisjunctiveLicense

SPEC_VERSION = "1.6"


def model_ref(model: ModelArtifact) -> str:
    return f"model:{facts.model_key(model)}"


def render(result: ScanResult, options: RenderOptions) -> str:
    return json.dumps(build_document(result), indent=2, ensure_ascii=False) + "\n"


def build_document(result: ScanResult) -> dict[str, Any]:
    """The CycloneDX 1.6 BOM for a scan, as a JSON-ready dict (model cards included)."""
    from cyclonedx.model import Property
    from cyclonedx.model.bom import Bom, BomMetaData
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.model.tool import ToolRepository
    from cyclonedx.output.json import JsonV1Dot6

    tool = Component(type=ComponentType.APPLICATION, name=facts.TOOL_NAME, version=result.tool_version)
    metadata = BomMetaData(
        timestamp=facts.created_at(result),
        tools=ToolRepository(components=[tool]),
        properties=[Property(name="lbom:finding", value=warning_text(f)) for f in result.findings],
    )
    bom = Bom(serial_number=facts.document_uuid(result, "cyclonedx"), metadata=metadata)
    for model in result.models:
        bom.components.add(_component(model))
    with warnings.catch_warnings():
        # The library warns that a BOM without a root component is incomplete; a scan has no single root.
        warnings.simplefilter("ignore")
        document: dict[str, Any] = json.loads(JsonV1Dot6(bom).output_as_string())
    cards = {model_ref(m): _model_card(m) for m in result.models}
    for component in document.get("components", []):
        card = cards.get(component.get("bom-ref", ""))
        if card:
            component["modelCard"] = card
    return document


def _component(model: ModelArtifact) -> Component:
    from cyclonedx.model.component import Component, ComponentType, Pedigree

    single = len(model.files) == 1
    license_info = model_license(model)
    return Component(
        type=ComponentType.MACHINE_LEARNING_MODEL,
        name=facts.display_name(model),
        bom_ref=model_ref(model),
        version=facts.model_version(model),
        hashes=_hashes(model.files[0]) if single else None,
        licenses=[_license(license_info)] if license_info is not None else None,
        purl=_purl(model),
        pedigree=Pedigree(ancestors=_ancestors(model)) if model.base_models else None,
        components=[_file_component(model, entry) for entry in model.files] if not single else None,
        properties=_lbom_properties(model),
    )


def _file_component(model: ModelArtifact, entry: FileEntry) -> Component:
    from cyclonedx.model import Property
    from cyclonedx.model.component import Component, ComponentType

    properties = [Property(name="lbom:path", value=entry.path), Property(name="lbom:role", value=entry.role)]
    properties.append(Property(name="lbom:size_bytes", value=str(entry.size)))
    if entry.format:
        properties.append(Property(name="lbom:format", value=entry.format))
    return Component(
        type=ComponentType.FILE,
        name=entry.relative_path,
        bom_ref=f"{model_ref(model)}:file:{facts.file_key(entry)}",
        hashes=_hashes(entry),
        properties=properties,
    )


def _hashes(entry: FileEntry) -> list[HashType]:
    from cyclonedx.model import HashAlgorithm, HashType

    return [
        HashType(alg=HashAlgorithm(name), content=hex_digest) for name, hex_digest in facts.digests(entry, "cyclonedx")
    ]


def _license(info: LicenseInfo) -> DisjunctiveLicense:
    from cyclonedx.model import XsUri
    from cyclonedx.model.license import DisjunctiveLicense

    if info.spdx_id is not None:
        return DisjunctiveLicense(id=info.spdx_id)
    url = facts.web_uri(info.url)
    return DisjunctiveLicense(name=info.name, url=XsUri(url) if url else None)


def _purl(model: ModelArtifact) -> Any:
    if model.source is None or not model.source.purl:
        return None
    from packageurl import PackageURL

    try:
        return PackageURL.from_string(model.source.purl)
    except ValueError:
        return None


def _ancestors(model: ModelArtifact) -> list[Component]:
    from cyclonedx.model import ExternalReference, ExternalReferenceType, XsUri
    from cyclonedx.model.component import Component, ComponentType

    ancestors = []
    for index, base in enumerate(model.base_models):
        repo_url = facts.web_uri(base.repo_url)
        references = []
        if repo_url:
            references.append(ExternalReference(type=ExternalReferenceType.WEBSITE, url=XsUri(repo_url)))
        ancestors.append(
            Component(
                type=ComponentType.MACHINE_LEARNING_MODEL,
                name=base.name.strip() or "unnamed base model",
                group=base.organization,
                bom_ref=f"{model_ref(model)}:base:{index}",
                external_references=references,
            )
        )
    return ancestors


def _lbom_properties(model: ModelArtifact) -> list[Property]:
    from cyclonedx.model import Property

    properties = [Property(name="lbom:path", value=model.path)]
    properties.extend(Property(name=f"lbom:{fact.key}", value=fact.value) for fact in facts.descriptive_facts(model))
    for stat in model.tensor_types:
        value = facts.tensor_type_value(stat.tensor_count, stat.parameter_count)
        properties.append(Property(name=f"lbom:tensor_type:{stat.type_name}", value=value))
    for template in model.chat_templates:
        detail: dict[str, JsonValue] = {"length": len(template.text), "name": template.name, "sha256": template.sha256}
        properties.append(Property(name=f"lbom:chat_template:{template.source}", value=facts.json_text(detail)))
    properties.extend(Property(name="lbom:finding", value=warning_text(f)) for f in model.findings)
    return properties


def _model_card(model: ModelArtifact) -> dict[str, Any]:
    parameters: dict[str, Any] = {}
    declared_task = facts.task(model)
    if declared_task:
        parameters["task"] = declared_task
    if model.architecture:
        parameters["modelArchitecture"] = model.architecture
    properties = []
    if model.parameter_count is not None:
        properties.append({"name": "cdx:ai-ml:model:parameter:count", "value": str(model.parameter_count)})
    for fact in facts.hyperparameters(model):
        properties.append({"name": f"cdx:ai-ml:model:hyperparameter:{fact.key}", "value": fact.value})
    for template in model.chat_templates:
        properties.append({"name": "cdx:ai-ml:model:template:chat", "value": f"sha256:{template.sha256}"})
    langs = facts.languages(model)
    if langs:
        properties.append({"name": "cdx:ai-ml:model:languages", "value": ",".join(langs)})
    card: dict[str, Any] = {}
    if parameters:
        card["modelParameters"] = parameters
    if properties:
        card["properties"] = properties
    return card
