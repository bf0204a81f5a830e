"""Policies: the documented tables work as written; typos and empty policies fail loudly; overrides apply."""

from __future__ import annotations

from pathlib import Path

import pytest

import lbom
from lbom._policy import R_FORMAT, R_LICENSE, R_REQUIRED, parse_policy
from lbom.errors import UsageError
from tests.builders import write_gguf
from tests.gate.fixtures import make_model_folder

ISSUE_EXAMPLE = """
[formats]
deny = ["pickle"]            # or allow = ["gguf", "safetensors"]
[licenses]
allow = ["apache-2.0", "mit", "llama3.1"]   # or deny = [...]
[findings]
fail_on = "high"             # minimum severity that fails
ignore = [{ rule = "LBOM-NAME-001", reason = "vendor naming" }]
[require]
fields = ["sha256", "license"]
"""


def test_the_documented_example_parses() -> None:
    policy = parse_policy(ISSUE_EXAMPLE)
    assert policy.base.formats_deny == ("pickle",)
    assert policy.base.licenses_allow == ("apache-2.0", "mit", "licenseref-llama3.1")
    assert policy.base.fail_on == lbom.Severity.HIGH
    assert policy.base.ignore[0].rule == "LBOM-NAME-001"
    assert policy.base.ignore[0].reason == "vendor naming"
    assert policy.base.require_fields == ("sha256", "license")


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "empty"),
        ("# only a comment\n", "empty"),
        ("[format]\ndeny = ['pickle']\n", "unknown table 'format' \\(did you mean 'formats'\\?\\)"),
        ("[formats]\ndenny = ['pickle']\n", "unknown key 'denny'"),
        ("[formats]\ndeny = ['pickel']\n", "unknown format 'pickel'"),
        ("[formats]\ndeny = 'pickle'\n", "list of strings"),
        ("[formats]\n", "empty"),
        ("[findings]\nfail_on = 'hgih'\n", "not a severity"),
        ("[findings]\nfailon = 'high'\n", "unknown key 'failon'"),
        ("[findings]\nignore = [{ rule = 'LBOM-NAME-001' }]\n", "needs a reason"),
        ("[findings]\nignore = [{ rule = 'LBOM-NAME-001', reason = '  ' }]\n", "needs a reason"),
        ("[findings]\nignore = [{ rule = 'LBOM-NAME-01', reason = 'x' }]\n", "unknown rule id"),
        ("[findings]\nignore = [{ rule = 'LBOM-NAME-001', reasn = 'x' }]\n", "unknown key 'reasn'"),
        ("[require]\nfields = ['sha265']\n", "unknown field 'sha265'"),
        ("[licenses]\nallow = ['mit']\ndeny = ['MIT']\n", "both allowed and denied"),
        ("[[overrides]]\nformats = { allow = ['gguf'] }\n", "paths is required"),
        ("[[overrides]]\npaths = ['x/*']\n", "sets nothing"),
        ("[[overrides]]\npaths = ['x/*']\nfindings = { fail_on = 'high', ignor = [] }\n", "unknown key 'ignor'"),
        ("[formats\n", "not valid TOML"),
    ],
)
def test_typos_and_empty_policies_fail_loudly(text: str, needle: str) -> None:
    with pytest.raises(UsageError, match=needle):
        parse_policy(text, "policy.toml")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return make_model_folder(tmp_path / "models")


def check(folder: Path, text: str) -> lbom.CheckResult:
    return lbom.check(folder, parse_policy(text))


def test_issue_example_on_a_clean_folder_passes(folder: Path) -> None:
    result = check(folder, ISSUE_EXAMPLE)
    assert result.passed, result.failures
    assert result.models_checked >= 2


def test_denied_and_unlisted_formats(folder: Path) -> None:
    result = check(folder, "[formats]\ndeny = ['gguf']\n")
    assert [(f.rule_id, f.file) for f in result.violations] == [(R_FORMAT, str(folder / "tiny-Q4_K_M.gguf"))]
    result = check(folder, "[formats]\nallow = ['gguf']\n")
    assert {f.rule_id for f in result.violations} == {R_FORMAT}
    assert all(f.file and f.file.startswith(str(folder / "sharded")) for f in result.violations)


def test_pickle_names_every_pickle_format() -> None:
    from lbom._policy import _format_matches

    assert _format_matches("pytorch", "pickle")
    assert _format_matches("pickle", "pickle")
    assert not _format_matches("gguf", "pickle")


def test_license_allow_and_deny(folder: Path) -> None:
    result = check(folder, "[licenses]\nallow = ['Apache-2.0']\n")
    assert result.violations
    assert {f.rule_id for f in result.violations} == {R_LICENSE}
    assert all(
        "'mit'" in f.message and f.file and f.file.startswith(str(folder / "sharded")) for f in result.violations
    )
    assert check(folder, "[licenses]\ndeny = ['MIT']\n").violations[0].rule_id == R_LICENSE
    assert check(folder, "[licenses]\nallow = ['apache-2.0', 'mit']\n").passed


def test_model_without_license_fails_an_allow_list(tmp_path: Path) -> None:
    write_gguf(tmp_path / "m.gguf")
    result = check(tmp_path, "[licenses]\nallow = ['mit']\n")
    assert "no license" in result.violations[0].message


def test_required_fields(folder: Path) -> None:
    policy = parse_policy("[require]\nfields = ['sha256', 'quantization']\n")
    unhashed = lbom.check(lbom.scan(folder, hash=False), policy)
    messages = sorted(f.message for f in unhashed.violations if f.rule_id == R_REQUIRED)
    assert "required field 'sha256' is missing" in messages
    # safetensors shards carry no quantization; the GGUF does
    assert any("quantization" in m for m in messages)
    hashed = lbom.check(lbom.scan(folder), policy)
    assert all("sha256" not in f.message for f in hashed.violations)


def test_fail_on_and_ignore_with_reason(tmp_path: Path) -> None:
    write_gguf(tmp_path / "llama-Q4_K_M.gguf", file_type=7)  # LBOM-NAME-001, medium
    failing = check(tmp_path, "[findings]\nfail_on = 'medium'\n")
    assert [f.rule_id for f in failing.failing_findings] == ["LBOM-NAME-001"]
    assert not failing.passed
    assert check(tmp_path, "[findings]\nfail_on = 'high'\n").passed
    ignored = check(
        tmp_path, "[findings]\nfail_on = 'medium'\nignore = [{ rule = 'LBOM-NAME-001', reason = 'vendor' }]\n"
    )
    assert ignored.passed
    assert [(i.finding.rule_id, i.reason) for i in ignored.ignored] == [("LBOM-NAME-001", "vendor")]


def test_ignore_limited_to_paths(tmp_path: Path) -> None:
    (tmp_path / "vendor").mkdir()
    write_gguf(tmp_path / "vendor" / "llama-Q4_K_M.gguf", file_type=7)
    write_gguf(tmp_path / "ours-Q4_K_M.gguf", file_type=7)
    text = (
        "[findings]\nfail_on = 'medium'\n"
        "ignore = [{ rule = 'LBOM-NAME-001', reason = 'theirs', paths = ['vendor/*'] }]\n"
    )
    result = check(tmp_path, text)
    assert [f.file for f in result.failing_findings] == [str(tmp_path / "ours-Q4_K_M.gguf")]


def test_per_path_overrides(folder: Path) -> None:
    text = """
[formats]
allow = ["gguf"]
[licenses]
allow = ["apache-2.0"]

[[overrides]]
paths = ["sharded/*"]
formats = { allow = ["gguf", "safetensors"] }
licenses = { allow = ["mit"] }
"""
    assert check(folder, text).passed
    without = text.split("[[overrides]]")[0]
    assert not check(folder, without).passed


def test_load_policy_from_file(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(ISSUE_EXAMPLE, encoding="utf-8")
    assert lbom.load_policy(path).source == str(path)
    with pytest.raises(lbom.Error) as info:
        lbom.load_policy(tmp_path / "missing.toml")
    assert info.value.exit_code == 3
