"""What keeps the GUI server from being a hole: loopback-only binding, an access token, a Host allowlist, and
confinement of every browsed or scanned path to the folders the user named.

The earlier tool's GUI listed any folder on the machine to anyone who could reach its port. Here a request
must carry the token (constant-time compare), name a Host that is the bound address or loopback (so a DNS
rebinding page cannot reach us through its own name), and every path is resolved with ``realpath`` and must
stay under a root, so neither ``..`` nor symlinks can step outside.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import re
import secrets

from lbom._records import dataclass
from lbom.errors import UsageError
from lbom.scan import within

MIN_TOKEN_LENGTH = 16
_TOKEN_CHARACTERS = re.compile(r"^[A-Za-z0-9._~-]+$")
"""URL- and cookie-safe, so the token survives the printed URL and the cookie unchanged."""
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
HTTP_DEFAULT_PORT = 80


class Forbidden(Exception):
    """A request asked for something outside what the server may show."""


def new_token() -> str:
    return secrets.token_urlsafe(24)


def tokens_equal(given: str | None, expected: str) -> bool:
    """Constant-time comparison; a missing token never matches."""
    if given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8"))


def is_loopback(host: str) -> bool:
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def check_bind(host: str, token: str | None) -> None:
    """Refuse a non-loopback bind unless the user chose the token explicitly."""
    if not is_loopback(host) and token is None:
        raise UsageError(
            f"refusing to listen on {host}: it is not a loopback address, so other machines could reach the GUI; "
            "pass --token TOKEN explicitly if you really mean it"
        )
    if token is not None and len(token) < MIN_TOKEN_LENGTH:
        raise UsageError(f"--token must be at least {MIN_TOKEN_LENGTH} characters (use a random one)")
    if token is not None and not _TOKEN_CHARACTERS.match(token):
        raise UsageError("--token may only use letters, digits and . _ ~ - (it goes into a URL and a cookie)")


@dataclass(frozen=True)
class HostPolicy:
    """Which ``Host`` headers are ours: the bound host and loopback names, on the bound port.

    When bound to a wildcard address (0.0.0.0, ::) any IP literal is accepted too: DNS rebinding needs a DNS
    name, and the machine's own addresses are not known in advance.
    """

    bound_host: str
    port: int

    def allows(self, header: str | None) -> bool:
        if not header:
            return False
        host, port = _split_host_port(header)
        if port is not None and port != self.port:
            return False
        host = host.lower()
        bound = self.bound_host.strip("[]").lower()
        if host in LOOPBACK_NAMES or host == bound:
            return True
        return bound in ("0.0.0.0", "::") and _is_ip_literal(host)  # noqa: S104  # comparing, not binding

    def allows_origin(self, origin: str) -> bool:
        """Whether an ``Origin`` header names this server: ``http``, one of our host names, and our port exactly.

        An origin without a port means the scheme's default port (80), which is ours only if we really listen
        there; unlike a ``Host`` header it is never taken as "any port", so a page on ``http://localhost`` (another
        server on this machine) cannot post to us.
        """
        scheme, sep, netloc = origin.strip().partition("://")
        if scheme.lower() != "http" or not sep or not netloc or any(c in netloc for c in "/?#@\\"):
            return False
        _host, port = _split_host_port(netloc)
        if (port if port is not None else HTTP_DEFAULT_PORT) != self.port:
            return False
        return self.allows(netloc)


def _split_host_port(header: str) -> tuple[str, int | None]:
    header = header.strip()
    if header.startswith("["):
        end = header.find("]")
        if end < 0:
            return header, None
        host, rest = header[1:end], header[end + 1 :]
        port_text = rest[1:] if rest.startswith(":") else None
    elif header.count(":") == 1:
        host, port_text = header.split(":")
    else:
        host, port_text = header, None
    if port_text is None:
        return host, None
    if not port_text.isdigit():
        return host, -1
    return host, int(port_text)


class Roots:
    """The folders the GUI may browse and scan. Paths are checked by their real path (symlinks resolved)."""

    def __init__(self, paths: list[str]) -> None:
        seen: dict[str, str] = {}
        for path in paths:
            display = os.path.abspath(path)
            real = os.path.realpath(display)
            if os.path.exists(real) and real not in seen.values():
                seen[display] = real
        self._roots = tuple(seen.items())

    @property
    def displays(self) -> tuple[str, ...]:
        return tuple(display for display, _ in self._roots)

    @property
    def reals(self) -> tuple[str, ...]:
        return tuple(real for _, real in self._roots)

    def contains_real(self, real: str) -> bool:
        return any(within(real, root) for _, root in self._roots)

    def resolve(self, path: str) -> str:
        """The real path of ``path`` if it lies under a root; :class:`Forbidden` otherwise."""
        if not isinstance(path, str) or not path or "\x00" in path or not os.path.isabs(path):
            raise Forbidden("path must be an absolute path inside one of the GUI's folders")
        real = os.path.realpath(path)
        if not self.contains_real(real):
            raise Forbidden("path is outside the GUI's folders")
        return real
