"""lbom._deferred: an import binds a stand-in that brings the real module in on first use, and nothing else
sees the stand-in."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lbom._deferred import Deferred, builtins_binding, deferring, stand_in


@pytest.fixture
def modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "lbomtest_heavy.py").write_text("LOADS = []\nLOADS.append(1)\nVALUE = 42\n")
    (tmp_path / "lbomtest_importer.py").write_text("import lbomtest_heavy\n")
    (tmp_path / "lbomtest_eager.py").write_text("import lbomtest_heavy\nSEEN = lbomtest_heavy.VALUE\n")
    (tmp_path / "lbomtest_from.py").write_text("from lbomtest_heavy import double\n")
    (tmp_path / "lbomtest_heavy.py").write_text(
        "LOADS = []\nLOADS.append(1)\nVALUE = 42\ndef double(x, *, times=2):\n    return x * times\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in ("lbomtest_heavy", "lbomtest_importer", "lbomtest_eager", "lbomtest_from"):
        sys.modules.pop(name, None)


def test_the_importer_binds_a_stand_in_that_loads_the_module_on_first_use(modules: Path) -> None:
    with deferring("lbomtest_heavy"):
        import lbomtest_importer  # type: ignore[import-not-found]
    assert "lbomtest_heavy" not in sys.modules  # not loaded, and the stand-in is gone
    stand_in = lbomtest_importer.lbomtest_heavy
    assert isinstance(stand_in, Deferred)
    assert stand_in.VALUE == 42
    real = sys.modules["lbomtest_heavy"]
    assert not isinstance(real, Deferred) and real.LOADS == [1]  # loaded once
    real.VALUE = 43  # reads are passed on each time, never a stale copy
    assert stand_in.VALUE == 43
    with pytest.raises(AttributeError):
        _ = stand_in.missing


def test_later_importers_get_the_real_module(modules: Path) -> None:
    with deferring("lbomtest_heavy"):
        import lbomtest_importer  # noqa: F401
    import lbomtest_heavy  # type: ignore[import-not-found]

    assert not isinstance(lbomtest_heavy, Deferred) and lbomtest_heavy.VALUE == 42


def test_a_read_inside_the_block_loads_the_real_module_for_everyone(modules: Path) -> None:
    with deferring("lbomtest_heavy"):
        import lbomtest_eager  # type: ignore[import-not-found]

        assert not isinstance(sys.modules["lbomtest_heavy"], Deferred)
    assert lbomtest_eager.SEEN == 42
    assert sys.modules["lbomtest_heavy"].LOADS == [1]


def test_a_from_import_of_a_named_function_loads_the_module_when_it_is_called(modules: Path) -> None:
    with deferring("lbomtest_heavy", functions=("double",)):
        import lbomtest_from  # type: ignore[import-not-found]
    assert "lbomtest_heavy" not in sys.modules
    assert lbomtest_from.double.__name__ == "double"
    assert lbomtest_from.double(21) == 42 and lbomtest_from.double(2, times=5) == 10
    assert sys.modules["lbomtest_heavy"].LOADS == [1]


def test_a_from_import_of_any_other_name_loads_the_module_at_once(modules: Path) -> None:
    with deferring("lbomtest_heavy"):
        import lbomtest_from

        assert not isinstance(sys.modules["lbomtest_heavy"], Deferred)
    assert lbomtest_from.double(1) == 2


def test_a_named_function_called_inside_the_block_does_not_recurse(modules: Path) -> None:
    with deferring("lbomtest_heavy", functions=("double",)):
        import lbomtest_from

        assert lbomtest_from.double(4) == 8  # the stand-in leaves sys.modules, the real module is imported
        assert not isinstance(sys.modules["lbomtest_heavy"], Deferred)
    assert sys.modules["lbomtest_heavy"].LOADS == [1]


def test_threads_reading_a_first_attribute_at_once_load_the_module_once(modules: Path) -> None:

    (modules / "lbomtest_counted.py").write_text(
        "import sys\nsys.modules['lbomtest_heavy'].__dict__.setdefault('RUNS', []).append(1)\nVALUE = 7\n"
    )
    counter = sys.modules.setdefault("lbomtest_heavy", __import__("lbomtest_heavy"))
    failures: list[BaseException] = []
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns between almost any two bytecodes: races show
    try:
        _race_rounds(failures)
    finally:
        sys.setswitchinterval(interval)
    assert failures == []
    assert len(counter.RUNS) == 150  # each round's module ran once, however many threads read at once
    sys.modules.pop("lbomtest_counted", None)


def _race_rounds(failures: list[BaseException]) -> None:
    import threading

    for _ in range(150):
        sys.modules.pop("lbomtest_counted", None)
        stand = stand_in("lbomtest_counted")
        sys.modules["lbomtest_counted"] = stand  # as deferring() leaves it until the block ends
        start = threading.Barrier(4)
        seen: list[object] = []

        def read(stand: Deferred = stand, start: threading.Barrier = start, seen: list[object] = seen) -> None:
            start.wait()
            try:
                seen.append(stand.VALUE)
            except BaseException as exc:  # a KeyError from two threads removing the stand-in, say
                failures.append(exc)

        threads = [threading.Thread(target=read) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert seen == [7] * len(seen)


def test_nothing_goes_into_sys_modules_while_another_thread_runs(modules: Path) -> None:
    import threading

    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        with deferring("lbomtest_heavy"):
            assert "lbomtest_heavy" not in sys.modules
            import lbomtest_importer
    finally:
        release.set()
        other.join()
    assert not isinstance(lbomtest_importer.lbomtest_heavy, Deferred)


def test_builtins_binding_hands_the_stand_in_to_that_module_only(modules: Path) -> None:
    import importlib.util

    path = modules / "lbomtest_private.py"
    path.write_text("import lbomtest_heavy\nfrom lbomtest_heavy import double\nimport json\n")
    spec = importlib.util.spec_from_file_location("lbomtest_private", path)
    assert spec is not None and spec.loader is not None
    private = importlib.util.module_from_spec(spec)
    private.__dict__["__builtins__"] = builtins_binding({"lbomtest_heavy": stand_in("lbomtest_heavy", ("double",))})
    spec.loader.exec_module(private)
    assert isinstance(private.lbomtest_heavy, Deferred) and private.json is sys.modules["json"]
    assert "lbomtest_heavy" not in sys.modules  # never there: other importers could not have seen the stand-in
    import lbomtest_importer

    assert not isinstance(lbomtest_importer.lbomtest_heavy, Deferred)
    assert private.double(5) == 10 and private.lbomtest_heavy.VALUE == 42
    assert sys.modules["lbomtest_heavy"].LOADS == [1]


def test_nothing_is_done_for_a_module_already_imported(modules: Path) -> None:
    import lbomtest_heavy

    with deferring("lbomtest_heavy"):
        assert sys.modules["lbomtest_heavy"] is lbomtest_heavy
        import lbomtest_importer
    assert lbomtest_importer.lbomtest_heavy is lbomtest_heavy


def test_the_stand_in_leaves_even_when_the_block_fails(modules: Path) -> None:
    with pytest.raises(RuntimeError), deferring("lbomtest_heavy"):
        raise RuntimeError("boom")
    assert "lbomtest_heavy" not in sys.modules


PROBE = """
import sys
import lbom
dataclasses = sys.modules["dataclasses"]
loaded_by_import = "inspect" in sys.modules
@dataclasses.dataclass
class NoDoc:
    x: int
print(loaded_by_import, type(dataclasses.inspect).__name__, NoDoc.__doc__)
"""


def test_dataclasses_uses_inspect_through_the_stand_in_where_it_needs_it() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True)
    loaded, kind, doc = out.stdout.strip().split(" ", 2)
    assert doc == "NoDoc(x: int)"  # the standard decorator's docstring, written through inspect.signature
    if sys.version_info < (3, 12):
        assert (loaded, kind) == ("False", "Deferred")
    else:  # 3.12+ read every class's annotations through inspect: imported as usual
        assert kind == "module"
