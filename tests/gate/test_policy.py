"""Policies: the documented tables work as written; typos and empty policies fail loudly; overrides apply."""

from __future__ import annotations

from pathlib import Path

import pytest

import lbom
from lbom._policy import R_FORMAT, R_LICENSE, R_REQUIRED, parse_policy
from lbom.errors import UsageError
from tests.builders import write_gguf

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


# --- the README's own policy example, verbatim -------------------------------------------------------------------


def readme_policy() -> str:
    """The TOML block of README.md's Policies section, exactly as documented."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Policies") :]
    start = section.index("```toml\n") + len("```toml\n")
    return section[start : section.index("```", start)]


def write_pickle_model(folder: Path, name: str) -> None:
    from tests.builders import torch_state_dict_pickle

    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(torch_state_dict_pickle([("w", "F32", (2, 2))]))
    (folder / "README.md").write_text("---\nlicense: mit\n---\n", encoding="utf-8")


def test_readme_override_allows_pickle_under_legacy_only(tmp_path: Path) -> None:
    text = readme_policy()
    assert 'paths = ["legacy/*"]' in text and 'deny = ["pickle"]' in text
    root = tmp_path / "models"
    write_pickle_model(root / "legacy", "ok.pkl")
    write_pickle_model(root / "current", "new.pkl")
    result = lbom.check(root, parse_policy(text, "README policy"))
    assert result.models_checked == 2
    failing = {(Path(f.file or "").relative_to(root).as_posix(), f.rule_id) for f in result.failures}
    assert failing == {("current/new.pkl", R_FORMAT)}, result.failures


def test_override_table_replaces_both_lists() -> None:
    policy = parse_policy(
        '[formats]\ndeny = ["pickle"]\n[licenses]\nallow = ["mit"]\ndeny = ["gpl-3.0"]\n'
        '[[overrides]]\npaths = ["a/*"]\nformats = { allow = ["pickle"] }\n'
        '[[overrides]]\npaths = ["b/*"]\nlicenses = { deny = ["agpl-3.0"] }\n'
    )
    a = policy.rules_for("a/x.pkl")
    assert (a.formats_allow, a.formats_deny) == (("pickle",), ())
    assert (a.licenses_allow, a.licenses_deny) == (("mit",), ("gpl-3.0",))  # untouched table stays
    b = policy.rules_for("b/x.gguf")
    assert (b.licenses_allow, b.licenses_deny) == (None, ("agpl-3.0",))
    assert policy.rules_for("c/x.pkl") == policy.base


# --- license ids must be ones l-bom recognises --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            '["MIT-license", "apache2"]',
            "policy.toml: licenses.deny: unknown license 'MIT-license' (did you mean 'MIT'?)",
        ),
        ('["apache2"]', "policy.toml: licenses.deny: unknown license 'apache2' (did you mean 'Apache-2.0'?)"),
        ('["MIT OR apache2"]', "unknown license 'apache2' (did you mean 'Apache-2.0'?)"),
        ('["MIT OR"]', "unknown license 'MIT OR'"),
        ('["gema"]', "(did you mean 'gemma'?)"),
        ('["my own terms"]', "unknown license 'my own terms'; use an SPDX"),
    ],
)
def test_unknown_license_ids_fail_loudly(values: str, message: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_policy(f"[licenses]\ndeny = {values}\n", "policy.toml")
    text = info.value.diagnostics()
    assert message in text
    assert "\n" not in text


@pytest.mark.parametrize(
    "value",
    [
        "mit",
        "Apache-2.0",
        "MIT OR Apache-2.0",
        "GPL-2.0-only WITH Classpath-exception-2.0",
        "llama3.1",
        "gemma",
        "other",
        "LicenseRef-acme-internal",
        "Apache-2.0 OR LicenseRef-acme",
    ],
)
def test_known_license_ids_and_explicit_refs_pass(value: str) -> None:
    assert parse_policy(f'[licenses]\nallow = ["{value}"]\n').base.licenses_allow


def test_a_typo_in_a_license_fails_the_cli_with_exit_2(
    tmp_path: Path, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from lbom._cli import main

    policy = tmp_path / "policy.toml"
    policy.write_text('[licenses]\ndeny = ["MIT-license", "apache2"]\n', encoding="utf-8")
    with pytest.raises(SystemExit) as info:
        main(["check", str(folder), "--policy", str(policy)])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert str(policy) in err[0] and "'MIT-license'" in err[0] and "did you mean 'MIT'" in err[0]
