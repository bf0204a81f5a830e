"""``l-bom scan URL``: JSON with bytes_fetched, one-line errors and exit code 3 for unreachable servers."""

from __future__ import annotations

import functools
import json

import pytest

from lbom._cli import main
from lbom._remote import read_remote
from lbom._remote.http import RemoteSettings
from tests.conftest import EXAMPLES
from tests.remote.fake_servers import ServerState, serve


@pytest.fixture(autouse=True)
def _no_backoff_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(read_remote, "RemoteSettings", functools.partial(RemoteSettings, sleep=lambda _s: None))


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


def test_scan_url_prints_bytes_fetched(capsys: pytest.CaptureFixture[str]) -> None:
    data = (EXAMPLES / "tinyllama-q4_k_m.gguf").read_bytes()
    state = ServerState(files={"m.gguf": data})
    with serve(state) as base:
        code, out, _err = run(["scan", f"{base}/m.gguf", "--format", "json"], capsys)
    assert code == 0
    document = json.loads(out)
    assert document["files"][0]["bytes_fetched"] == state.bytes_sent
    assert document["sha256"] is None and document["source"]["kind"] == "url"


def test_no_range_without_consent_exits_3_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    state = ServerState(files={"m.gguf": (EXAMPLES / "tinyllama-q4_k_m.gguf").read_bytes()}, behaviour="no-range")
    with serve(state) as base:
        code, out, err = run(["scan", f"{base}/m.gguf"], capsys)
        assert code == 3 and out == ""
        assert err.count("\n") == 1 and "--allow-full-download" in err
        code, out, _err = run(["scan", f"{base}/m.gguf", "--allow-full-download"], capsys)
        assert code == 0 and json.loads(out)["format"] == "gguf"


def test_unreachable_server_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    with serve(ServerState()) as base:
        pass
    code, _out, err = run(["scan", f"{base}/m.gguf"], capsys)
    assert code == 3 and err.count("\n") == 1 and "connection refused" in err


def test_hash_and_no_hash_conflict(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(["scan", "https://127.0.0.1:1/x.gguf", "--hash", "--no-hash"], capsys)
    assert code == 2 and "contradict" in err
