"""jinja2's own lexer and parser, loaded without the rest of jinja2: chat templates are parsed, never rendered.

``import jinja2`` loads the whole engine (compiler, runtime, filters, sandbox helpers, bytecode cache and the
standard-library modules they pull in: pickle, tempfile, shutil, random, urllib ...), 50-100 ms that a one-file
scan would spend on code it never runs. The template checks need only the syntax tree, so this module loads
jinja2's ``lexer``, ``parser``, ``nodes``, ``exceptions`` and ``utils`` modules as a private copy under
``lbom._checks._jinja`` (the very same files, so the tree is jinja2's tree) and hands the parser a small
environment carrying the settings Hugging Face renders chat templates with. That roughly halves the cost.

When jinja2 is already imported (the GUI, the MCP server, a library user) its own ``Environment`` is used, and
so it is when this loader cannot work with the installed jinja2 (its internals are not a stable API): any
failure falls back to the full import. A differential test holds both paths to the same trees and errors.
"""

from __future__ import annotations

import sys
import threading
from types import ModuleType
from typing import TYPE_CHECKING, Any

from lbom._records import dataclass

if TYPE_CHECKING:
    from collections.abc import Callable

    from jinja2 import nodes as jinja_nodes
    from jinja2.parser import Parser

_ALIAS = "lbom._checks._jinja"
_MODULES = ("exceptions", "utils", "nodes", "lexer", "parser")


@dataclass(frozen=True)
class JinjaParser:
    """What the template checks use: the node classes, a parse function and the syntax error it raises."""

    nodes: ModuleType
    parse: Callable[[str], jinja_nodes.Template]
    syntax_error: type[Exception]
    parse_only: bool
    """True for the private lexer/parser copy, False for jinja2's full Environment."""


_LOADED: JinjaParser | None = None
_LOCK = threading.Lock()


def jinja_parser() -> JinjaParser:
    """The parser for chat templates, loaded once per process."""
    global _LOADED
    with _LOCK:
        if _LOADED is None:
            _LOADED = load(jinja2_imported="jinja2" in sys.modules)
        return _LOADED


class TemplateDoesNotParse(Exception):
    """A template jinja2 refuses, with jinja2's message and line (whichever copy of jinja2 parsed it)."""

    def __init__(self, message: str, lineno: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.lineno = lineno


def parse_template(text: str) -> tuple[jinja_nodes.Template, ModuleType]:
    """The syntax tree of ``text`` and the node classes it is made of (check it with those, not another copy's).

    Raises :class:`TemplateDoesNotParse` for a template jinja2 refuses. When the parse-only copy itself fails (a
    jinja2 release whose parser reads something the small environment does not carry), the process switches to
    jinja2's full Environment and parses again.
    """
    global _LOADED
    parser = jinja_parser()
    try:
        return _parse_with(parser, text)
    except (AttributeError, TypeError, NameError, ImportError):
        if not parser.parse_only:
            raise
    with _LOCK:
        if _LOADED is parser or _LOADED is None:
            _LOADED = full_jinja2()
        full: JinjaParser = _LOADED
    return _parse_with(full, text)


def _parse_with(parser: JinjaParser, text: str) -> tuple[jinja_nodes.Template, ModuleType]:
    try:
        return parser.parse(text), parser.nodes
    except parser.syntax_error as exc:
        raise TemplateDoesNotParse(exc.message, exc.lineno) from exc  # type: ignore[attr-defined]


def load(*, jinja2_imported: bool) -> JinjaParser:
    """jinja2's own Environment when it is imported already, else the parse-only copy if it loads."""
    if jinja2_imported:
        return full_jinja2()
    try:
        return parse_only()
    except Exception:  # an installed jinja2 this loader does not fit: the full import still works
        for name in [name for name in list(sys.modules) if name == _ALIAS or name.startswith(_ALIAS + ".")]:
            del sys.modules[name]
        return full_jinja2()


def parse_only() -> JinjaParser:
    """jinja2's lexer and parser as a private copy, without ``jinja2/__init__`` and the engine it imports."""
    import importlib
    import importlib.util

    spec = importlib.util.find_spec("jinja2")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("jinja2 is not installed as a package directory")
    package = ModuleType(_ALIAS, "jinja2's lexer and parser, loaded for parsing only (lbom._checks.jinja_parser)")
    package.__path__ = list(spec.submodule_search_locations)
    sys.modules[_ALIAS] = package
    modules = {name: importlib.import_module(f"{_ALIAS}.{name}") for name in _MODULES}
    nodes_module = modules["nodes"]
    lexer_module = modules["lexer"]
    parser_class = modules["parser"].Parser
    environment = _ParseEnvironment(lexer_module, _extensions(nodes_module))

    def parse(text: str) -> jinja_nodes.Template:
        tree: jinja_nodes.Template = parser_class(environment, text, None, None).parse()
        return tree

    return JinjaParser(nodes_module, parse, modules["exceptions"].TemplateSyntaxError, parse_only=True)


class _ParseEnvironment:
    """The part of ``jinja2.Environment`` its lexer and parser read, set as Hugging Face sets it for chat
    templates (``trim_blocks``, ``lstrip_blocks``, jinja2's default delimiters, the loop-control and
    ``generation`` tags)."""

    block_start_string = "{%"
    block_end_string = "%}"
    variable_start_string = "{{"
    variable_end_string = "}}"
    comment_start_string = "{#"
    comment_end_string = "#}"
    line_statement_prefix = None
    line_comment_prefix = None
    trim_blocks = True
    lstrip_blocks = True
    newline_sequence = "\n"
    keep_trailing_newline = False

    def __init__(self, lexer_module: ModuleType, extensions: list[Any]) -> None:
        self.lexer = lexer_module.Lexer(self)
        self.extensions = {type(extension).__name__: extension for extension in extensions}

    def iter_extensions(self) -> Any:
        return iter(self.extensions.values())

    def _tokenize(self, source: str, name: str | None, filename: str | None = None, state: str | None = None) -> Any:
        # Environment._tokenize also runs each extension's preprocess and filter_stream; these two have none.
        return self.lexer.tokenize(source, name, filename, state)


def _extensions(nodes_module: Any) -> list[Any]:
    """The tags the environment adds beyond Jinja's own, for whichever copy of ``nodes`` the parser builds."""

    class LoopControls:
        """``{% break %}`` and ``{% continue %}``, as ``jinja2.ext.loopcontrols`` parses them."""

        tags = frozenset({"break", "continue"})
        priority = 100

        def parse(self, parser: Parser) -> jinja_nodes.Node:
            token = next(parser.stream)
            if token.value == "break":
                return nodes_module.Break(lineno=token.lineno)  # type: ignore[no-any-return]
            return nodes_module.Continue(lineno=token.lineno)  # type: ignore[no-any-return]

    return [LoopControls(), GenerationTag(nodes_module)]


class GenerationTag:
    """``{% generation %}...{% endgeneration %}`` (transformers' AssistantTracker), parsed as a plain block."""

    tags = frozenset({"generation"})
    priority = 100

    def __init__(self, nodes_module: Any) -> None:
        self.nodes = nodes_module

    def parse(self, parser: Parser) -> jinja_nodes.Node:
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return self.nodes.Scope(body, lineno=lineno)  # type: ignore[no-any-return]


def full_jinja2() -> JinjaParser:
    """jinja2's full ``Environment`` with the same settings and tags."""
    from jinja2 import Environment, TemplateSyntaxError, nodes
    from jinja2.ext import Extension, loopcontrols

    generation = GenerationTag(nodes)

    class Generation(Extension):
        tags = set(generation.tags)  # noqa: RUF012 - jinja2's Extension API declares it as a class attribute

        def parse(self, parser: Parser) -> jinja_nodes.Node:
            return generation.parse(parser)

    environment = Environment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols, Generation])  # noqa: S701 - parse only, never rendered
    return JinjaParser(nodes, environment.parse, TemplateSyntaxError, parse_only=False)
