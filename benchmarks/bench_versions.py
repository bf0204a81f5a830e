"""Two (or more) installed l-bom versions, whole-process, in the same minutes: the way to compare releases on a
machine whose speed drifts.

Each version is an ``l-bom`` script in its own virtualenv, for example::

    git worktree add /tmp/lbom-old <commit> && python3 -m venv /tmp/old && /tmp/old/bin/pip install /tmp/lbom-old
    python3 -m venv /tmp/new && /tmp/new/bin/pip install .
    python benchmarks/bench_versions.py old=/tmp/old/bin/l-bom new=/tmp/new/bin/l-bom --runs 15

The versions take turns run after run (so drift falls on all alike) on the benchmark GGUF of
``bench_core.py`` (262,144 tokens, 150,000 merges), for ``scan FILE --no-hash`` without the cache, on a first run
(the default cache on, and empty) and on a repeated run (cache warm). Printed: median and fastest wall time, median
CPU time (user + system, less sensitive to other load), and each version's median against the first one named.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.builders import big_vocab_gguf  # noqa: E402

MODES = ("no cache", "first run", "cache warm")


def command(script: str, path: Path, mode: str, scratch: str, name: str, run: int) -> list[str]:
    base = [script, "scan", str(path), "--no-hash"]
    if mode == "no cache":
        return [*base, "--no-cache"]
    if mode == "first run":
        return [*base, "--cache-dir", os.path.join(scratch, f"{name}-fresh-{run}")]
    return [*base, "--cache-dir", os.path.join(scratch, f"{name}-warm")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("versions", nargs="+", metavar="NAME=PATH", help="an l-bom script, named")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    versions = dict(item.split("=", 1) for item in args.versions)
    path = ROOT / "benchmarks" / ".corpus" / "vocab-262k-merges-150k.gguf"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        big_vocab_gguf(path)
    # Bytecode caching on, as for a user (PYTHONDONTWRITEBYTECODE would time the compiler).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    wall: dict[tuple[str, str], list[float]] = {}
    cpu: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for run in range(-1, args.runs):  # run -1 warms the page cache and writes .pyc files
            for mode in MODES:
                for name, script in versions.items():
                    before = resource.getrusage(resource.RUSAGE_CHILDREN)
                    start = time.perf_counter()
                    subprocess.run(
                        command(script, path, mode, scratch, name, run), check=True, stdout=subprocess.DEVNULL, env=env
                    )
                    elapsed = time.perf_counter() - start
                    after = resource.getrusage(resource.RUSAGE_CHILDREN)
                    if run >= 0:
                        wall.setdefault((mode, name), []).append(elapsed)
                        used = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
                        cpu.setdefault((mode, name), []).append(used)
    first = next(iter(versions))
    print(f"{path.name}: {args.runs} runs each, versions in turns\n")
    print(f"{'command':<12} {'version':<12} {'median':>9} {'fastest':>9} {'CPU median':>11} {'vs ' + first:>10}")
    for mode in MODES:
        base = statistics.median(wall[(mode, first)])
        for name in versions:
            times = wall[(mode, name)]
            median = statistics.median(times)
            print(
                f"{mode:<12} {name:<12} {median * 1000:>6.0f} ms {min(times) * 1000:>6.0f} ms "
                f"{statistics.median(cpu[(mode, name)]) * 1000:>8.0f} ms {median / base:>9.2f}x"
            )


if __name__ == "__main__":
    main()
