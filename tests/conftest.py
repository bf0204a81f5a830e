"""Shared test fixtures: golden files, deterministic clock, example paths."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "models"
GOLDEN_DIR = Path(__file__).resolve().parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="Rewrite golden files from the current output instead of comparing (review the diff!).",
    )


@pytest.fixture(autouse=True)
def _deterministic_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs with SOURCE_DATE_EPOCH set, so documents are byte-stable."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01T00:00:00Z


@pytest.fixture(autouse=True)
def _private_scan_cache(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Scans in tests use a scan cache of their own (platformdirs honours XDG_CACHE_HOME), never the user's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-cache"))


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[str, str], None]:
    """``golden(name, text)``: compare ``text`` with tests/golden/<name>, or rewrite it with --update-goldens."""
    update = bool(request.config.getoption("--update-goldens"))

    def check(name: str, text: str) -> None:
        path = GOLDEN_DIR / name
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="\n")
            return
        assert path.exists(), f"golden file {path} is missing: run pytest --update-goldens and review it"
        expected = path.read_text(encoding="utf-8")
        assert text == expected, f"output differs from golden file {name} (run pytest --update-goldens to accept)"

    return check


@pytest.fixture
def examples_cwd(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from the repository root so example paths in documents are the stable relative 'examples/models/...'."""
    monkeypatch.chdir(ROOT)
    return ROOT


def relative_examples() -> str:
    return os.path.join("examples", "models")
