"""``l-bom check``: scan PATH and gate it against a policy file."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from lbom._cli.cache_options import CacheFlags, cache_options, terminal_progress
from lbom._cli.output import output_option

if TYPE_CHECKING:
    from lbom._policy import CheckResult

_FORMATS = ("table", "json", "sarif")


@click.command("check")
@click.argument("paths", nargs=-1, type=click.Path(readable=False, path_type=str))
@click.option(
    "--policy",
    "policy_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=str),
    help="Policy file (TOML): allowed formats and licenses, failing severity, ignores, required fields.",
)
@click.option(
    "-f", "--format", "fmt", type=click.Choice(_FORMATS), default="table", show_default=True, help="Output format."
)
@output_option
@click.option("--no-hash", is_flag=True, help="Skip SHA-256 hashing (a policy requiring sha256 then fails).")
@cache_options
def check_command(
    paths: tuple[str, ...], policy_file: str, fmt: str, output: str | None, no_hash: bool, cache_flags: CacheFlags
) -> None:
    """Check the models under PATHS against a policy; exit 1 if any model violates it.

    The policy is loaded first, strictly: an unknown table or key, or an empty policy, is a usage error (exit 2).
    """
    from lbom._cli import EXIT_GATE
    from lbom._cli.output import write_output
    from lbom._policy import check, load_policy
    from lbom.errors import UsageError

    if not paths:
        raise UsageError("check needs a PATH (a model file or a folder)")
    policy = load_policy(policy_file)
    with terminal_progress() as display:
        result = check(list(paths), policy, options=cache_flags.scan_options(paths, hash=not no_hash, progress=display))
    if fmt == "sarif":
        from lbom._render.sarif import sarif_text

        pairs = [(f, None) for f in result.failures] + [(i.finding, i.reason) for i in result.ignored]
        tool_version = result.scan.tool_version if result.scan else ""
        text = sarif_text(pairs, tool_version)
    elif fmt == "json":
        import json

        text = json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n"
    else:
        text = _text(result)
    write_output(text, output)
    if not result.passed:
        click.get_current_context().exit(EXIT_GATE)


def _text(result: CheckResult) -> str:
    from lbom._render.terminal import escape_control

    lines = []
    for finding in result.failures:
        where = f" [{finding.location}]" if finding.location else ""
        lines.append(
            f"FAIL {finding.rule_id} ({finding.severity.value}) {finding.file or ''}: {finding.message}{where}"
        )
    for ignored in result.ignored:
        f = ignored.finding
        lines.append(f"ignored {f.rule_id} {f.file or ''}: {f.message} (reason: {ignored.reason})")
    verdict = "PASSED" if result.passed else "FAILED"
    lines.append(
        f"{verdict}: {result.models_checked} models checked against {result.policy}: "
        f"{len(result.violations)} policy violations, {len(result.failing_findings)} failing findings, "
        f"{len(result.ignored)} ignored"
    )
    return "\n".join(escape_control(line) for line in lines) + "\n"
