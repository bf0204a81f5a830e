"""The lazy reader registry names each format exactly as its module does, and imports only what it needs."""

from __future__ import annotations

import subprocess
import sys

from lbom._formats import READERS


def test_registry_format_names_match_modules() -> None:
    for entry in READERS:
        assert entry.format_name == entry.module().FORMAT, entry.module_name


def test_sniffing_a_gguf_imports_no_other_reader(tmp_path) -> None:  # type: ignore[no-untyped-def]
    code = (
        "import sys; from lbom._formats import pick_reader; "
        "entry = pick_reader(b'GGUF\\x03\\x00\\x00\\x00' + bytes(16), 'x.gguf'); "
        "print(entry.format_name, sorted(m for m in sys.modules if m.startswith('lbom._formats.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.startswith("gguf ")
    for other in ("pickle", "onnx", "keras", "numpy", "safetensors"):
        assert f"lbom._formats.{other}'" not in out
