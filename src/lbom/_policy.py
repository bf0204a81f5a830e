"""Policies: which models may ship. A TOML file, checked strictly: a typo must fail, never allow everything.

Tables and keys (all optional, but the file must say something)::

    [formats]
    allow = ["gguf", "safetensors"]   # only these formats; "pickle" also names PyTorch pickle checkpoints
    deny = ["pickle"]                 # never these formats

    [licenses]
    allow = ["apache-2.0", "mit"]     # only these licenses (a model without a license fails an allow list)
    deny = ["cc-by-nc-4.0"]           # never these

    [findings]
    fail_on = "high"                  # a finding of this severity or worse fails the check
    ignore = [{ rule = "LBOM-NAME-001", reason = "vendor naming" }]   # reason is required; paths optional

    [require]
    fields = ["sha256", "license"]    # facts every model must have

    [[overrides]]                     # for models whose path matches, these tables replace the ones above
    paths = ["vendor/*"]              # fnmatch patterns; '*' also matches '/'
    formats = { allow = ["gguf", "safetensors", "pickle"] }
    findings = { ignore = [{ rule = "LBOM-LIC-001", reason = "internal models" }] }   # ignores add up

An override's ``formats`` or ``licenses`` table replaces that whole table (its allow *and* deny lists: a list it
does not set is empty); ``findings.fail_on`` and ``require.fields`` replace the base values; ignores add up.

An unknown table or key, a wrong type, an unknown format, severity, rule id or required field, an ignore
without a reason and an empty policy are :class:`~lbom.errors.UsageError` (exit 2), each naming the key.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Mapping
from dataclasses import field, replace
from typing import TYPE_CHECKING, Any

from lbom._checks.licenses import license_key
from lbom._lock import load_toml
from lbom._records import dataclass
from lbom.errors import InputError, UsageError
from lbom.model import Finding, JsonValue, ModelArtifact, ScanResult, Severity

if TYPE_CHECKING:
    from lbom.scan import ScanOptions

R_FORMAT = "LBOM-POLICY-001"
R_LICENSE = "LBOM-POLICY-002"
R_REQUIRED = "LBOM-POLICY-003"

REQUIRABLE_FIELDS = (
    "sha256",
    "license",
    "architecture",
    "quantization",
    "parameter_count",
    "context_length",
    "vocab_size",
    "base_model",
    "chat_template",
)
PICKLE_FORMATS = frozenset({"pickle", "pytorch"})
"""Formats whose content is a Python pickle: ``pickle`` in a policy names them all."""
_KNOWN_FORMATS = frozenset(
    {"gguf", "safetensors", "pickle", "pytorch", "numpy", "onnx", "keras", "git-lfs-pointer", "ggml"}
)
_TABLES: dict[str, frozenset[str]] = {
    "formats": frozenset({"allow", "deny"}),
    "licenses": frozenset({"allow", "deny"}),
    "findings": frozenset({"fail_on", "ignore"}),
    "require": frozenset({"fields"}),
}


@dataclass(frozen=True)
class Ignore:
    """A rule id not to fail on, why, and optionally only for some paths."""

    rule: str
    reason: str
    paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class PolicyRules:
    """The effective rules for one model (the base policy with matching overrides applied)."""

    formats_allow: tuple[str, ...] | None = None
    formats_deny: tuple[str, ...] = ()
    licenses_allow: tuple[str, ...] | None = None
    licenses_deny: tuple[str, ...] = ()
    fail_on: Severity | None = None
    ignore: tuple[Ignore, ...] = ()
    require_fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class Override:
    """Rules that replace the base ones for models whose path matches one of ``paths``."""

    paths: tuple[str, ...]
    settings: Mapping[str, Any] = field(default_factory=dict)
    """Validated ``PolicyRules`` field name -> value, only for the keys the override sets."""


@dataclass(frozen=True)
class Policy:
    """A loaded policy file: the rules for every model, and overrides for models matched by path."""

    base: PolicyRules
    overrides: tuple[Override, ...] = ()
    source: str = "policy"

    def rules_for(self, *paths: str) -> PolicyRules:
        """The rules that apply to a model known by any of ``paths``."""
        rules = self.base
        for override in self.overrides:
            if any(_matches(path, pattern) for path in paths for pattern in override.paths):
                settings = dict(override.settings)
                if "ignore" in settings:
                    settings["ignore"] = rules.ignore + tuple(settings["ignore"])
                rules = replace(rules, **settings)
        return rules


def _matches(path: str, pattern: str) -> bool:
    path = path.replace(os.sep, "/")
    return fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(path, pattern.rstrip("/") + "/*")


def load_policy(path: str | os.PathLike[str]) -> Policy:
    """Read and validate a policy file. Unreadable: :class:`InputError`; malformed: :class:`UsageError`."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as handle:
            text = handle.read().decode("utf-8", "replace")
    except OSError as exc:
        raise InputError(name, exc.strerror or str(exc)) from exc
    return parse_policy(text, name)


def parse_policy(text: str, source: str = "policy") -> Policy:
    """Validate policy TOML text (see the module docstring for the schema)."""
    document = load_toml(text, source)
    if not document:
        raise UsageError(f"{source}: the policy is empty; an empty policy would allow everything")
    _known(document, {*_TABLES, "overrides"}, source, "table")
    base = _rules(document, source)
    overrides = []
    raw_overrides = document.get("overrides", [])
    if not isinstance(raw_overrides, list) or not all(isinstance(o, dict) for o in raw_overrides):
        raise UsageError(f"{source}: overrides must be an array of tables ([[overrides]])")
    for index, raw in enumerate(raw_overrides):
        where = f"{source}: overrides[{index}]"
        _known(raw, {*_TABLES, "paths"}, where, "key")
        paths = _string_list(raw.get("paths"), f"{where}.paths")
        if not paths:
            raise UsageError(f"{where}: paths is required (a list of path patterns)")
        settings = _settings(raw, where)
        if not settings:
            raise UsageError(f"{where}: the override sets nothing")
        overrides.append(Override(paths, settings))
    if base == PolicyRules() and not overrides:
        raise UsageError(f"{source}: the policy sets no rule; an empty policy would allow everything")
    return Policy(base, tuple(overrides), source)


def _rules(document: Mapping[str, Any], source: str) -> PolicyRules:
    return replace(PolicyRules(), **_settings(document, source))


def _settings(document: Mapping[str, Any], where: str) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for table_name, keys in _TABLES.items():
        if table_name not in document:
            continue
        table = document[table_name]
        if not isinstance(table, dict):
            raise UsageError(f"{where}: {table_name} must be a table ([{table_name}])")
        if not table:
            raise UsageError(f"{where}: [{table_name}] is empty")
        _known(table, set(keys), f"{where}: [{table_name}]", "key")
        key = f"{where}: {table_name}"
        if table_name in ("formats", "licenses"):
            # The table is one rule set: an override that sets it replaces both lists, so a base deny list
            # cannot outlive an override's allow list (``legacy/*`` allowing "pickle" must pass legacy pickles).
            settings[f"{table_name}_allow"] = None
            settings[f"{table_name}_deny"] = ()
            if "allow" in table:
                allow = _string_list(table["allow"], f"{key}.allow")
                settings[f"{table_name}_allow"] = _checked_values(table_name, allow, f"{key}.allow")
            if "deny" in table:
                deny = _string_list(table["deny"], f"{key}.deny")
                settings[f"{table_name}_deny"] = _checked_values(table_name, deny, f"{key}.deny")
            both = set(settings.get(f"{table_name}_allow") or ()) & set(settings.get(f"{table_name}_deny", ()))
            if both:
                raise UsageError(f"{key}: {sorted(both)[0]!r} is both allowed and denied")
        elif table_name == "findings":
            if "fail_on" in table:
                settings["fail_on"] = _severity(table["fail_on"], f"{key}.fail_on")
            if "ignore" in table:
                settings["ignore"] = _ignores(table["ignore"], f"{key}.ignore")
        else:
            fields = _string_list(table.get("fields"), f"{key}.fields")
            for name in fields:
                if name not in REQUIRABLE_FIELDS:
                    raise UsageError(f"{key}.fields: unknown field {name!r}{_hint(name, REQUIRABLE_FIELDS)}")
            settings["require_fields"] = fields
    return settings


def _known(table: Mapping[str, Any], allowed: set[str], where: str, what: str) -> None:
    for key in table:
        if key not in allowed:
            raise UsageError(f"{where}: unknown {what} {key!r}{_hint(key, allowed)}")


def _hint(word: str, choices: Any) -> str:
    import difflib

    close = difflib.get_close_matches(word, sorted(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else f" (expected one of: {', '.join(sorted(choices))})"


def _string_list(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        raise UsageError(f"{where} is required")
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise UsageError(f"{where} must be a list of strings, not {value!r}")
    return tuple(item.strip() for item in value)


def known_formats() -> frozenset[str]:
    from lbom._formats import READERS

    return _KNOWN_FORMATS | {entry.format_name for entry in READERS}


def _checked_values(table_name: str, values: tuple[str, ...], where: str) -> tuple[str, ...]:
    if table_name == "licenses":
        keys = []
        for value in values:
            key = license_key(value)
            if key is None:
                raise UsageError(f"{where}: {value!r} does not name a license")
            _check_license_id(value, where)
            keys.append(key)
        return tuple(keys)
    formats = known_formats()
    for value in values:
        if value.lower() not in formats:
            raise UsageError(f"{where}: unknown format {value!r}{_hint(value.lower(), formats)}")
    return tuple(value.lower() for value in values)


def _check_license_id(value: str, where: str) -> None:
    """A policy's license must be one l-bom can recognise: an SPDX License List id or expression (any case), a
    Hugging Face Hub license id, or an explicit ``LicenseRef-...``. Anything else is a typo until proven otherwise
    (``MIT-license`` would silently become a license no model declares, and the rule would never fire)."""
    from lbom._licenses import HUB_LICENSE_IDS, spdx_id_for

    def known(word: str) -> bool:
        return spdx_id_for(word) is not None or word.lower() in HUB_LICENSE_IDS or _is_license_ref(word)

    if known(value):
        return
    bad = value
    if any(char in value for char in " ()+"):  # an SPDX expression: MIT OR Apache-2.0, GPL-2.0+ WITH ...
        unknown = [word for word in _unknown_in_expression(value) if not known(word)]
        if not unknown:
            return
        bad = unknown[0]
    raise UsageError(
        f"{where}: unknown license {bad!r}{_license_hint(bad)}; use an SPDX license id or expression, a Hugging "
        'Face Hub license id, or "LicenseRef-<name>" for any other license'
    )


def _is_license_ref(word: str) -> bool:
    prefix = "licenseref-"
    return word.lower().startswith(prefix) and len(word) > len(prefix)


def _unknown_in_expression(expression: str) -> list[str]:
    """The symbols of an SPDX expression that are not SPDX ids; the whole text when it does not parse."""
    from license_expression import get_spdx_licensing  # type: ignore[import-untyped]

    try:
        info = get_spdx_licensing().validate(expression)
    except Exception:  # the library raises its own errors (and, for some inputs, AttributeError) on bad syntax
        return [expression]
    if info.errors and not info.invalid_symbols:
        return [expression]
    return [str(symbol) for symbol in info.invalid_symbols]


def _license_hint(word: str) -> str:
    """`` (did you mean 'MIT'?)`` for the closest known license id, or nothing."""
    import difflib
    import re

    from lbom._licenses import HUB_LICENSE_IDS, spdx_id_for
    from lbom._spdx_license_ids import SPDX_LICENSE_IDS

    lowered = word.strip().lower()
    bare = re.sub(r"[-_ .]*licen[cs]e$", "", lowered)  # "MIT-license", "apache license"
    exact = spdx_id_for(bare) or (bare if bare in HUB_LICENSE_IDS else None)
    if exact is not None and bare:
        return f" (did you mean {exact!r}?)"
    choices = {spdx_id.lower(): spdx_id for spdx_id in SPDX_LICENSE_IDS} | {hub: hub for hub in HUB_LICENSE_IDS}
    close = difflib.get_close_matches(bare or lowered, list(choices), n=1, cutoff=0.75)
    return f" (did you mean {choices[close[0]]!r}?)" if close else ""


def _severity(value: Any, where: str) -> Severity:
    choices = [s.value for s in Severity]
    if not isinstance(value, str) or value.lower() not in choices:
        raise UsageError(f"{where}: {value!r} is not a severity{_hint(str(value).lower(), choices)}")
    return Severity(value.lower())


def _ignores(value: Any, where: str) -> tuple[Ignore, ...]:
    from lbom._catalog import RULES

    if not isinstance(value, list):
        raise UsageError(f"{where} must be a list of {{ rule = ..., reason = ... }} tables")
    result = []
    for index, item in enumerate(value):
        item_where = f"{where}[{index}]"
        if not isinstance(item, dict):
            raise UsageError(f'{item_where} must be a table like {{ rule = "LBOM-...", reason = "..." }}')
        _known(item, {"rule", "reason", "paths"}, item_where, "key")
        rule = item.get("rule")
        if not isinstance(rule, str) or rule not in RULES:
            raise UsageError(f"{item_where}: unknown rule id {rule!r}{_hint(str(rule), RULES)}")
        reason = item.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise UsageError(f'{item_where}: ignoring {rule} needs a reason (reason = "why this is acceptable")')
        paths = _string_list(item["paths"], f"{item_where}.paths") if "paths" in item else ()
        result.append(Ignore(rule, reason.strip(), paths))
    return tuple(result)


# --- checking -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IgnoredFinding:
    """A finding the policy ignores, with the reason it gives."""

    finding: Finding
    reason: str

    def to_json(self) -> dict[str, JsonValue]:
        return {**self.finding.to_json(), "ignored_because": self.reason}


@dataclass(frozen=True)
class CheckResult:
    """The outcome of checking a scan against a policy. ``passed`` is the gate."""

    policy: str
    models_checked: int
    violations: tuple[Finding, ...] = ()
    """Policy violations (LBOM-POLICY-*): denied formats and licenses, missing required fields."""
    failing_findings: tuple[Finding, ...] = ()
    """Findings at or above ``fail_on`` that no ignore entry covers."""
    ignored: tuple[IgnoredFinding, ...] = ()
    scan: ScanResult | None = None

    @property
    def passed(self) -> bool:
        return not self.violations and not self.failing_findings

    @property
    def failures(self) -> tuple[Finding, ...]:
        return tuple(sorted(self.violations + self.failing_findings, key=Finding.sort_key))

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "policy": self.policy,
            "passed": self.passed,
            "models_checked": self.models_checked,
            "violations": [f.to_json() for f in self.violations],
            "failing_findings": [f.to_json() for f in self.failing_findings],
            "ignored": [i.to_json() for i in self.ignored],
        }


def check(
    target: ScanResult | str | os.PathLike[str] | list[str],
    policy: Policy | str | os.PathLike[str],
    *,
    options: ScanOptions | None = None,
) -> CheckResult:
    """Check models against a policy. ``target`` is a :class:`ScanResult` or path(s) to scan (with hashing unless
    ``options`` say otherwise; ``options`` also choose the cache, ``rehash`` and ``jobs``); ``policy`` a
    :class:`Policy` or a policy file path."""
    from lbom.scan import scan

    rules_source = policy if isinstance(policy, Policy) else load_policy(policy)
    result = target if isinstance(target, ScanResult) else scan(target, options=options)
    violations: list[Finding] = []
    failing: list[Finding] = []
    ignored: list[IgnoredFinding] = []
    for model in result.models:
        names = _model_names(model, result)
        rules = rules_source.rules_for(*names)
        violations += _format_violations(model, rules)
        violations += _license_violations(model, rules)
        violations += _required_violations(model, rules, result.hashed)
        for finding in model.findings:
            reason = _ignore_reason(finding, rules, names)
            if reason is not None:
                ignored.append(IgnoredFinding(finding, reason))
            elif rules.fail_on is not None and finding.severity >= rules.fail_on:
                failing.append(finding)
    for finding in result.findings:
        base = rules_source.base
        reason = _ignore_reason(finding, base, (finding.file or "",))
        if reason is not None:
            ignored.append(IgnoredFinding(finding, reason))
        elif base.fail_on is not None and finding.severity >= base.fail_on:
            failing.append(finding)
    return CheckResult(
        policy=rules_source.source,
        models_checked=len(result.models),
        violations=tuple(sorted(violations, key=Finding.sort_key)),
        failing_findings=tuple(sorted(set(failing), key=Finding.sort_key)),
        ignored=tuple(sorted(set(ignored), key=lambda i: i.finding.sort_key())),
        scan=result,
    )


def _model_names(model: ModelArtifact, result: ScanResult) -> tuple[str, ...]:
    """The model's path as displayed, and relative to each scanned root it lies under."""
    names = [model.path.replace(os.sep, "/")]
    for root in result.roots:
        if os.path.isdir(root):
            relative = os.path.relpath(model.path, root)
            if not relative.startswith(".."):
                names.append(relative.replace(os.sep, "/"))
    return tuple(dict.fromkeys(names))


def _ignore_reason(finding: Finding, rules: PolicyRules, names: tuple[str, ...]) -> str | None:
    for entry in rules.ignore:
        if entry.rule != finding.rule_id:
            continue
        if entry.paths and not any(_matches(name, pattern) for name in names for pattern in entry.paths):
            continue
        return entry.reason
    return None


def _format_matches(model_format: str, policy_format: str) -> bool:
    return model_format == policy_format or (policy_format == "pickle" and model_format in PICKLE_FORMATS)


def _format_violations(model: ModelArtifact, rules: PolicyRules) -> list[Finding]:
    fmt = model.format.lower()
    remedy = "convert the model to an allowed format or change the policy's [formats]"
    if any(_format_matches(fmt, denied) for denied in rules.formats_deny):
        return [
            Finding(
                R_FORMAT,
                Severity.HIGH,
                f"format {model.format!r} is denied by the policy",
                model.path,
                "format",
                remedy,
            )
        ]
    allow = rules.formats_allow
    if allow is not None and not any(_format_matches(fmt, allowed) for allowed in allow):
        message = f"format {model.format!r} is not in the policy's allowed formats ({', '.join(allow)})"
        return [Finding(R_FORMAT, Severity.HIGH, message, model.path, "format", remedy)]
    return []


def _license_violations(model: ModelArtifact, rules: PolicyRules) -> list[Finding]:
    from lbom._licenses import model_license

    info = model_license(model)
    declared = info.text if info is not None else None
    key = info.ref.lower() if info is not None else None
    remedy = "get the license approved and add it to the policy's [licenses], or use another model"
    if key is not None and key in rules.licenses_deny:
        return [
            Finding(
                R_LICENSE, Severity.HIGH, f"license {declared!r} is denied by the policy", model.path, "license", remedy
            )
        ]
    allow = rules.licenses_allow
    if allow is not None and key not in allow:
        what = f"license {declared!r} is" if declared else "the model has no license, which is"
        message = f"{what} not in the policy's allowed licenses ({', '.join(allow)})"
        return [Finding(R_LICENSE, Severity.HIGH, message, model.path, "license", remedy)]
    return []


def _required_violations(model: ModelArtifact, rules: PolicyRules, hashed: bool) -> list[Finding]:
    found = []
    for name in rules.require_fields:
        if name == "sha256":
            missing = not model.files or any(entry.sha256 is None for entry in model.files)
            hint = "scan with hashing enabled (no --no-hash)" if not hashed else "the file could not be hashed"
        elif name == "license":
            missing = not (model.license or model.license_name)
            hint = "record the license in the model card (license:) or the file's metadata"
        elif name == "base_model":
            missing = not model.base_models
            hint = "record the base model in the model card (base_model:) or the file's metadata"
        elif name == "chat_template":
            missing = not model.chat_templates
            hint = "ship the model with its chat template"
        else:
            missing = getattr(model, name) is None
            hint = "the model's files do not state it"
        if missing:
            found.append(
                Finding(R_REQUIRED, Severity.HIGH, f"required field {name!r} is missing", model.path, name, hint)
            )
    return found
