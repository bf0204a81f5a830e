"""Which folders the GUI serves by default: the model stores found on this machine, and the current folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from lbom._web.roots import default_roots, store_folders
from tests.web.conftest import Gui


@pytest.fixture
def fake_stores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    hub = tmp_path / "hub"
    hub.mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no real stores of the machine running the tests
    monkeypatch.setenv("HF_HUB_CACHE", str(hub))
    for name in ("HF_HOME", "OLLAMA_MODELS", "LLAMA_CACHE", "LMSTUDIO_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return hub


def test_default_roots_are_existing_stores_then_the_cwd(fake_stores: Path, tmp_path: Path) -> None:
    assert default_roots() == [str(fake_stores), str(tmp_path)]
    assert store_folders() == {str(fake_stores): "Hugging Face hub cache"}


def test_store_roots_are_listed_with_their_label(
    fake_stores: Path, tmp_path: Path, start_gui: Callable[..., Gui]
) -> None:
    gui = start_gui([Path(p) for p in default_roots()], store_folders())
    entries = gui.get("/api/browse").json()["entries"]
    assert [(e["path"], e["label"]) for e in entries] == [
        (str(fake_stores), "Hugging Face hub cache"),
        (str(tmp_path), None),
    ]


def test_without_stores_the_default_root_is_the_cwd(tmp_path: Path, fake_stores: Path) -> None:
    fake_stores.rmdir()
    assert default_roots() == [str(tmp_path)]
    assert store_folders() == {}
