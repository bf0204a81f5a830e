"""The progress display: silent when stderr is piped, shown with --progress, a Rich bar on a terminal."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

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


def test_lock_verify_and_check_show_progress_on_a_terminal_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """They hash whole model folders (minutes for big models): the same bar as scan, not silence."""
    import lbom._cli.progress
    from lbom._cli import main

    events: dict[str, list[ProgressEvent]] = {}
    current = [""]

    class Recording:
        def __init__(self, forced: bool = False) -> None:
            self.events = events.setdefault(current[0], [])

        def __call__(self, event: ProgressEvent) -> None:
            self.events.append(event)

        def close(self) -> None:
            pass

    monkeypatch.setattr(lbom._cli.progress, "ProgressDisplay", Recording)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    folder = tmp_path / "models"
    folder.mkdir()
    write_gguf(folder / "m.gguf")
    lock_file = tmp_path / "models.lock"
    policy = tmp_path / "policy.toml"
    policy.write_text('[formats]\nallow = ["gguf"]\n')
    for name, argv in (
        ("lock", ["lock", str(folder), "-o", str(lock_file)]),
        ("verify", ["verify", str(folder), "--lock", str(lock_file)]),
        ("check", ["check", str(folder), "--policy", str(policy)]),
    ):
        current[0] = name
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code in (0, None), (name, exit_.value.code)
    assert {name: bool(found) for name, found in events.items()} == {"lock": True, "verify": True, "check": True}
