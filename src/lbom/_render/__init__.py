"""Output renderers, one module per format, dispatched by :class:`OutputFormat`.

Renderer modules are imported only when their format is asked for, so ``--format json`` never imports Rich
tables or the SBOM libraries.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator

from lbom._render.interface import OutputFormat, RenderOptions
from lbom.model import ScanResult

# format -> module under lbom._render that defines render(result, options) -> str
RENDERERS: dict[OutputFormat, str] = {
    OutputFormat.JSON: "json",
    OutputFormat.TABLE: "table",
    OutputFormat.SPDX: "spdx",
    OutputFormat.HF_README: "hf_readme",
    OutputFormat.CYCLONEDX: "cyclonedx",
    OutputFormat.SPDX3: "spdx3",
    OutputFormat.SPDX_JSON: "spdx_json",
    OutputFormat.SARIF: "sarif",
}


def render(result: ScanResult, fmt: OutputFormat | str, options: RenderOptions | None = None) -> str:
    """Render a scan result in one of the output formats."""
    fmt = OutputFormat(fmt)
    module = importlib.import_module(f"lbom._render.{RENDERERS[fmt]}")
    text: str = module.render(result, options or RenderOptions())
    return text


def render_chunks(result: ScanResult, fmt: OutputFormat | str, options: RenderOptions | None = None) -> Iterator[str]:
    """The rendered text in pieces (one per model where the renderer can stream), for writing as it is made."""
    fmt = OutputFormat(fmt)
    module = importlib.import_module(f"lbom._render.{RENDERERS[fmt]}")
    streaming = getattr(module, "render_chunks", None)
    if streaming is None:
        yield render(result, fmt, options)
        return
    yield from streaming(result, options or RenderOptions())


__all__ = ["RENDERERS", "OutputFormat", "RenderOptions", "render", "render_chunks"]
