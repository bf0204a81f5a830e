"""The pre-commit hooks and the README's CI examples call commands and options that exist."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from lbom._cli import COMMANDS

ROOT = Path(__file__).resolve().parents[2]


def test_pre_commit_hooks_name_real_commands() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert {hook["id"] for hook in hooks} == {"l-bom-verify", "l-bom-check"}
    for hook in hooks:
        program, command = hook["entry"].split()
        assert program == "l-bom"
        assert command in COMMANDS
        assert hook["pass_filenames"] is False
        assert hook["language"] == "python"
        assert re.compile(hook["files"]).search("models/llama-Q4_K_M.gguf")


def test_readme_gate_section_uses_real_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Gating models in CI", 1)[1].split("\n## ", 1)[0]
    code = re.findall(r"```.*?```", section, flags=re.S) + re.findall(r"`[^`\n]+`", section)
    used = {command for snippet in code for command in re.findall(r"\bl-bom ([a-z]+)\b", snippet)}
    assert {"lock", "verify", "diff", "check", "scan", "rules"} <= used
    assert used <= set(COMMANDS)
    assert "github/codeql-action/upload-sarif" in section
    assert "gitlab" in section.lower()
