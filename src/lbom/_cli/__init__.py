"""The ``l-bom`` command: a thin Click client of the library.

Commands live one per module in this package and are imported only when invoked (``COMMANDS`` maps a name to
``module:attribute``), so ``l-bom version`` starts without importing the readers, Rich or any SBOM library.

Exit codes (documented in README.md):
  0  success
  1  a gate failed: verify mismatch, policy violation, or a finding at/above ``--fail-on``
  2  usage error: bad option, unknown format, malformed policy or lock file
  3  input unreadable: missing path, permission denied, not a model file, network failure for a remote scan
  4  internal error (a bug in l-bom: please report it, with the output of ``-v``)
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

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


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        module = importlib.import_module(f"lbom._cli.{module_name}")
        command: click.Command = getattr(module, attribute)
        return command


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from lbom._version import tool_version

    click.echo(f"l-bom {tool_version()}")
    ctx.exit(0)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks for errors (for bug reports).")
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Print the version and exit.",
)
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """l-bom: a Software Bill of Materials for local model files, read from their headers, never executed."""
    ctx.ensure_object(dict)
    ctx.obj["verbose"] = verbose


def warn(message: str) -> None:
    """One line on stderr, prefixed, with control characters escaped."""
    from lbom._render.terminal import escape_control

    click.echo(f"l-bom: {escape_control(message)}", err=True)


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
    from lbom.errors import Error

    args = list(sys.argv[1:] if argv is None else argv)
    options_part = args[: args.index("--")] if "--" in args else args
    verbose = "-v" in options_part or "--verbose" in options_part
    if verbose:
        # -v is accepted anywhere before "--" (l-bom scan FILE -v), not only before the subcommand.
        rest = args[len(options_part) :]
        args = ["--verbose", *(a for a in options_part if a not in ("-v", "--verbose")), *rest]
    try:
        # Without standalone mode, click returns (not raises) the code of ctx.exit(N): keep it, or gate
        # failures (exit 1) would turn into success.
        code = cli.main(args=args, prog_name="l-bom", standalone_mode=False)
        if isinstance(code, int) and not isinstance(code, bool) and code != EXIT_OK:
            return sys.exit(code)
    except click.exceptions.Exit as exc:
        return sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        warn("aborted")
        return sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        return sys.exit(EXIT_USAGE)
    except Error as exc:
        if verbose:
            import traceback

            traceback.print_exc()
        warn(f"error: {exc.diagnostics()}")
        return sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        warn("interrupted")
        return sys.exit(130)
    except BrokenPipeError:
        return sys.exit(0)
    except Exception as exc:  # a bug: one line unless -v
        if verbose:
            import traceback

            traceback.print_exc()
        warn(f"internal error: {type(exc).__name__}: {exc} (run with -v for a traceback and please report it)")
        return sys.exit(EXIT_INTERNAL)
    return sys.exit(EXIT_OK)
