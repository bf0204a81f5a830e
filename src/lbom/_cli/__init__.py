"""The ``l-bom`` command: a thin Click client of the library.

Commands live one per module in this package and are imported only when invoked (``COMMANDS`` maps a name to
``module:attribute``), so ``l-bom version`` starts without importing the readers, Rich or any SBOM library. The
Click group is in :mod:`lbom._cli.group`; plain ``l-bom scan`` and ``l-bom version`` command lines take a fast
path that does not import Click at all (:mod:`lbom._cli.fast`, held equal to Click's parsing by a test).

Exit codes (documented in README.md):
  0  success
  1  a gate failed: verify mismatch, policy violation, or a finding at/above ``--fail-on``
  2  usage error: bad option, unknown format, malformed policy or lock file
  3  input unreadable: missing path, permission denied, not a model file, network failure for a remote scan
  4  internal error (a bug in l-bom: please report it, with the output of ``-v``)
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

EXIT_OK = 0
EXIT_GATE = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_INTERNAL = 4

# command name -> "module:attribute" under lbom._cli
COMMANDS: dict[str, str] = {
    "check": "check:check_command",
    "diff": "diff:diff_command",
    "lock": "lock:lock_command",
    "mcp": "mcp:mcp_command",
    "rules": "rules:rules_command",
    "gui": "gui:gui_command",
    "scan": "scan:scan_command",
    "stores": "stores:stores_command",
    "verify": "verify:verify_command",
    "version": "version:version_command",
    "cache": "cache:cache_command",
}


def __getattr__(name: str) -> Any:
    if name == "cli":  # the Click group, imported on first use
        from lbom._cli.group import cli

        return cli
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def warn(message: str) -> None:
    """One line on stderr, prefixed, with control characters escaped."""
    from lbom._render.terminal import escape_control

    stream = sys.stderr
    if stream is None:  # no stderr at all (started with it closed): say nothing, as click.echo does
        return
    stream.write(f"l-bom: {escape_control(message)}\n")
    stream.flush()


def store_paths_for_no_path(doing: str, nothing_found: str) -> tuple[str, ...]:
    """No PATH given: the model stores on this machine, each announced on stderr as ``{doing} LABEL: PATH``; a
    usage error naming every place looked in when there is none (``nothing_found`` starts the message)."""
    from lbom._stores import existing_stores, locate_stores
    from lbom.errors import UsageError

    stores = existing_stores()
    if not stores:
        looked = ", ".join(f"{s.label} ({s.path})" for s in locate_stores())
        raise UsageError(nothing_found.format(looked=looked))
    for store in stores:
        warn(f"{doing} {store.label}: {store.path}")
    return tuple(store.path for store in stores)


def main(argv: list[str] | None = None) -> Any:
    """Run the ``l-bom`` command line ``argv`` (default: this process's arguments) and exit with its code
    (``SystemExit``, which a caller embedding l-bom may catch)."""
    return sys.exit(_run(argv, ending_process=False))


def run() -> None:
    """The ``l-bom`` script and ``python -m lbom``: :func:`main` for a process that ends with the command.

    Two costs of a short process are skipped then: the garbage collector stops walking what start-up made
    (``gc.freeze``: modules, classes and functions live until exit anyway), and a command the fast path ran ends
    with ``os._exit`` once stdout and stderr are flushed, instead of tearing down every module first. Together
    ~5 % of a one-file scan. Only these entry points do this; :func:`main` never ends the process itself.
    """
    import gc

    gc.freeze()
    sys.exit(_run(None, ending_process=True))


def _run(argv: list[str] | None, *, ending_process: bool) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    options_part = args[: args.index("--")] if "--" in args else args
    verbose = "-v" in options_part or "--verbose" in options_part
    if verbose:
        # -v is accepted anywhere before "--" (l-bom scan FILE -v), not only before the subcommand.
        rest = args[len(options_part) :]
        args = ["--verbose", *(a for a in options_part if a not in ("-v", "--verbose")), *rest]
    fast: Callable[[], int] | None = None

    def command() -> Any:
        nonlocal fast
        from lbom._cli.fast import fast_command

        fast = fast_command(args)
        return _run_click(args) if fast is None else fast()

    code = _outcome(command, verbose)
    if ending_process and fast is not None:
        _end_process(code)
    return code


def _outcome(run: Any, verbose: bool) -> int:
    """The exit code of ``run()``: its own, or the documented one for an error, with one line on stderr."""
    from lbom.errors import Error

    try:
        code = run()
        if isinstance(code, int) and not isinstance(code, bool):
            return code
        return EXIT_OK
    except Error as exc:
        if verbose:
            import traceback

            traceback.print_exc()
        warn(f"error: {exc.diagnostics()}")
        return exc.exit_code
    except KeyboardInterrupt:
        warn("interrupted")
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # a bug: one line unless -v
        if verbose:
            import traceback

            traceback.print_exc()
        warn(f"internal error: {type(exc).__name__}: {exc} (run with -v for a traceback and please report it)")
        return EXIT_INTERNAL


def _end_process(code: int) -> None:
    """End the process now with ``code``, once everything written is flushed (if a flush fails, return: the
    normal exit then reports it as before)."""
    import os

    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        return
    os._exit(code)


def _run_click(args: list[str]) -> Any:
    """Run ``args`` through the Click group; Click's own exceptions become exit codes here."""
    import click

    from lbom._cli.group import cli

    try:
        # Without standalone mode, click returns (not raises) the code of ctx.exit(N): keep it, or gate
        # failures (exit 1) would turn into success.
        return cli.main(args=args, prog_name="l-bom", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        warn("aborted")
        return 130
    except click.ClickException as exc:
        exc.show()
        return EXIT_USAGE
