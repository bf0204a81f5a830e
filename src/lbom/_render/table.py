"""A human-readable table of the models found, rendered with Rich; every value is terminal-escaped."""

from __future__ import annotations

import io

from lbom._render.interface import RenderOptions
from lbom._render.terminal import escape_control
from lbom.model import ModelArtifact, ScanResult, Severity


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def human_count(count: int | None) -> str:
    if count is None:
        return "-"
    for threshold, suffix in ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K")):
        if count >= threshold:
            return f"{count / threshold:.2f}{suffix}"
    return str(count)


def _cell(value: object) -> str:
    if value is None:
        return "-"
    return escape_control(str(value))


_COLUMNS = (
    "Model",
    "Format",
    "Architecture",
    "Params",
    "Quant",
    "Dtype",
    "Context",
    "Vocab",
    "License",
    "Size",
    "SHA-256",
    "Findings",
)


def _findings_cell(model: ModelArtifact) -> str:
    if not model.findings:
        return "none"
    worst = max(model.findings, key=lambda f: f.severity.rank).severity
    return f"{len(model.findings)} (worst: {worst.value})"


def render(result: ScanResult, options: RenderOptions) -> str:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    width = options.width or 160
    table = Table(title=Text(f"l-bom {escape_control(result.tool_version)} - {len(result.models)} model(s)"))
    # Narrow terminals drop the columns that matter least first, rather than folding every header to slivers.
    dropped = {"Dtype", "Context", "Vocab", "SHA-256"} if width < 120 else set()
    if width < 90:
        dropped |= {"Architecture", "Format"}
    columns = [c for c in _COLUMNS if c not in dropped]
    for column in columns:
        table.add_column(column, overflow="fold", min_width=7 if column == "Size" else None)
    for model in result.models:
        sha = model.sha256
        cells = {
            "Model": _cell(model.path),
            "Format": _cell(model.format),
            "Architecture": _cell(model.architecture),
            "Params": human_count(model.parameter_count),
            "Quant": _cell(model.quantization),
            "Dtype": _cell(model.dtype),
            "Context": _cell(model.context_length),
            "Vocab": _cell(model.vocab_size),
            "License": _cell(model.license),
            "Size": human_size(model.total_size),
            "SHA-256": sha[:12] if sha else ("(multi-file)" if model.is_multi_file else "-"),
            "Findings": _findings_cell(model),
        }
        # Text objects: names from files must never be read as Rich markup.
        table.add_row(*(Text(cells[column]) for column in columns))
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        force_terminal=options.color,
        color_system="auto" if options.color else None,
        highlight=False,
    )
    console.print(table)
    notable = [f for f in result.all_findings if f.severity >= Severity.LOW]
    informational = len(result.all_findings) - len(notable)
    if notable or informational:
        hidden = f", plus {informational} informational not listed here: see --format json" if informational else ""
        console.print(f"Findings ({len(notable)}{hidden}):" if notable else f"Findings (none{hidden}).")
        for finding in notable:
            where = f" [{escape_control(finding.location)}]" if finding.location else ""
            console.print(
                f"  {finding.severity.value.upper():8} {finding.rule_id} {escape_control(finding.file or '')}: "
                f"{escape_control(finding.message)}{where}",
                markup=False,
            )
    return buffer.getvalue()
