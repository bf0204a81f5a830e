"""SPDX 3.0.1 JSON-LD with the AI profile: one ``ai_AIPackage`` per logical model.

Built with spdx-python-model (``v3_0_1``, imported only here). The 3.0.1 spec makes ``releaseTime``,
``suppliedBy``, ``software_downloadLocation``, ``software_packageVersion`` and ``software_primaryPurpose``
mandatory for an AI package; the library does not enforce that, so every package here gets all five, filled
honestly: the supplier is the hub organisation or ``general.organization`` when known, otherwise an Agent named
``NOASSERTION``; download location and version are ``NOASSERTION`` unless the source states them; the release
time of a local file is not recorded anywhere, so it is the scan time and the package comment says so. Mapping:

- ``verifiedUsing`` hashes (single file), or one ``software_File`` per file with its own hashes, ``contains``;
- ``hasDeclaredLicense`` to a ``simplelicensing_LicenseExpression`` (SPDX id) or an
  ``expandedlicensing_CustomLicense`` (anything else);
- ``descendantOf`` to an ``ai_AIPackage`` per base model;
- ``ai_hyperparameter`` entries: context length, quantization, vocab size; ``ai_typeOfModel``: architecture;
  ``ai_informationAboutApplication``: the declared task;
- findings as ``Annotation`` elements on the package (or the document, for scan-level findings).
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from lbom._ids import id_fragment
from lbom._licenses import LicenseInfo, model_license
from lbom._render import sbom_facts as facts
from lbom._render.interface import RenderOptions
from lbom._render.json import warning_text
from lbom.model import FileEntry, Finding, ModelArtifact, ScanResult

SPEC_VERSION = "3.0.1"

RELEASE_TIME_NOTE = "releaseTime is the time of this scan: the model's own release time is not recorded in its files."


def render(result: ScanResult, options: RenderOptions) -> str:
    from spdx_python_model import v3_0_1 as spdx

    out = io.BytesIO()
    spdx.JSONLDSerializer().write(build_objects(result), out, indent=2, sort_keys=True, ensure_ascii=False)
    return out.getvalue().decode("utf-8") + "\n"


def build_objects(result: ScanResult) -> Any:
    """The SHACL object set (document and every element) for a scan."""
    from spdx_python_model import v3_0_1 as spdx

    base = f"{facts.LBOM_HOME}/spdx3/{facts.document_uuid(result, 'spdx-3.0.1')}/"
    created = facts.created_at(result)
    agent_id = base + "agent/l-bom"
    tool = spdx.Tool(_id=base + "tool/l-bom", name=f"{facts.TOOL_NAME} {result.tool_version}")
    creation = spdx.CreationInfo(specVersion=SPEC_VERSION, created=created, createdBy=[agent_id], createdUsing=[tool])
    tool.creationInfo = creation
    agent = spdx.SoftwareAgent(_id=agent_id, name=facts.TOOL_NAME, creationInfo=creation)
    builder = _Builder(spdx, base, creation, created)
    builder.add(tool)
    builder.add(agent)
    roots = [builder.add_model(model) for model in result.models]
    document_id = base + "document"
    for finding in result.findings:
        builder.annotate(document_id, finding)
    roots_text = ", ".join(result.roots) if result.roots else "no paths"
    document = spdx.SpdxDocument(
        _id=document_id,
        name=f"l-bom scan of {roots_text}",
        creationInfo=creation,
        profileConformance=[
            spdx.ProfileIdentifierType.core,
            spdx.ProfileIdentifierType.software,
            spdx.ProfileIdentifierType.ai,
            spdx.ProfileIdentifierType.simpleLicensing,
            spdx.ProfileIdentifierType.expandedLicensing,
        ],
        dataLicense=builder.license_element("CC0-1.0"),
        rootElement=roots,
        element=list(builder.elements),
    )
    objects = spdx.SHACLObjectSet()
    for element in builder.elements:
        objects.add(element)
    objects.add(document)
    return objects


class _Builder:
    def __init__(self, spdx: Any, base: str, creation: Any, created: datetime) -> None:
        self.spdx = spdx
        self.base = base
        self.creation = creation
        self.created = created
        self.elements: list[Any] = []
        self._by_id: dict[str, Any] = {}
        self._annotations = 0

    def add(self, element: Any) -> Any:
        existing = self._by_id.get(element._id)
        if existing is not None:
            return existing
        self._by_id[element._id] = element
        self.elements.append(element)
        return element

    def agent(self, name: str | None) -> Any:
        spdx = self.spdx
        if name is None:
            return self.add(
                spdx.Agent(
                    _id=self.base + "agent/noassertion",
                    name=facts.NOASSERTION,
                    comment="The supplier is not recorded in the scanned files.",
                    creationInfo=self.creation,
                )
            )
        return self.add(
            spdx.Organization(
                _id=self.base + f"organization/{id_fragment(name)}", name=name, creationInfo=self.creation
            )
        )

    def add_model(self, model: ModelArtifact) -> Any:
        spdx = self.spdx
        key = facts.model_key(model)
        single = len(model.files) == 1
        comment = [RELEASE_TIME_NOTE, f"path: {model.path}"]
        comment.extend(f"{fact.key}: {fact.value}" for fact in facts.descriptive_facts(model))
        for stat in model.tensor_types:
            comment.append(
                f"tensor_type {stat.type_name}: {stat.tensor_count} tensors, {stat.parameter_count} parameters"
            )
        for template in model.chat_templates:
            comment.append(f"chat_template {template.name} ({template.source}): sha256 {template.sha256}")
        task = facts.task(model)
        purl = model.source.purl if model.source is not None else None
        package = spdx.ai_AIPackage(
            _id=self.base + f"model/{key}",
            name=facts.display_name(model),
            creationInfo=self.creation,
            summary=facts.summary(model),
            comment="\n".join(comment),
            releaseTime=self.created,
            suppliedBy=self.agent(facts.supplier(model)),
            software_downloadLocation=facts.download_location(model) or facts.NOASSERTION,
            software_packageVersion=facts.model_version(model) or facts.NOASSERTION,
            software_primaryPurpose=spdx.software_SoftwarePurpose.model,
            verifiedUsing=self.hashes(model.files[0]) if single else [],
            ai_hyperparameter=[spdx.DictionaryEntry(key=f.key, value=f.value) for f in facts.hyperparameters(model)],
        )
        if model.architecture:
            package.ai_typeOfModel.append(model.architecture)
        if task:
            package.ai_informationAboutApplication = f"task: {task}"
        if purl:
            package.software_packageUrl = purl
        self.add(package)
        if not single:
            files = [self.add(self.file_element(entry)) for entry in model.files]
            self.relate(package, spdx.RelationshipType.contains, files, f"{key}/contains")
        info = model_license(model)
        if info is not None:
            license_element = self.license_for(info)
            self.relate(package, spdx.RelationshipType.hasDeclaredLicense, [license_element], f"{key}/license")
        bases = [self.base_model(index, model, key) for index in range(len(model.base_models))]
        if bases:
            self.relate(package, spdx.RelationshipType.descendantOf, bases, f"{key}/base")
        for finding in model.findings:
            self.annotate(package._id, finding)
        return package

    def file_element(self, entry: FileEntry) -> Any:
        spdx = self.spdx
        return spdx.software_File(
            _id=self.base + f"file/{facts.file_key(entry)}",
            name=entry.relative_path,
            creationInfo=self.creation,
            verifiedUsing=self.hashes(entry),
            software_primaryPurpose=spdx.software_SoftwarePurpose.model,
            comment=f"path: {entry.path}\nrole: {entry.role}\nsize_bytes: {entry.size}",
        )

    def base_model(self, index: int, model: ModelArtifact, key: str) -> Any:
        spdx = self.spdx
        base = model.base_models[index]
        base_key = id_fragment(f"{base.organization or ''}/{base.name}")
        return self.add(
            spdx.ai_AIPackage(
                _id=self.base + f"base-model/{base_key}",
                name=base.name,
                creationInfo=self.creation,
                comment=f"Base model named by the scanned model's metadata; not scanned itself. {RELEASE_TIME_NOTE}",
                releaseTime=self.created,
                suppliedBy=self.agent(base.organization),
                software_downloadLocation=facts.web_uri(base.repo_url) or facts.NOASSERTION,
                software_packageVersion=facts.NOASSERTION,
                software_primaryPurpose=spdx.software_SoftwarePurpose.model,
            )
        )

    def hashes(self, entry: FileEntry) -> list[Any]:
        spdx = self.spdx
        return [
            spdx.Hash(algorithm=getattr(spdx.HashAlgorithm, name), hashValue=hex_digest)
            for name, hex_digest in facts.digests(entry, "spdx3")
        ]

    def license_element(self, spdx_id: str) -> Any:
        return self.add(
            self.spdx.simplelicensing_LicenseExpression(
                _id=self.base + f"license/{spdx_id}",
                creationInfo=self.creation,
                simplelicensing_licenseExpression=spdx_id,
            )
        )

    def license_for(self, info: LicenseInfo) -> Any:
        if info.spdx_id is not None:
            return self.license_element(info.spdx_id)
        custom = self.spdx.expandedlicensing_CustomLicense(
            _id=self.base + f"license/{info.ref}",
            name=info.name,
            creationInfo=self.creation,
            simplelicensing_licenseText=info.text,
            comment="The license as the model declares it; it is not on the SPDX License List.",
        )
        url = facts.web_uri(info.url)
        if url:
            custom.expandedlicensing_seeAlso.append(url)
        return self.add(custom)

    def relate(self, source: Any, kind: Any, targets: list[Any], key: str) -> None:
        self.add(
            self.spdx.Relationship(
                _id=self.base + f"relationship/{key}",
                creationInfo=self.creation,
                from_=source,
                relationshipType=kind,
                to=targets,
            )
        )

    def annotate(self, subject_id: str, finding: Finding) -> None:
        self._annotations += 1
        text = warning_text(finding)
        if finding.file:
            text += f"\nfile: {finding.file}"
        if finding.remedy:
            text += f"\nremedy: {finding.remedy}"
        self.add(
            self.spdx.Annotation(
                _id=self.base + f"annotation/{self._annotations}",
                creationInfo=self.creation,
                annotationType=self.spdx.AnnotationType.review,
                subject=subject_id,
                statement=text,
            )
        )
