"""``l-bom gui`` on the command line: refusals, and a real server started by the CLI."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from lbom._cli import EXIT_USAGE, cli, main


@contextlib.contextmanager
def gui_process(args: list[str], lines: int, **popen: Any) -> Iterator[list[str]]:
    """``l-bom gui ARGS --port 0 --no-open-browser`` in a subprocess; yields its first ``lines`` lines of stdout
    and stops it afterwards."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **popen.pop("env", {})}
    command = [sys.executable, "-m", "lbom", "gui", *args, "--port", "0", "--no-open-browser"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, **popen)
    try:
        assert process.stdout is not None
        yield [process.stdout.readline() for _ in range(lines)]
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_non_loopback_bind_without_token_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["gui", str(tmp_path), "--host", "0.0.0.0", "--no-open-browser"])
    assert exc.value.code == EXIT_USAGE


def test_non_loopback_refusal_message(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["gui", str(tmp_path), "--host", "192.0.2.1", "--no-open-browser"])
    assert result.exit_code != 0
    assert "not a loopback address" in str(result.exception)


def test_short_explicit_token_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["gui", str(tmp_path), "--token", "abc", "--no-open-browser"])
    assert "at least 16" in str(result.exception)


def test_gui_prints_a_tokenised_url_and_serves_only_with_it(tmp_path: Path) -> None:
    with gui_process([str(tmp_path)], 3) as lines:
        url_line = next(line for line in lines if line.startswith("Open: "))
        match = re.fullmatch(r"Open: (http://127\.0\.0\.1:(\d+))/\?token=([A-Za-z0-9_-]{32})\n", url_line)
        assert match, url_line
        base, token = match.group(1), match.group(3)
        assert f"  {tmp_path}\n" in lines
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(base + "/api/info", timeout=10)
        assert refused.value.code == 401
        request = urllib.request.Request(base + "/api/info", headers={"X-LBOM-Token": token})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert str(tmp_path) in response.read().decode()


def test_gui_without_paths_serves_the_stores_and_the_cwd(tmp_path: Path) -> None:
    hub = tmp_path / "hub"
    hub.mkdir()
    env = {**os.environ, "HOME": str(tmp_path / "home"), "HF_HUB_CACHE": str(hub)}
    for name in ("HF_HOME", "OLLAMA_MODELS", "LLAMA_CACHE"):
        env.pop(name, None)
    with gui_process([], 4, env=env, cwd=tmp_path) as lines:
        assert lines[:3] == ["l-bom GUI serving:\n", f"  {hub}  (Hugging Face hub cache)\n", f"  {tmp_path}\n"]
        assert lines[3].startswith("Open: http://127.0.0.1:")


def test_gui_on_all_interfaces_prints_a_usable_address(tmp_path: Path) -> None:
    token = "all-interfaces-token-0123456789"
    with gui_process([str(tmp_path), "--host", "0.0.0.0", "--token", token], 4) as lines:
        assert not any("0.0.0.0:" in line for line in lines), lines
        url_line = next(line for line in lines if line.startswith("Open: "))
        match = re.fullmatch(rf"Open: (http://127\.0\.0\.1:(\d+))/\?token={token}\n", url_line)
        assert match, url_line
        assert any("all interfaces" in line and f"port {match.group(2)}" in line for line in lines), lines
        request = urllib.request.Request(match.group(1) + "/api/info", headers={"X-LBOM-Token": token})
        with urllib.request.urlopen(request, timeout=10) as response:  # the printed address works
            assert str(tmp_path) in response.read().decode()
