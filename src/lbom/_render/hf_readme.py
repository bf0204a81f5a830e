"""A Hugging Face README (Space or model card) for one model: YAML front matter plus a Markdown body.

The front matter carries ``title`` (``--hf-title`` or the model name), ``short_description``, ``sdk``,
``app_file`` (gradio/static), ``app_port`` (docker only), ``license`` (a Hub license id, or ``other`` with
``license_name``/``license_link``) and ``tags``; it is written by PyYAML's safe dumper, so any value read from a
file is quoted as YAML needs. The body lists the model facts, files with sizes and hashes, and findings; every
value from a file is escaped for Markdown (and HTML), so nothing in a model can add headings, links or markup.
"""

from __future__ import annotations

import re
from typing import Any

from lbom._licenses import model_license
from lbom._render import sbom_facts as facts
from lbom._render.interface import RenderOptions
from lbom._render.terminal import escape_control
from lbom.errors import UsageError
from lbom.model import Finding, ModelArtifact, ScanResult

SHORT_DESCRIPTION_MAX = 60
"""Hugging Face shows at most this many characters of a Space's short description."""

_DEFAULT_APP_FILE = {"gradio": "app.py", "static": "index.html"}
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#|~])")
_BLOCK_START = re.compile(r"^(\s*\d*)([-+=.)])")
_HUB_LICENSE_ID = re.compile(r"^[a-z0-9][a-z0-9.+\-]*$")


def render(result: ScanResult, options: RenderOptions) -> str:
    import yaml

    model = _single_model(result)
    front = front_matter(model, options)
    body = _body(model, result, front["title"], options)
    header = yaml.safe_dump(front, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1000)
    return f"---\n{header}---\n\n{body}"


def _single_model(result: ScanResult) -> ModelArtifact:
    if len(result.models) == 1:
        return result.models[0]
    if not result.models:
        raise UsageError("hf-readme needs a model, but the scan found none: point it at one model file or folder")
    raise UsageError(
        f"hf-readme describes one model, but the scan found {len(result.models)}: "
        "scan a single model file (or a folder holding one model), or use --format json/cyclonedx/spdx for several"
    )


def front_matter(model: ModelArtifact, options: RenderOptions) -> dict[str, Any]:
    """The README's YAML front matter as an ordered dict."""
    sdk = options.hf_sdk
    if sdk not in ("gradio", "docker", "static"):
        raise UsageError(f"--hf-sdk must be gradio, docker or static, not {sdk!r}")
    if options.hf_app_port is not None and sdk != "docker":
        raise UsageError("--hf-app-port only applies with --hf-sdk docker")
    if options.hf_app_file is not None and sdk == "docker":
        raise UsageError("--hf-app-file applies to --hf-sdk gradio or static (docker Spaces use app_port)")
    title = _one_line(options.hf_title) or _one_line(facts.display_name(model)) or "model"
    description = _one_line(options.hf_short_description) or _one_line(facts.summary(model))
    front: dict[str, Any] = {"title": title}
    if description:
        if len(description) > SHORT_DESCRIPTION_MAX:
            description = description[: SHORT_DESCRIPTION_MAX - 1].rstrip() + "…"
        front["short_description"] = description
    front["sdk"] = sdk
    if sdk == "docker":
        if options.hf_app_port is not None:
            front["app_port"] = options.hf_app_port
    else:
        front["app_file"] = _one_line(options.hf_app_file) or _DEFAULT_APP_FILE[sdk]
    front.update(_license_fields(model))
    front["tags"] = _tags(model)
    return front


def _license_fields(model: ModelArtifact) -> dict[str, str]:
    info = model_license(model)
    if info is None:
        return {}
    hub_id = info.spdx_id.lower() if info.spdx_id else info.text.strip().lower()
    if _HUB_LICENSE_ID.match(hub_id) and hub_id not in ("other",):
        return {"license": hub_id}
    fields = {"license": "other", "license_name": _one_line(info.name)}
    if info.url:
        fields["license_link"] = _one_line(info.url)
    return fields


def _tags(model: ModelArtifact) -> list[str]:
    tags = ["l-bom", "sbom", model.format]
    if model.quantization:
        tags.append(model.quantization)
    if model.sidecars is not None:
        tags.extend(model.sidecars.tags)
    seen: list[str] = []
    for tag in tags:
        clean = _one_line(tag)
        if clean and clean not in seen:
            seen.append(clean)
    return seen


def _body(model: ModelArtifact, result: ScanResult, title: str, options: RenderOptions) -> str:
    lines = [f"# {md(title)}", ""]
    if options.hf_short_description:
        lines += [md_paragraph(_one_line(options.hf_short_description)), ""]
    lines += [
        f"Software Bill of Materials for **{md(facts.display_name(model))}**, read from the model's file headers by "
        f"l-bom {md(result.tool_version)} on {md(result.generated_at)}. Nothing in the files was executed.",
        "",
        "## Model",
        "",
        "| Field | Value |",
        "| --- | --- |",
    ]
    for label, value in _model_rows(model):
        lines.append(f"| {label} | {value} |")
    lines += ["", "## Files", "", "| File | Role | Size (bytes) | SHA-256 |", "| --- | --- | ---: | --- |"]
    for entry in model.files:
        digest = f"`{entry.sha256}`" if entry.sha256 else "not hashed"
        lines.append(f"| {md(entry.path)} | {md(entry.role)} | {entry.size} | {digest} |")
    findings = sorted([*model.findings, *result.findings], key=Finding.sort_key)
    lines += ["", "## Findings", ""]
    if findings:
        for finding in findings:
            lines.append(f"- {_finding_line(finding)}")
    else:
        lines.append("No findings.")
    return "\n".join(lines) + "\n"


def _model_rows(model: ModelArtifact) -> list[tuple[str, str]]:
    info = model_license(model)
    rows: list[tuple[str, object]] = [
        ("Name", facts.display_name(model)),
        ("Format", model.format),
        ("Architecture", model.architecture),
        ("Parameters", model.parameter_count),
        ("Quantization", model.quantization),
        ("Dtype", model.dtype),
        ("Context length", model.context_length),
        ("Vocabulary size", model.vocab_size),
        ("License", (info.spdx_id or info.name) if info else None),
        ("Base model", ", ".join(b.name for b in model.base_models) or None),
        ("Task", facts.task(model)),
        ("Training framework", model.training_framework),
        ("Total size (bytes)", model.total_size),
    ]
    out = [(label, md(str(value))) for label, value in rows if value is not None]
    if model.tensor_types:
        histogram = ", ".join(
            f"{stat.type_name}: {stat.tensor_count} tensors / {stat.parameter_count} parameters"
            for stat in model.tensor_types
        )
        out.append(("Tensor types", md(histogram)))
    for template in model.chat_templates:
        out.append(("Chat template", f"{md(template.name)} from {md(template.source)}, sha256 `{template.sha256}`"))
    return out


def _finding_line(finding: Finding) -> str:
    text = f"**{finding.severity.value.upper()}** `{md_code(finding.rule_id)}` {md(finding.message)}"
    if finding.file:
        text += f" — {md(finding.file)}"
    if finding.location:
        text += f" ({md(finding.location)})"
    if finding.remedy:
        text += f". Remedy: {md(finding.remedy)}"
    return text


def _one_line(text: str | None) -> str:
    return escape_control(text).strip() if text else ""


def md(text: str) -> str:
    """Text from a file, safe inside Markdown (tables included): one line, markup and HTML escaped."""
    line = escape_control(text)
    line = line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", line)


def md_paragraph(text: str) -> str:
    """Like :func:`md`, for text that starts a line: a leading ``-``, ``+``, ``=`` or ``1.`` stays text."""
    return _BLOCK_START.sub(lambda m: m.group(1) + "\\" + m.group(2), md(text), count=1)


def md_code(text: str) -> str:
    """Text for inside a single-backtick code span."""
    return escape_control(text).replace("`", "'").replace("|", "\\|")
