"""The GUI's HTTP server: standard-library ``ThreadingHTTPServer``, a JSON API over the library, static files.

Every request passes the Host check; every ``/api/`` request needs the access token (``X-LBOM-Token`` header
or the HttpOnly, SameSite=Strict cookie set when the page is opened with ``?token=``). Bodies are JSON,
size-limited, and only accepted with ``Content-Type: application/json`` (which a cross-site form cannot send
without a CORS preflight, and there are no CORS headers). Paths are confined to the roots.
"""

from __future__ import annotations

import http.server
import importlib.util
import json
import os
import socket
import stat
import urllib.parse
from collections.abc import Mapping
from dataclasses import field
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from importlib import resources
from typing import Any

from lbom._records import dataclass
from lbom._render import RENDERERS, OutputFormat, RenderOptions, render
from lbom._render.json import model_document
from lbom._web import gate
from lbom._web.jobs import JobManager, ScanJob, TooBusy
from lbom._web.security import Forbidden, HostPolicy, Roots, tokens_equal
from lbom.errors import Error
from lbom.model import JsonValue, ScanResult, Severity

MAX_BODY_BYTES = 4 * 1024 * 1024
"""Largest request body accepted (a lock file to verify against is the biggest thing the page sends)."""
MAX_LISTING = 5000
"""Most entries one folder listing returns."""
TOKEN_HEADER = "X-LBOM-Token"  # noqa: S105  # a header name, not a secret

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
    "form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)
STATIC_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/app.css": ("app.css", "text/css; charset=utf-8"),
    "/favicon.svg": ("favicon.svg", "image/svg+xml"),
}
MODEL_SUFFIXES = (".gguf", ".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".onnx", ".npy", ".npz", ".pkl", ".h5")
EXPORT_EXTENSIONS = {
    "json": "json",
    "table": "txt",
    "spdx": "spdx",  # SPDX 2 tag-value
    "spdx-json": "spdx.json",  # SPDX 2 JSON
    "hf-readme": "md",
    "cyclonedx": "cdx.json",
    "spdx3": "spdx3.json",
    "sarif": "sarif",
}
"""File name extension of each export (``l-bom-<scan>.<extension>``); every output format has its own."""
ONE_MODEL_FORMATS = ("hf-readme",)
"""Formats that describe exactly one model: the page offers them only for a scan that found one."""


@dataclass(frozen=True)
class AppConfig:
    """What the GUI server serves: its folders, access token, host policy and folder labels."""

    roots: Roots
    token: str
    host_policy: HostPolicy
    labels: Mapping[str, str] = field(default_factory=dict)
    """Names for served folders that are model stores (folder -> e.g. ``Ollama models``)."""


class ApiError(Exception):
    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def available_formats() -> list[str]:
    """The output formats whose renderer module is installed (others are still being written)."""
    names = []
    for fmt in OutputFormat:
        module = RENDERERS.get(fmt)
        if module is not None and importlib.util.find_spec(f"lbom._render.{module}") is not None:
            names.append(fmt.value)
    return names


def scan_summary(result: ScanResult) -> dict[str, JsonValue]:
    formats: dict[str, JsonValue] = {}
    for model in result.models:
        formats[model.format] = int(formats.get(model.format, 0) or 0) + 1  # type: ignore[arg-type]
    severities: dict[str, JsonValue] = {s.value: 0 for s in Severity}
    for finding in result.all_findings:
        severities[finding.severity.value] = int(severities[finding.severity.value] or 0) + 1  # type: ignore[arg-type]
    return {
        "models": len(result.models),
        "files": sum(len(m.files) for m in result.models),
        "total_size": sum(m.total_size for m in result.models),
        "formats": dict(sorted(formats.items())),
        "findings": severities,
        "hashed": result.hashed,
        "generated_at": result.generated_at,
        "roots": list(result.roots),
    }


def result_document(result: ScanResult) -> dict[str, JsonValue]:
    return {
        "summary": scan_summary(result),
        "models": [model_document(model, result) for model in result.models],
        "findings": [f.to_json() for f in result.findings],
    }


class GuiServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], roots: Roots, token: str, labels: Mapping[str, str] | None = None
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, GuiHandler)
        port = int(self.server_address[1])
        self.config = AppConfig(roots, token, HostPolicy(address[0], port), dict(labels or {}))
        self.jobs = JobManager(roots.reals)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def cookie_name(self) -> str:
        # Cookies are not port-scoped: two GUIs on one host must not overwrite each other's token.
        return f"lbom_token_{self.port}"

    def server_close(self) -> None:
        self.jobs.cancel_all()
        super().server_close()


class GuiHandler(http.server.BaseHTTPRequestHandler):
    server: GuiServer
    _body_read = False
    server_version = "l-bom"
    timeout = 30
    protocol_version = "HTTP/1.1"

    # --- plumbing -------------------------------------------------------------------------------------------

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: request lines carry the token in the query string, and the terminal is the user's."""

    def _security_headers(self) -> None:
        self.send_header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cross-Origin-Opener-Policy", "same-origin")
        self.send_header("Cross-Origin-Resource-Policy", "same-origin")

    def _send(
        self,
        status: HTTPStatus,
        body: bytes,
        content_type: str,
        extra: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self._security_headers()
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: HTTPStatus, value: Any) -> None:
        self._send(status, json.dumps(value, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8")

    def _error(self, status: HTTPStatus, message: str) -> None:
        self.close_connection = True
        self._json(status, {"error": message})

    def _token_given(self) -> str | None:
        header = self.headers.get(TOKEN_HEADER)
        if header:
            return header
        raw = self.headers.get("Cookie")
        if not raw:
            return None
        try:
            cookie = SimpleCookie(raw)
        except CookieError:
            return None
        morsel = cookie.get(self.server.cookie_name)
        return morsel.value if morsel is not None else None

    def _authorized(self) -> bool:
        return tokens_equal(self._token_given(), self.server.config.token)

    def _read_json_body(self) -> Any:
        if self.headers.get("Transfer-Encoding"):
            raise ApiError(HTTPStatus.LENGTH_REQUIRED, "chunked bodies are not accepted; send Content-Length")
        length_text = self.headers.get("Content-Length")
        if length_text is None or not length_text.isdigit():
            raise ApiError(HTTPStatus.LENGTH_REQUIRED, "Content-Length is required")
        length = int(length_text)
        if length > MAX_BODY_BYTES:
            raise ApiError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"request body larger than {MAX_BODY_BYTES} bytes")
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise ApiError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "request body must be application/json")
        raw = self.rfile.read(length)
        self._body_read = True
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ApiError(HTTPStatus.BAD_REQUEST, "request body is not valid JSON") from exc

    # --- dispatch -------------------------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_OPTIONS(self) -> None:
        # No CORS: a preflight gets no Access-Control-* headers, so the browser refuses cross-origin calls.
        self._dispatch("OPTIONS")

    def _dispatch(self, method: str) -> None:
        self._body_read = False
        try:
            self._route(method)
        finally:
            length = self.headers.get("Content-Length")
            if not self._body_read and (length not in (None, "0") or self.headers.get("Transfer-Encoding")):
                # An unread body would be parsed as the next request on this keep-alive connection.
                self.close_connection = True

    def _route(self, method: str) -> None:
        if not self.server.config.host_policy.allows(self.headers.get("Host")):
            self._error(HTTPStatus.MISDIRECTED_REQUEST, "unexpected Host header (DNS rebinding protection)")
            return
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        try:
            if url.path.startswith("/api/"):
                if not self._authorized():
                    raise ApiError(HTTPStatus.UNAUTHORIZED, "missing or wrong access token")
                origin = self.headers.get("Origin")
                if method == "POST" and origin is not None and not self._same_origin(origin):
                    raise ApiError(HTTPStatus.FORBIDDEN, "cross-origin request refused")
                self._api(method, url.path, query)
            elif method in ("GET", "HEAD"):
                self._static(url.path, query)
            else:
                raise ApiError(HTTPStatus.METHOD_NOT_ALLOWED, "method not allowed")
        except ApiError as exc:
            self._error(exc.status, exc.message)
        except Forbidden as exc:
            self._error(HTTPStatus.FORBIDDEN, str(exc))
        except Error as exc:
            self._error(HTTPStatus.BAD_REQUEST, exc.diagnostics())

    def _same_origin(self, origin: str) -> bool:
        return self.server.config.host_policy.allows_origin(origin)

    # --- static ---------------------------------------------------------------------------------------------

    def _static(self, path: str, query: dict[str, list[str]]) -> None:
        if path == "/" and "token" in query:
            # Trade the token in the URL for a cookie, then drop it from the address bar (and history).
            given = query["token"][0]
            if not tokens_equal(given, self.server.config.token):
                raise ApiError(HTTPStatus.FORBIDDEN, "wrong access token: use the URL that l-bom gui printed")
            cookie = f"{self.server.cookie_name}={given}; HttpOnly; SameSite=Strict; Path=/"
            self._send(HTTPStatus.SEE_OTHER, b"", "text/plain", {"Location": "/", "Set-Cookie": cookie})
            return
        entry = STATIC_FILES.get(path)
        if entry is None:
            raise ApiError(HTTPStatus.NOT_FOUND, "not found")
        name, content_type = entry
        body = resources.files("lbom._web").joinpath("static").joinpath(name).read_bytes()
        self._send(HTTPStatus.OK, body, content_type)

    # --- API ------------------------------------------------------------------------------------------------

    def _api(self, method: str, path: str, query: dict[str, list[str]]) -> None:
        parts = [p for p in path.split("/") if p][1:]  # drop "api"
        route = (method, *parts[:1], *(["*"] if len(parts) >= 2 else []), *parts[2:])
        if route == ("GET", "info"):
            self._json(HTTPStatus.OK, self._info())
        elif route == ("GET", "browse"):
            self._json(HTTPStatus.OK, self._browse(_one(query, "path")))
        elif route == ("GET", "scans"):
            self._json(HTTPStatus.OK, {"scans": [job.status() for job in self.server.jobs.all()]})
        elif route == ("POST", "scans"):
            self._json(HTTPStatus.ACCEPTED, self._start_scan(self._read_json_body()).status())
        elif route == ("GET", "scans", "*"):
            self._json(HTTPStatus.OK, self._job(parts[1]).status())
        elif route == ("POST", "scans", "*", "cancel"):
            self._read_json_body()
            job = self.server.jobs.cancel(parts[1])
            if job is None:
                raise ApiError(HTTPStatus.NOT_FOUND, "no such scan")
            self._json(HTTPStatus.OK, job.status())
        elif route == ("GET", "scans", "*", "result"):
            self._json(HTTPStatus.OK, result_document(self._result(parts[1])))
        elif route == ("GET", "scans", "*", "export"):
            self._export(parts[1], query)
        elif route == ("GET", "scans", "*", "lock"):
            text = gate.lock_text(self._result(parts[1]), self._single_root(parts[1]))
            extra = {"Content-Disposition": 'attachment; filename="models.lock"'} if _one(query, "download") else {}
            self._send(HTTPStatus.OK, text.encode("utf-8"), "text/plain; charset=utf-8", extra)
        elif route == ("POST", "diff"):
            self._json(HTTPStatus.OK, self._diff(self._read_json_body()))
        elif route == ("POST", "verify"):
            body = _object(self._read_json_body())
            scan_id, lock = body.get("scan"), body.get("lock")
            if not isinstance(lock, str):
                raise ApiError(HTTPStatus.BAD_REQUEST, "lock must be the text of a lock file")
            result = self._result(scan_id)
            self._json(HTTPStatus.OK, gate.verify_against(lock, result, self._single_root(str(scan_id))))
        elif route == ("POST", "policy"):
            body = _object(self._read_json_body())
            policy = body.get("policy")
            if not isinstance(policy, str):
                raise ApiError(HTTPStatus.BAD_REQUEST, "policy must be the text of a policy file")
            self._json(HTTPStatus.OK, gate.check_policy(policy, self._result(body.get("scan"))))
        elif parts[:1] in (["info"], ["browse"], ["scans"], ["diff"], ["verify"], ["policy"]):
            raise ApiError(HTTPStatus.METHOD_NOT_ALLOWED, "method not allowed")
        else:
            raise ApiError(HTTPStatus.NOT_FOUND, "no such API endpoint")

    def _info(self) -> dict[str, JsonValue]:
        from lbom._version import tool_version

        return {
            "version": tool_version(),
            "roots": list(self.server.config.roots.displays),
            "formats": list(available_formats()),
            "one_model_formats": [fmt for fmt in ONE_MODEL_FORMATS if fmt in available_formats()],
            "max_body_bytes": MAX_BODY_BYTES,
            "features": {"diff": True, "verify": True, "lock": True, "policy": True},
        }

    def _single_root(self, job_id: str) -> str:
        paths = self._job(job_id).paths
        if len(paths) != 1:
            raise ApiError(HTTPStatus.BAD_REQUEST, "lock and verify need a scan of one folder or file")
        return paths[0]

    def _diff(self, body: Any) -> dict[str, JsonValue]:
        """Compare a scan (``new``) with an earlier scan (``old``) or an uploaded document (``old_text``)."""
        body = _object(body)
        new_id = body.get("new")
        new = self._result(new_id)
        old_id, old_text = body.get("old"), body.get("old_text")
        if isinstance(old_text, str):
            old_name = body.get("old_name")
            name = old_name if isinstance(old_name, str) and old_name else "uploaded file"
            return gate.diff_against(old_text, name[:200], new, f"scan {new_id}")
        old = self._result(old_id)
        return gate.diff_against(render(old, OutputFormat.JSON), f"scan {old_id}", new, f"scan {new_id}")

    def _browse(self, path: str | None) -> dict[str, JsonValue]:
        roots = self.server.config.roots
        if path is None or path == "":
            labels = self.server.config.labels
            entries: list[JsonValue] = [
                {"name": d, "path": d, "kind": "dir", "label": labels.get(d)} for d in roots.displays
            ]
            return {"path": None, "parent": None, "entries": entries, "truncated": False}
        real = roots.resolve(path)
        if not os.path.isdir(real):
            raise ApiError(HTTPStatus.BAD_REQUEST, "not a folder")
        shown = os.path.normpath(path)
        try:
            with os.scandir(real) as it:
                raw = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            raise ApiError(HTTPStatus.FORBIDDEN, f"cannot list folder: {exc.strerror or exc}") from exc
        entries = []
        for entry in raw[:MAX_LISTING]:
            entries.append(self._entry(entry, shown))
        parent: str | None = os.path.dirname(shown)
        if shown in roots.displays or parent is None or not roots.contains_real(os.path.realpath(parent)):
            parent = None
        return {"path": shown, "parent": parent, "entries": entries, "truncated": len(raw) > MAX_LISTING}

    def _entry(self, entry: os.DirEntry[str], shown_dir: str) -> dict[str, JsonValue]:
        shown = os.path.join(shown_dir, entry.name)
        kind = "other"
        size: int | None = None
        try:
            link = entry.is_symlink()
            st = entry.stat(follow_symlinks=True)
            if link and not self.server.config.roots.contains_real(os.path.realpath(entry.path)):
                kind = "outside"
            elif stat.S_ISDIR(st.st_mode):
                kind = "dir"
            elif stat.S_ISREG(st.st_mode):
                kind, size = "file", st.st_size
        except OSError:
            kind = "broken"
        return {
            "name": entry.name,
            "path": shown,
            "kind": kind,
            "size": size,
            "model_like": kind == "file" and entry.name.lower().endswith(MODEL_SUFFIXES),
        }

    def _start_scan(self, body: Any) -> ScanJob:
        paths = _object(body).get("paths")
        if not isinstance(paths, list) or not paths or len(paths) > 64 or not all(isinstance(p, str) for p in paths):
            raise ApiError(HTTPStatus.BAD_REQUEST, "paths must be a list of 1 to 64 absolute paths")
        hash_files = body.get("hash", True)
        if not isinstance(hash_files, bool):
            raise ApiError(HTTPStatus.BAD_REQUEST, "hash must be true or false")
        resolved = [self.server.config.roots.resolve(p) for p in paths]
        try:
            return self.server.jobs.submit(resolved, hash_files)
        except TooBusy as exc:
            raise ApiError(HTTPStatus.TOO_MANY_REQUESTS, str(exc)) from exc

    def _job(self, job_id: str) -> ScanJob:
        job = self.server.jobs.get(job_id)
        if job is None:
            raise ApiError(HTTPStatus.NOT_FOUND, "no such scan (the server may have been restarted)")
        return job

    def _result(self, job_id: Any) -> ScanResult:
        if not isinstance(job_id, str):
            raise ApiError(HTTPStatus.BAD_REQUEST, "a scan id is required")
        job = self._job(job_id)
        if job.result is None:
            raise ApiError(HTTPStatus.CONFLICT, f"scan is {job.state}, no result")
        return job.result

    def _export(self, job_id: str, query: dict[str, list[str]]) -> None:
        result = self._result(job_id)
        fmt = _one(query, "format") or "json"
        if fmt not in available_formats():
            raise ApiError(HTTPStatus.BAD_REQUEST, f"unknown or unavailable format: {fmt}")
        text = render(result, OutputFormat(fmt), RenderOptions(color=False, width=120))
        stripped = text.lstrip()
        is_json = stripped.startswith(("{", "["))
        content_type = "application/json; charset=utf-8" if is_json else "text/plain; charset=utf-8"
        extension = EXPORT_EXTENSIONS.get(fmt, f"{fmt}.json" if is_json else f"{fmt}.txt")
        extra = {}
        if _one(query, "download") == "1":
            extra["Content-Disposition"] = f'attachment; filename="l-bom-{job_id}.{extension}"'
        self._send(HTTPStatus.OK, text.encode("utf-8"), content_type, extra)


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(HTTPStatus.BAD_REQUEST, "body must be a JSON object")
    return body


def _one(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def make_server(host: str, port: int, roots: Roots, token: str, labels: Mapping[str, str] | None = None) -> GuiServer:
    return GuiServer((host, port), roots, token, labels)
