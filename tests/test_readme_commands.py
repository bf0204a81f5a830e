"""README.md opens with exactly two set-up commands, and .ci/run runs the second one verbatim."""

from __future__ import annotations

from tests.conftest import ROOT


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


def test_readme_opens_with_two_commands() -> None:
    commands = readme_commands()
    assert len(commands) == 2
    assert "l-bom scan examples/models" in commands[0]
    assert "pytest" in commands[1]
    assert (ROOT / "README.md").read_text(encoding="utf-8").index("```bash") < 20


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert readme_commands()[1] in ci_lines
