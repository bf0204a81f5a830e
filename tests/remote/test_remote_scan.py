"""Remote header-only scans against loopback servers: what is fetched, what is reported, what is refused."""

from __future__ import annotations

import hashlib
import json
import shutil
import ssl
import struct
import subprocess
from pathlib import Path

import pytest

import lbom
from lbom._remote.http import HttpRangeSource, RemoteSettings
from lbom._remote.hub import parse_hf_uri
from lbom.errors import RemoteError, UsageError
from lbom.scan import ScanOptions
from tests.builders import gguf_string, raw_gguf
from tests.conftest import EXAMPLES
from tests.remote.fake_servers import ServerState, serve, sparse_gguf

TINY_GGUF = EXAMPLES / "tinyllama-q4_k_m.gguf"
TINY_ST = EXAMPLES / "tiny-mistral" / "model.safetensors"
LARGE_SIZE = 512 * 1024 * 1024


def fast(**kwargs: object) -> ScanOptions:
    """Options whose retries do not sleep, so failure tests stay fast."""
    settings = RemoteSettings(timeout=30, sleep=lambda _s: None)
    return ScanOptions(remote=settings, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def large_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 512 MiB GGUF (sparse on disk) with a 32k-token vocabulary and one huge F32 tensor."""
    tokens = b"".join(gguf_string(f"tok{i}") for i in range(32_000))
    kvs = [
        ("general.architecture", 8, gguf_string("llama")),
        ("general.name", 8, gguf_string("large-remote")),
        ("llama.context_length", 4, struct.pack("<I", 8192)),
        ("tokenizer.ggml.tokens", 9, struct.pack("<IQ", 8, 32_000) + tokens),
    ]
    head = raw_gguf(kvs, [("w", [1], 0, 0)])
    data_start = len(head) + (-len(head)) % 32
    elements = (LARGE_SIZE - data_start) // 4
    head = raw_gguf(kvs, [("w", [elements], 0, 0)])
    assert len(head) + (-len(head)) % 32 == data_start
    return sparse_gguf(tmp_path_factory.mktemp("large") / "large.gguf", head, data_start + elements * 4)


def test_url_scan_reads_the_header_like_a_local_scan() -> None:
    state = ServerState(files={"m.gguf": TINY_GGUF.read_bytes()})
    with serve(state) as base:
        remote = lbom.scan(f"{base}/m.gguf", options=fast())
    local = lbom.scan(str(TINY_GGUF), hash=False)
    (model,) = remote.models
    (expected,) = local.models
    assert remote.single_file
    assert (model.format, model.quantization, model.parameter_count, model.architecture) == (
        expected.format,
        expected.quantization,
        expected.parameter_count,
        expected.architecture,
    )
    (entry,) = model.files
    assert entry.sha256 is None and entry.bytes_fetched == state.bytes_sent == TINY_GGUF.stat().st_size
    assert model.source is not None and model.source.kind == "url" and model.source.url == f"{base}/m.gguf"
    assert all(r[1] is not None and r[1].startswith("bytes=") for r in state.requests)


def test_large_model_fetches_under_one_percent(large_gguf: Path) -> None:
    state = ServerState(files={"large.gguf": large_gguf})
    with serve(state) as base:
        result = lbom.scan(f"{base}/large.gguf", options=fast())
    (model,) = result.models
    (entry,) = model.files
    assert model.name == "large-remote" and model.vocab_size == 32_000
    assert entry.size == LARGE_SIZE
    assert entry.bytes_fetched is not None and entry.bytes_fetched == state.bytes_sent
    assert entry.bytes_fetched < LARGE_SIZE / 100
    assert not [f for f in model.findings if f.rule_id.startswith("LBOM-REMOTE")]


def test_safetensors_reads_eight_bytes_then_the_header() -> None:
    state = ServerState(files={"model.safetensors": TINY_ST.read_bytes()})
    with serve(state) as base:
        result = lbom.scan(f"{base}/model.safetensors", options=fast())
    (model,) = result.models
    assert model.format == "safetensors" and model.parameter_count == 1552


def test_full_hash_only_when_asked() -> None:
    data = TINY_GGUF.read_bytes()
    state = ServerState(files={"m.gguf": data})
    with serve(state) as base:
        result = lbom.scan(f"{base}/m.gguf", options=fast(remote_hash=True))
    (entry,) = result.models[0].files
    assert entry.sha256 == hashlib.sha256(data).hexdigest()
    assert entry.bytes_fetched == state.bytes_sent == 2 * len(data)


def test_full_hash_with_extra_digests() -> None:
    import blake3

    data = TINY_GGUF.read_bytes()
    with serve(ServerState(files={"m.gguf": data})) as base:
        result = lbom.scan(f"{base}/m.gguf", options=fast(remote_hash=True, digests=("sha256", "blake3")))
    digests = {d.algorithm: d.hex for d in result.models[0].files[0].digests}
    assert digests == {"sha256": hashlib.sha256(data).hexdigest(), "blake3": blake3.blake3(data).hexdigest()}


def test_server_without_range_support_needs_consent(large_gguf: Path) -> None:
    state = ServerState(files={"large.gguf": large_gguf}, behaviour="no-range")
    with serve(state) as base:
        with pytest.raises(RemoteError, match="--allow-full-download"):
            lbom.scan(f"{base}/large.gguf", options=fast())
        result = lbom.scan(f"{base}/large.gguf", options=fast(allow_full_download=True))
    (entry,) = result.models[0].files
    assert result.models[0].vocab_size == 32_000
    assert entry.bytes_fetched is not None and entry.bytes_fetched < LARGE_SIZE / 100


@pytest.mark.parametrize(
    ("behaviour", "rule"),
    [("lying-range", "LBOM-REMOTE-001"), ("short-body", "LBOM-REMOTE-002"), ("size-changes", "LBOM-REMOTE-003")],
)
def test_misbehaving_servers_become_findings(large_gguf: Path, behaviour: str, rule: str) -> None:
    state = ServerState(files={"large.gguf": large_gguf}, behaviour=behaviour)
    with serve(state) as base:
        result = lbom.scan(f"{base}/large.gguf", options=fast())
    (model,) = result.models
    found = {f.rule_id: f for f in model.findings}
    severity = lbom.Severity.HIGH if behaviour == "size-changes" else lbom.Severity.MEDIUM
    assert rule in found and found[rule].severity is severity
    if behaviour == "short-body":
        # The half that did arrive is kept: here it happens to hold the whole header.
        assert model.files[0].bytes_fetched == state.bytes_sent
    else:
        # Nothing from the bad response is used: the reader sees a short read and reports a truncated header.
        assert "LBOM-GGUF-001" in found and model.vocab_size is None


def test_a_body_cut_short_once_is_resumed_not_reported(large_gguf: Path) -> None:
    """The connection drops in the middle of a range response: the rest is asked for again, and the header is
    read whole, with every byte that went over the wire counted."""
    state = ServerState(files={"large.gguf": large_gguf}, behaviour="short-body-once")
    with serve(state) as base:
        result = lbom.scan(f"{base}/large.gguf", options=fast())
    (model,) = result.models
    assert state.cut_done
    assert not [f for f in model.findings if f.rule_id in ("LBOM-REMOTE-002", "LBOM-GGUF-001")], model.findings
    assert model.vocab_size is not None
    assert model.files[0].bytes_fetched == state.bytes_sent


def test_retries_with_exponential_backoff() -> None:
    waits: list[float] = []
    state = ServerState(files={"m.gguf": TINY_GGUF.read_bytes()}, behaviour="fail-first", fail_first=2)
    settings = RemoteSettings(retries=3, backoff=0.25, sleep=waits.append)
    with serve(state) as base:
        result = lbom.scan(f"{base}/m.gguf", options=ScanOptions(remote=settings))
        assert result.models[0].format == "gguf"
        assert waits == [0.25, 0.5]
        state.requests.clear()
        state.fail_first = 10
        with pytest.raises(RemoteError, match="HTTP 503"):
            lbom.scan(f"{base}/m.gguf", options=ScanOptions(remote=settings))


def test_connection_refused_is_one_clear_error() -> None:
    state = ServerState()
    with serve(state) as base:
        pass  # the port is closed again: nothing listens there any more
    with pytest.raises(RemoteError, match="connection refused"):
        lbom.scan(f"{base}/m.gguf", options=fast())


def test_http_redirect_to_http_is_followed() -> None:
    state = ServerState(files={"m.gguf": TINY_GGUF.read_bytes()}, behaviour="redirect")
    with serve(state) as base:
        result = lbom.scan(f"{base}/m.gguf", options=fast())
    assert result.models[0].format == "gguf"
    assert any(path.startswith("/moved/") for path, _r, _a in state.requests)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a loopback certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def test_https_redirect_to_http_is_refused(tls: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = tls
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    plain = ServerState(files={"m.gguf": TINY_GGUF.read_bytes()})
    with serve(plain) as http_base:
        secure = ServerState(files={"m.gguf": TINY_GGUF.read_bytes()}, behaviour="redirect-http", redirect_to=http_base)
        with serve(secure, context) as https_base:
            with pytest.raises(RemoteError, match=r"refusing a redirect from https:// to http://"):
                lbom.scan(f"{https_base}/m.gguf", options=fast())
            secure.behaviour = "range"
            assert lbom.scan(f"{https_base}/m.gguf", options=fast()).models[0].format == "gguf"
    assert plain.requests == []


def test_cap_on_bytes_per_file_is_a_finding(large_gguf: Path) -> None:
    state = ServerState(files={"large.gguf": large_gguf})
    limits = lbom.Limits(max_remote_bytes=100_000)
    with serve(state) as base:
        result = lbom.scan(f"{base}/large.gguf", options=fast(limits=limits))
    (model,) = result.models
    assert "LBOM-REMOTE-004" in {f.rule_id for f in model.findings}
    assert model.files[0].bytes_fetched is not None and model.files[0].bytes_fetched <= 100_000


def test_source_serves_cached_prefix_without_new_requests() -> None:
    state = ServerState(files={"m.gguf": TINY_GGUF.read_bytes()})
    with serve(state) as base:
        source = HttpRangeSource(f"{base}/m.gguf", RemoteSettings(), 10_000_000)
        first = source.read_at(0, 100)
        again = source.read_at(10, 20)
    assert again == first[10:30]
    assert len(state.requests) == 1


# --- Hugging Face Hub -------------------------------------------------------------------------------------------

SHA = "0123456789abcdef0123456789abcdef01234567"


def _safetensors(tensors: dict[str, tuple[str, list[int]]]) -> bytes:
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, (dtype, shape) in tensors.items():
        count = 1
        for dim in shape:
            count *= dim
        size = count * {"F16": 2, "F32": 4}[dtype]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + b"\0" * offset


def _hub_state(files: dict[str, bytes], lfs: set[str]) -> ServerState:
    siblings = []
    for name, data in sorted(files.items()):
        sibling: dict[str, object] = {"rfilename": name, "size": len(data)}
        if name in lfs:
            sibling["lfs"] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
        siblings.append(sibling)
    return ServerState(files=files, hub={"repo": "acme/tiny", "sha": SHA, "siblings": siblings})


@pytest.fixture
def sharded_repo() -> dict[str, bytes]:
    return {
        "model-00001-of-00002.safetensors": _safetensors({"a": ("F16", [4, 8]), "b": ("F16", [8])}),
        "model-00002-of-00002.safetensors": _safetensors({"c": ("F32", [16])}),
        "model.safetensors.index.json": json.dumps(
            {
                "metadata": {"total_size": 4 * 8 * 2 + 8 * 2 + 16 * 4},
                "weight_map": {
                    "a": "model-00001-of-00002.safetensors",
                    "b": "model-00001-of-00002.safetensors",
                    "c": "model-00002-of-00002.safetensors",
                },
            }
        ).encode(),
        "config.json": (EXAMPLES / "tiny-mistral" / "config.json").read_bytes(),
        "README.md": (EXAMPLES / "tiny-mistral" / "README.md").read_bytes(),
        "notes.txt": b"not a model",
    }


def test_hub_repo_is_one_logical_model_with_expected_digests(
    sharded_repo: dict[str, bytes], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HF_TOKEN_PATH", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    (tmp_path / "token").write_text("hf_secret_from_file\n")
    lfs = {n for n in sharded_repo if n.endswith(".safetensors")}
    state = _hub_state(sharded_repo, lfs)
    with serve(state) as base:
        monkeypatch.setenv("HF_ENDPOINT", base)
        result = lbom.scan("hf://acme/tiny", options=fast())
    (model,) = result.models
    assert model.path == "hf://acme/tiny/model.safetensors.index.json"
    assert [(f.relative_path, f.role) for f in model.files] == [
        ("model-00001-of-00002.safetensors", "shard"),
        ("model-00002-of-00002.safetensors", "shard"),
        ("model.safetensors.index.json", "index"),
    ]
    assert model.parameter_count == 4 * 8 + 8 + 16 and model.tensor_count == 3
    assert not [f for f in model.findings if f.rule_id.startswith("LBOM-SHARD")]
    assert model.architecture == "MistralForCausalLM" and model.license == "mit"  # from the remote sidecars
    assert model.source is not None and model.source.purl is not None
    assert model.source.purl.startswith(f"pkg:huggingface/acme/tiny@{SHA}")
    assert model.source.file_path == "model.safetensors.index.json"
    for entry in model.files[:2]:
        assert entry.source is not None and entry.sha256 is None
        assert entry.source.expected_sha256 == hashlib.sha256(sharded_repo[entry.relative_path]).hexdigest()
        assert entry.source.revision == SHA and entry.bytes_fetched is not None
    assert not any(path.endswith("notes.txt") for path, _r, _a in state.requests)
    assert all(auth == "Bearer hf_secret_from_file" for _p, _r, auth in state.requests)
    assert any(f"/resolve/{SHA}/" in path for path, _r, _a in state.requests)


def test_hub_single_file_with_revision_and_full_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    data = TINY_GGUF.read_bytes()
    state = _hub_state({"q4/model.gguf": data}, {"q4/model.gguf"})
    with serve(state) as base:
        monkeypatch.setenv("HF_ENDPOINT", base)
        result = lbom.scan("hf://acme/tiny@v1.0/q4/model.gguf", options=fast(remote_hash=True))
    assert result.single_file
    (entry,) = result.models[0].files
    assert entry.source is not None
    assert entry.sha256 == entry.source.expected_sha256 == hashlib.sha256(data).hexdigest()
    assert state.requests[0][0].startswith("/api/models/acme/tiny/revision/v1.0")


def test_hub_digest_mismatch_is_critical(monkeypatch: pytest.MonkeyPatch) -> None:
    data = TINY_GGUF.read_bytes()
    state = _hub_state({"model.gguf": data}, {"model.gguf"})
    assert state.hub is not None
    state.hub["siblings"][0]["lfs"]["sha256"] = "f" * 64
    with serve(state) as base:
        monkeypatch.setenv("HF_ENDPOINT", base)
        result = lbom.scan("hf://acme/tiny/model.gguf", options=fast(remote_hash=True))
    critical = [f for f in result.models[0].findings if f.rule_id == "LBOM-REMOTE-005"]
    assert critical and critical[0].severity is lbom.Severity.CRITICAL


def test_token_is_not_sent_to_a_redirect_target_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    data = TINY_GGUF.read_bytes()
    cdn = ServerState(files={"model.gguf": data})
    hub = _hub_state({"model.gguf": data}, {"model.gguf"})
    hub.files = {}  # the hub only redirects; the bytes come from the "CDN"
    monkeypatch.setenv("HF_TOKEN", "hf_tok")
    with serve(cdn) as cdn_base:
        hub.behaviour = "redirect-cdn"
        hub.redirect_to = cdn_base
        with serve(hub) as hub_base:
            monkeypatch.setenv("HF_ENDPOINT", hub_base)
            result = lbom.scan("hf://acme/tiny/model.gguf", options=fast())
    assert result.models[0].format == "gguf"
    assert cdn.requests and all(auth is None for _p, _r, auth in cdn.requests)
    assert all(auth == "Bearer hf_tok" for _p, _r, auth in hub.requests)


def test_missing_repo_is_an_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    state = _hub_state({}, set())
    with serve(state) as base:
        monkeypatch.setenv("HF_ENDPOINT", base)
        with pytest.raises(RemoteError, match="not found"):
            lbom.scan("hf://acme/other", options=fast())


@pytest.mark.parametrize(
    ("uri", "repo", "revision", "path"),
    [
        ("hf://org/name", "org/name", "main", None),
        ("hf://org/name@abc/dir/f.gguf", "org/name", "abc", "dir/f.gguf"),
        ("hf://org/name@refs%2Fpr%2F1", "org/name", "refs/pr/1", None),
    ],
)
def test_parse_hf_uri(uri: str, repo: str, revision: str, path: str | None) -> None:
    target = parse_hf_uri(uri)
    assert (target.repo_id, target.revision, target.path) == (repo, revision, path)


@pytest.mark.parametrize("uri", ["hf://org", "hf://org/na me", "hf://org/name/../x", "hf://org/name@"])
def test_bad_hf_uris_are_usage_errors(uri: str) -> None:
    with pytest.raises(UsageError):
        parse_hf_uri(uri)


def test_hub_repo_with_a_missing_shard_is_reported(
    sharded_repo: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    del sharded_repo["model-00002-of-00002.safetensors"]
    state = _hub_state(sharded_repo, {"model-00001-of-00002.safetensors"})
    with serve(state) as base:
        monkeypatch.setenv("HF_ENDPOINT", base)
        result = lbom.scan("hf://acme/tiny", options=fast())
    (model,) = result.models
    missing = [f for f in model.findings if f.rule_id == "LBOM-SHARD-002"]
    assert missing and "model-00002-of-00002.safetensors" in missing[0].message


def test_local_and_remote_paths_in_one_scan() -> None:
    state = ServerState(files={"m.gguf": TINY_GGUF.read_bytes()})
    with serve(state) as base:
        result = lbom.scan([str(EXAMPLES / "tiny-mistral"), f"{base}/m.gguf"], options=fast())
    assert not result.single_file
    assert sorted(m.format for m in result.models) == ["gguf", "safetensors"]
    remote = next(m for m in result.models if m.format == "gguf")
    assert remote.files[0].bytes_fetched is not None
    local = next(m for m in result.models if m.format == "safetensors")
    assert local.files[0].bytes_fetched is None and local.files[0].sha256 is not None


def test_a_hub_repo_whose_every_model_file_fails_is_an_error_not_an_empty_pass(
    sharded_repo: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    state = _hub_state(sharded_repo, {n for n in sharded_repo if n.endswith(".safetensors")})
    for name in [n for n in state.files if n.endswith(".safetensors")]:
        del state.files[name]  # listed by the hub, but every download fails
    with serve(state) as base:
        monkeypatch.setenv("HF_ENDPOINT", base)
        with pytest.raises(lbom.errors.RemoteError, match="no model file could be fetched") as info:
            lbom.scan("hf://acme/tiny", options=fast())
    assert info.value.exit_code == 3
    assert "and 1 more" in str(info.value)
