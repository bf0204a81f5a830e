"""The contract for output renderers: one module per format, each ``render(result, options) -> str``."""

from __future__ import annotations

import enum

from lbom._records import dataclass


class OutputFormat(str, enum.Enum):
    """Every output format l-bom can write. The CLI's ``--format`` choices come from here."""

    JSON = "json"
    TABLE = "table"
    SPDX = "spdx"
    HF_README = "hf-readme"
    CYCLONEDX = "cyclonedx"
    SPDX3 = "spdx3"
    SPDX_JSON = "spdx-json"
    SARIF = "sarif"


@dataclass(frozen=True)
class RenderOptions:
    """Options some renderers take. Defaults match the CLI's defaults."""

    hf_title: str | None = None
    hf_short_description: str | None = None
    hf_sdk: str = "static"
    hf_app_file: str | None = None
    hf_app_port: int | None = None
    color: bool = False
    width: int | None = None
