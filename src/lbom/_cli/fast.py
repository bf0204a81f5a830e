"""The argv fast path: ``l-bom scan ...`` and ``l-bom version`` without importing Click.

Importing Click (8.2+) costs a whole-process scan 20-40 ms, a tenth of the 0.25 s a one-file ``--no-hash`` scan is
allowed: Click imports ``inspect``, ``uuid`` (and with it ``platform``), ``gettext`` and ``threading`` before it
parses anything. Most command lines are plain, so :func:`fast_command` parses those itself and hands everything
else to Click: ``--help``, ``--``, an unknown option, a value Click would reject or that needs its judgement (a
choice not on the list, a number out of range or not plain digits, a path of the wrong kind, a value that looks
like an option), shell completion. A declined command line is not an error here; Click then parses it and gives
its own message.

The table below describes ``l-bom scan``'s options as Click does. ``tests/cli/test_fast_path.py`` holds the two
equal: the table against the Click command's parameters, and the parsed values against Click's for a corpus of
command lines (every accepted one must give exactly Click's values).
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable
from typing import Any

_DECLINE: Any = object()
"""A value Click must judge: the command line goes to Click."""


class Opt:
    """One option spelling of ``l-bom scan``, as Click parses it. (A plain class: a NamedTuple is built from
    source with ``exec`` at import, most of this module's import time.)"""

    __slots__ = ("choices", "default", "dest", "flag_value", "int_range", "names", "path", "takes_value")

    def __init__(
        self,
        dest: str,
        names: tuple[str, ...],
        *,
        takes_value: bool = True,
        default: Any = None,
        flag_value: Any = True,
        choices: tuple[str, ...] | None = None,
        int_range: tuple[int, int] | None = None,
        path: tuple[bool, bool] | None = None,
    ) -> None:
        self.dest = dest
        self.names = names
        self.takes_value = takes_value
        self.default = default
        self.flag_value = flag_value  # what a flag stores (``--no-progress`` stores False)
        self.choices = choices
        self.int_range = int_range
        self.path = path  # click.Path(file_okay, dir_okay), readable=True

    def convert(self, value: str) -> Any:
        """The value Click would store, or ``_DECLINE``."""
        if value[:1] == "-" and len(value) > 1:
            return _DECLINE  # Click takes it as the value; a typo is likelier, let Click say what it makes of it
        if self.choices is not None:
            return value if value in self.choices else _DECLINE
        if self.int_range is not None:
            low, high = self.int_range
            if not (value.isascii() and value.isdigit()) or len(value) > 5:
                return _DECLINE  # signs, spaces, other digits, leading zeros past 5 places: Click's int() judges
            number = int(value)
            return number if low <= number <= high else _DECLINE
        if self.path is not None:
            return value if _path_acceptable(value, *self.path) else _DECLINE
        return value


def _path_acceptable(value: str, file_okay: bool, dir_okay: bool) -> bool:
    """What ``click.Path(file_okay, dir_okay, exists=False, readable=True)`` accepts: a path that does not exist,
    or one of an allowed kind that can be read."""
    try:
        st = os.stat(value)
    except (OSError, ValueError):
        return True
    if not file_okay and stat.S_ISREG(st.st_mode):
        return False
    if not dir_okay and stat.S_ISDIR(st.st_mode):
        return False
    return os.access(value, os.R_OK)


def _scan_options() -> tuple[Opt, ...]:
    from lbom._render.interface import OutputFormat

    return (
        Opt("fmt", ("-f", "--format"), default="json", choices=tuple(f.value for f in OutputFormat)),
        Opt("output", ("-o", "--output"), path=(True, False)),
        Opt("no_hash", ("--no-hash",), takes_value=False, default=False),
        Opt("full_hash", ("--hash",), takes_value=False, default=False),
        Opt("allow_full_download", ("--allow-full-download",), takes_value=False, default=False),
        Opt("digest_names", ("--digest",), default="sha256"),
        Opt("jobs", ("-j", "--jobs"), int_range=(1, 256)),
        Opt("cache_dir", ("--cache-dir",), path=(False, True)),
        Opt("no_cache", ("--no-cache",), takes_value=False, default=False),
        Opt("rehash", ("--rehash",), takes_value=False, default=False),
        Opt("progress", ("--progress",), takes_value=False),
        Opt("progress", ("--no-progress",), takes_value=False, flag_value=False),
        Opt("list_all", ("--all",), takes_value=False, default=False),
        Opt("fail_on", ("--fail-on",), choices=("info", "low", "medium", "high", "critical")),
        Opt("hf_title", ("--hf-title",)),
        Opt("hf_short_description", ("--hf-short-description",)),
        Opt("hf_sdk", ("--hf-sdk",), default="static", choices=("gradio", "docker", "static")),
        Opt("hf_app_file", ("--hf-app-file",)),
        Opt("hf_app_port", ("--hf-app-port",), int_range=(1, 65535)),
    )


def parse_scan(args: list[str]) -> dict[str, Any] | None:
    """The values Click would pass for ``l-bom scan ARGS`` (``paths`` and one entry per option ``dest``), or
    None when the command line should go to Click."""
    options = _scan_options()
    by_name = {name: option for option in options for name in option.names}
    values: dict[str, Any] = {option.dest: option.default for option in options}
    paths: list[str] = []
    rest = iter(args)
    for arg in rest:
        if arg[:1] != "-" or arg == "-":
            paths.append(arg)
            continue
        if arg.startswith("--"):
            name, equals, attached = arg.partition("=")
            option = by_name.get(name)
            if option is None or (equals and not option.takes_value):
                return None
        else:
            name, attached = arg[:2], arg[2:]
            equals = "=" if attached else ""
            option = by_name.get(name)
            if option is None or not option.takes_value:
                return None  # short flags and clusters (-h): Click
        if not option.takes_value:
            values[option.dest] = option.flag_value
            continue
        value = attached if equals else next(rest, None)
        if value is None:
            return None
        converted = option.convert(value)
        if converted is _DECLINE:
            return None
        values[option.dest] = converted
    values["paths"] = tuple(paths)
    return values


def fast_command(args: list[str]) -> Callable[[], int] | None:
    """What to run for ``args`` (the command line after ``l-bom``, ``-v`` already moved to the front as
    ``--verbose``) without Click, or None to hand it to Click."""
    if "_L_BOM_COMPLETE" in os.environ:
        return None  # shell completion is Click's (its variable for prog_name "l-bom")
    if args[:1] == ["--verbose"]:
        args = args[1:]
    if args == ["version"] or args == ["--version"]:
        return lambda: _as_click_would(_version)
    if args[:1] != ["scan"]:
        return None
    values = parse_scan(args[1:])
    if values is None:
        return None
    return lambda: _as_click_would(lambda: _scan(values))


def _scan(values: dict[str, Any]) -> int:
    from lbom._cli.flags import CacheFlags
    from lbom._cli.scan_run import run_scan

    flags = CacheFlags(values.pop("jobs"), values.pop("cache_dir"), values.pop("no_cache"), values.pop("rehash"))
    return run_scan(cache_flags=flags, **values)


def _version() -> int:
    from lbom._version import tool_version

    sys.stdout.write(f"l-bom {tool_version()}\n")
    sys.stdout.flush()
    return 0


def _as_click_would(command: Callable[[], int]) -> int:
    """Run ``command`` with the endings Click gives a command it invokes: Ctrl-C (or end of input) prints an
    empty line and "aborted" (exit 130); a closed stdout ends quietly with exit 1, later flushes silenced."""
    import errno

    from lbom._cli import warn

    try:
        return command()
    except (EOFError, KeyboardInterrupt):
        if sys.stderr is not None:
            sys.stderr.write("\n")
        warn("aborted")
        return 130
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            raise
        sys.stdout = _Quiet(sys.stdout)
        sys.stderr = _Quiet(sys.stderr)
        sys.exit(1)


class _Quiet:
    """A stream whose ``flush`` ignores a closed pipe (what Click does after EPIPE, so exit is quiet)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            import errno

            if exc.errno != errno.EPIPE:
                raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
