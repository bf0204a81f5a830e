"""The Model Context Protocol server over stdio, built on the official ``mcp`` SDK's low-level ``Server``.

It lists the tools of :mod:`lbom._mcp.tools` with their exact JSON schemas and runs each call in a worker thread
under the configured time limit. A refused or failed call comes back as an error result (``isError``) whose text
says why; a successful one carries the JSON both as ``structuredContent`` and as text, for clients that only
read text. Only imported by ``l-bom mcp``, so the SDK stays an optional extra.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
import mcp_types as types
from mcp.server import Server
from mcp.server.context import ServerRequestContext
from mcp.server.stdio import stdio_server

from lbom._mcp.tools import TOOLS, ServerConfig, ToolRefused, call_tool

INSTRUCTIONS = (
    "l-bom reads model files (GGUF, safetensors, PyTorch, ...) from their headers without loading or executing "
    "them. Call scan_model before loading a model you have not checked; verify_model to confirm a download's "
    "SHA-256. Only paths under the server's roots are allowed."
)


def _error(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=message)], is_error=True)


def build_server(config: ServerConfig) -> Server[Any]:
    from lbom._version import tool_version

    tools = [
        types.Tool(
            name=tool.name,
            title=tool.title,
            description=tool.description,
            input_schema=tool.input_schema,
            output_schema=tool.output_schema,
            annotations=types.ToolAnnotations(
                read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
            ),
        )
        for tool in TOOLS
    ]
    schemas = {tool.name: tool.input_schema for tool in TOOLS}

    async def on_list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tools)

    async def on_call_tool(ctx: ServerRequestContext[Any], params: types.CallToolRequestParams) -> types.CallToolResult:
        def run() -> dict[str, Any]:
            return call_tool(config, params.name, dict(params.arguments or {}))

        try:
            # The thread finishes on its own (scans check the deadline between files); the call returns at the limit.
            with anyio.fail_after(config.timeout + 5):
                result = await anyio.to_thread.run_sync(run, abandon_on_cancel=True)
        except ToolRefused as exc:
            return _error(str(exc))
        except TimeoutError:
            return _error(f"the call ran past the server's {config.timeout:g}-second limit")
        except Exception as exc:  # a bug in l-bom: report it to the agent, keep serving
            return _error(f"internal error in l-bom: {type(exc).__name__}: {exc}")
        text = json.dumps(result, ensure_ascii=False, sort_keys=True)
        return types.CallToolResult(content=[types.TextContent(type="text", text=text)], structured_content=result)

    return Server(
        "l-bom",
        version=tool_version(),
        title="l-bom model inspector",
        instructions=INSTRUCTIONS,
        get_tool_input_schema=schemas.get,
        on_list_tools=on_list_tools,
        on_call_tool=on_call_tool,
    )


def serve_stdio(config: ServerConfig) -> None:
    """Serve MCP on stdin/stdout until the client closes the connection."""
    server = build_server(config)

    async def main() -> None:
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())

    anyio.run(main)
