"""Start-up stays small: `import lbom` and a JSON scan do not import what they do not use."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import EXAMPLES

PROBE = """
import sys
import lbom
before = set(sys.modules)
from lbom._cli import main
try:
    main(["scan", sys.argv[1], "--no-hash", "--format", "json"])
except SystemExit:
    pass
print(" ".join(sorted(set(sys.modules))))
print(" ".join(sorted(before)))
"""

NEVER_ON_THE_JSON_SCAN_PATH = {
    "numpy",
    "rich.table",
    "spdx_tools",
    "cyclonedx",
    "lbom._policy",
    "lbom._verify",
    "lbom._diff",
    "lbom._lock",
    "lbom._render.spdx",
    "lbom._web",
    "lbom._mcp",
}


def test_json_scan_imports_nothing_it_does_not_need() -> None:
    model = EXAMPLES / "tiny-mistral" / "model.safetensors"
    out = subprocess.run([sys.executable, "-c", PROBE, str(model)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    after_scan, after_import = (set(line.split()) for line in out.stdout.strip().splitlines()[-2:])
    loaded = {
        m for m in after_scan for prefix in NEVER_ON_THE_JSON_SCAN_PATH if m == prefix or m.startswith(prefix + ".")
    }
    assert loaded == set()
    assert not {"lbom._catalog", "lbom._stores", "lbom._render"} & after_import


def test_lazy_names_resolve() -> None:
    import lbom

    for name in lbom.__all__:
        assert getattr(lbom, name) is not None, name
    assert callable(lbom.scan) and callable(lbom.render) and callable(lbom.rules)
