"""Header-only scans of remote models: an ``https://`` URL or an ``hf://org/repo[@revision][/path]`` URI.

Each remote file is opened as an :class:`~lbom._remote.http.HttpRangeSource` and handed to the same format
readers as a local file, so only the header bytes a reader asks for are fetched (``--hash`` streams the whole
file once to hash it). For the hub, the repository listing supplies sizes and the LFS SHA-256s, which become
expected digests in each file's :class:`~lbom.model.SourceIdentity`; ``config.json``/``README.md`` sidecars are
fetched (capped) and sharded checkpoints become one logical model. The results are ``ReadFile`` objects and
sidecar facts in the shape ``lbom.scan`` assembles, so remote and local models look the same downstream.
"""

from __future__ import annotations

import dataclasses
import posixpath
import urllib.parse
from dataclasses import field
from typing import TYPE_CHECKING

from lbom._formats import SNIFF_BYTES, pick_reader_for
from lbom._formats.hf_sidecar import R_SIDECAR, SIDECAR_NAMES, sidecar_facts
from lbom._formats.interface import FindingSink, Limits
from lbom._records import dataclass
from lbom._remote.http import (
    R_DIGEST_MISMATCH,
    R_FETCH_FAILED,
    HttpRangeSource,
    RemoteSettings,
    check_url,
    fetch_capped,
    origin_of,
)
from lbom._remote.hub import HubFile, HubListing, hub_endpoint, hub_token, list_repo, parse_hf_uri
from lbom.errors import RemoteError, UsageError
from lbom.model import (
    FileDigest,
    Finding,
    ModelArtifact,
    Severity,
    SidecarFacts,
    SourceIdentity,
)

if TYPE_CHECKING:
    from lbom._formats.hf_sidecar import TextLoader
    from lbom.scan import ReadFile, ScanOptions

R_TOO_MANY_FILES = "LBOM-REMOTE-009"

MAX_REMOTE_FILES = 1000
"""Model files read from one repository in one scan."""
REMOTE_SCHEMES = ("hf://", "https://", "http://")
MODEL_SUFFIXES = (".gguf", ".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".onnx", ".npy", ".npz", ".pkl")
"""Repository files worth opening; the readers' magic-byte sniffing still decides what each one is."""


def is_remote(path: str) -> bool:
    return path.lower().startswith(REMOTE_SCHEMES)


@dataclass
class RemoteRead:
    """What one remote target yielded: assembled models (shard sets grouped) and findings about the scan."""

    models: list[ModelArtifact] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    single_file: bool = False


def remote_settings(options: ScanOptions) -> RemoteSettings:
    from lbom._version import tool_version

    base = options.remote or RemoteSettings()
    return dataclasses.replace(
        base,
        allow_full_download=base.allow_full_download or options.allow_full_download,
        user_agent=f"l-bom/{tool_version()}",
    )


def read_remote_target(target: str, options: ScanOptions) -> RemoteRead:
    """Read one remote target. Raises RemoteError/UsageError when nothing at all can be read."""
    if target.lower().startswith("hf://"):
        return _read_hub(target, options)
    check_url(target)
    settings = remote_settings(options)
    name = posixpath.basename(urllib.parse.urlsplit(target).path) or target
    identity = SourceIdentity(kind="url", file_path=name, url=target)
    read = _read_one(target, target, name, _directory_key(target), identity, None, settings, options)
    return _assembled([read], {}, None, None, options, single_file=True, findings=[])


def _directory_key(display: str) -> str:
    return display.rsplit("/", 1)[0] + "/"


def _read_one(
    url: str,
    display: str,
    relative: str,
    directory: str,
    identity: SourceIdentity,
    expected_size: int | None,
    settings: RemoteSettings,
    options: ScanOptions,
) -> ReadFile:
    from lbom.scan import Candidate, ReadFile

    source = HttpRangeSource(url, settings, options.limits.max_remote_bytes, display, expected_size)
    try:
        head = source.read_at(0, SNIFF_BYTES)
        reader = pick_reader_for(source, head, relative, options.limits)
        candidate = Candidate(display, url, relative, directory, source.size, identity)
        if reader is None:
            return ReadFile(candidate, None, None, (), tuple(source.findings), source.bytes_fetched)
        header = reader.read(source, options.limits)
        digests: tuple[FileDigest, ...] = ()
        if options.remote_hash:
            digests = source.digest(options.digests)
            expected = identity.expected_sha256
            actual = next((d.hex for d in digests if d.algorithm == "sha256"), None)
            if expected is not None and actual is not None and expected != actual:
                source.findings.append(
                    Finding(
                        R_DIGEST_MISMATCH,
                        Severity.CRITICAL,
                        f"SHA-256 of the served bytes {actual} differs from the hub's LFS SHA-256 {expected}",
                        display,
                        None,
                        "do not use this file: the content is not what the repository vouches for",
                    )
                )
        header = dataclasses.replace(header, findings=header.findings + tuple(source.findings))
        return ReadFile(candidate, reader, header, digests, (), source.bytes_fetched)
    finally:
        source.close()


def _assembled(
    reads: list[ReadFile],
    sidecars: dict[str, SidecarFacts | None],
    directories: dict[str, set[str]] | None,
    read_text: TextLoader | None,
    options: ScanOptions,
    single_file: bool,
    findings: list[Finding],
) -> RemoteRead:
    """Assemble what was read exactly as local files are (shard groups included); non-models become findings."""
    from lbom._assemble import assemble_models
    from lbom.scan import R_NOT_MODEL

    result = RemoteRead(findings=list(findings), single_file=single_file)
    for unread in (r for r in reads if r.header is None):
        result.findings.extend(unread.findings)
        if single_file:
            message = "not a recognised model file (no known magic bytes)"
            result.findings.append(Finding(R_NOT_MODEL, Severity.MEDIUM, message, unread.candidate.display_path))
    models = [r for r in reads if r.header is not None]
    result.models = assemble_models(models, sidecars, directories, options.limits, read_text)
    return result


def _read_hub(uri: str, options: ScanOptions) -> RemoteRead:
    target = parse_hf_uri(uri)
    endpoint = hub_endpoint()
    settings = dataclasses.replace(remote_settings(options), token=hub_token(), token_origin=origin_of(endpoint))
    listing = list_repo(target, settings, endpoint)
    by_path = {f.path: f for f in listing.files}
    findings: list[Finding] = []
    single_file = target.path is not None and target.path in by_path
    if single_file:
        chosen = [by_path[str(target.path)]]
    else:
        prefix = f"{target.path}/" if target.path else ""
        chosen = [f for f in listing.files if f.path.startswith(prefix) and f.path.lower().endswith(MODEL_SUFFIXES)]
        if target.path is not None and not any(f.path.startswith(prefix) for f in listing.files):
            raise RemoteError(uri, f"no file or folder '{target.path}' in {target.repo_id}@{target.revision}")
    if len(chosen) > MAX_REMOTE_FILES:
        findings.append(
            Finding(
                R_TOO_MANY_FILES,
                Severity.MEDIUM,
                f"{len(chosen):,} model files listed; only the first {MAX_REMOTE_FILES:,} were read",
                listing.uri_for(target.path),
                None,
                "scan a sub-folder or a single file with hf://org/repo/path",
            )
        )
        chosen = chosen[:MAX_REMOTE_FILES]
    reads: list[ReadFile] = []
    for hub_file in chosen:
        display = listing.uri_for(hub_file.path)
        url = listing.resolve_url(hub_file.path)
        identity = SourceIdentity(
            kind="huggingface",
            repo_id=target.repo_id,
            revision=listing.commit,
            file_path=hub_file.path,
            purl=listing.purl,
            url=url,
            expected_sha256=hub_file.lfs_sha256,
        )
        try:
            read = _read_one(
                url, display, hub_file.path, _directory_key(display), identity, hub_file.size, settings, options
            )
        except (RemoteError, UsageError) as exc:
            if single_file:
                raise
            findings.append(Finding(R_FETCH_FAILED, Severity.MEDIUM, f"not read: {exc.diagnostics()}", display))
            continue
        reads.append(read)
    failed = [f for f in findings if f.rule_id == R_FETCH_FAILED]
    if failed and not reads:
        # Every model file of the repository failed: a gate must not read that as a pass with nothing in it.
        first = failed[0].message.removeprefix("not read: ")
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        raise RemoteError(uri, f"no model file could be fetched: {first}{more}")
    # Folder keys as the assembler sees them ("hf://org/repo@rev/dir/"): the repo folder, and the names in it.
    folders: dict[str, str] = {}
    names: dict[str, set[str]] = {}
    for hub_file in listing.files:
        folder = posixpath.dirname(hub_file.path)
        key = _directory_key(listing.uri_for(posixpath.join(folder, "x")))
        folders[key] = folder
        names.setdefault(key, set()).add(posixpath.basename(hub_file.path))
    sidecars = {
        key: _hub_sidecars(listing, folders[key], key, settings, options)
        for key in sorted({r.candidate.directory for r in reads if r.header is not None})
    }

    def read_index(path: str, limits: Limits, sink: FindingSink, name: str) -> str | None:
        folder = folders.get(_directory_key(path))
        hub_file = by_path.get(posixpath.join(folder, name)) if folder is not None else None
        if hub_file is None:
            sink.add(R_SIDECAR, Severity.LOW, f"{name} is not in the repository listing", name)
            return None
        return _fetch_text(listing, hub_file, settings, limits.max_sidecar_bytes, sink, name)

    result = _assembled(reads, sidecars, None if single_file else names, read_index, options, single_file, findings)
    for index, model in enumerate(result.models):
        if model.source is None:  # a shard set: the repository is its identity
            group = model.path.removeprefix(listing.uri_for(None)).lstrip("/")
            identity = SourceIdentity(
                kind="huggingface", repo_id=target.repo_id, revision=listing.commit, file_path=group, purl=listing.purl
            )
            result.models[index] = dataclasses.replace(model, source=identity)
    return result


def _hub_sidecars(
    listing: HubListing, directory: str, key: str, settings: RemoteSettings, options: ScanOptions
) -> SidecarFacts | None:
    files = {posixpath.basename(f.path): f for f in listing.files if posixpath.dirname(f.path) == directory}
    names = {name for name in SIDECAR_NAMES if name in files}
    if not names:
        return None
    cap = options.limits.max_sidecar_bytes
    sink = FindingSink(key)

    def load(name: str) -> str | None:
        return _fetch_text(listing, files[name], settings, cap, sink, name)

    return sidecar_facts(names, load, sink)


def _fetch_text(
    listing: HubListing, hub_file: HubFile, settings: RemoteSettings, cap: int, sink: FindingSink, name: str
) -> str | None:
    """A small repository file (sidecar, shard index) as text, within ``cap`` bytes; problems become findings."""
    if hub_file.size is not None and hub_file.size > cap:
        sink.add(R_SIDECAR, Severity.LOW, f"{name} is {hub_file.size:,} bytes, above the {cap:,}-byte cap", name)
        return None
    try:
        data, cut = fetch_capped(listing.resolve_url(hub_file.path), settings, cap)
    except RemoteError as exc:
        sink.add(R_SIDECAR, Severity.LOW, f"cannot fetch {name}: {exc.problem}", name)
        return None
    if cut:
        sink.add(R_SIDECAR, Severity.LOW, f"{name} is larger than the {cap:,}-byte cap; not read", name)
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        sink.add(R_SIDECAR, Severity.LOW, f"{name} is not UTF-8", name)
        return None
