"""The MCP tools as library functions (no SDK): argument checking, default roots, the missing-SDK message."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from lbom._cli import main
from lbom._mcp import tools
from lbom._mcp.tools import TOOLS, ToolRefused, call_tool, check_arguments, confine, make_config

SAMPLES: list[dict[str, Any]] = [
    {},
    {"path": "a.gguf"},
    {"path": ""},
    {"path": 3},
    {"path": "a", "hash": False},
    {"path": "a", "hash": "yes"},
    {"path": "a", "hash": 1},
    {"path": "a", "sha256": "a" * 64},
    {"path": "a", "sha256": "A" * 64},
    {"path": "a", "sha256": "g" * 64},
    {"path": "a", "sha256": "a" * 63},
    {"path": "a", "sha256": "a" * 64 + "\n"},
    {"path": "a", "sha256": None},
    {"path": "a", "other": 1},
    {"path": "a", "lock": "models.lock"},
    {"path": "a", "lock": ""},
    {"path": "a", "lock": "models.lock", "sha256": "a" * 64},
    {"path": "a", "policy": "[formats]\nallow = ['gguf']"},
    {"path": "a", "policy": 7},
    {"unexpected": True},
]


@pytest.mark.parametrize("tool", TOOLS, ids=lambda t: t.name)
def test_argument_checker_agrees_with_jsonschema(tool: tools.ToolSpec) -> None:
    jsonschema.Draft202012Validator.check_schema(tool.input_schema)
    jsonschema.Draft202012Validator.check_schema(tool.output_schema)
    validator = jsonschema.Draft202012Validator(tool.input_schema)
    for sample in SAMPLES:
        assert (check_arguments(sample, tool.input_schema) is None) == validator.is_valid(sample), sample


def test_default_roots_fall_back_to_the_current_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(tools, "_existing_store_paths", lambda: [])
    assert tools.default_roots() == [str(tmp_path)]


def test_default_roots_are_the_stores_that_exist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hub = tmp_path / "hub"
    hub.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(hub))
    assert str(hub) in tools.default_roots()
    assert str(tmp_path) not in tools.default_roots()


def test_confinement_uses_real_paths(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "m.gguf").write_bytes(b"GGUF")
    (tmp_path / "rootsibling").mkdir()
    config = make_config([str(root)])
    assert confine(config, "m.gguf") == str((root / "m.gguf").resolve())
    with pytest.raises(ToolRefused, match="outside the allowed roots"):
        confine(config, str(tmp_path / "rootsibling"))  # a common prefix is not containment
    with pytest.raises(ToolRefused, match="outside the allowed roots"):
        confine(config, "/")
    with pytest.raises(ToolRefused, match="unknown tool"):
        call_tool(config, "exec", {})


def test_mcp_without_the_sdk_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "mcp" else real(name, *a))
    with pytest.raises(SystemExit) as exit_info:
        main(["mcp", "--root", "."])
    assert exit_info.value.code == 2
    assert "pip install 'l-bom[mcp]'" in capsys.readouterr().err


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="sparse files")
def test_the_time_limit_stops_the_work_not_only_the_answer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    import time

    from tests.perf.test_memory import sparse_gguf

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = tmp_path / "root"
    root.mkdir()
    sparse_gguf(root / "big.gguf", 3 * 1024**3)  # minutes of hashing on a busy machine
    config = make_config([str(root)], max_hash_bytes=2**40, timeout=1.0)
    started = time.monotonic()
    with pytest.raises(ToolRefused, match="second limit"):
        call_tool(config, "scan_model", {"path": "big.gguf"})
    assert time.monotonic() - started < 10  # the 3 GiB file was not hashed to the end first
    assert not [t for t in threading.enumerate() if t.name.startswith("lbom-hash")]
