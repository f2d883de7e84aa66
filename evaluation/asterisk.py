"""Real-speech evaluation data: Debian's Asterisk prompts (one speaker, 16 kHz G.722) with their
published transcripts.

Prompts whose file name starts with `vm-` are reserved for an independent check. They are
dropped where prompts are first listed (`_reserved` below), so nothing built on this module can
decode, tune on or score them.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import subprocess
import wave
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emosync.atomic import atomic_write_bytes, atomic_write_text, check_writable
from emosync.errors import InputError
from emosync.inference.audio import SAMPLE_RATE, ffmpeg_exe, pcm_to_float

SOUNDS_DIR = Path("/usr/share/asterisk/sounds/en_US_f_Allison")
TRANSCRIPTS = Path("/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz")
SPLITS = ("dev", "test")
RESERVED_PREFIX = "vm-"


@dataclass(frozen=True)
class Prompt:
    name: str  # path relative to the voice folder, without extension: "digits/7"
    audio_path: Path
    text: str  # what is spoken, normalised for an aligner (words only)

    @property
    def file_stem(self) -> str:
        return self.name.replace("/", "__")


def is_reserved(name: str) -> bool:
    """True for a prompt (or a prepared file stem) that belongs to the independent check."""
    return any(part.lower().startswith(RESERVED_PREFIX) for part in re.split(r"[/\\]|__", name))


def split_of(name: str) -> str:
    """'dev' or 'test', fixed by a hash of the prompt name."""
    return "dev" if int(hashlib.sha1(name.encode()).hexdigest(), 16) % 2 == 0 else "test"


# --- transcripts ------------------------------------------------------------------------------
_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SYMBOLS = {
    "*": " star ",
    "#": " pound ",
    "&": " and ",
    "@": " at ",
    "%": " percent ",
    "+": " plus ",
}


def number_words(n: int) -> str:
    """0..999999 as English words ("one hundred twenty three")."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return _ONES[n // 100] + " hundred" + ("" if rest == 0 else " " + number_words(rest))
    rest = n % 1000
    return number_words(n // 1000) + " thousand" + ("" if rest == 0 else " " + number_words(rest))


def spoken_text(text: str) -> str:
    """The words of a transcript line: notes in [] and () dropped, digits and key symbols spelled
    out, punctuation removed. Empty when the line describes a non-speech sound."""
    t = re.sub(r"\[[^\]]*\]|\([^)]*\)", " ", text)
    for sym, word in _SYMBOLS.items():
        t = t.replace(sym, word)
    t = re.sub(r"\d+", lambda m: f" {number_words(int(m.group()))} ", t)
    t = re.sub(r"[^A-Za-z']+", " ", t)
    return " ".join(w.strip("'") for w in t.split() if w.strip("'")).lower()


def read_transcripts(path: Path = TRANSCRIPTS) -> dict[str, str]:
    """`name: text` lines of the Debian transcript file (comments start with ';')."""
    if not path.is_file():
        raise InputError(
            f"Asterisk transcripts not found at {path} (apt-get install asterisk-core-sounds-en)"
        )
    opener = gzip.open if path.suffix == ".gz" else open
    out: dict[str, str] = {}
    with opener(path, "rt", encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith(";") or ":" not in line:
                continue
            name, text = line.split(":", 1)
            out[name.strip()] = text.strip()
    return out


def list_prompts(
    split: str = "test", sounds_dir: Path = SOUNDS_DIR, transcripts: Path = TRANSCRIPTS
) -> list[Prompt]:
    """Speech prompts of one split ('dev', 'test' or 'all'), sorted by name; reserved `vm-`
    prompts, non-speech entries and files without a transcript are left out."""
    if split not in (*SPLITS, "all"):
        raise InputError(f"unknown split {split!r} (choose dev, test or all)")
    if not sounds_dir.is_dir():
        raise InputError(
            f"Asterisk prompts not found at {sounds_dir} "
            "(apt-get install asterisk-core-sounds-en-g722)"
        )
    texts = read_transcripts(transcripts)
    prompts = []
    for audio in sorted(sounds_dir.rglob("*.g722")):
        name = audio.relative_to(sounds_dir).with_suffix("").as_posix()
        if is_reserved(name) or (split != "all" and split_of(name) != split):
            continue
        words = spoken_text(texts.get(name, ""))
        if words:
            prompts.append(Prompt(name, audio, words))
    return prompts


# --- decoding ---------------------------------------------------------------------------------
def decode_g722(path: Path) -> np.ndarray:
    """16 kHz mono float32 samples of a G.722 file."""
    if is_reserved(path.stem):
        raise InputError(f"{path.name} is reserved for the independent check")
    cmd = [ffmpeg_exe("decoding G.722"), "-v", "error", "-f", "g722", "-i", str(path)]
    cmd += ["-ar", str(SAMPLE_RATE), "-ac", "1", "-f", "s16le", "-"]
    proc = subprocess.run(cmd, capture_output=True, check=False)
    if proc.returncode != 0:
        raise InputError(f"cannot decode {path}: {proc.stderr.decode(errors='replace').strip()}")
    return pcm_to_float(proc.stdout, 2)


def wav_bytes(samples: np.ndarray, rate: int = SAMPLE_RATE) -> bytes:
    """A 16-bit mono WAV file holding `samples` (float in [-1, 1])."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).round().astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


def prepare_asterisk(
    out_dir: str | Path,
    split: str = "test",
    limit: int | None = None,
    force: bool = False,
    workers: int = 4,
) -> int:
    """Decode a split's prompts into `out_dir` as `<name with / → __>.wav` + `.txt` (the spoken
    words). Returns how many prompts were written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    prompts = list_prompts(split)[:limit]
    for p in prompts:  # refuse before any work rather than halfway through
        check_writable(out / f"{p.file_stem}.wav", force)
        check_writable(out / f"{p.file_stem}.txt", force)

    def write(p: Prompt) -> None:
        atomic_write_bytes(out / f"{p.file_stem}.wav", wav_bytes(decode_g722(p.audio_path)), force)
        atomic_write_text(out / f"{p.file_stem}.txt", p.text + "\n", force)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        list(pool.map(write, prompts))
    return len(prompts)
