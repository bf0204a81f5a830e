"""``l-bom mcp``: run the Model Context Protocol server over stdio (optional extra ``l-bom[mcp]``)."""

from __future__ import annotations

import click


@click.command("mcp")
@click.option(
    "--root",
    "roots",
    multiple=True,
    type=click.Path(file_okay=False, dir_okay=True, path_type=str),
    help="A folder the server may read (repeatable). Default: the model stores on this machine, else the "
    "current folder. Nothing outside the roots is opened.",
)
@click.option("--max-files", type=click.IntRange(1), default=1000, show_default=True, help="Files one call may open.")
@click.option(
    "--max-hash-bytes",
    type=click.IntRange(0),
    default=64 * 1024**3,
    show_default=True,
    help="Bytes one call may hash.",
)
@click.option("--timeout", type=click.FloatRange(1), default=600.0, show_default=True, help="Seconds one call may run.")
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(dir_okay=False, path_type=str),
    help="Policy TOML used by check_model when a call gives none (checked at start: a bad policy exits 2).",
)
def mcp_command(
    roots: tuple[str, ...], max_files: int, max_hash_bytes: int, timeout: float, policy_file: str | None
) -> None:
    """Serve l-bom's tools (scan_model, verify_model, check_model, list_models) to an MCP client over stdio.

    The server only reads: it never executes, loads or writes model files.
    """
    import importlib.util

    from lbom._mcp.tools import ToolRefused, default_roots, make_config
    from lbom.errors import DependencyMissing, UsageError

    if importlib.util.find_spec("mcp") is None:
        raise DependencyMissing("l-bom mcp", "mcp", "mcp")
    policy_text = None
    if policy_file is not None:
        from lbom._policy import parse_policy
        from lbom.errors import InputError

        try:
            with open(policy_file, "rb") as handle:
                policy_text = handle.read().decode("utf-8", "replace")
        except OSError as exc:
            raise InputError(policy_file, exc.strerror or str(exc)) from exc
        parse_policy(policy_text, policy_file)  # a bad policy fails at start, not on the first call
    try:
        roots_or_default = list(roots) or default_roots()
        config = make_config(roots_or_default, max_files, max_hash_bytes, timeout, policy_text, policy_file or "")
    except ToolRefused as exc:
        raise UsageError(str(exc)) from None
    from lbom._mcp.server import serve_stdio

    serve_stdio(config)
