"""The progress display: silent when stderr is piped, shown with --progress, a Rich bar on a terminal."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from lbom._cli.progress import ProgressDisplay
from lbom.scan import ProgressEvent
from tests.builders import write_gguf


def scan_cli(folder: Path, *extra: str) -> subprocess.CompletedProcess[bytes]:
    cmd = [sys.executable, "-m", "lbom", "scan", str(folder), "--no-cache", *extra]
    return subprocess.run(cmd, capture_output=True, check=True)


def test_nothing_on_stderr_when_piped(tmp_path: Path) -> None:
    write_gguf(tmp_path / "m.gguf")
    done = scan_cli(tmp_path)
    assert done.stderr == b""
    assert b'"sha256"' in done.stdout


def test_progress_flag_prints_lines_and_keeps_stdout_clean(tmp_path: Path) -> None:
    for i in range(3):
        write_gguf(tmp_path / f"m{i}.gguf")
    forced = scan_cli(tmp_path, "--progress")
    plain = scan_cli(tmp_path)
    assert b"3/3 files" in forced.stderr
    assert forced.stdout == plain.stdout
    assert scan_cli(tmp_path, "--no-progress").stderr == b""


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_rich_bar_on_a_terminal_only_after_a_moment() -> None:
    quick = FakeTerminal()
    display = ProgressDisplay(forced=False, stream=quick)
    display(ProgressEvent("a", 1, 2, 10, 20))
    display.close()
    assert quick.getvalue() == ""  # a quick scan draws nothing

    forced = FakeTerminal()
    display = ProgressDisplay(forced=True, stream=forced)
    display(ProgressEvent("a", 1, 2, 10 * 2**20, 20 * 2**20))
    display.close()
    assert "1/2 files" in forced.getvalue()


def test_scan_does_not_import_rich_without_a_terminal(tmp_path: Path) -> None:
    write_gguf(tmp_path / "m.gguf")
    code = (
        "import sys; from lbom._cli import main\n"
        "try:\n    main(['scan', sys.argv[1], '--no-cache', '-o', sys.argv[2]])\n"
        "except SystemExit:\n    pass\n"
        "assert not any(m.startswith('rich') for m in sys.modules), sorted(m for m in sys.modules if 'rich' in m)\n"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path), str(tmp_path.parent / "out.json")], check=True)
