"""Checks that look at an assembled model as a whole (beyond what a single reader can see).

Each check module exposes ``check(model, context) -> list[Finding]``; ``CHECKS`` lists them in the order they
run. Adding a family of checks = one new module + one line here.
"""

from __future__ import annotations

from collections.abc import Callable

from lbom._checks import chat_template, content_address, external_data, licenses, naming, text
from lbom._records import dataclass
from lbom.model import Finding, ModelArtifact


@dataclass(frozen=True)
class CheckContext:
    """What a scan lends its checks besides the model."""

    template_memo: chat_template.TemplateMemo | None = None
    """Where chat-template analyses are remembered between scans (None: analyse every template)."""


NO_CONTEXT = CheckContext()

CheckFunction = Callable[[ModelArtifact, CheckContext], list[Finding]]

CHECKS: tuple[CheckFunction, ...] = (
    external_data.check,
    naming.check,
    chat_template.check,
    licenses.check,
    content_address.check,
    text.check,
)


def run_checks(model: ModelArtifact, context: CheckContext = NO_CONTEXT) -> list[Finding]:
    found: list[Finding] = []
    for check in CHECKS:
        found.extend(check(model, context))
    return found
