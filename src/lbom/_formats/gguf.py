"""GGUF reader: metadata, tensor table and structural checks, from the header bytes only.

The header region is pulled into memory in growing windows (never more than ``Limits.max_header_bytes``) and
walked with precompiled ``struct`` unpackers, so a 262k-entry token list costs a tight loop, not a read() per
element. Nested arrays are walked with an explicit stack (no recursion driven by the file). Every count and
length is checked against the bytes that remain and a named cap before it is used.
"""

from __future__ import annotations

import codecs
import contextlib
import functools
import math
import mmap
import re
import struct
import sys
from collections.abc import Callable
from dataclasses import field
from typing import Any

from lbom import _precompiled_re as precompiled_re
from lbom._formats.constants import (
    GGML_TYPE_TO_FTYPE_GUESS,
    GGML_TYPES,
    GGUF_DEFAULT_ALIGNMENT,
    GGUF_MAGIC,
    GGUF_SCALAR_FORMATS,
    GGUF_VALUE_TYPES,
    LEGACY_GGML_MAGICS,
    LLAMA_FTYPE_NAMES,
    LLAMA_FTYPE_RETIRED,
)
from lbom._formats.interface import ByteSource, FindingSink, Limits, paused_gc
from lbom._records import dataclass
from lbom.model import (
    ARRAY_PREVIEW_LEN,
    BaseModelRef,
    ChatTemplate,
    JsonValue,
    ModelHeader,
    Severity,
    TensorInfo,
    TensorTypeStat,
)

FORMAT = "gguf"
_TYPE_STRING = 8
_TYPE_ARRAY = 9
_GGML_MAX_DIMS = 4
_INITIAL_WINDOW = 1 << 20
_GROW_STEP = 8 << 20
_PREVIEW_BUDGET = 256
"""Values kept in the previews of one (possibly nested) array: 16 per level would be 16**depth otherwise."""
_UTF8_CHUNK = 1 << 16
"""Bytes decoded per step when checking a stretch of strings is UTF-8. Small enough that the throwaway str stays
in the allocator's reused memory: 1 MiB steps made a fresh mapping each (a 2 MB str once a token is non-ASCII),
~2,500 page faults and 3x the time for an 8.6 MB token list and merges."""
_FILE_PREVIEW_VALUES = 65_536
_PREVIEW_STRING_BYTES = 1024
"""Longer strings in array previews are cut (the full array is still validated)."""
_METADATA_STRING_CAP = 65_536
"""Longer string values are cut in the metadata map (chat templates are kept whole elsewhere)."""
_KEY_CAP = 65_535
"""Keys and tensor names longer than this are not real ones (ggml's own names are under 64 bytes)."""

# Rule ids for findings this reader emits. Stable: tools and policies refer to them.
R_TRUNCATED = "LBOM-GGUF-001"
R_CAP = "LBOM-GGUF-002"
R_BAD_TYPE = "LBOM-GGUF-003"
R_UTF8 = "LBOM-GGUF-004"
R_DUP_KEY = "LBOM-GGUF-005"
R_ALIGNMENT = "LBOM-GGUF-006"
R_TENSOR_EXTENT = "LBOM-GGUF-007"
R_TENSOR_OVERLAP = "LBOM-GGUF-008"
R_TENSOR_SHAPE = "LBOM-GGUF-009"
R_FILE_SIZE = "LBOM-GGUF-010"
R_FTYPE = "LBOM-GGUF-011"
R_QUANT_GUESSED = "LBOM-GGUF-012"
R_LEGACY = "LBOM-GGUF-013"
R_VOCAB_MISMATCH = "LBOM-GGUF-014"
R_KEY_TYPE = "LBOM-GGUF-015"
R_DUP_TENSOR = "LBOM-GGUF-016"


def sniff(head: bytes, filename: str) -> bool:
    return head[:4] == GGUF_MAGIC or head[:4] in LEGACY_GGML_MAGICS


class _Stop(Exception):
    """Parsing cannot go on; what was read so far is kept."""

    def __init__(self, rule_id: str, message: str, location: str | None = None) -> None:
        super().__init__(message)
        self.rule_id = rule_id
        self.message = message
        self.location = location


class _Window:
    """The header bytes read so far (``buf``, a memoryview), grown on demand from the source, capped at ``limit``.

    The bytes live in an anonymous memory mapping of the whole cap, which costs address space only: a page is
    backed by memory when a read first writes it, so memory use is what was read, as with a growing bytearray.
    The point is that the bytes are read once, in place. A bytearray grown by appending ``read()`` results
    touches every page twice (the bytes object, then the grown array): ~4,400 page faults for the 8.6 MB header
    of a 262k-token vocabulary, 15-25 ms of system time on a VM, where this takes ~2,200. Where no mapping of
    the cap can be made (an address-space limit), the window grows a bytearray as it reads, as before.
    """

    def __init__(self, source: ByteSource, limit: int) -> None:
        self.source = source
        self.file_size = source.size
        self.limit = min(limit, self.file_size)
        store = _anonymous_buffer(self.limit)
        self._view = memoryview(store) if store is not None else None  # the view keeps the mapping alive
        self._grown = bytearray()  # the bytes, where no mapping could be made
        self.buf: memoryview | bytearray = self._view[:0] if self._view is not None else self._grown
        self._fill(min(_INITIAL_WINDOW, self.limit))

    def ensure(self, end: int, what: str, pos: int) -> None:
        """Make ``buf[:end]`` available or stop with a finding that names what was being read."""
        if end <= len(self.buf):
            return
        if end > self.file_size:
            raise _Stop(
                R_TRUNCATED,
                f"file ends while reading {what}: needs bytes up to {end}, file has {self.file_size}",
                f"offset {pos}",
            )
        if end > self.limit:
            raise _Stop(
                R_CAP,
                f"header larger than the {self.limit:,}-byte cap while reading {what}",
                f"offset {pos}",
            )
        self._fill(min(max(end, 2 * len(self.buf)), self.limit))
        if end > len(self.buf):
            raise _Stop(R_TRUNCATED, f"short read while reading {what}", f"offset {pos}")

    def _fill(self, want: int) -> None:
        """Read on until ``want`` bytes are held (or the file ends)."""
        have = len(self.buf)
        view = self._view
        readinto = getattr(self.source, "readinto_at", None) if view is not None else None
        while have < want:
            step = min(want - have, _GROW_STEP)
            if readinto is not None:
                count = readinto(have, view[have : have + step])  # type: ignore[index]
            else:
                chunk = self.source.read_at(have, step)[:step]
                count = len(chunk)
                if view is not None:
                    view[have : have + count] = chunk
                else:
                    self._grown += chunk
            if not count:
                break
            have += count
        self.buf = view[:have] if view is not None else self._grown


_HUGE_PAGES_FROM = 4 << 20
"""Windows of at least this size ask for transparent huge pages: a header of several MB then takes a handful of
page faults instead of one per 4 KiB (the 8.6 MB header of a 262k-token vocabulary: 5 instead of ~2,100, ~4 ms
less to read and ~1.5 ms less to unmap on a VM). Smaller windows could not hold a 2 MiB page anyway."""


def _anonymous_buffer(size: int) -> mmap.mmap | None:
    """``size`` writable bytes that take memory only where written (an anonymous mapping), or None when none can be
    made: an empty window, or an address-space limit (``ulimit -v``) or strict overcommit refusing the cap; the
    window then grows a bytearray as it reads.

    The mapping is private: ``mmap.mmap(-1, size)`` alone makes a shared one, which Linux backs with shared memory
    (slower to fault in and to unmap, and never given huge pages). Where the kernel offers transparent huge pages
    on request (``madvise`` mode), a large window asks for them; a kernel without them refuses the advice and the
    window keeps 4 KiB pages. (With THP ``defrag`` also on ``madvise``, a fault in the window may compact memory
    first on a fragmented machine: the price of the request, as for any allocator that makes it.)
    """
    if size <= 0:
        return None
    private = getattr(mmap, "MAP_PRIVATE", None)
    try:
        if private is None:  # Windows: the only kind there is
            return mmap.mmap(-1, size)
        store = mmap.mmap(-1, size, flags=private)  # CPython adds MAP_ANONYMOUS itself for fileno -1
    except (OSError, ValueError, OverflowError):
        return None
    huge = getattr(mmap, "MADV_HUGEPAGE", None)
    if huge is not None and size >= _HUGE_PAGES_FROM:
        with contextlib.suppress(OSError):  # no THP in this kernel: 4 KiB pages, as without the request
            store.madvise(huge)
    return store


@dataclass
class _State:
    """The reader's position in the header window, its findings and what it may still keep."""

    sink: FindingSink
    limits: Limits
    e: str  # struct byte-order prefix
    window: _Window
    pos: int = 0
    u32: Callable[..., tuple[Any, ...]] = field(init=False)
    u64: Callable[..., tuple[Any, ...]] = field(init=False)
    utf8_reported: int = 0
    values_left: int = 0
    """Preview values the whole file may still keep (many keys x nested previews would add up otherwise)."""
    chars_left: int = 0
    """Characters of keys and string values the reader may still keep (``Limits.max_retained_chars``)."""
    nested_arrays_left: int = 0
    """Arrays inside arrays the whole file may still hold (``Limits.max_nested_arrays``): each costs a Python step,
    so millions of empty ones would stall a scan for minutes while every count and size check passes."""

    def __post_init__(self) -> None:
        self.values_left = _FILE_PREVIEW_VALUES
        self.nested_arrays_left = self.limits.max_nested_arrays
        self.chars_left = self.limits.max_retained_chars
        self.u32 = struct.Struct(self.e + "I").unpack_from
        self.u64 = struct.Struct(self.e + "Q").unpack_from

    def read_u32(self, what: str) -> int:
        self.window.ensure(self.pos + 4, what, self.pos)
        (value,) = self.u32(self.window.buf, self.pos)
        self.pos += 4
        return int(value)

    def read_u64(self, what: str) -> int:
        self.window.ensure(self.pos + 8, what, self.pos)
        (value,) = self.u64(self.window.buf, self.pos)
        self.pos += 8
        return int(value)

    def remaining(self) -> int:
        return self.window.file_size - self.pos

    def read_string(self, what: str, cap: int) -> str:
        start = self.pos
        length = self.read_u64(f"length of {what}")
        if length > cap:
            raise _Stop(R_CAP, f"{what} claims {length:,} bytes, above the {cap:,}-byte cap", f"offset {start}")
        if length > self.remaining():
            raise _Stop(
                R_TRUNCATED,
                f"{what} claims {length:,} bytes but only {self.remaining():,} remain in the file",
                f"offset {start}",
            )
        self.window.ensure(self.pos + length, what, self.pos)
        raw = bytes(self.window.buf[self.pos : self.pos + length])
        self.pos += length
        return self.decode(raw, what, start)

    def keep(self, text: str, cap: int, what: str) -> str:
        """``text`` cut to ``cap`` characters, charged to the file's retention budget."""
        if len(text) > cap:
            text = text[:cap] + f"... [{len(text) - cap:,} more characters]"
        self.chars_left -= len(text)
        if self.chars_left < 0:
            raise _Stop(
                R_CAP,
                f"metadata holds more than the {self.limits.max_retained_chars:,} characters l-bom keeps per file",
                what,
            )
        return text

    def decode(self, raw: bytes, what: str, offset: int) -> str:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            if self.utf8_reported < 20:
                self.sink.add(
                    R_UTF8,
                    Severity.LOW,
                    f"{what} is not valid UTF-8 (shown with replacement characters)",
                    f"offset {offset}",
                )
            self.utf8_reported += 1
            return raw.decode("utf-8", "replace")


def _json_float(value: float) -> JsonValue:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def _scalar(vtype: int, raw: Any) -> JsonValue:
    if vtype in (6, 12):
        return _json_float(float(raw))
    if vtype == 7:
        return bool(raw)
    return int(raw)


@dataclass
class _ArrayFrame:
    """An array being read: element type and count, elements done, and the preview kept."""

    elem_type: int
    count: int
    done: int = 0
    preview: list[JsonValue] = field(default_factory=list)

    def value(self) -> JsonValue:
        if self.count <= ARRAY_PREVIEW_LEN and len(self.preview) == self.count:
            return list(self.preview)
        return {
            "type": "array",
            "element_type": GGUF_VALUE_TYPES.get(self.elem_type, str(self.elem_type)),
            "count": self.count,
            "preview": list(self.preview),
        }


@dataclass
class _Budget:
    """Preview values one top-level array may still keep (shared by all its nested arrays and the file)."""

    st: _State
    left: int = _PREVIEW_BUDGET

    def take(self, wanted: int) -> int:
        granted = max(0, min(wanted, self.left, self.st.values_left))
        self.left -= granted
        self.st.values_left -= granted
        return granted


def _read_array(st: _State, key: str) -> JsonValue:
    """Read an array value iteratively (an explicit stack, never recursion driven by the file).

    Short arrays become JSON lists; long ones a summary with the element type, count and a preview of the first
    :data:`ARRAY_PREVIEW_LEN` elements. One budget bounds the preview values kept across all nesting levels.
    """
    budget = _Budget(st)
    elem_type, count = _array_header(st, key)
    stack = [_ArrayFrame(elem_type, count)]
    while True:
        frame = stack[-1]
        if frame.elem_type == _TYPE_ARRAY and frame.done < frame.count:
            if len(stack) >= st.limits.max_nesting:
                raise _Stop(R_CAP, f"arrays nested deeper than {st.limits.max_nesting} levels", f"key {key}")
            st.nested_arrays_left -= 1
            if st.nested_arrays_left < 0:
                raise _Stop(
                    R_CAP,
                    f"more than {st.limits.max_nested_arrays:,} arrays inside arrays; the rest of the header was "
                    "not read",
                    f"key {key}",
                )
            sub_type, sub_count = _array_header(st, key)
            frame.done += 1
            stack.append(_ArrayFrame(sub_type, sub_count))
            continue
        if frame.elem_type != _TYPE_ARRAY:
            _read_flat_elements(st, frame, key, budget)
        stack.pop()
        value = frame.value()
        if not stack:
            return value
        parent = stack[-1]
        if len(parent.preview) < ARRAY_PREVIEW_LEN and budget.take(1):
            parent.preview.append(value)


def _array_header(st: _State, key: str) -> tuple[int, int]:
    start = st.pos
    elem_type = st.read_u32(f"array element type of {key}")
    count = st.read_u64(f"array length of {key}")
    if elem_type not in GGUF_VALUE_TYPES:
        raise _Stop(R_BAD_TYPE, f"array of unknown value type {elem_type}", f"key {key} (offset {start})")
    if count > st.limits.max_array_elements:
        raise _Stop(
            R_CAP,
            f"array claims {count:,} elements, above the {st.limits.max_array_elements:,} cap",
            f"key {key} (offset {start})",
        )
    if elem_type == _TYPE_STRING:
        min_size = 8
    elif elem_type == _TYPE_ARRAY:
        min_size = 12
    else:
        min_size = struct.calcsize(GGUF_SCALAR_FORMATS[elem_type])
    if count * min_size > st.remaining():
        raise _Stop(
            R_TRUNCATED,
            f"array claims {count:,} elements ({count * min_size:,}+ bytes) but only "
            f"{st.remaining():,} bytes remain in the file",
            f"key {key} (offset {start})",
        )
    return elem_type, count


def _read_flat_elements(st: _State, frame: _ArrayFrame, key: str, budget: _Budget) -> None:
    count = frame.count
    if frame.elem_type == _TYPE_STRING:
        _read_string_elements(st, frame, key, budget)
        return
    fmt = GGUF_SCALAR_FORMATS[frame.elem_type]
    size = struct.calcsize(fmt)
    st.window.ensure(st.pos + count * size, f"array {key}", st.pos)
    shown = budget.take(min(count, ARRAY_PREVIEW_LEN))
    values = struct.unpack_from(f"{st.e}{shown}{fmt}", st.window.buf, st.pos)
    frame.preview.extend(_scalar(frame.elem_type, v) for v in values)
    st.pos += count * size
    frame.done = count


_SHORT_RUN = 256
"""Strings walked per regex match in the fast path. Each match that fails (a long string ahead) is work thrown
away, so shorter runs lose less where long tokens are scattered: 256 reads the benchmark's 262k-token vocabulary
~15% faster than 1024, and per-match overhead grows again below ~128."""
_SMALL_RUN = 32
"""Strings per match of the second regex, used after a long run failed: it closes in on the long string that
stopped the run, so the Python loop walks at most this many strings per long one instead of ~128."""
_REGEX_MAX_LEN = 64
"""Strings the regex matches are shorter than this: 64 alternatives compile in ~3 ms where 128 take ~18 ms (paid
by every process that reads a token list), and tokens and merges of 64+ bytes are rare."""


_DOTS_UP_TO = 12
"""Up to this length a string's bytes are written as that many ``.`` items, longer ones as ``.{n}``: ``re``
runs a plain item faster than it sets up a counted repeat, and most tokens are this short."""


@functools.lru_cache(maxsize=4)
def _short_string_run(byte_order: str, run: int = _SHORT_RUN) -> re.Pattern[bytes]:
    """A regex matching exactly ``run`` consecutive GGUF strings that are each under ``_REGEX_MAX_LEN`` bytes.

    The language of length-prefixed strings with a bounded length is regular: one alternative per length
    (``<n as uint64><n bytes>``), most common lengths first. ``re`` walks it in C, several times faster than a
    Python loop per element, which is what makes a 262k-entry token list cheap. A longer string makes the match
    fail and the Python loop walks up to and past it.

    Written for the speed of ``re``'s matcher: the seven zero bytes of a prefix as literals (``\\x00{7}`` is a
    counted repeat, ~30% slower per string), short strings' bytes as plain dots, and the run as a possessive
    repeat (Python 3.11+; the alternatives exclude each other, since each fixes the length byte, so there is
    never anything to backtrack into).
    """
    order = [*range(1, 33), 0, *range(33, _REGEX_MAX_LEN)]
    zeros = b"\x00" * 7  # raw bytes, not escapes: ~30% less for re's parser to read (the compile is per process)

    def one(n: int) -> bytes:
        length = re.escape(bytes([n]))
        prefix = length + zeros if byte_order == "<" else zeros + length
        return prefix + (b"." * n if n <= _DOTS_UP_TO else rb".{%d}" % n)

    body = b"|".join(one(n) for n in order)
    repeat = rb"(?:%s){%d}+" if sys.version_info >= (3, 11) else rb"(?:%s){%d}"
    # Compiled from the shipped table where it has this pattern: ~19M instructions of re's compiler per process.
    return precompiled_re.compile(rb"(?s)" + repeat % (body, run))


def precompiled_patterns() -> list[bytes]:
    """The patterns :func:`_short_string_run` builds (both byte orders, both run lengths), for the table of
    :mod:`lbom._precompiled_re`."""
    return [_short_string_run(order, run).pattern for order in ("<", ">") for run in (_SHORT_RUN, _SMALL_RUN)]


def _read_string_elements(st: _State, frame: _ArrayFrame, key: str, budget: _Budget) -> None:
    """Walk ``count`` length-prefixed strings. The hot loop of the whole reader (token lists, merges).

    Runs of short strings are matched by a precompiled regex in C; anything else (long strings, the tail of
    the array, the edge of the header window) goes through a Python loop that grows the window on demand.
    The walk records segments: stretches where every string is under 128 bytes ("short", UTF-8-checked with
    one decode) and steps that held a longer one (checked string by string).
    """
    count = frame.count
    window = st.window
    pos = st.pos
    start_region = pos
    left = count
    run = _short_string_run(st.e) if count >= _SHORT_RUN else None
    small = _short_string_run(st.e, _SMALL_RUN) if count >= _SHORT_RUN else None
    long_runs = True  # off from a failed long run until the Python loop has walked past the long string
    segments: list[list[int]] = []  # [start, end, first index, count, short (1/0)]

    def record(seg_start: int, seg_end: int, first: int, n: int, short: int) -> None:
        if short and segments and segments[-1][4] and segments[-1][1] == seg_start:
            segments[-1][1] = seg_end
            segments[-1][3] += n
        else:
            segments.append([seg_start, seg_end, first, n, short])

    while left:
        index = count - left
        matched = 0
        for pattern, size in ((run if long_runs else None, _SHORT_RUN), (small, _SMALL_RUN)):
            if pattern is None or left < size:
                continue
            match = pattern.match(window.buf, pos)
            if match is not None:
                record(pos, match.end(), index, size, 1)
                pos, matched = match.end(), size
                break
            long_runs = long_runs and size != _SHORT_RUN
        if matched:
            left -= matched
            continue
        step_start = pos
        pos, walked, last_length = _walk_strings(
            st, key, pos, min(left, _SMALL_RUN if small is not None else _SHORT_RUN), index
        )
        long_runs = True
        if last_length >= _REGEX_MAX_LEN:
            # The walk stops right after a long string, so the regex can take over again.
            long_start = pos - 8 - last_length
            record(step_start, long_start, index, walked - 1, 1)
            record(long_start, pos, index + walked - 1, 1, int(last_length < 128))
        else:
            record(step_start, pos, index, walked, 1)
        left -= walked
    st.pos = pos
    frame.done = count
    # Previews: decode the first few strings individually.
    u64 = st.u64
    preview_pos = start_region
    for _ in range(budget.take(min(count, ARRAY_PREVIEW_LEN))):
        (length,) = u64(window.buf, preview_pos)
        shown = min(length, _PREVIEW_STRING_BYTES)
        # Incremental decode: a cut inside a multi-byte character is not an error; validity is checked below.
        text = codecs.getincrementaldecoder("utf-8")("replace").decode(
            bytes(window.buf[preview_pos + 8 : preview_pos + 8 + shown])
        )
        if shown < length:
            text += f"... [{length - shown:,} more bytes]"
        frame.preview.append(st.keep(text, _PREVIEW_STRING_BYTES + 64, f"key {key}"))
        preview_pos += 8 + length
    for seg_start, seg_end, first, n, short in segments:
        if short and _valid_utf8(window.buf, seg_start, seg_end):
            continue
        if _report_invalid_string(st, key, seg_start, first, n):
            return


def _walk_strings(st: _State, key: str, pos: int, count: int, first_index: int) -> tuple[int, int, int]:
    """Walk up to ``count`` strings from ``pos`` in Python, growing the window as needed.

    Stops right after the first string the regex cannot match, so the regex can take over again. Returns (end
    position, strings walked, length of the last string walked).
    """
    u64 = st.u64
    window = st.window
    cap = st.limits.max_string_bytes
    done = 0
    length = 0
    while True:
        buf = window.buf
        index = done
        try:
            for index in range(done, count):  # read again in the except clause
                (length,) = u64(buf, pos)
                if length >= _REGEX_MAX_LEN:
                    if length > cap:
                        raise _Stop(
                            R_CAP,
                            f"string {first_index + index} claims {length:,} bytes, above the {cap:,}-byte cap",
                            f"key {key} (offset {pos})",
                        )
                    window.ensure(pos + 8 + length, f"string {first_index + index} of {key}", pos)
                    return pos + 8 + length, index + 1, length
                pos += 8 + length
        except (struct.error, OverflowError):
            # The next length prefix is not in the window yet (fails cleanly past the file or the cap).
            done = index
            window.ensure(pos + 8, f"string {first_index + index} of {key}", pos)
            continue
        if pos > len(buf):
            window.ensure(pos, f"string {first_index + count - 1} of {key}", pos)
        return pos, count, length


def _report_invalid_string(st: _State, key: str, start: int, first_index: int, count: int) -> bool:
    """Decode ``count`` strings from ``start`` one by one; report the first invalid one. True if one was found.

    Used for segments holding strings of 128+ bytes (whose length prefixes are not ASCII, so one decode of the
    whole segment proves nothing) and to locate the culprit in a short-string segment that failed to decode.
    Segments of only short strings are checked with one decode: every length prefix is then ASCII (the length
    byte < 0x80 and seven zero bytes), so no multi-byte sequence can cross a string boundary and a valid decode
    of the segment means each string is valid on its own.
    """
    buf = st.window.buf
    u64 = st.u64
    pos = start
    for i in range(count):
        (length,) = u64(buf, pos)
        try:
            str(buf[pos + 8 : pos + 8 + length], "utf-8")
        except UnicodeDecodeError:
            st.sink.add(
                R_UTF8,
                Severity.LOW,
                f"element {first_index + i} of {key} is not valid UTF-8",
                f"key {key} (offset {pos})",
            )
            return True
        pos += 8 + length
    return False


def _valid_utf8(buf: bytearray | memoryview, start: int, end: int) -> bool:
    """Whether ``buf[start:end]`` is valid UTF-8, decoded in ``_UTF8_CHUNK`` steps so no copy of the region is
    made."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with memoryview(buf) as view:
        try:
            for offset in range(start, end, _UTF8_CHUNK):
                decoder.decode(view[offset : min(offset + _UTF8_CHUNK, end)])
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def _read_value(st: _State, vtype: int, key: str) -> JsonValue:
    if vtype == _TYPE_STRING:
        return st.read_string(f"value of {key}", st.limits.max_string_bytes)
    if vtype == _TYPE_ARRAY:
        return _read_array(st, key)
    fmt = GGUF_SCALAR_FORMATS.get(vtype)
    if fmt is None:
        raise _Stop(R_BAD_TYPE, f"unknown value type {vtype}", f"key {key}")
    size = struct.calcsize(fmt)
    st.window.ensure(st.pos + size, f"value of {key}", st.pos)
    (raw,) = struct.unpack_from(st.e + fmt, st.window.buf, st.pos)
    st.pos += size
    return _scalar(vtype, raw)


@dataclass
class _Parsed:
    """What the header held: version, byte order, keys and values (with their types) and tensor infos."""

    version: int | None = None
    byte_order: str = "little"
    kv: dict[str, JsonValue] = field(default_factory=dict)
    kv_types: dict[str, int] = field(default_factory=dict)
    full_strings: dict[str, str] = field(default_factory=dict)
    tensors: list[tuple[str, int, tuple[int, ...], int]] = field(default_factory=list)
    header_end: int | None = None


def read(source: ByteSource, limits: Limits) -> ModelHeader:
    sink = FindingSink(source.name)
    head = source.read_at(0, 24)
    if head[:4] in LEGACY_GGML_MAGICS:
        sink.add(
            R_LEGACY,
            Severity.MEDIUM,
            f"legacy llama.cpp file ({LEGACY_GGML_MAGICS[head[:4]]}); not supported by current llama.cpp",
            "offset 0",
            "convert it to GGUF with llama.cpp's conversion scripts, or download a GGUF build",
        )
        return ModelHeader(
            format="ggml-legacy",
            format_version=LEGACY_GGML_MAGICS[head[:4]],
            findings=sink.result(),
            header_bytes_read=len(head),
        )
    parsed = _Parsed()
    window = _Window(source, min(limits.max_header_bytes, limits.max_gguf_header_bytes))
    try:
        with paused_gc():
            _parse(window, limits, sink, parsed)
    except _Stop as stop:
        sink.add(
            stop.rule_id,
            Severity.HIGH,
            stop.message,
            stop.location,
            "the file is malformed or truncated; re-download it",
        )
    bytes_read = len(window.buf)
    del window  # the header bytes are no longer needed; free them before building the result
    with paused_gc():
        return _assemble(parsed, source, sink, bytes_read)


def _parse(window: _Window, limits: Limits, sink: FindingSink, parsed: _Parsed) -> None:
    if len(window.buf) < 8:
        raise _Stop(R_TRUNCATED, f"file is {window.file_size} bytes, too short for a GGUF header", "offset 0")
    (version_le,) = struct.unpack_from("<I", window.buf, 4)
    (version_be,) = struct.unpack_from(">I", window.buf, 4)
    if version_le in (1, 2, 3):
        e, version = "<", version_le
    elif version_be in (1, 2, 3):
        e, version = ">", version_be
        parsed.byte_order = "big"
    else:
        raise _Stop(R_BAD_TYPE, f"unknown GGUF version {version_le}", "offset 4")
    parsed.version = version
    if version == 1:
        sink.add(
            R_LEGACY,
            Severity.MEDIUM,
            "GGUF version 1 (32-bit counts) is a legacy format not read by current llama.cpp",
            "offset 4",
            "re-convert the model with a current llama.cpp",
        )
        return
    st = _State(sink, limits, e, window, pos=8)
    tensor_count = st.read_u64("tensor count")
    kv_count = st.read_u64("metadata key count")
    # Smallest possible entries: a KV is an empty key (8) + type (4) + a 1-byte value; a tensor info is an
    # empty name (8) + n_dims (4) + type (4) + offset (8).
    if kv_count > limits.max_kv_count:
        raise _Stop(R_CAP, f"metadata key count {kv_count:,} is above the {limits.max_kv_count:,} cap", "offset 16")
    if kv_count * 13 > st.remaining():
        # A cut-off download: keep what the bytes still hold. Every key costs 13+ bytes, so the loop below ends at
        # the end of the data whatever the count says.
        sink.add(
            R_TRUNCATED,
            Severity.HIGH,
            f"{kv_count:,} metadata keys need at least {kv_count * 13:,} bytes but only {st.remaining():,} remain: "
            "the file is truncated (or the count is corrupt); the keys that are there were read",
            "offset 16",
            "re-download the file",
        )
    for index in range(kv_count):
        key_offset = st.pos
        key = st.keep(st.read_string(f"key {index}", _KEY_CAP), _KEY_CAP, f"offset {key_offset}")
        vtype = st.read_u32(f"type of key {key}")
        if vtype not in GGUF_VALUE_TYPES:
            raise _Stop(R_BAD_TYPE, f"key {key!r} has unknown value type {vtype}", f"offset {key_offset}")
        value = _read_value(st, vtype, key)
        if key in parsed.kv:
            sink.add(R_DUP_KEY, Severity.MEDIUM, f"duplicate metadata key {key!r}; the last one wins", f"key {key}")
        if isinstance(value, str):
            if key == "tokenizer.chat_template" or key.startswith("tokenizer.chat_template."):
                parsed.full_strings[key] = st.keep(value, limits.max_string_bytes, f"key {key}")
            value = st.keep(value, _METADATA_STRING_CAP, f"key {key}")
        parsed.kv[key] = value
        parsed.kv_types[key] = vtype
    if tensor_count > limits.max_tensor_count or tensor_count * 24 > st.remaining():
        raise _Stop(R_CAP, f"tensor count {tensor_count:,} is impossible for this file or above the cap", "offset 8")
    # One unpack per tensor for the fixed-size part after the name: n_dims x uint64 dims, uint32 type, uint64 offset.
    layouts = [struct.Struct(f"{e}{n}QIQ") for n in range(limits.max_dims + 1)]
    for index in range(tensor_count):
        name_offset = st.pos
        name = st.keep(st.read_string(f"name of tensor {index}", _KEY_CAP), _KEY_CAP, f"offset {name_offset}")
        n_dims = st.read_u32(f"dimension count of tensor {name}")
        if n_dims > limits.max_dims:
            raise _Stop(R_TENSOR_SHAPE, f"tensor {name!r} claims {n_dims} dimensions", f"tensor {name}")
        layout = layouts[n_dims]
        window.ensure(st.pos + layout.size, f"shape, type and offset of tensor {name}", st.pos)
        *dims, ttype, offset = layout.unpack_from(window.buf, st.pos)
        st.pos += layout.size
        parsed.tensors.append((name, ttype, tuple(dims), offset))
    parsed.header_end = st.pos


def _uint(kv: dict[str, JsonValue], key: str) -> int | None:
    value = kv.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def _str(kv: dict[str, JsonValue], key: str) -> str | None:
    value = kv.get(key)
    return value if isinstance(value, str) and value else None


def _assemble(parsed: _Parsed, source: ByteSource, sink: FindingSink, bytes_read: int) -> ModelHeader:
    kv = parsed.kv
    arch = _str(kv, "general.architecture")
    alignment = _alignment(kv, sink)
    tensors, stats, parameter_count, data_end = _check_tensors(parsed, alignment, source.size, sink)
    quantization = _quantization(kv, stats, sink)
    context_length = _uint(kv, f"{arch}.context_length") if arch else None
    vocab_size = _vocab_size(kv, arch, sink)
    base_models = _base_models(kv)
    templates = tuple(
        ChatTemplate(
            name="default" if key == "tokenizer.chat_template" else key.removeprefix("tokenizer.chat_template."),
            source=f"gguf:{key}",
            text=text,
        )
        for key, text in sorted(parsed.full_strings.items())
        if key == "tokenizer.chat_template" or key.startswith("tokenizer.chat_template.")
    )
    dtype = None
    if stats:
        dtype = stats[0].type_name if len(stats) == 1 else "mixed"
    metadata: dict[str, JsonValue] = dict(sorted(kv.items()))
    metadata["gguf.version"] = parsed.version
    metadata["gguf.byte_order"] = parsed.byte_order
    metadata["gguf.alignment"] = alignment
    return ModelHeader(
        format=FORMAT,
        format_version=str(parsed.version) if parsed.version is not None else None,
        architecture=arch,
        name=_str(kv, "general.name"),
        parameter_count=parameter_count if parsed.header_end is not None else None,
        tensor_count=len(tensors) if parsed.header_end is not None else None,
        quantization=quantization,
        dtype=dtype,
        context_length=context_length,
        vocab_size=vocab_size,
        license=_str(kv, "general.license"),
        license_name=_str(kv, "general.license.name"),
        license_link=_str(kv, "general.license.link"),
        base_models=base_models,
        training_framework=None,
        size_label=_str(kv, "general.size_label"),
        tensor_types=stats,
        tensors=tuple(tensors),
        chat_templates=templates,
        metadata=metadata,
        findings=sink.result(),
        header_bytes_read=bytes_read,
        data_bytes_expected=data_end,
    )


def _alignment(kv: dict[str, JsonValue], sink: FindingSink) -> int:
    if "general.alignment" not in kv:
        return GGUF_DEFAULT_ALIGNMENT
    value = kv["general.alignment"]
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0 or value & (value - 1):
        sink.add(
            R_ALIGNMENT,
            Severity.HIGH,
            f"general.alignment is {value!r}; it must be a non-zero power of two (using {GGUF_DEFAULT_ALIGNMENT})",
            "key general.alignment",
        )
        return GGUF_DEFAULT_ALIGNMENT
    return value


def _check_tensors(
    parsed: _Parsed, alignment: int, file_size: int, sink: FindingSink
) -> tuple[list[TensorInfo], tuple[TensorTypeStat, ...], int, int | None]:
    if parsed.header_end is None:
        # The tensor table was not (fully) read: report what we have, check nothing.
        return [], (), 0, None
    data_start = -(-parsed.header_end // alignment) * alignment
    tensors: list[TensorInfo] = []
    per_type: dict[str, list[int]] = {}
    parameter_count = 0
    extents: list[tuple[int, int, str]] = []
    reported = 0
    names: set[str] = set()
    for name, ttype, dims, offset in parsed.tensors:
        if name in names and reported < 50:
            reported += 1
            sink.add(
                R_DUP_TENSOR,
                Severity.HIGH,
                f"tensor name {name!r} appears more than once; loaders keep only one of them",
                f"tensor {name}",
            )
        names.add(name)
        elements = 1
        for dim in dims:
            elements *= dim
        parameter_count += elements
        info = GGML_TYPES.get(ttype)
        if info is None:
            type_name = f"UNKNOWN({ttype})"
            sink.add(R_BAD_TYPE, Severity.HIGH, f"tensor {name!r} has unknown ggml type {ttype}", f"tensor {name}")
            nbytes = None
        else:
            type_name, block, type_size = info
            if dims and dims[0] % block:
                sink.add(
                    R_TENSOR_SHAPE,
                    Severity.HIGH,
                    f"tensor {name!r}: first dimension {dims[0]} is not a multiple of the {type_name} block "
                    f"size {block}",
                    f"tensor {name}",
                )
            nbytes = elements // block * type_size
        if len(dims) > _GGML_MAX_DIMS:
            sink.add(
                R_TENSOR_SHAPE,
                Severity.MEDIUM,
                f"tensor {name!r} has {len(dims)} dimensions (ggml allows 4)",
                f"tensor {name}",
            )
        stat = per_type.setdefault(type_name, [0, 0])
        stat[0] += 1
        stat[1] += elements
        if offset % alignment and reported < 50:
            reported += 1
            sink.add(
                R_ALIGNMENT,
                Severity.HIGH,
                f"tensor {name!r} offset {offset} is not a multiple of the alignment {alignment}",
                f"tensor {name}",
            )
        absolute = data_start + offset
        if nbytes is not None:
            if absolute + nbytes > file_size and reported < 50:
                reported += 1
                sink.add(
                    R_TENSOR_EXTENT,
                    Severity.HIGH,
                    f"tensor {name!r} spans bytes {absolute}..{absolute + nbytes} but the file has {file_size}",
                    f"tensor {name}",
                    "the file is truncated or its tensor table lies; re-download it",
                )
            extents.append((absolute, absolute + nbytes, name))
        tensors.append(TensorInfo(name, type_name, dims, absolute, nbytes))
    extents.sort()
    # Compare each extent with the furthest-reaching one before it, so a large tensor covering several later
    # ones is caught for each of them, not only for its neighbour.
    reach_end, reach_name = -1, ""
    for start, end, name in extents:
        if start < reach_end and end > start and reported < 50:
            reported += 1
            sink.add(
                R_TENSOR_OVERLAP,
                Severity.HIGH,
                f"tensors {reach_name!r} and {name!r} overlap (bytes {start}..{min(end, reach_end)})",
                f"tensor {name}",
            )
        if end > reach_end:
            reach_end, reach_name = end, name
    data_end = max((end for _s, end, _n in extents), default=data_start)
    if extents and data_end <= file_size and file_size - data_end > alignment:
        sink.add(
            R_FILE_SIZE,
            Severity.LOW,
            f"{file_size - data_end:,} bytes follow the last tensor; the tensor table does not account for them",
            f"offset {data_end}",
            "a well-formed GGUF ends at its last tensor (plus padding); check where the extra bytes came from",
        )
    stats = tuple(
        TensorTypeStat(type_name, counts[0], counts[1])
        for type_name, counts in sorted(per_type.items(), key=lambda item: (-item[1][1], item[0]))
    )
    return tensors, stats, parameter_count, data_end


def _quantization(kv: dict[str, JsonValue], stats: tuple[TensorTypeStat, ...], sink: FindingSink) -> str | None:
    if "general.file_type" in kv:
        value = kv["general.file_type"]
        if isinstance(value, bool) or not isinstance(value, int):
            sink.add(
                R_KEY_TYPE, Severity.MEDIUM, f"general.file_type is {value!r}, not an integer", "key general.file_type"
            )
        elif value in LLAMA_FTYPE_NAMES:
            return LLAMA_FTYPE_NAMES[value]
        elif value in LLAMA_FTYPE_RETIRED:
            sink.add(
                R_FTYPE,
                Severity.LOW,
                f"general.file_type {value} ({LLAMA_FTYPE_RETIRED[value]}) is a retired llama.cpp file type",
                "key general.file_type",
            )
            return LLAMA_FTYPE_RETIRED[value]
        else:
            sink.add(
                R_FTYPE,
                Severity.MEDIUM,
                f"general.file_type {value} is not a known llama_ftype",
                "key general.file_type",
            )
            return f"unknown({value})"
    dominant = _dominant_type(stats)
    if dominant is None:
        return None
    guess = GGML_TYPE_TO_FTYPE_GUESS.get(dominant, dominant)
    sink.add(
        R_QUANT_GUESSED,
        Severity.INFO,
        f"general.file_type is absent; quantization {guess} inferred from the dominant tensor type {dominant}",
        "key general.file_type",
    )
    return guess


def _dominant_type(stats: tuple[TensorTypeStat, ...]) -> str | None:
    """The tensor type holding the most parameters, ignoring F32 (norms, biases) when anything else exists."""
    candidates = [s for s in stats if s.type_name != "F32"] or list(stats)
    if not candidates:
        return None
    return max(candidates, key=lambda s: (s.parameter_count, s.type_name)).type_name


def _vocab_size(kv: dict[str, JsonValue], arch: str | None, sink: FindingSink) -> int | None:
    declared = _uint(kv, f"{arch}.vocab_size") if arch else None
    tokens = kv.get("tokenizer.ggml.tokens")
    listed: int | None = None
    if isinstance(tokens, dict) and isinstance(tokens.get("count"), int):
        count = tokens["count"]
        listed = count if isinstance(count, int) else None
    elif isinstance(tokens, list):
        listed = len(tokens)
    if declared is not None and listed is not None and declared != listed:
        sink.add(
            R_VOCAB_MISMATCH,
            Severity.LOW,
            f"{arch}.vocab_size is {declared} but tokenizer.ggml.tokens has {listed} entries",
            f"key {arch}.vocab_size",
        )
    return declared if declared is not None else listed


def _base_models(kv: dict[str, JsonValue]) -> tuple[BaseModelRef, ...]:
    count = _uint(kv, "general.base_model.count") or 0
    refs = []
    for i in range(min(count, 64)):
        name = _str(kv, f"general.base_model.{i}.name")
        repo = _str(kv, f"general.base_model.{i}.repo_url")
        org = _str(kv, f"general.base_model.{i}.organization")
        if name or repo:
            refs.append(BaseModelRef(name=name or repo or "", organization=org, repo_url=repo))
    return tuple(refs)
