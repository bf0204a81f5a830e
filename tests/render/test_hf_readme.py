"""hf-readme: front matter for a Hugging Face Space/model card plus a Markdown body, for exactly one model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

import lbom
from lbom._render.hf_readme import md, md_paragraph
from lbom.errors import UsageError
from tests.render import scenarios


def split(text: str) -> tuple[dict[str, object], str]:
    assert text.startswith("---\n")
    head, body = text[4:].split("\n---\n", 1)
    front = yaml.safe_load(head)
    assert isinstance(front, dict)
    assert body.startswith("\n# ")
    return front, body.lstrip("\n")


def test_examples_goldens(examples_cwd: Path, golden: Callable[[str, str], None]) -> None:
    gguf = lbom.render(lbom.scan("examples/models/tinyllama-q4_k_m.gguf"), "hf-readme")
    golden("tinyllama.hf-readme.md", gguf)
    front, body = split(gguf)
    assert front == {
        "title": "TinyLlama Example Q4_K_M",
        "short_description": "gguf model, llama, 8960 parameters, Q4_K_M",
        "sdk": "static",
        "app_file": "index.html",
        "license": "apache-2.0",
        "tags": ["l-bom", "sbom", "gguf", "Q4_K_M"],
    }
    assert "`f51bdc7a098ca379437ca94800a41f59bc1b44310343a0568021688fe94a0ac6`" in body
    folder = lbom.render(
        lbom.scan("examples/models/tiny-mistral"),
        "hf-readme",
        lbom.RenderOptions(hf_title="Tiny Mistral", hf_sdk="gradio", hf_short_description="A tiny model"),
    )
    golden("tiny-mistral.hf-readme.md", folder)
    front, _ = split(folder)
    assert front["sdk"] == "gradio" and front["app_file"] == "app.py" and "app_port" not in front
    assert front["license"] == "mit"
    assert front["tags"] == ["l-bom", "sbom", "safetensors", "text-generation", "example"]


def test_docker_gets_app_port_only() -> None:
    options = lbom.RenderOptions(hf_sdk="docker", hf_app_port=8080)
    front, _ = split(lbom.render(scenarios.result(scenarios.warned_model()), "hf-readme", options))
    assert front["sdk"] == "docker" and front["app_port"] == 8080 and "app_file" not in front
    with pytest.raises(UsageError, match="app-port"):
        lbom.render(scenarios.result(scenarios.warned_model()), "hf-readme", lbom.RenderOptions(hf_app_port=1))
    with pytest.raises(UsageError, match="app-file"):
        lbom.render(
            scenarios.result(scenarios.warned_model()),
            "hf-readme",
            lbom.RenderOptions(hf_sdk="docker", hf_app_file="app.py"),
        )


def test_custom_license_and_findings() -> None:
    front, body = split(lbom.render(scenarios.result(scenarios.warned_model()), "hf-readme"))
    assert front["license"] == "other"
    assert front["license_name"] == "Acme Research License v2"
    assert "**HIGH** `LBOM-GGUF-007` tensor blk.0.attn\\_q extends past the end of the file" in body
    assert body.index("LBOM-GGUF-007") < body.index("LBOM-GGUF-002")  # worst first
    hub = split(lbom.render(scenarios.result(scenarios.sharded_model()), "hf-readme"))[0]
    assert hub["license"] == "llama3.1"


def test_several_models_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="found 5"):
        lbom.render(scenarios.edge_result(), "hf-readme")
    with pytest.raises(UsageError, match="found none"):
        lbom.render(scenarios.result(), "hf-readme")


def test_hostile_values_cannot_break_yaml_or_markdown(golden: Callable[[str, str], None]) -> None:
    text = lbom.render(scenarios.result(scenarios.hostile_model()), "hf-readme")
    golden("hostile.hf-readme.md", text)
    front, body = split(text)
    assert set(front) == {"title", "short_description", "sdk", "app_file", "license", "license_name", "tags"}
    assert "pwned" in str(front["title"]) and "\n" not in str(front["title"])
    assert all("\n" not in str(tag) for tag in front["tags"])  # type: ignore[union-attr]
    assert "\x1b" not in text and "\x00" not in text
    # Only our own headings; no raw HTML or links from the file.
    assert [line for line in body.splitlines() if line.startswith("#")] == [
        body.splitlines()[0],
        "## Model",
        "## Files",
        "## Findings",
    ]
    assert "<b>" not in body and "](" not in body
    assert "\n---" not in body


def test_markdown_escaping() -> None:
    assert md("a|b") == "a\\|b"
    assert md("<script>") == "&lt;script&gt;"
    assert md("[x](y)") == "\\[x\\]\\(y\\)"
    assert md("line\nbreak") == "line\\\\nbreak"
    assert md_paragraph("- item") == "\\- item"
    assert md_paragraph("1. first") == "1\\. first"
    assert md("2026-01-01 v1.2") == "2026-01-01 v1.2"
