"""Beneath a Steel Sky (the freeware CD release, BASS 0.0372): speech, line text and speaker.

Facts from ScummVM's sky engine (engines/sky: disk, rnc_deco, sound, text, logic, compact),
which documents the format; the code here is our own.

- `sky.dnr` is the directory of `sky.dsk`: a little-endian uint32 count, then 8 bytes per file:
  uint16 file number, a 24-bit offset (bit 23 set: the offset counts 16-byte units) and 24 bits
  of size and flags (bits 0-21 the stored size; bit 22: a compressed file's header is not part
  of the unpacked data; bit 23: stored as is, never compressed).
- Most files start with a 22-byte header of eleven uint16 (flag, ..., total size at word 6).
  When the flag's bit 7 is set, the bytes after the header are RNC method-1 data and the
  unpacked file is `((flag & 0xff00) << 8) | total size` bytes (the header included).
- RNC method 1: an 18-byte big-endian header (`RNC\\x01`, unpacked and packed length, CRC-16 of
  the unpacked and of the packed bytes, a leeway byte, the number of blocks), then a bit stream
  read least-significant bit first from 16-bit little-endian words, into which the literal
  bytes are interleaved. The stream starts with two flag bits. Each block carries three Huffman
  tables (literal run length, match distance, match length: 5 bits for the number of symbols,
  4 bits for each symbol's code length, canonical codes given in increasing length then symbol
  order, sent most-significant bit first) and a 16-bit count of steps. A step reads a literal
  run length and copies that many bytes straight from the input; every step but a block's last
  then copies a match (distance + 1 back, length + 2 bytes). A decoded symbol s >= 2 stands for
  the value 2^(s-1) plus s-1 more raw bits. The CRC is CRC-16 with the reflected polynomial
  0xA001 and a zero start.
- Speech: text number t (section t >> 12, line t & 0xfff) is spoken by file
  50000 + SPEECH_SECTION_START[section] + line, unsigned 8-bit mono PCM at 11025 Hz after the
  22-byte header.
- Text: section s of language 0 (English) is file 60600 + s. Word 0 is the offset of one skip
  byte per line, word 1 the offset of the bit stream, then one uint16 per block of 32 lines
  with the block's length. Lengths count 2-bit units (a skip byte with bit 7 set counts 8 units
  per step of its low 7 bits). A line is Huffman-coded characters read most-significant bit
  first, ended by a NUL. The code tree is not in the data files: it is the one of the game's
  executable for version 0.0372 as ScummVM lists it, re-encoded below as a pre-order shape.
- Who speaks: the game's scripts (files 60400 + module; a table of word offsets per script,
  then uint16 byte code) speak a line by calling one of the speak functions (mcode 35-38: speak
  me, with direction, speak and wait, with direction) with the speaker's object id, the text
  number and a talk animation number. The id is often a script variable (12: the object whose
  script runs; 120: whom the player talks to), but the animation number is mostly a constant:
  it indexes the talk table (object 0xBC of `sky.cpt`) after adding the speaker's mega set
  (0-3), and the animation objects are named after the character ("lamb_normal",
  "sc30_henri_talk", "smlfost_conv"). Dialogue choices are offered with mcode 70 (ask this)
  and said by the player, Foster. Object ids and names are in `sky.cpt` (ScummVM's compact
  file, shipped in the package: version, list lengths, objects, then their names).
"""

from __future__ import annotations

import functools
import re
import struct
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emosync.inference.audio import pcm_to_float

SPEECH_RATE = 11025
HEADER_BYTES = 22  # the data file header: eleven uint16
SPEECH_FILE_BASE = 50000
OTHER_SOUND_FILES = 59000  # 59000-59999: 159 packed sound files outside the text numbering
# first speech file (after SPEECH_FILE_BASE) of each text section
SPEECH_SECTION_START = (0, 600, 1100, 2430, 3380, 4530, 5080, 5230)
TEXT_FILE_BASE = 60600  # + 8 * language + section; English is language 0
TEXT_SECTIONS = 8
SCRIPT_FILE_BASE = 60400  # + module number
SPEAK_MCODES = {35, 36, 37, 38}  # speak me, speak me dir, speak wait, speak wait dir
ASK_THIS_MCODE = 70  # offer a dialogue choice (said by the player when chosen)
PLAYER = "foster"

RNC_SIGNATURE = b"RNC\x01"
RNC_HEADER = 18

# The text code tree of version 0.0372 in pre-order: "1" an inner node (its 0-branch subtree
# follows, then its 1-branch subtree), "0" a leaf, whose characters follow in order.
_TEXT_TREE_SHAPE = (
    "1110100111001001100011111000100111001001100011111000100111001001100011111000100111000100"
    "1111100010011100010011110010011100011000111110001001110001100011111000110001110001001111"
    "001001110001001111001001100100111100011001001111000100111000110010100"
)
_TEXT_TREE_LEAVES = bytes.fromhex(
    "2065616f73746e2e69720045756d416c4964524e53544f686344674c43705521"
    "794d5076483f6227662c4742566b4671774b2d574a2a7a596a2b5185295a8b3c"
    "957e8a873a7f5d237858918860323083312f283d865e333998347d385c229026"
    "8d3536928f8e938c3780819924405b9a5f3e968225099c977b9421"
)


# --- RNC method 1 -------------------------------------------------------------------------------
def _crc_table() -> list[int]:
    table = []
    for byte in range(256):
        value = byte
        for _ in range(8):
            value = (value >> 1) ^ 0xA001 if value & 1 else value >> 1
        table.append(value)
    return table


_CRC = _crc_table()


def crc16(data: bytes | bytearray) -> int:
    """CRC-16 as RNC uses it (reflected polynomial 0xA001, start 0)."""
    crc = 0
    for byte in data:
        crc = _CRC[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc


@dataclass(frozen=True)
class RncHeader:
    unpacked: int
    packed: int
    crc_unpacked: int
    crc_packed: int
    blocks: int


def rnc_header(data: bytes) -> RncHeader | None:
    """The RNC method-1 header at the start of `data`, or None when it is not RNC data."""
    if len(data) < RNC_HEADER or data[:4] != RNC_SIGNATURE:
        return None
    unpacked, packed, crc_u, crc_p, _leeway, blocks = struct.unpack_from(">IIHHBB", data, 4)
    return RncHeader(unpacked, packed, crc_u, crc_p, blocks)


class BitReader:
    """RNC's bit stream: bits least-significant first from 16-bit little-endian words, which
    are fetched only when a bit is needed, so that literal bytes can be taken from the byte
    position in between (`take`). Reading may pass the end by one word (zeros): a stream's
    last bits can sit in a word that the packed length cuts."""

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.pos = pos
        self.bits = 0
        self.count = 0

    def read(self, n: int) -> int:
        while self.count < n:
            if self.pos >= len(self.data) + 2:
                raise ValueError("RNC data ends inside the bit stream")
            # the last word may stick out of the packed data: its missing byte reads as 0
            word = int.from_bytes(self.data[self.pos : self.pos + 2].ljust(2, b"\0"), "little")
            self.bits |= word << self.count
            self.pos += 2
            self.count += 16
        value = self.bits & ((1 << n) - 1)
        self.bits >>= n
        self.count -= n
        return value

    def take(self, n: int) -> bytes:
        """n literal bytes at the current byte position (the buffered bits stay)."""
        if self.pos + n > len(self.data):
            raise ValueError("RNC data ends inside a literal run")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out


def canonical_codes(lengths: list[int]) -> dict[tuple[int, int], int]:
    """(length, code) -> symbol of a canonical prefix code: codes go to the symbols in order of
    length, then symbol number, counting up from 0 (length 0: the symbol is unused)."""
    table: dict[tuple[int, int], int] = {}
    code = 0
    for length in range(1, 17):
        for symbol, n in enumerate(lengths):
            if n == length:
                table[(length, code >> (16 - length))] = symbol
                code += 1 << (16 - length)
    if code > 1 << 16:
        raise ValueError("RNC Huffman code lengths over-subscribe the code space")
    return table


def read_table(bits: BitReader) -> dict[tuple[int, int], int] | None:
    """One Huffman table of an RNC block (None: the block sends none)."""
    count = bits.read(5)
    if not count:
        return None
    return canonical_codes([bits.read(4) for _ in range(count)])


def read_value(bits: BitReader, table: dict[tuple[int, int], int]) -> int:
    """A symbol read bit by bit (code most-significant bit first), expanded to its value."""
    code = 0
    for length in range(1, 17):
        code = code << 1 | bits.read(1)
        symbol = table.get((length, code))
        if symbol is not None:
            return symbol if symbol < 2 else (1 << (symbol - 1)) | bits.read(symbol - 1)
    raise ValueError("no RNC Huffman code matches the bit stream")


def rnc_unpack(data: bytes) -> bytes:
    """Unpack RNC method-1 `data` (from its header on); both CRCs and the unpacked length must
    match the header's, else ValueError."""
    head = rnc_header(data)
    if head is None:
        raise ValueError("not RNC method-1 data")
    packed = data[RNC_HEADER : RNC_HEADER + head.packed]
    if len(packed) != head.packed:
        raise ValueError(f"RNC data truncated: {len(packed)} of {head.packed} packed bytes")
    if crc16(packed) != head.crc_packed:
        raise ValueError("RNC packed-data CRC mismatch")
    bits = BitReader(packed)
    bits.read(2)  # lock and key flags
    out = bytearray()
    tables: list[dict[tuple[int, int], int] | None] = [None, None, None]
    for _ in range(head.blocks):
        tables = [read_table(bits) or old for old in tables]
        _unpack_block(bits, tables, out)
    if len(out) != head.unpacked:
        raise ValueError(f"RNC unpacked {len(out)} bytes, header says {head.unpacked}")
    if crc16(out) != head.crc_unpacked:
        raise ValueError("RNC unpacked-data CRC mismatch")
    return bytes(out)


def _unpack_block(
    bits: BitReader, tables: list[dict[tuple[int, int], int] | None], out: bytearray
) -> None:
    literal, distance, length = tables
    if literal is None or distance is None or length is None:
        raise ValueError("RNC block without its Huffman tables")
    steps = bits.read(16)
    for step in range(steps):
        run = read_value(bits, literal)
        if run:
            out += bits.take(run)
        if step == steps - 1:
            return
        back = read_value(bits, distance) + 1
        n = read_value(bits, length) + 2
        if back > len(out):
            raise ValueError("RNC match reaches before the start of the output")
        start = len(out) - back
        if back >= n:
            out += out[start : start + n]
        else:  # an overlapping copy repeats the last `back` bytes
            out += (out[start:] * (n // back + 1))[:n]


# --- sky.dnr / sky.dsk --------------------------------------------------------------------------
@dataclass(frozen=True)
class DiskEntry:
    offset: int  # bytes into sky.dsk
    size: int  # stored bytes
    stored: bool  # bit 23: never compressed
    headerless: bool  # bit 22: a compressed file unpacks without its header


def read_directory(dnr: bytes) -> dict[int, DiskEntry]:
    """file number -> entry of a sky.dnr directory."""
    if len(dnr) < 4:
        raise ValueError("sky.dnr is too short")
    (count,) = struct.unpack_from("<I", dnr, 0)
    if len(dnr) < 4 + 8 * count:
        raise ValueError(f"sky.dnr lists {count} files but holds {(len(dnr) - 4) // 8}")
    out: dict[int, DiskEntry] = {}
    for i in range(count):
        o = 4 + 8 * i
        (number,) = struct.unpack_from("<H", dnr, o)
        offset = int.from_bytes(dnr[o + 2 : o + 5], "little")
        flags = int.from_bytes(dnr[o + 5 : o + 8], "little")
        start = (offset & 0x7FFFFF) << 4 if offset >> 23 & 1 else offset & 0x7FFFFF
        out[number] = DiskEntry(start, flags & 0x3FFFFF, bool(flags >> 23 & 1),
                                bool(flags >> 22 & 1))  # fmt: skip
    return out


def file_header(raw: bytes) -> tuple[bool, int]:
    """(compressed?, unpacked size with the header) from a file's 22-byte data header."""
    if len(raw) < HEADER_BYTES:
        return False, len(raw)
    flag, total = struct.unpack_from("<H", raw, 0)[0], struct.unpack_from("<H", raw, 12)[0]
    return bool(flag >> 7 & 1), ((flag & 0xFF00) << 8) | total


class SkyDisk:
    """Files of sky.dsk by number, unpacked."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.entries = read_directory((self.folder / "sky.dnr").read_bytes())
        self.dsk = self.folder / "sky.dsk"

    def raw(self, number: int) -> bytes:
        entry = self.entries.get(number)
        if entry is None:
            raise KeyError(f"sky.dsk has no file {number}")
        with open(self.dsk, "rb") as f:
            f.seek(entry.offset)
            data = f.read(entry.size)
        if len(data) != entry.size:
            raise ValueError(f"sky.dsk ends inside file {number}")
        return data

    def unpacked_size(self, number: int) -> int:
        """The file's unpacked size from its headers alone (nothing decompressed)."""
        entry = self.entries[number]
        if entry.stored:
            return entry.size
        with open(self.dsk, "rb") as f:
            f.seek(entry.offset)
            head = f.read(HEADER_BYTES + RNC_HEADER)
        compressed, _total = file_header(head)
        rnc = rnc_header(head[HEADER_BYTES:])
        if not compressed or rnc is None:
            return entry.size
        return rnc.unpacked if entry.headerless else rnc.unpacked + HEADER_BYTES

    def load(self, number: int) -> bytes:
        """The file as the game uses it: unpacked, with its header unless flagged headerless."""
        data = self.raw(number)
        entry = self.entries[number]
        if entry.stored:
            return data
        compressed, total = file_header(data)
        if not compressed or rnc_header(data[HEADER_BYTES:]) is None:
            return data
        body = rnc_unpack(data[HEADER_BYTES:])
        out = body if entry.headerless else data[:HEADER_BYTES] + body
        if not entry.headerless and len(out) != total:
            raise ValueError(f"file {number}: unpacked {len(out)} bytes, header says {total}")
        return out


# --- speech -------------------------------------------------------------------------------------
def speech_file(text_number: int) -> int:
    """The sky.dsk file that speaks text number `text_number`."""
    section, line = text_number >> 12, text_number & 0xFFF
    return SPEECH_FILE_BASE + SPEECH_SECTION_START[section] + line


def text_number(file_number: int) -> int | None:
    """The text number a speech file speaks (the inverse of `speech_file`), or None."""
    n = file_number - SPEECH_FILE_BASE
    if n < 0:
        return None
    for section in range(len(SPEECH_SECTION_START) - 1, -1, -1):
        start = SPEECH_SECTION_START[section]
        if n >= start:
            line = n - start
            return section << 12 | line if line < 0x1000 else None
    return None


def speech_samples(data: bytes) -> np.ndarray:
    """An unpacked speech file (header + unsigned 8-bit PCM) -> float32 samples in [-1, 1)."""
    return pcm_to_float(data[HEADER_BYTES:], 1)


# --- text ---------------------------------------------------------------------------------------
def _tree(shape: str, leaves: bytes) -> list:
    """The pre-order shape as nested [zero-branch, one-branch] lists with int leaves."""
    pos = {"shape": 0, "leaf": 0}

    def node() -> object:
        bit = shape[pos["shape"]]
        pos["shape"] += 1
        if bit == "0":
            value = leaves[pos["leaf"]]
            pos["leaf"] += 1
            return value
        zero = node()
        return [zero, node()]

    root = node()
    if pos["shape"] != len(shape) or pos["leaf"] != len(leaves):
        raise ValueError("text tree shape and leaves disagree")
    return root  # type: ignore[return-value]


@functools.cache
def text_tree() -> list:
    return _tree(_TEXT_TREE_SHAPE, _TEXT_TREE_LEAVES)


def decode_line(data: bytes, bit: int, tree: list | None = None, limit: int = 2000) -> str:
    """The NUL-ended line whose code starts at bit `bit` of `data` (bits MSB first)."""
    root = text_tree() if tree is None else tree
    chars: list[int] = []
    for _ in range(limit):
        node: object = root
        while isinstance(node, list):
            byte = bit >> 3
            if byte >= len(data):
                raise ValueError("text bank ends inside a line")
            node = node[data[byte] >> (7 - (bit & 7)) & 1]
            bit += 1
        if node == 0:
            return bytes(chars).decode("latin-1")
        chars.append(int(node))  # type: ignore[call-overload]
    raise ValueError("text line has no end")


def line_bit(bank: bytes, line: int) -> int:
    """The bit where line `line` (0-based, within the section) starts in a text bank."""
    skip_base, stream = struct.unpack_from("<HH", bank, 0)
    block, index = line >> 5, line & 0x1F
    if 4 + 2 * block >= skip_base:
        raise ValueError(f"text line {line} is past the bank's {(skip_base - 4) // 2} blocks")
    units = sum(struct.unpack_from(f"<{block}H", bank, 4)) if block else 0
    for b in bank[skip_base + (block << 5) : skip_base + (block << 5) + index]:
        units += (b & 0x7F) << 3 if b & 0x80 else b
    return stream * 8 + units * 2


def bank_lines(bank: bytes) -> int:
    """How many lines the bank's blocks can hold (32 per block; the last may hold fewer)."""
    (skip_base,) = struct.unpack_from("<H", bank, 0)
    return (skip_base - 4) // 2 * 32


# --- who speaks: the scripts --------------------------------------------------------------------
# operand words of each script opcode (14, switch, is handled apart)
_OPERANDS = {0: 1, 1: 0, 2: 1, 3: 0, 4: 0, 5: 1, 6: 1, 7: 0, 8: 0, 9: 1, 10: 0, 11: 2, 12: 0,
             13: 0, 15: 1, 16: 1, 17: 0, 18: 1, 19: 0, 20: 0}  # fmt: skip
_PUSH_VARIABLE, _PUSH_NUMBER, _POP_VARIABLE, _CALL, _SWITCH = 0, 2, 6, 11, 14
CURRENT_ID_VAR = 12  # script variable: the id of the object whose script runs
PARTNER_VAR = 120  # script variable the scripts set to the id of the one being talked to
# mcodes that start a script: (index of the object argument or None for the caller, index
# of the script argument): start sub, they start sub, assign base, set alternate, alt set
# alternate, send request
START_MCODES = {7: (None, 0), 8: (0, 1), 9: (0, 1), 24: (None, 0), 25: (0, 1), 46: (0, 1)}
# compact words holding script numbers: the action script (run by whoever interacts with the
# object, in practice the player) and the base script (run by the object itself)
ACTION_SCRIPT_WORD, BASE_SCRIPT_WORD = 17, 27
TALK_TABLE = 0xBC  # sky.cpt object: talk animation number -> animation object id


@dataclass
class ScriptFacts:
    """What one script does, as far as numbers pushed right before a call tell."""

    # (speaker: ("id", n) | ("var", v) | None, text number, talk animation number or None)
    speaks: list[tuple[tuple[str, int] | None, int, int | None]]
    asks: list[int]  # dialogue choices offered (text numbers)
    partners: set[int]  # ids it stores in PARTNER_VAR
    starts: list[tuple[int | None, int]]  # (object id or None for itself, script number)


def script_facts(module_number: int, module: bytes) -> dict[int, ScriptFacts]:
    """script number -> its facts, from a straight sweep over one module's byte code (a
    module starts with a table of its scripts' word offsets; each instruction belongs to the
    script that starts last before it). An argument counts when it was pushed as a number or
    a variable right before the call."""
    words = struct.unpack(f"<{len(module) // 2}H", module[: len(module) // 2 * 2])
    if not words or not 0 < words[0] < len(words):
        return {}
    starts = sorted(
        (w, index) for index, w in enumerate(words[: words[0]]) if index and 0 < w < len(words)
    )
    facts: dict[int, ScriptFacts] = {}
    for k, (begin, index) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else len(words)
        facts[module_number << 12 | index] = _sweep(words, begin, end)
    return facts


def _sweep(words: tuple[int, ...], i: int, end: int) -> ScriptFacts:
    out = ScriptFacts([], [], set(), [])
    stack: list[tuple[str, int] | None] = []
    while i < end:
        op = words[i]
        if op == _SWITCH:  # count, (value, offset) pairs, default offset
            i += 3 + 2 * words[i + 1] if i + 1 < end else end
            stack.clear()
            continue
        n = _OPERANDS.get(op)
        if n is None or i + n >= len(words):
            stack.clear()
            i += 1
            continue
        operands = words[i + 1 : i + 1 + n]
        if op == _PUSH_NUMBER:
            stack.append(("id", operands[0]))
        elif op == _PUSH_VARIABLE:
            stack.append(("var", operands[0] // 4))
        elif op == _POP_VARIABLE:
            top = stack.pop() if stack else None
            if operands[0] // 4 == PARTNER_VAR and top is not None and top[0] == "id":
                out.partners.add(top[1])
            stack.clear()
        elif op == _CALL:
            count = min(operands[0], 3)
            args = [stack.pop() if stack else None for _ in range(count)][::-1]
            _note_call(out, operands[1] // 4, args)
            stack.clear()
        elif op == 15:  # push a field of the running object
            stack.append(None)
        else:
            stack.clear()
        i += 1 + n
    return out


def _note_call(out: ScriptFacts, mcode: int, args: list[tuple[str, int] | None]) -> None:
    def number(k: int) -> int | None:
        a = args[k] if k < len(args) else None
        return a[1] if a is not None and a[0] == "id" else None

    if mcode in SPEAK_MCODES and len(args) >= 2 and number(1) is not None:
        out.speaks.append((args[0], int(number(1)), number(2)))  # type: ignore[arg-type]
    elif mcode == ASK_THIS_MCODE and number(0) is not None:
        out.asks.append(int(number(0)))  # type: ignore[arg-type]
    elif mcode in START_MCODES:
        who, script = START_MCODES[mcode]
        target = None if who is None else number(who)
        if number(script) is not None and (who is None or target is not None):
            out.starts.append((target, int(number(script))))  # type: ignore[arg-type]


def compacts(cpt: bytes) -> tuple[dict[int, str], dict[int, tuple[int, ...]]]:
    """(object id -> name, object id -> its words) from ScummVM's sky.cpt: uint16 version 0
    and number of lists, each list's length, uint32 raw and source word counts, per object a
    uint16 size (0: none) then its type and words, a uint32 name-block size and the names."""
    version, lists = struct.unpack_from("<HH", cpt, 0)
    if version != 0:
        raise ValueError(f"unknown sky.cpt version {version}")
    lengths = struct.unpack_from(f"<{lists}H", cpt, 4)
    o = 4 + 2 * lists
    _raw_words, src_words = struct.unpack_from("<II", cpt, o)
    o += 8
    src = struct.unpack_from(f"<{src_words}H", cpt, o)
    o += 2 * src_words
    (ascii_size,) = struct.unpack_from("<I", cpt, o)
    names = cpt[o + 4 : o + 4 + ascii_size].split(b"\0")
    out: dict[int, str] = {}
    body: dict[int, tuple[int, ...]] = {}
    k = n = 0
    for lst, length in enumerate(lengths):
        for idx in range(length):
            size = src[k]
            k += 1
            if size:
                ident = lst << 12 | idx
                out[ident] = names[n].decode("latin-1")
                body[ident] = src[k + 1 : k + 1 + size]
                k += 1 + size  # type, then the object's words
                n += 1
    return out, body


def _object_scripts(
    facts: dict[int, ScriptFacts], objects: dict[int, tuple[int, ...]], player: int
) -> tuple[dict[int, set[int]], dict[int, set[int]]]:
    runners: dict[int, set[int]] = defaultdict(set)
    partners: dict[int, set[int]] = defaultdict(set)
    for ident, words in objects.items():
        if len(words) <= BASE_SCRIPT_WORD:
            continue
        if words[BASE_SCRIPT_WORD] in facts:
            runners[words[BASE_SCRIPT_WORD]].add(ident)
        if words[ACTION_SCRIPT_WORD] in facts:
            runners[words[ACTION_SCRIPT_WORD]].add(player)
            partners[words[ACTION_SCRIPT_WORD]].add(ident)
    return runners, partners


def _runners_and_partners(
    facts: dict[int, ScriptFacts], objects: dict[int, tuple[int, ...]], player: int
) -> tuple[dict[int, set[int]], dict[int, set[int]]]:
    """Which objects run each script and whom they talk to there: an object's base script
    is run by itself, its action script by the player talking to it; a started script is run
    by the object the start names (or the starter's runners) with the starter's partners."""
    runners, partners = _object_scripts(facts, objects, player)
    for script, f in facts.items():
        partners[script] |= f.partners
        for target, started in f.starts:
            if target is not None and started in facts:
                runners[started].add(target)
    changed = True
    while changed:  # spread along the starts until nothing changes
        changed = False
        for script, f in facts.items():
            for target, started in f.starts:
                if started not in facts:
                    continue
                before = (len(runners[started]), len(partners[started]))
                if target is None:
                    runners[started] |= runners[script]
                partners[started] |= partners[script]
                changed |= before != (len(runners[started]), len(partners[started]))
    return runners, partners


# The character behind an object or talk-animation name of sky.cpt (first match wins), with the
# sex where the game makes it plain (a woman's or man's name or a father/son); None otherwise.
CHARACTERS: tuple[tuple[str, str, str | None], ...] = (
    (r"(?<!to_)fos(t|_)|big_f_", "FOSTER", "m"),  # not "dad_to_foster": Dad talking to him
    (r"joey", "JOEY", None),
    (r"lamb", "LAMB", "m"),
    (r"anita", "ANITA", "f"),
    (r"dani", "DANIELLE", "f"),
    (r"helga", "HELGA", "f"),
    (r"babs", "BABS", "f"),
    (r"burke", "BURKE", "m"),
    (r"gal", "GALLAGHER", "m"),
    (r"henri", "HENRI", "m"),
    (r"vinc", "VINCENT", "m"),
    (r"col(ston|_)", "COLSTON", "m"),
    (r"trevor", "TREVOR", "m"),
    (r"walter", "WALTER", "m"),
    (r"ken", "KEN", "m"),
    (r"^sc81_(dad|father)", "FATHER", "m"),
    (r"^dad", "DAD", "m"),
    (r"^son", "SON", "m"),
    (r"judge|jdg", "JUDGE", None),  # before "jobs": "sc42_jdg_to_jobs" is the judge
    (r"jobs", "JOBSWORTH", None),
    (r"blunt|sc31_guard", "BLUNT", None),
    (r"anchor", "ANCHOR", None),
    (r"^rad", "RADMAN", None),
    (r"^for", "FOREMAN", None),
    (r"garden", "GARDENER", None),
    (r"pros", "PROSECUTOR", None),
    (r"clerk", "CLERK", None),
    (r"barman", "BARMAN", None),
    (r"juke", "JUKEBOX", None),
    (r"medi", "MEDI", None),
    (r"monitor", "MONITOR", None),
    (r"skorl", "SKORL", None),
    (r"shades", "SHADES", None),
    (r"smlguard", "GUARD", None),
    (r"android", "ANDROID", None),
    (r"body", "BODY", None),
    (r"stuck", "STUCK", None),
    (r"spec_dat", "SPEC_DAT", None),
    (r"holo", "HOLOGRAM", None),
    (r"big_ss|full_so|mini_so", "SECURITY", None),
)


def character(name: str) -> tuple[str, str | None] | None:
    """(character, sex) of an object or talk-animation name, or None when it names none."""
    for pattern, key, sex in CHARACTERS:
        if re.search(pattern, name):
            return key, sex
    return None


def speakers(disk: SkyDisk, cpt: bytes) -> dict[int, Counter]:
    """text number -> Counter of the characters the scripts have say it. A speak call names its
    speaker by the object id it passes as a number, else by the talk animation it plays
    (talk-table entry -> animation name), else by the one object that runs the script (for
    "the current object") or the one partner the script talks to; the player says the
    dialogue choices. Calls whose speaker cannot be pinned to one character are left out."""
    names, objects = compacts(cpt)
    player = next(i for i, n in names.items() if n == PLAYER)
    talk_table = objects.get(TALK_TABLE, ())
    facts: dict[int, ScriptFacts] = {}
    for module in range(16):
        if SCRIPT_FILE_BASE + module in disk.entries:
            facts.update(script_facts(module, disk.load(SCRIPT_FILE_BASE + module)))
    runners, partners = _runners_and_partners(facts, objects, player)
    who: dict[int, Counter] = defaultdict(Counter)
    for script, f in facts.items():
        for arg, text, anim in f.speaks:
            options: set[str] = set()
            if arg is not None and arg[0] == "id":
                options = _characters(names, {arg[1]})
            if not options and anim:  # 0: no talk animation
                options = _characters(names, _talk_animation(talk_table, anim))
            if not options and arg == ("var", CURRENT_ID_VAR):
                options = _characters(names, runners[script])
            elif not options and arg == ("var", PARTNER_VAR):
                options = _characters(names, partners[script])
            if len(options) == 1:
                who[text][next(iter(options))] += 1
        for text in f.asks:
            who[text]["FOSTER"] += 1
    return who


def _talk_animation(talk_table: tuple[int, ...], anim: int) -> set[int]:
    """The talk animation a speak call plays: the table entry at its number plus the
    speaker's mega set (0-3). Where set 0 has none (entry 0), the speaker must use a later
    set; the next entry is taken (set 1), not guessed further."""
    for k in (0, 1):
        if anim + k < len(talk_table) and talk_table[anim + k]:
            return {talk_table[anim + k]}
    return set()


def _characters(names: dict[int, str], ids: set[int]) -> set[str]:
    found = (character(names.get(i, "")) for i in ids)
    return {c[0] for c in found if c is not None}


# --- the lines ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class SpeechLine:
    file: int  # speech file number in sky.dsk
    text_number: int
    text: str
    speaker: str  # the character (FOSTER, JOEY, ...; "unknown" where the scripts do not say)
    sex: str | None
    candidates: int  # how many different speakers the scripts give (1: unambiguous)
    samples: int  # PCM bytes (11025 Hz)


def speech_lines(folder: Path) -> list[SpeechLine]:
    """Every speech file with its line text and, where the scripts name it, its speaker
    ("unknown" otherwise), in file order."""
    disk = SkyDisk(folder)
    who = speakers(disk, (Path(folder) / "sky.cpt").read_bytes())
    banks: dict[int, bytes] = {}
    out = []
    for number in sorted(disk.entries):
        t = text_number(number)
        if t is None or number >= OTHER_SOUND_FILES:
            continue
        section, line = t >> 12, t & 0xFFF
        if section not in banks:
            banks[section] = disk.load(TEXT_FILE_BASE + section)
        if line >= bank_lines(banks[section]):
            continue
        text = decode_line(banks[section], line_bit(banks[section], line))
        votes = who.get(t)
        speaker = votes.most_common(1)[0][0] if votes else "unknown"
        sex = next((x for _p, key, x in CHARACTERS if key == speaker), None)
        out.append(SpeechLine(number, t, text, speaker, sex, len(votes or ()),
                              disk.unpacked_size(number) - HEADER_BYTES))  # fmt: skip
    return out


def clean_text(text: str) -> str:
    """A line as words to align: control characters become spaces, runs of spaces one."""
    t = re.sub(r"[\x00-\x1f]", " ", text)
    return " ".join(t.split())
