"""Core read speed: the GGUF header of a 262,144-token / 150,000-merge model, in-process and as a whole command.

Prints one table of medians and ratios, every figure measured in this run on this machine:

- l-bom's GGUF reader (``lbom._formats.gguf.read``), in-process;
- a naive reader doing one ``read()`` per field and per array element (how the earlier tool worked);
- gguf-py's ``GGUFReader`` (~20 s on such a file; run once; ``--skip-gguf-py`` leaves it out);
- ``l-bom scan FILE --no-hash`` as a whole process, next to ``python -c pass`` (interpreter start-up alone):
  without the cache, on a first run (the default cache on but empty) and on a repeated run (cache warm), the
  processes taking turns so that the machine's drift falls on all alike; median and fastest run.

Run from the repository root: ``python benchmarks/bench_core.py [--runs N] [--skip-gguf-py]``. Targets: the
in-process read <= 100 ms, the whole command <= 0.25 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "benchmarks" / ".corpus"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.builders import big_vocab_gguf  # noqa: E402

from lbom._formats import gguf as gguf_reader  # noqa: E402
from lbom._formats.interface import DEFAULT_LIMITS, LocalFileSource  # noqa: E402

_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}


def naive_read(path: Path) -> dict[str, Any]:
    """The baseline: a file object and one read() per field and per array element, nothing kept in bulk."""

    def read_value(f: BinaryIO, vtype: int) -> Any:
        if vtype == 8:
            (length,) = struct.unpack("<Q", f.read(8))
            return f.read(length).decode("utf-8", "replace")
        if vtype == 9:
            (elem_type,) = struct.unpack("<I", f.read(4))
            (count,) = struct.unpack("<Q", f.read(8))
            return [read_value(f, elem_type) for _ in range(count)]
        fmt = _SCALARS[vtype]
        (value,) = struct.unpack("<" + fmt, f.read(struct.calcsize(fmt)))
        return value

    with path.open("rb") as f:
        assert f.read(4) == b"GGUF"
        (_version,) = struct.unpack("<I", f.read(4))
        (tensor_count,) = struct.unpack("<Q", f.read(8))
        (kv_count,) = struct.unpack("<Q", f.read(8))
        kv: dict[str, Any] = {}
        for _ in range(kv_count):
            key = read_value(f, 8)
            (vtype,) = struct.unpack("<I", f.read(4))
            kv[key] = read_value(f, vtype)
        for _ in range(tensor_count):
            read_value(f, 8)
            (n_dims,) = struct.unpack("<I", f.read(4))
            for _ in range(n_dims):
                f.read(8)
            f.read(4 + 8)
    return kv


def lbom_read(path: Path) -> Any:
    with LocalFileSource(str(path)) as source:
        return gguf_reader.read(source, DEFAULT_LIMITS)


def gguf_py_read(path: Path) -> Any:
    import gguf

    return gguf.GGUFReader(str(path))


def median_seconds(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def process_seconds(commands: dict[str, Callable[[int], list[str]]], runs: int) -> dict[str, list[float]]:
    """Wall seconds of whole processes, the commands taking turns run after run so that the VM's drift from
    minute to minute falls on all of them alike (each gets one untimed run first: page cache, .pyc files)."""
    # Bytecode caching on, as for a user: some shells (and agents) export PYTHONDONTWRITEBYTECODE, which makes
    # every run recompile every module and measures the compiler, not l-bom.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    times: dict[str, list[float]] = {name: [] for name in commands}
    for attempt in range(-1, runs):
        for name, argv in commands.items():
            start = time.perf_counter()
            subprocess.run(argv(attempt), check=True, stdout=subprocess.DEVNULL, env=env)
            if attempt >= 0:
                times[name].append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per measurement (median reported)")
    parser.add_argument("--skip-gguf-py", action="store_true", help="leave out gguf-py's GGUFReader (~20 s)")
    args = parser.parse_args()

    CORPUS.mkdir(parents=True, exist_ok=True)
    path = CORPUS / "vocab-262k-merges-150k.gguf"
    if not path.exists():
        big_vocab_gguf(path)
    header = lbom_read(path)
    assert header.vocab_size == 262_144 and not header.findings, header.findings
    assert len(naive_read(path)["tokenizer.ggml.tokens"]) == 262_144

    rows: list[tuple[str, float, str, float | None]] = []
    # The machine's own speed in this run (shared VMs vary by 2-3x from hour to hour): a fixed pure-Python loop.
    probe = median_seconds(lambda: sum(range(10**7)), 3)
    rows.append(("CPU probe: sum(range(10**7)) (machine speed)", probe, "", None))
    ours = median_seconds(lambda: lbom_read(path), args.runs)
    rows.append(("l-bom GGUF header read (in-process)", ours, "<= 0.100 s", None))
    naive = median_seconds(lambda: naive_read(path), 3)
    rows.append(("naive reader, one read() per field/element", naive, "", None))
    if not args.skip_gguf_py:
        rows.append(("gguf-py GGUFReader (1 run)", median_seconds(lambda: gguf_py_read(path), 1), "", None))
    # The installed console script, as a user runs it (``python -m lbom`` adds runpy's own start-up).
    script = Path(sys.executable).with_name("l-bom")
    command = [str(script) if script.exists() else "l-bom", "scan", str(path), "--no-hash"]
    with tempfile.TemporaryDirectory() as scratch:
        warm_cache = os.path.join(scratch, "warm")
        processes = process_seconds(
            {
                "python -c pass (interpreter start-up)": lambda _: [sys.executable, "-c", "pass"],
                "l-bom scan FILE --no-hash --no-cache (process)": lambda _: [*command, "--no-cache"],
                # The command as a user first runs it: the default cache on, and empty.
                "l-bom scan FILE --no-hash, first run (process)": lambda run: [
                    *command,
                    "--cache-dir",
                    os.path.join(scratch, f"fresh-{run}"),
                ],
                "l-bom scan FILE --no-hash, cache warm (process)": lambda _: [*command, "--cache-dir", warm_cache],
            },
            args.runs,
        )
    for name, seconds in processes.items():
        rows.append((name, statistics.median(seconds), "" if "pass" in name else "<= 0.250 s", min(seconds)))

    print(f"file: {path.name}, {path.stat().st_size / 2**20:.1f} MiB; medians of {args.runs} runs unless noted\n")
    # "vs naive" stands in for the earlier tool (it read one field or element per read() call too, and took
    # 1.3 s where the target is 0.25 s: a ratio of 0.19).
    print(f"{'measurement':<48} {'median':>10} {'fastest':>10} {'vs l-bom read':>14} {'vs naive':>9}  target")
    for name, seconds, target, fastest in rows:
        low = f"{fastest * 1000:>7.1f} ms" if fastest is not None else " " * 10
        print(f"{name:<48} {seconds * 1000:>7.1f} ms {low} {seconds / ours:>13.1f}x {seconds / naive:>8.2f}x  {target}")


if __name__ == "__main__":
    main()
