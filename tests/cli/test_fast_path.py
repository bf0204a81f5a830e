"""The argv fast path (lbom._cli.fast) parses exactly as Click does, or hands the command line to Click.

Three holds: its option table equals the Click command's parameters; for a corpus of command lines (hand-picked
and generated), every line it accepts gets Click's values and Click accepts it too; and a command run either way
ends the same (output, messages, exit code), also on Ctrl-C and a closed pipe.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest

from lbom._cli import fast
from lbom._cli.scan import scan_command
from tests.builders import write_gguf
from tests.conftest import EXAMPLES

MODEL = str(EXAMPLES / "tinyllama-q4_k_m.gguf")


def click_values(args: list[str]) -> dict[str, Any] | None:
    """The parameters Click parses for ``l-bom scan ARGS``, or None when it rejects them (or prints help)."""
    try:
        with scan_command.make_context("scan", list(args)) as ctx:
            return dict(ctx.params)
    except (click.ClickException, click.exceptions.Exit):
        return None


def test_the_table_is_the_click_commands_options() -> None:
    table = {name: option for option in fast._scan_options() for name in option.names}
    defaults = click_values([MODEL])  # what Click stores for an option not given (its own default marker aside)
    assert defaults is not None
    seen: set[str] = set()
    for param in scan_command.params:
        if isinstance(param, click.Argument):
            assert (param.name, param.nargs, param.required) == ("paths", -1, False)
            assert isinstance(param.type, click.Path) and not param.type.exists and param.type.type is str
            continue
        assert isinstance(param, click.Option)
        if param.name == "help":
            assert not set(param.opts) & set(table)  # --help always goes to Click
            continue
        assert param.nargs == 1 and not param.multiple and param.envvar is None, param.name
        for name in (*param.opts, *param.secondary_opts):
            option = table[name]
            seen.add(name)
            assert option.dest == param.name, name
            assert option.takes_value == (not param.is_flag), name
            assert option.default == defaults[param.name], name
            if param.is_flag:
                given = click_values([MODEL, name])
                assert given is not None and option.flag_value == given[param.name], name
                continue
            kind = param.type
            if isinstance(kind, click.Choice):
                assert option.choices == tuple(kind.choices) and kind.case_sensitive, name
            elif isinstance(kind, click.IntRange):
                assert option.int_range == (kind.min, kind.max), name
                assert not (kind.min_open or kind.max_open or kind.clamp), name
            elif isinstance(kind, click.Path):
                assert option.path == (kind.file_okay, kind.dir_okay), name
                assert kind.readable and not (kind.exists or kind.writable or kind.executable), name
                assert not kind.resolve_path and kind.type is str and not kind.allow_dash, name
            else:
                assert kind is click.STRING, name
                assert option.choices is option.int_range is option.path is None, name
    assert seen == set(table)


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("fast-path")
    (root / "a-dir").mkdir()
    (root / "a-file").write_text("x")
    return {"dir": str(root / "a-dir"), "file": str(root / "a-file"), "new": str(root / "new" / "out.json")}


def hand_picked(places: dict[str, str]) -> list[list[str]]:
    return [
        [MODEL],
        [MODEL, "--no-hash"],
        ["--no-hash", MODEL, "--format", "table"],
        [MODEL, "-f", "spdx", "-o", places["new"]],
        [MODEL, "-ftable"],
        [MODEL, "--format=hf-readme", "--hf-title", "T", "--hf-sdk=docker", "--hf-app-port", "7860"],
        [MODEL, "-j", "4", "--cache-dir", places["dir"], "--no-cache", "--rehash"],
        [MODEL, "-j4", "--jobs=8"],
        [MODEL, "--progress", "--no-progress"],
        [MODEL, "--no-progress", "--progress"],
        [MODEL, "--all", "--fail-on", "high", "--digest", "sha256,blake3"],
        [MODEL, "--hash", "--allow-full-download"],
        [MODEL, "--hf-title="],
        [MODEL, MODEL, "-"],
        [],
        # Click must judge these: the fast path declines them.
        [MODEL, "--help"],
        [MODEL, "-h"],
        ["--", MODEL],
        [MODEL, "--format", "xml"],
        [MODEL, "--format=", "json"],
        [MODEL, "-f=json"],
        [MODEL, "--format"],
        [MODEL, "--no-hash=1"],
        [MODEL, "--bogus"],
        [MODEL, "-x"],
        [MODEL, "-j", "0"],
        [MODEL, "-j", "257"],
        [MODEL, "-j", "+3"],
        [MODEL, "-j", " 3"],
        [MODEL, "-j", "٣"],
        [MODEL, "-j", "0" * 5000 + "1"],  # past int()'s digit limit: Click says so (it used to be a traceback)
        [MODEL, "--hf-app-port", "000080"],
        [MODEL, "--hf-app-port", "70000"],
        [MODEL, "-o", places["dir"]],
        [MODEL, "--cache-dir", places["file"]],
        [MODEL, "--hf-title", "-x"],
        [MODEL, "--output", "--format"],
    ]


def generated(places: dict[str, str], count: int) -> list[list[str]]:
    """Command lines from pieces of every kind, valid and not, in random order and number."""
    pieces: list[list[str]] = [
        [MODEL],
        ["-"],
        ["--no-hash"],
        ["--hash"],
        ["--all"],
        ["--progress"],
        ["--no-progress"],
        ["--no-cache"],
        ["--rehash"],
        ["--allow-full-download"],
        ["-f", "json"],
        ["-f", "table"],
        ["-fspdx"],
        ["--format", "cyclonedx"],
        ["--format=sarif"],
        ["--format", "JSON"],
        ["-o", places["new"]],
        ["--output", places["file"]],
        ["--output=" + places["dir"]],
        ["-o"],
        ["-j", "2"],
        ["-j0"],
        ["--jobs", "256"],
        ["--jobs=x"],
        ["--cache-dir", places["dir"]],
        ["--cache-dir=" + places["file"]],
        ["--cache-dir", places["new"]],
        ["--fail-on", "low"],
        ["--fail-on=critical"],
        ["--fail-on", "severe"],
        ["--digest", "sha512"],
        ["--digest="],
        ["--hf-title", "Title with spaces"],
        ["--hf-short-description", "d"],
        ["--hf-sdk", "gradio"],
        ["--hf-sdk", "streamlit"],
        ["--hf-app-file", "app.py"],
        ["--hf-app-port", "1"],
        ["--hf-app-port=65536"],
        ["--hf-app-port", "-1"],
        ["--"],
        ["-h"],
        ["--hel"],
        ["--no-hash=yes"],
        ["-vx"],
    ]
    rng = random.Random(20261122)
    lines = []
    for _ in range(count):
        picked = rng.sample(pieces, rng.randint(0, 6))
        lines.append(list(itertools.chain.from_iterable(picked)))
    return lines


def test_every_command_line_it_accepts_gets_clicks_values(places: dict[str, str]) -> None:
    accepted = declined = 0
    for args in hand_picked(places) + generated(places, 1500):
        ours = fast.parse_scan(list(args))
        if ours is None:
            declined += 1
            continue
        accepted += 1
        assert ours == click_values(args), args
    # Both kinds are well represented, so the comparison above is not vacuous.
    assert accepted > 300 and declined > 300, (accepted, declined)


def test_plain_command_lines_take_the_fast_path(places: dict[str, str]) -> None:
    cases = hand_picked(places)
    plain, judged = cases[: cases.index([]) + 1], cases[cases.index([]) + 1 :]
    for args in plain:
        assert fast.parse_scan(list(args)) is not None, args
        assert fast.fast_command(["scan", *args]) is not None, args
        assert fast.fast_command(["--verbose", "scan", *args]) is not None, args
    for args in judged:
        assert fast.parse_scan(list(args)) is None, args
    assert fast.fast_command(["version"]) is not None and fast.fast_command(["--version"]) is not None
    for other in (["lock", MODEL], ["--help"], ["version", "--help"], [], ["scans", MODEL]):
        assert fast.fast_command(other) is None, other


def test_shell_completion_goes_to_click(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_L_BOM_COMPLETE", "bash_complete")
    assert fast.fast_command(["scan", MODEL]) is None


ENDINGS = """
import errno, sys
import lbom._cli.fast, lbom._cli.scan_run
how, path = sys.argv[1], sys.argv[2]
def run_scan(**kwargs):
    sys.stdout.write("started\\n")
    if how == "interrupt":
        raise KeyboardInterrupt
    if how == "pipe":
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")
    if how == "gate":
        return 1
    raise ValueError("boom")
lbom._cli.scan_run.run_scan = run_scan
if path == "click":
    lbom._cli.fast.fast_command = lambda args: None
from lbom._cli import main
main(["scan", "model.gguf"])
"""


@pytest.mark.parametrize("how", ["interrupt", "pipe", "gate", "bug"])
def test_a_command_ends_the_same_either_way(how: str) -> None:
    def run(path: str) -> tuple[int, str, str]:
        out = subprocess.run(
            [sys.executable, "-c", ENDINGS, how, path], capture_output=True, text=True, timeout=60, env=os.environ
        )
        return out.returncode, out.stdout, out.stderr

    fast_run, click_run = run("fast"), run("click")
    assert fast_run == click_run
    assert fast_run[0] == {"interrupt": 130, "pipe": 1, "gate": 1, "bug": 4}[how]


def test_a_json_scan_does_not_import_click(tmp_path: Path) -> None:
    probe = "import sys; from lbom._cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
    probe += "print(sorted(m for m in sys.modules if m == 'click' or m.startswith('click.')))"
    out = subprocess.run(
        [sys.executable, "-c", probe, "scan", MODEL, "--no-hash", "--no-cache"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_an_existing_path_it_cannot_read_goes_to_click(places: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    # Root reads everything, so deny reading the way a file mode would for another user.
    denied = {places["file"], places["dir"]}
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: path not in denied and real_access(path, mode, **kw))
    for args in ([MODEL, "-o", places["file"]], [MODEL, "--cache-dir", places["dir"]]):
        assert click_values(args) is None, args
        assert fast.parse_scan(args) is None, args
    assert fast.parse_scan([MODEL, "-o", places["new"]]) == click_values([MODEL, "-o", places["new"]])


def test_the_process_entry_ends_with_everything_written(tmp_path: Path) -> None:
    # `python -m lbom` ends a fast-path command with os._exit after flushing: the whole document must still arrive,
    # with the command's exit code, whether stdout is a pipe or a file.
    import json

    expected = subprocess.run(
        [sys.executable, "-c", "import sys; from lbom._cli import main; main(sys.argv[1:])", "scan", str(EXAMPLES)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    piped = subprocess.run(
        [sys.executable, "-m", "lbom", "scan", str(EXAMPLES)], capture_output=True, text=True, timeout=60
    )
    assert (piped.returncode, piped.stdout, piped.stderr) == (expected.returncode, expected.stdout, expected.stderr)
    assert expected.returncode == 0 and len(json.loads(piped.stdout)) >= 2
    guessed = write_gguf(tmp_path / "no-file-type.gguf", file_type=None)  # quantization guessed: a finding
    command = ["scan", str(guessed), "--no-hash", "--fail-on", "info"]
    expected = subprocess.run(
        [sys.executable, "-c", "import sys; from lbom._cli import main; main(sys.argv[1:])", *command],
        capture_output=True,
        text=True,
        timeout=60,
    )
    with (tmp_path / "out.json").open("w") as handle:
        to_file = subprocess.run([sys.executable, "-m", "lbom", *command], stdout=handle, timeout=60)
    assert expected.returncode == to_file.returncode == 1  # the gate fails, and says so with its exit code
    assert (tmp_path / "out.json").read_text() == expected.stdout


def test_a_number_too_long_for_int_is_a_usage_error() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "lbom", "scan", MODEL, "-j", "0" * 5000 + "1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2 and "Traceback" not in out.stderr and "--jobs" in out.stderr


def test_a_scan_with_stderr_closed_still_writes_its_document(tmp_path: Path) -> None:
    # A truncated GGUF makes the scan warn on stderr; with stderr closed (sys.stderr is None) the warning is
    # dropped, as click.echo drops it, and the document is still written.
    truncated = tmp_path / "cut.gguf"
    truncated.write_bytes((EXAMPLES / "tinyllama-q4_k_m.gguf").read_bytes()[:3000])
    command = [sys.executable, "-m", "lbom", "scan", str(truncated), "--no-hash", "--no-cache"]
    out = subprocess.run(["bash", "-c", 'exec "$@" 2>&-', "_", *command], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert json.loads(out.stdout)["warnings"]
