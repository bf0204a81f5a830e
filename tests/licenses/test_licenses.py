"""License normalisation: Hub / GGUF license strings to SPDX ids or deterministic LicenseRefs."""

from __future__ import annotations

import re

import pytest

from lbom._licenses import LicenseInfo, license_ref, model_license, normalize_license, spdx_id_for
from lbom._spdx_license_ids import SPDX_LICENSE_IDS
from lbom.model import FileEntry, ModelArtifact, ModelHeader

REF_SYNTAX = re.compile(r"^LicenseRef-[A-Za-z0-9.\-]+$")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("apache-2.0", "Apache-2.0"),
        ("Apache-2.0", "Apache-2.0"),
        ("  MIT ", "MIT"),
        ("mit", "MIT"),
        ("cc-by-nc-4.0", "CC-BY-NC-4.0"),
        ("cc-by-4.0", "CC-BY-4.0"),
        ("bsd-3-clause", "BSD-3-Clause"),
        ("gpl-3.0", "GPL-3.0"),
        ("cc0-1.0", "CC0-1.0"),
        ("odbl", "ODbL-1.0"),
        ("postgresql", "PostgreSQL"),
    ],
)
def test_spdx_ids_are_case_normalised(text: str, expected: str) -> None:
    info = normalize_license(text)
    assert info is not None
    assert info.spdx_id == expected
    assert info.is_spdx
    assert info.ref == expected
    assert info.name == expected


@pytest.mark.parametrize(
    "text", ["llama3.1", "llama3", "llama2", "gemma", "openrail", "openrail++", "bigscience-openrail-m", "other"]
)
def test_model_family_licenses_are_named_refs(text: str) -> None:
    info = normalize_license(text)
    assert info is not None
    assert info.spdx_id is None
    assert not info.is_spdx
    assert info.name == text
    assert REF_SYNTAX.match(info.ref), info.ref
    assert info.ref.startswith("LicenseRef-")


def test_plain_ref_keeps_the_text() -> None:
    assert normalize_license("llama3.1") == LicenseInfo("llama3.1", None, "llama3.1", "LicenseRef-llama3.1")


@pytest.mark.parametrize("text", [None, "", "  ", "unknown", "NOASSERTION", "none"])
def test_nothing_declared_is_none(text: str | None) -> None:
    assert normalize_license(text) is None


def test_other_defers_to_license_name() -> None:
    info = normalize_license("other", name="Acme Model License v2", url="https://acme.example/license")
    assert info is not None
    assert info.name == "Acme Model License v2"
    assert info.spdx_id is None
    assert info.url == "https://acme.example/license"
    assert REF_SYNTAX.match(info.ref)
    assert normalize_license("other", name="apache-2.0") == LicenseInfo(
        "apache-2.0", "Apache-2.0", "Apache-2.0", "Apache-2.0"
    )


def test_refs_never_collide_when_characters_are_mapped() -> None:
    refs = {license_ref(t) for t in ["my license", "my_license", "my-license", "my/license", "my  license"]}
    assert len(refs) == 5
    assert all(REF_SYNTAX.match(r) for r in refs)
    assert license_ref("my license") == license_ref("my license")  # deterministic


def test_hostile_license_text_gives_a_valid_short_ref_and_name() -> None:
    text = "Line one of a license\n" + "x" * 10_000 + "\x1b[31m"
    info = normalize_license(text)
    assert info is not None
    assert REF_SYNTAX.match(info.ref)
    assert len(info.ref) < 100
    assert "\n" not in info.name
    assert len(info.name) <= 122
    assert info.text == text.strip()
    only_symbols = normalize_license("@@@")
    assert only_symbols is not None and REF_SYNTAX.match(only_symbols.ref)


def test_existing_licenseref_is_not_doubled() -> None:
    assert license_ref("LicenseRef-acme") == "LicenseRef-acme"


def test_expressions_are_not_split() -> None:
    info = normalize_license("MIT OR Apache-2.0")
    assert info is not None and info.spdx_id is None and info.name == "MIT OR Apache-2.0"


def test_table_holds_licenses_not_exceptions() -> None:
    assert {"MIT", "Apache-2.0", "CC-BY-NC-4.0", "GPL-3.0-only"} <= SPDX_LICENSE_IDS
    assert "Classpath-exception-2.0" not in SPDX_LICENSE_IDS
    assert spdx_id_for("classpath-exception-2.0") is None


def test_table_agrees_with_the_reference_libraries() -> None:
    """Every id we call SPDX is on CycloneDX's copy of the SPDX list and accepted by spdx-tools."""
    import json
    from importlib import resources

    from spdx_tools.common.spdx_licensing import spdx_licensing

    schema = json.loads(
        resources.files("cyclonedx.schema._res").joinpath("spdx.SNAPSHOT.schema.json").read_text(encoding="utf-8")
    )
    assert set(SPDX_LICENSE_IDS) <= set(schema["enum"])
    rejected = [i for i in sorted(SPDX_LICENSE_IDS) if spdx_licensing.validate(i).invalid_symbols]
    assert rejected == []
    assert len(SPDX_LICENSE_IDS) > 600


def test_model_license_uses_card_name_and_gguf_link() -> None:
    header = ModelHeader(format="gguf", license="other", license_link="https://example.com/l")
    entry = FileEntry(path="m.gguf", relative_path="m.gguf", size=1, header=header)
    model = ModelArtifact(name="m", path="m.gguf", format="gguf", files=(entry,), license="other", license_name="acme")
    info = model_license(model)
    assert info is not None
    assert (info.name, info.url, info.is_spdx) == ("acme", "https://example.com/l", False)
    bare = ModelArtifact(name="m", path="m.gguf", format="gguf", files=(entry,))
    assert model_license(bare) is None
