"""The gate commands' exit codes: 0 pass, 1 gate failure, 2 usage error, 3 unreadable input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from lbom._cli import main
from tests.builders import write_gguf
from tests.gate.fixtures import flip_byte


def run(*args: str) -> int:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    code = info.value.code
    return code if isinstance(code, int) else 0


def test_lock_then_verify(folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lock = tmp_path / "models.lock"
    assert run("lock", str(folder), "-o", str(lock)) == 0
    assert lock.read_text().startswith("# l-bom lock file")
    assert run("verify", str(folder), "--lock", str(lock)) == 0
    assert "OK:" in capsys.readouterr().out
    flip_byte(folder / "tiny-Q4_K_M.gguf")
    os.remove(folder / "sharded" / "model-00001-of-00003.safetensors")
    assert run("verify", str(folder), "--lock", str(lock)) == 1
    out = capsys.readouterr().out
    assert "changed: tiny-Q4_K_M.gguf" in out
    assert "missing: sharded/model-00001-of-00003.safetensors" in out
    assert "FAILED" in out
    assert run("verify", str(folder), "--lock", str(lock), "--format", "json") == 1
    assert json.loads(capsys.readouterr().out)["ok"] is False


def test_verify_usage_and_input_errors(folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.lock"
    bad.write_text("lock_version = 1\n[[modles]]\n")
    assert run("verify", str(folder), "--lock", str(bad)) == 2
    assert "modles" in capsys.readouterr().err
    assert run("verify", str(folder), "--lock", str(tmp_path / "missing.lock")) == 3
    assert run("verify", str(tmp_path / "nowhere"), "--lock", str(bad)) == 3
    assert run("verify", str(folder), "--lock", str(bad), "--sha256sums", str(bad)) == 2
    assert run("verify", str(folder), str(folder), "--lock", str(bad)) == 2


def test_verify_sha256sums(folder: Path, tmp_path: Path) -> None:
    import hashlib

    target = folder / "tiny-Q4_K_M.gguf"
    sums = tmp_path / "SHA256SUMS"
    sums.write_text(f"{hashlib.sha256(target.read_bytes()).hexdigest()} *tiny-Q4_K_M.gguf\n")
    assert run("verify", str(target), "--sha256sums", str(sums)) == 0
    flip_byte(target, 100)
    assert run("verify", str(target), "--sha256sums", str(sums)) == 1


def test_lock_of_empty_folder_is_usage_error(tmp_path: Path) -> None:
    assert run("lock", str(tmp_path)) == 2


def test_diff_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_gguf(tmp_path / "m.gguf")
    a, b = tmp_path / "a.lock", tmp_path / "b.lock"
    assert run("lock", str(tmp_path / "m.gguf"), "-o", str(a)) == 0
    assert run("diff", str(a), str(a)) == 0
    write_gguf(tmp_path / "m.gguf", file_type=7)
    assert run("lock", str(tmp_path / "m.gguf"), "-o", str(b)) == 0
    capsys.readouterr()
    assert run("diff", str(a), str(b), "--format", "markdown") == 1
    assert "| changed | m.gguf | quantization | Q4\\_K\\_M | Q8\\_0 |" in capsys.readouterr().out
    assert run("diff", str(a), str(tmp_path / "missing.json")) == 3


def test_check_exit_codes(folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text("[formats]\nallow = ['gguf', 'safetensors']\n[licenses]\nallow = ['apache-2.0', 'mit']\n")
    assert run("check", str(folder), "--policy", str(policy)) == 0
    assert "PASSED" in capsys.readouterr().out
    policy.write_text("[formats]\ndeny = ['safetensors']\n")
    assert run("check", str(folder), "--policy", str(policy)) == 1
    assert "FAIL LBOM-POLICY-001" in capsys.readouterr().out
    assert run("check", str(folder), "--policy", str(policy), "--format", "sarif") == 1
    assert json.loads(capsys.readouterr().out)["version"] == "2.1.0"
    assert run("check", str(folder), "--policy", str(policy), "--format", "json") == 1
    assert json.loads(capsys.readouterr().out)["passed"] is False


@pytest.mark.parametrize("text", ["", "[licences]\nallow = ['mit']\n", "[findings]\nfail_on = 'severe'\n"])
def test_check_policy_typos_exit_2(folder: Path, tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(text)
    assert run("check", str(folder), "--policy", str(policy)) == 2
    assert "policy.toml" in capsys.readouterr().err


def test_check_needs_a_policy(folder: Path, tmp_path: Path) -> None:
    assert run("check", str(folder)) == 2
    assert run("check", str(folder), "--policy", str(tmp_path / "missing.toml")) == 3


def test_scan_sarif_and_fail_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_gguf(tmp_path / "m.gguf", extra={"tokenizer.chat_template": "{{ ''.__class__ }}"})
    assert run("scan", str(tmp_path), "--format", "sarif", "--fail-on", "critical") == 1
    document = json.loads(capsys.readouterr().out)
    assert any(r["ruleId"] == "LBOM-TPL-002" for r in document["runs"][0]["results"])


def test_rules_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("rules") == 0
    assert "LBOM-TPL-002     critical Chat template reaches for Python internals" in capsys.readouterr().out
    assert run("rules", "LBOM-LIC-002", "--format", "json") == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["rule_id"], row["severity"]) == ("LBOM-LIC-002", "medium")
    assert run("rules", "--format", "markdown") == 0
    assert "| `LBOM-NAME-001` | medium |" in capsys.readouterr().out
    assert run("rules", "LBOM-NOPE-001") == 2
