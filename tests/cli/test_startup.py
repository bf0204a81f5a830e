"""Start-up stays small: `import lbom` and a JSON scan do not import what they do not use."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
    # --no-hash: ids, cache keys and template digests use CPython's own SHA-256 (lbom._sha256), not OpenSSL
    "hashlib",
    "_hashlib",
    # a plain scan command line is parsed without Click (lbom._cli.fast), and uuid is for SBOM ids only
    "click",
    "uuid",
    "platform",
    "threading",  # only scans that hash on worker threads start them
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

NOT_ON_A_REPEATED_SCAN = {
    # Start-up cost a repeated one-file scan without hashing or --output does not need: the thread pool (nothing to
    # hash), the atomic-write machinery (stdout), and jinja2 (the template analysis is remembered in the cache).
    "concurrent.futures",
    "tempfile",
    "shutil",
    "pathlib",
    "urllib.parse",
    "jinja2",
    "lbom._checks._jinja",
    "lbom._formats.onnx",
}
if sys.platform.startswith("linux"):
    NOT_ON_A_REPEATED_SCAN.add("platformdirs")  # the cache folder follows the XDG rule directly there


def _matching(modules: set[str], names: set[str]) -> set[str]:
    return {m for m in modules for prefix in names if m == prefix or m.startswith(prefix + ".")}


def test_json_scan_imports_nothing_it_does_not_need() -> None:
    model = EXAMPLES / "tiny-mistral" / "model.safetensors"
    out = subprocess.run([sys.executable, "-c", PROBE, str(model)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    after_scan, after_import = (set(line.split()) for line in out.stdout.strip().splitlines()[-2:])
    assert _matching(after_scan, NEVER_ON_THE_JSON_SCAN_PATH) == set()
    assert not {"lbom._catalog", "lbom._stores", "lbom._render"} & after_import


def test_a_repeated_scan_of_a_model_with_a_chat_template_imports_even_less(tmp_path: Path) -> None:
    import os

    model = EXAMPLES / "tinyllama-q4_k_m.gguf"
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    runs = [
        subprocess.run([sys.executable, "-c", PROBE, str(model)], capture_output=True, text=True, timeout=60, env=env)
        for _ in range(2)
    ]
    assert [run.returncode for run in runs] == [0, 0], runs[0].stderr + runs[1].stderr
    first, second = (set(run.stdout.strip().splitlines()[-2].split()) for run in runs)
    # The example carries a chat template: the first scan parses it, with jinja2's parser alone (not its engine).
    assert "lbom._checks._jinja.parser" in first
    assert _matching(first, {"jinja2"}) == set()
    # ... and without the modules jinja2.utils would bring (lbom._checks.jinja_parser stands in for it)
    assert _matching(first, {"random", "urllib.parse", "ipaddress", "lbom._checks._jinja._source_utils"}) == set()
    # ... nor markupsafe, which jinja2's nodes use for constant folding only (lbom._deferred)
    assert _matching(first, {"markupsafe"}) == set()
    assert _matching(second, NOT_ON_A_REPEATED_SCAN) == set()
    if sys.version_info < (3, 12):
        # dataclasses and jinja2's nodes import inspect for paths a scan never takes, and jinja2's lexer takes
        # ast.literal_eval for float literals only (lbom._deferred)
        assert _matching(first, {"inspect", "dis", "tokenize", "linecache", "ast"}) == set()


def test_lazy_names_resolve() -> None:
    import lbom

    for name in lbom.__all__:
        assert getattr(lbom, name) is not None, name
    assert callable(lbom.scan) and callable(lbom.render) and callable(lbom.rules)
