"""The Hugging Face Hub side of remote scans: ``hf://`` URIs, the token, and the repository file listing.

The listing comes from the hub's HTTP API (``GET {endpoint}/api/models/{repo}/revision/{rev}?blobs=true``), whose
``siblings`` carry each file's size and, for LFS files, the SHA-256 the hub vouches for. Everything is then read
at the resolved commit (``{endpoint}/{repo}/resolve/{commit}/{path}``), so a branch that moves during the scan
cannot mix two revisions. ``HF_ENDPOINT`` moves the hub; the token comes from ``HF_TOKEN``, ``HF_TOKEN_PATH`` or
``$HF_HOME/token`` and is only ever sent to the endpoint's own origin.
"""

from __future__ import annotations

import json
import os
import re
import urllib.parse

from lbom._records import dataclass
from lbom._remote.http import RemoteSettings, check_url, fetch_capped
from lbom.errors import RemoteError, UsageError

DEFAULT_ENDPOINT = "https://huggingface.co"
DEFAULT_REVISION = "main"
MAX_LISTING_BYTES = 64 * 1024 * 1024
"""Cap on the API answer that lists a repository's files (a repo with 100k files is a few tens of MB)."""
MAX_LISTED_FILES = 200_000
_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class HubTarget:
    """What an ``hf://org/repo[@revision][/path]`` URI names."""

    repo_id: str
    revision: str
    path: str | None
    explicit_revision: bool

    @property
    def uri(self) -> str:
        rev = f"@{self.revision}" if self.explicit_revision else ""
        return f"hf://{self.repo_id}{rev}" + (f"/{self.path}" if self.path else "")


@dataclass(frozen=True)
class HubFile:
    """One file of a repository listing: path, size and the LFS SHA-256 when the hub reports one."""

    path: str
    size: int | None
    lfs_sha256: str | None


@dataclass(frozen=True)
class HubListing:
    """The files of a Hugging Face repository at a resolved commit, and the endpoint they come from."""

    target: HubTarget
    commit: str
    """The resolved commit hash, or the requested revision when the hub did not report one."""
    files: tuple[HubFile, ...]
    endpoint: str

    def resolve_url(self, path: str) -> str:
        repo = urllib.parse.quote(self.target.repo_id, safe="/")
        return f"{self.endpoint}/{repo}/resolve/{urllib.parse.quote(self.commit, safe='')}/" + urllib.parse.quote(
            path, safe="/"
        )

    def uri_for(self, path: str | None) -> str:
        return HubTarget(self.target.repo_id, self.target.revision, path, self.target.explicit_revision).uri

    @property
    def purl(self) -> str:
        """``pkg:huggingface/{org}/{name}@{commit}`` (the purl type's version is the commit, lowercased)."""
        org, _, name = self.target.repo_id.partition("/")
        purl = f"pkg:huggingface/{urllib.parse.quote(org)}/{urllib.parse.quote(name)}@{self.commit.lower()}"
        if self.endpoint != DEFAULT_ENDPOINT:
            purl += "?repository_url=" + urllib.parse.quote(self.endpoint, safe=":/")
        return purl


def parse_hf_uri(uri: str) -> HubTarget:
    """Split ``hf://org/repo[@revision][/path/in/repo]``; the revision may be percent-encoded (``refs%2Fpr%2F1``)."""
    rest = uri[len("hf://") :]
    parts = rest.split("/")
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise UsageError(f"{uri}: expected hf://org/repo[@revision][/file]")
    org, name = parts[0], parts[1]
    revision = DEFAULT_REVISION
    explicit = False
    if "@" in name:
        name, _, raw_revision = name.partition("@")
        revision = urllib.parse.unquote(raw_revision)
        explicit = True
        if not revision or any(ch in revision for ch in "\0\n\r") or ".." in revision.split("/"):
            raise UsageError(f"{uri}: the revision after '@' is empty or invalid")
    if not _SEGMENT.match(org) or not _SEGMENT.match(name):
        raise UsageError(f"{uri}: '{org}/{name}' is not a valid hub repository id")
    path_parts = [p for p in parts[2:] if p]
    if any(p in (".", "..") for p in path_parts):
        raise UsageError(f"{uri}: '.' and '..' are not allowed in a repository path")
    path = "/".join(path_parts) or None
    return HubTarget(f"{org}/{name}", revision, path, explicit)


def hub_endpoint() -> str:
    endpoint = (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")
    check_url(endpoint)
    return endpoint


def hub_token() -> str | None:
    """The user's hub token: HF_TOKEN, else the file at HF_TOKEN_PATH, else $HF_HOME/token (as huggingface_hub)."""
    token = os.environ.get("HF_TOKEN")
    if token and token.strip():
        return token.strip()
    path = os.environ.get("HF_TOKEN_PATH")
    if not path:
        from lbom._stores.huggingface import huggingface_home

        path = os.path.join(huggingface_home(os.environ, os.path.expanduser("~"))[0], "token")
    try:
        with open(os.path.expanduser(path), encoding="utf-8") as handle:
            text = handle.read(4096).strip()
    except OSError:
        return None
    return text or None


def list_repo(target: HubTarget, settings: RemoteSettings, endpoint: str) -> HubListing:
    """The repository's files at ``target.revision`` with sizes and LFS SHA-256s, from the hub API."""
    repo = urllib.parse.quote(target.repo_id, safe="/")
    url = f"{endpoint}/api/models/{repo}/revision/{urllib.parse.quote(target.revision, safe='')}?blobs=true"
    data, cut = fetch_capped(url, settings, MAX_LISTING_BYTES)
    if cut:
        raise RemoteError(target.uri, f"the hub's file listing is larger than {MAX_LISTING_BYTES:,} bytes")
    try:
        info = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise RemoteError(target.uri, "the hub API answered with something that is not JSON") from None
    if not isinstance(info, dict) or not isinstance(info.get("siblings"), list):
        raise RemoteError(target.uri, "the hub API answer has no 'siblings' list of files")
    siblings = info["siblings"]
    if len(siblings) > MAX_LISTED_FILES:
        raise RemoteError(target.uri, f"the repository lists {len(siblings):,} files (cap {MAX_LISTED_FILES:,})")
    files = []
    for sibling in siblings:
        if not isinstance(sibling, dict) or not isinstance(sibling.get("rfilename"), str):
            continue
        path = sibling["rfilename"]
        if not path or path.startswith("/") or ".." in path.split("/") or "\0" in path:
            continue
        size = sibling.get("size")
        lfs = sibling.get("lfs")
        sha = lfs.get("sha256") if isinstance(lfs, dict) else None
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            lfs_size = lfs.get("size") if isinstance(lfs, dict) else None
            size = lfs_size if isinstance(lfs_size, int) and not isinstance(lfs_size, bool) and lfs_size >= 0 else None
        files.append(HubFile(path, size, sha.lower() if isinstance(sha, str) and _SHA256.match(sha.lower()) else None))
    commit = info.get("sha")
    resolved = commit if isinstance(commit, str) and _COMMIT.match(commit) else target.revision
    return HubListing(target, resolved, tuple(sorted(files, key=lambda f: f.path)), endpoint)
