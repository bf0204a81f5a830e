"""External data a local model refers to must exist next to it (ONNX ``external_data`` locations).

Readers depend only on a file's bytes (their results are cached by content); whether the files a model points
to are present is a fact about the folder, so it is checked here, on the assembled model.
"""

from __future__ import annotations

import os
import posixpath
from typing import TYPE_CHECKING

from lbom.model import Finding, ModelArtifact, Severity

if TYPE_CHECKING:
    from lbom._checks import CheckContext

R_EXTERNAL_MISSING = "LBOM-ONNX-003"
_MAX_CHECKED = 64


def check(model: ModelArtifact, context: CheckContext) -> list[Finding]:
    locations = model.metadata.get("onnx.external_data")
    if not isinstance(locations, list) or not model.files:
        return []
    from lbom._formats.onnx import escapes_folder  # only ONNX models get here

    model_file = model.files[0].path
    if not os.path.isfile(model_file):
        return []  # remote scans: nothing local to look at
    folder = os.path.dirname(model_file)
    found = []
    for location in locations[:_MAX_CHECKED]:
        if not isinstance(location, str):
            continue
        if escapes_folder(location):
            continue  # already a finding of the reader; never opened
        if not os.path.isfile(os.path.join(folder, posixpath.normpath(location.replace("\\", "/")))):
            found.append(
                Finding(
                    R_EXTERNAL_MISSING,
                    Severity.MEDIUM,
                    f"external data file {location!r} is missing",
                    model_file,
                    f"external data {location}",
                    "copy the external data file next to the model",
                )
            )
    return found
