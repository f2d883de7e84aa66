"""Flight of the Amazon Queen's `queen.1c`: its resource table, dialogue files and speech.

Layout (facts from ScummVM's queen engine, which documents the freeware release; our reader):
- The rebuilt data file starts with `QTBL`, a 5-byte version id (`CEM10`: CD talkie, English),
  a big-endian uint32 compression type (1: MP3 speech) and a uint16 entry count; then one 21-byte
  entry per resource: a 12-byte NUL-padded name, a bundle byte, uint32 offset (absolute in the
  file) and uint32 size.
- A dialogue file `X.DOG` has a 20-byte bank header, then int16 levelMax (negative: cannot quit),
  uniqueKey, talkKey, joeMax, personMax, three (gameState, testValue, item) int16 triples,
  uint16 offsets of the person's strings, the cutaway name and the second strings. Joe's strings
  start at 32 + |levelMax| × 96. A string list has `count` entries of 2 bytes, an int16 id and a
  length-prefixed string padded to 4 bytes.
- A line is cut into segments at `*` commands (two characters, `*XY` takes 11 more); segment i
  (from 0) of string `id` plays `%02d%04XP%x.SB` (talkKey, id, i + 1) for the person and `...J`
  for Joe, when such a file exists. Speech files are MPEG audio (11 kHz MP3).
"""

from __future__ import annotations

import functools
import re
import struct
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emosync.inference.audio import ffmpeg_exe, pcm_to_float

DOG_HEADER = 20
ENTRY = 21
_COMMAND = re.compile(r"\*(?:XY.{11}|..)", re.S)


@dataclass(frozen=True)
class Resource:
    offset: int
    size: int


@dataclass(frozen=True)
class DialogueLine:
    voice_file: str  # e.g. 080001P1.SB
    text: str
    speaker: str  # JOE or the dialogue file's person (BUD for BUD1.DOG)
    dialog: str  # the .DOG file
    offset: int
    size: int


def read_table(data: bytes) -> dict[str, Resource]:
    """The resource table of a rebuilt queen.1c (see the module doc)."""
    if data[:4] != b"QTBL":
        raise ValueError("not a rebuilt Flight of the Amazon Queen data file (no QTBL header)")
    (count,) = struct.unpack_from(">H", data, 13)
    table: dict[str, Resource] = {}
    for i in range(count):
        o = 15 + i * ENTRY
        name = data[o : o + 12].split(b"\0", 1)[0].decode("ascii", "replace")
        offset, size = struct.unpack_from(">II", data, o + 13)
        table[name] = Resource(offset, size)
    return table


@functools.cache
def _table(path: Path) -> dict[str, Resource]:
    with open(path, "rb") as f:
        head = f.read(15)
        (count,) = struct.unpack_from(">H", head, 13)
        return read_table(head + f.read(count * ENTRY))


def read_resource(path: Path, offset: int, size: int) -> bytes:
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read(size)


def _strings(dog: bytes, offset: int, count: int) -> Iterator[tuple[int, str]]:
    for _ in range(count):
        offset += 2
        (ident,) = struct.unpack_from(">h", dog, offset)
        offset += 2
        length = dog[offset]
        offset += 1
        text = dog[offset : offset + length].decode("latin-1")
        if length:
            offset = (offset + length + 3) & ~3
        yield ident, text


def segments(line: str) -> list[str]:
    """The text of each voice segment of a line (commands removed, empty segments kept)."""
    return [s.strip() for s in _COMMAND.split(line)]


def dog_lines(name: str, dog: bytes) -> Iterator[tuple[str, str, str]]:
    """(voice file stem, text, speaker) of every spoken segment of one .DOG file."""
    body = dog[DOG_HEADER:]
    level_max, _unique, talk_key, joe_max, person_max = struct.unpack_from(">5h", body, 0)
    person_off = struct.unpack_from(">H", body, 22)[0]
    joe_off = 32 + abs(level_max) * 96
    person = re.sub(r"\d+$", "", Path(name).stem).upper()
    for speaker, code, offset, count in (
        (person, "P", person_off, person_max),
        ("JOE", "J", joe_off, joe_max),
    ):
        for ident, text in _strings(body, offset, count):
            if ident <= 0:
                continue
            for i, seg in enumerate(segments(text)):
                if seg:
                    yield f"{talk_key:02d}{ident:04X}{code}{i + 1:X}", seg, speaker


def dialogue_lines(path: Path) -> list[DialogueLine]:
    """Every dialogue segment of queen.1c that has a speech file, in table order."""
    table = _table(Path(path))
    out: list[DialogueLine] = []
    seen: set[str] = set()
    with open(path, "rb") as f:
        for name, res in table.items():
            if not name.endswith(".DOG"):
                continue
            f.seek(res.offset)
            for stem, text, speaker in dog_lines(name, f.read(res.size)):
                voice = f"{stem}.SB"
                if voice in table and voice not in seen:
                    seen.add(voice)
                    r = table[voice]
                    out.append(DialogueLine(voice, text, speaker, name, r.offset, r.size))
    return out


def decode_mp3(data: bytes, rate: int = 16000) -> np.ndarray:
    """MPEG audio bytes -> mono float32 samples at `rate` (ffmpeg from imageio-ffmpeg)."""
    cmd = [ffmpeg_exe("decoding the game's MP3 speech"), "-v", "error", "-f", "mp3", "-i", "pipe:0"]
    cmd += ["-ar", str(rate), "-ac", "1", "-f", "s16le", "-"]
    proc = subprocess.run(cmd, input=data, capture_output=True, check=False)
    if proc.returncode != 0:
        raise ValueError(f"cannot decode MP3: {proc.stderr.decode(errors='replace')[:200]}")
    return pcm_to_float(proc.stdout, 2)
