"""GUI server fixtures: a real server on a free loopback port, in a thread of the test process."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lbom._web.security import Roots
from lbom._web.server import GuiServer, make_server

TOKEN = "test-token-0123456789abcdef"


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Gui:
    server: GuiServer
    token: str

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        token: str | None = TOKEN,
    ) -> Response:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            all_headers = {"Host": f"127.0.0.1:{self.port}"}
            if token is not None:
                all_headers["X-LBOM-Token"] = token
            all_headers.update(headers or {})
            connection.request(method, path, body=body, headers=all_headers)
            response = connection.getresponse()
            return Response(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        finally:
            connection.close()

    def get(self, path: str, **kwargs: Any) -> Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, value: Any, **kwargs: Any) -> Response:
        headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
        return self.request("POST", path, body=json.dumps(value).encode(), headers=headers, **kwargs)

    def wait(self, job_id: str, timeout: float = 20.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status: dict[str, Any] = self.get(f"/api/scans/{job_id}").json()
            if status["state"] not in ("queued", "running"):
                return status
            time.sleep(0.02)
        raise AssertionError(f"scan {job_id} did not finish in {timeout} s")


@pytest.fixture
def start_gui() -> Iterator[Callable[..., Gui]]:
    servers: list[GuiServer] = []

    def start(roots: list[Path], labels: dict[str, str] | None = None) -> Gui:
        server = make_server("127.0.0.1", 0, Roots([str(r) for r in roots]), TOKEN, labels)
        servers.append(server)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return Gui(server, TOKEN)

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
