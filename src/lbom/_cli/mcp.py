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
def mcp_command(roots: tuple[str, ...], max_files: int, max_hash_bytes: int, timeout: float) -> None:
    """Serve l-bom's tools (scan_model, verify_model, list_models) to an MCP client over stdio.

    The server only reads: it never executes, loads or writes model files.
    """
    import importlib.util

    from lbom._mcp.tools import ToolRefused, default_roots, make_config
    from lbom.errors import DependencyMissing, UsageError

    if importlib.util.find_spec("mcp") is None:
        raise DependencyMissing("l-bom mcp", "mcp", "mcp")
    try:
        config = make_config(list(roots) or default_roots(), max_files, max_hash_bytes, timeout)
    except ToolRefused as exc:
        raise UsageError(str(exc)) from None
    from lbom._mcp.server import serve_stdio

    serve_stdio(config)
