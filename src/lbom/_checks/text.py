"""Identity facts that carry terminal control or bidirectional characters.

A model's name, architecture, license or base model ends up in SBOMs, tables, CI logs and GUIs. The renderers
escape such characters, so nothing is ever executed by a terminal; but a header value like ``llama\\x1b[2J`` or
``mit\\u202e`` has no innocent reason to exist, and says the file was crafted to mislead whoever reads it raw.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lbom._render.terminal import CONTROL_CHARACTERS
from lbom.model import Finding, ModelArtifact, Severity

if TYPE_CHECKING:
    from lbom._checks import CheckContext

R_CONTROL_CHARACTERS = "LBOM-TEXT-001"


def check(model: ModelArtifact, context: CheckContext) -> list[Finding]:
    facts = {
        "name": model.name,
        "architecture": model.architecture,
        "license": model.license,
        "license_name": model.license_name,
        "quantization": model.quantization,
        "size_label": model.size_label,
        **{f"base_model {i}": ref.name for i, ref in enumerate(model.base_models)},
    }
    found = []
    for fact, value in facts.items():
        if not value:
            continue
        match = CONTROL_CHARACTERS.search(value)
        if match is None:
            continue
        found.append(
            Finding(
                R_CONTROL_CHARACTERS,
                Severity.MEDIUM,
                f"{fact} contains the control character U+{ord(match.group(0)):04X} (terminal escapes or hidden "
                "text); it is shown escaped",
                model.files[0].path if model.files else model.path,
                fact,
                "check where the file came from: no real model names itself with control characters",
            )
        )
    return found
