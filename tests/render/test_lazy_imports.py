"""The SBOM libraries stay off the start-up path: ``l-bom scan --format json`` never imports them."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import EXAMPLES

HEAVY = ("cyclonedx", "spdx_tools", "spdx_python_model", "license_expression", "packageurl", "beartype")

_PROBE = """
import json, sys
from lbom._cli import cli
try:
    cli.main(args=sys.argv[1:], prog_name="l-bom", standalone_mode=False)
finally:
    loaded = sorted({name.split(".")[0] for name in sys.modules})
    sys.stderr.write("\\nMODULES " + json.dumps(loaded) + "\\n")
"""


def loaded_modules(*args: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, timeout=120, check=True
    )
    line = next(line for line in done.stderr.splitlines() if line.startswith("MODULES "))
    modules: list[str] = json.loads(line[len("MODULES ") :])
    return modules


def test_scan_json_imports_no_sbom_library() -> None:
    modules = loaded_modules("scan", str(EXAMPLES), "--format", "json")
    assert not [m for m in modules if m in HEAVY]


def test_the_probe_can_see_sbom_libraries() -> None:
    """The probe is able to fail: the cyclonedx format does import its library."""
    modules = loaded_modules("scan", str(EXAMPLES), "--format", "cyclonedx")
    assert "cyclonedx" in modules
