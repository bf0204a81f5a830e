"""License normalisation: the license strings models carry, mapped to SPDX terms.

Hugging Face model cards and GGUF files write licenses as lowercase Hub ids (``apache-2.0``, ``mit``,
``cc-by-nc-4.0``), model-family licenses (``llama3.1``, ``gemma``, ``openrail``) or ``other`` plus a
``license_name``. :func:`normalize_license` turns one such string into a :class:`LicenseInfo`: the canonical SPDX
id when the string is an identifier on the SPDX License List (compared case-insensitively, plus a few Hub ids that
name a single-version SPDX license), otherwise a named license with a deterministic ``LicenseRef-`` id. Renderers
and policies use it so that every output agrees on what a license is. SPDX *expressions* (``MIT OR Apache-2.0``)
are kept as named licenses: one model declares one license string, and we do not guess at operators.

This module is imported on the scan path (policies), so it must stay cheap: no SBOM library imports here.
"""

from __future__ import annotations

from lbom._ids import id_fragment
from lbom._records import dataclass
from lbom._spdx_license_ids import SPDX_LICENSE_IDS
from lbom.model import ModelArtifact

_BY_LOWER: dict[str, str] = {spdx_id.lower(): spdx_id for spdx_id in SPDX_LICENSE_IDS}

# Hugging Face Hub license ids (https://huggingface.co/docs/hub/repositories-licenses) whose SPDX id differs by
# more than case. Only licenses that exist in exactly one version are aliased; ``gpl``/``lgpl``/``cc``/``bsd``
# name no version and stay named licenses.
_HUB_ALIASES: dict[str, str] = {
    "odbl": "ODbL-1.0",
    "pddl": "PDDL-1.0",
    "odc-by": "ODC-By-1.0",
}

# The Hugging Face Hub's license ids (https://huggingface.co/docs/hub/repositories-licenses) that are not SPDX
# License List ids: model families and license families. Model cards declare them, so policies may name them.
HUB_LICENSE_IDS = frozenset(
    {
        "openrail",
        "openrail++",
        "bigscience-openrail-m",
        "creativeml-openrail-m",
        "bigscience-bloom-rail-1.0",
        "bigcode-openrail-m",
        "bsd",
        "c-uda",
        "cc",
        "gfdl",
        "gpl",
        "lgpl",
        "lgpl-lr",
        "deepfloyd-if-license",
        "llama2",
        "llama3",
        "llama3.1",
        "llama3.2",
        "llama3.3",
        "llama4",
        "gemma",
        "other",
    }
)

# Values that declare nothing: the document then says NOASSERTION instead of inventing a license.
_NO_LICENSE = frozenset({"", "unknown", "noassertion", "none", "null", "n/a", "na", "-"})
# Values that say "see the license name" (Hub cards: ``license: other`` + ``license_name``).
_SEE_NAME = frozenset({"other", "custom", "proprietary"})

_MAX_NAME = 120


@dataclass(frozen=True)
class LicenseInfo:
    """One declared license, in SPDX terms.

    ``text`` is what the model declared (stripped; may be a whole license text), ``spdx_id`` the canonical SPDX
    License List id or ``None``, ``name`` a short human-readable name (the SPDX id, the card's ``license_name``,
    or the declared text, truncated to one line), ``ref`` what to write in an SPDX license expression: the SPDX id
    or a ``LicenseRef-`` id that is the same for the same text and different for different texts. ``url`` is a
    link the model gives for its license, when it gives one.
    """

    text: str
    spdx_id: str | None
    name: str
    ref: str
    url: str | None = None

    @property
    def is_spdx(self) -> bool:
        """True when the license is an identifier on the SPDX License List."""
        return self.spdx_id is not None


def spdx_id_for(text: str) -> str | None:
    """The canonical SPDX License List id for ``text`` (case-insensitive, Hub aliases), or ``None``."""
    key = text.strip().lower()
    return _BY_LOWER.get(key) or _HUB_ALIASES.get(key)


def license_ref(text: str) -> str:
    """A deterministic ``LicenseRef-`` id for a non-SPDX license.

    SPDX allows only letters, digits, ``.`` and ``-`` after the prefix. Other characters become ``-``; whenever
    the text had to be changed (or shortened), eight hex digits of its SHA-256 are appended so that two different
    texts never share an id.
    """
    if text.startswith("LicenseRef-"):
        text = text[len("LicenseRef-") :]
    return f"LicenseRef-{id_fragment(text)}"


def normalize_license(text: str | None, name: str | None = None, url: str | None = None) -> LicenseInfo | None:
    """Map a declared license (and optional ``license_name`` / link) to a :class:`LicenseInfo`.

    Returns ``None`` when nothing is declared (empty, ``unknown``, ``NOASSERTION``) and no name is given either.
    ``other`` (and ``custom``/``proprietary``) defer to ``name`` when there is one.
    """
    declared = (text or "").strip()
    label = (name or "").strip() or None
    link = (url or "").strip() or None
    lowered = declared.lower()
    if lowered in _NO_LICENSE or (lowered in _SEE_NAME and label is not None):
        if label is None:
            return None
        declared, label = label, None
    spdx_id = spdx_id_for(declared)
    if spdx_id is not None:
        return LicenseInfo(text=declared, spdx_id=spdx_id, name=spdx_id, ref=spdx_id, url=link)
    return LicenseInfo(
        text=declared, spdx_id=None, name=_short_name(label or declared), ref=license_ref(declared), url=link
    )


def model_license(model: ModelArtifact) -> LicenseInfo | None:
    """The license a scanned model declares (artifact first, then its model card), normalised."""
    link = None
    for entry in model.files:
        if entry.header is not None and entry.header.license_link:
            link = entry.header.license_link
            break
    return normalize_license(model.license, model.license_name, link)


def _short_name(text: str) -> str:
    first_line = text.strip().splitlines()[0].strip() if text.strip() else text
    if len(first_line) > _MAX_NAME:
        return first_line[: _MAX_NAME - 1].rstrip() + "…"
    if first_line != text.strip():
        return first_line + " …"
    return first_line


__all__ = ["HUB_LICENSE_IDS", "LicenseInfo", "license_ref", "model_license", "normalize_license", "spdx_id_for"]
