"""The new formats through the CLI: choices, output files, hf-readme usage errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from lbom._cli import cli
from tests.render.sbom_checks import validate_cyclonedx, validate_spdx2


def test_cli_writes_each_format(examples_cwd: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "bom.cdx.json"
    done = runner.invoke(cli, ["scan", "examples/models", "--format", "cyclonedx", "--output", str(out)])
    assert done.exit_code == 0, done.output
    validate_cyclonedx(out.read_text(encoding="utf-8"))
    done = runner.invoke(cli, ["scan", "examples/models", "-f", "spdx-json"])
    assert done.exit_code == 0, done.output
    validate_spdx2(done.stdout, tmp_path, ".spdx.json")
    done = runner.invoke(cli, ["scan", "examples/models", "-f", "spdx3"])
    assert done.exit_code == 0
    assert json.loads(done.stdout)["@context"] == "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"


def test_hf_readme_for_a_folder_of_models_is_a_usage_error(examples_cwd: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "lbom", "scan", "examples/models", "--format", "hf-readme"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "hf-readme describes one model, but the scan found 2" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
