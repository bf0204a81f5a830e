"""SPDX 2.3 tag-value: one document for the whole scan, one package per logical model.

The document is built with spdx-tools' model (imported only here) and written by its tag-value writer; the
``spdx-json`` renderer writes the very same document as JSON. Mapping:

- document: ``DocumentNamespace`` ``https://l-bom.dev/spdxdocs/<uuid>`` with a UUID derived from the scan's content,
  ``Creator: Tool: l-bom-<version>``, ``Created`` from the scan time (``SOURCE_DATE_EPOCH``);
- per model a package ``SPDXRef-Model-<path fragment>``, described by the document: name, version and download
  location when the source knows them (else ``NOASSERTION``), ``FilesAnalyzed: false``, SHA-256 checksum for a
  single file, declared license (SPDX id, or a ``LicenseRef-`` with an extracted-licensing block), summary and a
  comment listing the model facts;
- multi-file models: one package per file (``SPDXRef-File-<path fragment>``, purpose FILE, its own checksums),
  related by ``CONTAINS``;
- base models: a package each, related by ``DESCENDANT_OF``; findings: annotations on the model's package.

Text from model files is made safe for tag-value: single-line fields get control characters escaped, multi-line
fields cannot close their ``<text>`` block early.
"""

from __future__ import annotations

import io
from typing import Any

from lbom._ids import id_fragment
from lbom._licenses import LicenseInfo, model_license
from lbom._render import sbom_facts as facts
from lbom._render.interface import RenderOptions
from lbom._render.json import warning_text
from lbom._render.terminal import escape_control
from lbom.model import FileEntry, Finding, ModelArtifact, ScanResult

DOCUMENT_ID = "SPDXRef-DOCUMENT"


def model_spdx_id(model: ModelArtifact) -> str:
    return f"SPDXRef-Model-{facts.model_key(model)}"


def render(result: ScanResult, options: RenderOptions) -> str:
    from spdx_tools.spdx.writer.tagvalue.tagvalue_writer import write_document_to_stream

    out = io.StringIO()
    write_document_to_stream(build_document(result), out, validate=False)
    return out.getvalue()


def single_line(text: str) -> str:
    """A value for a single-line tag-value field: no line breaks or control characters, never empty."""
    return escape_control(text).strip() or "NOASSERTION"


def text_block(text: str) -> str:
    """A value for a ``<text>`` field: line breaks kept, other controls escaped, no early ``</text>``."""
    lines = [escape_control(line) for line in text.splitlines()]
    return "\n".join(lines).replace("</text>", "<\\/text>").replace("<text>", "<\\text>")


def build_document(result: ScanResult) -> Any:
    """The spdx-tools ``Document`` for a scan (shared by the tag-value and JSON renderers)."""
    from spdx_tools.spdx.model.actor import Actor, ActorType
    from spdx_tools.spdx.model.document import CreationInfo, Document
    from spdx_tools.spdx.model.relationship import Relationship, RelationshipType

    tool = Actor(ActorType.TOOL, f"{facts.TOOL_NAME}-{single_line(result.tool_version)}")
    created = facts.created_at(result).replace(tzinfo=None)
    roots = ", ".join(result.roots) if result.roots else "no paths"
    creation_info = CreationInfo(
        spdx_version="SPDX-2.3",
        spdx_id=DOCUMENT_ID,
        name=single_line(f"l-bom scan of {roots}"),
        document_namespace=f"{facts.LBOM_HOME}/spdxdocs/{facts.document_uuid(result, 'spdx-2.3')}",
        creators=[tool],
        created=created,
        creator_comment="Model facts read from file headers by l-bom; model files were never executed or loaded.",
    )
    builder = _Builder(tool, created)
    for model in result.models:
        builder.add_model(model)
        builder.relationships.append(Relationship(DOCUMENT_ID, RelationshipType.DESCRIBES, model_spdx_id(model)))
    for finding in result.findings:
        builder.annotate(DOCUMENT_ID, finding)
    return Document(
        creation_info=creation_info,
        packages=builder.packages,
        annotations=builder.annotations,
        relationships=builder.relationships,
        extracted_licensing_info=builder.licenses,
    )


class _Builder:
    """Collects packages, relationships, annotations and extracted licenses without duplicates."""

    def __init__(self, tool: Any, created: Any) -> None:
        self.tool = tool
        self.created = created
        self.packages: list[Any] = []
        self.relationships: list[Any] = []
        self.annotations: list[Any] = []
        self.licenses: list[Any] = []
        self._package_ids: set[str] = set()
        self._license_refs: set[str] = set()

    def add_model(self, model: ModelArtifact) -> None:
        from spdx_tools.spdx.model.actor import Actor, ActorType
        from spdx_tools.spdx.model.package import ExternalPackageRef, ExternalPackageRefCategory, Package
        from spdx_tools.spdx.model.relationship import Relationship, RelationshipType
        from spdx_tools.spdx.model.spdx_no_assertion import SpdxNoAssertion

        spdx_id = model_spdx_id(model)
        single = len(model.files) == 1
        supplier = facts.supplier(model)
        purl = model.source.purl if model.source is not None else None
        license_info = model_license(model)
        package = Package(
            spdx_id=spdx_id,
            name=single_line(facts.display_name(model)),
            download_location=facts.download_location(model) or SpdxNoAssertion(),
            version=_optional_line(facts.model_version(model)),
            file_name=single_line(model.path) if single else None,
            supplier=Actor(ActorType.ORGANIZATION, single_line(supplier)) if supplier else SpdxNoAssertion(),
            files_analyzed=False,
            checksums=_checksums(model.files[0]) if single else [],
            license_concluded=SpdxNoAssertion(),
            license_declared=self._license(license_info),
            copyright_text=SpdxNoAssertion(),
            summary=single_line(facts.summary(model)),
            comment=text_block(_facts_comment(model)),
            external_references=(
                [ExternalPackageRef(ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", single_line(purl))]
                if purl
                else []
            ),
        )
        self._add_package(package)
        if not single:
            for entry in model.files:
                file_id = f"SPDXRef-File-{facts.file_key(entry)}"
                self._add_package(_file_package(file_id, entry))
                self.relationships.append(Relationship(spdx_id, RelationshipType.CONTAINS, file_id))
        for base in model.base_models:
            base_key = id_fragment(f"{base.organization or ''}/{base.name}")
            base_id = f"SPDXRef-BaseModel-{base_key}"
            if base_id not in self._package_ids:
                self._add_package(
                    Package(
                        spdx_id=base_id,
                        name=single_line(base.name),
                        download_location=facts.web_uri(base.repo_url) or SpdxNoAssertion(),
                        supplier=(
                            Actor(ActorType.ORGANIZATION, single_line(base.organization))
                            if base.organization
                            else SpdxNoAssertion()
                        ),
                        files_analyzed=False,
                        license_concluded=SpdxNoAssertion(),
                        license_declared=SpdxNoAssertion(),
                        copyright_text=SpdxNoAssertion(),
                        comment="Base model named by the scanned model's metadata; not scanned itself.",
                    )
                )
            self.relationships.append(Relationship(spdx_id, RelationshipType.DESCENDANT_OF, base_id))
        for finding in model.findings:
            self.annotate(spdx_id, finding)

    def annotate(self, spdx_id: str, finding: Finding) -> None:
        from spdx_tools.spdx.model.annotation import Annotation, AnnotationType

        lines = [escape_control(warning_text(finding))]
        if finding.file:
            lines.append(f"file: {escape_control(finding.file)}")
        if finding.remedy:
            lines.append(f"remedy: {escape_control(finding.remedy)}")
        text = text_block("\n".join(lines))
        self.annotations.append(Annotation(spdx_id, AnnotationType.OTHER, self.tool, self.created, text))

    def _add_package(self, package: Any) -> None:
        if package.spdx_id not in self._package_ids:
            self._package_ids.add(package.spdx_id)
            self.packages.append(package)

    def _license(self, info: LicenseInfo | None) -> Any:
        from spdx_tools.common.spdx_licensing import spdx_licensing  # type: ignore[import-untyped]
        from spdx_tools.spdx.model.extracted_licensing_info import ExtractedLicensingInfo
        from spdx_tools.spdx.model.spdx_no_assertion import SpdxNoAssertion

        if info is None:
            return SpdxNoAssertion()
        if not info.is_spdx and info.ref not in self._license_refs:
            self._license_refs.add(info.ref)
            self.licenses.append(
                ExtractedLicensingInfo(
                    license_id=info.ref,
                    extracted_text=text_block(info.text),
                    license_name=single_line(info.name),
                    cross_references=[url] if (url := facts.web_uri(info.url)) else [],
                    comment="The license as the model declares it; it is not on the SPDX License List.",
                )
            )
        return spdx_licensing.parse(info.ref)


def _file_package(file_id: str, entry: FileEntry) -> Any:
    from spdx_tools.spdx.model.package import Package, PackagePurpose
    from spdx_tools.spdx.model.spdx_no_assertion import SpdxNoAssertion

    return Package(
        spdx_id=file_id,
        name=single_line(entry.relative_path),
        download_location=SpdxNoAssertion(),
        file_name=single_line(entry.path),
        files_analyzed=False,
        checksums=_checksums(entry),
        license_concluded=SpdxNoAssertion(),
        license_declared=SpdxNoAssertion(),
        copyright_text=SpdxNoAssertion(),
        primary_package_purpose=PackagePurpose.FILE,
        comment=single_line(f"{entry.role} file, {entry.size} bytes" + (f", {entry.format}" if entry.format else "")),
    )


def _checksums(entry: FileEntry) -> list[Any]:
    from spdx_tools.spdx.model.checksum import Checksum, ChecksumAlgorithm

    return [Checksum(ChecksumAlgorithm[name], hex_digest) for name, hex_digest in facts.digests(entry, "spdx2")]


def _optional_line(text: str | None) -> str | None:
    return single_line(text) if text else None


def _facts_comment(model: ModelArtifact) -> str:
    """One ``key: value`` line per fact; each value escaped to one line, so a value cannot fake a fact."""
    lines = [f"{fact.key}: {fact.value}" for fact in facts.descriptive_facts(model)]
    lines.extend(f"{fact.key}: {fact.value}" for fact in facts.hyperparameters(model))
    task = facts.task(model)
    if task:
        lines.append(f"task: {task}")
    for stat in model.tensor_types:
        lines.append(f"tensor_type {stat.type_name}: {stat.tensor_count} tensors, {stat.parameter_count} parameters")
    for template in model.chat_templates:
        lines.append(f"chat_template {template.name} ({template.source}): sha256 {template.sha256}")
    lines.append(f"path: {model.path}")
    return "\n".join(escape_control(line) for line in lines)
