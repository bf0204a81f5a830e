"""``l-bom rules``: the findings catalog, every rule id with its title, default severity and remedy."""

from __future__ import annotations

import click

from lbom._cli.output import output_option

_FORMATS = ("table", "markdown", "json")


@click.command("rules")
@click.argument("rule_ids", nargs=-1)
@click.option(
    "-f", "--format", "fmt", type=click.Choice(_FORMATS), default="table", show_default=True, help="Output format."
)
@output_option
def rules_command(rule_ids: tuple[str, ...], fmt: str, output: str | None) -> None:
    """List the rules l-bom's findings can carry (all, or the RULE_IDS given), e.g. for policies and docs."""
    import json

    from lbom._catalog import RULES, Rule, catalog, catalog_markdown
    from lbom._cli.output import write_output
    from lbom.errors import UsageError

    unknown = [rule_id for rule_id in rule_ids if rule_id not in RULES]
    if unknown:
        raise UsageError(f"unknown rule id {unknown[0]!r} (l-bom rules lists them all)")
    selected: list[Rule] = [RULES[rule_id] for rule_id in rule_ids] if rule_ids else list(catalog())
    if fmt == "json":
        rows = [
            {
                "rule_id": r.rule_id,
                "title": r.title,
                "severity": r.severity.value,
                "description": r.description,
                "remedy": r.remedy,
            }
            for r in selected
        ]
        text = json.dumps(rows, indent=2) + "\n"
    elif fmt == "markdown" and not rule_ids:
        text = catalog_markdown()
    else:
        text = "".join(
            f"{r.rule_id:<16} {r.severity.value:<8} {r.title}\n"
            + (f"    {r.description}\n    remedy: {r.remedy}\n" if rule_ids or fmt == "markdown" else "")
            for r in selected
        )
    write_output(text, output)
