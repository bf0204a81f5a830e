"""The l-bom command: exit codes, one-line errors, -v tracebacks, python -m, atomic --output, read-only scans."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.builders import write_gguf
from tests.conftest import EXAMPLES


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1767225600"}
    return subprocess.run(
        [sys.executable, "-m", "lbom", *args], capture_output=True, text=True, timeout=60, cwd=cwd, env=env
    )


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.lstat().st_size, p.lstat().st_mtime_ns) for p in sorted(folder.rglob("*"))}


def test_scan_file_json_via_python_m(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "m.gguf")
    out = run("scan", str(path), "--no-hash")
    assert out.returncode == 0, out.stderr
    document = json.loads(out.stdout)
    assert document["format"] == "gguf" and document["sha256"] is None


def test_missing_path_exits_3_with_one_line(tmp_path: Path) -> None:
    out = run("scan", str(tmp_path / "nope.gguf"))
    assert out.returncode == 3
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "nope.gguf" in lines[0] and lines[0].startswith("l-bom: error:")
    assert "Traceback" not in out.stderr


def test_traceback_only_with_verbose(tmp_path: Path) -> None:
    out = run("-v", "scan", str(tmp_path / "nope.gguf"))
    assert out.returncode == 3
    assert "Traceback" in out.stderr


def test_not_a_model_file_exits_3(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    out = run("scan", str(path))
    assert out.returncode == 3
    assert "not a recognised model file" in out.stderr
    assert out.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        ("scan",),
        ("scan", "--format", "nope", "x"),
        ("scan", "--hf-app-port", "80", "x"),
        ("nonsense",),
        ("scan", "--bogus-flag", "x"),
    ],
)
def test_usage_errors_exit_2(args: tuple[str, ...]) -> None:
    out = run(*args)
    assert out.returncode == 2, (args, out.stderr)
    assert "Traceback" not in out.stderr


def test_fifo_as_path_exits_3(tmp_path: Path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("POSIX only")
    os.mkfifo(tmp_path / "pipe")
    out = run("scan", str(tmp_path / "pipe"))
    assert out.returncode == 3
    assert "not a regular file" in out.stderr


def test_hostile_file_exits_0_with_warnings(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "m.gguf")
    path.write_bytes(path.read_bytes()[:100])
    out = run("scan", str(path), "--no-hash")
    assert out.returncode == 0
    document = json.loads(out.stdout)
    assert any("LBOM-GGUF-001" in w for w in document["warnings"])
    assert "warning:" in out.stderr  # high-severity findings are echoed as one line each


def test_output_is_atomic_and_scanned_folder_untouched(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    write_gguf(models / "a.gguf")
    (models / "sub").mkdir()
    write_gguf(models / "sub" / "b.gguf")
    before = snapshot(models)
    target = tmp_path / "out" / "sbom.json"
    target.parent.mkdir()
    target.write_text("old")
    out = run("scan", str(models), "--output", str(target), "--format", "json")
    assert out.returncode == 0, out.stderr
    assert out.stdout == ""
    assert [d["model_filename"] for d in json.loads(target.read_text())] == ["a.gguf", "b.gguf"]
    assert sorted(os.listdir(target.parent)) == ["sbom.json"]  # no temp file left behind
    assert oct(target.stat().st_mode & 0o777) != oct(0o600)  # not the temp file's private mode
    run("scan", str(models), "--format", "table")
    assert snapshot(models) == before


def test_output_into_missing_folder_is_an_error(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "m.gguf")
    out = run("scan", str(path), "--output", str(tmp_path / "missing" / "x.json"))
    assert out.returncode == 3
    assert len(out.stderr.strip().splitlines()) == 1


def test_version_commands() -> None:
    from lbom._about import __version__

    assert run("version").stdout.strip() == f"l-bom {__version__}"
    assert run("--version").stdout.strip() == f"l-bom {__version__}"


def test_examples_table_runs() -> None:
    out = run("scan", str(EXAMPLES), "--format", "table", "--no-hash")
    assert out.returncode == 0
    assert "Q4_K_M" in out.stdout and "MistralForCausalLM" in out.stdout


def test_verbose_is_accepted_after_the_subcommand_too(tmp_path: Path) -> None:
    out = run("scan", str(tmp_path / "nope.gguf"), "-v")
    assert out.returncode == 3
    assert "Traceback" in out.stderr and "No such option" not in out.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_unreadable_file_given_as_path_exits_3_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """As root every file is readable, so the denial is simulated where the OS would report it."""
    from lbom._cli import main

    path = str(write_gguf(tmp_path / "locked.gguf"))
    real_access, real_open = os.access, os.open

    def access(target: object, mode: int, **kwargs: object) -> bool:
        return False if os.fspath(target) == path else real_access(target, mode, **kwargs)  # type: ignore[arg-type]

    def deny(target: object, flags: int, *args: object, **kwargs: object) -> int:
        if os.fspath(target) == path:  # type: ignore[arg-type]
            raise PermissionError(13, "Permission denied", path)
        return real_open(target, flags, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "access", access)
    monkeypatch.setattr(os, "open", deny)
    with pytest.raises(SystemExit) as info:
        main(["scan", path, "--no-cache"])
    err = capsys.readouterr().err
    assert info.value.code == 3, err
    assert "Usage:" not in err and "Traceback" not in err
    assert "locked.gguf" in err and "permission denied" in err.lower()


@pytest.mark.parametrize("epoch", ["99999999999999", "253402300800", "-99999999999", "-1", "1.5", "soon"])
def test_a_source_date_epoch_out_of_range_or_malformed_is_ignored(epoch: str, tmp_path: Path) -> None:
    # It used to end the scan with "internal error" (exit 4) for a year past 9999 or before 1.
    path = write_gguf(tmp_path / "m.gguf")
    env = {**os.environ, "SOURCE_DATE_EPOCH": epoch}
    out = subprocess.run(
        [sys.executable, "-m", "lbom", "scan", str(path), "--no-hash", "--no-cache"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    generated = json.loads(out.stdout)["generated_at"]
    assert re.fullmatch(r"20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ", generated), generated  # the current time


@pytest.mark.parametrize(
    ("epoch", "expected"), [("0", "1970-01-01T00:00:00Z"), ("253402300799", "9999-12-31T23:59:59Z")]
)
def test_source_date_epoch_at_its_limits(epoch: str, expected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from lbom.scan import source_date

    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    assert source_date() == expected
