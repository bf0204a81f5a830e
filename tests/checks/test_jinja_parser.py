"""The parse-only jinja2 loader gives the same trees, errors and findings as jinja2's full Environment."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import pytest

from lbom._checks import chat_template as tpl
from lbom._checks import jinja_parser as loader
from tests.checks.common_templates import COMMON

SNIPPETS = {
    "for": "{% for m in messages %}{{ m.content }}{% endfor %}",
    "whitespace control": "{%- if x -%}  a  {%- elif y %} b {% else %} c {%- endif %}\n",
    "trim and lstrip": "line1\n  {%- if x %}\n    y\n  {% endif %}\n  {% if z %}\nq{% endif %}\n",
    "raw": "{% raw %}{{ not parsed }}{% endraw %}",
    "comment and concat": "{# comment #}{{ 'a' ~ b | upper }}",
    "namespace": "{% set ns = namespace(found=false) %}{% for m in messages %}{% set ns.found = true %}{% endfor %}",
    "macro and call": "{% macro f(a, b=1) %}{{ a }}{% endmacro %}{% call f(1) %}x{% endcall %}{{ f(2, b=3) }}",
    "filter block": "{% filter upper %}x{% endfilter %}",
    "set block": "{% set x %}block{% endset %}{{ x }}",
    "expressions": "{{ x if y else z }}{{ a[1:2] }}{{ b['k'] }}{{ c(*d, **e) }}{{ 2 ** 8 }}{{ -1 }}{{ not x }}"
    "{{ x is defined }}{{ x is not none }}{{ 'a' in b }}{{ a // b % c }}{{ a < b <= c }}",
    "literals": "{{ [1, 2] + (3,) }}{{ {'a': 1} }}{{ 1.5e3 }}{{ true }}{{ none }}{{ 'it''s' }}{{ \"q\\\"\" }}",
    "recursive for": "{% for x in y recursive %}{{ loop(x.children) }}{% endfor %}",
    "for else and filter": "{% for x in y if x %}{{ loop.index }}{% else %}empty{% endfor %}",
    "loop controls": "{% for m in messages %}{% if loop.first %}{% continue %}{% endif %}{% break %}{% endfor %}",
    "generation": "{% for m in messages %}{% generation %}{{ m }}{% endgeneration %}{% endfor %}",
    "loads templates": "{% include 'x' %}{% import 'y' as z %}{% from 'a' import b %}{% extends 'base' %}",
    "with and autoescape": "{% with a = 1 %}{{ a }}{% endwith %}{% autoescape true %}{{ x }}{% endautoescape %}",
    "block": "{% block b %}x{% endblock %}",
    "attr filter": "{{ x | attr('__class__') }}{{ cycler.__init__.__globals__ }}",
    "unicode name": "{{ ünïcode }}",
    "ascii name running into unicode": "{{ abcé }}{{ a·b }}{{ ab\u0301c }}{{ x\u0663 }}{% set ñ = 1 %}{{ ñ }}",
    "cjk name": "{{ 名前 }}{% for 項目 in messages %}{{ 項目 }}{% endfor %}",
    "unicode after a name": "{{ x }}é {{ y|upper }}€",
    "error: a symbol that is no name": "{{ abc€ }}",
    "error: zero width space in a name": "{{ ab\u200bc }}",
    "error: unclosed for": "{% for m in messages %}",
    "error: unclosed expression": "{{ x",
    "error: empty if": "{% if %}{% endif %}",
    "error: stray end": "\n\n{% endfor %}",
    "error: unknown tag": "{% unknown %}",
    "error: dangling filter": "{{ x | }}",
    "error: unterminated string": "\n\n{{ 'unterminated }}",
    "error: do is not enabled": "{% do x.append(1) %}",
    "error: unclosed generation": "{% generation %}no end",
    "error: bad break": "{% break extra %}",
    "deep parentheses": "{{ " + "(" * 40 + "x" + ")" * 40 + " }}",
}
CORPUS = {**{f"published: {name}": text for name, text in COMMON.items()}, **SNIPPETS}


def _outcome(parser: loader.JinjaParser, text: str) -> tuple[str, object, object]:
    try:
        return "tree", repr(parser.parse(text)), None
    except parser.syntax_error as exc:
        return "syntax error", exc.message, exc.lineno  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def both() -> tuple[loader.JinjaParser, loader.JinjaParser]:
    return loader.parse_only(), loader.full_jinja2()


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_parse_only_copy_gives_jinja2s_tree_or_error(
    name: str, both: tuple[loader.JinjaParser, loader.JinjaParser]
) -> None:
    parse_only, full = both
    assert parse_only.parse_only and not full.parse_only
    assert parse_only.nodes is not full.nodes  # really the private copy
    ours = _outcome(parse_only, CORPUS[name])
    assert ours == _outcome(full, CORPUS[name])
    assert (ours[0] == "syntax error") is name.startswith("error:")


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_findings_do_not_depend_on_which_parser_loaded(
    name: str, both: tuple[loader.JinjaParser, loader.JinjaParser], monkeypatch: pytest.MonkeyPatch
) -> None:
    notes = []
    for parser in both:
        monkeypatch.setattr(loader, "_LOADED", parser)
        notes.append(tpl._analyse(CORPUS[name]))
    assert notes[0] == notes[1]


def test_findings_are_found_through_the_copy(
    both: tuple[loader.JinjaParser, loader.JinjaParser], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loader, "_LOADED", both[0])
    rules = {note[0] for note in tpl._analyse(SNIPPETS["attr filter"] + SNIPPETS["loads templates"])}
    assert {tpl.R_INTERNALS, tpl.R_LOADS_TEMPLATES} <= rules


def test_a_jinja2_the_loader_does_not_fit_falls_back_to_the_full_import(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader, "_ALIAS", "lbom._checks._jinja_unfit")
    monkeypatch.setattr(loader, "_MODULES", ("exceptions", "a_module_jinja2_does_not_have"))
    parser = loader.load(jinja2_imported=False)
    assert not parser.parse_only
    assert [name for name in sys.modules if name.startswith("lbom._checks._jinja_unfit")] == []
    assert _outcome(parser, "{{ x }}")[0] == "tree"


def test_an_imported_jinja2_is_used_as_it_is() -> None:
    assert not loader.load(jinja2_imported=True).parse_only


def test_a_copy_that_breaks_while_parsing_hands_over_to_jinja2(monkeypatch: pytest.MonkeyPatch) -> None:
    copy = loader.parse_only()

    def broken(text: str) -> object:
        raise AttributeError("'_ParseEnvironment' object has no attribute 'something_new'")

    monkeypatch.setattr(loader, "_LOADED", loader.JinjaParser(copy.nodes, broken, copy.syntax_error, True))  # type: ignore[arg-type]
    tree, syntax = loader.parse_template(SNIPPETS["for"])
    assert isinstance(tree, syntax.Template)
    assert loader._LOADED is not None and not loader._LOADED.parse_only  # the rest of the process uses jinja2
    notes = tpl._analyse(SNIPPETS["attr filter"])
    assert tpl.R_INTERNALS in {note[0] for note in notes}


@pytest.mark.parametrize("which", ["parse-only copy", "full jinja2"])
def test_syntax_errors_arrive_as_one_exception_whichever_parser(
    which: str, both: tuple[loader.JinjaParser, loader.JinjaParser], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loader, "_LOADED", both[0] if which == "parse-only copy" else both[1])
    with pytest.raises(loader.TemplateDoesNotParse) as caught:
        loader.parse_template("\n{% for m in messages %}")
    assert "endfor" in caught.value.message and caught.value.lineno == 2


@pytest.mark.parametrize("which", ["parse-only copy", "full jinja2"])
def test_a_literal_python_cannot_hold_is_a_finding_not_a_crash(
    which: str, both: tuple[loader.JinjaParser, loader.JinjaParser], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loader, "_LOADED", both[0] if which == "parse-only copy" else both[1])
    notes = tpl._analyse("{{ " + "9" * 5000 + " }}")  # int() refuses 4,300+ digits: jinja2's lexer raises
    assert [(note[0], note[1]) for note in notes] == [(tpl.R_PARSE, tpl.Severity.MEDIUM)]
    assert "does not parse" in notes[0][2]


def test_name_pattern_matches_as_jinja2s_does() -> None:
    from jinja2._identifier import pattern as jinja2_pattern

    ours = loader._NamePattern()
    pieces = [
        "a",
        "Z",
        "_",
        "0",
        "9",
        " ",
        ".",
        "(",
        "é",
        "·",
        "\u0301",
        "\u0663",
        "€",
        "名",
        "\u200b",
        "ß",
        "\U0001d400",
    ]
    texts = ["".join(combo) for combo in itertools.product(pieces, repeat=3)]
    texts += ["", "hello_world", "x" * 50 + "é", "messages[0].content"]
    for text in texts:
        for pos in range(len(text) + 1):
            for endpos in (len(text), max(pos, len(text) - 1)):
                expected = jinja2_pattern.match(text, pos, endpos)
                got = ours.match(text, pos, endpos)
                assert (got and got.span()) == (expected and expected.span()), (text, pos, endpos)
    assert ours.pattern == jinja2_pattern.pattern


def test_jinja2_from_a_zip_still_parses_non_ascii_names(tmp_path: Path) -> None:
    # jinja2 imported from a zip: the parse-only copy cannot read jinja2's own _identifier.py for a non-ASCII name,
    # so the scan switches to jinja2's full import, with the same findings (it used to end with exit 4).
    import json
    import os
    import subprocess
    import zipfile

    import jinja2

    from tests.builders import write_gguf

    package = Path(jinja2.__file__).parent
    archive = tmp_path / "jinja.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for source in package.rglob("*.py"):
            bundle.write(source, str(source.relative_to(package.parent)))
    model = write_gguf(tmp_path / "tpl.gguf", extra={"tokenizer.chat_template": "{% set café = 1 %}{{ café }}"})
    command = [sys.executable, "-m", "lbom", "scan", str(model), "--no-hash", "--no-cache"]
    zipped = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(archive), os.environ.get("PYTHONPATH", "")])},
    )
    plain = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert zipped.returncode == plain.returncode == 0, zipped.stderr
    assert json.loads(zipped.stdout)["metadata"] == json.loads(plain.stdout)["metadata"]
    assert json.loads(zipped.stdout)["warnings"] == json.loads(plain.stdout)["warnings"]


ISOLATION_PROBE = """
import sys, threading
from lbom._checks.jinja_parser import parse_only
parser = parse_only()
private = sys.modules["lbom._checks._jinja.nodes"]
assert "markupsafe" not in sys.modules, "a stand-in only: nothing imported"
assert sys.version_info >= (3, 12) or "inspect" not in sys.modules  # 3.12+'s dataclasses import it anyway
assert parser.parse("{{ 2.5 }}").body[0].nodes[0].value == 2.5  # ast.literal_eval through its stand-in
import jinja2, jinja2.nodes, markupsafe
# The real jinja2, imported after (or, in another thread, during) the load, never sees the stand-ins.
assert jinja2.nodes.Markup is markupsafe.Markup and isinstance(markupsafe.Markup("x"), str)
assert private.Markup is not markupsafe.Markup and private.Markup("<b>") == markupsafe.Markup("<b>")
print("ok")
"""


def test_the_parse_only_copy_keeps_its_stand_ins_to_itself() -> None:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", ISOLATION_PROBE], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
