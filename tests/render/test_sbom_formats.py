"""CycloneDX 1.6, SPDX 2.3 (tag-value and JSON) and SPDX 3.0.1 documents: goldens, validity, determinism, ids."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

import lbom
from lbom.model import FileDigest, ScanResult
from tests.render import scenarios
from tests.render.sbom_checks import load_spdx3, validate_cyclonedx, validate_spdx2

SBOM_FORMATS = ("cyclonedx", "spdx", "spdx-json", "spdx3")
GOLDEN_SUFFIX = {"cyclonedx": "cdx.json", "spdx": "spdx", "spdx-json": "spdx.json", "spdx3": "spdx3.json"}


def check_valid(fmt: str, text: str, tmp_path: Path) -> None:
    if fmt == "cyclonedx":
        validate_cyclonedx(text)
    elif fmt == "spdx":
        validate_spdx2(text, tmp_path, ".spdx")
    elif fmt == "spdx-json":
        validate_spdx2(text, tmp_path, ".spdx.json")
    else:
        load_spdx3(text)


@pytest.fixture(scope="module")
def examples_scan() -> ScanResult:
    import os

    from tests.conftest import ROOT

    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        os.environ["SOURCE_DATE_EPOCH"] = "1767225600"
        return lbom.scan("examples/models")
    finally:
        os.chdir(cwd)


@pytest.mark.parametrize("fmt", SBOM_FORMATS)
def test_examples_golden_and_valid(
    fmt: str, examples_scan: ScanResult, golden: Callable[[str, str], None], tmp_path: Path
) -> None:
    text = lbom.render(examples_scan, fmt)
    check_valid(fmt, text, tmp_path)
    golden(f"examples.{GOLDEN_SUFFIX[fmt]}", text)


@pytest.mark.parametrize("fmt", SBOM_FORMATS)
def test_edge_cases_golden_and_valid(fmt: str, golden: Callable[[str, str], None], tmp_path: Path) -> None:
    text = lbom.render(scenarios.edge_result(), fmt)
    check_valid(fmt, text, tmp_path)
    golden(f"edge.{GOLDEN_SUFFIX[fmt]}", text)


@pytest.mark.parametrize("fmt", SBOM_FORMATS)
def test_hostile_names_stay_valid(fmt: str, tmp_path: Path) -> None:
    text = lbom.render(scenarios.result(scenarios.hostile_model(), scenarios.bare_model()), fmt)
    check_valid(fmt, text, tmp_path)
    assert "\x1b" not in text and "\x00" not in text


@pytest.mark.parametrize("fmt", SBOM_FORMATS)
def test_missing_fields_never_become_none_strings(fmt: str, tmp_path: Path) -> None:
    text = lbom.render(scenarios.result(scenarios.bare_model()), fmt)
    check_valid(fmt, text, tmp_path)
    assert not re.search(r"\bNone\b|\bnull\b", text)
    assert '""' not in text


@pytest.mark.parametrize("fmt", SBOM_FORMATS)
def test_output_is_deterministic_and_content_derived(fmt: str) -> None:
    first = lbom.render(scenarios.edge_result(), fmt)
    assert lbom.render(scenarios.edge_result(), fmt) == first
    changed_model = dataclasses.replace(
        scenarios.warned_model(),
        files=(dataclasses.replace(scenarios.warned_model().files[0], digests=(FileDigest("sha256", "0" * 64),)),),
    )
    other = lbom.render(scenarios.result(changed_model), fmt)
    original = lbom.render(scenarios.result(scenarios.warned_model()), fmt)
    assert _document_id(fmt, other) != _document_id(fmt, original)


def _document_id(fmt: str, text: str) -> str:
    if fmt == "cyclonedx":
        return str(json.loads(text)["serialNumber"])
    if fmt == "spdx":
        match = re.search(r"^DocumentNamespace: (\S+)$", text, re.M)
        assert match
        return match.group(1)
    if fmt == "spdx-json":
        return str(json.loads(text)["documentNamespace"])
    match = re.search(r'"spdxId": "(https://l-bom.dev/spdx3/[^/]+)/document"', text)
    assert match
    return match.group(1)


def test_timestamps_follow_source_date_epoch(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from tests.conftest import EXAMPLES

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    result = lbom.scan(str(EXAMPLES / "tinyllama-q4_k_m.gguf"))
    assert json.loads(lbom.render(result, "cyclonedx"))["metadata"]["timestamp"] == "2023-11-14T22:13:20+00:00"
    assert "Created: 2023-11-14T22:13:20Z" in lbom.render(result, "spdx")
    assert '"created": "2023-11-14T22:13:20Z"' in lbom.render(result, "spdx3")


def test_cyclonedx_model_component_mapping() -> None:
    bom = validate_cyclonedx(lbom.render(scenarios.edge_result(), "cyclonedx"))
    assert bom["specVersion"] == "1.6"
    assert bom["serialNumber"].startswith("urn:uuid:")
    assert bom["metadata"]["tools"]["components"] == [{"name": "l-bom", "type": "application", "version": "0.3.0"}]
    assert {"name": "lbom:finding", "value": "LBOM-SCAN-001 (low): skipped: not a regular file (FIFO)"} in bom[
        "metadata"
    ]["properties"]
    by_name = {c["name"]: c for c in bom["components"]}
    sharded = by_name["Llama-3.1-8B-Instruct"]
    assert sharded["type"] == "machine-learning-model"
    assert sharded["version"] == "0e9e39f249a16976918f6564b8830bc894c89659"
    assert sharded["purl"].startswith("pkg:huggingface/meta-llama/Llama-3.1-8B-Instruct@")
    assert "hashes" not in sharded
    files = sharded["components"]
    assert [f["name"] for f in files] == [f"llama/model-0000{i}-of-00003.safetensors" for i in (1, 2, 3)]
    assert all(f["type"] == "file" and f["hashes"][0]["alg"] == "SHA-256" for f in files)
    assert len({f["hashes"][0]["content"] for f in files}) == 3
    assert sharded["licenses"] == [{"license": {"name": "llama3.1"}}]
    assert sharded["pedigree"]["ancestors"][0]["name"] == "meta-llama/Llama-3.1-8B"
    card = sharded["modelCard"]
    assert card["modelParameters"] == {"task": "text-generation", "modelArchitecture": "LlamaForCausalLM"}
    card_props = {p["name"]: p["value"] for p in card["properties"]}
    assert card_props["cdx:ai-ml:model:parameter:count"] == "8030261248"
    assert card_props["cdx:ai-ml:model:hyperparameter:context_length"] == "131072"
    assert card_props["cdx:ai-ml:model:hyperparameter:vocab_size"] == "128256"
    assert card_props["cdx:ai-ml:model:languages"] == "en,de"
    assert card_props["cdx:ai-ml:model:template:chat"].startswith("sha256:")
    warned = by_name["Quantized Thing"]
    assert warned["licenses"] == [{"license": {"name": "Acme Research License v2"}}]
    assert "task" not in warned["modelCard"]["modelParameters"]  # not declared: not guessed
    card_props = {p["name"]: p["value"] for p in warned["modelCard"]["properties"]}
    assert card_props["cdx:ai-ml:model:hyperparameter:quantization"] == "Q4_K_M"
    lbom_props = [(p["name"], p["value"]) for p in warned["properties"]]
    assert ("lbom:format", "gguf") in lbom_props
    assert ("lbom:dtype", "mixed") in lbom_props
    assert ("lbom:tensor_type:Q4_K", '{"parameters": 400000000, "tensors": 168}') in lbom_props
    assert sum(1 for name, _ in lbom_props if name == "lbom:finding") == 2
    nc = [c for c in bom["components"] if c["name"] == "model.safetensors"]
    assert len(nc) == 2 and nc[0]["bom-ref"] != nc[1]["bom-ref"]
    assert nc[0]["licenses"] == [{"license": {"id": "CC-BY-NC-4.0"}}]
    bare = next(c for c in bom["components"] if c["name"] == "bare.gguf")
    assert "hashes" not in bare and "licenses" not in bare and "modelCard" not in bare


def test_spdx2_mapping(tmp_path: Path) -> None:
    from spdx_tools.spdx.model.relationship import RelationshipType

    text = lbom.render(scenarios.edge_result(), "spdx")
    document = validate_spdx2(text, tmp_path, ".spdx")
    info = document.creation_info
    assert info.document_namespace.startswith("https://l-bom.dev/spdxdocs/")
    assert [str(c) for c in info.creators] == ["Tool: l-bom-0.3.0"]
    packages = {p.spdx_id: p for p in document.packages}
    ids = list(packages)
    assert all(re.fullmatch(r"SPDXRef-[A-Za-z0-9.\-]+", i) for i in ids)
    described = [
        r.related_spdx_element_id for r in document.relationships if r.relationship_type == RelationshipType.DESCRIBES
    ]
    assert len(described) == 5 == len(set(described))
    contains = [r for r in document.relationships if r.relationship_type == RelationshipType.CONTAINS]
    assert len(contains) == 3
    assert all(len(packages[r.related_spdx_element_id].checksums) == 1 for r in contains)
    assert any(r.relationship_type == RelationshipType.DESCENDANT_OF for r in document.relationships)
    refs = {e.license_id: e for e in document.extracted_licensing_info}
    assert set(refs) == {"LicenseRef-llama3.1", "LicenseRef-Acme-Research-License-v2-22b97d65"}
    assert refs["LicenseRef-Acme-Research-License-v2-22b97d65"].license_name == "Acme Research License v2"
    assert len(document.annotations) == 3  # two model findings + one scan finding
    for package in document.packages:
        for checksum in package.checksums:
            assert checksum.value == checksum.value.lower()
    assert "PackageDownloadLocation: NOASSERTION" in text
    assert "FilesAnalyzed: false" in text and "FilesAnalyzed: true" not in text


def test_spdx_json_is_the_same_document_as_tag_value(tmp_path: Path) -> None:
    tag_value = validate_spdx2(lbom.render(scenarios.edge_result(), "spdx"), tmp_path, ".spdx")
    as_json = validate_spdx2(lbom.render(scenarios.edge_result(), "spdx-json"), tmp_path, ".spdx.json")
    assert tag_value.creation_info.document_namespace == as_json.creation_info.document_namespace
    assert [p.spdx_id for p in tag_value.packages] == [p.spdx_id for p in as_json.packages]
    assert len(tag_value.relationships) == len(as_json.relationships)


def test_spdx3_ai_profile_mapping() -> None:
    from spdx_python_model import v3_0_1 as spdx

    objects = load_spdx3(lbom.render(scenarios.edge_result(), "spdx3"))
    packages = {p.name: p for p in objects.foreach_type(spdx.ai_AIPackage)}
    sharded = packages["Llama-3.1-8B-Instruct"]
    assert sharded.software_packageVersion == "0e9e39f249a16976918f6564b8830bc894c89659"
    assert sharded.software_downloadLocation == "https://huggingface.co/meta-llama/Llama-3.1-8B-Instruct"
    assert sharded.suppliedBy.name == "meta-llama"
    assert {(e.key, e.value) for e in sharded.ai_hyperparameter} == {
        ("context_length", "131072"),
        ("vocab_size", "128256"),
    }
    bare = packages["bare.gguf"]
    assert bare.software_downloadLocation == "NOASSERTION"
    assert bare.software_packageVersion == "NOASSERTION"
    assert bare.suppliedBy.name == "NOASSERTION"
    assert "release time is not recorded" in bare.comment
    assert list(bare.verifiedUsing) == []
    warned = packages["Quantized Thing"]
    assert warned.suppliedBy.name == "Acme Labs"
    assert [h.algorithm for h in warned.verifiedUsing] == [spdx.HashAlgorithm.sha256]
    relationships = list(objects.foreach_type(spdx.Relationship))
    kinds = sorted(r.relationshipType.rsplit("/", 1)[-1] for r in relationships)
    assert kinds.count("contains") == 1 and kinds.count("descendantOf") == 1
    contains = next(r for r in relationships if r.relationshipType == spdx.RelationshipType.contains)
    assert len(contains.to) == 3 and all(len(f.verifiedUsing) == 1 for f in contains.to)
    custom = {c.name for c in objects.foreach_type(spdx.expandedlicensing_CustomLicense)}
    assert custom == {"llama3.1", "Acme Research License v2"}
    statements = sorted(a.statement for a in objects.foreach_type(spdx.Annotation))
    assert len(statements) == 3 and any("LBOM-GGUF-007" in s for s in statements)


def test_same_file_name_in_two_folders_never_collides(tmp_path: Path) -> None:
    result = scenarios.result(
        scenarios.same_name_model("a"), scenarios.same_name_model("a b"), scenarios.same_name_model("a-b")
    )
    bom = validate_cyclonedx(lbom.render(result, "cyclonedx"))
    assert len({c["bom-ref"] for c in bom["components"]}) == 3
    document = validate_spdx2(lbom.render(result, "spdx"), tmp_path, ".spdx")
    assert len({p.spdx_id for p in document.packages}) == 3
    text = lbom.render(result, "spdx3")
    load_spdx3(text)
    assert len(set(re.findall(r'"spdxId": "([^"]+/model/[^"]+)"', text))) == 3


def test_sbom_documents_for_the_examples_have_one_model_each(examples_scan: ScanResult) -> None:
    bom = validate_cyclonedx(lbom.render(examples_scan, "cyclonedx"))
    assert sorted(c["name"] for c in bom["components"]) == ["TinyLlama Example Q4_K_M", "tiny-mistral"]
    expected = {m.name: m.files[0].sha256 for m in examples_scan.models}
    assert {c["name"]: c["hashes"][0]["content"] for c in bom["components"]} == expected


def test_digest_names_exist_in_each_library() -> None:
    from cyclonedx.model import HashAlgorithm as CdxHash
    from spdx_python_model import v3_0_1 as spdx
    from spdx_tools.spdx.model.checksum import ChecksumAlgorithm

    from lbom._render.sbom_facts import _DIGEST_NAMES

    for cdx_name, spdx2_name, spdx3_name in _DIGEST_NAMES.values():
        if cdx_name is not None:
            CdxHash(cdx_name)
        if spdx2_name is not None:
            ChecksumAlgorithm[spdx2_name]
        assert getattr(spdx.HashAlgorithm, spdx3_name)


@pytest.mark.parametrize("fmt", SBOM_FORMATS)
def test_several_digests_per_file(fmt: str, tmp_path: Path) -> None:
    entry = scenarios.warned_model().files[0]
    digests = (
        *entry.digests,
        FileDigest("sha512", "AB" * 64),
        FileDigest("blake3", "cd" * 32),
        FileDigest("xxh64", "1"),
    )
    model = dataclasses.replace(scenarios.warned_model(), files=(dataclasses.replace(entry, digests=digests),))
    text = lbom.render(scenarios.result(model), fmt)
    check_valid(fmt, text, tmp_path)
    assert "ab" * 64 in text and "xxh64" not in text.lower()
    assert ("cd" * 32 in text) == (fmt in ("cyclonedx", "spdx3"))  # BLAKE3: see sbom_facts._DIGEST_NAMES
