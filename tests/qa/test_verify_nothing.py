"""`l-bom verify` on a folder with no content-addressed blobs verifies nothing, and must not exit 0."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import EXAMPLES


def test_verify_plain_folder_fails_with_a_clear_message(tmp_path: Path) -> None:
    folder = tmp_path / "models"
    shutil.copytree(EXAMPLES, folder)
    run = subprocess.run(
        [sys.executable, "-m", "lbom", "verify", str(folder)], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 1
    assert "0 blobs checked" in run.stdout
    assert "nothing was verified" in run.stderr
    assert "--lock" in run.stderr


def test_verifying_nothing_is_not_ok_for_the_library_and_json_output(tmp_path: Path) -> None:
    import json

    import lbom

    folder = tmp_path / "models"
    shutil.copytree(EXAMPLES, folder)
    report = lbom.verify_store_blobs([str(folder)])
    assert (report.checked, report.ok) == (0, False)  # the GUI and MCP read .ok
    run = subprocess.run(
        [sys.executable, "-m", "lbom", "verify", str(folder), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1
    assert json.loads(run.stdout)["ok"] is False
