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
from _thread import allocate_lock
from types import ModuleType
from typing import TYPE_CHECKING, Any

from lbom._deferred import builtins_binding, stand_in
from lbom._records import dataclass

if TYPE_CHECKING:
    from collections.abc import Callable

    from jinja2 import nodes as jinja_nodes
    from jinja2.parser import Parser

_ALIAS = "lbom._checks._jinja"
_MODULES = ("exceptions", "nodes", "lexer", "parser")


@dataclass(frozen=True)
class JinjaParser:
    """What the template checks use: the node classes, a parse function and the syntax error it raises."""

    nodes: ModuleType
    parse: Callable[[str], jinja_nodes.Template]
    syntax_error: type[Exception]
    parse_only: bool
    """True for the private lexer/parser copy, False for jinja2's full Environment."""


_LOADED: JinjaParser | None = None
_LOCK = allocate_lock()


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
    import importlib.util

    spec = importlib.util.find_spec("jinja2")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("jinja2 is not installed as a package directory")
    package = ModuleType(_ALIAS, "jinja2's lexer and parser, loaded for parsing only (lbom._checks.jinja_parser)")
    package.__path__ = list(spec.submodule_search_locations)
    sys.modules[_ALIAS] = package
    _install_light_modules()
    # nodes imports inspect and markupsafe.Markup for constant folding, which parsing never runs (Markup also
    # appears in annotations, where any callable does); the lexer calls ast.literal_eval on float literals only.
    # Only these four modules' own import statements get the stand-ins (their builtins), no other importer.
    private_builtins = builtins_binding(
        {
            "inspect": stand_in("inspect"),
            "markupsafe": stand_in("markupsafe", functions=("Markup",)),
            "ast": stand_in("ast", functions=("literal_eval",)),
        }
    )
    modules = {name: _load_private(name, private_builtins) for name in _MODULES}  # in dependency order
    nodes_module = modules["nodes"]
    lexer_module = modules["lexer"]
    parser_class = modules["parser"].Parser
    environment = _ParseEnvironment(lexer_module, _extensions(nodes_module))

    def parse(text: str) -> jinja_nodes.Template:
        tree: jinja_nodes.Template = parser_class(environment, text, None, None).parse()
        return tree

    return JinjaParser(nodes_module, parse, modules["exceptions"].TemplateSyntaxError, parse_only=True)


def _load_private(name: str, private_builtins: dict[str, Any]) -> ModuleType:
    """jinja2's module ``name`` as ``lbom._checks._jinja.<name>``, run with ``private_builtins``."""
    return _exec_jinja_file(name, f"{_ALIAS}.{name}", private_builtins)


def _exec_jinja_file(name: str, full_name: str, private_builtins: dict[str, Any] | None = None) -> ModuleType:
    """Run jinja2's ``<name>.py`` as module ``full_name`` of the private package (registered while it runs, removed
    if it fails), with ``private_builtins`` for its imports when given.

    Raises ImportError when it cannot (jinja2 in a zip, or installed without its ``.py`` files): the parse then
    switches to jinja2's full import (:func:`parse_template`), which can.
    """
    import importlib.util
    import os

    directory = sys.modules[_ALIAS].__path__[0]
    spec = importlib.util.spec_from_file_location(full_name, os.path.join(directory, f"{name}.py"))
    if spec is None or spec.loader is None:
        raise ImportError(f"jinja2's {name}.py cannot be loaded")
    module = importlib.util.module_from_spec(spec)
    if private_builtins is not None:
        module.__dict__["__builtins__"] = private_builtins  # its import statements (and its functions' later ones)
    sys.modules[full_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as exc:
        del sys.modules[full_name]
        if isinstance(exc, OSError):
            raise ImportError(f"jinja2's {name}.py cannot be read: {exc}") from exc
        raise
    return module


def _install_light_modules() -> None:
    """Stand-ins for the two jinja2 modules the parse-only copy imports for one name each, so loading it costs
    ~10 ms less (measured): ``utils`` (it imports ``random``, ``urllib.parse`` and with it ``ipaddress``, and
    compiles URL patterns) and ``_identifier`` (one large Unicode character class, ~3 ms to compile).

    - ``lexer`` builds ``LRUCache(50)`` for ``get_lexer``, which the parse-only environment never calls (it
      builds its own ``Lexer``). ``nodes`` imports ``_PassArg`` for constant folding, which parsing never runs:
      the stand-in loads jinja2's real ``utils`` on first use and answers from it.
    - ``_identifier.pattern`` matches names: the stand-in matches ASCII names with a small pattern and hands
      any name touching a non-ASCII character to jinja2's own pattern, compiled then.

    The differential tests compare trees and errors with jinja2's full Environment, non-ASCII names included.
    """
    utils = ModuleType(f"{_ALIAS}.utils", "jinja2.utils, the two names the lexer and nodes import")
    utils.LRUCache = _UnusedLexerCache  # type: ignore[attr-defined]
    utils._PassArg = _RealUtilsName("_PassArg")  # type: ignore[attr-defined]
    identifier = ModuleType(f"{_ALIAS}._identifier", "jinja2._identifier with an ASCII fast path")
    identifier.pattern = _NamePattern()  # type: ignore[attr-defined]
    sys.modules[utils.__name__] = utils
    sys.modules[identifier.__name__] = identifier


def _jinja_source(name: str) -> ModuleType:
    """jinja2's own module ``name``, loaded into the private package beside its stand-in (as
    ``_source_<name>``), without importing ``jinja2`` itself (ImportError when it cannot: see
    :func:`_exec_jinja_file`)."""
    full_name = f"{_ALIAS}._source_{name.lstrip('_')}"
    module = sys.modules.get(full_name)
    return module if module is not None else _exec_jinja_file(name, full_name)


class _UnusedLexerCache(dict[Any, Any]):
    """The lexer module's ``_lexer_cache = LRUCache(50)``: only ``get_lexer`` uses it, never called here."""

    def __init__(self, capacity: int) -> None:
        super().__init__()
        self.capacity = capacity


class _RealUtilsName:
    """A name from jinja2's real ``utils`` module, loaded on first attribute access."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(getattr(_jinja_source("utils"), self._name), attribute)


class _NamePattern:
    """``jinja2._identifier.pattern`` (``[\\w<Unicode continue characters>]+``), ASCII names without it.

    For ASCII, that class is exactly ``[0-9A-Za-z_]`` (every extra character it lists is beyond ASCII). A match
    that starts on, or ends next to, a non-ASCII character goes to jinja2's pattern, which decides it.
    """

    def __init__(self) -> None:
        import re

        self._ascii = re.compile(r"[0-9A-Za-z_]+")
        self._full: Any = None

    def match(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> Any:
        found = self._ascii.match(text, pos, endpos)
        end = found.end() if found is not None else pos
        if end < min(len(text), endpos) and not text[end].isascii():
            return self._unicode().match(text, pos, endpos)
        return found

    def _unicode(self) -> Any:
        if self._full is None:
            self._full = _jinja_source("_identifier").pattern
        return self._full

    def __getattr__(self, attribute: str) -> Any:  # .pattern, .flags ...: jinja2's own
        return getattr(self._unicode(), attribute)


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
