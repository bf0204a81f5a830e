"""The l-bom MCP server: lets a local agent inspect a model (headers only, never loaded) before it trusts it.

:mod:`lbom._mcp.tools` holds the tools as confined, bounded library functions; :mod:`lbom._mcp.server` wires
them to the official ``mcp`` SDK over stdio (optional extra ``l-bom[mcp]``).
"""
