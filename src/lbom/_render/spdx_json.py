"""SPDX 2.3 JSON: the document of the ``spdx`` (tag-value) renderer, serialized by spdx-tools' JSON converter."""

from __future__ import annotations

import json

from lbom._render.interface import RenderOptions
from lbom.model import ScanResult


def render(result: ScanResult, options: RenderOptions) -> str:
    from spdx_tools.spdx.jsonschema.document_converter import DocumentConverter

    from lbom._render.spdx import build_document

    document = DocumentConverter().convert(build_document(result))  # type: ignore[no-untyped-call]
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
