"""Loopback HTTP servers for the remote-scan tests: files with Range support, misbehaving variants, a fake hub.

``FileServer`` serves ``files`` (name -> bytes, or a path to a file, possibly sparse) and counts the body bytes it
sends, so tests can compare what the client reports with what really went over the wire. ``behaviour`` switches
on one kind of misbehaviour at a time.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


@dataclass
class ServerState:
    files: dict[str, bytes | Path] = field(default_factory=dict)
    behaviour: str = "range"
    """range | no-range | lying-range | short-body | short-body-once | size-changes | fail-first | redirect-http |
    redirect | redirect-cdn (hub: resolve URLs redirect to ``redirect_to``)"""
    fail_first: int = 0
    cut_done: bool = False
    """short-body-once: whether the one truncated response was sent."""
    bytes_sent: int = 0
    requests: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    """(path, Range header, Authorization header) of every request."""
    hub: dict[str, Any] | None = None
    """Fake hub: {"repo": "org/name", "sha": "...", "siblings": [...]}; files are served under /{repo}/resolve/."""
    redirect_to: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


def _size(item: bytes | Path) -> int:
    return len(item) if isinstance(item, bytes) else item.stat().st_size


def _slice(item: bytes | Path, start: int, end: int) -> bytes:
    if isinstance(item, bytes):
        return item[start:end]
    with open(item, "rb") as handle:
        handle.seek(start)
        return handle.read(end - start)


class _Handler(BaseHTTPRequestHandler):
    state: ServerState
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if "Content-Length" not in (headers or {}):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        with self.state.lock:
            self.state.bytes_sent += len(body)

    def do_GET(self) -> None:
        state = self.state
        with state.lock:
            state.requests.append((self.path, self.headers.get("Range"), self.headers.get("Authorization")))
            count = len(state.requests)
        if state.behaviour == "fail-first" and count <= state.fail_first:
            self._send(503, b"busy")
            return
        if state.behaviour == "redirect-http" and state.redirect_to:
            self._send(302, b"", {"Location": state.redirect_to + self.path})
            return
        path = self.path.split("?", 1)[0]
        if state.hub is not None and path.startswith("/api/models/"):
            self._hub_api(path)
            return
        name = path.lstrip("/")
        if state.hub is not None:
            prefix = f"{state.hub['repo']}/resolve/"
            if not name.startswith(prefix):
                self._send(404, b"not found")
                return
            name = name[len(prefix) :].split("/", 1)[1]
            if state.behaviour == "redirect-cdn" and state.redirect_to:
                self._send(302, b"", {"Location": f"{state.redirect_to}/{name}"})
                return
        if state.behaviour == "redirect" and not self.path.startswith("/moved/"):
            self._send(302, b"", {"Location": "/moved/" + name})
            return
        name = name.removeprefix("moved/")
        item = state.files.get(name)
        if item is None:
            self._send(404, b"not found")
            return
        self._serve(item)

    def _send_whole(self, item: bytes | Path, size: int) -> None:
        """A 200 answer with the whole file, streamed in chunks until the client stops reading."""
        self.send_response(200)
        self.send_header("Content-Length", str(size))
        self.send_header("ETag", '"v1"')
        self.end_headers()
        position = 0
        try:
            while position < size:
                chunk = _slice(item, position, min(size, position + 65536))
                self.wfile.write(chunk)
                position += len(chunk)
                with self.state.lock:
                    self.state.bytes_sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _hub_api(self, path: str) -> None:
        hub = self.state.hub
        assert hub is not None
        if not path.startswith(f"/api/models/{hub['repo']}/revision/"):
            self._send(404, b'{"error": "Repository not found"}')
            return
        body = json.dumps({"id": hub["repo"], "sha": hub["sha"], "siblings": hub["siblings"]}).encode()
        self._send(200, body, {"Content-Type": "application/json"})

    def _serve(self, item: bytes | Path) -> None:
        state = self.state
        size = _size(item)
        match = _RANGE.match(self.headers.get("Range") or "")
        if state.behaviour == "no-range" or match is None:
            self._send_whole(item, size)
            return
        start = int(match.group(1))
        end = min(int(match.group(2)) if match.group(2) else size - 1, size - 1)
        if start >= size:
            self._send(416, b"", {"Content-Range": f"bytes */{size}"})
            return
        body = _slice(item, start, end + 1)
        total = size
        if state.behaviour == "size-changes" and start > 0:
            total = size + 1000
        content_range = f"bytes {start}-{end}/{total}"
        if state.behaviour == "lying-range" and start > 0:
            content_range = f"bytes {start + 7}-{end + 7}/{total}"
        headers = {"Content-Range": content_range, "ETag": '"v1"', "Accept-Ranges": "bytes"}
        cut_once = state.behaviour == "short-body-once" and start > 0 and not state.cut_done
        if cut_once:
            state.cut_done = True
        if (state.behaviour == "short-body" and start > 0) or cut_once:
            # Promise the full range, send half of it, then close: a truncated response.
            headers["Content-Length"] = str(len(body))
            self.send_response(206)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Connection", "close")
            self.end_headers()
            half = body[: len(body) // 2]
            self.wfile.write(half)
            with state.lock:
                state.bytes_sent += len(half)
            self.close_connection = True
            return
        self._send(206, body, headers)


@contextmanager
def serve(state: ServerState, ssl_context: Any = None) -> Iterator[str]:
    """Run a server for ``state`` on 127.0.0.1 and yield its base URL."""
    handler = type("Handler", (_Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    scheme = "http"
    if ssl_context is not None:
        server.socket = ssl_context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def sparse_gguf(path: Path, header: bytes, size: int) -> Path:
    """A large GGUF whose data region is a hole: ``header`` then zeros up to ``size`` bytes, no disk blocks used."""
    with open(path, "wb") as handle:
        handle.write(header)
        handle.truncate(size)
    assert os.path.getsize(path) == size
    return path
