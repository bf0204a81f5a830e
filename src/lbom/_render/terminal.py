"""Making text from files safe for a terminal: control characters become visible escapes."""

from __future__ import annotations

import re

CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
"""What every output escapes: C0/C1 controls (tab and newline are escaped separately), bidi controls and marks,
zero-width characters. Also what :mod:`lbom._checks.text` reports in identity facts."""


def escape_control(text: str) -> str:
    """Replace C0/C1 controls, bidi overrides and zero-width characters with \\xNN / \\uNNNN escapes.

    Newlines and tabs are escaped too when ``text`` is a single-line value; call sites that print multi-line
    text split it first.
    """
    return CONTROL_CHARACTERS.sub(_escape_one, text.replace("\n", "\\n").replace("\t", "\\t"))


def _escape_one(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
