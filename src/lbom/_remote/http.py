"""HTTP transport for remote scans: bounded, retried range reads behind the readers' ``ByteSource`` contract.

:class:`HttpRangeSource` serves ``read_at`` from a cached prefix of the file and fetches only the bytes a reader
asks for (plus a small read-ahead), through ``Range`` requests. Every response is checked against the request:
a wrong ``Content-Range``, a short body, a size or ETag that changes between requests, or the per-file byte cap
becomes a finding on the source (the reader then sees a short read and reports truncation), never a crash.
Redirects are followed by hand so that an https URL is never downgraded to http and credentials are only sent to
the origin they belong to. Only the standard library is used.
"""

from __future__ import annotations

import contextlib
import http.client
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import field
from email.message import Message
from typing import Any

from lbom._records import dataclass
from lbom.errors import RemoteError
from lbom.model import FileDigest, Finding, Severity

R_RANGE_MISMATCH = "LBOM-REMOTE-001"
R_SHORT_BODY = "LBOM-REMOTE-002"
R_CHANGED = "LBOM-REMOTE-003"
R_BYTE_CAP = "LBOM-REMOTE-004"
R_DIGEST_MISMATCH = "LBOM-REMOTE-005"
R_FETCH_FAILED = "LBOM-REMOTE-006"
R_SIZE_MISMATCH = "LBOM-REMOTE-007"

_BREAK_SEVERITY = {R_RANGE_MISMATCH: Severity.MEDIUM, R_SHORT_BODY: Severity.MEDIUM, R_CHANGED: Severity.HIGH}
"""A server that cannot serve ranges properly loses facts (medium); content that changes mid-scan may mix two
files into one document (high)."""

READ_AHEAD = 64 * 1024
"""Smallest range fetched at once: sniffing, the GGUF fixed header and a safetensors length prefix share it."""
HASH_CHUNK = 1024 * 1024
MAX_REDIRECTS = 10
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class RemoteSettings:
    """How remote requests behave. ``sleep`` is injectable so tests of the backoff do not wait."""

    timeout: float = 30.0
    """Seconds to wait for a connection or for the next bytes of a response."""
    retries: int = 3
    """Extra attempts after a connection error, a timeout or a 5xx/429 answer."""
    backoff: float = 0.5
    """Seconds before the first retry; doubled for each further one."""
    allow_full_download: bool = False
    """Consent to read a server that ignores ``Range`` from the start of the file (only what is needed is kept)."""
    user_agent: str = "l-bom"
    token: str | None = field(default=None, repr=False)
    token_origin: str | None = None
    """``scheme://host[:port]`` the token may be sent to; never to a redirect target elsewhere."""
    sleep: Callable[[float], None] = time.sleep


def origin_of(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def check_url(url: str) -> None:
    """Refuse anything but http(s) URLs with a host (no file://, no ftp://, no credentials in the URL)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RemoteError(url, "only http:// and https:// URLs with a host name can be scanned remotely")
    if parts.username is not None or parts.password is not None:
        raise RemoteError(url, "credentials in the URL are not accepted; use HF_TOKEN for the hub")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Hand every redirect back to the caller, which checks the target before following it."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(_NoRedirect())


@dataclass
class Response:
    """An open response after redirects: final URL, status, headers and the body stream."""

    url: str
    status: int
    headers: Message
    body: Any

    def close(self) -> None:
        with contextlib.suppress(OSError, http.client.HTTPException):
            self.body.close()


def _describe(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    if isinstance(reason, BaseException):
        exc = reason
    if isinstance(exc, socket.gaierror):
        return "host name does not resolve (no network access?)"
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]


def open_url(url: str, settings: RemoteSettings, headers: dict[str, str] | None = None) -> Response:
    """GET ``url`` following checked redirects, retrying transient failures with exponential backoff.

    Raises :class:`RemoteError` for refused redirects, 4xx answers, and failures that outlast the retries.
    """
    check_url(url)
    attempt = 0
    while True:
        try:
            return _open_following(url, settings, headers or {})
        except _Transient as exc:
            if attempt >= settings.retries:
                raise RemoteError(url, f"{exc.problem} (after {attempt + 1} attempts)") from exc
            settings.sleep(settings.backoff * (2**attempt))
            attempt += 1


class _Transient(Exception):
    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def _open_following(url: str, settings: RemoteSettings, extra: dict[str, str]) -> Response:
    opener = _opener()
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        request = urllib.request.Request(current, method="GET")  # noqa: S310  # scheme checked by check_url
        request.add_header("User-Agent", settings.user_agent)
        request.add_header("Accept-Encoding", "identity")
        for name, value in extra.items():
            request.add_header(name, value)
        if settings.token and settings.token_origin and origin_of(current) == settings.token_origin:
            request.add_header("Authorization", f"Bearer {settings.token}")
        try:
            raw = opener.open(request, timeout=settings.timeout)
        except urllib.error.HTTPError as exc:
            if exc.code in (301, 302, 303, 307, 308):
                location = exc.headers.get("Location")
                exc.close()
                if not location:
                    raise RemoteError(current, f"HTTP {exc.code} redirect without a Location header") from None
                target = urllib.parse.urljoin(current, location)
                _check_redirect(current, target)
                current = target
                continue
            if exc.code == 416:
                # Range not satisfiable: the body is empty, Content-Range says "bytes */size".
                return Response(current, 416, exc.headers, exc)
            exc.close()
            if exc.code in _RETRY_STATUS:
                raise _Transient(f"HTTP {exc.code} {exc.reason}") from None
            raise RemoteError(current, _http_problem(exc.code, str(exc.reason))) from None
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            raise _Transient(f"cannot fetch: {_describe(exc)}") from None
        return Response(current, raw.status, raw.headers, raw)
    raise RemoteError(url, f"more than {MAX_REDIRECTS} redirects")


def _check_redirect(source: str, target: str) -> None:
    old = urllib.parse.urlsplit(source).scheme
    new = urllib.parse.urlsplit(target)
    if new.scheme != "https" and not (old == "http" and new.scheme == "http"):
        raise RemoteError(source, f"refusing a redirect from {old}:// to {new.scheme or 'a relative'}:// ({target})")
    if not new.hostname:
        raise RemoteError(source, f"refusing a redirect to a URL without a host ({target})")


def _http_problem(code: int, reason: str) -> str:
    if code in (401, 403):
        return f"HTTP {code} {reason}: access denied (for a gated or private hub repo, set HF_TOKEN)"
    if code == 404:
        return f"HTTP {code} {reason}: not found"
    return f"HTTP {code} {reason}"


def _read_body(response: Response, limit: int) -> bytes:
    """Up to ``limit`` bytes of the body; transport errors while reading are retried by the caller."""
    chunks = []
    remaining = limit
    try:
        while remaining > 0:
            chunk = response.body.read(min(remaining, HASH_CHUNK))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
    except http.client.IncompleteRead as exc:
        chunks.append(exc.partial)
    except (OSError, http.client.HTTPException) as exc:
        raise _Transient(f"connection lost while reading: {_describe(exc)}") from None
    return b"".join(chunks)


def fetch_capped(url: str, settings: RemoteSettings, cap: int) -> tuple[bytes, bool]:
    """GET a small resource (an API answer, a sidecar). Returns (body up to ``cap`` bytes, whether it was cut)."""
    attempt = 0
    while True:
        response = open_url(url, settings)
        try:
            data = _read_body(response, cap + 1)
        except _Transient as exc:
            if attempt >= settings.retries:
                raise RemoteError(url, exc.problem) from None
            settings.sleep(settings.backoff * (2**attempt))
            attempt += 1
            continue
        finally:
            response.close()
        return data[:cap], len(data) > cap


class HttpRangeSource:
    """A remote file as a :class:`~lbom._formats.interface.ByteSource`, read with HTTP ``Range`` requests.

    Opening fetches the first :data:`READ_AHEAD` bytes to learn the size. ``findings`` collects what the server
    did wrong; ``bytes_fetched`` counts body bytes actually transferred (for the document).
    """

    def __init__(
        self,
        url: str,
        settings: RemoteSettings,
        max_bytes: int,
        display_name: str | None = None,
        expected_size: int | None = None,
    ) -> None:
        self.url = url
        self._name = display_name or url
        self._settings = settings
        self._max_bytes = max_bytes
        self.bytes_fetched = 0
        self.findings: list[Finding] = []
        self._prefix = bytearray()
        self._etag: str | None = None
        self._broken = False
        self._stream: Response | None = None
        self._reported: set[str] = set()
        self._size = 0
        self._size = self._open(expected_size)
        if expected_size is not None and expected_size != self._size:
            self._finding(
                R_SIZE_MISMATCH,
                Severity.MEDIUM,
                f"the listing says {expected_size:,} bytes but the server serves {self._size:,}",
                "the file changed on the server, or the listing is stale; re-run the scan",
            )

    @property
    def name(self) -> str:
        return self._name

    @property
    def size(self) -> int:
        return self._size

    def _finding(self, rule: str, severity: Severity, message: str, remedy: str, location: str | None = None) -> None:
        key = f"{rule}:{message}"
        if key in self._reported:
            return
        self._reported.add(key)
        self.findings.append(Finding(rule, severity, message, self._name, location, remedy))

    def _open(self, expected_size: int | None) -> int:
        wanted = READ_AHEAD if self._max_bytes >= READ_AHEAD else max(self._max_bytes, 1)
        response = self._request_range(0, wanted - 1)
        if response.status == 206:
            header = response.headers.get("Content-Range") or ""
            match = _CONTENT_RANGE.match(header)
            if match is None or match.group(3) == "*":
                response.close()
                raise RemoteError(self.url, f"the server sent an unusable Content-Range {header[:80]!r}")
            start, end, total = int(match.group(1)), int(match.group(2)), int(match.group(3))
            self._etag = response.headers.get("ETag")
            if start != 0 or end < start or end > wanted - 1:
                response.close()
                self._size = total
                self._break(R_RANGE_MISMATCH, f"asked for bytes 0-{wanted - 1} but the server sent {header[:80]}")
                return total
            self._prefix += self._take(response, end - start + 1, f"bytes 0-{wanted - 1}", 0)
            return total
        if response.status == 416:
            response.close()
            match = re.match(r"^\s*bytes\s+\*/(\d+)\s*$", response.headers.get("Content-Range") or "")
            if match is not None and int(match.group(1)) == 0:
                return 0
            raise RemoteError(self.url, "the server refused the first bytes of the file (HTTP 416)")
        if response.status == 200:
            if not self._settings.allow_full_download:
                response.close()
                raise RemoteError(
                    self.url,
                    "the server ignores HTTP Range requests (answered 200, not 206); re-run with "
                    "--allow-full-download to stream the file from its start (only the header bytes are kept)",
                )
            length = response.headers.get("Content-Length")
            size = int(length) if length is not None and length.isdigit() else expected_size
            if size is None:
                response.close()
                raise RemoteError(self.url, "the server ignores Range requests and does not say how large the file is")
            self._size = size
            self._stream = response
            self._etag = response.headers.get("ETag")
            self._extend_from_stream(min(wanted, size))
            return size
        response.close()
        raise RemoteError(self.url, f"unexpected HTTP {response.status} to a Range request")

    def _request_range(self, first: int, last: int) -> Response:
        return open_url(self.url, self._settings, {"Range": f"bytes={first}-{last}"})

    def _parse_content_range(self, response: Response) -> tuple[int, int, int | None] | None:
        header = response.headers.get("Content-Range") or ""
        match = _CONTENT_RANGE.match(header)
        if match is None:
            response.close()
            self._break(R_RANGE_MISMATCH, f"206 response with an unreadable Content-Range {header[:80]!r}")
            return None
        total = None if match.group(3) == "*" else int(match.group(3))
        return int(match.group(1)), int(match.group(2)), total

    def _break(self, rule: str, message: str) -> None:
        """The server cannot be trusted for this file any more: report it and serve no further bytes."""
        self._broken = True
        self._finding(
            rule,
            _BREAK_SEVERITY[rule],
            message,
            "the server or a proxy returned inconsistent data; the header could not be fully read — retry, or "
            "download the file and scan it locally",
        )

    def _take(self, response: Response, length: int, where: str, first: int) -> bytes:
        """Read exactly ``length`` body bytes (the file's bytes from ``first`` on) within the byte cap.

        A body cut short (the connection dropped mid-read) is resumed with a Range request for the rest, with the
        same retries and backoff as a failed request; what still cannot be read is reported.
        """
        allowed = max(0, self._max_bytes - self.bytes_fetched)
        wanted = min(length, allowed)
        data = b""
        attempt = 0
        while True:
            problem = None
            try:
                chunk = _read_body(response, wanted - len(data))
            except _Transient as exc:
                chunk, problem = b"", exc.problem
            finally:
                response.close()
            self.bytes_fetched += len(chunk)
            data += chunk
            if len(data) >= wanted:
                break
            problem = problem or f"short body: got {len(data):,} of {length:,} bytes"
            retry = attempt < self._settings.retries
            resumed = self._resume(first + len(data), first + wanted - 1, attempt) if retry else None
            if resumed is None:
                self._break(R_SHORT_BODY, f"{problem} ({where})")
                return data
            response, attempt = resumed, attempt + 1
        if length > allowed:
            self._cap_reached()
        return data

    def _resume(self, first: int, last: int, attempt: int) -> Response | None:
        """A Range request for the rest of a body cut short, or None when the server will not give exactly it."""
        self._settings.sleep(self._settings.backoff * (2**attempt))
        try:
            response = self._request_range(first, last)
        except RemoteError:
            return None
        match = _CONTENT_RANGE.match(response.headers.get("Content-Range") or "")
        if response.status != 206 or match is None or int(match.group(1)) != first or int(match.group(2)) > last:
            response.close()
            return None
        if self._other_version(response):
            response.close()
            return None
        return response

    def _other_version(self, response: Response) -> bool:
        """Whether ``response`` carries an ETag other than the file's first one (the file changed meanwhile)."""
        etag = response.headers.get("ETag")
        return self._etag is not None and etag is not None and etag != self._etag

    def _cap_reached(self) -> None:
        self._finding(
            R_BYTE_CAP,
            Severity.MEDIUM,
            f"stopped after fetching the {self._max_bytes:,}-byte cap for one remote file",
            "raise Limits.max_remote_bytes, or download the file and scan it locally",
        )

    def read_at(self, offset: int, length: int) -> bytes:
        if length <= 0 or offset < 0 or offset >= self._size:
            return b""
        end = min(offset + length, self._size)
        if end <= len(self._prefix):
            return bytes(self._prefix[offset:end])
        if self._broken:
            return bytes(self._prefix[offset:end])
        if self._stream is not None:
            self._extend_from_stream(end)
            return bytes(self._prefix[offset:end])
        if offset <= len(self._prefix):
            first = len(self._prefix)
            last = min(max(end, first + READ_AHEAD), self._size) - 1
            self._prefix += self._fetch(first, last)
            return bytes(self._prefix[offset:end])
        return self._fetch(offset, end - 1)

    def _fetch(self, first: int, last: int) -> bytes:
        if self.bytes_fetched >= self._max_bytes:
            self._cap_reached()
            return b""
        response = self._request_range(first, last)
        where = f"bytes {first}-{last}"
        if response.status != 206:
            response.close()
            self._break(
                R_RANGE_MISMATCH, f"answered HTTP {response.status} instead of 206 to a Range request ({where})"
            )
            return b""
        parsed = self._parse_content_range(response)
        if parsed is None:
            return b""
        start, end, total = parsed
        if total is not None and total != self._size:
            response.close()
            self._break(R_CHANGED, f"file size changed during the scan: {self._size:,} then {total:,} bytes")
            return b""
        if self._other_version(response):
            response.close()
            self._break(R_CHANGED, f"file changed during the scan (ETag {self._etag} then {response.headers['ETag']})")
            return b""
        if start != first or end > last or end < start:
            response.close()
            self._break(R_RANGE_MISMATCH, f"asked for {where} but the server sent bytes {start}-{end} (Content-Range)")
            return b""
        return self._take(response, end - start + 1, where, start)

    def _extend_from_stream(self, end: int) -> None:
        assert self._stream is not None
        need = end - len(self._prefix)
        if need <= 0:
            return
        allowed = max(0, self._max_bytes - self.bytes_fetched)
        try:
            data = _read_body(self._stream, min(need, allowed))
        except _Transient as exc:
            self._break(R_SHORT_BODY, exc.problem)
            return
        self.bytes_fetched += len(data)
        self._prefix += data
        if len(data) < min(need, allowed):
            self._break(R_SHORT_BODY, f"body ended after {len(self._prefix):,} of {self._size:,} bytes")
        elif need > allowed:
            self._cap_reached()

    def digest(self, algorithms: tuple[str, ...]) -> tuple[FileDigest, ...]:
        """Stream the whole file once and hash it (``--hash``). Transport failures are retried from the start."""
        from lbom._hashing import _new_hasher as new_hasher  # blake3 (optional extra) as well as hashlib names

        attempt = 0
        while True:
            hashers = [new_hasher(name) for name in algorithms]
            response = open_url(self.url, self._settings)
            received = 0
            try:
                while True:
                    chunk = response.body.read(HASH_CHUNK)
                    if not chunk:
                        break
                    received += len(chunk)
                    for hasher in hashers:
                        hasher.update(chunk)
            except (OSError, http.client.HTTPException) as exc:
                self.bytes_fetched += received
                if attempt >= self._settings.retries:
                    raise RemoteError(self.url, f"connection lost while hashing: {_describe(exc)}") from None
                self._settings.sleep(self._settings.backoff * (2**attempt))
                attempt += 1
                continue
            finally:
                response.close()
            self.bytes_fetched += received
            if received != self._size:
                self._finding(
                    R_SHORT_BODY if received < self._size else R_CHANGED,
                    Severity.HIGH,
                    f"hashing read {received:,} bytes but the file is {self._size:,} bytes; digest not reported",
                    "retry the scan; if it persists the server is serving inconsistent content",
                )
                return ()
            return tuple(FileDigest(name, h.hexdigest()) for name, h in zip(algorithms, hashers, strict=True))

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None
