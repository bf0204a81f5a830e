"""GGUF metadata values: every value type, nesting, byte order, versions, previews, the string fast path."""

from __future__ import annotations

import math
import struct

import pytest

from lbom._formats import gguf as gguf_reader
from lbom._formats.interface import DEFAULT_LIMITS, BytesSource, Limits
from lbom.model import ARRAY_PREVIEW_LEN, ModelHeader
from tests.builders import gguf_string, kv_scalar, kv_string, kv_string_array, raw_gguf

SCALARS = [
    # (value type, struct format, value written, value expected)
    (0, "B", 255, 255),
    (1, "b", -128, -128),
    (2, "H", 65535, 65535),
    (3, "h", -32768, -32768),
    (4, "I", 2**32 - 1, 2**32 - 1),
    (5, "i", -(2**31), -(2**31)),
    (6, "f", 1.5, 1.5),
    (7, "?", True, True),
    (10, "Q", 2**64 - 1, 2**64 - 1),
    (11, "q", -(2**63), -(2**63)),
    (12, "d", -2.25, -2.25),
]


def read_bytes(data: bytes, limits: Limits = DEFAULT_LIMITS) -> ModelHeader:
    return gguf_reader.read(BytesSource(data, "t.gguf"), limits)


def rules(header: ModelHeader) -> set[str]:
    return {f.rule_id for f in header.findings}


def array(elem_type: int, count: int, body: bytes, e: str = "<") -> bytes:
    return struct.pack(e + "I", elem_type) + struct.pack(e + "Q", count) + body


@pytest.mark.parametrize("e", ["<", ">"])
def test_all_thirteen_value_types(e: str) -> None:
    kvs = [kv_scalar(f"k.{vtype}", vtype, fmt, value, e) for vtype, fmt, value, _ in SCALARS]
    kvs.append(kv_string("k.8", "héllo", e))
    kvs.append(("k.9", 9, array(4, 3, struct.pack(e + "3I", 1, 2, 3), e)))
    header = read_bytes(raw_gguf(kvs, e=e))
    assert header.findings == ()
    for vtype, _fmt, _value, expected in SCALARS:
        assert header.metadata[f"k.{vtype}"] == expected, vtype
    assert header.metadata["k.8"] == "héllo"
    assert header.metadata["k.9"] == [1, 2, 3]
    assert header.metadata["gguf.byte_order"] == ("big" if e == ">" else "little")


def test_float_specials_are_json_safe() -> None:
    kvs = [kv_scalar("nan", 6, "f", math.nan), kv_scalar("inf", 12, "d", -math.inf)]
    header = read_bytes(raw_gguf(kvs))
    assert header.metadata["nan"] == "NaN"
    assert header.metadata["inf"] == "-Infinity"


def test_nested_arrays_short_are_lists() -> None:
    inner_a = array(5, 2, struct.pack("<2i", -1, 2))
    inner_b = array(8, 1, gguf_string("x"))
    header = read_bytes(raw_gguf([("nested", 9, array(9, 2, inner_a + inner_b))]))
    assert header.metadata["nested"] == [[-1, 2], ["x"]]
    assert header.findings == ()


def test_long_array_is_a_preview_with_type_and_count() -> None:
    count = 1000
    header = read_bytes(raw_gguf([("scores", 9, array(6, count, struct.pack(f"<{count}f", *range(count))))]))
    value = header.metadata["scores"]
    assert value == {
        "type": "array",
        "element_type": "FLOAT32",
        "count": count,
        "preview": [float(i) for i in range(ARRAY_PREVIEW_LEN)],
    }


def test_nested_long_arrays_keep_bounded_previews() -> None:
    leaf = array(0, 20, bytes(range(20)))
    header = read_bytes(raw_gguf([("deep", 9, array(9, 40, leaf * 40))]))
    value = header.metadata["deep"]
    assert isinstance(value, dict) and value["count"] == 40
    assert 8 <= len(value["preview"]) <= ARRAY_PREVIEW_LEN
    assert value["preview"][0]["preview"] == list(range(ARRAY_PREVIEW_LEN))  # type: ignore[index]
    # The per-array budget (256 values) runs out: later sub-arrays are summaries with shorter previews.
    total = sum(len(v["preview"]) for v in value["preview"])  # type: ignore[index,arg-type]
    assert total <= 256


def test_version_1_is_legacy() -> None:
    data = b"GGUF" + struct.pack("<I", 1) + struct.pack("<II", 0, 0)
    header = read_bytes(data)
    assert gguf_reader.R_LEGACY in rules(header)
    assert header.format_version == "1"


@pytest.mark.parametrize("magic", [b"lmgg", b"fmgg", b"tjgg"])
def test_pre_gguf_magics_are_legacy(magic: bytes) -> None:
    assert gguf_reader.sniff(magic + b"\0" * 20, "x.bin")
    header = read_bytes(magic + struct.pack("<I", 1) + b"\0" * 40)
    assert header.format == "ggml-legacy"
    assert gguf_reader.R_LEGACY in rules(header)


def test_unknown_version_is_a_finding() -> None:
    header = read_bytes(b"GGUF" + struct.pack("<I", 99) + b"\0" * 16)
    assert gguf_reader.R_BAD_TYPE in rules(header)


# --- the string-array fast path (regex over runs of short strings) and its Python fallback ---------------


def _token(i: int, long_every: int) -> bytes:
    if long_every and i % long_every == long_every - 1:
        return ("▁ω" * 50 + str(i)).encode()  # >= 128 bytes: not matched by the regex
    return f"t{i}".encode() if i % 3 else f"▁é{i}".encode()


@pytest.mark.parametrize("e", ["<", ">"])
@pytest.mark.parametrize("long_every", [0, 1, 700, 5000])
@pytest.mark.parametrize("count", [5, 1023, 1024, 4099])
def test_string_arrays_short_and_long_both_byte_orders(e: str, long_every: int, count: int) -> None:
    tokens = [_token(i, long_every) for i in range(count)]
    kvs = [kv_string_array("tokenizer.ggml.tokens", tokens, e), kv_string("after", "still read", e)]
    header = read_bytes(raw_gguf(kvs, e=e))
    assert header.findings == ()
    assert header.metadata["after"] == "still read"
    value = header.metadata["tokenizer.ggml.tokens"]
    expected_preview = [t.decode() for t in tokens[:ARRAY_PREVIEW_LEN]]
    if count <= ARRAY_PREVIEW_LEN:
        assert value == expected_preview
    else:
        assert isinstance(value, dict)
        assert value["count"] == count
        assert value["preview"] == expected_preview


@pytest.mark.parametrize("bad_index", [0, 17, 1030, 2047, 3000])
@pytest.mark.parametrize("long_every", [0, 500])
def test_invalid_utf8_is_found_at_its_index(bad_index: int, long_every: int) -> None:
    tokens = [_token(i, long_every) for i in range(3000 + 1)]
    tokens[bad_index] = b"ok\xff" if bad_index % 2 else b"\xc3"  # a stray byte; a cut multi-byte character
    header = read_bytes(raw_gguf([kv_string_array("tokenizer.ggml.tokens", tokens)]))
    messages = [f.message for f in header.findings if f.rule_id == gguf_reader.R_UTF8]
    assert messages == [f"element {bad_index} of tokenizer.ggml.tokens is not valid UTF-8"]


def test_string_array_across_window_growth(monkeypatch: pytest.MonkeyPatch) -> None:
    # A tiny initial window forces the walk to grow the window many times, in the regex and the Python path.
    monkeypatch.setattr(gguf_reader, "_INITIAL_WINDOW", 64)
    monkeypatch.setattr(gguf_reader, "_GROW_STEP", 100)
    tokens = [_token(i, 300) for i in range(5000)]
    header = read_bytes(raw_gguf([kv_string_array("tokenizer.ggml.tokens", tokens), kv_string("z", "end")]))
    assert header.findings == ()
    assert header.metadata["z"] == "end"
    assert header.metadata["tokenizer.ggml.tokens"]["count"] == 5000  # type: ignore[index,call-overload]


def test_long_preview_strings_are_cut_without_false_utf8_findings() -> None:
    long = "é" * 2000  # 4000 bytes; the cut falls inside a 2-byte character
    header = read_bytes(raw_gguf([kv_string_array("a", [long.encode()] * 20)]))
    assert header.findings == ()
    preview = header.metadata["a"]["preview"]  # type: ignore[index,call-overload]
    assert preview[0].startswith("é" * 100) and preview[0].endswith("more bytes]")


def test_short_run_regex_matches_exactly_the_short_strings() -> None:
    for e in "<>":
        run = gguf_reader._short_string_run(e)
        short = b"".join(gguf_string(f"x{i}".encode(), e) for i in range(gguf_reader._SHORT_RUN))
        match = run.match(short)
        assert match is not None and match.end() == len(short)
        with_long = short[:-20] + gguf_string(b"y" * 128, e)
        assert run.match(with_long) is None


@pytest.mark.parametrize("e", ["<", ">"])
@pytest.mark.parametrize("length", [gguf_reader._REGEX_MAX_LEN - 1, gguf_reader._REGEX_MAX_LEN, 100, 127, 128])
def test_strings_around_the_regex_and_utf8_thresholds(e: str, length: int) -> None:
    tokens = [f"t{i}".encode() for i in range(3000)]
    for i in range(10, 3000, 997):
        tokens[i] = ("é" * length).encode()[:length]  # may cut a character: only when length is odd
    header = read_bytes(raw_gguf([kv_string_array("tokenizer.ggml.tokens", tokens, e)], e=e))
    utf8 = [f.message for f in header.findings if f.rule_id == gguf_reader.R_UTF8]
    assert utf8 == ([] if length % 2 == 0 else ["element 10 of tokenizer.ggml.tokens is not valid UTF-8"])
    assert header.metadata["tokenizer.ggml.tokens"]["count"] == 3000  # type: ignore[index,call-overload]
