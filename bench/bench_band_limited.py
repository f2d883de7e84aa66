"""Forced alignment of band-limited speech: does a correct transcript survive 8/11 kHz audio,
and is a wrong one still refused? Needs espeak-ng and sox.

    .venv/bin/python bench/bench_band_limited.py

Prints, per sample rate, how many of 18 clips (six sentences × three espeak-ng voices) kept their
own transcript (method "forced"), and how many of six clips accepted another clip's sentence.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from emosync.inference.alignment import align
from emosync.inference.audio import load_audio

SENTENCES = [
    "the quick brown fox jumps over the lazy dog",
    "please call stella and ask her to bring these things with her from the store",
    "i never said she stole my money",
    "we will meet at the station at seven o'clock",
    "could you pass me the salt please",
    "my favourite colour is blue but i also like green",
]
VOICES = ("en", "en-us+m3", "en+f2")
RATES = (8000, 11025, 16000, 22050)


def clip(text: str, voice: str, rate: int, folder: Path):
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(folder / "a.wav"), text], check=True)
    subprocess.run(
        ["sox", str(folder / "a.wav"), "-r", str(rate), str(folder / "b.wav")], check=True
    )
    return load_audio(folder / "b.wav").samples


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for rate in RATES:
            kept = sum(
                align(clip(text, voice, rate, folder), text).method == "forced"
                for text in SENTENCES
                for voice in VOICES
            )
            wrong = sum(
                align(clip(text, "en", rate, folder), SENTENCES[(i + 1) % 6]).method == "forced"
                for i, text in enumerate(SENTENCES)
            )
            print(f"{rate:>6} Hz: own transcript kept {kept}/18, wrong one accepted {wrong}/6")


if __name__ == "__main__":
    main()
