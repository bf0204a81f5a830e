"""Chat template checks: each template is parsed into a Jinja syntax tree with jinja2's own parser, never rendered.

What is looked for, and why:

* attribute access to Python internals (``__globals__``, ``__subclasses__``, ``mro`` ...): the server-side
  template injection route from a template to code execution;
* globals that have no place in a chat template (``self``, ``lipsum``, ``config``, ``request``), attribute access
  on ``cycler``/``joiner``/``namespace``/``range``, and ``attr()`` with a computed name: sandbox escape attempts;
* hidden Unicode (bidi controls, zero-width characters, tag characters) that hides text from reviewers;
* natural-language text written into every prompt whatever the conversation is: injected instructions. Text is
  "conditioned" when it sits under an ``if``/``for`` whose test depends on the request (``messages``, ``tools``,
  ``documents`` and anything assigned from them); fixed text outside such conditions reaches every prompt;
* huge ranges or repetitions, and ``include``/``import``/``extends``.

The walk is iterative (no recursion driven by the template) and the template size is capped.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import field
from types import ModuleType
from typing import TYPE_CHECKING, Protocol

from lbom._checks.jinja_parser import TemplateDoesNotParse, parse_template
from lbom._records import dataclass
from lbom._sha256 import sha256
from lbom.model import ChatTemplate, Finding, ModelArtifact, Severity

if TYPE_CHECKING:
    from jinja2 import nodes

    from lbom._checks import CheckContext

R_PARSE = "LBOM-TPL-001"
R_INTERNALS = "LBOM-TPL-002"
R_ESCAPE = "LBOM-TPL-003"
R_HIDDEN_UNICODE = "LBOM-TPL-004"
R_INJECTED_TEXT = "LBOM-TPL-005"
R_TOO_LARGE = "LBOM-TPL-006"
R_RESOURCES = "LBOM-TPL-007"
R_LOADS_TEMPLATES = "LBOM-TPL-008"

MAX_TEMPLATE_CHARS = 128 * 1024
"""Real chat templates are a few KB (the longest tool-calling ones ~20 KB); larger ones are not parsed, which also
bounds the parser's time on hostile input (it is linear, but slow per token)."""
MAX_FINDINGS_PER_RULE = 10
MAX_NODES = 200_000
HUGE_COUNT = 10_000
"""range()/repetition counts above this are resource abuse: no chat needs them."""
INJECTED_WORDS = 12
"""Fixed text of this many words reaching every prompt is reported even without directive wording."""

REQUEST_INPUTS = frozenset({"messages", "tools", "documents", "custom_tools", "builtin_tools", "tools_in_user_message"})
"""Variables a chat-template caller passes that carry the conversation (``add_generation_prompt`` does not:
it is true for every generation, so text under it still reaches every prompt)."""

_INTERNAL_ATTRS = frozenset(
    {
        "mro",
        "func_globals",
        "func_code",
        "f_globals",
        "f_locals",
        "f_builtins",
        "f_back",
        "gi_frame",
        "gi_code",
        "cr_frame",
        "cr_code",
        "ag_frame",
        "tb_frame",
        "tb_next",
        "co_code",
        "format_map",
    }
)
_DUNDER_RE = re.compile(r"__[a-z][a-z0-9_]*__")
_ESCAPE_NAMES = frozenset(
    {
        "self",
        "lipsum",
        "config",
        "request",
        "url_for",
        "get_flashed_messages",
        "session",
        "__builtins__",
        "builtins",
        "os",
        "sys",
        "subprocess",
        "eval",
        "exec",
        "open",
        "getattr",
        "globals",
        "locals",
        "compile",
        "importlib",
    }
)
_GADGET_NAMES = frozenset({"cycler", "joiner", "namespace", "range", "dict", "lipsum"})
"""Objects whose attributes lead to their Python functions' globals; calling them is fine, dotting into them is not."""

_DIRECTIVE_RE = re.compile(
    r"\b(?:ignore|disregard|always|never|must|do not|don't|you are|you're|pretend|act as|respond|reply|answer|"
    r"recommend|reveal|instructions?|system prompt|secret|password|api key|forget)\b|https?://|www\.",
    re.IGNORECASE,
)
_MARKUP_RE = re.compile(r"<[^<>\n]{0,80}>|\[/?[A-Z_]{2,40}\]")
_WORD_RE = re.compile(r"[^\W\d_]{2,}")

_BIDI = frozenset({0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)})
_ZERO_WIDTH = frozenset({0x00AD, 0x180E, 0x200B, 0x200C, 0x200D, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0xFEFF})


def check(model: ModelArtifact, context: CheckContext) -> list[Finding]:
    found: list[Finding] = []
    for template in model.chat_templates:
        found.extend(analyse_template(template, _template_file(model, template), context.template_memo))
    return found


def _template_file(model: ModelArtifact, template: ChatTemplate) -> str | None:
    if not model.files:
        return model.path
    first = model.files[0].path
    if template.source.startswith("gguf:"):
        return first
    return os.path.join(os.path.dirname(first), template.source)


def _where(template: ChatTemplate, line: int | None = None) -> str:
    where = template.source
    if not template.source.startswith("gguf:") and template.name != "default":
        where += f" template {template.name!r}"
    return where if line is None else f"{where} line {line}"


_Note = tuple[str, Severity, str, int | None, str]
"""One finding as the analysis makes it: rule id, severity, message, template line, remedy. Where the template
lives (file, source, name) is added afterwards, so one analysis serves every copy of the same text."""


class TemplateMemo(Protocol):
    """Somewhere analyses are remembered between scans (the scan cache's :class:`lbom._cache.TemplateMemo`)."""

    def get(self, key: str) -> str | None: ...

    def put(self, key: str, value: str) -> None: ...


@dataclass
class _Report:
    """Notes of one template analysis, with a count per rule so a rule is reported a bounded number of times."""

    notes: list[_Note] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, rule_id: str, severity: Severity, message: str, line: int | None, remedy: str) -> None:
        count = self.counts.get(rule_id, 0)
        self.counts[rule_id] = count + 1
        if count < MAX_FINDINGS_PER_RULE:
            self.notes.append((rule_id, severity, message, line, remedy))


def analyse_template(
    template: ChatTemplate, file: str | None = None, memo: TemplateMemo | None = None
) -> list[Finding]:
    """All findings for one chat template. Public for the GUI/MCP, which analyse templates on their own.

    With a ``memo``, a template text this analyser has seen before is not parsed again.
    """
    if memo is None:
        notes = _analyse(template.text)
    else:
        key = memo_key(template.text)
        remembered = _decode_notes(memo.get(key))
        if remembered is None:
            remembered = _analyse(template.text)
            memo.put(key, _encode_notes(remembered))
        notes = remembered
    return [
        Finding(rule_id, severity, message, file, _where(template, line), remedy)
        for rule_id, severity, message, line, remedy in notes
    ]


def _analyse(text: str) -> list[_Note]:
    report = _Report()
    _hidden_unicode(text, report)
    if len(text) > MAX_TEMPLATE_CHARS:
        report.add(
            R_TOO_LARGE,
            Severity.LOW,
            f"chat template is {len(text):,} characters (limit {MAX_TEMPLATE_CHARS:,}); not analysed",
            None,
            "inspect the template by hand",
        )
        return report.notes
    parsed = _parse(text, report)
    if parsed is not None:
        _AstChecks(*parsed, report).run()
    return report.notes


_ANALYSER: str | None = None


def memo_key(text: str) -> str:
    """The memo key of a template text: its SHA-256 together with what decides the analysis (l-bom's version, this
    module's source, the parser loader's and jinja2's), so an edited analyser or another jinja2 never serves an
    old result."""
    global _ANALYSER
    if _ANALYSER is None:
        import importlib.util

        from lbom._checks import jinja_parser as loader
        from lbom._version import tool_version

        parts = [tool_version()]
        spec = importlib.util.find_spec("jinja2")
        for source in (__file__, loader.__file__, spec.origin if spec is not None else None):
            try:
                st = os.stat(source) if source else None
            except OSError:
                st = None
            parts.append(f"{source}:{st.st_size}:{st.st_mtime_ns}" if st is not None else f"{source}:-")
        _ANALYSER = "\x00".join(parts)
    digest = sha256(_ANALYSER.encode("utf-8", "surrogatepass"))
    digest.update(b"\x00")
    digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def _encode_notes(notes: list[_Note]) -> str:
    return json.dumps(
        [[rule, severity.value, message, line, remedy] for rule, severity, message, line, remedy in notes]
    )


def _decode_notes(text: str | None) -> list[_Note] | None:
    """The notes stored under a key, or None when absent or not in this encoding (then the analysis runs)."""
    if text is None:
        return None
    try:
        rows = json.loads(text)
        notes: list[_Note] = []
        for rule, severity, message, line, remedy in rows:
            if not (isinstance(rule, str) and isinstance(message, str) and isinstance(remedy, str)):
                return None
            if line is not None and (isinstance(line, bool) or not isinstance(line, int)):
                return None
            notes.append((rule, Severity(severity), message, line, remedy))
    except (ValueError, TypeError):
        return None
    return notes


def _parse(text: str, report: _Report) -> tuple[nodes.Template, ModuleType] | None:
    """The tree and its node classes, or None with a finding saying why the template does not parse."""
    remedy = "replace it with the model publisher's original"
    try:
        return parse_template(text)
    except TemplateDoesNotParse as exc:
        report.add(R_PARSE, Severity.MEDIUM, f"chat template does not parse: {exc.message}", exc.lineno, remedy)
    except RecursionError:
        report.add(R_PARSE, Severity.MEDIUM, "chat template nests too deeply to parse", None, remedy)
    except (ValueError, OverflowError, MemoryError) as exc:
        # jinja2's lexer turns literals into Python values: an integer of 4,300+ digits raises ValueError.
        report.add(R_PARSE, Severity.MEDIUM, f"chat template does not parse: {_first_line(exc)}", None, remedy)
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    shown = text[0] if text else type(exc).__name__
    return shown if len(shown) <= 200 else shown[:197] + "..."


_INVISIBLE_RE = re.compile(
    "[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
    "\U000e0000-\U000e007f\U000e0100-\U000e01ef]"
)
"""Every character _invisible_kind names, for a C-speed first pass over templates of any size."""


def _invisible_kind(code: int) -> str:
    if code in _BIDI:
        return "bidi control"
    if code in _ZERO_WIDTH:
        return "zero-width"
    if 0xE0000 <= code <= 0xE007F:
        return "tag character"
    return "variation selector"


def _hidden_unicode(text: str, report: _Report) -> None:
    kinds: dict[str, list[int]] = {}
    first: int | None = None
    for match in _INVISIBLE_RE.finditer(text):
        code = ord(match.group(0))
        kinds.setdefault(_invisible_kind(code), []).append(code)
        if first is None:
            first = match.start()
    if not kinds or first is None:
        return
    line = text.count("\n", 0, first) + 1
    column = first - (text.rfind("\n", 0, first) + 1) + 1
    import unicodedata  # here: only a template holding such characters needs its names (a 1.2 MB extension)

    parts = []
    for kind, codes in sorted(kinds.items()):
        distinct = sorted(set(codes))[:4]
        names = ", ".join(f"U+{c:04X} {unicodedata.name(chr(c), '')}".rstrip() for c in distinct)
        parts.append(f"{len(codes)} {kind} ({names})")
    hidden = ""
    tags = [c for c in kinds.get("tag character", []) if 0xE0020 <= c <= 0xE007E]
    if tags:
        # Tag characters mirror ASCII: show what the invisible text says.
        decoded = "".join(chr(c - 0xE0000) for c in tags[:80])
        hidden = f"; hidden text reads {decoded!r}"
    report.add(
        R_HIDDEN_UNICODE,
        Severity.HIGH,
        f"chat template contains invisible characters: {'; '.join(parts)}{hidden} (first at column {column})",
        line,
        "inspect the template with the code points shown; replace it with a clean one",
    )


def _walk(root: nodes.Node) -> Iterator[nodes.Node]:
    stack = [root]
    seen = 0
    while stack:
        node = stack.pop()
        seen += 1
        if seen > MAX_NODES:
            return
        yield node
        stack.extend(reversed(list(node.iter_child_nodes())))


class _AstChecks:
    def __init__(self, tree: nodes.Template, syntax: ModuleType, report: _Report) -> None:
        self.tree = tree
        self.syntax = syntax
        """The node classes ``tree`` is made of (jinja2's, or the parse-only copy's)."""
        self.report = report
        self.all_nodes = list(_walk(tree))
        self.assigned = self._assigned_names()
        self.tainted = self._taint()
        self.literal_vars: dict[str, list[str]] = {}

    def run(self) -> None:
        syntax = self.syntax

        for node in self.all_nodes:
            if isinstance(node, syntax.Getattr):
                self._attribute(node, node.attr, node.node)
            elif isinstance(node, syntax.Getitem) and isinstance(node.arg, syntax.Const):
                if isinstance(node.arg.value, str):
                    self._attribute(node, node.arg.value, node.node)
            elif isinstance(node, syntax.Filter) and node.name == "attr":
                self._attr_filter(node)
            elif isinstance(node, syntax.Name) and node.ctx == "load":
                self._name(node)
            elif isinstance(node, syntax.Const) and isinstance(node.value, str):
                self._constant(node)
            elif isinstance(node, (syntax.Include, syntax.Import, syntax.FromImport, syntax.Extends)):
                self.report.add(
                    R_LOADS_TEMPLATES,
                    Severity.MEDIUM,
                    f"chat template uses {type(node).__name__.lower()}: a chat template is self-contained",
                    node.lineno,
                    "replace it with the model publisher's original",
                )
            elif isinstance(node, syntax.Call):
                self._call(node)
            elif isinstance(node, (syntax.Mul, syntax.Pow)):
                self._arithmetic(node)
        self._injected_text()

    # --- internals and sandbox escapes ------------------------------------------------------------------

    def _attribute(self, node: nodes.Node, attr: str, target: nodes.Node) -> None:
        syntax = self.syntax

        if attr.startswith("_") or attr in _INTERNAL_ATTRS:
            self.report.add(
                R_INTERNALS,
                Severity.CRITICAL,
                f"chat template accesses the Python internal attribute {attr!r}",
                node.lineno,
                "do not render this template anywhere; replace it with the model publisher's original",
            )
        elif isinstance(target, syntax.Name) and target.name in _GADGET_NAMES and target.name not in self.assigned:
            self.report.add(
                R_ESCAPE,
                Severity.HIGH,
                f"chat template reaches into the global {target.name!r} ({target.name}.{attr}), a known route "
                "out of the Jinja sandbox",
                node.lineno,
                "replace it with the model publisher's original",
            )

    def _attr_filter(self, node: nodes.Filter) -> None:
        syntax = self.syntax

        arg = node.args[0] if node.args else None
        if isinstance(arg, syntax.Const) and isinstance(arg.value, str):
            self._attribute(node, arg.value, node.node if node.node is not None else node)
            return
        self.report.add(
            R_ESCAPE,
            Severity.HIGH,
            "chat template uses attr() with a computed attribute name",
            node.lineno,
            "replace it with the model publisher's original",
        )

    def _name(self, node: nodes.Name) -> None:
        if node.name in _ESCAPE_NAMES and node.name not in self.assigned:
            self.report.add(
                R_ESCAPE,
                Severity.HIGH,
                f"chat template uses the global {node.name!r}, which has no place in a chat template",
                node.lineno,
                "replace it with the model publisher's original",
            )

    def _constant(self, node: nodes.Const) -> None:
        match = _DUNDER_RE.search(node.value)
        if match is not None:
            self.report.add(
                R_INTERNALS,
                Severity.CRITICAL,
                f"chat template carries the Python internal name {match.group(0)!r} in a string",
                node.lineno,
                "do not render this template anywhere; replace it with the model publisher's original",
            )

    def _call(self, node: nodes.Call) -> None:
        syntax = self.syntax

        if isinstance(node.node, syntax.Name) and node.node.name == "range":
            for arg in node.args:
                if _big_int(arg, syntax):
                    self._resources(node, "range() over more than 10,000 items")
                    return

    def _arithmetic(self, node: nodes.BinExpr) -> None:
        syntax = self.syntax

        if isinstance(node, syntax.Pow) and isinstance(node.right, syntax.Const):
            value = node.right.value
            if isinstance(value, int) and value > 64:
                self._resources(node, "a huge power")
            return
        if _big_int(node.left, syntax) or _big_int(node.right, syntax):
            self._resources(node, "a repetition more than 10,000 times")

    def _resources(self, node: nodes.Node, what: str) -> None:
        self.report.add(
            R_RESOURCES,
            Severity.MEDIUM,
            f"chat template builds {what}",
            node.lineno,
            "replace it with the model publisher's original",
        )

    # --- data flow: which variables carry the conversation ----------------------------------------------

    def _assigned_names(self) -> set[str]:
        syntax = self.syntax

        names = set()
        for node in self.all_nodes:
            if (isinstance(node, syntax.Name) and node.ctx in ("store", "param")) or isinstance(node, syntax.Macro):
                names.add(node.name)
        return names

    def _taint(self) -> set[str]:
        """Names that carry the conversation: the request inputs and everything assigned from them."""
        syntax = self.syntax

        tainted = set(REQUEST_INPUTS) | {"loop"}
        # name -> names assigned from an expression that reads it; propagated with a worklist (linear).
        feeds: dict[str, set[str]] = {}
        for node in self.all_nodes:
            if isinstance(node, syntax.Assign):
                targets, sources = _target_names(node.target, syntax), [node.node]
            elif isinstance(node, syntax.AssignBlock):
                targets, sources = _target_names(node.target, syntax), list(node.body)
            elif isinstance(node, syntax.For):
                targets, sources = _target_names(node.target, syntax), [node.iter]
            elif isinstance(node, (syntax.Macro, syntax.CallBlock)):
                # Macro parameters are whatever the caller passes: usually messages or tools.
                tainted.update(arg.name for arg in node.args)
                continue
            else:
                continue
            for source in sources:
                for name in _names_read(source, syntax):
                    feeds.setdefault(name, set()).update(targets)
        todo = list(tainted)
        while todo:
            for target in feeds.get(todo.pop(), ()):
                if target not in tainted:
                    tainted.add(target)
                    todo.append(target)
        return tainted

    def _depends(self, expr: nodes.Node) -> bool:
        """Whether the expression reads a variable that carries the conversation."""
        return not _names_read(expr, self.syntax).isdisjoint(self.tainted)

    # --- fixed text reaching every prompt ----------------------------------------------------------------

    def _injected_text(self) -> None:
        syntax = self.syntax

        pieces: list[tuple[str, int]] = []
        stack: list[tuple[nodes.Node, bool]] = [(self.tree, False)]
        while stack:
            node, conditioned = stack.pop()
            if isinstance(node, syntax.If):
                branch = conditioned or self._depends(node.test)
                children: list[tuple[nodes.Node, bool]] = [(child, branch) for child in node.body]
                else_conditioned = branch
                for elif_node in node.elif_:
                    else_conditioned = else_conditioned or self._depends(elif_node.test)
                    children.append((elif_node, branch))
                children.extend((child, else_conditioned) for child in node.else_)
                stack.extend(reversed(children))
            elif isinstance(node, syntax.For):
                inner = conditioned or self._depends(node.iter)
                stack.extend(reversed([(child, inner) for child in [*node.body, *node.else_]]))
            elif isinstance(node, syntax.Assign) and isinstance(node.target, syntax.Name):
                if not conditioned:
                    self.literal_vars[node.target.name] = [text for text, _ in self._literals(node.node, False)]
            elif isinstance(node, syntax.Output):
                for child in node.nodes:
                    if isinstance(child, syntax.TemplateData):
                        if not conditioned:
                            pieces.append((child.data, child.lineno))
                    else:
                        pieces.extend(self._literals(child, conditioned))
            elif isinstance(node, syntax.Macro):
                continue  # macro bodies emit only where they are called, with the caller's (message) data
            else:
                stack.extend(reversed([(child, conditioned) for child in node.iter_child_nodes()]))
        text = " ".join(piece for piece, _ in pieces)
        plain = _MARKUP_RE.sub(" ", text)
        words = _WORD_RE.findall(plain)
        directive = _DIRECTIVE_RE.search(plain)
        if len(words) >= INJECTED_WORDS or (directive is not None and len(words) >= 2):
            line = pieces[0][1] if pieces else None
            shown = " ".join(plain.split())
            if len(shown) > 200:
                shown = shown[:197] + "..."
            self.report.add(
                R_INJECTED_TEXT,
                Severity.MEDIUM,
                f"chat template adds the same text to every prompt, whatever the conversation: {shown!r}",
                line,
                "read the injected text; if you did not expect it, replace the template",
            )

    def _literals(self, expr: nodes.Node, conditioned: bool) -> list[tuple[str, int]]:
        """The fixed strings an output expression writes when ``conditioned`` is false (else none)."""
        syntax = self.syntax

        found: list[tuple[str, int]] = []
        stack: list[tuple[nodes.Node, bool]] = [(expr, conditioned)]
        while stack:
            node, cond = stack.pop()
            if isinstance(node, syntax.Const):
                if isinstance(node.value, str) and not cond:
                    found.append((node.value, node.lineno))
            elif isinstance(node, (syntax.Add, syntax.Concat)):
                parts = [node.left, node.right] if isinstance(node, syntax.Add) else list(node.nodes)
                stack.extend((part, cond) for part in reversed(parts))
            elif isinstance(node, syntax.CondExpr):
                inner = cond or self._depends(node.test)
                stack.append((node.expr1, inner))
                if node.expr2 is not None:
                    stack.append((node.expr2, inner))
            elif isinstance(node, syntax.Filter) and node.node is not None:
                stack.append((node.node, cond))
            elif isinstance(node, syntax.Name) and not cond and node.name in self.literal_vars:
                found.extend((text, node.lineno) for text in self.literal_vars[node.name])
        return found


def _names_read(expr: nodes.Node, syntax: ModuleType) -> set[str]:
    return {node.name for node in _walk(expr) if isinstance(node, syntax.Name) and node.ctx == "load"}


def _target_names(target: nodes.Node, syntax: ModuleType) -> list[str]:
    names = []
    for node in _walk(target):
        if isinstance(node, (syntax.Name, syntax.NSRef)):
            names.append(node.name)
    return names


def _big_int(node: nodes.Node, syntax: ModuleType) -> bool:
    return (
        isinstance(node, syntax.Const)
        and isinstance(node.value, int)
        and not isinstance(node.value, bool)
        and node.value > HUGE_COUNT
    )
