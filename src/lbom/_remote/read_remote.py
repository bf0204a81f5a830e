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
import re
import urllib.parse
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lbom._formats import SNIFF_BYTES, pick_reader
from lbom._formats.hf_sidecar import SIDECAR_NAMES, sidecar_facts
from lbom._formats.interface import FindingSink
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
    ModelHeader,
    Severity,
    SidecarFacts,
    SourceIdentity,
    TensorTypeStat,
)

if TYPE_CHECKING:
    from lbom.scan import ReadFile, ScanOptions

R_SHARDS_INCOMPLETE = "LBOM-REMOTE-008"
R_TOO_MANY_FILES = "LBOM-REMOTE-009"

MAX_REMOTE_FILES = 1000
"""Model files read from one repository in one scan."""
REMOTE_SCHEMES = ("hf://", "https://", "http://")
MODEL_SUFFIXES = (".gguf", ".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".onnx", ".npy", ".npz", ".pkl")
"""Repository files worth opening; the readers' magic-byte sniffing still decides what each one is."""
_SHARD = re.compile(r"^(?P<stem>.+)-(?P<index>\d{5})-of-(?P<count>\d{5})\.(?P<ext>gguf|safetensors)$")


def is_remote(path: str) -> bool:
    return path.lower().startswith(REMOTE_SCHEMES)


@dataclass
class RemoteRead:
    """What one remote target yielded: files to assemble, sidecars by directory, pre-grouped shard sets."""

    read_files: list[ReadFile] = field(default_factory=list)
    sidecars: dict[str, SidecarFacts | None] = field(default_factory=dict)
    grouped: list[ModelArtifact] = field(default_factory=list)
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
    return RemoteRead(read_files=[read], single_file=True)


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
        reader = pick_reader(head, relative)
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


def _read_hub(uri: str, options: ScanOptions) -> RemoteRead:
    target = parse_hf_uri(uri)
    endpoint = hub_endpoint()
    settings = dataclasses.replace(remote_settings(options), token=hub_token(), token_origin=origin_of(endpoint))
    listing = list_repo(target, settings, endpoint)
    by_path = {f.path: f for f in listing.files}
    result = RemoteRead()
    if target.path is not None and target.path in by_path:
        chosen = [by_path[target.path]]
        result.single_file = True
    else:
        prefix = f"{target.path}/" if target.path else ""
        chosen = [f for f in listing.files if f.path.startswith(prefix) and f.path.lower().endswith(MODEL_SUFFIXES)]
        if target.path is not None and not any(f.path.startswith(prefix) for f in listing.files):
            raise RemoteError(uri, f"no file or folder '{target.path}' in {target.repo_id}@{target.revision}")
    if len(chosen) > MAX_REMOTE_FILES:
        result.findings.append(
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
    for hub_file in chosen:
        display = listing.uri_for(hub_file.path)
        identity = SourceIdentity(
            kind="huggingface",
            repo_id=target.repo_id,
            revision=listing.commit,
            file_path=hub_file.path,
            purl=listing.purl,
            url=listing.resolve_url(hub_file.path),
            expected_sha256=hub_file.lfs_sha256,
        )
        try:
            read = _read_one(
                listing.resolve_url(hub_file.path),
                display,
                hub_file.path,
                _directory_key(display),
                identity,
                hub_file.size,
                settings,
                options,
            )
        except (RemoteError, UsageError) as exc:
            if result.single_file:
                raise
            result.findings.append(Finding(R_FETCH_FAILED, Severity.MEDIUM, f"not read: {exc.diagnostics()}", display))
            continue
        if read.header is None:
            result.findings.extend(read.findings)
            continue
        result.read_files.append(read)
    directories = {posixpath.dirname(r.candidate.relative_path) for r in result.read_files}
    for directory in sorted(directories):
        key = _directory_key(listing.uri_for(posixpath.join(directory, "x")))
        result.sidecars[key] = _hub_sidecars(listing, directory, key, settings, options)
    _group_shards(result, listing)
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
        hub_file: HubFile = files[name]
        if hub_file.size is not None and hub_file.size > cap:
            sink.add("LBOM-SIDECAR-001", Severity.LOW, f"{name} is {hub_file.size:,} bytes, above the cap", name)
            return None
        try:
            data, cut = fetch_capped(listing.resolve_url(hub_file.path), settings, cap)
        except RemoteError as exc:
            sink.add("LBOM-SIDECAR-001", Severity.LOW, f"cannot fetch {name}: {exc.problem}", name)
            return None
        if cut:
            sink.add("LBOM-SIDECAR-001", Severity.LOW, f"{name} is larger than the {cap:,}-byte cap; not read", name)
            return None
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            sink.add("LBOM-SIDECAR-001", Severity.LOW, f"{name} is not UTF-8", name)
            return None

    return sidecar_facts(names, load, sink)


def _group_shards(result: RemoteRead, listing: HubListing) -> None:
    """Turn ``name-0000i-of-0000n.(gguf|safetensors)`` files of one folder into one logical model each."""
    from lbom._assemble import build_model
    from lbom.scan import file_entry

    groups: dict[tuple[str, str, str, int], list[tuple[int, ReadFile]]] = {}
    for read in result.read_files:
        match = _SHARD.match(posixpath.basename(read.candidate.relative_path))
        if match is None:
            continue
        key = (
            posixpath.dirname(read.candidate.relative_path),
            match["stem"],
            match["ext"],
            int(match["count"]),
        )
        groups.setdefault(key, []).append((int(match["index"]), read))
    grouped_reads: set[int] = set()
    for (directory, stem, ext, count), members in sorted(groups.items()):
        if len(members) < 2 and count < 2:
            continue
        members.sort(key=lambda pair: pair[0])
        reads = [read for _, read in members]
        grouped_reads.update(id(read) for read in reads)
        group_path = posixpath.join(directory, f"{stem}.{ext}") if directory else f"{stem}.{ext}"
        display = listing.uri_for(group_path)
        extra: list[Finding] = []
        present = {index for index, _ in members}
        missing = sorted(set(range(1, count + 1)) - present)
        if missing:
            extra.append(
                Finding(
                    R_SHARDS_INCOMPLETE,
                    Severity.HIGH,
                    f"shard set {stem} has {len(present)} of {count} files; missing "
                    + ", ".join(f"{i:05d}" for i in missing[:20]),
                    display,
                    None,
                    "the repository is incomplete or shards were not readable",
                )
            )
        header = _combined_header([read.header for read in reads if read.header is not None])
        entries = tuple(file_entry(read, role="shard") for read in reads)
        sidecars = result.sidecars.get(reads[0].candidate.directory)
        model = build_model(header, entries, sidecars, display, tuple(extra))
        identity = SourceIdentity(
            kind="huggingface",
            repo_id=listing.target.repo_id,
            revision=listing.commit,
            file_path=group_path,
            purl=listing.purl,
        )
        result.grouped.append(dataclasses.replace(model, name=header.name or stem, source=identity))
    result.read_files = [read for read in result.read_files if id(read) not in grouped_reads]


def _combined_header(headers: list[ModelHeader]) -> ModelHeader:
    """One header for a shard set: the first shard's facts, with tensors and counts summed over all shards."""
    first = headers[0]
    stats: dict[str, list[int]] = {}
    for header in headers:
        for stat in header.tensor_types:
            entry = stats.setdefault(stat.type_name, [0, 0])
            entry[0] += stat.tensor_count
            entry[1] += stat.parameter_count
    counts = [h.parameter_count for h in headers]
    tensor_counts = [h.tensor_count for h in headers]
    return dataclasses.replace(
        first,
        parameter_count=sum(c for c in counts if c is not None) if None not in counts else None,
        tensor_count=sum(c for c in tensor_counts if c is not None) if None not in tensor_counts else None,
        tensor_types=tuple(TensorTypeStat(name, v[0], v[1]) for name, v in sorted(stats.items())),
        tensors=tuple(t for h in headers for t in h.tensors),
        findings=tuple(f for h in headers for f in h.findings),
        header_bytes_read=sum(h.header_bytes_read for h in headers),
        data_bytes_expected=None,
    )
