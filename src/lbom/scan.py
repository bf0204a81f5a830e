"""Discovery and orchestration: walk the paths, sniff files by magic bytes, read headers, hash, assemble.

``scan()`` is the one entry point the CLI, GUI and MCP server call. Directories are walked iteratively in
sorted order; only regular files are opened (FIFOs, devices and sockets are skipped with a finding, never
opened); directory symlinks are not followed (no loops); file symlinks are followed to regular files only, as
Hugging Face snapshots need. Nothing is ever written into a scanned folder.
"""

from __future__ import annotations

import contextlib
import os
import stat
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import field
from typing import TYPE_CHECKING

from lbom._formats import ReaderEntry
from lbom._formats.hf_sidecar import SIDECAR_NAMES, read_sidecars
from lbom._formats.interface import DEFAULT_LIMITS, Limits, printable_path
from lbom._records import dataclass
from lbom.errors import InputError
from lbom.model import (
    FileDigest,
    FileEntry,
    Finding,
    ModelArtifact,
    ModelHeader,
    ScanResult,
    Severity,
    SidecarFacts,
    SourceIdentity,
)

if TYPE_CHECKING:
    from lbom._cache import ScanCache, TemplateMemo
    from lbom._formats.hf_sidecar import TextLoader
    from lbom._formats.interface import FindingSink
    from lbom._remote.http import RemoteSettings
    from lbom._stores.plan import StorePlan

R_SKIPPED = "LBOM-SCAN-001"
R_UNREADABLE = "LBOM-SCAN-002"
R_NOT_MODEL = "LBOM-SCAN-003"
R_OUTSIDE = "LBOM-SCAN-004"


@dataclass(frozen=True)
class ScanOptions:
    """How to scan. Every field has the CLI's default."""

    hash: bool = True
    digests: tuple[str, ...] = ("sha256",)
    limits: Limits = DEFAULT_LIMITS
    list_unknown: bool = False
    """Report files that are not models (``--all``) instead of skipping them silently."""
    jobs: int | None = None
    """Files read and hashed at once, on threads (``--jobs``); None means one per CPU core."""
    progress: Callable[[ProgressEvent], None] | None = None
    """Called on the scanning thread as files finish, and a few times a second while large files hash."""
    remote_hash: bool = False
    """Remote scans: stream each whole file once to hash it (``--hash``); by default only header bytes are read."""
    allow_full_download: bool = False
    """Remote scans: consent to read a server without Range support from the start (``--allow-full-download``)."""
    remote: RemoteSettings | None = None
    """Remote scans: timeouts, retries and backoff; ``None`` means the defaults."""
    cache: bool = True
    """Reuse digests and headers from the persistent cache, and record new ones (``--no-cache`` turns it off)."""
    cache_dir: str | None = None
    """Where the cache lives (``--cache-dir``); None means the per-user cache folder. Never a scanned folder."""
    rehash: bool = False
    """Ignore cached results and recompute everything (``--rehash``); the fresh results are still recorded."""
    cancel: Callable[[], bool] | None = None
    """Polled between files (e.g. ``threading.Event().is_set``); True stops the scan with ScanCancelled."""
    confine_to: tuple[str, ...] = ()
    """The only folders this scan may open files in (the GUI's and the MCP server's roots). A model file, sidecar
    or shard index whose real path lies elsewhere (a symlink leading out) is never opened: it is skipped with a
    finding. Empty: no confinement (the CLI follows file symlinks wherever they lead)."""


@dataclass(frozen=True)
class ProgressEvent:
    """Reported while scanning: which file, and how far along the whole scan is."""

    path: str
    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int


@dataclass(frozen=True)
class Candidate:
    """A regular file found during discovery, before it is opened."""

    display_path: str
    real_path: str
    relative_path: str
    directory: str
    size: int
    source: SourceIdentity | None = None
    """Identity from where the file lives (a model store), filled in during discovery."""


@dataclass
class _Discovery:
    """What a walk of the scanned paths found: files to read, problems met on the way, and each folder's entries."""

    candidates: list[Candidate] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    directories: dict[str, set[str]] = field(default_factory=dict)


_LAST_EPOCH = 253_402_300_799
"""9999-12-31T23:59:59Z: the last second an ISO 8601 four-digit year (and Python's datetime) can hold."""


def source_date() -> str:
    """Now, or SOURCE_DATE_EPOCH when set, as an ISO 8601 UTC timestamp (deterministic output).

    A SOURCE_DATE_EPOCH that is not a whole number of seconds from 1970 to 9999 is ignored, as one that is not a
    number at all (it used to end the scan with an internal error for a year past 9999).
    """
    moment = int(time.time())
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is not None:
        with contextlib.suppress(ValueError):
            if 0 <= int(epoch) <= _LAST_EPOCH:
                moment = int(epoch)
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))


def discover(paths: Sequence[str]) -> _Discovery:
    found = _Discovery()
    for root in paths:
        try:
            st = os.stat(root)
        except OSError as exc:
            raise InputError(root, _os_problem(exc)) from exc
        if stat.S_ISDIR(st.st_mode):
            _walk(root, found)
        elif stat.S_ISREG(st.st_mode):
            directory = os.path.dirname(root) or "."
            found.candidates.append(
                Candidate(
                    printable_path(root),
                    os.path.realpath(root),
                    printable_path(os.path.basename(root)),
                    directory,
                    st.st_size,
                )
            )
            found.directories.setdefault(directory, set(_listdir_or_empty(directory)))
        else:
            raise InputError(root, "not a regular file or directory (FIFO, device or socket); not opened")
    return found


def _listdir_or_empty(directory: str) -> list[str]:
    try:
        return os.listdir(directory)
    except OSError:
        return []


def _os_problem(exc: OSError) -> str:
    """What went wrong, for a finding: the OS's own words in lower case ("permission denied"), else the error."""
    return exc.strerror.lower() if exc.strerror else str(exc)


def _walk(root: str, found: _Discovery) -> None:
    from lbom._walk import UnreadableFolder, walk

    for item in walk(root, found.directories.__setitem__):
        if isinstance(item, UnreadableFolder):
            found.findings.append(
                Finding(
                    R_UNREADABLE,
                    Severity.LOW,
                    f"directory skipped: {_os_problem(item.error)}",
                    printable_path(item.path),
                )
            )
            continue
        # ``path`` opens the file; ``display`` (escaped if the name is not valid UTF-8) goes into documents.
        display = printable_path(item.path)
        st = item.stat
        if st is None:
            problem = _os_problem(item.error) if item.error is not None else "cannot stat"
            found.findings.append(
                Finding(R_SKIPPED, Severity.LOW, f"skipped: {problem} (dangling or looping symlink?)", display)
            )
            continue
        if stat.S_ISDIR(st.st_mode):
            found.findings.append(
                Finding(R_SKIPPED, Severity.INFO, "skipped: symlink to a directory (not followed)", display)
            )
            continue
        if not stat.S_ISREG(st.st_mode):
            found.findings.append(
                Finding(R_SKIPPED, Severity.LOW, "skipped: not a regular file (FIFO, device or socket)", display)
            )
            continue
        real = os.path.realpath(item.path) if item.is_link else item.path
        found.candidates.append(
            Candidate(display, real, printable_path(item.relative_path), item.directory, st.st_size)
        )


@dataclass(frozen=True)
class ReadFile:
    """A candidate after reading: its header (None if not a model) and digests."""

    candidate: Candidate
    reader: ReaderEntry | None
    header: ModelHeader | None
    digests: tuple[FileDigest, ...]
    findings: tuple[Finding, ...] = ()
    bytes_fetched: int | None = None
    """Remote files only: bytes actually transferred."""
    extra_files: tuple[FileEntry, ...] = ()
    """Files that belong to this model without being read as one (Ollama template/params/license layers)."""


# Extensions that only model files carry (".bin" is left out: plenty of other files use it). A file with one of
# these that no reader recognises is most often an interrupted download, so a folder scan says so.
_MODEL_SUFFIXES = (".gguf", ".safetensors", ".pt", ".pth", ".ckpt", ".onnx", ".keras", ".npy", ".npz")


def _model_suffix(path: str) -> str | None:
    lowered = path.lower()
    return next((suffix for suffix in _MODEL_SUFFIXES if lowered.endswith(suffix)), None)


def _not_a_model(candidate: Candidate, named_like: str | None) -> Finding:
    what = "empty file (0 bytes)" if candidate.size == 0 else "no known magic bytes"
    if named_like is None:
        return Finding(R_NOT_MODEL, Severity.MEDIUM, f"not a recognised model file ({what})", candidate.display_path)
    return Finding(
        R_NOT_MODEL,
        Severity.MEDIUM,
        f"named like a model ({named_like}) but not one: {what}",
        candidate.display_path,
        None,
        "an interrupted download or a placeholder? fetch the file again",
    )


def read_candidate(candidate: Candidate, options: ScanOptions) -> ReadFile:
    """Sniff and read one file's header, then hash it if asked (no cache). I/O failures become findings."""
    from lbom._read_pipeline import read_uncached

    return read_uncached(candidate, options)


def _iter_read(candidates: list[Candidate], options: ScanOptions, cache: ScanCache | None) -> Iterator[ReadFile]:
    """Read (and hash) every candidate, in parallel and through ``cache``, yielding in candidate order."""
    from lbom._read_pipeline import read_all

    return read_all(candidates, options, cache)


def scan(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    hash: bool = True,
    options: ScanOptions | None = None,
) -> ScanResult:
    """Scan files and directories and return the models found in them.

    ``paths`` is one path or a list. Raises :class:`~lbom.errors.InputError` only when a given path cannot be
    read at all; everything wrong inside files becomes findings in the result.

    A path may also be remote: ``https://host/model.gguf`` or ``hf://org/repo[@revision][/file]``. Then only
    header bytes are fetched (HTTP Range requests); ``hash`` does not apply, ``options.remote_hash`` streams whole
    files to hash them (see :mod:`lbom._remote.read_remote`). A remote target that cannot be fetched raises
    :class:`~lbom.errors.RemoteError`.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    path_list = [os.fspath(p) for p in paths]
    if options is None:
        options = ScanOptions(hash=hash)
    elif not hash:
        options = ScanOptions(**{**options.__dict__, "hash": False})
    from lbom._stores.plan import plan_store_scan

    remote_paths = [p for p in path_list if _is_remote(p)]
    local_paths = [p for p in path_list if not _is_remote(p)]
    found, store_plan = plan_store_scan(discover(local_paths), local_paths)
    findings = list(found.findings)
    allowed = _confinement(options.confine_to)
    if allowed is not None:
        kept = []
        for candidate in found.candidates:
            if allowed(candidate.real_path):
                kept.append(candidate)
            else:
                findings.append(_outside_finding(candidate.display_path))
        found.candidates[:] = kept
    read_text = _confined_reader(allowed) if allowed is not None else None
    single_file = len(path_list) == 1 and len(found.candidates) == 1 and not os.path.isdir(path_list[0])
    remote_models: list[ModelArtifact] = []
    for target in remote_paths:
        from lbom._remote.read_remote import read_remote_target

        remote = read_remote_target(target, options)
        findings.extend(remote.findings)
        remote_models.extend(remote.models)
        single_file = single_file or (len(path_list) == 1 and remote.single_file)
    # One cache connection for the headers and the chat-template memo: a second one would pay its own open and,
    # closing last, its own checkpoint (four fsyncs on a new cache).
    cache_dir = cache_directory(options, path_list)
    cache = _open_scan_cache(cache_dir, options)
    try:
        return _scan_local(
            found, store_plan, findings, options, path_list, read_text, single_file, remote_models, cache_dir, cache
        )
    finally:
        if cache is not None:
            cache.close()


def _scan_local(
    found: _Discovery,
    store_plan: StorePlan,
    findings: list[Finding],
    options: ScanOptions,
    path_list: list[str],
    read_text: TextLoader | None,
    single_file: bool,
    remote_models: list[ModelArtifact],
    cache_dir: str | None,
    cache: ScanCache | None,
) -> ScanResult:
    """The local part of :func:`scan`: read the candidates, then assemble models, through one cache."""
    from lbom._assemble import assemble_models
    from lbom._checks import CheckContext
    from lbom._stores.plan import enrich
    from lbom._version import tool_version

    read_files: list[ReadFile] = []
    for read_file in _iter_read(found.candidates, options, cache):
        findings.extend(read_file.findings)
        if read_file.header is None:
            named_like = _model_suffix(read_file.candidate.display_path)
            if (single_file or named_like) and not read_file.findings:
                findings.append(_not_a_model(read_file.candidate, named_like))
            elif options.list_unknown and not read_file.findings:
                findings.append(
                    Finding(
                        R_NOT_MODEL,
                        Severity.INFO,
                        "not a model file (listed by --all)",
                        read_file.candidate.display_path,
                    )
                )
            continue
        read_files.append(read_file)
    read_files = enrich(read_files, store_plan, options)
    sidecars = _sidecars_for(read_files, found.directories, options.limits, read_text)
    # Multi-file models are grouped only when folders were scanned: a single shard stays a single file.
    directories = None if single_file else found.directories
    with _template_memo(cache_dir, options.rehash, cache) as memo:
        local_models = assemble_models(
            read_files, sidecars, directories, options.limits, read_text, context=CheckContext(template_memo=memo)
        )
    models = sorted(local_models + remote_models, key=lambda m: m.path)
    findings = _without_listed_model_files(findings, models)
    return ScanResult(
        models=tuple(models),
        roots=tuple(path_list),
        generated_at=source_date(),
        tool_version=tool_version(),
        findings=tuple(sorted(findings, key=Finding.sort_key)),
        hashed=options.hash,
        single_file=single_file,
        confine_to=tuple(options.confine_to),
    )


@contextlib.contextmanager
def _template_memo(directory: str | None, refresh: bool, cache: ScanCache | None) -> Iterator[TemplateMemo | None]:
    """The cache's chat-template memo in the scan's cache ``directory`` (None without one: see
    :func:`cache_directory`), refreshed by ``--rehash``, on the scan cache's connection when there is one."""
    if directory is None:
        yield None
        return
    from lbom._cache import TemplateMemo

    with TemplateMemo(directory, refresh=refresh, shared=cache) as memo:
        yield memo


def _open_scan_cache(directory: str | None, options: ScanOptions) -> ScanCache | None:
    """The scan cache in ``directory`` (None without one: see :func:`cache_directory`), or None when it cannot be
    opened."""
    if directory is None:
        return None
    from lbom._cache import open_cache

    return open_cache(directory, options.limits)


def cache_directory(options: ScanOptions, roots: Sequence[str]) -> str | None:
    """Where this scan's cache lives, or None when it has none (``--no-cache``, or the folder would be inside a
    scanned one: l-bom never writes into the folders it scans)."""
    if not options.cache:
        return None
    from lbom._cache import default_cache_dir, is_inside

    directory = options.cache_dir or default_cache_dir()
    return None if is_inside(directory, roots) else directory


def _is_remote(path: str) -> bool:
    return path.lower().startswith(("hf://", "https://", "http://"))


def _without_listed_model_files(findings: list[Finding], models: Sequence[ModelArtifact]) -> list[Finding]:
    """``--all`` lists files that are not models; an index or sidecar a model was built from is not one of them."""
    used = {f.path for model in models for f in model.files}
    for model in models:
        if model.sidecars is not None:
            directory = os.path.dirname(model.files[0].path) if model.files else ""
            used.update(os.path.join(directory, name) for name in model.sidecars.files)
    return [f for f in findings if not (f.rule_id == R_NOT_MODEL and f.file in used)]


def within(real: str, real_root: str) -> bool:
    """Whether the real path ``real`` is ``real_root`` or lies below it (both already resolved with realpath).
    The one containment test behind the GUI's and the MCP server's roots, confined scans and the cache's refusal
    to live in a scanned folder."""
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def _confinement(roots: Sequence[str]) -> Callable[[str], bool] | None:
    """Whether a path's real location lies in one of ``roots`` (None: no confinement)."""
    if not roots:
        return None
    real_roots = [os.path.realpath(root) for root in roots]

    def allowed(path: str) -> bool:
        real = os.path.realpath(path)
        return any(within(real, root) for root in real_roots)

    return allowed


def _outside_finding(display: str, what: str = "skipped") -> Finding:
    return Finding(
        R_OUTSIDE,
        Severity.MEDIUM,
        f"{what}: it leads outside the folders this scan may read (a symlink?)",
        display,
        remedy="scan the link's target folder itself to include it",
    )


def _confined_reader(allowed: Callable[[str], bool]) -> TextLoader:
    """The capped text reader for sidecars and shard indexes, refusing files that lead outside the roots."""
    from lbom._formats.hf_sidecar import _read_capped

    def read(path: str, limits: Limits, sink: FindingSink, name: str) -> str | None:
        if not allowed(path):
            sink.found.append(_outside_finding(printable_path(path), f"{name} not read"))
            return None
        return _read_capped(path, limits, sink, name)

    return read


def _sidecars_for(
    read_files: list[ReadFile],
    directories: dict[str, set[str]],
    limits: Limits,
    read_text: TextLoader | None = None,
) -> dict[str, SidecarFacts | None]:
    result: dict[str, SidecarFacts | None] = {}
    for read_file in read_files:
        directory = read_file.candidate.directory
        if directory in result:
            continue
        names = directories.get(directory)
        if names is not None and not any(name in names for name in SIDECAR_NAMES):
            result[directory] = None
            continue
        result[directory] = read_sidecars(directory, limits, names, read_text)
    return result


def file_entry(read_file: ReadFile, role: str = "weights") -> FileEntry:
    candidate = read_file.candidate
    return FileEntry(
        path=candidate.display_path,
        relative_path=candidate.relative_path,
        size=candidate.size,
        digests=read_file.digests,
        format=read_file.header.format if read_file.header else None,
        role=role,
        header=read_file.header,
        source=candidate.source,
        bytes_fetched=read_file.bytes_fetched,
    )
