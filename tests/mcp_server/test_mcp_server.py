"""The MCP server driven through the official SDK's client over stdio (a real subprocess): tools, calls, refusals."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters

import lbom
from tests.conftest import EXAMPLES

GGUF = EXAMPLES / "tinyllama-q4_k_m.gguf"


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("mcp")
    root = base / "models"
    outside = base / "outside"
    root.mkdir()
    outside.mkdir()
    shutil.copy(GGUF, root / "tiny.gguf")
    shutil.copytree(EXAMPLES / "tiny-mistral", root / "tiny-mistral")
    shutil.copy(GGUF, outside / "secret.gguf")
    (root / "escape.gguf").symlink_to(outside / "secret.gguf")
    (root / "linked-dir").mkdir()
    (root / "linked-dir" / "escape.gguf").symlink_to(outside / "secret.gguf")
    (root / "tiny-mistral.lock").write_text(lbom.lock(root / "tiny-mistral").to_toml())
    shutil.copytree(EXAMPLES / "tiny-mistral", root / "tampered")
    (root / "tampered.lock").write_text(lbom.lock(root / "tampered").to_toml())
    with open(root / "tampered" / "model.safetensors", "r+b") as handle:
        handle.seek(-1, os.SEEK_END)
        handle.write(b"\x01")  # one weight byte changed: same size, same header, different digest
    # A model whose config.json is a symlink to a file outside the root: the server must not read it.
    (root / "leaky").mkdir()
    shutil.copy(EXAMPLES / "tiny-mistral" / "model.safetensors", root / "leaky" / "model.safetensors")
    (outside / "config.json").write_text('{"architectures": ["LeakedArchXyz"], "model_type": "leakedxyz"}')
    (root / "leaky" / "config.json").symlink_to(outside / "config.json")
    (base / "policy.toml").write_text('[formats]\nallow = ["gguf"]\n')
    return {"root": root, "outside": outside, "policy": base / "policy.toml"}


def run_client(args: list[str], body: Callable[[Client], Awaitable[None]], cwd: Path | None = None) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "lbom", "mcp", *args],
        env={"PYTHONPATH": os.pathsep.join(sys.path), "SOURCE_DATE_EPOCH": "1767225600"},
        cwd=str(cwd) if cwd else None,
    )

    async def main() -> None:
        with anyio.fail_after(240):  # generous: the shared CI machine can be very busy
            async with Client(params, mode="legacy") as client:
                await body(client)

    try:
        anyio.run(main)
    except Exception as group:  # the SDK's task groups wrap a failing assertion in groups: show it plainly
        leaf: BaseException = group
        while getattr(leaf, "exceptions", None):
            leaf = leaf.exceptions[0]  # type: ignore[attr-defined]
        raise leaf from None


def structured(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content[0].text
    assert isinstance(result.structured_content, dict)
    return result.structured_content


def error_text(result: Any) -> str:
    assert result.is_error
    text: str = result.content[0].text
    return text


def test_tools_calls_and_refusals(tree: dict[str, Path]) -> None:
    """One server process: the listing, every tool inside the root, and every refusal."""

    async def body(client: Client) -> None:
        await check_listing(client)
        await check_calls(client, tree)
        await check_refusals(client, tree)

    run_client(["--root", str(tree["root"])], body)


async def check_listing(client: Client) -> None:
    listed = await client.list_tools()
    tools = {tool.name: tool for tool in listed.tools}
    assert set(tools) == {"scan_model", "verify_model", "check_model", "list_models"}
    scan = tools["scan_model"]
    assert scan.input_schema["required"] == ["path"]
    assert scan.input_schema["additionalProperties"] is False
    assert scan.input_schema["properties"]["hash"]["type"] == "boolean"
    assert tools["verify_model"].input_schema["properties"]["sha256"]["pattern"] == "^[0-9a-fA-F]{64}$"
    assert all(tool.output_schema and tool.annotations and tool.annotations.read_only_hint for tool in listed.tools)


async def check_calls(client: Client, tree: dict[str, Path]) -> None:
    digest = hashlib.sha256(GGUF.read_bytes()).hexdigest()
    scanned = structured(await client.call_tool("scan_model", {"path": "tiny.gguf"}))
    (document,) = scanned["models"]
    assert document["format"] == "gguf" and document["sha256"] == digest
    assert scanned["hashed"] is True and isinstance(scanned["findings"], list)

    folder = structured(await client.call_tool("scan_model", {"path": str(tree["root"]), "hash": False}))
    assert folder["hashed"] is False
    assert {Path(d["model_path"]).name for d in folder["models"]} == {"tiny.gguf", "model.safetensors"}
    assert len(folder["skipped_outside_roots"]) == 3  # the three symlinks that leave the root were not opened

    leaky = structured(await client.call_tool("scan_model", {"path": "leaky", "hash": False}))
    assert "LeakedArchXyz" not in json.dumps(leaky) and "leakedxyz" not in json.dumps(leaky)
    assert any(f["rule_id"] == "LBOM-SCAN-004" for d in leaky["models"] for f in d["findings"])

    same = structured(await client.call_tool("verify_model", {"path": "tiny.gguf", "sha256": digest.upper()}))
    assert same["match"] is True
    other = structured(await client.call_tool("verify_model", {"path": "tiny.gguf", "sha256": "0" * 64}))
    assert other["match"] is False and other["details"][0]["actual_sha256"] == digest

    listed = structured(await client.call_tool("list_models", {}))
    assert listed["roots"] == [str(tree["root"].resolve())]
    assert sorted(m["format"] for m in listed["models"]) == ["gguf", "safetensors", "safetensors", "safetensors"]
    assert listed["truncated"] is False

    locked = structured(await client.call_tool("verify_model", {"path": "tiny-mistral", "lock": "tiny-mistral.lock"}))
    assert locked["match"] is True and locked["method"] == "lock" and locked["details"] == []
    tampered = structured(await client.call_tool("verify_model", {"path": "tampered", "lock": "tampered.lock"}))
    assert tampered["match"] is False
    assert [(d["kind"], d["path"]) for d in tampered["details"]] == [("changed", "model.safetensors")]

    policy = '[formats]\nallow = ["gguf"]\n'
    denied = structured(await client.call_tool("check_model", {"path": "tiny-mistral", "policy": policy}))
    assert denied["passed"] is False and [v["rule_id"] for v in denied["violations"]] == ["LBOM-POLICY-001"]
    allowed = structured(await client.call_tool("check_model", {"path": "tiny.gguf", "policy": policy}))
    assert allowed["passed"] is True and allowed["models_checked"] == 1


async def check_refusals(client: Client, tree: dict[str, Path]) -> None:
    outside = await client.call_tool("scan_model", {"path": str(tree["outside"] / "secret.gguf")})
    assert "outside the allowed roots" in error_text(outside)
    dotdot = await client.call_tool("scan_model", {"path": "../outside/secret.gguf"})
    assert "outside the allowed roots" in error_text(dotdot)
    link = await client.call_tool("scan_model", {"path": "escape.gguf"})
    assert "outside the allowed roots" in error_text(link)
    url = await client.call_tool("scan_model", {"path": "hf://org/repo"})
    assert "no URLs" in error_text(url)
    bad = await client.call_tool("verify_model", {"path": "tiny.gguf", "sha256": "nothex"})
    assert "invalid arguments" in error_text(bad)
    extra = await client.call_tool("scan_model", {"path": "tiny.gguf", "exec": True})
    assert "invalid arguments" in error_text(extra)
    missing = await client.call_tool("scan_model", {"path": "nope.gguf"})
    assert "no such file" in error_text(missing)
    unknown = await client.call_tool("load_model", {"path": "tiny.gguf"})
    assert unknown.is_error
    both = await client.call_tool("verify_model", {"path": "tiny.gguf", "sha256": "0" * 64, "lock": "x.lock"})
    assert "exactly one of" in error_text(both)
    lock_outside = await client.call_tool("verify_model", {"path": "tiny.gguf", "lock": str(tree["policy"])})
    assert "outside the allowed roots" in error_text(lock_outside)
    typo = await client.call_tool("check_model", {"path": "tiny.gguf", "policy": "[format]\nallow = []"})
    assert "format" in error_text(typo)
    no_policy = await client.call_tool("check_model", {"path": "tiny.gguf"})
    assert "needs a policy" in error_text(no_policy)


def test_per_call_bounds(tree: dict[str, Path]) -> None:
    async def body(client: Client) -> None:
        too_many = await client.call_tool("scan_model", {"path": str(tree["root"])})
        assert "more than the 1 one call may open" in error_text(too_many)
        big_hash = await client.call_tool("scan_model", {"path": "tiny.gguf"})
        assert "exceeds the server's 100-byte limit" in error_text(big_hash)
        header_only = structured(await client.call_tool("scan_model", {"path": "tiny.gguf", "hash": False}))
        assert header_only["models"][0]["sha256"] is None
        listed = structured(await client.call_tool("list_models", {}))
        assert listed["truncated"] is True and len(listed["models"]) <= 1  # one file opened: maybe not a model
        server_policy = structured(await client.call_tool("check_model", {"path": "tiny.gguf", "hash": False}))
        assert server_policy["passed"] is True and server_policy["policy"] == str(tree["policy"])

    args = ["--root", str(tree["root"]), "--max-files", "1", "--max-hash-bytes", "100", "--policy", str(tree["policy"])]
    run_client(args, body)
