"""Beneath a Steel Sky reader (training/corpus/sky.py): the RNC method-1 bit reader, Huffman
tables and unpacker on streams built by hand in the test, the CRC on its published check value,
the text decoder on a tiny tree; then, when the game's .deb is unpacked under data/games
(`python -m emosync.training.corpus.real_build --fetch-games`), the real sky.dsk: files unpack to
their headers' sizes with matching CRCs, lines decode, speakers come from the scripts, and the
split holds the chosen characters out."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from emosync.training.corpus import sky
from emosync.training.corpus.real_build import load_split, split_of
from emosync.training.corpus.real_sources import load_samples, sky_clips, sky_path

SKY = sky_path()
needs_sky = pytest.mark.skipif(
    SKY is None,
    reason="beneath-a-steel-sky not unpacked: run "
    "`python -m emosync.training.corpus.real_build --fetch-games` (data/games)",
)


# --- RNC pieces on hand-made bits ---------------------------------------------------------------
def test_crc16_has_the_arc_check_value() -> None:
    assert sky.crc16(b"123456789") == 0xBB3D  # CRC-16/ARC of the standard check string
    assert sky.crc16(b"") == 0


def test_bit_reader_reads_words_lsb_first_and_takes_literals_between_words() -> None:
    # word 0x8005 = bits 1,0,1,0,0,... (LSB first) and 1 at bit 15; then two literal bytes;
    # then word 0x0003
    data = bytes([0x05, 0x80]) + b"xy" + bytes([0x03, 0x00])
    bits = sky.BitReader(data)
    assert bits.read(3) == 0b101
    assert bits.read(13) == 0b1_0000_0000_0000  # the rest of the first word
    assert bits.take(2) == b"xy"  # literals sit after the words fetched so far
    assert bits.read(2) == 0b11
    assert bits.read(14) == 0
    assert bits.read(16) == 0  # one word past the end reads as zeros
    with pytest.raises(ValueError, match="ends inside the bit stream"):
        bits.read(16)


def test_canonical_codes_by_length_then_symbol() -> None:
    # lengths: symbol 0 -> 2 bits, 1 -> 1 bit, 2 -> 2 bits, 3 unused: codes 1 = "0",
    # 0 = "10", 2 = "11"
    assert sky.canonical_codes([2, 1, 2, 0]) == {(1, 0b0): 1, (2, 0b10): 0, (2, 0b11): 2}
    with pytest.raises(ValueError, match="over-subscribe"):
        sky.canonical_codes([1, 1, 1])


def test_read_value_reads_the_code_msb_first_then_extra_bits() -> None:
    table = sky.canonical_codes([1, 2, 3, 3])  # 0 = "0", 1 = "10", 2 = "110", 3 = "111"
    # bits in read order: "111" (symbol 3), its 2 extra bits 0, 1 (LSB first: 0b10) -> 4 + 2;
    # "10" (symbol 1 -> 1); "0" (symbol 0 -> 0)
    order = [1, 1, 1, 0, 1, 1, 0, 0]
    word = sum(b << i for i, b in enumerate(order))
    bits = sky.BitReader(bytes([word, 0]))
    assert sky.read_value(bits, table) == 6
    assert sky.read_value(bits, table) == 1
    assert sky.read_value(bits, table) == 0


class _Writer:
    """RNC's bit stream written the way the reader fetches it: a 16-bit word is reserved when
    its first bit is written; literal bytes go after the words reserved so far."""

    def __init__(self) -> None:
        self.out = bytearray()
        self.slot = -1
        self.used = 16

    def bits(self, value: int, n: int) -> None:
        for i in range(n):
            if self.used == 16:
                self.slot, self.used = len(self.out), 0
                self.out += b"\0\0"
            if value >> i & 1:
                self.out[self.slot + self.used // 8] |= 1 << (self.used % 8)
            self.used += 1

    def code(self, code: int, length: int) -> None:  # most-significant bit first
        for i in range(length - 1, -1, -1):
            self.bits(code >> i & 1, 1)

    def literal(self, data: bytes) -> None:
        self.out += data


def _hand_made_rnc() -> tuple[bytes, bytes]:
    """'abcabcaX' as one block of two steps: literal run 3 ("abc") and a match of distance 3,
    length 4; then literal run 1 ("X")."""
    w = _Writer()
    w.bits(0, 2)  # lock and key flags
    for lengths in ((2, 2, 1), (1, 2, 2), (1, 2, 2)):  # literal run, distance, length tables
        w.bits(len(lengths), 5)
        for n in lengths:
            w.bits(n, 4)
    # literal runs: symbol 2 = "0", 0 = "10", 1 = "11"; distance and length tables:
    # symbol 0 = "0", 1 = "10", 2 = "11"; symbol 2 means 2 + one extra bit
    w.bits(2, 16)  # steps
    w.code(0b0, 1)  # run: symbol 2, extra bit 1 -> 3
    w.bits(1, 1)
    w.literal(b"abc")
    w.code(0b11, 2)  # distance - 1: symbol 2, extra bit 0 -> 2
    w.bits(0, 1)
    w.code(0b11, 2)  # length - 2: symbol 2, extra bit 0 -> 2
    w.bits(0, 1)
    w.code(0b11, 2)  # the last step's run: symbol 1 -> 1
    w.literal(b"X")
    packed = bytes(w.out)
    unpacked = b"abcabcaX"
    head = b"RNC\x01" + struct.pack(
        ">IIHHBB", len(unpacked), len(packed), sky.crc16(unpacked), sky.crc16(packed), 0, 1
    )
    return head + packed, unpacked


def test_rnc_unpacks_a_hand_made_stream_and_checks_it() -> None:
    data, unpacked = _hand_made_rnc()
    assert sky.rnc_header(data) == sky.RncHeader(8, len(data) - 18, sky.crc16(unpacked),
                                                 sky.crc16(data[18:]), 1)  # fmt: skip
    assert sky.rnc_unpack(data) == unpacked
    broken = bytearray(data)
    broken[-1] ^= 0x40
    with pytest.raises(ValueError, match="CRC"):
        sky.rnc_unpack(bytes(broken))
    with pytest.raises(ValueError, match="not RNC"):
        sky.rnc_unpack(b"RIFF" + data[4:])


def test_text_line_decodes_msb_first_from_a_two_bit_unit() -> None:
    tree = sky._tree("10100", b"ab\0")  # pre-order shape: a = "0", b = "10", NUL = "11"
    assert tree == [ord("a"), [ord("b"), 0]]
    # a bank: skip table at 8 (one block), bits at 10; line 1 starts after line 0's 5 units
    line0 = "0" + "10" + "11"  # "ab", 5 bits (padded to 6 = 3 units)
    line1 = "10" + "0" + "0" + "11"  # "baa"
    stream = line0 + "0" + line1
    stream += "0" * (-len(stream) % 8)
    bank = struct.pack("<HHH", 6, 8, len(stream) // 2) + bytes([3, 0])
    bank += int(stream, 2).to_bytes(len(stream) // 8, "big")
    assert sky.line_bit(bank, 0) == 64 and sky.line_bit(bank, 1) == 64 + 6
    assert sky.decode_line(bank, sky.line_bit(bank, 0), tree) == "ab"
    assert sky.decode_line(bank, sky.line_bit(bank, 1), tree) == "baa"


def test_speech_file_numbers_map_to_text_numbers_both_ways() -> None:
    assert sky.speech_file(0x0007) == 50007
    assert sky.speech_file(0x2036) == 50000 + 1100 + 0x36
    for text in (0x0001, 0x11F0, 0x412E, 0x6005):
        assert sky.text_number(sky.speech_file(text)) == text
    assert sky.text_number(49999) is None


def test_character_names_and_sexes() -> None:
    assert sky.character("smlfost_conv") == ("FOSTER", "m")
    assert sky.character("dani_conv") == ("DANIELLE", "f")
    assert sky.character("sc81_dad_tlk") == ("FATHER", "m")
    assert sky.character("dad_to_foster") == ("DAD", "m")  # Dad talking to Foster
    assert sky.character("son_to_dad") == ("SON", "m")
    assert sky.character("sc42_jdg_to_jobs") == ("JUDGE", None)
    assert sky.character("sc42_fos_talk_l") == ("FOSTER", "m")
    assert sky.character("big_f_up") == ("FOSTER", "m")  # big Foster's talk, facing up
    assert sky.character("text_mouse") is None


# --- the real package ---------------------------------------------------------------------------
@needs_sky
def test_real_files_unpack_to_their_header_sizes_with_matching_crcs() -> None:
    disk = sky.SkyDisk(SKY)
    assert len(disk.entries) == 5097  # the CD release 0.0372
    packed = [n for n in sorted(disk.entries) if not disk.entries[n].stored]
    checked = 0
    for number in [*packed[::97][:12], 50007, 53001]:
        raw = disk.raw(number)
        compressed, total = sky.file_header(raw)
        if not compressed:
            continue
        head = sky.rnc_header(raw[sky.HEADER_BYTES :])
        assert head is not None
        body = sky.rnc_unpack(raw[sky.HEADER_BYTES :])  # checks both CRCs and the size
        assert len(body) == head.unpacked
        assert len(disk.load(number)) == disk.unpacked_size(number)
        if not disk.entries[number].headerless:
            assert len(body) + sky.HEADER_BYTES == total
        checked += 1
    assert checked >= 8


@needs_sky
def test_real_lines_have_text_speaker_and_audio() -> None:
    lines = {line.file: line for line in sky.speech_lines(SKY)}
    assert len(lines) > 3000
    first = lines[50007]
    assert (first.text, first.speaker, first.sex) == ("I had to INSPECT it.", "FOSTER", "m")
    assert first.samples == 12607
    named = [line for line in lines.values() if line.candidates == 1]
    assert len(named) / len(lines) > 0.8
    clips = {c.key: c for c in sky_clips()}
    clip = clips["50007"]
    samples = load_samples(clip)
    assert samples.dtype == np.float32 and abs(len(samples) / 16000 - 12607 / 11025) < 0.01
    assert float(np.abs(samples).max()) > 0.1  # speech, not silence
    table = load_split()
    held = {split_of(c.speaker, table) for c in clips.values() if c.sex == "f"}
    assert {"val", "test"} <= held  # a woman held out in each
    assert split_of("sky:FOSTER", table) == "train"
    assert all(c.speaker != "sky:unknown" for c in clips.values())
