"""Compare, lock and verify through the GUI's API (adapters over the gate library)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.builders import write_gguf
from tests.web.conftest import Gui

StartGui = Callable[[list[Path]], Gui]


@pytest.fixture
def models(tmp_path: Path) -> Path:
    root = tmp_path / "models"
    root.mkdir()
    write_gguf(root / "a.gguf", extra={"general.name": "A"})
    write_gguf(root / "b.gguf", extra={"general.name": "B"})
    return root


def scan(gui: Gui, paths: list[Path], hash: bool = True) -> str:
    job_id: str = gui.post("/api/scans", {"paths": [str(p) for p in paths], "hash": hash}).json()["id"]
    assert gui.wait(job_id)["state"] == "done"
    return job_id


def test_gate_features_are_offered(start_gui: StartGui, models: Path) -> None:
    features = start_gui([models]).get("/api/info").json()["features"]
    assert features == {"diff": True, "verify": True, "lock": True, "policy": True}


def test_diff_two_scans_of_a_changed_folder(start_gui: StartGui, models: Path) -> None:
    gui = start_gui([models])
    first = scan(gui, [models])
    same = gui.post("/api/diff", {"old": first, "new": scan(gui, [models])}).json()
    assert same["ok"] is True
    write_gguf(models / "a.gguf", extra={"general.name": "A", "general.license": "mit"})
    (models / "b.gguf").unlink()
    changed = gui.post("/api/diff", {"old": first, "new": scan(gui, [models])}).json()
    assert changed["ok"] is False
    assert changed["diff"]["removed_models"] == ["b.gguf"]  # relative to the scanned folder
    assert "license" in changed["text"]


def test_diff_against_an_uploaded_document(start_gui: StartGui, models: Path) -> None:
    gui = start_gui([models])
    first = scan(gui, [models])
    saved = gui.get(f"/api/scans/{first}/export?format=json").body.decode()
    (models / "b.gguf").unlink()
    second = scan(gui, [models])
    result = gui.post("/api/diff", {"old_text": saved, "old_name": "before.json", "new": second}).json()
    assert result["ok"] is False and result["diff"]["old"] == "before.json"
    bad = gui.post("/api/diff", {"old_text": "{not json", "new": second})
    assert bad.status == 400 and "not valid JSON" in bad.json()["error"]
    assert gui.post("/api/diff", {"old": "nope", "new": second}).status == 404
    assert gui.post("/api/diff", ["x"]).status == 400


def test_lock_then_verify(start_gui: StartGui, models: Path) -> None:
    gui = start_gui([models])
    first = scan(gui, [models])
    lock = gui.get(f"/api/scans/{first}/lock?download=1")
    assert lock.status == 200 and lock.headers["content-disposition"] == 'attachment; filename="models.lock"'
    text = lock.body.decode()
    assert "lock_version" in text and '"a.gguf"' in text
    assert gui.post("/api/verify", {"scan": first, "lock": text}).json()["ok"] is True
    data = bytearray((models / "a.gguf").read_bytes())
    data[-1] ^= 0xFF
    (models / "a.gguf").write_bytes(bytes(data))
    second = scan(gui, [models])
    outcome = gui.post("/api/verify", {"scan": second, "lock": text}).json()
    assert outcome["ok"] is False and "a.gguf" in outcome["text"]


def test_lock_and_verify_refusals(start_gui: StartGui, models: Path) -> None:
    gui = start_gui([models])
    unhashed = scan(gui, [models], hash=False)
    assert gui.get(f"/api/scans/{unhashed}/lock").status == 400
    two_roots = scan(gui, [models / "a.gguf", models / "b.gguf"])
    assert gui.get(f"/api/scans/{two_roots}/lock").status == 400
    hashed = scan(gui, [models])
    assert gui.post("/api/verify", {"scan": hashed, "lock": "lock_version = 99\n"}).status == 400
    assert gui.post("/api/verify", {"scan": hashed, "lock": 3}).status == 400
    assert gui.post("/api/verify", {"scan": "nope", "lock": ""}).status == 404


def test_policy_check(start_gui: StartGui, models: Path) -> None:
    gui = start_gui([models])
    job_id = scan(gui, [models])
    allow = '[formats]\nallow = ["gguf"]\n'
    passed = gui.post("/api/policy", {"scan": job_id, "policy": allow}).json()
    assert passed["ok"] is True and passed["findings"] == []
    deny = '[formats]\ndeny = ["gguf"]\n[require]\nfields = ["license"]\n'
    failed = gui.post("/api/policy", {"scan": job_id, "policy": deny}).json()
    assert failed["ok"] is False
    assert {f["rule_id"].split("-")[1] for f in failed["findings"]} == {"POLICY"}
    assert len(failed["findings"]) >= 2 and "a.gguf" in failed["text"]
    typo = gui.post("/api/policy", {"scan": job_id, "policy": "[formts]\nallow = []\n"})
    assert typo.status == 400 and typo.json()["error"]
    assert gui.post("/api/policy", {"scan": job_id, "policy": None}).status == 400
    assert gui.get("/api/policy").status == 405
