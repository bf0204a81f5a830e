"""The GUI's HTTP API: every endpoint, and every refusal that keeps it from being a hole."""

from __future__ import annotations

import http.client
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import lbom
from lbom._web import jobs as web_jobs
from lbom._web import server as web_server
from lbom._web.security import HostPolicy, Roots, check_bind, tokens_equal
from lbom.errors import ScanCancelled, UsageError
from tests.builders import write_gguf
from tests.conftest import EXAMPLES
from tests.web.conftest import TOKEN, Gui

StartGui = Callable[[list[Path]], Gui]


@pytest.fixture
def tree(tmp_path: Path) -> dict[str, Path]:
    """root/ with a model and a subfolder; outside/ with a secret model; links from root/ pointing outside."""
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    write_gguf(root / "inside.gguf", extra={"general.name": "Inside"})
    write_gguf(outside / "secret.gguf", extra={"general.name": "Secret"})
    (root / "link-dir").symlink_to(outside, target_is_directory=True)
    (root / "sub" / "link-file.gguf").symlink_to(outside / "secret.gguf")
    return {"root": root, "outside": outside}


# --- authentication ----------------------------------------------------------------------------------------


def test_api_refuses_requests_without_token(start_gui: StartGui, tree: dict[str, Path]) -> None:
    gui = start_gui([tree["root"]])
    response = gui.get("/api/info", token=None)
    assert response.status == 401
    assert "root" not in response.body.decode()


def test_api_refuses_a_wrong_token(start_gui: StartGui, tree: dict[str, Path]) -> None:
    gui = start_gui([tree["root"]])
    assert gui.get("/api/info", token=TOKEN + "x").status == 401
    assert gui.get("/api/info", token=TOKEN[:-1]).status == 401
    assert gui.get("/api/scans", token="").status == 401


def test_api_accepts_the_token_as_header(start_gui: StartGui, tree: dict[str, Path]) -> None:
    gui = start_gui([tree["root"]])
    info = gui.get("/api/info").json()
    assert info["roots"] == [str(tree["root"])]
    assert "json" in info["formats"]
    assert set(info["formats"]) <= {f.value for f in lbom.OutputFormat}


def test_page_with_token_sets_a_strict_httponly_cookie_and_drops_the_token(
    start_gui: StartGui, tree: dict[str, Path]
) -> None:
    gui = start_gui([tree["root"]])
    response = gui.get(f"/?token={TOKEN}", token=None)
    assert response.status == 303
    assert response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"lbom_token_{gui.port}={TOKEN};")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    with_cookie = gui.get("/api/info", token=None, headers={"Cookie": f"lbom_token_{gui.port}={TOKEN}"})
    assert with_cookie.status == 200
    other_port = gui.get("/api/info", token=None, headers={"Cookie": f"lbom_token_1={TOKEN}"})
    assert other_port.status == 401


def test_page_with_a_wrong_token_is_refused(start_gui: StartGui, tree: dict[str, Path]) -> None:
    gui = start_gui([tree["root"]])
    response = gui.get("/?token=nope", token=None)
    assert response.status == 403
    assert "set-cookie" not in response.headers


def test_tokens_compare_in_constant_time_and_reject_none() -> None:
    assert tokens_equal("abc", "abc")
    assert not tokens_equal(None, "abc")
    assert not tokens_equal("abd", "abc")
    assert not tokens_equal("\udcff", "abc")


# --- Host, CORS, headers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1:1", "localhost.evil:{port}", ""])
def test_bad_host_header_is_refused(start_gui: StartGui, tree: dict[str, Path], host: str) -> None:
    gui = start_gui([tree["root"]])
    response = gui.get("/api/info", headers={"Host": host.format(port=gui.port)})
    assert response.status == 421
    assert gui.get("/", headers={"Host": host.format(port=gui.port)}).status == 421


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "[::1]:{port}", "localhost"])
def test_loopback_host_headers_are_accepted(start_gui: StartGui, tree: dict[str, Path], host: str) -> None:
    gui = start_gui([tree["root"]])
    assert gui.get("/api/info", headers={"Host": host.format(port=gui.port)}).status == 200


def test_host_policy_for_a_wildcard_bind_accepts_ip_literals_only() -> None:
    policy = HostPolicy("0.0.0.0", 8000)
    assert policy.allows("192.168.1.20:8000")
    assert policy.allows("[fe80::1]:8000")
    assert not policy.allows("attacker.example:8000")
    assert not policy.allows("192.168.1.20:8001")
    assert not policy.allows("192.168.1.20:x")


def test_security_headers_and_no_cors(start_gui: StartGui, tree: dict[str, Path]) -> None:
    gui = start_gui([tree["root"]])
    for path in ("/", "/app.js", "/api/info"):
        response = gui.get(path, headers={"Origin": "http://evil.example"})
        assert response.status == 200, path
        assert "default-src 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert not any(name.startswith("access-control-") for name in response.headers)
    preflight = gui.request(
        "OPTIONS", "/api/scans", headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status == 405
    assert not any(name.startswith("access-control-") for name in preflight.headers)


def test_cross_origin_post_is_refused_even_with_the_token(start_gui: StartGui, tree: dict[str, Path]) -> None:
    gui = start_gui([tree["root"]])
    response = gui.post("/api/scans", {"paths": [str(tree["root"])]}, headers={"Origin": "http://evil.example"})
    assert response.status == 403
    assert gui.get("/api/scans").json() == {"scans": []}


@pytest.mark.parametrize(
    "origin",
    [
        "http://localhost",  # no port: the default port 80, not ours
        "http://127.0.0.1",
        "http://[::1]",
        "http://localhost:80",
        "http://localhost:1",
        "https://localhost:{port}",  # another scheme is another origin
        "http://localhost:{port}@evil.example",
        "http://evil.example:{port}",
        "null",
        "",
    ],
)
def test_post_from_another_port_or_scheme_is_refused(start_gui: StartGui, tree: dict[str, Path], origin: str) -> None:
    gui = start_gui([tree["root"]])
    headers = {"Origin": origin.format(port=gui.port)}
    assert gui.post("/api/scans", {"paths": [str(tree["root"])]}, headers=headers).status == 403
    assert gui.get("/api/scans").json() == {"scans": []}


@pytest.mark.parametrize("origin", ["http://127.0.0.1:{port}", "http://localhost:{port}", "http://[::1]:{port}"])
def test_post_from_our_own_origin_is_accepted(start_gui: StartGui, tree: dict[str, Path], origin: str) -> None:
    gui = start_gui([tree["root"]])
    headers = {"Origin": origin.format(port=gui.port)}
    assert gui.post("/api/scans", {"paths": [str(tree["root"])]}, headers=headers).status == 202


def test_origin_without_a_port_means_port_80() -> None:
    assert HostPolicy("127.0.0.1", 80).allows_origin("http://localhost")
    assert not HostPolicy("127.0.0.1", 8080).allows_origin("http://localhost")
    assert HostPolicy("127.0.0.1", 8080).allows_origin("http://localhost:8080")


def test_static_files_and_unknown_paths(start_gui: StartGui, tree: dict[str, Path]) -> None:
    gui = start_gui([tree["root"]])
    page = gui.get("/", token=None)
    assert page.status == 200 and b'<script src="/app.js"' in page.body
    assert gui.get("/app.css", token=None).headers["content-type"].startswith("text/css")
    assert gui.get("/favicon.svg", token=None).status == 200
    assert gui.get("/../../etc/passwd", token=None).status == 404
    assert gui.get("/static/index.html", token=None).status == 404
    assert gui.get("/api/nothing").status == 404
    assert gui.request("PUT", "/api/info").status == 405
    assert gui.request("DELETE", "/").status == 405


def test_page_script_never_inserts_markup() -> None:
    """Text from model files reaches the page only through textContent."""
    static = Path(web_server.__file__).parent / "static"
    script = (static / "app.js").read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in script, sink
    page = (static / "index.html").read_text(encoding="utf-8")
    assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page  # no CDN assets


# --- browsing ----------------------------------------------------------------------------------------------


def test_browse_lists_roots_then_folders(start_gui: StartGui, tree: dict[str, Path]) -> None:
    gui = start_gui([tree["root"]])
    top = gui.get("/api/browse").json()
    assert top["path"] is None and [e["path"] for e in top["entries"]] == [str(tree["root"])]
    listing = gui.get(f"/api/browse?path={tree['root']}").json()
    kinds = {e["name"]: e["kind"] for e in listing["entries"]}
    assert kinds == {"inside.gguf": "file", "link-dir": "outside", "sub": "dir"}
    model = next(e for e in listing["entries"] if e["name"] == "inside.gguf")
    assert model["model_like"] and model["size"] == (tree["root"] / "inside.gguf").stat().st_size
    assert listing["parent"] is None
    sub = gui.get(f"/api/browse?path={tree['root'] / 'sub'}").json()
    assert sub["parent"] == str(tree["root"])
    assert {e["name"]: e["kind"] for e in sub["entries"]} == {"link-file.gguf": "outside"}


def test_browse_outside_the_roots_is_refused(start_gui: StartGui, tree: dict[str, Path]) -> None:
    gui = start_gui([tree["root"]])
    for path in (str(tree["outside"]), "/", "/etc", str(tree["root"].parent)):
        response = gui.get(f"/api/browse?path={path}")
        assert response.status == 403, path
        assert "secret" not in response.body.decode()


def test_browse_dot_dot_cannot_escape(start_gui: StartGui, tree: dict[str, Path]) -> None:
    gui = start_gui([tree["root"]])
    escape = f"{tree['root']}/sub/../../outside"
    assert gui.get(f"/api/browse?path={escape}").status == 403
    assert gui.get("/api/browse?path=root/sub").status == 403  # relative paths are refused
    inside = gui.get(f"/api/browse?path={tree['root']}/sub/..")
    assert inside.status == 200


def test_browse_symlink_escape_is_refused(start_gui: StartGui, tree: dict[str, Path]) -> None:
    gui = start_gui([tree["root"]])
    response = gui.get(f"/api/browse?path={tree['root'] / 'link-dir'}")
    assert response.status == 403
    assert "secret" not in response.body.decode()


def test_browse_a_file_or_missing_folder(start_gui: StartGui, tree: dict[str, Path]) -> None:
    gui = start_gui([tree["root"]])
    assert gui.get(f"/api/browse?path={tree['root'] / 'inside.gguf'}").status == 400
    assert gui.get(f"/api/browse?path={tree['root'] / 'missing'}").status == 400


def test_roots_that_do_not_exist_are_dropped(tmp_path: Path) -> None:
    roots = Roots([str(tmp_path), str(tmp_path / "missing"), str(tmp_path)])
    assert roots.displays == (str(tmp_path),)


# --- scanning ----------------------------------------------------------------------------------------------


def test_scan_examples_result_and_every_export(start_gui: StartGui) -> None:
    gui = start_gui([EXAMPLES])
    started = gui.post("/api/scans", {"paths": [str(EXAMPLES)], "hash": True})
    assert started.status == 202
    job_id = started.json()["id"]
    status = gui.wait(job_id)
    assert status["state"] == "done" and status["models"] == 2
    assert status["progress"]["files_done"] == status["progress"]["files_total"] > 0
    result = gui.get(f"/api/scans/{job_id}/result").json()
    assert result["summary"]["models"] == 2
    assert result["summary"]["formats"] == {"gguf": 1, "safetensors": 1}
    assert set(result["summary"]["findings"]) == {"info", "low", "medium", "high", "critical"}
    names = sorted(m["model_name"] for m in result["models"])
    assert names == ["TinyLlama Example Q4_K_M", "tiny-mistral"]
    expected = lbom.scan(str(EXAMPLES))
    rendered = []
    for fmt in gui.get("/api/info").json()["formats"]:
        exported = gui.get(f"/api/scans/{job_id}/export?format={fmt}")
        if exported.status == 400:  # a format that does not fit this scan (hf-readme wants one model) says why
            assert exported.json()["error"], fmt
            continue
        assert exported.status == 200, fmt
        if fmt == "json":
            assert json.loads(exported.body) == json.loads(lbom.render(expected, "json"))
        assert exported.body.strip(), fmt
        rendered.append(fmt)
    assert {"json", "table"} <= set(rendered)
    download = gui.get(f"/api/scans/{job_id}/export?format=json&download=1")
    assert download.headers["content-disposition"] == f'attachment; filename="l-bom-{job_id}.json"'
    assert gui.get(f"/api/scans/{job_id}/export?format=nope").status == 400
    assert [s["id"] for s in gui.get("/api/scans").json()["scans"]] == [job_id]


def test_scan_single_file_without_hash(start_gui: StartGui, tree: dict[str, Path]) -> None:
    gui = start_gui([tree["root"]])
    job_id = gui.post("/api/scans", {"paths": [str(tree["root"] / "inside.gguf")], "hash": False}).json()["id"]
    assert gui.wait(job_id)["state"] == "done"
    result = gui.get(f"/api/scans/{job_id}/result").json()
    assert [m["model_name"] for m in result["models"]] == ["Inside"]
    assert result["models"][0]["sha256"] is None and result["summary"]["hashed"] is False
    for fmt in gui.get("/api/info").json()["formats"]:  # one model: every format renders
        assert gui.get(f"/api/scans/{job_id}/export?format={fmt}").status == 200, fmt


def test_every_export_downloads_under_its_own_file_name(start_gui: StartGui, tree: dict[str, Path]) -> None:
    gui = start_gui([tree["root"]])
    job_id = gui.post("/api/scans", {"paths": [str(tree["root"] / "inside.gguf")], "hash": False}).json()["id"]
    assert gui.wait(job_id)["state"] == "done"
    formats = gui.get("/api/info").json()["formats"]
    assert "spdx-json" in formats and "json" in formats
    names = {}
    for fmt in formats:
        download = gui.get(f"/api/scans/{job_id}/export?format={fmt}&download=1")
        assert download.status == 200, fmt
        disposition = download.headers["content-disposition"]
        assert disposition.startswith(f'attachment; filename="l-bom-{job_id}.') and disposition.endswith('"'), fmt
        names[fmt] = disposition.split('filename="')[1][:-1]
        extension = names[fmt].removeprefix(f"l-bom-{job_id}.")
        try:
            json.loads(download.body)
            is_json = True
        except ValueError:
            is_json = False
        # JSON documents end in .json (SARIF is JSON under its own .sarif); text documents never claim .json.
        assert is_json == (extension.endswith(".json") or extension in ("json", "sarif")), (fmt, extension)
    assert len(set(names.values())) == len(names), names
    assert names["json"].endswith(".json") and not names["json"].endswith((".spdx.json", ".cdx.json"))
    assert names["spdx-json"] == f"l-bom-{job_id}.spdx.json"
    if "spdx" in names:
        assert names["spdx"] == f"l-bom-{job_id}.spdx"
    if "table" in names:
        assert names["table"].endswith(".txt")
    if "hf-readme" in names:
        assert names["hf-readme"].endswith(".md")


def test_info_names_the_formats_that_need_one_model(start_gui: StartGui) -> None:
    gui = start_gui([EXAMPLES])
    info = gui.get("/api/info").json()
    if "hf-readme" not in info["formats"]:
        pytest.skip("hf-readme renderer not installed")
    assert info["one_model_formats"] == ["hf-readme"]
    job_id = gui.post("/api/scans", {"paths": [str(EXAMPLES)], "hash": False}).json()["id"]
    assert gui.wait(job_id)["models"] == 2
    refused = gui.get(f"/api/scans/{job_id}/export?format=hf-readme")
    assert refused.status == 400 and "one model" in refused.json()["error"]


def test_scan_outside_the_roots_is_refused(start_gui: StartGui, tree: dict[str, Path]) -> None:
    gui = start_gui([tree["root"]])
    for path in (str(tree["outside"]), f"{tree['root']}/../outside", str(tree["root"] / "link-dir"), "relative"):
        assert gui.post("/api/scans", {"paths": [path]}).status == 403, path
    assert gui.post("/api/scans", {"paths": [str(tree["root"]), str(tree["outside"])]}).status == 403
    assert gui.get("/api/scans").json() == {"scans": []}


def test_scan_does_not_show_files_behind_symlinks_that_leave_the_roots(
    start_gui: StartGui, tree: dict[str, Path]
) -> None:
    gui = start_gui([tree["root"]])
    job_id = gui.post("/api/scans", {"paths": [str(tree["root"])]}).json()["id"]
    assert gui.wait(job_id)["state"] == "done"
    result = gui.get(f"/api/scans/{job_id}/result").json()
    assert [m["model_name"] for m in result["models"]] == ["Inside"]
    assert "Secret" not in json.dumps(result)
    notes = [f for f in result["findings"] if f["rule_id"] == "LBOM-SCAN-004"]
    assert [f["file"] for f in notes] == [str(tree["root"] / "sub" / "link-file.gguf")]
    exported = gui.get(f"/api/scans/{job_id}/export?format=json").body.decode()
    assert "Secret" not in exported


def test_files_behind_escaping_symlinks_are_never_opened_sidecars_included(
    start_gui: StartGui, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not read and then hidden: never opened. A symlinked config.json must not leak what it points at."""
    import numpy as np
    from safetensors.numpy import save_file

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "m").mkdir(parents=True)
    outside.mkdir()
    save_file({"w": np.ones((2, 2), np.float32)}, str(root / "m" / "model.safetensors"))
    (outside / "config.json").write_text(json.dumps({"architectures": ["LeakedArchXyz"], "model_type": "leakedxyz"}))
    (root / "m" / "config.json").symlink_to(outside / "config.json")
    write_gguf(outside / "far.gguf", extra={"general.name": "FarAwayXyz"})
    (root / "far.gguf").symlink_to(outside / "far.gguf")
    gui = start_gui([root])
    job_id = gui.post("/api/scans", {"paths": [str(root)], "hash": True}).json()["id"]
    assert gui.wait(job_id)["state"] == "done"
    text = gui.get(f"/api/scans/{job_id}/result").body.decode()
    assert "LeakedArchXyz" not in text and "leakedxyz" not in text and "FarAwayXyz" not in text
    result = json.loads(text)
    (model,) = result["models"]
    assert any(f["rule_id"] == "LBOM-SCAN-004" and "config.json" in f["message"] for f in model["findings"])
    assert str(root / "far.gguf") in {f["file"] for f in result["findings"] if f["rule_id"] == "LBOM-SCAN-004"}
    cache = b"".join(p.read_bytes() for p in (tmp_path / "cache").rglob("*") if p.is_file())
    assert b"FarAwayXyz" not in cache  # the outside model was not even read into the scan cache


@pytest.mark.parametrize(
    "body",
    [[], {"paths": []}, {"paths": "x"}, {"paths": [1]}, {"paths": ["/a"] * 65}, {"paths": ["/a"], "hash": "yes"}],
)
def test_scan_request_validation(start_gui: StartGui, tree: dict[str, Path], body: object) -> None:
    gui = start_gui([tree["root"]])
    assert gui.post("/api/scans", body).status == 400


def test_oversize_body_is_refused_before_reading(start_gui: StartGui, tree: dict[str, Path]) -> None:
    gui = start_gui([tree["root"]])
    connection = http.client.HTTPConnection("127.0.0.1", gui.port, timeout=10)
    try:
        connection.putrequest("POST", "/api/scans", skip_host=True)
        for name, value in (
            ("Host", f"127.0.0.1:{gui.port}"),
            ("X-LBOM-Token", TOKEN),
            ("Content-Type", "application/json"),
            ("Content-Length", str(web_server.MAX_BODY_BYTES + 1)),
        ):
            connection.putheader(name, value)
        connection.endheaders(b"{")  # the server answers without waiting for the rest
        response = connection.getresponse()
        assert response.status == 413
    finally:
        connection.close()
    assert gui.get("/api/scans").json() == {"scans": []}


def test_body_needs_json_content_type_and_length(start_gui: StartGui, tree: dict[str, Path]) -> None:
    gui = start_gui([tree["root"]])
    body = json.dumps({"paths": [str(tree["root"])]}).encode()
    as_form = gui.request(
        "POST", "/api/scans", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert as_form.status == 415
    assert gui.request("POST", "/api/scans", body=b"{nope", headers={"Content-Type": "application/json"}).status == 400
    chunked = gui.request(
        "POST", "/api/scans", headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    )
    assert chunked.status == 411
    assert gui.get("/api/scans").json() == {"scans": []}


def test_unknown_scan_ids(start_gui: StartGui, tree: dict[str, Path]) -> None:
    gui = start_gui([tree["root"]])
    assert gui.get("/api/scans/nope").status == 404
    assert gui.get("/api/scans/nope/result").status == 404
    assert gui.get("/api/scans/nope/export?format=json").status == 404
    assert gui.post("/api/scans/nope/cancel", {}).status == 404


def test_cancel_a_running_scan(start_gui: StartGui, tree: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    started = threading.Event()
    real_scan = web_jobs.scan

    def scan_until_cancelled(paths: list[str], options: lbom.ScanOptions) -> lbom.ScanResult:
        started.set()
        assert options.cancel is not None
        deadline = time.monotonic() + 10
        while not options.cancel() and time.monotonic() < deadline:
            time.sleep(0.01)
        return real_scan(paths, options=options)  # the library itself stops at its first check

    monkeypatch.setattr(web_jobs, "scan", scan_until_cancelled)
    gui = start_gui([tree["root"]])
    job_id = gui.post("/api/scans", {"paths": [str(tree["root"])]}).json()["id"]
    assert started.wait(10)
    assert gui.get(f"/api/scans/{job_id}").json()["state"] == "running"
    assert gui.get(f"/api/scans/{job_id}/result").status == 409
    assert gui.post(f"/api/scans/{job_id}/cancel", {}).status == 200
    assert gui.wait(job_id)["state"] == "cancelled"
    assert gui.get(f"/api/scans/{job_id}/result").status == 409


@pytest.mark.parametrize("jobs", [1, 2])
def test_scan_options_cancel_stops_between_files(tree: dict[str, Path], jobs: int) -> None:
    calls = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) > 1

    for index in range(6):
        write_gguf(tree["root"] / "sub" / f"m{index}.gguf")
    with pytest.raises(ScanCancelled):
        lbom.scan(str(tree["root"]), options=lbom.ScanOptions(cancel=cancel, jobs=jobs, cache=False))
    if jobs == 1:
        assert len(calls) == 2


def test_failed_scan_reports_the_error(start_gui: StartGui, tree: dict[str, Path]) -> None:
    gui = start_gui([tree["root"]])
    target = tree["root"] / "gone"
    target.mkdir()
    job = gui.server.jobs.submit([str(target / "missing.gguf")], hash=False)
    status = gui.wait(job.id)
    assert status["state"] == "failed" and "missing.gguf" in status["error"]


# --- binding -----------------------------------------------------------------------------------------------


def test_non_loopback_bind_needs_an_explicit_token() -> None:
    with pytest.raises(UsageError, match="--token"):
        check_bind("0.0.0.0", None)
    with pytest.raises(UsageError, match="--token"):
        check_bind("192.168.1.5", None)
    with pytest.raises(UsageError, match="at least"):
        check_bind("0.0.0.0", "short")
    with pytest.raises(UsageError, match="letters"):
        check_bind("0.0.0.0", "x" * 16 + "; Path=/evil")
    check_bind("0.0.0.0", "x" * 16)
    check_bind("127.0.0.1", None)
    check_bind("::1", None)
    check_bind("localhost", None)


def test_roots_resolve_rejects_bad_input(tmp_path: Path) -> None:
    roots = Roots([str(tmp_path)])
    assert roots.resolve(str(tmp_path)) == os.path.realpath(tmp_path)
    for bad in ("", "relative", f"{tmp_path}\x00x", f"{tmp_path}-sibling"):
        with pytest.raises(web_server.Forbidden):
            roots.resolve(bad)


def test_keep_alive_connection_survives_a_post(start_gui: StartGui, tree: dict[str, Path]) -> None:
    """A POST body must be consumed, or it is read as the start of the next request on the connection."""
    gui = start_gui([tree["root"]])
    job = gui.server.jobs.submit([str(tree["root"] / "inside.gguf")], hash=False)
    gui.wait(job.id)
    connection = http.client.HTTPConnection("127.0.0.1", gui.port, timeout=10)
    headers = {"Host": f"127.0.0.1:{gui.port}", "X-LBOM-Token": TOKEN, "Content-Type": "application/json"}
    try:
        connection.request("POST", f"/api/scans/{job.id}/cancel", body=b"{}", headers=headers)
        first = connection.getresponse()
        first.read()
        assert first.status == 200
        connection.request("GET", "/api/info", headers=headers)
        second = connection.getresponse()
        assert second.status == 200 and "roots" in json.loads(second.read())
    finally:
        connection.close()


def test_too_many_pending_scans_are_refused(
    start_gui: StartGui, tree: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    real_scan = web_jobs.scan

    def held_scan(paths: list[str], options: lbom.ScanOptions) -> lbom.ScanResult:
        release.wait(10)
        return real_scan(paths, options=options)

    monkeypatch.setattr(web_jobs, "scan", held_scan)
    gui = start_gui([tree["root"]])
    body = {"paths": [str(tree["root"] / "inside.gguf")], "hash": False}
    ids = [gui.post("/api/scans", body).json()["id"] for _ in range(web_jobs.MAX_PENDING)]
    refused = gui.post("/api/scans", body)
    assert refused.status == 429 and "already queued" in refused.json()["error"]
    release.set()
    assert all(gui.wait(job_id)["state"] == "done" for job_id in ids)
    assert gui.post("/api/scans", body).status == 202
